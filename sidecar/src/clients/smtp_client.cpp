#include "clients/smtp_client.hpp"

#include <time.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include <curl/curl.h>

#include "crypto/encoding.hpp"

namespace balatrix::sidecar::clients {
namespace {

constexpr std::size_t kMaxAddressBytes = 254;
constexpr std::size_t kMaxLocalPartBytes = 64;
constexpr std::size_t kMaxSubjectBytes = 900;
constexpr std::size_t kMaxMessageIdBytes = 200;
constexpr std::size_t kMaxDisplayNameBytes = 200;
// RFC 5322 §2.1.1: a line is at most 998 characters plus CRLF.
constexpr std::size_t kMaxLineBytes = 998;
// RFC 2045 §6.7: encoded lines at most 76 characters, the soft break's '=' included.
constexpr std::size_t kMaxQuotedPrintableLine = 76;
// RFC 2047 §2: an encoded-word is at most 75 characters; "=?UTF-8?B?" + "?=" leaves 63, so 60 characters
// of base64 (a multiple of 4), which carry 45 bytes.
constexpr std::size_t kMaxEncodedWordBytes = 45;

bool
IsAsciiAlnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// The atext of RFC 5322 §3.2.3, the characters of a dot-atom.
bool
IsAtext(char c)
{
	return IsAsciiAlnum(c) || std::string_view("!#$%&'*+/=?^_`{|}~-").find(c) != std::string_view::npos;
}

bool
HasLineBreakOrNul(std::string_view text)
{
	return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool
IsValidUtf8(std::string_view text)
{
	std::size_t i = 0;
	while (i < text.size()) {
		const auto c = static_cast<unsigned char>(text[i]);
		std::size_t length = 0;
		std::uint32_t code = 0;
		if (c < 0x80) {
			++i;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			length = 2;
			code = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			length = 3;
			code = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			length = 4;
			code = c & 0x07;
		} else {
			return false;
		}
		if (i + length > text.size())
			return false;
		for (std::size_t k = 1; k < length; ++k) {
			const auto next = static_cast<unsigned char>(text[i + k]);
			if ((next & 0xc0) != 0x80)
				return false;
			code = (code << 6) | (next & 0x3f);
		}
		if ((length == 3 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) ||
		    (length == 4 && (code < 0x10000 || code > 0x10ffff)))
			return false;
		i += length;
	}
	return true;
}

bool
IsPrintableAscii(std::string_view text)
{
	return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

std::string_view
Trim(std::string_view text)
{
	while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
		text.remove_prefix(1);
	while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
		text.remove_suffix(1);
	return text;
}

bool
IsValidDomain(std::string_view domain)
{
	if (domain.empty() || domain.size() > 253)
		return false;
	bool has_dot = false;
	std::size_t start = 0;
	while (start <= domain.size()) {
		auto end = domain.find('.', start);
		if (end == std::string_view::npos)
			end = domain.size();
		else
			has_dot = true;
		const auto label = domain.substr(start, end - start);
		if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
			return false;
		if (!std::all_of(label.begin(), label.end(), [](char c) { return IsAsciiAlnum(c) || c == '-'; }))
			return false;
		start = end + 1;
	}
	return has_dot || domain == "localhost";
}

// Standard base64 with padding (RFC 4648 §4), from the base64url encoder.
std::string
Base64(std::string_view bytes)
{
	std::string out = crypto::Base64UrlEncode(bytes);
	for (char& c : out) {
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
	}
	while (out.size() % 4 != 0)
		out += '=';
	return out;
}

// Length of the UTF-8 sequence starting with `lead` (1 for anything that is not a lead byte).
std::size_t
Utf8Length(unsigned char lead)
{
	if (lead >= 0xf0)
		return 4;
	if (lead >= 0xe0)
		return 3;
	if (lead >= 0xc0)
		return 2;
	return 1;
}

// A display name as an RFC 5322 phrase: bare when it is atext and spaces, a quoted-string when it is other
// printable ASCII, encoded-words otherwise. ParseMailbox has refused '"', CR, LF and NUL already.
std::string
DisplayNamePhrase(std::string_view name)
{
	if (!IsPrintableAscii(name))
		return EncodeHeaderText(name);
	if (std::all_of(name.begin(), name.end(), [](char c) { return IsAtext(c) || c == ' '; }))
		return std::string(name);
	std::string quoted = "\"";
	for (const char c : name) {
		if (c == '\\' || c == '"')
			quoted += '\\';
		quoted += c;
	}
	return quoted + '"';
}

// The body's lines, whatever their original line ends.
std::vector<std::string_view>
Lines(std::string_view body)
{
	std::vector<std::string_view> lines;
	std::size_t start = 0;
	while (start < body.size()) {
		auto end = body.find('\n', start);
		if (end == std::string_view::npos)
			end = body.size();
		auto line = body.substr(start, end - start);
		if (!line.empty() && line.back() == '\r')
			line.remove_suffix(1);
		lines.push_back(line);
		start = end + 1;
	}
	return lines;
}

// One line as quoted-printable, soft-broken so that no encoded line exceeds 76 characters and no =XX is split.
void
AppendQuotedPrintable(std::string& out, std::string_view line)
{
	static constexpr char kHex[] = "0123456789ABCDEF";
	std::size_t column = 0;
	for (std::size_t i = 0; i < line.size(); ++i) {
		const auto c = static_cast<unsigned char>(line[i]);
		const bool last = i + 1 == line.size();
		std::string piece;
		// Trailing blanks are encoded (a transport may strip them); '=' always is.
		if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
			piece.assign(1, static_cast<char>(c));
		} else {
			piece = {'=', kHex[c >> 4], kHex[c & 0x0f]};
		}
		// Room for the piece and, unless the line ends here, a soft break's '='.
		if (column + piece.size() + (last ? 0 : 1) > kMaxQuotedPrintableLine) {
			out += "=\r\n";
			column = 0;
		}
		out += piece;
		column += piece.size();
	}
	out += "\r\n";
}

// ---- libcurl ------------------------------------------------------------------------------------------------

struct EasyDeleter {
	void
	operator()(CURL* handle) const
	{
		curl_easy_cleanup(handle);
	}
};

struct SlistDeleter {
	void
	operator()(curl_slist* list) const
	{
		curl_slist_free_all(list);
	}
};

struct Upload {
	std::string_view data;
	std::size_t offset = 0;
};

// Runs inside curl_easy_perform (a C frame): nothing here can throw.
std::size_t
OnRead(char* buffer, std::size_t size, std::size_t count, void* user)
{
	auto* upload = static_cast<Upload*>(user);
	const std::size_t room = size * count;
	const std::size_t left = upload->data.size() - upload->offset;
	const std::size_t n = std::min(room, left);
	std::copy_n(upload->data.data() + upload->offset, n, buffer);
	upload->offset += n;
	return n;
}

struct UrlParts {
	std::string scheme;   // lower case
	std::string userinfo; // may be empty
	std::string host;     // lower case, brackets kept for IPv6
};

UrlParts
SplitUrl(std::string_view url)
{
	UrlParts parts;
	const auto scheme_end = url.find("://");
	if (scheme_end == std::string_view::npos)
		return parts;
	for (const char c : url.substr(0, scheme_end))
		parts.scheme += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	auto authority = url.substr(scheme_end + 3);
	authority = authority.substr(0, authority.find_first_of("/?#"));
	const auto at = authority.rfind('@');
	if (at != std::string_view::npos) {
		parts.userinfo = std::string(authority.substr(0, at));
		authority.remove_prefix(at + 1);
	}
	std::string_view host = authority;
	if (!host.empty() && host.front() == '[') {
		host = host.substr(0, host.find(']') == std::string_view::npos ? host.size() : host.find(']') + 1);
	} else {
		host = host.substr(0, host.find(':'));
	}
	for (const char c : host)
		parts.host += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	return parts;
}

// Replaces every occurrence of the URL's userinfo (and its user and password parts) with ***.
std::string
Scrubbed(std::string text, const std::string& userinfo)
{
	std::vector<std::string> secrets{userinfo};
	const auto colon = userinfo.find(':');
	if (colon != std::string::npos) {
		secrets.push_back(userinfo.substr(0, colon));
		secrets.push_back(userinfo.substr(colon + 1));
	}
	for (const auto& secret : secrets) {
		if (secret.empty())
			continue;
		for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
			text.replace(at, secret.size(), "***");
	}
	for (char& c : text) {
		if (c == '\r' || c == '\n')
			c = ' ';
	}
	return text;
}

} // namespace

bool
IsValidMailAddress(std::string_view address)
{
	if (address.size() < 3 || address.size() > kMaxAddressBytes)
		return false;
	const auto at = address.find('@');
	if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos)
		return false;
	const auto local = address.substr(0, at);
	if (local.empty() || local.size() > kMaxLocalPartBytes || local.front() == '.' || local.back() == '.' ||
	    local.find("..") != std::string_view::npos)
		return false;
	if (!std::all_of(local.begin(), local.end(), [](char c) { return IsAtext(c) || c == '.'; }))
		return false;
	return IsValidDomain(address.substr(at + 1));
}

std::optional<Mailbox>
ParseMailbox(std::string_view text)
{
	text = Trim(text);
	if (text.empty() || HasLineBreakOrNul(text) || !IsValidUtf8(text))
		return std::nullopt;
	Mailbox mailbox;
	const auto open = text.find('<');
	if (open == std::string_view::npos) {
		if (text.find('>') != std::string_view::npos)
			return std::nullopt;
		mailbox.address = std::string(text);
	} else {
		if (text.back() != '>' || text.find('<', open + 1) != std::string_view::npos ||
		    text.find('>') != text.size() - 1)
			return std::nullopt;
		mailbox.address = std::string(text.substr(open + 1, text.size() - open - 2));
		auto name = Trim(text.substr(0, open));
		if (name.size() >= 2 && name.front() == '"' && name.back() == '"')
			name = name.substr(1, name.size() - 2);
		if (name.size() > kMaxDisplayNameBytes || name.find('"') != std::string_view::npos ||
		    std::any_of(name.begin(), name.end(),
		                [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
			return std::nullopt;
		mailbox.display_name = std::string(name);
	}
	if (!IsValidMailAddress(mailbox.address))
		return std::nullopt;
	return mailbox;
}

std::string
EncodeHeaderText(std::string_view text)
{
	if (IsPrintableAscii(text))
		return std::string(text);
	std::string out;
	std::size_t i = 0;
	while (i < text.size()) {
		// As many whole characters as fit in one word.
		std::size_t end = i;
		while (end < text.size()) {
			const std::size_t length = Utf8Length(static_cast<unsigned char>(text[end]));
			if (end + length - i > kMaxEncodedWordBytes)
				break;
			end += length;
		}
		if (end == i) // cannot happen for valid UTF-8 (a character is at most 4 bytes); guards the loop anyway
			end = std::min(text.size(), i + kMaxEncodedWordBytes);
		if (!out.empty())
			out += "\r\n ";
		out += "=?UTF-8?B?" + Base64(text.substr(i, end - i)) + "?=";
		i = end;
	}
	return out;
}

std::string
FormatMailDate(std::chrono::system_clock::time_point when)
{
	static constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	const time_t seconds = std::chrono::system_clock::to_time_t(when);
	tm utc{};
	gmtime_r(&seconds, &utc);
	char buffer[64];
	std::snprintf(buffer, sizeof(buffer), "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[utc.tm_wday % 7], utc.tm_mday,
	              kMonths[utc.tm_mon % 12], utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
	return buffer;
}

std::variant<BuiltMail, MailBuildError>
BuildMailMessage(const MailMessage& message)
{
	// Every header value is checked for CR / LF / NUL first: nothing below may ever put one into a header.
	if (message.from.display_name.size() > kMaxDisplayNameBytes || HasLineBreakOrNul(message.from.display_name) ||
	    message.from.display_name.find('"') != std::string::npos || !IsValidUtf8(message.from.display_name))
		return MailBuildError{"the sender's display name is not allowed in a header"};
	if (!IsValidMailAddress(message.from.address))
		return MailBuildError{"the sender's address is not a valid e-mail address"};
	if (!IsValidMailAddress(message.to))
		return MailBuildError{"the recipient's address is not a valid e-mail address"};
	if (HasLineBreakOrNul(message.subject) || !IsValidUtf8(message.subject) ||
	    message.subject.size() > kMaxSubjectBytes)
		return MailBuildError{"the subject is not one line of UTF-8 of at most 900 bytes"};
	if (message.message_id.empty() || message.message_id.size() > kMaxMessageIdBytes ||
	    !std::all_of(message.message_id.begin(), message.message_id.end(),
	                 [](char c) { return IsAsciiAlnum(c) || c == '.' || c == '-' || c == '_'; }) ||
	    message.message_id.front() == '.' || message.message_id.back() == '.' ||
	    message.message_id.find("..") != std::string::npos)
		return MailBuildError{"the Message-ID is not letters, digits, '.', '-' and '_'"};
	if (message.body.find('\0') != std::string::npos || !IsValidUtf8(message.body))
		return MailBuildError{"the body is not UTF-8 text"};

	const auto lines = Lines(message.body);
	bool seven_bit = true;
	for (const auto line : lines) {
		if (line.size() > kMaxLineBytes ||
		    !std::all_of(line.begin(), line.end(), [](char c) { return (c >= 0x20 && c <= 0x7e) || c == '\t'; })) {
			seven_bit = false;
			break;
		}
	}

	std::string data;
	data.reserve(message.body.size() + 512);
	data += "From: ";
	if (!message.from.display_name.empty())
		data += DisplayNamePhrase(message.from.display_name) + " <" + message.from.address + ">";
	else
		data += message.from.address;
	data += "\r\nTo: " + message.to;
	data += "\r\nSubject: " + EncodeHeaderText(message.subject);
	data += "\r\nDate: " + FormatMailDate(message.date);
	data += "\r\nMessage-ID: <" + message.message_id + "@balatrix>";
	data += "\r\nMIME-Version: 1.0";
	data += "\r\nContent-Type: text/plain; charset=utf-8";
	data += seven_bit ? "\r\nContent-Transfer-Encoding: 7bit" : "\r\nContent-Transfer-Encoding: quoted-printable";
	data += "\r\n\r\n";
	for (const auto line : lines) {
		if (seven_bit) {
			data += line;
			data += "\r\n";
		} else {
			AppendQuotedPrintable(data, line);
		}
	}
	return BuiltMail{std::move(data)};
}

// ---- SmtpClient ---------------------------------------------------------------------------------------------

SmtpClient::SmtpClient(SmtpOptions options) : options_(std::move(options))
{
	const UrlParts parts = SplitUrl(options_.url);
	const auto colon = parts.userinfo.find(':');
	const bool has_password = colon != std::string::npos && colon + 1 < parts.userinfo.size();
	const bool loopback =
		parts.host == "localhost" || parts.host == "::1" || parts.host == "[::1]" || parts.host.rfind("127.", 0) == 0;
	// smtps:// is TLS from the first byte anyway; for smtp:// a password must not go out before STARTTLS.
	require_tls_ = parts.scheme == "smtp" && has_password && !loopback;
}

SendMailResult
SmtpClient::Send(const std::string& envelope_from, const std::string& recipient, const std::string& data)
{
	SendMailResult result;
	if (!IsValidMailAddress(envelope_from) || !IsValidMailAddress(recipient)) {
		result.error = "invalid envelope address";
		return result;
	}
	std::unique_ptr<CURL, EasyDeleter> handle(curl_easy_init());
	if (!handle) {
		result.error = "curl_easy_init failed";
		return result;
	}
	const std::string mail_from = "<" + envelope_from + ">";
	const std::string rcpt = "<" + recipient + ">";
	std::unique_ptr<curl_slist, SlistDeleter> recipients(curl_slist_append(nullptr, rcpt.c_str()));
	if (!recipients) {
		result.error = "out of memory";
		return result;
	}
	Upload upload{data, 0};
	char error_buffer[CURL_ERROR_SIZE] = {0};
	CURL* curl = handle.get();
	curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(require_tls_ ? CURLUSESSL_ALL : CURLUSESSL_TRY));
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients.get());
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
	curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size()));
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);

	const CURLcode code = curl_easy_perform(curl);
	long reply = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
	result.smtp_code = reply;
	if (code == CURLE_OK) {
		result.ok = true;
		return result;
	}
	std::string reason = curl_easy_strerror(code);
	if (error_buffer[0] != '\0')
		reason += std::string(": ") + error_buffer;
	if (reply != 0)
		reason += " (SMTP " + std::to_string(reply) + ")";
	result.error = Scrubbed("smtp: " + reason, SplitUrl(options_.url).userinfo);
	return result;
}

} // namespace balatrix::sidecar::clients
