#include "outbox/templates.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "percent_encoding.hpp"

namespace balatrix::sidecar::outbox {
namespace {

using nlohmann::json;

// A context member, or `fallback` when it is absent, not a string, or blank.
std::string
Get(const json& context, const char* key, std::string_view fallback = "")
{
	if (context.is_object()) {
		const auto it = context.find(key);
		if (it != context.end() && it->is_string()) {
			const auto& value = it->get_ref<const std::string&>();
			if (value.find_first_not_of(" \t") != std::string::npos)
				return value;
		}
	}
	return std::string(fallback);
}

bool
Has(const json& context, const char* key)
{
	return !Get(context, key).empty();
}

std::string
Currency(const json& context)
{
	return Get(context, "currency", "INR");
}

std::string
Money(const json& context, const char* key, bool ascii = false)
{
	const std::string value = Get(context, key);
	return value.empty() ? std::string() : FormatAmount(value, Currency(context), ascii);
}

std::string
Greeting(const json& context)
{
	return "Dear " + Get(context, "first_name", Get(context, "customer_name", "customer")) + ",\n\n";
}

std::string
Signature(const TemplateOptions& options)
{
	return "\nThank you,\n" + options.brand + "\n";
}

std::string
SignInLine(const TemplateOptions& options)
{
	return "Sign in at " + options.app_base_url + " to see your account.\n";
}

// Groups the digits of a non-negative integer text: Indian (3, then 2s) or in threes.
std::string
GroupDigits(std::string_view digits, bool indian)
{
	std::string out;
	const std::size_t n = digits.size();
	for (std::size_t i = 0; i < n; ++i) {
		const std::size_t left = n - i; // digits from here to the end
		if (i > 0) {
			const bool boundary = indian ? (left == 3 || (left > 3 && (left - 3) % 2 == 0)) : left % 3 == 0;
			if (boundary)
				out += ',';
		}
		out += digits[i];
	}
	return out;
}

// An SMS is ASCII: every non-ASCII character becomes '?', control characters a space.
std::string
AsciiOnly(std::string_view text)
{
	std::string out;
	for (std::size_t i = 0; i < text.size(); ++i) {
		const auto c = static_cast<unsigned char>(text[i]);
		if (c < 0x80) {
			out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
			continue;
		}
		// Skip the continuation bytes of this character.
		while (i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xc0) == 0x80)
			++i;
		out += '?';
	}
	return out;
}

std::string
SmsBrand(const TemplateOptions& options)
{
	std::string brand = AsciiOnly(options.brand);
	if (brand.size() > 20)
		brand.resize(20);
	return brand;
}

std::string
FitSms(std::string text)
{
	text = AsciiOnly(text);
	if (text.size() > kMaxSmsLength)
		text = text.substr(0, kMaxSmsLength - 3) + "...";
	return text;
}

std::optional<MailText>
InvoiceIssued(const json& c, const TemplateOptions& o, bool debit_note)
{
	const std::string kind = debit_note ? "Debit note" : "Invoice";
	const std::string number = Get(c, "invoice_number");
	const std::string total = Money(c, "total");
	const std::string due = Get(c, "due_date");
	MailText mail;
	mail.subject = kind + (number.empty() ? "" : " " + number) + (total.empty() ? "" : " for " + total) +
	               (due.empty() ? "" : ", due " + due);
	mail.body = Greeting(c);
	mail.body += (debit_note ? "Debit note " : "Invoice ") + (number.empty() ? std::string("") : number + " ");
	mail.body += "has been issued to " + Get(c, "customer_name", "you");
	if (Has(c, "issue_date"))
		mail.body += " on " + Get(c, "issue_date");
	mail.body += ".\n";
	if (debit_note && Has(c, "original_invoice_number"))
		mail.body += "It adds to invoice " + Get(c, "original_invoice_number") + ".\n";
	mail.body += "\n";
	if (!total.empty())
		mail.body += "  Amount due: " + total + "\n";
	if (!due.empty())
		mail.body += "  Due date:   " + due + "\n";
	mail.body += "\nPlease pay by the due date.\n" + SignInLine(o);
	mail.body += Signature(o);
	return mail;
}

std::optional<MailText>
CreditNoteIssued(const json& c, const TemplateOptions& o)
{
	const std::string number = Get(c, "invoice_number");
	const std::string total = Money(c, "total");
	MailText mail;
	mail.subject =
		"Credit note" + (number.empty() ? std::string() : " " + number) + (total.empty() ? "" : " for " + total);
	mail.body = Greeting(c) + "A credit note " + (number.empty() ? std::string() : number + " ") + "has been issued";
	if (Has(c, "original_invoice_number"))
		mail.body += " against invoice " + Get(c, "original_invoice_number");
	mail.body += ".\n\n";
	if (!total.empty())
		mail.body += "  Amount credited: " + total + "\n\n";
	mail.body += "The amount reduces what you owe on that invoice; anything left stays on your account as credit.\n";
	mail.body += SignInLine(o) + Signature(o);
	return mail;
}

std::optional<MailText>
PaymentCaptured(const json& c, const TemplateOptions& o)
{
	const std::string amount = Money(c, "amount");
	MailText mail;
	mail.subject = "Payment received" + (amount.empty() ? std::string() : ": " + amount);
	mail.body = Greeting(c) + "We have received your payment" + (amount.empty() ? "" : " of " + amount);
	if (Has(c, "invoice_number"))
		mail.body += " towards invoice " + Get(c, "invoice_number");
	mail.body += ". This e-mail is your receipt.\n\n";
	if (Has(c, "payment_number"))
		mail.body += "  Receipt number: " + Get(c, "payment_number") + "\n";
	if (!amount.empty())
		mail.body += "  Amount:         " + amount + "\n";
	if (Has(c, "occurred_at"))
		mail.body += "  Received:       " + Get(c, "occurred_at") + "\n";
	mail.body += "\n" + SignInLine(o) + Signature(o);
	return mail;
}

std::optional<MailText>
PaymentFailed(const json& c, const TemplateOptions& o)
{
	const std::string amount = Money(c, "amount");
	MailText mail;
	mail.subject = "Your payment" + (amount.empty() ? std::string() : " of " + amount) + " did not go through";
	mail.body = Greeting(c) + "Your payment" + (amount.empty() ? "" : " of " + amount);
	if (Has(c, "invoice_number"))
		mail.body += " towards invoice " + Get(c, "invoice_number");
	mail.body += " could not be completed";
	if (Has(c, "failure_reason"))
		mail.body += ": " + Get(c, "failure_reason");
	mail.body += ".\nNo money has been taken.\n\n";
	if (Has(c, "next_retry_at"))
		mail.body += "We will try again on " + Get(c, "next_retry_at") + ". You can also pay now.\n";
	else
		mail.body += "Please pay again.\n";
	mail.body += SignInLine(o) + Signature(o);
	return mail;
}

// payment.retry_due for a customer without a saved method: the invoice is still owed, please pay it.
std::optional<MailText>
PaymentDue(const json& c, const TemplateOptions& o)
{
	const std::string outstanding = Money(c, "outstanding");
	MailText mail;
	mail.subject = Has(c, "invoice_number") ? "Payment due for invoice " + Get(c, "invoice_number") : "Payment due";
	mail.body = Greeting(c) + "Your last payment";
	if (Has(c, "invoice_number"))
		mail.body += " towards invoice " + Get(c, "invoice_number");
	mail.body += " did not go through, and " + (outstanding.empty() ? std::string("the amount") : outstanding) +
	             " is still due";
	if (Has(c, "due_date"))
		mail.body += " (due on " + Get(c, "due_date") + ")";
	mail.body += ".\nPlease pay it";
	if (Has(c, "invoice_id"))
		mail.body += ": " + o.app_base_url + "/invoices/" + PercentEncode(Get(c, "invoice_id")) + "/pay";
	mail.body += "\nA card saved as your default payment method is charged automatically next time.\n\n" +
	             SignInLine(o) + Signature(o);
	return mail;
}

std::optional<MailText>
RefundProcessed(const json& c, const TemplateOptions& o)
{
	const std::string amount = Money(c, "amount");
	MailText mail;
	mail.subject = "Refund" + (amount.empty() ? std::string() : " of " + amount) + " processed";
	mail.body = Greeting(c) + "We have refunded " + (amount.empty() ? std::string("your payment") : amount);
	if (Has(c, "payment_number"))
		mail.body += " of payment " + Get(c, "payment_number");
	mail.body += ". It reaches your account in 5 to 7 working days, depending on your bank.\n";
	if (Has(c, "credit_note_number"))
		mail.body += "Credit note " + Get(c, "credit_note_number") + " records it.\n";
	mail.body += "\n" + SignInLine(o) + Signature(o);
	return mail;
}

std::optional<MailText>
Balance(const json& c, const TemplateOptions& o, bool critical)
{
	const std::string account = Get(c, "account_number");
	const std::string balance = Money(c, "balance");
	const std::string threshold = Money(c, "threshold");
	MailText mail;
	mail.subject = std::string(critical ? "Critical balance" : "Low balance") +
	               (account.empty() ? "" : " on account " + account) + (balance.empty() ? "" : ": " + balance);
	mail.body =
		Greeting(c) + "The balance of " + (account.empty() ? std::string("your account") : "account " + account);
	if (!balance.empty())
		mail.body += " is " + balance;
	if (!threshold.empty())
		mail.body += ", below " + threshold;
	mail.body += ".\n\n";
	mail.body += critical ? "Calls stop when the balance runs out. Please top up now.\n"
	                      : "Please top up to keep your calls running.\n";
	mail.body += SignInLine(o) + Signature(o);
	return mail;
}

std::optional<MailText>
Dunning(const json& c, const TemplateOptions& o, bool overdue)
{
	const std::string number = Get(c, "invoice_number");
	const std::string outstanding = Money(c, "outstanding");
	const std::string due = Get(c, "due_date");
	MailText mail;
	if (overdue) {
		mail.subject = "Overdue: invoice" + (number.empty() ? std::string() : " " + number) +
		               (outstanding.empty() ? "" : ", " + outstanding + " unpaid");
	} else {
		mail.subject = "Reminder: invoice" + (number.empty() ? std::string() : " " + number) + " is due" +
		               (due.empty() ? "" : " on " + due);
	}
	mail.body = Greeting(c) + (number.empty() ? std::string("Your invoice") : "Invoice " + number);
	if (overdue)
		mail.body += due.empty() ? std::string(" is overdue") : " was due on " + due + " and is now overdue";
	else
		mail.body += due.empty() ? std::string(" is due soon") : " is due on " + due;
	mail.body += ".\n\n";
	if (!outstanding.empty())
		mail.body += "  Outstanding: " + outstanding + "\n\n";
	mail.body += overdue ? "Please pay now: services may be suspended while an invoice stays unpaid.\n"
	                     : "Please pay by the due date. If you have paid already, thank you: ignore this e-mail.\n";
	mail.body += SignInLine(o) + Signature(o);
	return mail;
}

std::optional<MailText>
TokenMail(const json& c, const TemplateOptions& o, bool reset)
{
	const std::string token = Get(c, "token");
	if (token.empty())
		return std::nullopt;
	const std::string link =
		o.app_base_url + (reset ? "/reset-password?token=" : "/verify-email?token=") + PercentEncode(token);
	MailText mail;
	mail.subject = reset ? "Reset your password" : "Verify your e-mail address";
	mail.body = "Hello " + Get(c, "first_name", "there") + ",\n\n";
	if (reset)
		mail.body += "Someone asked to reset the password of your account. To choose a new one, open:\n\n";
	else
		mail.body += "Please confirm that this is your e-mail address by opening:\n\n";
	mail.body += link + "\n\n";
	if (Has(c, "expires_at"))
		mail.body += "The link works once and expires on " + Get(c, "expires_at") + ".\n";
	else
		mail.body += "The link works once.\n";
	mail.body += reset ? "If you did not ask for this, ignore this e-mail: your password stays as it is.\n"
	                   : "If you did not create an account, ignore this e-mail.\n";
	mail.body += Signature(o);
	return mail;
}

} // namespace

std::string
FormatAmount(std::string_view decimal, std::string_view currency, bool ascii)
{
	std::string_view text = decimal;
	const bool negative = !text.empty() && text.front() == '-';
	if (negative)
		text.remove_prefix(1);
	const auto dot = text.find('.');
	std::string_view integer = text.substr(0, dot);
	std::string_view fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
	const auto all_digits = [](std::string_view s) {
		return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
	};
	if (integer.empty() || !all_digits(integer) || !all_digits(fraction) ||
	    (dot != std::string_view::npos && fraction.empty()))
		return std::string(decimal);
	while (integer.size() > 1 && integer.front() == '0')
		integer.remove_prefix(1);
	while (fraction.size() > 2 && fraction.back() == '0')
		fraction.remove_suffix(1);
	std::string cents(fraction);
	while (cents.size() < 2)
		cents += '0';
	const bool inr = currency == "INR";
	std::string out = negative ? "-" : "";
	if (inr && !ascii)
		out += "\u20b9"; // ₹
	else
		out += std::string(currency) + " ";
	out += GroupDigits(integer, inr) + "." + cents;
	return out;
}

std::optional<MailText>
RenderEmail(std::string_view event_type, const json& context, const TemplateOptions& options)
{
	if (event_type == "invoice.issued")
		return InvoiceIssued(context, options, false);
	if (event_type == "debit_note.issued")
		return InvoiceIssued(context, options, true);
	if (event_type == "credit_note.issued")
		return CreditNoteIssued(context, options);
	if (event_type == "payment.captured")
		return PaymentCaptured(context, options);
	if (event_type == "payment.failed")
		return PaymentFailed(context, options);
	if (event_type == "refund.processed")
		return RefundProcessed(context, options);
	if (event_type == "payment.retry_due")
		return PaymentDue(context, options);
	if (event_type == "balance.low")
		return Balance(context, options, false);
	if (event_type == "balance.critical")
		return Balance(context, options, true);
	if (event_type == "invoice.payment_reminder")
		return Dunning(context, options, false);
	if (event_type == "invoice.overdue")
		return Dunning(context, options, true);
	if (event_type == "user.email_verification_requested")
		return TokenMail(context, options, false);
	if (event_type == "user.password_reset_requested")
		return TokenMail(context, options, true);
	return std::nullopt;
}

std::optional<std::string>
RenderSms(std::string_view event_type, const json& c, const TemplateOptions& options)
{
	const std::string brand = SmsBrand(options);
	if (event_type == "balance.low" || event_type == "balance.critical") {
		const bool critical = event_type == "balance.critical";
		std::string text = brand + ": " + (critical ? "CRITICAL balance " : "low balance ") +
		                   Money(c, "balance", true) + " on account " + Get(c, "account_number", "?") + ".";
		text += critical ? " Calls stop when it runs out. Top up now." : " Please top up to keep calls running.";
		return FitSms(std::move(text));
	}
	if (event_type == "invoice.overdue") {
		std::string text = brand + ": invoice " + Get(c, "invoice_number", "?");
		if (Has(c, "outstanding"))
			text += " (" + Money(c, "outstanding", true) + ")";
		text += Has(c, "due_date") ? " was due on " + Get(c, "due_date") + " and is overdue." : " is overdue.";
		text += " Please pay to avoid suspension.";
		return FitSms(std::move(text));
	}
	if (event_type == "payment.captured") {
		std::string text =
			brand + ": payment" + (Has(c, "amount") ? " of " + Money(c, "amount", true) : "") + " received";
		if (Has(c, "payment_number"))
			text += ", receipt " + Get(c, "payment_number");
		text += ". Thank you.";
		return FitSms(std::move(text));
	}
	return std::nullopt;
}

} // namespace balatrix::sidecar::outbox
