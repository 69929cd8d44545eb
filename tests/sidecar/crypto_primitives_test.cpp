// Encodings, SHA-256, HMAC-SHA256 (RFC 4231), constant-time comparison and random tokens.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random.hpp"

namespace balatrix::sidecar::crypto {
namespace {

std::string
Repeat(char c, std::size_t n)
{
	return std::string(n, c);
}

std::string
Text(const std::optional<Bytes>& bytes)
{
	return bytes ? std::string(View(*bytes)) : std::string("(refused)");
}

// ---- encodings ------------------------------------------------------------------------------------------------

TEST(Base64Url, Rfc4648VectorsWithoutPadding)
{
	const std::vector<std::pair<std::string, std::string>> cases = {
		{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
		{"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"},
	};
	for (const auto& [plain, encoded] : cases) {
		EXPECT_EQ(Base64UrlEncode(plain), encoded) << plain;
		EXPECT_EQ(Text(Base64UrlDecode(encoded)), plain) << encoded;
	}
}

TEST(Base64Url, DecodeIsStrict)
{
	for (const std::string bad :
	     {"Zg==", "Zm8=", "Zh", "Zm9", "Z", "Zm9v YmE", "Zm9v+", "+_8", "/_8", "Zm9v\n", "Zm9v.", "\xC3\xA9"}) {
		EXPECT_EQ(Base64UrlDecode(bad), std::nullopt) << bad;
	}
}

TEST(Hex, EncodeAndStrictDecode)
{
	EXPECT_EQ(HexEncode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
	EXPECT_EQ(Text(HexDecode("0001ABff")), std::string("\x00\x01\xab\xff", 4));
	EXPECT_EQ(Text(HexDecode("")), "");
	for (const std::string bad : {"0", "abc", "zz", "0x00", "00 11", "0g"})
		EXPECT_EQ(HexDecode(bad), std::nullopt) << bad;
}

TEST(Base32, Rfc4648Vectors)
{
	const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
		// plain, unpadded (what Encode emits), padded (also accepted)
		{"", "", ""},
		{"f", "MY", "MY======"},
		{"fo", "MZXQ", "MZXQ===="},
		{"foo", "MZXW6", "MZXW6==="},
		{"foob", "MZXW6YQ", "MZXW6YQ="},
		{"fooba", "MZXW6YTB", "MZXW6YTB"},
		{"foobar", "MZXW6YTBOI", "MZXW6YTBOI======"},
		{"12345678901234567890", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
	};
	for (const auto& [plain, unpadded, padded] : cases) {
		EXPECT_EQ(Base32Encode(plain), unpadded) << plain;
		EXPECT_EQ(Text(Base32Decode(unpadded)), plain) << unpadded;
		EXPECT_EQ(Text(Base32Decode(padded)), plain) << padded;
	}
}

TEST(Base32, DecodeIsStrict)
{
	for (const std::string bad : {"mzxw6", "MZXW6=", "MZXW6====", "MY=======", "M", "MZX", "MZXW6Y", "MZ", "MZXW7",
	                              "MZ XW6", "MZXW1", "MZXW8", "MZXW6YTB========", "MY==MY=="}) {
		EXPECT_EQ(Base32Decode(bad), std::nullopt) << bad;
	}
}

// ---- SHA-256 and HMAC ------------------------------------------------------------------------------------------

TEST(Sha256, FipsVectors)
{
	EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
	          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

struct HmacCase {
	const char* name;
	std::string key;
	std::string data;
	std::string hex;
};

TEST(HmacSha256, Rfc4231TestCases)
{
	std::string key4;
	for (int i = 1; i <= 25; ++i)
		key4 += static_cast<char>(i);
	const std::vector<HmacCase> cases = {
		{"1", Repeat('\x0b', 20), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{"2", "Jefe", "what do ya want for nothing?",
	     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"3", Repeat('\xaa', 20), Repeat('\xdd', 50),
	     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{"4", key4, Repeat('\xcd', 50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
		{"6", Repeat('\xaa', 131), "Test Using Larger Than Block-Size Key - Hash Key First",
	     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
		{"7", Repeat('\xaa', 131),
	     "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
	     "hashed before being used by the HMAC algorithm.",
	     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
	};
	for (const auto& c : cases)
		EXPECT_EQ(HmacSha256Hex(c.key, c.data), c.hex) << "RFC 4231 test case " << c.name;
}

TEST(HmacSha256, Base64UrlAndRawFormsAgree)
{
	// RFC 4231 test case 2 in base64url (computed independently with Python's hmac module).
	EXPECT_EQ(HmacSha256Base64Url("Jefe", "what do ya want for nothing?"),
	          "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
	const Sha256Digest raw = HmacSha256("Jefe", "what do ya want for nothing?");
	EXPECT_EQ(raw[0], 0x5b);
	EXPECT_EQ(raw[31], 0x43);
	// An empty key and message are legal inputs.
	EXPECT_EQ(HmacSha256Hex("", ""), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(ConstantTimeEquals, Table)
{
	EXPECT_TRUE(ConstantTimeEquals("", ""));
	EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
	EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
	EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
	EXPECT_FALSE(ConstantTimeEquals("", "a"));
	EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
	EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
	const std::string mac = HmacSha256Hex("k", "m");
	std::string flipped = mac;
	flipped.back() = flipped.back() == '0' ? '1' : '0';
	EXPECT_TRUE(ConstantTimeEquals(mac, HmacSha256Hex("k", "m")));
	EXPECT_FALSE(ConstantTimeEquals(mac, flipped));
}

// ---- tokens ---------------------------------------------------------------------------------------------------

// Counts up from `next`: predictable bytes for golden values.
class CountingRandom final : public RandomSource {
public:
	void
	Fill(std::uint8_t* out, std::size_t size) override
	{
		for (std::size_t i = 0; i < size; ++i)
			out[i] = next_++;
	}

private:
	std::uint8_t next_ = 0;
};

TEST(Tokens, AreUrlSafe256BitValues)
{
	SodiumRandom random;
	std::set<std::string> seen;
	for (int i = 0; i < 1000; ++i) {
		const std::string token = NewToken(random);
		ASSERT_EQ(token.size(), 43u) << token;
		EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
		          std::string::npos)
			<< token;
		const auto bytes = Base64UrlDecode(token);
		ASSERT_TRUE(bytes.has_value()) << token;
		EXPECT_EQ(bytes->size(), kTokenBytes);
		EXPECT_TRUE(seen.insert(token).second) << "repeated token " << token;
	}
	EXPECT_EQ(NewToken(random, 16).size(), 22u);
}

TEST(Tokens, ComeFromTheInjectedSourceAndAreStoredAsSha256)
{
	CountingRandom random;
	const std::string token = NewToken(random);
	EXPECT_EQ(token, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"); // bytes 0x00..0x1f
	const std::string stored = Sha256Hex(token);
	EXPECT_EQ(stored.size(), 64u);
	EXPECT_EQ(stored, Sha256Hex("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"));
	EXPECT_NE(stored, Sha256Hex(NewToken(random))) << "the next token differs";
}

} // namespace
} // namespace balatrix::sidecar::crypto
