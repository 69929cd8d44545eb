/*
 * CORS: which browser origins may call the API, and the headers that tell the browser so. Pure (no Pistache).
 *
 * The allow-list comes from CORS_ALLOWED_ORIGINS: exact origins ("https://portal.example.in",
 * "http://localhost:4200"), compared after lower-casing, or "*" alone for any origin. "*" cannot be combined
 * with credentials (CORS_ALLOW_CREDENTIALS): browsers refuse that pair anyway, and reflecting any origin with
 * credentials instead would let every web page act with the user's cookies. The origin "null" (sandboxed
 * frames, file: URLs) is never allowed.
 *
 * The router's use of it:
 *   - a preflight (OPTIONS with Origin and Access-Control-Request-Method) on a known path: 200 with
 *     PreflightHeaders when the origin is allowed, 403 FORBIDDEN when it is not;
 *   - any other request with an allowed Origin: ResponseHeaders added to whatever the response is;
 *   - a state-changing request (POST, PUT, PATCH, DELETE) whose Origin is present but not allowed: 403 before
 *     the handler runs. A browser would hide the response anyway, but the side effect would already have
 *     happened; this is the CSRF guard for clients that authenticate with a cookie. Same-origin pages send
 *     Origin on such requests too, so the API's own front end must be in the list.
 */
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace balatrix::sidecar::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct CorsOptions {
	// Normalised origins (NormalizeOrigin), or the single entry "*"; empty: no cross-origin access.
	std::vector<std::string> allowed_origins;
	bool allow_credentials = false;
	// How long a browser may cache a preflight answer.
	std::chrono::seconds max_age{600};
};

// Headers a cross-origin client may send, and response headers it may read.
inline constexpr const char* kCorsAllowedRequestHeaders = "Authorization, Content-Type, X-Request-ID, Idempotency-Key";
inline constexpr const char* kCorsExposedHeaders =
	"X-Request-ID, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset";

// "HTTPS://Portal.Example.in:8443" -> "https://portal.example.in:8443". An origin is a scheme (http or https),
// "://", a host (letters, digits, '-', '.', or a bracketed IPv6 literal) and an optional port 1..65535;
// nothing else (no path, not even "/", no user info, query or fragment). nullopt for anything else,
// including "null" and "*".
std::optional<std::string> NormalizeOrigin(std::string_view origin);

class CorsPolicy {
public:
	// Throws std::invalid_argument when the list mixes "*" with origins, holds an entry NormalizeOrigin refuses,
	// or has "*" while allow_credentials is set (Config reports these to the operator first).
	explicit CorsPolicy(CorsOptions options);

	// False when no origin is allowed: no CORS header is ever sent.
	bool
	enabled() const
	{
		return !options_.allowed_origins.empty();
	}

	bool IsAllowed(std::string_view origin) const;

	// For a non-preflight response. `origin` is the request's Origin header, nullopt when absent. Empty when
	// CORS is disabled; otherwise Vary: Origin (unless "*"), plus the allow headers when the origin is allowed.
	HeaderList ResponseHeaders(std::optional<std::string_view> origin) const;

	// For an allowed preflight: the allow headers, the methods the path accepts, the request headers the API
	// reads, and the cache lifetime. Call only when IsAllowed(origin).
	HeaderList PreflightHeaders(std::string_view origin, const std::vector<std::string>& methods) const;

private:
	bool wildcard() const;

	CorsOptions options_;
};

} // namespace balatrix::sidecar::http
