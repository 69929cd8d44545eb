/*
 * PG zone: SQL-callable pricing arithmetic (extension/core/include/balatrix/core/invoice.hpp).
 *
 *   balatrix.recurring_price(monthly_price numeric, billing_cycle text) -> numeric
 *   balatrix.prorate(amount numeric, days_remaining integer, days_in_period integer) -> numeric
 *   balatrix.prorate_plan_change(old_price, new_price, days_remaining, days_in_period)
 *       -> (unused_old, prorated_new, difference)
 *   balatrix.format_invoice_number(series text, financial_year text, sequence bigint) -> text
 *   balatrix.billing_settings() -> (supplier_state_code, supplier_gstin, invoice_round_off, invoice_series,
 *                                    invoice_due_days)
 *
 * Amounts are read exactly (amount_io.hpp) and every result is whole paise (numeric, 2 decimals).
 * Faults of the core become 22023 (22003 for amounts out of range, and for an invoice number that
 * would exceed 16 characters).
 */
#include "balatrix/core/invoice.hpp"

#include "amount_io.hpp"
#include "guard.hpp"
#include "settings.hpp"

namespace core = balatrix::core;
using balatrix::pg::CallCoreOrRaise;

namespace {

pg_attribute_noreturn() void RaiseInvoiceFault(core::InvoiceFault fault, const char *detail)
{
	const char *hint = nullptr;
	if (fault == core::InvoiceFault::kBadDays)
		hint = "days_in_period is the length of the period (at least 1); days_remaining is 0 to days_in_period.";
	balatrix::pg::RaiseCoreFault(core::InvoiceFaultErrorCode(fault), core::InvoiceFaultMessage(fault), detail, hint);
}

} // namespace

BALATRIX_PG_FUNCTION(balatrix_recurring_price)
{
	core::Amount4 monthly = balatrix::pg::NumericToAmount4(PG_GETARG_DATUM(0), "monthly_price");
	core::BillingCycle cycle = balatrix::pg::BillingCycleFromText(PG_GETARG_TEXT_PP(1));
	core::PriceResult result;

	CallCoreOrRaise([&] { result = core::RecurringPrice(monthly, cycle); });
	if (result.fault != core::InvoiceFault::kOk)
		RaiseInvoiceFault(result.fault, nullptr);
	PG_RETURN_DATUM(balatrix::pg::PaiseToNumeric(result.amount));
}

BALATRIX_PG_FUNCTION(balatrix_prorate)
{
	core::Amount4 amount = balatrix::pg::NumericToAmount4(PG_GETARG_DATUM(0), "amount");
	int32 remaining = PG_GETARG_INT32(1);
	int32 period = PG_GETARG_INT32(2);
	core::PriceResult result;

	CallCoreOrRaise([&] { result = core::Prorate(amount, remaining, period); });
	if (result.fault != core::InvoiceFault::kOk)
		RaiseInvoiceFault(result.fault, psprintf("days_remaining %d, days_in_period %d.", remaining, period));
	PG_RETURN_DATUM(balatrix::pg::PaiseToNumeric(result.amount));
}

BALATRIX_PG_FUNCTION(balatrix_prorate_plan_change)
{
	core::Amount4 old_price = balatrix::pg::NumericToAmount4(PG_GETARG_DATUM(0), "old_price");
	core::Amount4 new_price = balatrix::pg::NumericToAmount4(PG_GETARG_DATUM(1), "new_price");
	int32 remaining = PG_GETARG_INT32(2);
	int32 period = PG_GETARG_INT32(3);
	core::PlanChangeProration result;
	TupleDesc desc;
	Datum values[10];
	bool nulls[10] = {false, false, false, false, false, false, false, false, false, false};

	if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("balatrix.prorate_plan_change must be called in a context that accepts a record")));
	desc = BlessTupleDesc(desc);
	CallCoreOrRaise([&] { result = core::ProratePlanChange(old_price, new_price, remaining, period); });
	if (result.fault != core::InvoiceFault::kOk)
		RaiseInvoiceFault(result.fault, psprintf("days_remaining %d, days_in_period %d.", remaining, period));
	values[0] = balatrix::pg::PaiseToNumeric(result.unused_old);
	values[1] = balatrix::pg::PaiseToNumeric(result.prorated_new);
	values[2] = balatrix::pg::PaiseToNumeric(result.difference);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

BALATRIX_PG_FUNCTION(balatrix_format_invoice_number)
{
	text *series = PG_GETARG_TEXT_PP(0);
	text *fy = PG_GETARG_TEXT_PP(1);
	int64 sequence = PG_GETARG_INT64(2);
	const char *series_data = VARDATA_ANY(series);
	size_t series_len = VARSIZE_ANY_EXHDR(series);
	const char *fy_data = VARDATA_ANY(fy);
	size_t fy_len = VARSIZE_ANY_EXHDR(fy);
	core::InvoiceNumberFault fault = core::InvoiceNumberFault::kOk;
	char number[core::kMaxInvoiceNumberLength + 1];

	number[0] = '\0';
	CallCoreOrRaise([&] {
		core::InvoiceNumberText formatted = core::FormatInvoiceNumber(std::string_view(series_data, series_len),
		                                                              std::string_view(fy_data, fy_len), sequence);
		fault = formatted.fault;
		if (fault == core::InvoiceNumberFault::kOk)
			strlcpy(number, formatted.text.c_str(), sizeof number);
	});
	if (fault != core::InvoiceNumberFault::kOk)
		ereport(ERROR, (errcode(fault == core::InvoiceNumberFault::kTooLong ? ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE
		                                                                    : ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("%s", core::InvoiceNumberFaultMessage(fault)),
		                errdetail("series \"%s\", financial_year \"%s\", sequence " INT64_FORMAT ".",
		                          text_to_cstring(series), text_to_cstring(fy), sequence)));
	PG_RETURN_TEXT_P(cstring_to_text(number));
}

// The settings quote_subscription needs, validated by their check hooks (module.cpp). A function
// rather than current_setting(): calling it loads the module, so a value set before the load has
// been checked (or reset) by the time it is read.
BALATRIX_PG_FUNCTION(balatrix_billing_settings)
{
	TupleDesc desc;
	Datum values[10];
	bool nulls[10] = {false, false, false, false, false, false, false, false, false, false};

	if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("balatrix.billing_settings must be called in a context that accepts a record")));
	desc = BlessTupleDesc(desc);
	values[0] = CStringGetTextDatum(balatrix::pg::supplier_state_code ? balatrix::pg::supplier_state_code : "29");
	if (balatrix::pg::supplier_gstin != nullptr && balatrix::pg::supplier_gstin[0] != '\0')
		values[1] = CStringGetTextDatum(balatrix::pg::supplier_gstin);
	else
		nulls[1] = true;
	values[2] = BoolGetDatum(balatrix::pg::invoice_round_off);
	values[3] = CStringGetTextDatum(balatrix::pg::invoice_series ? balatrix::pg::invoice_series : "INV");
	values[4] = Int32GetDatum(balatrix::pg::invoice_due_days);
	values[5] = CStringGetTextDatum(balatrix::pg::downgrade_timing == balatrix::pg::kDowngradeImmediate ? "immediate"
	                                                                                                   : "period_end");
	values[6] = Int32GetDatum(balatrix::pg::dunning_reminder_days);
	values[7] = Int32GetDatum(balatrix::pg::dunning_suspend_days);
	values[8] = Int32GetDatum(balatrix::pg::cdr_retention_days);
	values[9] = Int32GetDatum(balatrix::pg::outbox_retention_days);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
