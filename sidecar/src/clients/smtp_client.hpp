/*
 * E-mail over SMTP: the RFC 5322 message builder and the libcurl client that sends one message.
 *
 * BuildMailMessage makes the bytes of one plain-text message:
 *
 *   From: Balatrix <billing@example.in>          (SMTP_FROM; a non-ASCII display name as an RFC 2047 word)
 *   To: customer@example.com
 *   Subject: Invoice ... is due                   (RFC 2047 =?UTF-8?B?...?= words, folded, when not ASCII)
 *   Date: Tue, 24 Nov 2026 13:30:00 +0000
 *   Message-ID: <notification-id@balatrix>        (stable across retries: a receiver can drop a repeat)
 *   MIME-Version: 1.0
 *   Content-Type: text/plain; charset=utf-8
 *   Content-Transfer-Encoding: 7bit | quoted-printable   (quoted-printable when the body is not ASCII or has
 *                                                          a line over 998 bytes)
 *
 * every line ending in CRLF. Header injection is impossible by construction: a CR, LF or NUL in any header value
 * (an address, the subject, the display name, the Message-ID) refuses the whole message instead of being
 * stripped, and addresses are checked against a conservative addr-spec (no spaces, quotes, brackets or
 * control characters). Nothing here throws for bad input; the result says why.
 *
 * SmtpClient::Send delivers one built message to one recipient over smtp:// (STARTTLS when the server offers it;
 * required when SMTP_URL carries a password and the host is not a loopback address, so a credential never
 * crosses a network in clear) or smtps:// (TLS from the start). SMTP_URL may carry user:password (AUTH). The
 * client never logs; its error texts never contain the URL's credentials. Thread-safe after curl_global_init
 * (one easy handle per Send).
 */
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace balatrix::sidecar::clients {

// "Name <local@domain>" or "local@domain".
struct Mailbox {
	std::string display_name; // may be empty; UTF-8
	std::string address;      // local@domain
};

// The mailbox, or nullopt when `text` is not one: a display name with CR, LF, NUL, '<', '>' or '"' in it, an
// address that is not a plain addr-spec (local@domain, at most 254 bytes, no spaces, quotes, brackets, commas,
// semicolons or control characters, a dot somewhere in the domain or "localhost"), or anything after '>'.
std::optional<Mailbox> ParseMailbox(std::string_view text);

// Whether `address` alone is an addr-spec ParseMailbox would accept.
bool IsValidMailAddress(std::string_view address);

// `text` as one header value: unchanged when it is printable ASCII, else RFC 2047 "B" encoded-words in UTF-8,
// each at most 75 characters and cut only between characters, joined with CRLF SP (folding). `text` must be
// valid UTF-8 without CR, LF or NUL (BuildMailMessage checks).
std::string EncodeHeaderText(std::string_view text);

struct MailMessage {
	Mailbox from;
	std::string to;         // one recipient address
	std::string subject;    // UTF-8, at most 900 bytes
	std::string body;       // UTF-8 plain text; "\n" or "\r\n" line ends (sent as CRLF)
	std::string message_id; // the part left of '@' in <...@balatrix>: letters, digits and . - _ only
	std::chrono::system_clock::time_point date;
};

struct BuiltMail {
	std::string data; // the message, CRLF line ends, ready for DATA
};

struct MailBuildError {
	std::string message; // which field was refused and why; never the field's content
};

std::variant<BuiltMail, MailBuildError> BuildMailMessage(const MailMessage& message);

// The Date header's value: "Tue, 24 Nov 2026 13:30:00 +0000" (RFC 5322 §3.3, UTC).
std::string FormatMailDate(std::chrono::system_clock::time_point when);

struct SendMailResult {
	bool ok = false;
	std::string error;  // one line when !ok: curl's reason and the SMTP reply code; no credential
	long smtp_code = 0; // the last SMTP reply code seen (250 when accepted), 0 when none
};

// Sends one message. An interface so that the notifier is testable without an SMTP server.
class MailSender {
public:
	virtual ~MailSender() = default;
	// `envelope_from` and `recipient` are bare addresses; `data` is a BuildMailMessage result.
	virtual SendMailResult Send(const std::string& envelope_from, const std::string& recipient,
	                            const std::string& data) = 0;
};

struct SmtpOptions {
	std::string url; // smtp://[user:password@]host[:port] or smtps://...; secret
	std::chrono::milliseconds timeout{30000};
	std::chrono::milliseconds connect_timeout{10000};
};

class SmtpClient final : public MailSender {
public:
	explicit SmtpClient(SmtpOptions options);

	SendMailResult Send(const std::string& envelope_from, const std::string& recipient,
	                    const std::string& data) override;

private:
	SmtpOptions options_;
	bool require_tls_ = false; // a password in the URL and a host that is not loopback
};

} // namespace balatrix::sidecar::clients
