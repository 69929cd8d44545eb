/*
 * The notifier: delivers one planned notification (a row of balatrix.outbox_deliveries) on its channel.
 *
 *   email    the event's template (outbox/templates.hpp) as an RFC 5322 message from SMTP_FROM, Message-ID
 *            <notification id@balatrix> (the same on every retry), through the MailSender (SMTP).
 *   sms      POST SMS_GATEWAY_URL, JSON {"to": "+91...", "message": "...", "reference": "<notification id>"},
 *            with "Authorization: Bearer <SMS_GATEWAY_TOKEN>" when a token is set. The reference is stable
 *            across retries, so a gateway that deduplicates on it sends one SMS.
 *   webhook  POST the endpoint's URL with the envelope exactly as the database made it,
 *            {"id": "evt_<event id>", "type", "created", "data": {payload}}, and the headers
 *              Content-Type: application/json
 *              Balatrix-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(endpoint secret, t + "." + body)>
 *              Balatrix-Event-Id: evt_<event id>      (stable across retries: receivers deduplicate on it)
 *              Balatrix-Event-Type: <type>
 *              User-Agent: balatrix-webhooks/1
 *            The scheme is Stripe's (one v1 signature over "t.body"), so a receiver can check it with the
 *            Stripe libraries' verifier and a 5-minute tolerance. The body is sent byte for byte as signed: it
 *            is never parsed and re-serialised here (that would also turn the exact amounts into doubles).
 *
 * Outcome: delivered for SMTP acceptance or an HTTP 2xx; anything else (a refusal, another status, a timeout,
 * a dropped connection) is a failure with a one-line reason, which the consumer records and retries through
 * the event's backoff. Redirects are not followed (an endpoint that moved answers 3xx: a failure, not a
 * silent POST elsewhere). Errors never carry a secret: not the webhook secret, the SMS token or SMTP
 * credentials. Deliver never throws for anything the network or a peer does.
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "clients/smtp_client.hpp"
#include "outbox/templates.hpp"

namespace balatrix::sidecar {
class Clock;
} // namespace balatrix::sidecar

namespace balatrix::sidecar::clients {
class HttpTransport;
} // namespace balatrix::sidecar::clients

namespace balatrix::sidecar::outbox {

// One row of balatrix.outbox_deliveries, plus the event it belongs to.
struct Delivery {
	std::string notification_id; // uuid
	std::string channel;         // "email", "sms" or "webhook"
	std::string recipient;       // e-mail address, E.164 phone number or webhook URL
	std::string event_type;      // the template
	std::int64_t event_id = 0;
	nlohmann::json context = nlohmann::json::object(); // e-mail and SMS: strings only
	std::string secret;                                // webhook: the endpoint's signing secret
	std::string envelope;                              // webhook: the exact body to POST
};

struct DeliveryOutcome {
	bool delivered = false;
	std::string error; // one line when !delivered; stored as the notification's last_error; no secret
};

class DeliverySender {
public:
	virtual ~DeliverySender() = default;
	virtual DeliveryOutcome Deliver(const Delivery& delivery) = 0;
};

struct NotifierOptions {
	clients::Mailbox from{"Balatrix", "billing@localhost"}; // SMTP_FROM
	TemplateOptions templates;
	std::string sms_gateway_url;                      // empty: no SMS channel
	std::string sms_gateway_token;                    // secret; empty: no Authorization header
	std::chrono::milliseconds webhook_timeout{10000}; // each webhook and SMS gateway request
};

// "t=<timestamp>,v1=<lower-case hex HMAC-SHA256(secret, timestamp + "." + body)>".
std::string WebhookSignatureHeader(std::int64_t timestamp, std::string_view body, std::string_view secret);

class Notifier final : public DeliverySender {
public:
	// `mail` may be null (SMTP_URL unset): the email channel is then not offered. All must outlive the object.
	Notifier(clients::MailSender* mail, clients::HttpTransport& http, const Clock& clock, NotifierOptions options);

	DeliveryOutcome Deliver(const Delivery& delivery) override;

	// The channels to plan deliveries on: "email" when there is a mail sender, "sms" when SMS_GATEWAY_URL is
	// set, "webhook" always.
	std::vector<std::string> Channels() const;

private:
	DeliveryOutcome Email(const Delivery& delivery);
	DeliveryOutcome Sms(const Delivery& delivery);
	DeliveryOutcome Webhook(const Delivery& delivery);

	clients::MailSender* mail_;
	clients::HttpTransport& http_;
	const Clock& clock_;
	NotifierOptions options_;
};

} // namespace balatrix::sidecar::outbox
