#include "config.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace balatrix::sidecar {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

using Env = std::map<std::string, std::string>;

const std::string kSecret = "s3cr3t-jwt-signing-key-0123456789abcdef"; // 39 bytes

EnvLookup
LookupIn(const Env& env)
{
	return [env](const char* name) -> std::optional<std::string> {
		const auto it = env.find(name);
		if (it == env.end())
			return std::nullopt;
		return it->second;
	};
}

Env
ValidEnv()
{
	return Env{{"DATABASE_URL", "postgresql://balatrix_api:pw-db-123@127.0.0.1:15432/balatrix"},
	           {"JWT_SECRET", kSecret}};
}

Config
MustParse(const Env& env)
{
	auto result = Config::FromEnv(LookupIn(env));
	if (auto* problems = std::get_if<std::vector<ConfigProblem>>(&result)) {
		std::string all;
		for (const auto& problem : *problems)
			all += problem.message + "\n";
		ADD_FAILURE() << "unexpected problems:\n" << all;
		return Config{};
	}
	return std::get<Config>(result);
}

std::vector<ConfigProblem>
MustFail(const Env& env)
{
	auto result = Config::FromEnv(LookupIn(env));
	if (std::holds_alternative<Config>(result)) {
		ADD_FAILURE() << "expected configuration problems";
		return {};
	}
	return std::get<std::vector<ConfigProblem>>(result);
}

std::vector<std::string>
Variables(const std::vector<ConfigProblem>& problems)
{
	std::vector<std::string> names;
	for (const auto& problem : problems)
		names.push_back(problem.variable);
	return names;
}

TEST(Config, EmptyEnvironmentReportsEveryRequiredVariable)
{
	const auto problems = MustFail(Env{});
	EXPECT_THAT(Variables(problems), UnorderedElementsAre("DATABASE_URL", "JWT_SECRET"));
	for (const auto& problem : problems)
		EXPECT_THAT(problem.message, HasSubstr(problem.variable)) << "the message must name the variable";
	EXPECT_THAT(problems[0].message + problems[1].message, HasSubstr("postgresql://"));
}

TEST(Config, EmptyValueCountsAsUnset)
{
	Env env = ValidEnv();
	env["DATABASE_URL"] = "";
	env["PORT"] = ""; // optional: falls back to the default
	const auto problems = MustFail(env);
	EXPECT_THAT(Variables(problems), UnorderedElementsAre("DATABASE_URL"));
}

TEST(Config, DefaultsApplyWhenOnlyRequiredSettingsAreGiven)
{
	const Config config = MustParse(ValidEnv());
	EXPECT_EQ(config.database_url, "postgresql://balatrix_api:pw-db-123@127.0.0.1:15432/balatrix");
	EXPECT_EQ(config.jwt_secret, kSecret);
	EXPECT_EQ(config.port, 3000);
	EXPECT_EQ(config.listen_address, "127.0.0.1");
	EXPECT_EQ(config.log_level, LogLevel::kInfo);
	EXPECT_EQ(config.threads, 2);
	EXPECT_EQ(config.db_pool_size, 8u);
	EXPECT_EQ(config.db_pool_timeout, std::chrono::milliseconds(2000));
	EXPECT_EQ(config.max_body_bytes, 1048576u);
	EXPECT_EQ(config.shutdown_grace, std::chrono::milliseconds(10000));
	EXPECT_EQ(config.razorpay_api_base, "https://api.razorpay.com");
	EXPECT_EQ(config.stripe_api_base, "https://api.stripe.com");
	EXPECT_FALSE(config.razorpay_key_id.has_value());
	EXPECT_FALSE(config.stripe_secret_key.has_value());
	EXPECT_FALSE(config.smtp_url.has_value());
	EXPECT_TRUE(config.cors_allowed_origins.empty());
	EXPECT_FALSE(config.cors_allow_credentials);
	EXPECT_EQ(config.hsts_max_age, std::chrono::seconds(0));
	EXPECT_EQ(config.jwt_leeway, std::chrono::seconds(30));
}

TEST(Config, ExplicitValuesOverrideDefaults)
{
	Env env = ValidEnv();
	env["PORT"] = "8080";
	env["LISTEN_ADDRESS"] = "0.0.0.0";
	env["LOG_LEVEL"] = "WARN";
	env["SIDECAR_THREADS"] = "4";
	env["DB_POOL_SIZE"] = "16";
	env["DB_POOL_TIMEOUT_MS"] = "750";
	env["MAX_BODY_BYTES"] = "2048";
	env["SHUTDOWN_GRACE_MS"] = "25000";
	env["RAZORPAY_KEY_ID"] = "rzp_test_abc";
	env["RAZORPAY_API_BASE"] = "http://127.0.0.1:18080";
	env["STRIPE_API_BASE"] = "http://127.0.0.1:18081";
	env["SMTP_URL"] = "smtps://mailer:pw@smtp.example.com:465";
	const Config config = MustParse(env);
	EXPECT_EQ(config.port, 8080);
	EXPECT_EQ(config.listen_address, "0.0.0.0");
	EXPECT_EQ(config.log_level, LogLevel::kWarn);
	EXPECT_EQ(config.threads, 4);
	EXPECT_EQ(config.db_pool_size, 16u);
	EXPECT_EQ(config.db_pool_timeout, std::chrono::milliseconds(750));
	EXPECT_EQ(config.max_body_bytes, 2048u);
	EXPECT_EQ(config.shutdown_grace, std::chrono::milliseconds(25000));
	EXPECT_EQ(config.razorpay_key_id, "rzp_test_abc");
	EXPECT_EQ(config.razorpay_api_base, "http://127.0.0.1:18080");
	EXPECT_EQ(config.stripe_api_base, "http://127.0.0.1:18081");
	EXPECT_EQ(config.smtp_url, "smtps://mailer:pw@smtp.example.com:465");
}

TEST(Config, PortMustBeAPlainIntegerInRange)
{
	for (const char* bad : {"0", "65536", "-1", "+80", "80 ", " 80", "80x", "0x50", "abc", "99999999999999999999"}) {
		Env env = ValidEnv();
		env["PORT"] = bad;
		const auto problems = MustFail(env);
		ASSERT_EQ(problems.size(), 1u) << "PORT=" << bad;
		EXPECT_EQ(problems[0].variable, "PORT");
		EXPECT_THAT(problems[0].message, HasSubstr("between 1 and 65535")) << "PORT=" << bad;
	}
	for (const char* good : {"1", "65535", "25499"}) {
		Env env = ValidEnv();
		env["PORT"] = good;
		EXPECT_EQ(MustParse(env).port, std::stoi(good));
	}
}

TEST(Config, NumericSettingsAreBounded)
{
	const std::vector<std::pair<std::string, std::string>> cases = {
		{"SIDECAR_THREADS", "0"},    {"SIDECAR_THREADS", "65"},  {"DB_POOL_SIZE", "0"},      {"DB_POOL_SIZE", "257"},
		{"DB_POOL_TIMEOUT_MS", "0"}, {"MAX_BODY_BYTES", "1023"}, {"MAX_BODY_BYTES", "lots"},
	};
	for (const auto& [name, value] : cases) {
		Env env = ValidEnv();
		env[name] = value;
		const auto problems = MustFail(env);
		ASSERT_EQ(problems.size(), 1u) << name << "=" << value;
		EXPECT_EQ(problems[0].variable, name);
	}
}

TEST(Config, ShutdownGraceIsMillisecondsFromZeroToTenMinutes)
{
	for (const char* bad : {"abc", "-1", "600001", "1.5", "10s", " 100", "99999999999999999999"}) {
		Env env = ValidEnv();
		env["SHUTDOWN_GRACE_MS"] = bad;
		const auto problems = MustFail(env);
		ASSERT_EQ(problems.size(), 1u) << "SHUTDOWN_GRACE_MS=" << bad;
		EXPECT_EQ(problems[0].variable, "SHUTDOWN_GRACE_MS");
		EXPECT_THAT(problems[0].message, HasSubstr("SHUTDOWN_GRACE_MS must be an integer between 0 and 600000"))
			<< problems[0].message;
	}
	for (const auto& [text, expected] : std::vector<std::pair<std::string, long long>>{
			 {"0", 0}, {"1", 1}, {"600000", 600000}, {"", 10000} /* empty = unset = default */}) {
		Env env = ValidEnv();
		env["SHUTDOWN_GRACE_MS"] = text;
		EXPECT_EQ(MustParse(env).shutdown_grace, std::chrono::milliseconds(expected)) << "'" << text << "'";
	}
}

TEST(Config, LogLevelMustBeKnown)
{
	Env env = ValidEnv();
	env["LOG_LEVEL"] = "verbose";
	const auto problems = MustFail(env);
	ASSERT_EQ(problems.size(), 1u);
	EXPECT_EQ(problems[0].variable, "LOG_LEVEL");
	EXPECT_THAT(problems[0].message, HasSubstr("trace, debug, info, warn, error, critical, off"));

	for (const auto& [text, level] : std::vector<std::pair<std::string, LogLevel>>{
			 {"trace", LogLevel::kTrace},
			 {"debug", LogLevel::kDebug},
			 {"info", LogLevel::kInfo},
			 {"warn", LogLevel::kWarn},
			 {"error", LogLevel::kError},
			 {"critical", LogLevel::kCritical},
			 {"off", LogLevel::kOff},
			 {"Critical", LogLevel::kCritical},
		 }) {
		env["LOG_LEVEL"] = text;
		EXPECT_EQ(MustParse(env).log_level, level) << text;
	}
}

TEST(Config, ShortJwtSecretIsRejectedWithTheReasonAndWithoutTheValue)
{
	Env env = ValidEnv();
	env["JWT_SECRET"] = "0123456789abcdef0123456789abcde"; // 31 bytes
	const auto problems = MustFail(env);
	ASSERT_EQ(problems.size(), 1u);
	EXPECT_EQ(problems[0].variable, "JWT_SECRET");
	EXPECT_THAT(problems[0].message, HasSubstr("at least 32 bytes"));
	EXPECT_THAT(problems[0].message, HasSubstr("signs access tokens"));
	EXPECT_THAT(problems[0].message, ::testing::Not(HasSubstr(env["JWT_SECRET"])));

	env["JWT_SECRET"] += "f"; // exactly 32 bytes is enough
	EXPECT_EQ(MustParse(env).jwt_secret.size(), 32u);
}

TEST(Config, ListenAddressMustBeAnIpv4Literal)
{
	for (const char* bad : {"localhost", "::1", "127.0.0.256", "10.0.0", "127.0.0.1:3000"}) {
		Env env = ValidEnv();
		env["LISTEN_ADDRESS"] = bad;
		const auto problems = MustFail(env);
		ASSERT_EQ(problems.size(), 1u) << bad;
		EXPECT_EQ(problems[0].variable, "LISTEN_ADDRESS");
	}
}

TEST(Config, GatewayAndSmtpUrlsNeedTheRightScheme)
{
	Env env = ValidEnv();
	env["RAZORPAY_API_BASE"] = "api.razorpay.com";
	env["STRIPE_API_BASE"] = "ftp://api.stripe.com";
	env["SMTP_URL"] = "https://mailer:smtp-pw-987@smtp.example.com";
	const auto problems = MustFail(env);
	EXPECT_THAT(Variables(problems), UnorderedElementsAre("RAZORPAY_API_BASE", "STRIPE_API_BASE", "SMTP_URL"));
	for (const auto& problem : problems)
		EXPECT_THAT(problem.message, ::testing::Not(HasSubstr("smtp-pw-987"))) << "SMTP_URL carries credentials";
}

TEST(Config, EveryProblemIsReportedAtOnce)
{
	const Env env{{"JWT_SECRET", "short"}, {"PORT", "http"}, {"LOG_LEVEL", "loud"}, {"DB_POOL_SIZE", "-3"}};
	const auto problems = MustFail(env);
	EXPECT_THAT(Variables(problems),
	            UnorderedElementsAre("DATABASE_URL", "JWT_SECRET", "PORT", "LOG_LEVEL", "DB_POOL_SIZE"));
}

TEST(Config, RejectedValuesAreEchoedSafely)
{
	Env env = ValidEnv();
	env["LOG_LEVEL"] = "in\x1b[31mfo\n";
	const auto problems = MustFail(env);
	ASSERT_EQ(problems.size(), 1u);
	EXPECT_EQ(problems[0].message.find_first_of("\x1b\n"), std::string::npos) << problems[0].message;
	EXPECT_THAT(problems[0].message, HasSubstr("\\x1b"));
}

TEST(Config, CorsOriginsAreNormalisedAndValidated)
{
	Env env = ValidEnv();
	env["CORS_ALLOWED_ORIGINS"] = " HTTPS://Portal.Example.in , http://localhost:4200,http://[::1]:8080 ";
	env["CORS_ALLOW_CREDENTIALS"] = "TRUE";
	const Config config = MustParse(env);
	EXPECT_EQ(config.cors_allowed_origins,
	          (std::vector<std::string>{"https://portal.example.in", "http://localhost:4200", "http://[::1]:8080"}));
	EXPECT_TRUE(config.cors_allow_credentials);

	env["CORS_ALLOW_CREDENTIALS"] = "false";
	env["CORS_ALLOWED_ORIGINS"] = "*";
	EXPECT_EQ(MustParse(env).cors_allowed_origins, std::vector<std::string>{"*"});

	for (const char* bad : {"https://portal.example.in/", "portal.example.in", "https://a.example,,https://b.example",
	                        "null", "*,https://a.example", "https://a.example,", "ftp://a.example"}) {
		env["CORS_ALLOWED_ORIGINS"] = bad;
		const auto problems = MustFail(env);
		ASSERT_EQ(problems.size(), 1u) << bad;
		EXPECT_EQ(problems[0].variable, "CORS_ALLOWED_ORIGINS") << bad;
	}
}

TEST(Config, WildcardOriginIsRefusedWithCredentials)
{
	Env env = ValidEnv();
	env["CORS_ALLOWED_ORIGINS"] = "*";
	env["CORS_ALLOW_CREDENTIALS"] = "1";
	const auto problems = MustFail(env);
	ASSERT_EQ(problems.size(), 1u);
	EXPECT_EQ(problems[0].variable, "CORS_ALLOWED_ORIGINS");
	EXPECT_THAT(problems[0].message, HasSubstr("CORS_ALLOW_CREDENTIALS"));
}

TEST(Config, HstsLeewayAndBooleansAreBounded)
{
	Env env = ValidEnv();
	env["HSTS_MAX_AGE_SECONDS"] = "31536000";
	env["JWT_LEEWAY_SECONDS"] = "0";
	const Config config = MustParse(env);
	EXPECT_EQ(config.hsts_max_age, std::chrono::seconds(31536000));
	EXPECT_EQ(config.jwt_leeway, std::chrono::seconds(0));

	const Env bad{{"DATABASE_URL", "postgresql://x@127.0.0.1/x"},
	              {"JWT_SECRET", kSecret},
	              {"HSTS_MAX_AGE_SECONDS", "63072001"},
	              {"JWT_LEEWAY_SECONDS", "301"},
	              {"CORS_ALLOW_CREDENTIALS", "yes"}};
	EXPECT_THAT(Variables(MustFail(bad)),
	            UnorderedElementsAre("HSTS_MAX_AGE_SECONDS", "JWT_LEEWAY_SECONDS", "CORS_ALLOW_CREDENTIALS"));
}

TEST(Config, RedactedHidesEverySecretAndShowsTheRest)
{
	Env env = ValidEnv();
	env["RAZORPAY_KEY_ID"] = "rzp_test_public_id";
	env["RAZORPAY_KEY_SECRET"] = "rzp-secret-value-1";
	env["RAZORPAY_WEBHOOK_SECRET"] = "rzp-webhook-value-2";
	env["STRIPE_SECRET_KEY"] = "sk_test_value_3";
	env["STRIPE_WEBHOOK_SECRET"] = "whsec_value_4";
	env["STRIPE_API_BASE"] = "https://user:base-pw-5@stripe.internal";
	env["SMTP_URL"] = "smtps://mailer:smtp-pw-6@smtp.example.com:465";
	const Config config = MustParse(env);
	const nlohmann::json redacted = config.Redacted();
	const std::string dump = redacted.dump();

	for (const std::string& secret :
	     {kSecret, std::string("pw-db-123"), std::string("rzp-secret-value-1"), std::string("rzp-webhook-value-2"),
	      std::string("sk_test_value_3"), std::string("whsec_value_4"), std::string("base-pw-5"),
	      std::string("smtp-pw-6")}) {
		EXPECT_EQ(dump.find(secret), std::string::npos) << "secret leaked: " << secret << " in " << dump;
	}
	EXPECT_EQ(redacted["DATABASE_URL"], "***");
	EXPECT_EQ(redacted["JWT_SECRET"], "***");
	EXPECT_EQ(redacted["RAZORPAY_KEY_SECRET"], "***");
	EXPECT_EQ(redacted["SMTP_URL"], "***");
	EXPECT_EQ(redacted["STRIPE_API_BASE"], "https://***@stripe.internal");
	EXPECT_EQ(redacted["RAZORPAY_KEY_ID"], "rzp_test_public_id");
	EXPECT_EQ(redacted["PORT"], 3000);
	EXPECT_EQ(redacted["LOG_LEVEL"], "info");
	EXPECT_EQ(redacted["SHUTDOWN_GRACE_MS"], 10000);
	EXPECT_EQ(redacted["CORS_ALLOWED_ORIGINS"], nlohmann::json::array());
	EXPECT_EQ(redacted["JWT_LEEWAY_SECONDS"], 30);
}

TEST(Config, RedactedShowsUnsetSecretsAsNull)
{
	const nlohmann::json redacted = MustParse(ValidEnv()).Redacted();
	EXPECT_TRUE(redacted["STRIPE_SECRET_KEY"].is_null());
	EXPECT_TRUE(redacted["SMTP_URL"].is_null());
	EXPECT_TRUE(redacted["RAZORPAY_KEY_ID"].is_null());
}

TEST(Config, OutboxAndNotificationDefaults)
{
	const Config config = MustParse(ValidEnv());
	EXPECT_TRUE(config.outbox_enabled);
	EXPECT_EQ(config.outbox_poll_interval, std::chrono::milliseconds(5000));
	EXPECT_EQ(config.outbox_batch_size, 10);
	EXPECT_EQ(config.outbox_lease, std::chrono::seconds(60));
	EXPECT_EQ(config.outbox_max_attempts, 8);
	EXPECT_EQ(config.smtp_from, "Balatrix <billing@localhost>");
	EXPECT_FALSE(config.sms_gateway_url);
	EXPECT_FALSE(config.sms_gateway_token);
	EXPECT_EQ(config.app_base_url, "http://localhost:3000");
	EXPECT_EQ(config.webhook_timeout, std::chrono::milliseconds(10000));
}

TEST(Config, OutboxAndNotificationValues)
{
	Env env = ValidEnv();
	env["OUTBOX_ENABLED"] = "false";
	env["OUTBOX_POLL_INTERVAL_MS"] = "250";
	env["OUTBOX_BATCH_SIZE"] = "50";
	env["OUTBOX_LEASE_SECONDS"] = "5";
	env["OUTBOX_MAX_ATTEMPTS"] = "3";
	env["SMTP_FROM"] = "\"Acme Telecom, Billing\" <billing@acme.example>";
	env["SMS_GATEWAY_URL"] = "https://sms.example.in/v1/send?key=sms-key-7";
	env["SMS_GATEWAY_TOKEN"] = "sms-token-8";
	env["APP_BASE_URL"] = "https://portal.example.in//";
	env["WEBHOOK_TIMEOUT_MS"] = "2500";
	const Config config = MustParse(env);
	EXPECT_FALSE(config.outbox_enabled);
	EXPECT_EQ(config.outbox_poll_interval, std::chrono::milliseconds(250));
	EXPECT_EQ(config.outbox_batch_size, 50);
	EXPECT_EQ(config.outbox_lease, std::chrono::seconds(5));
	EXPECT_EQ(config.outbox_max_attempts, 3);
	EXPECT_EQ(config.smtp_from, "\"Acme Telecom, Billing\" <billing@acme.example>");
	EXPECT_EQ(config.sms_gateway_url, std::optional<std::string>("https://sms.example.in/v1/send?key=sms-key-7"));
	EXPECT_EQ(config.sms_gateway_token, std::optional<std::string>("sms-token-8"));
	EXPECT_EQ(config.app_base_url, "https://portal.example.in"); // trailing slashes dropped: links add their own
	EXPECT_EQ(config.webhook_timeout, std::chrono::milliseconds(2500));

	const nlohmann::json redacted = config.Redacted();
	const std::string dump = redacted.dump();
	EXPECT_EQ(dump.find("sms-key-7"), std::string::npos) << dump;
	EXPECT_EQ(dump.find("sms-token-8"), std::string::npos) << dump;
	EXPECT_EQ(redacted["SMS_GATEWAY_URL"], "https://sms.example.in/v1/send");
	EXPECT_EQ(redacted["SMS_GATEWAY_TOKEN"], "***");
	EXPECT_EQ(redacted["SMTP_FROM"], "\"Acme Telecom, Billing\" <billing@acme.example>");
	EXPECT_EQ(redacted["OUTBOX_ENABLED"], false);
	EXPECT_EQ(redacted["OUTBOX_LEASE_SECONDS"], 5);
	EXPECT_EQ(redacted["APP_BASE_URL"], "https://portal.example.in");
}

TEST(Config, OutboxAndNotificationSettingsAreValidated)
{
	Env env = ValidEnv();
	env["OUTBOX_ENABLED"] = "maybe";
	env["OUTBOX_POLL_INTERVAL_MS"] = "99";
	env["OUTBOX_BATCH_SIZE"] = "0";
	env["OUTBOX_LEASE_SECONDS"] = "86401";
	env["OUTBOX_MAX_ATTEMPTS"] = "1001";
	env["SMTP_FROM"] = "Billing <billing@acme.example>\r\nBcc: victim@example.com";
	env["SMS_GATEWAY_URL"] = "ftp://sms.example.in/send";
	env["SMS_GATEWAY_TOKEN"] = "two words";
	env["APP_BASE_URL"] = "https://portal.example.in/?next=x";
	env["WEBHOOK_TIMEOUT_MS"] = "120001";
	const auto problems = MustFail(env);
	EXPECT_THAT(Variables(problems),
	            UnorderedElementsAre("OUTBOX_ENABLED", "OUTBOX_POLL_INTERVAL_MS", "OUTBOX_BATCH_SIZE",
	                                 "OUTBOX_LEASE_SECONDS", "OUTBOX_MAX_ATTEMPTS", "SMTP_FROM", "SMS_GATEWAY_URL",
	                                 "SMS_GATEWAY_TOKEN", "APP_BASE_URL", "WEBHOOK_TIMEOUT_MS"));
	for (const auto& problem : problems) {
		EXPECT_EQ(problem.message.find('\n'), std::string::npos) << problem.message;
		EXPECT_EQ(problem.message.find("two words"), std::string::npos) << "the token is never echoed";
	}

	Env lease = ValidEnv();
	lease["OUTBOX_LEASE_SECONDS"] = "10";
	lease["WEBHOOK_TIMEOUT_MS"] = "10000";
	EXPECT_THAT(Variables(MustFail(lease)), UnorderedElementsAre("OUTBOX_LEASE_SECONDS"))
		<< "a lease no longer than one webhook request";
	lease["OUTBOX_ENABLED"] = "false";
	MustParse(lease); // no consumer, no lease to outlive

	for (const char* bad : {"billing", "Billing <billing@acme>", "<billing@acme.example", "a@b.example, c@d.example"}) {
		Env one = ValidEnv();
		one["SMTP_FROM"] = bad;
		EXPECT_THAT(Variables(MustFail(one)), UnorderedElementsAre("SMTP_FROM")) << bad;
	}
	Env bounds = ValidEnv();
	bounds["OUTBOX_POLL_INTERVAL_MS"] = "100";
	bounds["OUTBOX_BATCH_SIZE"] = "1000";
	bounds["OUTBOX_LEASE_SECONDS"] = "1";
	bounds["OUTBOX_MAX_ATTEMPTS"] = "1";
	bounds["WEBHOOK_TIMEOUT_MS"] = "999";
	const Config edge = MustParse(bounds);
	EXPECT_EQ(edge.outbox_batch_size, 1000);
	EXPECT_EQ(edge.outbox_lease, std::chrono::seconds(1));
}

} // namespace
} // namespace balatrix::sidecar
