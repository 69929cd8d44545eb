/*
 * Unit tests: civil dates, anniversary billing periods, the Indian financial year
 * (extension/core/src/calendar.cpp).
 *
 * Expected values are written out by hand (the arithmetic is in the comments) or come from the
 * independent oracle in this file (a day-by-day walk over the whole range with its own month
 * lengths), never from the code under test. The vectors are seed-original.md §10 T27-T29 in their
 * intended form (anniversary periods with end-of-month clamping, PRODUCT §7), not the original's
 * bugs, which each test names.
 */
#include "balatrix/core/calendar.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace balatrix::core {

// Readable failures. Internal linkage in the namespace of the types, where gtest's ADL looks.
static void
PrintTo(const Date &date, std::ostream *os)
{
	*os << date.ToIso();
}

static void
PrintTo(const Period &period, std::ostream *os)
{
	*os << "[" << period.start.ToIso() << ", " << period.end.ToIso() << ")";
}

namespace {

// A date the test knows to be valid; a typo in a table fails the test instead of going unnoticed.
Date
D(int year, int month, int day)
{
	std::optional<Date> date = Date::FromYmd(year, month, day);
	if (!date) {
		ADD_FAILURE() << "test table names an invalid date " << year << "-" << month << "-" << day;
		return Date();
	}
	return *date;
}

// The oracle's own month lengths: "thirty days hath September...", and February by the Gregorian
// rule spelled out differently from calendar.cpp.
int
OracleMonthLength(int year, int month)
{
	if (month == 2) {
		bool leap = (year % 400 == 0) || (year % 4 == 0 && year % 100 != 0);
		return leap ? 29 : 28;
	}
	return (month == 4 || month == 6 || month == 9 || month == 11) ? 30 : 31;
}

// ---- leap years and month lengths ------------------------------------------------------------

TEST(IsLeapYear, GregorianRule)
{
	struct Case {
		int year;
		bool leap;
	};
	const Case cases[] = {
		{2000, true},  // divisible by 400
		{1900, false}, // century not divisible by 400
		{2100, false}, {2200, false}, {2300, false}, {2400, true},  {1600, true}, {2024, true},
		{2028, true},  {2025, false}, {2026, false}, {2023, false}, {2096, true}, {2104, true},
		{4, true},     {1, false},    {9999, false}, {9996, true},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.year);
		EXPECT_EQ(IsLeapYear(c.year), c.leap);
	}
}

TEST(DaysInMonth, EveryMonthAndFebruaryByYear)
{
	const int common[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	for (int month = 1; month <= 12; ++month) {
		SCOPED_TRACE(month);
		EXPECT_EQ(DaysInMonth(2025, month), common[month - 1]);
		EXPECT_EQ(DaysInMonth(2024, month), month == 2 ? 29 : common[month - 1]);
	}
	EXPECT_EQ(DaysInMonth(2000, 2), 29);
	EXPECT_EQ(DaysInMonth(2100, 2), 28);
	EXPECT_EQ(DaysInMonth(1900, 2), 28);
	EXPECT_EQ(DaysInMonth(2025, 0), 0);
	EXPECT_EQ(DaysInMonth(2025, 13), 0);
	EXPECT_EQ(DaysInMonth(2025, -1), 0);
}

// ---- construction and validity ---------------------------------------------------------------

TEST(DateFromYmd, RefusesInvalidDates)
{
	struct Case {
		int year;
		int month;
		int day;
	};
	const Case invalid[] = {
		{2025, 2, 29}, // 2025 is not a leap year
		{2025, 2, 30},
		{2024, 2, 30}, // even in a leap year
		{2100, 2, 29}, // 2100 is not a leap year (century rule)
		{1900, 2, 29},
		{2025, 4, 31}, // April has 30 days
		{2025, 6, 31},
		{2025, 9, 31},
		{2025, 11, 31},
		{2025, 1, 32},
		{2025, 1, 0},
		{2025, 0, 10},
		{2025, 13, 1},
		{2025, -1, 1},
		{2025, 1, -1},
		{0, 1, 1}, // before year 1
		{-1, 12, 31},
		{10000, 1, 1}, // after year 9999
		{std::numeric_limits<int>::max(), 1, 1},
		{std::numeric_limits<int>::min(), 1, 1},
	};
	for (const Case &c : invalid) {
		SCOPED_TRACE(std::to_string(c.year) + "-" + std::to_string(c.month) + "-" + std::to_string(c.day));
		EXPECT_FALSE(Date::FromYmd(c.year, c.month, c.day).has_value());
		EXPECT_FALSE(IsValidDate(c.year, c.month, c.day));
	}
	const Case valid[] = {
		{2024, 2, 29}, {2000, 2, 29},  {2400, 2, 29}, {2025, 2, 28},
		{2025, 4, 30}, {2025, 12, 31}, {1, 1, 1},     {9999, 12, 31},
	};
	for (const Case &c : valid) {
		SCOPED_TRACE(std::to_string(c.year) + "-" + std::to_string(c.month) + "-" + std::to_string(c.day));
		std::optional<Date> date = Date::FromYmd(c.year, c.month, c.day);
		ASSERT_TRUE(date.has_value());
		EXPECT_TRUE(IsValidDate(c.year, c.month, c.day));
		EXPECT_EQ(date->year(), c.year);
		EXPECT_EQ(date->month(), c.month);
		EXPECT_EQ(date->day(), c.day);
	}
}

TEST(Date, DefaultIsThePostgresEpoch)
{
	Date date;
	EXPECT_EQ(date.year(), 2000);
	EXPECT_EQ(date.month(), 1);
	EXPECT_EQ(date.day(), 1);
	EXPECT_EQ(date.DayNumber(), 0);
	EXPECT_EQ(Date::Min(), D(1, 1, 1));
	EXPECT_EQ(Date::Max(), D(9999, 12, 31));
}

// ---- day numbers (PostgreSQL DateADT) and weekdays -------------------------------------------

struct DayNumberCase {
	Date date;
	std::int32_t day_number;
	int iso_weekday;
};

TEST(DateDayNumber, KnownDays)
{
	const DayNumberCase cases[] = {
		{D(2000, 1, 1), 0, 6},                                  // PostgreSQL's epoch; 1 January 2000 was a Saturday
		{D(1999, 12, 31), -1, 5},                               // Friday
		{D(2000, 1, 2), 1, 7},                                  // Sunday
		{D(2000, 1, 3), 2, 1},                                  // Monday
		{D(2000, 2, 29), 59, 2},                                // 31 + 28 (2000 is leap: the 29th exists); Tuesday
		{D(2000, 3, 1), 60, 3},        {D(2001, 1, 1), 366, 1}, // 2000 had 366 days; Monday
		{D(2026, 1, 1), 9497, 4},      // 26 × 365 + 7 leap days (2000, 04, 08, 12, 16, 20, 24); Thursday
		{D(2025, 4, 1), 9222, 2},      // 9497 - (365 - 90): 1 April is day 91 of a common year; Tuesday
		{D(2024, 2, 29), 8825, 4},     // 24 × 365 + 6 + 31 + 28; Thursday
		{D(1970, 1, 1), -10957, 4},    // 30 × 365 + 7 leap days (1972 ... 1996); Thursday (Unix epoch)
		{D(2100, 3, 1), 36584, 1},     // 100 × 365 + 25 leap days (2000 ... 2096) + 31 + 28; Monday
		{D(1, 1, 1), -730119, 1},      // 1999 × 365 + 484 leap days; proleptic Gregorian Monday
		{D(9999, 12, 31), 2921939, 5}, // 8000 × 365 + 1940 leap days (2000 ... 9996) - 1; Friday
	};
	for (const DayNumberCase &c : cases) {
		SCOPED_TRACE(c.date.ToIso());
		EXPECT_EQ(c.date.DayNumber(), c.day_number);
		EXPECT_EQ(c.date.IsoWeekday(), c.iso_weekday);
		EXPECT_EQ(Date::FromDayNumber(c.day_number), std::optional<Date>(c.date));
	}
}

TEST(DateDayNumber, OutsideYearsOneToNineThousandNineHundredNinetyNineIsRefused)
{
	EXPECT_FALSE(Date::FromDayNumber(-730120).has_value()); // 0000-12-31
	EXPECT_FALSE(Date::FromDayNumber(2921940).has_value()); // 10000-01-01
	EXPECT_FALSE(Date::FromDayNumber(std::numeric_limits<std::int64_t>::max()).has_value());
	EXPECT_FALSE(Date::FromDayNumber(std::numeric_limits<std::int64_t>::min()).has_value());
	// PostgreSQL's DateADT extremes (4713 BC, 5874897 AD) are beyond the range too.
	EXPECT_FALSE(Date::FromDayNumber(std::numeric_limits<std::int32_t>::max()).has_value());
	EXPECT_FALSE(Date::FromDayNumber(-2451545).has_value());
}

TEST(DateDayNumber, AgreesWithADayByDayWalkOverTheWholeRange)
{
	// The oracle walks every day from 0001-01-01 (a Monday, day number -730119) to 9999-12-31 with
	// its own month lengths: 3,652,059 days.
	int year = 1, month = 1, day = 1;
	std::int64_t day_number = -730119;
	std::int64_t walked = 0;
	for (;;) {
		std::optional<Date> date = Date::FromYmd(year, month, day);
		ASSERT_TRUE(date.has_value()) << year << "-" << month << "-" << day;
		ASSERT_EQ(date->DayNumber(), day_number) << date->ToIso();
		std::optional<Date> back = Date::FromDayNumber(day_number);
		ASSERT_TRUE(back.has_value()) << day_number;
		ASSERT_EQ(*back, *date);
		ASSERT_EQ(date->IsoWeekday(), static_cast<int>(walked % 7) + 1) << date->ToIso();
		// The day after the last day of a month is refused by FromYmd.
		if (day == OracleMonthLength(year, month)) {
			ASSERT_FALSE(Date::FromYmd(year, month, day + 1).has_value()) << date->ToIso();
		}
		if (year == 9999 && month == 12 && day == 31)
			break;
		++walked;
		++day_number;
		if (++day > OracleMonthLength(year, month)) {
			day = 1;
			if (++month > 12) {
				month = 1;
				++year;
			}
		}
	}
	EXPECT_EQ(walked, 3652058);
	EXPECT_EQ(day_number, 2921939);
}

// ---- ISO text --------------------------------------------------------------------------------

TEST(DateParseIso, AcceptsExactlyYyyyMmDd)
{
	EXPECT_EQ(Date::ParseIso("2025-02-28"), std::optional<Date>(D(2025, 2, 28)));
	EXPECT_EQ(Date::ParseIso("2024-02-29"), std::optional<Date>(D(2024, 2, 29)));
	EXPECT_EQ(Date::ParseIso("0001-01-01"), std::optional<Date>(D(1, 1, 1)));
	EXPECT_EQ(Date::ParseIso("9999-12-31"), std::optional<Date>(D(9999, 12, 31)));
	const char *refused[] = {
		"2025-02-29", // well-formed, but not a date
		"2025-02-30",       "2100-02-29", "2025-04-31", "2025-13-01", "2025-00-01", "2025-01-00",
		"0000-01-01", // year 0
		"2025-2-28",        "2025-02-8",  "25-02-28",   "20250228",   "2025/02/28", " 2025-02-28",   "2025-02-28 ",
		"2025-02-28T00:00", "+025-02-28", "-025-02-28", "2025-0a-28", "",           "2025-02-2\xd9",
	};
	for (const char *text : refused) {
		SCOPED_TRACE(text);
		EXPECT_FALSE(Date::ParseIso(text).has_value());
	}
}

TEST(DateToIso, PadsEveryField)
{
	EXPECT_EQ(D(2025, 2, 8).ToIso(), "2025-02-08");
	EXPECT_EQ(D(1, 1, 1).ToIso(), "0001-01-01");
	EXPECT_EQ(D(999, 10, 10).ToIso(), "0999-10-10");
	EXPECT_EQ(D(9999, 12, 31).ToIso(), "9999-12-31");
}

TEST(Date, OrderedByTime)
{
	EXPECT_LT(D(2025, 1, 31), D(2025, 2, 1));
	EXPECT_LT(D(2024, 12, 31), D(2025, 1, 1));
	EXPECT_LT(D(2025, 2, 10), D(2025, 2, 11));
	EXPECT_GT(D(2025, 3, 1), D(2025, 2, 28));
	EXPECT_LE(D(2025, 3, 1), D(2025, 3, 1));
	EXPECT_GE(D(2025, 3, 1), D(2025, 3, 1));
	EXPECT_NE(D(2025, 3, 1), D(2025, 3, 2));
	EXPECT_FALSE(D(2025, 3, 1) < D(2025, 3, 1));
}

// ---- day arithmetic --------------------------------------------------------------------------

TEST(DaysBetween, SignedDayCounts)
{
	struct Case {
		Date from;
		Date to;
		std::int64_t days;
	};
	const Case cases[] = {
		{D(2025, 1, 31), D(2025, 2, 28), 28},    {D(2024, 1, 31), D(2024, 2, 29), 29},
		{D(2025, 3, 31), D(2025, 3, 1), -30},    {D(2025, 4, 1), D(2026, 4, 1), 365}, // FY 2025-26: no 29 February
		{D(2023, 4, 1), D(2024, 4, 1), 366},                                          // FY 2023-24 contains 2024-02-29
		{D(1999, 12, 31), D(2000, 1, 1), 1},                                          // across a year (and the epoch)
		{D(2100, 2, 28), D(2100, 3, 1), 1},                                           // 2100 is not leap
		{D(2000, 2, 28), D(2000, 3, 1), 2},                                           // 2000 is
		{D(2025, 6, 15), D(2025, 6, 15), 0},     {D(1, 1, 1), D(9999, 12, 31), 3652058}, // 2921939 - (-730119)
		{D(9999, 12, 31), D(1, 1, 1), -3652058},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.from.ToIso() + " -> " + c.to.ToIso());
		EXPECT_EQ(DaysBetween(c.from, c.to), c.days);
	}
}

TEST(AddDays, CrossesMonthsYearsAndRefusesTheEdges)
{
	EXPECT_EQ(AddDays(D(2024, 2, 28), 1), std::optional<Date>(D(2024, 2, 29)));
	EXPECT_EQ(AddDays(D(2024, 2, 29), 1), std::optional<Date>(D(2024, 3, 1)));
	EXPECT_EQ(AddDays(D(2025, 2, 28), 1), std::optional<Date>(D(2025, 3, 1)));
	EXPECT_EQ(AddDays(D(2025, 12, 31), 1), std::optional<Date>(D(2026, 1, 1)));
	EXPECT_EQ(AddDays(D(2000, 1, 1), -1), std::optional<Date>(D(1999, 12, 31)));
	EXPECT_EQ(AddDays(D(2025, 1, 1), 365), std::optional<Date>(D(2026, 1, 1)));
	EXPECT_EQ(AddDays(D(2024, 1, 1), 365), std::optional<Date>(D(2024, 12, 31)));
	EXPECT_EQ(AddDays(D(2025, 5, 5), 0), std::optional<Date>(D(2025, 5, 5)));
	EXPECT_EQ(AddDays(D(1, 1, 1), 3652058), std::optional<Date>(D(9999, 12, 31)));
	EXPECT_FALSE(AddDays(D(9999, 12, 31), 1).has_value());
	EXPECT_FALSE(AddDays(D(1, 1, 1), -1).has_value());
	EXPECT_FALSE(AddDays(D(2025, 1, 1), std::numeric_limits<std::int64_t>::max()).has_value());
	EXPECT_FALSE(AddDays(D(2025, 1, 1), std::numeric_limits<std::int64_t>::min()).has_value());
}

// ---- AddMonths: end-of-month clamping from the anchor day -------------------------------------

struct AddMonthsCase {
	const char *why;
	Date from;
	std::int64_t months;
	std::optional<int> anchor_day; // none: the two-argument form (anchor = from.day())
	std::optional<Date> expected;
};

TEST(AddMonths, ClampsToTheMonthEndFromTheAnchorDay)
{
	const std::optional<int> kOwn; // the two-argument form
	const AddMonthsCase cases[] = {
		{"Jan 31 + 1 month clamps to Feb 28 (T28 intended; the original overflowed to Mar 3)", D(2025, 1, 31), 1, kOwn,
	     D(2025, 2, 28)},
		{"in a leap year to Feb 29", D(2024, 1, 31), 1, kOwn, D(2024, 2, 29)},
		{"two months from the anchor: back on the 31st", D(2025, 1, 31), 2, kOwn, D(2025, 3, 31)},
		{"three months: April has 30", D(2025, 1, 31), 3, kOwn, D(2025, 4, 30)},
		{"from a clamped Feb 28 with the anchor day 31: Mar 31, no drift", D(2025, 2, 28), 1, 31, D(2025, 3, 31)},
		{"from a clamped Apr 30 with anchor 31: May 31", D(2025, 4, 30), 1, 31, D(2025, 5, 31)},
		{"the two-argument form takes from.day() as the anchor: Feb 28 -> Mar 28", D(2025, 2, 28), 1, kOwn,
	     D(2025, 3, 28)},
		{"Feb 29 + 1 year -> Feb 28 (T28 intended; the original gave Mar 1)", D(2024, 2, 29), 12, kOwn, D(2025, 2, 28)},
		{"Feb 29 + 4 years -> Feb 29 again", D(2024, 2, 29), 48, kOwn, D(2028, 2, 29)},
		{"Feb 29 2096 + 4 years: 2100 is not leap", D(2096, 2, 29), 48, kOwn, D(2100, 2, 28)},
		{"Feb 29 2096 + 8 years: 2104 is", D(2096, 2, 29), 96, kOwn, D(2104, 2, 29)},
		{"Feb 29 1996 + 4 years: 2000 is leap (400 rule)", D(1996, 2, 29), 48, kOwn, D(2000, 2, 29)},
		{"across the year end", D(2025, 12, 15), 1, kOwn, D(2026, 1, 15)},
		{"Nov 30 + 3 months -> Feb 28 next year", D(2024, 11, 30), 3, kOwn, D(2025, 2, 28)},
		{"backwards across the year start", D(2025, 1, 15), -1, kOwn, D(2024, 12, 15)},
		{"backwards, clamped", D(2025, 3, 31), -1, kOwn, D(2025, 2, 28)},
		{"backwards into a leap February", D(2024, 3, 31), -1, kOwn, D(2024, 2, 29)},
		{"back one year", D(2025, 1, 31), -12, kOwn, D(2024, 1, 31)},
		{"zero months puts the date on the anchor day, clamped", D(2025, 2, 10), 0, 31, D(2025, 2, 28)},
		{"zero months, own day: unchanged", D(2025, 2, 10), 0, kOwn, D(2025, 2, 10)},
		{"T29 intended: the next billing date after Jan 31 for cycle day 1 is Feb 1 (original: Mar 1)", D(2025, 1, 31),
	     1, 1, D(2025, 2, 1)},
		{"anchor 30 in February of a leap year", D(2024, 1, 30), 1, 30, D(2024, 2, 29)},
		{"to the last month of the range", D(9999, 11, 30), 1, kOwn, D(9999, 12, 30)},
		{"to the first month of the range", D(1, 2, 28), -1, kOwn, D(1, 1, 28)},
		{"past year 9999", D(9999, 12, 1), 1, kOwn, std::nullopt},
		{"before year 1", D(1, 1, 1), -1, kOwn, std::nullopt},
		{"anchor day 0", D(2025, 1, 1), 1, 0, std::nullopt},
		{"negative anchor day", D(2025, 1, 1), 1, -1, std::nullopt},
		{"anchor day 32", D(2025, 1, 1), 1, 32, std::nullopt},
		{"absurd month count", D(2025, 1, 1), std::numeric_limits<std::int64_t>::max(), kOwn, std::nullopt},
		{"absurd negative month count", D(2025, 1, 1), std::numeric_limits<std::int64_t>::min(), kOwn, std::nullopt},
	};
	for (const AddMonthsCase &c : cases) {
		SCOPED_TRACE(c.why);
		std::optional<Date> got =
			c.anchor_day ? AddMonths(c.from, c.months, *c.anchor_day) : AddMonths(c.from, c.months);
		EXPECT_EQ(got, c.expected);
	}
}

// ---- billing cycles -------------------------------------------------------------------------

TEST(BillingCycle, NamesMonthsAndParsing)
{
	EXPECT_EQ(MonthsPerCycle(BillingCycle::kMonthly), 1);
	EXPECT_EQ(MonthsPerCycle(BillingCycle::kQuarterly), 3);
	EXPECT_EQ(MonthsPerCycle(BillingCycle::kAnnual), 12);
	EXPECT_STREQ(BillingCycleName(BillingCycle::kMonthly), "monthly");
	EXPECT_STREQ(BillingCycleName(BillingCycle::kQuarterly), "quarterly");
	EXPECT_STREQ(BillingCycleName(BillingCycle::kAnnual), "annual");
	EXPECT_EQ(ParseBillingCycle("monthly"), std::optional<BillingCycle>(BillingCycle::kMonthly));
	EXPECT_EQ(ParseBillingCycle("quarterly"), std::optional<BillingCycle>(BillingCycle::kQuarterly));
	EXPECT_EQ(ParseBillingCycle("annual"), std::optional<BillingCycle>(BillingCycle::kAnnual));
	for (const char *name : {"Monthly", "ANNUAL", "yearly", "annually", "month", "", " monthly", "monthly "}) {
		SCOPED_TRACE(name);
		EXPECT_FALSE(ParseBillingCycle(name).has_value());
	}
}

// ---- billing periods --------------------------------------------------------------------------

struct PeriodCase {
	const char *why;
	Date anchor;
	BillingCycle cycle;
	std::int64_t index;
	std::optional<Period> expected;
	std::int64_t days; // of the expected period
};

TEST(BillingPeriod, AnniversaryPeriodsWithEndOfMonthClamping)
{
	constexpr BillingCycle M = BillingCycle::kMonthly;
	constexpr BillingCycle Q = BillingCycle::kQuarterly;
	constexpr BillingCycle A = BillingCycle::kAnnual;
	const PeriodCase cases[] = {
		// T28 intended: anchored on Jan 31, monthly. The original's JS Date overflow gave Mar 3.
		{"Jan 31 monthly, first", D(2025, 1, 31), M, 0, Period{D(2025, 1, 31), D(2025, 2, 28)}, 28},
		{"Jan 31 monthly, second", D(2025, 1, 31), M, 1, Period{D(2025, 2, 28), D(2025, 3, 31)}, 31},
		{"Jan 31 monthly, third", D(2025, 1, 31), M, 2, Period{D(2025, 3, 31), D(2025, 4, 30)}, 30},
		{"Jan 31 monthly, fourth", D(2025, 1, 31), M, 3, Period{D(2025, 4, 30), D(2025, 5, 31)}, 31},
		{"Jan 31 monthly, twelfth: back to Jan 31", D(2025, 1, 31), M, 12, Period{D(2026, 1, 31), D(2026, 2, 28)}, 28},
		{"Jan 31 monthly in a leap year", D(2024, 1, 31), M, 0, Period{D(2024, 1, 31), D(2024, 2, 29)}, 29},
		{"Jan 31 monthly in a leap year, second", D(2024, 1, 31), M, 1, Period{D(2024, 2, 29), D(2024, 3, 31)}, 31},
		// T28 intended: Feb 29 annual. The original gave Mar 1.
		{"Feb 29 annual, first", D(2024, 2, 29), A, 0, Period{D(2024, 2, 29), D(2025, 2, 28)}, 365},
		{"Feb 29 annual, second", D(2024, 2, 29), A, 1, Period{D(2025, 2, 28), D(2026, 2, 28)}, 365},
		{"Feb 29 annual, fourth ends on Feb 29", D(2024, 2, 29), A, 3, Period{D(2027, 2, 28), D(2028, 2, 29)}, 366},
		{"Feb 29 annual, fifth starts on Feb 29", D(2024, 2, 29), A, 4, Period{D(2028, 2, 29), D(2029, 2, 28)}, 365},
		{"Feb 29 2096 annual: 2100 is not leap", D(2096, 2, 29), A, 4, Period{D(2100, 2, 28), D(2101, 2, 28)}, 365},
		{"Feb 29 2096 annual: 2104 is", D(2096, 2, 29), A, 8, Period{D(2104, 2, 29), D(2105, 2, 28)}, 365},
		// T27 intended: anniversary periods from the start date. The original's calendar-aligned
		// periods ended on 2025-01-31 / 03-31 / 12-31 and 2026-02-28 (BUG-64: a short first period
		// at the full price).
		{"T27 monthly from Jan 15", D(2025, 1, 15), M, 0, Period{D(2025, 1, 15), D(2025, 2, 15)}, 31},
		{"T27 quarterly from Jan 15", D(2025, 1, 15), Q, 0, Period{D(2025, 1, 15), D(2025, 4, 15)}, 90},
		{"T27 annual from Jan 15", D(2025, 1, 15), A, 0, Period{D(2025, 1, 15), D(2026, 1, 15)}, 365},
		{"T27 annual from Mar 15", D(2025, 3, 15), A, 0, Period{D(2025, 3, 15), D(2026, 3, 15)}, 365},
		// Quarterly with clamping: Nov 30 -> Feb 28 -> May 30 (not 28) -> Aug 30.
		{"Nov 30 quarterly, first", D(2024, 11, 30), Q, 0, Period{D(2024, 11, 30), D(2025, 2, 28)}, 90},
		{"Nov 30 quarterly, second", D(2024, 11, 30), Q, 1, Period{D(2025, 2, 28), D(2025, 5, 30)}, 91},
		{"Nov 30 quarterly, third", D(2024, 11, 30), Q, 2, Period{D(2025, 5, 30), D(2025, 8, 30)}, 92},
		{"Aug 31 quarterly, second", D(2025, 8, 31), Q, 1, Period{D(2025, 11, 30), D(2026, 2, 28)}, 90},
		{"Aug 31 quarterly, third", D(2025, 8, 31), Q, 2, Period{D(2026, 2, 28), D(2026, 5, 31)}, 92},
		// Year boundaries.
		{"Dec 31 monthly, first", D(2025, 12, 31), M, 0, Period{D(2025, 12, 31), D(2026, 1, 31)}, 31},
		{"Dec 31 monthly, second", D(2025, 12, 31), M, 1, Period{D(2026, 1, 31), D(2026, 2, 28)}, 28},
		{"Jan 1 monthly, twelfth", D(2025, 1, 1), M, 11, Period{D(2025, 12, 1), D(2026, 1, 1)}, 31},
		// Refusals.
		{"negative index", D(2025, 1, 31), M, -1, std::nullopt, 0},
		{"period ending after 9999-12-31", D(9999, 12, 1), M, 0, std::nullopt, 0},
		{"last representable month", D(9999, 11, 30), M, 0, Period{D(9999, 11, 30), D(9999, 12, 30)}, 30},
		{"absurd index", D(2025, 1, 31), A, std::numeric_limits<std::int64_t>::max(), std::nullopt, 0},
	};
	for (const PeriodCase &c : cases) {
		SCOPED_TRACE(c.why);
		std::optional<Period> got = BillingPeriod(c.anchor, c.cycle, c.index);
		EXPECT_EQ(got, c.expected);
		if (got && c.expected) {
			EXPECT_EQ(got->Days(), c.days);
		}
	}
}

TEST(BillingPeriod, HalfOpenContainment)
{
	Period period{D(2025, 1, 31), D(2025, 2, 28)};
	EXPECT_TRUE(period.Contains(D(2025, 1, 31))); // start is in
	EXPECT_TRUE(period.Contains(D(2025, 2, 27)));
	EXPECT_FALSE(period.Contains(D(2025, 2, 28))); // end is out: it starts the next period
	EXPECT_FALSE(period.Contains(D(2025, 1, 30)));
}

TEST(NextBillingPeriod, ChainsFromThePreviousEndWithTheAnchorDay)
{
	// Jan 31 anchor: Feb 28 -> Mar 31 only because the anchor day (31) is carried, not Feb 28's 28.
	EXPECT_EQ(NextBillingPeriod(D(2025, 2, 28), 31, BillingCycle::kMonthly),
	          std::optional<Period>(Period{D(2025, 2, 28), D(2025, 3, 31)}));
	EXPECT_EQ(NextBillingPeriod(D(2025, 2, 28), 28, BillingCycle::kMonthly),
	          std::optional<Period>(Period{D(2025, 2, 28), D(2025, 3, 28)}));
	EXPECT_EQ(NextBillingPeriod(D(2025, 2, 28), 29, BillingCycle::kAnnual),
	          std::optional<Period>(Period{D(2025, 2, 28), D(2026, 2, 28)}));
	EXPECT_EQ(NextBillingPeriod(D(2027, 2, 28), 29, BillingCycle::kAnnual),
	          std::optional<Period>(Period{D(2027, 2, 28), D(2028, 2, 29)}));
	EXPECT_EQ(NextBillingPeriod(D(2025, 11, 30), 31, BillingCycle::kQuarterly),
	          std::optional<Period>(Period{D(2025, 11, 30), D(2026, 2, 28)}));
	EXPECT_FALSE(NextBillingPeriod(D(9999, 12, 1), 1, BillingCycle::kMonthly).has_value());
	EXPECT_FALSE(NextBillingPeriod(D(2025, 2, 28), 0, BillingCycle::kMonthly).has_value());
	EXPECT_FALSE(NextBillingPeriod(D(2025, 2, 28), 32, BillingCycle::kMonthly).has_value());
}

TEST(BillingPeriodIndex, FindsThePeriodOfADate)
{
	struct Case {
		Date anchor;
		BillingCycle cycle;
		Date date;
		std::optional<std::int64_t> index;
	};
	const Case cases[] = {
		{D(2025, 1, 31), BillingCycle::kMonthly, D(2025, 1, 31), 0},
		{D(2025, 1, 31), BillingCycle::kMonthly, D(2025, 2, 15), 0}, // February, before the Feb 28 boundary
		{D(2025, 1, 31), BillingCycle::kMonthly, D(2025, 2, 27), 0},
		{D(2025, 1, 31), BillingCycle::kMonthly, D(2025, 2, 28), 1},
		{D(2025, 1, 31), BillingCycle::kMonthly, D(2025, 3, 30), 1},
		{D(2025, 1, 31), BillingCycle::kMonthly, D(2025, 3, 31), 2},
		{D(2025, 1, 31), BillingCycle::kMonthly, D(2026, 1, 30), 11},
		{D(2025, 1, 31), BillingCycle::kMonthly, D(2025, 1, 30), std::nullopt}, // before the anchor
		{D(2024, 2, 29), BillingCycle::kAnnual, D(2025, 2, 27), 0},
		{D(2024, 2, 29), BillingCycle::kAnnual, D(2025, 2, 28), 1},
		{D(2024, 2, 29), BillingCycle::kAnnual, D(2028, 2, 28), 3},
		{D(2024, 2, 29), BillingCycle::kAnnual, D(2028, 2, 29), 4},
		{D(2025, 1, 15), BillingCycle::kQuarterly, D(2025, 4, 14), 0},
		{D(2025, 1, 15), BillingCycle::kQuarterly, D(2025, 4, 15), 1},
		{D(2025, 1, 15), BillingCycle::kQuarterly, D(2025, 12, 31), 3},
		{D(9999, 1, 1), BillingCycle::kAnnual, D(9999, 6, 1), std::nullopt}, // period ends in 10000
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.anchor.ToIso() + " " + BillingCycleName(c.cycle) + " " + c.date.ToIso());
		EXPECT_EQ(BillingPeriodIndex(c.anchor, c.cycle, c.date), c.index);
	}
}

TEST(BillingPeriodProperty, PeriodsTileWithoutDriftForEveryAnchorDay)
{
	// Every anchor of 2023-2025 (with 2024-02-29), every cycle, the first 60 periods: consecutive
	// periods share their boundary, every boundary is the anchor day clamped to its month, the
	// chained form agrees with the indexed one, and the index of every boundary is found again.
	for (std::int64_t anchor_number = D(2023, 1, 1).DayNumber(); anchor_number <= D(2025, 12, 31).DayNumber();
	     ++anchor_number) {
		const Date anchor = *Date::FromDayNumber(anchor_number);
		for (BillingCycle cycle : {BillingCycle::kMonthly, BillingCycle::kQuarterly, BillingCycle::kAnnual}) {
			const int n = cycle == BillingCycle::kMonthly ? 1 : cycle == BillingCycle::kQuarterly ? 3 : 12;
			std::optional<Period> chained;
			for (std::int64_t index = 0; index < 60; ++index) {
				std::optional<Period> period = BillingPeriod(anchor, cycle, index);
				ASSERT_TRUE(period.has_value()) << anchor.ToIso() << " #" << index;
				// The oracle's month of period `index`: anchor month + index × n.
				const int total = anchor.year() * 12 + (anchor.month() - 1) + static_cast<int>(index) * n;
				const int year = total / 12, month = total % 12 + 1;
				const int day = std::min(anchor.day(), OracleMonthLength(year, month));
				ASSERT_EQ(period->start, D(year, month, day)) << anchor.ToIso() << " #" << index;
				if (index == 0) {
					ASSERT_EQ(period->start, anchor);
				} else {
					ASSERT_EQ(period->start, chained->end) << anchor.ToIso() << " #" << index;
					std::optional<Period> next = NextBillingPeriod(chained->end, anchor.day(), cycle);
					ASSERT_EQ(next, period) << anchor.ToIso() << " #" << index;
				}
				// Month lengths bound a period: 28-31 days a month, 89 (Feb-Apr of a common year) to 92
				// days a quarter (two 31-day months and a 30-day one, or Jul + Aug + Sep), 365-366 a year.
				const std::int64_t min_days = n == 1 ? 28 : n == 3 ? 89 : 365;
				const std::int64_t max_days = n == 1 ? 31 : n == 3 ? 92 : 366;
				ASSERT_GE(period->Days(), min_days) << anchor.ToIso() << " #" << index;
				ASSERT_LE(period->Days(), max_days) << anchor.ToIso() << " #" << index;
				ASSERT_EQ(BillingPeriodIndex(anchor, cycle, period->start), std::optional<std::int64_t>(index));
				ASSERT_EQ(BillingPeriodIndex(anchor, cycle, *AddDays(period->end, -1)),
				          std::optional<std::int64_t>(index));
				chained = period;
			}
		}
	}
}

// ---- Indian financial year ------------------------------------------------------------------

TEST(FinancialYearOf, AprilToMarch)
{
	struct Case {
		Date date;
		int first_year;
		const char *label;
		Date first_day;
		Date last_day;
		std::int64_t days;
	};
	const Case cases[] = {
		{D(2025, 4, 1), 2025, "2526", D(2025, 4, 1), D(2026, 3, 31), 365},   // first day
		{D(2026, 3, 31), 2025, "2526", D(2025, 4, 1), D(2026, 3, 31), 365},  // last day
		{D(2025, 12, 31), 2025, "2526", D(2025, 4, 1), D(2026, 3, 31), 365}, // calendar year end inside
		{D(2026, 1, 1), 2025, "2526", D(2025, 4, 1), D(2026, 3, 31), 365},
		{D(2026, 4, 1), 2026, "2627", D(2026, 4, 1), D(2027, 3, 31), 365},
		{D(2025, 3, 31), 2024, "2425", D(2024, 4, 1), D(2025, 3, 31), 365},
		{D(2024, 2, 29), 2023, "2324", D(2023, 4, 1), D(2024, 3, 31), 366},  // holds a 29 February
		{D(2009, 6, 1), 2009, "0910", D(2009, 4, 1), D(2010, 3, 31), 365},   // leading zeros kept
		{D(2000, 1, 1), 1999, "9900", D(1999, 4, 1), D(2000, 3, 31), 366},   // across the century
		{D(2099, 12, 31), 2099, "9900", D(2099, 4, 1), D(2100, 3, 31), 365}, // 2100 is not leap
		{D(1, 4, 1), 1, "0102", D(1, 4, 1), D(2, 3, 31), 365},
		{D(9999, 3, 31), 9998, "9899", D(9998, 4, 1), D(9999, 3, 31), 365},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.date.ToIso());
		std::optional<FinancialYear> fy = FinancialYearOf(c.date);
		ASSERT_TRUE(fy.has_value());
		EXPECT_EQ(fy->first_year, c.first_year);
		EXPECT_EQ(fy->label, c.label);
		EXPECT_EQ(fy->first_day, c.first_day);
		EXPECT_EQ(fy->last_day, c.last_day);
		EXPECT_EQ(fy->AsPeriod(), (Period{c.first_day, *AddDays(c.last_day, 1)}));
		EXPECT_EQ(fy->AsPeriod().Days(), c.days);
		EXPECT_TRUE(fy->AsPeriod().Contains(c.date));
	}
	// Financial years that do not fit in years 1-9999.
	EXPECT_FALSE(FinancialYearOf(D(1, 3, 31)).has_value());
	EXPECT_FALSE(FinancialYearOf(D(1, 1, 1)).has_value());
	EXPECT_FALSE(FinancialYearOf(D(9999, 4, 1)).has_value());
	EXPECT_FALSE(FinancialYearOf(D(9999, 12, 31)).has_value());
}

TEST(FinancialYearOf, LabelMatchesTheInvoicesCheck)
{
	// invoices.financial_year CHECK (financial_year ~ '^[0-9]{4}$'), for every day of 2000-2099.
	for (std::int64_t n = D(2000, 1, 1).DayNumber(); n <= D(2099, 12, 31).DayNumber(); ++n) {
		std::optional<FinancialYear> fy = FinancialYearOf(*Date::FromDayNumber(n));
		ASSERT_TRUE(fy.has_value());
		ASSERT_EQ(fy->label.size(), 4u);
		for (char c : fy->label)
			ASSERT_TRUE(c >= '0' && c <= '9') << fy->label;
	}
}

TEST(FinancialYearFromLabel, TwoDigitYearsInTheTwentyFirstCentury)
{
	struct Case {
		const char *label;
		std::optional<int> first_year;
	};
	const Case cases[] = {
		{"2526", 2025},         {"0001", 2000},          {"9900", 2099},          {"2324", 2023},
		{"0910", 2009},         {"2527", std::nullopt}, // not consecutive
		{"2525", std::nullopt}, {"2625", std::nullopt},  {"9901", std::nullopt},  {"0099", std::nullopt},
		{"252", std::nullopt},  {"25260", std::nullopt}, {"25-26", std::nullopt}, {"2025-26", std::nullopt},
		{"ab12", std::nullopt}, {"", std::nullopt},      {" 2526", std::nullopt},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.label);
		std::optional<FinancialYear> fy = FinancialYearFromLabel(c.label);
		ASSERT_EQ(fy.has_value(), c.first_year.has_value());
		if (fy) {
			EXPECT_EQ(fy->first_year, *c.first_year);
			EXPECT_EQ(fy->label, c.label);
			EXPECT_EQ(fy->first_day, D(*c.first_year, 4, 1));
		}
	}
}

} // namespace
} // namespace balatrix::core
