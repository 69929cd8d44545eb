/*
 * Rate plans (/api/rate-plans), subscriptions (/api/subscriptions) and numbers (/api/dids).
 *
 * Reads are plain SELECTs under row-level security (another customer's row is simply absent: 404). Writes go
 * through the SECURITY DEFINER balatrix.api_* functions, which check the actor and call the internal functions
 * (create_subscription, change_subscription_plan, cancel_subscription, suspend / resume / activate / renew,
 * assign_did / release_did). The database builds every response's JSON; money stays numeric until WireJson
 * turns it into strings.
 *
 * Who sees which rate plan: the catalogue is public, but only its public, active plans. GET /public,
 * GET /:id, GET /code/:code and POST /calculate-price need no token; without one (or with a non-staff token)
 * they show public, active plans only, and a private or withdrawn plan is 404. A staff token sees every plan.
 * A token that is sent but invalid is a 401, never a silent downgrade to anonymous.
 *
 * Money in request bodies (rate plan prices) is accepted as a JSON string ("349.00") or number (349) and passed
 * to SQL as decimal text after a format check; it is never computed with in C++.
 */
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

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

// ---- small helpers ---------------------------------------------------------------------------------------

const json*
Body(const RequestContext& context)
{
	return context.body ? context.body.get() : nullptr;
}

const char*
OrNull(const std::optional<std::string>& value)
{
	return value ? value->c_str() : nullptr;
}

// The :id path parameter when it is a UUID.
std::optional<std::string>
PathId(const RequestContext& context, std::string_view name = "id")
{
	const auto id = context.path_params.Get(name);
	if (!id || !IsUuid(*id))
		return std::nullopt;
	return std::string(*id);
}

http::StringRule
Rule(bool required, std::size_t min_length, std::size_t max_length)
{
	http::StringRule rule;
	rule.required = required;
	rule.min_length = min_length;
	rule.max_length = max_length;
	return rule;
}

bool
IsDigits(std::string_view text)
{
	if (text.empty())
		return false;
	for (char c : text)
		if (c < '0' || c > '9')
			return false;
	return true;
}

// Decimal text: 1..int_digits digits, optionally '.' and 1..frac_digits digits. No sign, no exponent.
bool
IsDecimal(std::string_view text, std::size_t int_digits, std::size_t frac_digits)
{
	const auto dot = text.find('.');
	const std::string_view whole = text.substr(0, dot);
	if (!IsDigits(whole) || whole.size() > int_digits)
		return false;
	if (dot == std::string_view::npos)
		return true;
	const std::string_view fraction = text.substr(dot + 1);
	return IsDigits(fraction) && fraction.size() <= frac_digits;
}

bool
IsPlanCode(std::string_view text)
{
	if (text.size() < 2 || text.size() > 50 || text[0] < 'A' || text[0] > 'Z')
		return false;
	for (char c : text)
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	return true;
}

const json*
Member(const json* body, std::string_view field)
{
	if (body == nullptr || !body->is_object())
		return nullptr;
	const auto it = body->find(std::string(field));
	if (it == body->end() || it->is_null())
		return nullptr;
	return &*it;
}

// A money field: a JSON string or number whose text is decimal with at most int_digits / frac_digits digits.
// A number's text is nlohmann's shortest round-trip form, exact for the at most 16 significant digits allowed
// here; a string is taken as is.
std::optional<std::string>
Money(Validator& validator, const json* body, std::string_view field, bool required, std::size_t int_digits,
      std::size_t frac_digits)
{
	const json* member = Member(body, field);
	const std::string name(field);
	if (member == nullptr) {
		if (required)
			validator.Add(name, field_code::kRequired, name + " is required");
		return std::nullopt;
	}
	std::string text;
	if (member->is_string()) {
		text = member->get<std::string>();
	} else if (member->is_number_integer() || member->is_number_unsigned()) {
		text = member->dump();
	} else if (member->is_number_float()) {
		text = member->dump();
		if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0)
			text.resize(text.size() - 2);
	} else {
		validator.Add(name, field_code::kInvalidType, name + " must be a decimal string or a number");
		return std::nullopt;
	}
	if (!IsDecimal(text, int_digits, frac_digits)) {
		validator.Add(name, field_code::kInvalidFormat,
		              name + " must be a non-negative amount with at most " + std::to_string(int_digits) +
		                  " digits before and " + std::to_string(frac_digits) + " after the decimal point");
		return std::nullopt;
	}
	return text;
}

// Add-ons of a quote or a new subscription, as the {"CODE": quantity} object balatrix.quote_subscription takes.
// Accepted: that object; the frontend's [{"code","quantity"}]; the seed's {"extraTollFreeNumbers": n,
// "extraExtensions": n}. Absent: {}.
std::string
Addons(Validator& validator, const json* body)
{
	const json* member = Member(body, "addons");
	json out = json::object();
	if (member == nullptr)
		return out.dump();
	auto put = [&](const std::string& where, std::string code, const json& quantity) {
		if (code == "extraTollFreeNumbers")
			code = "EXTRA_TFN";
		else if (code == "extraExtensions")
			code = "EXTRA_EXTENSION";
		if (!IsPlanCode(code)) {
			validator.Add(where, field_code::kInvalidFormat, where + " must be an add-on code such as EXTRA_TFN");
			return;
		}
		if (!(quantity.is_number_integer() || quantity.is_number_unsigned()) || quantity.get<std::int64_t>() < 0 ||
		    quantity.get<std::int64_t>() > 100000) {
			validator.Add(where, field_code::kOutOfRange, where + " quantity must be a whole number from 0 to 100000");
			return;
		}
		if (out.contains(code)) {
			validator.Add(where, field_code::kRepeated, where + " names add-on " + code + " twice");
			return;
		}
		out[code] = quantity.get<std::int64_t>();
	};
	if (member->is_object()) {
		if (member->size() > 20)
			validator.Add("addons", field_code::kOutOfRange, "addons must name at most 20 add-ons");
		else
			for (const auto& [code, quantity] : member->items())
				put("addons." + code.substr(0, 60), code, quantity);
	} else if (member->is_array()) {
		if (member->size() > 20)
			validator.Add("addons", field_code::kOutOfRange, "addons must name at most 20 add-ons");
		else
			for (std::size_t i = 0; i < member->size(); ++i) {
				const json& item = (*member)[i];
				const std::string where = "addons[" + std::to_string(i) + "]";
				if (!item.is_object() || !item.contains("code") || !item["code"].is_string() ||
				    !item.contains("quantity")) {
					validator.Add(where, field_code::kInvalidType, where + " must be {\"code\", \"quantity\"}");
					continue;
				}
				put(where, item["code"].get<std::string>(), item["quantity"]);
			}
	} else {
		validator.Add("addons", field_code::kInvalidType, "addons must be an object of add-on codes and quantities");
	}
	return out.dump();
}

// planCode or planId (exactly one) -> the SQL text of a plan code expression's parameters.
struct PlanRef {
	std::optional<std::string> code;
	std::optional<std::string> id;
};

PlanRef
ReadPlanRef(Validator& validator, const json* body)
{
	PlanRef ref;
	ref.code = validator.String("planCode", Rule(false, 1, 50));
	ref.id = validator.String("planId", Rule(false, 1, 36));
	if (ref.code && !IsPlanCode(*ref.code)) {
		validator.Add("planCode", field_code::kInvalidFormat, "planCode must be a plan code such as STARTER");
		ref.code.reset();
	}
	if (ref.id && !IsUuid(*ref.id)) {
		validator.Add("planId", field_code::kInvalidFormat, "planId must be a UUID");
		ref.id.reset();
	}
	if (Member(body, "planCode") == nullptr && Member(body, "planId") == nullptr)
		validator.Add("planCode", field_code::kRequired, "planCode (or planId) is required");
	else if (Member(body, "planCode") != nullptr && Member(body, "planId") != nullptr)
		validator.Add("planId", field_code::kNotAllowed, "give planCode or planId, not both");
	return ref;
}

// SQL: the plan code named by $code / $id (one of them NULL).
std::string
PlanCodeSql(int code_param, int id_param)
{
	return "coalesce($" + std::to_string(code_param) +
	       "::text, (SELECT rp0.code FROM balatrix.rate_plans rp0 WHERE rp0.id = $" + std::to_string(id_param) +
	       "::uuid))";
}

std::optional<bool>
QueryBool(Validator& validator, const http::QueryParams& query, std::string_view name)
{
	auto text = validator.QueryString(query, name, Rule(false, 1, 5));
	if (!text)
		return std::nullopt;
	if (*text == "true")
		return true;
	if (*text == "false")
		return false;
	validator.Add(std::string(name), field_code::kNotAllowed, std::string(name) + " must be true or false");
	return std::nullopt;
}

std::optional<std::string>
QueryOneOf(Validator& validator, const http::QueryParams& query, std::string_view name,
           const std::vector<std::string>& allowed)
{
	auto text = validator.QueryString(query, name, Rule(false, 1, 40));
	if (!text)
		return std::nullopt;
	for (const auto& candidate : allowed)
		if (*text == candidate)
			return text;
	std::string list;
	for (const auto& candidate : allowed)
		list += (list.empty() ? "" : ", ") + candidate;
	validator.Add(std::string(name), field_code::kNotAllowed, std::string(name) + " must be one of " + list);
	return std::nullopt;
}

std::optional<std::string>
QueryUuid(Validator& validator, const http::QueryParams& query, std::string_view name)
{
	auto text = validator.QueryString(query, name, Rule(false, 1, 36));
	if (text && !IsUuid(*text)) {
		validator.Add(std::string(name), field_code::kInvalidFormat, std::string(name) + " must be a UUID");
		return std::nullopt;
	}
	return text;
}

// {"items": [...], "total": n} from the database -> the paginated data.
json
PageFrom(const json& result, std::string_view items_key, const Page& page)
{
	const std::int64_t total = result.is_object() && result.contains("total") ? result["total"].get<std::int64_t>() : 0;
	return Paginated(items_key, result.is_object() ? result.value("items", json::array()) : json::array(), total, page);
}

// Routes that work without a token but see more with a staff one (see the header comment). `body` gets the
// principal or nullptr.
using MaybeAuthedBody = std::function<Reply(pqxx::transaction_base& tx, const Principal* principal)>;

Reply
MaybeAuthed(const Services& services, const RequestContext& context, const MaybeAuthedBody& body)
{
	if (!http::RequestHeader(context, "Authorization")) {
		if (auto limited = CheckRateLimit(services, context, services.options.api, "ip:" + context.remote_address))
			return std::move(*limited);
		return InTransaction(services, context, nullptr, [&](pqxx::transaction_base& tx) { return body(tx, nullptr); });
	}
	auto authenticated = Authenticate(services, context);
	if (auto* reply = std::get_if<Reply>(&authenticated))
		return std::move(*reply);
	const Principal& principal = std::get<Principal>(authenticated);
	if (auto limited = CheckRateLimit(services, context, services.options.api, principal.user_id))
		return std::move(*limited);
	return InTransaction(services, context, &principal, [&](pqxx::transaction_base& tx) { return body(tx, &principal); });
}

bool
SeesAllPlans(const Principal* principal)
{
	return principal != nullptr && IsStaff(principal->role);
}

// ---- SQL -------------------------------------------------------------------------------------------------

// A rate plan row rp as JSON; plan_code / plan_name repeat code / name for the seed's frontend.
constexpr const char* kPlanJson =
	"(pg_catalog.to_jsonb(rp) || pg_catalog.jsonb_build_object('plan_code', rp.code, 'plan_name', rp.name))";

// A subscription s (joined to its plan rp) with its plan (also as rate_plan, which the frontend reads),
// waiting plan, account, customer, add-ons and numbers.
constexpr const char* kSubscriptionJson = R"SQL(
(pg_catalog.to_jsonb(s) || pg_catalog.jsonb_build_object(
    'plan', pg_catalog.to_jsonb(rp) || pg_catalog.jsonb_build_object('plan_code', rp.code, 'plan_name', rp.name),
    'rate_plan', pg_catalog.to_jsonb(rp) || pg_catalog.jsonb_build_object('plan_code', rp.code, 'plan_name', rp.name),
    'pending_plan', (SELECT pg_catalog.jsonb_build_object('id', np.id, 'code', np.code, 'name', np.name)
                       FROM balatrix.rate_plans np WHERE np.id = s.pending_rate_plan_id),
    'account', (SELECT pg_catalog.jsonb_build_object('id', a.id, 'account_number', a.account_number,
                                                     'account_type', a.account_type, 'currency', a.currency,
                                                     'balance', a.balance, 'credit_limit', a.credit_limit, 'status', a.status)
                  FROM balatrix.accounts a WHERE a.id = s.account_id),
    'customer', (SELECT pg_catalog.jsonb_build_object('id', c.id, 'customer_number', c.customer_number, 'name', c.name,
                                                      'company_name', c.company_name, 'email', c.email, 'status', c.status)
                   FROM balatrix.customers c WHERE c.id = s.customer_id),
    'add_ons', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                    'id', sa.id, 'code', ao.code, 'name', ao.name, 'quantity', sa.quantity,
                                    'unit_price', sa.unit_price, 'started_at', sa.started_at, 'ended_at', sa.ended_at)
                                ORDER BY ao.code, sa.id)
                           FROM balatrix.subscription_add_ons sa JOIN balatrix.add_ons ao ON ao.id = sa.add_on_id
                          WHERE sa.subscription_id = s.id), '[]'),
    'numbers', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                    'id', d.id, 'number', d.number, 'number_type', d.number_type,
                                    'monthly_rent', d.monthly_rent, 'assigned_at', d.assigned_at)
                                ORDER BY d.assigned_at, d.id)
                           FROM balatrix.dids d WHERE d.subscription_id = s.id AND d.status = 'assigned'), '[]')))
)SQL";

std::string
SubscriptionByIdSql()
{
	return std::string("SELECT ") + kSubscriptionJson +
	       " FROM balatrix.subscriptions s JOIN balatrix.rate_plans rp ON rp.id = s.rate_plan_id WHERE s.id = $1::uuid";
}

json
LoadSubscription(pqxx::transaction_base& tx, const std::string& id)
{
	static const std::string sql = SubscriptionByIdSql();
	return QueryJson(tx, sql, id);
}

// ---- rate plans ------------------------------------------------------------------------------------------

// The validated fields of a rate plan body as the snake_case object balatrix.api_*_rate_plan take.
json
RatePlanFields(Validator& validator, const json* body, bool creating)
{
	json fields = json::object();
	if (creating) {
		validator.NoOtherFields({"code", "name", "description", "currency", "monthlyPrice", "quarterlyPrice",
		                         "annualPrice", "includedMinutes", "overageRate", "includedTfns", "includedExtensions",
		                         "trialDays", "setupFee", "sac", "isActive", "isPublic", "displayOrder", "features"});
		if (auto code = validator.String("code", Rule(true, 2, 50))) {
			if (IsPlanCode(*code))
				fields["code"] = *code;
			else
				validator.Add("code", field_code::kInvalidFormat,
				              "code must be 2-50 upper-case letters, digits or _ starting with a letter");
		}
	} else {
		if (Member(body, "code") != nullptr)
			validator.Add("code", field_code::kNotAllowed, "code cannot be changed");
		validator.NoOtherFields({"code", "name", "description", "currency", "monthlyPrice", "quarterlyPrice",
		                         "annualPrice", "includedMinutes", "overageRate", "includedTfns", "includedExtensions",
		                         "trialDays", "setupFee", "sac", "isActive", "isPublic", "displayOrder", "features"});
	}
	if (auto name = validator.String("name", Rule(creating, 1, 100)))
		fields["name"] = *name;
	if (body != nullptr && body->is_object() && body->contains("description") && (*body)["description"].is_null())
		fields["description"] = nullptr;
	else if (auto description = validator.String("description", Rule(false, 0, 2000)))
		fields["description"] = *description;
	if (auto currency = validator.String("currency", Rule(false, 3, 3))) {
		bool upper = true;
		for (char c : *currency)
			upper = upper && c >= 'A' && c <= 'Z';
		if (upper)
			fields["currency"] = *currency;
		else
			validator.Add("currency", field_code::kInvalidFormat, "currency must be an ISO 4217 code such as INR");
	}
	const struct {
		const char* wire;
		const char* column;
		bool required;
		std::size_t int_digits;
		std::size_t frac_digits;
	} money[] = {
		{"monthlyPrice", "monthly_price", creating, 12, 2}, {"quarterlyPrice", "quarterly_price", false, 12, 2},
		{"annualPrice", "annual_price", false, 12, 2},      {"setupFee", "setup_fee", false, 12, 2},
		{"overageRate", "overage_rate", creating, 8, 4},
	};
	for (const auto& m : money)
		if (auto value = Money(validator, body, m.wire, m.required, m.int_digits, m.frac_digits))
			fields[m.column] = *value;
	const struct {
		const char* wire;
		const char* column;
		std::int64_t min;
		std::int64_t max;
	} integers[] = {
		{"includedMinutes", "included_minutes", 0, 100000000},    {"includedTfns", "included_tfns", 0, 100000},
		{"includedExtensions", "included_extensions", 0, 100000}, {"trialDays", "trial_days", 0, 366},
		{"displayOrder", "display_order", -1000000, 1000000},
	};
	for (const auto& i : integers)
		if (auto value = validator.Integer(i.wire, http::IntegerRule{false, i.min, i.max}))
			fields[i.column] = *value;
	if (auto sac = validator.String("sac", Rule(false, 4, 8))) {
		if (IsDigits(*sac) && sac->size() % 2 == 0 && sac->rfind("99", 0) == 0)
			fields["sac"] = *sac;
		else
			validator.Add("sac", field_code::kInvalidFormat,
			              "sac must be a SAC code of 4, 6 or 8 digits starting with 99");
	}
	if (auto active = validator.Boolean("isActive", false))
		fields["is_active"] = *active;
	if (auto is_public = validator.Boolean("isPublic", false))
		fields["is_public"] = *is_public;
	if (const json* features = Member(body, "features")) {
		if (features->is_object() && features->dump().size() <= 16384)
			fields["features"] = *features;
		else
			validator.Add("features", field_code::kInvalidType, "features must be a JSON object (at most 16 KiB)");
	}
	if (!creating && fields.empty() && validator.ok())
		validator.Add("", field_code::kRequired, "give at least one field to change");
	return fields;
}

json
LoadPlan(pqxx::transaction_base& tx, const std::string& id)
{
	return QueryJson(tx, std::string("SELECT ") + kPlanJson + " FROM balatrix.rate_plans rp WHERE rp.id = $1::uuid",
	                 id);
}

} // namespace

void
RegisterRatePlanRoutes(Registry& registry)
{
	const Services& s = registry.services();
	const json plan_body_schema = json{{"type", "object"},
	                                   {"properties",
	                                    {{"code", {{"type", "string"}, {"pattern", "^[A-Z][A-Z0-9_]{1,49}$"}}},
	                                     {"name", {{"type", "string"}}},
	                                     {"description", {{"type", {"string", "null"}}}},
	                                     {"currency", {{"type", "string"}}},
	                                     {"monthlyPrice", {{"type", {"string", "number"}}}},
	                                     {"quarterlyPrice", {{"type", {"string", "number"}}}},
	                                     {"annualPrice", {{"type", {"string", "number"}}}},
	                                     {"overageRate", {{"type", {"string", "number"}}}},
	                                     {"setupFee", {{"type", {"string", "number"}}}},
	                                     {"includedMinutes", {{"type", "integer"}}},
	                                     {"includedTfns", {{"type", "integer"}}},
	                                     {"includedExtensions", {{"type", "integer"}}},
	                                     {"trialDays", {{"type", "integer"}}},
	                                     {"displayOrder", {{"type", "integer"}}},
	                                     {"sac", {{"type", "string"}}},
	                                     {"isActive", {{"type", "boolean"}}},
	                                     {"isPublic", {{"type", "boolean"}}},
	                                     {"features", {{"type", "object"}}}}},
	                                   {"additionalProperties", false}};

	registry.Add("GET", "/api/rate-plans/public",
	             RouteDoc{"Active public rate plans, in display order", "Rate plans", false, {}, nullptr, nullptr},
	             [&s](const RequestContext& context) {
					 return MaybeAuthed(s, context, [&](pqxx::transaction_base& tx, const Principal*) {
						 const json plans = QueryJson(
							 tx, std::string("SELECT coalesce(pg_catalog.jsonb_agg(") + kPlanJson +
									 " ORDER BY rp.display_order, rp.code), '[]') FROM balatrix.rate_plans rp "
									 "WHERE rp.is_active AND rp.is_public");
						 return http::Success(context, "Rate plans retrieved", plans);
					 });
				 });

	registry.Add(
		"GET", "/api/rate-plans",
		RouteDoc{
			"Rate plans (staff): paginated, filtered", "Rate plans", true, kStaff, nullptr,
			json::array({json{{"name", "page"}, {"schema", {{"type", "integer"}}}},
	                     json{{"name", "limit"}, {"schema", {{"type", "integer"}, {"maximum", 100}}}},
	                     json{{"name", "isActive"}, {"schema", {{"type", "boolean"}}}},
	                     json{{"name", "isPublic"}, {"schema", {{"type", "boolean"}}}},
	                     json{{"name", "search"}, {"schema", {{"type", "string"}}}},
	                     json{{"name", "sortBy"},
	                          {"schema", {{"enum", {"displayOrder", "code", "name", "monthlyPrice", "createdAt"}}}}},
	                     json{{"name", "sortOrder"}, {"schema", {{"enum", {"asc", "desc", "ASC", "DESC"}}}}}})},
		[&s](const RequestContext& context) {
			return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
				Validator v(nullptr);
				const Page page = ReadPage(v, context.query);
				const auto active = QueryBool(v, context.query, "isActive");
				const auto is_public = QueryBool(v, context.query, "isPublic");
				const auto search = v.QueryString(context.query, "search", Rule(false, 1, 100));
				const auto sort_by = QueryOneOf(v, context.query, "sortBy",
			                                    {"displayOrder", "code", "name", "monthlyPrice", "createdAt"});
				const auto sort_order = QueryOneOf(v, context.query, "sortOrder", {"asc", "desc", "ASC", "DESC"});
				if (!v.ok())
					return v.Failure(context);
				// Whitelisted ORDER BY text only; every value goes in as a parameter.
				std::string order = "rp.display_order";
				if (sort_by == "code")
					order = "rp.code";
				else if (sort_by == "name")
					order = "rp.name";
				else if (sort_by == "monthlyPrice")
					order = "rp.monthly_price";
				else if (sort_by == "createdAt")
					order = "rp.created_at";
				const std::string direction = (sort_order == "desc" || sort_order == "DESC") ? " DESC" : " ASC";
				const std::string sql =
					std::string(
						"WITH f AS (SELECT rp.* FROM balatrix.rate_plans rp "
						"WHERE ($1::boolean IS NULL OR rp.is_active = $1::boolean) "
						"AND ($2::boolean IS NULL OR rp.is_public = $2::boolean) "
						"AND ($3::text IS NULL OR strpos(lower(rp.code), lower($3::text)) > 0 "
						"     OR strpos(lower(rp.name), lower($3::text)) > 0)) "
						"SELECT pg_catalog.jsonb_build_object('items', coalesce((SELECT pg_catalog.jsonb_agg(") +
					kPlanJson + " ORDER BY " + order + direction + ", rp.id) FROM (SELECT * FROM f ORDER BY " +
					order.substr(3) + direction +
					", id LIMIT $4 OFFSET $5) rp), '[]'), 'total', (SELECT count(*) FROM f))";
				const json result =
					QueryJson(tx, sql, active ? (*active ? "true" : "false") : nullptr,
			                  is_public ? (*is_public ? "true" : "false") : nullptr, OrNull(search),
			                  static_cast<long long>(page.limit), static_cast<long long>(page.offset()));
				return http::Success(context, "Rate plans retrieved", PageFrom(result, "plans", page));
			});
		});

	registry.Add(
		"GET", "/api/rate-plans/:id",
		RouteDoc{
			"One rate plan (public, active plans without a staff token)", "Rate plans", false, {}, nullptr, nullptr},
		[&s](const RequestContext& context) {
			const auto id = PathId(context);
			if (!id)
				return NotFound(context, "Rate plan");
			return MaybeAuthed(s, context, [&](pqxx::transaction_base& tx, const Principal* principal) {
				const json plan = QueryJson(tx,
			                                std::string("SELECT ") + kPlanJson +
			                                    " FROM balatrix.rate_plans rp WHERE rp.id = $1::uuid "
			                                    "AND ($2::boolean OR (rp.is_public AND rp.is_active))",
			                                *id, SeesAllPlans(principal) ? "true" : "false");
				if (plan.is_null())
					return NotFound(context, "Rate plan");
				return http::Success(context, "Rate plan retrieved", plan);
			});
		});

	registry.Add("GET", "/api/rate-plans/code/:code",
	             RouteDoc{"One rate plan by code (public, active plans without a staff token)",
	                      "Rate plans",
	                      false,
	                      {},
	                      nullptr,
	                      nullptr},
	             [&s](const RequestContext& context) {
					 std::string code(context.path_params.Get("code").value_or(""));
					 for (char& c : code)
						 if (c >= 'a' && c <= 'z')
							 c = static_cast<char>(c - 'a' + 'A');
					 if (!IsPlanCode(code))
						 return NotFound(context, "Rate plan");
					 return MaybeAuthed(s, context, [&](pqxx::transaction_base& tx, const Principal* principal) {
						 const json plan = QueryJson(tx,
			                                         std::string("SELECT ") + kPlanJson +
			                                             " FROM balatrix.rate_plans rp WHERE rp.code = $1 "
			                                             "AND ($2::boolean OR (rp.is_public AND rp.is_active))",
			                                         code, SeesAllPlans(principal) ? "true" : "false");
						 if (plan.is_null())
							 return NotFound(context, "Rate plan");
						 return http::Success(context, "Rate plan retrieved", plan);
					 });
				 });

	registry.Add(
		"POST", "/api/rate-plans/calculate-price",
		RouteDoc{"Price preview of one period (balatrix.quote_subscription)",
	             "Rate plans",
	             false,
	             {},
	             json{{"type", "object"},
	                  {"properties",
	                   {{"planCode", {{"type", "string"}}},
	                    {"planId", {{"type", "string"}, {"format", "uuid"}}},
	                    {"billingCycle", {{"enum", {"monthly", "quarterly", "annual"}}}},
	                    {"addons", {{"type", {"object", "array"}}}}}},
	                  {"additionalProperties", false}},
	             nullptr},
		[&s](const RequestContext& context) {
			const json* body = Body(context);
			Validator v(body);
			v.NoOtherFields({"planCode", "planId", "billingCycle", "addons"});
			const PlanRef plan = ReadPlanRef(v, body);
			const auto cycle = v.OneOf("billingCycle", {"monthly", "quarterly", "annual"}, false);
			const std::string addons = Addons(v, body);
			if (!v.ok())
				return v.Failure(context);
			return MaybeAuthed(s, context, [&](pqxx::transaction_base& tx, const Principal* principal) {
				// A customer's quote uses its own place of supply; anyone else gets the supplier's State.
				const json quote = QueryJson(
					tx,
					"SELECT balatrix.quote_subscription(rp.code, $3, $4::jsonb, "
					"       CASE WHEN balatrix.actor_role() = 'customer' THEN balatrix.actor_customer_id() END) "
					"       || pg_catalog.jsonb_build_object('plan_id', rp.id, 'setup_fee', rp.setup_fee, "
					"                                        'trial_days', rp.trial_days) "
					"FROM balatrix.rate_plans rp WHERE rp.code = " +
						PlanCodeSql(1, 2) + " AND ($5::boolean OR (rp.is_public AND rp.is_active))",
					OrNull(plan.code), OrNull(plan.id), cycle.value_or("monthly"), addons,
					SeesAllPlans(principal) ? "true" : "false");
				if (quote.is_null())
					return NotFound(context, "Rate plan");
				return http::Success(context, "Price calculated", quote);
			});
		});

	registry.Add("POST", "/api/rate-plans",
	             RouteDoc{"Create a rate plan (admins)", "Rate plans", true, kAdmins, plan_body_schema, nullptr, 201},
	             [&s](const RequestContext& context) {
					 return Authed(s, context, kAdmins, [&](pqxx::transaction_base& tx, const Principal&) {
						 const json* body = Body(context);
						 Validator v(body);
						 if (body == nullptr)
							 v.Add("", field_code::kRequired, "a JSON body is required");
						 const json fields = RatePlanFields(v, body, true);
						 if (!v.ok())
							 return v.Failure(context);
						 const pqxx::result row =
							 tx.exec_params("SELECT balatrix.api_create_rate_plan($1::jsonb)", fields.dump());
						 return http::Success(context, "Rate plan created", LoadPlan(tx, row[0][0].c_str()), 201);
					 });
				 });

	registry.Add(
		"PUT", "/api/rate-plans/:id",
		RouteDoc{"Change a rate plan (admins; code is fixed)", "Rate plans", true, kAdmins, plan_body_schema, nullptr},
		[&s](const RequestContext& context) {
			return Authed(s, context, kAdmins, [&](pqxx::transaction_base& tx, const Principal&) {
				const auto id = PathId(context);
				if (!id)
					return NotFound(context, "Rate plan");
				const json* body = Body(context);
				Validator v(body);
				if (body == nullptr)
					v.Add("", field_code::kRequired, "a JSON body is required");
				const json fields = RatePlanFields(v, body, false);
				if (!v.ok())
					return v.Failure(context);
				tx.exec_params("SELECT balatrix.api_update_rate_plan($1::uuid, $2::jsonb)", *id, fields.dump());
				return http::Success(context, "Rate plan updated", LoadPlan(tx, *id));
			});
		});

	registry.Add("DELETE", "/api/rate-plans/:id",
	             RouteDoc{"Delete a rate plan, or withdraw it when subscriptions use it (admins)", "Rate plans", true,
	                      kAdmins, nullptr, nullptr},
	             [&s](const RequestContext& context) {
					 return Authed(s, context, kAdmins, [&](pqxx::transaction_base& tx, const Principal&) {
						 const auto id = PathId(context);
						 if (!id)
							 return NotFound(context, "Rate plan");
						 const pqxx::result row = tx.exec_params("SELECT balatrix.api_delete_rate_plan($1::uuid)", *id);
						 const std::string outcome = row[0][0].c_str();
						 return http::Success(context,
			                                  outcome == "deleted" ? "Rate plan deleted"
			                                                       : "Rate plan is in use: deactivated instead",
			                                  json{{"id", *id}, {"result", outcome}});
					 });
				 });
}

// ---- subscriptions -------------------------------------------------------------------------------------

namespace {

// Merges `extra` into the subscription JSON (or returns 404 when it vanished, which cannot happen after a
// successful api_* call in the same transaction).
Reply
SubscriptionReply(const RequestContext& context, pqxx::transaction_base& tx, const std::string& id, std::string_view message,
                  json extra = json::object(), int status = 200)
{
	json subscription = LoadSubscription(tx, id);
	if (subscription.is_null())
		return NotFound(context, "Subscription");
	for (auto& [key, value] : extra.items())
		subscription[key] = value;
	return http::Success(context, message, subscription, status);
}

json
UuidOrNull(const pqxx::field& field)
{
	return field.is_null() ? json(nullptr) : json(field.c_str());
}

// The current period's usage of subscription $1 (see GET /:id/usage).
constexpr const char* kUsageSql = R"SQL(
SELECT pg_catalog.jsonb_build_object(
    'subscription_id', x.id, 'subscription_number', x.subscription_number, 'status', x.status,
    'used_seconds', x.used,
    'used_minutes', pg_catalog.ceil(x.used / 60.0)::bigint,
    'included_minutes', x.included / 60,
    'remaining_minutes', pg_catalog.floor(greatest(x.included - x.included_used, 0) / 60.0)::bigint,
    'overage_minutes', pg_catalog.ceil(x.overage / 60.0)::bigint,
    'utilization_percentage', CASE WHEN x.included > 0
                                   THEN pg_catalog.round(least(100, x.used * 100.0 / x.included), 2)
                                   ELSE 0.00 END,
    'overage_charge', pg_catalog.round(x.overage_charge, 2),
    'other_charge', pg_catalog.round(x.other_charge, 2),
    'current_period', pg_catalog.jsonb_build_object(
        'start', x.period_start, 'end', x.period_end,
        'days_remaining', CASE WHEN x.period_end IS NULL THEN NULL
                               ELSE greatest(0, pg_catalog.ceil(extract(epoch FROM x.period_end - pg_catalog.now()) / 86400))::integer END),
    'calls', pg_catalog.jsonb_build_object('total', x.calls))
FROM (
    SELECT s.id, s.subscription_number, s.status,
           coalesce(u.included_seconds,
                    rp.included_minutes::bigint * 60 * CASE s.billing_cycle WHEN 'quarterly' THEN 3 WHEN 'annual' THEN 12 ELSE 1 END) AS included,
           coalesce(u.included_used_seconds, 0) AS included_used,
           coalesce(u.overage_seconds, 0) AS overage,
           coalesce(u.included_used_seconds, 0) + coalesce(u.overage_seconds, 0) AS used,
           coalesce(u.overage_charge, 0) AS overage_charge, coalesce(u.other_charge, 0) AS other_charge,
           coalesce(u.call_count, 0) AS calls,
           coalesce(u.period_start, s.current_period_start) AS period_start,
           coalesce(u.period_end, s.current_period_end) AS period_end
      FROM balatrix.subscriptions s
      JOIN balatrix.rate_plans rp ON rp.id = s.rate_plan_id
      LEFT JOIN LATERAL (SELECT * FROM balatrix.subscription_usage u0
                          WHERE u0.subscription_id = s.id AND u0.period_start <= pg_catalog.now()
                          ORDER BY u0.period_start DESC LIMIT 1) u ON u.period_end > pg_catalog.now()
     WHERE s.id = $1::uuid) x
)SQL";

constexpr const char* kUsageHistorySql = R"SQL(
SELECT pg_catalog.jsonb_build_object(
    'items', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                          'id', u.id, 'period_start', u.period_start, 'period_end', u.period_end,
                          'included_minutes', u.included_seconds / 60,
                          'used_minutes', pg_catalog.ceil((u.included_used_seconds + u.overage_seconds) / 60.0)::bigint,
                          'overage_minutes', pg_catalog.ceil(u.overage_seconds / 60.0)::bigint,
                          'overage_charge', pg_catalog.round(u.overage_charge, 2),
                          'other_charge', pg_catalog.round(u.other_charge, 2),
                          'calls', u.call_count) ORDER BY u.period_start DESC)
                         FROM (SELECT * FROM balatrix.subscription_usage u1 WHERE u1.subscription_id = s.id
                                ORDER BY u1.period_start DESC LIMIT $2 OFFSET $3) u), '[]'),
    'total', (SELECT count(*) FROM balatrix.subscription_usage u2 WHERE u2.subscription_id = s.id))
FROM balatrix.subscriptions s WHERE s.id = $1::uuid
)SQL";

// The caller's current subscription: live ones, trial / active first, newest first.
constexpr const char* kMySubscriptionWhere =
	" WHERE s.customer_id = balatrix.actor_customer_id() AND s.status IN ('trial', 'active', 'suspended', 'pending') "
	"ORDER BY (s.status IN ('trial', 'active')) DESC, s.created_at DESC, s.id LIMIT 1";

} // namespace

void
RegisterSubscriptionRoutes(Registry& registry)
{
	const Services& s = registry.services();
	registry.Add(
		"POST", "/api/subscriptions",
		RouteDoc{"Subscribe an account to a plan (customers: their own; staff: any)", "Subscriptions", true, kAnyRole,
	             json{{"type", "object"},
	                  {"properties",
	                   {{"accountId", {{"type", "string"}, {"format", "uuid"}}},
	                    {"planCode", {{"type", "string"}}},
	                    {"planId", {{"type", "string"}, {"format", "uuid"}}},
	                    {"billingCycle", {{"enum", {"monthly", "quarterly", "annual"}}}},
	                    {"trialDays", {{"type", "integer"}, {"minimum", 0}, {"maximum", 366}}},
	                    {"addons", {{"type", {"object", "array"}}}}}},
	                  {"additionalProperties", false}},
	             nullptr, 201},
		[&s](const RequestContext& context) {
			return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
				const json* body = Body(context);
				Validator v(body);
				if (body == nullptr)
					v.Add("", field_code::kRequired, "a JSON body is required");
				v.NoOtherFields({"accountId", "planCode", "planId", "billingCycle", "trialDays", "addons"});
				auto account = v.String("accountId", Rule(false, 1, 36));
				if (account && !IsUuid(*account)) {
					v.Add("accountId", field_code::kInvalidFormat, "accountId must be a UUID");
					account.reset();
				}
				const PlanRef plan = ReadPlanRef(v, body);
				const auto cycle = v.OneOf("billingCycle", {"monthly", "quarterly", "annual"}, false);
				const auto trial_days = v.Integer("trialDays", http::IntegerRule{false, 0, 366});
				const std::string addons = Addons(v, body);
				if (!v.ok())
					return v.Failure(context);
				const pqxx::result row =
					tx.exec_params("SELECT balatrix.api_create_subscription($1::uuid, " + PlanCodeSql(2, 3) +
			                           ", $4, $5::integer, $6::jsonb)",
			                       OrNull(account), OrNull(plan.code), OrNull(plan.id), cycle.value_or("monthly"),
			                       trial_days ? std::to_string(*trial_days).c_str() : nullptr, addons);
				return SubscriptionReply(context, tx, row[0][0].c_str(), "Subscription created", json::object(), 201);
			});
		});

	registry.Add(
		"GET", "/api/subscriptions",
		RouteDoc{"Subscriptions the caller may see (customers: their own), paginated", "Subscriptions", true, kAnyRole,
	             nullptr,
	             json::array(
					 {json{{"name", "page"}, {"schema", {{"type", "integer"}}}},
	                  json{{"name", "limit"}, {"schema", {{"type", "integer"}, {"maximum", 100}}}},
	                  json{{"name", "status"},
	                       {"schema", {{"enum", {"pending", "trial", "active", "suspended", "cancelled", "expired"}}}}},
	                  json{{"name", "customerId"}, {"schema", {{"type", "string"}, {"format", "uuid"}}}},
	                  json{{"name", "accountId"}, {"schema", {{"type", "string"}, {"format", "uuid"}}}},
	                  json{{"name", "sortBy"}, {"schema", {{"enum", {"createdAt", "startedAt", "currentPeriodEnd"}}}}},
	                  json{{"name", "sortOrder"}, {"schema", {{"enum", {"asc", "desc", "ASC", "DESC"}}}}}})},
		[&s](const RequestContext& context) {
			return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
				Validator v(nullptr);
				const Page page = ReadPage(v, context.query);
				const auto status = QueryOneOf(v, context.query, "status",
			                                   {"pending", "trial", "active", "suspended", "cancelled", "expired"});
				const auto customer = QueryUuid(v, context.query, "customerId");
				const auto account = QueryUuid(v, context.query, "accountId");
				const auto sort_by =
					QueryOneOf(v, context.query, "sortBy", {"createdAt", "startedAt", "currentPeriodEnd"});
				const auto sort_order = QueryOneOf(v, context.query, "sortOrder", {"asc", "desc", "ASC", "DESC"});
				if (!v.ok())
					return v.Failure(context);
				std::string order = "created_at";
				if (sort_by == "startedAt")
					order = "started_at";
				else if (sort_by == "currentPeriodEnd")
					order = "current_period_end";
				const std::string direction = (sort_order == "asc" || sort_order == "ASC") ? " ASC" : " DESC";
				const std::string sql =
					"WITH f AS (SELECT s.* FROM balatrix.subscriptions s "
					"WHERE ($1::text IS NULL OR s.status = $1::text) AND ($2::uuid IS NULL OR s.customer_id = "
			        "$2::uuid) "
					"AND ($3::uuid IS NULL OR s.account_id = $3::uuid)) "
					"SELECT pg_catalog.jsonb_build_object('items', coalesce((SELECT pg_catalog.jsonb_agg("
					"pg_catalog.to_jsonb(p) || pg_catalog.jsonb_build_object('plan', pg_catalog.jsonb_build_object("
					"'id', rp.id, 'code', rp.code, 'name', rp.name, 'plan_code', rp.code, 'plan_name', rp.name)) "
					"ORDER BY p." +
					order + direction +
					" NULLS LAST, p.id) "
					"FROM (SELECT * FROM f ORDER BY " +
					order + direction +
					" NULLS LAST, id LIMIT $4 OFFSET $5) p "
					"JOIN balatrix.rate_plans rp ON rp.id = p.rate_plan_id), '[]'), 'total', (SELECT count(*) FROM f))";
				const json result =
					QueryJson(tx, sql, OrNull(status), OrNull(customer), OrNull(account),
			                  static_cast<long long>(page.limit), static_cast<long long>(page.offset()));
				return http::Success(context, "Subscriptions retrieved", PageFrom(result, "subscriptions", page));
			});
		});

	registry.Add(
		"GET", "/api/subscriptions/my-subscription",
		RouteDoc{"The caller's current subscription (null when none)", "Subscriptions", true, kAnyRole, nullptr,
	             nullptr},
		[&s](const RequestContext& context) {
			return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
				const json subscription = QueryJson(
					tx, std::string("SELECT ") + kSubscriptionJson +
							" FROM balatrix.subscriptions s JOIN balatrix.rate_plans rp ON rp.id = s.rate_plan_id" +
							kMySubscriptionWhere);
				return http::Success(context,
			                         subscription.is_null() ? "No active subscription found" : "Subscription retrieved",
			                         subscription);
			});
		});

	registry.Add("GET", "/api/subscriptions/my-dashboard",
	             RouteDoc{"The caller's dashboard: subscription, stats, balance", "Subscriptions", true, kAnyRole,
	                      nullptr, nullptr},
	             [&s](const RequestContext& context) {
					 // One statement, identity included (AuthedRead); the dashboard's query is planned once per
					 // connection (balatrix.api_my_dashboard is PL/pgSQL).
					 return AuthedRead(s, context, kAnyRole, "balatrix.api_my_dashboard()", "Dashboard retrieved");
				 });

	registry.Add("GET", "/api/subscriptions/:id",
	             RouteDoc{"One subscription with its plan, account, customer, add-ons and numbers", "Subscriptions",
	                      true, kAnyRole, nullptr, nullptr},
	             [&s](const RequestContext& context) {
					 return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
						 const auto id = PathId(context);
						 if (!id)
							 return NotFound(context, "Subscription");
						 return SubscriptionReply(context, tx, *id, "Subscription retrieved");
					 });
				 });

	registry.Add(
		"POST", "/api/subscriptions/:id/change-plan",
		RouteDoc{"Change the plan (upgrades now with a prorated invoice; downgrades at the period end or now)",
	             "Subscriptions", true, kAnyRole,
	             json{{"type", "object"},
	                  {"properties",
	                   {{"planCode", {{"type", "string"}}},
	                    {"planId", {{"type", "string"}, {"format", "uuid"}}},
	                    {"effective", {{"enum", {"now", "immediate", "next_cycle", "period_end"}}}}}},
	                  {"additionalProperties", false}},
	             nullptr},
		[&s](const RequestContext& context) {
			return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
				const auto id = PathId(context);
				if (!id)
					return NotFound(context, "Subscription");
				const json* body = Body(context);
				Validator v(body);
				if (body == nullptr)
					v.Add("", field_code::kRequired, "a JSON body is required");
				v.NoOtherFields({"planCode", "planId", "effective"});
				const PlanRef plan = ReadPlanRef(v, body);
				const auto effective = v.OneOf("effective", {"now", "immediate", "next_cycle", "period_end"}, false);
				if (!v.ok())
					return v.Failure(context);
				const char* timing = nullptr;
				if (effective == "now" || effective == "immediate")
					timing = "immediate";
				else if (effective)
					timing = "period_end";
				const pqxx::result row = tx.exec_params("SELECT balatrix.api_change_subscription_plan($1::uuid, " +
			                                                PlanCodeSql(2, 3) + ", $4)",
			                                            *id, OrNull(plan.code), OrNull(plan.id), timing);
				return SubscriptionReply(context, tx, *id, "Plan changed", json{{"documentId", UuidOrNull(row[0][0])}});
			});
		});

	registry.Add("POST", "/api/subscriptions/:id/cancel",
	             RouteDoc{"Cancel at the period end, or now with a credit note for the unused days", "Subscriptions",
	                      true, kAnyRole,
	                      json{{"type", "object"},
	                           {"properties", {{"immediate", {{"type", "boolean"}}}, {"reason", {{"type", "string"}}}}},
	                           {"additionalProperties", false}},
	                      nullptr},
	             [&s](const RequestContext& context) {
					 return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
						 const auto id = PathId(context);
						 if (!id)
							 return NotFound(context, "Subscription");
						 Validator v(Body(context));
						 v.NoOtherFields({"immediate", "reason"});
						 const auto immediate = v.Boolean("immediate", false);
						 const auto reason = v.String("reason", Rule(false, 1, 500));
						 if (!v.ok())
							 return v.Failure(context);
						 const pqxx::result row =
							 tx.exec_params("SELECT balatrix.api_cancel_subscription($1::uuid, $2::boolean, $3)", *id,
			                                immediate.value_or(false) ? "true" : "false", OrNull(reason));
						 return SubscriptionReply(context, tx, *id, "Subscription cancelled successfully",
			                                      json{{"creditNoteId", UuidOrNull(row[0][0])}});
					 });
				 });

	registry.Add("POST", "/api/subscriptions/:id/suspend",
	             RouteDoc{"Suspend (staff)", "Subscriptions", true, kStaff,
	                      json{{"type", "object"},
	                           {"properties", {{"reason", {{"type", "string"}}}}},
	                           {"additionalProperties", false}},
	                      nullptr},
	             [&s](const RequestContext& context) {
					 return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
						 const auto id = PathId(context);
						 if (!id)
							 return NotFound(context, "Subscription");
						 Validator v(Body(context));
						 v.NoOtherFields({"reason"});
						 const auto reason = v.String("reason", Rule(false, 1, 500));
						 if (!v.ok())
							 return v.Failure(context);
						 tx.exec_params("SELECT balatrix.api_suspend_subscription($1::uuid, $2)", *id, OrNull(reason));
						 return SubscriptionReply(context, tx, *id, "Subscription suspended");
					 });
				 });

	registry.Add("POST", "/api/subscriptions/:id/activate",
	             RouteDoc{"Resume a suspended subscription, or activate a pending / trial one (staff)", "Subscriptions",
	                      true, kStaff, nullptr, nullptr},
	             [&s](const RequestContext& context) {
					 return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
						 const auto id = PathId(context);
						 if (!id)
							 return NotFound(context, "Subscription");
						 Validator v(Body(context));
						 v.NoOtherFields({});
						 if (!v.ok())
							 return v.Failure(context);
						 const pqxx::result row =
							 tx.exec_params("SELECT balatrix.api_activate_subscription($1::uuid)", *id);
						 return SubscriptionReply(context, tx, *id, "Subscription activated",
			                                      json{{"invoiceId", UuidOrNull(row[0][0])}});
					 });
				 });

	registry.Add("POST", "/api/subscriptions/:id/renew",
	             RouteDoc{"Renew a subscription whose period has ended (staff)", "Subscriptions", true, kStaff, nullptr,
	                      nullptr},
	             [&s](const RequestContext& context) {
					 return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
						 const auto id = PathId(context);
						 if (!id)
							 return NotFound(context, "Subscription");
						 Validator v(Body(context));
						 v.NoOtherFields({});
						 if (!v.ok())
							 return v.Failure(context);
						 const pqxx::result row =
							 tx.exec_params("SELECT balatrix.api_renew_subscription($1::uuid)", *id);
						 return SubscriptionReply(context, tx, *id, "Subscription renewed",
			                                      json{{"periodsRenewed", row[0][0].as<long long>()}});
					 });
				 });

	registry.Add("GET", "/api/subscriptions/:id/usage",
	             RouteDoc{"Usage of the current period", "Subscriptions", true, kAnyRole, nullptr, nullptr},
	             [&s](const RequestContext& context) {
					 return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
						 const auto id = PathId(context);
						 if (!id)
							 return NotFound(context, "Subscription");
						 const json usage = QueryJson(tx, kUsageSql, *id);
						 if (usage.is_null())
							 return NotFound(context, "Subscription");
						 return http::Success(context, "Usage retrieved", usage);
					 });
				 });

	registry.Add("GET", "/api/subscriptions/:id/usage/history",
	             RouteDoc{"Usage of every period, newest first, paginated", "Subscriptions", true, kAnyRole, nullptr,
	                      json::array({json{{"name", "page"}, {"schema", {{"type", "integer"}}}},
	                                   json{{"name", "limit"}, {"schema", {{"type", "integer"}, {"maximum", 100}}}}})},
	             [&s](const RequestContext& context) {
					 return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
						 const auto id = PathId(context);
						 if (!id)
							 return NotFound(context, "Subscription");
						 Validator v(nullptr);
						 const Page page = ReadPage(v, context.query, 10);
						 if (!v.ok())
							 return v.Failure(context);
						 const json result = QueryJson(tx, kUsageHistorySql, *id, static_cast<long long>(page.limit),
			                                           static_cast<long long>(page.offset()));
						 if (result.is_null())
							 return NotFound(context, "Subscription");
						 return http::Success(context, "Usage history retrieved", PageFrom(result, "usage", page));
					 });
				 });
}

// ---- numbers ---------------------------------------------------------------------------------------------

void
RegisterDidRoutes(Registry& registry)
{
	const Services& s = registry.services();

	registry.Add(
		"GET", "/api/dids/available",
		RouteDoc{"Available numbers, paginated; search by number prefix", "Numbers", true, kAnyRole, nullptr,
	             json::array({json{{"name", "page"}, {"schema", {{"type", "integer"}}}},
	                          json{{"name", "limit"}, {"schema", {{"type", "integer"}, {"maximum", 100}}}},
	                          json{{"name", "search"}, {"schema", {{"type", "string"}, {"pattern", "^[0-9]{1,15}$"}}}},
	                          json{{"name", "numberType"},
	                               {"schema", {{"enum", {"toll_free", "virtual", "local", "mobile"}}}}}})},
		[&s](const RequestContext& context) {
			return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
				Validator v(nullptr);
				const Page page = ReadPage(v, context.query);
				const auto search = v.QueryString(context.query, "search", Rule(false, 1, 15));
				if (search && !IsDigits(*search))
					v.Add("search", field_code::kInvalidFormat, "search must be the first digits of a number");
				const auto type =
					QueryOneOf(v, context.query, "numberType", {"toll_free", "virtual", "local", "mobile"});
				if (!v.ok())
					return v.Failure(context);
				const json result = QueryJson(
					tx, "SELECT balatrix.api_available_dids($1, $2, $3::integer, $4::integer)", OrNull(search),
					OrNull(type), static_cast<long long>(page.limit), static_cast<long long>(page.offset()));
				return http::Success(context, "Available numbers retrieved", PageFrom(result, "numbers", page));
			});
		});

	registry.Add(
		"GET", "/api/dids/my-numbers",
		RouteDoc{"The numbers assigned to the caller", "Numbers", true, kAnyRole, nullptr, nullptr},
		[&s](const RequestContext& context) {
			return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
				const json numbers = QueryJson(
					tx, "SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
						"'id', d.id, 'number', d.number, 'number_type', d.number_type, 'monthly_rent', d.monthly_rent, "
						"'setup_fee', d.setup_fee, 'assigned_at', d.assigned_at, 'subscription_id', d.subscription_id, "
						"'account_id', d.account_id, 'routing', d.routing) ORDER BY d.number), '[]') "
						"FROM balatrix.dids d WHERE d.customer_id = balatrix.actor_customer_id() AND d.status = "
			            "'assigned'");
				return http::Success(context, "Numbers retrieved", numbers);
			});
		});

	registry.Add(
		"POST", "/api/dids/:id/assign",
		RouteDoc{"Assign an available number to a subscription (its customer, or staff)", "Numbers", true, kAnyRole,
	             json{{"type", "object"},
	                  {"properties", {{"subscriptionId", {{"type", "string"}, {"format", "uuid"}}}}},
	                  {"required", {"subscriptionId"}},
	                  {"additionalProperties", false}},
	             nullptr},
		[&s](const RequestContext& context) {
			return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
				const auto id = PathId(context);
				if (!id)
					return NotFound(context, "Number");
				const json* body = Body(context);
				Validator v(body);
				v.NoOtherFields({"subscriptionId"});
				auto subscription = v.String("subscriptionId", Rule(true, 1, 36));
				if (subscription && !IsUuid(*subscription)) {
					v.Add("subscriptionId", field_code::kInvalidFormat, "subscriptionId must be a UUID");
					subscription.reset();
				}
				if (!v.ok())
					return v.Failure(context);
				const pqxx::result row =
					tx.exec_params("SELECT balatrix.api_assign_did($1::uuid, $2::uuid)", *id, *subscription);
				const json number = QueryJson(
					tx,
					"SELECT pg_catalog.jsonb_build_object('id', d.id, 'number', d.number, 'number_type', "
					"d.number_type, 'status', d.status, 'monthly_rent', d.monthly_rent, 'assigned_at', d.assigned_at, "
					"'subscription_id', d.subscription_id, 'account_id', d.account_id, 'assignment_id', $2::uuid) "
					"FROM balatrix.dids d WHERE d.id = $1::uuid",
					*id, row[0][0].c_str());
				return http::Success(context, "Number assigned", number);
			});
		});

	registry.Add("POST", "/api/dids/:id/release",
	             RouteDoc{"Release a number (its holder, or staff)", "Numbers", true, kAnyRole, nullptr, nullptr},
	             [&s](const RequestContext& context) {
					 return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
						 const auto id = PathId(context);
						 if (!id)
							 return NotFound(context, "Number");
						 Validator v(Body(context));
						 v.NoOtherFields({});
						 if (!v.ok())
							 return v.Failure(context);
						 const pqxx::result row = tx.exec_params("SELECT balatrix.api_release_did($1::uuid)", *id);
						 return http::Success(context, "Number released",
			                                  json{{"id", *id}, {"assignmentId", UuidOrNull(row[0][0])}});
					 });
				 });
}

} // namespace balatrix::sidecar::api
