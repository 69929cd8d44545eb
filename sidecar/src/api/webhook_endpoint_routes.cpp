/*
 * /api/webhook-endpoints: the customer's own webhook endpoints (balatrix.webhook_endpoints), which the outbox
 * consumer posts its events to, signed with the endpoint's secret (Balatrix-Signature: t=…,v1=HMAC-SHA256 of
 * "<t>.<body>", the Stripe scheme).
 *
 * The secret is shown once, in the answer that creates the endpoint: balatrix_api cannot read that column
 * (column privileges), so no list or read can show it again. Writes go through the SECURITY DEFINER
 * api_create_webhook_endpoint / api_delete_webhook_endpoint, which check the actor; reads are plain SELECTs
 * under row-level security. A customer manages its own; staff pass customerId.
 */
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/list_query.hpp"
#include "api/registry.hpp"

namespace balatrix::sidecar::api {

namespace {

using http::ErrorCode;
using http::Failure;
using http::Reply;
using http::RequestContext;
using http::Validator;
using nlohmann::json;
namespace field_code = http::field_code;

constexpr const char* kEndpointJson =
	"pg_catalog.jsonb_build_object('id', w.id, 'customer_id', w.customer_id, 'url', w.url, 'event_types', "
	"w.event_types, 'is_active', w.is_active, 'description', w.description, 'created_at', w.created_at)";

// The customer a request acts for: customerId (staff), else the caller's own customer.
std::optional<std::string>
TargetCustomer(pqxx::transaction_base& tx, Validator& v, const std::optional<std::string>& given)
{
	if (given) {
		if (!IsUuid(*given)) {
			v.Add("customerId", field_code::kInvalidFormat, "customerId must be a UUID");
			return std::nullopt;
		}
		return given;
	}
	const pqxx::result mine = tx.exec("SELECT balatrix.actor_customer_id()::text");
	if (mine.empty() || mine[0][0].is_null()) {
		v.Add("customerId", field_code::kRequired, "customerId is required");
		return std::nullopt;
	}
	return std::string(mine[0][0].c_str());
}

Reply
List(const Services& s, const RequestContext& c)
{
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(nullptr);
		const auto customer = TargetCustomer(tx, v, v.QueryString(c.query, "customerId", TextRule(false, 36, 36)));
		if (!v.ok())
			return v.Failure(c);
		const pqxx::result rows = tx.exec_params(
			std::string("SELECT coalesce(pg_catalog.jsonb_agg(") + kEndpointJson +
				" ORDER BY w.created_at, w.id)::text, '[]') FROM balatrix.webhook_endpoints w"
				" WHERE w.customer_id = $1::uuid AND w.is_active",
			*customer);
		return http::Success(c, "Webhook endpoints retrieved", WireJson(rows[0][0].c_str()));
	});
}

Reply
Create(const Services& s, const RequestContext& c)
{
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(c.body.get());
		if (!c.body)
			v.Add("", field_code::kRequired, "a JSON body {url, eventTypes?, description?} is required");
		const auto url = v.String("url", TextRule(true, 8, 2048));
		const auto description = v.String("description", TextRule(false, 1, 500));
		std::vector<std::string> types;
		if (c.body && c.body->is_object() && c.body->contains("eventTypes")) {
			const json& given = (*c.body)["eventTypes"];
			if (!given.is_array() || given.empty() || given.size() > 50)
				v.Add("eventTypes", field_code::kInvalidType, "eventTypes must be an array of 1 to 50 event types");
			else
				for (const json& t : given) {
					if (!t.is_string() || t.get<std::string>().empty() || t.get<std::string>().size() > 100) {
						v.Add("eventTypes", field_code::kInvalidType, "eventTypes must hold event type names");
						break;
					}
					types.push_back(t.get<std::string>());
				}
		}
		const auto customer = TargetCustomer(tx, v, v.String("customerId", TextRule(false, 36, 36)));
		v.NoOtherFields({"url", "eventTypes", "description", "customerId"});
		if (!v.ok())
			return v.Failure(c);
		const std::string types_json = json(types).dump();
		const pqxx::row created = tx.exec_params1(
			"SELECT e.id::text, e.secret FROM balatrix.api_create_webhook_endpoint($1::uuid, $2, "
			"  CASE WHEN $3::jsonb = '[]'::jsonb THEN NULL"
			"       ELSE ARRAY(SELECT pg_catalog.jsonb_array_elements_text($3::jsonb)) END, $4) e",
			*customer, *url, types_json, description ? description->c_str() : nullptr);
		const pqxx::row row = tx.exec_params1(std::string("SELECT ") + kEndpointJson +
		                                          "::text FROM balatrix.webhook_endpoints w WHERE w.id = $1::uuid",
		                                      created[0].c_str());
		json data = WireJson(row[0].c_str());
		// Shown this once: verify Balatrix-Signature with it.
		data["secret"] = created[1].c_str();
		return http::Success(c, "Webhook endpoint created", data, 201);
	});
}

Reply
Delete(const Services& s, const RequestContext& c)
{
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const auto id = PathUuid(c, "id");
		if (!id)
			return NotFound(c, "Webhook endpoint");
		tx.exec_params("SELECT balatrix.api_delete_webhook_endpoint($1::uuid)", *id);
		return http::Success(c, "Webhook endpoint deleted", json{{"id", *id}});
	});
}

} // namespace

void
RegisterWebhookEndpointRoutes(Registry& registry)
{
	const Services& s = registry.services();
	RouteDoc doc;
	doc.tag = "webhooks";
	doc.summary = "The caller's customer webhook endpoints (staff: ?customerId=)";
	doc.query = json::array({json{{"name", "customerId"}, {"schema", {{"type", "string"}, {"format", "uuid"}}}, {"required", false}}});
	registry.Add("GET", "/api/webhook-endpoints", doc, [&s](const RequestContext& c) { return List(s, c); });
	doc.summary = "Register a webhook endpoint; the answer shows its signing secret, once";
	doc.query = nullptr;
	doc.request = json{{"type", "object"},
	                   {"required", {"url"}},
	                   {"properties",
	                    {{"url", {{"type", "string"}}},
	                     {"eventTypes", {{"type", "array"}, {"items", {{"type", "string"}}}}},
	                     {"description", {{"type", "string"}}},
	                     {"customerId", {{"type", "string"}, {"format", "uuid"}}}}}};
	doc.success_status = 201;
	registry.Add("POST", "/api/webhook-endpoints", doc, [&s](const RequestContext& c) { return Create(s, c); });
	doc.summary = "Delete a webhook endpoint";
	doc.request = nullptr;
	doc.success_status = 200;
	registry.Add("DELETE", "/api/webhook-endpoints/:id", doc, [&s](const RequestContext& c) { return Delete(s, c); });
}

} // namespace balatrix::sidecar::api
