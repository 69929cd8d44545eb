#include "clients/stripe_client.hpp"

#include <algorithm>
#include <set>
#include <string_view>

#include "percent_encoding.hpp"

namespace balatrix::sidecar::clients {
namespace {

constexpr std::size_t kMaxIdempotencyKeyLength = 255; // Stripe's documented limit
constexpr std::size_t kMaxMetadataKeys = 50;
constexpr std::size_t kMaxMetadataKeyChars = 40;
constexpr std::size_t kMaxMetadataValueChars = 500;

void
AppendEncoded(std::string& out, std::string_view bytes)
{
	static constexpr char kHex[] = "0123456789ABCDEF";
	for (const char c : bytes) {
		const auto byte = static_cast<unsigned char>(c);
		const bool literal = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		                     c == '.' || c == '_' || c == '~' || c == '[' || c == ']';
		if (literal) {
			out += c;
		} else {
			out += '%';
			out += kHex[byte >> 4];
			out += kHex[byte & 0x0F];
		}
	}
}

// Characters, not bytes: Stripe's limits count characters, and a Hindi description is three bytes per letter.
// Only called on valid UTF-8, where every character has exactly one non-continuation byte.
std::size_t
CharacterCount(std::string_view utf8)
{
	return static_cast<std::size_t>(
		std::count_if(utf8.begin(), utf8.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool
IsIdempotencyKey(const std::string& key)
{
	if (key.empty() || key.size() > kMaxIdempotencyKeyLength)
		return false;
	return std::all_of(key.begin(), key.end(), [](char c) { return c > ' ' && c < 0x7F; });
}

bool
IsCurrencyCode(const std::string& currency)
{
	return currency.size() == 3 && std::all_of(currency.begin(), currency.end(),
	                                           [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); });
}

std::string
LowerCased(std::string text)
{
	for (auto& c : text) {
		if (c >= 'A' && c <= 'Z')
			c = static_cast<char>(c - 'A' + 'a');
	}
	return text;
}

// Why `metadata` would be refused by Stripe, or "" when it is acceptable.
std::string
MetadataProblem(const FormFields& metadata)
{
	if (metadata.size() > kMaxMetadataKeys)
		return "metadata may hold at most 50 keys";
	std::set<std::string_view> seen;
	for (const auto& [key, value] : metadata) {
		if (key.empty() || !IsValidUtf8(key) || CharacterCount(key) > kMaxMetadataKeyChars)
			return "a metadata key must be 1-40 characters of UTF-8";
		// A bracket in a key would change the nesting Stripe reads out of metadata[key].
		if (key.find_first_of("[]") != std::string::npos)
			return "a metadata key cannot contain '[' or ']'";
		if (!seen.insert(key).second)
			return "metadata key repeated: " + key;
		if (!IsValidUtf8(value) || CharacterCount(value) > kMaxMetadataValueChars)
			return "a metadata value must be at most 500 characters of UTF-8";
	}
	return "";
}

void
AppendMetadata(FormFields& form, const FormFields& metadata)
{
	for (const auto& [key, value] : metadata)
		form.emplace_back("metadata[" + key + "]", value);
}

std::string
StringMember(const nlohmann::json& object, const char* name)
{
	const auto it = object.find(name);
	return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Adds Stripe's error code and message; a 402 card_error is a declined payment, not a bad request.
GatewayResult
Annotated(GatewayResult result)
{
	if (!result.body.is_object() || !result.body.contains("error") || !result.body["error"].is_object())
		return result;
	const auto& error = result.body["error"];
	const std::string type = StringMember(error, "type");
	const std::string code = StringMember(error, "code");
	const std::string decline_code = StringMember(error, "decline_code");
	result.error_message = StringMember(error, "message");
	result.error_code = !decline_code.empty() ? decline_code : !code.empty() ? code : type;
	if (result.outcome == GatewayOutcome::kRejected && result.http_status == 402 && type == "card_error")
		result.outcome = GatewayOutcome::kDeclined;
	return result;
}

} // namespace

std::string
FormEncode(const FormFields& fields)
{
	std::string out;
	for (const auto& [name, value] : fields) {
		if (!out.empty())
			out += '&';
		AppendEncoded(out, name);
		out += '=';
		AppendEncoded(out, value);
	}
	return out;
}

StripeClient::StripeClient(HttpTransport& transport, StripeOptions options, Sleeper sleeper)
	: transport_(transport), base_url_(WithoutTrailingSlash(std::move(options.base_url))),
	  authorization_("Bearer " + options.secret_key), timeout_(options.timeout),
	  connect_timeout_(options.connect_timeout), retry_(options.retry), api_version_(std::move(options.api_version)),
	  logger_(std::move(options.logger)), sleeper_(std::move(sleeper))
{
}

HttpRequest
StripeClient::NewRequest(const std::string& method, const std::string& path) const
{
	HttpRequest request;
	request.method = method;
	request.url = base_url_ + path;
	request.timeout = timeout_;
	request.connect_timeout = std::min(connect_timeout_, timeout_);
	request.headers = {{"Authorization", authorization_}, {"Accept", "application/json"}};
	if (api_version_)
		request.headers.emplace_back("Stripe-Version", *api_version_);
	return request;
}

GatewayResult
StripeClient::Send(HttpRequest request)
{
	// GETs, and POSTs with an Idempotency-Key (Post refuses to send one without): all retry-safe.
	const Exchange exchange = SendWithRetries(transport_, request, Replay::kSafe, retry_, sleeper_, logger_.get());
	return Annotated(ReadExchange(exchange));
}

GatewayResult
StripeClient::Post(const std::string& path, const FormFields& form, const std::string& idempotency_key)
{
	if (!IsIdempotencyKey(idempotency_key))
		return LocalRejection("the idempotency key must be 1-255 printable ASCII characters without spaces");
	for (const auto& [name, value] : form) {
		if (!IsValidUtf8(value))
			return LocalRejection("the value of " + name + " is not valid UTF-8");
	}
	HttpRequest request = NewRequest("POST", path);
	request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
	request.headers.emplace_back("Idempotency-Key", idempotency_key);
	request.body = FormEncode(form);
	return Send(std::move(request));
}

GatewayResult
StripeClient::CreatePaymentIntent(const PaymentIntentParams& params)
{
	if (params.amount_paise <= 0)
		return LocalRejection("amount_paise must be positive");
	if (!IsCurrencyCode(params.currency))
		return LocalRejection("currency must be three letters");
	if (params.customer && !IsSafePathId(*params.customer))
		return LocalRejection("invalid customer id");
	if (params.payment_method && !IsSafePathId(*params.payment_method))
		return LocalRejection("invalid payment method id");
	if (const auto problem = MetadataProblem(params.metadata); !problem.empty())
		return LocalRejection(problem);

	FormFields form = {
		{"amount", std::to_string(params.amount_paise)},
		{"currency", LowerCased(params.currency)},
	};
	if (params.automatic_payment_methods)
		form.emplace_back("automatic_payment_methods[enabled]", "true");
	if (params.confirm)
		form.emplace_back("confirm", "true");
	if (params.customer)
		form.emplace_back("customer", *params.customer);
	if (!params.description.empty())
		form.emplace_back("description", params.description);
	AppendMetadata(form, params.metadata);
	if (params.off_session)
		form.emplace_back("off_session", "true");
	if (params.payment_method)
		form.emplace_back("payment_method", *params.payment_method);
	return Post("/v1/payment_intents", form, params.idempotency_key);
}

GatewayResult
StripeClient::RetrievePaymentIntent(const std::string& payment_intent_id)
{
	if (!IsSafePathId(payment_intent_id))
		return LocalRejection("invalid PaymentIntent id");
	return Send(NewRequest("GET", "/v1/payment_intents/" + payment_intent_id));
}

GatewayResult
StripeClient::ConfirmPaymentIntent(const std::string& payment_intent_id, const std::string& payment_method,
                                   const std::string& idempotency_key)
{
	if (!IsSafePathId(payment_intent_id))
		return LocalRejection("invalid PaymentIntent id");
	if (!IsSafePathId(payment_method))
		return LocalRejection("invalid payment method id");
	return Post("/v1/payment_intents/" + payment_intent_id + "/confirm", {{"payment_method", payment_method}},
	            idempotency_key);
}

GatewayResult
StripeClient::CreateRefund(const std::string& payment_intent_id, std::optional<std::int64_t> amount_paise,
                           const std::string& reason, const FormFields& metadata, const std::string& idempotency_key)
{
	if (!IsSafePathId(payment_intent_id))
		return LocalRejection("invalid PaymentIntent id");
	if (amount_paise && *amount_paise <= 0)
		return LocalRejection("amount_paise must be positive");
	if (!reason.empty() && reason != "duplicate" && reason != "fraudulent" && reason != "requested_by_customer")
		return LocalRejection("reason must be duplicate, fraudulent or requested_by_customer");
	if (const auto problem = MetadataProblem(metadata); !problem.empty())
		return LocalRejection(problem);
	FormFields form = {{"payment_intent", payment_intent_id}};
	if (amount_paise)
		form.emplace_back("amount", std::to_string(*amount_paise));
	AppendMetadata(form, metadata);
	if (!reason.empty())
		form.emplace_back("reason", reason);
	return Post("/v1/refunds", form, idempotency_key);
}

} // namespace balatrix::sidecar::clients
