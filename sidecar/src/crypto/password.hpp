/*
 * Password hashing: argon2id through libsodium (crypto_pwhash_str and friends), behind an interface so
 * services can be tested with a cheap fake.
 *
 * The stored form is libsodium's self-describing string, "$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>": the
 * salt (16 random bytes) and the parameters travel with the hash, so raising the parameters later only makes
 * NeedsRehash() true for older hashes, which the login path re-hashes after a successful verification.
 *
 * Timing. Verify(nullopt, ...) (no such user) and Verify of an unusable stored string do the same work as a
 * real verification, against a dummy hash made at construction with the same parameters: the response time
 * of a login does not tell whether the account exists. A stored hash whose parameters exceed the configured
 * ones more than kMaxParameterFactor times (a tampered row could ask for gigabytes) counts as unusable.
 *
 * Cost: each Hash or Verify holds mem_limit_bytes (64 MiB by default) for its duration, so concurrent logins
 * are bounded by the HTTP worker threads (SIDECAR_THREADS). Argon2idHasher is const and thread-safe.
 */
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace balatrix::sidecar::crypto {

// argon2id parameters. The defaults are libsodium's "interactive" level (2 passes over 64 MiB, about 60 ms on
// the development machine), which exceeds OWASP's argon2id minimum (19 MiB, 2 passes).
inline constexpr unsigned long long kArgon2idOpsLimit = 2;
inline constexpr std::size_t kArgon2idMemLimitBytes = 64 * 1024 * 1024;
// Longest password hashed or verified; longer input is refused rather than hashed (bounds the work per call).
inline constexpr std::size_t kMaxPasswordBytes = 4096;
// A stored hash may ask for at most this many times the configured passes or memory.
inline constexpr unsigned long long kMaxParameterFactor = 4;

struct Argon2idParams {
	unsigned long long ops_limit = kArgon2idOpsLimit;
	std::size_t mem_limit_bytes = kArgon2idMemLimitBytes;
};

class PasswordHasher {
public:
	virtual ~PasswordHasher() = default;

	// The encoded hash; nullopt when the password is longer than kMaxPasswordBytes or memory ran out.
	virtual std::optional<std::string> Hash(std::string_view password) const = 0;

	// True when `password` matches `stored`. False for a wrong password, for nullopt (no such account), and for
	// a stored string that is not a usable argon2id hash; all of them take about as long as a real check.
	virtual bool Verify(std::optional<std::string_view> stored, std::string_view password) const = 0;

	// True when `stored` should be replaced after the next successful Verify: other parameters, or unusable.
	virtual bool NeedsRehash(std::string_view stored) const = 0;
};

class Argon2idHasher final : public PasswordHasher {
public:
	// Throws std::invalid_argument for parameters below libsodium's minimum (1 pass, 8 KiB) or above its
	// maximum, std::runtime_error when libsodium cannot initialise. Computes one hash (the dummy).
	explicit Argon2idHasher(Argon2idParams params = {});

	std::optional<std::string> Hash(std::string_view password) const override;
	bool Verify(std::optional<std::string_view> stored, std::string_view password) const override;
	bool NeedsRehash(std::string_view stored) const override;

private:
	// True when `stored` is an argon2id string whose parameters are within kMaxParameterFactor of params_.
	bool IsUsable(std::string_view stored) const;

	Argon2idParams params_;
	std::string dummy_hash_;
};

} // namespace balatrix::sidecar::crypto
