/*
 * Payment flows: the sidecar's side of a payment, between the database and the gateways.
 *
 * The database decides everything about money (balatrix.api_checkout / api_pay_invoice / api_top_up open a
 * payment row; gateway_payment_captured / _failed / gateway_refund_result move the money in one transaction,
 * idempotently). This class only talks to the gateways and reports what they said:
 *
 *   Open      a payment row in status created -> a Razorpay order (receipt = the payment number, unique, so a
 *             repeat returns the same order) or a Stripe PaymentIntent (Idempotency-Key = "pay_<id>"), then
 *             gateway_attach_order. When the gateway does not answer, the row stays created and the caller
 *             (or the reconciler) calls Open again: the same order comes back, never a second one.
 *   Confirm   asks the gateway for the state of a payment's order (Razorpay: the payment the checkout
 *             signature named, capturing it when only authorized; Stripe: the PaymentIntent) and reports it.
 *             The checkout signature alone never moves money: it proves the customer went through
 *             Checkout, the gateway's own answer says whether the money is there.
 *   Refund    a pending refund row -> the gateway refund with the refund's own idempotency key, then
 *             gateway_refund_result; unanswered -> stays pending, the reconciler repeats the same call.
 *   Reconcile one pass over balatrix.gateway_pending_work: what a timeout or a lost webhook left open.
 *   RetryDue  payment.retry_due (an outbox event): charges the customer's default saved method off-session.
 *
 * Every database call here runs in autocommit as balatrix_api on a pooled connection, through the SECURITY
 * DEFINER gateway_* functions (no actor: the sidecar itself is the caller). Nothing here throws for a
 * gateway or database failure; outcomes are values.
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace spdlog {
class logger;
} // namespace spdlog

namespace balatrix::sidecar::db {
class Pool;
} // namespace balatrix::sidecar::db

namespace balatrix::sidecar::clients {
class RazorpayClient;
class StripeClient;
struct GatewayResult;
} // namespace balatrix::sidecar::clients

namespace balatrix::sidecar::payments {

// "411.82" -> 41182; nullopt for anything that is not a non-negative decimal with at most 2 fraction digits.
std::optional<std::int64_t> ToMinorUnits(const std::string& decimal);
// 41182 -> "411.82" (negative amounts keep their sign).
std::string FromMinorUnits(std::int64_t minor);

struct GatewayConfig {
	clients::RazorpayClient* razorpay = nullptr; // null: Razorpay is not configured
	clients::StripeClient* stripe = nullptr;     // null: Stripe is not configured
	std::string razorpay_key_id;                 // public; the checkout form needs it
	std::string razorpay_key_secret;             // checkout signatures
};

// What a flow step ended with.
enum class FlowStatus {
	kDone,        // the gateway answered and the database recorded it
	kPending,     // the gateway did not answer (or has no outcome yet): try again later, nothing is lost
	kRejected,    // the gateway refused the request (4xx); `message` says why
	kUnavailable, // the gateway is not configured, or the database could not be reached
};

struct FlowResult {
	FlowStatus status = FlowStatus::kDone;
	std::string message;
	nlohmann::json data; // Open: {"key_id","order_id",...} / {"client_secret","payment_intent_id"}; Confirm: outcome
};

class PaymentFlows {
public:
	// All must outlive the object.
	PaymentFlows(db::Pool& pool, GatewayConfig gateways, spdlog::logger& logger,
	             std::chrono::milliseconds pool_timeout);

	bool
	Configured(const std::string& gateway) const
	{
		return gateway == "razorpay" ? gateways_.razorpay != nullptr
		                             : gateway == "stripe" && gateways_.stripe != nullptr;
	}

	const GatewayConfig&
	gateways() const
	{
		return gateways_;
	}

	// `payment` is balatrix.payment_json (snake_case). Creates (or finds again) the gateway order and attaches
	// it; data: what the client's checkout needs.
	FlowResult Open(const nlohmann::json& payment);

	// Asks the gateway what became of `payment` and records it (source: verify, reconcile, webhook, retry).
	// For Razorpay, `gateway_payment_id` names the payment (from the verified checkout signature or a
	// webhook); empty: every payment of the order is looked at.
	FlowResult Confirm(const nlohmann::json& payment, const std::string& gateway_payment_id, const std::string& source);

	// `refund` is the JSON of balatrix.api_begin_refund. Performs it at the gateway and records the outcome.
	FlowResult Refund(const nlohmann::json& refund);

	// One reconciliation pass: open payments untouched for `older_than` and pending refunds. Returns how many
	// were looked at.
	int Reconcile(std::chrono::seconds older_than, int max_rows);

	// payment.retry_due: the payment that retries `failed_payment_id` off-session with the default saved method.
	// kDone also when there is nothing to charge (no saved method: the customer was told by e-mail).
	FlowResult RetryDue(const std::string& failed_payment_id);

private:
	FlowResult OpenRazorpay(const nlohmann::json& payment);
	FlowResult OpenStripe(const nlohmann::json& payment, const nlohmann::json& saved_method);
	FlowResult ConfirmRazorpay(const nlohmann::json& payment, const std::string& gateway_payment_id,
	                           const std::string& source);
	FlowResult ConfirmStripe(const nlohmann::json& payment, const std::string& source);
	// Marks a payment whose order the gateway refused (4xx) as failed, so the reconciler stops asking.
	void Refused(const nlohmann::json& payment, const clients::GatewayResult& result);
	FlowResult RecordStripeIntent(const nlohmann::json& payment, const nlohmann::json& intent, const std::string& source);
	// Runs one statement in autocommit; the first column of the first row as text (nullopt for NULL / no row).
	// Database errors are logged and returned as nullopt with `failed` set.
	std::optional<std::string> Call(const std::string& sql, const std::vector<std::optional<std::string>>& params,
	                                bool& failed);

	db::Pool& pool_;
	GatewayConfig gateways_;
	spdlog::logger& logger_;
	std::chrono::milliseconds pool_timeout_;
};

} // namespace balatrix::sidecar::payments
