// The HTTP layer's guarantees through the real Pistache endpoint on an ephemeral loopback port: security
// headers on every response, 415 / 400 / 413 / 414 / 422, decoding of path and query parameters, CORS, and
// an access log that names route patterns. Probe routes (added with Router::Add) echo what a handler sees.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/validation.hpp"
#include "http_client.hpp"
#include "test_support.hpp"

namespace balatrix::sidecar::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr std::size_t kBodyLimit = 2048;
const std::string kPortal = "https://portal.example.in";

json
Pairs(const std::vector<std::pair<std::string, std::string>>& entries)
{
	json list = json::array();
	for (const auto& [name, value] : entries)
		list.push_back(json::array({name, value}));
	return list;
}

// What a handler saw, echoed back.
http::Reply
Echo(const http::RequestContext& context)
{
	return http::Success(context, "echo",
	                     json{{"method", context.method},
	                          {"route", context.route_pattern},
	                          {"params", Pairs(context.path_params.entries())},
	                          {"query", Pairs(context.query.entries())},
	                          {"body", context.body ? *context.body : json(nullptr)},
	                          {"rawBody", std::string(context.raw_body)},
	                          {"contentType", http::RequestHeader(context, "content-type").value_or("")}});
}

http::Reply
ValidateSignup(const http::RequestContext& context)
{
	http::Validator validator(context.body.get());
	http::StringRule email;
	email.max_length = 254;
	email.format = [](std::string_view value) {
		return value.find('@') != std::string_view::npos;
	};
	email.format_message = "must be an e-mail address";
	const auto address = validator.String("email", email);
	const auto limit = validator.Integer("limit", http::IntegerRule{true, 1, 100});
	validator.NoOtherFields({"email", "limit"});
	if (!validator.ok())
		return validator.Failure(context);
	return http::Success(context, "valid", json{{"email", *address}, {"limit", *limit}}, 201);
}

void
AddProbeRoutes(http::Router& router)
{
	router.Add("POST", "/probe/echo", Echo);
	router.Add("PUT", "/probe/echo", Echo);
	router.Add("GET", "/probe/items/:id", Echo);
	router.Add("GET", "/probe/items/:id/parts/:part", Echo);
	router.Add("POST", "/probe/validate", ValidateSignup);
	router.Add("POST", "/probe/raw/:name", Echo, http::RouteOptions{http::BodyPolicy::kRaw});
}

TestServerOptions
ProbeOptions()
{
	TestServerOptions options;
	options.max_body_bytes = kBodyLimit;
	options.extra_routes = AddProbeRoutes;
	return options;
}

void
ExpectSecurityHeaders(const HttpResult& result)
{
	EXPECT_EQ(result.Header("x-content-type-options"), "nosniff") << result.status;
	EXPECT_EQ(result.Header("x-frame-options"), "DENY") << result.status;
	EXPECT_EQ(result.Header("referrer-policy"), "no-referrer") << result.status;
	EXPECT_EQ(result.Header("content-security-policy"), "default-src 'none'; frame-ancestors 'none'") << result.status;
	EXPECT_EQ(result.Header("cache-control"), "no-store") << result.status;
	EXPECT_FALSE(result.Header("x-request-id").empty()) << result.status;
	EXPECT_EQ(result.Header("content-type"), "application/json; charset=utf-8") << result.status;
}

json
ExpectError(const HttpResult& result, long status, const std::string& code)
{
	EXPECT_EQ(result.status, status) << result.body;
	const json body = json::parse(result.body, nullptr, false);
	EXPECT_TRUE(body.is_object()) << result.body;
	if (!body.is_object())
		return json();
	EXPECT_EQ(body["success"], false);
	EXPECT_EQ(body["error"]["code"], code) << result.body;
	EXPECT_EQ(body["metadata"]["requestId"], result.Header("x-request-id"));
	ExpectSecurityHeaders(result);
	return body;
}

json
ExpectData(const HttpResult& result, long status = 200)
{
	EXPECT_EQ(result.status, status) << result.body;
	const json body = json::parse(result.body, nullptr, false);
	EXPECT_TRUE(body.is_object()) << result.body;
	if (!body.is_object())
		return json();
	EXPECT_EQ(body["success"], true) << result.body;
	ExpectSecurityHeaders(result);
	return body["data"];
}

class HttpHardeningTest : public ::testing::Test {
protected:
	TestServer server_{ProbeOptions()};
	const std::vector<std::string> json_header_{"Content-Type: application/json"};
};

// ---- security headers and the error path ---------------------------------------------------------------------

TEST_F(HttpHardeningTest, SecurityHeadersOnEveryKindOfResponse)
{
	ExpectData(Fetch("GET", server_.Url("/health")));
	ExpectError(Fetch("GET", server_.Url("/nope")), 404, "NOT_FOUND");
	ExpectError(Fetch("DELETE", server_.Url("/health")), 405, "METHOD_NOT_ALLOWED");
	ExpectError(Fetch("POST", server_.Url("/probe/echo"), json_header_, std::string(kBodyLimit + 1, ' ')), 413,
	            "PAYLOAD_TOO_LARGE");
	ExpectError(Fetch("POST", server_.Url("/probe/echo"), {"Content-Type: text/plain"}, "hi"), 415,
	            "UNSUPPORTED_MEDIA_TYPE");
	ExpectError(Fetch("POST", server_.Url("/probe/echo"), json_header_, "{"), 400, "INVALID_JSON");
	ExpectError(Fetch("POST", server_.Url("/probe/validate"), json_header_, "{}"), 422, "VALIDATION_ERROR");
	ExpectError(Fetch("GET", server_.Url("/probe/items/%zz")), 400, "BAD_REQUEST");
	const HttpResult result = Fetch("GET", server_.Url("/health"));
	EXPECT_EQ(result.Header("strict-transport-security"), "") << "HSTS is off unless configured";
}

TEST_F(HttpHardeningTest, FramingErrorsGetTheSecurityHeadersToo)
{
	const std::string response = SendRaw(server_.port(), "BREW /health HTTP/1.1\r\nHost: x\r\n\r\n", 3000);
	ASSERT_EQ(response.rfind("HTTP/1.1 400 ", 0), 0u) << response;
	EXPECT_THAT(response, HasSubstr("X-Content-Type-Options: nosniff\r\n"));
	EXPECT_THAT(response, HasSubstr("Content-Security-Policy: default-src 'none'"));
	EXPECT_THAT(response, HasSubstr("Cache-Control: no-store\r\n"));
}

TEST(HttpHardeningHsts, HeaderWhenConfigured)
{
	TestServerOptions options;
	options.security.hsts_max_age = std::chrono::seconds(31536000);
	TestServer server(options);
	for (const std::string path : {"/health", "/missing"}) {
		const HttpResult result = Fetch("GET", server.Url(path));
		EXPECT_EQ(result.Header("strict-transport-security"), "max-age=31536000; includeSubDomains") << path;
	}
}

// ---- bodies: 415, 400, 413, 422 ---------------------------------------------------------------------------

TEST_F(HttpHardeningTest, JsonBodyReachesTheHandlerParsed)
{
	const json data =
		ExpectData(Fetch("POST", server_.Url("/probe/echo"), {"Content-Type: application/json; charset=UTF-8"},
	                     R"({"name":"Asha","tags":["a","b"]})"));
	EXPECT_EQ(data["body"], (json{{"name", "Asha"}, {"tags", {"a", "b"}}}));
	EXPECT_EQ(data["route"], "/probe/echo");
	EXPECT_EQ(data["contentType"], "application/json; charset=UTF-8");
}

TEST_F(HttpHardeningTest, WrongContentTypeIs415)
{
	const std::vector<std::vector<std::string>> header_sets = {
		{"Content-Type: text/plain"},
		{"Content-Type: application/x-www-form-urlencoded"},
		{"Content-Type: application/json; charset=latin1"},
		{"Content-Type:"}, // no Content-Type at all, with a body
	};
	for (const auto& headers : header_sets) {
		const json body = ExpectError(Fetch("POST", server_.Url("/probe/echo"), headers, R"({"a":1})"), 415,
		                              "UNSUPPORTED_MEDIA_TYPE");
		EXPECT_EQ(body["message"], "Content-Type must be application/json") << headers[0];
	}
	// A body method declaring another type is refused even with an empty body.
	ExpectError(Fetch("PUT", server_.Url("/probe/echo"), {"Content-Type: text/csv"}, ""), 415,
	            "UNSUPPORTED_MEDIA_TYPE");
	// No body and no type: the handler decides (the echo accepts it).
	EXPECT_TRUE(ExpectData(Fetch("POST", server_.Url("/probe/echo"), {"Content-Type:"}, ""))["body"].is_null());
}

TEST_F(HttpHardeningTest, MalformedJsonIs400)
{
	const std::vector<std::string> bodies = {
		"{",
		"{\"a\":}",
		"not json",
		R"({"a":1} trailing)",
		R"({"role":"customer","role":"admin"})",       // duplicate keys
		R"({"name":"x\u0000y"})",                      // NUL would truncate at the database
		"\"\xC3\x28\"",                                // invalid UTF-8
		std::string(100, '[') + std::string(100, ']'), // too deep
	};
	for (const auto& text : bodies) {
		const json body =
			ExpectError(Fetch("POST", server_.Url("/probe/echo"), json_header_, text), 400, "INVALID_JSON");
		EXPECT_THAT(body["message"].get<std::string>(), HasSubstr("Malformed JSON body")) << text;
	}
	const json syntax =
		ExpectError(Fetch("POST", server_.Url("/probe/echo"), json_header_, R"({"a": nope})"), 400, "INVALID_JSON");
	EXPECT_TRUE(syntax["error"]["details"]["offset"].is_number()) << syntax;
}

TEST_F(HttpHardeningTest, ValidationIs422WithEveryFieldError)
{
	const json body = ExpectError(
		Fetch("POST", server_.Url("/probe/validate"), json_header_, R"({"email":"nobody","limit":0,"role":"admin"})"),
		422, "VALIDATION_ERROR");
	const json& details = body["error"]["details"];
	ASSERT_TRUE(details.is_array()) << body;
	ASSERT_EQ(details.size(), 3u) << body;
	EXPECT_EQ(details[0]["field"], "email");
	EXPECT_EQ(details[0]["code"], "invalid_format");
	EXPECT_EQ(details[0]["message"], "email must be an e-mail address");
	EXPECT_EQ(details[1]["field"], "limit");
	EXPECT_EQ(details[1]["code"], "out_of_range");
	EXPECT_EQ(details[2]["field"], "role");
	EXPECT_EQ(details[2]["code"], "unknown_field");

	const json ok = ExpectData(
		Fetch("POST", server_.Url("/probe/validate"), json_header_, R"({"email":"asha@example.in","limit":10})"), 201);
	EXPECT_EQ(ok, (json{{"email", "asha@example.in"}, {"limit", 10}}));
}

TEST_F(HttpHardeningTest, BodyLimitIs413ThroughTheProbeRouteToo)
{
	const json body =
		ExpectError(Fetch("POST", server_.Url("/probe/echo"), json_header_, "\"" + std::string(kBodyLimit, 'x') + "\""),
	                413, "PAYLOAD_TOO_LARGE");
	EXPECT_EQ(body["error"]["details"]["maxBytes"], kBodyLimit);
	// Exactly the limit is fine.
	const std::string at_limit = "\"" + std::string(kBodyLimit - 2, 'x') + "\"";
	EXPECT_EQ(ExpectData(Fetch("POST", server_.Url("/probe/echo"), json_header_, at_limit))["body"].size(), 1u);
}

TEST_F(HttpHardeningTest, RawRoutesSkipTheContentTypeRule)
{
	const json data = ExpectData(Fetch("POST", server_.Url("/probe/raw/cdr"),
	                                   {"Content-Type: application/x-www-form-urlencoded"}, "cdr=%7B%7D"));
	EXPECT_EQ(data["rawBody"], "cdr=%7B%7D");
	EXPECT_TRUE(data["body"].is_null());
	EXPECT_EQ(data["params"], Pairs({{"name", "cdr"}}));
}

// ---- decoding -------------------------------------------------------------------------------------------------

TEST_F(HttpHardeningTest, PathParametersAreDecoded)
{
	const std::vector<std::pair<std::string, std::string>> cases = {
		{"/probe/items/42", "42"},
		{"/probe/items/a%20b", "a b"},
		{"/probe/items/a%2Fb", "a/b"}, // an encoded slash stays inside the parameter
		{"/probe/items/a+b", "a+b"},
		{"/probe/items/%E2%82%B9", "\xE2\x82\xB9"},
		{"/probe/items/'%20OR%201=1--", "' OR 1=1--"},
	};
	for (const auto& [path, id] : cases) {
		const json data = ExpectData(Fetch("GET", server_.Url(path)));
		EXPECT_EQ(data["params"], Pairs({{"id", id}})) << path;
		EXPECT_EQ(data["route"], "/probe/items/:id") << path;
	}
	const json two = ExpectData(Fetch("GET", server_.Url("/probe/items/x%3Fy/parts/%23")));
	EXPECT_EQ(two["params"], Pairs({{"id", "x?y"}, {"part", "#"}}));
}

TEST_F(HttpHardeningTest, UndecodablePathParametersAre400)
{
	for (const std::string path : {"/probe/items/%zz", "/probe/items/%4", "/probe/items/abc%", "/probe/items/%00",
	                               "/probe/items/a%00b", "/probe/items/%FF", "/probe/items/%C0%AF"}) {
		const json body = ExpectError(Fetch("GET", server_.Url(path)), 400, "BAD_REQUEST");
		EXPECT_EQ(body["error"]["details"]["parameter"], "id") << path;
		EXPECT_EQ(body["error"]["details"]["in"], "path") << path;
	}
}

TEST_F(HttpHardeningTest, QueryStringsAreDecodedWithRepeatedKeysInOrder)
{
	const json data = ExpectData(
		Fetch("GET", server_.Url("/probe/items/1?status=active&q=caf%C3%A9+bar%21&status=suspended&flag&e=")));
	EXPECT_EQ(
		data["query"],
		Pairs({{"status", "active"}, {"q", "caf\xC3\xA9 bar!"}, {"status", "suspended"}, {"flag", ""}, {"e", ""}}));
	EXPECT_EQ(ExpectData(Fetch("GET", server_.Url("/probe/items/1?")))["query"], json::array());
	EXPECT_EQ(ExpectData(Fetch("GET", server_.Url("/probe/items/1")))["query"], json::array());
}

TEST_F(HttpHardeningTest, UndecodableQueryStringsAre400)
{
	for (const std::string query : {"?page=%zz", "?page=1%", "?q=%00", "?q=%FF", "?a=1&b=%ED%A0%80"}) {
		const json body = ExpectError(Fetch("GET", server_.Url("/probe/items/1" + query)), 400, "BAD_REQUEST");
		EXPECT_EQ(body["error"]["details"]["in"], "query") << query;
	}
	std::string many = "?";
	for (int i = 0; i <= 256; ++i)
		many += "p" + std::to_string(i) + "=1&";
	ExpectError(Fetch("GET", server_.Url("/probe/items/1" + many)), 400, "BAD_REQUEST");
}

TEST_F(HttpHardeningTest, RawTargetsWithForbiddenBytesAre400)
{
	const std::vector<std::string> targets = {
		"/probe/items/1#frag",     "/probe/items/1?q=a#b", "/probe/items/caf\xC3\xA9", "/probe/items/a\x01z", "*",
		"http://127.0.0.1/health",
	};
	for (const auto& target : targets) {
		// A clean 400 for one request: the connection itself stays usable, so read one response, not to EOF.
		const auto responses =
			ExchangeOnOneConnection(server_.port(), {"GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"});
		ASSERT_EQ(responses.size(), 1u) << target;
		const std::string& response = responses[0];
		EXPECT_EQ(response.rfind("HTTP/1.1 400 ", 0), 0u) << target << "\n" << response;
		EXPECT_THAT(response, HasSubstr("\"code\":\"BAD_REQUEST\"")) << target;
	}
}

TEST_F(HttpHardeningTest, OverlongRequestLineIs414)
{
	const std::string target = "/probe/items/1?q=" + std::string(http::kMaxRequestLineBytes, 'a');
	const std::string response = SendRaw(server_.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n", 3000);
	ASSERT_EQ(response.rfind("HTTP/1.1 414 ", 0), 0u) << response.substr(0, 300);
	EXPECT_THAT(response, HasSubstr("\"code\":\"URI_TOO_LONG\""));
	EXPECT_THAT(response, HasSubstr("Connection: Close"));

	// Just under the limit still works.
	const std::string fits = "/probe/items/1?q=" + std::string(http::kMaxRequestLineBytes - 64, 'a');
	EXPECT_EQ(Fetch("GET", server_.Url(fits)).status, 200);
}

TEST_F(HttpHardeningTest, KeepAliveConnectionsCaptureEachRequestLine)
{
	// Three requests on one connection, one after the other: each must see its own target and query.
	const auto request = [](const std::string& target) {
		return "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";
	};
	const auto responses =
		ExchangeOnOneConnection(server_.port(), {request("/probe/items/1?n=first"), request("/probe/items/2?n=a&n=b"),
	                                             request("/probe/items/3")});
	ASSERT_EQ(responses.size(), 3u);
	EXPECT_THAT(responses[0], HasSubstr(R"("params":[["id","1"]])"));
	EXPECT_THAT(responses[0], HasSubstr(R"("query":[["n","first"]])"));
	EXPECT_THAT(responses[1], HasSubstr(R"("params":[["id","2"]])"));
	EXPECT_THAT(responses[1], HasSubstr(R"("query":[["n","a"],["n","b"]])"));
	EXPECT_THAT(responses[2], HasSubstr(R"("params":[["id","3"]])"));
	EXPECT_THAT(responses[2], HasSubstr(R"("query":[])"));
}

// ---- access log -----------------------------------------------------------------------------------------------

TEST_F(HttpHardeningTest, AccessLogNamesTheRoutePatternNeverTheRawPath)
{
	Fetch("GET", server_.Url("/probe/items/secret-id-123?token=hunter2"), {"X-Request-ID: log-pattern"});
	Fetch("GET", server_.Url("/not/a/route/secret-path-456"), {"X-Request-ID: log-unmatched"});
	Fetch("DELETE", server_.Url("/probe/items/7"), {"X-Request-ID: log-405"});
	Fetch("POST", server_.Url("/probe/echo"), {"X-Request-ID: log-415", "Content-Type: text/plain"}, "abc");

	const auto matched = server_.log().WaitForEvents(
		"http_request", [](const json& line) { return line.value("request_id", "") == "log-pattern"; });
	ASSERT_EQ(matched.size(), 1u);
	EXPECT_EQ(matched[0]["route"], "/probe/items/:id");
	EXPECT_EQ(matched[0]["method"], "GET");
	EXPECT_EQ(matched[0]["status"], 200);
	EXPECT_GT(matched[0]["bytes"].get<long long>(), 0);
	EXPECT_GE(matched[0]["duration_us"].get<long long>(), 0);

	const auto unmatched = server_.log().WaitForEvents(
		"http_request", [](const json& line) { return line.value("request_id", "") == "log-unmatched"; });
	ASSERT_EQ(unmatched.size(), 1u);
	EXPECT_TRUE(unmatched[0]["route"].is_null());
	EXPECT_EQ(unmatched[0]["status"], 404);

	const auto not_allowed = server_.log().WaitForEvents(
		"http_request", [](const json& line) { return line.value("request_id", "") == "log-405"; });
	ASSERT_EQ(not_allowed.size(), 1u);
	EXPECT_EQ(not_allowed[0]["route"], "/probe/items/:id");
	EXPECT_EQ(not_allowed[0]["status"], 405);

	const auto unsupported = server_.log().WaitForEvents(
		"http_request", [](const json& line) { return line.value("request_id", "") == "log-415"; });
	ASSERT_EQ(unsupported.size(), 1u);
	EXPECT_EQ(unsupported[0]["status"], 415);
	EXPECT_EQ(unsupported[0]["request_bytes"], 3);

	for (const auto& line : server_.log().Lines()) {
		EXPECT_EQ(line.find("secret-id-123"), std::string::npos) << line;
		EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
		EXPECT_EQ(line.find("secret-path-456"), std::string::npos) << line;
	}
}

// ---- CORS ----------------------------------------------------------------------------------------------------

class CorsServerTest : public ::testing::Test {
protected:
	static TestServerOptions
	Options()
	{
		TestServerOptions options = ProbeOptions();
		options.cors.allowed_origins = {kPortal, "http://localhost:4200"};
		options.cors.allow_credentials = true;
		return options;
	}

	TestServer server_{Options()};
};

TEST_F(CorsServerTest, PreflightFromAnAllowedOrigin)
{
	const HttpResult result = Fetch("OPTIONS", server_.Url("/probe/echo"),
	                                {"Origin: " + kPortal, "Access-Control-Request-Method: POST",
	                                 "Access-Control-Request-Headers: content-type, authorization"});
	const json data = ExpectData(result);
	EXPECT_EQ(data["allowedMethods"], json::array({"POST", "PUT"}));
	EXPECT_EQ(result.Header("access-control-allow-origin"), kPortal);
	EXPECT_EQ(result.Header("access-control-allow-credentials"), "true");
	EXPECT_EQ(result.Header("access-control-allow-methods"), "POST, PUT");
	EXPECT_THAT(result.Header("access-control-allow-headers"), HasSubstr("Authorization"));
	EXPECT_THAT(result.Header("access-control-allow-headers"), HasSubstr("Content-Type"));
	EXPECT_EQ(result.Header("access-control-max-age"), "600");
	EXPECT_EQ(result.Header("vary"), "Origin");
}

TEST_F(CorsServerTest, PreflightFromARefusedOriginIs403WithoutAllowHeaders)
{
	for (const std::string origin : {"https://evil.example", "null", "https://portal.example.in.evil.example"}) {
		const HttpResult result =
			Fetch("OPTIONS", server_.Url("/probe/echo"), {"Origin: " + origin, "Access-Control-Request-Method: POST"});
		ExpectError(result, 403, "FORBIDDEN");
		EXPECT_EQ(result.Header("access-control-allow-origin"), "") << origin;
		EXPECT_EQ(result.Header("access-control-allow-credentials"), "") << origin;
	}
}

TEST_F(CorsServerTest, PreflightOnAnUnknownPathIs404AndPlainOptionsIs405)
{
	ExpectError(Fetch("OPTIONS", server_.Url("/nope"), {"Origin: " + kPortal, "Access-Control-Request-Method: GET"}),
	            404, "NOT_FOUND");
	const HttpResult plain = Fetch("OPTIONS", server_.Url("/probe/echo"));
	ExpectError(plain, 405, "METHOD_NOT_ALLOWED");
	EXPECT_EQ(plain.Header("allow"), "POST, PUT");
}

TEST_F(CorsServerTest, ActualRequestsFromAllowedAndRefusedOrigins)
{
	const HttpResult allowed = Fetch("GET", server_.Url("/health"), {"Origin: http://LOCALHOST:4200"});
	EXPECT_EQ(allowed.status, 200);
	EXPECT_EQ(allowed.Header("access-control-allow-origin"), "http://localhost:4200");
	EXPECT_EQ(allowed.Header("access-control-allow-credentials"), "true");
	EXPECT_THAT(allowed.Header("access-control-expose-headers"), HasSubstr("X-Request-ID"));
	EXPECT_EQ(allowed.Header("vary"), "Origin");

	// A refused origin may still read nothing: a GET is answered without allow headers.
	const HttpResult refused_get = Fetch("GET", server_.Url("/health"), {"Origin: https://evil.example"});
	EXPECT_EQ(refused_get.status, 200);
	EXPECT_EQ(refused_get.Header("access-control-allow-origin"), "");
	EXPECT_EQ(refused_get.Header("vary"), "Origin");

	// A state-changing request from a refused origin never reaches the handler.
	const json body = ExpectError(Fetch("POST", server_.Url("/probe/echo"),
	                                    {"Origin: https://evil.example", "Content-Type: application/json"}, "{}"),
	                              403, "FORBIDDEN");
	EXPECT_EQ(body["error"]["details"]["origin"], "https://evil.example");
	ExpectData(
		Fetch("POST", server_.Url("/probe/echo"), {"Origin: " + kPortal, "Content-Type: application/json"}, "{}"));
	// Errors carry the CORS headers too, so a browser can read them.
	const HttpResult missing = Fetch("GET", server_.Url("/nope"), {"Origin: " + kPortal});
	EXPECT_EQ(missing.status, 404);
	EXPECT_EQ(missing.Header("access-control-allow-origin"), kPortal);
	// Requests without Origin (curl, FreeSWITCH, gateways) are not CORS at all.
	ExpectData(Fetch("POST", server_.Url("/probe/echo"), {"Content-Type: application/json"}, "{}"));
}

TEST(CorsDisabled, NoHeadersAndCrossOriginWritesRefused)
{
	TestServer server(ProbeOptions());
	const HttpResult get = Fetch("GET", server.Url("/health"), {"Origin: " + kPortal});
	EXPECT_EQ(get.status, 200);
	EXPECT_EQ(get.Header("access-control-allow-origin"), "");
	EXPECT_EQ(get.Header("vary"), "");
	EXPECT_EQ(
		Fetch("POST", server.Url("/probe/echo"), {"Origin: " + kPortal, "Content-Type: application/json"}, "{}").status,
		403);
	EXPECT_EQ(Fetch("OPTIONS", server.Url("/probe/echo"), {"Origin: " + kPortal, "Access-Control-Request-Method: POST"})
	              .status,
	          403);
}

TEST(RouterAdd, RefusedOnceServing)
{
	http::Router* captured = nullptr;
	TestServerOptions options;
	options.extra_routes = [&captured](http::Router& router) {
		captured = &router;
	};
	TestServer server(options);
	ASSERT_NE(captured, nullptr);
	EXPECT_THROW(captured->Add("GET", "/late", Echo), std::logic_error);
	const auto routes = captured->Routes();
	ASSERT_EQ(routes.size(), 3u);
	EXPECT_EQ(routes[0].pattern, "/health");
	EXPECT_EQ(routes[2].pattern, "/health/ready");
}

} // namespace
} // namespace balatrix::sidecar::testing
