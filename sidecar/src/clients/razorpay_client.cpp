#include "clients/razorpay_client.hpp"

#include <algorithm>
#include <string_view>

#include <sodium.h>

#include "percent_encoding.hpp"

namespace balatrix::sidecar::clients {
namespace {

constexpr std::size_t kMaxReceiptBytes = 40;
constexpr std::size_t kMinRefundKeyLength = 10;
constexpr std::size_t kMaxRefundKeyLength = 255;

// RFC 4648 §4 base64 with padding: what HTTP Basic uses (not the URL-safe alphabet of crypto::Base64UrlEncode).
// sodium_bin2base64 is a pure function and needs no sodium_init().
std::string
Base64(std::string_view bytes)
{
	constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
	std::string text(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
	sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
	                  kVariant);
	text.resize(text.size() - 1); // the terminating NUL sodium writes
	return text;
}

bool
IsCurrencyCode(const std::string& currency)
{
	return currency.size() == 3 &&
	       std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Razorpay's documented X-Refund-Idempotency format: at least 10 characters of [A-Za-z0-9_-]. The upper bound is
// ours: a key is a UUID or a row id, and an unbounded header is a mistake.
bool
IsRefundKey(const std::string& key)
{
	if (key.size() < kMinRefundKeyLength || key.size() > kMaxRefundKeyLength)
		return false;
	return std::all_of(key.begin(), key.end(), [](char c) {
		return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
	});
}

bool
IsNotes(const nlohmann::json& notes)
{
	return notes.is_null() || notes.is_object();
}

std::string
StringMember(const nlohmann::json& object, const char* name)
{
	const auto it = object.find(name);
	return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Adds Razorpay's error code and description, and tells a declined payment from a rejected request. Razorpay
// marks a payment the customer or the bank refused with source "customer"/"bank" or reason "payment_failed";
// every other BAD_REQUEST_ERROR is about our request.
GatewayResult
Annotated(GatewayResult result)
{
	if (!result.body.is_object() || !result.body.contains("error") || !result.body["error"].is_object())
		return result;
	const auto& error = result.body["error"];
	result.error_code = StringMember(error, "code");
	result.error_message = StringMember(error, "description");
	if (result.outcome == GatewayOutcome::kRejected && result.error_code == "BAD_REQUEST_ERROR") {
		const std::string source = StringMember(error, "source");
		if (source == "customer" || source == "bank" || StringMember(error, "reason") == "payment_failed")
			result.outcome = GatewayOutcome::kDeclined;
	}
	return result;
}

std::int64_t
IntegerMember(const nlohmann::json& object, const char* name, std::int64_t fallback)
{
	const auto it = object.find(name);
	return it != object.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

bool
IsTrue(const nlohmann::json& object, const char* name)
{
	const auto it = object.find(name);
	return it != object.end() && it->is_boolean() && it->get<bool>();
}

} // namespace

RazorpayClient::RazorpayClient(HttpTransport& transport, RazorpayOptions options, Sleeper sleeper)
	: transport_(transport), base_url_(WithoutTrailingSlash(std::move(options.base_url))),
	  authorization_("Basic " + Base64(options.key_id + ":" + options.key_secret)), timeout_(options.timeout),
	  connect_timeout_(options.connect_timeout), retry_(options.retry), auto_capture_(options.auto_capture),
	  logger_(std::move(options.logger)), sleeper_(std::move(sleeper))
{
}

GatewayResult
RazorpayClient::Call(const std::string& method, const std::string& path, const nlohmann::json* body,
                     std::vector<std::pair<std::string, std::string>> extra_headers)
{
	HttpRequest request;
	request.method = method;
	request.url = base_url_ + path;
	request.timeout = timeout_;
	request.connect_timeout = std::min(connect_timeout_, timeout_);
	request.headers = {{"Authorization", authorization_}, {"Accept", "application/json"}};
	if (body != nullptr) {
		try {
			request.body = body->dump();
		} catch (const nlohmann::json::type_error&) {
			return LocalRejection("the request holds a string that is not valid UTF-8");
		}
		request.headers.emplace_back("Content-Type", "application/json");
	}
	for (auto& header : extra_headers)
		request.headers.push_back(std::move(header));
	// Every Razorpay call this client makes is retry-safe (see the header comment).
	const Exchange exchange = SendWithRetries(transport_, request, Replay::kSafe, retry_, sleeper_, logger_.get());
	return Annotated(ReadExchange(exchange));
}

GatewayResult
RazorpayClient::CreateOrder(std::int64_t amount_paise, const std::string& currency, const std::string& receipt,
                            const nlohmann::json& notes)
{
	if (amount_paise <= 0)
		return LocalRejection("amount_paise must be positive");
	if (!IsCurrencyCode(currency))
		return LocalRejection("currency must be three upper-case letters");
	if (receipt.empty() || receipt.size() > kMaxReceiptBytes || !IsValidUtf8(receipt))
		return LocalRejection("receipt must be 1-40 bytes of UTF-8");
	if (!IsNotes(notes))
		return LocalRejection("notes must be a JSON object");
	nlohmann::json body = {
		{"amount", amount_paise},
		{"currency", currency},
		{"receipt", receipt},
		{"unique_receipt", true},
	};
	if (auto_capture_)
		body["payment_capture"] = 1;
	if (notes.is_object() && !notes.empty())
		body["notes"] = notes;
	return Call("POST", "/v1/orders", &body);
}

GatewayResult
RazorpayClient::FetchOrder(const std::string& order_id)
{
	if (!IsSafePathId(order_id))
		return LocalRejection("invalid order id");
	return Call("GET", "/v1/orders/" + order_id, nullptr);
}

GatewayResult
RazorpayClient::FetchOrderPayments(const std::string& order_id)
{
	if (!IsSafePathId(order_id))
		return LocalRejection("invalid order id");
	return Call("GET", "/v1/orders/" + order_id + "/payments", nullptr);
}

GatewayResult
RazorpayClient::FetchPayment(const std::string& payment_id)
{
	if (!IsSafePathId(payment_id))
		return LocalRejection("invalid payment id");
	return Call("GET", "/v1/payments/" + payment_id, nullptr);
}

GatewayResult
RazorpayClient::Capture(const std::string& payment_id, std::int64_t amount_paise, const std::string& currency)
{
	if (!IsSafePathId(payment_id))
		return LocalRejection("invalid payment id");
	if (amount_paise <= 0)
		return LocalRejection("amount_paise must be positive");
	if (!IsCurrencyCode(currency))
		return LocalRejection("currency must be three upper-case letters");
	const nlohmann::json body = {{"amount", amount_paise}, {"currency", currency}};
	GatewayResult captured = Call("POST", "/v1/payments/" + payment_id + "/capture", &body);
	if (captured.outcome != GatewayOutcome::kRejected || captured.http_status != 400 ||
	    captured.error_message.find("already been captured") == std::string::npos)
		return captured;

	// Captured before: by an earlier attempt whose answer we lost, by our own earlier call, or by Razorpay's
	// auto-capture. It is a success only if it is this capture: the payment's captured amount is the one asked.
	GatewayResult fetched = FetchPayment(payment_id);
	const int attempts = captured.attempts + fetched.attempts;
	const auto& payment = fetched.body;
	const bool is_this_capture = fetched.outcome == GatewayOutcome::kOk && payment.is_object() &&
	                             IsTrue(payment, "captured") && IntegerMember(payment, "amount", -1) == amount_paise &&
	                             StringMember(payment, "currency") == currency;
	// A fetch that could not be made leaves the capture's outcome unknown, not refused.
	if (is_this_capture || fetched.outcome == GatewayOutcome::kUnavailable) {
		fetched.attempts = attempts;
		return fetched;
	}
	captured.attempts = attempts;
	return captured;
}

GatewayResult
RazorpayClient::Refund(const std::string& payment_id, std::optional<std::int64_t> amount_paise,
                       const std::string& idempotency_key, const nlohmann::json& notes)
{
	if (!IsSafePathId(payment_id))
		return LocalRejection("invalid payment id");
	if (!IsRefundKey(idempotency_key))
		return LocalRejection("the refund idempotency key must be 10-255 characters of A-Z, a-z, 0-9, _ and -");
	if (amount_paise && *amount_paise <= 0)
		return LocalRejection("amount_paise must be positive");
	if (!IsNotes(notes))
		return LocalRejection("notes must be a JSON object");
	nlohmann::json body = {{"speed", "normal"}};
	if (amount_paise)
		body["amount"] = *amount_paise;
	if (notes.is_object() && !notes.empty())
		body["notes"] = notes;
	return Call("POST", "/v1/payments/" + payment_id + "/refund", &body, {{"X-Refund-Idempotency", idempotency_key}});
}

} // namespace balatrix::sidecar::clients
