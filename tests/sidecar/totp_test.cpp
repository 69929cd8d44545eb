// TOTP through liboath: the RFC 6238 appendix B vectors, the ±1 step window, malformed codes, otpauth URIs.
#include "crypto/totp.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fake_clock.hpp"

namespace balatrix::sidecar::crypto {
namespace {

using testing::FakeClock;

// RFC 6238 appendix B: the seeds are the ASCII digits repeated to the hash's block-relevant length.
const std::string kSeedSha1 = "12345678901234567890";
const std::string kSeedSha256 = "12345678901234567890123456789012";
const std::string kSeedSha512 = "1234567890123456789012345678901234567890123456789012345678901234";

UnixSeconds
At(long long unix_seconds)
{
	return UnixSeconds(std::chrono::seconds(unix_seconds));
}

// The last instant a Clock (system_clock, nanoseconds) can report: 2262-04-11.
constexpr long long kLastClockSecond = 9223372036LL;

struct Vector {
	long long time;
	const char* sha1;
	const char* sha256;
	const char* sha512;
};

// RFC 6238 appendix B, table of test vectors (8 digits, 30 s steps).
const std::vector<Vector> kRfc6238 = {
	{59, "94287082", "46119246", "90693936"},         {1111111109, "07081804", "68084774", "25091201"},
	{1111111111, "14050471", "67062674", "99943326"}, {1234567890, "89005924", "91819424", "93441116"},
	{2000000000, "69279037", "90698825", "38618901"}, {20000000000LL, "65353130", "77737706", "47863826"},
};

OathTotp
Make(TotpAlgorithm algorithm, unsigned digits, const Clock& clock)
{
	TotpOptions options;
	options.algorithm = algorithm;
	options.digits = digits;
	return OathTotp(options, clock);
}

TEST(Totp, Rfc6238AppendixBVectors)
{
	FakeClock clock(0);
	const OathTotp sha1 = Make(TotpAlgorithm::kSha1, 8, clock);
	const OathTotp sha256 = Make(TotpAlgorithm::kSha256, 8, clock);
	const OathTotp sha512 = Make(TotpAlgorithm::kSha512, 8, clock);
	for (const auto& v : kRfc6238) {
		EXPECT_EQ(sha1.Generate(kSeedSha1, At(v.time)), v.sha1) << "SHA1 T=" << v.time;
		EXPECT_EQ(sha256.Generate(kSeedSha256, At(v.time)), v.sha256) << "SHA256 T=" << v.time;
		EXPECT_EQ(sha512.Generate(kSeedSha512, At(v.time)), v.sha512) << "SHA512 T=" << v.time;

		// Each vector also verifies at its own instant, and yields its time step (T=20000000000, in 2603, is
		// beyond what a Clock can say).
		if (v.time > kLastClockSecond)
			continue;
		clock.Set(v.time);
		EXPECT_EQ(sha1.Verify(kSeedSha1, v.sha1), v.time / 30) << "T=" << v.time;
		EXPECT_EQ(sha256.Verify(kSeedSha256, v.sha256), v.time / 30) << "T=" << v.time;
		EXPECT_EQ(sha512.Verify(kSeedSha512, v.sha512), v.time / 30) << "T=" << v.time;
	}
}

TEST(Totp, SixDigitsAreTheLastSixOfTheSameTruncation)
{
	FakeClock clock(59);
	const OathTotp totp(TotpOptions{}, clock); // SHA1, 6 digits, 30 s, ±1
	EXPECT_EQ(totp.Generate(kSeedSha1, At(59)), "287082");
	EXPECT_EQ(totp.Generate(kSeedSha1, At(1111111109)), "081804"); // leading zero kept
	EXPECT_EQ(totp.Verify(kSeedSha1, "287082"), 1);
}

TEST(Totp, AcceptsOneStepEitherSideAndNoMore)
{
	FakeClock clock(1111111111); // step 37037037
	const OathTotp totp(TotpOptions{}, clock);
	const long long step = 1111111111 / 30;
	for (const long long offset : {-1LL, 0LL, 1LL}) {
		const auto code = totp.Generate(kSeedSha1, At((step + offset) * 30));
		ASSERT_TRUE(code.has_value());
		EXPECT_EQ(totp.Verify(kSeedSha1, *code), step + offset) << "offset " << offset;
	}
	for (const long long offset : {-3LL, -2LL, 2LL, 3LL}) {
		const auto code = totp.Generate(kSeedSha1, At((step + offset) * 30));
		ASSERT_TRUE(code.has_value());
		// A code two steps away may collide with a code inside the window by chance (1 in 10^6 per step);
		// not for this seed and these steps.
		EXPECT_EQ(totp.Verify(kSeedSha1, *code), std::nullopt) << "offset " << offset;
	}
}

TEST(Totp, ACodeExpiresAsTheClockMoves)
{
	FakeClock clock(1234567890);
	const OathTotp totp(TotpOptions{}, clock);
	const auto code = totp.Generate(kSeedSha1, At(1234567890));
	ASSERT_TRUE(code.has_value());
	EXPECT_TRUE(totp.Verify(kSeedSha1, *code).has_value());
	clock.Advance(std::chrono::seconds(30));
	EXPECT_TRUE(totp.Verify(kSeedSha1, *code).has_value()) << "one step later: still inside the window";
	clock.Advance(std::chrono::seconds(30));
	EXPECT_FALSE(totp.Verify(kSeedSha1, *code).has_value()) << "two steps later: gone";
}

TEST(Totp, RefusesMalformedCodesWrongCodesAndShortSecrets)
{
	FakeClock clock(59);
	const OathTotp totp(TotpOptions{}, clock);
	for (const std::string& code :
	     std::vector<std::string>{"", "28708", "2870820", "28708a", " 28708", "287082 ", "+28708", "２８７０８２",
	                              std::string("28708\0", 6), "000000", "287083"}) {
		EXPECT_EQ(totp.Verify(kSeedSha1, code), std::nullopt) << "'" << code << "'";
	}
	const std::string short_secret(kMinTotpSecretBytes - 1, 'k');
	EXPECT_EQ(totp.Generate(short_secret, At(59)), std::nullopt);
	EXPECT_EQ(totp.Verify(short_secret, "123456"), std::nullopt);
	EXPECT_EQ(totp.Verify("", "123456"), std::nullopt);
}

TEST(Totp, ProvisioningUri)
{
	FakeClock clock(0);
	TotpOptions options;
	options.issuer = "Balatrix Telecom";
	const OathTotp totp(options, clock);
	EXPECT_EQ(totp.ProvisioningUri(kSeedSha1, "asha+mfa@example.in"),
	          "otpauth://totp/Balatrix%20Telecom:asha%2Bmfa%40example.in?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	          "&issuer=Balatrix%20Telecom&algorithm=SHA1&digits=6&period=30");
}

TEST(Totp, SecretsAre160RandomBits)
{
	SodiumRandom random;
	const Bytes first = NewTotpSecret(random);
	const Bytes second = NewTotpSecret(random);
	EXPECT_EQ(first.size(), kTotpSecretBytes);
	EXPECT_NE(first, second);
	EXPECT_EQ(Base32Encode(View(first)).size(), 32u) << "20 bytes are 32 base32 characters, no padding";
}

TEST(Totp, RefusesBadOptions)
{
	FakeClock clock(0);
	const auto with = [](auto change) {
		TotpOptions options;
		change(options);
		return options;
	};
	EXPECT_THROW(OathTotp(with([](TotpOptions& o) { o.digits = 5; }), clock), std::invalid_argument);
	EXPECT_THROW(OathTotp(with([](TotpOptions& o) { o.digits = 9; }), clock), std::invalid_argument);
	EXPECT_THROW(OathTotp(with([](TotpOptions& o) { o.step = std::chrono::seconds(0); }), clock),
	             std::invalid_argument);
	EXPECT_THROW(OathTotp(with([](TotpOptions& o) { o.window = 11; }), clock), std::invalid_argument);
	EXPECT_THROW(OathTotp(with([](TotpOptions& o) { o.issuer = "a:b"; }), clock), std::invalid_argument);
	EXPECT_NO_THROW(OathTotp(with([](TotpOptions& o) { o.window = 0; }), clock));
}

} // namespace
} // namespace balatrix::sidecar::crypto
