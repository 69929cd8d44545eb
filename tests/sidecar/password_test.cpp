// argon2id password hashing: round trip, wrong passwords, unusable stored strings, rehash, dummy timing.
#include "crypto/password.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace balatrix::sidecar::crypto {
namespace {

// Cheap parameters keep most tests fast; one test uses the production defaults.
Argon2idParams
Cheap()
{
	Argon2idParams params;
	params.ops_limit = 1;
	params.mem_limit_bytes = 64 * 1024;
	return params;
}

TEST(Argon2id, ProductionParametersRoundTrip)
{
	const Argon2idHasher hasher; // kArgon2idOpsLimit, kArgon2idMemLimitBytes
	const auto hash = hasher.Hash("correct horse battery staple");
	ASSERT_TRUE(hash.has_value());
	EXPECT_EQ(hash->rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << *hash;
	EXPECT_TRUE(hasher.Verify(*hash, "correct horse battery staple"));
	EXPECT_FALSE(hasher.Verify(*hash, "correct horse battery stapl"));
	EXPECT_FALSE(hasher.Verify(*hash, "Correct horse battery staple"));
	EXPECT_FALSE(hasher.Verify(*hash, ""));
	EXPECT_FALSE(hasher.NeedsRehash(*hash));
}

TEST(Argon2id, WrongPasswordsAreRejected)
{
	const Argon2idHasher hasher(Cheap());
	const std::string password = "S3cure&Passw0rd#2026";
	const auto hash = hasher.Hash(password);
	ASSERT_TRUE(hash.has_value());
	for (const std::string& wrong :
	     std::vector<std::string>{"", "S3cure&Passw0rd#2025", "s3cure&Passw0rd#2026", "S3cure&Passw0rd#2026 ",
	                              " S3cure&Passw0rd#2026", std::string("S3cure&Passw0rd#2026\0", 21)}) {
		EXPECT_FALSE(hasher.Verify(*hash, wrong)) << "'" << wrong << "'";
	}
	EXPECT_TRUE(hasher.Verify(*hash, password));
}

TEST(Argon2id, HashesAreSaltedAndCoverAnyBytes)
{
	const Argon2idHasher hasher(Cheap());
	const auto first = hasher.Hash("same password");
	const auto second = hasher.Hash("same password");
	ASSERT_TRUE(first && second);
	EXPECT_NE(*first, *second) << "a random salt per hash";
	EXPECT_TRUE(hasher.Verify(*first, "same password"));
	EXPECT_TRUE(hasher.Verify(*second, "same password"));

	const std::string unicode = "\xE0\xA4\xAA\xE0\xA4\xBE\xE0\xA4\xB8 \xE2\x82\xB9 \xF0\x9F\x94\x91";
	const auto unicode_hash = hasher.Hash(unicode);
	ASSERT_TRUE(unicode_hash);
	EXPECT_TRUE(hasher.Verify(*unicode_hash, unicode));

	const std::string with_nul("a\0b", 3);
	const auto nul_hash = hasher.Hash(with_nul);
	ASSERT_TRUE(nul_hash);
	EXPECT_TRUE(hasher.Verify(*nul_hash, with_nul));
	EXPECT_FALSE(hasher.Verify(*nul_hash, "a")) << "a NUL must not truncate the password";
}

TEST(Argon2id, LengthIsBounded)
{
	const Argon2idHasher hasher(Cheap());
	const std::string longest(kMaxPasswordBytes, 'p');
	const auto hash = hasher.Hash(longest);
	ASSERT_TRUE(hash.has_value());
	EXPECT_TRUE(hasher.Verify(*hash, longest));
	EXPECT_EQ(hasher.Hash(longest + "p"), std::nullopt);
	EXPECT_FALSE(hasher.Verify(*hash, longest + "p"));
}

TEST(Argon2id, UnusableStoredValuesNeverVerify)
{
	const Argon2idHasher hasher(Cheap());
	const auto good = hasher.Hash("pw");
	ASSERT_TRUE(good.has_value());
	std::string tampered = *good;
	tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
	const std::string greedy = "$argon2id$v=19$m=4194304,t=2,p=1" + good->substr(good->find('$', 15));
	const std::string many_passes = "$argon2id$v=19$m=64,t=400,p=1" + good->substr(good->find('$', 15));

	for (const std::optional<std::string_view> stored : std::vector<std::optional<std::string_view>>{
			 std::nullopt, std::string_view(""), std::string_view("pw"),
			 std::string_view("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"), // bcrypt
			 std::string_view("$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"),
			 std::string_view(tampered),
			 std::string_view(greedy),      // a tampered row asking for 4 GiB
			 std::string_view(many_passes), // ... or for 400 passes
		 }) {
		EXPECT_FALSE(hasher.Verify(stored, "pw")) << (stored ? std::string(*stored) : "(no account)");
	}
	EXPECT_TRUE(hasher.NeedsRehash(""));
	EXPECT_TRUE(hasher.NeedsRehash(greedy));
	EXPECT_TRUE(hasher.NeedsRehash("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"));
}

TEST(Argon2id, NeedsRehashWhenTheParametersChange)
{
	const Argon2idHasher cheap(Cheap());
	Argon2idParams stronger = Cheap();
	stronger.ops_limit = 2;
	const Argon2idHasher strong(stronger);
	const auto old_hash = cheap.Hash("pw");
	ASSERT_TRUE(old_hash.has_value());
	EXPECT_FALSE(cheap.NeedsRehash(*old_hash));
	EXPECT_TRUE(strong.NeedsRehash(*old_hash));
	EXPECT_TRUE(strong.Verify(*old_hash, "pw")) << "old hashes keep verifying until rehashed";
}

TEST(Argon2id, MissingAccountCostsAboutAsMuchAsARealCheck)
{
	Argon2idParams params;
	params.ops_limit = 1;
	params.mem_limit_bytes = 16 * 1024 * 1024; // long enough (~10 ms) to measure
	const Argon2idHasher hasher(params);
	const auto hash = hasher.Hash("pw");
	ASSERT_TRUE(hash.has_value());
	const auto fastest = [](auto&& call) {
		auto best = std::chrono::steady_clock::duration::max();
		for (int i = 0; i < 3; ++i) {
			const auto started = std::chrono::steady_clock::now();
			call();
			best = std::min(best, std::chrono::steady_clock::now() - started);
		}
		return best;
	};
	const auto real = fastest([&] { EXPECT_FALSE(hasher.Verify(*hash, "wrong")); });
	const auto missing = fastest([&] { EXPECT_FALSE(hasher.Verify(std::nullopt, "wrong")); });
	const auto garbage = fastest([&] { EXPECT_FALSE(hasher.Verify(std::string_view("garbage"), "wrong")); });
	// Without the dummy hash the last two would take microseconds, not milliseconds.
	EXPECT_GT(missing * 3, real) << "missing account answered too fast";
	EXPECT_GT(garbage * 3, real) << "unusable hash answered too fast";
}

TEST(Argon2id, ParametersOutsideLibsodiumsLimitsAreRefused)
{
	Argon2idParams zero_passes;
	zero_passes.ops_limit = 0;
	EXPECT_THROW(Argon2idHasher{zero_passes}, std::invalid_argument);
	Argon2idParams tiny_memory;
	tiny_memory.mem_limit_bytes = 1024;
	EXPECT_THROW(Argon2idHasher{tiny_memory}, std::invalid_argument);
}

} // namespace
} // namespace balatrix::sidecar::crypto
