#include "crypto/jwt.hpp"

#include <optional>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "strict_json.hpp"

namespace balatrix::sidecar::crypto {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

constexpr const char* kAlgorithm = "HS256";
constexpr const char* kType = "JWT";
// Header and payload are small flat objects; anything nested deeper is not ours.
constexpr StrictJsonOptions kJsonOptions{/*max_depth=*/4};

long long
SecondsOf(system_clock::time_point time)
{
	return std::chrono::floor<std::chrono::seconds>(time.time_since_epoch()).count();
}

system_clock::time_point
TimeOf(long long seconds)
{
	return system_clock::time_point(std::chrono::seconds(seconds));
}

std::optional<json>
ParseObject(const Bytes& bytes)
{
	auto parsed = ParseStrictJson(View(bytes), kJsonOptions);
	auto* document = std::get_if<json>(&parsed);
	if (document == nullptr || !document->is_object())
		return std::nullopt;
	return std::move(*document);
}

// An integer NumericDate within [0, kMaxJwtNumericDate]; nullopt for anything else (floats, strings, huge).
std::optional<long long>
NumericDate(const json& value)
{
	if (value.is_number_unsigned()) {
		const auto seconds = value.get<std::uint64_t>();
		if (seconds <= static_cast<std::uint64_t>(kMaxJwtNumericDate))
			return static_cast<long long>(seconds);
		return std::nullopt;
	}
	if (value.is_number_integer()) {
		const auto seconds = value.get<std::int64_t>();
		if (seconds >= 0 && seconds <= kMaxJwtNumericDate)
			return seconds;
	}
	return std::nullopt;
}

std::optional<std::string>
StringClaim(const json& payload, const char* name)
{
	const auto it = payload.find(name);
	if (it == payload.end() || !it->is_string())
		return std::nullopt;
	const auto& value = it->get_ref<const std::string&>();
	if (value.empty() || value.size() > kMaxJwtStringClaimBytes)
		return std::nullopt;
	return value;
}

bool
AudienceMatches(const json& payload, const std::string& audience)
{
	const auto it = payload.find("aud");
	if (it == payload.end())
		return false;
	if (it->is_string())
		return it->get_ref<const std::string&>() == audience;
	if (it->is_array()) {
		for (const auto& entry : *it) {
			if (entry.is_string() && entry.get_ref<const std::string&>() == audience)
				return true;
		}
	}
	return false;
}

} // namespace

std::string_view
JwtErrorName(JwtError error)
{
	switch (error) {
	case JwtError::kTooLarge:
		return "too_large";
	case JwtError::kMalformed:
		return "malformed";
	case JwtError::kUnsupportedAlgorithm:
		return "unsupported_algorithm";
	case JwtError::kUnsupportedHeader:
		return "unsupported_header";
	case JwtError::kWrongType:
		return "wrong_type";
	case JwtError::kBadSignature:
		return "bad_signature";
	case JwtError::kWrongIssuer:
		return "wrong_issuer";
	case JwtError::kWrongAudience:
		return "wrong_audience";
	case JwtError::kInvalidClaims:
		return "invalid_claims";
	case JwtError::kExpired:
		return "expired";
	case JwtError::kNotYetValid:
		return "not_yet_valid";
	}
	return "malformed";
}

Hs256JwtCodec::Hs256JwtCodec(std::string_view secret, JwtOptions options, const Clock& clock)
	: secret_(secret), options_(std::move(options)), clock_(clock)
{
	if (secret_.size() < kMinJwtSecretBytes) {
		sodium_memzero(secret_.data(), secret_.size());
		throw std::invalid_argument("JWT secret must be at least " + std::to_string(kMinJwtSecretBytes) + " bytes");
	}
	encoded_header_ = Base64UrlEncode(json{{"alg", kAlgorithm}, {"typ", kType}}.dump());
}

Hs256JwtCodec::~Hs256JwtCodec()
{
	// Best effort: copies made by the allocator before this point are beyond reach.
	sodium_memzero(secret_.data(), secret_.size());
}

std::string
Hs256JwtCodec::Issue(const std::string& subject, Role role, const std::string& session_id,
                     const std::string& token_id) const
{
	AccessClaims claims;
	claims.subject = subject;
	claims.role = role;
	claims.session_id = session_id;
	claims.token_id = token_id;
	claims.issued_at = TimeOf(SecondsOf(clock_.Now()));
	claims.expires_at = claims.issued_at + options_.lifetime;
	return Sign(claims);
}

std::string
Hs256JwtCodec::Sign(const AccessClaims& claims) const
{
	nlohmann::ordered_json payload;
	payload["iss"] = options_.issuer;
	payload["sub"] = claims.subject;
	payload["aud"] = options_.audience;
	payload["iat"] = SecondsOf(claims.issued_at);
	payload["exp"] = SecondsOf(claims.expires_at);
	payload["jti"] = claims.token_id;
	payload["sid"] = claims.session_id;
	payload["role"] = std::string(RoleName(claims.role));
	std::string signing_input = encoded_header_ + "." + Base64UrlEncode(payload.dump());
	const std::string signature = HmacSha256Base64Url(secret_, signing_input);
	return signing_input + "." + signature;
}

std::variant<AccessClaims, JwtError>
Hs256JwtCodec::Verify(std::string_view token) const noexcept
{
	try {
		return VerifyOrThrow(token);
	} catch (...) {
		// Allocation failure or an OpenSSL failure: either way the token is not accepted.
		return JwtError::kMalformed;
	}
}

std::variant<AccessClaims, JwtError>
Hs256JwtCodec::VerifyOrThrow(std::string_view token) const
{
	if (token.size() > kMaxJwtBytes)
		return JwtError::kTooLarge;
	const auto first_dot = token.find('.');
	if (first_dot == std::string_view::npos)
		return JwtError::kMalformed;
	const auto second_dot = token.find('.', first_dot + 1);
	if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos)
		return JwtError::kMalformed;
	const std::string_view header_segment = token.substr(0, first_dot);
	const std::string_view payload_segment = token.substr(first_dot + 1, second_dot - first_dot - 1);
	const std::string_view signature_segment = token.substr(second_dot + 1);
	if (header_segment.empty() || payload_segment.empty() || signature_segment.empty())
		return JwtError::kMalformed;

	// All three segments must be canonical base64url before anything else is looked at.
	const auto header_bytes = Base64UrlDecode(header_segment);
	const auto payload_bytes = Base64UrlDecode(payload_segment);
	const auto signature = Base64UrlDecode(signature_segment);
	if (!header_bytes || !payload_bytes || !signature)
		return JwtError::kMalformed;

	// The header, before anything is trusted: it decides nothing except whether to go on.
	const auto header = ParseObject(*header_bytes);
	if (!header)
		return JwtError::kMalformed;
	const auto alg = header->find("alg");
	if (alg == header->end() || !alg->is_string() || alg->get_ref<const std::string&>() != kAlgorithm)
		return JwtError::kUnsupportedAlgorithm;
	for (const auto& [key, value] : header->items()) {
		if (key != "alg" && key != "typ")
			return JwtError::kUnsupportedHeader;
	}
	const auto typ = header->find("typ");
	if (typ == header->end() || !typ->is_string() || typ->get_ref<const std::string&>() != kType)
		return JwtError::kWrongType;

	const Sha256Digest expected = HmacSha256(secret_, token.substr(0, second_dot));
	if (!ConstantTimeEquals(View(*signature), View(expected)))
		return JwtError::kBadSignature;

	// Only now, with the signature checked, is the payload parsed.
	const auto payload = ParseObject(*payload_bytes);
	if (!payload)
		return JwtError::kMalformed;
	const auto issuer = StringClaim(*payload, "iss");
	if (!issuer || *issuer != options_.issuer)
		return JwtError::kWrongIssuer;
	if (!AudienceMatches(*payload, options_.audience))
		return JwtError::kWrongAudience;

	const auto exp_member = payload->find("exp");
	const auto iat_member = payload->find("iat");
	const auto nbf_member = payload->find("nbf");
	if (exp_member == payload->end() || iat_member == payload->end())
		return JwtError::kInvalidClaims;
	const auto expires = NumericDate(*exp_member);
	const auto issued = NumericDate(*iat_member);
	std::optional<long long> not_before;
	if (nbf_member != payload->end()) {
		not_before = NumericDate(*nbf_member);
		if (!not_before)
			return JwtError::kInvalidClaims;
	}
	const auto subject = StringClaim(*payload, "sub");
	const auto session = StringClaim(*payload, "sid");
	const auto token_id = StringClaim(*payload, "jti");
	const auto role_name = StringClaim(*payload, "role");
	const auto role = role_name ? ParseRole(*role_name) : std::nullopt;
	if (!expires || !issued || !subject || !session || !token_id || !role)
		return JwtError::kInvalidClaims;

	const long long now = SecondsOf(clock_.Now());
	const long long leeway = options_.leeway.count();
	if (now >= *expires + leeway)
		return JwtError::kExpired;
	if ((not_before && now + leeway < *not_before) || *issued > now + leeway)
		return JwtError::kNotYetValid;

	AccessClaims claims;
	claims.subject = *subject;
	claims.role = *role;
	claims.session_id = *session;
	claims.token_id = *token_id;
	claims.issued_at = TimeOf(*issued);
	claims.expires_at = TimeOf(*expires);
	return claims;
}

} // namespace balatrix::sidecar::crypto
