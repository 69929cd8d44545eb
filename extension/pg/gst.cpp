/*
 * PG zone: SQL-callable GST functions.
 *
 *   balatrix.gstin_is_valid(gstin text [, verify_check_character boolean]) -> boolean
 *   balatrix.gstin_state_code(gstin text [, verify_check_character boolean]) -> text
 *   balatrix.gstin_explain(gstin text [, verify_check_character boolean]) -> record
 *
 * All are STRICT (NULL in, NULL out) and never raise for bad input: a malformed GSTIN is a value
 * to report, not an error.
 */
#include "balatrix/core/gst.hpp"

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
