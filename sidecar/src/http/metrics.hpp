/*
 * Prometheus metrics of the sidecar: the text exposition format 0.0.4, the HTTP request families the router
 * feeds, and the process figures read from /proc. GET /metrics (api/metrics_routes.cpp) puts them together with
 * the pool and the business gauges read from the database at scrape time.
 *
 * Names: every family carries the seed's prefix, "telecom_billing_" (reference/seed-original.md §8), the
 * process ones included (the seed's prom-client collected its default metrics under that prefix). Keeping it
 * makes the sidecar a drop-in replacement behind dashboards and alerts written for the seed.
 *
 * Cardinality: the route label is the matched route *pattern* ("/api/customers/:id"), "unmatched" when no route
 * matched; never the raw path (the seed used the raw path, so every 404 probe minted a new series). method is
 * one of the methods Pistache parses (or "unknown" before the request line was read); status_code is a number.
 * So the number of series is bounded by routes x methods x statuses.
 *
 * Concurrency: Metrics::ObserveRequest runs on every worker thread for every response. Series live in 16
 * shards, each a map under a shared_mutex: an existing series is found under the shared lock and updated with
 * relaxed atomic increments, so concurrent requests contend only when one of them creates a series (once per
 * label set). Series are never removed; pointers to them stay valid.
 */
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace balatrix::sidecar::http {

// The prefix of every family name.
inline constexpr std::string_view kMetricPrefix = "telecom_billing_";

// The Content-Type of the text exposition format.
inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// Label name -> value, in the order they are written.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A label value as the format wants it between double quotes: backslash, double quote and line feed escaped
// (\\, \", \n); everything else (UTF-8 included) verbatim.
std::string EscapeLabelValue(std::string_view value);

// A HELP text: backslash and line feed escaped.
std::string EscapeHelp(std::string_view text);

// A sample value: integral values below 2^53 as integers ("3"), others in the shortest form that reads back as
// the same double ("0.005", "1.5e+21"); "+Inf", "-Inf", "NaN" as the format spells them.
std::string FormatMetricValue(double value);

// True for a valid metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*; label names without ':').
bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);

// Builds one exposition document. Declare each family once, then write its samples; names and label names
// are the caller's constants (checked: an invalid one throws std::invalid_argument, a bug).
class Exposition {
public:
	// "# HELP <name> <help>\n# TYPE <name> <type>\n"; type is counter, gauge, histogram, summary or untyped.
	void Family(std::string_view name, std::string_view type, std::string_view help);

	void Sample(std::string_view name, const MetricLabels& labels, double value);
	void Sample(std::string_view name, const MetricLabels& labels, std::uint64_t value);
	void Sample(std::string_view name, const MetricLabels& labels, std::int64_t value);

	const std::string&
	text() const
	{
		return text_;
	}

	std::string
	Take()
	{
		return std::move(text_);
	}

private:
	void WriteSeries(std::string_view name, const MetricLabels& labels);

	std::string text_;
};

// The seed's buckets for request durations, in seconds.
inline const std::vector<double> kDefaultDurationBuckets{0.001, 0.005, 0.015, 0.05, 0.1, 0.5, 1, 5};

// http_request_duration_seconds (histogram) and http_requests_total (counter), both labelled method, route,
// status_code, fed by the router for every response it writes.
class Metrics {
public:
	// `buckets`: upper bounds in seconds, strictly increasing, finite and positive (std::invalid_argument
	// otherwise); +Inf is implicit.
	explicit Metrics(std::vector<double> buckets = kDefaultDurationBuckets);
	~Metrics();

	Metrics(const Metrics&) = delete;
	Metrics& operator=(const Metrics&) = delete;

	// Counts one response. `method` empty -> "unknown"; `route` empty -> "unmatched". A negative duration
	// counts as 0. Never throws (a failure to allocate a new series drops the observation).
	void ObserveRequest(std::string_view method, std::string_view route, int status,
	                    std::chrono::nanoseconds duration) noexcept;

	// Appends both families, series sorted by (route, method, status_code); the histogram's buckets are
	// cumulative and its +Inf bucket equals its _count, which equals the counter.
	void Write(Exposition& out) const;

	const std::vector<double>&
	buckets() const
	{
		return buckets_;
	}

private:
	struct Series;
	struct Shard {
		mutable std::shared_mutex mutex;
		std::unordered_map<std::string, std::unique_ptr<Series>> series;
	};
	static constexpr std::size_t kShards = 16;

	Series* Find(std::string_view method, std::string_view route, int status);

	std::vector<double> buckets_;
	std::vector<std::int64_t> bucket_ns_; // the bounds in nanoseconds, for comparisons without floating point
	std::array<Shard, kShards> shards_;
};

// What /proc says about this process; a field is nullopt when it could not be read.
struct ProcessSnapshot {
	std::optional<double> cpu_seconds;           // user + system
	std::optional<std::uint64_t> resident_bytes; // RSS
	std::optional<std::uint64_t> virtual_bytes;
	std::optional<double> start_time_seconds; // since the Unix epoch
	std::optional<std::uint64_t> open_fds;
	std::optional<std::uint64_t> max_fds; // RLIMIT_NOFILE soft limit
};

// Reads /proc/self/stat, /proc/self/statm, /proc/stat (btime) and /proc/self/fd. Never throws.
ProcessSnapshot ReadProcessSnapshot() noexcept;

// Appends the process_* families (with kMetricPrefix) that `snapshot` has values for.
void WriteProcessMetrics(Exposition& out, const ProcessSnapshot& snapshot);

} // namespace balatrix::sidecar::http
