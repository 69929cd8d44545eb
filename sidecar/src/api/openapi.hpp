/*
 * GET /openapi.json: an OpenAPI 3.1 document of every route the sidecar serves, built from the RouteDoc each
 * route was registered with (registry.hpp) plus the routes of router.cpp's SetupRoutes (/health,
 * /health/ready, /health/live), which are not registered through a Registry.
 *
 * What each operation says:
 *   - path parameters from the pattern (":id" -> "{id}"), query parameters from RouteDoc::query, the body
 *     schema from RouteDoc::request (a required application/json body);
 *   - security: bearerAuth when RouteDoc::authenticated, none otherwise; x-roles: the roles allowed
 *     (["any"] for any authenticated caller);
 *   - responses: the success status with the success envelope (or the raw media type, for /metrics and this
 *     document), and the error envelope (components/schemas/ErrorEnvelope) for every error the router or the
 *     API layer can answer on that route: 400 (bad target, parameter or JSON), 401 (authenticated), 403
 *     (restricted to roles), 404 (path parameters), 409 (/api mutations), 413/415 (bodies), 422 (validation:
 *     any input), 429 (/api rate limits), 503 (/api: database unavailable).
 *
 * The document is built once, at the first request, after every route is registered; it is a pure function
 * of the routes and the version.
 */
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/registry.hpp"

namespace balatrix::sidecar::api {

// "/api/customers/:id" -> "/api/customers/{id}".
std::string OpenApiPath(std::string_view pattern);

// The routes of router.cpp's SetupRoutes, documented here.
std::vector<DocumentedRoute> HealthRouteDocs();

// The OpenAPI 3.1 document of `routes` plus HealthRouteDocs() (unless `routes` has them already). Throws
// std::invalid_argument when two routes map to the same (path, method): a registration bug.
nlohmann::json OpenApiDocument(const std::vector<DocumentedRoute>& routes, std::string_view version);

// Registers GET /openapi.json, which serves OpenApiDocument(registry.documented(), version) as it stands at
// the first request (so it includes itself and every route registered after this call). Not wrapped in the
// envelope: tools (Swagger UI, code generators) read the document as served. `registry` must outlive the
// Router's HTTP handlers.
void RegisterOpenApiRoute(Registry& registry, std::string version);

} // namespace balatrix::sidecar::api
