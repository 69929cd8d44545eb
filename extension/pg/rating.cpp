/*
 * PG zone: balatrix.rate_call(account, destination, billmsec, started_at) -> record.
 *
 * Prices one call the way the CDR trigger will, and writes nothing: the account (account number or
 * active SIP extension), its newest trial / active subscription started by started_at, the included
 * seconds left in the subscription_usage row of the period containing started_at (0 without a row),
 * the rate index of the subscription's plan (rating_cache.hpp) and core::PriceCall.
 *
 * Order of work: SPI look-ups (PG zone, PODs only) -> normalisation (CallCore) -> the cached index
 * (built with SPI when missing) -> SPI_finish -> pricing (CallCore; results copied into PODs and
 * palloc'd segments) -> the result tuple (PG zone).
 */
#include "balatrix/core/rating.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

#include "amount_io.hpp"
#include "guard.hpp"
#include "rating_cache.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
}

namespace core = balatrix::core;
using balatrix::pg::CallCore;
using balatrix::pg::PgCall;
using balatrix::pg::RaiseOutcome;

namespace {

constexpr int64 kPgEpochOffsetUs = INT64CONST(946684800000000);

struct SegmentOut {
	int64 rate_id;
	int64 seconds;
	int64 included_seconds;
	char charge[32];
};

struct PricedCall {
	bool matched;
	int64 billed_seconds;
	int64 included_seconds;
	int64 rate_id;
	char prefix[24];
	char rate_per_minute[32];
	char connect_fee[32];
	char charge[32];
	size_t segment_count;
	SegmentOut *segments;   // palloc'd in the caller's memory context
};

void
CopyOut(char *dst, size_t size, const std::string &src)
{
	strlcpy(dst, src.c_str(), size);
}

// Core work: match and price; the results are copied into *out.
core::Status
Price(const core::RateIndex *index, std::string_view e164, const core::CallToRate &call, PricedCall *out)
{
	std::vector<const core::Rate *> rates = index->Match(e164, call.start_us);
	out->matched = !rates.empty();
	if (!out->matched)
		return core::Status::Ok();
	core::RatedCall rated;
	core::Status status = core::PriceCall(call, rates, &rated);
	if (!status.ok())
		return status;
	const core::Rate *primary = rates.front();
	for (const core::Rate *rate : rates)
		if (rate->id == rated.primary_rate_id) {
			primary = rate;
			break;
		}
	out->billed_seconds = rated.billed_seconds;
	out->included_seconds = rated.included_seconds;
	out->rate_id = primary->id;
	CopyOut(out->prefix, sizeof out->prefix, primary->prefix);
	CopyOut(out->rate_per_minute, sizeof out->rate_per_minute, core::FormatAmount4(primary->rate_per_minute));
	CopyOut(out->connect_fee, sizeof out->connect_fee, core::FormatAmount4(rated.connect_fee));
	CopyOut(out->charge, sizeof out->charge, core::FormatAmount4(rated.charge));
	size_t count = rated.segments.size();
	PgCall([&] { out->segments = static_cast<SegmentOut *>(palloc(sizeof(SegmentOut) * (count == 0 ? 1 : count))); });
	for (size_t i = 0; i < count; ++i) {
		const core::RatedSegment &segment = rated.segments[i];
		out->segments[i].rate_id = segment.rate_id;
		out->segments[i].seconds = segment.seconds;
		out->segments[i].included_seconds = segment.included_seconds;
		CopyOut(out->segments[i].charge, sizeof out->segments[i].charge, core::FormatAmount4(segment.charge));
	}
	out->segment_count = count;
	return core::Status::Ok();
}

Datum
NumericFromText(const char *text)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

} // namespace

BALATRIX_PG_FUNCTION(balatrix_rate_call)
{
	text *account = PG_GETARG_TEXT_PP(0);
	text *destination = PG_GETARG_TEXT_PP(1);
	int64 billmsec = PG_GETARG_INT64(2);
	TimestampTz started_at = PG_GETARG_TIMESTAMPTZ(3);
	const char *dialled = VARDATA_ANY(destination);
	size_t dialled_len = VARSIZE_ANY_EXHDR(destination);
	TupleDesc desc;
	Oid schema_oid;
	const char *schema;
	Oid rates_oid;
	char *query;
	int rc;
	bool isnull;
	pg_uuid_t account_id;
	pg_uuid_t plan_id;
	pg_uuid_t subscription_id;
	int64 allowance = 0;
	char e164[32];
	const core::RateIndex *index;
	PricedCall priced;
	balatrix::pg::Outcome outcome;
	StringInfoData json;
	Datum values[9];
	bool nulls[9] = {false, false, false, false, false, false, false, false, false};

	e164[0] = '\0';
	if (billmsec < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("billmsec must not be negative: %lld", (long long) billmsec)));
	if (TIMESTAMP_NOT_FINITE(started_at))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("started_at must be a finite time")));
	// The core counts from 1970: keep the shift inside int64 (PostgreSQL allows years up to 294276).
	if (started_at > PG_INT64_MAX - kPgEpochOffsetUs)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("started_at is out of range for rating")));
	if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("balatrix.rate_call must be called in a context that accepts a record")));
	desc = BlessTupleDesc(desc);

	schema_oid = get_func_namespace(fcinfo->flinfo->fn_oid);
	schema = quote_identifier(get_namespace_name(schema_oid));
	rates_oid = get_relname_relid("rates", schema_oid);
	if (!OidIsValid(rates_oid))
		elog(ERROR, "balatrix: table %s.rates is missing", schema);
	balatrix::pg::RatingCacheNoteRatesOid(rates_oid);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "balatrix: SPI_connect failed");

	// The account: an account number, else an active SIP extension.
	{
		Oid argtypes[1] = {TEXTOID};
		Datum args[1] = {PointerGetDatum(account)};
		query = psprintf("SELECT a.id FROM ("
		                 "  SELECT 1 AS pref, ac.id FROM %s.accounts ac WHERE ac.account_number = $1"
		                 "  UNION ALL"
		                 "  SELECT 2, e.account_id FROM %s.sip_extensions e WHERE e.extension = $1 AND e.is_active"
		                 ") a ORDER BY a.pref LIMIT 1",
		                 schema, schema);
		rc = SPI_execute_with_args(query, 1, argtypes, args, nullptr, true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "balatrix: account look-up failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 0)
			ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
			                errmsg("account %s does not exist", quote_literal_cstr(text_to_cstring(account))),
			                errhint("Give an account number or an active SIP extension.")));
		account_id = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}

	// Its subscription: the newest trial / active one started by the call.
	{
		Oid argtypes[2] = {UUIDOID, TIMESTAMPTZOID};
		Datum args[2] = {UUIDPGetDatum(&account_id), TimestampTzGetDatum(started_at)};
		query = psprintf("SELECT s.id, s.rate_plan_id FROM %s.subscriptions s"
		                 " WHERE s.account_id = $1 AND s.status IN ('trial', 'active') AND s.started_at <= $2"
		                 " ORDER BY s.started_at DESC, s.created_at DESC, s.id DESC LIMIT 1",
		                 schema);
		rc = SPI_execute_with_args(query, 2, argtypes, args, nullptr, true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "balatrix: subscription look-up failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 0)
			ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
			                errmsg("account %s has no trial or active subscription at %s",
			                       quote_literal_cstr(text_to_cstring(account)),
			                       DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(started_at))))));
		subscription_id = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		plan_id = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}

	// The included seconds left in the period containing the call (0 without a usage row).
	{
		Oid argtypes[2] = {UUIDOID, TIMESTAMPTZOID};
		Datum args[2] = {UUIDPGetDatum(&subscription_id), TimestampTzGetDatum(started_at)};
		query = psprintf("SELECT greatest(u.included_seconds - u.included_used_seconds, 0)::bigint"
		                 "  FROM %s.subscription_usage u"
		                 " WHERE u.subscription_id = $1 AND u.period_start <= $2 AND $2 < u.period_end"
		                 " ORDER BY u.period_start DESC LIMIT 1",
		                 schema);
		rc = SPI_execute_with_args(query, 2, argtypes, args, nullptr, true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "balatrix: usage look-up failed: %s", SPI_result_code_string(rc));
		if (SPI_processed > 0) {
			Datum v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			allowance = isnull ? 0 : DatumGetInt64(v);
		}
	}

	// The destination, as E.164 digits.
	outcome = CallCore([&] {
		core::NormalizedNumber number;
		core::Status status = core::NormalizeDestination(std::string_view(dialled, dialled_len), &number);
		if (status.ok())
			strlcpy(e164, number.e164.c_str(), sizeof e164);
		return status;
	});
	if (!outcome.ok)
		RaiseOutcome(outcome);

	index = balatrix::pg::RatingCacheGet(&plan_id, schema);
	SPI_finish();

	priced.matched = false;
	priced.segment_count = 0;
	priced.segments = nullptr;
	outcome = CallCore([&] {
		core::CallToRate call;
		call.start_us = started_at + kPgEpochOffsetUs;
		call.billable_ms = billmsec;
		call.answered = billmsec > 0;
		call.allowance_seconds = allowance;
		return Price(index, e164, call, &priced);
	});
	if (!outcome.ok)
		RaiseOutcome(outcome);
	if (!priced.matched)
		ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
		                errmsg("no rate for %s at %s", e164,
		                       DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(started_at)))),
		                errhint("No published deck attached to the subscription's rate plan has a rate for a prefix of "
		                        "the number effective then.")));

	initStringInfo(&json);
	appendStringInfoChar(&json, '[');
	for (size_t i = 0; i < priced.segment_count; ++i) {
		const SegmentOut *s = &priced.segments[i];
		appendStringInfo(&json, "%s{\"rate_id\": %lld, \"seconds\": %lld, \"included_seconds\": %lld, \"charge\": \"%s\"}",
		                 i == 0 ? "" : ", ", (long long) s->rate_id, (long long) s->seconds,
		                 (long long) s->included_seconds, s->charge);
	}
	appendStringInfoChar(&json, ']');

	values[0] = CStringGetTextDatum(e164);
	values[1] = CStringGetTextDatum(priced.prefix);
	values[2] = Int64GetDatum(priced.rate_id);
	values[3] = NumericFromText(priced.rate_per_minute);
	values[4] = Int64GetDatum(priced.billed_seconds);
	values[5] = Int64GetDatum(priced.included_seconds);
	values[6] = NumericFromText(priced.connect_fee);
	values[7] = NumericFromText(priced.charge);
	values[8] = DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// balatrix.match_rate(rate_plan uuid, destination text, at timestamptz): the rate that prices a
// call from this plan to this destination starting at `at` — longest prefix of the published decks
// attached to the plan, the band in force at `at`. No SPI once the plan's index is cached, so it is
// fit for bulk use (SELECT ... FROM numbers). NULLs when nothing matches; 22P02 for a destination
// that does not normalise.
BALATRIX_PG_FUNCTION(balatrix_match_rate)
{
	pg_uuid_t *plan_id = PG_GETARG_UUID_P(0);
	text *destination = PG_GETARG_TEXT_PP(1);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);
	const char *dialled = VARDATA_ANY(destination);
	size_t dialled_len = VARSIZE_ANY_EXHDR(destination);
	const core::RateIndex *index;
	TupleDesc desc;
	Datum values[4];
	bool nulls[4] = {false, false, false, false};
	char e164[32];
	char prefix[32];
	int64 rate_per_minute = 0;   // Amount4
	int64 rate_id = 0;
	bool matched = false;
	balatrix::pg::Outcome outcome;

	if (TIMESTAMP_NOT_FINITE(at) || at > PG_INT64_MAX - kPgEpochOffsetUs)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("at must be a finite time")));
	// The blessed result descriptor is looked up once per call site (fn_extra lives as long as the
	// FmgrInfo), not once per row: the catalog look-up would cost more than the match itself.
	desc = static_cast<TupleDesc>(fcinfo->flinfo->fn_extra);
	if (desc == nullptr) {
		MemoryContext old_context;
		if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
			ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			                errmsg("balatrix.match_rate must be called in a context that accepts a record")));
		old_context = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		MemoryContextSwitchTo(old_context);
		fcinfo->flinfo->fn_extra = desc;
	}

	index = balatrix::pg::RatingCacheFind(plan_id);
	if (index == nullptr) {
		Oid schema_oid = get_func_namespace(fcinfo->flinfo->fn_oid);
		const char *schema = quote_identifier(get_namespace_name(schema_oid));
		Oid rates_oid = get_relname_relid("rates", schema_oid);
		if (!OidIsValid(rates_oid))
			elog(ERROR, "balatrix: table %s.rates is missing", schema);
		balatrix::pg::RatingCacheNoteRatesOid(rates_oid);
		balatrix::pg::ConnectSpiFixedPath();
		index = balatrix::pg::RatingCacheGet(plan_id, schema);
		balatrix::pg::FinishSpiFixedPath();
	}

	outcome = CallCore([&]() -> core::Status {
		core::NormalizedNumber number;
		core::Status status = core::NormalizeDestination(std::string_view(dialled, dialled_len), &number);
		if (!status.ok())
			return status;
		strlcpy(e164, number.e164.c_str(), sizeof e164);
		std::vector<const core::Rate *> rates = index->Match(number.e164, at + kPgEpochOffsetUs);
		if (rates.empty())
			return core::Status::Ok();
		if (rates.size() == 1 && !rates[0]->band) {   // the usual case: one rate, in force all the time
			matched = true;
			rate_id = rates[0]->id;
			strlcpy(prefix, rates[0]->prefix.c_str(), sizeof prefix);
			rate_per_minute = rates[0]->rate_per_minute;
			return core::Status::Ok();
		}
		// The rate in force at `at`: price a 1 ms answered call and take its first segment's rate.
		core::CallToRate call;
		call.start_us = at + kPgEpochOffsetUs;
		call.billable_ms = 1;
		call.answered = true;
		core::RatedCall rated;
		status = core::PriceCall(call, rates, &rated);
		if (!status.ok())
			return status;
		for (const core::Rate *rate : rates)
			if (rate->id == rated.primary_rate_id) {
				matched = true;
				rate_id = rate->id;
				strlcpy(prefix, rate->prefix.c_str(), sizeof prefix);
				rate_per_minute = rate->rate_per_minute;
			}
		return core::Status::Ok();
	});
	if (!outcome.ok && outcome.sqlstate == ERRCODE_NO_DATA_FOUND)
		matched = false;   // a prefix without a rate for this instant's band: no rate
	else if (!outcome.ok)
		balatrix::pg::RaiseOutcome(outcome);

	values[0] = CStringGetTextDatum(e164);
	if (matched) {
		values[1] = Int64GetDatum(rate_id);
		values[2] = CStringGetTextDatum(prefix);
		values[3] = balatrix::pg::Amount4ToNumeric(rate_per_minute);
	} else {
		nulls[1] = nulls[2] = nulls[3] = true;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
