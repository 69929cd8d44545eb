/*
 * Unit tests: rating a call (extension/core/src/rating.cpp) — number normalisation, the rate index,
 * increment rounding, IST time bands, allowance and charges.
 *
 * Expected values are worked out by hand in the comments next to them. Instants are IST wall-clock
 * times converted to Unix seconds with `TZ=Asia/Kolkata date -d '...' +%s` (written out below), never
 * by the code under test. The two oracles (the brute-force prefix map and the per-second pricer at the
 * end) are written from the contract in rating.hpp, not from rating.cpp.
 */
#include "balatrix/core/rating.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace balatrix::core {
namespace {

constexpr std::int64_t kUs = 1000000;

// IST wall-clock instants (Unix seconds, from `TZ=Asia/Kolkata date -d '<time>' +%s`).
constexpr std::int64_t kThu1000 = 1741840200;    // Thursday 2025-03-13 10:00:00 IST
constexpr std::int64_t kFri2058_30 = 1741966110; // Friday   2025-03-14 20:58:30 IST
constexpr std::int64_t kFri2159 = 1741969740;    // Friday   2025-03-14 21:59:00 IST
constexpr std::int64_t kFri2359 = 1741976940;    // Friday   2025-03-14 23:59:00 IST
constexpr std::int64_t kSat0559_30 = 1741998570; // Saturday 2025-03-15 05:59:30 IST
constexpr std::int64_t kMon0559_30 = 1742171370; // Monday   2025-03-17 05:59:30 IST

// Weekday bits: bit 0 = Monday ... bit 6 = Sunday.
constexpr std::uint8_t kMonFri = 0x1F;
constexpr std::uint8_t kFriday = 0x10;
constexpr std::uint8_t kSaturday = 0x20;
constexpr std::uint8_t kEveryDay = 0x7F;

constexpr std::int32_t k0600 = 6 * 3600;
constexpr std::int32_t k0900 = 9 * 3600;
constexpr std::int32_t k2100 = 21 * 3600;
constexpr std::int32_t k2200 = 22 * 3600;

const char *
KindName(NumberKind kind)
{
	switch (kind) {
	case NumberKind::kIndianGeographic:
		return "kIndianGeographic";
	case NumberKind::kIndianMobile:
		return "kIndianMobile";
	case NumberKind::kIndianTollFree:
		return "kIndianTollFree";
	case NumberKind::kInternational:
		return "kInternational";
	}
	return "?";
}

Rate
MakeRate(std::int64_t id, const char *prefix, Amount4 per_minute, std::int32_t initial = 60,
         std::int32_t subsequent = 60)
{
	Rate rate;
	rate.id = id;
	rate.prefix = prefix;
	rate.rate_per_minute = per_minute;
	rate.initial_increment = initial;
	rate.subsequent_increment = subsequent;
	return rate;
}

Rate
Banded(Rate rate, std::uint8_t weekdays, std::int32_t start_second, std::int32_t end_second)
{
	rate.band = TimeBand{weekdays, start_second, end_second};
	return rate;
}

CallToRate
Answered(std::int64_t start_s, std::int64_t billable_ms, std::int64_t allowance_seconds = 0)
{
	CallToRate call;
	call.start_us = start_s * kUs;
	call.billable_ms = billable_ms;
	call.answered = true;
	call.allowance_seconds = allowance_seconds;
	return call;
}

std::vector<std::int64_t>
Ids(const std::vector<const Rate *> &rates)
{
	std::vector<std::int64_t> ids;
	for (const Rate *rate : rates)
		ids.push_back(rate->id);
	return ids;
}

// Prices and asserts success; returns the result.
RatedCall
Price(const CallToRate &call, const std::vector<const Rate *> &rates)
{
	RatedCall rated;
	Status status = PriceCall(call, rates, &rated);
	EXPECT_TRUE(status.ok()) << status.error().message;
	return rated;
}

struct ExpectedSegment {
	std::int64_t rate_id;
	std::int64_t start_us;
	std::int64_t seconds;
	std::int64_t included_seconds;
	Amount4 charge;
};

void
ExpectSegments(const RatedCall &rated, const std::vector<ExpectedSegment> &expected)
{
	ASSERT_EQ(rated.segments.size(), expected.size());
	for (std::size_t i = 0; i < expected.size(); ++i) {
		SCOPED_TRACE("segment " + std::to_string(i));
		EXPECT_EQ(rated.segments[i].rate_id, expected[i].rate_id);
		EXPECT_EQ(rated.segments[i].start_us, expected[i].start_us);
		EXPECT_EQ(rated.segments[i].seconds, expected[i].seconds);
		EXPECT_EQ(rated.segments[i].included_seconds, expected[i].included_seconds);
		EXPECT_EQ(rated.segments[i].charge, expected[i].charge);
	}
}

// ---- NormalizeDestination -------------------------------------------------------------------

struct NumberCase {
	const char *dialled;
	const char *e164;
	NumberKind kind;
};

const NumberCase kNumbers[] = {
	// One mobile number in every accepted form reaches the same digits.
	{"+919876543210", "919876543210", NumberKind::kIndianMobile},
	{"919876543210", "919876543210", NumberKind::kIndianMobile},
	{"09876543210", "919876543210", NumberKind::kIndianMobile},
	{"9876543210", "919876543210", NumberKind::kIndianMobile},
	{"00919876543210", "919876543210", NumberKind::kIndianMobile},
	{"+91 98765 43210", "919876543210", NumberKind::kIndianMobile},
	{"+91-98765-43210", "919876543210", NumberKind::kIndianMobile},
	{"098765 43210", "919876543210", NumberKind::kIndianMobile},
	{"98765.43210", "919876543210", NumberKind::kIndianMobile},
	{"(0)98765 43210", "919876543210", NumberKind::kIndianMobile},
	{"+91 0 98765 43210", "919876543210", NumberKind::kIndianMobile}, // trunk 0 after +91 dropped
	{"6000000000", "916000000000", NumberKind::kIndianMobile},
	{"7012345678", "917012345678", NumberKind::kIndianMobile},
	// Geographic: STD code + subscriber number, 10 digits after the trunk 0.
	{"022 2345 6789", "912223456789", NumberKind::kIndianGeographic}, // Mumbai
	{"011-2345-6789", "911123456789", NumberKind::kIndianGeographic}, // Delhi: NSN starts with 1
	{"+91 11 2345 6789", "911123456789", NumberKind::kIndianGeographic},
	{"911123456789", "911123456789", NumberKind::kIndianGeographic},
	{"2223456789", "912223456789", NumberKind::kIndianGeographic},    // bare 10 digits, starts 2
	{"044 2345 6789", "914423456789", NumberKind::kIndianGeographic}, // Chennai
	{"0532 2345678", "915322345678", NumberKind::kIndianGeographic},  // Prayagraj
	// Bangalore (080) starts with 8 like mobiles: the digits are right, the kind says mobile (the
	// documented limit: the number alone cannot tell them apart).
	{"080 2345 6789", "918023456789", NumberKind::kIndianMobile},
	{"+91 (0)80 2345 6789", "918023456789", NumberKind::kIndianMobile},
	// A bare 10-digit number is Indian: the Berlin number of reference/freeswitch.md §1.11 dialled
	// without + or 00 lands on 91 49...
	{"4930901820", "914930901820", NumberKind::kIndianGeographic},
	// Toll-free 1800 / 1860 with 6 or 7 digits, in every form.
	{"18001234567", "9118001234567", NumberKind::kIndianTollFree},
	{"1800123456", "911800123456", NumberKind::kIndianTollFree},
	{"1800 123 4567", "9118001234567", NumberKind::kIndianTollFree},
	{"1860-500-1234", "9118605001234", NumberKind::kIndianTollFree},
	{"01800123456", "911800123456", NumberKind::kIndianTollFree},
	{"911800123456", "911800123456", NumberKind::kIndianTollFree},
	{"9118001234567", "9118001234567", NumberKind::kIndianTollFree},
	{"+91 1800 123 4567", "9118001234567", NumberKind::kIndianTollFree},
	{"0091 1860 123 456", "911860123456", NumberKind::kIndianTollFree},
	// International: + or 00, then a country code other than 91; 8 to 15 digits in all.
	{"+14155551234", "14155551234", NumberKind::kInternational},
	{"0014155551234", "14155551234", NumberKind::kInternational},
	{"+44 20 7946 0000", "442079460000", NumberKind::kInternational},
	{"+49 30 901820", "4930901820", NumberKind::kInternational},
	{"004930901820", "4930901820", NumberKind::kInternational},
	{"+12345678", "12345678", NumberKind::kInternational},               // 8 digits: shortest
	{"+123456789012345", "123456789012345", NumberKind::kInternational}, // 15 digits: longest
	{"+1 (415) 555-1234", "14155551234", NumberKind::kInternational},
};

TEST(NormalizeDestination, AcceptedForms)
{
	for (const NumberCase &c : kNumbers) {
		SCOPED_TRACE(c.dialled);
		NormalizedNumber number;
		Status status = NormalizeDestination(c.dialled, &number);
		ASSERT_TRUE(status.ok()) << status.error().message;
		EXPECT_EQ(number.e164, c.e164);
		EXPECT_EQ(number.kind, c.kind) << KindName(number.kind) << " instead of " << KindName(c.kind);
	}
}

TEST(NormalizeDestination, Rejects)
{
	struct Reject {
		const char *dialled;
		const char *why;
	};
	const Reject rejects[] = {
		{"", "empty"},
		{"   ", "separators only"},
		{"+", "prefix without a number"},
		{"00", "prefix without a number"},
		{"0", "prefix without a number"},
		{"+91", "prefix without a number"},
		{"abc", "letters"},
		{"98765x43210", "a letter inside"},
		{"9876543210 ext 5", "letters after the number"},
		{"sip:1001@10.0.0.15", "a SIP URI"},
		{"#123#", "USSD"},
		{"*99#", "USSD"},
		{"98765\t43210", "a tab is not a separator"},
		{"\xe0\xa5\xaf\xe0\xa5\xae\xe0\xa5\xad", "Devanagari digits are not ASCII digits"},
		{"100", "short code"},
		{"112", "short code"},
		{"1098", "short code"},
		{"12345", "short code"},
		{"198", "short code"},
		{"987654321", "9 digits"},
		{"1234567890", "bare 10 digits starting 1, not toll-free"},
		{"0123456789", "trunk 0 + 9 digits"},
		{"000123456789", "00, then a country code starting 0"},
		{"+0123456789", "a country code cannot start with 0"},
		{"+1234567", "7 digits"},
		{"+1234567890123456", "16 digits"},
		{"1234567890123456789", "19-digit junk"},
		{"+91 98765 4321", "9-digit Indian number"},
		{"+91 98765 432101", "11-digit Indian number"},
		{"91 98765 43210 1", "13 digits starting 91, not toll-free"},
		{"+91 0000000000", "Indian number starting 0 after the trunk 0"},
		{"9+19876543210", "'+' inside"},
		{"++919876543210", "two '+'"},
		{"+91+9876543210", "'+' inside"},
		{"442079460000", "a foreign number without + or 00: refused, not guessed"},
		{"0000000000", "zeros"},
		{"1800 12345", "toll-free with 5 digits"},
		{"180012345678", "toll-free with 8 digits"},
		{"0 1800 12345678", "toll-free with 8 digits after the trunk 0"},
		{"91987654321", "11 digits starting 91"},
	};
	for (const Reject &r : rejects) {
		SCOPED_TRACE(std::string(r.dialled) + " (" + r.why + ")");
		NormalizedNumber number;
		Status status = NormalizeDestination(r.dialled, &number);
		ASSERT_FALSE(status.ok()) << "accepted as " << number.e164;
		EXPECT_EQ(status.error().code, ErrorCode::kInvalidText);
		EXPECT_NE(status.error().message.find("destination"), std::string::npos) << status.error().message;
	}
	const std::string too_long(65, '9');
	NormalizedNumber number;
	EXPECT_FALSE(NormalizeDestination(too_long, &number).ok());
	EXPECT_FALSE(NormalizeDestination(std::string_view("98765\0"
	                                                   "43210",
	                                                   11),
	                                  &number)
	                 .ok());
}

TEST(NormalizeDestination, ErrorMessagesShowOnlyPrintableAscii)
{
	NormalizedNumber number;
	Status status = NormalizeDestination("98\xff\x01"
	                                     "76",
	                                     &number);
	ASSERT_FALSE(status.ok());
	EXPECT_NE(status.error().message.find("\"98??76\""), std::string::npos) << status.error().message;
}

// ---- RateIndex ------------------------------------------------------------------------------

TEST(RateIndex, LongestPrefixWins)
{
	RateIndex index;
	ASSERT_TRUE(index.Add(1, MakeRate(1, "91", 10000)).ok());
	ASSERT_TRUE(index.Add(1, MakeRate(2, "9198", 8000)).ok());
	ASSERT_TRUE(index.Add(1, MakeRate(3, "919876", 6000)).ok());
	ASSERT_TRUE(index.Add(1, MakeRate(4, "1", 50000)).ok());
	EXPECT_EQ(index.size(), 4u);
	const std::int64_t at = kThu1000 * kUs;

	struct Case {
		const char *number;
		std::vector<std::int64_t> ids;
	};
	const Case cases[] = {
		{"919876543210", {3}},
		{"919812345678", {2}},
		{"911123456789", {1}},
		{"919876", {3}}, // the number equals the prefix
		{"91987", {2}},
		{"9", {}}, // shorter than every prefix starting 9
		{"14155551234", {4}},
		{"442079460000", {}},
		{"", {}},
		{"9198x76543210", {2}}, // the walk stops at the first non-digit
		{"x919876543210", {}},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.number);
		EXPECT_EQ(Ids(index.Match(c.number, at)), c.ids);
	}
}

TEST(RateIndex, EffectiveDatesAndEqualPrefixes)
{
	const std::int64_t jan2024 = 1704047400 * kUs; // 2024-01-01 00:00 IST
	const std::int64_t jan2025 = 1735669800 * kUs; // 2025-01-01 00:00 IST
	const std::int64_t jun2025 = 1748716200 * kUs; // 2025-06-01 00:00 IST
	RateIndex index;
	Rate old_rate = MakeRate(10, "9198", 9000);
	old_rate.effective_from = jan2024;
	Rate current = MakeRate(11, "9198", 8000);
	current.effective_from = jan2025;
	Rate future = MakeRate(12, "9198", 7000);
	future.effective_from = jun2025;
	Rate short_prefix = MakeRate(13, "91", 10000);
	// Added out of order: Match orders by effective_from, latest first.
	ASSERT_TRUE(index.Add(1, future).ok());
	ASSERT_TRUE(index.Add(1, old_rate).ok());
	ASSERT_TRUE(index.Add(1, short_prefix).ok());
	ASSERT_TRUE(index.Add(1, current).ok());

	const std::int64_t mar2025 = kThu1000 * kUs;
	EXPECT_EQ(Ids(index.Match("919812345678", mar2025)), (std::vector<std::int64_t>{11, 10}));
	EXPECT_EQ(Ids(index.Match("919812345678", jun2025)), (std::vector<std::int64_t>{12, 11, 10}));
	EXPECT_EQ(Ids(index.Match("919812345678", jan2025 - 1)), (std::vector<std::int64_t>{10}));
	// Before any 9198 rate: the shorter prefix that is effective (it has no start date).
	EXPECT_EQ(Ids(index.Match("919812345678", jan2024 - 1)), (std::vector<std::int64_t>{13}));

	// PriceCall takes the latest effective_from among the unbanded rates, wherever it is listed.
	RatedCall rated = Price(Answered(kThu1000, 60000), {&old_rate, &current});
	EXPECT_EQ(rated.primary_rate_id, 11);
	EXPECT_EQ(rated.charge, 8000);
	rated = Price(Answered(kThu1000, 60000), {&current, &old_rate});
	EXPECT_EQ(rated.primary_rate_id, 11);
}

TEST(RateIndex, EffectiveToIsExclusive)
{
	const std::int64_t from = 1000 * kUs;
	const std::int64_t to = 2000 * kUs;
	RateIndex index;
	Rate rate = MakeRate(20, "44", 30000);
	rate.effective_from = from;
	rate.effective_to = to;
	ASSERT_TRUE(index.Add(1, rate).ok());
	EXPECT_EQ(Ids(index.Match("442079460000", from - 1)), (std::vector<std::int64_t>{}));
	EXPECT_EQ(Ids(index.Match("442079460000", from)), (std::vector<std::int64_t>{20}));
	EXPECT_EQ(Ids(index.Match("442079460000", to - 1)), (std::vector<std::int64_t>{20}));
	EXPECT_EQ(Ids(index.Match("442079460000", to)), (std::vector<std::int64_t>{}));
}

TEST(RateIndex, DeckPriority)
{
	const std::int64_t at = kThu1000 * kUs;
	RateIndex index;
	// Deck 5 (consulted second) is added first and has the longer prefix.
	ASSERT_TRUE(index.Add(5, MakeRate(31, "919876", 6000)).ok());
	ASSERT_TRUE(index.Add(5, MakeRate(32, "9198", 7000)).ok());
	Rate deck1 = MakeRate(30, "91", 10000);
	deck1.effective_to = at; // expired at `at`
	ASSERT_TRUE(index.Add(1, deck1).ok());
	ASSERT_TRUE(index.Add(1, MakeRate(33, "44", 30000)).ok());
	// Negative priorities sort first too.
	ASSERT_TRUE(index.Add(-3, MakeRate(34, "4420", 25000)).ok());
	// The same prefix in two decks: only the better deck's rates come back.
	ASSERT_TRUE(index.Add(5, MakeRate(35, "44", 40000)).ok());

	// Deck 1's "91" is effective just before `at`: it wins over deck 5's longer prefixes.
	EXPECT_EQ(Ids(index.Match("919876543210", at - 1)), (std::vector<std::int64_t>{30}));
	// At `at` deck 1 has nothing effective for this number: deck 5's longest prefix.
	EXPECT_EQ(Ids(index.Match("919876543210", at)), (std::vector<std::int64_t>{31}));
	EXPECT_EQ(Ids(index.Match("919812345678", at)), (std::vector<std::int64_t>{32}));
	EXPECT_EQ(Ids(index.Match("442079460000", at)), (std::vector<std::int64_t>{34}));
	EXPECT_EQ(Ids(index.Match("441234567890", at)), (std::vector<std::int64_t>{33}));
}

TEST(RateIndex, RefusesInvalidRates)
{
	struct Case {
		const char *why;
		Rate rate;
	};
	std::vector<Case> cases;
	auto with = [](const char *why, auto change) {
		Rate rate = MakeRate(40, "91", 10000);
		change(rate);
		return Case{why, rate};
	};
	cases.push_back(with("empty prefix", [](Rate &r) { r.prefix = ""; }));
	cases.push_back(with("letter in prefix", [](Rate &r) { r.prefix = "91a"; }));
	cases.push_back(with("plus in prefix", [](Rate &r) { r.prefix = "+91"; }));
	cases.push_back(with("space in prefix", [](Rate &r) { r.prefix = "91 98"; }));
	cases.push_back(with("16-digit prefix", [](Rate &r) { r.prefix = "9198765432101234"; }));
	cases.push_back(with("initial 0", [](Rate &r) { r.initial_increment = 0; }));
	cases.push_back(with("initial -60", [](Rate &r) { r.initial_increment = -60; }));
	cases.push_back(with("subsequent 0", [](Rate &r) { r.subsequent_increment = 0; }));
	cases.push_back(with("initial 86401", [](Rate &r) { r.initial_increment = 86401; }));
	cases.push_back(with("subsequent 86401", [](Rate &r) { r.subsequent_increment = 86401; }));
	cases.push_back(with("negative rate", [](Rate &r) { r.rate_per_minute = -1; }));
	cases.push_back(with("rate above max", [](Rate &r) { r.rate_per_minute = kMaxAmount4 + 1; }));
	cases.push_back(with("negative connect fee", [](Rate &r) { r.connect_fee = -1; }));
	cases.push_back(with("negative minimum", [](Rate &r) { r.minimum_charge = -1; }));
	cases.push_back(with("to == from", [](Rate &r) {
		r.effective_from = 5;
		r.effective_to = 5;
	}));
	cases.push_back(with("to < from", [](Rate &r) {
		r.effective_from = 5;
		r.effective_to = 4;
	}));
	cases.push_back(with("band without weekdays", [](Rate &r) { r.band = TimeBand{0, k0900, k2100}; }));
	cases.push_back(with("band with bit 7", [](Rate &r) { r.band = TimeBand{0x81, k0900, k2100}; }));
	cases.push_back(with("band start -1", [](Rate &r) { r.band = TimeBand{kMonFri, -1, k2100}; }));
	cases.push_back(with("band start 86400", [](Rate &r) { r.band = TimeBand{kMonFri, 86400, k2100}; }));
	cases.push_back(with("band end 86401", [](Rate &r) { r.band = TimeBand{kMonFri, k0900, 86401}; }));
	cases.push_back(with("band end -1", [](Rate &r) { r.band = TimeBand{kMonFri, k0900, -1}; }));
	cases.push_back(with("band start == end", [](Rate &r) { r.band = TimeBand{kMonFri, k0900, k0900}; }));

	RateIndex index;
	ASSERT_TRUE(index.Add(1, MakeRate(1, "91", 10000)).ok());
	for (const Case &c : cases) {
		SCOPED_TRACE(c.why);
		Status status = index.Add(1, c.rate);
		ASSERT_FALSE(status.ok());
		EXPECT_EQ(status.error().code, ErrorCode::kInvalidParameter);
		EXPECT_EQ(index.size(), 1u);
		// PriceCall refuses the same rates (the prefix aside, which it does not look at).
		if (c.rate.prefix == "91") {
			RatedCall rated;
			Status priced = PriceCall(Answered(kThu1000, 1000), {&c.rate}, &rated);
			ASSERT_FALSE(priced.ok());
			EXPECT_EQ(priced.error().code, ErrorCode::kInvalidParameter);
		}
	}
	// Only the first rate is there.
	EXPECT_EQ(Ids(index.Match("919876543210", 0)), (std::vector<std::int64_t>{1}));

	// The edges that are valid.
	EXPECT_TRUE(index.Add(1, MakeRate(41, "919876543210123", 1)).ok()); // 15 digits
	EXPECT_TRUE(index.Add(1, MakeRate(42, "92", 0, 86400, 86400)).ok());
	EXPECT_TRUE(index.Add(1, Banded(MakeRate(43, "93", kMaxAmount4), kEveryDay, 0, 86400)).ok());
	EXPECT_TRUE(index.Add(1, Banded(MakeRate(44, "94", 1), 0x40, 86399, 0)).ok());
	EXPECT_EQ(index.size(), 5u);
	EXPECT_EQ(Ids(index.Match("919876543210123", 0)), (std::vector<std::int64_t>{41}));
}

TEST(RateIndex, MovedIndexKeepsItsRates)
{
	RateIndex index;
	ASSERT_TRUE(index.Add(1, MakeRate(1, "91", 10000)).ok());
	RateIndex moved(std::move(index));
	EXPECT_EQ(moved.size(), 1u);
	EXPECT_EQ(Ids(moved.Match("919876543210", 0)), (std::vector<std::int64_t>{1}));
	RateIndex assigned;
	assigned = std::move(moved);
	EXPECT_EQ(Ids(assigned.Match("919876543210", 0)), (std::vector<std::int64_t>{1}));
}

// A 50,000-prefix deck in two priorities with random effective windows, checked against a brute-force
// oracle: every prefix of the number looked up in a hash map, for each priority in order.
TEST(RateIndex, LargeDeckAgreesWithBruteForce)
{
	std::mt19937_64 random(91);
	std::uniform_int_distribution<int> digit(0, 9);
	std::uniform_int_distribution<int> length(2, 8);
	std::uniform_int_distribution<std::int64_t> instant(0, 1000);

	struct OracleRate {
		std::int64_t id, from, to;
	};
	// priority -> prefix -> rates
	std::map<int, std::unordered_map<std::string, std::vector<OracleRate>>> oracle;
	RateIndex index;
	std::vector<std::string> prefixes;
	for (std::int64_t id = 1; id <= 50000; ++id) {
		std::string prefix = (id % 3 == 0) ? "" : "91";
		int n = length(random);
		for (int i = 0; i < n; ++i)
			prefix.push_back(static_cast<char>('0' + digit(random)));
		Rate rate = MakeRate(id, prefix.c_str(), 10000);
		std::int64_t a = instant(random), b = instant(random);
		if (id % 2 == 0 && a != b) {
			rate.effective_from = std::min(a, b);
			rate.effective_to = std::max(a, b);
		}
		int priority = (id % 7 == 0) ? 1 : 2;
		ASSERT_TRUE(index.Add(priority, rate).ok());
		oracle[priority][prefix].push_back({id, rate.effective_from, rate.effective_to});
		prefixes.push_back(prefix);
	}
	ASSERT_EQ(index.size(), 50000u);

	for (int i = 0; i < 50000; ++i) {
		// Half the numbers extend a deck prefix, half are random.
		std::string number = (i % 2 == 0) ? prefixes[static_cast<std::size_t>(i) % prefixes.size()] : "91";
		while (number.size() < 12)
			number.push_back(static_cast<char>('0' + digit(random)));
		std::int64_t at = instant(random);

		std::vector<OracleRate> expected;
		for (const auto &[priority, by_prefix] : oracle) {
			for (std::size_t len = number.size(); len >= 1 && expected.empty(); --len) {
				auto found = by_prefix.find(number.substr(0, len));
				if (found == by_prefix.end())
					continue;
				for (const OracleRate &r : found->second)
					if (r.from <= at && at < r.to)
						expected.push_back(r);
			}
			if (!expected.empty())
				break;
		}
		std::stable_sort(expected.begin(), expected.end(),
		                 [](const OracleRate &x, const OracleRate &y) { return x.from > y.from; });
		std::vector<std::int64_t> expected_ids;
		for (const OracleRate &r : expected)
			expected_ids.push_back(r.id);
		ASSERT_EQ(Ids(index.Match(number, at)), expected_ids) << number << " at " << at;
	}
}

// ---- increments -----------------------------------------------------------------------------

struct IncrementCase {
	std::int32_t initial, subsequent;
	std::int64_t billable_ms;
	std::int64_t billed_seconds;
	Amount4 charge; // at ₹0.60/min (6000): billed × 6000 / 60 = billed × 100
};

TEST(PriceCall, IncrementRounding)
{
	const IncrementCase cases[] = {
		// 60/60
		{60, 60, 1, 60, 6000},
		{60, 60, 60000, 60, 6000}, // exactly one increment: not rounded up
		{60, 60, 60001, 120, 12000},
		{60, 60, 120000, 120, 12000},
		{60, 60, 252245, 300, 30000}, // billmsec of reference/freeswitch.md §1.11 #1
		// 1/1
		{1, 1, 1, 1, 100},
		{1, 1, 1000, 1, 100},
		{1, 1, 1001, 2, 200},
		{1, 1, 252245, 253, 25300}, // 1 + ceil(251245 / 1000) = 1 + 252
		// 30/6
		{30, 6, 1000, 30, 3000},
		{30, 6, 30000, 30, 3000}, // exactly the initial increment
		{30, 6, 30001, 36, 3600},
		{30, 6, 36000, 36, 3600},
		{30, 6, 36001, 42, 4200},
		{30, 6, 252245, 258, 25800}, // 30 + ceil(222245 / 6000) × 6 = 30 + 38 × 6
		// 0 ms: nothing billed
		{60, 60, 0, 0, 0},
		{1, 1, 0, 0, 0},
		{30, 6, 0, 0, 0},
	};
	for (const IncrementCase &c : cases) {
		SCOPED_TRACE(std::to_string(c.initial) + "/" + std::to_string(c.subsequent) + " " +
		             std::to_string(c.billable_ms) + " ms");
		Rate rate = MakeRate(7, "91", 6000, c.initial, c.subsequent);
		RatedCall rated = Price(Answered(kThu1000, c.billable_ms), {&rate});
		EXPECT_EQ(rated.billed_seconds, c.billed_seconds);
		EXPECT_EQ(rated.charge, c.charge);
		EXPECT_EQ(rated.primary_rate_id, 7);
		if (c.billed_seconds > 0) {
			ExpectSegments(rated, {{7, kThu1000 * kUs, c.billed_seconds, 0, c.charge}});
		} else {
			EXPECT_TRUE(rated.segments.empty());
		}
	}
}

TEST(PriceCall, ChargesRoundHalfUpToFourDecimals)
{
	struct Case {
		Amount4 per_minute;
		std::int64_t billable_ms;
		Amount4 charge;
	};
	const Case cases[] = {
		{19900, 1000, 332},     // ₹1.99 × 1 s / 60 = 0.0331666… -> 0.0332
		{19900, 252245, 83912}, // ₹1.99 × 253 s / 60 = 503.47 / 60 = 8.391166… -> 8.3912
		{10000, 252245, 42167}, // ₹1 × 253 / 60 = 4.216666… -> 4.2167
		{3, 10000, 1},          // ₹0.0003 × 10 s / 60 = 0.00005 -> 0.0001 (half up)
		{3, 9000, 0},           // ₹0.0003 × 9 s / 60 = 0.000045 -> 0.0000
		{0, 252245, 0},         // a free destination
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(std::to_string(c.per_minute) + " for " + std::to_string(c.billable_ms) + " ms");
		Rate rate = MakeRate(8, "91", c.per_minute, 1, 1);
		EXPECT_EQ(Price(Answered(kThu1000, c.billable_ms), {&rate}).charge, c.charge);
	}
}

// ---- zero-length, connect fee, minimum charge -----------------------------------------------

TEST(PriceCall, ZeroLengthCalls)
{
	Rate rate = MakeRate(9, "91", 10000);
	rate.connect_fee = 2500;     // ₹0.25
	rate.minimum_charge = 10000; // ₹1.00: there is no charged part, so it does not apply
	Rate unanswered_fee = rate;
	unanswered_fee.id = 10;
	unanswered_fee.charge_unanswered = true;

	struct Case {
		const char *what;
		const Rate *rate;
		bool answered;
		std::int64_t billable_ms;
		Amount4 connect_fee;
	};
	const Case cases[] = {
		{"answered, 0 ms", &rate, true, 0, 2500},
		{"unanswered", &rate, false, 0, 0},
		{"unanswered, charge_unanswered", &unanswered_fee, false, 0, 2500},
		{"answered, 0 ms, charge_unanswered", &unanswered_fee, true, 0, 2500},
		// billable time on an unanswered leg is not billed (the contract: billed 0 seconds)
		{"unanswered with 5000 ms", &rate, false, 5000, 0},
		{"unanswered with 5000 ms, charge_unanswered", &unanswered_fee, false, 5000, 2500},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.what);
		CallToRate call = Answered(kThu1000, c.billable_ms, 600);
		call.answered = c.answered;
		RatedCall rated = Price(call, {c.rate});
		EXPECT_EQ(rated.billed_seconds, 0);
		EXPECT_EQ(rated.included_seconds, 0);
		EXPECT_TRUE(rated.segments.empty());
		EXPECT_EQ(rated.connect_fee, c.connect_fee);
		EXPECT_EQ(rated.charge, c.connect_fee);
		EXPECT_EQ(rated.primary_rate_id, c.rate->id);
	}
}

TEST(PriceCall, ConnectFeeAndMinimumCharge)
{
	struct Case {
		const char *what;
		Amount4 per_minute, connect_fee, minimum_charge;
		std::int64_t billable_ms, allowance_seconds;
		Amount4 connect_fee_charged, charge;
	};
	const Case cases[] = {
		// ₹1.00 60/60, 61 s -> 120 s = 2.00, + 0.15 fee = 2.15
		{"connect fee", 10000, 1500, 0, 61000, 0, 1500, 21500},
		// ₹0.60, 10 s -> 60 s = 0.60 < 1.00 minimum -> 1.00
		{"minimum", 6000, 0, 10000, 10000, 0, 0, 10000},
		// 0.60 + 0.25 fee = 0.85 < 1.00 -> 1.00: the minimum floors the total, fee included
		{"minimum over fee", 6000, 2500, 10000, 10000, 0, 2500, 10000},
		// 120 s: 1.20 + 0.25 = 1.45 > 1.00
		{"above minimum", 6000, 2500, 10000, 120000, 0, 2500, 14500},
		// exactly the minimum: 1.00 = 1.00
		{"equal to minimum", 10000, 0, 10000, 60000, 0, 0, 10000},
		// fully paid by the allowance: the connect fee only, no minimum
		{"allowance pays all", 6000, 2500, 10000, 120000, 120, 2500, 2500},
		// allowance leaves 1 s charged: 0.01 + 0.25 = 0.26 -> the minimum 1.00 applies
		{"allowance leaves a charged part", 6000, 2500, 10000, 120000, 119, 2500, 10000},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.what);
		Rate rate = MakeRate(11, "91", c.per_minute);
		rate.connect_fee = c.connect_fee;
		rate.minimum_charge = c.minimum_charge;
		RatedCall rated = Price(Answered(kThu1000, c.billable_ms, c.allowance_seconds), {&rate});
		EXPECT_EQ(rated.connect_fee, c.connect_fee_charged);
		EXPECT_EQ(rated.charge, c.charge);
	}
}

// ---- time bands -----------------------------------------------------------------------------

// Peak ₹1.00 09:00-21:00 IST Monday-Friday, off-peak ₹0.50 unbanded, both 60/60.
struct PeakOffPeak {
	Rate peak = Banded(MakeRate(100, "91", 10000), kMonFri, k0900, k2100);
	Rate off_peak = MakeRate(101, "91", 5000);
	std::vector<const Rate *>
	rates() const
	{
		return {&peak, &off_peak};
	}
};

TEST(PriceCall, CallCrossingTheEndOfPeak)
{
	PeakOffPeak deck;
	// Friday 20:58:30 IST, 180 s: 90 s peak to 21:00:00 (1.50), 90 s off-peak (0.75) = 2.25.
	RatedCall rated = Price(Answered(kFri2058_30, 180000), deck.rates());
	EXPECT_EQ(rated.billed_seconds, 180);
	EXPECT_EQ(rated.primary_rate_id, 100);
	EXPECT_EQ(rated.charge, 22500);
	ExpectSegments(rated, {{100, kFri2058_30 * kUs, 90, 0, 15000}, {101, (kFri2058_30 + 90) * kUs, 90, 0, 7500}});

	// The same call billed 179.5 s of talk: still 180 s on 60/60.
	EXPECT_EQ(Price(Answered(kFri2058_30, 179500), deck.rates()).charge, 22500);

	// Called in the other order: the banded rate still wins inside its band.
	RatedCall reversed = Price(Answered(kFri2058_30, 180000), {&deck.off_peak, &deck.peak});
	EXPECT_EQ(reversed.charge, 22500);
}

TEST(PriceCall, BandBoundaryInsideASecondMovesToTheNextSecondOfTheCall)
{
	PeakOffPeak deck;
	// Answered at 20:58:30.400: 21:00:00 is 89.6 s in, so seconds 0-89 start before 21:00 (peak)
	// and second 90 starts at 21:00:00.400 (off-peak): 90 / 90 as above, 2.25.
	CallToRate late = Answered(kFri2058_30, 180000);
	late.start_us += 400000;
	RatedCall rated = Price(late, deck.rates());
	ExpectSegments(rated, {{100, kFri2058_30 * kUs + 400000, 90, 0, 15000},
	                       {101, (kFri2058_30 + 90) * kUs + 400000, 90, 0, 7500}});

	// Answered at 20:58:29.600: 21:00:00 is 90.4 s in, so seconds 0-90 are peak (91 s) and 89 s are
	// off-peak: 91 × 1.00 / 60 = 1.516666… -> 1.5167; 89 × 0.50 / 60 = 0.741666… -> 0.7417; 2.2584.
	CallToRate early = Answered(kFri2058_30, 180000);
	early.start_us -= 400000;
	rated = Price(early, deck.rates());
	EXPECT_EQ(rated.charge, 22584);
	ExpectSegments(rated, {{100, kFri2058_30 * kUs - 400000, 91, 0, 15167},
	                       {101, (kFri2058_30 + 91) * kUs - 400000, 89, 0, 7417}});
}

TEST(PriceCall, PrimaryRateDecidesTheIncrements)
{
	PeakOffPeak deck;
	deck.off_peak.initial_increment = 1;
	deck.off_peak.subsequent_increment = 1;
	// Starts at 20:59:30 in peak (60/60): 61 s -> 120 s; 30 s peak (0.50) + 90 s off-peak (0.75).
	RatedCall rated = Price(Answered(kFri2058_30 + 60, 61000), deck.rates());
	EXPECT_EQ(rated.billed_seconds, 120);
	EXPECT_EQ(rated.charge, 12500);
	ExpectSegments(rated, {{100, (kFri2058_30 + 60) * kUs, 30, 0, 5000}, {101, (kFri2058_30 + 90) * kUs, 90, 0, 7500}});
	// Starts at 21:00:00 off-peak (1/1): 61 s at 0.50 = 30.5 / 60 = 0.508333… -> 0.5083.
	rated = Price(Answered(kFri2058_30 + 90, 61000), deck.rates());
	EXPECT_EQ(rated.billed_seconds, 61);
	EXPECT_EQ(rated.primary_rate_id, 101);
	EXPECT_EQ(rated.charge, 5083);
}

TEST(PriceCall, CallCrossingMidnightIntoAWeekdayOutsideTheBand)
{
	// Weekday rate ₹1.00 all day (0-86400) Monday-Friday, weekend ₹0.50 unbanded, 1/1.
	Rate weekday = Banded(MakeRate(110, "91", 10000, 1, 1), kMonFri, 0, 86400);
	Rate weekend = MakeRate(111, "91", 5000, 1, 1);
	// Friday 23:59:00 IST, 180 s: 60 s Friday (1.00), 120 s Saturday (1.00) = 2.00.
	RatedCall rated = Price(Answered(kFri2359, 180000), {&weekday, &weekend});
	EXPECT_EQ(rated.charge, 20000);
	ExpectSegments(rated, {{110, kFri2359 * kUs, 60, 0, 10000}, {111, (kFri2359 + 60) * kUs, 120, 0, 10000}});
}

TEST(PriceCall, BandWrappingPastMidnight)
{
	// Night ₹0.20 22:00-06:00, day ₹1.00 unbanded, 1/1.
	Rate day = MakeRate(121, "91", 10000, 1, 1);
	struct Case {
		const char *what;
		std::uint8_t weekdays;
		std::int64_t start_s;
		std::int64_t billable_ms;
		std::vector<ExpectedSegment> segments;
		Amount4 charge;
	};
	const Case cases[] = {
		// Saturday 05:59:30, 120 s: 30 s night (30 × 0.20 / 60 = 0.10), 90 s day (1.50) = 1.60.
		{"every day, morning",
	     kEveryDay,
	     kSat0559_30,
	     120000,
	     {{120, kSat0559_30 * kUs, 30, 0, 1000}, {121, (kSat0559_30 + 30) * kUs, 90, 0, 15000}},
	     16000},
		// A Friday-only window runs Friday 22:00 to Saturday 06:00: same split.
		{"Friday window, Saturday morning",
	     kFriday,
	     kSat0559_30,
	     120000,
	     {{120, kSat0559_30 * kUs, 30, 0, 1000}, {121, (kSat0559_30 + 30) * kUs, 90, 0, 15000}},
	     16000},
		// A Saturday-only window opens Saturday 22:00: Saturday 05:59:30 belongs to Friday's window.
		{"Saturday window, Saturday morning",
	     kSaturday,
	     kSat0559_30,
	     120000,
	     {{121, kSat0559_30 * kUs, 120, 0, 20000}},
	     20000},
		// Friday 21:59:00, 120 s: 60 s day (1.00), 60 s night (0.20) = 1.20.
		{"Friday window, Friday evening",
	     kFriday,
	     kFri2159,
	     120000,
	     {{121, kFri2159 * kUs, 60, 0, 10000}, {120, (kFri2159 + 60) * kUs, 60, 0, 2000}},
	     12000},
		// Friday 23:59:00, 180 s: night all the way across midnight into Saturday (0.60).
		{"Friday window, across midnight", kFriday, kFri2359, 180000, {{120, kFri2359 * kUs, 180, 0, 6000}}, 6000},
		// Monday 05:59:30 belongs to Sunday's window, which a Monday-Friday band does not open.
		{"Monday-Friday window, Monday morning",
	     kMonFri,
	     kMon0559_30,
	     120000,
	     {{121, kMon0559_30 * kUs, 120, 0, 20000}},
	     20000},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.what);
		Rate night = Banded(MakeRate(120, "91", 2000, 1, 1), c.weekdays, k2200, k0600);
		RatedCall rated = Price(Answered(c.start_s, c.billable_ms), {&night, &day});
		EXPECT_EQ(rated.charge, c.charge);
		ExpectSegments(rated, c.segments);
	}
}

TEST(PriceCall, LatestBandedRateWinsWhereBandsOverlap)
{
	Rate day = MakeRate(130, "91", 10000, 1, 1);
	Rate old_peak = Banded(MakeRate(131, "91", 20000, 1, 1), kEveryDay, k0900, k2100);
	old_peak.effective_from = 0;
	Rate new_peak = Banded(MakeRate(132, "91", 15000, 1, 1), kFriday, k0900, k2200);
	new_peak.effective_from = 1;
	// Friday 20:58:30, 180 s on 1/1, 1.50 until 22:00: all 180 s at new_peak = 4.50.
	RatedCall rated = Price(Answered(kFri2058_30, 180000), {&old_peak, &day, &new_peak});
	ExpectSegments(rated, {{132, kFri2058_30 * kUs, 180, 0, 45000}});
	// Thursday 10:00: only old_peak covers it: 60 s = 2.00.
	rated = Price(Answered(kThu1000, 60000), {&old_peak, &day, &new_peak});
	ExpectSegments(rated, {{131, kThu1000 * kUs, 60, 0, 20000}});
}

TEST(PriceCall, NoApplicableRate)
{
	Rate peak_only = Banded(MakeRate(140, "91", 10000), kMonFri, k0900, k2100);
	RatedCall rated;
	// Starts outside the band (Friday 21:59).
	Status status = PriceCall(Answered(kFri2159, 60000), {&peak_only}, &rated);
	ASSERT_FALSE(status.ok());
	EXPECT_EQ(status.error().code, ErrorCode::kNotFound);
	// Starts inside, runs out of it (20:58:30 + 180 s).
	status = PriceCall(Answered(kFri2058_30, 180000), {&peak_only}, &rated);
	ASSERT_FALSE(status.ok());
	EXPECT_EQ(status.error().code, ErrorCode::kNotFound);
	EXPECT_EQ(rated.charge, 0);
	EXPECT_TRUE(rated.segments.empty());
	// No rates at all.
	status = PriceCall(Answered(kFri2058_30, 1000), {}, &rated);
	ASSERT_FALSE(status.ok());
	EXPECT_EQ(status.error().code, ErrorCode::kNotFound);
}

TEST(PriceCall, RefusesBadCalls)
{
	Rate rate = MakeRate(150, "91", 10000);
	struct Case {
		const char *what;
		CallToRate call;
		ErrorCode code;
	};
	CallToRate negative = Answered(kThu1000, -1);
	CallToRate too_long = Answered(kThu1000, 366LL * 86400 * 1000 + 1);
	CallToRate negative_allowance = Answered(kThu1000, 1000, -1);
	CallToRate far_future = Answered(0, 1000);
	far_future.start_us = std::numeric_limits<std::int64_t>::max() - 1000;
	CallToRate far_past = Answered(0, 1000);
	far_past.start_us = std::numeric_limits<std::int64_t>::min();
	const Case cases[] = {
		{"negative billable", negative, ErrorCode::kInvalidParameter},
		{"367 days", too_long, ErrorCode::kOutOfRange},
		{"negative allowance", negative_allowance, ErrorCode::kInvalidParameter},
		{"far future", far_future, ErrorCode::kOutOfRange},
		{"far past", far_past, ErrorCode::kOutOfRange},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.what);
		RatedCall rated;
		Status status = PriceCall(c.call, {&rate}, &rated);
		ASSERT_FALSE(status.ok());
		EXPECT_EQ(status.error().code, c.code);
	}
	RatedCall rated;
	Status status = PriceCall(Answered(kThu1000, 1000), {&rate, nullptr}, &rated);
	ASSERT_FALSE(status.ok());
	EXPECT_EQ(status.error().code, ErrorCode::kInvalidParameter);

	// The longest call allowed: 366 days at ₹1.00 on 60/60 = 527,040 minutes = ₹527,040.
	RatedCall longest = Price(Answered(kThu1000, 366LL * 86400 * 1000), {&rate});
	EXPECT_EQ(longest.billed_seconds, 366LL * 86400);
	EXPECT_EQ(longest.charge, 527040LL * 10000);

	// A charge beyond kMaxAmount4: ₹900,000,000,000,000/min for 61 s on 1/1.
	Rate dear = MakeRate(151, "91", kMaxAmount4, 1, 1);
	status = PriceCall(Answered(kThu1000, 61000), {&dear}, &rated);
	ASSERT_FALSE(status.ok());
	EXPECT_EQ(status.error().code, ErrorCode::kOutOfRange);
	// 60 s of it is exactly the maximum.
	EXPECT_EQ(Price(Answered(kThu1000, 60000), {&dear}).charge, kMaxAmount4);
}

// ---- allowance ------------------------------------------------------------------------------

TEST(PriceCall, AllowanceSplits)
{
	struct Case {
		const char *what;
		std::int64_t allowance_seconds;
		bool uses_allowance;
		std::int64_t included;
		Amount4 charge;
	};
	// ₹1.00 60/60, 100 s of talk -> 120 s billed.
	const Case cases[] = {
		{"allowance larger than the call", 300, true, 120, 0},
		{"allowance exactly the call", 120, true, 120, 0},
		{"allowance smaller", 45, true, 45, 12500}, // 75 s charged = 1.25
		{"allowance of 1 s", 1, true, 1, 19833},    // 119 s = 1.98333… -> 1.9833
		{"no allowance", 0, true, 0, 20000},
		{"rate not eligible", 300, false, 0, 20000},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.what);
		Rate rate = MakeRate(160, "91", 10000);
		rate.uses_allowance = c.uses_allowance;
		RatedCall rated = Price(Answered(kThu1000, 100000, c.allowance_seconds), {&rate});
		EXPECT_EQ(rated.billed_seconds, 120);
		EXPECT_EQ(rated.included_seconds, c.included);
		EXPECT_EQ(rated.charge, c.charge);
		ExpectSegments(rated, {{160, kThu1000 * kUs, 120, c.included, c.charge}});
	}
}

TEST(PriceCall, AllowanceAcrossBands)
{
	struct Case {
		const char *what;
		bool peak_uses_allowance;
		std::int64_t allowance_seconds;
		std::vector<ExpectedSegment> segments;
		std::int64_t included;
		Amount4 charge;
	};
	// Friday 20:58:30, 180 s on 60/60: 90 s peak (₹1.00), 90 s off-peak (₹0.50), as above.
	const std::int64_t peak_start = kFri2058_30 * kUs;
	const std::int64_t off_start = (kFri2058_30 + 90) * kUs;
	const Case cases[] = {
		// Consumed from the start: 90 s of peak, 10 s of off-peak; 80 × 0.50 / 60 = 0.6666… -> 0.6667.
		{"both eligible", true, 100, {{100, peak_start, 90, 90, 0}, {101, off_start, 90, 10, 6667}}, 100, 6667},
		// Peak not eligible: it is charged (1.50) and the allowance goes to off-peak.
		{"peak not eligible, 100 s",
	     false,
	     100,
	     {{100, peak_start, 90, 0, 15000}, {101, off_start, 90, 90, 0}},
	     90,
	     15000},
		// 60 s left: off-peak 60 included, 30 s charged = 0.25; total 1.75.
		{"peak not eligible, 60 s",
	     false,
	     60,
	     {{100, peak_start, 90, 0, 15000}, {101, off_start, 90, 60, 2500}},
	     60,
	     17500},
		{"no allowance", true, 0, {{100, peak_start, 90, 0, 15000}, {101, off_start, 90, 0, 7500}}, 0, 22500},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.what);
		PeakOffPeak deck;
		deck.peak.uses_allowance = c.peak_uses_allowance;
		RatedCall rated = Price(Answered(kFri2058_30, 180000, c.allowance_seconds), deck.rates());
		EXPECT_EQ(rated.included_seconds, c.included);
		EXPECT_EQ(rated.charge, c.charge);
		ExpectSegments(rated, c.segments);
	}
}

// ---- fuzz: random rates and calls against a per-second oracle --------------------------------

// The contract of rating.hpp, second by second: weekday from days since 1970-01-01 (a Thursday) by
// a different formula (Sunday = 0 first, then shifted), bands checked on the local second.
bool
OracleCovers(const TimeBand &band, std::int64_t at_us)
{
	std::int64_t local_s = (at_us >= 0 ? at_us / kUs : -((-at_us + kUs - 1) / kUs)) + 19800;
	std::int64_t days = local_s >= 0 ? local_s / 86400 : -((-local_s + 86399) / 86400);
	std::int64_t second = local_s - days * 86400;
	int sunday_first = static_cast<int>(((days % 7) + 7 + 4) % 7); // 1970-01-01: Thursday = 4
	int monday_first = (sunday_first + 6) % 7;
	auto listed = [&](int weekday) {
		return ((band.weekdays >> weekday) & 1) != 0;
	};
	if (band.start_second < band.end_second)
		return listed(monday_first) && second >= band.start_second && second < band.end_second;
	return (listed(monday_first) && second >= band.start_second) ||
	       (listed((monday_first + 6) % 7) && second < band.end_second);
}

const Rate *
OracleRateAt(const std::vector<const Rate *> &rates, std::int64_t at_us)
{
	const Rate *best = nullptr;
	for (bool banded : {true, false}) {
		for (const Rate *rate : rates) {
			if (rate->band.has_value() != banded || (banded && !OracleCovers(*rate->band, at_us)))
				continue;
			if (best == nullptr || rate->effective_from > best->effective_from)
				best = rate;
		}
		if (best != nullptr)
			return best;
	}
	return nullptr;
}

TEST(PriceCall, FuzzAgainstPerSecondOracle)
{
	std::mt19937_64 random(3);
	auto pick = [&](std::int64_t lo, std::int64_t hi) {
		return std::uniform_int_distribution<std::int64_t>(lo, hi)(random);
	};
	const std::int32_t increments[] = {1, 6, 30, 60, 61, 600};
	int priced = 0;
	for (int round = 0; round < 3000; ++round) {
		std::vector<Rate> storage(static_cast<std::size_t>(pick(1, 4)));
		for (std::size_t i = 0; i < storage.size(); ++i) {
			Rate &rate = storage[i];
			rate.id = static_cast<std::int64_t>(i) + 1;
			rate.prefix = "91";
			rate.rate_per_minute = pick(0, 4) == 0 ? 0 : pick(1, 300000);
			rate.initial_increment = increments[pick(0, 5)];
			rate.subsequent_increment = increments[pick(0, 5)];
			rate.connect_fee = pick(0, 1) * pick(0, 5000);
			rate.minimum_charge = pick(0, 1) * pick(0, 50000);
			rate.charge_unanswered = pick(0, 1) == 1;
			rate.uses_allowance = pick(0, 3) != 0;
			rate.effective_from = pick(-3, 3);
			if (pick(0, 2) != 0) {
				std::int32_t start = static_cast<std::int32_t>(pick(0, 24) * 3600 % 86400 + pick(0, 1) * pick(0, 3599));
				std::int32_t end = static_cast<std::int32_t>(pick(0, 24) * 3600);
				if (end == start)
					end = (start + 3600) % 86400;
				rate.band = TimeBand{static_cast<std::uint8_t>(pick(1, 127)), start, end};
			}
			if (pick(0, 40) == 0)
				rate.initial_increment = 0; // an invalid rate now and then
		}
		std::vector<const Rate *> rates;
		for (const Rate &rate : storage)
			rates.push_back(&rate);

		CallToRate call;
		// 2020-2030, any microsecond; now and then before 1970.
		call.start_us =
			pick(0, 10) == 0 ? pick(-86400LL * 400, 0) * kUs : pick(1577836800, 1893456000) * kUs + pick(0, 999999);
		call.answered = pick(0, 5) != 0;
		call.billable_ms = pick(0, 5) == 0 ? 0 : pick(1, 3 * 3600 * 1000);
		if (pick(0, 50) == 0)
			call.billable_ms = -pick(1, 1000);
		call.allowance_seconds = pick(0, 2) == 0 ? 0 : pick(0, 7200);

		RatedCall rated;
		Status status;
		ASSERT_NO_THROW(status = PriceCall(call, rates, &rated));
		if (!status.ok()) {
			ASSERT_TRUE(status.error().code == ErrorCode::kInvalidParameter ||
			            status.error().code == ErrorCode::kNotFound)
				<< status.error().message;
			ASSERT_FALSE(status.error().message.empty());
			continue;
		}
		++priced;

		// Invariants.
		ASSERT_GE(rated.charge, 0);
		ASSERT_LE(rated.included_seconds, rated.billed_seconds);
		ASSERT_LE(rated.included_seconds, call.allowance_seconds);
		std::int64_t seconds = 0, included = 0;
		for (const RatedSegment &segment : rated.segments) {
			ASSERT_EQ(segment.start_us, call.start_us + seconds * kUs);
			ASSERT_GT(segment.seconds, 0);
			ASSERT_LE(segment.included_seconds, segment.seconds);
			seconds += segment.seconds;
			included += segment.included_seconds;
		}
		ASSERT_EQ(seconds, rated.billed_seconds);
		ASSERT_EQ(included, rated.included_seconds);
		if (!call.answered || call.billable_ms == 0) {
			ASSERT_EQ(rated.billed_seconds, 0);
		}

		// The oracle: rate each billed second on its own, then compare segment by segment.
		const Rate *primary = OracleRateAt(rates, call.start_us);
		ASSERT_NE(primary, nullptr);
		ASSERT_EQ(rated.primary_rate_id, primary->id);
		std::int64_t billed = 0;
		if (call.answered && call.billable_ms > 0) {
			// The initial increment, then subsequent ones until billable_ms is covered.
			billed = primary->initial_increment;
			while (billed * 1000 < call.billable_ms)
				billed += primary->subsequent_increment;
		}
		ASSERT_EQ(rated.billed_seconds, billed);
		std::vector<ExpectedSegment> expected;
		std::vector<const Rate *> expected_rates;
		std::int64_t allowance = call.allowance_seconds;
		for (std::int64_t k = 0; k < billed; ++k) {
			const Rate *rate = OracleRateAt(rates, call.start_us + k * kUs);
			ASSERT_NE(rate, nullptr);
			bool free_second = rate->uses_allowance && allowance > 0;
			if (free_second)
				--allowance;
			if (expected_rates.empty() || expected_rates.back() != rate) {
				expected.push_back({rate->id, call.start_us + k * kUs, 0, 0, 0});
				expected_rates.push_back(rate);
			}
			++expected.back().seconds;
			expected.back().included_seconds += free_second ? 1 : 0;
		}
		Amount4 total = 0;
		std::int64_t charged_seconds = 0;
		for (std::size_t i = 0; i < expected.size(); ++i) {
			std::int64_t charged = expected[i].seconds - expected[i].included_seconds;
			charged_seconds += charged;
			// Non-negative: rate × s / 60 rounded half up = (2 × rate × s + 60) / 120.
			expected[i].charge = (2 * expected_rates[i]->rate_per_minute * charged + 60) / 120;
			total += expected[i].charge;
		}
		Amount4 fee = (call.answered || primary->charge_unanswered) ? primary->connect_fee : 0;
		total += fee;
		if (charged_seconds > 0)
			total = std::max(total, primary->minimum_charge);
		ASSERT_EQ(rated.connect_fee, fee);
		ASSERT_EQ(rated.charge, total);
		ExpectSegments(rated, expected);
		if (HasFatalFailure() || HasNonfatalFailure())
			FAIL() << "round " << round;
	}
	// The generator must mostly produce priceable calls, or the oracle proves little.
	EXPECT_GT(priced, 1500);
}

} // namespace
} // namespace balatrix::core
