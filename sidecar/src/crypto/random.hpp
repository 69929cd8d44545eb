/*
 * Secure randomness for tokens and secrets, behind an interface so tests can make tokens predictable.
 *
 * Tokens are 32 random bytes (256 bits) as unpadded base64url (43 characters): safe in URLs, headers and JSON
 * without escaping. Store only Sha256(token) (digest.hpp) and compare digests, never the tokens themselves.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace balatrix::sidecar::crypto {

inline constexpr std::size_t kTokenBytes = 32;

class RandomSource {
public:
	virtual ~RandomSource() = default;

	// Fills `out` with `size` unpredictable bytes. Must be callable from any thread.
	virtual void Fill(std::uint8_t* out, std::size_t size) = 0;
};

// randombytes_buf: the kernel's CSPRNG (getrandom) via libsodium.
class SodiumRandom final : public RandomSource {
public:
	// Throws std::runtime_error when libsodium cannot initialise.
	SodiumRandom();

	void Fill(std::uint8_t* out, std::size_t size) override;
};

// `bytes` random bytes as unpadded base64url.
std::string NewToken(RandomSource& random, std::size_t bytes = kTokenBytes);

} // namespace balatrix::sidecar::crypto
