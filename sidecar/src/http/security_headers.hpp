/*
 * The headers every response carries, whatever produced it (a handler, a 404, a 413 from the transport), and
 * the merge that decides which header wins when two layers set the same name. Pure (no Pistache).
 *
 * The API returns JSON only, never HTML, so the policy is the strictest one: nothing may be framed, sniffed,
 * loaded or cached, and no Referer leaks a token-bearing URL. HSTS is off by default: the sidecar speaks plain
 * HTTP behind a TLS-terminating proxy, and the header only means something when the client reached it over
 * HTTPS; set HSTS_MAX_AGE_SECONDS when that is the case.
 */
#pragma once

#include <chrono>
#include <initializer_list>

#include "http/cors.hpp"

namespace balatrix::sidecar::http {

struct SecurityHeaderOptions {
	// Strict-Transport-Security max-age; 0 sends no such header.
	std::chrono::seconds hsts_max_age{0};
};

// X-Content-Type-Options: nosniff, X-Frame-Options: DENY, Referrer-Policy: no-referrer,
// Content-Security-Policy: default-src 'none'; frame-ancestors 'none', Cache-Control: no-store, and
// Strict-Transport-Security: max-age=N; includeSubDomains when hsts_max_age > 0.
HeaderList SecurityHeaders(const SecurityHeaderOptions& options);

// Concatenates the lists in order; for a name that appears more than once (compared case-insensitively) the
// first occurrence wins, so earlier lists take precedence (the router passes the security headers first,
// then CORS, then the request id, then the handler's own). Entries whose name is not an HTTP token, or whose
// value contains CR, LF or NUL (response splitting), are dropped.
HeaderList MergeHeaders(std::initializer_list<const HeaderList*> lists);

} // namespace balatrix::sidecar::http
