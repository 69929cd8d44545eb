/*
 * GET /health, /health/live, /health/ready.
 */
#pragma once

#include "http/envelope.hpp"
#include "http/request_context.hpp"
#include "service/health_service.hpp"

namespace balatrix::sidecar::http {

class HealthHandler {
public:
	// `health` must outlive the handler.
	explicit HealthHandler(service::HealthService& health);

	// 200: {"status":"ok","service":...,"version":...,"uptimeSeconds":N}. Never touches the database.
	Reply Health(const RequestContext& context) const;

	// Liveness for orchestrators: same answer as Health, same cost.
	Reply Live(const RequestContext& context) const;

	// 200 with the database status when ready; 503 SERVICE_UNAVAILABLE with the reason and the database status
	// otherwise, or with details {"reason":"shutting down"} alone while the process drains.
	Reply Ready(const RequestContext& context) const;

private:
	service::HealthService& health_;
};

} // namespace balatrix::sidecar::http
