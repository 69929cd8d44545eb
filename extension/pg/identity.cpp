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
#include "utils/uuid.h"
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
