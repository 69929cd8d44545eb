// Graceful shutdown through the real Pistache endpoint: what a draining sidecar answers, that every kind of
// request leaves the in-flight count at zero, and that the drain wait follows a request held in flight by a
// blocking database probe (no sleeps: the probe says when the request has arrived and is released on cue).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <future>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "test_support.hpp"

namespace balatrix::sidecar::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;

constexpr std::size_t kBodyLimit = 2048;
// Generous upper bounds only; nothing here asserts that something is fast, just that it does not hang.
constexpr milliseconds kIdleWithin{10000};
constexpr auto kPromptly = std::chrono::seconds(30);
constexpr milliseconds kLongTimeout{120000};

std::string
Lowercase(std::string text)
{
	std::transform(text.begin(), text.end(), text.begin(),
	               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
	return text;
}

// The number of header lines named `name` (case-insensitive) in the head of a raw HTTP response.
int
CountHeader(const std::string& raw_response, const std::string& name)
{
	const std::string head = Lowercase(raw_response.substr(0, raw_response.find("\r\n\r\n")));
	const std::string needle = "\r\n" + Lowercase(name) + ":";
	int count = 0;
	for (auto at = head.find(needle); at != std::string::npos; at = head.find(needle, at + 1))
		++count;
	return count;
}

class DrainTest : public ::testing::Test {
protected:
	// Every request must leave the count where it found it, once its response is written.
	void
	ExpectIdle(const std::string& after)
	{
		EXPECT_TRUE(server_.lifecycle().WaitUntilIdle(kIdleWithin)) << "still in flight after " << after;
		EXPECT_EQ(server_.lifecycle().in_flight(), 0) << after;
	}

	TestServer server_{kBodyLimit};
};

TEST_F(DrainTest, ReadinessTurns503ShuttingDownWhileHealthAndLiveStay200)
{
	ASSERT_EQ(Fetch("GET", server_.Url("/health/ready")).status, 200);
	ASSERT_EQ(server_.probe().calls(), 1);

	server_.lifecycle().BeginDraining();

	const HttpResult ready = Fetch("GET", server_.Url("/health/ready"), {"X-Request-ID: drain-ready"});
	EXPECT_EQ(ready.status, 503) << ready.body;
	EXPECT_EQ(ready.Header("content-type"), "application/json; charset=utf-8");
	const json body = json::parse(ready.body);
	EXPECT_EQ(body["success"], false);
	EXPECT_EQ(body["message"], "not ready: shutting down");
	EXPECT_EQ(body["error"]["code"], "SERVICE_UNAVAILABLE");
	EXPECT_EQ(body["error"]["details"], json({{"reason", "shutting down"}}));
	EXPECT_EQ(body["metadata"]["requestId"], "drain-ready");
	EXPECT_EQ(server_.probe().calls(), 1) << "draining readiness must not probe the database";

	for (const char* path : {"/health", "/health/live"}) {
		const HttpResult result = Fetch("GET", server_.Url(path));
		EXPECT_EQ(result.status, 200) << path;
		EXPECT_EQ(json::parse(result.body)["data"]["status"], "ok") << path;
		EXPECT_EQ(Lowercase(result.Header("connection")), "close") << path;
	}
	EXPECT_EQ(Lowercase(ready.Header("connection")), "close");

	// Anything else is still served as usual (it may be the tail of a client's work).
	const HttpResult missing = Fetch("GET", server_.Url("/no/such/route"));
	EXPECT_EQ(missing.status, 404);
	EXPECT_EQ(json::parse(missing.body)["error"]["code"], "NOT_FOUND");
	EXPECT_EQ(Lowercase(missing.Header("connection")), "close");
}

TEST_F(DrainTest, KeepAliveIsHonouredUntilDrainingThenEveryResponseSaysCloseAndTheConnectionEnds)
{
	const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";

	// Not draining: the connection stays open, so SendRaw reads until its (short) timeout.
	const std::string before = SendRaw(server_.port(), request, 300);
	ASSERT_EQ(before.rfind("HTTP/1.1 200 ", 0), 0u) << before;
	EXPECT_EQ(CountHeader(before, "Connection"), 1) << before;
	EXPECT_THAT(Lowercase(before), HasSubstr("\r\nconnection: keep-alive\r\n")) << before;

	server_.lifecycle().BeginDraining();
	const auto started = steady_clock::now();
	const std::string during = SendRaw(server_.port(), request, 20000);
	EXPECT_LT(steady_clock::now() - started, std::chrono::seconds(15))
		<< "a draining server must end the keep-alive connection after its response";
	ASSERT_EQ(during.rfind("HTTP/1.1 200 ", 0), 0u) << during;
	EXPECT_EQ(CountHeader(during, "Connection"), 1) << "exactly one Connection header: " << during;
	EXPECT_THAT(Lowercase(during), HasSubstr("\r\nconnection: close\r\n")) << during;
	ExpectIdle("the keep-alive requests");
}

TEST_F(DrainTest, TheInFlightCountReturnsToZeroAfterEveryKindOfResponse)
{
	EXPECT_EQ(Fetch("GET", server_.Url("/health")).status, 200);
	ExpectIdle("GET /health");
	EXPECT_EQ(Fetch("GET", server_.Url("/health/ready")).status, 200);
	ExpectIdle("GET /health/ready");
	EXPECT_EQ(Fetch("GET", server_.Url("/nope")).status, 404);
	ExpectIdle("a 404");
	EXPECT_EQ(Fetch("DELETE", server_.Url("/health")).status, 405);
	ExpectIdle("a 405");

	// 413 from the router's body check, and 413 from our onInput while the body streams in (the Reject path).
	EXPECT_EQ(Fetch("POST", server_.Url("/health"), {}, std::string(kBodyLimit + 1, 'x')).status, 413);
	ExpectIdle("a 413 from the router");
	EXPECT_EQ(
		Fetch("POST", server_.Url("/health"), {}, std::string(kBodyLimit + http::kRequestHeadAllowance + 4096, 'x'))
			.status,
		413);
	ExpectIdle("a 413 from the transport limit");

	const std::string malformed = SendRaw(server_.port(), "BREW /health HTTP/1.1\r\nHost: x\r\n\r\n", 5000);
	EXPECT_NE(malformed.find(" 400 "), std::string::npos) << malformed;
	ExpectIdle("a malformed request");

	// A handler that throws: the router answers 500 and must still release the request.
	server_.probe().ThrowNonStandard(true);
	const HttpResult thrown = Fetch("GET", server_.Url("/health/ready"), {"X-Request-ID: handler-threw"});
	EXPECT_EQ(thrown.status, 500) << thrown.body;
	EXPECT_EQ(json::parse(thrown.body)["error"]["code"], "INTERNAL_ERROR");
	ExpectIdle("a handler that threw");
	const auto logged = server_.log().WaitForEvents(
		"unhandled_exception", [](const json& line) { return line.value("request_id", "") == "handler-threw"; });
	ASSERT_EQ(logged.size(), 1u);
	EXPECT_EQ(logged[0]["error"], "non-standard exception");
}

TEST_F(DrainTest, TheDrainWaitTimesOutWhileARequestIsHeldAndEndsWhenItsResponseIsWritten)
{
	service::Lifecycle& lifecycle = server_.lifecycle();
	server_.probe().Hold();
	auto held = std::async(std::launch::async, [this] {
		return Fetch("GET", server_.Url("/health/ready"), {"X-Request-ID: held-request"});
	});
	ASSERT_TRUE(server_.probe().WaitForHeld(1)) << "the request never reached the probe";
	EXPECT_EQ(lifecycle.in_flight(), 1);

	// Bounded wait while it is held: gives up, and not before its timeout.
	const milliseconds timeout(200);
	auto started = steady_clock::now();
	EXPECT_FALSE(lifecycle.WaitUntilIdle(timeout));
	EXPECT_GE(steady_clock::now() - started, timeout);
	EXPECT_EQ(lifecycle.in_flight(), 1);

	// Shutdown begins with the request still in flight; the drain wait then ends with it, long before its
	// own timeout.
	lifecycle.BeginDraining();
	auto drain = std::async(std::launch::async, [&lifecycle] {
		const auto waiting_since = steady_clock::now();
		const bool idle = lifecycle.WaitUntilIdle(kLongTimeout);
		return std::make_pair(idle, steady_clock::now() - waiting_since);
	});
	server_.probe().Release();

	const HttpResult result = held.get();
	EXPECT_EQ(result.status, 200) << "a request in flight when draining began is served normally: " << result.body;
	EXPECT_EQ(json::parse(result.body)["data"]["status"], "ready");
	EXPECT_EQ(Lowercase(result.Header("connection")), "close") << "its response is sent while draining";

	const auto [idle, waited] = drain.get();
	EXPECT_TRUE(idle);
	EXPECT_LT(waited, kPromptly) << "the drain wait must end when the count reaches zero, not at its timeout";
	EXPECT_EQ(lifecycle.in_flight(), 0);
}

} // namespace
} // namespace balatrix::sidecar::testing
