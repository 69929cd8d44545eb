/*
 * /api/payments/webhooks/razorpay and /stripe: gateway webhooks, verified and recorded exactly once.
 *
 * Each is a BodyPolicy::kRaw route: the signature is checked over the exact bytes received (Razorpay:
 * X-Razorpay-Signature, HMAC-SHA256 hex of the body with the webhook secret; Stripe: Stripe-Signature, any v1
 * over "<t>.<body>", t within 300 s), in constant time (payments/signatures.hpp). Then the body must be strict
 * JSON with an event id and type, and the event is stored in balatrix.webhook_events, unique by (gateway,
 * event id): a redelivery is acknowledged without a second row. 200 only after the commit, so an event the
 * database did not take is retried by the gateway. The event is applied in that same transaction (ApplyRazorpay /
 * ApplyStripe: balatrix.gateway_payment_captured / _failed / gateway_refund_result, all idempotent and safe in
 * any order), so a redelivery finds it stored and changes nothing; the rare event that needs a gateway call
 * (Razorpay payment.authorized: capture) is acted on after the commit.
 *
 * The customer's side: POST /api/payments/checkout (a subscription: quote, pending subscription, first
 * invoice, payment), POST /api/payments (an invoice or a wallet top-up), POST /api/payments/:id/verify (the
 * Razorpay checkout signature or the Stripe PaymentIntent, then the gateway's own word), GET /api/payments,
 * GET /api/payments/:id; refunds (admins) POST /api/payments/:id/refund; saved methods /api/payment-methods.
 * The database opens the payment in the request's transaction; the gateway is called after the commit
 * (payments::PaymentFlows), never inside a transaction.
 *
 * Refusals: no secret configured -> 503 (a deployment error; the gateway retries later); missing or bad
 * signature, stale Stripe timestamp, a body that is not JSON or lacks its id / type -> 400.
 */
#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/list_query.hpp"
#include "api/registry.hpp"
#include "crypto/random.hpp"
#include "log.hpp"
#include "payments/payment_flows.hpp"
#include "payments/signatures.hpp"
#include "strict_json.hpp"

namespace balatrix::sidecar::api {

namespace {

using http::ErrorCode;
using http::Failure;
using http::Reply;
using http::RequestContext;
using nlohmann::json;

// Runs one apply step under a savepoint: a step the database refuses (a malformed id in an event, say) is
// recorded as the event's failure instead of failing the delivery, which the gateway would retry forever.
std::string
Step(pqxx::transaction_base& tx, const std::string& sql, const std::vector<std::optional<std::string>>& params,
     std::string& error)
{
	tx.exec("SAVEPOINT balatrix_webhook_apply");
	try {
		SqlParams bound;
		for (const auto& p : params)
			if (p)
				bound.Add(*p);
			else
				bound.AddNull();
		const pqxx::result rows = ExecWith(tx, sql, bound);
		tx.exec("RELEASE SAVEPOINT balatrix_webhook_apply");
		return rows.empty() || rows[0][0].is_null() ? std::string() : std::string(rows[0][0].c_str());
	} catch (const pqxx::sql_error& e) {
		tx.exec("ROLLBACK TO SAVEPOINT balatrix_webhook_apply");
		error = e.what();
		return std::string();
	}
}

std::string
Text(const json& object, const char* key)
{
	const auto it = object.is_object() ? object.find(key) : object.end();
	return object.is_object() && it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::string>
Amount(const json& object, const char* key)
{
	const auto it = object.is_object() ? object.find(key) : object.end();
	if (!object.is_object() || it == object.end() || !(it->is_number_integer() || it->is_number_unsigned()) ||
	    it->get<std::int64_t>() <= 0)
		return std::nullopt;
	return payments::FromMinorUnits(it->get<std::int64_t>());
}

const json&
Entity(const json& body, const char* kind)
{
	static const json kNull;
	const auto payload = body.find("payload");
	if (payload == body.end() || !payload->is_object() || !payload->contains(kind) || !(*payload)[kind].is_object() ||
	    !(*payload)[kind].contains("entity"))
		return kNull;
	return (*payload)[kind]["entity"];
}

// What a webhook did: processed, ignored, failed (with error); `authorized_order` when a Razorpay payment waits to
// be captured (after the commit).
struct Applied {
	std::string status = "ignored";
	std::string error;
	std::string outcome;
	std::string authorized_order;
	std::string authorized_payment;
};

void
Classify(Applied& applied, const std::string& outcome, const std::string& error)
{
	applied.outcome = outcome;
	applied.error = error;
	if (!error.empty())
		applied.status = "failed";
	else if (outcome == "captured" || outcome == "failed" || outcome == "processed" || outcome == "second_payment")
		applied.status = "processed";
	else if (outcome == "amount_mismatch") {
		applied.status = "failed";
		applied.error = "the amount differs from the payment's";
	} else
		applied.status = "ignored"; // already recorded, unknown order, never back from paid
}

Applied
ApplyRazorpay(pqxx::transaction_base& tx, const std::string& type, const json& body)
{
	Applied applied;
	std::string error;
	if (type == "payment.captured" || type == "order.paid" || type == "payment.failed" || type == "payment.authorized") {
		const json& payment = Entity(body, "payment");
		const std::string order = Text(payment, "order_id");
		if (order.empty())
			return applied;
		if (type == "payment.authorized") {
			applied.authorized_order = order;
			applied.authorized_payment = Text(payment, "id");
			applied.status = "processed";
			applied.outcome = "capture_requested";
			return applied;
		}
		std::string outcome;
		if (type == "payment.failed")
			outcome = Step(tx, "SELECT outcome FROM balatrix.gateway_payment_failed('razorpay', $1, $2, $3, $4, 'webhook')",
			               {order, Text(payment, "id"), Text(payment, "error_code"), Text(payment, "error_description")}, error);
		else if (Text(payment, "status") == "captured")
			outcome = Step(tx, "SELECT outcome FROM balatrix.gateway_payment_captured('razorpay', $1, $2, $3::numeric, 'webhook', $4::jsonb)",
			               {order, Text(payment, "id"), Amount(payment, "amount"), payment.dump()}, error);
		Classify(applied, outcome, error);
	} else if (type == "refund.processed" || type == "refund.failed") {
		const json& refund = Entity(body, "refund");
		const json notes = refund.is_object() ? refund.value("notes", json::object()) : json::object();
		const std::string ours = Text(notes, "refund_id");
		if (ours.empty() || !IsUuid(ours))
			return applied; // not a refund this system asked for (a dashboard refund): nothing to settle here
		const std::string outcome =
			type == "refund.processed"
				? Step(tx, "SELECT outcome FROM balatrix.gateway_refund_result($1::uuid, $2, true)", {ours, Text(refund, "id")}, error)
				: Step(tx, "SELECT outcome FROM balatrix.gateway_refund_result($1::uuid, NULL, false, 'refund failed at Razorpay')",
				       {ours}, error);
		Classify(applied, outcome, error);
	}
	return applied;
}

Applied
ApplyStripe(pqxx::transaction_base& tx, const std::string& type, const json& body)
{
	Applied applied;
	std::string error;
	const json object = body.contains("data") && body["data"].is_object() ? body["data"].value("object", json::object())
	                                                                       : json::object();
	if (type == "payment_intent.succeeded") {
		const std::string outcome =
			Step(tx, "SELECT outcome FROM balatrix.gateway_payment_captured('stripe', $1, $1, $2::numeric, 'webhook', $3::jsonb)",
			     {Text(object, "id"), Amount(object, "amount_received"), object.dump()}, error);
		Classify(applied, outcome, error);
	} else if (type == "payment_intent.payment_failed" || type == "payment_intent.canceled") {
		const json last = object.value("last_payment_error", json::object());
		std::string code = Text(last, "decline_code");
		if (code.empty())
			code = type == "payment_intent.canceled" ? "canceled" : Text(last, "code");
		const std::string outcome =
			Step(tx, "SELECT outcome FROM balatrix.gateway_payment_failed('stripe', $1, $1, $2, $3, 'webhook')",
			     {Text(object, "id"), code, Text(last, "message")}, error);
		Classify(applied, outcome, error);
	} else if (type == "refund.created" || type == "refund.updated" || type == "refund.failed") {
		const json metadata = object.value("metadata", json::object());
		const std::string ours = Text(metadata, "refund_id");
		const std::string status = Text(object, "status");
		if (ours.empty() || !IsUuid(ours) || (status != "succeeded" && status != "failed" && status != "canceled"))
			return applied;
		const std::string outcome =
			status == "succeeded"
				? Step(tx, "SELECT outcome FROM balatrix.gateway_refund_result($1::uuid, $2, true)", {ours, Text(object, "id")}, error)
				: Step(tx, "SELECT outcome FROM balatrix.gateway_refund_result($1::uuid, NULL, false, $2)",
				       {ours, "refund " + status + " at Stripe"}, error);
		Classify(applied, outcome, error);
	}
	return applied;
}

Reply
Record(const Services& s, const RequestContext& c, const char* gateway, const std::string& event_id,
       const std::string& event_type, const json& body)
{
	bool fresh = false;
	Applied applied;
	Reply stored = InTransaction(s, c, nullptr, [&](pqxx::transaction_base& tx) {
		fresh = tx.exec_params("SELECT balatrix.record_webhook_event($1, $2, $3, $4::jsonb)", gateway, event_id,
		                       event_type, std::string(c.raw_body))[0][0]
		            .as<bool>();
		if (fresh) {
			// Applied in the transaction that stores it: a redelivery finds it stored and applies nothing.
			applied = std::string(gateway) == "razorpay" ? ApplyRazorpay(tx, event_type, body) : ApplyStripe(tx, event_type, body);
			tx.exec_params("SELECT balatrix.webhook_event_done($1, $2, $3, $4)", gateway, event_id, applied.status,
			               applied.error.empty() ? nullptr : applied.error.c_str());
		}
		return Reply{200, {}, {}};
	});
	if (stored.status != 200)
		return stored;
	LogEvent(s.logger, applied.status == "failed" ? LogLevel::kWarn : LogLevel::kInfo, "webhook_received",
	         json{{"request_id", c.request_id}, {"gateway", gateway}, {"event_id", event_id}, {"event_type", event_type},
	              {"duplicate", !fresh}, {"applied", applied.status}, {"outcome", applied.outcome}, {"error", applied.error}});
	// An authorized Razorpay payment is ours to capture: a gateway call, so after the commit. When it fails here,
	// the reconciler captures it later (the payment is still pending).
	if (!applied.authorized_order.empty() && s.payments != nullptr && s.payments->Configured("razorpay")) {
		std::string ignored;
		InTransaction(s, c, nullptr, [&](pqxx::transaction_base& tx) {
			const pqxx::result row = tx.exec_params("SELECT balatrix.gateway_payment_by_order('razorpay', $1)::text",
			                                        applied.authorized_order);
			if (!row.empty() && !row[0][0].is_null())
				ignored = row[0][0].c_str();
			return Reply{200, {}, {}};
		});
		if (!ignored.empty())
			s.payments->Confirm(json::parse(ignored), applied.authorized_payment, "webhook");
	}
	return http::Success(c, fresh ? "Webhook received" : "Webhook already received",
	                     json{{"received", true}, {"duplicate", !fresh}, {"eventId", event_id}});
}

// The event's type (and its id, when `id_field` is given) from a verified body; false (and `reason`) when it is
// not what the gateway sends.
bool
ReadEvent(std::string_view raw, const char* id_field, const char* type_field, std::string& id, std::string& type,
          std::string& reason, json& event)
{
	auto parsed = ParseStrictJson(raw);
	if (auto* problem = std::get_if<JsonProblem>(&parsed)) {
		reason = "the body is not JSON: " + problem->reason;
		return false;
	}
	const json& body = std::get<json>(parsed);
	event = body;
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
	json event;
	if (id.empty())
		return Failure(c, ErrorCode::kBadRequest, "X-Razorpay-Event-Id is missing");
	if (!ReadEvent(c.raw_body, nullptr, "event", id, type, reason, event))
		return Failure(c, ErrorCode::kBadRequest, reason);
	return Record(s, c, "razorpay", id, type, event);
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
	json event;
	if (!ReadEvent(c.raw_body, "id", "type", id, type, reason, event))
		return Failure(c, ErrorCode::kBadRequest, reason);
	return Record(s, c, "stripe", id, type, event);
}

// ---- the customer's side: opening, verifying, reading, refunding payments ------------------------------------

using http::Validator;
namespace field_code = http::field_code;

// A payment row p as JSON, with its refunds; the gateway's raw answer and the idempotency key stay inside.
constexpr const char* kPaymentJson =
	"(balatrix.payment_json(p) || pg_catalog.jsonb_build_object('refunds', coalesce((SELECT pg_catalog.jsonb_agg("
	"  pg_catalog.jsonb_build_object('id', r.id, 'amount', r.amount::text, 'status', r.status, 'reason', r.reason,"
	"                                'credit_note_id', r.credit_note_id, 'gateway_refund_id', r.gateway_refund_id,"
	"                                'created_at', r.created_at, 'processed_at', r.processed_at) ORDER BY r.created_at)"
	"  FROM balatrix.refunds r WHERE r.payment_id = p.id), '[]')))";

// The request's Idempotency-Key (Stripe's header name), or a fresh random key: without one a repeat is a new
// payment, as on Stripe.
std::optional<std::string>
IdempotencyKey(const Services& s, const RequestContext& c, Validator& v, const char* prefix)
{
	if (const auto given = http::RequestHeader(c, "Idempotency-Key")) {
		static const std::regex kKey("^[A-Za-z0-9_.:-]{8,100}$");
		if (!std::regex_match(*given, kKey)) {
			v.Add("Idempotency-Key", field_code::kInvalidFormat,
			      "the Idempotency-Key header must be 8 to 100 letters, digits and _ . : -");
			return std::nullopt;
		}
		return std::string(prefix) + *given;
	}
	std::uint8_t bytes[16];
	s.random.Fill(bytes, sizeof bytes);
	static const char* kHex = "0123456789abcdef";
	std::string key(prefix);
	key += "auto-";
	for (std::uint8_t b : bytes) {
		key += kHex[b >> 4];
		key += kHex[b & 15];
	}
	return key;
}

Reply
GatewayMissing(const RequestContext& c, const std::string& gateway)
{
	return Failure(c, ErrorCode::kServiceUnavailable, gateway + " payments are not configured");
}

// After the commit that opened `payment_text`: the gateway order, and the reply the client's checkout needs.
Reply
OpenAndReply(const Services& s, const RequestContext& c, const std::string& payment_text, std::string_view message)
{
	const json payment = json::parse(payment_text);
	const payments::FlowResult opened = s.payments->Open(payment);
	json data{{"payment", WireJson(payment_text)}};
	switch (opened.status) {
	case payments::FlowStatus::kDone: {
		json checkout = opened.data;
		checkout.erase("intent");
		data["checkout"] = WireJson(checkout.dump());
		data["payment"]["status"] = "pending";
		data["payment"]["gatewayOrderId"] =
			checkout.contains("order_id") ? checkout["order_id"] : checkout.value("payment_intent_id", json());
		return http::Success(c, message, data, 201);
	}
	case payments::FlowStatus::kPending:
		// The gateway did not answer: repeat the request with the same Idempotency-Key (the same order comes back).
		data["checkout"] = nullptr;
		return http::Success(c, "The gateway did not answer; repeat the request with the same Idempotency-Key", data, 202);
	case payments::FlowStatus::kRejected:
		return Failure(c, ErrorCode::kValidationFailed, "The gateway refused the payment: " + opened.message,
		               json{{"payment", data["payment"]}});
	case payments::FlowStatus::kUnavailable:
		break;
	}
	return Failure(c, ErrorCode::kServiceUnavailable, opened.message);
}

std::optional<std::string>
GatewayField(Validator& v, const RequestContext& c)
{
	auto gateway = v.OneOf("gateway", {"razorpay", "stripe"}, false);
	return gateway ? gateway : std::optional<std::string>("razorpay");
}

Reply
Checkout(const Services& s, const RequestContext& c)
{
	std::string payment;
	Reply opened = Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(c.body.get());
		if (!c.body)
			v.Add("", field_code::kRequired, "a JSON body {accountId, planCode, billingCycle, gateway} is required");
		const auto account = v.String("accountId", TextRule(true, 36, 36));
		if (account && !IsUuid(*account))
			v.Add("accountId", field_code::kInvalidFormat, "accountId must be a UUID");
		const auto plan = v.String("planCode", TextRule(true, 1, 50));
		const auto cycle = v.OneOf("billingCycle", {"monthly", "quarterly", "annual"}, false);
		const auto gateway = GatewayField(v, c);
		const auto key = IdempotencyKey(s, c, v, "checkout:");
		v.NoOtherFields({"accountId", "planCode", "billingCycle", "gateway"});
		if (!v.ok())
			return v.Failure(c);
		if (s.payments == nullptr || !s.payments->Configured(*gateway))
			return GatewayMissing(c, *gateway);
		payment = tx.exec_params1("SELECT balatrix.api_checkout($1::uuid, $2, $3, $4, $5)::text", *account, *plan,
		                          cycle.value_or("monthly"), *gateway, *key)[0]
		              .c_str();
		return Reply{200, {}, {}};
	});
	if (opened.status != 200)
		return opened;
	return OpenAndReply(s, c, payment, "Checkout started");
}

Reply
CreatePayment(const Services& s, const RequestContext& c)
{
	std::string payment;
	Reply opened = Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(c.body.get());
		if (!c.body)
			v.Add("", field_code::kRequired, "a JSON body {invoiceId, gateway} or {accountId, amount, gateway} is required");
		const auto invoice = v.String("invoiceId", TextRule(false, 36, 36));
		const auto account = v.String("accountId", TextRule(false, 36, 36));
		const auto amount = BodyAmount(v, c.body.get(), "amount", false);
		if (invoice && !IsUuid(*invoice))
			v.Add("invoiceId", field_code::kInvalidFormat, "invoiceId must be a UUID");
		if (account && !IsUuid(*account))
			v.Add("accountId", field_code::kInvalidFormat, "accountId must be a UUID");
		if (invoice.has_value() == account.has_value())
			v.Add("invoiceId", field_code::kRequired, "give invoiceId (pay an invoice) or accountId with amount (top up a wallet)");
		if (invoice && amount)
			v.Add("amount", field_code::kNotAllowed, "an invoice is paid in full: what is outstanding");
		if (account && !amount)
			v.Add("amount", field_code::kRequired, "amount is required for a top-up");
		const auto gateway = GatewayField(v, c);
		const auto key = IdempotencyKey(s, c, v, invoice ? "invoice:" : "topup:");
		v.NoOtherFields({"invoiceId", "accountId", "amount", "gateway"});
		if (!v.ok())
			return v.Failure(c);
		if (s.payments == nullptr || !s.payments->Configured(*gateway))
			return GatewayMissing(c, *gateway);
		payment = invoice ? tx.exec_params1("SELECT balatrix.api_pay_invoice($1::uuid, $2, $3)::text", *invoice, *gateway, *key)[0].c_str()
		                  : tx.exec_params1("SELECT balatrix.api_top_up($1::uuid, $2::numeric, $3, $4)::text", *account, *amount,
		                                    *gateway, *key)[0]
		                        .c_str();
		return Reply{200, {}, {}};
	});
	if (opened.status != 200)
		return opened;
	return OpenAndReply(s, c, payment, "Payment started");
}

// The payment as the caller may see it (RLS), or nullopt (unknown or another customer's).
std::optional<std::string>
ReadPayment(const Services& s, const RequestContext& c, const std::string& id, Reply& failure)
{
	std::optional<std::string> text;
	failure = Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const pqxx::result row = tx.exec_params(std::string("SELECT ") + kPaymentJson + "::text FROM balatrix.payments p WHERE p.id = $1::uuid", id);
		if (row.empty())
			return NotFound(c, "Payment");
		text = row[0][0].c_str();
		return Reply{200, {}, {}};
	});
	return failure.status == 200 ? text : std::nullopt;
}

Reply
GetPayment(const Services& s, const RequestContext& c)
{
	const auto id = PathUuid(c, "id");
	if (!id)
		return NotFound(c, "Payment");
	Reply failure;
	const auto text = ReadPayment(s, c, *id, failure);
	if (!text)
		return failure;
	return http::Success(c, "Payment retrieved", WireJson(*text));
}

Reply
ListPayments(const Services& s, const RequestContext& c)
{
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(nullptr);
		const Page page = ReadPage(v, c.query);
		SqlParams params;
		std::string where = "true";
		if (const auto status = v.QueryString(c.query, "status", TextRule(false, 1, 30)))
			where += " AND p.status = " + params.Add(*status);
		if (const auto purpose = v.QueryString(c.query, "purpose", TextRule(false, 1, 30)))
			where += " AND p.purpose = " + params.Add(*purpose);
		if (const auto gateway = v.QueryString(c.query, "gateway", TextRule(false, 1, 30)))
			where += " AND p.gateway = " + params.Add(*gateway);
		if (const auto customer = v.QueryString(c.query, "customerId", TextRule(false, 36, 36))) {
			if (!IsUuid(*customer))
				v.Add("customerId", field_code::kInvalidFormat, "customerId must be a UUID");
			else
				where += " AND p.customer_id = " + params.Add(*customer) + "::uuid";
		}
		if (const auto invoice = v.QueryString(c.query, "invoiceId", TextRule(false, 36, 36))) {
			if (!IsUuid(*invoice))
				v.Add("invoiceId", field_code::kInvalidFormat, "invoiceId must be a UUID");
			else
				where += " AND p.invoice_id = " + params.Add(*invoice) + "::uuid";
		}
		if (!v.ok())
			return v.Failure(c);
		const std::string limit = params.Add(std::to_string(page.limit));
		const std::string offset = params.Add(std::to_string(page.offset()));
		const pqxx::result rows = ExecWith(
			tx,
			"SELECT coalesce(pg_catalog.jsonb_agg(x.j ORDER BY x.created_at DESC, x.id)::text, '[]'), "
			"       coalesce(max(x.total), 0) FROM ("
			"  SELECT " + std::string(kPaymentJson) + " AS j, p.created_at, p.id, count(*) OVER () AS total "
			"    FROM balatrix.payments p WHERE " + where + " ORDER BY p.created_at DESC, p.id LIMIT " + limit + "::bigint OFFSET " + offset + "::bigint) x",
			params);
		return http::Success(c, "Payments retrieved",
		                     Paginated("payments", WireJson(rows[0][0].c_str()), rows[0][1].as<std::int64_t>(), page));
	});
}

Reply
VerifyPayment(const Services& s, const RequestContext& c)
{
	const auto id = PathUuid(c, "id");
	if (!id)
		return NotFound(c, "Payment");
	Reply failure;
	const auto text = ReadPayment(s, c, *id, failure);
	if (!text)
		return failure;
	const json payment = json::parse(*text);
	const std::string gateway = payment.value("gateway", "");
	const std::string status = payment.value("status", "");
	if (status == "captured" || status == "partially_refunded" || status == "refunded")
		return http::Success(c, "Payment already captured", WireJson(*text));
	if (s.payments == nullptr || !s.payments->Configured(gateway))
		return GatewayMissing(c, gateway);
	std::string gateway_payment_id;
	if (gateway == "razorpay") {
		// The checkout handler's three fields, snake_case as Razorpay hands them over, or camelCase.
		Validator v(c.body.get());
		auto field = [&](const char* snake, const char* camel) {
			auto value = v.String(snake, TextRule(false, 1, 100));
			if (!value)
				value = v.String(camel, TextRule(false, 1, 100));
			if (!value)
				v.Add(snake, field_code::kRequired, std::string(snake) + " is required");
			return value.value_or("");
		};
		const std::string order = field("razorpay_order_id", "razorpayOrderId");
		gateway_payment_id = field("razorpay_payment_id", "razorpayPaymentId");
		const std::string signature = field("razorpay_signature", "razorpaySignature");
		v.NoOtherFields({"razorpay_order_id", "razorpay_payment_id", "razorpay_signature", "razorpayOrderId",
		                 "razorpayPaymentId", "razorpaySignature"});
		if (!v.ok())
			return v.Failure(c);
		// The signature is checked over the order id we stored, never the one echoed back.
		const std::string stored = payment.value("gateway_order_id", json("")).is_string()
		                               ? payment.value("gateway_order_id", "")
		                               : std::string();
		if (stored.empty() || order != stored ||
		    !payments::VerifyRazorpayCheckoutSignature({stored, gateway_payment_id}, signature,
		                                               s.payments->gateways().razorpay_key_secret)) {
			LogEvent(s.logger, LogLevel::kWarn, "payment_verify_refused",
			         json{{"request_id", c.request_id}, {"payment_id", *id}, {"reason", order != stored ? "order" : "signature"}});
			return Failure(c, ErrorCode::kBadRequest, "Invalid payment signature");
		}
	}
	const payments::FlowResult confirmed = s.payments->Confirm(payment, gateway_payment_id, "verify");
	const auto after = ReadPayment(s, c, *id, failure);
	if (!after)
		return failure;
	switch (confirmed.status) {
	case payments::FlowStatus::kDone:
		return http::Success(c, "Payment verified", WireJson(*after));
	case payments::FlowStatus::kPending:
		return http::Success(c, "Payment pending: " + confirmed.message, WireJson(*after), 202);
	case payments::FlowStatus::kRejected:
		return Failure(c, ErrorCode::kValidationFailed, confirmed.message);
	case payments::FlowStatus::kUnavailable:
		break;
	}
	return Failure(c, ErrorCode::kServiceUnavailable, confirmed.message);
}

Reply
RefundPayment(const Services& s, const RequestContext& c)
{
	const auto id = PathUuid(c, "id");
	if (!id)
		return NotFound(c, "Payment");
	std::string refund;
	Reply begun = Authed(s, c, kAdmins, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(c.body.get());
		if (!c.body)
			v.Add("", field_code::kRequired, "a JSON body {reason, amount?} is required");
		const auto amount = BodyAmount(v, c.body.get(), "amount", false);
		const auto reason = v.String("reason", TextRule(true, 1, 500));
		std::optional<std::string> key;
		if (const auto given = http::RequestHeader(c, "Idempotency-Key")) {
			static const std::regex kKey("^[A-Za-z0-9_-]{10,100}$");
			if (!std::regex_match(*given, kKey))
				v.Add("Idempotency-Key", field_code::kInvalidFormat,
				      "the Idempotency-Key header of a refund must be 10 to 100 letters, digits, _ and -");
			else
				key = *given;
		} else {
			key = IdempotencyKey(s, c, v, "refund-");
			std::replace(key->begin(), key->end(), ':', '-');
		}
		v.NoOtherFields({"amount", "reason"});
		if (!v.ok())
			return v.Failure(c);
		refund = tx.exec_params1("SELECT balatrix.api_begin_refund($1::uuid, $2::numeric, $3, $4)::text", *id,
		                         amount ? amount->c_str() : nullptr, *reason, *key)[0]
		             .c_str();
		return Reply{200, {}, {}};
	});
	if (begun.status != 200)
		return begun;
	const json pending = json::parse(refund);
	payments::FlowResult done;
	if (pending.value("status", "") == "pending") {
		if (s.payments == nullptr || !s.payments->Configured(pending.value("gateway", "")))
			return GatewayMissing(c, pending.value("gateway", ""));
		done = s.payments->Refund(pending);
	}
	Reply failure;
	const auto after = ReadPayment(s, c, *id, failure);
	if (!after)
		return failure;
	json data{{"refundId", pending.value("id", "")}, {"payment", WireJson(*after)}};
	switch (done.status) {
	case payments::FlowStatus::kDone:
		return http::Success(c, "Refund processed", data, 201);
	case payments::FlowStatus::kPending:
		return http::Success(c, "Refund pending: " + done.message, data, 202);
	case payments::FlowStatus::kRejected:
		return Failure(c, ErrorCode::kValidationFailed, "The gateway refused the refund: " + done.message, data);
	case payments::FlowStatus::kUnavailable:
		break;
	}
	return Failure(c, ErrorCode::kServiceUnavailable, done.message);
}

// ---- saved payment methods (gateway tokens only) ------------------------------------------------------------

Reply
ListPaymentMethods(const Services& s, const RequestContext& c)
{
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(nullptr);
		SqlParams params;
		std::string where = "m.is_active";
		if (const auto customer = v.QueryString(c.query, "customerId", TextRule(false, 36, 36))) {
			if (!IsUuid(*customer))
				v.Add("customerId", field_code::kInvalidFormat, "customerId must be a UUID");
			else
				where += " AND m.customer_id = " + params.Add(*customer) + "::uuid";
		}
		if (!v.ok())
			return v.Failure(c);
		const pqxx::result rows = ExecWith(
			tx, "SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(m) ORDER BY m.is_default DESC, m.created_at)::text, '[]') "
			    "FROM balatrix.payment_methods m WHERE " + where, params);
		return http::Success(c, "Payment methods retrieved", WireJson(rows[0][0].c_str()));
	});
}

Reply
SavePaymentMethod(const Services& s, const RequestContext& c)
{
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(c.body.get());
		if (!c.body)
			v.Add("", field_code::kRequired, "a JSON body {gateway, gatewayMethodId, type, ...} is required");
		auto customer = v.String("customerId", TextRule(false, 36, 36));
		if (customer && !IsUuid(*customer))
			v.Add("customerId", field_code::kInvalidFormat, "customerId must be a UUID");
		const auto gateway = v.OneOf("gateway", {"razorpay", "stripe"}, true);
		const auto method = v.String("gatewayMethodId", TextRule(true, 1, 110));
		const auto gateway_customer = v.String("gatewayCustomerId", TextRule(false, 1, 110));
		const auto type = v.OneOf("type", {"card", "upi", "netbanking", "wallet", "mandate"}, true);
		const auto brand = v.String("brand", TextRule(false, 1, 30));
		const auto last4 = v.String("last4", TextRule(false, 4, 4));
		http::IntegerRule month_rule;
		month_rule.required = false;
		month_rule.min = 1;
		month_rule.max = 12;
		http::IntegerRule year_rule;
		year_rule.required = false;
		year_rule.min = 2000;
		year_rule.max = 2100;
		const auto month = v.Integer("expiryMonth", month_rule);
		const auto year = v.Integer("expiryYear", year_rule);
		const auto make_default = v.Boolean("isDefault", false);
		v.NoOtherFields({"customerId", "gateway", "gatewayMethodId", "gatewayCustomerId", "type", "brand", "last4",
		                 "expiryMonth", "expiryYear", "isDefault"});
		if (!v.ok())
			return v.Failure(c);
		if (!customer) {
			const pqxx::result mine = tx.exec("SELECT balatrix.actor_customer_id()::text");
			if (mine.empty() || mine[0][0].is_null())
				return Failure(c, ErrorCode::kValidationFailed, "customerId is required",
				               json::array({json{{"field", "customerId"}, {"code", field_code::kRequired},
				                                 {"message", "customerId is required"}}}));
			customer = mine[0][0].c_str();
		}
		const std::string month_text = month ? std::to_string(*month) : std::string();
		const std::string year_text = year ? std::to_string(*year) : std::string();
		// Two statements: the row the function inserts is not in the snapshot of the statement that called it.
		const pqxx::row saved = tx.exec_params1(
			"SELECT balatrix.api_save_payment_method($1::uuid, $2, $3, $4, $5, $6, $7, $8::integer, $9::integer, $10::boolean)::text",
			*customer, *gateway, gateway_customer ? gateway_customer->c_str() : nullptr, *method, *type,
			brand ? brand->c_str() : nullptr, last4 ? last4->c_str() : nullptr, month ? month_text.c_str() : nullptr,
			year ? year_text.c_str() : nullptr, make_default.value_or(false) ? "true" : "false");
		const pqxx::row row = tx.exec_params1(
			"SELECT pg_catalog.to_jsonb(m)::text FROM balatrix.payment_methods m WHERE m.id = $1::uuid", saved[0].c_str());
		return http::Success(c, "Payment method saved", WireJson(row[0].c_str()), 201);
	});
}

Reply
UpdatePaymentMethod(const Services& s, const RequestContext& c, bool make_default)
{
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const auto id = PathUuid(c, "id");
		if (!id)
			return NotFound(c, "Payment method");
		tx.exec_params("SELECT balatrix.api_update_payment_method($1::uuid, $2, $3)", *id, make_default, !make_default);
		return http::Success(c, make_default ? "Default payment method set" : "Payment method removed", json{{"id", *id}});
	});
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

	auto add = [&](const char* method, const char* path, const char* summary, const Roles& roles, json request,
	               json query, int status, http::RouteHandler handler) {
		RouteDoc d;
		d.tag = "payments";
		d.summary = summary;
		d.roles = roles;
		d.request = std::move(request);
		d.query = std::move(query);
		d.success_status = status;
		registry.Add(method, path, d, std::move(handler));
	};
	const json gateway{{"type", "string"}, {"enum", {"razorpay", "stripe"}}};
	const json uuid{{"type", "string"}, {"format", "uuid"}};
	const json money{{"type", "string"}, {"pattern", "^[0-9]{1,12}(\\.[0-9]{1,2})?$"}};
	add("POST", "/api/payments/checkout",
	    "Subscribe with payment: pending subscription, first invoice, gateway order (Idempotency-Key header)", kAnyRole,
	    json{{"type", "object"}, {"required", {"accountId", "planCode"}},
	         {"properties", {{"accountId", uuid}, {"planCode", {{"type", "string"}}},
	                         {"billingCycle", {{"type", "string"}, {"enum", {"monthly", "quarterly", "annual"}}}},
	                         {"gateway", gateway}}}},
	    nullptr, 201, [&s](const RequestContext& c) { return Checkout(s, c); });
	add("POST", "/api/payments", "Pay an invoice ({invoiceId}) or top up a prepaid wallet ({accountId, amount})", kAnyRole,
	    json{{"type", "object"},
	         {"properties", {{"invoiceId", uuid}, {"accountId", uuid}, {"amount", money}, {"gateway", gateway}}}},
	    nullptr, 201, [&s](const RequestContext& c) { return CreatePayment(s, c); });
	add("GET", "/api/payments", "List payments (own; staff: all)", kAnyRole, nullptr,
	    json::array({json{{"name", "status"}, {"schema", {{"type", "string"}}}, {"required", false}},
	                 json{{"name", "purpose"}, {"schema", {{"type", "string"}}}, {"required", false}},
	                 json{{"name", "gateway"}, {"schema", {{"type", "string"}}}, {"required", false}},
	                 json{{"name", "customerId"}, {"schema", uuid}, {"required", false}},
	                 json{{"name", "invoiceId"}, {"schema", uuid}, {"required", false}},
	                 json{{"name", "page"}, {"schema", {{"type", "integer"}}}, {"required", false}},
	                 json{{"name", "limit"}, {"schema", {{"type", "integer"}}}, {"required", false}}}),
	    200, [&s](const RequestContext& c) { return ListPayments(s, c); });
	add("GET", "/api/payments/:id", "A payment with its refunds", kAnyRole, nullptr, nullptr, 200,
	    [&s](const RequestContext& c) { return GetPayment(s, c); });
	add("POST", "/api/payments/:id/verify",
	    "Confirm a payment: Razorpay checkout fields (signature checked) or a Stripe PaymentIntent; asks the gateway",
	    kAnyRole,
	    json{{"type", "object"},
	         {"properties", {{"razorpay_order_id", {{"type", "string"}}}, {"razorpay_payment_id", {{"type", "string"}}},
	                         {"razorpay_signature", {{"type", "string"}}}}}},
	    nullptr, 200, [&s](const RequestContext& c) { return VerifyPayment(s, c); });
	add("POST", "/api/payments/:id/refund", "Refund a payment in full or in part (credit note for an invoice)", kAdmins,
	    json{{"type", "object"}, {"required", {"reason"}}, {"properties", {{"amount", money}, {"reason", {{"type", "string"}}}}}},
	    nullptr, 201, [&s](const RequestContext& c) { return RefundPayment(s, c); });
	add("GET", "/api/payment-methods", "Saved payment methods (gateway tokens only)", kAnyRole, nullptr,
	    json::array({json{{"name", "customerId"}, {"schema", uuid}, {"required", false}}}), 200,
	    [&s](const RequestContext& c) { return ListPaymentMethods(s, c); });
	add("POST", "/api/payment-methods", "Save a gateway payment method token (pm_… / token_…; never a card number)",
	    kAnyRole,
	    json{{"type", "object"}, {"required", {"gateway", "gatewayMethodId", "type"}},
	         {"properties", {{"customerId", uuid}, {"gateway", gateway}, {"gatewayMethodId", {{"type", "string"}}},
	                         {"gatewayCustomerId", {{"type", "string"}}}, {"type", {{"type", "string"}}},
	                         {"brand", {{"type", "string"}}}, {"last4", {{"type", "string"}}},
	                         {"expiryMonth", {{"type", "integer"}}}, {"expiryYear", {{"type", "integer"}}},
	                         {"isDefault", {{"type", "boolean"}}}}}},
	    nullptr, 201, [&s](const RequestContext& c) { return SavePaymentMethod(s, c); });
	add("POST", "/api/payment-methods/:id/default", "Make a saved payment method the default", kAnyRole, nullptr, nullptr,
	    200, [&s](const RequestContext& c) { return UpdatePaymentMethod(s, c, true); });
	add("DELETE", "/api/payment-methods/:id", "Remove a saved payment method", kAnyRole, nullptr, nullptr, 200,
	    [&s](const RequestContext& c) { return UpdatePaymentMethod(s, c, false); });
}

} // namespace balatrix::sidecar::api
