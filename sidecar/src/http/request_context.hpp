/*
 * What a handler gets besides its own dependencies: the request, already checked and decoded by the router.
 *
 * By the time a handler runs, the router has enforced the body limit (413), the request target (400/414),
 * the route and method (404/405), CORS (403), path and query decoding (400), the content type (415) and JSON
 * syntax (400). So path_params and query hold decoded, NUL-free, valid UTF-8 values, and body holds strict
 * JSON (strict_json.hpp) or nothing. Only validation of the values themselves (422) is the handler's job
 * (validation.hpp).
 */
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "http/url.hpp"

namespace Pistache::Http {
class Request;
} // namespace Pistache::Http

namespace balatrix::sidecar::http {

struct RequestContext {
	// The request being served; valid for the duration of the handler call. Prefer the fields below and
	// RequestHeader(); handlers that need more include <pistache/http.h> in their .cpp.
	const Pistache::Http::Request* http = nullptr;
	std::string request_id;
	std::chrono::system_clock::time_point received_at{};
	std::string method;         // "GET", "POST", ...
	std::string route_pattern;  // the matched pattern, e.g. "/api/customers/:id"; empty when none matched
	std::string remote_address; // the peer's IP address (no proxy header is trusted)
	PathParams path_params;     // decoded
	QueryParams query;          // decoded, repeated names kept in order
	// The parsed JSON body; null when the request had none, and always null for BodyPolicy::kRaw routes.
	std::shared_ptr<const nlohmann::json> body;
	// The body exactly as received (for signature checks over the raw bytes); valid during the handler call.
	std::string_view raw_body;
};

// The value of request header `name` (case-insensitive), or nullopt when absent or when `context` has no
// request. Defined in router.cpp, the one place that knows Pistache's header collection.
std::optional<std::string> RequestHeader(const RequestContext& context, std::string_view name);

} // namespace balatrix::sidecar::http
