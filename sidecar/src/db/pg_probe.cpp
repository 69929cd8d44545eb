#include "db/pg_probe.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/except>
#include <pqxx/nontransaction>

#include "log.hpp"

namespace balatrix::sidecar::db {
namespace {

// One statement, no transaction block: a nontransaction sends exactly this and nothing else. Catalog names are
// schema-qualified so a search_path set on the role cannot redirect them.
constexpr const char* kProbeQuery =
	"SELECT pg_catalog.current_setting('server_version'), "
	"(SELECT e.extversion FROM pg_catalog.pg_extension AS e WHERE e.extname = 'balatrix')";

} // namespace

PgProbe::PgProbe(Pool& pool, std::chrono::milliseconds acquire_timeout, spdlog::logger& logger)
	: pool_(pool), acquire_timeout_(acquire_timeout), logger_(logger)
{
}

service::ProbeResult
PgProbe::Check()
{
	const auto started = std::chrono::steady_clock::now();
	service::ProbeResult result;
	// The client-facing `error` is a fixed phrase per failure class; the detailed (scrubbed) message goes to
	// the log only, because libpq's text names hosts, ports and users.
	std::string detail;
	bool logged = false;
	try {
		Lease lease = pool_.Acquire(acquire_timeout_);
		try {
			pqxx::nontransaction tx(*lease, "readiness probe");
			const pqxx::row row = tx.exec1(kProbeQuery, "readiness probe");
			result.server_version = row[0].as<std::string>();
			if (!row[1].is_null())
				result.extension_version = row[1].as<std::string>();
			result.ok = true;
		} catch (const pqxx::broken_connection&) {
			lease.Discard();
			throw;
		}
	} catch (const PoolError& e) {
		switch (e.kind()) {
		case PoolError::Kind::kTimeout:
			result.error = "timed out waiting for a free database connection";
			break;
		case PoolError::Kind::kClosed:
			result.error = "the database pool is shut down";
			break;
		case PoolError::Kind::kConnectFailed:
			result.error = "could not connect to the database";
			logged = true; // the pool logged libpq's message
			break;
		}
		detail = e.what(); // already scrubbed by the pool
	} catch (const pqxx::broken_connection& e) {
		result.error = "lost the database connection during the probe";
		detail = pool_.Scrub(e.what());
	} catch (const pqxx::sql_error& e) {
		result.error = "the probe query failed (SQLSTATE " + e.sqlstate() + ")";
		detail = pool_.Scrub(e.what());
	} catch (const std::exception& e) {
		result.error = "the database probe failed";
		detail = pool_.Scrub(e.what());
	}
	result.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);

	if (!result.ok && !logged)
		LogEvent(logger_, LogLevel::kWarn, "db_probe_failed", {{"error", result.error}, {"detail", detail}});
	return result;
}

} // namespace balatrix::sidecar::db
