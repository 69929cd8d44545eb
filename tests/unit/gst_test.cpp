/*
 * Unit tests: GSTIN validation, the GST State / UT table, and the tax arithmetic — regime, SAC
 * rates, per-line tax heads, invoice totals with round-off, B2B / B2C and GSTR-1 sections
 * (extension/core/src/gst.cpp).
 *
 * Every expected value below is transcribed from reference/gst-payments.md §1.5 (GSTIN vectors, check
 * character algorithm), §1.6 (State / UT codes), §1.9 (computation vectors) and seed-original.md §10
 * (T13, T14, T15, T17), worked out by hand in the comments next to it, or computed by an independent
 * oracle in this file (IndependentCheckCharacter / IndependentlyValid, the SAC regex), never by the
 * code under test.
 */
#include "balatrix/core/gst.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <iterator>
#include <limits>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace balatrix::core {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kDigits = "0123456789";

// ---- the independent oracle ---------------------------------------------------------------

// §1.5, second form: "weights 2,1,2,... from the right" over the 14 payload characters, each product
// folded as p / 36 + p % 36. Written from the reference text, not from gst.cpp (which weighs left to
// right); for 14 characters the two forms must agree.
char
IndependentCheckCharacter(std::string_view first14)
{
	int sum = 0;
	int weight = 2;
	for (auto it = first14.rbegin(); it != first14.rend(); ++it) {
		int product = static_cast<int>(kAlphabet.find(*it)) * weight;
		sum += product / 36 + product % 36;
		weight = 3 - weight;
	}
	return kAlphabet[(36 - sum % 36) % 36];
}

// §1.6: the codes that may start a GSTIN (01-38 and 97).
bool
IsGstinStateCode(int code)
{
	return (code >= 1 && code <= 38) || code == 97;
}

// §1.5 end to end: trim ASCII whitespace, upper-case ASCII, the normal-taxpayer regex, a GSTIN
// State code, and (optionally) the check character. Returns the normalised GSTIN when valid.
std::optional<std::string>
IndependentlyValid(std::string_view input, bool verify_check)
{
	static const std::regex kNormal("^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$");
	const std::string_view spaces = " \t\n\r\f\v";
	std::size_t first = input.find_first_not_of(spaces);
	if (first == std::string_view::npos)
		return std::nullopt;
	std::size_t last = input.find_last_not_of(spaces);
	std::string g(input.substr(first, last - first + 1));
	for (char &c : g)
		if (c >= 'a' && c <= 'z')
			c = static_cast<char>(c - 'a' + 'A');
	if (g.size() != 15 || g.find('\0') != std::string::npos || !std::regex_match(g, kNormal))
		return std::nullopt;
	if (!IsGstinStateCode(std::stoi(g.substr(0, 2))))
		return std::nullopt;
	if (verify_check && g[14] != IndependentCheckCharacter(std::string_view(g).substr(0, 14)))
		return std::nullopt;
	return g;
}

const char *
FaultName(GstinFault fault)
{
	switch (fault) {
	case GstinFault::kValid:
		return "kValid";
	case GstinFault::kBadLength:
		return "kBadLength";
	case GstinFault::kBadFormat:
		return "kBadFormat";
	case GstinFault::kUnknownState:
		return "kUnknownState";
	case GstinFault::kBadEntityNumber:
		return "kBadEntityNumber";
	case GstinFault::kBadCheckCharacter:
		return "kBadCheckCharacter";
	}
	return "?";
}

// Test names carry the GSTIN (non-alphanumerics as '_'), prefixed by the row index for uniqueness.
template <typename Case>
std::string
CaseName(const testing::TestParamInfo<Case> &info)
{
	std::string name = std::to_string(info.index) + "_";
	for (char c : std::string_view(info.param.gstin))
		name.push_back(((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) ? c : '_');
	return name;
}

// ---- §1.5 valid GSTINs --------------------------------------------------------------------

struct ValidCase {
	const char *gstin;
	int state_code;
};

void
PrintTo(const ValidCase &c, std::ostream *os)
{
	*os << c.gstin;
}

class ValidGstin : public testing::TestWithParam<ValidCase> {};

TEST_P(ValidGstin, IsValidWithItsStateCode)
{
	const ValidCase &c = GetParam();
	for (bool verify : {true, false}) {
		SCOPED_TRACE(verify ? "verify_check_character = true" : "verify_check_character = false");
		GstinCheck check = CheckGstin(c.gstin, verify);
		EXPECT_EQ(check.fault, GstinFault::kValid) << FaultName(check.fault);
		EXPECT_EQ(check.state_code, c.state_code);
		EXPECT_EQ(check.normalized, c.gstin);
		EXPECT_EQ(check.expected_check, c.gstin[14]);
	}
	// The published check character agrees with the independent oracle (guards the table itself).
	EXPECT_EQ(IndependentCheckCharacter(std::string_view(c.gstin, 14)), c.gstin[14]);
	EXPECT_EQ(GstinCheckCharacter(std::string_view(c.gstin, 14)), std::optional<char>(c.gstin[14]));
}

const ValidCase kValidCases[] = {
	{"27AAPFU0939F1ZV", 27}, // python-stdnum doctest
	{"27AAGCG4576J1Z6", 27}, // Google India
	{"27AAGCG4576JBZW", 27}, // same PAN, entity #11
	{"07AAACI1681G1ZR", 7},  // Indian Oil, Delhi
	{"27AAACI1681G1ZP", 27}, // Maharashtra
	{"29AAACI1681G1ZL", 29}, // Karnataka
	{"33AAACI1681G1ZW", 33}, // Tamil Nadu
	{"02AAACI1681G3ZZ", 2},  // Himachal, entity 3
	{"37AAACI1681G2ZN", 37}, // Andhra Pradesh (new)
	{"25AAACI1681G1ZT", 25}, // legacy Daman & Diu
	{"38AAALS7119L1ZH", 38}, // Ladakh
	{"29AAGCB7383J1Z4", 29}, // international-number-input
};

INSTANTIATE_TEST_SUITE_P(Reference15, ValidGstin, testing::ValuesIn(kValidCases), CaseName<ValidCase>);

// ---- §1.5 invalid GSTINs ------------------------------------------------------------------

constexpr char kUnset = 0;    // expected_check is not set for this fault
constexpr char kAnyCheck = 1; // the contract leaves expected_check open for this fault: not asserted

struct InvalidCase {
	const char *gstin;
	GstinFault fault;            // with verify_check_character = true
	GstinFault fault_unverified; // with verify_check_character = false
	int state_code;              // expected with verify = true
	char expected_check;         // from §1.5 where it states one
};

void
PrintTo(const InvalidCase &c, std::ostream *os)
{
	*os << c.gstin;
}

class InvalidGstin : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidGstin, FailsForTheStatedReason)
{
	const InvalidCase &c = GetParam();
	std::string_view input(c.gstin);

	GstinCheck check = CheckGstin(input);
	EXPECT_EQ(check.fault, c.fault) << "got " << FaultName(check.fault) << ", want " << FaultName(c.fault);
	EXPECT_EQ(check.state_code, c.state_code);
	if (c.expected_check != kAnyCheck) {
		EXPECT_EQ(check.expected_check, c.expected_check);
	}
	// normalized is set whenever the length is right (all vectors are upper case already).
	EXPECT_EQ(check.normalized, input.size() == 15 ? std::string(input) : std::string());
	EXPECT_FALSE(IndependentlyValid(input, true).has_value());

	GstinCheck relaxed = CheckGstin(input, false);
	EXPECT_EQ(relaxed.fault, c.fault_unverified)
		<< "unverified: got " << FaultName(relaxed.fault) << ", want " << FaultName(c.fault_unverified);
	EXPECT_EQ(relaxed.fault == GstinFault::kValid, IndependentlyValid(input, false).has_value());
	if (relaxed.fault == GstinFault::kValid) {
		// A relaxed accept still reports the right State and the character the GSTIN should have had.
		EXPECT_EQ(relaxed.state_code, std::stoi(std::string(input.substr(0, 2))));
		EXPECT_EQ(relaxed.expected_check, IndependentCheckCharacter(input.substr(0, 14)));
		EXPECT_EQ(relaxed.normalized, std::string(input));
	}
}

constexpr GstinFault kLen = GstinFault::kBadLength;
constexpr GstinFault kFmt = GstinFault::kBadFormat;
constexpr GstinFault kState = GstinFault::kUnknownState;
constexpr GstinFault kEntity = GstinFault::kBadEntityNumber;
constexpr GstinFault kCheck = GstinFault::kBadCheckCharacter;
constexpr GstinFault kOk = GstinFault::kValid;

const InvalidCase kInvalidCases[] = {
	// Rows of the §1.5 "Invalid GSTINs" table.
	{"27AAPFU0939F1Z", kLen, kLen, 0, kUnset},           // length 14
	{"369296450896540", kFmt, kFmt, 0, kUnset},          // no PAN letters
	{"27AAPFU0939F1AA", kFmt, kFmt, 0, kUnset},          // position 14 not Z
	{"27AAPFU0939F1ZO", kCheck, kOk, 27, 'V'},           // expected V
	{"27AAPFU0939F1Z0", kCheck, kOk, 27, 'V'},           // expected V
	{"27AAGCG4576J1Z8", kCheck, kOk, 27, '6'},           // expected 6
	{"25AAACI1681G1Z4", kCheck, kOk, 25, 'T'},           // expected T
	{"47AAGCG4576J1A6", kFmt, kFmt, 0, kUnset},          // state 47 AND position 14 'A'
	{"27AAPFU0939F0ZW", kEntity, kEntity, 0, kAnyCheck}, // entity digit 0
	{"03AAJCR2207E1Z2", kCheck, kOk, 3, 'X'},            // web example, expected X
	{"01AAAAA9999A19N", kFmt, kFmt, 0, kUnset},          // NIC dummy: position 14 is 9
	{"29AWGPV7107B1Z1", kCheck, kOk, 29, 'F'},           // NIC sandbox
	// NIC sandbox, but position 14 is 'M' (not a normal-taxpayer layout): a format failure
	// whether or not the check character is verified.
	{"37ARZPT4384Q1MT", kFmt, kFmt, 0, kUnset},
	{"02AMBPG7773M002", kFmt, kFmt, 0, kUnset}, // NIC sandbox, position 14 '0'
	{"29AAFCA7488L1Z0", kCheck, kOk, 29, 'W'},  // transporter id, expected W
	// "Wrong 'valid' GSTINs" of third-party suites (§1.5 design consequences).
	{"29AABCT1332L1Z5", kCheck, kOk, 29, 'A'},
	{"09AAACR5055K1Z4", kCheck, kOk, 9, '5'},
	// Derived: the shape is right, the State is not a GSTIN prefix (§1.6). 00 and 39 are no
	// code at all; 96 (Other Countries) and 99 (Centre Jurisdiction) are codes but never start
	// a GSTIN; 47 is the srikanthlogic vector with position 14 corrected to Z.
	{"47AAGCG4576J1Z6", kState, kState, 0, kAnyCheck},
	{"00AAPFU0939F1ZV", kState, kState, 0, kAnyCheck},
	{"39AAPFU0939F1ZV", kState, kState, 0, kAnyCheck},
	{"96AAPFU0939F1ZV", kState, kState, 0, kAnyCheck},
	{"99AAPFU0939F1ZV", kState, kState, 0, kAnyCheck},
	// Derived: one character class wrong at each PAN position / the check position.
	{"2AAAPFU0939F1ZV", kFmt, kFmt, 0, kUnset},  // letter in the State code
	{"271APFU0939F1ZV", kFmt, kFmt, 0, kUnset},  // digit in PAN letters
	{"27AAPFUA939F1ZV", kFmt, kFmt, 0, kUnset},  // letter in PAN digits
	{"27AAPFU093991ZV", kFmt, kFmt, 0, kUnset},  // digit as PAN's last letter
	{"27AAPFU0939F-ZV", kFmt, kFmt, 0, kUnset},  // entity not alphanumeric
	{"27AAPFU0939F1Z-", kFmt, kFmt, 0, kUnset},  // check not alphanumeric
	{"27AAPFU0939F1ZV1", kLen, kLen, 0, kUnset}, // 16 characters
	{"", kLen, kLen, 0, kUnset},
};

INSTANTIATE_TEST_SUITE_P(Reference15, InvalidGstin, testing::ValuesIn(kInvalidCases), CaseName<InvalidCase>);

// ---- §1.5 worked example and GstinCheckCharacter ------------------------------------------

TEST(GstinCheckCharacter, WorkedExample)
{
	EXPECT_EQ(GstinCheckCharacter("27AAPFU0939F1Z"), std::optional<char>('V'));
	EXPECT_EQ(IndependentCheckCharacter("27AAPFU0939F1Z"), 'V');

	// §1.5 also lists the per-position terms (2, 14, 10, ... 35; sum 221): recompute them with the
	// left-to-right form to make sure the oracle reads the reference the same way.
	const int terms[14] = {2, 14, 10, 20, 25, 30, 30, 0, 9, 6, 9, 30, 1, 35};
	std::string_view payload = "27AAPFU0939F1Z";
	int sum = 0;
	for (int i = 0; i < 14; ++i) {
		int product = static_cast<int>(kAlphabet.find(payload[i])) * (i % 2 == 0 ? 1 : 2);
		EXPECT_EQ(product / 36 + product % 36, terms[i]) << "position " << i + 1;
		sum += terms[i];
	}
	EXPECT_EQ(sum, 221);
	EXPECT_EQ(kAlphabet[(36 - sum % 36) % 36], 'V');
}

TEST(GstinCheckCharacter, RejectsWhatIsNotFourteenUpperCaseAlphanumerics)
{
	const std::vector<std::string_view> rejected = {
		"27aapfu0939f1z",                        // lower case: normalise first
		"27AAPFU0939F1z",                        // one lower-case letter
		"27AAPFU0939F1",                         // 13
		"27AAPFU0939F1ZV",                       // 15
		"",                                      // 0
		"27AAPFU0939F1-",                        // punctuation
		"27AAPFU0939F1 ",                        // space
		std::string_view("27AAPFU0939F1\0", 14), // embedded NUL
		"27AAPFU0939F1\xC3",                     // non-ASCII byte
	};
	for (std::string_view input : rejected) {
		SCOPED_TRACE(testing::PrintToString(std::string(input)));
		EXPECT_FALSE(GstinCheckCharacter(input).has_value());
	}
}

TEST(GstinCheckCharacter, AgreesWithTheIndependentFormOnRandomPayloads)
{
	// Any 14 characters of [0-9A-Z] (not only GSTIN-shaped ones), so every value meets every weight.
	std::mt19937 rng(20261124);
	std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
	for (int n = 0; n < 20000; ++n) {
		std::string payload;
		for (int i = 0; i < 14; ++i)
			payload.push_back(kAlphabet[pick(rng)]);
		SCOPED_TRACE(payload);
		ASSERT_EQ(GstinCheckCharacter(payload), std::optional<char>(IndependentCheckCharacter(payload)));
	}
}

TEST(GstinCheckCharacter, DetectsEverySingleCharacterSubstitution)
{
	// Luhn mod 36 detects every single-character error: the fold 2v -> 2v / 36 + 2v % 36 is a
	// permutation of 0..35. Exhaustive over positions and replacements for a few payloads.
	for (std::string_view base : {"27AAPFU0939F1Z", "07AAACI1681G1Z", "38AAALS7119L1Z", "00000000000000"}) {
		std::optional<char> original = GstinCheckCharacter(base);
		ASSERT_TRUE(original.has_value());
		for (std::size_t pos = 0; pos < 14; ++pos) {
			for (char c : kAlphabet) {
				if (c == base[pos])
					continue;
				std::string changed(base);
				changed[pos] = c;
				SCOPED_TRACE(changed);
				EXPECT_NE(GstinCheckCharacter(changed), original);
			}
		}
	}
}

// ---- normalisation ------------------------------------------------------------------------

TEST(CheckGstin, TrimsAsciiWhitespaceAndUpperCases)
{
	struct Case {
		std::string_view input;
		GstinFault fault;
		const char *normalized;
	};
	const Case cases[] = {
		{"27aapfu0939f1zv", GstinFault::kValid, "27AAPFU0939F1ZV"},
		{"27AaPfU0939f1Zv", GstinFault::kValid, "27AAPFU0939F1ZV"},
		{"  27AAPFU0939F1ZV", GstinFault::kValid, "27AAPFU0939F1ZV"},
		{"27AAPFU0939F1ZV  ", GstinFault::kValid, "27AAPFU0939F1ZV"},
		{" \t\n\r\f\v27aagcg4576jbzw\v\f\r\n\t ", GstinFault::kValid, "27AAGCG4576JBZW"},
		// Lower case is normalised before the check: 'o' is the wrong check character 'O'.
		{"27aapfu0939f1zo", GstinFault::kBadCheckCharacter, "27AAPFU0939F1ZO"},
		// Inner whitespace is not removed.
		{"27AAPFU 0939F1ZV", GstinFault::kBadLength, ""},
		{"27AAPFU0939 1ZV", GstinFault::kBadFormat, "27AAPFU0939 1ZV"},
		// Only ASCII whitespace is trimmed: a no-break space (U+00A0, two bytes) stays, and any
		// non-ASCII byte is a character of the wrong kind, whatever the byte length.
		{"\xC2\xA0"
	     "27AAPFU0939F1ZV",
	     GstinFault::kBadFormat, ""},
		// Non-ASCII letters are not upper-cased into ASCII ones.
		{"27AAPFU0939F1Z\xC3\xBD", GstinFault::kBadFormat, ""},
		{"   ", GstinFault::kBadLength, ""},
		{"\t\n", GstinFault::kBadLength, ""},
		// An embedded NUL counts as a character (string_view, not a C string).
		{std::string_view("27AAPFU0939F1ZV\0", 16), GstinFault::kBadLength, ""},
		{std::string_view("27AAPFU0939F1Z\0", 15), GstinFault::kBadFormat, nullptr},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(testing::PrintToString(std::string(c.input)));
		GstinCheck check = CheckGstin(c.input);
		EXPECT_EQ(check.fault, c.fault) << FaultName(check.fault);
		if (c.normalized != nullptr) {
			EXPECT_EQ(check.normalized, c.normalized);
		} else {
			EXPECT_EQ(check.normalized, std::string(c.input));
		}
		if (c.fault == GstinFault::kValid) {
			EXPECT_EQ(check.state_code, 27);
		}
	}
}

// ---- properties ---------------------------------------------------------------------------

// A random well-shaped 14-character prefix with a GSTIN State code and a non-zero entity number.
std::string
RandomPrefix(std::mt19937 &rng)
{
	static const std::string kEntities = "123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	std::vector<int> codes;
	for (int code = 1; code <= 38; ++code)
		codes.push_back(code);
	codes.push_back(97);
	auto any = [&rng](std::string_view from) {
		return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
	};
	int code = codes[std::uniform_int_distribution<std::size_t>(0, codes.size() - 1)(rng)];
	std::string prefix;
	prefix.push_back(static_cast<char>('0' + code / 10));
	prefix.push_back(static_cast<char>('0' + code % 10));
	for (int i = 0; i < 5; ++i)
		prefix.push_back(any(kLetters));
	for (int i = 0; i < 4; ++i)
		prefix.push_back(any(kDigits));
	prefix.push_back(any(kLetters));
	prefix.push_back(any(kEntities));
	prefix.push_back('Z');
	return prefix;
}

TEST(CheckGstinProperty, ExactlyTheComputedCheckCharacterIsAccepted)
{
	std::mt19937 rng(42);
	for (int n = 0; n < 2000; ++n) {
		std::string prefix = RandomPrefix(rng);
		SCOPED_TRACE(prefix);
		char expected = IndependentCheckCharacter(prefix);
		ASSERT_EQ(GstinCheckCharacter(prefix), std::optional<char>(expected));
		int state_code = std::stoi(prefix.substr(0, 2));
		for (char c : kAlphabet) {
			std::string gstin = prefix + c;
			GstinCheck check = CheckGstin(gstin);
			if (c == expected) {
				ASSERT_EQ(check.fault, GstinFault::kValid) << gstin << " " << FaultName(check.fault);
			} else {
				ASSERT_EQ(check.fault, GstinFault::kBadCheckCharacter) << gstin << " " << FaultName(check.fault);
				ASSERT_EQ(CheckGstin(gstin, false).fault, GstinFault::kValid) << gstin;
			}
			ASSERT_EQ(check.state_code, state_code) << gstin;
			ASSERT_EQ(check.expected_check, expected) << gstin;
			ASSERT_EQ(check.normalized, gstin);
		}
	}
}

// Checks one input against the oracle: never throws, valid exactly when the oracle says so, and a
// valid result carries the oracle's normalised form and State.
void
ExpectAgreesWithOracle(std::string_view input)
{
	for (bool verify : {true, false}) {
		GstinCheck check;
		ASSERT_NO_THROW(check = CheckGstin(input, verify)) << testing::PrintToString(std::string(input));
		std::optional<std::string> oracle = IndependentlyValid(input, verify);
		ASSERT_EQ(check.fault == GstinFault::kValid, oracle.has_value())
			<< testing::PrintToString(std::string(input)) << " verify=" << verify << " " << FaultName(check.fault);
		if (oracle) {
			ASSERT_EQ(check.normalized, *oracle);
			ASSERT_EQ(check.state_code, std::stoi(oracle->substr(0, 2)));
		}
		// normalized is set exactly when the trimmed input is 15 ASCII characters.
		std::string_view trimmed = input;
		auto ascii_space = [](char ch) { return static_cast<unsigned char>(ch) < 0x80 && std::isspace(static_cast<unsigned char>(ch)); };
		while (!trimmed.empty() && ascii_space(trimmed.front()))
			trimmed.remove_prefix(1);
		while (!trimmed.empty() && ascii_space(trimmed.back()))
			trimmed.remove_suffix(1);
		bool ascii = std::all_of(trimmed.begin(), trimmed.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
		if (ascii && trimmed.size() == 15) {
			ASSERT_EQ(check.normalized.size(), 15u);
		} else {
			ASSERT_TRUE(check.normalized.empty());
			ASSERT_TRUE(check.fault == GstinFault::kBadLength || check.fault == GstinFault::kBadFormat);
		}
		ASSERT_NE(GstinFaultMessage(check.fault), nullptr);
	}
}

TEST(CheckGstinProperty, RandomBytesNeverThrowAndAreNeverValidUnlessWellFormed)
{
	std::mt19937 rng(7);
	std::uniform_int_distribution<int> length(0, 40);
	std::uniform_int_distribution<int> byte(0, 255);
	for (int n = 0; n < 20000; ++n) {
		std::string input;
		int len = length(rng);
		for (int i = 0; i < len; ++i)
			input.push_back(static_cast<char>(byte(rng))); // NULs included
		ExpectAgreesWithOracle(input);
	}
	// The same from the GSTIN alphabet, lower case and whitespace: valid outcomes are possible here.
	const std::string pool = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZaz Z\t";
	std::uniform_int_distribution<std::size_t> from_pool(0, pool.size() - 1);
	std::uniform_int_distribution<int> near15(13, 18);
	for (int n = 0; n < 20000; ++n) {
		std::string input;
		int len = near15(rng);
		for (int i = 0; i < len; ++i)
			input.push_back(pool[from_pool(rng)]);
		ExpectAgreesWithOracle(input);
	}
}

TEST(CheckGstinProperty, MutatedValidGstinsAgreeWithTheOracle)
{
	// Small edits of valid GSTINs land on both sides of every rule, so the comparison is not
	// dominated by length failures as with random bytes.
	std::mt19937 rng(1234);
	std::uniform_int_distribution<int> byte(0, 255);
	static const char kInteresting[] = "0123456789AZaz \t\n\0-\xC2\xA0"; // NUL included
	const std::string interesting(kInteresting, sizeof kInteresting - 1);
	std::uniform_int_distribution<std::size_t> pick_interesting(0, interesting.size() - 1);
	int accepted = 0;
	for (int n = 0; n < 20000; ++n) {
		std::string gstin = RandomPrefix(rng);
		gstin.push_back(IndependentCheckCharacter(gstin));
		int edits = std::uniform_int_distribution<int>(0, 3)(rng);
		for (int e = 0; e < edits; ++e) {
			char c = (n % 2 == 0) ? interesting[pick_interesting(rng)] : static_cast<char>(byte(rng));
			std::size_t at = std::uniform_int_distribution<std::size_t>(0, gstin.size())(rng);
			switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
			case 0: // replace
				if (at < gstin.size())
					gstin[at] = c;
				break;
			case 1: // insert
				gstin.insert(gstin.begin() + static_cast<std::ptrdiff_t>(at), c);
				break;
			case 2: // delete
				if (at < gstin.size())
					gstin.erase(at, 1);
				break;
			default: // lower-case one character
				if (at < gstin.size() && gstin[at] >= 'A' && gstin[at] <= 'Z')
					gstin[at] = static_cast<char>(gstin[at] - 'A' + 'a');
				break;
			}
		}
		ExpectAgreesWithOracle(gstin);
		if (CheckGstin(gstin).fault == GstinFault::kValid)
			++accepted;
	}
	// Both outcomes occurred (the edits are not all no-ops, nor all fatal).
	EXPECT_GT(accepted, 1000);
	EXPECT_LT(accepted, 19000);
}

// ---- fault messages -----------------------------------------------------------------------

TEST(GstinFaultMessage, EveryFaultHasItsOwnMessage)
{
	const GstinFault faults[] = {GstinFault::kValid,           GstinFault::kBadLength,
	                             GstinFault::kBadFormat,       GstinFault::kUnknownState,
	                             GstinFault::kBadEntityNumber, GstinFault::kBadCheckCharacter};
	std::set<std::string> messages;
	for (GstinFault fault : faults) {
		const char *message = GstinFaultMessage(fault);
		ASSERT_NE(message, nullptr);
		EXPECT_FALSE(std::string(message).empty());
		messages.insert(message);
	}
	EXPECT_EQ(messages.size(), std::size(faults));
	EXPECT_NE(std::string(GstinFaultMessage(GstinFault::kBadLength)).find("15"), std::string::npos);
	EXPECT_NE(std::string(GstinFaultMessage(GstinFault::kUnknownState)).find("97"), std::string::npos);
}

// ---- §1.6 State / UT table ----------------------------------------------------------------

struct ExpectedState {
	int code;
	const char *name; // §1.6, with "&" written "and"
	IntraStateLevy levy;
	bool gstin_prefix;
};

constexpr IntraStateLevy S = IntraStateLevy::kSgst;
constexpr IntraStateLevy U = IntraStateLevy::kUtgst;
constexpr IntraStateLevy N = IntraStateLevy::kNone;

// Transcribed from §1.6. 96 (Other Countries: IGST on exports) and 99 (Centre Jurisdiction) are never
// an intra-State place of supply and never start a GSTIN.
const std::vector<ExpectedState> kExpectedStates = {
	{1, "Jammu and Kashmir", S, true},
	{2, "Himachal Pradesh", S, true},
	{3, "Punjab", S, true},
	{4, "Chandigarh", U, true},
	{5, "Uttarakhand", S, true},
	{6, "Haryana", S, true},
	{7, "Delhi", S, true},
	{8, "Rajasthan", S, true},
	{9, "Uttar Pradesh", S, true},
	{10, "Bihar", S, true},
	{11, "Sikkim", S, true},
	{12, "Arunachal Pradesh", S, true},
	{13, "Nagaland", S, true},
	{14, "Manipur", S, true},
	{15, "Mizoram", S, true},
	{16, "Tripura", S, true},
	{17, "Meghalaya", S, true},
	{18, "Assam", S, true},
	{19, "West Bengal", S, true},
	{20, "Jharkhand", S, true},
	{21, "Odisha", S, true},
	{22, "Chhattisgarh", S, true},
	{23, "Madhya Pradesh", S, true},
	{24, "Gujarat", S, true},
	{25, "Daman and Diu", U, true},
	{26, "Dadra and Nagar Haveli and Daman and Diu", U, true},
	{27, "Maharashtra", S, true},
	{28, "Andhra Pradesh (before division)", S, true},
	{29, "Karnataka", S, true},
	{30, "Goa", S, true},
	{31, "Lakshadweep", U, true},
	{32, "Kerala", S, true},
	{33, "Tamil Nadu", S, true},
	{34, "Puducherry", S, true},
	{35, "Andaman and Nicobar Islands", U, true},
	{36, "Telangana", S, true},
	{37, "Andhra Pradesh", S, true},
	{38, "Ladakh", U, true},
	{96, "Other Countries", N, false},
	{97, "Other Territory", U, true},
	{99, "Centre Jurisdiction", N, false},
};

TEST(GstStates, MatchesTheReferenceTableExactly)
{
	std::size_t count = 0;
	const GstState *states = GstStates(&count);
	ASSERT_NE(states, nullptr);
	ASSERT_EQ(count, kExpectedStates.size());
	for (std::size_t i = 0; i < count; ++i) {
		const ExpectedState &want = kExpectedStates[i];
		SCOPED_TRACE(want.code);
		EXPECT_EQ(states[i].code, want.code);
		EXPECT_STREQ(states[i].name, want.name);
		EXPECT_EQ(states[i].levy, want.levy);
		EXPECT_EQ(states[i].gstin_prefix, want.gstin_prefix);
		EXPECT_EQ(FindGstState(want.code), &states[i]);
	}
}

TEST(GstStates, CodesAreUniqueAndSorted)
{
	std::size_t count = 0;
	const GstState *states = GstStates(&count);
	ASSERT_GT(count, 0u);
	for (std::size_t i = 1; i < count; ++i)
		EXPECT_LT(states[i - 1].code, states[i].code) << "at index " << i;
	for (std::size_t i = 0; i < count; ++i) {
		EXPECT_GE(states[i].code, 1);
		EXPECT_LE(states[i].code, 99);
	}
}

TEST(GstStates, GstinPrefixesAreZeroOneToThirtyEightAndNinetySeven)
{
	std::size_t count = 0;
	const GstState *states = GstStates(&count);
	std::set<int> prefixes;
	for (std::size_t i = 0; i < count; ++i)
		if (states[i].gstin_prefix)
			prefixes.insert(states[i].code);
	std::set<int> expected;
	for (int code = 1; code <= 38; ++code)
		expected.insert(code);
	expected.insert(97);
	EXPECT_EQ(prefixes, expected);
	EXPECT_EQ(prefixes.size(), 39u);
}

TEST(GstStates, LeviesOfNamedCodes)
{
	for (int code : {4, 25, 26, 31, 35, 38, 97}) {
		SCOPED_TRACE(code);
		ASSERT_NE(FindGstState(code), nullptr);
		EXPECT_EQ(FindGstState(code)->levy, IntraStateLevy::kUtgst);
	}
	// UTs with a legislature levy SGST (§1.6).
	for (int code : {7, 34, 1}) {
		SCOPED_TRACE(code);
		ASSERT_NE(FindGstState(code), nullptr);
		EXPECT_EQ(FindGstState(code)->levy, IntraStateLevy::kSgst);
	}
	for (int code : {96, 99}) {
		SCOPED_TRACE(code);
		ASSERT_NE(FindGstState(code), nullptr);
		EXPECT_FALSE(FindGstState(code)->gstin_prefix);
		EXPECT_EQ(FindGstState(code)->levy, IntraStateLevy::kNone);
	}
}

TEST(GstStates, UnknownCodesAreNotFound)
{
	for (int code : {0, 39, 40, 95, 98, 100, -1, -29, 129}) {
		SCOPED_TRACE(code);
		EXPECT_EQ(FindGstState(code), nullptr);
	}
}

// =============================================================================================
// Tax computation
// =============================================================================================

// "399.00" -> 3990000 Amount4; "2,50,000.01" (Indian grouping) and "-0.05" too. A test-local reader
// of rupee literals with exactly two decimals, so the tables read like the references. Anything
// else is a typo in a table and fails the test.
Amount4
Rs(std::string_view text)
{
	bool negative = !text.empty() && text.front() == '-';
	if (negative)
		text.remove_prefix(1);
	std::size_t dot = text.find('.');
	if (dot == std::string_view::npos || text.size() - dot != 3 || dot == 0) {
		ADD_FAILURE() << "bad rupee literal " << text;
		return 0;
	}
	Amount4 paise = 0;
	for (char c : text) {
		if (c == ',' || c == '.')
			continue;
		if (c < '0' || c > '9') {
			ADD_FAILURE() << "bad rupee literal " << text;
			return 0;
		}
		paise = paise * 10 + (c - '0');
	}
	return (negative ? -paise : paise) * 100;
}

const char *
Name(GstFault fault)
{
	switch (fault) {
	case GstFault::kOk:
		return "kOk";
	case GstFault::kBadCurrency:
		return "kBadCurrency";
	case GstFault::kUnknownSupplierState:
		return "kUnknownSupplierState";
	case GstFault::kUnknownPlaceOfSupply:
		return "kUnknownPlaceOfSupply";
	case GstFault::kBadSac:
		return "kBadSac";
	case GstFault::kUnknownSac:
		return "kUnknownSac";
	case GstFault::kBadRate:
		return "kBadRate";
	case GstFault::kNotPaise:
		return "kNotPaise";
	case GstFault::kOutOfRange:
		return "kOutOfRange";
	case GstFault::kMixedLevies:
		return "kMixedLevies";
	}
	return "?";
}

const char *
Name(TaxRegime regime)
{
	switch (regime) {
	case TaxRegime::kNoTax:
		return "kNoTax";
	case TaxRegime::kCgstSgst:
		return "kCgstSgst";
	case TaxRegime::kCgstUtgst:
		return "kCgstUtgst";
	case TaxRegime::kIgst:
		return "kIgst";
	}
	return "?";
}

TEST(RsHelper, ReadsRupeeLiterals)
{
	// The helper itself, against values written as integers.
	EXPECT_EQ(Rs("399.00"), 3990000);
	EXPECT_EQ(Rs("0.05"), 500);
	EXPECT_EQ(Rs("-448.50"), -4485000);
	EXPECT_EQ(Rs("2,50,000.01"), 2500000100);
}

// ---- tax regime ---------------------------------------------------------------------------------

struct RegimeCase {
	const char *why;
	int supplier;
	int place_of_supply;
	bool tax_exempt;
	const char *currency;
	GstFault fault;
	TaxRegime regime;
};

TEST(DetermineTaxRegime, BySupplierStateAndPlaceOfSupply)
{
	constexpr GstFault ok = GstFault::kOk;
	constexpr TaxRegime none = TaxRegime::kNoTax;
	constexpr TaxRegime sgst = TaxRegime::kCgstSgst;
	constexpr TaxRegime utgst = TaxRegime::kCgstUtgst;
	constexpr TaxRegime igst = TaxRegime::kIgst;
	const RegimeCase cases[] = {
		{"T17: Karnataka supplier, Karnataka customer", 29, 29, false, "INR", ok, sgst},
		{"T17: Karnataka supplier, Maharashtra customer", 29, 27, false, "INR", ok, igst},
		{"Maharashtra to Karnataka", 27, 29, false, "INR", ok, igst},
		{"Delhi has a legislature: SGST", 7, 7, false, "INR", ok, sgst},
		{"Puducherry has a legislature: SGST", 34, 34, false, "INR", ok, sgst},
		{"Jammu and Kashmir has a legislature: SGST", 1, 1, false, "INR", ok, sgst},
		{"Chandigarh: UTGST", 4, 4, false, "INR", ok, utgst},
		{"Ladakh: UTGST", 38, 38, false, "INR", ok, utgst},
		{"Dadra and Nagar Haveli and Daman and Diu: UTGST", 26, 26, false, "INR", ok, utgst},
		{"Lakshadweep: UTGST", 31, 31, false, "INR", ok, utgst},
		{"Andaman and Nicobar: UTGST", 35, 35, false, "INR", ok, utgst},
		{"Other Territory: UTGST", 97, 97, false, "INR", ok, utgst},
		{"legacy Daman and Diu: UTGST", 25, 25, false, "INR", ok, utgst},
		{"Chandigarh to Ladakh is inter-State (§1.2)", 4, 38, false, "INR", ok, igst},
		{"Karnataka to Delhi", 29, 7, false, "INR", ok, igst},
		{"Karnataka to the legacy undivided Andhra code 28 is inter-State", 29, 28, false, "INR", ok, igst},
		{"Telangana to Andhra Pradesh", 36, 37, false, "INR", ok, igst},
		{"export (place of supply 96): IGST", 29, 96, false, "INR", ok, igst},
		{"tax-exempt recipient", 29, 29, true, "INR", ok, none},
		{"tax-exempt, inter-State", 29, 27, true, "INR", ok, none},
		{"tax-exempt: State codes not consulted", 0, 0, true, "INR", ok, none},
		{"USD supply: no GST (PRODUCT §4)", 29, 29, false, "USD", ok, none},
		{"EUR supply to a foreign customer without a State", 29, 0, false, "EUR", ok, none},
		{"place of supply 99 (Centre Jurisdiction)", 29, 99, false, "INR", GstFault::kUnknownPlaceOfSupply, none},
		{"place of supply 0", 29, 0, false, "INR", GstFault::kUnknownPlaceOfSupply, none},
		{"place of supply 39", 29, 39, false, "INR", GstFault::kUnknownPlaceOfSupply, none},
		{"place of supply 98", 29, 98, false, "INR", GstFault::kUnknownPlaceOfSupply, none},
		{"place of supply -29", 29, -29, false, "INR", GstFault::kUnknownPlaceOfSupply, none},
		{"place of supply 129", 29, 129, false, "INR", GstFault::kUnknownPlaceOfSupply, none},
		{"supplier 96 cannot be registered", 96, 29, false, "INR", GstFault::kUnknownSupplierState, none},
		{"supplier 99", 99, 29, false, "INR", GstFault::kUnknownSupplierState, none},
		{"supplier 0", 0, 29, false, "INR", GstFault::kUnknownSupplierState, none},
		{"supplier 39", 39, 39, false, "INR", GstFault::kUnknownSupplierState, none},
		{"both codes bad: the supplier is reported", 0, 0, false, "INR", GstFault::kUnknownSupplierState, none},
		{"lower-case currency", 29, 29, false, "inr", GstFault::kBadCurrency, none},
		{"bad currency beats exemption", 29, 29, true, "inr", GstFault::kBadCurrency, none},
		{"empty currency", 29, 29, false, "", GstFault::kBadCurrency, none},
		{"two letters", 29, 29, false, "IN", GstFault::kBadCurrency, none},
		{"four letters", 29, 29, false, "INRR", GstFault::kBadCurrency, none},
		{"a digit", 29, 29, false, "IN1", GstFault::kBadCurrency, none},
		{"a space", 29, 29, false, "IN ", GstFault::kBadCurrency, none},
	};
	for (const RegimeCase &c : cases) {
		SCOPED_TRACE(c.why);
		TaxRegimeDecision decision = DetermineTaxRegime(c.supplier, c.place_of_supply, c.tax_exempt, c.currency);
		EXPECT_EQ(decision.fault, c.fault) << Name(decision.fault);
		EXPECT_EQ(decision.regime, c.regime) << Name(decision.regime);
	}
}

TEST(DetermineTaxRegime, EveryPairOfTableCodes)
{
	// Same registration code -> that code's levy; different codes -> IGST; 99 never a place of
	// supply; 96 never a supplier. Checked over the whole §1.6 table (kExpectedStates above).
	for (const ExpectedState &supplier : kExpectedStates) {
		for (const ExpectedState &place : kExpectedStates) {
			SCOPED_TRACE(std::to_string(supplier.code) + " -> " + std::to_string(place.code));
			TaxRegimeDecision decision = DetermineTaxRegime(supplier.code, place.code, false, "INR");
			if (!supplier.gstin_prefix) {
				EXPECT_EQ(decision.fault, GstFault::kUnknownSupplierState);
			} else if (place.code == 99) {
				EXPECT_EQ(decision.fault, GstFault::kUnknownPlaceOfSupply);
			} else if (supplier.code != place.code) {
				EXPECT_EQ(decision.fault, GstFault::kOk);
				EXPECT_EQ(decision.regime, TaxRegime::kIgst);
			} else {
				EXPECT_EQ(decision.fault, GstFault::kOk);
				EXPECT_EQ(decision.regime, place.levy == U ? TaxRegime::kCgstUtgst : TaxRegime::kCgstSgst);
			}
		}
	}
}

// ---- SAC and rates ------------------------------------------------------------------------------

TEST(GstRateForSac, TelecomSacsAreEighteenPercent)
{
	const char *eighteen[] = {
		"9984",                                                           // the heading
		"998411",   "998412",   "998413",   "998414", "998415", "998419", // group 99841
		"998421",   "998422",   "998423",   "998424", "998429",           // group 99842
		"99841300", "99841200", "99842299",                               // 8 digits: their 6-digit group
	};
	for (const char *sac : eighteen) {
		SCOPED_TRACE(sac);
		GstRateLookup lookup = GstRateForSac(sac);
		EXPECT_EQ(lookup.fault, GstFault::kOk) << Name(lookup.fault);
		EXPECT_EQ(lookup.rate_bp, 1800);
	}
	const char *unknown[] = {
		"998431",                       // on-line text content: an e-book is taxed lower (§1.1 item (i))
		"998432", "998439",   "998461", // content, broadcasting: left to explicit rates
		"998416", "998420",   "998410",   "998400", "998499", "9985",     "9983",
		"998511", "99843100", "99841600", "9900",   "990000", "99999999",
	};
	for (const char *sac : unknown) {
		SCOPED_TRACE(sac);
		GstRateLookup lookup = GstRateForSac(sac);
		EXPECT_EQ(lookup.fault, GstFault::kUnknownSac) << Name(lookup.fault);
		EXPECT_EQ(lookup.rate_bp, 0);
	}
	const char *malformed[] = {
		"",        "99",
		"998",     "99841",
		"9984123", "998412345",
		"8984",    "12345678",
		"998a12",  " 998412",
		"998412 ", "9984-12",
		"99 84",   "\xef\xbc\x99\xef\xbc\x99\xef\xbc\x98\xef\xbc\x94", // full-width digits
	};
	for (const char *sac : malformed) {
		SCOPED_TRACE(sac);
		EXPECT_EQ(GstRateForSac(sac).fault, GstFault::kBadSac);
		EXPECT_FALSE(IsWellFormedSac(sac));
	}
}

TEST(IsWellFormedSac, AgreesWithTheSqlDomainRegex)
{
	// The balatrix.sac domain: '^99[0-9]{2}([0-9]{2}){0,2}$'.
	static const std::regex kDomain("^99[0-9]{2}([0-9]{2}){0,2}$");
	std::mt19937 rng(99);
	const std::string pool = "0123456789989a -";
	std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
	std::uniform_int_distribution<int> length(0, 10);
	int accepted = 0;
	for (int n = 0; n < 50000; ++n) {
		std::string sac = (n % 2 == 0) ? "99" : "";
		int len = length(rng);
		for (int i = 0; i < len; ++i)
			sac.push_back(pool[pick(rng)]);
		bool expected = std::regex_match(sac, kDomain);
		ASSERT_EQ(IsWellFormedSac(sac), expected) << sac;
		accepted += expected ? 1 : 0;
	}
	EXPECT_GT(accepted, 100); // both outcomes occurred
}

TEST(CheckGstRate, ZeroToFortyPercent)
{
	EXPECT_EQ(CheckGstRate(0), GstFault::kOk);
	EXPECT_EQ(CheckGstRate(1), GstFault::kOk);
	EXPECT_EQ(CheckGstRate(500), GstFault::kOk);
	EXPECT_EQ(CheckGstRate(1800), GstFault::kOk);
	EXPECT_EQ(CheckGstRate(4000), GstFault::kOk); // invoice_lines.gst_rate BETWEEN 0 AND 40
	EXPECT_EQ(CheckGstRate(4001), GstFault::kBadRate);
	EXPECT_EQ(CheckGstRate(-1), GstFault::kBadRate);
	EXPECT_EQ(CheckGstRate(std::numeric_limits<std::int32_t>::max()), GstFault::kBadRate);
	EXPECT_EQ(CheckGstRate(std::numeric_limits<std::int32_t>::min()), GstFault::kBadRate);
}

// ---- per-line tax -------------------------------------------------------------------------------

struct LineTaxCase {
	const char *why;
	const char *taxable;
	std::int32_t rate_bp;
	const char *half; // CGST and SGST / UTGST of an intra-State line
	const char *igst; // IGST of an inter-State line
};

// gst-payments.md §1.9 and seed-original.md §10, each head rounded half-up to paise on its own.
const LineTaxCase kLineTaxCases[] = {
	{"§1.9 399.00: 35.91 each, IGST 71.82", "399.00", 1800, "35.91", "71.82"},
	{"§1.9 999.00 (T2)", "999.00", 1800, "89.91", "179.82"},
	{"§1.9 123.45: 11.1105 -> 11.11, 22.221 -> 22.22", "123.45", 1800, "11.11", "22.22"},
	{"§1.9 1.00", "1.00", 1800, "0.09", "0.18"},
	{"§1.9 0.05: 0.0045 -> 0.00, but 0.009 -> 0.01", "0.05", 1800, "0.00", "0.01"},
	{"§1.9 2500.00", "2500.00", 1800, "225.00", "450.00"},
	{"T13 1000.00: 90.00 each, IGST 180.00", "1000.00", 1800, "90.00", "180.00"},
	{"T14 448.50: 40.365 -> 40.37 each, IGST 80.73 exactly", "448.50", 1800, "40.37", "80.73"},
	{"T17 Starter 349.00: 31.41 each, IGST 62.82", "349.00", 1800, "31.41", "62.82"},
	{"T3 Call Center 4999.00", "4999.00", 1800, "449.91", "899.82"},
	{"T8 quarterly Starter 1047.00: 94.23 each, IGST 188.46", "1047.00", 1800, "94.23", "188.46"},
	{"T15 overage 99.50: 8.955 -> 8.96 each, IGST 17.91 exactly", "99.50", 1800, "8.96", "17.91"},
	{"zero", "0.00", 1800, "0.00", "0.00"},
	{"one paisa: 0.0009 / 0.0018", "0.01", 1800, "0.00", "0.00"},
	{"three paise: 0.0027 -> 0.00, 0.0054 -> 0.01", "0.03", 1800, "0.00", "0.01"},
	{"credit -448.50: symmetric, -40.365 -> -40.37", "-448.50", 1800, "-40.37", "-80.73"},
	{"credit -0.05: -0.0045 -> 0.00, -0.009 -> -0.01", "-0.05", 1800, "0.00", "-0.01"},
	{"credit -174.50 (T24 unused part)", "-174.50", 1800, "-15.71", "-31.41"},
	{"5 %: 2.5 % of 123.45 = 3.08625 -> 3.09; 6.1725 -> 6.17", "123.45", 500, "3.09", "6.17"},
	{"28 %: 14 % of 999 = 139.86", "999.00", 2800, "139.86", "279.72"},
	{"40 % on 0.05: 0.01 each, 0.02", "0.05", 4000, "0.01", "0.02"},
	{"0.01 %: 0.005 % of 2500 = 0.125 -> 0.13 (an exact half rounds up)", "2500.00", 1, "0.13", "0.25"},
	{"one rounding: 0.005 % of 99.00 = 0.00495 -> 0.00, where 0.0050 -> 0.01 would be two; IGST 0.0099", "99.00", 1,
     "0.00", "0.01"},
	{"0 %", "2500.00", 0, "0.00", "0.00"},
	{"the largest invoice amount: 9 % of 999999999999.99 = 89999999999.9991", "999,999,999,999.99", 1800,
     "90,000,000,000.00", "180,000,000,000.00"},
	{"the most negative", "-999,999,999,999.99", 1800, "-90,000,000,000.00", "-180,000,000,000.00"},
};

TEST(ComputeLineTax, EachHeadRoundedToPaiseOnItsOwn)
{
	for (const LineTaxCase &c : kLineTaxCases) {
		SCOPED_TRACE(c.why);
		const Amount4 taxable = Rs(c.taxable);

		LineTax intra = ComputeLineTax(taxable, c.rate_bp, TaxRegime::kCgstSgst);
		EXPECT_EQ(intra.fault, GstFault::kOk) << Name(intra.fault);
		EXPECT_EQ(intra.tax.cgst, Rs(c.half));
		EXPECT_EQ(intra.tax.sgst, Rs(c.half));
		EXPECT_EQ(intra.tax.utgst, 0);
		EXPECT_EQ(intra.tax.igst, 0);
		EXPECT_EQ(intra.tax.Total(), 2 * Rs(c.half));

		LineTax ut = ComputeLineTax(taxable, c.rate_bp, TaxRegime::kCgstUtgst);
		EXPECT_EQ(ut.fault, GstFault::kOk) << Name(ut.fault);
		EXPECT_EQ(ut.tax.cgst, Rs(c.half));
		EXPECT_EQ(ut.tax.utgst, Rs(c.half));
		EXPECT_EQ(ut.tax.sgst, 0);
		EXPECT_EQ(ut.tax.igst, 0);

		LineTax inter = ComputeLineTax(taxable, c.rate_bp, TaxRegime::kIgst);
		EXPECT_EQ(inter.fault, GstFault::kOk) << Name(inter.fault);
		EXPECT_EQ(inter.tax.igst, Rs(c.igst));
		EXPECT_EQ(inter.tax.cgst, 0);
		EXPECT_EQ(inter.tax.sgst, 0);
		EXPECT_EQ(inter.tax.utgst, 0);
		EXPECT_EQ(inter.tax.Total(), Rs(c.igst));

		LineTax none = ComputeLineTax(taxable, c.rate_bp, TaxRegime::kNoTax);
		EXPECT_EQ(none.fault, GstFault::kOk);
		EXPECT_EQ(none.tax.Total(), 0);

		// A credit is the exact negation of the charge.
		LineTax negated = ComputeLineTax(-taxable, c.rate_bp, TaxRegime::kCgstSgst);
		EXPECT_EQ(negated.tax.cgst, -intra.tax.cgst);
		EXPECT_EQ(negated.tax.sgst, -intra.tax.sgst);
		EXPECT_EQ(ComputeLineTax(-taxable, c.rate_bp, TaxRegime::kIgst).tax.igst, -inter.tax.igst);
	}
}

TEST(ComputeLineTax, T14TotalTaxIsTheSumOfTheRoundedHeads)
{
	// seed-original.md T14: the original rounded CGST and SGST to 40.37 each but reported the total
	// tax as round(40.365 + 40.365) = 80.73, so the printed heads did not add up to the printed total.
	// Here (PRODUCT §4, §3.6 of the seed) the total is the sum of the rounded heads: 80.74. The
	// inter-State IGST is 80.73 because 18 % of 448.50 is exactly 80.73: a one-paisa difference between
	// the regimes that the per-head rounding rule implies, and that the tests pin.
	LineTax intra = ComputeLineTax(Rs("448.50"), 1800, TaxRegime::kCgstSgst);
	ASSERT_EQ(intra.fault, GstFault::kOk);
	EXPECT_EQ(intra.tax.cgst, Rs("40.37"));
	EXPECT_EQ(intra.tax.sgst, Rs("40.37"));
	EXPECT_EQ(intra.tax.Total(), Rs("80.74"));
	EXPECT_NE(intra.tax.Total(), Rs("80.73"));
	EXPECT_EQ(ComputeLineTax(Rs("448.50"), 1800, TaxRegime::kIgst).tax.Total(), Rs("80.73"));
}

TEST(ComputeLineTax, Faults)
{
	struct Case {
		const char *why;
		Amount4 taxable;
		std::int32_t rate_bp;
		TaxRegime regime;
		GstFault fault;
	};
	const Case cases[] = {
		{"rate above 40 %", Rs("100.00"), 4001, TaxRegime::kIgst, GstFault::kBadRate},
		{"negative rate", Rs("100.00"), -1, TaxRegime::kCgstSgst, GstFault::kBadRate},
		{"the rate is checked without tax too", Rs("100.00"), 5000, TaxRegime::kNoTax, GstFault::kBadRate},
		{"taxable not rounded to paise (1.2345)", 12345, 1800, TaxRegime::kIgst, GstFault::kNotPaise},
		{"one unit below a paisa", 4485001, 1800, TaxRegime::kCgstSgst, GstFault::kNotPaise},
		{"negative, not paise", -1, 1800, TaxRegime::kCgstSgst, GstFault::kNotPaise},
		{"not paise, without tax", 1, 1800, TaxRegime::kNoTax, GstFault::kNotPaise},
		{"one paisa above the invoice range", kMaxInvoiceAmount4 + 100, 1800, TaxRegime::kIgst, GstFault::kOutOfRange},
		{"one paisa below it", -kMaxInvoiceAmount4 - 100, 1800, TaxRegime::kIgst, GstFault::kOutOfRange},
		{"int64 max", std::numeric_limits<Amount4>::max(), 1800, TaxRegime::kCgstSgst, GstFault::kOutOfRange},
		{"int64 min", std::numeric_limits<Amount4>::min(), 1800, TaxRegime::kIgst, GstFault::kOutOfRange},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.why);
		LineTax tax;
		ASSERT_NO_THROW(tax = ComputeLineTax(c.taxable, c.rate_bp, c.regime));
		EXPECT_EQ(tax.fault, c.fault) << Name(tax.fault);
		EXPECT_EQ(tax.tax.Total(), 0);
		EXPECT_EQ(tax.tax.cgst, 0);
		EXPECT_EQ(tax.tax.igst, 0);
	}
}

// ---- invoice totals -----------------------------------------------------------------------------

TaxedLine
Intra(const char *taxable, const char *half)
{
	TaxedLine line;
	line.taxable = Rs(taxable);
	line.tax.cgst = Rs(half);
	line.tax.sgst = Rs(half);
	return line;
}

TaxedLine
Inter(const char *taxable, const char *igst)
{
	TaxedLine line;
	line.taxable = Rs(taxable);
	line.tax.igst = Rs(igst);
	return line;
}

TaxedLine
Untaxed(const char *taxable)
{
	TaxedLine line;
	line.taxable = Rs(taxable);
	return line;
}

struct TotalsCase {
	const char *why;
	std::vector<TaxedLine> lines;
	bool round_to_rupee;
	const char *taxable;
	const char *cgst;
	const char *sgst;
	const char *igst;
	const char *round_off;
	const char *total;
};

TEST(SumInvoiceLines, SumsOfLinesWithOptionalRoundOff)
{
	const TotalsCase cases[] = {
		// §1.9: the total rounded to the rupee (s.170 style) with a round-off.
		{"§1.9 399 intra, 470.82 -> 471",
	     {Intra("399.00", "35.91")},
	     true,
	     "399.00",
	     "35.91",
	     "35.91",
	     "0.00",
	     "0.18",
	     "471.00"},
		{"§1.9 399 inter", {Inter("399.00", "71.82")}, true, "399.00", "0.00", "0.00", "71.82", "0.18", "471.00"},
		{"§1.9 999 intra, 1178.82 -> 1179",
	     {Intra("999.00", "89.91")},
	     true,
	     "999.00",
	     "89.91",
	     "89.91",
	     "0.00",
	     "0.18",
	     "1,179.00"},
		{"§1.9 123.45 intra, 145.67 -> 146",
	     {Intra("123.45", "11.11")},
	     true,
	     "123.45",
	     "11.11",
	     "11.11",
	     "0.00",
	     "0.33",
	     "146.00"},
		{"§1.9 123.45 inter", {Inter("123.45", "22.22")}, true, "123.45", "0.00", "0.00", "22.22", "0.33", "146.00"},
		{"§1.9 1.00 intra, 1.18 -> 1 (round-off negative)",
	     {Intra("1.00", "0.09")},
	     true,
	     "1.00",
	     "0.09",
	     "0.09",
	     "0.00",
	     "-0.18",
	     "1.00"},
		// §1.9 lists 0.05 / 0.06 unrounded; with rounding on, s.170 takes both to 0.
		{"§1.9 0.05 intra, 0.05 -> 0", {Intra("0.05", "0.00")}, true, "0.05", "0.00", "0.00", "0.00", "-0.05", "0.00"},
		{"§1.9 0.05 inter, 0.06 -> 0", {Inter("0.05", "0.01")}, true, "0.05", "0.00", "0.00", "0.01", "-0.06", "0.00"},
		{"§1.9 2500 intra: already whole",
	     {Intra("2500.00", "225.00")},
	     true,
	     "2500.00",
	     "225.00",
	     "225.00",
	     "0.00",
	     "0.00",
	     "2950.00"},
		// The same without rounding: round_off 0, totals to the paisa.
		{"§1.9 399 intra unrounded",
	     {Intra("399.00", "35.91")},
	     false,
	     "399.00",
	     "35.91",
	     "35.91",
	     "0.00",
	     "0.00",
	     "470.82"},
		{"§1.9 0.05 intra unrounded", {Intra("0.05", "0.00")}, false, "0.05", "0.00", "0.00", "0.00", "0.00", "0.05"},
		{"§1.9 0.05 inter unrounded", {Inter("0.05", "0.01")}, false, "0.05", "0.00", "0.00", "0.01", "0.00", "0.06"},
		// Round-off at the half: 50 paise go up (+0.50), 49 go down (-0.49); negatives mirror.
		{"100.50 -> 101", {Untaxed("100.50")}, true, "100.50", "0.00", "0.00", "0.00", "0.50", "101.00"},
		{"100.49 -> 100", {Untaxed("100.49")}, true, "100.49", "0.00", "0.00", "0.00", "-0.49", "100.00"},
		{"-100.50 -> -101", {Untaxed("-100.50")}, true, "-100.50", "0.00", "0.00", "0.00", "-0.50", "-101.00"},
		{"-100.49 -> -100", {Untaxed("-100.49")}, true, "-100.49", "0.00", "0.00", "0.00", "0.49", "-100.00"},
		// T15: Starter 349 + overage 50 min × 1.99 = 99.50, each line taxed on its own.
		{"T15 inter: IGST 62.82 + 17.91 = 80.73, total 529.23",
	     {Inter("349.00", "62.82"), Inter("99.50", "17.91")},
	     false,
	     "448.50",
	     "0.00",
	     "0.00",
	     "80.73",
	     "0.00",
	     "529.23"},
		{"T15 intra: CGST = SGST = 31.41 + 8.96 = 40.37, tax 80.74, total 529.24",
	     {Intra("349.00", "31.41"), Intra("99.50", "8.96")},
	     false,
	     "448.50",
	     "40.37",
	     "40.37",
	     "0.00",
	     "0.00",
	     "529.24"},
		{"T15 intra rounded: 529.24 -> 529",
	     {Intra("349.00", "31.41"), Intra("99.50", "8.96")},
	     true,
	     "448.50",
	     "40.37",
	     "40.37",
	     "0.00",
	     "-0.24",
	     "529.00"},
		// A credit line (a downgrade's unused part) nets against the charge.
		{"charge and credit",
	     {Inter("349.00", "62.82"), Inter("-174.50", "-31.41")},
	     false,
	     "174.50",
	     "0.00",
	     "0.00",
	     "31.41",
	     "0.00",
	     "205.91"},
		{"more credit than charge: negative total, not judged here",
	     {Inter("-349.00", "-62.82")},
	     false,
	     "-349.00",
	     "0.00",
	     "0.00",
	     "-62.82",
	     "0.00",
	     "-411.82"},
		{"an untaxed line mixes with taxed ones",
	     {Untaxed("10.00"), Intra("100.00", "9.00")},
	     false,
	     "110.00",
	     "9.00",
	     "9.00",
	     "0.00",
	     "0.00",
	     "128.00"},
		{"no lines", {}, true, "0.00", "0.00", "0.00", "0.00", "0.00", "0.00"},
		{"the largest total",
	     {Untaxed("999,999,999,999.99")},
	     false,
	     "999,999,999,999.99",
	     "0.00",
	     "0.00",
	     "0.00",
	     "0.00",
	     "999,999,999,999.99"},
	};
	for (const TotalsCase &c : cases) {
		SCOPED_TRACE(c.why);
		InvoiceTotalsResult result = SumInvoiceLines(c.lines, c.round_to_rupee);
		ASSERT_EQ(result.fault, GstFault::kOk) << Name(result.fault);
		const InvoiceTotals &t = result.totals;
		EXPECT_EQ(t.taxable, Rs(c.taxable));
		EXPECT_EQ(t.heads.cgst, Rs(c.cgst));
		EXPECT_EQ(t.heads.sgst, Rs(c.sgst));
		EXPECT_EQ(t.heads.utgst, 0);
		EXPECT_EQ(t.heads.igst, Rs(c.igst));
		EXPECT_EQ(t.tax, Rs(c.cgst) + Rs(c.sgst) + Rs(c.igst));
		EXPECT_EQ(t.round_off, Rs(c.round_off));
		EXPECT_EQ(t.total, Rs(c.total));
		// The invoices_total_sum CHECK.
		EXPECT_EQ(t.total, t.taxable + t.tax + t.round_off);
		EXPECT_LE(t.round_off, Rs("0.50"));
		EXPECT_GE(t.round_off, Rs("-0.50"));
	}
}

TEST(SumInvoiceLines, UtgstHeadsAreSummedToo)
{
	TaxedLine a;
	a.taxable = Rs("349.00");
	a.tax.cgst = Rs("31.41");
	a.tax.utgst = Rs("31.41");
	TaxedLine b;
	b.taxable = Rs("99.50");
	b.tax.cgst = Rs("8.96");
	b.tax.utgst = Rs("8.96");
	InvoiceTotalsResult result = SumInvoiceLines({a, b}, false);
	ASSERT_EQ(result.fault, GstFault::kOk);
	EXPECT_EQ(result.totals.heads.cgst, Rs("40.37"));
	EXPECT_EQ(result.totals.heads.utgst, Rs("40.37"));
	EXPECT_EQ(result.totals.heads.sgst, 0);
	EXPECT_EQ(result.totals.tax, Rs("80.74"));
	EXPECT_EQ(result.totals.total, Rs("529.24"));
}

TEST(SumInvoiceLines, Faults)
{
	TaxedLine utgst_line;
	utgst_line.taxable = Rs("100.00");
	utgst_line.tax.cgst = Rs("9.00");
	utgst_line.tax.utgst = Rs("9.00");
	TaxedLine sub_paisa = Untaxed("1.00");
	sub_paisa.taxable += 1;
	TaxedLine sub_paisa_head = Inter("1.00", "0.18");
	sub_paisa_head.tax.igst += 50;
	TaxedLine huge_tax = Untaxed("1.00");
	huge_tax.tax.igst = kMaxInvoiceAmount4 + 100;
	struct Case {
		const char *why;
		std::vector<TaxedLine> lines;
		GstFault fault;
		std::size_t line;
	};
	const Case cases[] = {
		{"IGST with CGST + SGST",
	     {Inter("1.00", "0.18"), Untaxed("5.00"), Intra("1.00", "0.09")},
	     GstFault::kMixedLevies,
	     2},
		{"CGST + SGST with IGST", {Intra("1.00", "0.09"), Inter("1.00", "0.18")}, GstFault::kMixedLevies, 1},
		{"SGST with UTGST", {Intra("100.00", "9.00"), utgst_line}, GstFault::kMixedLevies, 1},
		{"taxable not in paise", {Untaxed("1.00"), sub_paisa}, GstFault::kNotPaise, 1},
		{"head not in paise", {sub_paisa_head}, GstFault::kNotPaise, 0},
		{"a line beyond the range",
	     {Untaxed("1.00"), Untaxed("1.00"), Untaxed("1,000,000,000,000.00")},
	     GstFault::kOutOfRange,
	     2},
		{"a head beyond the range", {huge_tax}, GstFault::kOutOfRange, 0},
		{"the running taxable sum leaves the range",
	     {Untaxed("999,999,999,999.99"), Untaxed("0.01")},
	     GstFault::kOutOfRange,
	     1},
		{"taxable + tax leaves the range", {Inter("999,999,999,999.99", "0.01")}, GstFault::kOutOfRange, 0},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.why);
		InvoiceTotalsResult result = SumInvoiceLines(c.lines, true);
		EXPECT_EQ(result.fault, c.fault) << Name(result.fault);
		EXPECT_EQ(result.line, c.line);
		EXPECT_EQ(result.totals.total, 0);
		EXPECT_EQ(result.totals.taxable, 0);
	}
}

TEST(SumInvoiceLines, PerLineRoundingAgainstTheTaxOfTheTotal)
{
	// Ten lines of 0.05, intra-State: each head of each line is 0.0045 -> 0.00, so the invoice
	// carries no tax although 9 % of the taxable total 0.50 is 0.045 -> 0.05. Per-line rounding is the
	// rule (PRODUCT §4: each line carries its own tax; totals are sums of lines).
	std::vector<TaxedLine> lines;
	for (int i = 0; i < 10; ++i) {
		LineTax tax = ComputeLineTax(Rs("0.05"), 1800, TaxRegime::kCgstSgst);
		ASSERT_EQ(tax.fault, GstFault::kOk);
		lines.push_back(TaxedLine{Rs("0.05"), tax.tax});
	}
	InvoiceTotalsResult result = SumInvoiceLines(lines, false);
	ASSERT_EQ(result.fault, GstFault::kOk);
	EXPECT_EQ(result.totals.taxable, Rs("0.50"));
	EXPECT_EQ(result.totals.tax, 0);
	EXPECT_EQ(result.totals.total, Rs("0.50"));
}

// ---- fault messages and codes ---------------------------------------------------------------------

TEST(GstFaultMessage, EveryFaultHasItsOwnMessageAndCode)
{
	const GstFault faults[] = {
		GstFault::kOk,
		GstFault::kBadCurrency,
		GstFault::kUnknownSupplierState,
		GstFault::kUnknownPlaceOfSupply,
		GstFault::kBadSac,
		GstFault::kUnknownSac,
		GstFault::kBadRate,
		GstFault::kNotPaise,
		GstFault::kOutOfRange,
		GstFault::kMixedLevies,
	};
	std::set<std::string> messages;
	for (GstFault fault : faults) {
		SCOPED_TRACE(Name(fault));
		const char *message = GstFaultMessage(fault);
		ASSERT_NE(message, nullptr);
		EXPECT_FALSE(std::string(message).empty());
		messages.insert(message);
		const ErrorCode expected = fault == GstFault::kOk           ? ErrorCode::kInternal
		                           : fault == GstFault::kOutOfRange ? ErrorCode::kOutOfRange
		                                                            : ErrorCode::kInvalidParameter;
		EXPECT_EQ(GstFaultErrorCode(fault), expected);
	}
	EXPECT_EQ(messages.size(), std::size(faults));
}

// ---- B2B / B2C and GSTR-1 -----------------------------------------------------------------------

TEST(ClassifyRecipient, ValidGstinIsB2b)
{
	EXPECT_EQ(ClassifyRecipient("29AAACI1681G1ZL"), RecipientKind::kB2b);     // Indian Oil, Karnataka (§1.5)
	EXPECT_EQ(ClassifyRecipient("  27aapfu0939f1zv\t"), RecipientKind::kB2b); // normalised as CheckGstin does
	EXPECT_EQ(ClassifyRecipient(""), RecipientKind::kB2c);
	EXPECT_EQ(ClassifyRecipient("   "), RecipientKind::kB2c);
	EXPECT_EQ(ClassifyRecipient("not a gstin"), RecipientKind::kB2c);
	EXPECT_EQ(ClassifyRecipient("29AAACI1681G1Z"), RecipientKind::kB2c); // 14 characters
	// Wrong check character (L is right): B2C when verified, B2B for sandbox GSTINs.
	EXPECT_EQ(ClassifyRecipient("29AAACI1681G1ZM"), RecipientKind::kB2c);
	EXPECT_EQ(ClassifyRecipient("29AAACI1681G1ZM", false), RecipientKind::kB2b);
}

TEST(B2cLargeThreshold, LoweredOnTheFirstOfAugust2024)
{
	// gst-payments.md §1.8: ₹1 lakh from 1-Aug-2024 (Notification 12/2024-CT), ₹2.5 lakh before.
	EXPECT_EQ(B2cLargeThreshold(*Date::FromYmd(2024, 7, 31)), Rs("2,50,000.00"));
	EXPECT_EQ(B2cLargeThreshold(*Date::FromYmd(2024, 8, 1)), Rs("1,00,000.00"));
	EXPECT_EQ(B2cLargeThreshold(*Date::FromYmd(2017, 7, 1)), Rs("2,50,000.00"));
	EXPECT_EQ(B2cLargeThreshold(*Date::FromYmd(2023, 12, 31)), Rs("2,50,000.00"));
	EXPECT_EQ(B2cLargeThreshold(*Date::FromYmd(2025, 1, 1)), Rs("1,00,000.00"));
	EXPECT_EQ(B2cLargeThreshold(*Date::FromYmd(2026, 3, 31)), Rs("1,00,000.00"));
}

TEST(ClassifyGstr1, SectionOfAnInvoice)
{
	constexpr RecipientKind B2B = RecipientKind::kB2b;
	constexpr RecipientKind B2C = RecipientKind::kB2c;
	const Date before = *Date::FromYmd(2024, 7, 31);
	const Date after = *Date::FromYmd(2024, 8, 1);
	struct Case {
		const char *why;
		RecipientKind recipient;
		TaxRegime regime;
		int pos;
		const char *value;
		Date date;
		Gstr1Section section;
	};
	const Case cases[] = {
		{"B2B intra", B2B, TaxRegime::kCgstSgst, 29, "411.82", after, Gstr1Section::kB2b},
		{"B2B inter, large", B2B, TaxRegime::kIgst, 27, "5,00,000.00", after, Gstr1Section::kB2b},
		{"B2C inter, old threshold, exactly 2.5 lakh: not more", B2C, TaxRegime::kIgst, 27, "2,50,000.00", before,
	     Gstr1Section::kB2cs},
		{"B2C inter, old threshold, one paisa more", B2C, TaxRegime::kIgst, 27, "2,50,000.01", before,
	     Gstr1Section::kB2cl},
		{"B2C inter, 2 lakh before August 2024", B2C, TaxRegime::kIgst, 27, "2,00,000.00", before, Gstr1Section::kB2cs},
		{"B2C inter, 2 lakh from August 2024", B2C, TaxRegime::kIgst, 27, "2,00,000.00", after, Gstr1Section::kB2cl},
		{"B2C inter, exactly 1 lakh: not more", B2C, TaxRegime::kIgst, 27, "1,00,000.00", after, Gstr1Section::kB2cs},
		{"B2C inter, 1 lakh and a paisa", B2C, TaxRegime::kIgst, 27, "1,00,000.01", after, Gstr1Section::kB2cl},
		{"B2C inter, small", B2C, TaxRegime::kIgst, 27, "411.82", after, Gstr1Section::kB2cs},
		{"B2C intra, large: b2cs whatever the value", B2C, TaxRegime::kCgstSgst, 29, "50,00,000.00", after,
	     Gstr1Section::kB2cs},
		{"B2C intra UTGST, large", B2C, TaxRegime::kCgstUtgst, 4, "50,00,000.00", after, Gstr1Section::kB2cs},
		{"export, B2C", B2C, TaxRegime::kIgst, 96, "5,00,000.00", after, Gstr1Section::kExp},
		{"export, B2B", B2B, TaxRegime::kIgst, 96, "100.00", after, Gstr1Section::kExp},
		{"export in foreign currency", B2C, TaxRegime::kNoTax, 96, "100.00", after, Gstr1Section::kExp},
		{"tax-exempt B2B", B2B, TaxRegime::kNoTax, 29, "100.00", after, Gstr1Section::kNil},
		{"tax-exempt B2C inter, large", B2C, TaxRegime::kNoTax, 27, "5,00,000.00", after, Gstr1Section::kNil},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.why);
		EXPECT_EQ(ClassifyGstr1(c.recipient, c.regime, c.pos, Rs(c.value), c.date), c.section)
			<< Gstr1SectionName(ClassifyGstr1(c.recipient, c.regime, c.pos, Rs(c.value), c.date));
	}
	EXPECT_STREQ(Gstr1SectionName(Gstr1Section::kB2b), "b2b");
	EXPECT_STREQ(Gstr1SectionName(Gstr1Section::kB2cl), "b2cl");
	EXPECT_STREQ(Gstr1SectionName(Gstr1Section::kB2cs), "b2cs");
	EXPECT_STREQ(Gstr1SectionName(Gstr1Section::kExp), "exp");
	EXPECT_STREQ(Gstr1SectionName(Gstr1Section::kNil), "nil");
}

} // namespace
} // namespace balatrix::core
