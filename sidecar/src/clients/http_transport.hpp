/*
 * Outbound HTTP for the sidecar's clients (payment gateways, customer webhooks, the SMS gateway).
 *
 * One small interface so the clients above it know nothing of libcurl and are testable with a scripted
 * transport; MakeCurlTransport() is the real one. A transport never throws for anything the network or the
 * peer does: a refused connection, a timeout or a connection dropped before a complete response come back as
 * a TransportFailure with the HTTP status 0, so a caller can tell "the peer said no" (status >= 400) from "we
 * do not know what happened" (failure != kNone) — the case an idempotency key exists for.
 *
 * Thread safety: Send may be called from several threads at once (the curl transport uses one easy handle per
 * call). curl_global_init must have run before the first Send (main.cpp does it before any thread starts).
 * Secrets travel in request headers or the URL's userinfo; a transport never logs a request.
 */
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace balatrix::sidecar::clients {

struct HttpRequest {
	std::string method = "GET"; // GET, POST, DELETE, ...
	std::string url;            // absolute http:// or https:// URL
	std::vector<std::pair<std::string, std::string>> headers; // name, value
	std::string body;                                         // sent as-is when non-empty (or for POST)
	std::chrono::milliseconds timeout{15000};                 // whole exchange
	std::chrono::milliseconds connect_timeout{5000};
};

enum class TransportFailure {
	kNone,    // a complete HTTP response arrived (any status)
	kConnect, // could not connect (refused, unreachable, DNS): the request was certainly not processed
	kTimeout, // no complete response in time: the request may or may not have taken effect
	kDropped, // the connection closed or reset before a complete response: may or may not have taken effect
	kOther,   // anything else (TLS, bad URL, ...); `error` says what
};

// "none", "connect", "timeout", "dropped" or "other": for logs and error codes.
std::string_view TransportFailureName(TransportFailure failure);

struct HttpResponse {
	TransportFailure failure = TransportFailure::kNone;
	std::string error; // one line for logs when failure != kNone; never contains a secret
	long status = 0;   // 0 unless failure == kNone
	std::vector<std::pair<std::string, std::string>> headers; // names lower-cased, in arrival order
	std::string body;
	std::chrono::milliseconds elapsed{0};

	// The last value of a header (name in lower case), or "" when absent.
	std::string Header(const std::string& lowercase_name) const;
};

class HttpTransport {
public:
	virtual ~HttpTransport() = default;
	virtual HttpResponse Send(const HttpRequest& request) = 0;
};

// The libcurl transport: HTTP/1.1, redirects not followed, TLS peer verification on, no proxy from the
// environment unless the standard variables are set.
std::unique_ptr<HttpTransport> MakeCurlTransport();

} // namespace balatrix::sidecar::clients
