#include "service/health_service.hpp"

#include <exception>
#include <utility>

namespace balatrix::sidecar::service {

HealthService::HealthService(DatabaseProbe& probe, const Lifecycle& lifecycle, std::string version, Clock clock)
	: probe_(probe), lifecycle_(lifecycle), version_(std::move(version)), clock_(std::move(clock)), started_(clock_())
{
}

Liveness
HealthService::Live() const
{
	const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(clock_() - started_);
	return Liveness{kServiceName, version_, uptime.count()};
}

Readiness
HealthService::Ready()
{
	Readiness readiness;
	if (lifecycle_.draining()) {
		// Checked first and answered without the database: the point is to make the load balancer look
		// elsewhere quickly, and a slow or down database must not delay that.
		readiness.draining = true;
		readiness.reason = kShuttingDownReason;
		return readiness;
	}
	try {
		readiness.database = probe_.Check();
	} catch (const std::exception&) {
		// The probe contract forbids throwing; if one does anyway, the answer is "not ready", not a 500.
		readiness.database = ProbeResult{};
		readiness.database.error = "database probe failed";
	}

	if (!readiness.database.ok) {
		readiness.reason = readiness.database.error.empty() ? "database unavailable" : readiness.database.error;
	} else if (!readiness.database.extension_version) {
		readiness.reason = "the balatrix extension is not installed in the database";
	} else {
		readiness.ready = true;
	}
	return readiness;
}

} // namespace balatrix::sidecar::service
