#include "api/openapi.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <utility>

#include "http/envelope.hpp"
#include "role.hpp"

namespace balatrix::sidecar::api {

namespace {

using nlohmann::json;

constexpr const char* kJson = "application/json";

std::string
Lower(std::string text)
{
	std::transform(text.begin(), text.end(), text.begin(),
	               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
	return text;
}

std::vector<std::string>
PathParameterNames(std::string_view pattern)
{
	std::vector<std::string> names;
	std::size_t at = 0;
	while (at < pattern.size()) {
		const std::size_t end = std::min(pattern.find('/', at + 1), pattern.size());
		const std::string_view segment = pattern.substr(at + 1, end - at - 1);
		if (!segment.empty() && segment.front() == ':')
			names.emplace_back(segment.substr(1));
		at = end;
	}
	return names;
}

// "GET" "/api/customers/:id" -> "getApiCustomersById"; "/health/ready" -> "getHealthReady". Unique per route
// because (method, pattern) is; OpenApiDocument checks anyway.
std::string
OperationId(const std::string& method, std::string_view pattern)
{
	std::string id = Lower(method);
	bool upper = true;
	bool first_of_segment = true;
	for (const char c : pattern) {
		if (c == '/') {
			upper = true;
			first_of_segment = true;
			continue;
		}
		if (c == ':' && first_of_segment) {
			id += "By";
			upper = true;
			first_of_segment = false;
			continue;
		}
		first_of_segment = false;
		if (!std::isalnum(static_cast<unsigned char>(c))) {
			upper = true;
			continue;
		}
		id += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
		upper = false;
	}
	return id;
}

json
ErrorResponse(const std::string& description)
{
	return json{{"$ref", "#/components/responses/" + description}};
}

json
Components()
{
	json codes = json::array();
	for (const http::ErrorCode code :
	     {http::ErrorCode::kBadRequest, http::ErrorCode::kInvalidJson, http::ErrorCode::kUnauthorized,
	      http::ErrorCode::kForbidden, http::ErrorCode::kNotFound, http::ErrorCode::kMethodNotAllowed,
	      http::ErrorCode::kRequestTimeout, http::ErrorCode::kConflict, http::ErrorCode::kPayloadTooLarge,
	      http::ErrorCode::kUriTooLong, http::ErrorCode::kUnsupportedMediaType, http::ErrorCode::kValidationFailed,
	      http::ErrorCode::kRateLimited, http::ErrorCode::kInternalError, http::ErrorCode::kServiceUnavailable})
		codes.push_back(std::string(http::ErrorCodeName(code)));

	const json metadata = {
		{"type", "object"},
		{"required", {"timestamp", "requestId"}},
		{"properties",
	     {{"timestamp", {{"type", "string"}, {"format", "date-time"}}},
	      {"requestId", {{"type", "string"}, {"description", "Also in the X-Request-ID response header."}}}}}};
	json schemas = {
		{"Metadata", metadata},
		{"SuccessEnvelope",
	     {{"type", "object"},
	      {"required", {"success", "message", "data", "metadata"}},
	      {"properties",
	       {{"success", {{"const", true}}},
	        {"message", {{"type", "string"}}},
	        {"data", {{"description", "The resource, list or result; lists are {<items>, pagination}."}}},
	        {"metadata", {{"$ref", "#/components/schemas/Metadata"}}}}}}},
		{"ErrorEnvelope",
	     {{"type", "object"},
	      {"required", {"success", "message", "error", "metadata"}},
	      {"properties",
	       {{"success", {{"const", false}}},
	        {"message", {{"type", "string"}}},
	        {"error",
	         {{"type", "object"},
	          {"required", {"code", "details"}},
	          {"properties",
	           {{"code", {{"type", "string"}, {"enum", codes}}},
	            {"details",
	             {{"description", "null, an object, or for VALIDATION_ERROR the list of field errors"},
	              {"oneOf",
	               {{{"type", "null"}},
	                {{"type", "object"}},
	                {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/FieldError"}}}}}}}}}}}},
	        {"metadata", {{"$ref", "#/components/schemas/Metadata"}}}}}}},
		{"FieldError",
	     {{"type", "object"},
	      {"required", {"field", "code", "message"}},
	      {"properties",
	       {{"field", {{"type", "string"}}}, {"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}},
		{"Pagination",
	     {{"type", "object"},
	      {"required", {"total", "page", "limit", "totalPages"}},
	      {"properties",
	       {{"total", {{"type", "integer"}, {"minimum", 0}}},
	        {"page", {{"type", "integer"}, {"minimum", 1}}},
	        {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}}},
	        {"totalPages", {{"type", "integer"}, {"minimum", 0}}}}}}},
	};

	const auto error = [](const char* description) {
		return json{{"description", description},
		            {"content", {{kJson, {{"schema", {{"$ref", "#/components/schemas/ErrorEnvelope"}}}}}}}};
	};
	json responses = {
		{"BadRequest", error("Malformed request: request target, path or query parameter, or JSON body")},
		{"Unauthorized", error("No token, or an invalid, expired or revoked one")},
		{"Forbidden", error("The caller's role may not use this route, or the origin is refused")},
		{"NotFound", error("No such resource (or not visible to the caller)")},
		{"Conflict", error("Duplicate, or the resource is in the wrong state")},
		{"PayloadTooLarge", error("Body over MAX_BODY_BYTES")},
		{"UnsupportedMediaType", error("Body is not application/json")},
		{"ValidationError", error("Invalid input; error.details lists every field error")},
		{"RateLimited", error("Too many requests; see Retry-After")},
		{"ServiceUnavailable", error("The database is unavailable or busy")},
	};
	responses["RateLimited"]["headers"] = {
		{"Retry-After", {{"description", "Seconds until the window resets"}, {"schema", {{"type", "integer"}}}}}};

	return json{{"securitySchemes",
	             {{"bearerAuth",
	               {{"type", "http"},
	                {"scheme", "bearer"},
	                {"bearerFormat", "JWT"},
	                {"description", "Access token from POST /api/auth/login (15 minutes)"}}}}},
	            {"schemas", std::move(schemas)},
	            {"responses", std::move(responses)}};
}

json
Operation(const DocumentedRoute& route)
{
	const RouteDoc& doc = route.doc;
	const bool under_api = route.pattern.rfind("/api/", 0) == 0;
	const bool mutating = route.method != "GET";
	json operation = {{"operationId", OperationId(route.method, route.pattern)},
	                  {"summary", doc.summary},
	                  {"tags", json::array({doc.tag.empty() ? std::string("Default") : doc.tag})}};

	json parameters = json::array();
	const std::vector<std::string> path_names = PathParameterNames(route.pattern);
	for (const std::string& name : path_names)
		parameters.push_back({{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
	if (doc.query.is_array()) {
		for (const json& query : doc.query) {
			if (!query.is_object() || !query.contains("name"))
				continue;
			json parameter = {{"name", query["name"]},
			                  {"in", "query"},
			                  {"required", query.value("required", false)},
			                  {"schema", query.contains("schema") ? query["schema"] : json{{"type", "string"}}}};
			if (query.contains("description"))
				parameter["description"] = query["description"];
			parameters.push_back(std::move(parameter));
		}
	}
	if (!parameters.empty())
		operation["parameters"] = std::move(parameters);
	const bool has_body = !doc.request.is_null();
	if (has_body)
		operation["requestBody"] = {{"required", true}, {"content", {{kJson, {{"schema", doc.request}}}}}};

	if (doc.authenticated) {
		operation["security"] = json::array({{{"bearerAuth", json::array()}}});
		json roles = json::array();
		for (const Role role : doc.roles)
			roles.push_back(std::string(RoleName(role)));
		if (roles.empty())
			roles.push_back("any");
		operation["x-roles"] = std::move(roles);
	} else {
		operation["security"] = json::array(); // public
	}

	json responses = json::object();
	json success = {{"description", doc.summary.empty() ? std::string("Success") : doc.summary}};
	if (route.pattern == "/openapi.json") {
		success["content"] = {{kJson, {{"schema", {{"type", "object"}, {"description", "This document"}}}}}};
	} else if (doc.produces == kJson) {
		success["content"] = {{kJson, {{"schema", {{"$ref", "#/components/schemas/SuccessEnvelope"}}}}}};
	} else if (!doc.produces.empty()) {
		success["content"] = {{doc.produces, {{"schema", {{"type", "string"}}}}}};
	}
	responses[std::to_string(doc.success_status)] = std::move(success);
	const bool has_input = has_body || !path_names.empty() || (doc.query.is_array() && !doc.query.empty());
	responses["400"] = ErrorResponse("BadRequest"); // any request can have a malformed target
	if (doc.authenticated)
		responses["401"] = ErrorResponse("Unauthorized");
	if (doc.authenticated && !doc.roles.empty())
		responses["403"] = ErrorResponse("Forbidden");
	if (!path_names.empty())
		responses["404"] = ErrorResponse("NotFound");
	if (under_api && mutating)
		responses["409"] = ErrorResponse("Conflict");
	if (has_body || mutating) {
		responses["413"] = ErrorResponse("PayloadTooLarge");
		responses["415"] = ErrorResponse("UnsupportedMediaType");
	}
	if (has_input && under_api)
		responses["422"] = ErrorResponse("ValidationError");
	if (under_api)
		responses["429"] = ErrorResponse("RateLimited");
	if (under_api || route.pattern == "/health/ready")
		responses["503"] = ErrorResponse("ServiceUnavailable");
	operation["responses"] = std::move(responses);
	return operation;
}

} // namespace

std::string
OpenApiPath(std::string_view pattern)
{
	std::string path;
	bool in_parameter = false;
	for (std::size_t i = 0; i < pattern.size(); ++i) {
		const char c = pattern[i];
		if (c == ':' && i > 0 && pattern[i - 1] == '/') {
			path += '{';
			in_parameter = true;
			continue;
		}
		if (c == '/' && in_parameter) {
			path += '}';
			in_parameter = false;
		}
		path += c;
	}
	if (in_parameter)
		path += '}';
	return path;
}

std::vector<DocumentedRoute>
HealthRouteDocs()
{
	const auto doc = [](std::string summary) {
		RouteDoc d;
		d.summary = std::move(summary);
		d.tag = "Monitoring";
		d.authenticated = false;
		return d;
	};
	return {
		{"GET", "/health", doc("Liveness with service name, version and uptime (never touches the database)")},
		{"GET", "/health/live", doc("Liveness (same as /health)")},
		{"GET", "/health/ready",
	     doc("Readiness: 200 when the database answers and the sidecar is not draining, "
	         "else 503")},
	};
}

json
OpenApiDocument(const std::vector<DocumentedRoute>& routes, std::string_view version)
{
	std::vector<DocumentedRoute> all = routes;
	for (DocumentedRoute& health : HealthRouteDocs()) {
		const bool present = std::any_of(all.begin(), all.end(), [&](const DocumentedRoute& route) {
			return route.method == health.method && route.pattern == health.pattern;
		});
		if (!present)
			all.push_back(std::move(health));
	}

	json paths = json::object();
	std::set<std::string> tags;
	std::set<std::string> operation_ids;
	for (const DocumentedRoute& route : all) {
		const std::string path = OpenApiPath(route.pattern);
		const std::string method = Lower(route.method);
		json& item = paths[path];
		if (item.contains(method))
			throw std::invalid_argument("OpenAPI: two routes for " + route.method + " " + path);
		json operation = Operation(route);
		if (!operation_ids.insert(operation["operationId"].get<std::string>()).second)
			throw std::invalid_argument("OpenAPI: duplicate operationId for " + route.method + " " + path);
		tags.insert(operation["tags"][0].get<std::string>());
		item[method] = std::move(operation);
	}

	json tag_list = json::array();
	for (const std::string& tag : tags)
		tag_list.push_back({{"name", tag}});
	return json{
		{"openapi", "3.1.0"},
		{"info",
	     {{"title", "Balatrix API"},
	      {"version", std::string(version)},
	      {"description", "REST API of the Balatrix telecom billing sidecar. Every JSON response is an envelope: "
	                      "{success, message, data, metadata} or {success:false, message, error{code, details}, "
	                      "metadata}. Money amounts are decimal strings."},
	      {"license", {{"name", "Proprietary"}}}}},
		{"jsonSchemaDialect", "https://spec.openapis.org/oas/3.1/dialect/base"},
		{"servers", json::array({{{"url", "/"}}})},
		{"tags", std::move(tag_list)},
		{"paths", std::move(paths)},
		{"components", Components()},
	};
}

void
RegisterOpenApiRoute(Registry& registry, std::string version)
{
	RouteDoc doc;
	doc.summary = "This OpenAPI 3.1 document";
	doc.tag = "Monitoring";
	doc.authenticated = false;
	// Built at the first request, when every route is registered (the Router is frozen by then); the
	// shared_ptr keeps the cache alive as long as the handler (Router copies handlers).
	struct Cache {
		std::once_flag once;
		std::string body;
	};
	auto cache = std::make_shared<Cache>();
	const Registry* source = &registry;
	registry.Add("GET", "/openapi.json", std::move(doc),
	             [cache, source, version = std::move(version)](const http::RequestContext&) {
					 std::call_once(cache->once,
		                            [&] { cache->body = OpenApiDocument(source->documented(), version).dump(); });
					 http::Reply reply;
					 reply.status = 200;
					 reply.body = cache->body;
					 return reply;
				 });
}

} // namespace balatrix::sidecar::api
