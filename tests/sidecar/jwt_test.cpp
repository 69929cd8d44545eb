// HS256 access tokens: a known answer, the algorithm pinned, signature, time and audience checks, and the
// compact-serialization parser refusing anything malformed.
#include "crypto/jwt.hpp"

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "fake_clock.hpp"

namespace balatrix::sidecar::crypto {
namespace {

using nlohmann::json;
using testing::FakeClock;

const std::string kSecret = "0123456789abcdef0123456789abcdef-known-answer";
const std::string kOtherSecret = "another-secret-of-at-least-32-bytes!!";
constexpr long long kNow = 1795514400; // 2026-11-24T10:00:00Z
const std::string kHeader = R"({"alg":"HS256","typ":"JWT"})";

// A complete, valid claims object at kNow; tests change one thing.
json
ValidPayload()
{
	return json{{"iss", "balatrix"}, {"sub", "user-42"}, {"aud", "balatrix-api"}, {"iat", kNow},
	            {"exp", kNow + 900}, {"jti", "jti-1"},   {"sid", "sid-9"},        {"role", "support"}};
}

// header.payload.signature from raw JSON texts, signed with `key` (the library's own HMAC and base64url,
// both checked against RFC vectors in crypto_primitives_test.cpp).
std::string
CraftRaw(const std::string& header, const std::string& payload, const std::string& key = kSecret)
{
	const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
	return input + "." + HmacSha256Base64Url(key, input);
}

std::string
Craft(const json& payload, const std::string& key = kSecret)
{
	return CraftRaw(kHeader, payload.dump(), key);
}

class JwtTest : public ::testing::Test {
protected:
	JwtOptions
	Options() const
	{
		JwtOptions options;
		options.leeway = std::chrono::seconds(30);
		return options;
	}

	std::variant<AccessClaims, JwtError>
	Verify(const std::string& token) const
	{
		return codec_.Verify(token);
	}

	void
	ExpectRejected(const std::string& token, JwtError expected, const std::string& label) const
	{
		const auto result = codec_.Verify(token);
		ASSERT_TRUE(std::holds_alternative<JwtError>(result)) << label << ": accepted " << token;
		EXPECT_EQ(std::get<JwtError>(result), expected) << label << ": got " << JwtErrorName(std::get<JwtError>(result))
														<< " instead of " << JwtErrorName(expected);
	}

	FakeClock clock_{kNow};
	Hs256JwtCodec codec_{kSecret, Options(), clock_};
};

TEST_F(JwtTest, KnownAnswerComputedWithPythonsHmac)
{
	const std::string expected =
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
		"eyJpc3MiOiJiYWxhdHJpeCIsInN1YiI6InVzZXItNDIiLCJhdWQiOiJiYWxhdHJpeC1hcGkiLCJpYXQiOjE3OTU1MTQ0MDAsImV4cCI6MTc5"
		"NTUxNTMwMCwianRpIjoianRpLTEiLCJzaWQiOiJzaWQtOSIsInJvbGUiOiJzdXBwb3J0In0."
		"L7ZKcAcALj35DO4Xmv0LkTxkUlnydxvzRN4LZlM3Qi8";
	EXPECT_EQ(codec_.Issue("user-42", Role::kSupport, "sid-9", "jti-1"), expected);
	const auto result = Verify(expected);
	ASSERT_TRUE(std::holds_alternative<AccessClaims>(result)) << JwtErrorName(std::get<JwtError>(result));
	const auto& claims = std::get<AccessClaims>(result);
	EXPECT_EQ(claims.subject, "user-42");
	EXPECT_EQ(claims.role, Role::kSupport);
	EXPECT_EQ(claims.session_id, "sid-9");
	EXPECT_EQ(claims.token_id, "jti-1");
	EXPECT_EQ(claims.issued_at, std::chrono::system_clock::time_point(std::chrono::seconds(kNow)));
	EXPECT_EQ(claims.expires_at - claims.issued_at, std::chrono::seconds(900)) << "15-minute access tokens";
}

TEST_F(JwtTest, EveryRoleRoundTrips)
{
	for (const Role role : {Role::kSuperAdmin, Role::kAdmin, Role::kSupport, Role::kReseller, Role::kCustomer}) {
		const auto result = Verify(codec_.Issue("u", role, "s", "j"));
		ASSERT_TRUE(std::holds_alternative<AccessClaims>(result)) << RoleName(role);
		EXPECT_EQ(std::get<AccessClaims>(result).role, role);
	}
}

TEST_F(JwtTest, AlgorithmIsPinnedToHs256)
{
	const std::string payload = ValidPayload().dump();
	const std::vector<std::string> headers = {
		R"({"alg":"none","typ":"JWT"})",
		R"({"alg":"None","typ":"JWT"})",
		R"({"alg":"NONE","typ":"JWT"})",
		R"({"alg":"HS512","typ":"JWT"})",
		R"({"alg":"HS384","typ":"JWT"})",
		R"({"alg":"RS256","typ":"JWT"})",
		R"({"alg":"ES256","typ":"JWT"})",
		R"({"alg":"hs256","typ":"JWT"})",
		R"({"alg":"HS256 ","typ":"JWT"})",
		R"({"alg":"","typ":"JWT"})",
		R"({"alg":null,"typ":"JWT"})",
		R"({"alg":["HS256"],"typ":"JWT"})",
		R"({"alg":256,"typ":"JWT"})",
		R"({"typ":"JWT"})",
		R"({})",
	};
	for (const auto& header : headers) {
		// Even correctly HMAC-signed with the real key (the RS256-as-HS256 key confusion attack), refused.
		ExpectRejected(CraftRaw(header, payload), JwtError::kUnsupportedAlgorithm, header);
	}
	// The classic "alg":"none" token has an empty signature: refused before the header is even read.
	const std::string unsigned_token =
		Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + Base64UrlEncode(payload) + ".";
	ExpectRejected(unsigned_token, JwtError::kMalformed, "alg none, empty signature");
}

TEST_F(JwtTest, HeaderMembersThatPickKeysAreRefused)
{
	const std::string payload = ValidPayload().dump();
	for (const std::string header :
	     {R"({"alg":"HS256","typ":"JWT","kid":"../../dev/null"})", R"({"alg":"HS256","typ":"JWT","kid":"' OR 1=1 --"})",
	      R"({"alg":"HS256","typ":"JWT","jku":"https://evil.example/jwks.json"})",
	      R"({"alg":"HS256","typ":"JWT","jwk":{"kty":"oct","k":"AAAA"}})",
	      R"({"alg":"HS256","typ":"JWT","x5u":"https://evil.example/cert"})",
	      R"({"alg":"HS256","typ":"JWT","crit":["exp"]})", R"({"alg":"HS256","typ":"JWT","cty":"JWT"})",
	      R"({"alg":"HS256","typ":"JWT","b64":false})"}) {
		ExpectRejected(CraftRaw(header, payload), JwtError::kUnsupportedHeader, header);
	}
}

TEST_F(JwtTest, TypeMustBeJwt)
{
	const std::string payload = ValidPayload().dump();
	for (const std::string header : {R"({"alg":"HS256"})", R"({"alg":"HS256","typ":"JWS"})",
	                                 R"({"alg":"HS256","typ":"at+jwt"})", R"({"alg":"HS256","typ":1})"}) {
		ExpectRejected(CraftRaw(header, payload), JwtError::kWrongType, header);
	}
	// Member order does not matter.
	EXPECT_TRUE(std::holds_alternative<AccessClaims>(Verify(CraftRaw(R"({"typ":"JWT","alg":"HS256"})", payload))));
}

TEST_F(JwtTest, TokenSignedWithAnotherKeyIsRefused)
{
	ExpectRejected(Craft(ValidPayload(), kOtherSecret), JwtError::kBadSignature, "other key");
	const Hs256JwtCodec other(kOtherSecret, JwtOptions{}, clock_);
	ExpectRejected(other.Issue("user-42", Role::kSuperAdmin, "s", "j"), JwtError::kBadSignature, "other codec");
}

TEST_F(JwtTest, TamperedPayloadOrSignatureIsRefused)
{
	const std::string token = codec_.Issue("user-42", Role::kCustomer, "sid-9", "jti-1");
	const auto first_dot = token.find('.');
	const auto second_dot = token.rfind('.');
	const std::string signature = token.substr(second_dot + 1);

	json escalated = ValidPayload();
	escalated["role"] = "super_admin";
	const std::string forged = token.substr(0, first_dot) + "." + Base64UrlEncode(escalated.dump()) + "." + signature;
	ExpectRejected(forged, JwtError::kBadSignature, "role escalated, old signature");

	json other_user = ValidPayload();
	other_user["sub"] = "user-43";
	ExpectRejected(token.substr(0, first_dot) + "." + Base64UrlEncode(other_user.dump()) + "." + signature,
	               JwtError::kBadSignature, "another subject, old signature");

	std::string flipped = token;
	flipped[second_dot + 1] = flipped[second_dot + 1] == 'A' ? 'B' : 'A';
	ExpectRejected(flipped, JwtError::kBadSignature, "signature changed");

	// A signature of the right length in base64 but over other bytes, and a truncated one.
	ExpectRejected(token.substr(0, second_dot + 1) + std::string(43, 'A'), JwtError::kBadSignature, "zero signature");
	ExpectRejected(token.substr(0, second_dot + 1) + signature.substr(0, 40), JwtError::kBadSignature, "truncated");
	ExpectRejected(token + "A", JwtError::kBadSignature, "33 bytes of signature");
	ExpectRejected(token + "AA", JwtError::kMalformed, "not canonical base64url");
}

TEST_F(JwtTest, ExpiryWithLeeway)
{
	json payload = ValidPayload();
	payload["iat"] = kNow - 1000;
	payload["exp"] = kNow - 31; // beyond the 30 s leeway
	ExpectRejected(Craft(payload), JwtError::kExpired, "expired 31 s ago");
	payload["exp"] = kNow - 30; // now == exp + leeway: expired (exp is exclusive)
	ExpectRejected(Craft(payload), JwtError::kExpired, "at the edge");
	payload["exp"] = kNow - 29;
	EXPECT_TRUE(std::holds_alternative<AccessClaims>(Verify(Craft(payload)))) << "within the leeway";

	// The same token, observed as the clock advances.
	const std::string token = codec_.Issue("u", Role::kCustomer, "s", "j");
	clock_.Advance(std::chrono::seconds(900 + 29));
	EXPECT_TRUE(std::holds_alternative<AccessClaims>(Verify(token)));
	clock_.Advance(std::chrono::seconds(1));
	ExpectRejected(token, JwtError::kExpired, "15 min + leeway later");
}

TEST_F(JwtTest, NotYetValid)
{
	json payload = ValidPayload();
	payload["nbf"] = kNow + 31;
	ExpectRejected(Craft(payload), JwtError::kNotYetValid, "nbf in the future");
	payload["nbf"] = kNow + 30;
	EXPECT_TRUE(std::holds_alternative<AccessClaims>(Verify(Craft(payload))));

	json future = ValidPayload();
	future["iat"] = kNow + 31;
	future["exp"] = kNow + 931;
	ExpectRejected(Craft(future), JwtError::kNotYetValid, "issued in the future");
	future["iat"] = kNow + 29;
	EXPECT_TRUE(std::holds_alternative<AccessClaims>(Verify(Craft(future)))) << "small skew is tolerated";
}

TEST_F(JwtTest, AudienceAndIssuer)
{
	json payload = ValidPayload();
	payload["aud"] = "billing-admin";
	ExpectRejected(Craft(payload), JwtError::kWrongAudience, "other audience");
	payload["aud"] = json::array({"a", "b"});
	ExpectRejected(Craft(payload), JwtError::kWrongAudience, "array without ours");
	payload["aud"] = json::array({"a", "balatrix-api"});
	EXPECT_TRUE(std::holds_alternative<AccessClaims>(Verify(Craft(payload)))) << "array containing ours";
	payload.erase("aud");
	ExpectRejected(Craft(payload), JwtError::kWrongAudience, "no audience");
	payload["aud"] = 7;
	ExpectRejected(Craft(payload), JwtError::kWrongAudience, "numeric audience");

	json issuer = ValidPayload();
	issuer["iss"] = "someone-else";
	ExpectRejected(Craft(issuer), JwtError::kWrongIssuer, "other issuer");
	issuer.erase("iss");
	ExpectRejected(Craft(issuer), JwtError::kWrongIssuer, "no issuer");
}

TEST_F(JwtTest, ClaimsMustBeWellTyped)
{
	const std::vector<std::pair<std::string, json>> changes = {
		{"exp", "1795515300"},
		{"exp", 1795515300.5},
		{"exp", -1},
		{"exp", 99999999999LL},
		{"exp", nullptr},
		{"iat", "now"},
		{"nbf", "later"},
		{"nbf", 1.5},
		{"sub", ""},
		{"sub", 42},
		{"sub", std::string(257, 'u')},
		{"sid", ""},
		{"jti", json::array()},
		{"role", "root"},
		{"role", "Admin"},
		{"role", ""},
		{"role", nullptr},
	};
	for (const auto& [claim, value] : changes) {
		json payload = ValidPayload();
		payload[claim] = value;
		ExpectRejected(Craft(payload), JwtError::kInvalidClaims, claim + "=" + value.dump());
	}
	for (const std::string claim : {"exp", "iat", "sub", "sid", "jti", "role"}) {
		json payload = ValidPayload();
		payload.erase(claim);
		ExpectRejected(Craft(payload), JwtError::kInvalidClaims, "without " + claim);
	}
	json longest = ValidPayload();
	longest["sub"] = std::string(256, 'u');
	EXPECT_TRUE(std::holds_alternative<AccessClaims>(Verify(Craft(longest))));
	json extra = ValidPayload();
	extra["scope"] = "ignored";
	EXPECT_TRUE(std::holds_alternative<AccessClaims>(Verify(Craft(extra)))) << "unknown claims are ignored";
}

TEST_F(JwtTest, MalformedCompactSerializations)
{
	const std::string header = Base64UrlEncode(kHeader);
	const std::string payload = Base64UrlEncode(ValidPayload().dump());
	const std::string good = Craft(ValidPayload());
	const std::string signature = good.substr(good.rfind('.') + 1);
	const std::vector<std::pair<std::string, std::string>> cases = {
		{"empty", ""},
		{"one segment", "abc"},
		{"two segments", header + "." + payload},
		{"four segments", good + ".x"},
		{"dots only", ".."},
		{"empty header", "." + payload + "." + signature},
		{"empty payload", header + ".." + signature},
		{"padded header", header + "=." + payload + "." + signature},
		{"standard base64 alphabet", header + "." + payload + "." + signature + "+/"},
		{"whitespace", header + ". " + payload + "." + signature},
		{"leading whitespace", " " + good},
		{"Bearer prefix", "Bearer " + good},
		{"header not base64", "!!!." + payload + "." + signature},
		{"header not JSON", Base64UrlEncode("alg=HS256") + "." + payload + "." + signature},
		{"header an array", Base64UrlEncode(R"(["HS256"])") + "." + payload + "." + signature},
		{"header a string", Base64UrlEncode(R"("HS256")") + "." + payload + "." + signature},
		{"duplicate alg", CraftRaw(R"({"alg":"HS256","typ":"JWT","alg":"none"})", ValidPayload().dump())},
		{"duplicate alg, other order", CraftRaw(R"({"alg":"none","typ":"JWT","alg":"HS256"})", ValidPayload().dump())},
		{"header trailing garbage", CraftRaw(R"({"alg":"HS256","typ":"JWT"}x)", ValidPayload().dump())},
		{"header invalid UTF-8", CraftRaw("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"\xff\":1}", ValidPayload().dump())},
		{"payload not JSON", CraftRaw(kHeader, "not json")},
		{"payload an array", CraftRaw(kHeader, "[1,2,3]")},
		{"payload duplicate role", CraftRaw(kHeader, R"({"role":"customer","role":"admin"})")},
		{"payload nested too deep", CraftRaw(kHeader, R"({"a":{"b":{"c":{"d":{"e":1}}}}})")},
		{"NUL inside", std::string(good).insert(10, 1, '\0')},
	};
	for (const auto& [label, token] : cases) {
		const auto result = Verify(token);
		ASSERT_TRUE(std::holds_alternative<JwtError>(result)) << label;
		const JwtError error = std::get<JwtError>(result);
		EXPECT_TRUE(error == JwtError::kMalformed) << label << ": " << JwtErrorName(error);
	}
}

TEST_F(JwtTest, OversizeTokensAreRefusedBeforeParsing)
{
	json payload = ValidPayload();
	payload["pad"] = std::string(kMaxJwtBytes, 'x');
	ExpectRejected(Craft(payload), JwtError::kTooLarge, "over 8 KiB");
	ExpectRejected(std::string(kMaxJwtBytes + 1, 'a'), JwtError::kTooLarge, "8 KiB + 1 of garbage");
	ExpectRejected(std::string(kMaxJwtBytes, 'a'), JwtError::kMalformed, "8 KiB of garbage is merely malformed");
}

TEST(Hs256JwtCodec, RefusesShortSecrets)
{
	FakeClock clock(kNow);
	EXPECT_THROW(Hs256JwtCodec(std::string(31, 'k'), JwtOptions{}, clock), std::invalid_argument);
	EXPECT_NO_THROW(Hs256JwtCodec(std::string(32, 'k'), JwtOptions{}, clock));
}

TEST(Hs256JwtCodec, IssuerAndAudienceComeFromTheOptions)
{
	FakeClock clock(kNow);
	JwtOptions options;
	options.issuer = "balatrix-staging";
	options.audience = "staging-api";
	const Hs256JwtCodec staging(kSecret, options, clock);
	const Hs256JwtCodec production(kSecret, JwtOptions{}, clock);
	const std::string token = staging.Issue("u", Role::kAdmin, "s", "j");
	EXPECT_TRUE(std::holds_alternative<AccessClaims>(staging.Verify(token)));
	const auto result = production.Verify(token);
	ASSERT_TRUE(std::holds_alternative<JwtError>(result));
	EXPECT_EQ(std::get<JwtError>(result), JwtError::kWrongIssuer) << "same key, other deployment";
}

TEST(JwtErrorName, DistinctNames)
{
	std::set<std::string_view> names;
	for (const JwtError error :
	     {JwtError::kTooLarge, JwtError::kMalformed, JwtError::kUnsupportedAlgorithm, JwtError::kUnsupportedHeader,
	      JwtError::kWrongType, JwtError::kBadSignature, JwtError::kWrongIssuer, JwtError::kWrongAudience,
	      JwtError::kInvalidClaims, JwtError::kExpired, JwtError::kNotYetValid}) {
		EXPECT_TRUE(names.insert(JwtErrorName(error)).second) << JwtErrorName(error);
	}
}

} // namespace
} // namespace balatrix::sidecar::crypto
