/*
 * Core zone: civil dates, anniversary billing periods and the Indian financial year.
 *
 * Dates are proleptic Gregorian calendar days without a time or a zone: a billing period is a run
 * of days [start, end), as the invoice printing it shows them. Whoever turns an instant into a date
 * picks the zone (Asia/Kolkata for invoices); nothing here knows about zones.
 *
 * Day numbers count days since 2000-01-01, which is day 0. That is PostgreSQL's DateADT epoch
 * (POSTGRES_EPOCH_JDATE), so a DateADT passes through unchanged: DateADT 0 is 2000-01-01, -1 is
 * 1999-12-31, 9497 is 2026-01-01. The range here is narrower than PostgreSQL's: years 1 to 9999
 * (day numbers -730119 to 2921939); anything outside is refused as a value (nullopt), never
 * wrapped.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace balatrix::core {

inline constexpr int kMinYear = 1;
inline constexpr int kMaxYear = 9999;

// A valid calendar date in [0001-01-01, 9999-12-31]. It cannot hold an invalid date: the only ways
// to make one are the factories below, which refuse 2025-02-30 and friends. Default-constructed, it
// is 2000-01-01 (day 0). Cheap to copy; ordered by time.
class Date {
public:
	Date() = default;

	// nullopt unless 1 <= year <= 9999, 1 <= month <= 12 and 1 <= day <= DaysInMonth(year, month).
	static std::optional<Date> FromYmd(int year, int month, int day);
	// nullopt outside [-730119, 2921939] (years 1-9999).
	static std::optional<Date> FromDayNumber(std::int64_t day_number);
	// Exactly "YYYY-MM-DD" (four-digit year, two-digit month and day, ASCII digits); nullopt for
	// anything else, including a valid shape naming an invalid date ("2025-02-29").
	static std::optional<Date> ParseIso(std::string_view text);

	static Date Min(); // 0001-01-01
	static Date Max(); // 9999-12-31

	int
	year() const
	{
		return year_;
	}
	int
	month() const
	{
		return month_;
	}
	int
	day() const
	{
		return day_;
	}

	// Days since 2000-01-01 (PostgreSQL DateADT).
	std::int32_t DayNumber() const;
	// ISO weekday, as PostgreSQL's extract(isodow): 1 = Monday ... 7 = Sunday.
	int IsoWeekday() const;
	// "YYYY-MM-DD".
	std::string ToIso() const;

	friend bool
	operator==(Date a, Date b)
	{
		return a.year_ == b.year_ && a.month_ == b.month_ && a.day_ == b.day_;
	}
	friend bool
	operator!=(Date a, Date b)
	{
		return !(a == b);
	}
	friend bool
	operator<(Date a, Date b)
	{
		if (a.year_ != b.year_)
			return a.year_ < b.year_;
		if (a.month_ != b.month_)
			return a.month_ < b.month_;
		return a.day_ < b.day_;
	}
	friend bool
	operator>(Date a, Date b)
	{
		return b < a;
	}
	friend bool
	operator<=(Date a, Date b)
	{
		return !(b < a);
	}
	friend bool
	operator>=(Date a, Date b)
	{
		return !(a < b);
	}

private:
	Date(int year, int month, int day)
		: year_(static_cast<std::int16_t>(year)), month_(static_cast<std::int8_t>(month)),
		  day_(static_cast<std::int8_t>(day))
	{
	}

	std::int16_t year_ = 2000;
	std::int8_t month_ = 1;
	std::int8_t day_ = 1;
};

// Gregorian rule: every 4th year, except centuries, except every 4th century (2000 leap, 2100 not).
// Defined for any int year.
bool IsLeapYear(int year);
// 28-31; 0 when month is outside 1..12.
int DaysInMonth(int year, int month);
bool IsValidDate(int year, int month, int day);

// to - from in days: positive when `to` is later. DaysBetween(d, d) = 0. Never fails.
std::int64_t DaysBetween(Date from, Date to);
// date + days (any sign); nullopt when the result leaves years 1-9999.
std::optional<Date> AddDays(Date date, std::int64_t days);

// Moves `from` by `months` (any sign) and puts the result on `anchor_day` of the target month,
// clamped to that month's last day. The anchor day, not from.day(), is what keeps a schedule from
// drifting: a subscription anchored on the 31st runs Jan 31 -> Feb 28 (29 in a leap year) -> Mar 31
// -> Apr 30, never settling on the 28th, however it is stepped. nullopt when anchor_day is outside
// 1..31 or the result leaves years 1-9999.
std::optional<Date> AddMonths(Date from, std::int64_t months, int anchor_day);
// AddMonths(from, months, from.day()): right when `from` is the anchor itself. To step from a
// clamped date (a period end on Feb 28 of a 31st anchor) use the three-argument form.
std::optional<Date> AddMonths(Date from, std::int64_t months);

// ---- billing cycles and periods --------------------------------------------------------------

// The values of subscriptions.billing_cycle.
enum class BillingCycle {
	kMonthly,
	kQuarterly,
	kAnnual,
};

// 1, 3, 12.
int MonthsPerCycle(BillingCycle cycle);
// "monthly", "quarterly", "annual": the SQL spelling.
const char *BillingCycleName(BillingCycle cycle);
// The SQL spelling exactly (lower case, no spaces); nullopt for anything else.
std::optional<BillingCycle> ParseBillingCycle(std::string_view name);

// A half-open run of days [start, end): `end` is the first day NOT in the period, and the next
// period's start. Days() = DaysBetween(start, end).
struct Period {
	Date start;
	Date end;

	std::int64_t
	Days() const
	{
		return DaysBetween(start, end);
	}
	bool
	Contains(Date date) const
	{
		return start <= date && date < end;
	}
	friend bool
	operator==(const Period &a, const Period &b)
	{
		return a.start == b.start && a.end == b.end;
	}
	friend bool
	operator!=(const Period &a, const Period &b)
	{
		return !(a == b);
	}
};

// Anniversary billing (PRODUCT §7): period `index` (0 = the first) of a subscription anchored on
// `anchor` runs [AddMonths(anchor, index × n), AddMonths(anchor, (index + 1) × n)), n =
// MonthsPerCycle(cycle), every boundary clamped from the anchor's day. Consecutive periods share
// their boundary, so the periods tile time without gaps or overlaps. nullopt for a negative index or
// a period that leaves years 1-9999.
std::optional<Period> BillingPeriod(Date anchor, BillingCycle cycle, std::int64_t index);

// The period that follows one ending on `previous_end`: [previous_end, AddMonths(previous_end, n,
// anchor_day)). Equal to BillingPeriod(anchor, cycle, k + 1) when previous_end is the end of period
// k and anchor_day = anchor.day(): the caller keeps the anchor day (the subscription's), not the
// clamped day of the last boundary. nullopt as AddMonths.
std::optional<Period> NextBillingPeriod(Date previous_end, int anchor_day, BillingCycle cycle);

// The index of the period of `anchor` / `cycle` that contains `date`, so that
// BillingPeriod(anchor, cycle, *index)->Contains(date). nullopt when date < anchor (before the first
// period) or when the containing period does not fit in years 1-9999 (BillingPeriod is nullopt).
std::optional<std::int64_t> BillingPeriodIndex(Date anchor, BillingCycle cycle, Date date);

// ---- Indian financial year (April - March) -----------------------------------------------------

// The financial year that runs from 1 April of first_year to 31 March of first_year + 1 (Rule 46
// numbers invoices per financial year).
struct FinancialYear {
	int first_year = 0; // 2025 for FY 2025-26
	Date first_day;     // 1 April first_year
	Date last_day;      // 31 March first_year + 1, inclusive (as printed)
	std::string label;  // "2526": two digits of each calendar year, as invoices.financial_year
	                    // ('^[0-9]{4}$') and the invoice number carry it; FY 1999-2000 is "9900"

	// [first_day, the next 1 April): the half-open form, for comparison with billing periods.
	Period AsPeriod() const;
};

// The financial year containing `date`; nullopt only when that year does not fit in years 1-9999
// (dates before 0001-04-01 or after 9999-03-31).
std::optional<FinancialYear> FinancialYearOf(Date date);

// Reads a label back. A label has two-digit years, so the century is a convention: the first year
// is taken in 2000-2099 ("2526" -> FY 2025-26, "9900" -> FY 2099-2100; FY 1999-2000 is not
// reachable). nullopt unless it is four ASCII digits whose second pair follows the first ("2526",
// "9900"; not "2527" or "2525").
std::optional<FinancialYear> FinancialYearFromLabel(std::string_view label);

} // namespace balatrix::core
