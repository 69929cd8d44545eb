/*
 * TOTP (RFC 6238) for MFA, through liboath, behind an interface so the auth service can be tested with a fake.
 *
 * Secrets are raw bytes (kTotpSecretBytes = 20 = 160 bits, RFC 4226's recommendation), shown to the user in
 * base32 inside an otpauth:// URI (the QR code of an authenticator app). Codes are 6 digits, 30-second steps,
 * HMAC-SHA1: what every authenticator app supports. Verify accepts the current step and `window` steps either
 * side (±1 by default: a code stays usable for 60 to 90 seconds, the seed's intent; its code used ±2).
 *
 * A code must not be accepted twice (RFC 6238 §5.2): Verify returns the matched time step, and the caller
 * stores it per user and refuses any step at or below the last one accepted.
 *
 * liboath's own code comparison is strcmp; Verify passes a constant-time comparison instead
 * (oath_totp_validate4_callback with sodium_memcmp). liboath keeps no state between calls, so Generate and
 * Verify are thread-safe.
 */
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "clock.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random.hpp"

namespace balatrix::sidecar::crypto {

inline constexpr std::size_t kTotpSecretBytes = 20;
// Shorter secrets are refused (RFC 4226 §4 R6: at least 128 bits).
inline constexpr std::size_t kMinTotpSecretBytes = 16;

enum class TotpAlgorithm { kSha1, kSha256, kSha512 };

// An instant in whole seconds. Unlike system_clock::time_point (nanoseconds in libstdc++, so it ends in 2262)
// it covers every instant of RFC 6238's test vectors.
using UnixSeconds = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;

struct TotpOptions {
	unsigned digits = 6;           // 6, 7 or 8
	std::chrono::seconds step{30}; // 1 s .. 1 h
	unsigned window = 1;           // steps accepted either side of the current one, 0..10
	TotpAlgorithm algorithm = TotpAlgorithm::kSha1;
	std::string issuer = "Balatrix"; // shown by authenticator apps
};

class TotpAuthenticator {
public:
	virtual ~TotpAuthenticator() = default;

	// The code for `secret` at `at`; nullopt when the secret is shorter than kMinTotpSecretBytes.
	virtual std::optional<std::string> Generate(std::string_view secret, UnixSeconds at) const = 0;

	// The time step (floor(unix time / step)) whose code is `code`, searched within the window around the
	// clock's now; nullopt for a wrong code, a code that is not exactly `digits` ASCII digits, or a secret
	// shorter than kMinTotpSecretBytes.
	virtual std::optional<std::int64_t> Verify(std::string_view secret, std::string_view code) const = 0;

	// otpauth://totp/<Issuer>:<account>?secret=<BASE32>&issuer=<Issuer>&algorithm=SHA1&digits=6&period=30,
	// with issuer and account percent-encoded.
	virtual std::string ProvisioningUri(std::string_view secret, std::string_view account) const = 0;
};

// kTotpSecretBytes fresh random bytes.
Bytes NewTotpSecret(RandomSource& random);

class OathTotp final : public TotpAuthenticator {
public:
	// Throws std::invalid_argument for options outside the ranges above, std::runtime_error when liboath
	// cannot initialise. `clock` must outlive the object.
	OathTotp(TotpOptions options, const Clock& clock);

	std::optional<std::string> Generate(std::string_view secret, UnixSeconds at) const override;
	std::optional<std::int64_t> Verify(std::string_view secret, std::string_view code) const override;
	std::string ProvisioningUri(std::string_view secret, std::string_view account) const override;

private:
	// oath_init() / oath_done() as RAII. With Debian's liboath (its built-in gnulib crypto) both are no-ops
	// that may nest freely, so several OathTotp objects can live at once.
	class Library {
	public:
		Library();
		~Library();
		Library(const Library&) = delete;
		Library& operator=(const Library&) = delete;
	};

	Library library_;
	TotpOptions options_;
	const Clock& clock_;
};

} // namespace balatrix::sidecar::crypto
