#include "crypto/encoding.hpp"

#include <sodium.h>

// The libsodium codecs used here are pure functions that need no sodium_init().

namespace balatrix::sidecar::crypto {
namespace {

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int
Base32Value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

} // namespace

std::string
Base64UrlEncode(std::string_view bytes)
{
	constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	std::string text(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
	sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
	                  kVariant);
	text.resize(text.size() - 1); // the terminating NUL sodium writes
	return text;
}

std::optional<Bytes>
Base64UrlDecode(std::string_view text)
{
	Bytes bytes(text.size() * 3 / 4 + 1);
	std::size_t length = 0;
	// b64_end = nullptr: the whole input must be consumed. libsodium also refuses non-zero leftover bits.
	if (sodium_base642bin(bytes.data(), bytes.size(), text.data(), text.size(), /*ignore=*/nullptr, &length,
	                      /*b64_end=*/nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return std::nullopt;
	bytes.resize(length);
	return bytes;
}

std::string
HexEncode(std::string_view bytes)
{
	std::string text(bytes.size() * 2 + 1, '\0');
	sodium_bin2hex(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
	text.resize(bytes.size() * 2);
	return text;
}

std::optional<Bytes>
HexDecode(std::string_view text)
{
	if (text.size() % 2 != 0)
		return std::nullopt;
	Bytes bytes(text.size() / 2);
	std::size_t length = 0;
	if (sodium_hex2bin(bytes.data(), bytes.size(), text.data(), text.size(), /*ignore=*/nullptr, &length,
	                   /*hex_end=*/nullptr) != 0 ||
	    length != bytes.size())
		return std::nullopt;
	return bytes;
}

std::string
Base32Encode(std::string_view bytes)
{
	std::string text;
	text.reserve((bytes.size() * 8 + 4) / 5);
	std::uint32_t buffer = 0;
	int bits = 0;
	for (const char c : bytes) {
		buffer = (buffer << 8) | static_cast<std::uint8_t>(c);
		bits += 8;
		while (bits >= 5) {
			text += kBase32Alphabet[(buffer >> (bits - 5)) & 0x1F];
			bits -= 5;
		}
	}
	if (bits > 0)
		text += kBase32Alphabet[(buffer << (5 - bits)) & 0x1F];
	return text;
}

std::optional<Bytes>
Base32Decode(std::string_view text)
{
	// Padding, if any, must be exactly what completes the last 8-character group.
	const auto padding_start = text.find('=');
	if (padding_start != std::string_view::npos) {
		if (text.size() % 8 != 0 || text.find_first_not_of('=', padding_start) != std::string_view::npos)
			return std::nullopt;
		text = text.substr(0, padding_start);
	}
	// Valid unpadded lengths leave 0, 2, 4, 5 or 7 characters in the last group (RFC 4648 §6).
	const std::size_t tail = text.size() % 8;
	if (tail == 1 || tail == 3 || tail == 6)
		return std::nullopt;
	if (padding_start != std::string_view::npos && tail == 0)
		return std::nullopt; // "========" after a complete group

	Bytes bytes;
	bytes.reserve(text.size() * 5 / 8);
	std::uint32_t buffer = 0;
	int bits = 0;
	for (const char c : text) {
		const int value = Base32Value(c);
		if (value < 0)
			return std::nullopt;
		buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
		bits += 5;
		if (bits >= 8) {
			bytes.push_back(static_cast<std::uint8_t>(buffer >> (bits - 8)));
			bits -= 8;
		}
	}
	if ((buffer & ((1U << bits) - 1U)) != 0)
		return std::nullopt; // non-zero leftover bits: not the canonical encoding
	return bytes;
}

} // namespace balatrix::sidecar::crypto
