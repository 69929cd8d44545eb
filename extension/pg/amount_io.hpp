/*
 * PG zone: exact conversion between SQL numeric and core::Amount4 (units of ₹0.0001), and the
 * argument checks shared by the billing-arithmetic wrappers (gst.cpp, calendar.cpp, invoice.cpp).
 *
 * No floating point: a numeric is read through its canonical text (numeric_out) with
 * core::ParseAmount4, and written with int64_div_fast_to_numeric, which builds the numeric from the
 * integer and a power of ten. Trailing zeros beyond the 4th decimal ("1.50000", what numeric
 * arithmetic often produces) are dropped before parsing: that changes no value. A non-zero 5th
 * decimal is refused (22023), never rounded; a magnitude beyond the core's range is 22003; NaN and
 * ±Infinity are 22023.
 *
 * Every function here may ereport; callers hold no C++ object with a destructor (guard.hpp).
 */
#pragma once

#include "balatrix/core/calendar.hpp"
#include "balatrix/core/money.hpp"

#include <string_view>

#include "guard.hpp"

extern "C" {
#include "utils/numeric.h"
}

namespace balatrix::pg {

// Reads a numeric argument exactly into Amount4. `name` is the SQL parameter name, for messages.
inline core::Amount4
NumericToAmount4(Datum value, const char *name)
{
	char *text = DatumGetCString(DirectFunctionCall1(numeric_out, value));
	size_t len = strlen(text);
	const char *dot = strchr(text, '.');
	bool parsed = false;
	core::Amount4 amount = 0;

	if (strcmp(text, "NaN") == 0 || strcmp(text, "Infinity") == 0 || strcmp(text, "-Infinity") == 0)
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must be a finite number, not %s", name, text)));
	if (dot != nullptr) {
		// Drop zeros beyond the 4th decimal: exact, they are not rounding.
		size_t min_len = (size_t) (dot - text) + 1 + 4;
		while (len > min_len && text[len - 1] == '0')
			text[--len] = '\0';
		if (len > min_len)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			                errmsg("%s has more than 4 decimal places: %s", name, text),
			                errhint("Amounts carry at most 4 decimals (0.0001); round the value first.")));
	}
	Outcome out = CallCore([&] {
		std::optional<core::Amount4> a = core::ParseAmount4(std::string_view(text, len));
		parsed = a.has_value();
		amount = parsed ? *a : 0;
	});
	if (!out.ok)
		RaiseOutcome(out);
	if (!parsed)
		ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("%s is out of range: %s", name, text),
		                errdetail("Amounts are limited to 900000000000000.0000 in magnitude.")));
	return amount;
}

// A whole-paise Amount4 as numeric with 2 decimals (349.00); amount must be a multiple of 100.
inline Datum
PaiseToNumeric(core::Amount4 amount)
{
	return NumericGetDatum(int64_div_fast_to_numeric(amount / 100, 2));
}

// An Amount4 as numeric with 4 decimals.
inline Datum
Amount4ToNumeric(core::Amount4 amount)
{
	return NumericGetDatum(int64_div_fast_to_numeric(amount, 4));
}

// Raises 22023 / 22003 for a core ErrorCode with message, detail and hint (detail / hint may be
// nullptr). message and friends are static or palloc'd strings.
pg_attribute_noreturn() inline void RaiseCoreFault(core::ErrorCode code, const char *message, const char *detail,
                                                   const char *hint)
{
	ereport(ERROR, (errcode(SqlStateOf(code)), errmsg("%s", message), detail ? errdetail("%s", detail) : 0,
	                hint ? errhint("%s", hint) : 0));
	pg_unreachable();
}

// 'monthly', 'quarterly' or 'annual' exactly; 22023 with a hint otherwise (calendar.cpp).
core::BillingCycle BillingCycleFromText(text *arg);

} // namespace balatrix::pg
