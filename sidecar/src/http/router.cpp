#include "http/router.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <functional>
#include <new>
#include <stdexcept>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <pistache/router.h>

#include "http/envelope.hpp"
#include "http/health_handler.hpp"
#include "http/request_context.hpp"
#include "http/request_id.hpp"
#include "log.hpp"
#include "service/lifecycle.hpp"

namespace balatrix::sidecar::http {

namespace Http = Pistache::Http;
namespace Rest = Pistache::Rest;
namespace Tcp = Pistache::Tcp;
using nlohmann::json;

namespace {

using Handle = std::function<Reply(const RequestContext&)>;

// Marks a connection whose byte stream can no longer be trusted (see EndpointHandler::onInput).
constexpr const char* kRejectedPeerKey = "balatrix.rejected";
// Access log lines and messages quote the path; cap it so a huge URL cannot bloat every line.
constexpr std::size_t kMaxQuotedPathLength = 512;

// A response header with a name known only at run time. Pistache writes only typed headers to the wire (Raw
// headers are request-side), so X-Request-ID and friends need a Header subclass.
class TextHeader final : public Http::Header::Header {
public:
	TextHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}

	const char*
	name() const override
	{
		return name_.c_str();
	}

#ifdef SAFE_HEADER_CAST
	uint64_t
	hash() const override
	{
		return Http::Header::detail::hash(name_.c_str());
	}
#endif

	void
	parse(const std::string& data) override
	{
		value_ = data;
	}

	void
	write(std::ostream& stream) const override
	{
		stream << value_;
	}

private:
	std::string name_;
	std::string value_;
};

// Header names and values must not contain CR or LF (response splitting).
bool
IsSafeHeaderText(std::string_view text)
{
	return text.find_first_of("\r\n") == std::string_view::npos;
}

std::string
QuotedPath(const std::string& resource)
{
	if (resource.size() <= kMaxQuotedPathLength)
		return resource;
	return resource.substr(0, kMaxQuotedPathLength) + "...";
}

// Pistache's sanitizeResource throws std::out_of_range on an empty path (substr past the end); an empty
// request target is the client's mistake, so it must not reach it.
std::string
SanitizedPath(const std::string& resource)
{
	if (resource.empty())
		return std::string();
	try {
		return Rest::SegmentTreeNode::sanitizeResource(resource);
	} catch (const std::exception&) {
		return std::string();
	}
}

std::optional<std::string>
IncomingRequestId(const Http::Request& request)
{
	const auto raw = request.headers().tryGetRaw(kRequestIdHeader);
	if (!raw)
		return std::nullopt;
	return raw->value();
}

} // namespace

// ---- Dispatcher: the state every route shares ----------------------------------------------------------------

class Dispatcher {
public:
	Dispatcher(Handlers handlers, RouterOptions options, service::Lifecycle& lifecycle, spdlog::logger& logger)
		: handlers_(handlers), options_(options), lifecycle_(lifecycle), logger_(logger),
		  json_type_(Http::Mime::MediaType::fromString("application/json; charset=utf-8"))
	{
	}

	const Handlers&
	handlers() const
	{
		return handlers_;
	}

	// Remembers that `method` serves `path`, so a request for the path with another method gets 405.
	void
	Remember(Http::Method method, const std::string& path)
	{
		// SegmentTreeNode keeps string_views into the resource; the aliasing shared_ptr keeps the string alive.
		auto owner = std::make_shared<std::string>(Rest::SegmentTreeNode::sanitizeResource(path));
		std::shared_ptr<char> resource(owner, owner->data());
		known_routes_[method].addRoute(
			std::string_view(*owner),
			[](const Rest::Request&, Http::ResponseWriter) { return Rest::Route::Result::Ok; }, resource);
	}

	// Serves one request: request id, body limit, the handler, and whatever happens, exactly one enveloped
	// response and one access log line. `route` is null when no route matched.
	void
	Serve(const Http::Request& request, const Rest::Request* route, Http::ResponseWriter response,
	      const Handle& handle) noexcept
	{
		// First, so nothing below can skip it; Finish hands it on to the write.
		service::Lifecycle::InFlight in_flight = lifecycle_.Track();
		const auto started = std::chrono::steady_clock::now();
		RequestContext context;
		Reply reply;
		try {
			context.http = &request;
			context.route = route;
			context.received_at = std::chrono::system_clock::now();
			context.request_id = ResolveRequestId(IncomingRequestId(request), ids_);
			if (request.body().size() > options_.max_body_bytes)
				reply = BodyTooLarge(context);
			else
				reply = handle(context);
		} catch (const std::exception& e) {
			reply = InternalError(context, e.what());
		} catch (...) {
			reply = InternalError(context, "non-standard exception");
		}
		Finish(request, response, reply, context.request_id, started, std::move(in_flight),
		       /*request_line_parsed=*/true);
	}

	// 405 when the path exists for other methods, else 404.
	Reply
	Fallback(const RequestContext& context) const
	{
		const Http::Request& request = *context.http;
		const std::string method = Http::methodString(request.method());
		const std::string path = QuotedPath(request.resource());

		std::vector<std::string> allowed;
		const std::string sanitized = SanitizedPath(request.resource());
		for (const auto& [candidate, node] : known_routes_) {
			try {
				if (!sanitized.empty() && std::get<0>(node.findRoute(sanitized)) != nullptr)
					allowed.emplace_back(Http::methodString(candidate));
			} catch (const std::exception&) {
				// findRoute rejects paths it cannot split; such a path matches nothing.
			}
		}
		if (allowed.empty()) {
			return Failure(context, ErrorCode::kNotFound, "Route " + method + " " + path + " not found",
			               json{{"method", method}, {"path", path}});
		}
		std::sort(allowed.begin(), allowed.end());
		std::string allow;
		for (const auto& name : allowed)
			allow += (allow.empty() ? "" : ", ") + name;
		Reply reply = Failure(context, ErrorCode::kMethodNotAllowed, "Method " + method + " is not allowed on " + path,
		                      json{{"method", method}, {"path", path}, {"allowed", allowed}});
		reply.headers.emplace_back("Allow", allow);
		return reply;
	}

	// Answers a request Pistache could not parse or that timed out. `partial` is whatever was parsed so far
	// (possibly nothing). Responds with Connection: close: after a framing error the rest of the byte stream
	// cannot be trusted.
	void
	Reject(const Http::Request& partial, Http::ResponseWriter response, ErrorCode code,
	       const std::string& message) noexcept
	{
		Reject(partial, std::move(response), code, message, json(nullptr));
	}

	void
	Reject(const Http::Request& partial, Http::ResponseWriter response, ErrorCode code, const std::string& message,
	       const json& details) noexcept
	{
		service::Lifecycle::InFlight in_flight = lifecycle_.Track();
		const auto started = std::chrono::steady_clock::now();
		RequestContext context;
		Reply reply;
		try {
			context.http = &partial;
			context.received_at = std::chrono::system_clock::now();
			context.request_id = ResolveRequestId(IncomingRequestId(partial), ids_);
			reply = Failure(context, code, message, details);
			response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
		} catch (...) {
			reply = InternalError(context, "could not build the rejection");
		}
		// Before its request line is complete a request has no method or path yet (the parser fills the
		// resource last), so an empty resource here means "nothing to log".
		Finish(partial, response, reply, context.request_id, started, std::move(in_flight), !partial.resource().empty(),
		       /*close_after=*/true);
	}

	// The one wording of a 413, whichever layer detects it.
	std::string
	BodyTooLargeMessage() const
	{
		return "Request body is larger than " + std::to_string(options_.max_body_bytes) + " bytes";
	}

	json
	BodyTooLargeDetails() const
	{
		return json{{"maxBytes", options_.max_body_bytes}};
	}

private:
	Reply
	BodyTooLarge(const RequestContext& context) const
	{
		return Failure(context, ErrorCode::kPayloadTooLarge, BodyTooLargeMessage(), BodyTooLargeDetails());
	}

	// Never throws: this is the last line of defence.
	Reply
	InternalError(RequestContext& context, const char* what) noexcept
	{
		try {
			if (context.request_id.empty())
				context.request_id = ids_.Next();
			LogEvent(logger_, LogLevel::kError, "unhandled_exception",
			         json{{"request_id", context.request_id}, {"error", what}});
			return Failure(context, ErrorCode::kInternalError,
			               "Internal error; quote the request id when reporting it");
		} catch (...) {
			Reply reply;
			reply.status = 500;
			reply.body =
				R"({"success":false,"message":"Internal error","error":{"code":"INTERNAL_ERROR","details":null}})";
			return reply;
		}
	}

	// Sends `reply` and writes the access log line. With `close_after`, or while the lifecycle drains,
	// answers with Connection: close and half-closes the connection once the response is on the wire.
	// Pistache 0.0.5 never closes a connection itself, even after "Connection: close"; the FIN tells the client
	// the exchange is over and lets it hang up. shutdown() (not close()) leaves the descriptor to Pistache, and
	// it runs on the transport thread right after the write, when the peer is still registered, so the
	// descriptor cannot have been reused.
	//
	// `in_flight` is released only when the write has settled. ResponseWriter::send merely queues the bytes
	// for the transport thread, which writes them after this handler returns; releasing the mark here would
	// let main() see zero requests in flight and shut the endpoint down with the response still queued —
	// exactly the drop the drain exists to prevent. So the mark moves into the promise's callbacks: they
	// release it when the write succeeds or fails, and if Pistache discards the write unsettled (the peer
	// vanished, the transport was torn down) destroying the callbacks releases it. If send() throws, the mark
	// is still the local one and is released when this returns.
	void
	Finish(const Http::Request& request, Http::ResponseWriter& response, const Reply& reply,
	       const std::string& request_id, std::chrono::steady_clock::time_point started,
	       service::Lifecycle::InFlight in_flight, bool request_line_parsed, bool close_after = false) noexcept
	{
		try {
			auto& headers = response.headers();
			if (lifecycle_.draining()) {
				close_after = true;
				headers.remove<Http::Header::Connection>(); // the keep-alive one onInput set, if any
			}
			if (close_after && !headers.has<Http::Header::Connection>())
				headers.add<Http::Header::Connection>(Http::ConnectionControl::Close);
			if (!request_id.empty())
				headers.add(std::make_shared<TextHeader>(kRequestIdHeader, request_id));
			headers.add<Http::Header::CacheControl>(Http::CacheDirective::NoStore);
			for (const auto& [name, value] : reply.headers) {
				if (IsSafeHeaderText(name) && IsSafeHeaderText(value))
					headers.add(std::make_shared<TextHeader>(name, value));
			}
			std::weak_ptr<Tcp::Peer> peer = response.getPeer();
			auto sent = response.send(static_cast<Http::Code>(reply.status), reply.body, json_type_);
			auto mark = std::make_shared<service::Lifecycle::InFlight>(std::move(in_flight));
			sent.then(
				[peer, mark, close_after](ssize_t) {
					if (close_after) {
						if (const auto alive = peer.lock())
							::shutdown(alive->fd(), SHUT_WR);
					}
					mark->Release();
				},
				[mark](std::exception_ptr) { mark->Release(); });
		} catch (const std::exception& e) {
			// The peer is gone or the socket failed; nothing more to tell the client.
			LogEvent(logger_, LogLevel::kWarn, "http_send_failed",
			         json{{"request_id", request_id}, {"error", e.what()}});
		} catch (...) {
		}

		try {
			const auto elapsed =
				std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
			LogEvent(logger_, LogLevel::kInfo, "http_request",
			         json{{"method", request_line_parsed ? Http::methodString(request.method()) : ""},
			              {"path", QuotedPath(request.resource())},
			              {"status", reply.status},
			              {"ms", static_cast<double>(elapsed.count()) / 1000.0},
			              {"request_id", request_id},
			              {"remote", request.address().host()}});
		} catch (...) {
		}
	}

	Handlers handlers_;
	RouterOptions options_;
	service::Lifecycle& lifecycle_;
	spdlog::logger& logger_;
	RequestIdGenerator ids_;
	Http::Mime::MediaType json_type_;
	// Written during setup only, then read concurrently (findRoute is const).
	std::unordered_map<Http::Method, Rest::SegmentTreeNode> known_routes_;
};

namespace {

// ---- Routes ---------------------------------------------------------------------------------------------------

void
AddRoute(Rest::Router& routes, const std::shared_ptr<Dispatcher>& dispatcher, Http::Method method,
         const std::string& path, Handle handle)
{
	dispatcher->Remember(method, path);
	routes.addRoute(
		method, path,
		[dispatcher, handle = std::move(handle)](const Rest::Request& request, Http::ResponseWriter response) {
			dispatcher->Serve(request, &request, std::move(response), handle);
			return Rest::Route::Result::Ok;
		});
}

// Every route of the sidecar, in one place.
void
SetupRoutes(Rest::Router& routes, const std::shared_ptr<Dispatcher>& dispatcher)
{
	HealthHandler& health = dispatcher->handlers().health;
	AddRoute(routes, dispatcher, Http::Method::Get, "/health",
	         [&health](const RequestContext& context) { return health.Health(context); });
	AddRoute(routes, dispatcher, Http::Method::Get, "/health/live",
	         [&health](const RequestContext& context) { return health.Live(context); });
	AddRoute(routes, dispatcher, Http::Method::Get, "/health/ready",
	         [&health](const RequestContext& context) { return health.Ready(context); });

	// Runs when no route matches the method and path. Pistache would otherwise answer 405 and 404 itself,
	// in plain text, without a request id or an access log line.
	routes.addCustomHandler([dispatcher](const Rest::Request& request, Http::ResponseWriter response) {
		dispatcher->Serve(request, nullptr, std::move(response),
		                  [&dispatcher](const RequestContext& context) { return dispatcher->Fallback(context); });
		return Rest::Route::Result::Ok;
	});
}

// ---- The Pistache handler ---------------------------------------------------------------------------------

// Pistache's Http::Handler::onInput answers protocol errors itself: 413 "Request exceeded maximum buffer
// size" in plain text, and 500 with the exception text for anything else that throws while parsing — for
// example the std::length_error from reserving an absurd Content-Length. Both break the API's contract (one
// envelope; never 500 for bad input), so onInput is re-implemented here. It mirrors Pistache 0.0.5
// (http.cc, Handler::onInput) step for step and uses only its public and protected API; only the error
// branches differ. After a framing error the connection is marked rejected and its further input dropped:
// re-parsing the tail of an oversized body as new requests (Pistache's behaviour) answers garbage with
// garbage and lets a body smuggle a request.
class EndpointHandler final : public Http::Handler {
public:
	HTTP_PROTOTYPE(EndpointHandler)

	EndpointHandler(std::shared_ptr<Rest::Router> routes, std::shared_ptr<Dispatcher> dispatcher)
		: routes_(std::move(routes)), dispatcher_(std::move(dispatcher))
	{
	}

	void
	onInput(const char* buffer, size_t length, const std::shared_ptr<Tcp::Peer>& peer) override
	{
		if (peer->tryGetData(kRejectedPeerKey))
			return;

		auto parser = getParser(peer);
		auto& request = parser->request;
		std::optional<ErrorCode> error;
		std::string message;
		try {
			if (!parser->feed(buffer, length)) {
				error = ErrorCode::kPayloadTooLarge;
			} else if (parser->parse() == Http::Private::State::Done) {
				Http::ResponseWriter response(request.version(), transport(), this, peer);
				request.copyAddress(peer->address());
				const auto connection = request.headers().tryGet<Http::Header::Connection>();
				response.headers().add<Http::Header::Connection>(connection ? connection->control()
				                                                            : Http::ConnectionControl::Close);
				peer->setIdle(false);
				onRequest(request, std::move(response));
				parser->reset();
			}
		} catch (const Http::HttpError& e) {
			error = e.code() == 413 ? ErrorCode::kPayloadTooLarge : ErrorCode::kBadRequest;
			message = std::string("Malformed HTTP request: ") + e.what();
		} catch (const std::length_error&) {
			error = ErrorCode::kPayloadTooLarge; // a Content-Length too large to even reserve
		} catch (const std::bad_alloc&) {
			error = ErrorCode::kPayloadTooLarge;
		} catch (const std::exception& e) {
			error = ErrorCode::kBadRequest;
			message = std::string("Malformed HTTP request: ") + e.what();
		}
		if (!error)
			return;

		try {
			peer->putData(kRejectedPeerKey, std::make_shared<bool>(true));
			request.copyAddress(peer->address());
			Http::ResponseWriter response(request.version(), transport(), this, peer);
			if (*error == ErrorCode::kPayloadTooLarge) {
				dispatcher_->Reject(request, std::move(response), *error, dispatcher_->BodyTooLargeMessage(),
				                    dispatcher_->BodyTooLargeDetails());
			} else {
				dispatcher_->Reject(request, std::move(response), *error, message);
			}
		} catch (...) {
			// The peer vanished mid-answer; nothing left to do.
		}
		parser->reset();
	}

	void
	onRequest(const Http::Request& request, Http::ResponseWriter response) override
	{
		if (request.resource().empty()) {
			// "GET  HTTP/1.1": Pistache parses an empty request target, which RFC 9112 does not allow.
			dispatcher_->Serve(request, nullptr, std::move(response), [](const RequestContext& context) {
				return Failure(context, ErrorCode::kBadRequest, "Malformed HTTP request: empty request target");
			});
			return;
		}
		try {
			routes_->route(request, response.clone());
			return;
		} catch (const std::exception&) {
			// Route lookup itself threw (Pistache's router throws std::runtime_error on paths it cannot handle).
			// Our handlers never throw, so nothing was sent yet: answer as an unknown route.
		}
		dispatcher_->Serve(request, nullptr, std::move(response),
		                   [this](const RequestContext& context) { return dispatcher_->Fallback(context); });
	}

	// Called when a handler armed ResponseWriter::timeoutAfter and did not answer in time. (Header and body
	// timeouts are answered by Pistache's transport directly, see router.hpp.)
	void
	onTimeout(const Http::Request& request, Http::ResponseWriter response) override
	{
		dispatcher_->Reject(request, std::move(response), ErrorCode::kRequestTimeout,
		                    "The request was not received in time");
	}

private:
	std::shared_ptr<Rest::Router> routes_;
	std::shared_ptr<Dispatcher> dispatcher_;
};

} // namespace

// ---- Router ---------------------------------------------------------------------------------------------------

Router::Router(Handlers handlers, RouterOptions options, service::Lifecycle& lifecycle, spdlog::logger& logger)
	: dispatcher_(std::make_shared<Dispatcher>(handlers, options, lifecycle, logger)),
	  routes_(std::make_shared<Rest::Router>())
{
	SetupRoutes(*routes_, dispatcher_);
}

Router::~Router() = default;

std::shared_ptr<Pistache::Http::Handler>
Router::MakeHttpHandler() const
{
	return std::make_shared<EndpointHandler>(routes_, dispatcher_);
}

} // namespace balatrix::sidecar::http
