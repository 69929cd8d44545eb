/*
 * Liveness and readiness of the sidecar (GET /health, /health/live, /health/ready).
 *
 * Liveness: the process is up and serving; it never touches the database, so an orchestrator does not restart
 * a healthy sidecar because PostgreSQL is down. Readiness: the database answers AND the balatrix extension is
 * installed in it — without the extension no API call can work, so traffic should go elsewhere — AND the process
 * is not shutting down (Lifecycle::draining): a draining sidecar still serves requests, but a load balancer
 * must stop sending new ones.
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "service/database_probe.hpp"
#include "service/lifecycle.hpp"

namespace balatrix::sidecar::service {

inline constexpr const char* kServiceName = "balatrix-sidecar";
// Readiness::reason while the process drains before it stops.
inline constexpr const char* kShuttingDownReason = "shutting down";

struct Liveness {
	std::string service;
	std::string version;
	std::int64_t uptime_seconds = 0;
};

struct Readiness {
	bool ready = false;
	std::string reason;   // when !ready: why, fit for API clients
	bool draining = false; // the process is shutting down; the database was not probed
	ProbeResult database;  // the probe's findings, ready or not; empty when draining
};

class HealthService {
public:
	using Clock = std::function<std::chrono::steady_clock::time_point()>;

	// `probe` and `lifecycle` must outlive the service. `clock` is injectable for tests; uptime counts from
	// construction.
	HealthService(
		DatabaseProbe& probe, const Lifecycle& lifecycle, std::string version,
		Clock clock = [] { return std::chrono::steady_clock::now(); });

	Liveness Live() const;

	// Not ready with kShuttingDownReason while draining, without touching the database; otherwise runs the
	// database probe. Never throws for a probe failure reported as a std::exception.
	Readiness Ready();

private:
	DatabaseProbe& probe_;
	const Lifecycle& lifecycle_;
	std::string version_;
	Clock clock_;
	std::chrono::steady_clock::time_point started_;
};

} // namespace balatrix::sidecar::service
