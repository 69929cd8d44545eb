/*
 * Sidecar configuration, read once at startup from the environment (12-factor; PRODUCT.md §8).
 *
 * Config::FromEnv validates everything and reports every problem at once, so an operator fixes a broken
 * deployment in one pass. An empty value counts as unset (docker-compose passes `${VAR:-}` as "").
 *
 * Secrets (DATABASE_URL, JWT_SECRET, gateway secrets, SMTP_URL) are held here and nowhere else; log
 * Config::Redacted(), never the fields.
 *
 * CORS_ALLOWED_ORIGINS is a comma-separated list of exact origins (http(s)://host[:port], no path) that browsers
 * may call the API from, or "*" alone; CORS_ALLOW_CREDENTIALS (true/false) lets them send cookies, and cannot
 * be combined with "*". HSTS_MAX_AGE_SECONDS > 0 adds Strict-Transport-Security (only behind HTTPS).
 * JWT_LEEWAY_SECONDS is the clock skew tolerated when access tokens are checked.
 *
 * SHUTDOWN_GRACE_MS (0..600000, default 10000) bounds the graceful shutdown: after SIGTERM/SIGINT the sidecar
 * fails /health/ready and keeps serving until no request is in flight, but stops after this long regardless
 * (0: stop at once). Whatever supervises the process must wait longer than this before it sends SIGKILL
 * (docker compose: stop_grace_period).
 */
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "log.hpp"

namespace balatrix::sidecar {

// Looks up one environment variable: its value, or std::nullopt when unset. Injected so tests need no real
// environment; must be callable from the thread that calls Config::FromEnv.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// The process environment (std::getenv). Call it before any thread starts: getenv is not safe against a
// concurrent setenv.
EnvLookup ProcessEnvironment();

// One invalid or missing setting.
struct ConfigProblem {
	std::string variable; // e.g. "PORT"
	std::string message;  // one line, starts with the variable's name, never contains a secret value
};

struct Config;
using ConfigResult = std::variant<Config, std::vector<ConfigProblem>>;

struct Config {
	static constexpr std::uint16_t kDefaultPort = 3000;
	static constexpr const char* kDefaultListenAddress = "127.0.0.1";
	static constexpr LogLevel kDefaultLogLevel = LogLevel::kInfo;
	static constexpr int kDefaultThreads = 2;
	static constexpr std::size_t kDefaultPoolSize = 8;
	static constexpr std::chrono::milliseconds kDefaultPoolTimeout{2000};
	static constexpr std::size_t kDefaultMaxBodyBytes = 1048576;
	static constexpr std::chrono::milliseconds kDefaultShutdownGrace{10000};
	static constexpr std::chrono::milliseconds kMaxShutdownGrace{600000};
	static constexpr std::size_t kMinJwtSecretBytes = 32;
	static constexpr std::chrono::seconds kMaxHstsMaxAge{63072000}; // two years
	static constexpr std::chrono::seconds kDefaultJwtLeeway{30};
	static constexpr std::chrono::seconds kMaxJwtLeeway{300};
	static constexpr const char* kDefaultRazorpayApiBase = "https://api.razorpay.com";
	static constexpr const char* kDefaultStripeApiBase = "https://api.stripe.com";

	std::string database_url;                           // secret: may carry a password
	std::string jwt_secret;                             // secret
	std::string listen_address = kDefaultListenAddress; // dotted IPv4 literal
	std::uint16_t port = kDefaultPort;
	LogLevel log_level = kDefaultLogLevel;
	int threads = kDefaultThreads;
	std::size_t db_pool_size = kDefaultPoolSize;
	std::chrono::milliseconds db_pool_timeout = kDefaultPoolTimeout;
	std::size_t max_body_bytes = kDefaultMaxBodyBytes;
	// SHUTDOWN_GRACE_MS: the longest wait for requests in flight after SIGTERM/SIGINT (see above).
	std::chrono::milliseconds shutdown_grace = kDefaultShutdownGrace;
	// CORS_ALLOWED_ORIGINS, normalised (lower case); empty: no cross-origin access. Either origins or {"*"}.
	std::vector<std::string> cors_allowed_origins;
	bool cors_allow_credentials = false;
	std::chrono::seconds hsts_max_age{0}; // 0: no Strict-Transport-Security header
	std::chrono::seconds jwt_leeway = kDefaultJwtLeeway;

	// Used by later features; read and validated now so a typo fails at deploy time, not at first payment.
	std::optional<std::string> razorpay_key_id;         // public identifier, not a secret
	std::optional<std::string> razorpay_key_secret;     // secret
	std::optional<std::string> razorpay_webhook_secret; // secret
	std::string razorpay_api_base = kDefaultRazorpayApiBase;
	std::optional<std::string> stripe_secret_key;     // secret
	std::optional<std::string> stripe_webhook_secret; // secret
	std::string stripe_api_base = kDefaultStripeApiBase;
	std::optional<std::string> smtp_url; // secret: usually carries credentials
	// GATEWAY_TIMEOUT_MS: each Razorpay / Stripe request (100..120000, default 15000; 3 attempts for the safe
	// ones). RECONCILE_INTERVAL_MS (100..3600000, default 60000): how often open payments and refunds are looked
	// up at the gateway; RECONCILE_AFTER_SECONDS (0..86400, default 120): how long one stays untouched first.
	static constexpr std::chrono::milliseconds kDefaultGatewayTimeout{15000};
	static constexpr std::chrono::milliseconds kDefaultReconcileInterval{60000};
	static constexpr std::chrono::seconds kDefaultReconcileAfter{120};
	std::chrono::milliseconds gateway_timeout = kDefaultGatewayTimeout;
	std::chrono::milliseconds reconcile_interval = kDefaultReconcileInterval;
	std::chrono::seconds reconcile_after = kDefaultReconcileAfter;

	// The outbox consumer and its notifications (outbox/consumer.hpp, outbox/notifier.hpp). OUTBOX_ENABLED
	// (default true) runs the consumer. OUTBOX_POLL_INTERVAL_MS (100..3600000, default 5000): the longest wait
	// for a NOTIFY before the outbox is looked at anyway (what a lost NOTIFY can cost). OUTBOX_BATCH_SIZE
	// (1..1000, default 10) events per claim; OUTBOX_LEASE_SECONDS (1..86400, default 60) how long a claimed event
	// is this sidecar's (renewed as each event starts and after each send; longer than WEBHOOK_TIMEOUT_MS, checked,
	// and than an e-mail's 30 s SMTP timeout, not checked); OUTBOX_MAX_ATTEMPTS
	// (1..1000, default 8) before an event is dead-lettered. SMTP_FROM: "Name <address>" or "address", the
	// sender of every e-mail (its name signs the texts). SMS_GATEWAY_URL (http/https; unset: no SMS) and
	// SMS_GATEWAY_TOKEN (secret, sent as a Bearer token). APP_BASE_URL (http/https, no query): the front end
	// that verification and password-reset links point at. WEBHOOK_TIMEOUT_MS (100..120000, default 10000):
	// each customer webhook and SMS gateway request. Channels: e-mail iff SMTP_URL is set, SMS iff
	// SMS_GATEWAY_URL is set, customer webhooks always.
	static constexpr const char* kDefaultSmtpFrom = "Balatrix <billing@localhost>";
	static constexpr const char* kDefaultAppBaseUrl = "http://localhost:3000";
	bool outbox_enabled = true;
	std::chrono::milliseconds outbox_poll_interval{5000};
	int outbox_batch_size = 10;
	std::chrono::seconds outbox_lease{60};
	int outbox_max_attempts = 8;
	std::string smtp_from = kDefaultSmtpFrom;
	std::optional<std::string> sms_gateway_url;   // may carry a key in its query: logged without it
	std::optional<std::string> sms_gateway_token; // secret
	std::string app_base_url = kDefaultAppBaseUrl; // no trailing '/'
	std::chrono::milliseconds webhook_timeout{10000};

	// Rate limits (kept in PostgreSQL, shared by every sidecar): requests per fixed window, 0 = off.
	// RATE_LIMIT_API: every /api request per user (or address), 15 min. RATE_LIMIT_LOGIN: failed logins per
	// e-mail and per address, 15 min. RATE_LIMIT_REFRESH: token refreshes per address, 15 min.
	// RATE_LIMIT_REGISTER: registrations per address, 1 h. RATE_LIMIT_PASSWORD_RESET: forgot / reset per
	// e-mail or address, 1 h. RATE_LIMIT_CDR: CDR posts per user, 1 min.
	struct RateLimits {
		std::int64_t api = 1000;
		std::int64_t login = 20;
		std::int64_t refresh = 30;
		std::int64_t registration = 3;
		std::int64_t password_reset = 3;
		std::int64_t cdr = 1000;
	} rate_limits;

	// Reads and validates every setting. Returns the Config, or every problem found (never an empty list).
	static ConfigResult FromEnv(const EnvLookup& lookup);

	// Every setting keyed by its variable name, secrets shown as "***" when set and null when unset; URLs
	// lose any user:password part. Safe to log.
	nlohmann::json Redacted() const;
};

} // namespace balatrix::sidecar
