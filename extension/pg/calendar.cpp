/*
 * PG zone: SQL-callable calendar arithmetic (extension/core/include/balatrix/core/calendar.hpp).
 *
 *   balatrix.add_months_clamped(d date, months integer, anchor_day integer DEFAULT NULL) -> date
 *   balatrix.billing_period(anchor date, billing_cycle text, period_index integer)
 *       -> (period_start date, period_end date)
 *   balatrix.financial_year(d date) -> text
 *
 * A DateADT is the core's day number (both count from 2000-01-01). The core covers years 1-9999;
 * a date outside that (or ±infinity) raises 22008 datetime_field_overflow, as does a result that
 * leaves it. add_months_clamped is not STRICT (a NULL anchor_day means "the day of d"); NULL d or
 * months give NULL.
 */
#include "balatrix/core/calendar.hpp"

#include "amount_io.hpp"
#include "guard.hpp"

extern "C" {
#include "utils/date.h"
}

namespace core = balatrix::core;
using balatrix::pg::CallCoreOrRaise;

namespace {

// A date argument as a core Date (its day number); 22008 outside years 1-9999. (Min / Max in
// parentheses: PostgreSQL defines function-like Min / Max macros.)
int32
DayNumberArgument(DateADT value, const char *name)
{
	if (DATE_NOT_FINITE(value))
		ereport(ERROR, (errcode(ERRCODE_DATETIME_FIELD_OVERFLOW), errmsg("%s must be a finite date", name)));
	if (value < (core::Date::Min)().DayNumber() || value > (core::Date::Max)().DayNumber())
		ereport(ERROR, (errcode(ERRCODE_DATETIME_FIELD_OVERFLOW), errmsg("%s is out of range for billing dates", name),
		                errdetail("Billing dates lie between 0001-01-01 and 9999-12-31.")));
	return value;
}

pg_attribute_noreturn() void RaiseDateOverflow(const char *what)
{
	ereport(ERROR, (errcode(ERRCODE_DATETIME_FIELD_OVERFLOW), errmsg("%s is out of range for billing dates", what),
	                errdetail("Billing dates lie between 0001-01-01 and 9999-12-31.")));
	pg_unreachable();
}

// 'monthly', 'quarterly', 'annual' exactly; 22023 otherwise.
core::BillingCycle
BillingCycleArgument(text *arg)
{
	const char *data = VARDATA_ANY(arg);
	size_t len = VARSIZE_ANY_EXHDR(arg);
	bool known = false;
	core::BillingCycle cycle = core::BillingCycle::kMonthly;
	CallCoreOrRaise([&] {
		std::optional<core::BillingCycle> parsed = core::ParseBillingCycle(std::string_view(data, len));
		known = parsed.has_value();
		if (known)
			cycle = *parsed;
	});
	if (!known)
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown billing cycle \"%s\"", text_to_cstring(arg)),
		         errhint("A billing cycle is monthly, quarterly or annual.")));
	return cycle;
}

} // namespace

namespace balatrix::pg {
// Shared with invoice.cpp (recurring_price) and nothing else.
core::BillingCycle
BillingCycleFromText(text *arg)
{
	return BillingCycleArgument(arg);
}
} // namespace balatrix::pg

BALATRIX_PG_FUNCTION(balatrix_add_months_clamped)
{
	int32 day_number;
	int32 months;
	int32 anchor_day;
	bool ok = false;
	int32 result = 0;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	day_number = DayNumberArgument(PG_GETARG_DATEADT(0), "d");
	months = PG_GETARG_INT32(1);
	anchor_day = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2);
	if (!PG_ARGISNULL(2) && (anchor_day < 1 || anchor_day > 31))
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		         errmsg("anchor_day must be between 1 and 31, not %d", anchor_day),
		         errhint("The anchor day is the day of the month a schedule started on; NULL uses the day of d.")));
	CallCoreOrRaise([&] {
		core::Date from = *core::Date::FromDayNumber(day_number);
		std::optional<core::Date> to = core::AddMonths(from, months, anchor_day == 0 ? from.day() : anchor_day);
		ok = to.has_value();
		if (ok)
			result = to->DayNumber();
	});
	if (!ok)
		RaiseDateOverflow("the result");
	PG_RETURN_DATEADT(result);
}

BALATRIX_PG_FUNCTION(balatrix_billing_period)
{
	int32 anchor = DayNumberArgument(PG_GETARG_DATEADT(0), "anchor");
	core::BillingCycle cycle = BillingCycleArgument(PG_GETARG_TEXT_PP(1));
	int32 index = PG_GETARG_INT32(2);
	bool ok = false;
	int32 start = 0;
	int32 end = 0;
	TupleDesc desc;
	Datum values[2];
	bool nulls[2] = {false, false};

	if (index < 0)
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("period_index must not be negative, not %d", index),
		         errhint("Period 0 is the first period, starting on the anchor date.")));
	if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("balatrix.billing_period must be called in a context that accepts a record")));
	desc = BlessTupleDesc(desc);
	CallCoreOrRaise([&] {
		std::optional<core::Period> period = core::BillingPeriod(*core::Date::FromDayNumber(anchor), cycle, index);
		ok = period.has_value();
		if (ok) {
			start = period->start.DayNumber();
			end = period->end.DayNumber();
		}
	});
	if (!ok)
		RaiseDateOverflow("the billing period");
	values[0] = DateADTGetDatum(start);
	values[1] = DateADTGetDatum(end);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

BALATRIX_PG_FUNCTION(balatrix_financial_year)
{
	int32 day_number = DayNumberArgument(PG_GETARG_DATEADT(0), "d");
	bool ok = false;
	char label[8];

	label[0] = '\0';
	CallCoreOrRaise([&] {
		std::optional<core::FinancialYear> fy = core::FinancialYearOf(*core::Date::FromDayNumber(day_number));
		ok = fy.has_value();
		if (ok)
			strlcpy(label, fy->label.c_str(), sizeof label);
	});
	if (!ok)
		RaiseDateOverflow("the financial year of d");
	PG_RETURN_TEXT_P(cstring_to_text(label));
}
