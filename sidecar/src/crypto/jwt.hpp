/*
 * Access tokens: JWT (RFC 7519) in compact serialization, HS256 only, with the claims the API uses.
 *
 *   header  {"alg":"HS256","typ":"JWT"}
 *   payload {"iss":"balatrix","sub":"<user id>","aud":"balatrix-api","iat":N,"exp":N,"jti":"<token id>",
 *            "sid":"<session id>","role":"customer"}
 *
 * Verification trusts nothing in the token before its signature is checked, and the algorithm is pinned: the
 * header must say exactly {"alg":"HS256","typ":"JWT"} (any key order). "none", "HS512", "RS256", a missing alg,
 * a "kid"/"jku"/"jwk"/"x5u"/"crit" member (the tricks that make a verifier fetch or pick another key) are all
 * refused, whatever the signature. In order, Verify refuses:
 *   - more than kMaxJwtBytes, not exactly three non-empty '.'-separated segments, a segment that is not
 *     canonical unpadded base64url, a header that is not a strict JSON object (duplicate keys included)
 *       -> kTooLarge / kMalformed;
 *   - alg other than the string "HS256" -> kUnsupportedAlgorithm; other header members -> kUnsupportedHeader;
 *     typ other than "JWT" -> kWrongType;
 *   - a signature that is not the 32-byte HMAC-SHA256 of "<header>.<payload>" under the key, compared in
 *     constant time -> kBadSignature;
 *   - a payload that is not a strict JSON object -> kMalformed;
 *   - iss != issuer -> kWrongIssuer; aud neither the audience nor an array containing it -> kWrongAudience;
 *   - exp, iat (required) and nbf (optional) not integers within 1970..2100, sub/sid/jti not non-empty
 *     strings of at most 256 bytes, role not a known role -> kInvalidClaims;
 *   - now >= exp + leeway -> kExpired; now + leeway < nbf, or iat > now + leeway -> kNotYetValid.
 * "now" comes from the injected Clock. Verify never throws. Issue and Verify are const and thread-safe.
 */
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "clock.hpp"
#include "role.hpp"

namespace balatrix::sidecar::crypto {

inline constexpr std::size_t kMaxJwtBytes = 8192;
inline constexpr std::size_t kMinJwtSecretBytes = 32;
inline constexpr std::size_t kMaxJwtStringClaimBytes = 256;
// Latest NumericDate accepted (2100-01-01T00:00:00Z); also keeps the nanosecond system_clock from overflowing.
inline constexpr long long kMaxJwtNumericDate = 4102444800LL;

struct AccessClaims {
	std::string subject; // sub: the user's id
	Role role = Role::kCustomer;
	std::string session_id;                           // sid: the refresh-token family (session) the token belongs to
	std::string token_id;                             // jti
	std::chrono::system_clock::time_point issued_at;  // iat, whole seconds
	std::chrono::system_clock::time_point expires_at; // exp, whole seconds
};

struct JwtOptions {
	std::string issuer = "balatrix";
	std::string audience = "balatrix-api";
	std::chrono::seconds leeway{30};    // tolerated clock skew for exp, nbf and iat
	std::chrono::seconds lifetime{900}; // exp - iat of issued tokens (PRODUCT.md §8: 15 minutes)
};

enum class JwtError {
	kTooLarge,
	kMalformed,
	kUnsupportedAlgorithm,
	kUnsupportedHeader,
	kWrongType,
	kBadSignature,
	kWrongIssuer,
	kWrongAudience,
	kInvalidClaims,
	kExpired,
	kNotYetValid,
};

// "too_large", "malformed", "unsupported_algorithm", ... for logs (never shown to clients in detail).
std::string_view JwtErrorName(JwtError error);

class AccessTokenCodec {
public:
	virtual ~AccessTokenCodec() = default;

	// A signed token for the given identity, issued now and expiring after the configured lifetime.
	virtual std::string Issue(const std::string& subject, Role role, const std::string& session_id,
	                          const std::string& token_id) const = 0;

	// The claims of a valid token, or why it is not. Never throws.
	virtual std::variant<AccessClaims, JwtError> Verify(std::string_view token) const noexcept = 0;
};

class Hs256JwtCodec final : public AccessTokenCodec {
public:
	// Throws std::invalid_argument when `secret` is shorter than kMinJwtSecretBytes. Keeps a copy of the secret,
	// wiped on destruction. `clock` must outlive the codec.
	Hs256JwtCodec(std::string_view secret, JwtOptions options, const Clock& clock);
	~Hs256JwtCodec() override;

	Hs256JwtCodec(const Hs256JwtCodec&) = delete;
	Hs256JwtCodec& operator=(const Hs256JwtCodec&) = delete;

	std::string Issue(const std::string& subject, Role role, const std::string& session_id,
	                  const std::string& token_id) const override;
	std::variant<AccessClaims, JwtError> Verify(std::string_view token) const noexcept override;

	// Signs arbitrary claims (times truncated to whole seconds); Issue uses it, tests use it to mint expired or
	// future tokens.
	std::string Sign(const AccessClaims& claims) const;

private:
	std::variant<AccessClaims, JwtError> VerifyOrThrow(std::string_view token) const;

	std::string secret_;
	JwtOptions options_;
	const Clock& clock_;
	std::string encoded_header_;
};

} // namespace balatrix::sidecar::crypto
