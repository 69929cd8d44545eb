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
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

namespace balatrix::pg {
bool gstin_verify_check_character = true;
}

extern "C" void
_PG_init(void)
{
	DefineCustomBoolVariable(
	    "balatrix.gstin_verify_check_character",
	    gettext_noop("Whether GSTIN validation enforces the mod-36 check character."),
	    gettext_noop("Turn off only for sandbox GSTINs (the NIC e-invoice sandbox uses GSTINs that fail "
	                 "the check). Format and State code are always enforced."),
	    &balatrix::pg::gstin_verify_check_character, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);

	MarkGUCPrefixReserved("balatrix");

	// The per-backend rate cache is dropped when a deck changes (rating_cache.hpp).
	balatrix::pg::RatingCacheRegisterCallback();
}
