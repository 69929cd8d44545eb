#include "payments/signatures.hpp"

#include <cstddef>
#include <initializer_list>

#include "crypto/digest.hpp"

namespace balatrix::sidecar::payments {
namespace {

constexpr std::size_t kHexSignatureLength = 64; // HMAC-SHA256: 32 bytes

// The longest t accepted: 18 digits always fit in int64 (9.2e18), and real timestamps have 10.
constexpr std::size_t kMaxTimestampDigits = 18;

bool
IsLowerHexSignature(std::string_view signature)
{
	if (signature.size() != kHexSignatureLength)
		return false;
	for (const char c : signature) {
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

// Each id must be non-empty and free of the separator, so that one message has one reading.
bool
AreUnambiguousIds(std::initializer_list<std::string_view> ids)
{
	for (const auto id : ids) {
		if (id.empty() || id.find('|') != std::string_view::npos)
			return false;
	}
	return true;
}

// The format check looks only at the public candidate; the comparison against the expected MAC is
// constant-time.
bool
VerifyHexHmac(std::string_view secret, std::string_view message, std::string_view signature)
{
	if (secret.empty() || !IsLowerHexSignature(signature))
		return false;
	return crypto::ConstantTimeEquals(crypto::HmacSha256Hex(secret, message), signature);
}

bool
IsBlank(char c)
{
	return c == ' ' || c == '\t';
}

std::string_view
Trim(std::string_view text)
{
	while (!text.empty() && IsBlank(text.front()))
		text.remove_prefix(1);
	while (!text.empty() && IsBlank(text.back()))
		text.remove_suffix(1);
	return text;
}

// Decimal digits only (no sign, no blanks inside), 1..kMaxTimestampDigits of them.
bool
ParseTimestamp(std::string_view text, std::int64_t& value)
{
	if (text.empty() || text.size() > kMaxTimestampDigits)
		return false;
	std::int64_t parsed = 0;
	for (const char c : text) {
		if (c < '0' || c > '9')
			return false;
		parsed = parsed * 10 + (c - '0');
	}
	value = parsed;
	return true;
}

// |now - timestamp| <= tolerance without overflow. timestamp is in [0, 10^18); now is any int64, so the
// distance is below 2^64 and exact in unsigned arithmetic.
bool
WithinTolerance(std::int64_t timestamp, std::int64_t now, std::int64_t tolerance)
{
	if (tolerance < 0)
		tolerance = 0;
	const auto distance = now >= timestamp ? static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(timestamp)
	                                       : static_cast<std::uint64_t>(timestamp) - static_cast<std::uint64_t>(now);
	return distance <= static_cast<std::uint64_t>(tolerance);
}

} // namespace

// ---- Razorpay ---------------------------------------------------------------------------------------------------

std::string
RazorpayCheckoutMessage(const RazorpayCheckout& checkout)
{
	return std::string(checkout.order_id) + '|' + std::string(checkout.payment_id);
}

std::string
RazorpaySubscriptionMessage(const RazorpaySubscriptionCheckout& checkout)
{
	return std::string(checkout.payment_id) + '|' + std::string(checkout.subscription_id);
}

std::string
RazorpayPaymentLinkMessage(const RazorpayPaymentLink& link)
{
	return std::string(link.payment_link_id) + '|' + std::string(link.reference_id) + '|' + std::string(link.status) +
	       '|' + std::string(link.payment_id);
}

bool
VerifyRazorpayCheckoutSignature(const RazorpayCheckout& checkout, std::string_view signature,
                                std::string_view key_secret)
{
	if (!AreUnambiguousIds({checkout.order_id, checkout.payment_id}))
		return false;
	return VerifyHexHmac(key_secret, RazorpayCheckoutMessage(checkout), signature);
}

bool
VerifyRazorpaySubscriptionSignature(const RazorpaySubscriptionCheckout& checkout, std::string_view signature,
                                    std::string_view key_secret)
{
	if (!AreUnambiguousIds({checkout.payment_id, checkout.subscription_id}))
		return false;
	return VerifyHexHmac(key_secret, RazorpaySubscriptionMessage(checkout), signature);
}

bool
VerifyRazorpayPaymentLinkSignature(const RazorpayPaymentLink& link, std::string_view signature,
                                   std::string_view key_secret)
{
	if (!AreUnambiguousIds({link.payment_link_id, link.reference_id, link.status, link.payment_id}))
		return false;
	return VerifyHexHmac(key_secret, RazorpayPaymentLinkMessage(link), signature);
}

bool
VerifyRazorpayWebhookSignature(std::string_view raw_body, std::string_view signature, std::string_view webhook_secret)
{
	return VerifyHexHmac(webhook_secret, raw_body, signature);
}

// ---- Stripe -----------------------------------------------------------------------------------------------------

std::string_view
StripeSignatureResultName(StripeSignatureResult result)
{
	switch (result) {
	case StripeSignatureResult::kOk:
		return "ok";
	case StripeSignatureResult::kMissingHeader:
		return "missing_header";
	case StripeSignatureResult::kMalformedHeader:
		return "malformed_header";
	case StripeSignatureResult::kNoV1Signature:
		return "no_v1_signature";
	case StripeSignatureResult::kTimestampOutOfTolerance:
		return "timestamp_out_of_tolerance";
	case StripeSignatureResult::kBadSignature:
		return "bad_signature";
	}
	return "unknown";
}

StripeHeaderParse
ParseStripeSignatureHeader(std::string_view header)
{
	StripeHeaderParse parse;
	if (Trim(header).empty()) {
		parse.result = StripeSignatureResult::kMissingHeader;
		return parse;
	}

	bool have_timestamp = false;
	std::string_view rest = header;
	for (;;) {
		const auto comma = rest.find(',');
		const auto item = Trim(rest.substr(0, comma));
		const auto equals = item.find('=');
		if (item.empty() || equals == std::string_view::npos)
			return parse; // kMalformedHeader
		const auto key = Trim(item.substr(0, equals));
		const auto value = Trim(item.substr(equals + 1));
		if (key.empty())
			return parse;

		if (key == "t") {
			if (have_timestamp || !ParseTimestamp(value, parse.header.timestamp))
				return parse;
			have_timestamp = true;
			parse.header.timestamp_text = std::string(value);
		} else if (key == "v1") {
			parse.header.v1.emplace_back(value);
		}
		// Any other scheme (v0, future ones) is ignored, as the SDKs do.

		if (comma == std::string_view::npos)
			break;
		rest.remove_prefix(comma + 1);
	}

	if (!have_timestamp)
		return parse;
	parse.result = parse.header.v1.empty() ? StripeSignatureResult::kNoV1Signature : StripeSignatureResult::kOk;
	return parse;
}

StripeSignatureResult
VerifyStripeWebhook(std::string_view header, std::string_view raw_body, std::string_view endpoint_secret,
                    std::chrono::system_clock::time_point now, std::chrono::seconds tolerance)
{
	const auto parse = ParseStripeSignatureHeader(header);
	if (parse.result != StripeSignatureResult::kOk)
		return parse.result;
	if (endpoint_secret.empty())
		return StripeSignatureResult::kBadSignature;

	std::string signed_payload = parse.header.timestamp_text;
	signed_payload += '.';
	signed_payload += raw_body;
	const auto expected = crypto::HmacSha256Hex(endpoint_secret, signed_payload);

	// Every candidate is compared (no early exit), so the time taken does not say which one matched.
	bool matched = false;
	for (const auto& candidate : parse.header.v1) {
		if (IsLowerHexSignature(candidate) && crypto::ConstantTimeEquals(expected, candidate))
			matched = true;
	}
	if (!matched)
		return StripeSignatureResult::kBadSignature;

	const auto now_seconds = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
	if (!WithinTolerance(parse.header.timestamp, now_seconds, tolerance.count()))
		return StripeSignatureResult::kTimestampOutOfTolerance;
	return StripeSignatureResult::kOk;
}

std::string
MakeStripeSignatureHeader(std::int64_t timestamp, std::string_view raw_body, std::string_view endpoint_secret)
{
	const auto t = std::to_string(timestamp);
	std::string signed_payload = t;
	signed_payload += '.';
	signed_payload += raw_body;
	return "t=" + t + ",v1=" + crypto::HmacSha256Hex(endpoint_secret, signed_payload);
}

} // namespace balatrix::sidecar::payments
