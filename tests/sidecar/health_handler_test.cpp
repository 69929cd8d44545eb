// GET /health, /health/live, /health/ready through the real Pistache endpoint, with a fake database probe.
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "test_support.hpp"

namespace balatrix::sidecar::testing {
namespace {

using nlohmann::json;

const std::regex kUuidV4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
const std::regex kTimestamp(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");

// Checks the success envelope and returns its data.
json
SuccessData(const HttpResult& result)
{
	const json body = json::parse(result.body);
	EXPECT_EQ(body.size(), 4u) << result.body;
	EXPECT_EQ(body["success"], true);
	EXPECT_TRUE(body["message"].is_string());
	EXPECT_TRUE(std::regex_match(body["metadata"]["timestamp"].get<std::string>(), kTimestamp)) << result.body;
	EXPECT_EQ(body["metadata"]["requestId"], result.Header("x-request-id"));
	return body["data"];
}

class HealthHandlerTest : public ::testing::Test {
protected:
	TestServer server_;
};

TEST_F(HealthHandlerTest, HealthIsOkWithServiceVersionAndUptime)
{
	const HttpResult result = Fetch("GET", server_.Url("/health"));
	EXPECT_EQ(result.status, 200);
	EXPECT_EQ(result.Header("content-type"), "application/json; charset=utf-8");
	EXPECT_EQ(result.Header("cache-control"), "no-store");
	EXPECT_TRUE(std::regex_match(result.Header("x-request-id"), kUuidV4)) << result.Header("x-request-id");

	const json data = SuccessData(result);
	EXPECT_EQ(data["status"], "ok");
	EXPECT_EQ(data["service"], "balatrix-sidecar");
	EXPECT_EQ(data["version"], kTestVersion);
	EXPECT_TRUE(data["uptimeSeconds"].is_number_integer());
	EXPECT_GE(data["uptimeSeconds"].get<int>(), 0);
	EXPECT_EQ(server_.probe().calls(), 0) << "/health must not touch the database";
}

TEST_F(HealthHandlerTest, LiveIsOkAndCheap)
{
	const HttpResult result = Fetch("GET", server_.Url("/health/live"));
	EXPECT_EQ(result.status, 200);
	EXPECT_EQ(SuccessData(result)["status"], "ok");
	EXPECT_EQ(server_.probe().calls(), 0) << "/health/live must not touch the database";
}

TEST_F(HealthHandlerTest, ReadyReportsTheDatabaseWhenTheProbeSucceeds)
{
	server_.probe().Set(FakeDatabaseProbe::Healthy("0.1.0"));
	const HttpResult result = Fetch("GET", server_.Url("/health/ready"));
	EXPECT_EQ(result.status, 200);
	const json data = SuccessData(result);
	EXPECT_EQ(data["status"], "ready");
	EXPECT_EQ(data["database"]["ok"], true);
	EXPECT_DOUBLE_EQ(data["database"]["latencyMs"].get<double>(), 1.234);
	EXPECT_EQ(data["database"]["serverVersion"], "15.20 (test)");
	EXPECT_EQ(data["database"]["extensionVersion"], "0.1.0");
	EXPECT_EQ(server_.probe().calls(), 1);
}

TEST_F(HealthHandlerTest, ReadyIs503WithTheReasonWhenTheDatabaseIsDown)
{
	server_.probe().Set(FakeDatabaseProbe::Unreachable());
	const HttpResult result = Fetch("GET", server_.Url("/health/ready"));
	EXPECT_EQ(result.status, 503);
	EXPECT_EQ(result.Header("content-type"), "application/json; charset=utf-8");
	const json body = json::parse(result.body);
	EXPECT_EQ(body["success"], false);
	EXPECT_EQ(body["error"]["code"], "SERVICE_UNAVAILABLE");
	EXPECT_EQ(body["error"]["details"]["status"], "not_ready");
	EXPECT_EQ(body["error"]["details"]["reason"], "could not connect to the database");
	EXPECT_EQ(body["error"]["details"]["database"]["ok"], false);
	EXPECT_EQ(body["error"]["details"]["database"]["error"], "could not connect to the database");
	EXPECT_EQ(body["metadata"]["requestId"], result.Header("x-request-id"));
}

TEST_F(HealthHandlerTest, ReadyIs503WhenTheExtensionIsMissing)
{
	service::ProbeResult no_extension = FakeDatabaseProbe::Healthy();
	no_extension.extension_version.reset();
	server_.probe().Set(no_extension);
	const HttpResult result = Fetch("GET", server_.Url("/health/ready"));
	EXPECT_EQ(result.status, 503);
	const json body = json::parse(result.body);
	EXPECT_EQ(body["error"]["code"], "SERVICE_UNAVAILABLE");
	EXPECT_EQ(body["error"]["details"]["reason"], "the balatrix extension is not installed in the database");
	EXPECT_EQ(body["error"]["details"]["database"]["ok"], true);
	EXPECT_TRUE(body["error"]["details"]["database"]["extensionVersion"].is_null());
}

TEST_F(HealthHandlerTest, ReadinessFollowsTheDatabaseBackAndForth)
{
	server_.probe().Set(FakeDatabaseProbe::Unreachable());
	EXPECT_EQ(Fetch("GET", server_.Url("/health/ready")).status, 503);
	server_.probe().Set(FakeDatabaseProbe::Healthy());
	EXPECT_EQ(Fetch("GET", server_.Url("/health/ready")).status, 200);
	EXPECT_EQ(server_.probe().calls(), 2) << "readiness is checked on every request, not cached";
}

} // namespace
} // namespace balatrix::sidecar::testing
