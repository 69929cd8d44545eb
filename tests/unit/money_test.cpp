/*
 * Unit tests: money as integers (extension/core/src/money.cpp).
 *
 * Every expected value is written out by hand in the tables below (the arithmetic is in the
 * comments), never computed by the code under test.
 */
#include "balatrix/core/money.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>

namespace balatrix::core {
namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

// ---- ParseAmount4 / FormatAmount4 -----------------------------------------------------------

struct ParseCase {
	const char *text;
	Amount4 value;
	const char *formatted; // FormatAmount4(value): the canonical text
};

const ParseCase kParseCases[] = {
	{"1.99", 19900, "1.9900"},
	{"0.0001", 1, "0.0001"},
	{"-5", -50000, "-5.0000"},
	{"1.60", 16000, "1.6000"},
	{"12345.6789", 123456789, "12345.6789"},
	{"7", 70000, "7.0000"},
	{"0.5", 5000, "0.5000"},
	{"+3.10", 31000, "3.1000"},
	{"-12.3456", -123456, "-12.3456"},
	{"-0.0001", -1, "-0.0001"},
	{"-0", 0, "0.0000"},
	{"0", 0, "0.0000"},
	{".5", 5000, "0.5000"}, // PostgreSQL numeric input accepts both
	{"5.", 50000, "5.0000"},
	{"007.0700", 70700, "7.0700"},
	{"0000000000000000000000000001.5", 15000, "1.5000"},                      // leading zeros never overflow
	{"900000000000000", 9000000000000000000, "900000000000000.0000"},         // kMaxAmount4
	{"-900000000000000.0000", -9000000000000000000, "-900000000000000.0000"}, // -kMaxAmount4
	{"899999999999999.9999", 8999999999999999999, "899999999999999.9999"},
};

TEST(ParseAmount4, ParsesExactly)
{
	for (const ParseCase &c : kParseCases) {
		SCOPED_TRACE(c.text);
		EXPECT_EQ(ParseAmount4(c.text), std::optional<Amount4>(c.value));
	}
}

TEST(FormatAmount4, WritesFourDecimals)
{
	for (const ParseCase &c : kParseCases) {
		SCOPED_TRACE(c.text);
		EXPECT_EQ(FormatAmount4(c.value), c.formatted);
		// The canonical text reads back to the same value.
		EXPECT_EQ(ParseAmount4(c.formatted), std::optional<Amount4>(c.value));
	}
}

TEST(FormatAmount4, Int64Extremes)
{
	// INT64_MAX = 9223372036854775807 units of 0.0001; INT64_MIN has no positive counterpart.
	EXPECT_EQ(FormatAmount4(kInt64Max), "922337203685477.5807");
	EXPECT_EQ(FormatAmount4(kInt64Min), "-922337203685477.5808");
	EXPECT_EQ(FormatAmount4(10000), "1.0000");
	EXPECT_EQ(FormatAmount4(-10000), "-1.0000");
	EXPECT_EQ(FormatAmount4(99), "0.0099");
}

TEST(ParseAmount4, Rejects)
{
	struct Reject {
		const char *text;
		const char *why;
	};
	const Reject rejects[] = {
		{"1.23456", "5 decimals"},
		{"1.00000", "5 decimals, even if zeros"},
		{"1e3", "exponent"},
		{"1E3", "exponent"},
		{"1.5e-2", "exponent"},
		{"", "empty"},
		{" 1", "leading space"},
		{"1 ", "trailing space"},
		{" ", "space only"},
		{"1 000", "space as thousands separator"},
		{"1,5", "decimal comma"},
		{"1,000.00", "thousands separator"},
		{"NaN", "not a number"},
		{"nan", "not a number"},
		{"Infinity", "infinity"},
		{"-Infinity", "infinity"},
		{"inf", "infinity"},
		{"-", "sign only"},
		{"+", "sign only"},
		{".", "point only"},
		{"-.", "sign and point only"},
		{"+.", "sign and point only"},
		{"1.2.3", "two points"},
		{"--1", "two signs"},
		{"+-1", "two signs"},
		{"-+1", "two signs"},
		{"1-", "trailing sign"},
		{"0x10", "hexadecimal"},
		{"1_000", "underscore"},
		{"\xd9\xa1", "Arabic-Indic digit one"},
		{"\xe2\x82\xb9"
	     "1.00",
	     "rupee sign"},
		{"1.00 INR", "currency code"},
		{"900000000000000.0001", "kMaxAmount4 + 1 unit"},
		{"900000000000001", "above kMaxAmount4"},
		{"-900000000000000.0001", "below -kMaxAmount4"},
		{"922337203685477.5807", "INT64_MAX units: still beyond the limit"},
		{"99999999999999999999", "20 digits"},
		{"18446744073709551616", "2^64: must not wrap to a small value"},
	};
	for (const Reject &r : rejects) {
		SCOPED_TRACE(std::string(r.text) + " (" + r.why + ")");
		EXPECT_EQ(ParseAmount4(r.text), std::nullopt);
	}
	// An embedded NUL is not the end of the text.
	EXPECT_EQ(ParseAmount4(std::string_view("1\0", 2)), std::nullopt);
}

TEST(ParseAmount4, RoundTripsRandomValues)
{
	std::mt19937_64 random(20250314);
	std::uniform_int_distribution<Amount4> any(-kMaxAmount4, kMaxAmount4);
	std::uniform_int_distribution<Amount4> small(-1000000, 1000000);
	for (int i = 0; i < 20000; ++i) {
		Amount4 value = (i % 2 == 0) ? any(random) : small(random);
		std::string text = FormatAmount4(value);
		ASSERT_EQ(ParseAmount4(text), std::optional<Amount4>(value)) << text;
	}
}

// ---- RoundToPaise ---------------------------------------------------------------------------

TEST(RoundToPaise, HalfAwayFromZero)
{
	struct Case {
		Amount4 amount;
		Amount4 rounded;
	};
	const Case cases[] = {
		{50, 100},   // 0.0050 -> 0.01
		{49, 0},     // 0.0049 -> 0.00
		{-50, -100}, // -0.0050 -> -0.01
		{-49, 0},    // -0.0049 -> 0.00
		{0, 0},
		{100, 100},                // 0.0100 stays
		{149, 100},                // 0.0149 -> 0.01
		{150, 200},                // 0.0150 -> 0.02
		{12345, 12300},            // 1.2345 -> 1.23
		{12350, 12400},            // 1.2350 -> 1.24
		{-12350, -12400},          // -1.2350 -> -1.24
		{-12349, -12300},          // -1.2349 -> -1.23
		{199, 200},                // 0.0199 -> 0.02
		{422167, 422200},          // 42.2167 -> 42.22
		{9999999950, 10000000000}, // 999999.9950 -> 1000000.00
		// INT64_MAX ends in ...07 and INT64_MIN in ...08: both round toward zero, no overflow.
		{kInt64Max, 9223372036854775800},
		{kInt64Min, -9223372036854775800},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.amount);
		EXPECT_EQ(RoundToPaise(c.amount), c.rounded);
	}
}

// ---- MulDivRound ----------------------------------------------------------------------------

TEST(MulDivRound, RoundsHalfAwayFromZero)
{
	struct Case {
		Amount4 numerator;
		std::int64_t multiplier;
		std::int64_t divisor;
		Amount4 result;
	};
	const Case cases[] = {
		{19900, 1, 60, 332},     // ₹1.99/min for 1 s: 19900 / 60 = 331.67 -> 332
		{10000, 253, 60, 42167}, // ₹1/min for 253 s: 2530000 / 60 = 42166.67 -> 42167
		{6000, 30, 60, 3000},    // exact
		{1, 1, 2, 1},            // 0.5 -> 1
		{-1, 1, 2, -1},          // -0.5 -> -1
		{1, -1, 2, -1},
		{-7, 1, 2, -4}, // -3.5 -> -4
		{7, 1, 2, 4},   // 3.5 -> 4
		{1, 1, 3, 0},   // 0.33 -> 0
		{2, 1, 3, 1},   // 0.67 -> 1
		{-2, 1, 3, -1},
		{3, 9, 60, 0},  // 27 / 60 = 0.45 -> 0
		{3, 10, 60, 1}, // 30 / 60 = 0.5 -> 1
		{0, 12345, 7, 0},
		// Products far beyond 64 bits.
		{kInt64Max, kInt64Max, kInt64Max, kInt64Max},
		{9000000000000000000, 3, 4, 6750000000000000000}, // 2.7e19 / 4, exact
		// (2^64 - 2) / 3 = 6148914691236517204 remainder 2: 2/3 >= 1/2 rounds up.
		{kInt64Max, 2, 3, 6148914691236517205},
		{kInt64Min, 1, 2, -4611686018427387904},
		{kInt64Min, -1, 2, 4611686018427387904},
		// 9e18 × 31,622,400 s / 60 would overflow 64 bits in the product; the quotient does too, so
	    // this uses a divisor that brings it back: 9e18 × 31622400 / 31622400.
		{9000000000000000000, 31622400, 31622400, 9000000000000000000},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(std::to_string(c.numerator) + " * " + std::to_string(c.multiplier) + " / " +
		             std::to_string(c.divisor));
		EXPECT_EQ(MulDivRound(c.numerator, c.multiplier, c.divisor), c.result);
	}
}

TEST(MulDivRound, PreconditionViolationsAreBugs)
{
	EXPECT_THROW(MulDivRound(1, 1, 0), std::invalid_argument);
	EXPECT_THROW(MulDivRound(1, 1, -60), std::invalid_argument);
	EXPECT_THROW(MulDivRound(kInt64Max, 2, 1), std::overflow_error);
	EXPECT_THROW(MulDivRound(kInt64Min, -1, 1), std::overflow_error);
}

// ---- RoundToRupee ----------------------------------------------------------------------------

TEST(RoundToRupee, HalfAwayFromZeroAsSection170)
{
	struct Case {
		Amount4 amount;
		Amount4 rounded;
	};
	const Case cases[] = {
		// The examples of reference/gst-payments.md §1.4 (CGST Act s.170).
		{1023000, 1020000},       // 102.30 -> 102
		{2152355000, 2152360000}, // 2,15,235.50 -> 2,15,236
		{714900, 710000},         // 71.49 -> 71
		{715000, 720000},         // 71.50 -> 72
		{-715000, -720000},       // -71.50 -> -72 (symmetric)
		{-714900, -710000},       // -71.49 -> -71
		{4999, 0},                // 0.4999 -> 0
		{5000, 10000},            // 0.5000 -> 1
		{-5000, -10000},          // -0.5000 -> -1
		{0, 0},
		{4708200, 4710000},         // 470.82 -> 471 (§1.9)
		{11800, 10000},             // 1.18 -> 1 (§1.9)
		{kMaxAmount4, kMaxAmount4}, // already whole rupees
		// 922337203685477.4999 is the largest value whose rounded result is an int64.
		{9223372036854774999, 9223372036854770000},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.amount);
		EXPECT_EQ(RoundToRupee(c.amount), c.rounded);
	}
}

TEST(RoundToRupee, ResultsBeyondInt64AreBugs)
{
	// INT64_MAX = 922337203685477.5807 rounds up to ...478.0000, which is not an int64.
	EXPECT_THROW(RoundToRupee(kInt64Max), std::overflow_error);
	EXPECT_THROW(RoundToRupee(kInt64Min), std::overflow_error);
}

// ---- MulDivRoundToPaise ----------------------------------------------------------------------

TEST(MulDivRoundToPaise, RoundsOnceToPaise)
{
	struct Case {
		Amount4 amount;
		std::int64_t multiplier;
		std::int64_t divisor;
		Amount4 result;
	};
	const Case cases[] = {
		{4485000, 900, 10000, 403700},   // 448.50 × 9 % = 40.365 -> 40.37 (T14)
		{-4485000, 900, 10000, -403700}, // a credit rounds symmetrically
		{4485000, 1800, 10000, 807300},  // 448.50 × 18 % = 80.73 exactly
		{1234500, 900, 10000, 111100},   // 123.45 × 9 % = 11.1105 -> 11.11
		{500, 1800, 10000, 100},         // 0.05 × 18 % = 0.009 -> 0.01
		{500, 900, 10000, 0},            // 0.05 × 9 % = 0.0045 -> 0.00
		// 0.0001 × 49.95 = 0.004995: one rounding gives 0.00. RoundToPaise(MulDivRound(...)) would
	    // round to 0.0050 first and then to 0.01.
		{1, 4995, 100, 0},
		{-1, 4995, 100, 0},
		{1, 5000, 100, 100}, // exactly 0.0050 -> 0.01
		{-1, 5000, 100, -100},
		{3490000, 15, 30, 1745000}, // 349 × 15 / 30 = 174.50 (T24)
		{9990000, 10, 31, 3222600}, // 999 × 10 / 31 = 322.2580... -> 322.26 (T25)
		{3490000, 10, 31, 1125800}, // 349 × 10 / 31 = 112.5806... -> 112.58 (T25)
		{3490000, 48, 5, 33504000}, // 349 × 12 × 0.8 = 3350.40 (T38)
		{0, 12345, 7, 0},
		{9000000000000000000, 3, 4, 6750000000000000000}, // product beyond 64 bits
		// INT64_MAX = 922337203685477.5807 -> ...477.58; INT64_MIN likewise toward -...477.58.
		{kInt64Max, 1, 1, 9223372036854775800},
		{kInt64Min, 1, 1, -9223372036854775800},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(std::to_string(c.amount) + " * " + std::to_string(c.multiplier) + " / " +
		             std::to_string(c.divisor));
		EXPECT_EQ(MulDivRoundToPaise(c.amount, c.multiplier, c.divisor), c.result);
	}
}

TEST(MulDivRoundToPaise, PreconditionViolationsAreBugs)
{
	EXPECT_THROW(MulDivRoundToPaise(1, 1, 0), std::invalid_argument);
	EXPECT_THROW(MulDivRoundToPaise(1, 1, -1), std::invalid_argument);
	EXPECT_THROW(MulDivRoundToPaise(kInt64Max, 2, 1), std::overflow_error);
	EXPECT_THROW(MulDivRoundToPaise(kInt64Min, 2, 1), std::overflow_error);
	// -INT64_MIN is not an int64, but rounded to paise it is (…775800): no throw.
	EXPECT_EQ(MulDivRoundToPaise(kInt64Min, -1, 1), 9223372036854775800);
}

} // namespace
} // namespace balatrix::core
