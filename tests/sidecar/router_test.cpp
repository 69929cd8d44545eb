// The HTTP boundary through the real Pistache endpoint: request ids, 404/405/413/400, access log.
#include <chrono>
#include <regex>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "test_support.hpp"

namespace balatrix::sidecar::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::regex kUuidV4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
constexpr std::size_t kBodyLimit = 2048;

void
ExpectErrorEnvelope(const HttpResult& result, long status, const std::string& code)
{
	EXPECT_EQ(result.status, status) << result.body;
	EXPECT_EQ(result.Header("content-type"), "application/json; charset=utf-8");
	const json body = json::parse(result.body, nullptr, false);
	ASSERT_TRUE(body.is_object()) << "not JSON: " << result.body;
	EXPECT_EQ(body.size(), 4u) << result.body;
	EXPECT_EQ(body["success"], false);
	EXPECT_TRUE(body["message"].is_string());
	EXPECT_FALSE(body["message"].get<std::string>().empty());
	EXPECT_EQ(body["error"]["code"], code);
	EXPECT_TRUE(body["error"].contains("details"));
	EXPECT_EQ(body["metadata"]["requestId"], result.Header("x-request-id"));
	EXPECT_FALSE(result.Header("x-request-id").empty());
}

class RouterTest : public ::testing::Test {
protected:
	TestServer server_{kBodyLimit};
};

TEST_F(RouterTest, ClientRequestIdIsEchoedInHeaderBodyAndLog)
{
	const HttpResult result = Fetch("GET", server_.Url("/health"), {"X-Request-ID: client.id_42-x"});
	EXPECT_EQ(result.status, 200);
	EXPECT_EQ(result.Header("x-request-id"), "client.id_42-x");
	EXPECT_EQ(json::parse(result.body)["metadata"]["requestId"], "client.id_42-x");

	const auto lines = server_.log().WaitForEvents(
		"http_request", [](const json& line) { return line.value("request_id", "") == "client.id_42-x"; });
	ASSERT_EQ(lines.size(), 1u);
	EXPECT_EQ(lines[0]["method"], "GET");
	EXPECT_EQ(lines[0]["route"], "/health");
	EXPECT_FALSE(lines[0].contains("path")) << "the access log names route patterns, never raw paths";
	EXPECT_EQ(lines[0]["status"], 200);
	EXPECT_TRUE(lines[0]["duration_us"].is_number_integer());
	EXPECT_GE(lines[0]["duration_us"].get<long long>(), 0);
	EXPECT_EQ(lines[0]["remote"], "127.0.0.1");
	EXPECT_EQ(lines[0]["bytes"], result.body.size());
	EXPECT_EQ(lines[0]["request_bytes"], 0);
}

TEST_F(RouterTest, RequestIdIsGeneratedWhenAbsent)
{
	const HttpResult first = Fetch("GET", server_.Url("/health/live"));
	const HttpResult second = Fetch("GET", server_.Url("/health/live"));
	EXPECT_TRUE(std::regex_match(first.Header("x-request-id"), kUuidV4)) << first.Header("x-request-id");
	EXPECT_NE(first.Header("x-request-id"), second.Header("x-request-id"));
}

TEST_F(RouterTest, GarbageRequestIdIsReplaced)
{
	for (const std::string& garbage :
	     {std::string("has spaces in it"), std::string(129, 'a'), std::string("semi;colon"), std::string("quote\"d")}) {
		const HttpResult result = Fetch("GET", server_.Url("/health"), {"X-Request-ID: " + garbage});
		EXPECT_EQ(result.status, 200);
		EXPECT_TRUE(std::regex_match(result.Header("x-request-id"), kUuidV4))
			<< "kept garbage id: " << result.Header("x-request-id");
	}
}

TEST_F(RouterTest, UnknownRouteIs404Envelope)
{
	const HttpResult result = Fetch("GET", server_.Url("/api/nope?x=1"));
	ExpectErrorEnvelope(result, 404, "NOT_FOUND");
	const json body = json::parse(result.body);
	EXPECT_EQ(body["error"]["details"]["method"], "GET");
	EXPECT_EQ(body["error"]["details"]["path"], "/api/nope");
	EXPECT_THAT(body["message"].get<std::string>(), HasSubstr("/api/nope"));
}

TEST_F(RouterTest, RootIs404EnvelopeToo)
{
	ExpectErrorEnvelope(Fetch("GET", server_.Url("/")), 404, "NOT_FOUND");
}

TEST_F(RouterTest, EmptyRequestTargetIs400EnvelopeNot500)
{
	// Pistache parses "GET  HTTP/1.1" into an empty path, on which its own helpers throw.
	const std::string response =
		SendRaw(server_.port(), "GET  HTTP/1.1\r\nHost: x\r\nX-Request-ID: empty-target\r\n\r\n", 500);
	ASSERT_EQ(response.rfind("HTTP/1.1 400 ", 0), 0u) << response;
	EXPECT_NE(response.find("\"code\":\"BAD_REQUEST\""), std::string::npos) << response;
	const auto lines = server_.log().WaitForEvents(
		"http_request", [](const json& line) { return line.value("request_id", "") == "empty-target"; });
	ASSERT_EQ(lines.size(), 1u);
	EXPECT_EQ(lines[0]["status"], 400);
	EXPECT_EQ(lines[0]["method"], "GET");
	EXPECT_TRUE(server_.log().Events("unhandled_exception").empty());
}

TEST_F(RouterTest, KnownPathWithAnotherMethodIs405WithAllow)
{
	const HttpResult result = Fetch("DELETE", server_.Url("/health/ready"));
	ExpectErrorEnvelope(result, 405, "METHOD_NOT_ALLOWED");
	EXPECT_EQ(result.Header("allow"), "GET");
	EXPECT_EQ(json::parse(result.body)["error"]["details"]["allowed"], json::array({"GET"}));
}

TEST_F(RouterTest, BodyOverTheLimitIs413Envelope)
{
	const HttpResult result =
		Fetch("POST", server_.Url("/health"), {"Content-Type: application/json"}, std::string(kBodyLimit + 1, 'x'));
	ExpectErrorEnvelope(result, 413, "PAYLOAD_TOO_LARGE");
	EXPECT_EQ(json::parse(result.body)["error"]["details"]["maxBytes"], kBodyLimit);
}

TEST_F(RouterTest, BodyAtTheLimitIsNotRejectedForSize)
{
	// POST /health is not a route, so the answer is 405 — but not 413: exactly the limit is allowed.
	const HttpResult result = Fetch("POST", server_.Url("/health"), {}, std::string(kBodyLimit, 'x'));
	EXPECT_EQ(result.status, 405) << result.body;
}

TEST_F(RouterTest, BodyOverPistachesHardLimitIs413EnvelopeNotPlainText)
{
	// Far beyond max_body_bytes + the header allowance: rejected while streaming, by our onInput.
	const HttpResult result =
		Fetch("POST", server_.Url("/health"), {}, std::string(kBodyLimit + http::kRequestHeadAllowance + 4096, 'x'));
	ExpectErrorEnvelope(result, 413, "PAYLOAD_TOO_LARGE");
	EXPECT_EQ(json::parse(result.body)["error"]["details"]["maxBytes"], kBodyLimit) << "the same 413 at every layer";
	EXPECT_EQ(result.Header("connection"), "Close");
}

TEST_F(RouterTest, MalformedRequestIs400EnvelopeAndTheConnectionIsNotReparsed)
{
	const std::string raw = "BREW /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n";
	const auto started = std::chrono::steady_clock::now();
	const std::string response = SendRaw(server_.port(), raw, 5000);
	EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4))
		<< "the server must end the connection after a framing error";
	ASSERT_EQ(response.rfind("HTTP/1.", 0), 0u) << response;
	EXPECT_NE(response.find(" 400 "), std::string::npos) << response;
	EXPECT_NE(response.find("\"code\":\"BAD_REQUEST\""), std::string::npos) << response;
	// The pipelined GET after the garbage must not be served: the stream is no longer trusted.
	EXPECT_EQ(response.find("\"success\":true"), std::string::npos) << response;
}

TEST_F(RouterTest, AbsurdContentLengthIsNot500)
{
	const std::string raw = "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999\r\n\r\nabc";
	const std::string response = SendRaw(server_.port(), raw, 5000);
	ASSERT_EQ(response.rfind("HTTP/1.", 0), 0u) << response;
	EXPECT_EQ(response.find(" 500 "), std::string::npos) << response;
	EXPECT_NE(response.find("\"success\":false"), std::string::npos) << response;
}

TEST_F(RouterTest, EveryResponseIsAccessLogged)
{
	Fetch("GET", server_.Url("/health"), {"X-Request-ID: log-a"});
	Fetch("GET", server_.Url("/missing"), {"X-Request-ID: log-b"});
	Fetch("POST", server_.Url("/health"), {"X-Request-ID: log-c"}, std::string(kBodyLimit + 10, 'y'));
	for (const auto& [id, status] :
	     std::vector<std::pair<std::string, int>>{{"log-a", 200}, {"log-b", 404}, {"log-c", 413}}) {
		const auto lines = server_.log().WaitForEvents(
			"http_request", [&id = id](const json& line) { return line.value("request_id", "") == id; });
		ASSERT_EQ(lines.size(), 1u) << id;
		EXPECT_EQ(lines[0]["status"], status) << id;
	}
	for (const auto& line : server_.log().Lines())
		EXPECT_TRUE(json::parse(line, nullptr, false).is_object()) << line;
}

} // namespace
} // namespace balatrix::sidecar::testing
