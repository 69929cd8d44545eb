/*
 * PG zone: the CDR rating triggers — the heart of Balatrix.
 *
 *   balatrix.tg_cdr_rate()  BEFORE INSERT FOR EACH ROW on balatrix.cdr (cloned to every partition)
 *   balatrix.tg_cdr_post()  AFTER INSERT FOR EACH STATEMENT on balatrix.cdr, cdr_default and every
 *                           partition create_cdr_partitions makes (a statement aimed at a partition
 *                           fires only that partition's statement triggers)
 *   balatrix.rate_cdr()     how the trigger would rate a stored CDR now, for a given allowance; writes
 *                           nothing (balatrix.rerate, PL/pgSQL, moves the money)
 *
 * Both are SECURITY DEFINER functions owned by balatrix_owner: FreeSWITCH's role (balatrix_ingest)
 * may only INSERT into cdr, yet its INSERT moves money.
 *
 * tg_cdr_rate never raises because of what is in the CDR (reference/freeswitch.md §7.1: a raised
 * error spools the CDR on the switch for good). Every data-dependent step is core code returning a
 * Status (ReadCdr, NormalizeDestination, PriceCall) run inside CallCore; the SPI queries take only
 * values that cannot fail to convert (text parameters, uuids read from our own tables, timestamps
 * we computed), so they can only fail for infrastructure reasons (out of memory, cancel, lock
 * timeout, a deck the core refuses), which must raise. A C++ exception inside CallCore becomes
 * rating_status 'error' with its message.
 *
 * Per row: read the fields (attribute numbers cached per relation oid) -> dedupe through
 * balatrix.cdr_uuids (a duplicate returns NULL: INSERT 0 0) -> [JudgeRow: ReadCdr -> leg vs
 * balatrix.cdr_legs -> times (epochs as they are; stamps placed in balatrix.cdr_timezone with
 * PostgreSQL's own DST rules) -> account (accountcode, extension, DID) -> subscription] -> usage row
 * (locked FOR UPDATE the first time a statement meets it, then tracked in memory) -> [PriceJudged:
 * price with the cached RateIndex] -> rating columns of NEW -> accumulate money per account and
 * usage deltas per usage row. The bracketed steps only read, and are all that rate_cdr runs.
 * The account and subscription answers come from a per-backend look-up cache (see "look-up cache").
 *
 * Money is not moved row by row: tg_cdr_post flushes the accumulations once per statement (one
 * ledger row per account per statement, every CDR carrying its ledger_id), accounts in id order.
 * A single-row statement locks one usage row (BEFORE trigger) then one account (AFTER trigger):
 * concurrent single-row statements always lock in the same order and cannot deadlock.
 *
 * Accumulations live in POD arrays in a memory context under TopMemoryContext (no C++ objects:
 * they are touched from PG-zone code that can ereport). An abort (transaction or subtransaction in
 * which they began) clears them; finding them non-empty at PRE_COMMIT is a bug and raises, because
 * money must never be silently lost.
 */
#include "balatrix/core/cdr.hpp"
#include "balatrix/core/rating.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "amount_io.hpp"
#include "guard.hpp"
#include "rating_cache.hpp"
#include "settings.hpp"

extern "C" {
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_am_d.h"
#include "storage/lmgr.h"
#include "catalog/dependency.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "funcapi.h"
#include "utils/acl.h"
#include "utils/typcache.h"
#include "utils/uuid.h"
}

namespace core = balatrix::core;
using balatrix::pg::CallCore;
using balatrix::pg::Outcome;
using balatrix::pg::PgCall;

namespace {

constexpr int64 kPgEpochOffsetUs = INT64CONST(946684800000000);

// ---- columns ---------------------------------------------------------------------------------------

enum InField {
	IN_ID, IN_UUID, IN_DIRECTION, IN_CALL_UUID, IN_START_STAMP, IN_ANSWER_STAMP, IN_END_STAMP,
	IN_START_UEPOCH, IN_ANSWER_UEPOCH, IN_END_UEPOCH, IN_DURATION, IN_BILLSEC, IN_BILLMSEC, IN_BILLUSEC,
	IN_ACCOUNTCODE, IN_DESTINATION, IN_RATING_STATUS, IN_COUNT
};
const char *const kInNames[IN_COUNT] = {
    "id", "uuid", "direction", "call_uuid", "start_stamp", "answer_stamp", "end_stamp",
    "start_uepoch", "answer_uepoch", "end_uepoch", "duration", "billsec", "billmsec", "billusec",
    "accountcode", "destination_number", "rating_status"};

enum OutField {
	OUT_STATUS, OUT_REASON, OUT_RATED_AT, OUT_LEG, OUT_STARTED_AT, OUT_ANSWERED_AT, OUT_ENDED_AT,
	OUT_BILLABLE_MS, OUT_CUSTOMER_ID, OUT_ACCOUNT_ID, OUT_SUBSCRIPTION_ID, OUT_DESTINATION_E164,
	OUT_RATE_ID, OUT_MATCHED_PREFIX, OUT_RATE_PER_MINUTE, OUT_BILLED_SECONDS, OUT_INCLUDED_SECONDS,
	OUT_CHARGE, OUT_CURRENCY, OUT_LEDGER_ID, OUT_COUNT
};
const char *const kOutNames[OUT_COUNT] = {
    "rating_status", "rating_reason", "rated_at", "leg", "started_at", "answered_at", "ended_at",
    "billable_ms", "customer_id", "account_id", "subscription_id", "destination_e164",
    "rate_id", "matched_prefix", "rate_per_minute", "billed_seconds", "included_seconds",
    "charge", "currency", "ledger_id"};

// Attribute numbers of one relation (parent or partition: a partition made with LIKE + ATTACH, or
// one that had columns dropped, may number them differently). 0 = the column is missing.
struct RelColumns {
	Oid relid;
	int natts;
	AttrNumber in[IN_COUNT];
	AttrNumber out[OUT_COUNT];
};
RelColumns *rel_columns = nullptr;
int rel_columns_count = 0;
int rel_columns_size = 0;

const RelColumns *
ColumnsOf(Relation rel)
{
	TupleDesc desc = RelationGetDescr(rel);
	Oid relid = RelationGetRelid(rel);
	RelColumns *entry;

	for (int i = 0; i < rel_columns_count; ++i)
		if (rel_columns[i].relid == relid && rel_columns[i].natts == desc->natts)
			return &rel_columns[i];
	if (rel_columns_count == rel_columns_size) {
		int size = rel_columns_size == 0 ? 16 : rel_columns_size * 2;
		rel_columns = static_cast<RelColumns *>(
		    rel_columns == nullptr ? MemoryContextAlloc(TopMemoryContext, sizeof(RelColumns) * size)
		                           : repalloc(rel_columns, sizeof(RelColumns) * size));
		rel_columns_size = size;
	}
	entry = &rel_columns[rel_columns_count];
	entry->relid = relid;
	entry->natts = desc->natts;
	for (int i = 0; i < IN_COUNT; ++i) {
		int n = SPI_fnumber(desc, kInNames[i]);
		entry->in[i] = n > 0 ? static_cast<AttrNumber>(n) : 0;
	}
	for (int i = 0; i < OUT_COUNT; ++i) {
		int n = SPI_fnumber(desc, kOutNames[i]);
		entry->out[i] = n > 0 ? static_cast<AttrNumber>(n) : 0;
	}
	++rel_columns_count;
	return entry;
}

// ---- prepared statements ---------------------------------------------------------------------------

enum Plan {
	PLAN_DEDUPE, PLAN_ACCOUNT, PLAN_USAGE_LOCK, PLAN_USAGE_CREATE, PLAN_USAGE_FLUSH,
	PLAN_ACCOUNT_FLUSH, PLAN_ACCOUNT_LOCK, PLAN_SUBSCRIPTIONS, PLAN_FLUSH_ONE, PLAN_COUNT
};
struct Plans {
	Oid schema_oid = InvalidOid;
	SPIPlanPtr plan[PLAN_COUNT] = {};
	Oid ledger_seq = InvalidOid;
	Oid rates_oid = InvalidOid;
	Oid lookup_epoch_oid = InvalidOid; // balatrix.cdr_lookup_epoch: its relcache invalidations empty the look-up cache
	Oid uuids_oid = InvalidOid;   // cdr_uuids
};
Plans plans;

SPIPlanPtr
Prepare(const char *query, int nargs, Oid *argtypes)
{
	SPIPlanPtr plan = SPI_prepare(query, nargs, argtypes);
	if (plan == nullptr)
		elog(ERROR, "balatrix: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "balatrix: SPI_keepplan failed");
	return plan;
}

// PG zone, SPI-connected: the plans of the extension's schema (prepared once per backend; they
// re-plan themselves when a table changes). An extension created again in another schema gets new ones.
void
EnsurePlans(Oid schema_oid)
{
	const char *s;
	Oid ledger;

	if (plans.schema_oid == schema_oid)
		return;
	for (int i = 0; i < PLAN_COUNT; ++i)
		if (plans.plan[i] != nullptr) {
			SPI_freeplan(plans.plan[i]);
			plans.plan[i] = nullptr;
		}
	plans.schema_oid = InvalidOid;
	s = quote_identifier(get_namespace_name(schema_oid));

	{
		Oid t[1] = {TEXTOID};
		plans.plan[PLAN_DEDUPE] = Prepare(
		    psprintf("INSERT INTO %s.cdr_uuids (uuid, received_at) VALUES ($1, now()) ON CONFLICT DO NOTHING", s), 1, t);
	}
	{
		// $1 accountcode (NULL when missing), $2 / $3 the DID candidates (NULL when none).
		Oid t[3] = {TEXTOID, TEXTOID, TEXTOID};
		plans.plan[PLAN_ACCOUNT] = Prepare(
		    psprintf("SELECT a.id, a.customer_id, a.currency::text FROM ("
		             "  SELECT 1 AS pref, ac.id AS account_id FROM %s.accounts ac WHERE ac.account_number = $1"
		             "  UNION ALL"
		             "  SELECT 2, e.account_id FROM %s.sip_extensions e WHERE e.extension = $1 AND e.is_active"
		             "  UNION ALL"
		             "  SELECT 3, d.account_id FROM %s.dids d"
		             "   WHERE d.number IN ($2, $3) AND d.status = 'assigned' AND d.account_id IS NOT NULL"
		             ") x JOIN %s.accounts a ON a.id = x.account_id ORDER BY x.pref LIMIT 1",
		             s, s, s, s),
		    3, t);
	}
	{
		Oid t[2] = {UUIDOID, TIMESTAMPTZOID};
		plans.plan[PLAN_USAGE_LOCK] = Prepare(
		    psprintf("SELECT u.id, u.period_start, u.period_end,"
		             "       greatest(u.included_seconds - u.included_used_seconds, 0)::int8"
		             "  FROM %s.subscription_usage u"
		             " WHERE u.subscription_id = $1 AND u.period_start <= $2 AND $2 < u.period_end"
		             " ORDER BY u.period_start DESC LIMIT 1 FOR UPDATE",
		             s),
		    2, t);
	}
	{
		// The usage row of the period containing $3 (the call's billing start): the current period,
		// or else the anchored period around it (a call after the period ended but before the
		// billing cycle renewed the subscription, or a late CDR of a closed period without a row),
		// never before the subscription started nor overlapping another row. The current period
		// comes first and, when it matches, the other branch is never run (Append under LIMIT 1).
		Oid t[3] = {UUIDOID, INT8OID, TIMESTAMPTZOID};
		plans.plan[PLAN_USAGE_CREATE] = Prepare(
		    psprintf("INSERT INTO %s.subscription_usage (customer_id, subscription_id, period_start, period_end, included_seconds)"
		             " SELECT s.customer_id, s.id, p.ps, p.pe, $2"
		             "   FROM %s.subscriptions s"
		             "   CROSS JOIN LATERAL ("
		             "     SELECT s.current_period_start AS ps, s.current_period_end AS pe"
		             "      WHERE s.current_period_start <= $3 AND $3 < s.current_period_end"
		             "     UNION ALL"
		             "     SELECT x.ps, x.pe FROM ("
		             "       SELECT (%s.add_months_clamped(a.d0, g * a.m, s.anchor_day)::timestamp AT TIME ZONE 'Asia/Kolkata') AS ps,"
		             "              (%s.add_months_clamped(a.d0, (g + 1) * a.m, s.anchor_day)::timestamp AT TIME ZONE 'Asia/Kolkata') AS pe"
		             "         FROM (SELECT (s.current_period_start AT TIME ZONE 'Asia/Kolkata')::date AS d0,"
		             "                      ($3 AT TIME ZONE 'Asia/Kolkata')::date AS bd,"
		             "                      CASE s.billing_cycle WHEN 'quarterly' THEN 3 WHEN 'annual' THEN 12 ELSE 1 END AS m) a,"
		             "              generate_series(floor(((extract(year FROM a.bd) - extract(year FROM a.d0)) * 12"
		             "                                     + extract(month FROM a.bd) - extract(month FROM a.d0)) / a.m)::int - 1,"
		             "                              floor(((extract(year FROM a.bd) - extract(year FROM a.d0)) * 12"
		             "                                     + extract(month FROM a.bd) - extract(month FROM a.d0)) / a.m)::int + 1) g) x"
		             "      WHERE x.ps <= $3 AND $3 < x.pe AND x.ps >= s.started_at"
		             "     LIMIT 1) p"
		             "  WHERE s.id = $1 AND s.current_period_start IS NOT NULL"
		             "    AND NOT EXISTS (SELECT 1 FROM %s.subscription_usage o"
		             "                     WHERE o.subscription_id = s.id AND o.period_start < p.pe AND p.ps < o.period_end)"
		             " ON CONFLICT DO NOTHING",
		             s, s, s, s, s),
		    3, t);
	}
	{
		Oid t[6] = {UUIDOID, INT8OID, INT8OID, TEXTOID, TEXTOID, INT8OID};
		plans.plan[PLAN_USAGE_FLUSH] = Prepare(
		    psprintf("UPDATE %s.subscription_usage SET included_used_seconds = included_used_seconds + $2,"
		             " overage_seconds = overage_seconds + $3, overage_charge = overage_charge + $4::numeric,"
		             " other_charge = other_charge + $5::numeric, call_count = call_count + $6 WHERE id = $1",
		             s),
		    6, t);
	}
	{
		// $1 account, $2 Σ charge (text), $3 ledger id, $4 CDR count, $5 first CDR id, $6 last CDR id.
		// One statement: the balance, its ledger row and the threshold events move together.
		// PLAN_FLUSH_ONE adds PLAN_USAGE_FLUSH (its $1..$6 as $7..$12) for the usual statement: one
		// account, one usage row, both already locked by the row trigger.
		Oid t[12] = {UUIDOID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID,
		             UUIDOID, INT8OID, INT8OID, TEXTOID, TEXTOID, INT8OID};
		const char *ctes = psprintf(
		        "WITH a AS ("
		        "  UPDATE %s.accounts SET balance = balance - $2::numeric WHERE id = $1"
		        "  RETURNING id, customer_id, account_number, account_type, currency, balance,"
		        "            balance + $2::numeric AS old_balance, low_balance_threshold,"
		        "            critical_balance_threshold, credit_limit),"
		        " l AS ("
		        "  INSERT INTO %s.ledger (id, customer_id, account_id, entry_type, amount, currency, balance_after,"
		        "                         reference_type, reference_id, description, metadata)"
		        "  OVERRIDING SYSTEM VALUE"
		        "  SELECT $3, a.customer_id, a.id, 'usage', -($2::numeric), a.currency, a.balance,"
		        "         CASE WHEN $4 = 1 THEN 'cdr' ELSE 'cdr_batch' END, $5::text,"
		        "         CASE WHEN $4 = 1 THEN 'Call charge' ELSE 'Call charges (' || $4 || ' CDRs)' END,"
		        "         jsonb_build_object('cdr_count', $4, 'first_cdr_id', $5, 'last_cdr_id', $6)"
		        "    FROM a RETURNING id),"
		        " e AS ("
		        "  INSERT INTO %s.event_outbox (event_type, customer_id, aggregate_type, aggregate_id, payload)"
		        "  SELECT ev.event_type, a.customer_id, 'account', a.id::text,"
		        "         jsonb_build_object('account_id', a.id, 'account_number', a.account_number,"
		        "                            'balance', a.balance, 'threshold', ev.threshold)"
		        "    FROM a CROSS JOIN LATERAL (VALUES"
		        "      ('balance.low', a.low_balance_threshold, a.account_type = 'prepaid'"
		        "          AND a.old_balance >= a.low_balance_threshold AND a.balance < a.low_balance_threshold),"
		        "      ('balance.critical', a.critical_balance_threshold, a.account_type = 'prepaid'"
		        "          AND a.old_balance >= a.critical_balance_threshold AND a.balance < a.critical_balance_threshold),"
		        "      ('credit_limit.exceeded', a.credit_limit, a.account_type = 'postpaid'"
		        "          AND -a.old_balance <= a.credit_limit AND -a.balance > a.credit_limit)"
		        "    ) AS ev (event_type, threshold, fires)"
		        "   WHERE ev.fires RETURNING id)",
		        s, s, s);
		plans.plan[PLAN_ACCOUNT_FLUSH] = Prepare(
		    psprintf("%s SELECT (SELECT count(*) FROM a)::int8, (SELECT count(*) FROM l)::int8", ctes), 6, t);
		plans.plan[PLAN_FLUSH_ONE] = Prepare(
		    psprintf("%s, u AS ("
		             "  UPDATE %s.subscription_usage SET included_used_seconds = included_used_seconds + $8,"
		             "   overage_seconds = overage_seconds + $9, overage_charge = overage_charge + $10::numeric,"
		             "   other_charge = other_charge + $11::numeric, call_count = call_count + $12 WHERE id = $7 RETURNING 1)"
		             " SELECT (SELECT count(*) FROM a)::int8, (SELECT count(*) FROM l)::int8, (SELECT count(*) FROM u)::int8",
		             ctes, s),
		    12, t);
	}
	{
		// Locks the account before its ledger id is drawn, so that ledger ids of one account follow
		// the order in which its balance changes (check_ledger compares the balance with the
		// balance_after of the highest id). NO KEY UPDATE, the lock the UPDATE takes anyway: it does
		// not block the FOR KEY SHARE of foreign-key checks on ledger inserts.
		Oid t[1] = {UUIDOID};
		plans.plan[PLAN_ACCOUNT_LOCK] =
		    Prepare(psprintf("SELECT 1 FROM %s.accounts WHERE id = $1 FOR NO KEY UPDATE", s), 1, t);
	}
	{
		// The subscription candidates of an account (trial, active, suspended), newest first: the
		// subscription of a call is the first with started_at <= its billing start (look-up cache).
		Oid t[1] = {UUIDOID};
		plans.plan[PLAN_SUBSCRIPTIONS] = Prepare(
		    psprintf("SELECT s.id, s.rate_plan_id, s.current_period_start, s.current_period_end,"
		             "       CASE s.billing_cycle WHEN 'quarterly' THEN 3 WHEN 'annual' THEN 12 ELSE 1 END::int4,"
		             "       p.included_minutes::int8, s.started_at"
		             "  FROM %s.subscriptions s JOIN %s.rate_plans p ON p.id = s.rate_plan_id"
		             " WHERE s.account_id = $1 AND s.status IN ('trial', 'active', 'suspended')"
		             " ORDER BY s.started_at DESC, s.created_at DESC, s.id DESC",
		             s, s),
		    1, t);
	}
	ledger = get_relname_relid("ledger", schema_oid);
	if (!OidIsValid(ledger))
		elog(ERROR, "balatrix: table %s.ledger is missing", s);
	plans.ledger_seq = getIdentitySequence(ledger, 1, false);
	plans.rates_oid = get_relname_relid("rates", schema_oid);
	plans.lookup_epoch_oid = get_relname_relid("cdr_lookup_epoch", schema_oid);
	plans.uuids_oid = get_relname_relid("cdr_uuids", schema_oid);
	plans.schema_oid = schema_oid;
}

// ---- accumulations (per backend, per statement) -----------------------------------------------------

struct AccountAccum {
	pg_uuid_t account_id;
	int64 charge;        // Amount4
	int64 cdr_count;
	int64 first_cdr_id;
	int64 last_cdr_id;
	int64 ledger_id;
};

struct UsageAccum {
	pg_uuid_t usage_id;
	pg_uuid_t subscription_id;
	TimestampTz period_start;
	TimestampTz period_end;
	int64 remaining;     // included seconds left, as locked plus what this statement used
	int64 included_used;
	int64 overage_seconds;
	int64 overage_charge;   // Amount4
	int64 other_charge;     // Amount4
	int64 call_count;
};

// The look-up cache's generations (see "look-up cache" below).
uint64 lookup_generation = 1;        // bumped by the relcache callback
uint64 lookup_xact_generation = 1;   // lookup_generation when the previous transaction ended

MemoryContext accum_context = nullptr;
AccountAccum *accounts = nullptr;
int account_count = 0, account_size = 0;
UsageAccum *usages = nullptr;
int usage_count = 0, usage_size = 0;
SubTransactionId accum_subxid = InvalidSubTransactionId;   // where the accumulation began

void
ClearAccumulations()
{
	accounts = nullptr;
	usages = nullptr;
	account_count = account_size = usage_count = usage_size = 0;
	accum_subxid = InvalidSubTransactionId;
	if (accum_context != nullptr)
		MemoryContextReset(accum_context);
}

bool
AccumulationsEmpty()
{
	return account_count == 0 && usage_count == 0;
}

void
NoteAccumulationStart()
{
	if (AccumulationsEmpty() && accum_subxid == InvalidSubTransactionId)
		accum_subxid = GetCurrentSubTransactionId();
	if (accum_context == nullptr)
		accum_context = AllocSetContextCreate(TopMemoryContext, "balatrix CDR accumulations", ALLOCSET_SMALL_SIZES);
}

template <typename T>
T *
Grow(T *array, int *size)
{
	int n = *size == 0 ? 8 : *size * 2;
	T *grown = static_cast<T *>(array == nullptr ? MemoryContextAlloc(accum_context, sizeof(T) * n)
	                                              : repalloc(array, sizeof(T) * n));
	*size = n;
	return grown;
}

AccountAccum *
FindAccount(const pg_uuid_t *id)
{
	for (int i = account_count - 1; i >= 0; --i)
		if (memcmp(accounts[i].account_id.data, id->data, UUID_LEN) == 0)
			return &accounts[i];
	return nullptr;
}

UsageAccum *
FindUsage(const pg_uuid_t *subscription_id, TimestampTz at)
{
	for (int i = usage_count - 1; i >= 0; --i)
		if (memcmp(usages[i].subscription_id.data, subscription_id->data, UUID_LEN) == 0 &&
		    usages[i].period_start <= at && at < usages[i].period_end)
			return &usages[i];
	return nullptr;
}

void
CdrXactCallback(XactEvent event, void *arg)
{
	switch (event) {
	case XACT_EVENT_ABORT:
	case XACT_EVENT_PARALLEL_ABORT:
	case XACT_EVENT_COMMIT:
	case XACT_EVENT_PARALLEL_COMMIT:
	case XACT_EVENT_PREPARE:
		ClearAccumulations();
		lookup_xact_generation = lookup_generation;
		break;
	case XACT_EVENT_PRE_COMMIT:
	case XACT_EVENT_PARALLEL_PRE_COMMIT:
	case XACT_EVENT_PRE_PREPARE:
		if (!AccumulationsEmpty()) {
			ClearAccumulations();
			// A CDR was rated but its statement's tg_cdr_post never ran (a partition without the
			// statement trigger, or the trigger disabled): committing would lose its money.
			ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
			                errmsg("balatrix: rated CDR charges were not posted to the ledger"),
			                errhint("Every CDR partition needs the tg_cdr_post statement trigger "
			                        "(balatrix.create_cdr_partitions adds it).")));
		}
		break;
	}
}

void
CdrSubXactCallback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	// Accumulations that began in the aborted subtransaction (or a deeper one) belong to rows it
	// rolled back. (Ones begun in an outer level belong to a statement still running there.)
	if (event == SUBXACT_EVENT_ABORT_SUB && accum_subxid != InvalidSubTransactionId && accum_subxid >= mySubid)
		ClearAccumulations();
}

// ---- look-up cache (per backend) ------------------------------------------------------------------
//
// What JudgeRow's account and subscription queries answer, kept across statements and transactions:
// accountcode -> account (PLAN_ACCOUNT with the accountcode only: account number, else active
// extension), DID number -> account (PLAN_ACCOUNT with that DID only), account -> its candidate
// subscriptions (PLAN_SUBSCRIPTIONS). Answers that found nothing are kept too.
//
// Invalidation, as for the rate cache: balatrix.tg_cdr_lookup_invalidate (statement trigger of
// accounts — the columns read here only —, sip_extensions, dids, subscriptions, rate_plans) queues
// a relcache invalidation of balatrix.cdr_lookup_epoch, an empty table nothing reads (invalidating
// accounts itself would also invalidate every cached plan that reads accounts, and the billing cycle
// would replan its statements for every subscription it renews); the relcache callback bumps
// lookup_generation, and
// the cache is emptied when next consulted under a newer generation. Snapshots: an answer must not
// be cached from a snapshot older than an invalidation already processed (the change it announces
// would be missing from the answer, and nothing would drop it later). Invalidations processed in
// the current transaction move lookup_generation away from lookup_xact_generation (its value at the
// end of the previous transaction, before this transaction's first snapshot); from then on until
// the transaction ends the cache holds the answers of one snapshot only (LookupUsable). Every use first
// accepts pending invalidations, so a change committed before the current statement's snapshot
// is always noticed (a statement of an explicit transaction may otherwise take no new lock).
//
// Plain data in dynahash tables in their own memory context (PG zone, no C++ objects).

struct LookupKey {
	char kind;        // 'c' accountcode, 'd' DID number
	char text[63];    // zero-padded (hashed as bytes)
};
struct AccountLookup {
	LookupKey key;
	bool found;
	pg_uuid_t account_id;
	pg_uuid_t customer_id;
	char currency[8];
};
struct SubscriptionCandidate {
	pg_uuid_t id;
	pg_uuid_t plan_id;
	TimestampTz started_at;
	bool has_period;
	TimestampTz period_start, period_end;
	int32 cycle_months;
	int64 included_minutes;
};
struct SubscriptionLookup {
	pg_uuid_t account_id;
	int count;
	SubscriptionCandidate *candidates;   // in lookup_context, in PLAN_SUBSCRIPTIONS order
};

constexpr long kLookupMaxEntries = 50000;   // emptied beyond this (a few MB)

uint64 lookup_built_generation = 0;  // the generation the tables' entries were read in
Oid lookup_watch_oid = InvalidOid;   // balatrix.accounts, the relation the invalidations name
Oid lookup_tables_oid = InvalidOid;  // accounts oid the tables were filled for
MemoryContext lookup_context = nullptr;
HTAB *account_lookups = nullptr;
HTAB *subscription_lookups = nullptr;
long lookup_entries = 0;

void
LookupRelcacheCallback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || (lookup_watch_oid != InvalidOid && relid == lookup_watch_oid))
		++lookup_generation;
}

void
LookupReset()
{
	account_lookups = nullptr;
	subscription_lookups = nullptr;
	lookup_entries = 0;
	if (lookup_context != nullptr)
		MemoryContextReset(lookup_context);
}

// The identity of an MVCC snapshot: two snapshots with equal signatures see the same rows.
struct SnapSignature {
	TransactionId xmin, xmax;
	CommandId curcid;
	uint32 xcnt;
	int32 subxcnt;
	bool suboverflowed;
	TransactionId xip[32];
	TransactionId subxip[32];
};

// PG zone: the signature of the active snapshot; false when there is none or it is too large.
bool
ActiveSnapSignature(SnapSignature *sig)
{
	Snapshot snap;

	if (!ActiveSnapshotSet())
		return false;
	snap = GetActiveSnapshot();
	if (snap->snapshot_type != SNAPSHOT_MVCC || snap->xcnt > lengthof(sig->xip) ||
	    snap->subxcnt < 0 || snap->subxcnt > static_cast<int32>(lengthof(sig->subxip)))
		return false;
	memset(sig, 0, sizeof *sig);
	sig->xmin = snap->xmin;
	sig->xmax = snap->xmax;
	sig->curcid = snap->curcid;
	sig->xcnt = snap->xcnt;
	sig->subxcnt = snap->subxcnt;
	sig->suboverflowed = snap->suboverflowed;
	if (snap->xcnt > 0)
		memcpy(sig->xip, snap->xip, sizeof(TransactionId) * snap->xcnt);
	if (snap->subxcnt > 0)
		memcpy(sig->subxip, snap->subxip, sizeof(TransactionId) * snap->subxcnt);
	return true;
}

bool lookup_built_per_snapshot = false;   // the tables hold answers of one snapshot only
SnapSignature lookup_built_snapshot;

// PG zone: true when the cache may be used (and then its tables exist and are current).
//
// Normally (no invalidation processed in this transaction) the answers are kept across statements
// and transactions. After one (lookup_generation != lookup_xact_generation), answers read from a
// snapshot taken before it could lack the change it announced: the tables then keep answers of one
// snapshot only (the active one: all rows of one INSERT ... SELECT or COPY), and are emptied when
// the snapshot or the transaction changes.
bool
LookupUsable()
{
	HASHCTL ctl;
	bool per_snapshot;
	SnapSignature sig;

	if (!OidIsValid(plans.lookup_epoch_oid))
		return false;
	if (lookup_watch_oid != plans.lookup_epoch_oid) {
		// Invalidations of this relation processed so far in this transaction were not counted.
		lookup_watch_oid = plans.lookup_epoch_oid;
		++lookup_generation;
	}
	AcceptInvalidationMessages();
	per_snapshot = lookup_generation != lookup_xact_generation;
	if (per_snapshot && !ActiveSnapSignature(&sig))
		return false;
	if (lookup_built_generation != lookup_generation || lookup_tables_oid != plans.lookup_epoch_oid ||
	    lookup_entries > kLookupMaxEntries || per_snapshot != lookup_built_per_snapshot ||
	    (per_snapshot && memcmp(&sig, &lookup_built_snapshot, sizeof sig) != 0))
		LookupReset();
	if (account_lookups == nullptr) {
		if (lookup_context == nullptr)
			lookup_context = AllocSetContextCreate(TopMemoryContext, "balatrix CDR look-up cache", ALLOCSET_DEFAULT_SIZES);
		memset(&ctl, 0, sizeof ctl);
		ctl.keysize = sizeof(LookupKey);
		ctl.entrysize = sizeof(AccountLookup);
		ctl.hcxt = lookup_context;
		account_lookups = hash_create("balatrix account look-ups", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		memset(&ctl, 0, sizeof ctl);
		ctl.keysize = sizeof(pg_uuid_t);
		ctl.entrysize = sizeof(SubscriptionLookup);
		ctl.hcxt = lookup_context;
		subscription_lookups = hash_create("balatrix subscription look-ups", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		lookup_built_generation = lookup_generation;
		lookup_tables_oid = plans.lookup_epoch_oid;
		lookup_built_per_snapshot = per_snapshot;
		if (per_snapshot)
			lookup_built_snapshot = sig;
	}
	return true;
}

// PG zone: an answer just read may be kept (no invalidation was processed while it was read).
bool
LookupMayKeep()
{
	return account_lookups != nullptr && lookup_built_generation == lookup_generation &&
	       lookup_built_per_snapshot == (lookup_generation != lookup_xact_generation);
}

// PG zone, SPI-connected: PLAN_ACCOUNT with one of its keys (accountcode, or one DID number).
bool
QueryAccount(char kind, const char *value, AccountLookup *out)
{
	Datum args[3] = {(Datum) 0, (Datum) 0, (Datum) 0};
	char nulls[4] = "nnn";
	bool isnull;
	int rc;

	if (kind == 'c') {
		args[0] = CStringGetTextDatum(value);
		nulls[0] = ' ';
	} else {
		args[1] = CStringGetTextDatum(value);
		nulls[1] = ' ';
	}
	rc = SPI_execute_plan(plans.plan[PLAN_ACCOUNT], args, nulls, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "balatrix: account look-up failed: %s", SPI_result_code_string(rc));
	out->found = SPI_processed > 0;
	if (out->found) {
		out->account_id = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		out->customer_id = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		char *currency = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
		strlcpy(out->currency, currency, sizeof(out->currency));
	}
	return out->found;
}

// PG zone, SPI-connected: the account of an accountcode ('c') or a DID number ('d'), cached.
bool
LookupAccount(char kind, const char *value, AccountLookup *out)
{
	LookupKey key;
	AccountLookup *entry;
	bool found;

	if (strlen(value) >= sizeof key.text || !LookupUsable())
		return QueryAccount(kind, value, out);
	memset(&key, 0, sizeof key);
	key.kind = kind;
	strlcpy(key.text, value, sizeof key.text);
	entry = static_cast<AccountLookup *>(hash_search(account_lookups, &key, HASH_FIND, nullptr));
	if (entry != nullptr) {
		*out = *entry;
		return out->found;
	}
	QueryAccount(kind, value, out);
	// The query may have processed invalidations (its locks): keep the answer only if none came.
	if (LookupMayKeep()) {
		entry = static_cast<AccountLookup *>(hash_search(account_lookups, &key, HASH_ENTER, &found));
		*entry = *out;
		entry->key = key;
		++lookup_entries;
	}
	return out->found;
}

// PG zone, SPI-connected: PLAN_SUBSCRIPTIONS into `into` (palloc'd in `context`).
int
QuerySubscriptions(const pg_uuid_t *account_id, MemoryContext context, SubscriptionCandidate **into)
{
	Datum args[1] = {UUIDPGetDatum(const_cast<pg_uuid_t *>(account_id))};
	SubscriptionCandidate *c;
	bool isnull;
	int rc, n;

	rc = SPI_execute_plan(plans.plan[PLAN_SUBSCRIPTIONS], args, nullptr, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "balatrix: subscription look-up failed: %s", SPI_result_code_string(rc));
	n = static_cast<int>(SPI_processed);
	c = static_cast<SubscriptionCandidate *>(MemoryContextAllocZero(context, sizeof(SubscriptionCandidate) * (n > 0 ? n : 1)));
	for (int i = 0; i < n; ++i) {
		HeapTuple t = SPI_tuptable->vals[i];
		TupleDesc d = SPI_tuptable->tupdesc;
		Datum v;
		c[i].id = *DatumGetUUIDP(SPI_getbinval(t, d, 1, &isnull));
		c[i].plan_id = *DatumGetUUIDP(SPI_getbinval(t, d, 2, &isnull));
		v = SPI_getbinval(t, d, 3, &isnull);
		if (!isnull) {
			c[i].has_period = true;
			c[i].period_start = DatumGetTimestampTz(v);
			c[i].period_end = DatumGetTimestampTz(SPI_getbinval(t, d, 4, &isnull));
		}
		c[i].cycle_months = DatumGetInt32(SPI_getbinval(t, d, 5, &isnull));
		c[i].included_minutes = DatumGetInt64(SPI_getbinval(t, d, 6, &isnull));
		c[i].started_at = DatumGetTimestampTz(SPI_getbinval(t, d, 7, &isnull));
	}
	*into = c;
	return n;
}

// PG zone, SPI-connected: the subscription of (account, billing start): the first candidate started by then; cached
// per account. False when there is none.
bool
LookupSubscription(const pg_uuid_t *account_id, TimestampTz at, SubscriptionCandidate *out)
{
	SubscriptionLookup *entry = nullptr;
	SubscriptionCandidate *candidates;
	int count;
	bool found;

	if (LookupUsable())
		entry = static_cast<SubscriptionLookup *>(hash_search(subscription_lookups, account_id, HASH_FIND, nullptr));
	if (entry != nullptr) {
		candidates = entry->candidates;
		count = entry->count;
	} else {
		count = QuerySubscriptions(account_id, CurrentMemoryContext, &candidates);
		if (LookupMayKeep()) {
			SubscriptionCandidate *kept = static_cast<SubscriptionCandidate *>(
			    MemoryContextAlloc(lookup_context, sizeof(SubscriptionCandidate) * (count > 0 ? count : 1)));
			memcpy(kept, candidates, sizeof(SubscriptionCandidate) * count);
			entry = static_cast<SubscriptionLookup *>(hash_search(subscription_lookups, account_id, HASH_ENTER, &found));
			entry->account_id = *account_id;
			entry->count = count;
			entry->candidates = kept;
			lookup_entries += 1 + count;
		}
	}
	for (int i = 0; i < count; ++i)
		if (candidates[i].started_at <= at) {
			*out = candidates[i];
			return true;
		}
	return false;
}

// ---- time ------------------------------------------------------------------------------------------

// PG zone: a civil time of the switch placed in balatrix.cdr_timezone by PostgreSQL's own rules
// (DetermineTimeZoneOffset: a time in a DST gap is read with the offset before the gap, i.e. moved
// forward; an ambiguous one as standard time), exactly as timestamptz input does. False when out of range.
bool
CivilToTimestamp(const core::CivilTime &civil, pg_tz *zone, TimestampTz *out)
{
	struct pg_tm tm;
	int offset;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = civil.year;
	tm.tm_mon = civil.month;
	tm.tm_mday = civil.day;
	tm.tm_hour = civil.hour;
	tm.tm_min = civil.minute;
	tm.tm_sec = civil.second;
	offset = DetermineTimeZoneOffset(&tm, zone);
	return tm2timestamp(&tm, 0, &offset, out) == 0 && !TIMESTAMP_NOT_FINITE(*out);
}

// ---- the row -----------------------------------------------------------------------------------------

// Facts read by the core, as plain data.
struct ReadOut {
	bool read_ok;
	bool uuid_usable;
	char leg;
	core::CdrInstant start, answer, end;   // trivially destructible
	bool answered;
	int64 billable_ms;
	bool billable_known;   // billmsec, billusec or billsec was present
	bool has_e164;
	char e164[32];
	char normalise_error[256];
	char did1[32];
	char did2[32];
};

// What the trigger writes into NEW.
struct RowResult {
	const char *status;
	char reason[768];
	char leg;
	bool has_started, has_answered, has_ended;
	TimestampTz started, answered, ended;
	bool has_billable;
	int64 billable_ms;
	bool has_account;
	pg_uuid_t customer_id, account_id;
	char currency[8];
	bool has_subscription;
	pg_uuid_t subscription_id;
	bool has_e164;
	char e164[32];
	bool priced;
	int64 rate_id;
	char prefix[24];
	int64 rate_per_minute;   // Amount4
	int64 billed_seconds, included_seconds;
	int64 charge;            // Amount4
	int64 overage_seconds;
	int64 overage_charge;
	bool has_ledger;
	int64 ledger_id;
};

void
SetStatus(RowResult *r, const char *status, const char *reason)
{
	r->status = status;
	strlcpy(r->reason, reason, sizeof r->reason);
}

void
CopyView(char *dst, size_t size, const std::string &src)
{
	strlcpy(dst, src.c_str(), size);
}

// Core: reads the fields and normalises the destination.
core::Status
ReadFields(char *const *field, const bool *present, ReadOut *out)
{
	auto f = [&](int i) -> core::CdrField {
		if (!present[i])
			return std::nullopt;
		return std::string_view(field[i]);
	};
	core::CdrInput input;
	input.uuid = f(IN_UUID);
	input.direction = f(IN_DIRECTION);
	input.call_uuid = f(IN_CALL_UUID);
	input.start_stamp = f(IN_START_STAMP);
	input.answer_stamp = f(IN_ANSWER_STAMP);
	input.end_stamp = f(IN_END_STAMP);
	input.start_uepoch = f(IN_START_UEPOCH);
	input.answer_uepoch = f(IN_ANSWER_UEPOCH);
	input.end_uepoch = f(IN_END_UEPOCH);
	input.duration = f(IN_DURATION);
	input.billsec = f(IN_BILLSEC);
	input.billmsec = f(IN_BILLMSEC);
	input.billusec = f(IN_BILLUSEC);
	out->uuid_usable = !core::CdrFieldMissing(input.uuid);

	core::CdrFacts facts;
	core::Status status = core::ReadCdr(input, &facts);
	out->leg = facts.leg == core::CdrLeg::kB ? 'b' : 'a';
	out->start = facts.start;
	out->answer = facts.answer;
	out->end = facts.end;
	out->answered = facts.answered;
	out->billable_ms = facts.billable_ms;
	out->billable_known = facts.billable_source != core::CdrFacts::BillableSource::kNone;
	out->read_ok = status.ok();

	// The destination: E.164 for rating; for the DID look-up the digits as sent and the national
	// form of an Indian number (9118001230001 -> 18001230001), since dids.number is stored nationally.
	core::CdrField destination = f(IN_DESTINATION);
	if (!core::CdrFieldMissing(destination)) {
		std::string digits;
		for (char c : *destination)
			if (c >= '0' && c <= '9')
				digits.push_back(c);
		if (digits.size() >= 6 && digits.size() <= 15)
			CopyView(out->did1, sizeof out->did1, digits);
		core::NormalizedNumber number;
		core::Status n = core::NormalizeDestination(*destination, &number);
		if (n.ok()) {
			out->has_e164 = true;
			CopyView(out->e164, sizeof out->e164, number.e164);
			if (number.e164.size() > 2 && number.e164.compare(0, 2, "91") == 0)
				CopyView(out->did2, sizeof out->did2, number.e164.substr(2));
		} else {
			CopyView(out->normalise_error, sizeof out->normalise_error, n.error().message);
		}
	} else {
		strlcpy(out->normalise_error, "destination_number is missing", sizeof out->normalise_error);
	}
	return status;
}

// Core: prices the call with the index; splits the charge into overage (uses_allowance rates) and other.
core::Status
PriceRow(const core::RateIndex *index, const char *e164, int64 start_us, const ReadOut &read, int64 allowance,
         RowResult *r, bool *matched)
{
	std::vector<const core::Rate *> rates = index->Match(e164, start_us);
	*matched = !rates.empty();
	if (rates.empty())
		return core::Status::Ok();
	core::CallToRate call;
	call.start_us = start_us;
	call.billable_ms = read.billable_ms;
	call.answered = read.answered;
	call.allowance_seconds = allowance;
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
	int64 overage_seconds = 0, overage_charge = 0;
	for (const core::RatedSegment &segment : rated.segments) {
		for (const core::Rate *rate : rates)
			if (rate->id == segment.rate_id) {
				if (rate->uses_allowance) {
					overage_seconds += segment.seconds - segment.included_seconds;
					overage_charge += segment.charge;
				}
				break;
			}
	}
	r->priced = true;
	r->rate_id = primary->id;
	CopyView(r->prefix, sizeof r->prefix, primary->prefix);
	r->rate_per_minute = primary->rate_per_minute;
	r->billed_seconds = rated.billed_seconds;
	r->included_seconds = rated.included_seconds;
	r->charge = rated.charge;
	r->overage_seconds = overage_seconds;
	// The minimum-charge floor and the connect fee are not overage: they go to other_charge.
	r->overage_charge = overage_charge < rated.charge ? overage_charge : rated.charge;
	return core::Status::Ok();
}

void
FormatAmount(char *dst, size_t size, int64 amount)
{
	// PG zone: Amount4 -> "12.3456" without C++ objects.
	uint64 magnitude = amount < 0 ? static_cast<uint64>(-(amount + 1)) + 1 : static_cast<uint64>(amount);
	snprintf(dst, size, "%s%llu.%04llu", amount < 0 ? "-" : "", (unsigned long long) (magnitude / 10000),
	         (unsigned long long) (magnitude % 10000));
}

Datum
UuidDatum(const pg_uuid_t *u)
{
	pg_uuid_t *copy = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
	*copy = *u;
	return UUIDPGetDatum(copy);
}

// What JudgeRow found out and PriceJudged needs: plain data.
struct RowContext {
	ReadOut read;
	TimestampTz billing_start;
	pg_uuid_t plan_id;
	bool has_period;
	TimestampTz period_start, period_end;
	int32 cycle_months;
	int64 included_minutes;
};

// PG zone, SPI-connected, read-only (no lock, no write: shared by the trigger and balatrix.rate_cdr).
// Reads the fields, the leg, the times, the account and the subscription of one CDR. Returns true
// when the CDR goes on to pricing (r and ctx filled so far); false when r->status is final.
bool
JudgeRow(char *const *field, const bool *present, RowResult *r, RowContext *ctx)
{
	ReadOut &read = ctx->read;
	Outcome outcome;
	pg_tz *zone;

	outcome = CallCore([&] { return ReadFields(field, present, &read); });
	if (!outcome.ok && (outcome.pg_error != nullptr || outcome.sqlstate == ERRCODE_OUT_OF_MEMORY))
		balatrix::pg::RaiseOutcome(outcome);   // infrastructure, not the CDR
	if (!outcome.ok && outcome.sqlstate == ERRCODE_INTERNAL_ERROR) {
		SetStatus(r, "error", outcome.message);
		return false;
	}
	r->leg = read.leg;
	if (outcome.ok) {
		r->has_billable = true;
		r->billable_ms = read.billable_ms;
	}
	if (read.has_e164) {
		r->has_e164 = true;
		strlcpy(r->e164, read.e164, sizeof r->e164);
	}

	// Times, also for invalid CDRs where they could be read.
	zone = pg_tzset(balatrix::pg::cdr_timezone != nullptr ? balatrix::pg::cdr_timezone : "Asia/Kolkata");
	{
		const core::CdrInstant *instants[3] = {&read.start, &read.answer, &read.end};
		bool *has[3] = {&r->has_started, &r->has_answered, &r->has_ended};
		TimestampTz *at[3] = {&r->started, &r->answered, &r->ended};
		for (int i = 0; i < 3; ++i) {
			const core::CdrInstant *instant = instants[i];
			if (instant->source == core::CdrInstant::Source::kEpoch) {
				int64 us = instant->utc_us;
				if (us >= MIN_TIMESTAMP + kPgEpochOffsetUs && us - kPgEpochOffsetUs < END_TIMESTAMP) {
					*at[i] = us - kPgEpochOffsetUs;
					*has[i] = true;
				}
			} else if (instant->source == core::CdrInstant::Source::kStamp && zone != nullptr) {
				*has[i] = CivilToTimestamp(instant->civil, zone, at[i]);
			}
		}
	}

	if (!outcome.ok) {
		SetStatus(r, "invalid", outcome.message);
		return false;
	}
	if ((r->leg == 'a' && balatrix::pg::cdr_legs == balatrix::pg::kCdrLegsB) ||
	    (r->leg == 'b' && balatrix::pg::cdr_legs == balatrix::pg::kCdrLegsA)) {
		SetStatus(r, "skipped",
		          r->leg == 'b' ? "b-leg (direction outbound with the call_uuid of another leg); balatrix.cdr_legs = a"
		                        : "a-leg; balatrix.cdr_legs = b");
		return false;
	}
	if (zone == nullptr) {
		SetStatus(r, "error", "balatrix.cdr_timezone names an unknown time zone");
		return false;
	}
	if (!r->has_started && !r->has_answered) {
		SetStatus(r, "invalid", "the CDR has no usable start time (start_uepoch / start_stamp)");
		return false;
	}
	// An answered leg whose billable time is unknown (billsec '' or '(NULL)' and no billmsec /
	// billusec) must not pass as a free call.
	if (read.answered && !read.billable_known) {
		SetStatus(r, "invalid", "answered, but billmsec, billusec and billsec are all missing");
		return false;
	}
	if (read.billable_ms / 1000 > balatrix::pg::cdr_max_call_seconds) {
		snprintf(r->reason, sizeof r->reason, "billable time %lld s exceeds balatrix.cdr_max_call_seconds (%d)",
		         (long long) (read.billable_ms / 1000), balatrix::pg::cdr_max_call_seconds);
		r->status = "invalid";
		return false;
	}
	ctx->billing_start = r->has_answered ? r->answered : r->started;

	// The account: the accountcode as account number or active extension, else an assigned DID
	// (the digits as sent, then the national form), each answer from the look-up cache.
	{
		bool has_code = present[IN_ACCOUNTCODE] && field[IN_ACCOUNTCODE][0] != '\0';
		AccountLookup account;
		bool found = false;
		memset(&account, 0, sizeof account);
		if (has_code)
			found = LookupAccount('c', field[IN_ACCOUNTCODE], &account);
		if (!found && read.did1[0] != '\0')
			found = LookupAccount('d', read.did1, &account);
		if (!found && read.did2[0] != '\0' && strcmp(read.did1, read.did2) != 0)
			found = LookupAccount('d', read.did2, &account);
		if (!found) {
			char *code = has_code ? psprintf("accountcode %s is neither an account number nor an active extension",
			                                 quote_literal_cstr(field[IN_ACCOUNTCODE]))
			                      : pstrdup("no accountcode");
			snprintf(r->reason, sizeof r->reason, "no account: %s; no assigned DID %s%s%s", code,
			         read.did1[0] != '\0' ? quote_literal_cstr(read.did1) : "(no destination digits)",
			         read.did2[0] != '\0' && strcmp(read.did1, read.did2) != 0 ? " or " : "",
			         read.did2[0] != '\0' && strcmp(read.did1, read.did2) != 0 ? quote_literal_cstr(read.did2) : "");
			r->status = "unknown_account";
			return false;
		}
		r->has_account = true;
		r->account_id = account.account_id;
		r->customer_id = account.customer_id;
		strlcpy(r->currency, account.currency, sizeof r->currency);
	}

	// The subscription: the newest trial / active / suspended one started by the billing start.
	{
		SubscriptionCandidate sub;
		if (!LookupSubscription(&r->account_id, ctx->billing_start, &sub)) {
			SetStatus(r, "no_rate", "no active subscription");
			return false;
		}
		r->has_subscription = true;
		r->subscription_id = sub.id;
		ctx->plan_id = sub.plan_id;
		if (sub.has_period) {
			ctx->has_period = true;
			ctx->period_start = sub.period_start;
			ctx->period_end = sub.period_end;
		}
		ctx->cycle_months = sub.cycle_months;
		ctx->included_minutes = sub.included_minutes;
	}

	// The destination must normalise before any state is touched.
	if (!read.has_e164) {
		SetStatus(r, "invalid", read.normalise_error);
		return false;
	}

	return true;
}

// PG zone, SPI-connected, read-only. Prices a judged CDR against `allowance` included seconds
// left. Returns true when a rate matched and r holds the price (the caller sets the status);
// false when r->status is final (no_rate, invalid, error).
bool
PriceJudged(const RowContext *ctx, int64 allowance, RowResult *r)
{
	const core::RateIndex *index;
	Outcome outcome;
	bool matched = false;

	if (OidIsValid(plans.rates_oid))
		balatrix::pg::RatingCacheNoteRatesOid(plans.rates_oid);
	index = balatrix::pg::RatingCacheGet(&ctx->plan_id, quote_identifier(get_namespace_name(plans.schema_oid)));
	outcome = CallCore([&] {
		return PriceRow(index, ctx->read.e164, ctx->billing_start + kPgEpochOffsetUs, ctx->read, allowance, r, &matched);
	});
	if (!outcome.ok) {
		if (outcome.pg_error != nullptr || outcome.sqlstate == ERRCODE_OUT_OF_MEMORY)
			balatrix::pg::RaiseOutcome(outcome);
		r->priced = false;
		SetStatus(r, outcome.sqlstate == ERRCODE_INTERNAL_ERROR ? "error"
		             : outcome.sqlstate == ERRCODE_NO_DATA_FOUND  ? "no_rate"
		                                                         : "invalid",
		          outcome.message);
		return false;
	}
	if (!matched) {
		snprintf(r->reason, sizeof r->reason, "no rate for %s in the rate plan's published decks", ctx->read.e164);
		r->status = "no_rate";
		return false;
	}

	return true;
}

// ---- dedupe ---------------------------------------------------------------------------------------

// FreeSWITCH uuids are 36 characters. A longer value cannot be a key of cdr_uuids' B-tree beyond
// about 2,700 bytes (an index row that large is an ERROR, and the insert path must never raise),
// so anything over this is not deduplicated and the CDR is stored unrated, status invalid.
constexpr size_t kMaxUuidBytes = 255;

// PG zone: registers a CDR's uuid in cdr_uuids without the executor, in the common case.
//
// INSERT ... ON CONFLICT DO NOTHING through SPI cost a third of a bulk load: an executor per row,
// a pre-check index scan, then the insertion. Here the tuple is inserted speculatively (as the
// executor's ON CONFLICT does, with a speculative-insertion token) and the unique index entry is
// added with UNIQUE_CHECK_PARTIAL, which reports a possible conflict instead of waiting or raising.
// No conflict (every new CDR): the insertion is confirmed and the uuid is registered — one heap
// insert and one B-tree descent. A possible conflict (a replay, the same uuid twice in one
// statement, or another transaction inserting it right now): the speculative tuple is killed
// (dead to everyone at once, as an aborted speculative insertion is) and false is returned, so
// the caller decides through the SPI statement, which waits for a concurrent inserter and then
// does nothing (duplicate) or inserts (the other one rolled back).
//
// Only for the table as the extension made it: a heap, no triggers, exactly one index (the unique
// B-tree on uuid), columns (uuid, received_at). Anything else — an operator added an index, say —
// returns false and the SPI statement does the work, so nothing is ever bypassed.
bool
RegisterUuidDirect(const char *uuid_text)
{
	Relation heap;
	Relation index = nullptr;
	List *indexes;
	bool usable;

	if (!OidIsValid(plans.uuids_oid))
		return false;
	heap = table_open(plans.uuids_oid, RowExclusiveLock);
	indexes = RelationGetIndexList(heap);
	usable = heap->rd_rel->relam == HEAP_TABLE_AM_OID && heap->trigdesc == nullptr && !heap->rd_rel->relhasrules &&
	         RelationGetDescr(heap)->natts == 2 && list_length(indexes) == 1;
	if (usable) {
		index = index_open(linitial_oid(indexes), RowExclusiveLock);
		Form_pg_index form = index->rd_index;
		usable = form->indisunique && form->indisvalid && form->indisready && form->indislive && form->indnatts == 1 &&
		         form->indkey.values[0] == 1 && index->rd_rel->relam == BTREE_AM_OID &&
		         heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr) &&
		         heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr);
	}
	list_free(indexes);
	if (!usable) {
		if (index != nullptr)
			index_close(index, RowExclusiveLock);
		table_close(heap, RowExclusiveLock);
		return false;
	}

	Datum values[2] = {CStringGetTextDatum(uuid_text), TimestampTzGetDatum(GetCurrentTransactionStartTimestamp())};
	bool nulls[2] = {false, false};
	HeapTuple tuple = heap_form_tuple(RelationGetDescr(heap), values, nulls);
	// The index stores the value as the heap has it (heap_form_tuple may have made it a short varlena).
	bool isnull;
	Datum key = heap_getattr(tuple, 1, RelationGetDescr(heap), &isnull);
	TransactionId xid = GetCurrentTransactionId();
	uint32 token = SpeculativeInsertionLockAcquire(xid);
	bool unique;

	HeapTupleHeaderSetSpeculativeToken(tuple->t_data, token);
	tuple->t_tableOid = RelationGetRelid(heap);
	heap_insert(heap, tuple, GetCurrentCommandId(true), HEAP_INSERT_SPECULATIVE, nullptr);
	unique = index_insert(index, &key, &isnull, &tuple->t_self, heap, UNIQUE_CHECK_PARTIAL, false, BuildIndexInfo(index));
	if (unique)
		heap_finish_speculative(heap, &tuple->t_self);
	else
		heap_abort_speculative(heap, &tuple->t_self);
	SpeculativeInsertionLockRelease(xid);
	heap_freetuple(tuple);
	index_close(index, NoLock);
	table_close(heap, NoLock);
	return unique;
}

// PG zone, SPI-connected. Fills *r for one CDR; returns false for a duplicate (the row is dropped).
// Dedupe, the usage row (created when missing, locked) and the money are the trigger's own; judging
// and pricing are shared with balatrix.rate_cdr.
bool
RateRow(char *const *field, const bool *present, int64 cdr_id, RowResult *r)
{
	RowContext ctx;
	Outcome outcome;
	int rc;
	bool isnull;
	UsageAccum *usage = nullptr;

	ctx = RowContext();   // value-initialised: zeroes, and the CdrInstants' defaults
	ctx.cycle_months = 1;
	ReadOut &read = ctx.read;

	// Dedupe first: a replayed CDR must change nothing, whatever is in it.
	if (present[IN_UUID]) {
		outcome = CallCore([&] { read.uuid_usable = !core::CdrFieldMissing(core::CdrField(std::string_view(field[IN_UUID]))); });
		if (outcome.ok && read.uuid_usable && strlen(field[IN_UUID]) > kMaxUuidBytes) {
			SetStatus(r, "invalid", "the uuid is longer than 255 bytes, so the CDR cannot be deduplicated: stored, not billed");
			return true;
		}
		if (outcome.ok && read.uuid_usable && !RegisterUuidDirect(field[IN_UUID])) {
			Datum args[1] = {CStringGetTextDatum(field[IN_UUID])};
			rc = SPI_execute_plan(plans.plan[PLAN_DEDUPE], args, nullptr, false, 0);
			if (rc != SPI_OK_INSERT)
				elog(ERROR, "balatrix: CDR dedupe failed: %s", SPI_result_code_string(rc));
			if (SPI_processed == 0)
				return false;
		}
	}

	if (!JudgeRow(field, present, r, &ctx))
		return true;

	// The allowance: the usage row of the period containing the billing start.
	usage = FindUsage(&r->subscription_id, ctx.billing_start);
	if (usage == nullptr) {
		Datum args[2] = {UUIDPGetDatum(&r->subscription_id), TimestampTzGetDatum(ctx.billing_start)};
		rc = SPI_execute_plan(plans.plan[PLAN_USAGE_LOCK], args, nullptr, false, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "balatrix: usage look-up failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 0 && ctx.has_period) {
			Datum cargs[3] = {UUIDPGetDatum(&r->subscription_id), Int64GetDatum(ctx.included_minutes * 60 * ctx.cycle_months),
			                  TimestampTzGetDatum(ctx.billing_start)};
			rc = SPI_execute_plan(plans.plan[PLAN_USAGE_CREATE], cargs, nullptr, false, 0);
			if (rc != SPI_OK_INSERT)
				elog(ERROR, "balatrix: creating the usage row failed: %s", SPI_result_code_string(rc));
			rc = SPI_execute_plan(plans.plan[PLAN_USAGE_LOCK], args, nullptr, false, 1);
			if (rc != SPI_OK_SELECT)
				elog(ERROR, "balatrix: usage look-up failed: %s", SPI_result_code_string(rc));
		}
		if (SPI_processed > 0) {
			HeapTuple t = SPI_tuptable->vals[0];
			TupleDesc d = SPI_tuptable->tupdesc;
			NoteAccumulationStart();
			if (usage_count == usage_size)
				usages = Grow(usages, &usage_size);
			usage = &usages[usage_count++];
			memset(usage, 0, sizeof *usage);
			usage->usage_id = *DatumGetUUIDP(SPI_getbinval(t, d, 1, &isnull));
			usage->subscription_id = r->subscription_id;
			usage->period_start = DatumGetTimestampTz(SPI_getbinval(t, d, 2, &isnull));
			usage->period_end = DatumGetTimestampTz(SPI_getbinval(t, d, 3, &isnull));
			usage->remaining = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
		}
	}

	if (!PriceJudged(&ctx, usage != nullptr ? usage->remaining : 0, r))
		return true;

	// Accumulate. The account first: an overflowing sum leaves nothing half-counted.
	if (r->charge > 0) {
		AccountAccum *account = FindAccount(&r->account_id);
		int64 sum = r->charge;
		if (account != nullptr && pg_add_s64_overflow(account->charge, r->charge, &sum)) {
			r->priced = false;
			SetStatus(r, "error", "the charges of this statement for the account overflow; insert this CDR on its own");
			return true;
		}
		NoteAccumulationStart();
		if (account == nullptr) {
			if (account_count == account_size)
				accounts = Grow(accounts, &account_size);
			account = &accounts[account_count++];
			memset(account, 0, sizeof *account);
			account->account_id = r->account_id;
			account->first_cdr_id = cdr_id;
			{
				Datum args[1] = {UuidDatum(&r->account_id)};
				int lrc = SPI_execute_plan(plans.plan[PLAN_ACCOUNT_LOCK], args, nullptr, false, 0);
				if (lrc != SPI_OK_SELECT)
					elog(ERROR, "balatrix: locking the account failed: %s", SPI_result_code_string(lrc));
			}
			account->ledger_id = nextval_internal(plans.ledger_seq, false);
		}
		account->charge = sum;
		account->cdr_count++;
		account->last_cdr_id = cdr_id;
		r->has_ledger = true;
		r->ledger_id = account->ledger_id;
	}
	if (usage != nullptr) {
		usage->remaining -= r->included_seconds;
		usage->included_used += r->included_seconds;
		usage->overage_seconds += r->overage_seconds;
		usage->overage_charge += r->overage_charge;
		usage->other_charge += r->charge - r->overage_charge;
		usage->call_count++;
	}
	r->status = "rated";
	r->reason[0] = '\0';
	return true;
}

int
CompareAccounts(const void *a, const void *b)
{
	return memcmp(static_cast<const AccountAccum *>(a)->account_id.data,
	              static_cast<const AccountAccum *>(b)->account_id.data, UUID_LEN);
}

} // namespace

namespace balatrix::pg {

char *cdr_timezone = nullptr;
int cdr_legs = kCdrLegsA;
int cdr_max_call_seconds = 86400;

void
CdrRatingRegisterCallbacks()
{
	RegisterXactCallback(CdrXactCallback, nullptr);
	RegisterSubXactCallback(CdrSubXactCallback, nullptr);
	CacheRegisterRelcacheCallback(LookupRelcacheCallback, (Datum) 0);
}

} // namespace balatrix::pg

BALATRIX_PG_FUNCTION(balatrix_tg_cdr_rate)
{
	TriggerData *trigdata;
	Relation rel;
	TupleDesc desc;
	HeapTuple tuple;
	const RelColumns *cols;
	char *field[IN_COUNT];
	bool present[IN_COUNT];
	int64 cdr_id = 0;
	RowResult r;
	bool keep;
	int repl_cols[OUT_COUNT];
	Datum repl_values[OUT_COUNT];
	bool repl_nulls[OUT_COUNT];
	int n = 0;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("balatrix.tg_cdr_rate() must be called as a trigger")));
	trigdata = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
	    !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("balatrix.tg_cdr_rate() must be a BEFORE INSERT FOR EACH ROW trigger")));
	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	tuple = trigdata->tg_trigtuple;
	cols = ColumnsOf(rel);

	for (int i = 0; i < IN_COUNT; ++i) {
		bool isnull = true;
		Datum v = cols->in[i] > 0 ? heap_getattr(tuple, cols->in[i], desc, &isnull) : (Datum) 0;
		present[i] = !isnull;
		field[i] = nullptr;
		if (isnull)
			continue;
		if (i == IN_ID) {
			cdr_id = DatumGetInt64(v);
			continue;
		}
		field[i] = TextDatumGetCString(v);
	}

	// A CDR that arrives already judged (rating_status other than 'pending') is a restore (pg_restore
	// COPYs the rows of the partitions, triggers enabled) or a migration, and is stored as it is:
	// rating it again would bill it twice. Only a role with the privileges of balatrix_owner (or a
	// superuser) may do that; anyone else, FreeSWITCH included, gets the CDR rated. Its uuid is
	// registered, so that replays stay duplicates; cdr_uuids itself is not dumped, it is rebuilt here.
	if (present[IN_RATING_STATUS] && strcmp(field[IN_RATING_STATUS], "pending") != 0) {
		Oid owner = get_role_oid("balatrix_owner", true);
		if (OidIsValid(owner) && has_privs_of_role(GetOuterUserId(), owner)) {
			balatrix::pg::ConnectSpiFixedPath();
			EnsurePlans(get_func_namespace(fcinfo->flinfo->fn_oid));
			if (present[IN_UUID] && field[IN_UUID][0] != '\0' && strcmp(field[IN_UUID], "(NULL)") != 0 &&
			    strlen(field[IN_UUID]) <= kMaxUuidBytes) {
				Datum args[1] = {CStringGetTextDatum(field[IN_UUID])};
				if (SPI_execute_plan(plans.plan[PLAN_DEDUPE], args, nullptr, false, 0) != SPI_OK_INSERT)
					elog(ERROR, "balatrix: CDR dedupe failed");
			}
			balatrix::pg::FinishSpiFixedPath();
			return PointerGetDatum(tuple);
		}
	}

	memset(&r, 0, sizeof r);
	r.status = "error";
	balatrix::pg::ConnectSpiFixedPath();
	EnsurePlans(get_func_namespace(fcinfo->flinfo->fn_oid));
	keep = RateRow(field, present, cdr_id, &r);
	balatrix::pg::FinishSpiFixedPath();
	if (!keep)
		return PointerGetDatum(nullptr);

	// NEW with the rating columns: every one is set (NULL where unknown), so a CDR inserted with
	// values in them cannot pretend to be rated.
	auto set = [&](int out, Datum value, bool isnull) {
		if (cols->out[out] <= 0)
			return;
		repl_cols[n] = cols->out[out];
		repl_values[n] = value;
		repl_nulls[n] = isnull;
		++n;
	};
	bool priced = r.priced && strcmp(r.status, "rated") == 0;
	char leg[2] = {r.leg, '\0'};
	set(OUT_STATUS, CStringGetTextDatum(r.status), false);
	set(OUT_REASON, r.reason[0] != '\0' ? CStringGetTextDatum(r.reason) : (Datum) 0, r.reason[0] == '\0');
	set(OUT_RATED_AT, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
	set(OUT_LEG, r.leg != '\0' ? CStringGetTextDatum(leg) : (Datum) 0, r.leg == '\0');
	set(OUT_STARTED_AT, TimestampTzGetDatum(r.started), !r.has_started);
	set(OUT_ANSWERED_AT, TimestampTzGetDatum(r.answered), !r.has_answered);
	set(OUT_ENDED_AT, TimestampTzGetDatum(r.ended), !r.has_ended);
	set(OUT_BILLABLE_MS, Int64GetDatum(r.billable_ms), !r.has_billable);
	set(OUT_CUSTOMER_ID, r.has_account ? UuidDatum(&r.customer_id) : (Datum) 0, !r.has_account);
	set(OUT_ACCOUNT_ID, r.has_account ? UuidDatum(&r.account_id) : (Datum) 0, !r.has_account);
	set(OUT_SUBSCRIPTION_ID, r.has_subscription ? UuidDatum(&r.subscription_id) : (Datum) 0, !r.has_subscription);
	set(OUT_DESTINATION_E164, r.has_e164 ? CStringGetTextDatum(r.e164) : (Datum) 0, !r.has_e164);
	set(OUT_RATE_ID, Int64GetDatum(r.rate_id), !priced);
	set(OUT_MATCHED_PREFIX, priced ? CStringGetTextDatum(r.prefix) : (Datum) 0, !priced);
	set(OUT_RATE_PER_MINUTE, priced ? balatrix::pg::Amount4ToNumeric(r.rate_per_minute) : (Datum) 0, !priced);
	set(OUT_BILLED_SECONDS, Int64GetDatum(r.billed_seconds), !priced);
	set(OUT_INCLUDED_SECONDS, Int64GetDatum(r.included_seconds), !priced);
	set(OUT_CHARGE, priced ? balatrix::pg::Amount4ToNumeric(r.charge) : (Datum) 0, !priced);
	set(OUT_CURRENCY, r.has_account ? CStringGetTextDatum(r.currency) : (Datum) 0, !r.has_account);
	set(OUT_LEDGER_ID, Int64GetDatum(r.ledger_id), !r.has_ledger);
	return PointerGetDatum(heap_modify_tuple_by_cols(tuple, desc, n, repl_cols, repl_values, repl_nulls));
}

// AFTER INSERT FOR EACH STATEMENT: posts what the statement's rows accumulated.
BALATRIX_PG_FUNCTION(balatrix_tg_cdr_post)
{
	TriggerData *trigdata;
	int rc;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("balatrix.tg_cdr_post() must be called as a trigger")));
	trigdata = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) || !TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("balatrix.tg_cdr_post() must be an AFTER ... FOR EACH STATEMENT trigger")));
	if (AccumulationsEmpty())
		return PointerGetDatum(nullptr);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "balatrix: SPI_connect failed");
	EnsurePlans(get_func_namespace(fcinfo->flinfo->fn_oid));

	// Usage rows are already locked by the row trigger; then accounts, in id order. The usual
	// statement (one account, one usage row) posts both in one statement.
	if (account_count == 1 && usage_count == 1 && usages[0].call_count > 0) {
		const UsageAccum *u = &usages[0];
		const AccountAccum *a = &accounts[0];
		char overage[40], other[40], charge[40];
		Datum args[12];
		bool isnull;
		FormatAmount(charge, sizeof charge, a->charge);
		FormatAmount(overage, sizeof overage, u->overage_charge);
		FormatAmount(other, sizeof other, u->other_charge);
		args[0] = UuidDatum(&a->account_id);
		args[1] = CStringGetTextDatum(charge);
		args[2] = Int64GetDatum(a->ledger_id);
		args[3] = Int64GetDatum(a->cdr_count);
		args[4] = Int64GetDatum(a->first_cdr_id);
		args[5] = Int64GetDatum(a->last_cdr_id);
		args[6] = UuidDatum(&u->usage_id);
		args[7] = Int64GetDatum(u->included_used);
		args[8] = Int64GetDatum(u->overage_seconds);
		args[9] = CStringGetTextDatum(overage);
		args[10] = CStringGetTextDatum(other);
		args[11] = Int64GetDatum(u->call_count);
		rc = SPI_execute_plan(plans.plan[PLAN_FLUSH_ONE], args, nullptr, false, 0);
		if (rc != SPI_OK_SELECT || SPI_processed != 1 ||
		    DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) != 1 ||
		    DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) != 1)
			elog(ERROR, "balatrix: posting CDR charges to the ledger failed (%s)", SPI_result_code_string(rc));
		if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull)) != 1)
			elog(ERROR, "balatrix: posting CDR usage failed (0 rows)");
		if (SPI_finish() != SPI_OK_FINISH)
			elog(ERROR, "balatrix: SPI_finish failed");
		ClearAccumulations();
		return PointerGetDatum(nullptr);
	}
	for (int i = 0; i < usage_count; ++i) {
		const UsageAccum *u = &usages[i];
		char overage[40], other[40];
		Datum args[6];
		if (u->call_count == 0)
			continue;
		FormatAmount(overage, sizeof overage, u->overage_charge);
		FormatAmount(other, sizeof other, u->other_charge);
		args[0] = UuidDatum(&u->usage_id);
		args[1] = Int64GetDatum(u->included_used);
		args[2] = Int64GetDatum(u->overage_seconds);
		args[3] = CStringGetTextDatum(overage);
		args[4] = CStringGetTextDatum(other);
		args[5] = Int64GetDatum(u->call_count);
		rc = SPI_execute_plan(plans.plan[PLAN_USAGE_FLUSH], args, nullptr, false, 0);
		if (rc != SPI_OK_UPDATE || SPI_processed != 1)
			elog(ERROR, "balatrix: posting CDR usage failed (%s, %llu rows)", SPI_result_code_string(rc),
			     (unsigned long long) SPI_processed);
	}
	if (account_count > 1)
		qsort(accounts, account_count, sizeof(AccountAccum), CompareAccounts);
	for (int i = 0; i < account_count; ++i) {
		const AccountAccum *a = &accounts[i];
		char charge[40];
		Datum args[6];
		bool isnull;
		FormatAmount(charge, sizeof charge, a->charge);
		args[0] = UuidDatum(&a->account_id);
		args[1] = CStringGetTextDatum(charge);
		args[2] = Int64GetDatum(a->ledger_id);
		args[3] = Int64GetDatum(a->cdr_count);
		args[4] = Int64GetDatum(a->first_cdr_id);
		args[5] = Int64GetDatum(a->last_cdr_id);
		rc = SPI_execute_plan(plans.plan[PLAN_ACCOUNT_FLUSH], args, nullptr, false, 0);
		if (rc != SPI_OK_SELECT || SPI_processed != 1 ||
		    DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) != 1 ||
		    DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) != 1)
			elog(ERROR, "balatrix: posting CDR charges to the ledger failed (%s)", SPI_result_code_string(rc));
	}
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "balatrix: SPI_finish failed");
	ClearAccumulations();
	return PointerGetDatum(nullptr);
}

// balatrix.rate_cdr(cdr balatrix.cdr, allowance_seconds bigint) -> record: how the CDR trigger
// would rate this stored CDR now, given `allowance_seconds` included seconds left in its usage row.
// The same judging and pricing as the trigger (JudgeRow, PriceJudged), none of its writes: no
// dedupe, no usage row created or locked, no money accumulated. balatrix.rerate supplies the
// allowance it tracks per usage row. The CDR's own rating_status is not looked at (the trigger's
// "already judged = restore" rule is about INSERTs), and its rating columns are ignored.
BALATRIX_PG_FUNCTION(balatrix_rate_cdr)
{
	HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(0);
	int64 allowance = PG_GETARG_INT64(1);
	TupleDesc rowdesc;
	HeapTupleData tuple;
	TupleDesc desc;
	char *field[IN_COUNT];
	bool present[IN_COUNT];
	RowResult r;
	RowContext ctx;
	bool priced;
	Datum values[20];
	bool nulls[20];
	char leg[2];

	if (allowance < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("allowance_seconds must not be negative")));
	if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("balatrix.rate_cdr must return a record")));
	desc = BlessTupleDesc(desc);

	// The input row: its columns by name (a row of the parent type; the rating columns are unused).
	rowdesc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(row), HeapTupleHeaderGetTypMod(row));
	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = row;
	for (int i = 0; i < IN_COUNT; ++i) {
		int attnum = SPI_fnumber(rowdesc, kInNames[i]);
		bool isnull = true;
		Datum v = attnum > 0 ? heap_getattr(&tuple, attnum, rowdesc, &isnull) : (Datum) 0;
		field[i] = nullptr;
		present[i] = !isnull && i != IN_ID;
		if (present[i])
			field[i] = TextDatumGetCString(v);
	}
	ReleaseTupleDesc(rowdesc);

	memset(&r, 0, sizeof r);
	r.status = "error";
	ctx = RowContext();
	ctx.cycle_months = 1;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "balatrix: SPI_connect failed");
	EnsurePlans(get_func_namespace(fcinfo->flinfo->fn_oid));
	if (JudgeRow(field, present, &r, &ctx) && PriceJudged(&ctx, allowance, &r)) {
		r.status = "rated";
		r.reason[0] = '\0';
	}
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "balatrix: SPI_finish failed");

	// The columns as the trigger writes them into NEW, plus the overage split it adds to the usage row.
	priced = r.priced && strcmp(r.status, "rated") == 0;
	leg[0] = r.leg;
	leg[1] = '\0';
	memset(nulls, 0, sizeof nulls);
	auto set = [&](int i, Datum value, bool isnull) {
		values[i] = isnull ? (Datum) 0 : value;
		nulls[i] = isnull;
	};
	set(0, CStringGetTextDatum(r.status), false);
	set(1, r.reason[0] != '\0' ? CStringGetTextDatum(r.reason) : (Datum) 0, r.reason[0] == '\0');
	set(2, r.leg != '\0' ? CStringGetTextDatum(leg) : (Datum) 0, r.leg == '\0');
	set(3, TimestampTzGetDatum(r.started), !r.has_started);
	set(4, TimestampTzGetDatum(r.answered), !r.has_answered);
	set(5, TimestampTzGetDatum(r.ended), !r.has_ended);
	set(6, Int64GetDatum(r.billable_ms), !r.has_billable);
	set(7, r.has_account ? UuidDatum(&r.customer_id) : (Datum) 0, !r.has_account);
	set(8, r.has_account ? UuidDatum(&r.account_id) : (Datum) 0, !r.has_account);
	set(9, r.has_subscription ? UuidDatum(&r.subscription_id) : (Datum) 0, !r.has_subscription);
	set(10, r.has_e164 ? CStringGetTextDatum(r.e164) : (Datum) 0, !r.has_e164);
	set(11, Int64GetDatum(r.rate_id), !priced);
	set(12, priced ? CStringGetTextDatum(r.prefix) : (Datum) 0, !priced);
	set(13, priced ? balatrix::pg::Amount4ToNumeric(r.rate_per_minute) : (Datum) 0, !priced);
	set(14, Int64GetDatum(r.billed_seconds), !priced);
	set(15, Int64GetDatum(r.included_seconds), !priced);
	set(16, priced ? balatrix::pg::Amount4ToNumeric(r.charge) : (Datum) 0, !priced);
	set(17, r.has_account ? CStringGetTextDatum(r.currency) : (Datum) 0, !r.has_account);
	set(18, Int64GetDatum(r.overage_seconds), !priced);
	set(19, priced ? balatrix::pg::Amount4ToNumeric(r.overage_charge) : (Datum) 0, !priced);
	if (desc->natts != 20)
		ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("balatrix.rate_cdr: unexpected result type")));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// Statement trigger of accounts, sip_extensions, dids, subscriptions and rate_plans: every backend's
// CDR look-up cache is stale once this transaction commits (this backend's at the next command).
BALATRIX_PG_FUNCTION(balatrix_tg_cdr_lookup_invalidate)
{
	TriggerData *trigdata;
	Oid epoch_oid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("balatrix.tg_cdr_lookup_invalidate() must be called as a trigger")));
	trigdata = (TriggerData *) fcinfo->context;
	epoch_oid = get_relname_relid("cdr_lookup_epoch", RelationGetNamespace(trigdata->tg_relation));
	if (OidIsValid(epoch_oid))
		CacheInvalidateRelcacheByRelid(epoch_oid);
	return PointerGetDatum(nullptr);
}
