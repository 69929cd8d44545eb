// The outbox's notifications without a network: the texts (outbox/templates), the RFC 5322 builder
// (clients/smtp_client: header injection refused, RFC 2047 subjects, Message-ID, CRLF, quoted-printable), the
// webhook signature (checked with the Stripe-style verifier of payments/signatures.hpp), and the Notifier over a
// scripted HttpTransport and a recording MailSender. Expected values are written out by hand (or, for base64 and
// HMAC, computed with Python's standard library) — never by the code under test.
#include "clients/http_transport.hpp"
#include "clients/smtp_client.hpp"
#include "crypto/encoding.hpp"
#include "outbox/consumer.hpp"
#include "outbox/notifier.hpp"
#include "outbox/templates.hpp"
#include "payments/signatures.hpp"

#include <unistd.h>

#include <chrono>
#include <deque>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fake_clock.hpp"

namespace balatrix::sidecar::outbox {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// 2026-11-24 13:30:00 UTC (Python: calendar.timegm((2026, 11, 24, 13, 30, 0))).
constexpr long long kNow = 1795527000;

// ---- amounts ------------------------------------------------------------------------------------------------------

struct AmountCase {
	const char* decimal;
	const char* currency;
	bool ascii;
	const char* expected;
};

TEST(OutboxTemplates, FormatsAmountsFromTheirDecimalText)
{
	const AmountCase cases[] = {
		{"1179.82", "INR", false, "\u20b91,179.82"},
		{"85.5000", "INR", false, "\u20b985.50"},          // numeric(20,4) balance: trailing zeros past 2 dropped
		{"85.4567", "INR", false, "\u20b985.4567"},        // never rounded away
		{"1234567.5", "INR", false, "\u20b912,34,567.50"}, // Indian grouping
		{"12345678901", "INR", false, "\u20b912,34,56,78,901.00"},
		{"100", "INR", false, "\u20b9100.00"},
		{"0.1", "INR", false, "\u20b90.10"},
		{"007.00", "INR", false, "\u20b97.00"},
		{"-12.3", "INR", false, "-\u20b912.30"},
		{"999", "INR", false, "\u20b9999.00"},
		{"1000", "INR", false, "\u20b91,000.00"},
		{"1234567.5", "USD", false, "USD 1,234,567.50"}, // thousands for other currencies
		{"123", "INR", true, "INR 123.00"},
		{"100000", "INR", true, "INR 1,00,000.00"},
		// 17 significant digits: a double would print ...999.98 or ...000.00; the text cannot drift.
		{"99999999999999.99", "INR", false, "\u20b99,99,99,99,99,99,999.99"},
		// Not a plain decimal: shown as it came.
		{"abc", "INR", false, "abc"},
		{"1e5", "INR", false, "1e5"},
		{"1.", "INR", false, "1."},
		{"", "INR", false, ""},
		{"1.2.3", "INR", false, "1.2.3"},
	};
	for (const auto& c : cases)
		EXPECT_EQ(FormatAmount(c.decimal, c.currency, c.ascii), c.expected) << c.decimal << " " << c.currency;
}

// ---- e-mail texts -------------------------------------------------------------------------------------------------

TemplateOptions
Options()
{
	TemplateOptions options;
	options.app_base_url = "https://portal.example.in";
	options.brand = "Acme Telecom";
	return options;
}

TEST(OutboxTemplates, InvoiceIssued)
{
	const json context{{"first_name", "Asha"},
	                   {"customer_name", "Asha Traders"},
	                   {"invoice_number", "INV/2026/000042"},
	                   {"total", "1179.82"},
	                   {"currency", "INR"},
	                   {"issue_date", "30 Nov 2026"},
	                   {"due_date", "15 Dec 2026"}};
	const auto mail = RenderEmail("invoice.issued", context, Options());
	ASSERT_TRUE(mail);
	EXPECT_EQ(mail->subject, "Invoice INV/2026/000042 for \u20b91,179.82, due 15 Dec 2026");
	EXPECT_EQ(mail->body, "Dear Asha,\n\n"
	                      "Invoice INV/2026/000042 has been issued to Asha Traders on 30 Nov 2026.\n\n"
	                      "  Amount due: \u20b91,179.82\n"
	                      "  Due date:   15 Dec 2026\n\n"
	                      "Please pay by the due date.\n"
	                      "Sign in at https://portal.example.in to see your account.\n\n"
	                      "Thank you,\nAcme Telecom\n");
}

TEST(OutboxTemplates, PaymentReceiptAndBalances)
{
	const json paid{{"first_name", "Asha"},
	                {"amount", "500.00"},
	                {"payment_number", "P0000000012"},
	                {"invoice_number", "INV/2026/000042"},
	                {"occurred_at", "24 Nov 2026, 19:00 IST"}};
	const auto receipt = RenderEmail("payment.captured", paid, Options());
	ASSERT_TRUE(receipt);
	EXPECT_EQ(receipt->subject, "Payment received: \u20b9500.00");
	EXPECT_NE(receipt->body.find("We have received your payment of \u20b9500.00 towards invoice INV/2026/000042. "
	                             "This e-mail is your receipt."),
	          std::string::npos)
		<< receipt->body;
	EXPECT_NE(receipt->body.find("  Receipt number: P0000000012\n"), std::string::npos);

	const json low{{"account_number", "ACC1"}, {"balance", "85.5000"}, {"threshold", "100.0000"}, {"currency", "INR"}};
	const auto warning = RenderEmail("balance.low", low, Options());
	ASSERT_TRUE(warning);
	EXPECT_EQ(warning->subject, "Low balance on account ACC1: \u20b985.50");
	EXPECT_NE(warning->body.find("The balance of account ACC1 is \u20b985.50, below \u20b9100.00.\n"),
	          std::string::npos)
		<< warning->body;
	const auto critical = RenderEmail("balance.critical", low, Options());
	ASSERT_TRUE(critical);
	EXPECT_EQ(critical->subject, "Critical balance on account ACC1: \u20b985.50");

	const json overdue{{"invoice_number", "INV/2026/000007"}, {"outstanding", "2000"}, {"due_date", "01 Nov 2026"}};
	const auto dunning = RenderEmail("invoice.overdue", overdue, Options());
	ASSERT_TRUE(dunning);
	EXPECT_EQ(dunning->subject, "Overdue: invoice INV/2026/000007, \u20b92,000.00 unpaid");
	const auto reminder = RenderEmail("invoice.payment_reminder", overdue, Options());
	ASSERT_TRUE(reminder);
	EXPECT_EQ(reminder->subject, "Reminder: invoice INV/2026/000007 is due on 01 Nov 2026");
}

TEST(OutboxTemplates, PasswordResetAndVerificationCarryTheTokenLink)
{
	const json context{{"first_name", "Ravi"}, {"token", "a+b/c=_-9"}, {"expires_at", "24 Nov 2026, 20:00 IST"}};
	const auto reset = RenderEmail("user.password_reset_requested", context, Options());
	ASSERT_TRUE(reset);
	EXPECT_EQ(reset->subject, "Reset your password");
	EXPECT_NE(reset->body.find("\nhttps://portal.example.in/reset-password?token=a%2Bb%2Fc%3D_-9\n"), std::string::npos)
		<< reset->body;
	EXPECT_NE(reset->body.find("expires on 24 Nov 2026, 20:00 IST"), std::string::npos);
	const auto verify = RenderEmail("user.email_verification_requested", context, Options());
	ASSERT_TRUE(verify);
	EXPECT_EQ(verify->subject, "Verify your e-mail address");
	EXPECT_NE(verify->body.find("\nhttps://portal.example.in/verify-email?token=a%2Bb%2Fc%3D_-9\n"), std::string::npos);
	// Without its token the e-mail is pointless: refused, not sent with a dead link.
	EXPECT_FALSE(RenderEmail("user.password_reset_requested", json{{"first_name", "Ravi"}}, Options()));
	EXPECT_FALSE(RenderEmail("user.email_verification_requested", json{{"token", 42}}, Options()));
}

TEST(OutboxTemplates, PaymentDueAsksToPayWithTheInvoiceLink)
{
	const json context{{"first_name", "Ravi"}, {"invoice_number", "INV/2627/000002"}, {"outstanding", "1180.00"},
	                   {"currency", "INR"}, {"due_date", "09 Dec 2026"}, {"invoice_id", "0b5e6f1c-7e2d-4c1a-9f3e-2a4b6c8d0e1f"}};
	const auto mail = RenderEmail("payment.retry_due", context, Options());
	ASSERT_TRUE(mail);
	EXPECT_EQ(mail->subject, "Payment due for invoice INV/2627/000002");
	EXPECT_NE(mail->body.find("\u20b91,180.00 is still due (due on 09 Dec 2026)"), std::string::npos) << mail->body;
	EXPECT_NE(mail->body.find("https://portal.example.in/invoices/0b5e6f1c-7e2d-4c1a-9f3e-2a4b6c8d0e1f/pay\n"),
	          std::string::npos)
		<< mail->body;
}

TEST(OutboxTemplates, EveryTypeRendersFromAnEmptyOrOddContext)
{
	const char* types[] = {"invoice.issued",  "debit_note.issued",       "credit_note.issued", "payment.captured",
	                       "payment.failed",  "refund.processed",        "balance.low",        "balance.critical",
	                       "invoice.overdue", "invoice.payment_reminder", "payment.retry_due"};
	for (const json& context : {json::object(), json{{"total", 12}, {"amount", nullptr}, {"currency", json::array()}},
	                            json("not an object")}) {
		for (const char* type : types) {
			const auto mail = RenderEmail(type, context, Options());
			ASSERT_TRUE(mail) << type;
			EXPECT_FALSE(mail->subject.empty()) << type;
			EXPECT_NE(mail->body.find("Acme Telecom"), std::string::npos) << type;
		}
	}
	EXPECT_FALSE(RenderEmail("subscription.created", json::object(), Options()));
	EXPECT_FALSE(RenderEmail("", json::object(), Options()));
}

TEST(OutboxTemplates, SmsTextsArePlainAsciiAndAtMost160)
{
	const json low{{"account_number", "ACC1"}, {"balance", "85.5000"}, {"currency", "INR"}};
	EXPECT_EQ(RenderSms("balance.low", low, Options()),
	          std::optional<std::string>("Acme Telecom: low balance INR 85.50 on account ACC1. Please top up to keep "
	                                     "calls running."));
	EXPECT_EQ(
		RenderSms("payment.captured", json{{"amount", "500"}, {"payment_number", "P0000000012"}}, Options()),
		std::optional<std::string>("Acme Telecom: payment of INR 500.00 received, receipt P0000000012. Thank you."));
	EXPECT_FALSE(RenderSms("invoice.issued", low, Options()));

	TemplateOptions odd = Options();
	odd.brand = "T\u00e9l\u00e9com \u20b9 Unlimited Wireless Services of India";
	const json long_values{{"account_number", std::string(64, 'A')},
	                       {"balance", "123456789012.1234"},
	                       {"invoice_number", "INV/2026/0000001"},
	                       {"outstanding", "99999999999999.99"},
	                       {"due_date", "01 Nov 2026"},
	                       {"amount", "99999999999999.99"},
	                       {"payment_number", std::string(40, 'P')}};
	for (const char* type : {"balance.low", "balance.critical", "invoice.overdue", "payment.captured"}) {
		const auto sms = RenderSms(type, long_values, odd);
		ASSERT_TRUE(sms) << type;
		EXPECT_LE(sms->size(), kMaxSmsLength) << type << ": " << *sms;
		for (const char c : *sms)
			EXPECT_TRUE(c >= 0x20 && c < 0x7f) << type << ": " << *sms;
	}
	const auto cut = RenderSms("balance.low", long_values, odd);
	EXPECT_EQ(cut->size(), 160u);
	EXPECT_EQ(cut->substr(157), "...");
	EXPECT_EQ(cut->substr(0, 20), "T?l?com ? Unlimited ");
}

// ---- the RFC 5322 message -----------------------------------------------------------------------------------------

clients::MailMessage
Message()
{
	clients::MailMessage message;
	message.from = clients::Mailbox{"Acme Telecom", "billing@acme.example"};
	message.to = "asha@example.com";
	message.subject = "Payment received";
	message.body = "Dear Asha,\n\nThanks.\n";
	message.message_id = "3f1c2b9e-0000-4000-8000-000000000001";
	message.date = std::chrono::system_clock::time_point(std::chrono::seconds(kNow));
	return message;
}

std::string
Build(const clients::MailMessage& message)
{
	auto built = clients::BuildMailMessage(message);
	const auto* mail = std::get_if<clients::BuiltMail>(&built);
	if (mail == nullptr)
		ADD_FAILURE() << std::get<clients::MailBuildError>(built).message;
	return mail == nullptr ? std::string() : mail->data;
}

bool
Refused(const clients::MailMessage& message)
{
	return std::holds_alternative<clients::MailBuildError>(clients::BuildMailMessage(message));
}

TEST(SmtpMessage, AsciiMessageByteForByte)
{
	EXPECT_EQ(Build(Message()), "From: Acme Telecom <billing@acme.example>\r\n"
	                            "To: asha@example.com\r\n"
	                            "Subject: Payment received\r\n"
	                            "Date: Tue, 24 Nov 2026 13:30:00 +0000\r\n"
	                            "Message-ID: <3f1c2b9e-0000-4000-8000-000000000001@balatrix>\r\n"
	                            "MIME-Version: 1.0\r\n"
	                            "Content-Type: text/plain; charset=utf-8\r\n"
	                            "Content-Transfer-Encoding: 7bit\r\n"
	                            "\r\n"
	                            "Dear Asha,\r\n"
	                            "\r\n"
	                            "Thanks.\r\n");
}

TEST(SmtpMessage, NonAsciiSubjectIsAnEncodedWord)
{
	auto message = Message();
	message.subject = "Payment received: \u20b985.50";
	// Python: base64.b64encode('Payment received: ₹85.50'.encode()).
	EXPECT_NE(Build(message).find("\r\nSubject: =?UTF-8?B?UGF5bWVudCByZWNlaXZlZDog4oK5ODUuNTA=?=\r\n"),
	          std::string::npos);
}

TEST(SmtpMessage, LongSubjectsFoldIntoWordsThatNeverSplitACharacter)
{
	std::string subject;
	for (int i = 0; i < 40; ++i)
		subject += "\u20b9\u00e9a"; // 3 + 2 + 1 bytes
	const std::string encoded = clients::EncodeHeaderText(subject);
	std::string decoded;
	std::size_t words = 0;
	std::size_t start = 0;
	while (start < encoded.size()) {
		auto end = encoded.find("\r\n ", start);
		if (end == std::string::npos)
			end = encoded.size();
		const std::string word = encoded.substr(start, end - start);
		start = end + 3;
		++words;
		ASSERT_LE(word.size(), 75u) << word;
		ASSERT_EQ(word.rfind("=?UTF-8?B?", 0), 0u) << word;
		ASSERT_EQ(word.substr(word.size() - 2), "?=") << word;
		std::string b64 = word.substr(10, word.size() - 12);
		// Standard base64 -> base64url without padding, decoded by crypto (independent of the encoder's direction).
		for (char& c : b64)
			c = c == '+' ? '-' : c == '/' ? '_' : c;
		while (!b64.empty() && b64.back() == '=')
			b64.pop_back();
		const auto bytes = crypto::Base64UrlDecode(b64);
		ASSERT_TRUE(bytes) << word;
		const std::string piece(bytes->begin(), bytes->end());
		// Each word on its own is whole characters: it starts with a lead byte and ends complete.
		ASSERT_FALSE(piece.empty());
		EXPECT_NE(static_cast<unsigned char>(piece.front()) & 0xc0, 0x80u) << word;
		decoded += piece;
	}
	EXPECT_GT(words, 1u);
	EXPECT_EQ(decoded, subject);
}

TEST(SmtpMessage, HeaderInjectionIsRefused)
{
	auto message = Message();
	message.subject = "Hello\r\nBcc: victim@example.com";
	EXPECT_TRUE(Refused(message));
	message = Message();
	message.subject = "Hello\nBcc: victim@example.com";
	EXPECT_TRUE(Refused(message));
	message = Message();
	message.subject = std::string("Hello\0there", 11);
	EXPECT_TRUE(Refused(message));
	message = Message();
	message.to = "asha@example.com\r\nBcc: victim@example.com";
	EXPECT_TRUE(Refused(message));
	message = Message();
	message.to = "asha@example.com>, <victim@example.com";
	EXPECT_TRUE(Refused(message));
	message = Message();
	message.from.display_name = "Acme\r\nBcc: victim@example.com";
	EXPECT_TRUE(Refused(message));
	message = Message();
	message.from.display_name = "Acme\" <x@y.z>";
	EXPECT_TRUE(Refused(message));
	message = Message();
	message.message_id = "abc>\r\nBcc: victim@example.com";
	EXPECT_TRUE(Refused(message));
	message = Message();
	message.message_id = "abc@def";
	EXPECT_TRUE(Refused(message));
	message = Message();
	message.subject = std::string(901, 'x');
	EXPECT_TRUE(Refused(message));
	message = Message();
	message.subject = "\xff\xfe";
	EXPECT_TRUE(Refused(message)); // not UTF-8
	// The body may hold anything textual: its lines become CRLF lines, never headers.
	message = Message();
	message.body = "Bcc: victim@example.com\r\n\r\nhello";
	const std::string data = Build(message);
	EXPECT_EQ(data.find("\r\nBcc:"), data.find("\r\n\r\n") + 2) << data; // first line of the body, after the blank line
}

TEST(SmtpMessage, EveryLineEndsInCrlf)
{
	auto message = Message();
	message.body = "one\ntwo\r\nthree\n\nfour";
	const std::string data = Build(message);
	for (std::size_t i = 0; i < data.size(); ++i) {
		if (data[i] == '\n') {
			ASSERT_TRUE(i > 0 && data[i - 1] == '\r') << "bare LF at " << i;
		}
		if (data[i] == '\r') {
			ASSERT_TRUE(i + 1 < data.size() && data[i + 1] == '\n') << "bare CR at " << i;
		}
	}
	EXPECT_EQ(data.substr(data.find("\r\n\r\n") + 4), "one\r\ntwo\r\nthree\r\n\r\nfour\r\n");
}

// A small quoted-printable decoder, for checking the encoder (RFC 2045 §6.7).
std::string
DecodeQuotedPrintable(const std::string& text)
{
	std::string out;
	for (std::size_t i = 0; i < text.size(); ++i) {
		if (text[i] == '=' && i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
			i += 2; // soft line break
		} else if (text[i] == '=' && i + 2 < text.size()) {
			out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
			i += 2;
		} else {
			out += text[i];
		}
	}
	return out;
}

TEST(SmtpMessage, NonAsciiBodiesAreQuotedPrintable)
{
	auto message = Message();
	message.body = "Outstanding: \u20b912,34,567.50\n" + std::string(200, 'x') + "=\nlast line ends in a space \n";
	const std::string data = Build(message);
	EXPECT_NE(data.find("Content-Transfer-Encoding: quoted-printable\r\n"), std::string::npos);
	const std::string body = data.substr(data.find("\r\n\r\n") + 4);
	EXPECT_EQ(body.rfind("Outstanding: =E2=82=B912,34,567.50\r\n", 0), 0u) << body;
	std::size_t start = 0;
	while (start < body.size()) {
		const auto end = body.find("\r\n", start);
		ASSERT_NE(end, std::string::npos);
		EXPECT_LE(end - start, 76u) << body.substr(start, end - start);
		start = end + 2;
	}
	EXPECT_NE(body.find("a space=20\r\n"), std::string::npos) << body;
	std::string expected =
		"Outstanding: \u20b912,34,567.50\r\n" + std::string(200, 'x') + "=\r\nlast line ends in a space \r\n";
	EXPECT_EQ(DecodeQuotedPrintable(body), expected);
}

TEST(SmtpMessage, MailboxesAreParsedConservatively)
{
	auto box = clients::ParseMailbox("Balatrix <billing@localhost>");
	ASSERT_TRUE(box);
	EXPECT_EQ(box->display_name, "Balatrix");
	EXPECT_EQ(box->address, "billing@localhost");
	box = clients::ParseMailbox("  billing@example.in ");
	ASSERT_TRUE(box);
	EXPECT_EQ(box->display_name, "");
	EXPECT_EQ(box->address, "billing@example.in");
	box = clients::ParseMailbox("\"Acme, Inc.\" <a.b+c@mail.example.co.in>");
	ASSERT_TRUE(box);
	EXPECT_EQ(box->display_name, "Acme, Inc.");
	auto message = Message();
	message.from = *box;
	EXPECT_EQ(Build(message).rfind("From: \"Acme, Inc.\" <a.b+c@mail.example.co.in>\r\n", 0), 0u);
	message.from.display_name = "T\u00e9l\u00e9com";
	EXPECT_EQ(Build(message).rfind("From: =?UTF-8?B?VMOpbMOpY29t?= <a.b+c@mail.example.co.in>\r\n", 0), 0u);

	for (const char* bad :
	     {"", "billing", "a@b", "a b@c.in", "a@b..in", ".a@b.in", "a..b@c.in", "a@-b.in", "x <a@b.in> y", "<a@b.in",
	      "a@b.in>", "\"x\"y\" <a@b.in>", "<a@b.in>\r\nBcc: c@d.in", "a\"b@c.in", "a@b.in, c@d.in", "a@[127.0.0.1]"})
		EXPECT_FALSE(clients::ParseMailbox(bad)) << bad;
	EXPECT_FALSE(clients::IsValidMailAddress(std::string(65, 'a') + "@b.in"));
	EXPECT_TRUE(clients::IsValidMailAddress(std::string(64, 'a') + "@b.in"));
}

TEST(SmtpMessage, DateIsRfc5322InUtc)
{
	EXPECT_EQ(clients::FormatMailDate(std::chrono::system_clock::time_point(std::chrono::seconds(kNow))),
	          "Tue, 24 Nov 2026 13:30:00 +0000");
	EXPECT_EQ(clients::FormatMailDate(std::chrono::system_clock::time_point(std::chrono::seconds(0))),
	          "Thu, 01 Jan 1970 00:00:00 +0000");
}

// ---- webhook signatures -------------------------------------------------------------------------------------------

TEST(WebhookSignature, IsTheStripeSchemeAndVerifies)
{
	const std::string body = R"({"id": "evt_42"})";
	const std::string header = WebhookSignatureHeader(kNow, body, "whsec_test_secret");
	// Python: hmac.new(b'whsec_test_secret', b'1795527000.{"id": "evt_42"}', hashlib.sha256).hexdigest().
	EXPECT_EQ(header, "t=1795527000,v1=966d6e29a096d59c2e96630ce95f3567d1c00d2cb09816c1853d9e234cbb3fc0");
	const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(kNow + 10));
	EXPECT_EQ(payments::VerifyStripeWebhook(header, body, "whsec_test_secret", now),
	          payments::StripeSignatureResult::kOk);
	EXPECT_EQ(payments::VerifyStripeWebhook(header, body, "whsec_another_secret", now),
	          payments::StripeSignatureResult::kBadSignature);
	EXPECT_EQ(payments::VerifyStripeWebhook(header, R"({"id": "evt_43"})", "whsec_test_secret", now),
	          payments::StripeSignatureResult::kBadSignature);
}

// ---- the notifier -------------------------------------------------------------------------------------------------

class ScriptedTransport final : public clients::HttpTransport {
public:
	explicit ScriptedTransport(std::vector<clients::HttpResponse> script) : script_(script.begin(), script.end()) {}

	clients::HttpResponse
	Send(const clients::HttpRequest& request) override
	{
		requests.push_back(request);
		auto response = script_.front();
		if (script_.size() > 1)
			script_.pop_front();
		return response;
	}

	std::vector<clients::HttpRequest> requests;

private:
	std::deque<clients::HttpResponse> script_;
};

clients::HttpResponse
Status(long status)
{
	clients::HttpResponse response;
	response.status = status;
	response.body = "{}";
	return response;
}

clients::HttpResponse
TransportFailed(clients::TransportFailure failure)
{
	clients::HttpResponse response;
	response.failure = failure;
	response.error = "Operation timed out after 10000 milliseconds";
	return response;
}

class RecordingMail final : public clients::MailSender {
public:
	clients::SendMailResult
	Send(const std::string& envelope_from, const std::string& recipient, const std::string& data) override
	{
		sent.push_back({envelope_from, recipient, data});
		return result;
	}

	struct Sent {
		std::string from, to, data;
	};
	std::vector<Sent> sent;
	clients::SendMailResult result{true, "", 250};
};

std::string
Header(const clients::HttpRequest& request, const std::string& name)
{
	std::string value;
	int count = 0;
	for (const auto& [key, v] : request.headers) {
		if (key == name) {
			value = v;
			++count;
		}
	}
	return count == 1 ? value : (count == 0 ? "" : "<repeated>");
}

NotifierOptions
NotifierSettings()
{
	NotifierOptions options;
	options.from = clients::Mailbox{"Acme Telecom", "billing@acme.example"};
	options.templates = Options();
	options.sms_gateway_url = "https://sms.example.in/v1/send";
	options.sms_gateway_token = "sms-token-SECRET";
	options.webhook_timeout = milliseconds(2500);
	return options;
}

Delivery
WebhookDelivery()
{
	Delivery delivery;
	delivery.notification_id = "0c8f3a52-1111-4111-8111-000000000002";
	delivery.channel = "webhook";
	delivery.recipient = "https://hooks.customer.example/balatrix?k=1";
	delivery.event_type = "invoice.issued";
	delivery.event_id = 42;
	delivery.secret = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	// Exact decimals and the database's spacing: must go out byte for byte.
	delivery.envelope =
		R"({"id": "evt_42", "data": {"total": 1179.80, "invoice_number": "INV/2026/000042"}, "type": "invoice.issued", "created": 1795527000})";
	return delivery;
}

TEST(Notifier, WebhookIsSignedAndSentByteForByte)
{
	ScriptedTransport http({Status(204)});
	testing::FakeClock clock(kNow);
	Notifier notifier(nullptr, http, clock, NotifierSettings());
	const auto delivery = WebhookDelivery();
	const auto outcome = notifier.Deliver(delivery);
	EXPECT_TRUE(outcome.delivered) << outcome.error;
	ASSERT_EQ(http.requests.size(), 1u);
	const auto& request = http.requests[0];
	EXPECT_EQ(request.method, "POST");
	EXPECT_EQ(request.url, "https://hooks.customer.example/balatrix?k=1");
	EXPECT_EQ(request.body, delivery.envelope);
	EXPECT_EQ(request.timeout, milliseconds(2500));
	EXPECT_EQ(Header(request, "Content-Type"), "application/json");
	EXPECT_EQ(Header(request, "Balatrix-Event-Id"), "evt_42");
	EXPECT_EQ(Header(request, "Balatrix-Event-Type"), "invoice.issued");
	EXPECT_EQ(Header(request, "User-Agent"), "balatrix-webhooks/1");
	const std::string signature = Header(request, "Balatrix-Signature");
	EXPECT_EQ(signature.rfind("t=1795527000,v1=", 0), 0u) << signature;
	EXPECT_EQ(payments::VerifyStripeWebhook(signature, request.body, delivery.secret,
	                                        std::chrono::system_clock::time_point(std::chrono::seconds(kNow))),
	          payments::StripeSignatureResult::kOk);
	EXPECT_EQ(payments::VerifyStripeWebhook(signature, request.body, "whsec_other",
	                                        std::chrono::system_clock::time_point(std::chrono::seconds(kNow))),
	          payments::StripeSignatureResult::kBadSignature);
}

TEST(Notifier, WebhookFailuresAreFailures)
{
	testing::FakeClock clock(kNow);
	struct Case {
		clients::HttpResponse response;
		const char* error;
	};
	const Case cases[] = {
		{Status(500), "webhook: HTTP 500"},
		{Status(301), "webhook: HTTP 301"}, // redirects are not followed
		{Status(404), "webhook: HTTP 404"},
		{Status(199), "webhook: HTTP 199"},
		{TransportFailed(clients::TransportFailure::kTimeout),
	     "webhook: timeout (Operation timed out after 10000 milliseconds)"},
	};
	for (const auto& c : cases) {
		ScriptedTransport http({c.response});
		Notifier notifier(nullptr, http, clock, NotifierSettings());
		const auto outcome = notifier.Deliver(WebhookDelivery());
		EXPECT_FALSE(outcome.delivered) << c.error;
		EXPECT_EQ(outcome.error, c.error);
		EXPECT_EQ(outcome.error.find("whsec_"), std::string::npos);
	}
	ScriptedTransport http({Status(200)});
	Notifier notifier(nullptr, http, clock, NotifierSettings());
	auto unsigned_delivery = WebhookDelivery();
	unsigned_delivery.secret.clear();
	EXPECT_FALSE(notifier.Deliver(unsigned_delivery).delivered);
	EXPECT_TRUE(http.requests.empty()) << "nothing goes out unsigned";
}

TEST(Notifier, SmsGoesToTheGatewayWithTheBearerToken)
{
	ScriptedTransport http({Status(202), Status(503)});
	testing::FakeClock clock(kNow);
	Notifier notifier(nullptr, http, clock, NotifierSettings());
	Delivery delivery;
	delivery.notification_id = "5d1e4b6a-2222-4222-8222-000000000003";
	delivery.channel = "sms";
	delivery.recipient = "+919812345678";
	delivery.event_type = "balance.low";
	delivery.event_id = 7;
	delivery.context = json{{"account_number", "ACC1"}, {"balance", "85.5000"}, {"currency", "INR"}};
	EXPECT_TRUE(notifier.Deliver(delivery).delivered);
	ASSERT_EQ(http.requests.size(), 1u);
	EXPECT_EQ(http.requests[0].url, "https://sms.example.in/v1/send");
	EXPECT_EQ(Header(http.requests[0], "Authorization"), "Bearer sms-token-SECRET");
	EXPECT_EQ(
		json::parse(http.requests[0].body),
		(json{{"to", "+919812345678"},
	          {"message", "Acme Telecom: low balance INR 85.50 on account ACC1. Please top up to keep calls running."},
	          {"reference", "5d1e4b6a-2222-4222-8222-000000000003"}}));
	const auto failed = notifier.Deliver(delivery);
	EXPECT_FALSE(failed.delivered);
	EXPECT_EQ(failed.error, "sms: HTTP 503");

	auto settings = NotifierSettings();
	settings.sms_gateway_token.clear();
	ScriptedTransport plain({Status(200)});
	Notifier without_token(nullptr, plain, clock, settings);
	EXPECT_TRUE(without_token.Deliver(delivery).delivered);
	EXPECT_EQ(Header(plain.requests[0], "Authorization"), "");
}

TEST(Notifier, EmailCarriesAStableMessageId)
{
	ScriptedTransport http({Status(200)});
	testing::FakeClock clock(kNow);
	RecordingMail mail;
	Notifier notifier(&mail, http, clock, NotifierSettings());
	Delivery delivery;
	delivery.notification_id = "9a7b6c5d-3333-4333-8333-000000000004";
	delivery.channel = "email";
	delivery.recipient = "asha@example.com";
	delivery.event_type = "payment.captured";
	delivery.context = json{{"amount", "500.00"}, {"first_name", "Asha"}};
	EXPECT_TRUE(notifier.Deliver(delivery).delivered);
	clock.Advance(std::chrono::seconds(3600)); // a retry an hour later: same Message-ID, new Date
	EXPECT_TRUE(notifier.Deliver(delivery).delivered);
	ASSERT_EQ(mail.sent.size(), 2u);
	for (const auto& sent : mail.sent) {
		EXPECT_EQ(sent.from, "billing@acme.example");
		EXPECT_EQ(sent.to, "asha@example.com");
		EXPECT_NE(sent.data.find("\r\nMessage-ID: <9a7b6c5d-3333-4333-8333-000000000004@balatrix>\r\n"),
		          std::string::npos);
		EXPECT_NE(sent.data.find("\r\nTo: asha@example.com\r\n"), std::string::npos);
		EXPECT_NE(sent.data.find("\r\nSubject: =?UTF-8?B?"), std::string::npos); // "... ₹500.00"
	}
	EXPECT_NE(mail.sent[0].data.find("Date: Tue, 24 Nov 2026 13:30:00 +0000"), std::string::npos);
	EXPECT_NE(mail.sent[1].data.find("Date: Tue, 24 Nov 2026 14:30:00 +0000"), std::string::npos);
	EXPECT_TRUE(http.requests.empty());

	mail.result = clients::SendMailResult{false, "smtp: Failed sending data to the peer (SMTP 451)", 451};
	const auto refused = notifier.Deliver(delivery);
	EXPECT_FALSE(refused.delivered);
	EXPECT_EQ(refused.error, "smtp: Failed sending data to the peer (SMTP 451)");

	// A recipient address that could inject a header never reaches the sender.
	delivery.recipient = "asha@example.com\r\nBcc: victim@example.com";
	const std::size_t before = mail.sent.size();
	EXPECT_FALSE(notifier.Deliver(delivery).delivered);
	EXPECT_EQ(mail.sent.size(), before);
}

TEST(Notifier, ChannelsFollowTheConfiguration)
{
	ScriptedTransport http({Status(200)});
	testing::FakeClock clock(kNow);
	RecordingMail mail;
	EXPECT_EQ(Notifier(&mail, http, clock, NotifierSettings()).Channels(),
	          (std::vector<std::string>{"email", "sms", "webhook"}));
	auto no_sms = NotifierSettings();
	no_sms.sms_gateway_url.clear();
	EXPECT_EQ(Notifier(nullptr, http, clock, no_sms).Channels(), (std::vector<std::string>{"webhook"}));
	Notifier webhook_only(nullptr, http, clock, no_sms);
	Delivery email;
	email.channel = "email";
	email.recipient = "asha@example.com";
	email.event_type = "payment.captured";
	EXPECT_EQ(webhook_only.Deliver(email).error, "e-mail: SMTP_URL is not set");
	email.channel = "fax";
	EXPECT_FALSE(webhook_only.Deliver(email).delivered);
}

// ---- the consumer's helpers ---------------------------------------------------------------------------------------

TEST(OutboxConsumer, PayloadStringOffersStringsOnly)
{
	OutboxEvent event;
	event.payload =
		R"({"payment_id": "0c8f3a52-1111-4111-8111-000000000002", "amount": 1000.00, "nested": {"a": "b"}})";
	EXPECT_EQ(PayloadString(event, "payment_id"), std::optional<std::string>("0c8f3a52-1111-4111-8111-000000000002"));
	EXPECT_EQ(PayloadString(event, "amount"), std::nullopt); // a number: read money from the database
	EXPECT_EQ(PayloadString(event, "nested"), std::nullopt);
	EXPECT_EQ(PayloadString(event, "missing"), std::nullopt);
	event.payload = "not json";
	EXPECT_EQ(PayloadString(event, "payment_id"), std::nullopt);
	event.payload = "[1,2]";
	EXPECT_EQ(PayloadString(event, "payment_id"), std::nullopt);
}

TEST(OutboxConsumer, WorkerNamesAreHostPidAndRandom)
{
	const std::string a = MakeWorkerName();
	const std::string b = MakeWorkerName();
	EXPECT_NE(a, b);
	const auto last = a.rfind(':');
	ASSERT_NE(last, std::string::npos);
	EXPECT_EQ(a.size() - last - 1, 8u);
	const auto pid = a.substr(a.rfind(':', last - 1) + 1, last - a.rfind(':', last - 1) - 1);
	EXPECT_EQ(pid, std::to_string(::getpid()));
	EXPECT_LE(a.size(), 200u);
}

} // namespace
} // namespace balatrix::sidecar::outbox
