#include "config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <string_view>

#include <nlohmann/json.hpp>

#include "clients/smtp_client.hpp"
#include "http/cors.hpp"

namespace balatrix::sidecar {
namespace {

constexpr const char* kDatabaseUrl = "DATABASE_URL";
constexpr const char* kJwtSecret = "JWT_SECRET";
constexpr const char* kPort = "PORT";
constexpr const char* kListenAddress = "LISTEN_ADDRESS";
constexpr const char* kLogLevel = "LOG_LEVEL";
constexpr const char* kThreads = "SIDECAR_THREADS";
constexpr const char* kPoolSize = "DB_POOL_SIZE";
constexpr const char* kPoolTimeout = "DB_POOL_TIMEOUT_MS";
constexpr const char* kMaxBodyBytes = "MAX_BODY_BYTES";
constexpr const char* kShutdownGrace = "SHUTDOWN_GRACE_MS";
constexpr const char* kCorsAllowedOrigins = "CORS_ALLOWED_ORIGINS";
constexpr const char* kCorsAllowCredentials = "CORS_ALLOW_CREDENTIALS";
constexpr const char* kHstsMaxAge = "HSTS_MAX_AGE_SECONDS";
constexpr const char* kJwtLeeway = "JWT_LEEWAY_SECONDS";
constexpr const char* kRazorpayKeyId = "RAZORPAY_KEY_ID";
constexpr const char* kRazorpayKeySecret = "RAZORPAY_KEY_SECRET";
constexpr const char* kRazorpayWebhookSecret = "RAZORPAY_WEBHOOK_SECRET";
constexpr const char* kRazorpayApiBase = "RAZORPAY_API_BASE";
constexpr const char* kStripeSecretKey = "STRIPE_SECRET_KEY";
constexpr const char* kStripeWebhookSecret = "STRIPE_WEBHOOK_SECRET";
constexpr const char* kStripeApiBase = "STRIPE_API_BASE";
constexpr const char* kSmtpUrl = "SMTP_URL";
constexpr const char* kGatewayTimeout = "GATEWAY_TIMEOUT_MS";
constexpr const char* kReconcileInterval = "RECONCILE_INTERVAL_MS";
constexpr const char* kReconcileAfter = "RECONCILE_AFTER_SECONDS";
constexpr const char* kOutboxEnabled = "OUTBOX_ENABLED";
constexpr const char* kOutboxPollInterval = "OUTBOX_POLL_INTERVAL_MS";
constexpr const char* kOutboxBatchSize = "OUTBOX_BATCH_SIZE";
constexpr const char* kOutboxLeaseSeconds = "OUTBOX_LEASE_SECONDS";
constexpr const char* kOutboxMaxAttempts = "OUTBOX_MAX_ATTEMPTS";
constexpr const char* kSmtpFrom = "SMTP_FROM";
constexpr const char* kSmsGatewayUrl = "SMS_GATEWAY_URL";
constexpr const char* kSmsGatewayToken = "SMS_GATEWAY_TOKEN";
constexpr const char* kAppBaseUrl = "APP_BASE_URL";
constexpr const char* kWebhookTimeout = "WEBHOOK_TIMEOUT_MS";
constexpr const char* kRateLimitApi = "RATE_LIMIT_API";
constexpr const char* kRateLimitLogin = "RATE_LIMIT_LOGIN";
constexpr const char* kRateLimitRefresh = "RATE_LIMIT_REFRESH";
constexpr const char* kRateLimitRegister = "RATE_LIMIT_REGISTER";
constexpr const char* kRateLimitPasswordReset = "RATE_LIMIT_PASSWORD_RESET";
constexpr const char* kRateLimitCdr = "RATE_LIMIT_CDR";

constexpr const char* kRedacted = "***";

// Collects problems while the settings are read, so every one of them is reported.
class Reader {
public:
	explicit Reader(const EnvLookup& lookup) : lookup_(lookup) {}

	// The value, or nullopt when unset or empty.
	std::optional<std::string>
	Get(const char* name) const
	{
		std::optional<std::string> value = lookup_(name);
		if (value && value->empty())
			return std::nullopt;
		return value;
	}

	void
	Problem(const char* name, std::string message)
	{
		problems_.push_back(ConfigProblem{name, std::string(name) + " " + std::move(message)});
	}

	// An integer in [min, max], or `fallback` when unset. Only plain decimal digits are accepted: no sign,
	// no whitespace, no suffix, so "8 " or "0x10" are rejected rather than half-read.
	long long
	Integer(const char* name, long long min, long long max, long long fallback)
	{
		const auto value = Get(name);
		if (!value)
			return fallback;
		long long parsed = 0;
		const char* first = value->data();
		const char* last = value->data() + value->size();
		const bool digits_only = std::isdigit(static_cast<unsigned char>(value->front())) != 0;
		const auto [end, error] = std::from_chars(first, last, parsed);
		if (!digits_only || error != std::errc() || end != last || parsed < min || parsed > max) {
			Problem(name, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max) +
			                  " (got " + Quote(*value) + ")");
			return fallback;
		}
		return parsed;
	}

	// true/false (also 1/0, any case), or `fallback` when unset.
	bool
	Boolean(const char* name, bool fallback)
	{
		const auto value = Get(name);
		if (!value)
			return fallback;
		std::string lower(*value);
		for (char& c : lower)
			c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
		if (lower == "true" || lower == "1")
			return true;
		if (lower == "false" || lower == "0")
			return false;
		Problem(name, "must be true or false (got " + Quote(*value) + ")");
		return fallback;
	}

	// An optional http(s) URL, or `fallback` when unset.
	std::string
	HttpUrl(const char* name, const std::string& fallback)
	{
		const auto value = Get(name);
		if (!value)
			return fallback;
		if (!HasHttpScheme(*value)) {
			Problem(name, "must be an http:// or https:// URL (got " + Quote(RedactUrlCredentials(*value)) + ")");
			return fallback;
		}
		return *value;
	}

	std::vector<ConfigProblem>
	TakeProblems()
	{
		return std::move(problems_);
	}

	// For echoing a rejected non-secret value: printable ASCII kept, anything else escaped, long values cut,
	// so a stray control character cannot garble the operator's terminal or log.
	static std::string
	Quote(std::string_view value)
	{
		constexpr std::size_t kMaxShown = 64;
		std::string out = "\"";
		for (std::size_t i = 0; i < value.size() && i < kMaxShown; ++i) {
			const auto c = static_cast<unsigned char>(value[i]);
			if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
				out += static_cast<char>(c);
			} else {
				static constexpr char kHex[] = "0123456789abcdef";
				out += "\\x";
				out += kHex[c >> 4];
				out += kHex[c & 0xf];
			}
		}
		if (value.size() > kMaxShown)
			out += "...";
		out += '"';
		return out;
	}

	static bool
	HasHttpScheme(std::string_view url)
	{
		for (std::string_view scheme : {"http://", "https://"}) {
			if (url.size() > scheme.size() && StartsWithIgnoringCase(url, scheme))
				return true;
		}
		return false;
	}

	static bool
	StartsWithIgnoringCase(std::string_view text, std::string_view prefix)
	{
		if (text.size() < prefix.size())
			return false;
		for (std::size_t i = 0; i < prefix.size(); ++i) {
			if (std::tolower(static_cast<unsigned char>(text[i])) !=
			    std::tolower(static_cast<unsigned char>(prefix[i])))
				return false;
		}
		return true;
	}

	// "https://user:pass@host/x" -> "https://***@host/x"; anything without credentials is returned as is.
	static std::string
	RedactUrlCredentials(std::string_view url)
	{
		const auto scheme_end = url.find("://");
		if (scheme_end == std::string_view::npos)
			return std::string(url);
		const auto authority_begin = scheme_end + 3;
		const auto authority_end = url.find_first_of("/?#", authority_begin);
		const auto at = url.substr(0, authority_end).rfind('@');
		if (at == std::string_view::npos || at < authority_begin)
			return std::string(url);
		return std::string(url.substr(0, authority_begin)) + kRedacted + std::string(url.substr(at));
	}

private:
	const EnvLookup& lookup_;
	std::vector<ConfigProblem> problems_;
};

nlohmann::json
SecretState(const std::string& value)
{
	return value.empty() ? nlohmann::json(nullptr) : nlohmann::json(kRedacted);
}

nlohmann::json
SecretState(const std::optional<std::string>& value)
{
	return value ? nlohmann::json(kRedacted) : nlohmann::json(nullptr);
}

// A URL for the log without user:password and without its query and fragment (gateways often take an API key
// there); null when unset.
nlohmann::json
UrlWithoutSecrets(const std::optional<std::string>& url)
{
	if (!url)
		return nullptr;
	return Reader::RedactUrlCredentials(url->substr(0, url->find_first_of("?#")));
}

} // namespace

EnvLookup
ProcessEnvironment()
{
	return [](const char* name) -> std::optional<std::string> {
		const char* value = std::getenv(name);
		if (value == nullptr)
			return std::nullopt;
		return std::string(value);
	};
}

ConfigResult
Config::FromEnv(const EnvLookup& lookup)
{
	Reader reader(lookup);
	Config config;

	if (auto value = reader.Get(kDatabaseUrl)) {
		config.database_url = std::move(*value);
	} else {
		reader.Problem(kDatabaseUrl, "is required (PostgreSQL connection string, e.g. "
		                             "postgresql://balatrix_api@127.0.0.1:15432/balatrix)");
	}

	if (auto value = reader.Get(kJwtSecret)) {
		if (value->size() < kMinJwtSecretBytes) {
			reader.Problem(kJwtSecret, "must be at least " + std::to_string(kMinJwtSecretBytes) +
			                               " bytes: it is the HMAC-SHA256 key that signs access tokens (got " +
			                               std::to_string(value->size()) + " bytes)");
		} else {
			config.jwt_secret = std::move(*value);
		}
	} else {
		reader.Problem(kJwtSecret, "is required (at least " + std::to_string(kMinJwtSecretBytes) +
		                               " random bytes; it signs access tokens, e.g. openssl rand -hex 32)");
	}

	config.port = static_cast<std::uint16_t>(reader.Integer(kPort, 1, 65535, kDefaultPort));

	if (auto value = reader.Get(kListenAddress)) {
		in_addr parsed{};
		if (inet_pton(AF_INET, value->c_str(), &parsed) != 1) {
			reader.Problem(kListenAddress, "must be an IPv4 address such as 127.0.0.1, or 0.0.0.0 for all "
			                               "interfaces (got " +
			                                   Reader::Quote(*value) + ")");
		} else {
			config.listen_address = std::move(*value);
		}
	}

	if (auto value = reader.Get(kLogLevel)) {
		if (auto level = ParseLogLevel(*value)) {
			config.log_level = *level;
		} else {
			reader.Problem(kLogLevel, "must be one of trace, debug, info, warn, error, critical, off (got " +
			                              Reader::Quote(*value) + ")");
		}
	}

	config.threads = static_cast<int>(reader.Integer(kThreads, 1, 64, kDefaultThreads));
	config.db_pool_size = static_cast<std::size_t>(reader.Integer(kPoolSize, 1, 256, kDefaultPoolSize));
	config.db_pool_timeout =
		std::chrono::milliseconds(reader.Integer(kPoolTimeout, 1, 600000, kDefaultPoolTimeout.count()));
	// 1 KiB keeps room for the smallest JSON request; 64 MiB bounds per-connection buffering.
	config.max_body_bytes =
		static_cast<std::size_t>(reader.Integer(kMaxBodyBytes, 1024, 64LL << 20, kDefaultMaxBodyBytes));
	// 0 is allowed (stop without waiting); 10 minutes is far beyond any sane supervisor's kill timeout.
	config.shutdown_grace = std::chrono::milliseconds(
		reader.Integer(kShutdownGrace, 0, kMaxShutdownGrace.count(), kDefaultShutdownGrace.count()));
	// Payments: one gateway request's bound (each attempt), and how often / how late the reconciler settles
	// payments and refunds a timeout or a lost webhook left open.
	config.gateway_timeout =
		std::chrono::milliseconds(reader.Integer(kGatewayTimeout, 100, 120000, kDefaultGatewayTimeout.count()));
	config.reconcile_interval =
		std::chrono::milliseconds(reader.Integer(kReconcileInterval, 100, 3600000, kDefaultReconcileInterval.count()));
	config.reconcile_after =
		std::chrono::seconds(reader.Integer(kReconcileAfter, 0, 86400, kDefaultReconcileAfter.count()));

	// Read first: whether "*" is acceptable depends on it.
	config.cors_allow_credentials = reader.Boolean(kCorsAllowCredentials, false);
	if (auto value = reader.Get(kCorsAllowedOrigins)) {
		std::vector<std::string> origins;
		std::vector<std::string> rejected;
		bool wildcard = false;
		std::size_t start = 0;
		while (start <= value->size()) {
			auto end = value->find(',', start);
			if (end == std::string::npos)
				end = value->size();
			std::string item = value->substr(start, end - start);
			start = end + 1;
			const auto first = item.find_first_not_of(" \t");
			const auto last = item.find_last_not_of(" \t");
			item = first == std::string::npos ? std::string() : item.substr(first, last - first + 1);
			if (item == "*") {
				wildcard = true;
			} else if (auto origin = http::NormalizeOrigin(item)) {
				origins.push_back(std::move(*origin));
			} else {
				rejected.push_back(Reader::Quote(item));
			}
		}
		if (!rejected.empty()) {
			std::string list;
			for (const auto& item : rejected)
				list += (list.empty() ? "" : ", ") + item;
			reader.Problem(kCorsAllowedOrigins, "entries must be origins such as https://portal.example.in or "
			                                    "http://localhost:4200 (scheme, host, optional port; no path); got " +
			                                        list);
		} else if (wildcard && !origins.empty()) {
			reader.Problem(kCorsAllowedOrigins, "\"*\" must be the only entry when given");
		} else if (wildcard && config.cors_allow_credentials) {
			reader.Problem(kCorsAllowedOrigins,
			               "\"*\" cannot be combined with CORS_ALLOW_CREDENTIALS=true; list the origins instead");
		} else {
			config.cors_allowed_origins = wildcard ? std::vector<std::string>{"*"} : std::move(origins);
		}
	}
	config.hsts_max_age = std::chrono::seconds(reader.Integer(kHstsMaxAge, 0, kMaxHstsMaxAge.count(), 0));
	config.jwt_leeway =
		std::chrono::seconds(reader.Integer(kJwtLeeway, 0, kMaxJwtLeeway.count(), kDefaultJwtLeeway.count()));

	// Requests per window (0: no limit); the windows are fixed (Config::RateLimits).
	config.rate_limits.api = reader.Integer(kRateLimitApi, 0, 100000000, config.rate_limits.api);
	config.rate_limits.login = reader.Integer(kRateLimitLogin, 0, 100000000, config.rate_limits.login);
	config.rate_limits.refresh = reader.Integer(kRateLimitRefresh, 0, 100000000, config.rate_limits.refresh);
	config.rate_limits.registration = reader.Integer(kRateLimitRegister, 0, 100000000, config.rate_limits.registration);
	config.rate_limits.password_reset =
		reader.Integer(kRateLimitPasswordReset, 0, 100000000, config.rate_limits.password_reset);
	config.rate_limits.cdr = reader.Integer(kRateLimitCdr, 0, 100000000, config.rate_limits.cdr);

	// The outbox consumer and the notifications it sends (Config: "The outbox consumer").
	config.outbox_enabled = reader.Boolean(kOutboxEnabled, true);
	config.outbox_poll_interval = std::chrono::milliseconds(
		reader.Integer(kOutboxPollInterval, 100, 3600000, config.outbox_poll_interval.count()));
	config.outbox_batch_size = static_cast<int>(reader.Integer(kOutboxBatchSize, 1, 1000, config.outbox_batch_size));
	config.outbox_lease =
		std::chrono::seconds(reader.Integer(kOutboxLeaseSeconds, 1, 86400, config.outbox_lease.count()));
	config.outbox_max_attempts =
		static_cast<int>(reader.Integer(kOutboxMaxAttempts, 1, 1000, config.outbox_max_attempts));
	config.webhook_timeout =
		std::chrono::milliseconds(reader.Integer(kWebhookTimeout, 100, 120000, config.webhook_timeout.count()));
	// The lease is renewed after each send: one send must fit in it, or another sidecar could take the event over
	// while the send is still running and deliver it a second time.
	if (config.outbox_enabled && config.webhook_timeout >= config.outbox_lease)
		reader.Problem(kOutboxLeaseSeconds, "must be longer than WEBHOOK_TIMEOUT_MS (" +
		                                        std::to_string(config.webhook_timeout.count()) +
		                                        " ms): a claimed event must outlive any one of its deliveries");
	if (auto value = reader.Get(kSmtpFrom)) {
		// Every e-mail's From header: a value that could not be one (or could smuggle a second header) is refused
		// here, not at the first send.
		if (clients::ParseMailbox(*value)) {
			config.smtp_from = std::move(*value);
		} else {
			reader.Problem(kSmtpFrom, "must be an e-mail address, optionally with a name: Name <billing@example.in> "
			                          "(got " +
			                              Reader::Quote(*value) + ")");
		}
	}
	if (auto value = reader.Get(kSmsGatewayUrl)) {
		if (Reader::HasHttpScheme(*value) && value->find_first_of(" \t\r\n") == std::string::npos)
			config.sms_gateway_url = std::move(*value);
		else
			reader.Problem(kSmsGatewayUrl, "must be an http:// or https:// URL (the SMS gateway's send endpoint)");
	}
	if (auto value = reader.Get(kSmsGatewayToken)) {
		// It travels in an Authorization header: printable ASCII without blanks (the value is never echoed).
		if (std::all_of(value->begin(), value->end(), [](char c) { return c > 0x20 && c < 0x7f; }))
			config.sms_gateway_token = std::move(*value);
		else
			reader.Problem(kSmsGatewayToken, "must be printable ASCII without spaces (it is sent as a Bearer token)");
	}
	if (auto value = reader.Get(kAppBaseUrl)) {
		while (value->size() > 1 && value->back() == '/')
			value->pop_back();
		if (!Reader::HasHttpScheme(*value) || value->find_first_of("?# \t\r\n") != std::string::npos)
			reader.Problem(kAppBaseUrl, "must be an http:// or https:// URL without a query, e.g. "
			                            "https://portal.example.in (got " +
			                                Reader::Quote(*value) + ")");
		else
			config.app_base_url = std::move(*value);
	}

	config.razorpay_key_id = reader.Get(kRazorpayKeyId);
	config.razorpay_key_secret = reader.Get(kRazorpayKeySecret);
	config.razorpay_webhook_secret = reader.Get(kRazorpayWebhookSecret);
	config.razorpay_api_base = reader.HttpUrl(kRazorpayApiBase, kDefaultRazorpayApiBase);
	config.stripe_secret_key = reader.Get(kStripeSecretKey);
	config.stripe_webhook_secret = reader.Get(kStripeWebhookSecret);
	config.stripe_api_base = reader.HttpUrl(kStripeApiBase, kDefaultStripeApiBase);

	// libcurl speaks SMTP through smtp:// (STARTTLS) and smtps:// (implicit TLS) URLs.
	if (auto value = reader.Get(kSmtpUrl)) {
		if (Reader::StartsWithIgnoringCase(*value, "smtp://") || Reader::StartsWithIgnoringCase(*value, "smtps://")) {
			config.smtp_url = std::move(*value);
		} else {
			// The value usually carries credentials: do not echo it.
			reader.Problem(kSmtpUrl,
			               "must be an smtp:// or smtps:// URL, e.g. smtps://user:password@smtp.example.com:465");
		}
	}

	auto problems = reader.TakeProblems();
	if (!problems.empty())
		return problems;
	return config;
}

nlohmann::json
Config::Redacted() const
{
	return nlohmann::json{
		{kDatabaseUrl, SecretState(database_url)},
		{kJwtSecret, SecretState(jwt_secret)},
		{kListenAddress, listen_address},
		{kPort, port},
		{kLogLevel, std::string(LogLevelName(log_level))},
		{kThreads, threads},
		{kPoolSize, db_pool_size},
		{kPoolTimeout, db_pool_timeout.count()},
		{kMaxBodyBytes, max_body_bytes},
		{kShutdownGrace, shutdown_grace.count()},
		{kCorsAllowedOrigins, cors_allowed_origins},
		{kCorsAllowCredentials, cors_allow_credentials},
		{kHstsMaxAge, hsts_max_age.count()},
		{kJwtLeeway, jwt_leeway.count()},
		{kRazorpayKeyId, razorpay_key_id ? nlohmann::json(*razorpay_key_id) : nlohmann::json(nullptr)},
		{kRazorpayKeySecret, SecretState(razorpay_key_secret)},
		{kRazorpayWebhookSecret, SecretState(razorpay_webhook_secret)},
		{kRazorpayApiBase, Reader::RedactUrlCredentials(razorpay_api_base)},
		{kStripeSecretKey, SecretState(stripe_secret_key)},
		{kStripeWebhookSecret, SecretState(stripe_webhook_secret)},
		{kStripeApiBase, Reader::RedactUrlCredentials(stripe_api_base)},
		{kSmtpUrl, SecretState(smtp_url)},
		{kGatewayTimeout, gateway_timeout.count()},
		{kReconcileInterval, reconcile_interval.count()},
		{kReconcileAfter, reconcile_after.count()},
		{kOutboxEnabled, outbox_enabled},
		{kOutboxPollInterval, outbox_poll_interval.count()},
		{kOutboxBatchSize, outbox_batch_size},
		{kOutboxLeaseSeconds, outbox_lease.count()},
		{kOutboxMaxAttempts, outbox_max_attempts},
		{kSmtpFrom, smtp_from},
		{kSmsGatewayUrl, UrlWithoutSecrets(sms_gateway_url)},
		{kSmsGatewayToken, SecretState(sms_gateway_token)},
		{kAppBaseUrl, app_base_url},
		{kWebhookTimeout, webhook_timeout.count()},
		{kRateLimitApi, rate_limits.api},
		{kRateLimitLogin, rate_limits.login},
		{kRateLimitRefresh, rate_limits.refresh},
		{kRateLimitRegister, rate_limits.registration},
		{kRateLimitPasswordReset, rate_limits.password_reset},
		{kRateLimitCdr, rate_limits.cdr},
	};
}

} // namespace balatrix::sidecar
