#include "http/health_handler.hpp"

#include <nlohmann/json.hpp>

namespace balatrix::sidecar::http {
namespace {

using nlohmann::json;

// Milliseconds with microsecond resolution, e.g. 0.412.
double
Milliseconds(std::chrono::microseconds latency)
{
	return static_cast<double>(latency.count()) / 1000.0;
}

json
DatabaseJson(const service::ProbeResult& probe)
{
	json database{{"ok", probe.ok}, {"latencyMs", Milliseconds(probe.latency)}};
	if (probe.ok) {
		database["serverVersion"] = probe.server_version;
		database["extensionVersion"] = probe.extension_version ? json(*probe.extension_version) : json(nullptr);
	} else {
		database["error"] = probe.error;
	}
	return database;
}

} // namespace

HealthHandler::HealthHandler(service::HealthService& health) : health_(health) {}

Reply
HealthHandler::Health(const RequestContext& context) const
{
	const service::Liveness live = health_.Live();
	return Success(context, "ok",
	               json{{"status", "ok"},
	                    {"service", live.service},
	                    {"version", live.version},
	                    {"uptimeSeconds", live.uptime_seconds}});
}

Reply
HealthHandler::Live(const RequestContext& context) const
{
	return Health(context);
}

Reply
HealthHandler::Ready(const RequestContext& context) const
{
	const service::Readiness readiness = health_.Ready();
	if (readiness.ready)
		return Success(context, "ready", json{{"status", "ready"}, {"database", DatabaseJson(readiness.database)}});
	if (readiness.draining) // the database was not probed, so there is nothing to say about it
		return Failure(context, ErrorCode::kServiceUnavailable, "not ready: " + readiness.reason,
		               json{{"reason", readiness.reason}});
	return Failure(
		context, ErrorCode::kServiceUnavailable, "not ready: " + readiness.reason,
		json{{"status", "not_ready"}, {"reason", readiness.reason}, {"database", DatabaseJson(readiness.database)}});
}

} // namespace balatrix::sidecar::http
