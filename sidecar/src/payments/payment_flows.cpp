#include "payments/payment_flows.hpp"

#include <cctype>
#include <cstdio>
#include <exception>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "clients/razorpay_client.hpp"
#include "clients/stripe_client.hpp"
#include "db/pool.hpp"
#include "log.hpp"

namespace balatrix::sidecar::payments {

namespace {

using clients::GatewayOutcome;
using clients::GatewayResult;
using nlohmann::json;

std::string
Str(const json& object, const char* key)
{
	const auto it = object.find(key);
	return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// An integer amount in minor units from a gateway entity (Razorpay "amount", Stripe "amount_received").
std::optional<std::int64_t>
Minor(const json& object, const char* key)
{
	const auto it = object.find(key);
	if (it == object.end() || !(it->is_number_integer() || it->is_number_unsigned()))
		return std::nullopt;
	const std::int64_t value = it->get<std::int64_t>();
	return value >= 0 ? std::optional<std::int64_t>(value) : std::nullopt;
}

FlowResult
FromGateway(const GatewayResult& result)
{
	FlowResult out;
	switch (result.outcome) {
	case GatewayOutcome::kOk:
		out.status = FlowStatus::kDone;
		break;
	case GatewayOutcome::kDeclined:
	case GatewayOutcome::kRejected:
		out.status = FlowStatus::kRejected;
		out.message = result.error_message.empty() ? "the gateway refused the request" : result.error_message;
		break;
	case GatewayOutcome::kUnavailable:
		out.status = FlowStatus::kPending;
		out.message = "the gateway did not answer; the payment stays pending and is checked again";
		break;
	}
	return out;
}

} // namespace

std::optional<std::int64_t>
ToMinorUnits(const std::string& decimal)
{
	if (decimal.empty() || decimal.size() > 18)
		return std::nullopt;
	std::int64_t units = 0;
	std::size_t i = 0;
	for (; i < decimal.size() && decimal[i] != '.'; ++i) {
		if (!std::isdigit(static_cast<unsigned char>(decimal[i])))
			return std::nullopt;
		units = units * 10 + (decimal[i] - '0');
	}
	if (i == 0)
		return std::nullopt;
	int fraction_digits = 0;
	std::int64_t fraction = 0;
	if (i < decimal.size()) {
		for (++i; i < decimal.size(); ++i) {
			if (!std::isdigit(static_cast<unsigned char>(decimal[i])))
				return std::nullopt;
			if (++fraction_digits > 2) {
				// Trailing zeros beyond paise are fine ("411.8200"); anything else is not an amount in paise.
				if (decimal[i] != '0')
					return std::nullopt;
				continue;
			}
			fraction = fraction * 10 + (decimal[i] - '0');
		}
		if (fraction_digits == 0)
			return std::nullopt;
	}
	if (fraction_digits == 1)
		fraction *= 10;
	return units * 100 + fraction;
}

std::string
FromMinorUnits(std::int64_t minor)
{
	const bool negative = minor < 0;
	const std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(minor) : static_cast<std::uint64_t>(minor);
	char buffer[32];
	std::snprintf(buffer, sizeof buffer, "%s%llu.%02llu", negative ? "-" : "",
	              static_cast<unsigned long long>(magnitude / 100), static_cast<unsigned long long>(magnitude % 100));
	return buffer;
}

PaymentFlows::PaymentFlows(db::Pool& pool, GatewayConfig gateways, spdlog::logger& logger,
                           std::chrono::milliseconds pool_timeout)
	: pool_(pool), gateways_(std::move(gateways)), logger_(logger), pool_timeout_(pool_timeout)
{
}

std::optional<std::string>
PaymentFlows::Call(const std::string& sql, const std::vector<std::optional<std::string>>& params, bool& failed)
{
	failed = false;
	try {
		db::Lease lease = pool_.Acquire(pool_timeout_);
		pqxx::nontransaction tx(*lease);
		std::vector<const char*> pointers;
		pointers.reserve(params.size());
		for (const auto& p : params)
			pointers.push_back(p ? p->c_str() : nullptr);
		const pqxx::result rows = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(pointers));
		if (rows.empty() || rows[0][0].is_null())
			return std::nullopt;
		return std::string(rows[0][0].c_str());
	} catch (const std::exception& e) {
		failed = true;
		LogEvent(logger_, LogLevel::kError, "payment_db_error", json{{"error", e.what()}});
		return std::nullopt;
	}
}

void
PaymentFlows::Refused(const json& payment, const GatewayResult& result)
{
	// A refusal (4xx) will not change by asking again; an unanswered request (kUnavailable) may have worked.
	if (result.outcome != GatewayOutcome::kRejected && result.outcome != GatewayOutcome::kDeclined)
		return;
	bool failed = false;
	Call("SELECT balatrix.gateway_payment_refused($1::uuid, $2, $3)",
	     {Str(payment, "id"), result.error_code, result.error_message}, failed);
}

FlowResult
PaymentFlows::Open(const json& payment)
{
	const std::string gateway = Str(payment, "gateway");
	if (!Configured(gateway))
		return {FlowStatus::kUnavailable, gateway + " is not configured", nullptr};
	return gateway == "razorpay" ? OpenRazorpay(payment) : OpenStripe(payment, nullptr);
}

FlowResult
PaymentFlows::OpenRazorpay(const json& payment)
{
	const auto amount = ToMinorUnits(Str(payment, "amount"));
	if (!amount)
		return {FlowStatus::kRejected, "the payment has no amount in paise", nullptr};
	std::string order_id = Str(payment, "gateway_order_id");
	if (order_id.empty()) {
		// The payment number is the receipt, sent with unique_receipt: asking again returns the same order.
		const GatewayResult created = gateways_.razorpay->CreateOrder(
			*amount, Str(payment, "currency"), Str(payment, "payment_number"),
			json{{"payment_id", Str(payment, "id")}, {"purpose", Str(payment, "purpose")}});
		if (created.outcome != GatewayOutcome::kOk) {
			LogEvent(logger_, LogLevel::kWarn, "gateway_order_failed",
			         json{{"gateway", "razorpay"}, {"payment_id", Str(payment, "id")}, {"status", created.http_status},
			              {"error", created.error_message}, {"attempts", created.attempts}});
			Refused(payment, created);
			return FromGateway(created);
		}
		order_id = Str(created.body, "id");
		bool failed = false;
		Call("SELECT balatrix.gateway_attach_order($1::uuid, $2, $3::jsonb)",
		     {Str(payment, "id"), order_id, created.body.dump()}, failed);
		if (failed)
			return {FlowStatus::kUnavailable, "the order could not be recorded; retry the same request", nullptr};
	}
	return {FlowStatus::kDone, "",
	        json{{"gateway", "razorpay"}, {"key_id", gateways_.razorpay_key_id}, {"order_id", order_id},
	             {"amount", *amount}, {"currency", Str(payment, "currency")},
	             {"receipt", Str(payment, "payment_number")}}};
}

FlowResult
PaymentFlows::OpenStripe(const json& payment, const json& saved_method)
{
	const auto amount = ToMinorUnits(Str(payment, "amount"));
	if (!amount)
		return {FlowStatus::kRejected, "the payment has no amount in paise", nullptr};
	const std::string existing = Str(payment, "gateway_order_id");
	GatewayResult intent;
	if (!existing.empty()) {
		intent = gateways_.stripe->RetrievePaymentIntent(existing);
	} else {
		clients::PaymentIntentParams params;
		params.amount_paise = *amount;
		params.currency = Str(payment, "currency");
		// The payment's own id: Stripe replays the first answer to a repeat, so there is one PaymentIntent.
		params.idempotency_key = "pay_" + Str(payment, "id");
		params.metadata = {{"payment_id", Str(payment, "id")}, {"payment_number", Str(payment, "payment_number")},
		                   {"purpose", Str(payment, "purpose")}};
		params.description = "Balatrix payment " + Str(payment, "payment_number");
		if (saved_method.is_object()) {
			params.customer = Str(saved_method, "gateway_customer_id");
			params.payment_method = Str(saved_method, "gateway_method_id");
			params.confirm = true;
			params.off_session = true;
		} else {
			params.automatic_payment_methods = true;
		}
		intent = gateways_.stripe->CreatePaymentIntent(params);
		// A declined off-session charge still created the PaymentIntent (Stripe answers 402 with it).
		if (intent.outcome == GatewayOutcome::kDeclined && intent.body.is_object() && intent.body.contains("error") &&
		    intent.body["error"].contains("payment_intent"))
			intent.body = intent.body["error"]["payment_intent"];
		else if (intent.outcome != GatewayOutcome::kOk) {
			LogEvent(logger_, LogLevel::kWarn, "gateway_order_failed",
			         json{{"gateway", "stripe"}, {"payment_id", Str(payment, "id")}, {"status", intent.http_status},
			              {"error", intent.error_message}, {"attempts", intent.attempts}});
			Refused(payment, intent);
			return FromGateway(intent);
		}
		bool failed = false;
		json stored = intent.body;
		stored.erase("client_secret"); // the client gets it from this response; the database does not keep it
		Call("SELECT balatrix.gateway_attach_order($1::uuid, $2, $3::jsonb)", {Str(payment, "id"), Str(intent.body, "id"), stored.dump()},
		     failed);
		if (failed)
			return {FlowStatus::kUnavailable, "the PaymentIntent could not be recorded; retry the same request", nullptr};
	}
	if (intent.outcome != GatewayOutcome::kOk && intent.outcome != GatewayOutcome::kDeclined)
		return FromGateway(intent);
	return {FlowStatus::kDone, "",
	        json{{"gateway", "stripe"}, {"payment_intent_id", Str(intent.body, "id")},
	             {"client_secret", Str(intent.body, "client_secret")}, {"status", Str(intent.body, "status")},
	             {"amount", *amount}, {"currency", Str(payment, "currency")}, {"intent", intent.body}}};
}

FlowResult
PaymentFlows::Confirm(const json& payment, const std::string& gateway_payment_id, const std::string& source)
{
	const std::string gateway = Str(payment, "gateway");
	if (!Configured(gateway))
		return {FlowStatus::kUnavailable, gateway + " is not configured", nullptr};
	if (Str(payment, "gateway_order_id").empty()) {
		// Never reached the gateway: open it (the same order a lost answer created comes back).
		FlowResult opened = Open(payment);
		if (opened.status != FlowStatus::kDone)
			return opened;
		json with_order = payment;
		with_order["gateway_order_id"] =
			gateway == "razorpay" ? Str(opened.data, "order_id") : Str(opened.data, "payment_intent_id");
		return gateway == "razorpay" ? ConfirmRazorpay(with_order, gateway_payment_id, source)
		                             : ConfirmStripe(with_order, source);
	}
	return gateway == "razorpay" ? ConfirmRazorpay(payment, gateway_payment_id, source) : ConfirmStripe(payment, source);
}

FlowResult
PaymentFlows::ConfirmRazorpay(const json& payment, const std::string& gateway_payment_id, const std::string& source)
{
	const std::string order_id = Str(payment, "gateway_order_id");
	std::vector<json> candidates;
	if (!gateway_payment_id.empty()) {
		GatewayResult fetched = gateways_.razorpay->FetchPayment(gateway_payment_id);
		if (fetched.outcome != GatewayOutcome::kOk)
			return FromGateway(fetched);
		if (Str(fetched.body, "order_id") != order_id)
			return {FlowStatus::kRejected, "the gateway payment belongs to another order", nullptr};
		candidates.push_back(fetched.body);
	} else {
		GatewayResult listed = gateways_.razorpay->FetchOrderPayments(order_id);
		if (listed.outcome != GatewayOutcome::kOk)
			return FromGateway(listed);
		if (listed.body.contains("items") && listed.body["items"].is_array())
			for (const json& item : listed.body["items"])
				candidates.push_back(item);
	}
	// Captured first (that is the money), then authorized (ours to capture), then the failures.
	for (const char* wanted : {"captured", "authorized", "failed"}) {
		for (json entity : candidates) {
			if (Str(entity, "status") != wanted)
				continue;
			const auto amount = Minor(entity, "amount");
			if (!amount)
				continue;
			if (std::string(wanted) == "authorized") {
				GatewayResult captured = gateways_.razorpay->Capture(Str(entity, "id"), *amount, Str(entity, "currency"));
				if (captured.outcome != GatewayOutcome::kOk)
					return FromGateway(captured);
				entity = captured.body;
				if (Str(entity, "status") != "captured")
					return {FlowStatus::kPending, "the payment is not captured yet", nullptr};
			}
			bool failed = false;
			std::optional<std::string> outcome;
			if (std::string(wanted) == "failed") {
				outcome = Call("SELECT outcome FROM balatrix.gateway_payment_failed('razorpay', $1, $2, $3, $4, $5)",
				               {order_id, Str(entity, "id"), Str(entity, "error_code"), Str(entity, "error_description"), source},
				               failed);
			} else {
				json details = entity;
				outcome = Call("SELECT outcome FROM balatrix.gateway_payment_captured('razorpay', $1, $2, $3::numeric, $4, $5::jsonb)",
				               {order_id, Str(entity, "id"), FromMinorUnits(*amount), source, details.dump()}, failed);
			}
			if (failed)
				return {FlowStatus::kUnavailable, "the outcome could not be recorded", nullptr};
			LogEvent(logger_, LogLevel::kInfo, "payment_outcome",
			         json{{"gateway", "razorpay"}, {"order_id", order_id}, {"gateway_payment_id", Str(entity, "id")},
			              {"source", source}, {"outcome", outcome.value_or("")}});
			return {FlowStatus::kDone, "", json{{"outcome", outcome.value_or("")}}};
		}
	}
	return {FlowStatus::kPending, "the customer has not paid yet", json{{"outcome", "pending"}}};
}

FlowResult
PaymentFlows::ConfirmStripe(const json& payment, const std::string& source)
{
	GatewayResult intent = gateways_.stripe->RetrievePaymentIntent(Str(payment, "gateway_order_id"));
	if (intent.outcome != GatewayOutcome::kOk)
		return FromGateway(intent);
	return RecordStripeIntent(payment, intent.body, source);
}

FlowResult
PaymentFlows::RecordStripeIntent(const json& payment, const json& intent, const std::string& source)
{
	const std::string status = Str(intent, "status");
	const std::string id = Str(intent, "id");
	bool failed = false;
	std::optional<std::string> outcome;
	if (status == "succeeded") {
		const auto amount = Minor(intent, "amount_received");
		if (!amount)
			return {FlowStatus::kRejected, "the PaymentIntent has no amount received", nullptr};
		outcome = Call("SELECT outcome FROM balatrix.gateway_payment_captured('stripe', $1, $1, $2::numeric, $3, $4::jsonb)",
		               {id, FromMinorUnits(*amount), source, intent.dump()}, failed);
	} else if (status == "canceled" || (status == "requires_payment_method" && intent.contains("last_payment_error") &&
	                                    intent["last_payment_error"].is_object())) {
		// The decline (decline_code, else code) and its message; a canceled PaymentIntent is just "canceled".
		const bool canceled = status == "canceled";
		const json error = canceled ? json::object() : intent["last_payment_error"];
		std::string code = canceled ? std::string("canceled") : Str(error, "decline_code");
		if (code.empty())
			code = Str(error, "code");
		const std::string message = canceled ? std::string("canceled") : Str(error, "message");
		outcome = Call("SELECT outcome FROM balatrix.gateway_payment_failed('stripe', $1, $1, $2, $3, $4)",
		               {id, code, message, source}, failed);
	} else {
		return {FlowStatus::kPending, "the payment is " + status, json{{"outcome", "pending"}, {"intent_status", status}}};
	}
	if (failed)
		return {FlowStatus::kUnavailable, "the outcome could not be recorded", nullptr};
	LogEvent(logger_, LogLevel::kInfo, "payment_outcome",
	         json{{"gateway", "stripe"}, {"payment_intent", id}, {"payment_id", Str(payment, "id")}, {"source", source},
	              {"outcome", outcome.value_or("")}});
	return {FlowStatus::kDone, "", json{{"outcome", outcome.value_or("")}}};
}

FlowResult
PaymentFlows::Refund(const json& refund)
{
	const std::string gateway = Str(refund, "gateway");
	if (!Configured(gateway))
		return {FlowStatus::kUnavailable, gateway + " is not configured", nullptr};
	const auto amount = ToMinorUnits(Str(refund, "amount"));
	if (!amount)
		return {FlowStatus::kRejected, "the refund has no amount in paise", nullptr};
	std::string refund_id = Str(refund, "id");
	// The refund row's id is its idempotency key at the gateway (hex, no dashes: Razorpay allows [A-Za-z0-9_-]).
	std::string key = "rf_";
	for (char ch : refund_id)
		if (ch != '-')
			key += ch;
	GatewayResult done;
	if (gateway == "razorpay")
		done = gateways_.razorpay->Refund(Str(refund, "gateway_payment_id"), *amount, key, json{{"refund_id", refund_id}});
	else
		done = gateways_.stripe->CreateRefund(Str(refund, "gateway_payment_id"), *amount, "requested_by_customer",
		                                      {{"refund_id", refund_id}}, key);
	if (done.outcome == GatewayOutcome::kUnavailable)
		return FromGateway(done);
	bool failed = false;
	std::optional<std::string> outcome;
	if (done.outcome == GatewayOutcome::kOk)
		outcome = Call("SELECT pg_catalog.jsonb_build_object('outcome', outcome, 'credit_note_id', credit_note_id)::text "
		               "FROM balatrix.gateway_refund_result($1::uuid, $2, true)",
		               {refund_id, Str(done.body, "id")}, failed);
	else
		outcome = Call("SELECT pg_catalog.jsonb_build_object('outcome', outcome)::text "
		               "FROM balatrix.gateway_refund_result($1::uuid, NULL, false, $2)",
		               {refund_id, done.error_message}, failed);
	if (failed)
		return {FlowStatus::kUnavailable, "the refund's outcome could not be recorded", nullptr};
	LogEvent(logger_, LogLevel::kInfo, "refund_outcome",
	         json{{"gateway", gateway}, {"refund_id", refund_id}, {"gateway_status", done.http_status},
	              {"outcome", outcome.value_or("")}});
	FlowResult result{done.outcome == GatewayOutcome::kOk ? FlowStatus::kDone : FlowStatus::kRejected,
	                  done.outcome == GatewayOutcome::kOk ? "" : done.error_message, nullptr};
	result.data = outcome ? json::parse(*outcome) : json(nullptr);
	return result;
}

int
PaymentFlows::Reconcile(std::chrono::seconds older_than, int max_rows)
{
	pqxx::result work;
	try {
		db::Lease lease = pool_.Acquire(pool_timeout_);
		pqxx::nontransaction tx(*lease);
		work = tx.exec_params("SELECT kind, body::text FROM balatrix.gateway_pending_work($1, $2)",
		                      static_cast<int>(older_than.count()), max_rows);
	} catch (const std::exception& e) {
		LogEvent(logger_, LogLevel::kWarn, "reconcile_failed", json{{"error", e.what()}});
		return 0;
	}
	int looked = 0;
	for (const auto& row : work) {
		const std::string kind = row[0].c_str();
		const json body = json::parse(row[1].c_str());
		if (kind == "payment") {
			const json& payment = body;
			if (!Configured(Str(payment, "gateway")))
				continue;
			++looked;
			Confirm(payment, "", "reconcile");
		} else if (kind == "refund") {
			const json& refund = body;
			if (!Configured(Str(refund, "gateway")))
				continue;
			++looked;
			Refund(refund);
		}
	}
	return looked;
}

FlowResult
PaymentFlows::RetryDue(const std::string& failed_payment_id)
{
	bool failed = false;
	const auto text = Call("SELECT balatrix.gateway_retry_payment($1::uuid)::text", {failed_payment_id}, failed);
	if (failed)
		return {FlowStatus::kUnavailable, "the retry could not be prepared", nullptr};
	if (!text)
		return {FlowStatus::kDone, "nothing to charge", nullptr}; // settled, or no saved method: the mail asks
	const json payment = json::parse(*text);
	if (Str(payment, "gateway") != "stripe" || !Configured("stripe")) {
		// Razorpay charges a saved token only through its recurring API with a mandate, which this version
		// does not use: the customer pays through the payment request mailed for payment.retry_due.
		return {FlowStatus::kDone, "no off-session charge for " + Str(payment, "gateway"), nullptr};
	}
	if (Str(payment, "status") != "created" && Str(payment, "status") != "pending")
		return {FlowStatus::kDone, "already " + Str(payment, "status"), nullptr};
	if (!Str(payment, "gateway_order_id").empty())
		return Confirm(payment, "", "retry");
	FlowResult opened = OpenStripe(payment, payment);
	if (opened.status != FlowStatus::kDone)
		return opened;
	json with_order = payment;
	with_order["gateway_order_id"] = Str(opened.data, "payment_intent_id");
	return RecordStripeIntent(with_order, opened.data.value("intent", json::object()), "retry");
}

} // namespace balatrix::sidecar::payments
