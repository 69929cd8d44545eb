#include "crypto/totp.hpp"

#include <ctime>
#include <stdexcept>

#include <liboath/oath.h>
#include <sodium.h>

#include "crypto/sodium.hpp"
#include "percent_encoding.hpp"

namespace balatrix::sidecar::crypto {
namespace {

constexpr unsigned kMaxWindow = 10;

int
OathFlags(TotpAlgorithm algorithm)
{
	switch (algorithm) {
	case TotpAlgorithm::kSha1:
		return 0;
	case TotpAlgorithm::kSha256:
		return OATH_TOTP_HMAC_SHA256;
	case TotpAlgorithm::kSha512:
		return OATH_TOTP_HMAC_SHA512;
	}
	return 0;
}

const char*
AlgorithmName(TotpAlgorithm algorithm)
{
	switch (algorithm) {
	case TotpAlgorithm::kSha1:
		return "SHA1";
	case TotpAlgorithm::kSha256:
		return "SHA256";
	case TotpAlgorithm::kSha512:
		return "SHA512";
	}
	return "SHA1";
}

// liboath's comparison callback: 0 when equal. `handle` is the candidate code (exactly `digits` bytes, which
// is also the length of every code liboath generates), so the comparison is over equal lengths.
int
ConstantTimeCompare(void* handle, const char* generated)
{
	const auto* code = static_cast<const std::string_view*>(handle);
	if (std::char_traits<char>::length(generated) != code->size())
		return 1;
	return sodium_memcmp(code->data(), generated, code->size()) == 0 ? 0 : 1;
}

bool
IsDigits(std::string_view code, unsigned digits)
{
	if (code.size() != digits)
		return false;
	for (const char c : code) {
		if (c < '0' || c > '9')
			return false;
	}
	return true;
}

} // namespace

OathTotp::Library::Library()
{
	if (oath_init() != OATH_OK)
		throw std::runtime_error("liboath could not be initialised");
}

OathTotp::Library::~Library()
{
	oath_done();
}

Bytes
NewTotpSecret(RandomSource& random)
{
	Bytes secret(kTotpSecretBytes);
	random.Fill(secret.data(), secret.size());
	return secret;
}

OathTotp::OathTotp(TotpOptions options, const Clock& clock) : options_(std::move(options)), clock_(clock)
{
	EnsureSodium();
	if (options_.digits < 6 || options_.digits > 8)
		throw std::invalid_argument("TOTP digits must be 6, 7 or 8");
	if (options_.step.count() < 1 || options_.step.count() > 3600)
		throw std::invalid_argument("TOTP step must be between 1 and 3600 seconds");
	if (options_.window > kMaxWindow)
		throw std::invalid_argument("TOTP window must be at most 10 steps");
	if (options_.issuer.empty() || options_.issuer.find(':') != std::string::npos)
		throw std::invalid_argument("TOTP issuer must be non-empty and contain no ':'");
}

std::optional<std::string>
OathTotp::Generate(std::string_view secret, UnixSeconds at) const
{
	if (secret.size() < kMinTotpSecretBytes)
		return std::nullopt;
	char code[16] = {};
	const auto when = static_cast<time_t>(at.time_since_epoch().count());
	if (oath_totp_generate2(secret.data(), secret.size(), when, static_cast<unsigned>(options_.step.count()), 0,
	                        options_.digits, OathFlags(options_.algorithm), code) != OATH_OK)
		return std::nullopt;
	return std::string(code);
}

std::optional<std::int64_t>
OathTotp::Verify(std::string_view secret, std::string_view code) const
{
	if (secret.size() < kMinTotpSecretBytes || !IsDigits(code, options_.digits))
		return std::nullopt;
	const auto now =
		static_cast<time_t>(std::chrono::floor<std::chrono::seconds>(clock_.Now().time_since_epoch()).count());
	int position = 0;
	std::uint64_t counter = 0;
	const int result = oath_totp_validate4_callback(secret.data(), secret.size(), now,
	                                                static_cast<unsigned>(options_.step.count()), 0, options_.digits,
	                                                options_.window, &position, &counter, OathFlags(options_.algorithm),
	                                                &ConstantTimeCompare, const_cast<std::string_view*>(&code));
	if (result < 0)
		return std::nullopt; // OATH_INVALID_OTP, or an error: never a match
	return static_cast<std::int64_t>(counter);
}

std::string
OathTotp::ProvisioningUri(std::string_view secret, std::string_view account) const
{
	const std::string issuer = PercentEncode(options_.issuer);
	return "otpauth://totp/" + issuer + ":" + PercentEncode(account) + "?secret=" + Base32Encode(secret) +
	       "&issuer=" + issuer + "&algorithm=" + AlgorithmName(options_.algorithm) +
	       "&digits=" + std::to_string(options_.digits) + "&period=" + std::to_string(options_.step.count());
}

} // namespace balatrix::sidecar::crypto
