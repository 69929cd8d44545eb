/*
 * Stripe REST client (PaymentIntents, refunds) over an HttpTransport. Reference: gst-payments.md §2.2.
 *
 * Wire: `Authorization: Bearer <secret key>`, application/x-www-form-urlencoded bodies with bracketed nested keys
 * (metadata[invoice_id]=...), JSON responses, amounts as integers in the smallest unit (paise), currencies in lower
 * case, an optional Stripe-Version header. Errors are {"error":{"type","code","decline_code","message",...}}.
 *
 * Retry safety: every POST carries the caller's Idempotency-Key, and the retry loop (gateway.hpp) re-sends the
 * identical request, so Stripe replays the first result instead of charging or refunding twice. Stripe stores
 * the first response, 500s included, and replays it for the key: a key whose first attempt ended in a stored
 * error keeps answering that error, which is why the caller must use a new key only for a NEW operation, never to
 * "unstick" one whose outcome is unknown (reconcile with RetrievePaymentIntent instead). The same key with other
 * parameters is a 400 idempotency_error → kRejected: a caller bug.
 *
 * Outcomes: 402 card_error → kDeclined with error_code = decline_code (or code when Stripe gives none), e.g.
 * "generic_decline", "insufficient_funds", "expired_card"; body holds the error with its payment_intent. Other
 * errors: error_code = code, or the error type when there is no code.
 *
 * Refused before sending (kRejected, attempts 0): ids outside [A-Za-z0-9_]{1,64}, amounts <= 0, currencies that
 * are not three letters, idempotency keys that are empty, longer than 255 or not printable ASCII, metadata Stripe
 * would refuse (more than 50 keys, a key longer than 40 characters or holding '[' or ']', a value longer than 500
 * characters, duplicate keys), text that is not UTF-8, an unknown refund reason.
 *
 * The secret key lives only inside the client as the Authorization header; it is never logged.
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clients/gateway.hpp"
#include "clients/http_transport.hpp"

namespace balatrix::sidecar::clients {

using FormFields = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded, byte for byte as stripe-node 23 (`stringifyRequestData`) encodes it: every
// byte other than A-Z a-z 0-9 - . _ ~ becomes %XX (upper-case hex; a space is %20, UTF-8 is encoded per byte)
// — except '[' and ']', which stay literal in names and values alike ("metadata[invoice_id]=INV-1"). Stripe
// accepts the encoded and the literal brackets; the literal ones keep request logs readable. Pairs are joined
// with '&' in the given order; an empty value gives "name=".
std::string FormEncode(const FormFields& fields);

struct StripeOptions {
	std::string base_url = "https://api.stripe.com"; // scheme://host[:port]; the client appends /v1/...
	std::string secret_key;                          // secret
	std::chrono::milliseconds timeout{15000};        // per attempt
	std::chrono::milliseconds connect_timeout{5000}; // per attempt
	RetryPolicy retry;
	std::optional<std::string> api_version; // sent as Stripe-Version when set, e.g. "2024-06-20"
	std::shared_ptr<spdlog::logger> logger; // optional: one debug line per attempt (gateway.hpp)
};

struct PaymentIntentParams {
	std::int64_t amount_paise = 0;
	std::string currency; // three letters, any case; sent in lower case
	std::string idempotency_key;
	FormFields metadata;     // sent as metadata[key]=value, in this order
	std::string description; // omitted when empty
	std::optional<std::string> customer;
	std::optional<std::string> payment_method;
	bool confirm = false;                   // create and confirm in one call (needs payment_method)
	bool off_session = false;               // the customer is not present (with confirm)
	bool automatic_payment_methods = false; // automatic_payment_methods[enabled]=true
};

class StripeClient {
public:
	StripeClient(HttpTransport& transport, StripeOptions options, Sleeper sleeper);

	// POST /v1/payment_intents. kOk: the PaymentIntent; with confirm, kDeclined when the card is declined.
	GatewayResult CreatePaymentIntent(const PaymentIntentParams& params);

	// GET /v1/payment_intents/:id — what reconciliation asks after kUnavailable.
	GatewayResult RetrievePaymentIntent(const std::string& payment_intent_id);

	// POST /v1/payment_intents/:id/confirm with payment_method. kDeclined on a declined card.
	GatewayResult ConfirmPaymentIntent(const std::string& payment_intent_id, const std::string& payment_method,
	                                   const std::string& idempotency_key);

	// POST /v1/refunds with payment_intent, amount (none: the rest), reason ("" or duplicate, fraudulent,
	// requested_by_customer) and metadata. An amount above what remains is kRejected (amount_too_large).
	GatewayResult CreateRefund(const std::string& payment_intent_id, std::optional<std::int64_t> amount_paise,
	                           const std::string& reason, const FormFields& metadata,
	                           const std::string& idempotency_key);

private:
	GatewayResult Post(const std::string& path, const FormFields& form, const std::string& idempotency_key);
	GatewayResult Send(HttpRequest request);
	HttpRequest NewRequest(const std::string& method, const std::string& path) const;

	HttpTransport& transport_;
	std::string base_url_;
	std::string authorization_; // "Bearer ..." — the secret key
	std::chrono::milliseconds timeout_;
	std::chrono::milliseconds connect_timeout_;
	RetryPolicy retry_;
	std::optional<std::string> api_version_;
	std::shared_ptr<spdlog::logger> logger_;
	Sleeper sleeper_;
};

} // namespace balatrix::sidecar::clients
