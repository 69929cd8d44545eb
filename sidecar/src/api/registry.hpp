/*
 * Where API routes are declared: each resource module (auth_routes.cpp, customer_routes.cpp, ...) adds its
 * routes through a Registry, which puts them in the Router and keeps each one's OpenAPI facts (RouteDoc) for
 * /openapi.json. RegisterApiRoutes (routes.cpp) is the one list of modules; the composition root and the
 * OpenAPI completeness test both call it, so the test walks exactly the routes production serves.
 */
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/api.hpp"
#include "http/router.hpp"

namespace balatrix::sidecar::api {

struct DocumentedRoute {
	std::string method;
	std::string pattern;
	RouteDoc doc;
};

class Registry {
public:
	// Both must outlive the Registry and the Router's HTTP handlers.
	Registry(http::Router& router, const Services& services) : router_(router), services_(services) {}

	const Services&
	services() const
	{
		return services_;
	}

	// Router::Add plus the route's documentation.
	void Add(std::string_view method, std::string_view pattern, RouteDoc doc, http::RouteHandler handler,
	         http::RouteOptions options = {});

	const std::vector<DocumentedRoute>&
	documented() const
	{
		return documented_;
	}

private:
	http::Router& router_;
	const Services& services_;
	std::vector<DocumentedRoute> documented_;
};

// Every /api route, /metrics and /openapi.json. Defined in routes.cpp.
void RegisterApiRoutes(Registry& registry);

// The modules RegisterApiRoutes calls, one per resource.
void RegisterAuthRoutes(Registry& registry);
void RegisterCustomerRoutes(Registry& registry);
void RegisterAccountRoutes(Registry& registry);
void RegisterRatePlanRoutes(Registry& registry);
void RegisterSubscriptionRoutes(Registry& registry);
void RegisterDidRoutes(Registry& registry);
void RegisterCdrRoutes(Registry& registry);
void RegisterInvoiceRoutes(Registry& registry);
void RegisterReportRoutes(Registry& registry);
void RegisterPaymentRoutes(Registry& registry);
void RegisterWebhookEndpointRoutes(Registry& registry);

} // namespace balatrix::sidecar::api
