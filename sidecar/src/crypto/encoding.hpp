/*
 * Binary-to-text encodings for tokens, digests and secrets. Binary input is passed as std::string_view (bytes,
 * not text); binary output is Bytes.
 *
 * Every decoder is strict: it accepts exactly the canonical encoding of some byte string and nothing else
 * (no whitespace, no wrong alphabet, no stray padding, no non-zero leftover bits). A lenient decoder makes
 * tokens malleable: "AR" and "AQ" would both decode to 0x01, so one signature would fit several token strings.
 */
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace balatrix::sidecar::crypto {

using Bytes = std::vector<std::uint8_t>;

// A view of bytes held in a Bytes or std::array<uint8_t, N>, for the functions that take string_view.
inline std::string_view
View(const Bytes& bytes)
{
	return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

template <std::size_t N>
std::string_view
View(const std::array<std::uint8_t, N>& bytes)
{
	return std::string_view(reinterpret_cast<const char*>(bytes.data()), N);
}

// RFC 4648 §5 base64url without padding (the JWT alphabet), via libsodium.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<Bytes> Base64UrlDecode(std::string_view text);

// Lower-case hexadecimal, via libsodium. Decode accepts either case but nothing else.
std::string HexEncode(std::string_view bytes);
std::optional<Bytes> HexDecode(std::string_view text);

// RFC 4648 §6 base32 (A-Z 2-7), the alphabet of TOTP secrets in authenticator apps. Encode emits no padding
// (what otpauth:// URIs use); Decode accepts upper case only, with or without the correct padding.
std::string Base32Encode(std::string_view bytes);
std::optional<Bytes> Base32Decode(std::string_view text);

} // namespace balatrix::sidecar::crypto
