// Prometheus metrics: the exposition format (values, escaping, names), the request histogram (cumulative
// buckets, inclusive bounds, +Inf = _count = counter), concurrency, process figures, and GET /metrics through the
// real router (every response counted, 404/405/413 included; the text Content-Type).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api_harness.hpp"
#include "http/metrics.hpp"
#include "http_client.hpp"

namespace balatrix::sidecar::testing {
namespace {

using http::Exposition;
using http::Metrics;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricValue, FormatsIntegersPlainlyAndOthersShortest)
{
	EXPECT_EQ(http::FormatMetricValue(0), "0");
	EXPECT_EQ(http::FormatMetricValue(3), "3");
	EXPECT_EQ(http::FormatMetricValue(-42), "-42");
	EXPECT_EQ(http::FormatMetricValue(0.005), "0.005");
	EXPECT_EQ(http::FormatMetricValue(1.5), "1.5");
	EXPECT_EQ(http::FormatMetricValue(0.1 + 0.2), "0.30000000000000004"); // round-trips, not "0.3"
	EXPECT_EQ(http::FormatMetricValue(1e21), "1e+21");
	EXPECT_EQ(http::FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
	EXPECT_EQ(http::FormatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
	EXPECT_EQ(http::FormatMetricValue(std::nan("")), "NaN");
}

TEST(MetricEscaping, LabelValuesEscapeBackslashQuoteAndNewlineOnly)
{
	EXPECT_EQ(http::EscapeLabelValue("plain"), "plain");
	EXPECT_EQ(http::EscapeLabelValue("a\\b"), "a\\\\b");
	EXPECT_EQ(http::EscapeLabelValue("say \"hi\""), "say \\\"hi\\\"");
	EXPECT_EQ(http::EscapeLabelValue("two\nlines"), "two\\nlines");
	EXPECT_EQ(http::EscapeLabelValue("tab\there"), "tab\there");
	EXPECT_EQ(http::EscapeLabelValue("₹ Kannada ಕನ್ನಡ"), "₹ Kannada ಕನ್ನಡ");
	// HELP text: backslash and newline, not the quote.
	EXPECT_EQ(http::EscapeHelp("a \"b\" \\ c\nd"), "a \"b\" \\\\ c\\nd");
}

TEST(MetricNames, FollowTheDataModel)
{
	EXPECT_TRUE(http::IsValidMetricName("telecom_billing_http_requests_total"));
	EXPECT_TRUE(http::IsValidMetricName("a:b_c9"));
	EXPECT_TRUE(http::IsValidMetricName("_x"));
	EXPECT_FALSE(http::IsValidMetricName(""));
	EXPECT_FALSE(http::IsValidMetricName("9lives"));
	EXPECT_FALSE(http::IsValidMetricName("with-dash"));
	EXPECT_FALSE(http::IsValidMetricName("with space"));
	EXPECT_TRUE(http::IsValidLabelName("status_code"));
	EXPECT_FALSE(http::IsValidLabelName("a:b"));
	EXPECT_FALSE(http::IsValidLabelName("1a"));
}

TEST(MetricExposition, WritesHelpTypeAndSamples)
{
	Exposition out;
	out.Family("x_total", "counter", "Things\nwith a \\ in the help.");
	out.Sample("x_total", {{"kind", "a\"b"}, {"route", "/api/customers/:id"}}, std::uint64_t{7});
	out.Sample("x_total", {}, std::int64_t{-1});
	out.Family("y", "gauge", "A gauge.");
	out.Sample("y", {{"le", "+Inf"}}, 0.25);
	EXPECT_EQ(out.text(), "# HELP x_total Things\\nwith a \\\\ in the help.\n"
	                      "# TYPE x_total counter\n"
	                      "x_total{kind=\"a\\\"b\",route=\"/api/customers/:id\"} 7\n"
	                      "x_total -1\n"
	                      "# HELP y A gauge.\n"
	                      "# TYPE y gauge\n"
	                      "y{le=\"+Inf\"} 0.25\n");
}

TEST(MetricExposition, RejectsInvalidNamesAndTypes)
{
	Exposition out;
	EXPECT_THROW(out.Family("bad-name", "counter", "x"), std::invalid_argument);
	EXPECT_THROW(out.Family("ok", "histogramm", "x"), std::invalid_argument);
	EXPECT_THROW(out.Sample("bad name", {}, 1.0), std::invalid_argument);
	EXPECT_THROW(out.Sample("ok", {{"bad:label", "v"}}, 1.0), std::invalid_argument);
}

TEST(RequestMetrics, HistogramBucketsAreCumulativeWithInclusiveBounds)
{
	Metrics metrics; // the seed's buckets: 0.001 0.005 0.015 0.05 0.1 0.5 1 5
	const auto observe = [&](std::chrono::nanoseconds duration) {
		metrics.ObserveRequest("GET", "/api/customers/:id", 200, duration);
	};
	observe(500us); // <= 0.001
	observe(1ms);   // exactly 0.001: le is inclusive
	observe(3ms);   // <= 0.005
	observe(20ms);  // <= 0.05
	observe(7s);    // over 5: +Inf only
	observe(-5ms);  // a clock oddity counts as 0: <= 0.001
	Exposition out;
	metrics.Write(out);
	const std::string labels = "method=\"GET\",route=\"/api/customers/:id\",status_code=\"200\"";
	const std::string h = "telecom_billing_http_request_duration_seconds";
	// Sum: 0.0005 + 0.001 + 0.003 + 0.02 + 7 + 0 = 7.0245 s.
	EXPECT_EQ(out.text(),
	          "# HELP " + h +
	              " Duration of HTTP requests in seconds, until the response is handed to the socket, by method, "
	              "route pattern and status code.\n"
	              "# TYPE " +
	              h + " histogram\n" + h + "_bucket{" + labels + ",le=\"0.001\"} 3\n" + h + "_bucket{" + labels +
	              ",le=\"0.005\"} 4\n" + h + "_bucket{" + labels + ",le=\"0.015\"} 4\n" + h + "_bucket{" + labels +
	              ",le=\"0.05\"} 5\n" + h + "_bucket{" + labels + ",le=\"0.1\"} 5\n" + h + "_bucket{" + labels +
	              ",le=\"0.5\"} 5\n" + h + "_bucket{" + labels + ",le=\"1\"} 5\n" + h + "_bucket{" + labels +
	              ",le=\"5\"} 5\n" + h + "_bucket{" + labels + ",le=\"+Inf\"} 6\n" + h + "_sum{" + labels +
	              "} 7.0245\n" + h + "_count{" + labels +
	              "} 6\n"
	              "# HELP telecom_billing_http_requests_total HTTP requests answered, by method, route pattern and "
	              "status code.\n"
	              "# TYPE telecom_billing_http_requests_total counter\n"
	              "telecom_billing_http_requests_total{" +
	              labels + "} 6\n");
}

TEST(RequestMetrics, SeriesAreSortedAndEmptyLabelsNamed)
{
	Metrics metrics(std::vector<double>{0.5});
	metrics.ObserveRequest("POST", "/b", 201, 1ms);
	metrics.ObserveRequest("GET", "/b", 200, 1ms);
	metrics.ObserveRequest("GET", "/a", 500, 1ms);
	metrics.ObserveRequest("GET", "/a", 200, 1ms);
	metrics.ObserveRequest("", "", 400, 1ms);
	metrics.ObserveRequest("GET", "/a", 200, 1ms);
	Exposition out;
	metrics.Write(out);
	const std::string text = out.text();
	const std::string counter = text.substr(text.find("# HELP telecom_billing_http_requests_total"));
	EXPECT_EQ(counter,
	          "# HELP telecom_billing_http_requests_total HTTP requests answered, by method, route pattern "
	          "and status code.\n"
	          "# TYPE telecom_billing_http_requests_total counter\n"
	          "telecom_billing_http_requests_total{method=\"GET\",route=\"/a\",status_code=\"200\"} 2\n"
	          "telecom_billing_http_requests_total{method=\"GET\",route=\"/a\",status_code=\"500\"} 1\n"
	          "telecom_billing_http_requests_total{method=\"GET\",route=\"/b\",status_code=\"200\"} 1\n"
	          "telecom_billing_http_requests_total{method=\"POST\",route=\"/b\",status_code=\"201\"} 1\n"
	          "telecom_billing_http_requests_total{method=\"unknown\",route=\"unmatched\",status_code=\"400\"} 1\n");
	EXPECT_THAT(text, HasSubstr("{method=\"GET\",route=\"/a\",status_code=\"200\",le=\"0.5\"} 2\n"));
}

TEST(RequestMetrics, NoObservationsMeansFamiliesWithoutSamples)
{
	Metrics metrics;
	Exposition out;
	metrics.Write(out);
	EXPECT_THAT(out.text(), HasSubstr("# TYPE telecom_billing_http_request_duration_seconds histogram\n"));
	EXPECT_THAT(out.text(), HasSubstr("# TYPE telecom_billing_http_requests_total counter\n"));
	EXPECT_THAT(out.text(), Not(HasSubstr("_bucket")));
}

TEST(RequestMetrics, RejectsBadBuckets)
{
	using Bounds = std::vector<double>;
	EXPECT_THROW(Metrics(Bounds{0.1, 0.1}), std::invalid_argument);
	EXPECT_THROW(Metrics(Bounds{0.5, 0.1}), std::invalid_argument);
	EXPECT_THROW(Metrics(Bounds{0.0}), std::invalid_argument);
	EXPECT_THROW(Metrics(Bounds{-1.0}), std::invalid_argument);
	EXPECT_THROW(Metrics(Bounds{std::numeric_limits<double>::infinity()}), std::invalid_argument);
	EXPECT_NO_THROW(Metrics(Bounds{}));
}

// Values of every sample line, keyed by the series text before the value.
std::map<std::string, double>
Samples(const std::string& text)
{
	std::map<std::string, double> samples;
	std::istringstream lines(text);
	std::string line;
	while (std::getline(lines, line)) {
		if (line.empty() || line[0] == '#')
			continue;
		const std::size_t space = line.rfind(' ');
		samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
	}
	return samples;
}

TEST(RequestMetrics, ConcurrentObservationsAreAllCountedAndEveryScrapeIsConsistent)
{
	Metrics metrics(std::vector<double>{0.001, 0.01});
	constexpr int kThreads = 8;
	constexpr int kPerThread = 20000;
	const char* routes[] = {"/r0", "/r1", "/r2", "/r3"};
	std::atomic<bool> done{false};
	std::atomic<int> scrapes{0};
	std::atomic<int> inconsistent{0};
	// Meanwhile, scrapes: in each, per series, buckets never decrease and +Inf == _count == the counter.
	std::thread reader([&] {
		while (!done.load()) {
			Exposition out;
			metrics.Write(out);
			const auto samples = Samples(out.text());
			for (const char* route : routes) {
				const std::string labels = std::string("method=\"GET\",route=\"") + route + "\",status_code=\"200\"";
				const std::string h = "telecom_billing_http_request_duration_seconds";
				const auto count = samples.find(h + "_count{" + labels + "}");
				if (count == samples.end())
					continue;
				const double b1 = samples.at(h + "_bucket{" + labels + ",le=\"0.001\"}");
				const double b2 = samples.at(h + "_bucket{" + labels + ",le=\"0.01\"}");
				const double inf = samples.at(h + "_bucket{" + labels + ",le=\"+Inf\"}");
				const double total = samples.at("telecom_billing_http_requests_total{" + labels + "}");
				if (!(b1 <= b2 && b2 <= inf && inf == count->second && total == count->second))
					inconsistent.fetch_add(1);
			}
			scrapes.fetch_add(1);
		}
	});
	std::vector<std::thread> writers;
	for (int t = 0; t < kThreads; ++t) {
		writers.emplace_back([&, t] {
			for (int i = 0; i < kPerThread; ++i) {
				// Per thread and route: i % 4 picks the route; i % 3 picks 0.5 ms, 5 ms or 50 ms.
				const std::chrono::nanoseconds duration = (i % 3 == 0) ? 500us : (i % 3 == 1) ? 5ms : 50ms;
				metrics.ObserveRequest("GET", routes[(i + t) % 4], 200, duration);
			}
		});
	}
	for (auto& writer : writers)
		writer.join();
	done.store(true);
	reader.join();

	Exposition out;
	metrics.Write(out);
	const auto samples = Samples(out.text());
	double all = 0;
	for (const char* route : routes)
		all += samples.at(std::string("telecom_billing_http_requests_total{method=\"GET\",route=\"") + route +
		                  "\",status_code=\"200\"}");
	EXPECT_EQ(all, kThreads * kPerThread);
	// Every thread: 20000 observations, i % 3 == 0 for 6667 of them (0.5 ms), 6667 at 5 ms, 6666 at 50 ms.
	double le1 = 0, le10 = 0, sum = 0;
	for (const char* route : routes) {
		const std::string labels = std::string("method=\"GET\",route=\"") + route + "\",status_code=\"200\"";
		le1 += samples.at("telecom_billing_http_request_duration_seconds_bucket{" + labels + ",le=\"0.001\"}");
		le10 += samples.at("telecom_billing_http_request_duration_seconds_bucket{" + labels + ",le=\"0.01\"}");
		sum += samples.at("telecom_billing_http_request_duration_seconds_sum{" + labels + "}");
	}
	EXPECT_EQ(le1, kThreads * 6667);
	EXPECT_EQ(le10, kThreads * (6667 + 6667));
	// 8 * (6667 * 0.0005 + 6667 * 0.005 + 6666 * 0.05) = 8 * 369.9685 = 2959.748 s
	EXPECT_NEAR(sum, 2959.748, 1e-6);
	EXPECT_GT(scrapes.load(), 0);
	EXPECT_EQ(inconsistent.load(), 0);
}

TEST(ProcessMetrics, SnapshotReadsProc)
{
	const http::ProcessSnapshot snapshot = http::ReadProcessSnapshot();
	ASSERT_TRUE(snapshot.resident_bytes.has_value());
	EXPECT_GT(*snapshot.resident_bytes, 1024u * 1024u); // a gtest binary with its libraries: over 1 MiB
	ASSERT_TRUE(snapshot.open_fds.has_value());
	EXPECT_GE(*snapshot.open_fds, 3u); // stdin, stdout, stderr at least
	ASSERT_TRUE(snapshot.cpu_seconds.has_value());
	EXPECT_GE(*snapshot.cpu_seconds, 0.0);
	ASSERT_TRUE(snapshot.start_time_seconds.has_value());
	const double now = static_cast<double>(std::time(nullptr));
	EXPECT_LE(*snapshot.start_time_seconds, now + 1);
	EXPECT_GT(*snapshot.start_time_seconds, now - 24 * 3600); // this test process started today

	// Opening a descriptor shows up in the next snapshot.
	const int fd = ::dup(0);
	ASSERT_GE(fd, 0);
	const http::ProcessSnapshot after = http::ReadProcessSnapshot();
	::close(fd);
	ASSERT_TRUE(after.open_fds.has_value());
	EXPECT_EQ(*after.open_fds, *snapshot.open_fds + 1);

	Exposition out;
	http::WriteProcessMetrics(out, snapshot);
	EXPECT_THAT(out.text(), HasSubstr("# TYPE telecom_billing_process_cpu_seconds_total counter\n"));
	EXPECT_THAT(out.text(),
	            HasSubstr("\ntelecom_billing_process_open_fds " + std::to_string(*snapshot.open_fds) + "\n"));
	EXPECT_THAT(out.text(), HasSubstr("# TYPE telecom_billing_process_resident_memory_bytes gauge\n"));
	EXPECT_THAT(out.text(), HasSubstr("# TYPE telecom_billing_process_start_time_seconds gauge\n"));
}

// ---- GET /metrics through the production router ---------------------------------------------------------------

class MetricsRouteTest : public ::testing::Test {
protected:
	void
	SetUp() override
	{
		harness_.Start();
	}

	ApiHarness harness_{2048};
};

TEST_F(MetricsRouteTest, CountsEveryResponseIncludingErrors)
{
	EXPECT_EQ(Fetch("GET", harness_.Url("/health")).status, 200);
	EXPECT_EQ(Fetch("GET", harness_.Url("/health")).status, 200);
	EXPECT_EQ(Fetch("GET", harness_.Url("/no/such/route")).status, 404);
	EXPECT_EQ(Fetch("GET", harness_.Url("/no/such/route%27%20OR%201=1--")).status, 404);
	EXPECT_EQ(Fetch("DELETE", harness_.Url("/health")).status, 405);
	EXPECT_EQ(
		Fetch("POST", harness_.Url("/openapi.json"), {"Content-Type: application/json"}, std::string(3000, ' ')).status,
		413);
	EXPECT_EQ(Fetch("GET", harness_.Url("/api/auth/me")).status, 401); // no token

	// The last response's log line is written after it is sent: wait for it, then scrape.
	ASSERT_FALSE(harness_.log()
	                 .WaitForEvents("http_request", [](const nlohmann::json& line) { return line["status"] == 401; })
	                 .empty());
	const HttpResult scrape = Fetch("GET", harness_.Url("/metrics"));
	ASSERT_EQ(scrape.status, 200);
	EXPECT_EQ(scrape.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
	EXPECT_FALSE(scrape.Header("x-request-id").empty());
	const auto samples = Samples(scrape.body);
	const auto total = [&](const std::string& method, const std::string& route, int status) {
		const auto found = samples.find("telecom_billing_http_requests_total{method=\"" + method + "\",route=\"" +
		                                route + "\",status_code=\"" + std::to_string(status) + "\"}");
		return found == samples.end() ? -1.0 : found->second;
	};
	EXPECT_EQ(total("GET", "/health", 200), 2);
	EXPECT_EQ(total("GET", "unmatched", 404), 2) << "404s are counted under one label, never the raw path";
	EXPECT_EQ(total("DELETE", "/health", 405), 1) << "a 405 names the pattern of the path that matched";
	EXPECT_EQ(total("GET", "/api/auth/me", 401), 1);
	double too_large = 0;
	for (const auto& [series, value] : samples) {
		if (series.rfind("telecom_billing_http_requests_total{", 0) == 0 &&
		    series.find("status_code=\"413\"") != std::string::npos)
			too_large += value;
	}
	EXPECT_EQ(too_large, 1);
	EXPECT_THAT(scrape.body, Not(HasSubstr("no/such/route")));
	EXPECT_THAT(scrape.body, Not(HasSubstr("1=1")));

	// The scrape itself is counted by the next one.
	const HttpResult second = Fetch("GET", harness_.Url("/metrics"));
	EXPECT_EQ(Samples(second.body)["telecom_billing_http_requests_total{method=\"GET\",route=\"/metrics\",status_code="
	                               "\"200\"}"],
	          1);
}

TEST_F(MetricsRouteTest, DatabaseDownStillServesProcessAndHttpFigures)
{
	const HttpResult scrape = Fetch("GET", harness_.Url("/metrics"));
	ASSERT_EQ(scrape.status, 200);
	const auto samples = Samples(scrape.body);
	EXPECT_EQ(samples.at("telecom_billing_business_metrics_up"), 0);
	EXPECT_THAT(scrape.body, Not(HasSubstr("telecom_billing_customers_total")));
	EXPECT_EQ(samples.at("telecom_billing_db_connection_pool{status=\"active\"}"), 0);
	EXPECT_EQ(samples.at("telecom_billing_db_connection_pool{status=\"idle\"}"), 0);
	EXPECT_EQ(samples.at("telecom_billing_db_connection_pool_size"), 2);
	EXPECT_EQ(samples.at("telecom_billing_build_info{version=\"4.5.6-harness\"}"), 1);
	EXPECT_GT(samples.at("telecom_billing_process_resident_memory_bytes"), 0);
	EXPECT_GE(samples.at("telecom_billing_process_open_fds"), 3);
	// Every family is declared once, and each sample line belongs to a declared family.
	std::istringstream lines(scrape.body);
	std::string line;
	std::map<std::string, int> types;
	const std::regex sample_line(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? [-+0-9.eEInfNa]+$)");
	while (std::getline(lines, line)) {
		if (line.rfind("# TYPE ", 0) == 0) {
			const std::string name = line.substr(7, line.find(' ', 7) - 7);
			EXPECT_EQ(++types[name], 1) << "family declared twice: " << name;
			continue;
		}
		if (line.rfind("# HELP ", 0) == 0)
			continue;
		std::smatch match;
		ASSERT_TRUE(std::regex_match(line, match, sample_line)) << line;
		std::string family = match[1];
		for (const char* suffix : {"_bucket", "_sum", "_count"}) {
			const std::string s(suffix);
			if (!types.count(family) && family.size() > s.size() &&
			    family.compare(family.size() - s.size(), s.size(), s) == 0)
				family = family.substr(0, family.size() - s.size());
		}
		EXPECT_EQ(types.count(family), 1u) << "sample of an undeclared family: " << line;
	}
}

} // namespace
} // namespace balatrix::sidecar::testing
