/*
 * Liveness and readiness of the sidecar (GET /health, /health/live, /health/ready).
 *
 * Liveness: the process is up and serving; it never touches the database, so an orchestrator does not restart
 * a healthy sidecar because PostgreSQL is down. Readiness: the database answers AND the balatrix extension is
 * installed in it — without the extension no API call can work, so traffic should go elsewhere.
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "service/database_probe.hpp"

namespace balatrix::sidecar::service {

inline constexpr const char* kServiceName = "balatrix-sidecar";

struct Liveness {
	std::string service;
	std::string version;
	std::int64_t uptime_seconds = 0;
};

struct Readiness {
	bool ready = false;
	std::string reason;   // when !ready: why, fit for API clients
	ProbeResult database; // the probe's findings, ready or not
};

class HealthService {
public:
	using Clock = std::function<std::chrono::steady_clock::time_point()>;

	// `probe` must outlive the service. `clock` is injectable for tests; uptime counts from construction.
	HealthService(
		DatabaseProbe& probe, std::string version, Clock clock = [] { return std::chrono::steady_clock::now(); });

	Liveness Live() const;

	// Runs the database probe; never throws.
	Readiness Ready();

private:
	DatabaseProbe& probe_;
	std::string version_;
	Clock clock_;
	std::chrono::steady_clock::time_point started_;
};

} // namespace balatrix::sidecar::service
