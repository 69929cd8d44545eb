#include "percent_encoding.hpp"

#include <cstdint>

namespace balatrix::sidecar {
namespace {

int
HexValue(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
IsUnreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_' || c == '~';
}

} // namespace

std::string_view
DecodeErrorMessage(DecodeError error)
{
	switch (error) {
	case DecodeError::kInvalidEscape:
		return "invalid percent-escape ('%' must be followed by two hex digits)";
	case DecodeError::kNulByte:
		return "decodes to a NUL byte";
	case DecodeError::kInvalidUtf8:
		return "decodes to invalid UTF-8";
	}
	return "cannot be decoded";
}

std::variant<std::string, DecodeError>
PercentDecode(std::string_view encoded, PercentDecodeMode mode)
{
	std::string decoded;
	decoded.reserve(encoded.size());
	for (std::size_t i = 0; i < encoded.size(); ++i) {
		const char c = encoded[i];
		if (c == '%') {
			if (encoded.size() - i < 3) // fewer than two characters follow
				return DecodeError::kInvalidEscape;
			const int high = HexValue(encoded[i + 1]);
			const int low = HexValue(encoded[i + 2]);
			if (high < 0 || low < 0)
				return DecodeError::kInvalidEscape;
			decoded += static_cast<char>(high * 16 + low);
			i += 2;
		} else if (c == '+' && mode == PercentDecodeMode::kQueryComponent) {
			decoded += ' ';
		} else {
			decoded += c;
		}
	}
	if (decoded.find('\0') != std::string::npos)
		return DecodeError::kNulByte;
	if (!IsValidUtf8(decoded))
		return DecodeError::kInvalidUtf8;
	return decoded;
}

bool
IsValidUtf8(std::string_view text)
{
	const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
	const std::size_t size = text.size();
	std::size_t i = 0;
	while (i < size) {
		const unsigned char lead = bytes[i];
		if (lead < 0x80) {
			++i;
			continue;
		}
		std::size_t length = 0;
		std::uint32_t code_point = 0;
		std::uint32_t minimum = 0;
		if ((lead & 0xE0) == 0xC0) {
			length = 2;
			code_point = lead & 0x1F;
			minimum = 0x80;
		} else if ((lead & 0xF0) == 0xE0) {
			length = 3;
			code_point = lead & 0x0F;
			minimum = 0x800;
		} else if ((lead & 0xF8) == 0xF0) {
			length = 4;
			code_point = lead & 0x07;
			minimum = 0x10000;
		} else {
			return false; // a continuation byte, or 0xF8..0xFF
		}
		if (size - i < length)
			return false;
		for (std::size_t k = 1; k < length; ++k) {
			const unsigned char next = bytes[i + k];
			if ((next & 0xC0) != 0x80)
				return false;
			code_point = (code_point << 6) | (next & 0x3F);
		}
		if (code_point < minimum || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF))
			return false;
		i += length;
	}
	return true;
}

std::string
PercentEncode(std::string_view bytes)
{
	static constexpr char kHex[] = "0123456789ABCDEF";
	std::string encoded;
	encoded.reserve(bytes.size());
	for (const char c : bytes) {
		const auto byte = static_cast<unsigned char>(c);
		if (IsUnreserved(byte)) {
			encoded += c;
		} else {
			encoded += '%';
			encoded += kHex[byte >> 4];
			encoded += kHex[byte & 0x0F];
		}
	}
	return encoded;
}

} // namespace balatrix::sidecar
