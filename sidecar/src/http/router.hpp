/*
 * Routing and the HTTP boundary. Everything a client can make the server say goes through here, so these
 * guarantees hold for every response, including errors Pistache itself would have answered in plain text:
 *
 * - the body is one of the two envelopes (envelope.hpp), Content-Type application/json; charset=utf-8,
 *   Cache-Control: no-store, and X-Request-ID (the client's if sane, else a fresh UUID);
 * - no exception escapes to Pistache; a handler bug is a 500 INTERNAL_ERROR (logged with the request id), and
 *   bad input never is: malformed HTTP -> 400, body over MAX_BODY_BYTES -> 413, unknown route -> 404, known
 *   route with another method -> 405 with Allow;
 * - one JSON access log line per response: method, path, status, ms, request_id, remote;
 * - every request is counted in flight (service::Lifecycle) from the moment the dispatcher takes it until its
 *   response is written to the socket or lost with its connection, whatever the handler did (threw, 404,
 *   413 at either layer, 400, 408);
 * - while the Lifecycle drains, every response carries Connection: close and the connection is half-closed
 *   after it, so keep-alive clients reconnect to another instance.
 *
 * One exception: a client too slow to send its headers or body (ServerOptions timeouts) gets Pistache's own
 * bare 408, written by its transport without consulting any handler, and no access log line.
 *
 * The routes themselves are listed in one place, SetupRoutes() in router.cpp.
 */
#pragma once

#include <cstddef>
#include <memory>

namespace Pistache::Http {
class Handler;
} // namespace Pistache::Http

namespace Pistache::Rest {
class Router;
} // namespace Pistache::Rest

namespace spdlog {
class logger;
} // namespace spdlog

namespace balatrix::sidecar::service {
class Lifecycle;
} // namespace balatrix::sidecar::service

namespace balatrix::sidecar::http {

class HealthHandler;
class Dispatcher;

// The handlers the routes dispatch to. Each must outlive every HTTP handler made by the Router.
struct Handlers {
	HealthHandler& health;
};

struct RouterOptions {
	// Requests whose body is larger get 413 PAYLOAD_TOO_LARGE before any handler runs.
	std::size_t max_body_bytes = 1048576;
};

class Router {
public:
	// `lifecycle` and `logger` must outlive the Router and every HTTP handler it makes (and so the Server).
	Router(Handlers handlers, RouterOptions options, service::Lifecycle& lifecycle, spdlog::logger& logger);
	~Router();

	Router(const Router&) = delete;
	Router& operator=(const Router&) = delete;

	// The handler to give to the endpoint (Server). Pistache clones it per worker thread; all clones share
	// the routes. It keeps what it needs alive by itself, except the handlers, the lifecycle and the logger.
	std::shared_ptr<Pistache::Http::Handler> MakeHttpHandler() const;

private:
	std::shared_ptr<Dispatcher> dispatcher_;
	std::shared_ptr<Pistache::Rest::Router> routes_;
};

} // namespace balatrix::sidecar::http
