/*
 * PG zone: the module's identity and its settings (GUCs).
 *
 * Every balatrix.* setting is defined here, one block each, so `SHOW balatrix.<name>` and the
 * README's settings table have one place to agree with. The module needs no
 * shared_preload_libraries entry: settings exist once the library is loaded by the first call to
 * one of its functions, and values set before that (postgresql.conf, ALTER DATABASE ... SET) are
 * kept as placeholders and applied when it loads.
 */
#include "rating_cache.hpp"
#include "settings.hpp"

extern "C" {
#include "pgtime.h"
}

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

namespace balatrix::pg {
bool gstin_verify_check_character = true;
}

namespace {

const struct config_enum_entry kCdrLegsOptions[] = {
    {"a", balatrix::pg::kCdrLegsA, false},
    {"b", balatrix::pg::kCdrLegsB, false},
    {"ab", balatrix::pg::kCdrLegsAB, false},
    {nullptr, 0, false},
};

// balatrix.cdr_timezone must name a zone PostgreSQL knows (pg_tzset loads it from the tz database),
// so the CDR trigger never meets an unknown one. The names are those of SET timezone.
bool
CheckCdrTimezone(char **newval, void **extra, GucSource source)
{
	if (*newval == nullptr || pg_tzset(*newval) == nullptr) {
		GUC_check_errdetail("Time zone \"%s\" is not known.", *newval == nullptr ? "" : *newval);
		return false;
	}
	return true;
}

} // namespace

extern "C" void
_PG_init(void)
{
	DefineCustomBoolVariable(
	    "balatrix.gstin_verify_check_character",
	    gettext_noop("Whether GSTIN validation enforces the mod-36 check character."),
	    gettext_noop("Turn off only for sandbox GSTINs (the NIC e-invoice sandbox uses GSTINs that fail "
	                 "the check). Format and State code are always enforced."),
	    &balatrix::pg::gstin_verify_check_character, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);

	DefineCustomStringVariable(
	    "balatrix.cdr_timezone",
	    gettext_noop("Time zone of the FreeSWITCH host: CDR *_stamp fields (local time, no offset) are read in it."),
	    gettext_noop("Used only when a CDR has no *_uepoch values. A time in a DST gap or overlap is resolved "
	                 "as PostgreSQL resolves timestamptz input."),
	    &balatrix::pg::cdr_timezone, "Asia/Kolkata", PGC_USERSET, 0, CheckCdrTimezone, nullptr, nullptr);

	DefineCustomEnumVariable(
	    "balatrix.cdr_legs", gettext_noop("Which CDR legs are billed: a, b or ab."),
	    gettext_noop("Legs not billed are stored with rating_status 'skipped'."), &balatrix::pg::cdr_legs,
	    balatrix::pg::kCdrLegsA, kCdrLegsOptions, PGC_USERSET, 0, nullptr, nullptr, nullptr);

	DefineCustomIntVariable(
	    "balatrix.cdr_max_call_seconds",
	    gettext_noop("Longest billable time a CDR may carry; a longer one is stored as 'invalid'."), nullptr,
	    &balatrix::pg::cdr_max_call_seconds, 86400, 1, 2592000, PGC_USERSET, GUC_UNIT_S, nullptr, nullptr, nullptr);

	MarkGUCPrefixReserved("balatrix");

	// The per-backend rate cache is dropped when a deck changes (rating_cache.hpp).
	balatrix::pg::RatingCacheRegisterCallback();
	// Unposted CDR charges are cleared on abort and refused at commit (cdr_rating.cpp).
	balatrix::pg::CdrRatingRegisterCallbacks();
}
