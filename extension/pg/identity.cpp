/*
 * PG zone: who the API is acting for, for the length of one transaction.
 *
 *   balatrix.set_actor(user_id uuid, role text, customer_id uuid) -> void   (internal)
 *   balatrix.actor_user_id() -> uuid, balatrix.actor_role() -> text, balatrix.actor_customer_id() -> uuid
 *
 * The row-level security policies of the API role (balatrix_api) read the actor through the three
 * accessors. The actor lives in this backend's memory, not in a setting: a setting (set_config,
 * SET) can be written by any role, so an API connection taken over by SQL injection could claim
 * to be an administrator. set_actor is executable only by balatrix_owner, and the one function
 * that calls it, balatrix.set_identity (SECURITY DEFINER), does so only after verifying the
 * caller's signed access token. The actor is cleared when the transaction ends, commit or abort,
 * so a pooled connection never carries one request's identity into the next.
 *
 * Parallel workers do not share this memory: the accessors are PARALLEL RESTRICTED, so queries
 * that filter on them run the filter in the leader.
 */
#include "guard.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/trigger.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/uuid.h"

#include <time.h>
}

namespace {

struct Actor {
	bool set;
	pg_uuid_t user_id;
	char role[16];
	bool has_customer;
	pg_uuid_t customer_id;
};

Actor actor = {};

void
ClearActorAtTransactionEnd(XactEvent event, void *)
{
	switch (event) {
	case XACT_EVENT_COMMIT:
	case XACT_EVENT_PARALLEL_COMMIT:
	case XACT_EVENT_ABORT:
	case XACT_EVENT_PARALLEL_ABORT:
	case XACT_EVENT_PREPARE:
		actor = {};
		break;
	default:
		break;
	}
}

const char *const kRoles[] = {"super_admin", "admin", "support", "reseller", "customer"};

} // namespace

namespace balatrix::pg {
void
IdentityRegisterCallbacks()
{
	RegisterXactCallback(ClearActorAtTransactionEnd, nullptr);
}
} // namespace balatrix::pg

// set_actor(NULL, ...) clears the actor; otherwise role must be one of the five roles and a
// customer needs its customer id.
BALATRIX_PG_FUNCTION(balatrix_set_actor)
{
	if (PG_ARGISNULL(0)) {
		actor = {};
		PG_RETURN_VOID();
	}
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("an actor needs a role")));
	const char *role = text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool known = false;
	for (const char *r : kRoles)
		known = known || strcmp(r, role) == 0;
	if (!known)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown role \"%s\"", role)));
	if (strcmp(role, "customer") == 0 && PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("a customer actor needs its customer id")));
	Actor next = {};
	next.set = true;
	next.user_id = *PG_GETARG_UUID_P(0);
	strlcpy(next.role, role, sizeof next.role);
	if (!PG_ARGISNULL(2)) {
		next.has_customer = true;
		next.customer_id = *PG_GETARG_UUID_P(2);
	}
	actor = next;
	PG_RETURN_VOID();
}

BALATRIX_PG_FUNCTION(balatrix_actor_user_id)
{
	if (!actor.set)
		PG_RETURN_NULL();
	pg_uuid_t *out = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
	*out = actor.user_id;
	PG_RETURN_UUID_P(out);
}

BALATRIX_PG_FUNCTION(balatrix_actor_role)
{
	if (!actor.set)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(actor.role));
}

BALATRIX_PG_FUNCTION(balatrix_actor_customer_id)
{
	if (!actor.set || !actor.has_customer)
		PG_RETURN_NULL();
	pg_uuid_t *out = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
	*out = actor.customer_id;
	PG_RETURN_UUID_P(out);
}

// hmac_sha256(key bytea, message bytea) -> bytea: HMAC-SHA-256 (RFC 2104) through PostgreSQL's own
// pg_hmac (OpenSSL when the server is built with it), as SCRAM authentication uses. set_identity
// verifies every API request's token with it.
BALATRIX_PG_FUNCTION(balatrix_hmac_sha256)
{
	bytea *key = PG_GETARG_BYTEA_PP(0);
	bytea *message = PG_GETARG_BYTEA_PP(1);
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
	if (ctx == nullptr)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	uint8 digest[PG_SHA256_DIGEST_LENGTH];
	if (pg_hmac_init(ctx, reinterpret_cast<const uint8 *>(VARDATA_ANY(key)), VARSIZE_ANY_EXHDR(key)) < 0 ||
	    pg_hmac_update(ctx, reinterpret_cast<const uint8 *>(VARDATA_ANY(message)), VARSIZE_ANY_EXHDR(message)) < 0 ||
	    pg_hmac_final(ctx, digest, sizeof digest) < 0) {
		const char *why = pstrdup(pg_hmac_error(ctx));
		pg_hmac_free(ctx);
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("HMAC-SHA-256 failed: %s", why)));
	}
	pg_hmac_free(ctx);
	bytea *out = static_cast<bytea *>(palloc(VARHDRSZ + sizeof digest));
	SET_VARSIZE(out, VARHDRSZ + sizeof digest);
	memcpy(VARDATA(out), digest, sizeof digest);
	PG_RETURN_BYTEA_P(out);
}

// ---- verified-token cache ---------------------------------------------------------------------------------
//
// balatrix.set_identity verifies an access token (decoding, the pinned header, the HMAC, the claims) and then
// checks the user and the session in the tables. The first part is a pure function of the token and the
// signing keys, and a client presents the same token for up to its 15 minutes; this cache keeps its result
// per backend so that later requests with the token go straight to the table checks (which are never
// cached: a logout or a deactivation takes effect at the next request).
//
// Only set_identity (as balatrix_owner) may store: identity_cache_put is not executable by the API role, so
// SQL run as balatrix_api cannot plant an entry. An entry is the whole token (compared byte for byte, no
// hash collisions) and its verified claims; it is used only until the token's exp plus the leeway. Any
// change to balatrix.api_signing_keys (a new or retired key) empties every backend's cache (a relcache
// invalidation of that table, queued by its statement trigger).

namespace {

constexpr std::size_t kTokenCacheEntries = 64;
constexpr std::size_t kMaxCachedTokenBytes = 1024;

struct TokenEntry {
	bool used;
	std::size_t length;
	char token[kMaxCachedTokenBytes];
	char claims[160]; // "sub sid role"
	int64 expires_at; // exp + leeway, Unix seconds
};

TokenEntry token_cache[kTokenCacheEntries];
Oid signing_keys_oid = InvalidOid;
bool token_cache_callback_registered = false;

void
ForgetTokens(Datum, Oid relid)
{
	if (relid == InvalidOid || relid == signing_keys_oid) {
		for (auto &entry : token_cache)
			entry.used = false;
	}
}

void
EnsureTokenCacheCallback(Oid namespace_oid)
{
	if (!token_cache_callback_registered) {
		CacheRegisterRelcacheCallback(ForgetTokens, (Datum)0);
		token_cache_callback_registered = true;
	}
	if (signing_keys_oid == InvalidOid)
		signing_keys_oid = get_relname_relid("api_signing_keys", namespace_oid);
}

std::size_t
TokenSlot(const char *token, std::size_t length)
{
	// FNV-1a: a slot, not a proof (the whole token is compared).
	uint64 h = 1469598103934665603ULL;
	for (std::size_t i = 0; i < length; ++i)
		h = (h ^ static_cast<unsigned char>(token[i])) * 1099511628211ULL;
	return static_cast<std::size_t>(h % kTokenCacheEntries);
}

int64
NowUnixSeconds()
{
	return static_cast<int64>(time(nullptr));
}

} // namespace

// identity_cache_get(token text) -> text: "sub sid role" of a token verified before in this backend and not
// expired, else NULL.
BALATRIX_PG_FUNCTION(balatrix_identity_cache_get)
{
	text *token = PG_GETARG_TEXT_PP(0);
	const char *bytes = VARDATA_ANY(token);
	const std::size_t length = VARSIZE_ANY_EXHDR(token);
	EnsureTokenCacheCallback(get_func_namespace(fcinfo->flinfo->fn_oid));
	if (length == 0 || length > kMaxCachedTokenBytes)
		PG_RETURN_NULL();
	const TokenEntry &entry = token_cache[TokenSlot(bytes, length)];
	if (!entry.used || entry.length != length || memcmp(entry.token, bytes, length) != 0 ||
	    entry.expires_at <= NowUnixSeconds())
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(entry.claims));
}

// identity_cache_put(token text, claims text, expires_at bigint) -> void (balatrix.set_identity only).
BALATRIX_PG_FUNCTION(balatrix_identity_cache_put)
{
	text *token = PG_GETARG_TEXT_PP(0);
	const char *claims = text_to_cstring(PG_GETARG_TEXT_PP(1));
	const int64 expires_at = PG_GETARG_INT64(2);
	const char *bytes = VARDATA_ANY(token);
	const std::size_t length = VARSIZE_ANY_EXHDR(token);
	EnsureTokenCacheCallback(get_func_namespace(fcinfo->flinfo->fn_oid));
	if (length == 0 || length > kMaxCachedTokenBytes || strlen(claims) >= sizeof(TokenEntry::claims))
		PG_RETURN_VOID();
	TokenEntry &entry = token_cache[TokenSlot(bytes, length)];
	entry.used = true;
	entry.length = length;
	memcpy(entry.token, bytes, length);
	strlcpy(entry.claims, claims, sizeof entry.claims);
	entry.expires_at = expires_at;
	PG_RETURN_VOID();
}

// Statement trigger of balatrix.api_signing_keys: every backend forgets its verified tokens (at the next
// command here, at commit elsewhere).
BALATRIX_PG_FUNCTION(balatrix_tg_identity_cache_invalidate)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("tg_identity_cache_invalidate must be called as a trigger")));
	auto *trigdata = reinterpret_cast<TriggerData *>(fcinfo->context);
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(nullptr);
}
