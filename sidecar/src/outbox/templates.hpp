/*
 * The texts of the notifications: an e-mail subject and plain-text body, and an SMS, per event type.
 *
 * The input is the `context` of balatrix.outbox_deliveries: a JSON object whose members are all strings (money
 * as exact decimals such as "1179.82" or "85.5000", dates as "15 Dec 2026", instants as "15 Dec 2026, 18:30
 * IST"). A missing or non-string member is rendered with a neutral wording ("your invoice"), never an error,
 * except where the message is pointless without it: the token of a verification or password-reset e-mail.
 * Nothing here reads a clock, the network or the database, and nothing throws for bad input.
 *
 * Amounts are shown from the decimal text itself, never through a floating-point value: grouped the Indian
 * way for INR (₹12,34,567.50), in threes otherwise (USD 1,234,567.50), with at least two decimals and no
 * trailing zeros past the second ("85.5000" -> 85.50, "85.4567" stays 85.4567).
 *
 * SMS texts are plain ASCII (GSM-7 safe: no ₹, amounts as "INR 85.50") and at most 160 characters; a text
 * that would be longer (a 64-character account number, say) is cut to 157 characters plus "...".
 */
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace balatrix::sidecar::outbox {

inline constexpr std::size_t kMaxSmsLength = 160;

struct TemplateOptions {
	std::string app_base_url = "http://localhost:3000"; // APP_BASE_URL, without a trailing '/'
	std::string brand = "Balatrix";                     // signs the texts (SMTP_FROM's display name)
};

struct MailText {
	std::string subject;
	std::string body; // "\n" line ends
};

// The e-mail for `event_type`, or nullopt when there is no e-mail for that type (or a verification / reset
// e-mail without its token).
std::optional<MailText> RenderEmail(std::string_view event_type, const nlohmann::json& context,
                                    const TemplateOptions& options);

// The SMS for `event_type` (balance.low, balance.critical, invoice.overdue, payment.captured), or nullopt.
std::optional<std::string> RenderSms(std::string_view event_type, const nlohmann::json& context,
                                     const TemplateOptions& options);

// `decimal` ("-1234567.5") for people: "-₹12,34,567.50" for INR, "USD 1,234,567.50" otherwise; with `ascii`,
// "INR 12,34,567.50". Text that is not a plain decimal is returned unchanged.
std::string FormatAmount(std::string_view decimal, std::string_view currency, bool ascii = false);

} // namespace balatrix::sidecar::outbox
