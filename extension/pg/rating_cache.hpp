/*
 * PG zone: the per-backend rate cache — rate plan id -> core::RateIndex of the published decks
 * attached to the plan, built from SPI rows on first use and kept across calls and transactions.
 *
 * Invalidation. A statement trigger on rates, rate_decks and rate_plan_decks
 * (balatrix.tg_rating_invalidate) queues a relcache invalidation of balatrix.rates. Invalidations
 * are transactional: this backend sees its own at the next command (and again when the transaction
 * aborts), every other backend when the transaction commits. The relcache callback registered in
 * _PG_init bumps a generation counter when the relid is that of rates or InvalidOid (a full reset,
 * e.g. after an invalidation-queue overflow); the cache is emptied the next time it is consulted
 * with an older generation. An index built while an invalidation arrived (its SPI reads may have
 * used the older snapshot) is used for the current call and dropped at the next one.
 *
 * The cache objects (std containers) live at namespace scope in rating_cache.cpp and are only
 * touched inside CallCore; the callback only increments a plain integer.
 */
#pragma once

#include "pg_prelude.hpp"

extern "C" {
#include "utils/uuid.h"
}

namespace balatrix::core {
class RateIndex;
}

namespace balatrix::pg {

// _PG_init: registers the relcache callback.
void RatingCacheRegisterCallback();

// Records the current oid of <schema>.rates (looked up by the caller); when it differs from the one
// seen before (the extension was dropped and created again) the cache is emptied.
void RatingCacheNoteRatesOid(Oid rates_oid);

// The cached, current rate index of a rate plan, or nullptr when it must be (re)built with
// RatingCacheGet. Needs no SPI connection; the same validity rules as RatingCacheGet.
const core::RateIndex *RatingCacheFind(const pg_uuid_t *plan_id);

// The rate index of a rate plan, built with SPI (the caller must be SPI-connected) when missing or
// stale. `schema` is the quoted name of the extension's schema. Raises (ereport) on failure, e.g.
// a stored rate the core refuses. The pointer stays valid until the next call of this function;
// dereference it only inside CallCore.
const core::RateIndex *RatingCacheGet(const pg_uuid_t *plan_id, const char *schema);

} // namespace balatrix::pg
