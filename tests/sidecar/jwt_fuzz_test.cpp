// A deterministic fuzz run of the JWT parser: 200,000 random and mutated tokens from a seeded PRNG. None may
// be accepted and none may escape Verify as an exception (Verify is noexcept: an escaping exception would
// terminate this process). The mix is built so that every refusal path is reached, which the test checks,
// so a generator that silently stopped producing interesting input would fail here.
//
// The libFuzzer target in fuzz/jwt_fuzzer.cpp (BALATRIX_BUILD_FUZZERS=ON, clang) explores further with
// coverage guidance; this test keeps a fixed, fast slice of that in every ctest run.
#include <array>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/jwt.hpp"
#include "fake_clock.hpp"

namespace balatrix::sidecar::crypto {
namespace {

using nlohmann::json;

constexpr int kIterations = 200000;
constexpr std::uint64_t kSeed = 0x5EED0B417A7B1C5ULL;
constexpr long long kNow = 1795514400;
const std::string kSecret = "fuzz-secret-0123456789-0123456789-abcdef";
const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

class Generator {
public:
	explicit Generator(std::uint64_t seed) : engine_(seed) {}

	std::size_t
	Below(std::size_t bound)
	{
		return std::uniform_int_distribution<std::size_t>(0, bound - 1)(engine_);
	}

	char
	Byte()
	{
		return static_cast<char>(Below(256));
	}

	char
	Base64Char()
	{
		return kAlphabet[Below(kAlphabet.size())];
	}

	std::string
	RandomBytes(std::size_t max_length)
	{
		std::string text(Below(max_length + 1), '\0');
		for (char& c : text)
			c = Byte();
		return text;
	}

	std::string
	RandomBase64(std::size_t max_length)
	{
		std::string text(Below(max_length + 1), 'A');
		for (char& c : text)
			c = Base64Char();
		return text;
	}

	template <typename T>
	const T&
	Pick(const std::vector<T>& items)
	{
		return items[Below(items.size())];
	}

private:
	std::mt19937_64 engine_;
};

std::string
Sign(const std::string& header, const std::string& payload, const std::string& key)
{
	const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
	return input + "." + HmacSha256Base64Url(key, input);
}

json
ValidPayload()
{
	return json{{"iss", "balatrix"}, {"sub", "user-1"}, {"aud", "balatrix-api"}, {"iat", kNow},
	            {"exp", kNow + 900}, {"jti", "j-1"},    {"sid", "s-1"},          {"role", "customer"}};
}

// Headers that must each be refused, whatever signs them.
const std::vector<std::string> kEvilHeaders = {
	R"({"alg":"none","typ":"JWT"})",
	R"({"alg":"HS512","typ":"JWT"})",
	R"({"alg":"RS256","typ":"JWT"})",
	R"({"alg":"HS256","typ":"JWT","kid":"1"})",
	R"({"alg":"HS256","typ":"JWT","jku":"https://evil.example"})",
	R"({"alg":"HS256","typ":"JWT","alg":"none"})",
	R"({"alg":"HS256"})",
	R"({"alg":"HS256","typ":"JWS"})",
	R"({"typ":"JWT"})",
	R"({"alg":["HS256"],"typ":"JWT"})",
	R"([])",
	R"("HS256")",
	R"({"alg":"HS256","typ":"JWT","x5c":[]})",
	R"({"alg":"HS256","typ":"JWT",)",
};

// One change to a valid payload that makes it invalid, whatever signs it.
json
BreakPayload(Generator& random)
{
	json payload = ValidPayload();
	const std::vector<std::string> required = {"iss", "aud", "exp", "iat", "sub", "sid", "jti", "role"};
	switch (random.Below(8)) {
	case 0:
		payload.erase(random.Pick(required));
		break;
	case 1:
		payload["exp"] = kNow - 31 - static_cast<long long>(random.Below(1000000));
		break;
	case 2:
		payload["iat"] = kNow + 31 + static_cast<long long>(random.Below(1000000));
		break;
	case 3:
		payload["aud"] = random.RandomBase64(12) + "x";
		break;
	case 4:
		payload["iss"] = random.RandomBase64(12) + "x";
		break;
	case 5:
		payload["role"] = random.Pick(std::vector<std::string>{"root", "Admin", "", "superadmin", "customer "});
		break;
	case 6:
		payload[random.Pick(std::vector<std::string>{"exp", "iat", "nbf"})] =
			random.Pick(std::vector<json>{json("1"), json(1.5), json(-1), json(nullptr), json::array(), json(1e12)});
		break;
	default:
		payload["nbf"] = kNow + 31 + static_cast<long long>(random.Below(1000000));
		break;
	}
	return payload;
}

std::string
Mutate(Generator& random, std::string token)
{
	const std::size_t mutations = 1 + random.Below(4);
	for (std::size_t m = 0; m < mutations; ++m) {
		const std::size_t position = token.empty() ? 0 : random.Below(token.size());
		switch (random.Below(9)) {
		case 0: // flip a bit
			if (!token.empty())
				token[position] = static_cast<char>(token[position] ^ (1 << random.Below(8)));
			break;
		case 1: // replace with a base64url character
			if (!token.empty())
				token[position] = random.Base64Char();
			break;
		case 2: // replace with any byte
			if (!token.empty())
				token[position] = random.Byte();
			break;
		case 3: // insert
			token.insert(position, 1, random.Pick(std::vector<char>{'.', '=', ' ', '\0', random.Base64Char()}));
			break;
		case 4: // delete
			if (!token.empty())
				token.erase(position, 1 + random.Below(4));
			break;
		case 5: // truncate
			token.resize(random.Below(token.size() + 1));
			break;
		case 6: { // swap two segments
			const auto first = token.find('.');
			const auto second = token.rfind('.');
			if (first != std::string::npos && second != first) {
				token =
					token.substr(first + 1, second - first - 1) + "." + token.substr(0, first) + token.substr(second);
			}
			break;
		}
		case 7: // duplicate a span
			token.insert(position, token.substr(position, random.Below(16)));
			break;
		default: // append garbage
			token += random.RandomBytes(8);
			break;
		}
	}
	return token;
}

TEST(JwtFuzz, RandomAndMutatedTokensAreNeverAccepted)
{
	testing::FakeClock clock(kNow);
	const Hs256JwtCodec codec(kSecret, JwtOptions{}, clock);
	const std::string valid = codec.Issue("user-1", Role::kCustomer, "s-1", "j-1");
	ASSERT_TRUE(std::holds_alternative<AccessClaims>(codec.Verify(valid))) << "the control token must verify";

	Generator random(kSeed);
	std::map<JwtError, int> seen;
	int skipped = 0;
	for (int i = 0; i < kIterations; ++i) {
		std::string token;
		switch (random.Below(7)) {
		case 0:
			token = random.RandomBytes(200);
			break;
		case 1: { // base64url-looking segments
			token = random.RandomBase64(80);
			const std::size_t dots = random.Below(5);
			for (std::size_t d = 0; d < dots; ++d)
				token += "." + random.RandomBase64(80);
			break;
		}
		case 2:
		case 3:
			token = Mutate(random, valid);
			break;
		case 4: // refused headers, correctly signed with the real key
			token = Sign(random.Pick(kEvilHeaders), ValidPayload().dump(), kSecret);
			break;
		case 5: // well-formed token with a broken payload, correctly signed
			token = Sign(R"({"alg":"HS256","typ":"JWT"})", BreakPayload(random).dump(), kSecret);
			break;
		default: // a valid payload signed with the wrong key, then possibly mutated
			token =
				Sign(R"({"alg":"HS256","typ":"JWT"})", ValidPayload().dump(), kSecret + random.RandomBase64(4) + "!");
			if (random.Below(2) == 0)
				token = Mutate(random, token);
			break;
		}
		if (token == valid) { // a mutation that changed nothing
			++skipped;
			continue;
		}
		std::variant<AccessClaims, JwtError> result = JwtError::kMalformed;
		ASSERT_NO_THROW(result = codec.Verify(token)) << "iteration " << i;
		ASSERT_TRUE(std::holds_alternative<JwtError>(result))
			<< "iteration " << i << " accepted: " << ::testing::PrintToString(token);
		++seen[std::get<JwtError>(result)];
	}

	EXPECT_LT(skipped, kIterations / 100);
	for (const JwtError expected :
	     {JwtError::kMalformed, JwtError::kUnsupportedAlgorithm, JwtError::kUnsupportedHeader, JwtError::kWrongType,
	      JwtError::kBadSignature, JwtError::kWrongIssuer, JwtError::kWrongAudience, JwtError::kInvalidClaims,
	      JwtError::kExpired, JwtError::kNotYetValid}) {
		EXPECT_GT(seen[expected], 0) << "the fuzz mix never reached " << JwtErrorName(expected);
	}
	// Oversize input is covered directly: random generation never gets there.
	EXPECT_EQ(std::get<JwtError>(codec.Verify(std::string(kMaxJwtBytes + 1, '.'))), JwtError::kTooLarge);
}

} // namespace
} // namespace balatrix::sidecar::crypto
