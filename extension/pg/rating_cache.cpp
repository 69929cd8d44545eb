/*
 * PG zone: the per-backend rate cache and its invalidation trigger. See rating_cache.hpp.
 *
 *   balatrix.tg_rating_invalidate() -> trigger   (AFTER ... FOR EACH STATEMENT on rates,
 *                                                  rate_decks and rate_plan_decks)
 */
#include "balatrix/core/rating.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>

#include "guard.hpp"
#include "rating_cache.hpp"

extern "C" {
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/date.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
}

namespace core = balatrix::core;
using balatrix::pg::CallCore;
using balatrix::pg::PgCall;
using balatrix::pg::RaiseOutcome;

namespace {

// PostgreSQL timestamps count from 2000-01-01 UTC, the core from 1970-01-01 UTC.
constexpr int64 kPgEpochOffsetUs = INT64CONST(946684800000000);

// One row of rates as read by SPI: plain data only.
struct RateRow {
	int32 deck_priority;
	int64 id;
	char prefix[24];
	char rate_per_minute[40];
	char connect_fee[40];
	char minimum_charge[40];
	int32 initial_increment;
	int32 subsequent_increment;
	bool charge_unanswered;
	bool uses_allowance;
	int64 effective_from;   // UTC µs since the Unix epoch, or core::kSinceEver
	int64 effective_to;     // UTC µs since the Unix epoch, or core::kForever
	bool has_band;
	int32 band_weekdays;
	int32 band_start;       // seconds after midnight
	int32 band_end;
};

// The cache. Touched only inside CallCore.
struct RateCache {
	uint64 generation = 0;   // the invalidation generation the entries were built in
	Oid rates_oid = InvalidOid;
	std::unordered_map<std::string, core::RateIndex> plans;   // key: the plan id's 16 bytes
};
RateCache rate_cache;

// Bumped by the relcache callback; a plain integer, safe to touch anywhere.
uint64 invalidation_generation = 1;
Oid known_rates_oid = InvalidOid;

void
RatingRelcacheCallback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || (known_rates_oid != InvalidOid && relid == known_rates_oid))
		++invalidation_generation;
}

int64
TimestampToCoreUs(Datum value, bool isnull, int64 if_null)
{
	TimestampTz ts;
	if (isnull)
		return if_null;
	ts = DatumGetTimestampTz(value);
	if (TIMESTAMP_IS_NOBEGIN(ts))
		return core::kSinceEver;
	// infinity, and years so late that the shift to 1970-based µs would overflow, mean "never ends".
	if (TIMESTAMP_IS_NOEND(ts) || ts > PG_INT64_MAX - kPgEpochOffsetUs)
		return core::kForever;
	return ts + kPgEpochOffsetUs;
}

void
CopyNumericText(char *dst, size_t size, Datum value, int64 rate_id, const char *column)
{
	char *text = DatumGetCString(DirectFunctionCall1(numeric_out, value));
	if (strlcpy(dst, text, size) >= size)
		ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
		                errmsg("rate %lld: %s %s is too long", (long long) rate_id, column, text)));
	pfree(text);
}

// PG zone: reads the rates of the published decks attached to a plan into palloc'd rows.
RateRow *
ReadPlanRates(const pg_uuid_t *plan_id, const char *schema, uint64 *count)
{
	char *query = psprintf(
	    "SELECT pd.priority, r.id, r.prefix, r.rate_per_minute, r.initial_increment, r.subsequent_increment, "
	    "       r.connect_fee, r.minimum_charge, r.charge_unanswered, r.uses_allowance, r.effective_from, "
	    "       r.effective_to, r.band_weekdays, r.band_start, r.band_end "
	    "  FROM %s.rate_plan_decks pd "
	    "  JOIN %s.rate_decks d ON d.id = pd.rate_deck_id AND d.status = 'published' "
	    "  JOIN %s.rates r ON r.rate_deck_id = d.id "
	    " WHERE pd.rate_plan_id = $1 "
	    " ORDER BY pd.priority, d.id, r.prefix, r.effective_from, r.id",
	    schema, schema, schema);
	Oid argtypes[1] = {UUIDOID};
	Datum values[1] = {UUIDPGetDatum(const_cast<pg_uuid_t *>(plan_id))};
	int rc = SPI_execute_with_args(query, 1, argtypes, values, nullptr, true, 0);
	RateRow *rows;
	uint64 n;

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "balatrix: reading the rates of a rate plan failed: %s", SPI_result_code_string(rc));
	n = SPI_processed;
	rows = static_cast<RateRow *>(palloc_extended(sizeof(RateRow) * (n == 0 ? 1 : n), MCXT_ALLOC_HUGE));
	for (uint64 i = 0; i < n; ++i) {
		HeapTuple tuple = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		RateRow *row = &rows[i];
		bool isnull;
		char *prefix;

		CHECK_FOR_INTERRUPTS();
		row->deck_priority = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
		row->id = DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull));
		prefix = TextDatumGetCString(SPI_getbinval(tuple, desc, 3, &isnull));
		strlcpy(row->prefix, prefix, sizeof row->prefix);   // the column allows 1..20 digits
		pfree(prefix);
		CopyNumericText(row->rate_per_minute, sizeof row->rate_per_minute, SPI_getbinval(tuple, desc, 4, &isnull),
		                row->id, "rate_per_minute");
		row->initial_increment = DatumGetInt32(SPI_getbinval(tuple, desc, 5, &isnull));
		row->subsequent_increment = DatumGetInt32(SPI_getbinval(tuple, desc, 6, &isnull));
		CopyNumericText(row->connect_fee, sizeof row->connect_fee, SPI_getbinval(tuple, desc, 7, &isnull), row->id,
		                "connect_fee");
		CopyNumericText(row->minimum_charge, sizeof row->minimum_charge, SPI_getbinval(tuple, desc, 8, &isnull),
		                row->id, "minimum_charge");
		row->charge_unanswered = DatumGetBool(SPI_getbinval(tuple, desc, 9, &isnull));
		row->uses_allowance = DatumGetBool(SPI_getbinval(tuple, desc, 10, &isnull));
		{
			Datum v = SPI_getbinval(tuple, desc, 11, &isnull);
			row->effective_from = TimestampToCoreUs(v, isnull, core::kSinceEver);
		}
		{
			Datum v = SPI_getbinval(tuple, desc, 12, &isnull);
			row->effective_to = TimestampToCoreUs(v, isnull, core::kForever);
		}
		{
			Datum v = SPI_getbinval(tuple, desc, 13, &isnull);
			row->has_band = !isnull;
			row->band_weekdays = isnull ? 0 : DatumGetInt16(v);
			v = SPI_getbinval(tuple, desc, 14, &isnull);
			row->band_start = isnull ? 0 : static_cast<int32>(DatumGetTimeADT(v) / USECS_PER_SEC);
			v = SPI_getbinval(tuple, desc, 15, &isnull);
			row->band_end = isnull ? 0 : static_cast<int32>(DatumGetTimeADT(v) / USECS_PER_SEC);
		}
	}
	*count = n;
	return rows;
}

// Core work: builds the index of one plan from its rows and stores it under `key`.
core::Status
BuildIndex(const RateRow *rows, uint64 count, const std::string &key, const core::RateIndex **out)
{
	core::RateIndex index;
	for (uint64 i = 0; i < count; ++i) {
		const RateRow &row = rows[i];
		core::Rate rate;
		// A prefix longer than an E.164 number (15 digits) can match nothing: the column allows 20.
		if (strlen(row.prefix) > 15)
			continue;
		rate.id = row.id;
		rate.prefix = row.prefix;
		std::optional<core::Amount4> per_minute = core::ParseAmount4(row.rate_per_minute);
		std::optional<core::Amount4> connect_fee = core::ParseAmount4(row.connect_fee);
		std::optional<core::Amount4> minimum_charge = core::ParseAmount4(row.minimum_charge);
		if (!per_minute || !connect_fee || !minimum_charge)
			return core::Error{core::ErrorCode::kInvalidParameter,
			                   "rate " + std::to_string(row.id) + " has an amount that cannot be read", "", ""};
		rate.rate_per_minute = *per_minute;
		rate.connect_fee = *connect_fee;
		rate.minimum_charge = *minimum_charge;
		rate.initial_increment = row.initial_increment;
		rate.subsequent_increment = row.subsequent_increment;
		rate.charge_unanswered = row.charge_unanswered;
		rate.uses_allowance = row.uses_allowance;
		rate.effective_from = row.effective_from;
		rate.effective_to = row.effective_to;
		if (row.has_band)
			rate.band = core::TimeBand{static_cast<std::uint8_t>(row.band_weekdays), row.band_start, row.band_end};
		core::Status status = index.Add(row.deck_priority, std::move(rate));
		if (!status.ok()) {
			core::Error error = status.error();
			error.detail = "rate " + std::to_string(row.id) + " (prefix " + row.prefix + "): " + error.message;
			error.message = "a rate of the rate plan's decks cannot be used for rating";
			error.hint = "Fix the rate in a new version of its deck.";
			return error;
		}
	}
	auto [it, inserted] = rate_cache.plans.insert_or_assign(key, std::move(index));
	(void) inserted;
	*out = &it->second;
	return core::Status::Ok();
}

} // namespace

namespace balatrix::pg {

void
RatingCacheRegisterCallback()
{
	CacheRegisterRelcacheCallback(RatingRelcacheCallback, (Datum) 0);
}

void
RatingCacheNoteRatesOid(Oid rates_oid)
{
	if (rates_oid != known_rates_oid) {
		known_rates_oid = rates_oid;
		++invalidation_generation;
	}
}

const core::RateIndex *
RatingCacheFind(const pg_uuid_t *plan_id)
{
	const core::RateIndex *found = nullptr;
	uint64 generation = invalidation_generation;
	Outcome outcome = CallCore([&] {
		if (rate_cache.generation != generation)
			return;
		auto it = rate_cache.plans.find(std::string(reinterpret_cast<const char *>(plan_id->data), UUID_LEN));
		if (it != rate_cache.plans.end())
			found = &it->second;
	});
	if (!outcome.ok)
		RaiseOutcome(outcome);
	return found;
}

const core::RateIndex *
RatingCacheGet(const pg_uuid_t *plan_id, const char *schema)
{
	const core::RateIndex *found = nullptr;
	uint64 generation = invalidation_generation;
	RateRow *rows;
	uint64 count = 0;
	Outcome outcome;

	outcome = CallCore([&] {
		std::string key(reinterpret_cast<const char *>(plan_id->data), UUID_LEN);
		if (rate_cache.generation != generation) {
			rate_cache.plans.clear();
			rate_cache.generation = generation;
		}
		auto it = rate_cache.plans.find(key);
		if (it != rate_cache.plans.end())
			found = &it->second;
	});
	if (!outcome.ok)
		RaiseOutcome(outcome);
	if (found != nullptr)
		return found;

	// Not cached: read the rows (an invalidation processed meanwhile bumps the generation, and
	// the entry stored below under the older one is dropped at the next call).
	rows = ReadPlanRates(plan_id, schema, &count);
	outcome = CallCore([&] {
		return BuildIndex(rows, count, std::string(reinterpret_cast<const char *>(plan_id->data), UUID_LEN), &found);
	});
	pfree(rows);
	if (!outcome.ok)
		RaiseOutcome(outcome);
	return found;
}

} // namespace balatrix::pg

// Statement trigger: every backend's rate cache is stale once this transaction commits (this
// backend's at the next command).
BALATRIX_PG_FUNCTION(balatrix_tg_rating_invalidate)
{
	TriggerData *trigdata;
	Oid rates_oid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("balatrix.tg_rating_invalidate() must be called as a trigger")));
	trigdata = (TriggerData *) fcinfo->context;
	rates_oid = get_relname_relid("rates", RelationGetNamespace(trigdata->tg_relation));
	if (OidIsValid(rates_oid))
		CacheInvalidateRelcacheByRelid(rates_oid);
	return PointerGetDatum(nullptr);
}
