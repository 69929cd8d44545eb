/*
 * Routing and the HTTP boundary. Everything a client can make the server say goes through here, so these
 * guarantees hold for every response, including errors Pistache itself would have answered in plain text:
 *
 * - the body is one of the two envelopes (envelope.hpp), Content-Type application/json; charset=utf-8,
 *   X-Request-ID (the client's if sane, else a fresh UUID), the security headers (security_headers.hpp:
 *   nosniff, DENY, no-referrer, CSP, no-store, HSTS when configured) and, for allowed origins, CORS;
 * - no exception escapes to Pistache; a handler bug is a 500 INTERNAL_ERROR (logged with the request id), and
 *   bad input never is. The checks, in order, each answered with the error envelope:
 *     malformed HTTP -> 400; request line over kMaxRequestLineBytes -> 414; body over MAX_BODY_BYTES -> 413;
 *     request target not origin-form or with raw control/space/non-ASCII/'#' bytes -> 400;
 *     unknown path -> 404 (preflights included);
 *     CORS preflight (OPTIONS + Origin + Access-Control-Request-Method) -> 200, or 403 for a refused origin;
 *     known path, other method -> 405 with Allow;
 *     POST/PUT/PATCH/DELETE from a refused Origin -> 403;
 *     path parameter or query string that does not decode (url.hpp) -> 400;
 *     body not application/json -> 415; body not strict JSON -> 400 INVALID_JSON (request_body.hpp);
 *     then the handler, whose validation answers 422 (validation.hpp);
 * - one JSON access log line per response ("http_request"): method, route (the matched pattern such as
 *   "/api/customers/:id", null when none matched: never the raw path, which may carry ids, tokens or
 *   garbage), status, duration_us, request_id, remote, bytes (response body), request_bytes; and, with
 *   RouterOptions::metrics, one observation in the request metrics (metrics.hpp) with the same labels;
 * - the Content-Type is application/json; charset=utf-8 unless the handler's Reply carries its own
 *   Content-Type header (GET /metrics answers in the Prometheus text format);
 * - every request is counted in flight (service::Lifecycle) from the moment the dispatcher takes it until its
 *   response is written to the socket or lost with its connection, whatever the handler did (threw, 404,
 *   413 at either layer, 400, 408);
 * - while the Lifecycle drains, every response carries Connection: close and the connection is half-closed
 *   after it, so keep-alive clients reconnect to another instance.
 *
 * One exception: a client too slow to send its headers or body (ServerOptions timeouts) gets Pistache's own
 * bare 408, written by its transport without consulting any handler, and no access log line.
 *
 * The production routes are listed in one place, SetupRoutes() in router.cpp.
 */
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "http/cors.hpp"
#include "http/envelope.hpp"
#include "http/request_body.hpp"
#include "http/request_context.hpp"
#include "http/route_table.hpp"
#include "http/security_headers.hpp"

namespace Pistache::Http {
class Handler;
} // namespace Pistache::Http

namespace spdlog {
class logger;
} // namespace spdlog

namespace balatrix::sidecar::service {
class Lifecycle;
} // namespace balatrix::sidecar::service

namespace balatrix::sidecar::http {

class HealthHandler;
class Dispatcher;
class Metrics;

// The handlers the routes dispatch to. Each must outlive every HTTP handler made by the Router.
struct Handlers {
	HealthHandler& health;
};

struct RouterOptions {
	// Requests whose body is larger get 413 PAYLOAD_TOO_LARGE before any handler runs.
	std::size_t max_body_bytes = 1048576;
	CorsOptions cors;
	SecurityHeaderOptions security;
	// When set, every response the router writes (errors included: 400/404/405/413/414/500) is counted in it,
	// where the access log line is written. Must outlive the Router and every HTTP handler it makes.
	Metrics* metrics = nullptr;
};

struct RouteOptions {
	BodyPolicy body = BodyPolicy::kJson;
};

// Must not throw for bad input (answer an error Reply instead); a throw is logged and answered 500.
using RouteHandler = std::function<Reply(const RequestContext&)>;

class Router {
public:
	// `lifecycle` and `logger` must outlive the Router and every HTTP handler it makes (and so the Server).
	// Throws std::invalid_argument when options.cors is inconsistent (see CorsPolicy).
	Router(Handlers handlers, RouterOptions options, service::Lifecycle& lifecycle, spdlog::logger& logger);
	~Router();

	Router(const Router&) = delete;
	Router& operator=(const Router&) = delete;

	// Adds a route besides those of SetupRoutes; tests use it for probe routes. Only before MakeHttpHandler
	// (std::logic_error after: the table is read without locks once serving); std::invalid_argument for a bad
	// method or pattern or a duplicate (RouteTable::Add).
	void Add(std::string_view method, std::string_view pattern, RouteHandler handler, RouteOptions options = {});

	// Every route, in the order added (for the OpenAPI document and its completeness test).
	std::vector<RouteInfo> Routes() const;

	// The handler to give to the endpoint (Server). Pistache clones it per worker thread; all clones share
	// the routes. It keeps what it needs alive by itself, except the handlers, the lifecycle and the logger.
	// Freezes the route table.
	std::shared_ptr<Pistache::Http::Handler> MakeHttpHandler() const;

private:
	std::shared_ptr<Dispatcher> dispatcher_;
};

} // namespace balatrix::sidecar::http
