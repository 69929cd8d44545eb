// GET /openapi.json: the document lists every route the production router serves — walked through
// Router::Routes() on the object graph of main.cpp (api_harness.hpp), so a route added anywhere without
// documentation fails here — and nothing else; and it is structurally valid OpenAPI 3.1.
#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/openapi.hpp"
#include "api_harness.hpp"
#include "http_client.hpp"

namespace balatrix::sidecar::testing {
namespace {

using nlohmann::json;

std::string
Lower(std::string text)
{
	std::transform(text.begin(), text.end(), text.begin(),
	               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
	return text;
}

// "{id}" names in an OpenAPI path, in order.
std::vector<std::string>
TemplateNames(const std::string& path)
{
	std::vector<std::string> names;
	const std::regex name(R"(\{([^}/]+)\})");
	for (auto it = std::sregex_iterator(path.begin(), path.end(), name); it != std::sregex_iterator(); ++it)
		names.push_back((*it)[1]);
	return names;
}

// Every "$ref" in `node`, recursively.
void
CollectRefs(const json& node, std::vector<std::string>& refs)
{
	if (node.is_object()) {
		for (const auto& [key, value] : node.items()) {
			if (key == "$ref" && value.is_string())
				refs.push_back(value.get<std::string>());
			else
				CollectRefs(value, refs);
		}
	} else if (node.is_array()) {
		for (const auto& item : node)
			CollectRefs(item, refs);
	}
}

class OpenApiTest : public ::testing::Test {
protected:
	void
	SetUp() override
	{
		harness_.Start();
		const HttpResult served = Fetch("GET", harness_.Url("/openapi.json"));
		ASSERT_EQ(served.status, 200) << served.body;
		EXPECT_EQ(served.Header("content-type"), "application/json; charset=utf-8");
		document_ = json::parse(served.body, nullptr, false);
		ASSERT_TRUE(document_.is_object()) << served.body.substr(0, 200);
	}

	ApiHarness harness_;
	json document_;
};

TEST_F(OpenApiTest, EveryRouteTheRouterServesIsDocumented)
{
	const std::vector<http::RouteInfo> routes = harness_.router().Routes();
	// The health routes (SetupRoutes), /metrics, /openapi.json, and whatever the API modules register.
	ASSERT_GE(routes.size(), 5u);
	std::set<std::pair<std::string, std::string>> served;
	for (const http::RouteInfo& route : routes) {
		const std::string path = api::OpenApiPath(route.pattern);
		served.emplace(path, Lower(route.method));
		ASSERT_TRUE(document_["paths"].contains(path)) << route.method << " " << route.pattern << " has no path item";
		EXPECT_TRUE(document_["paths"][path].contains(Lower(route.method)))
			<< route.method << " " << route.pattern << " is not documented";
	}
	// ... and the document lists nothing the router does not serve.
	for (const auto& [path, item] : document_["paths"].items()) {
		for (const auto& [method, operation] : item.items())
			EXPECT_TRUE(served.count({path, method})) << method << " " << path << " is documented but not served";
	}
	for (const char* path : {"/health", "/health/live", "/health/ready", "/metrics", "/openapi.json"})
		EXPECT_TRUE(document_["paths"].contains(path)) << path;
}

TEST_F(OpenApiTest, ServedDocumentEqualsTheBuiltOne)
{
	EXPECT_EQ(document_, api::OpenApiDocument(harness_.registry().documented(), kHarnessVersion));
	// Served again from the cache: identical.
	EXPECT_EQ(json::parse(Fetch("GET", harness_.Url("/openapi.json")).body), document_);
}

TEST_F(OpenApiTest, IsStructurallyValidOpenApi31)
{
	const json& d = document_;
	EXPECT_EQ(d["openapi"], "3.1.0");
	EXPECT_EQ(d["info"]["title"], "Balatrix API");
	EXPECT_EQ(d["info"]["version"], kHarnessVersion);
	ASSERT_TRUE(d["paths"].is_object());
	ASSERT_TRUE(d["components"]["schemas"].contains("ErrorEnvelope"));
	ASSERT_TRUE(d["components"]["securitySchemes"].contains("bearerAuth"));
	EXPECT_EQ(d["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");

	const std::set<std::string> methods{"get", "put", "post", "delete", "options", "head", "patch", "trace"};
	const std::set<std::string> roles{"any", "super_admin", "admin", "support", "reseller", "customer"};
	const std::regex status_code("^[1-5][0-9][0-9]$");
	std::set<std::string> operation_ids;
	for (const auto& [path, item] : d["paths"].items()) {
		EXPECT_EQ(path.front(), '/') << path;
		EXPECT_EQ(path.find(':'), std::string::npos) << "pattern syntax left in " << path;
		const std::vector<std::string> names = TemplateNames(path);
		for (const auto& [method, operation] : item.items()) {
			const std::string where = method + " " + path;
			EXPECT_TRUE(methods.count(method)) << where;
			ASSERT_TRUE(operation["operationId"].is_string()) << where;
			EXPECT_TRUE(operation_ids.insert(operation["operationId"].get<std::string>()).second)
				<< "duplicate operationId " << operation["operationId"] << " at " << where;
			ASSERT_TRUE(operation["responses"].is_object()) << where;
			ASSERT_FALSE(operation["responses"].empty()) << where;
			bool has_success = false;
			for (const auto& [code, response] : operation["responses"].items()) {
				EXPECT_TRUE(std::regex_match(code, status_code)) << where << " " << code;
				EXPECT_TRUE(response.contains("description") || response.contains("$ref")) << where << " " << code;
				has_success = has_success || code[0] == '2';
			}
			EXPECT_TRUE(has_success) << where;
			// Path parameters: exactly the template's names, each required.
			std::vector<std::string> declared;
			for (const json& parameter : operation.value("parameters", json::array())) {
				ASSERT_TRUE(parameter["name"].is_string()) << where;
				EXPECT_TRUE(parameter["in"] == "path" || parameter["in"] == "query") << where;
				EXPECT_TRUE(parameter.contains("schema")) << where;
				if (parameter["in"] == "path") {
					declared.push_back(parameter["name"]);
					EXPECT_EQ(parameter["required"], true) << where;
				}
			}
			EXPECT_EQ(declared, names) << where;
			if (!names.empty()) {
				EXPECT_TRUE(operation["responses"].contains("404")) << where;
			}
			// Security: bearerAuth with x-roles and a 401, or public.
			ASSERT_TRUE(operation["security"].is_array()) << where;
			if (!operation["security"].empty()) {
				EXPECT_EQ(operation["security"], json::parse(R"([{"bearerAuth":[]}])")) << where;
				EXPECT_TRUE(operation["responses"].contains("401")) << where;
				ASSERT_TRUE(operation["x-roles"].is_array()) << where;
				ASSERT_FALSE(operation["x-roles"].empty()) << where;
				for (const json& role : operation["x-roles"])
					EXPECT_TRUE(roles.count(role.get<std::string>())) << where << " role " << role;
				if (operation["x-roles"] != json::array({"any"})) {
					EXPECT_TRUE(operation["responses"].contains("403")) << where;
				}
			} else {
				EXPECT_FALSE(operation.contains("x-roles")) << where;
			}
			if (operation.contains("requestBody")) {
				EXPECT_TRUE(operation["requestBody"]["content"].contains("application/json")) << where;
				EXPECT_TRUE(operation["responses"].contains("415")) << where;
				EXPECT_TRUE(operation["responses"].contains("413")) << where;
			}
			if (path.rfind("/api/", 0) == 0) {
				EXPECT_TRUE(operation["responses"].contains("429")) << where;
			}
		}
	}
	// Every $ref points at something that exists.
	std::vector<std::string> refs;
	CollectRefs(d, refs);
	EXPECT_FALSE(refs.empty());
	for (const std::string& ref : refs) {
		ASSERT_EQ(ref.rfind("#/", 0), 0u) << ref;
		EXPECT_TRUE(d.contains(json::json_pointer(ref.substr(1)))) << "dangling $ref " << ref;
	}
}

TEST_F(OpenApiTest, MonitoringRoutesArePublicAndSayWhatTheyServe)
{
	const json& paths = document_["paths"];
	for (const char* path : {"/health", "/health/live", "/health/ready", "/metrics", "/openapi.json"}) {
		EXPECT_EQ(paths[path]["get"]["security"], json::array()) << path;
		EXPECT_FALSE(paths[path]["get"]["responses"].contains("401")) << path;
	}
	EXPECT_TRUE(
		paths["/metrics"]["get"]["responses"]["200"]["content"].contains("text/plain; version=0.0.4; charset=utf-8"));
	EXPECT_TRUE(paths["/health/ready"]["get"]["responses"].contains("503"));
	EXPECT_EQ(paths["/health"]["get"]["operationId"], "getHealth");
	EXPECT_EQ(paths["/health/ready"]["get"]["operationId"], "getHealthReady");
}

// ---- OpenApiDocument on hand-made routes ---------------------------------------------------------------------

TEST(OpenApiDocument, PathSyntax)
{
	EXPECT_EQ(api::OpenApiPath("/"), "/");
	EXPECT_EQ(api::OpenApiPath("/health"), "/health");
	EXPECT_EQ(api::OpenApiPath("/api/customers/:id"), "/api/customers/{id}");
	EXPECT_EQ(api::OpenApiPath("/api/customers/:customerId/accounts/:id/ledger"),
	          "/api/customers/{customerId}/accounts/{id}/ledger");
	EXPECT_EQ(api::OpenApiPath("/a/b:c"), "/a/b:c"); // a colon inside fixed text is not a parameter
}

TEST(OpenApiDocument, DescribesParametersBodyRolesAndErrors)
{
	api::RouteDoc doc;
	doc.summary = "Suspend a customer";
	doc.tag = "Customers";
	doc.roles = api::kAdmins;
	doc.request =
		json{{"type", "object"}, {"required", {"reason"}}, {"properties", {{"reason", {{"type", "string"}}}}}};
	doc.query = json::array({{{"name", "notify"}, {"schema", {{"type", "boolean"}}}, {"required", false}}});
	doc.success_status = 201;
	api::RouteDoc list;
	list.summary = "List";
	list.tag = "Customers";
	const json d =
		api::OpenApiDocument({{"POST", "/api/customers/:id/suspend", doc}, {"GET", "/api/customers", list}}, "1.2.3");

	const json& op = d["paths"]["/api/customers/{id}/suspend"]["post"];
	EXPECT_EQ(op["operationId"], "postApiCustomersByIdSuspend");
	EXPECT_EQ(op["summary"], "Suspend a customer");
	EXPECT_EQ(op["tags"], json::array({"Customers"}));
	EXPECT_EQ(op["x-roles"], json::array({"super_admin", "admin"}));
	EXPECT_EQ(op["security"], json::parse(R"([{"bearerAuth":[]}])"));
	EXPECT_EQ(op["parameters"], json::parse(R"([{"name":"id","in":"path","required":true,"schema":{"type":"string"}},
	                          {"name":"notify","in":"query","required":false,"schema":{"type":"boolean"}}])"));
	EXPECT_EQ(op["requestBody"]["required"], true);
	EXPECT_EQ(op["requestBody"]["content"]["application/json"]["schema"], doc.request);
	std::vector<std::string> codes;
	for (const auto& [code, response] : op["responses"].items())
		codes.push_back(code);
	EXPECT_EQ(codes,
	          (std::vector<std::string>{"201", "400", "401", "403", "404", "409", "413", "415", "422", "429", "503"}));
	EXPECT_EQ(op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
	          "#/components/schemas/SuccessEnvelope");
	EXPECT_EQ(op["responses"]["422"]["$ref"], "#/components/responses/ValidationError");

	const json& get = d["paths"]["/api/customers"]["get"];
	EXPECT_EQ(get["x-roles"], json::array({"any"}));
	EXPECT_FALSE(get.contains("parameters"));
	EXPECT_FALSE(get.contains("requestBody"));
	codes.clear();
	for (const auto& [code, response] : get["responses"].items())
		codes.push_back(code);
	EXPECT_EQ(codes, (std::vector<std::string>{"200", "400", "401", "429", "503"}));

	// The health routes are added when absent; tags are listed once each, sorted.
	EXPECT_TRUE(d["paths"].contains("/health/ready"));
	EXPECT_EQ(d["tags"], json::parse(R"([{"name":"Customers"},{"name":"Monitoring"}])"));
	// The error envelope's codes are the API's.
	const json& codes_enum =
		d["components"]["schemas"]["ErrorEnvelope"]["properties"]["error"]["properties"]["code"]["enum"];
	EXPECT_NE(std::find(codes_enum.begin(), codes_enum.end(), "VALIDATION_ERROR"), codes_enum.end());
	EXPECT_NE(std::find(codes_enum.begin(), codes_enum.end(), "RATE_LIMIT_EXCEEDED"), codes_enum.end());
}

TEST(OpenApiDocument, TwoRoutesForOneOperationAreABug)
{
	api::RouteDoc doc;
	EXPECT_THROW(api::OpenApiDocument({{"GET", "/a/:id", doc}, {"GET", "/a/:id", doc}}, "1"), std::invalid_argument);
}

} // namespace
} // namespace balatrix::sidecar::testing
