#include "http/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace balatrix::sidecar::http {

namespace {

bool
IsNameStart(char c, bool allow_colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}

bool
IsNameChar(char c, bool allow_colon)
{
	return IsNameStart(c, allow_colon) || (c >= '0' && c <= '9');
}

bool
IsValidName(std::string_view name, bool allow_colon)
{
	if (name.empty() || !IsNameStart(name.front(), allow_colon))
		return false;
	return std::all_of(name.begin(), name.end(), [&](char c) { return IsNameChar(c, allow_colon); });
}

std::string
PrefixedName(std::string_view suffix)
{
	return std::string(kMetricPrefix) + std::string(suffix);
}

} // namespace

std::string
EscapeLabelValue(std::string_view value)
{
	std::string escaped;
	escaped.reserve(value.size());
	for (const char c : value) {
		switch (c) {
		case '\\':
			escaped += "\\\\";
			break;
		case '"':
			escaped += "\\\"";
			break;
		case '\n':
			escaped += "\\n";
			break;
		default:
			escaped += c;
		}
	}
	return escaped;
}

std::string
EscapeHelp(std::string_view text)
{
	std::string escaped;
	escaped.reserve(text.size());
	for (const char c : text) {
		if (c == '\\')
			escaped += "\\\\";
		else if (c == '\n')
			escaped += "\\n";
		else
			escaped += c;
	}
	return escaped;
}

std::string
FormatMetricValue(double value)
{
	if (std::isnan(value))
		return "NaN";
	if (std::isinf(value))
		return value > 0 ? "+Inf" : "-Inf";
	// Integral values below 2^53 are exact in a double: print them as integers ("3", not "3e+00").
	if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0)
		return std::to_string(static_cast<long long>(value));
	char buffer[64];
	const auto result = std::to_chars(buffer, buffer + sizeof buffer, value); // shortest round-trip form
	return std::string(buffer, result.ptr);
}

bool
IsValidMetricName(std::string_view name)
{
	return IsValidName(name, true);
}

bool
IsValidLabelName(std::string_view name)
{
	return IsValidName(name, false);
}

// ---- Exposition -----------------------------------------------------------------------------------------------

void
Exposition::Family(std::string_view name, std::string_view type, std::string_view help)
{
	if (!IsValidMetricName(name))
		throw std::invalid_argument("invalid metric name: " + std::string(name));
	if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" && type != "untyped")
		throw std::invalid_argument("invalid metric type: " + std::string(type));
	text_ += "# HELP ";
	text_ += name;
	text_ += ' ';
	text_ += EscapeHelp(help);
	text_ += "\n# TYPE ";
	text_ += name;
	text_ += ' ';
	text_ += type;
	text_ += '\n';
}

void
Exposition::WriteSeries(std::string_view name, const MetricLabels& labels)
{
	if (!IsValidMetricName(name))
		throw std::invalid_argument("invalid metric name: " + std::string(name));
	text_ += name;
	if (!labels.empty()) {
		text_ += '{';
		bool first = true;
		for (const auto& [label, value] : labels) {
			if (!IsValidLabelName(label))
				throw std::invalid_argument("invalid label name: " + label);
			if (!first)
				text_ += ',';
			first = false;
			text_ += label;
			text_ += "=\"";
			text_ += EscapeLabelValue(value);
			text_ += '"';
		}
		text_ += '}';
	}
	text_ += ' ';
}

void
Exposition::Sample(std::string_view name, const MetricLabels& labels, double value)
{
	WriteSeries(name, labels);
	text_ += FormatMetricValue(value);
	text_ += '\n';
}

void
Exposition::Sample(std::string_view name, const MetricLabels& labels, std::uint64_t value)
{
	WriteSeries(name, labels);
	text_ += std::to_string(value);
	text_ += '\n';
}

void
Exposition::Sample(std::string_view name, const MetricLabels& labels, std::int64_t value)
{
	WriteSeries(name, labels);
	text_ += std::to_string(value);
	text_ += '\n';
}

// ---- Metrics --------------------------------------------------------------------------------------------------

// One label set. buckets[i] counts observations in (bound[i-1], bound[i]] — not cumulative, so an observation
// is one increment; the last slot is (last bound, +Inf). The count is the sum of the slots, computed when
// written, so _count, the +Inf bucket and the counter always agree.
struct Metrics::Series {
	Series(std::string method_, std::string route_, int status_, std::size_t slots)
		: method(std::move(method_)), route(std::move(route_)), status(status_),
		  buckets(std::make_unique<std::atomic<std::uint64_t>[]>(slots))
	{
		for (std::size_t i = 0; i < slots; ++i)
			buckets[i].store(0, std::memory_order_relaxed);
	}

	const std::string method;
	const std::string route;
	const int status;
	std::unique_ptr<std::atomic<std::uint64_t>[]> buckets;
	std::atomic<std::uint64_t> sum_ns{0};
};

Metrics::Metrics(std::vector<double> buckets) : buckets_(std::move(buckets))
{
	for (std::size_t i = 0; i < buckets_.size(); ++i) {
		const double bound = buckets_[i];
		if (!std::isfinite(bound) || bound <= 0 || (i > 0 && bound <= buckets_[i - 1]))
			throw std::invalid_argument("histogram buckets must be finite, positive and strictly increasing");
		bucket_ns_.push_back(std::llround(bound * 1e9));
	}
}

Metrics::~Metrics() = default;

Metrics::Series*
Metrics::Find(std::string_view method, std::string_view route, int status)
{
	std::string key;
	key.reserve(method.size() + route.size() + 8);
	key.append(method).append(1, '\0').append(route).append(1, '\0').append(std::to_string(status));
	Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
	{
		std::shared_lock lock(shard.mutex);
		const auto found = shard.series.find(key);
		if (found != shard.series.end())
			return found->second.get();
	}
	std::unique_lock lock(shard.mutex);
	auto& slot = shard.series[key];
	if (!slot)
		slot = std::make_unique<Series>(std::string(method), std::string(route), status, bucket_ns_.size() + 1);
	return slot.get();
}

void
Metrics::ObserveRequest(std::string_view method, std::string_view route, int status,
                        std::chrono::nanoseconds duration) noexcept
{
	try {
		Series* series = Find(method.empty() ? "unknown" : method, route.empty() ? "unmatched" : route, status);
		const std::int64_t ns = std::max<std::int64_t>(0, duration.count());
		// The first bound >= the duration (le is inclusive); past the last bound, the +Inf slot.
		const auto slot =
			static_cast<std::size_t>(std::lower_bound(bucket_ns_.begin(), bucket_ns_.end(), ns) - bucket_ns_.begin());
		series->buckets[slot].fetch_add(1, std::memory_order_relaxed);
		series->sum_ns.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
	} catch (...) {
		// Out of memory for a new series: this observation is lost, the response is not.
	}
}

void
Metrics::Write(Exposition& out) const
{
	struct Row {
		const Series* series;
		std::vector<std::uint64_t> buckets;
		std::uint64_t sum_ns;
	};
	std::vector<Row> rows;
	for (const Shard& shard : shards_) {
		std::shared_lock lock(shard.mutex);
		for (const auto& [key, series] : shard.series) {
			Row row{series.get(), {}, series->sum_ns.load(std::memory_order_relaxed)};
			for (std::size_t i = 0; i <= bucket_ns_.size(); ++i)
				row.buckets.push_back(series->buckets[i].load(std::memory_order_relaxed));
			rows.push_back(std::move(row));
		}
	}
	std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
		return std::tie(a.series->route, a.series->method, a.series->status) <
		       std::tie(b.series->route, b.series->method, b.series->status);
	});
	const auto labels_of = [](const Series& series) {
		return MetricLabels{
			{"method", series.method}, {"route", series.route}, {"status_code", std::to_string(series.status)}};
	};

	const std::string histogram = PrefixedName("http_request_duration_seconds");
	out.Family(histogram, "histogram",
	           "Duration of HTTP requests in seconds, until the response is handed to the "
	           "socket, by method, route pattern and status code.");
	for (const Row& row : rows) {
		MetricLabels labels = labels_of(*row.series);
		std::uint64_t cumulative = 0;
		for (std::size_t i = 0; i <= bucket_ns_.size(); ++i) {
			cumulative += row.buckets[i];
			MetricLabels with_le = labels;
			with_le.emplace_back("le", i < buckets_.size() ? FormatMetricValue(buckets_[i]) : "+Inf");
			out.Sample(histogram + "_bucket", with_le, cumulative);
		}
		out.Sample(histogram + "_sum", labels, static_cast<double>(row.sum_ns) / 1e9);
		out.Sample(histogram + "_count", labels, cumulative);
	}

	const std::string counter = PrefixedName("http_requests_total");
	out.Family(counter, "counter", "HTTP requests answered, by method, route pattern and status code.");
	for (const Row& row : rows) {
		std::uint64_t total = 0;
		for (const std::uint64_t count : row.buckets)
			total += count;
		out.Sample(counter, labels_of(*row.series), total);
	}
}

// ---- Process metrics ------------------------------------------------------------------------------------------

namespace {

std::optional<std::string>
ReadFile(const char* path)
{
	std::ifstream in(path);
	if (!in)
		return std::nullopt;
	std::ostringstream text;
	text << in.rdbuf();
	return text.str();
}

std::optional<std::uint64_t>
ParseUnsigned(std::string_view text)
{
	std::uint64_t value = 0;
	const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
	if (result.ec != std::errc() || result.ptr != text.data() + text.size())
		return std::nullopt;
	return value;
}

std::vector<std::string_view>
SplitSpaces(std::string_view text)
{
	std::vector<std::string_view> fields;
	std::size_t at = 0;
	while (at < text.size()) {
		while (at < text.size() && (text[at] == ' ' || text[at] == '\n'))
			++at;
		const std::size_t start = at;
		while (at < text.size() && text[at] != ' ' && text[at] != '\n')
			++at;
		if (at > start)
			fields.push_back(text.substr(start, at - start));
	}
	return fields;
}

} // namespace

ProcessSnapshot
ReadProcessSnapshot() noexcept
{
	ProcessSnapshot snapshot;
	try {
		const long ticks = sysconf(_SC_CLK_TCK);
		const long page = sysconf(_SC_PAGESIZE);
		// /proc/self/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so fields are
		// counted from the last ')'. After it, field 3 (state) is index 0: utime (14) -> 11, stime (15) -> 12,
		// starttime (22) -> 19, vsize (23) -> 20, rss (24, pages) -> 21.
		if (const auto stat = ReadFile("/proc/self/stat")) {
			const std::size_t close = stat->rfind(')');
			if (close != std::string::npos) {
				const auto fields = SplitSpaces(std::string_view(*stat).substr(close + 1));
				if (fields.size() > 21 && ticks > 0) {
					const auto utime = ParseUnsigned(fields[11]);
					const auto stime = ParseUnsigned(fields[12]);
					if (utime && stime)
						snapshot.cpu_seconds = static_cast<double>(*utime + *stime) / static_cast<double>(ticks);
					snapshot.virtual_bytes = ParseUnsigned(fields[20]);
					if (const auto rss = ParseUnsigned(fields[21]); rss && page > 0)
						snapshot.resident_bytes = *rss * static_cast<std::uint64_t>(page);
					// starttime is in ticks since boot; boot time (btime) is in /proc/stat.
					if (const auto started = ParseUnsigned(fields[19])) {
						if (const auto proc_stat = ReadFile("/proc/stat")) {
							const std::size_t at = proc_stat->find("\nbtime ");
							if (at != std::string::npos) {
								const std::size_t begin = at + 7;
								const std::size_t end = proc_stat->find('\n', begin);
								if (const auto boot =
								        ParseUnsigned(std::string_view(*proc_stat)
								                          .substr(begin, end == std::string::npos ? end : end - begin)))
									snapshot.start_time_seconds =
										static_cast<double>(*boot) +
										static_cast<double>(*started) / static_cast<double>(ticks);
							}
						}
					}
				}
			}
		}
		if (DIR* dir = opendir("/proc/self/fd")) {
			const std::string own = std::to_string(dirfd(dir));
			std::uint64_t count = 0;
			while (const dirent* entry = readdir(dir)) {
				const std::string_view name(entry->d_name);
				if (name != "." && name != ".." && name != own) // not the descriptor of this listing
					++count;
			}
			closedir(dir);
			snapshot.open_fds = count;
		}
		rlimit limit{};
		if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
			snapshot.max_fds = static_cast<std::uint64_t>(limit.rlim_cur);
	} catch (...) {
		// Whatever was read so far is reported; the rest stays unknown.
	}
	return snapshot;
}

void
WriteProcessMetrics(Exposition& out, const ProcessSnapshot& snapshot)
{
	const auto write = [&out](std::string_view suffix, std::string_view type, std::string_view help, auto value) {
		if (!value)
			return;
		const std::string name = PrefixedName(suffix);
		out.Family(name, type, help);
		out.Sample(name, {}, *value);
	};
	write("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
	      snapshot.cpu_seconds);
	write("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", snapshot.resident_bytes);
	write("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", snapshot.virtual_bytes);
	write("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.",
	      snapshot.start_time_seconds);
	write("process_open_fds", "gauge", "Number of open file descriptors.", snapshot.open_fds);
	write("process_max_fds", "gauge", "Maximum number of open file descriptors.", snapshot.max_fds);
}

} // namespace balatrix::sidecar::http
