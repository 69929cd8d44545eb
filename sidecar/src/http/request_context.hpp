/*
 * What a handler gets besides its own dependencies: the request, its id and its arrival time (the latter two
 * are echoed in every response envelope).
 */
#pragma once

#include <chrono>
#include <string>

namespace Pistache::Http {
class Request;
} // namespace Pistache::Http

namespace Pistache::Rest {
class Request;
} // namespace Pistache::Rest

namespace balatrix::sidecar::http {

struct RequestContext {
	// The request being served; valid for the duration of the handler call. Handlers that read it include
	// <pistache/http.h> / <pistache/router.h> in their .cpp.
	const Pistache::Http::Request* http = nullptr;
	// The same request with its path parameters, when a route matched; null for the not-found fallback.
	const Pistache::Rest::Request* route = nullptr;
	std::string request_id;
	std::chrono::system_clock::time_point received_at{};
};

} // namespace balatrix::sidecar::http
