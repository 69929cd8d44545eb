#include "api/metrics_routes.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "db/pool.hpp"

namespace balatrix::sidecar::api {

namespace {

using http::Exposition;
using http::MetricLabels;

std::string
Name(std::string_view suffix)
{
	return std::string(http::kMetricPrefix) + std::string(suffix);
}

// The families balatrix.api_metrics() returns rows for, in the order they are written. Rows with another
// metric name are ignored: the database chooses values and label values, the sidecar the names and types.
//
// Types: the seed declared these counters, but they are counts of rows by their current status, which can
// fall (an invoice goes from issued to paid, a CDR is re-rated from no_rate to rated, retention deletes old
// CDRs); rate() would read every fall as a counter reset. So they are gauges; the names stay the seed's.
struct BusinessFamily {
	const char* metric;
	const char* help;
};
constexpr BusinessFamily kBusinessFamilies[] = {
	{"active_subscriptions", "Subscriptions in service (trial or active), by rate plan code."},
	{"customers_total", "Customers, by status."},
	{"cdr_processed_total", "CDR legs stored, by rating status (pending, rated, skipped, unknown_account, no_rate, "
                            "invalid, error)."},
	{"invoices_generated_total", "Invoices and credit/debit notes, by document type and status."},
};

struct BusinessRow {
	std::string metric;
	MetricLabels labels;
	std::int64_t value = 0;
};

// Pool::Stats has no count of threads waiting for a connection yet; when it gains a `waiting` member, the
// status="waiting" series appears without a change here.
template <typename Stats, typename = void>
struct HasWaiting : std::false_type {
};
template <typename Stats>
struct HasWaiting<Stats, std::void_t<decltype(std::declval<Stats>().waiting)>> : std::true_type {
};

// A template so that the discarded branch below is not compiled against a Stats without `waiting`.
template <typename Stats>
void
WritePool(Exposition& out, const Stats& stats)
{
	const std::string pool = Name("db_connection_pool");
	out.Family(pool, "gauge",
	           "Database connections of the sidecar's pool, by status (active: leased or being "
	           "opened; idle: open and free).");
	const std::uint64_t open = stats.open;
	const std::uint64_t idle = stats.idle;
	out.Sample(pool, {{"status", "active"}}, open >= idle ? open - idle : std::uint64_t{0});
	out.Sample(pool, {{"status", "idle"}}, idle);
	if constexpr (HasWaiting<Stats>::value)
		out.Sample(pool, {{"status", "waiting"}}, static_cast<std::uint64_t>(stats.waiting));
	const std::string size = Name("db_connection_pool_size");
	out.Family(size, "gauge", "Maximum number of connections of the sidecar's pool (DB_POOL_SIZE).");
	out.Sample(size, {}, static_cast<std::uint64_t>(stats.capacity));
}

// Reads every business family in one statement; false when the database did not answer (down, pool
// exhausted, extension without api_metrics()). Never throws for database trouble (InTransaction).
bool
ReadBusiness(const Services& services, const http::RequestContext& context, std::vector<BusinessRow>& rows)
{
	const http::Reply reply = InTransaction(services, context, nullptr, [&rows](pqxx::transaction_base& tx) {
		rows.clear(); // a retried transaction starts over
		const pqxx::result result =
			tx.exec("SELECT metric, labels::text, value FROM balatrix.api_metrics() ORDER BY metric, labels::text");
		for (const auto& row : result) {
			BusinessRow parsed;
			parsed.metric = row[0].c_str();
			parsed.value = row[2].as<std::int64_t>();
			const auto labels = nlohmann::json::parse(row[1].c_str(), nullptr, false);
			if (labels.is_object()) {
				for (const auto& [name, value] : labels.items()) { // std::map: label names sorted
					if (value.is_string() && http::IsValidLabelName(name))
						parsed.labels.emplace_back(name, value.get<std::string>());
				}
			}
			rows.push_back(std::move(parsed));
		}
		http::Reply ok;
		ok.status = 200;
		return ok;
	});
	return reply.status >= 200 && reply.status < 300;
}

void
WriteBusiness(Exposition& out, const std::vector<BusinessRow>& rows)
{
	for (const BusinessFamily& family : kBusinessFamilies) {
		const std::string name = Name(family.metric);
		out.Family(name, "gauge", family.help);
		for (const BusinessRow& row : rows) {
			if (row.metric == family.metric)
				out.Sample(name, row.labels, row.value);
		}
	}
}

} // namespace

void
RegisterMetricsRoutes(Registry& registry, http::Metrics& metrics, std::string version)
{
	const Services& s = registry.services();
	RouteDoc doc;
	doc.summary = "Prometheus metrics (text exposition format 0.0.4); keep it off the public network";
	doc.tag = "Monitoring";
	doc.authenticated = false;
	doc.produces = http::kExpositionContentType;
	registry.Add("GET", "/metrics", std::move(doc),
	             [&s, &metrics, version = std::move(version)](const http::RequestContext& context) {
					 Exposition out;
					 metrics.Write(out);
					 WritePool(out, s.pool.GetStats());

					 std::vector<BusinessRow> rows;
					 const auto started = std::chrono::steady_clock::now();
					 const bool business_up = ReadBusiness(s, context, rows);
					 const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
					 const std::string up = Name("business_metrics_up");
					 out.Family(up, "gauge",
		                        "1 when the business metrics were read from the database in this "
		                        "scrape, 0 when the database did not answer (they are then left out).");
					 out.Sample(up, {}, std::uint64_t{business_up ? 1u : 0u});
					 const std::string duration = Name("business_metrics_scrape_duration_seconds");
					 out.Family(duration, "gauge", "Time spent reading the business metrics in this scrape.");
					 out.Sample(duration, {}, took.count());
					 if (business_up)
						 WriteBusiness(out, rows);

					 http::WriteProcessMetrics(out, http::ReadProcessSnapshot());

					 const std::string build = Name("build_info");
					 out.Family(build, "gauge", "Always 1; the sidecar's version in the label.");
					 out.Sample(build, {{"version", version}}, std::uint64_t{1});

					 http::Reply reply;
					 reply.status = 200;
					 reply.body = out.Take();
					 reply.headers.emplace_back("Content-Type", http::kExpositionContentType);
					 return reply;
				 });
}

} // namespace balatrix::sidecar::api
