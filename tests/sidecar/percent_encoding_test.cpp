// The strict percent-decoder and the encoder, table-driven.
#include "percent_encoding.hpp"

#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

namespace balatrix::sidecar {
namespace {

struct DecodeCase {
	std::string input;
	PercentDecodeMode mode;
	std::variant<std::string, DecodeError> expected;
};

constexpr auto kPath = PercentDecodeMode::kPathSegment;
constexpr auto kQuery = PercentDecodeMode::kQueryComponent;

const std::vector<DecodeCase> kDecodeCases = {
	// plain text passes through
	{"", kPath, std::string("")},
	{"abc-._~", kPath, std::string("abc-._~")},
	{"a:b@c!$'()*,;=", kPath, std::string("a:b@c!$'()*,;=")},
	// escapes, either case of hex digit
	{"a%20b", kPath, std::string("a b")},
	{"%2F", kPath, std::string("/")},
	{"%2f%3A", kPath, std::string("/:")},
	{"100%25", kPath, std::string("100%")},
	{"%e2%82%b9", kPath, std::string("\xE2\x82\xB9")}, // ₹
	{"%F0%9F%93%9E", kQuery, std::string("\xF0\x9F\x93\x9E")},
	// '+' is a space only in a query component
	{"a+b", kPath, std::string("a+b")},
	{"a+b", kQuery, std::string("a b")},
	{"a%2Bb", kQuery, std::string("a+b")},
	// invalid escapes
	{"%", kPath, DecodeError::kInvalidEscape},
	{"abc%", kPath, DecodeError::kInvalidEscape},
	{"%4", kPath, DecodeError::kInvalidEscape},
	{"%4g", kPath, DecodeError::kInvalidEscape},
	{"%zz", kQuery, DecodeError::kInvalidEscape},
	{"%%41", kPath, DecodeError::kInvalidEscape},
	{"% 41", kPath, DecodeError::kInvalidEscape},
	// decoded NUL is refused
	{"%00", kPath, DecodeError::kNulByte},
	{"admin%00.json", kQuery, DecodeError::kNulByte},
	// invalid UTF-8 after decoding
	{"%FF", kPath, DecodeError::kInvalidUtf8},
	{"%C3", kPath, DecodeError::kInvalidUtf8},           // truncated sequence
	{"%C0%AF", kPath, DecodeError::kInvalidUtf8},        // overlong '/'
	{"%E0%80%AF", kPath, DecodeError::kInvalidUtf8},     // overlong, 3 bytes
	{"%ED%A0%80", kQuery, DecodeError::kInvalidUtf8},    // UTF-16 surrogate
	{"%F4%90%80%80", kQuery, DecodeError::kInvalidUtf8}, // above U+10FFFF
	{"%80", kQuery, DecodeError::kInvalidUtf8},          // lone continuation byte
	{"caf%C3%A9", kQuery, std::string("caf\xC3\xA9")},   // well-formed é
	{"\xC3\xA9", kPath, std::string("\xC3\xA9")},        // raw UTF-8 bytes are checked too
	{"\xFF", kPath, DecodeError::kInvalidUtf8},
};

TEST(PercentDecode, Table)
{
	for (const auto& c : kDecodeCases) {
		const auto result = PercentDecode(c.input, c.mode);
		EXPECT_EQ(result, c.expected) << "input \"" << c.input << "\" mode " << static_cast<int>(c.mode);
	}
}

TEST(PercentDecode, ErrorMessagesAreDistinct)
{
	EXPECT_NE(DecodeErrorMessage(DecodeError::kInvalidEscape), DecodeErrorMessage(DecodeError::kNulByte));
	EXPECT_NE(DecodeErrorMessage(DecodeError::kNulByte), DecodeErrorMessage(DecodeError::kInvalidUtf8));
}

TEST(IsValidUtf8, BoundaryCodePoints)
{
	EXPECT_TRUE(IsValidUtf8(""));
	EXPECT_TRUE(IsValidUtf8("\x7F"));
	EXPECT_TRUE(IsValidUtf8("\xC2\x80"));         // U+0080, smallest 2-byte
	EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBF"));     // U+FFFF
	EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF")); // U+10FFFF
	EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));        // overlong U+007F
	EXPECT_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));
	EXPECT_FALSE(IsValidUtf8("\xE2\x82"));
}

TEST(PercentEncode, Table)
{
	const std::vector<std::pair<std::string, std::string>> cases = {
		{"", ""},
		{"AZaz09-._~", "AZaz09-._~"},
		{"a b", "a%20b"},
		{"a+b/c?d#e&f=g", "a%2Bb%2Fc%3Fd%23e%26f%3Dg"},
		{"Balatrix Telecom", "Balatrix%20Telecom"},
		{"user@example.in", "user%40example.in"},
		{std::string("\0\xFF", 2), "%00%FF"},
		{"\xE2\x82\xB9", "%E2%82%B9"},
	};
	for (const auto& [plain, encoded] : cases)
		EXPECT_EQ(PercentEncode(plain), encoded) << plain;
}

TEST(PercentEncode, RoundTripsThroughTheDecoder)
{
	for (const std::string text : {"a b+c", "x/y?z", "\xE2\x82\xB9 100%", "~!*'();:@&=$,/?#[]"}) {
		EXPECT_EQ(PercentDecode(PercentEncode(text), kPath), (std::variant<std::string, DecodeError>(text)));
		EXPECT_EQ(PercentDecode(PercentEncode(text), kQuery), (std::variant<std::string, DecodeError>(text)));
	}
}

} // namespace
} // namespace balatrix::sidecar
