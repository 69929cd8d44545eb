/*
 * Core zone: civil dates, anniversary billing periods and the Indian financial year (see
 * calendar.hpp for the contracts).
 *
 * Day numbers use Howard Hinnant's days_from_civil / civil_from_days ("chrono-Compatible Low-Level
 * Date Algorithms"): exact integer arithmetic over 400-year eras, no tables, no time_t.
 */
#include "balatrix/core/calendar.hpp"

#include <algorithm>

namespace balatrix::core {
namespace {

// Days from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch; POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE).
constexpr std::int64_t kUnixDaysAt2000 = 10957;
constexpr std::int64_t kMinDayNumber = -730119; // 0001-01-01
constexpr std::int64_t kMaxDayNumber = 2921939; // 9999-12-31
// More months than separate year 1 from year 9999: a larger step can only leave the range, and
// refusing it early keeps index × months far from overflow.
constexpr std::int64_t kMaxMonthStep = 12 * (kMaxYear + 1);

std::int64_t
FloorDiv(std::int64_t a, std::int64_t b)
{
	std::int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Days since 1970-01-01 of a valid civil date.
std::int64_t
DaysFromCivil(std::int64_t y, int m, int d)
{
	y -= m <= 2 ? 1 : 0;
	const std::int64_t era = FloorDiv(y, 400);
	const std::int64_t yoe = y - era * 400;                                   // [0, 399]
	const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; // [0, 365]
	const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           // [0, 146096]
	return era * 146097 + doe - 719468;
}

struct Ymd {
	std::int64_t year;
	int month;
	int day;
};

Ymd
CivilFromDays(std::int64_t z)
{
	z += 719468;
	const std::int64_t era = FloorDiv(z, 146097);
	const std::int64_t doe = z - era * 146097;                                      // [0, 146096]
	const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; // [0, 399]
	const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               // [0, 365]
	const std::int64_t mp = (5 * doy + 2) / 153;                                    // [0, 11]
	const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
	const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
	return Ymd{yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool
IsDigit(char c)
{
	return c >= '0' && c <= '9';
}

void
AppendDigits(std::string *out, int value, int width)
{
	char buffer[8];
	for (int i = width - 1; i >= 0; --i) {
		buffer[i] = static_cast<char>('0' + value % 10);
		value /= 10;
	}
	out->append(buffer, static_cast<std::size_t>(width));
}

} // namespace

bool
IsLeapYear(int year)
{
	return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

int
DaysInMonth(int year, int month)
{
	static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (month < 1 || month > 12)
		return 0;
	return (month == 2 && IsLeapYear(year)) ? 29 : kDays[month - 1];
}

bool
IsValidDate(int year, int month, int day)
{
	return year >= kMinYear && year <= kMaxYear && day >= 1 && day <= DaysInMonth(year, month);
}

std::optional<Date>
Date::FromYmd(int year, int month, int day)
{
	if (!IsValidDate(year, month, day))
		return std::nullopt;
	return Date(year, month, day);
}

std::optional<Date>
Date::FromDayNumber(std::int64_t day_number)
{
	if (day_number < kMinDayNumber || day_number > kMaxDayNumber)
		return std::nullopt;
	Ymd ymd = CivilFromDays(day_number + kUnixDaysAt2000);
	return Date(static_cast<int>(ymd.year), ymd.month, ymd.day);
}

std::optional<Date>
Date::ParseIso(std::string_view text)
{
	if (text.size() != 10 || text[4] != '-' || text[7] != '-')
		return std::nullopt;
	for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
		if (!IsDigit(text[i]))
			return std::nullopt;
	auto number = [&](std::size_t at, std::size_t count) {
		int value = 0;
		for (std::size_t i = at; i < at + count; ++i)
			value = value * 10 + (text[i] - '0');
		return value;
	};
	return FromYmd(number(0, 4), number(5, 2), number(8, 2));
}

Date
Date::Min()
{
	return Date(kMinYear, 1, 1);
}

Date
Date::Max()
{
	return Date(kMaxYear, 12, 31);
}

std::int32_t
Date::DayNumber() const
{
	return static_cast<std::int32_t>(DaysFromCivil(year_, month_, day_) - kUnixDaysAt2000);
}

int
Date::IsoWeekday() const
{
	// Day 0 (2000-01-01) was a Saturday, ISO weekday 6.
	std::int64_t monday_based = (DayNumber() + 5) % 7; // 0 = Monday
	if (monday_based < 0)
		monday_based += 7;
	return static_cast<int>(monday_based) + 1;
}

std::string
Date::ToIso() const
{
	std::string out;
	out.reserve(10);
	AppendDigits(&out, year_, 4);
	out.push_back('-');
	AppendDigits(&out, month_, 2);
	out.push_back('-');
	AppendDigits(&out, day_, 2);
	return out;
}

std::int64_t
DaysBetween(Date from, Date to)
{
	return static_cast<std::int64_t>(to.DayNumber()) - from.DayNumber();
}

std::optional<Date>
AddDays(Date date, std::int64_t days)
{
	// Both bounds are checked before adding, so no int64 can overflow.
	if (days < kMinDayNumber - kMaxDayNumber || days > kMaxDayNumber - kMinDayNumber)
		return std::nullopt;
	return Date::FromDayNumber(date.DayNumber() + days);
}

std::optional<Date>
AddMonths(Date from, std::int64_t months, int anchor_day)
{
	if (anchor_day < 1 || anchor_day > 31 || months < -kMaxMonthStep || months > kMaxMonthStep)
		return std::nullopt;
	const std::int64_t total = static_cast<std::int64_t>(from.year()) * 12 + (from.month() - 1) + months;
	const std::int64_t year = FloorDiv(total, 12);
	if (year < kMinYear || year > kMaxYear)
		return std::nullopt;
	const int y = static_cast<int>(year);
	const int m = static_cast<int>(total - year * 12) + 1;
	return Date::FromYmd(y, m, std::min(anchor_day, DaysInMonth(y, m)));
}

std::optional<Date>
AddMonths(Date from, std::int64_t months)
{
	return AddMonths(from, months, from.day());
}

int
MonthsPerCycle(BillingCycle cycle)
{
	switch (cycle) {
	case BillingCycle::kMonthly:
		return 1;
	case BillingCycle::kQuarterly:
		return 3;
	case BillingCycle::kAnnual:
		return 12;
	}
	return 1;
}

const char *
BillingCycleName(BillingCycle cycle)
{
	switch (cycle) {
	case BillingCycle::kMonthly:
		return "monthly";
	case BillingCycle::kQuarterly:
		return "quarterly";
	case BillingCycle::kAnnual:
		return "annual";
	}
	return "monthly";
}

std::optional<BillingCycle>
ParseBillingCycle(std::string_view name)
{
	for (BillingCycle cycle : {BillingCycle::kMonthly, BillingCycle::kQuarterly, BillingCycle::kAnnual})
		if (name == BillingCycleName(cycle))
			return cycle;
	return std::nullopt;
}

std::optional<Period>
BillingPeriod(Date anchor, BillingCycle cycle, std::int64_t index)
{
	const std::int64_t n = MonthsPerCycle(cycle);
	if (index < 0 || index > kMaxMonthStep)
		return std::nullopt;
	std::optional<Date> start = AddMonths(anchor, index * n, anchor.day());
	std::optional<Date> end = AddMonths(anchor, (index + 1) * n, anchor.day());
	if (!start || !end)
		return std::nullopt;
	return Period{*start, *end};
}

std::optional<Period>
NextBillingPeriod(Date previous_end, int anchor_day, BillingCycle cycle)
{
	std::optional<Date> end = AddMonths(previous_end, MonthsPerCycle(cycle), anchor_day);
	if (!end)
		return std::nullopt;
	return Period{previous_end, *end};
}

std::optional<std::int64_t>
BillingPeriodIndex(Date anchor, BillingCycle cycle, Date date)
{
	if (date < anchor)
		return std::nullopt;
	// Whole calendar months from the anchor's month to the date's month, in cycles. The period that
	// starts in the date's month may start after the date (anchor on the 31st, date on the 15th),
	// in which case the date belongs to the one before; it never ends on or before the date, since
	// its end lies in a later month.
	const std::int64_t months =
		(static_cast<std::int64_t>(date.year()) - anchor.year()) * 12 + (date.month() - anchor.month());
	std::int64_t index = months / MonthsPerCycle(cycle);
	std::optional<Period> period = BillingPeriod(anchor, cycle, index);
	if (period && date < period->start) {
		--index;
		period = BillingPeriod(anchor, cycle, index);
	}
	if (!period)
		return std::nullopt;
	return index;
}

Period
FinancialYear::AsPeriod() const
{
	// last_day is at most 9999-03-31 (FinancialYearOf guarantees it), so the next day exists.
	return Period{first_day, *AddDays(last_day, 1)};
}

std::optional<FinancialYear>
FinancialYearOf(Date date)
{
	const int first_year = date.month() >= 4 ? date.year() : date.year() - 1;
	std::optional<Date> first_day = Date::FromYmd(first_year, 4, 1);
	std::optional<Date> last_day = Date::FromYmd(first_year + 1, 3, 31);
	if (!first_day || !last_day)
		return std::nullopt;
	FinancialYear fy;
	fy.first_year = first_year;
	fy.first_day = *first_day;
	fy.last_day = *last_day;
	fy.label.reserve(4);
	AppendDigits(&fy.label, first_year % 100, 2);
	AppendDigits(&fy.label, (first_year + 1) % 100, 2);
	return fy;
}

std::optional<FinancialYear>
FinancialYearFromLabel(std::string_view label)
{
	if (label.size() != 4 || !std::all_of(label.begin(), label.end(), IsDigit))
		return std::nullopt;
	const int first = (label[0] - '0') * 10 + (label[1] - '0');
	const int second = (label[2] - '0') * 10 + (label[3] - '0');
	if (second != (first + 1) % 100)
		return std::nullopt;
	return FinancialYearOf(*Date::FromYmd(2000 + first, 4, 1));
}

} // namespace balatrix::core
