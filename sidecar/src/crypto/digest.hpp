/*
 * SHA-256 and HMAC-SHA256 through OpenSSL 3's EVP interfaces, and constant-time comparison through libsodium.
 *
 * Uses: SHA-256 of random tokens is what the database stores (refresh, reset and verification tokens are
 * looked up by digest, so a leaked table holds no usable token; the tokens carry 256 random bits, so no salt
 * or slow hash is needed). HMAC-SHA256 signs JWTs, customer webhooks and verifies gateway webhooks.
 *
 * OpenSSL handles live in unique_ptrs with their free functions as deleters (digest.cpp). A failure inside
 * OpenSSL (allocation, a missing provider) is not an input error: these functions then throw
 * std::runtime_error.
 */
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace balatrix::sidecar::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest Sha256(std::string_view bytes);
std::string Sha256Hex(std::string_view bytes);

// RFC 2104 HMAC with SHA-256. Any key length is accepted (keys longer than 64 bytes are hashed first, as the
// RFC says); an empty key is allowed but useless.
Sha256Digest HmacSha256(std::string_view key, std::string_view message);
std::string HmacSha256Hex(std::string_view key, std::string_view message);
std::string HmacSha256Base64Url(std::string_view key, std::string_view message);

// True when `a` and `b` hold the same bytes. For equal lengths the time taken does not depend on the contents
// (sodium_memcmp); a length difference returns false at once, so use it on values of public, fixed length
// (digests, MACs, their hex forms), never to hide a secret's length.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

} // namespace balatrix::sidecar::crypto
