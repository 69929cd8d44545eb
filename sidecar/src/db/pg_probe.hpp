/*
 * DatabaseProbe over the connection pool: one round trip that proves the connection works and reports the
 * server version and the installed balatrix extension version.
 */
#pragma once

#include <chrono>

#include "db/pool.hpp"
#include "service/database_probe.hpp"

namespace balatrix::sidecar::db {

class PgProbe final : public service::DatabaseProbe {
public:
	// `pool` and `logger` must outlive the probe. `acquire_timeout` bounds the wait for a pooled connection.
	PgProbe(Pool& pool, std::chrono::milliseconds acquire_timeout, spdlog::logger& logger);

	service::ProbeResult Check() override;

private:
	Pool& pool_;
	std::chrono::milliseconds acquire_timeout_;
	spdlog::logger& logger_;
};

} // namespace balatrix::sidecar::db
