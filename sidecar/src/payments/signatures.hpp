/*
 * Signature checks for the payment gateways: Razorpay's checkout, subscription, payment-link and webhook
 * signatures, and Stripe's Stripe-Signature webhook header (reference/gst-payments.md §2.1, §2.2).
 *
 * Every signature here is HMAC-SHA256 as lower-case hex. Verification recomputes the MAC and compares the hex
 * forms in constant time (crypto::ConstantTimeEquals); a signature that is not exactly 64 lower-case hex
 * digits is refused before any comparison (the SDKs compare strings, so upper-case hex never matched there
 * either). An empty secret never verifies: HMAC with an empty key is computable by anyone, so a missing
 * configuration value must not turn into "every signature is valid".
 *
 * Webhook bodies are the RAW request bytes, exactly as received: never a re-serialised JSON value (key order,
 * spacing and escapes would change the MAC).
 *
 * Nothing here throws for bad input (a malformed header, a wrong signature, odd ids): the result says why.
 * The only exception is crypto::HmacSha256Hex's std::runtime_error when OpenSSL itself fails (allocation, a
 * missing provider), which is not an input error. No function reads a clock: Stripe's tolerance is checked
 * against the `now` the caller passes (its Clock).
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace balatrix::sidecar::payments {

// ---- Razorpay ---------------------------------------------------------------------------------------------------

// The ids a Razorpay checkout returns. Verify with the order_id the sidecar stored when it created the order,
// never the one echoed back by the browser.
struct RazorpayCheckout {
	std::string_view order_id;
	std::string_view payment_id;
};

// A subscription checkout. Razorpay signs payment_id|subscription_id: the order is reversed against
// RazorpayCheckout, and swapping it is the classic bug (a negative test covers it).
struct RazorpaySubscriptionCheckout {
	std::string_view payment_id;
	std::string_view subscription_id;
};

// The query parameters of a payment link's callback.
struct RazorpayPaymentLink {
	std::string_view payment_link_id;
	std::string_view reference_id;
	std::string_view status;
	std::string_view payment_id;
};

// The signed messages: the ids joined with '|'. Exposed so that tests and the fake gateway sign exactly what
// the verifiers check. An id that is empty or contains '|' makes the message ambiguous ("a|b" + "c" and
// "a" + "b|c" would sign the same bytes), so the verifiers below refuse such ids; these builders do not check.
std::string RazorpayCheckoutMessage(const RazorpayCheckout& checkout);
std::string RazorpaySubscriptionMessage(const RazorpaySubscriptionCheckout& checkout);
std::string RazorpayPaymentLinkMessage(const RazorpayPaymentLink& link);

// razorpay_signature of a checkout, signed with the API key_secret. False for a wrong signature, a signature
// that is not 64 lower-case hex digits, an empty or '|'-containing id, or an empty secret.
bool VerifyRazorpayCheckoutSignature(const RazorpayCheckout& checkout, std::string_view signature,
                                     std::string_view key_secret);
bool VerifyRazorpaySubscriptionSignature(const RazorpaySubscriptionCheckout& checkout, std::string_view signature,
                                         std::string_view key_secret);
bool VerifyRazorpayPaymentLinkSignature(const RazorpayPaymentLink& link, std::string_view signature,
                                        std::string_view key_secret);

// X-Razorpay-Signature over the raw body, signed with the webhook secret (set in the Dashboard; not the API
// key_secret). An empty body is verified like any other (it is the caller's JSON parsing that refuses it).
// When the secret is rotated, Razorpay still signs retries of older events with the old secret: a caller
// accepting both tries each in turn.
bool VerifyRazorpayWebhookSignature(std::string_view raw_body, std::string_view signature,
                                    std::string_view webhook_secret);

// ---- Stripe -----------------------------------------------------------------------------------------------------

// stripe-node DEFAULT_TOLERANCE, stripe-python Webhook.DEFAULT_TOLERANCE.
inline constexpr std::chrono::seconds kStripeDefaultTolerance{300};

enum class StripeSignatureResult {
	kOk,
	kMissingHeader,           // no header, or only blanks
	kMalformedHeader,         // an item without '=', an empty item, no t, t twice, t not decimal digits
	kNoV1Signature,           // well formed, but no v1 entry (v0 alone, unknown schemes alone)
	kTimestampOutOfTolerance, // authentic, but t is more than the tolerance before or after now
	kBadSignature,            // no v1 matches the body and t under this secret (or the secret is empty)
};

// "ok", "missing_header", "malformed_header", "no_v1_signature", "timestamp_out_of_tolerance",
// "bad_signature": stable names for logs and metrics.
std::string_view StripeSignatureResultName(StripeSignatureResult result);

// The Stripe-Signature header, parsed.
struct StripeSignatureHeader {
	std::string timestamp_text;  // t exactly as written: the signed payload starts with it
	std::int64_t timestamp = 0;  // t as Unix seconds
	std::vector<std::string> v1; // every v1 value, in header order, unchecked
};

struct StripeHeaderParse {
	StripeSignatureResult result = StripeSignatureResult::kMalformedHeader; // kOk or a header-level reason
	StripeSignatureHeader header;                                           // meaningful only when kOk
};

// Parses "t=<digits>,v1=<hex>[,v1=<hex>...][,<other scheme>=...]" in any item order. Spaces and tabs around
// items and around '=' are tolerated (stripe-node does not trim, so "t=1, v1=..." fails there; here blanks
// cost nothing: they are not part of the signed payload, so they cannot make a forged signature match).
// Schemes other than t and v1 (v0, future ones) are ignored; keys are case-sensitive. Refused as
// kMalformedHeader: an empty item (",,", a trailing comma), an item without '=' or with an empty key, t
// missing or repeated, t not 1..18 ASCII digits. kNoV1Signature when well formed without any v1.
StripeHeaderParse ParseStripeSignatureHeader(std::string_view header);

// Verifies a Stripe webhook: parses `header` (pass "" when the request had none), computes
// HMAC-SHA256(endpoint_secret, t + "." + raw_body) and accepts when ANY v1 equals it (constant-time
// compares), then checks |now - t| <= tolerance. Stricter than Stripe's SDKs, which accept any timestamp in
// the future: a t more than `tolerance` ahead of now is refused too. A negative tolerance counts as 0 (there
// is no "disable the check" value, unlike the SDKs' tolerance 0). The signature is checked before the
// timestamp, as in the SDKs, so kTimestampOutOfTolerance is only ever reported for an authentic header (a
// replay or a skewed clock).
StripeSignatureResult VerifyStripeWebhook(std::string_view header, std::string_view raw_body,
                                          std::string_view endpoint_secret, std::chrono::system_clock::time_point now,
                                          std::chrono::seconds tolerance = kStripeDefaultTolerance);

// "t=<timestamp>,v1=<hex>": a header Stripe would send for this body; for the fake gateway and tests.
std::string MakeStripeSignatureHeader(std::int64_t timestamp, std::string_view raw_body,
                                      std::string_view endpoint_secret);

} // namespace balatrix::sidecar::payments
