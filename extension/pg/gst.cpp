/*
 * PG zone: SQL-callable GST functions.
 *
 *   balatrix.gstin_is_valid(gstin text [, verify_check_character boolean]) -> boolean
 *   balatrix.gstin_state_code(gstin text [, verify_check_character boolean]) -> text
 *   balatrix.gstin_explain(gstin text [, verify_check_character boolean]) -> record
 *   balatrix.gst_state_list() -> setof record
 *
 * All are STRICT (NULL in, NULL out) and never raise for bad input: a malformed GSTIN is a value
 * to report, not an error. The tax arithmetic at the end of the file (gst_line_tax,
 * gst_rate_for_sac) does raise for bad input.
 */
#include "balatrix/core/gst.hpp"

#include "amount_io.hpp"
#include "guard.hpp"

extern "C" {
#include "utils/tuplestore.h"
}

namespace core = balatrix::core;
using balatrix::pg::CallCoreOrRaise;

namespace {

// Result of one check, copied out of core into plain data.
struct GstinFacts {
	bool valid;
	int state_code;          // 0 unless the shape and state are right
	char normalized[16];     // "" unless the length is right
	char expected_check;     // 0 unless the first 14 characters are well formed
	const char *reason;      // static string
	const char *state_name;  // static string or nullptr
};

void
CheckGstinArgument(FunctionCallInfo fcinfo, GstinFacts *facts)
{
	text *arg = PG_GETARG_TEXT_PP(0);
	bool verify = PG_NARGS() > 1 ? PG_GETARG_BOOL(1) : true;
	const char *data = VARDATA_ANY(arg);
	size_t len = VARSIZE_ANY_EXHDR(arg);

	CallCoreOrRaise([&] {
		core::GstinCheck check = core::CheckGstin(std::string_view(data, len), verify);
		facts->valid = check.fault == core::GstinFault::kValid;
		facts->state_code = check.state_code;
		strlcpy(facts->normalized, check.normalized.c_str(), sizeof facts->normalized);
		facts->expected_check = check.expected_check;
		facts->reason = core::GstinFaultMessage(check.fault);
		const core::GstState *state = check.state_code ? core::FindGstState(check.state_code) : nullptr;
		facts->state_name = state ? state->name : nullptr;
	});
}

} // namespace

BALATRIX_PG_FUNCTION(balatrix_gstin_is_valid)
{
	GstinFacts facts;
	CheckGstinArgument(fcinfo, &facts);
	PG_RETURN_BOOL(facts.valid);
}

BALATRIX_PG_FUNCTION(balatrix_gstin_state_code)
{
	GstinFacts facts;
	char code[3];
	CheckGstinArgument(fcinfo, &facts);
	if (!facts.valid)
		PG_RETURN_NULL();
	snprintf(code, sizeof code, "%02d", facts.state_code);
	PG_RETURN_TEXT_P(cstring_to_text(code));
}

BALATRIX_PG_FUNCTION(balatrix_gstin_explain)
{
	GstinFacts facts;
	TupleDesc desc;
	Datum values[6];
	bool nulls[6] = {false, false, false, false, false, false};
	char code[3];
	char check[2];

	if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("balatrix.gstin_explain must be called in a context that accepts a record")));
	desc = BlessTupleDesc(desc);
	CheckGstinArgument(fcinfo, &facts);

	values[0] = BoolGetDatum(facts.valid);
	if (facts.normalized[0] != '\0')
		values[1] = CStringGetTextDatum(facts.normalized);
	else
		nulls[1] = true;
	if (facts.state_code != 0) {
		snprintf(code, sizeof code, "%02d", facts.state_code);
		values[2] = CStringGetTextDatum(code);
		values[3] = CStringGetTextDatum(facts.state_name);
	} else {
		nulls[2] = nulls[3] = true;
	}
	if (facts.expected_check != 0) {
		check[0] = facts.expected_check;
		check[1] = '\0';
		values[4] = CStringGetTextDatum(check);
	} else {
		nulls[4] = true;
	}
	values[5] = CStringGetTextDatum(facts.reason);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// balatrix.gst_state_list(): the compiled-in State / UT table, as rows. The core accessors used
// here are noexcept and return static PODs, so no bridge is needed.
BALATRIX_PG_FUNCTION(balatrix_gst_state_list)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	size_t count = 0;
	const core::GstState *states = core::GstStates(&count);

	InitMaterializedSRF(fcinfo, 0);
	for (size_t i = 0; i < count; ++i) {
		char code[3];
		Datum values[4];
		bool nulls[4] = {false, false, false, false};
		const char *levy = states[i].levy == core::IntraStateLevy::kSgst    ? "SGST"
		                   : states[i].levy == core::IntraStateLevy::kUtgst ? "UTGST"
		                                                                     : "NONE";
		snprintf(code, sizeof code, "%02d", states[i].code);
		values[0] = CStringGetTextDatum(code);
		values[1] = CStringGetTextDatum(states[i].name);
		values[2] = CStringGetTextDatum(levy);
		values[3] = BoolGetDatum(states[i].gstin_prefix);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

// ---- tax arithmetic ------------------------------------------------------------------------------
//
//   balatrix.gst_line_tax(taxable, gst_rate, supplier_state, place_of_supply, tax_exempt, currency)
//       -> (regime, cgst, sgst, utgst, igst)
//   balatrix.gst_rate_for_sac(sac) -> numeric (percent)
//
// Both STRICT. Bad input raises 22023 (22003 for an amount out of range) with the value in the
// message; nothing is rounded silently.

namespace {

// An Amount4 as "123.4567" in palloc'd memory, for messages (no std::string in the PG zone).
char *
AmountText(core::Amount4 amount)
{
	uint64 magnitude = amount < 0 ? (uint64) 0 - (uint64) amount : (uint64) amount;
	return psprintf("%s" UINT64_FORMAT ".%04d", amount < 0 ? "-" : "", magnitude / 10000, (int) (magnitude % 10000));
}

const char *
RegimeName(core::TaxRegime regime)
{
	switch (regime) {
	case core::TaxRegime::kNoTax:
		return "none";
	case core::TaxRegime::kCgstSgst:
		return "cgst_sgst";
	case core::TaxRegime::kCgstUtgst:
		return "cgst_utgst";
	case core::TaxRegime::kIgst:
		return "igst";
	}
	return "none";
}

// A two-digit State / UT code as text ('29', '04', '96'), as the state_code domain holds it.
int
StateCodeArgument(text *arg, const char *name)
{
	const char *data = VARDATA_ANY(arg);
	int len = VARSIZE_ANY_EXHDR(arg);
	if (len != 2 || data[0] < '0' || data[0] > '9' || data[1] < '0' || data[1] > '9')
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("%s must be a two-digit GST State code, not \"%s\"", name, text_to_cstring(arg)),
		                errhint("Use the codes of balatrix.gst_states, e.g. '29' for Karnataka.")));
	return (data[0] - '0') * 10 + (data[1] - '0');
}

// A GST rate in percent with at most 2 decimals (18, 18.00, 0.25), as basis points.
int32
GstRateArgument(Datum value)
{
	core::Amount4 units = balatrix::pg::NumericToAmount4(value, "gst_rate");
	if (units % 100 != 0 || units < 0 || units > core::kMaxGstRateBp * 100)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("gst_rate must be a percentage between 0 and 40 with at most 2 decimals"),
		                errdetail("gst_rate is %s.", AmountText(units))));
	return (int32) (units / 100);
}

} // namespace

BALATRIX_PG_FUNCTION(balatrix_gst_line_tax)
{
	core::Amount4 taxable = balatrix::pg::NumericToAmount4(PG_GETARG_DATUM(0), "taxable");
	int32 rate_bp = GstRateArgument(PG_GETARG_DATUM(1));
	int supplier = StateCodeArgument(PG_GETARG_TEXT_PP(2), "supplier_state");
	int place = StateCodeArgument(PG_GETARG_TEXT_PP(3), "place_of_supply");
	bool exempt = PG_GETARG_BOOL(4);
	text *currency = PG_GETARG_TEXT_PP(5);
	const char *currency_data = VARDATA_ANY(currency);
	size_t currency_len = VARSIZE_ANY_EXHDR(currency);
	core::GstFault fault = core::GstFault::kOk;
	core::TaxRegime regime = core::TaxRegime::kNoTax;
	core::TaxHeads heads;
	TupleDesc desc;
	Datum values[5];
	bool nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("balatrix.gst_line_tax must be called in a context that accepts a record")));
	desc = BlessTupleDesc(desc);

	CallCoreOrRaise([&] {
		core::TaxRegimeDecision decision =
		    core::DetermineTaxRegime(supplier, place, exempt, std::string_view(currency_data, currency_len));
		fault = decision.fault;
		if (fault != core::GstFault::kOk)
			return;
		regime = decision.regime;
		core::LineTax line = core::ComputeLineTax(taxable, rate_bp, regime);
		fault = line.fault;
		heads = line.tax;
	});
	if (fault != core::GstFault::kOk) {
		const char *hint = nullptr;
		if (fault == core::GstFault::kNotPaise)
			hint = "Round the line's taxable value to paise before taxing it.";
		else if (fault == core::GstFault::kUnknownSupplierState || fault == core::GstFault::kUnknownPlaceOfSupply)
			hint = "See balatrix.gst_states; a supplier State must be a GSTIN prefix (01-38, 97).";
		else if (fault == core::GstFault::kBadCurrency)
			hint = "A currency is three upper-case letters (ISO 4217), e.g. INR.";
		balatrix::pg::RaiseCoreFault(core::GstFaultErrorCode(fault), core::GstFaultMessage(fault),
		                             psprintf("taxable %s, gst_rate %d bp, supplier_state %02d, place_of_supply %02d, "
		                                      "currency \"%s\".",
		                                      AmountText(taxable), rate_bp, supplier, place,
		                                      text_to_cstring(currency)),
		                             hint);
	}
	values[0] = CStringGetTextDatum(RegimeName(regime));
	values[1] = balatrix::pg::PaiseToNumeric(heads.cgst);
	values[2] = balatrix::pg::PaiseToNumeric(heads.sgst);
	values[3] = balatrix::pg::PaiseToNumeric(heads.utgst);
	values[4] = balatrix::pg::PaiseToNumeric(heads.igst);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

BALATRIX_PG_FUNCTION(balatrix_gst_rate_for_sac)
{
	text *arg = PG_GETARG_TEXT_PP(0);
	const char *data = VARDATA_ANY(arg);
	size_t len = VARSIZE_ANY_EXHDR(arg);
	core::GstFault fault = core::GstFault::kOk;
	int32 rate_bp = 0;

	CallCoreOrRaise([&] {
		core::GstRateLookup lookup = core::GstRateForSac(std::string_view(data, len));
		fault = lookup.fault;
		rate_bp = lookup.rate_bp;
	});
	if (fault != core::GstFault::kOk)
		ereport(ERROR,
		        (errcode(balatrix::pg::SqlStateOf(core::GstFaultErrorCode(fault))),
		         errmsg("%s: \"%s\"", core::GstFaultMessage(fault), text_to_cstring(arg)),
		         fault == core::GstFault::kBadSac
		             ? errhint("A SAC is 4, 6 or 8 digits starting with 99, e.g. 998412.")
		             : errhint("Only heading 9984 and its groups 99841 / 99842 have a built-in rate; give such a "
		                       "line an explicit GST rate.")));
	PG_RETURN_DATUM(NumericGetDatum(int64_div_fast_to_numeric(rate_bp, 2)));
}
