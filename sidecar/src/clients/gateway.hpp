/*
 * What the payment-gateway clients (RazorpayClient, StripeClient) share: the outcome of a call and the retry loop.
 *
 * Outcomes. A caller acts on four answers and nothing finer:
 *   kOk          2xx: the gateway did it; `body` is the entity.
 *   kDeclined    the gateway processed the request and said no to the payment (Stripe 402 card_error; Razorpay
 *                BAD_REQUEST_ERROR with source "customer"/"bank" or reason payment_failed). Final for this
 *                attempt to pay; the customer may try again with another instrument.
 *   kRejected    a 4xx (or a check made here before sending) that the same request would get again: validation,
 *                authentication (401), unknown id, idempotency key reused with other parameters (400). Nothing
 *                happened at the gateway; retrying unchanged is pointless.
 *   kUnavailable after the last attempt still a transport failure, a 5xx, a 409 or a 429, or a 2xx whose body is
 *                not JSON: the outcome is UNKNOWN. The money may have moved. The caller keeps the payment pending
 *                and reconciles later (fetch by id, or the gateway's webhook) — never treats it as "failed".
 *
 * Retrying. A request is repeated only when repeating it cannot do the thing twice (Replay::kSafe): a GET, a POST
 * carrying an idempotency key (Stripe's Idempotency-Key, Razorpay's X-Refund-Idempotency) or one the gateway
 * deduplicates itself (a Razorpay order with unique_receipt). The loop re-sends the very same HttpRequest, so the
 * key and the body are identical on every attempt — which is what makes the gateway return the first result
 * instead of acting again. It retries on an unknown outcome worth asking again about: a connect failure, a timeout,
 * a dropped connection, 5xx, 409 (the same key still in flight) and 429 (rate limited). It does not retry 4xx
 * (the answer would not change) nor TransportFailure::kOther (a bad URL or a TLS failure does not heal in seconds).
 * Backoff: first_backoff * 2^(n-1) after the n-th attempt, capped at max_backoff; a Retry-After of whole seconds
 * replaces it (capped at max_backoff too, so a hostile peer cannot park a worker thread).
 *
 * Logging: with a logger, each attempt is logged at debug as method, path (no query, no host), status or failure,
 * attempt and milliseconds. Never a header, a body or a URL's userinfo: those carry the keys.
 */
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "clients/http_transport.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace balatrix::sidecar::clients {

enum class GatewayOutcome { kOk, kDeclined, kRejected, kUnavailable };

// "ok", "declined", "rejected", "unavailable".
std::string_view GatewayOutcomeName(GatewayOutcome outcome);

struct GatewayResult {
	GatewayOutcome outcome = GatewayOutcome::kUnavailable;
	long http_status = 0;      // the last response's status; 0 after a transport failure or a local rejection
	nlohmann::json body;       // the last response's parsed JSON, or null
	std::string error_code;    // the gateway's code (Stripe: decline_code, else code), "transport_<failure>",
	                           // "invalid_response" or "invalid_argument" (a local rejection); "" on kOk
	std::string error_message; // the gateway's description, the transport's error line, or why it was refused
	int attempts = 0;          // requests sent; 0 when refused before sending
};

struct RetryPolicy {
	int max_attempts = 3;                         // including the first; values below 1 count as 1
	std::chrono::milliseconds first_backoff{250}; // doubles after every attempt
	std::chrono::milliseconds max_backoff{4000};
};

// Waits between attempts. Injected so tests run without waiting (and can see the waits); RealSleeper sleeps.
using Sleeper = std::function<void(std::chrono::milliseconds)>;
Sleeper RealSleeper();

// Whether sending the request again can do the thing twice. Only kSafe requests are retried.
enum class Replay { kSafe, kUnsafe };

// The last response of a retried exchange and how many requests were sent.
struct Exchange {
	HttpResponse response;
	int attempts = 0;
};

// True when the response leaves the outcome unknown and asking again may help: kConnect, kTimeout, kDropped,
// 5xx, 409, 429.
bool IsRetryable(const HttpResponse& response);

// The wait after attempt number `failed_attempt` (1-based) answered `response`.
std::chrono::milliseconds RetryDelay(const RetryPolicy& policy, int failed_attempt, const HttpResponse& response);

// Sends `request` until it gets an answer that is not retryable, or policy.max_attempts are used (1 for
// Replay::kUnsafe). An empty `sleeper` sleeps for real; `logger` may be null. Throws only std::bad_alloc.
Exchange SendWithRetries(HttpTransport& transport, const HttpRequest& request, Replay replay, const RetryPolicy& policy,
                         const Sleeper& sleeper, spdlog::logger* logger);

// The gateway-independent reading of the last response: kUnavailable for a transport failure (error_code
// "transport_<name>"), a 5xx, 409 or 429, or a 2xx without a JSON body ("invalid_response"); kOk for a 2xx with
// a JSON body; kRejected for anything else, which each gateway then refines (kDeclined) and annotates with its
// own error code and message.
GatewayResult ReadExchange(const Exchange& exchange);

// A refusal decided before any request was sent: kRejected, attempts 0, error_code "invalid_argument".
GatewayResult LocalRejection(std::string message);

// Ids interpolated into a URL path: 1-64 characters of [A-Za-z0-9_], so no '/', '.', '%', '?' or '#' can change
// which resource a request addresses.
bool IsSafePathId(std::string_view id);

// `base_url` without trailing slashes, so that base + "/v1/..." has exactly one.
std::string WithoutTrailingSlash(std::string base_url);

} // namespace balatrix::sidecar::clients
