/*
 * /api/payments/webhooks/razorpay and /stripe: gateway webhooks, verified and recorded exactly once.
 *
 * Each is a BodyPolicy::kRaw route: the signature is checked over the exact bytes received (Razorpay:
 * X-Razorpay-Signature, HMAC-SHA256 hex of the body with the webhook secret; Stripe: Stripe-Signature, any v1
 * over "<t>.<body>", t within 300 s), in constant time (payments/signatures.hpp). Then the body must be strict
 * JSON with an event id and type, and the event is stored in balatrix.webhook_events, unique by (gateway,
 * event id): a redelivery is acknowledged without a second row. 200 only after the commit, so an event the
 * database did not take is retried by the gateway. Applying the events to payments is the payment flows'
 * (issue 6); until then they stay 'received'.
 *
 * Refusals: no secret configured -> 503 (a deployment error; the gateway retries later); missing or bad
 * signature, stale Stripe timestamp, a body that is not JSON or lacks its id / type -> 400.
 */
#include <string>

#include <nlohmann/json.hpp>

#include "api/registry.hpp"
#include "log.hpp"
#include "payments/signatures.hpp"
#include "strict_json.hpp"

namespace balatrix::sidecar::api {

namespace {

using http::ErrorCode;
using http::Failure;
using http::Reply;
using http::RequestContext;
using nlohmann::json;

Reply
Record(const Services& s, const RequestContext& c, const char* gateway, const std::string& event_id,
       const std::string& event_type)
{
	bool fresh = false;
	Reply stored = InTransaction(s, c, nullptr, [&](pqxx::transaction_base& tx) {
		fresh = tx.exec_params("SELECT balatrix.record_webhook_event($1, $2, $3, $4::jsonb)", gateway, event_id,
		                       event_type, std::string(c.raw_body))[0][0]
		            .as<bool>();
		return Reply{200, {}, {}};
	});
	if (stored.status != 200)
		return stored;
	LogEvent(s.logger, LogLevel::kInfo, "webhook_received",
	         json{{"request_id", c.request_id}, {"gateway", gateway}, {"event_id", event_id}, {"event_type", event_type},
	              {"duplicate", !fresh}});
	return http::Success(c, fresh ? "Webhook received" : "Webhook already received",
	                     json{{"received", true}, {"duplicate", !fresh}, {"eventId", event_id}});
}

// The event's type (and its id, when `id_field` is given) from a verified body; false (and `reason`) when it is
// not what the gateway sends.
bool
ReadEvent(std::string_view raw, const char* id_field, const char* type_field, std::string& id, std::string& type,
          std::string& reason)
{
	auto parsed = ParseStrictJson(raw);
	if (auto* problem = std::get_if<JsonProblem>(&parsed)) {
		reason = "the body is not JSON: " + problem->reason;
		return false;
	}
	const json& body = std::get<json>(parsed);
	if (!body.is_object()) {
		reason = "the body is not a JSON object";
		return false;
	}
	const auto type_it = body.find(type_field);
	if (type_it == body.end() || !type_it->is_string() || type_it->get<std::string>().empty() ||
	    type_it->get<std::string>().size() > 200) {
		reason = "the event has no type";
		return false;
	}
	type = type_it->get<std::string>();
	if (id_field != nullptr) {
		const auto id_it = body.find(id_field);
		if (id_it == body.end() || !id_it->is_string() || id_it->get<std::string>().empty() ||
		    id_it->get<std::string>().size() > 200) {
			reason = "the event has no id";
			return false;
		}
		id = id_it->get<std::string>();
	}
	return true;
}

Reply
Razorpay(const Services& s, const RequestContext& c)
{
	if (!s.options.razorpay_webhook_secret)
		return Failure(c, ErrorCode::kServiceUnavailable, "Razorpay webhooks are not configured (RAZORPAY_WEBHOOK_SECRET)");
	const std::string signature = http::RequestHeader(c, "X-Razorpay-Signature").value_or("");
	if (signature.empty() || !payments::VerifyRazorpayWebhookSignature(c.raw_body, signature, *s.options.razorpay_webhook_secret)) {
		LogEvent(s.logger, LogLevel::kWarn, "webhook_refused",
		         json{{"request_id", c.request_id}, {"gateway", "razorpay"}, {"reason", signature.empty() ? "no signature" : "bad signature"}});
		return Failure(c, ErrorCode::kBadRequest, "Invalid webhook signature");
	}
	// Razorpay names each event in a header; the body carries no id of its own.
	std::string id = http::RequestHeader(c, "X-Razorpay-Event-Id").value_or("");
	if (id.size() > 200)
		id.clear();
	std::string type, reason;
	if (id.empty())
		return Failure(c, ErrorCode::kBadRequest, "X-Razorpay-Event-Id is missing");
	if (!ReadEvent(c.raw_body, nullptr, "event", id, type, reason))
		return Failure(c, ErrorCode::kBadRequest, reason);
	return Record(s, c, "razorpay", id, type);
}

Reply
Stripe(const Services& s, const RequestContext& c)
{
	if (!s.options.stripe_webhook_secret)
		return Failure(c, ErrorCode::kServiceUnavailable, "Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)");
	const std::string header = http::RequestHeader(c, "Stripe-Signature").value_or("");
	const auto verdict = payments::VerifyStripeWebhook(header, c.raw_body, *s.options.stripe_webhook_secret, s.clock.Now());
	if (verdict != payments::StripeSignatureResult::kOk) {
		LogEvent(s.logger, LogLevel::kWarn, "webhook_refused",
		         json{{"request_id", c.request_id}, {"gateway", "stripe"},
		              {"reason", std::string(payments::StripeSignatureResultName(verdict))}});
		return Failure(c, ErrorCode::kBadRequest,
		               verdict == payments::StripeSignatureResult::kTimestampOutOfTolerance
		                   ? "Webhook timestamp outside the tolerance"
		                   : "Invalid webhook signature");
	}
	std::string id, type, reason;
	if (!ReadEvent(c.raw_body, "id", "type", id, type, reason))
		return Failure(c, ErrorCode::kBadRequest, reason);
	return Record(s, c, "stripe", id, type);
}

} // namespace

void
RegisterPaymentRoutes(Registry& registry)
{
	const Services& s = registry.services();
	http::RouteOptions raw;
	raw.body = http::BodyPolicy::kRaw;
	RouteDoc doc;
	doc.tag = "payments";
	doc.authenticated = false;
	doc.summary = "Razorpay webhook (X-Razorpay-Signature over the raw body; deduplicated by X-Razorpay-Event-Id)";
	registry.Add("POST", "/api/payments/webhooks/razorpay", doc, [&s](const RequestContext& c) { return Razorpay(s, c); }, raw);
	doc.summary = "Stripe webhook (Stripe-Signature v1, 300 s tolerance; deduplicated by event id)";
	registry.Add("POST", "/api/payments/webhooks/stripe", doc, [&s](const RequestContext& c) { return Stripe(s, c); }, raw);
}

} // namespace balatrix::sidecar::api
