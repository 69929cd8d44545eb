// CORS decisions: origin normalisation, the allow-list, and the headers of actual and preflight responses.
#include "http/cors.hpp"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace balatrix::sidecar::http {
namespace {

std::map<std::string, std::string>
AsMap(const HeaderList& headers)
{
	std::map<std::string, std::string> map;
	for (const auto& [name, value] : headers) {
		EXPECT_EQ(map.count(name), 0u) << "header repeated: " << name;
		map[name] = value;
	}
	return map;
}

CorsPolicy
Policy(std::vector<std::string> origins, bool credentials = false)
{
	CorsOptions options;
	options.allowed_origins = std::move(origins);
	options.allow_credentials = credentials;
	return CorsPolicy(options);
}

TEST(NormalizeOrigin, Table)
{
	const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
		{"https://portal.example.in", "https://portal.example.in"},
		{"HTTPS://Portal.Example.IN", "https://portal.example.in"},
		{"http://localhost:4200", "http://localhost:4200"},
		{"http://127.0.0.1:3000", "http://127.0.0.1:3000"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"https://a-b.c-d.example", "https://a-b.c-d.example"},
		{"https://portal.example.in/", std::nullopt}, // a path, even "/"
		{"https://portal.example.in/app", std::nullopt},
		{"https://user@portal.example.in", std::nullopt},
		{"https://portal.example.in?x", std::nullopt},
		{"https://portal.example.in#x", std::nullopt},
		{"https://portal.example.in:", std::nullopt},
		{"https://portal.example.in:0", std::nullopt},
		{"https://portal.example.in:65536", std::nullopt},
		{"https://portal.example.in:080", std::nullopt},
		{"https://portal.example.in:8x", std::nullopt},
		{"ftp://portal.example.in", std::nullopt},
		{"portal.example.in", std::nullopt},
		{"https://", std::nullopt},
		{"https://[]", std::nullopt},
		{"https://[zz]", std::nullopt},
		{"https://por tal.example.in", std::nullopt},
		{"null", std::nullopt},
		{"*", std::nullopt},
		{"", std::nullopt},
	};
	for (const auto& [input, expected] : cases)
		EXPECT_EQ(NormalizeOrigin(input), expected) << input;
}

TEST(CorsPolicy, RefusesInconsistentOptions)
{
	EXPECT_THROW(Policy({"*"}, /*credentials=*/true), std::invalid_argument) << "no wildcard with credentials";
	EXPECT_THROW(Policy({"*", "https://a.example"}), std::invalid_argument);
	EXPECT_THROW(Policy({"https://a.example/"}), std::invalid_argument);
	EXPECT_THROW(Policy({"null"}), std::invalid_argument);
	EXPECT_NO_THROW(Policy({"*"}));
	EXPECT_NO_THROW(Policy({"https://a.example", "http://localhost:4200"}, true));
}

TEST(CorsPolicy, AllowListDecisions)
{
	const CorsPolicy policy = Policy({"https://Portal.Example.in", "http://localhost:4200"});
	const std::vector<std::pair<std::string, bool>> cases = {
		{"https://portal.example.in", true},
		{"HTTPS://PORTAL.EXAMPLE.IN", true}, // compared after normalisation
		{"http://localhost:4200", true},
		{"http://portal.example.in", false},      // other scheme
		{"https://portal.example.in:443", false}, // explicit port is another origin string
		{"https://evil.portal.example.in", false},
		{"https://portal.example.in.evil.example", false},
		{"http://localhost:4201", false},
		{"null", false},
		{"", false},
		{"https://portal.example.in/", false},
	};
	for (const auto& [origin, allowed] : cases)
		EXPECT_EQ(policy.IsAllowed(origin), allowed) << origin;
	EXPECT_TRUE(policy.enabled());
	EXPECT_FALSE(Policy({}).enabled());
	EXPECT_FALSE(Policy({}).IsAllowed("https://portal.example.in"));
}

TEST(CorsPolicy, ResponseHeadersForAnAllowedOrigin)
{
	const auto headers =
		AsMap(Policy({"https://portal.example.in"}, true).ResponseHeaders("https://PORTAL.example.in"));
	EXPECT_EQ(headers.at("Access-Control-Allow-Origin"), "https://portal.example.in");
	EXPECT_EQ(headers.at("Access-Control-Allow-Credentials"), "true");
	EXPECT_EQ(headers.at("Vary"), "Origin");
	EXPECT_NE(headers.at("Access-Control-Expose-Headers").find("X-Request-ID"), std::string::npos);
	EXPECT_NE(headers.at("Access-Control-Expose-Headers").find("Retry-After"), std::string::npos);
}

TEST(CorsPolicy, ResponseHeadersForARefusedOrMissingOriginOnlyVary)
{
	const CorsPolicy policy = Policy({"https://portal.example.in"});
	for (const std::optional<std::string_view> origin :
	     {std::optional<std::string_view>("https://evil.example"), std::optional<std::string_view>()}) {
		const auto headers = AsMap(policy.ResponseHeaders(origin));
		EXPECT_EQ(headers.size(), 1u);
		EXPECT_EQ(headers.at("Vary"), "Origin");
	}
	EXPECT_EQ(AsMap(policy.ResponseHeaders("https://portal.example.in")).count("Access-Control-Allow-Credentials"), 0u)
		<< "credentials only when configured";
}

TEST(CorsPolicy, DisabledPolicySendsNothing)
{
	EXPECT_TRUE(Policy({}).ResponseHeaders("https://portal.example.in").empty());
	EXPECT_TRUE(Policy({}).ResponseHeaders(std::nullopt).empty());
}

TEST(CorsPolicy, WildcardAnswersStarWithoutCredentialsOrVary)
{
	const CorsPolicy policy = Policy({"*"});
	EXPECT_TRUE(policy.IsAllowed("https://anyone.example"));
	EXPECT_FALSE(policy.IsAllowed("null")) << "\"null\" is never an allowed origin";
	const auto headers = AsMap(policy.ResponseHeaders("https://anyone.example"));
	EXPECT_EQ(headers.at("Access-Control-Allow-Origin"), "*");
	EXPECT_EQ(headers.count("Access-Control-Allow-Credentials"), 0u);
	EXPECT_EQ(headers.count("Vary"), 0u);
	EXPECT_TRUE(policy.ResponseHeaders(std::nullopt).empty());
}

TEST(CorsPolicy, PreflightHeaders)
{
	CorsOptions options;
	options.allowed_origins = {"https://portal.example.in"};
	options.allow_credentials = true;
	options.max_age = std::chrono::seconds(600);
	const CorsPolicy policy(options);
	const auto headers = AsMap(policy.PreflightHeaders("https://portal.example.in", {"DELETE", "GET", "PUT"}));
	EXPECT_EQ(headers.at("Access-Control-Allow-Origin"), "https://portal.example.in");
	EXPECT_EQ(headers.at("Access-Control-Allow-Credentials"), "true");
	EXPECT_EQ(headers.at("Access-Control-Allow-Methods"), "DELETE, GET, PUT");
	EXPECT_EQ(headers.at("Access-Control-Allow-Headers"), kCorsAllowedRequestHeaders);
	EXPECT_NE(headers.at("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
	EXPECT_EQ(headers.at("Access-Control-Max-Age"), "600");
	EXPECT_EQ(headers.at("Vary"), "Origin");
}

} // namespace
} // namespace balatrix::sidecar::http
