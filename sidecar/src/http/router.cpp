#include "http/router.hpp"

#include <strings.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <new>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pistache/http.h>
#include <pistache/peer.h>

#include "http/health_handler.hpp"
#include "http/metrics.hpp"
#include "http/request_id.hpp"
#include "http/url.hpp"
#include "log.hpp"
#include "service/lifecycle.hpp"

namespace balatrix::sidecar::http {

namespace Http = Pistache::Http;
namespace Tcp = Pistache::Tcp;
using nlohmann::json;

namespace {

// Per-connection state kept by EndpointHandler (Pistache peers carry named shared_ptr<void> data).
constexpr const char* kPeerStateKey = "balatrix.peer";
// Messages quote the path; cap it so a huge URL cannot bloat a response.
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

// The first line of the request being received, captured from the raw bytes before Pistache parses them: it
// is the only place the query string survives intact (Pistache's own query map drops repeated names and
// order). Pistache 0.0.5 parses one request per input chunk sequence and discards whatever follows it in the
// last chunk (no pipelining), so the capture restarts exactly when the parser does: after each request.
class RequestLineCapture {
public:
	// Appends `data` up to its first '\n', unless the line is complete already. False when the line outgrows
	// kMaxRequestLineBytes (the request gets 414).
	bool
	Feed(const char* data, std::size_t length)
	{
		if (complete_)
			return true;
		const void* newline = std::memchr(data, '\n', length);
		const std::size_t take =
			newline != nullptr ? static_cast<std::size_t>(static_cast<const char*>(newline) - data) : length;
		if (line_.size() + take > kMaxRequestLineBytes)
			return false;
		line_.append(data, take);
		complete_ = newline != nullptr;
		return true;
	}

	// The captured line; the capture starts over for the next request.
	std::string
	Take()
	{
		std::string line = std::move(line_);
		line_.clear();
		complete_ = false;
		return line;
	}

private:
	std::string line_;
	bool complete_ = false;
};

struct PeerState {
	// Set after a framing error: the byte stream can no longer be trusted (see EndpointHandler::onInput).
	bool rejected = false;
	RequestLineCapture line;
};

std::string
QuotedPath(std::string_view path)
{
	if (path.size() <= kMaxQuotedPathLength)
		return std::string(path);
	return std::string(path.substr(0, kMaxQuotedPathLength)) + "...";
}

// A request header's value whether Pistache kept it raw or parsed it into a typed header.
std::optional<std::string>
HeaderValue(const Http::Request& request, std::string_view name)
{
	const std::string key(name);
	const auto& headers = request.headers();
	if (const auto raw = headers.tryGetRaw(key))
		return raw->value();
	if (const auto typed = headers.tryGet(key)) {
		std::ostringstream value;
		typed->write(value);
		return value.str();
	}
	return std::nullopt;
}

bool
IsSafeMethod(std::string_view method)
{
	return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

std::string
Join(const std::vector<std::string>& items)
{
	std::string joined;
	for (const auto& item : items)
		joined += (joined.empty() ? "" : ", ") + item;
	return joined;
}

} // namespace

std::optional<std::string>
RequestHeader(const RequestContext& context, std::string_view name)
{
	if (context.http == nullptr)
		return std::nullopt;
	try {
		return HeaderValue(*context.http, name);
	} catch (const std::exception&) {
		return std::nullopt;
	}
}

// ---- Dispatcher: the state every route shares ----------------------------------------------------------------

class Dispatcher {
public:
	Dispatcher(Handlers handlers, RouterOptions options, service::Lifecycle& lifecycle, spdlog::logger& logger)
		: handlers_(handlers), max_body_bytes_(options.max_body_bytes), cors_(std::move(options.cors)),
		  security_headers_(SecurityHeaders(options.security)), metrics_(options.metrics), lifecycle_(lifecycle),
		  logger_(logger), json_type_(Http::Mime::MediaType::fromString("application/json; charset=utf-8"))
	{
	}

	const Handlers&
	handlers() const
	{
		return handlers_;
	}

	void
	Add(std::string_view method, std::string_view pattern, RouteHandler handler, RouteOptions options)
	{
		if (frozen_.load())
			throw std::logic_error("Router::Add after MakeHttpHandler: routes are fixed once serving");
		table_.Add(method, pattern);
		entries_.push_back(Entry{std::move(handler), options});
	}

	void
	Freeze()
	{
		frozen_.store(true);
	}

	std::vector<RouteInfo>
	Routes() const
	{
		return table_.routes();
	}

	// Serves one parsed request: whatever happens, exactly one enveloped response and one access log line.
	// `target` is the request target read from the request line (url.hpp); nullopt when it is unknown.
	void
	Dispatch(const Http::Request& request, std::optional<std::string_view> target,
	         Http::ResponseWriter response) noexcept
	{
		// First, so nothing below can skip it; Finish hands it on to the write.
		service::Lifecycle::InFlight in_flight = lifecycle_.Track();
		const auto started = std::chrono::steady_clock::now();
		RequestContext context;
		HeaderList cors_headers;
		Reply reply;
		try {
			context.http = &request;
			context.received_at = std::chrono::system_clock::now();
			context.request_id = ResolveRequestId(HeaderValue(request, kRequestIdHeader), ids_);
			context.method = Http::methodString(request.method());
			context.remote_address = request.address().host();
			reply = Route(request, target, context, cors_headers);
		} catch (const std::exception& e) {
			reply = InternalError(context, e.what());
		} catch (...) {
			reply = InternalError(context, "non-standard exception");
		}
		Finish(request, response, reply, context, cors_headers, started, std::move(in_flight),
		       /*request_line_parsed=*/true);
	}

	// Answers a request Pistache could not parse or that timed out. `partial` is whatever was parsed so far
	// (possibly nothing). Responds with Connection: close: after a framing error the rest of the byte stream
	// cannot be trusted.
	void
	Reject(const Http::Request& partial, Http::ResponseWriter response, ErrorCode code, const std::string& message,
	       const json& details = json(nullptr)) noexcept
	{
		service::Lifecycle::InFlight in_flight = lifecycle_.Track();
		const auto started = std::chrono::steady_clock::now();
		RequestContext context;
		HeaderList cors_headers;
		Reply reply;
		try {
			context.http = &partial;
			context.received_at = std::chrono::system_clock::now();
			context.request_id = ResolveRequestId(HeaderValue(partial, kRequestIdHeader), ids_);
			context.remote_address = partial.address().host();
			cors_headers = cors_.ResponseHeaders(HeaderValue(partial, "Origin"));
			reply = Failure(context, code, message, details);
			response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
		} catch (...) {
			reply = InternalError(context, "could not build the rejection");
		}
		// Before its request line is complete a request has no method or path yet (the parser fills the
		// resource last), so an empty resource here means "nothing to log".
		const bool line_parsed = !partial.resource().empty();
		if (line_parsed)
			context.method = Http::methodString(partial.method());
		Finish(partial, response, reply, context, cors_headers, started, std::move(in_flight), line_parsed,
		       /*close_after=*/true);
	}

	// The one wording of a 413, whichever layer detects it.
	std::string
	BodyTooLargeMessage() const
	{
		return "Request body is larger than " + std::to_string(max_body_bytes_) + " bytes";
	}

	json
	BodyTooLargeDetails() const
	{
		return json{{"maxBytes", max_body_bytes_}};
	}

private:
	struct Entry {
		RouteHandler handler;
		RouteOptions options;
	};

	// Every check of router.hpp, in its order, then the handler. Fills `cors_headers` for the response.
	Reply
	Route(const Http::Request& request, std::optional<std::string_view> raw_target, RequestContext& context,
	      HeaderList& cors_headers) const
	{
		const std::optional<std::string> origin = HeaderValue(request, "Origin");
		cors_headers = cors_.ResponseHeaders(origin);

		if (request.body().size() > max_body_bytes_)
			return Failure(context, ErrorCode::kPayloadTooLarge, BodyTooLargeMessage(), BodyTooLargeDetails());

		if (!raw_target && request.query().parameters().empty())
			raw_target = request.resource(); // Pistache saw no query, so the path is the whole target
		if (!raw_target)
			return Failure(context, ErrorCode::kBadRequest, "Malformed HTTP request: unreadable request target");
		const auto split = SplitRequestTarget(*raw_target);
		if (const auto* error = std::get_if<TargetError>(&split)) {
			return Failure(context, ErrorCode::kBadRequest,
			               "Malformed HTTP request: " + std::string(TargetErrorMessage(*error)));
		}
		const RequestTarget& target = std::get<RequestTarget>(split);
		if (target.path != request.resource()) // the capture and Pistache's parser disagree: trust neither
			return Failure(context, ErrorCode::kBadRequest, "Malformed HTTP request: unreadable request target");

		const auto preflight_method = HeaderValue(request, "Access-Control-Request-Method");
		const bool preflight = context.method == "OPTIONS" && origin && preflight_method;
		const RouteTable::Match match = table_.Find(context.method, target.path);
		if (match.path_index)
			context.route_pattern = table_.routes()[*match.path_index].pattern;

		if (match.outcome == RouteTable::Match::Outcome::kNotFound)
			return NotFound(context, target.path);
		if (preflight)
			return Preflight(context, *origin, match.allowed_methods, cors_headers);
		if (match.outcome == RouteTable::Match::Outcome::kMethodNotAllowed)
			return MethodNotAllowed(context, target.path, match.allowed_methods);

		if (origin && !IsSafeMethod(context.method) && !cors_.IsAllowed(*origin)) {
			return Failure(context, ErrorCode::kForbidden, "Cross-origin request from a refused origin",
			               json{{"origin", QuotedPath(*origin)}});
		}

		const RouteInfo& route = table_.routes()[match.index];
		auto params = DecodePathParams(route.param_names, match.raw_params);
		if (const auto* error = std::get_if<PathParamError>(&params)) {
			return Failure(context, ErrorCode::kBadRequest,
			               "Path parameter \"" + error->name + "\" " + std::string(DecodeErrorMessage(error->error)),
			               json{{"parameter", error->name}, {"in", "path"}});
		}
		context.path_params = std::move(std::get<PathParams>(params));

		if (target.query) {
			auto query = ParseQuery(*target.query);
			if (const auto* error = std::get_if<QueryError>(&query)) {
				json details{{"in", "query"}};
				if (error->kind == QueryError::Kind::kDecode)
					details["parameter"] = error->parameter;
				return Failure(context, ErrorCode::kBadRequest, QueryErrorMessage(*error), details);
			}
			context.query = std::move(std::get<QueryParams>(query));
		}

		const Entry& entry = entries_[match.index];
		context.raw_body = request.body();
		if (entry.options.body == BodyPolicy::kJson) {
			const std::optional<std::string> content_type = HeaderValue(request, "Content-Type");
			auto body = ReadJsonBody(context.method, content_type, context.raw_body);
			if (const auto* rejection = std::get_if<BodyRejection>(&body)) {
				json details(nullptr);
				if (rejection->offset)
					details = json{{"offset", *rejection->offset}};
				return Failure(context, rejection->code, rejection->message, details);
			}
			context.body = std::move(std::get<std::shared_ptr<const json>>(body));
		}
		return entry.handler(context);
	}

	Reply
	NotFound(const RequestContext& context, std::string_view path) const
	{
		const std::string quoted = QuotedPath(path);
		return Failure(context, ErrorCode::kNotFound, "Route " + context.method + " " + quoted + " not found",
		               json{{"method", context.method}, {"path", quoted}});
	}

	Reply
	MethodNotAllowed(const RequestContext& context, std::string_view path,
	                 const std::vector<std::string>& allowed) const
	{
		const std::string quoted = QuotedPath(path);
		Reply reply =
			Failure(context, ErrorCode::kMethodNotAllowed, "Method " + context.method + " is not allowed on " + quoted,
		            json{{"method", context.method}, {"path", quoted}, {"allowed", allowed}});
		reply.headers.emplace_back("Allow", Join(allowed));
		return reply;
	}

	Reply
	Preflight(const RequestContext& context, const std::string& origin, const std::vector<std::string>& allowed,
	          HeaderList& cors_headers) const
	{
		if (!cors_.IsAllowed(origin)) {
			return Failure(context, ErrorCode::kForbidden, "CORS: origin not allowed",
			               json{{"origin", QuotedPath(origin)}});
		}
		cors_headers = cors_.PreflightHeaders(origin, allowed);
		return Success(context, "CORS preflight", json{{"allowedMethods", allowed}});
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
	//
	// Headers: Pistache's collection keeps the first header added under a name, so the merged list
	// (security headers, then CORS, then the request id, then the handler's) is the only one added.
	void
	Finish(const Http::Request& request, Http::ResponseWriter& response, const Reply& reply,
	       const RequestContext& context, const HeaderList& cors_headers, std::chrono::steady_clock::time_point started,
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
			HeaderList request_id;
			if (!context.request_id.empty())
				request_id.emplace_back(kRequestIdHeader, context.request_id);
			// A handler's own Content-Type (e.g. the Prometheus text format) replaces the JSON one; it goes to
			// send() as the media type, not as a second header.
			HeaderList handler_headers;
			std::optional<Http::Mime::MediaType> own_type;
			for (const auto& [name, value] : reply.headers) {
				if (strcasecmp(name.c_str(), "Content-Type") == 0)
					own_type = Http::Mime::MediaType::fromString(value);
				else
					handler_headers.emplace_back(name, value);
			}
			for (auto& [name, value] : MergeHeaders({&security_headers_, &cors_headers, &request_id, &handler_headers}))
				headers.add(std::make_shared<TextHeader>(std::move(name), std::move(value)));
			std::weak_ptr<Tcp::Peer> peer = response.getPeer();
			auto sent =
				response.send(static_cast<Http::Code>(reply.status), reply.body, own_type ? *own_type : json_type_);
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
			         json{{"request_id", context.request_id}, {"error", e.what()}});
		} catch (...) {
		}

		try {
			const auto elapsed_ns = std::chrono::steady_clock::now() - started;
			if (metrics_ != nullptr) {
				metrics_->ObserveRequest(request_line_parsed ? std::string_view(context.method) : std::string_view(),
				                         context.route_pattern, reply.status,
				                         std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed_ns));
			}
			const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(elapsed_ns);
			LogEvent(logger_, LogLevel::kInfo, "http_request",
			         json{{"method", request_line_parsed ? context.method : std::string()},
			              {"route", context.route_pattern.empty() ? json(nullptr) : json(context.route_pattern)},
			              {"status", reply.status},
			              {"duration_us", elapsed.count()},
			              {"request_id", context.request_id},
			              {"remote", context.remote_address},
			              {"bytes", reply.body.size()},
			              {"request_bytes", request.body().size()}});
		} catch (...) {
		}
	}

	Handlers handlers_;
	std::size_t max_body_bytes_;
	CorsPolicy cors_;
	HeaderList security_headers_;
	Metrics* metrics_;
	service::Lifecycle& lifecycle_;
	spdlog::logger& logger_;
	RequestIdGenerator ids_;
	Http::Mime::MediaType json_type_;
	// Written during setup only (Add), then read concurrently: Freeze() ends the writing.
	RouteTable table_;
	std::vector<Entry> entries_;
	std::atomic<bool> frozen_{false};
};

namespace {

// ---- Routes ---------------------------------------------------------------------------------------------------

// Every production route of the sidecar, in one place.
void
SetupRoutes(Dispatcher& dispatcher)
{
	HealthHandler& health = dispatcher.handlers().health;
	dispatcher.Add(
		"GET", "/health", [&health](const RequestContext& context) { return health.Health(context); }, RouteOptions{});
	dispatcher.Add(
		"GET", "/health/live", [&health](const RequestContext& context) { return health.Live(context); },
		RouteOptions{});
	dispatcher.Add(
		"GET", "/health/ready", [&health](const RequestContext& context) { return health.Ready(context); },
		RouteOptions{});
}

// ---- The Pistache handler ---------------------------------------------------------------------------------

// Pistache's Http::Handler::onInput answers protocol errors itself: 413 "Request exceeded maximum buffer
// size" in plain text, and 500 with the exception text for anything else that throws while parsing — for
// example the std::length_error from reserving an absurd Content-Length. Both break the API's contract (one
// envelope; never 500 for bad input), so onInput is re-implemented here. It mirrors Pistache 0.0.5
// (http.cc, Handler::onInput) step for step and uses only its public and protected API; only the error
// branches differ, and it captures the request line on the way (RequestLineCapture). After a framing error
// the connection is marked rejected and its further input dropped: re-parsing the tail of an oversized body
// as new requests (Pistache's behaviour) answers garbage with garbage and lets a body smuggle a request.
class EndpointHandler final : public Http::Handler {
public:
	HTTP_PROTOTYPE(EndpointHandler)

	explicit EndpointHandler(std::shared_ptr<Dispatcher> dispatcher) : dispatcher_(std::move(dispatcher)) {}

	void
	onInput(const char* buffer, size_t length, const std::shared_ptr<Tcp::Peer>& peer) override
	{
		std::shared_ptr<PeerState> state;
		try {
			state = StateOf(peer);
		} catch (...) {
			return; // out of memory for a few bytes of state: drop the input, the client times out
		}
		if (state->rejected)
			return;

		auto parser = getParser(peer);
		auto& request = parser->request;
		std::optional<ErrorCode> error;
		std::string message;
		try {
			if (!state->line.Feed(buffer, length)) {
				error = ErrorCode::kUriTooLong;
			} else if (!parser->feed(buffer, length)) {
				error = ErrorCode::kPayloadTooLarge;
			} else if (parser->parse() == Http::Private::State::Done) {
				Http::ResponseWriter response(request.version(), transport(), this, peer);
				request.copyAddress(peer->address());
				// Without a Connection header, HTTP/1.1 means keep-alive (RFC 9112 §9.3) and HTTP/1.0 means close.
				// (Pistache's own handler answers Close to every request without the header.)
				const auto connection = request.headers().tryGet<Http::Header::Connection>();
				response.headers().add<Http::Header::Connection>(
					connection                                 ? connection->control()
					: request.version() == Http::Version::Http11 ? Http::ConnectionControl::KeepAlive
					                                             : Http::ConnectionControl::Close);
				peer->setIdle(false);
				const std::string line = state->line.Take();
				dispatcher_->Dispatch(request, RequestTargetFromLine(line), std::move(response));
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
			state->rejected = true;
			request.copyAddress(peer->address());
			Http::ResponseWriter response(request.version(), transport(), this, peer);
			if (*error == ErrorCode::kPayloadTooLarge) {
				dispatcher_->Reject(request, std::move(response), *error, dispatcher_->BodyTooLargeMessage(),
				                    dispatcher_->BodyTooLargeDetails());
			} else if (*error == ErrorCode::kUriTooLong) {
				dispatcher_->Reject(request, std::move(response), *error,
				                    "Request line is longer than " + std::to_string(kMaxRequestLineBytes) + " bytes",
				                    json{{"maxBytes", kMaxRequestLineBytes}});
			} else {
				dispatcher_->Reject(request, std::move(response), *error, message);
			}
		} catch (...) {
			// The peer vanished mid-answer; nothing left to do.
		}
		parser->reset();
	}

	// Not called by Pistache 0.0.5 (only its Handler::onInput calls it, and onInput is replaced above); kept
	// correct anyway. Without the raw request line, the path is the whole target only if Pistache saw no query.
	void
	onRequest(const Http::Request& request, Http::ResponseWriter response) override
	{
		dispatcher_->Dispatch(request, std::nullopt, std::move(response));
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
	static std::shared_ptr<PeerState>
	StateOf(const std::shared_ptr<Tcp::Peer>& peer)
	{
		if (auto existing = peer->tryGetData(kPeerStateKey))
			return std::static_pointer_cast<PeerState>(existing);
		auto created = std::make_shared<PeerState>();
		peer->putData(kPeerStateKey, created);
		return created;
	}

	std::shared_ptr<Dispatcher> dispatcher_;
};

} // namespace

// ---- Router ---------------------------------------------------------------------------------------------------

Router::Router(Handlers handlers, RouterOptions options, service::Lifecycle& lifecycle, spdlog::logger& logger)
	: dispatcher_(std::make_shared<Dispatcher>(handlers, std::move(options), lifecycle, logger))
{
	SetupRoutes(*dispatcher_);
}

Router::~Router() = default;

void
Router::Add(std::string_view method, std::string_view pattern, RouteHandler handler, RouteOptions options)
{
	dispatcher_->Add(method, pattern, std::move(handler), options);
}

std::vector<RouteInfo>
Router::Routes() const
{
	return dispatcher_->Routes();
}

std::shared_ptr<Pistache::Http::Handler>
Router::MakeHttpHandler() const
{
	dispatcher_->Freeze();
	return std::make_shared<EndpointHandler>(dispatcher_);
}

} // namespace balatrix::sidecar::http
