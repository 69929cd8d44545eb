#include "outbox/notifier.hpp"

#include <algorithm>
#include <utility>
#include <variant>

#include "clients/http_transport.hpp"
#include "clock.hpp"
#include "payments/signatures.hpp"

namespace balatrix::sidecar::outbox {
namespace {

constexpr std::chrono::milliseconds kMaxConnectTimeout{5000};

bool
Is2xx(long status)
{
	return status >= 200 && status <= 299;
}

// "webhook: HTTP 500" / "webhook: timeout (Operation timed out after 10000 ms)".
std::string
HttpFailure(std::string_view what, const clients::HttpResponse& response)
{
	std::string error(what);
	if (response.failure != clients::TransportFailure::kNone) {
		error += ": ";
		error += clients::TransportFailureName(response.failure);
		if (!response.error.empty())
			error += " (" + response.error + ")";
	} else {
		error += ": HTTP " + std::to_string(response.status);
	}
	std::replace(error.begin(), error.end(), '\n', ' ');
	std::replace(error.begin(), error.end(), '\r', ' ');
	return error;
}

} // namespace

std::string
WebhookSignatureHeader(std::int64_t timestamp, std::string_view body, std::string_view secret)
{
	// The same construction as Stripe-Signature: one helper, one format, verifiable by VerifyStripeWebhook.
	return payments::MakeStripeSignatureHeader(timestamp, body, secret);
}

Notifier::Notifier(clients::MailSender* mail, clients::HttpTransport& http, const Clock& clock, NotifierOptions options)
	: mail_(mail), http_(http), clock_(clock), options_(std::move(options))
{
}

std::vector<std::string>
Notifier::Channels() const
{
	std::vector<std::string> channels;
	if (mail_ != nullptr)
		channels.emplace_back("email");
	if (!options_.sms_gateway_url.empty())
		channels.emplace_back("sms");
	channels.emplace_back("webhook");
	return channels;
}

DeliveryOutcome
Notifier::Deliver(const Delivery& delivery)
{
	if (delivery.channel == "email")
		return Email(delivery);
	if (delivery.channel == "sms")
		return Sms(delivery);
	if (delivery.channel == "webhook")
		return Webhook(delivery);
	return DeliveryOutcome{false, "unknown channel " + delivery.channel};
}

DeliveryOutcome
Notifier::Email(const Delivery& delivery)
{
	if (mail_ == nullptr)
		return DeliveryOutcome{false, "e-mail: SMTP_URL is not set"};
	const auto text = RenderEmail(delivery.event_type, delivery.context, options_.templates);
	if (!text)
		return DeliveryOutcome{false, "e-mail: no template for " + delivery.event_type};
	clients::MailMessage message;
	message.from = options_.from;
	message.to = delivery.recipient;
	message.subject = text->subject;
	message.body = text->body;
	message.message_id = delivery.notification_id;
	message.date = clock_.Now();
	auto built = clients::BuildMailMessage(message);
	if (const auto* error = std::get_if<clients::MailBuildError>(&built))
		return DeliveryOutcome{false, "e-mail: " + error->message};
	const auto sent = mail_->Send(options_.from.address, delivery.recipient, std::get<clients::BuiltMail>(built).data);
	if (!sent.ok)
		return DeliveryOutcome{false, sent.error.empty() ? std::string("smtp: failed") : sent.error};
	return DeliveryOutcome{true, {}};
}

DeliveryOutcome
Notifier::Sms(const Delivery& delivery)
{
	if (options_.sms_gateway_url.empty())
		return DeliveryOutcome{false, "sms: SMS_GATEWAY_URL is not set"};
	const auto text = RenderSms(delivery.event_type, delivery.context, options_.templates);
	if (!text)
		return DeliveryOutcome{false, "sms: no template for " + delivery.event_type};
	clients::HttpRequest request;
	request.method = "POST";
	request.url = options_.sms_gateway_url;
	request.headers = {{"Content-Type", "application/json"}, {"User-Agent", "balatrix-notifications/1"}};
	if (!options_.sms_gateway_token.empty())
		request.headers.emplace_back("Authorization", "Bearer " + options_.sms_gateway_token);
	request.body =
		nlohmann::json{{"to", delivery.recipient}, {"message", *text}, {"reference", delivery.notification_id}}.dump();
	request.timeout = options_.webhook_timeout;
	request.connect_timeout = std::min(options_.webhook_timeout, kMaxConnectTimeout);
	const auto response = http_.Send(request);
	if (response.failure == clients::TransportFailure::kNone && Is2xx(response.status))
		return DeliveryOutcome{true, {}};
	return DeliveryOutcome{false, HttpFailure("sms", response)};
}

DeliveryOutcome
Notifier::Webhook(const Delivery& delivery)
{
	if (delivery.secret.empty() || delivery.envelope.empty())
		return DeliveryOutcome{false, "webhook: no secret or body"};
	const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
	const std::string event_id = "evt_" + std::to_string(delivery.event_id);
	clients::HttpRequest request;
	request.method = "POST";
	request.url = delivery.recipient;
	request.headers = {
		{"Content-Type", "application/json"},
		{"Balatrix-Signature", WebhookSignatureHeader(now, delivery.envelope, delivery.secret)},
		{"Balatrix-Event-Id", event_id},
		{"Balatrix-Event-Type", delivery.event_type},
		{"User-Agent", "balatrix-webhooks/1"},
	};
	request.body = delivery.envelope;
	request.timeout = options_.webhook_timeout;
	request.connect_timeout = std::min(options_.webhook_timeout, kMaxConnectTimeout);
	const auto response = http_.Send(request);
	if (response.failure == clients::TransportFailure::kNone && Is2xx(response.status))
		return DeliveryOutcome{true, {}};
	return DeliveryOutcome{false, HttpFailure("webhook", response)};
}

} // namespace balatrix::sidecar::outbox
