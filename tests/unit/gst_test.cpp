/*
 * Unit tests: GSTIN validation and the GST State / UT table (extension/core/src/gst.cpp).
 *
 * Every expected value below is transcribed from reference/gst-payments.md §1.5 (GSTIN vectors, check
 * character algorithm) and §1.6 (State / UT codes), or computed by the independent oracle in this
 * file (IndependentCheckCharacter / IndependentlyValid), never by the code under test.
 */
#include "balatrix/core/gst.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <iterator>
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

} // namespace
} // namespace balatrix::core
