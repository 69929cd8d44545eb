/*
 * Razorpay REST client (orders, payments, capture, refunds) over an HttpTransport. Reference: gst-payments.md §2.1.
 *
 * Wire: `Authorization: Basic base64(key_id:key_secret)` exactly (Razorpay refuses `basic`, quotes or anything
 * else), JSON bodies, amounts as JSON integers in paise. Errors are {"error":{"code","description","source",
 * "reason",...}}; an unknown id is a 400, not a 404.
 *
 * Every call is retry-safe, so every call goes through the shared retry loop (gateway.hpp):
 *   - GETs change nothing.
 *   - CreateOrder sends unique_receipt: true, so a repeated create with the same receipt returns the order the
 *     first attempt made (same amount and currency) instead of a second order. The receipt is therefore required.
 *   - Refund carries X-Refund-Idempotency: the same key and the same body replay the first refund; while the first
 *     is still being processed Razorpay answers 409, which the loop waits out.
 *   - Capture has no idempotency key, but a capture is naturally idempotent: a repeat answers 400 "already been
 *     captured". Capture turns that answer into kOk after fetching the payment and finding it captured with the
 *     requested amount — so a capture whose first response was lost (timeout, 5xx after the fact) still ends kOk.
 *
 * Ids interpolated into paths must match [A-Za-z0-9_]{1,64}; anything else is refused before a request is sent
 * (kRejected, attempts 0), as are malformed amounts, currencies, receipts and idempotency keys.
 *
 * The key secret lives only inside the client, as the ready-made Authorization header; it is never logged.
 * Thread safety: calls may run concurrently if the transport allows it (the curl transport does).
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "clients/gateway.hpp"
#include "clients/http_transport.hpp"

namespace balatrix::sidecar::clients {

struct RazorpayOptions {
	std::string base_url = "https://api.razorpay.com"; // scheme://host[:port]; the client appends /v1/...
	std::string key_id;
	std::string key_secret;                          // secret
	std::chrono::milliseconds timeout{15000};        // per attempt
	std::chrono::milliseconds connect_timeout{5000}; // per attempt
	RetryPolicy retry;
	// payment_capture: 1 on new orders: Razorpay captures the payment as soon as it is authorised, so a payment
	// cannot sit authorised and be auto-refunded after 5 days because our capture call never came.
	bool auto_capture = true;
	std::shared_ptr<spdlog::logger> logger; // optional: one debug line per attempt (gateway.hpp)
};

class RazorpayClient {
public:
	RazorpayClient(HttpTransport& transport, RazorpayOptions options, Sleeper sleeper);

	// POST /v1/orders {amount, currency, receipt, unique_receipt: true, payment_capture?, notes?}. amount_paise > 0;
	// currency three upper-case letters ("INR"); receipt 1-40 bytes of valid UTF-8, unique per order we mean to
	// create (it is what makes a retry return the same order); notes null or a JSON object. kOk: the order entity.
	GatewayResult CreateOrder(std::int64_t amount_paise, const std::string& currency, const std::string& receipt,
	                          const nlohmann::json& notes = nullptr);

	GatewayResult FetchOrder(const std::string& order_id);
	GatewayResult FetchOrderPayments(const std::string& order_id); // kOk: {"entity":"collection","items":[...]}
	GatewayResult FetchPayment(const std::string& payment_id);

	// POST /v1/payments/:id/capture {amount, currency}. An "already been captured" answer becomes kOk with the
	// fetched payment entity when that payment is captured with exactly amount_paise in `currency`; otherwise the
	// 400 stands (kRejected), or kUnavailable when the fetch itself could not be made. `attempts` counts both.
	GatewayResult Capture(const std::string& payment_id, std::int64_t amount_paise, const std::string& currency);

	// POST /v1/payments/:id/refund {speed: "normal", amount?, notes?} with X-Refund-Idempotency: idempotency_key.
	// No amount: the rest of the payment. The key must be 10-255 characters of [A-Za-z0-9_-] and stable across
	// the caller's own retries of the same refund (store it with the refund row). kOk: the refund entity.
	GatewayResult Refund(const std::string& payment_id, std::optional<std::int64_t> amount_paise,
	                     const std::string& idempotency_key, const nlohmann::json& notes = nullptr);

private:
	GatewayResult Call(const std::string& method, const std::string& path, const nlohmann::json* body,
	                   std::vector<std::pair<std::string, std::string>> extra_headers = {});

	HttpTransport& transport_;
	std::string base_url_;
	std::string authorization_; // "Basic ..." — carries the key secret
	std::chrono::milliseconds timeout_;
	std::chrono::milliseconds connect_timeout_;
	RetryPolicy retry_;
	bool auto_capture_;
	std::shared_ptr<spdlog::logger> logger_;
	Sleeper sleeper_;
};

} // namespace balatrix::sidecar::clients
