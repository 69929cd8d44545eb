/*
 * Customers, accounts and reports.
 *
 * Reads are plain SELECTs: row-level security (balatrix.actor_can_read) filters them, so another
 * customer's id simply finds no row and answers 404, exactly like an unknown id. Writes go through the
 * SECURITY DEFINER functions balatrix.api_* (balatrix_api has no write privilege on these tables), which
 * check the actor again. The handlers' own role checks give the clearer 403 for role refusals.
 *
 * Request bodies arrive camelCase and are handed to SQL as one jsonb object with the column names
 * (snake_case); every value is a string or a boolean, so no number passes through a double. Money in
 * bodies (creditLimit) is checked against a decimal pattern and handed over as its text.
 *
 * Dates in query parameters (from / to) are calendar days in India Standard Time for timestamps
 * (ledger, audit log) and plain dates for invoices (issue_date); `to` is inclusive.
 */
#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/registry.hpp"

namespace balatrix::sidecar::api {

namespace {

using http::Reply;
using http::RequestContext;
using nlohmann::json;

const char* const kTag = "Customers";

std::string
PathId(const RequestContext& context)
{
	return std::string(context.path_params.Get("id").value_or(""));
}

const char*
OrNull(const std::optional<std::string>& value)
{
	return value ? value->c_str() : nullptr;
}

std::function<bool(std::string_view)>
Pattern(const char* expression)
{
	auto re = std::make_shared<const std::regex>(expression, std::regex::ECMAScript | std::regex::optimize);
	return [re](std::string_view text) {
		return std::regex_match(text.begin(), text.end(), *re);
	};
}

// YYYY-MM-DD naming a real day of the Gregorian calendar (years 1900-9999).
bool
IsDate(std::string_view text)
{
	static const auto shape = Pattern("^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
	if (!shape(text))
		return false;
	const int year = std::stoi(std::string(text.substr(0, 4)));
	const int month = std::stoi(std::string(text.substr(5, 2)));
	const int day = std::stoi(std::string(text.substr(8, 2)));
	if (year < 1900 || month < 1 || month > 12 || day < 1)
		return false;
	static constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	const int last = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
	return day <= last;
}

bool
IsMonth(std::string_view text)
{
	static const auto shape = Pattern("^(19|2[0-9]|[3-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])$");
	return shape(text);
}

// A LIKE pattern matching `text` anywhere, with LIKE's own characters (\ % _) taken literally.
std::string
ContainsPattern(std::string_view text)
{
	std::string out = "%";
	for (char c : text) {
		if (c == '\\' || c == '%' || c == '_')
			out.push_back('\\');
		out.push_back(c);
	}
	out.push_back('%');
	return out;
}

// from / to query dates (optional unless `required`); from <= to.
struct DateRange {
	std::optional<std::string> from;
	std::optional<std::string> to;
};

DateRange
ReadDateRange(http::Validator& v, const http::QueryParams& query, bool required)
{
	http::StringRule rule;
	rule.required = required;
	rule.max_length = 10;
	rule.format = IsDate;
	rule.format_message = "must be a date YYYY-MM-DD";
	DateRange range;
	range.from = v.QueryString(query, "from", rule);
	range.to = v.QueryString(query, "to", rule);
	// ISO dates compare as text.
	if (range.from && range.to && *range.from > *range.to)
		v.Add("to", http::field_code::kOutOfRange, "to must not be before from");
	return range;
}

// ---- customer bodies ---------------------------------------------------------------------------------

struct CustomerField {
	const char* wire;   // camelCase, as in the body
	const char* column; // snake_case, as the SQL functions take it
	bool nullable;      // may be cleared with JSON null (PUT)
	bool staff_only;
	bool create_only;
};

const std::vector<CustomerField>&
CustomerFields()
{
	static const std::vector<CustomerField> fields{
		{"name", "name", false, false, false},
		{"companyName", "company_name", true, false, false},
		{"businessType", "business_type", false, false, false},
		{"email", "email", true, false, false},
		{"phone", "phone", true, false, false},
		{"gstin", "gstin", true, false, false},
		{"pan", "pan", true, false, false},
		{"billingAddress", "billing_address", true, false, false},
		{"billingCity", "billing_city", true, false, false},
		{"billingStateCode", "billing_state_code", true, false, false},
		{"billingPincode", "billing_pincode", true, false, false},
		{"billingCountry", "billing_country", false, false, false},
		{"taxExempt", "tax_exempt", false, true, false},
		{"kycStatus", "kyc_status", false, true, false},
		{"notes", "notes", true, true, false},
		{"status", "status", false, true, true},
		{"userId", "user_id", true, true, true},
	};
	return fields;
}

http::StringRule
CustomerRule(std::string_view wire)
{
	http::StringRule rule;
	rule.required = false;
	rule.max_length = 200;
	if (wire == "name") {
		rule.min_length = 1;
		rule.format = [](std::string_view s) {
			for (char c : s)
				if (!std::isspace(static_cast<unsigned char>(c)))
					return true;
			return false;
		};
		rule.format_message = "must not be blank";
	} else if (wire == "email") {
		rule.max_length = 254;
		rule.format = Pattern(R"(^[^@\s]+@[^@\s]+\.[^@\s]+$)");
		rule.format_message = "must be an e-mail address";
	} else if (wire == "phone") {
		rule.max_length = 16;
		rule.format = Pattern(R"(^\+[1-9][0-9]{1,14}$)");
		rule.format_message = "must be an E.164 number such as +919876543210";
	} else if (wire == "gstin") {
		// The database normalises (trims, upper-cases) and verifies the check character.
		rule.max_length = 20;
		rule.format = Pattern(R"(^\s*[0-9]{2}[A-Za-z]{5}[0-9]{4}[A-Za-z][1-9A-Za-z][Zz][0-9A-Za-z]\s*$)");
		rule.format_message = "must be a 15-character GSTIN";
	} else if (wire == "pan") {
		rule.max_length = 10;
		rule.format = Pattern("^[A-Z]{5}[0-9]{4}[A-Z]$");
		rule.format_message = "must be a PAN (5 capital letters, 4 digits, 1 capital letter)";
	} else if (wire == "billingAddress") {
		rule.max_length = 500;
	} else if (wire == "billingStateCode") {
		rule.max_length = 2;
		rule.format = Pattern("^[0-9]{2}$");
		rule.format_message = "must be a two-digit GST State code such as 29";
	} else if (wire == "billingPincode") {
		rule.max_length = 6;
		rule.format = Pattern("^[1-9][0-9]{5}$");
		rule.format_message = "must be a 6-digit PIN code";
	} else if (wire == "billingCountry") {
		rule.max_length = 2;
		rule.format = Pattern("^[A-Z]{2}$");
		rule.format_message = "must be an ISO 3166 alpha-2 code such as IN";
	} else if (wire == "notes") {
		rule.max_length = 2000;
	} else if (wire == "userId") {
		rule.max_length = 36;
		rule.format = [](std::string_view s) {
			return IsUuid(s);
		};
		rule.format_message = "must be a UUID";
	}
	return rule;
}

// Validates a customer body and returns the snake_case jsonb object for balatrix.api_create_customer /
// api_update_customer. A non-staff caller naming a staff-only field gets 403 (set in `forbidden`).
json
ReadCustomerBody(http::Validator& v, const json* body, bool creating, bool staff, std::string& forbidden)
{
	json out = json::object();
	if (body == nullptr) {
		v.Add("", http::field_code::kRequired, "a JSON body is required");
		return out;
	}
	if (!body->is_object())
		return out; // the Validator has recorded it
	if (creating && (!body->contains("name") || (*body)["name"].is_null()))
		v.Add("name", http::field_code::kRequired, "name is required");
	for (const CustomerField& field : CustomerFields()) {
		if (!body->contains(field.wire) || (field.create_only && !creating))
			continue;
		if (field.staff_only && !staff) {
			if (forbidden.empty())
				forbidden = std::string("only staff may set ") + field.wire;
			continue;
		}
		const json& value = (*body)[field.wire];
		if (value.is_null()) {
			if (creating)
				continue; // absent
			if (field.nullable)
				out[field.column] = nullptr;
			else
				v.Add(field.wire, http::field_code::kRequired, std::string(field.wire) + " may not be null");
			continue;
		}
		const std::string_view wire = field.wire;
		if (wire == "taxExempt") {
			if (auto flag = v.Boolean(wire, false))
				out[field.column] = *flag;
		} else if (wire == "businessType") {
			if (auto type = v.OneOf(wire, {"individual", "small_business", "enterprise"}, false))
				out[field.column] = *type;
		} else if (wire == "kycStatus") {
			if (auto status = v.OneOf(wire, {"pending", "submitted", "verified", "rejected"}, false))
				out[field.column] = *status;
		} else if (wire == "status") {
			if (auto status = v.OneOf(wire, {"pending", "active"}, false))
				out[field.column] = *status;
		} else if (auto text = v.String(wire, CustomerRule(wire))) {
			out[field.column] = *text;
		}
	}
	if (creating)
		v.NoOtherFields({"name", "companyName", "businessType", "email", "phone", "gstin", "pan", "billingAddress",
		                 "billingCity", "billingStateCode", "billingPincode", "billingCountry", "taxExempt",
		                 "kycStatus", "notes", "status", "userId"});
	else
		v.NoOtherFields({"name", "companyName", "businessType", "email", "phone", "gstin", "pan", "billingAddress",
		                 "billingCity", "billingStateCode", "billingPincode", "billingCountry", "taxExempt",
		                 "kycStatus", "notes"});
	if (!creating && v.ok() && out.empty() && forbidden.empty())
		v.Add("", http::field_code::kRequired, "at least one field to change is required");
	return out;
}

// The customer with its accounts and subscriptions (each with its plan's id, code and name).
const char* const kCustomerDetailSql = R"SQL(
SELECT to_jsonb(c) || jsonb_build_object(
         'accounts', coalesce((SELECT jsonb_agg(to_jsonb(a) ORDER BY a.created_at, a.id)
                                 FROM balatrix.accounts a WHERE a.customer_id = c.id), '[]'),
         'subscriptions', coalesce((SELECT jsonb_agg(to_jsonb(s) || jsonb_build_object(
                                                'plan', jsonb_build_object('id', p.id, 'code', p.code, 'name', p.name))
                                             ORDER BY s.created_at, s.id)
                                      FROM balatrix.subscriptions s JOIN balatrix.rate_plans p ON p.id = s.rate_plan_id
                                     WHERE s.customer_id = c.id), '[]'))
  FROM balatrix.customers c
 WHERE c.id = $1::uuid
)SQL";

// ---- handlers ----------------------------------------------------------------------------------------

Reply
CreateCustomer(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal& p) {
		const bool staff = IsStaff(p.role);
		if (!staff && p.role != Role::kCustomer)
			return Forbidden(context);
		http::Validator v(context.body.get());
		std::string forbidden;
		const json fields = ReadCustomerBody(v, context.body.get(), true, staff, forbidden);
		if (!forbidden.empty())
			return http::Failure(context, http::ErrorCode::kForbidden, forbidden);
		if (!v.ok())
			return v.Failure(context);
		const json customer = QueryJson(tx, "SELECT balatrix.api_create_customer($1::jsonb)", fields.dump());
		return http::Success(context, "Customer created successfully", customer, 201);
	});
}

Reply
ListCustomers(const Services& s, const RequestContext& context)
{
	static const Roles kListers{Role::kSuperAdmin, Role::kAdmin, Role::kSupport, Role::kReseller};
	return Authed(s, context, kListers, [&](pqxx::transaction_base& tx, const Principal&) {
		http::Validator v(nullptr);
		const Page page = ReadPage(v, context.query);
		http::StringRule search_rule;
		search_rule.required = false;
		search_rule.max_length = 100;
		const auto search = v.QueryString(context.query, "search", search_rule);
		std::optional<std::string> status;
		if (context.query.Has("status")) {
			status = v.QueryString(context.query, "status", http::StringRule{false, 0, 20, {}, ""});
			if (status && *status != "pending" && *status != "active" && *status != "suspended" &&
			    *status != "cancelled") {
				v.Add("status", http::field_code::kNotAllowed,
				      "status must be one of pending, active, suspended, cancelled");
				status.reset();
			}
		}
		// sortBy: a whitelist of wire names -> columns (never interpolated from the request).
		static const std::vector<std::pair<std::string, std::string>> kSortable{
			{"createdAt", "f.created_at"},
			{"updatedAt", "f.updated_at"},
			{"name", "lower(f.name)"},
			{"companyName", "lower(f.company_name)"},
			{"customerNumber", "f.customer_number"},
			{"status", "f.status"},
			{"email", "lower(f.email)"}};
		std::string order_column = "f.created_at";
		if (context.query.Has("sortBy")) {
			if (auto sort = v.QueryString(context.query, "sortBy", http::StringRule{false, 0, 40, {}, ""})) {
				bool found = false;
				for (const auto& [wire, column] : kSortable)
					if (*sort == wire) {
						order_column = column;
						found = true;
					}
				if (!found)
					v.Add(
						"sortBy", http::field_code::kNotAllowed,
						"sortBy must be one of createdAt, updatedAt, name, companyName, customerNumber, status, email");
			}
		}
		std::string direction = "DESC";
		if (context.query.Has("sortOrder")) {
			if (auto order = v.QueryString(context.query, "sortOrder", http::StringRule{false, 0, 4, {}, ""})) {
				if (*order == "asc" || *order == "ASC")
					direction = "ASC";
				else if (*order != "desc" && *order != "DESC")
					v.Add("sortOrder", http::field_code::kNotAllowed, "sortOrder must be asc or desc");
			}
		}
		if (!v.ok())
			return v.Failure(context);
		const std::optional<std::string> like =
			search ? std::optional<std::string>(ContainsPattern(*search)) : std::nullopt;
		const std::string sql = R"SQL(
WITH f AS (
    SELECT c.* FROM balatrix.customers c
     WHERE ($1::text IS NULL OR c.status = $1)
       AND ($2::text IS NULL OR c.name ILIKE $2 OR c.company_name ILIKE $2 OR c.gstin ILIKE $2 OR c.email ILIKE $2)
)
SELECT jsonb_build_object(
         'total', (SELECT count(*) FROM f),
         'items', coalesce((SELECT jsonb_agg(q.j ORDER BY q.ord)
                              FROM (SELECT to_jsonb(f) AS j, row_number() OVER (ORDER BY )SQL" +
		                        order_column + " " + direction + " NULLS LAST, f.id " + direction + R"SQL() AS ord
                                      FROM f ORDER BY ord LIMIT $3 OFFSET $4) q), '[]'))
)SQL";
		const json result = QueryJson(tx, sql, OrNull(status), OrNull(like), static_cast<long long>(page.limit),
		                              static_cast<long long>(page.offset()));
		return http::Success(context, "Customers retrieved successfully",
		                     Paginated("customers", result["items"], result["total"].get<std::int64_t>(), page));
	});
}

Reply
SearchCustomers(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
		http::Validator v(nullptr);
		const auto q = v.QueryString(context.query, "q", http::StringRule{true, 1, 100, {}, ""});
		if (!v.ok())
			return v.Failure(context);
		const json rows = QueryJson(tx, R"SQL(
SELECT coalesce(jsonb_agg(q.j ORDER BY q.name_key, q.id), '[]')
  FROM (SELECT jsonb_build_object('id', c.id, 'customer_number', c.customer_number, 'name', c.name,
                                  'company_name', c.company_name, 'email', c.email, 'phone', c.phone,
                                  'gstin', c.gstin, 'status', c.status) AS j,
               lower(c.name) AS name_key, c.id
          FROM balatrix.customers c
         WHERE c.name ILIKE $1 OR c.company_name ILIKE $1 OR c.gstin ILIKE $1 OR c.email ILIKE $1
            OR c.customer_number ILIKE $1 OR c.phone ILIKE $1
         ORDER BY lower(c.name), c.id
         LIMIT 20) q
)SQL",
		                            ContainsPattern(*q));
		return http::Success(context, "Customers retrieved successfully", rows);
	});
}

Reply
MyCustomer(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const pqxx::result own = tx.exec("SELECT balatrix.actor_customer_id()");
		if (own.empty() || own[0][0].is_null())
			return NotFound(context, "Customer");
		const json customer = QueryJson(tx, kCustomerDetailSql, std::string(own[0][0].c_str()));
		if (customer.is_null())
			return NotFound(context, "Customer");
		return http::Success(context, "Customer retrieved successfully", customer);
	});
}

Reply
GetCustomer(const Services& s, const RequestContext& context)
{
	const std::string id = PathId(context);
	if (!IsUuid(id))
		return NotFound(context, "Customer");
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const json customer = QueryJson(tx, kCustomerDetailSql, id);
		if (customer.is_null())
			return NotFound(context, "Customer");
		return http::Success(context, "Customer retrieved successfully", customer);
	});
}

Reply
UpdateCustomer(const Services& s, const RequestContext& context)
{
	const std::string id = PathId(context);
	if (!IsUuid(id))
		return NotFound(context, "Customer");
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal& p) {
		// Existence first: another customer's id is 404 whatever the body says.
		if (tx.exec_params("SELECT 1 FROM balatrix.customers c WHERE c.id = $1::uuid", id).empty())
			return NotFound(context, "Customer");
		http::Validator v(context.body.get());
		std::string forbidden;
		const json fields = ReadCustomerBody(v, context.body.get(), false, IsStaff(p.role), forbidden);
		if (!forbidden.empty())
			return http::Failure(context, http::ErrorCode::kForbidden, forbidden);
		if (!v.ok())
			return v.Failure(context);
		tx.exec_params("SELECT balatrix.api_update_customer($1::uuid, $2::jsonb)", id, fields.dump());
		return http::Success(context, "Customer updated successfully", QueryJson(tx, kCustomerDetailSql, id));
	});
}

Reply
DeleteCustomer(const Services& s, const RequestContext& context)
{
	const std::string id = PathId(context);
	if (!IsUuid(id))
		return NotFound(context, "Customer");
	return Authed(s, context, kAdmins, [&](pqxx::transaction_base& tx, const Principal&) {
		tx.exec_params("SELECT balatrix.api_delete_customer($1::uuid)", id);
		return http::Success(context, "Customer deleted successfully", QueryJson(tx, kCustomerDetailSql, id));
	});
}

Reply
SetCustomerStatus(const Services& s, const RequestContext& context, const char* status, const char* message)
{
	const std::string id = PathId(context);
	if (!IsUuid(id))
		return NotFound(context, "Customer");
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
		if (context.body) {
			// An optional reason, kept nowhere but the audit trail's request; nothing else is accepted.
			http::Validator v(context.body.get());
			v.String("reason", http::StringRule{false, 0, 500, {}, ""});
			v.NoOtherFields({"reason"});
			if (!v.ok())
				return v.Failure(context);
		}
		tx.exec_params("SELECT balatrix.api_set_customer_status($1::uuid, $2)", id, status);
		return http::Success(context, message, QueryJson(tx, kCustomerDetailSql, id));
	});
}

Reply
CustomerStatistics(const Services& s, const RequestContext& context)
{
	const std::string id = PathId(context);
	if (!IsUuid(id))
		return NotFound(context, "Customer");
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const json stats = QueryJson(tx, R"SQL(
SELECT jsonb_build_object(
  'customer', to_jsonb(c),
  'accounts', coalesce((SELECT jsonb_agg(to_jsonb(a) ORDER BY a.created_at, a.id)
                          FROM balatrix.accounts a WHERE a.customer_id = c.id), '[]'),
  'subscriptions', (SELECT jsonb_build_object(
                             'total', count(*),
                             'trial', count(*) FILTER (WHERE s.status = 'trial'),
                             'active', count(*) FILTER (WHERE s.status = 'active'),
                             'suspended', count(*) FILTER (WHERE s.status = 'suspended'),
                             'cancelled', count(*) FILTER (WHERE s.status = 'cancelled'),
                             'expired', count(*) FILTER (WHERE s.status = 'expired'))
                      FROM balatrix.subscriptions s WHERE s.customer_id = c.id),
  'payments', (SELECT jsonb_build_object(
                        'total_payments', count(*),
                        'successful_payments', count(*) FILTER (WHERE p.status IN ('captured', 'partially_refunded', 'refunded')),
                        'total_amount', coalesce(sum(p.amount), 0)::numeric(14,2),
                        'successful_amount', coalesce(sum(p.amount) FILTER (WHERE p.status IN ('captured', 'partially_refunded', 'refunded')), 0)::numeric(14,2),
                        'refunded_amount', coalesce(sum(p.amount_refunded), 0)::numeric(14,2))
                 FROM balatrix.payments p WHERE p.customer_id = c.id),
  'invoices', (SELECT jsonb_build_object(
                        'total', count(*),
                        'paid', count(*) FILTER (WHERE i.status = 'paid'),
                        'unpaid', count(*) FILTER (WHERE i.status IN ('issued', 'partially_paid', 'overdue')),
                        'overdue', count(*) FILTER (WHERE i.status = 'overdue'),
                        'total_amount', coalesce(sum(i.total), 0)::numeric(14,2),
                        'paid_amount', coalesce(sum(i.amount_paid), 0)::numeric(14,2),
                        'credited_amount', coalesce(sum(i.amount_credited), 0)::numeric(14,2),
                        'outstanding_amount', coalesce(sum(i.total - i.amount_paid - i.amount_credited)
                                                       FILTER (WHERE i.status IN ('issued', 'partially_paid', 'overdue')), 0)::numeric(14,2))
                 FROM balatrix.invoices i
                WHERE i.customer_id = c.id AND i.document_type = 'tax_invoice' AND i.status NOT IN ('draft', 'void')))
  FROM balatrix.customers c
 WHERE c.id = $1::uuid
)SQL",
		                             id);
		if (stats.is_null())
			return NotFound(context, "Customer");
		return http::Success(context, "Customer statistics retrieved successfully", stats);
	});
}

Reply
ListCustomerAccounts(const Services& s, const RequestContext& context)
{
	const std::string id = PathId(context);
	if (!IsUuid(id))
		return NotFound(context, "Customer");
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const json accounts = QueryJson(tx, R"SQL(
SELECT coalesce((SELECT jsonb_agg(to_jsonb(a) ORDER BY a.created_at, a.id)
                   FROM balatrix.accounts a WHERE a.customer_id = c.id), '[]')
  FROM balatrix.customers c WHERE c.id = $1::uuid
)SQL",
		                                id);
		if (accounts.is_null())
			return NotFound(context, "Customer");
		return http::Success(context, "Accounts retrieved successfully", accounts);
	});
}

Reply
CreateCustomerAccount(const Services& s, const RequestContext& context)
{
	const std::string id = PathId(context);
	if (!IsUuid(id))
		return NotFound(context, "Customer");
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
		http::Validator v(context.body.get());
		if (!context.body)
			v.Add("", http::field_code::kRequired, "a JSON body is required");
		const auto type = v.OneOf("accountType", {"prepaid", "postpaid"}, true);
		http::StringRule currency_rule;
		currency_rule.required = false;
		currency_rule.max_length = 3;
		currency_rule.format = Pattern("^[A-Z]{3}$");
		currency_rule.format_message = "must be an ISO 4217 code such as INR";
		const auto currency = v.String("currency", currency_rule);
		// creditLimit: a decimal string or JSON number, handed to SQL as its text (never a double).
		std::optional<std::string> credit;
		if (context.body && context.body->is_object() && context.body->contains("creditLimit") &&
		    !(*context.body)["creditLimit"].is_null()) {
			const json& value = (*context.body)["creditLimit"];
			std::string text;
			if (value.is_string())
				text = value.get<std::string>();
			else if (value.is_number())
				text = value.dump();
			static const auto money = Pattern(R"(^[0-9]{1,12}(\.[0-9]{1,4})?$)");
			if (text.empty() || !money(text))
				v.Add("creditLimit", http::field_code::kInvalidFormat,
				      "creditLimit must be an amount >= 0 with at most 4 decimals, e.g. \"5000.00\"");
			else
				credit = text;
		}
		if (type && *type == "prepaid" && credit && credit->find_first_of("123456789") != std::string::npos)
			v.Add("creditLimit", http::field_code::kNotAllowed, "a prepaid account has no credit limit");
		v.NoOtherFields({"accountType", "creditLimit", "currency"});
		if (!v.ok())
			return v.Failure(context);
		if (tx.exec_params("SELECT 1 FROM balatrix.customers c WHERE c.id = $1::uuid", id).empty())
			return NotFound(context, "Customer");
		const pqxx::result created = tx.exec_params("SELECT balatrix.api_create_account($1::uuid, $2, $3::numeric, $4)",
		                                            id, *type, OrNull(credit), OrNull(currency));
		const json account = QueryJson(tx, "SELECT to_jsonb(a) FROM balatrix.accounts a WHERE a.id = $1::uuid",
		                               std::string(created[0][0].c_str()));
		return http::Success(context, "Account created successfully", account, 201);
	});
}

// ---- accounts ----------------------------------------------------------------------------------------

Reply
GetAccount(const Services& s, const RequestContext& context)
{
	const std::string id = PathId(context);
	if (!IsUuid(id))
		return NotFound(context, "Account");
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const json account = QueryJson(tx, R"SQL(
SELECT to_jsonb(a) || jsonb_build_object('customer', jsonb_build_object('id', c.id, 'customer_number', c.customer_number,
                                                                        'name', c.name, 'status', c.status))
  FROM balatrix.accounts a JOIN balatrix.customers c ON c.id = a.customer_id
 WHERE a.id = $1::uuid
)SQL",
		                               id);
		if (account.is_null())
			return NotFound(context, "Account");
		return http::Success(context, "Account retrieved successfully", account);
	});
}

Reply
AccountBalance(const Services& s, const RequestContext& context)
{
	const std::string id = PathId(context);
	if (!IsUuid(id))
		return NotFound(context, "Account");
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		// available = balance + credit limit (a prepaid account has none); lowBalance when available is
		// below the account's low-balance threshold.
		const json balance = QueryJson(tx, R"SQL(
SELECT jsonb_build_object('account_id', a.id, 'account_number', a.account_number, 'account_type', a.account_type,
                          'status', a.status, 'currency', a.currency, 'balance', a.balance,
                          'credit_limit', a.credit_limit, 'available', a.balance + a.credit_limit,
                          'low_balance_threshold', a.low_balance_threshold,
                          'critical_balance_threshold', a.critical_balance_threshold,
                          'low_balance', a.balance + a.credit_limit < a.low_balance_threshold)
  FROM balatrix.accounts a
 WHERE a.id = $1::uuid
)SQL",
		                               id);
		if (balance.is_null())
			return NotFound(context, "Account");
		return http::Success(context, "Balance retrieved successfully", balance);
	});
}

Reply
AccountLedger(const Services& s, const RequestContext& context)
{
	const std::string id = PathId(context);
	if (!IsUuid(id))
		return NotFound(context, "Account");
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		http::Validator v(nullptr);
		const Page page = ReadPage(v, context.query, 50);
		const DateRange range = ReadDateRange(v, context.query, false);
		std::optional<std::string> type;
		if (context.query.Has("type")) {
			type = v.QueryString(context.query, "type", http::StringRule{false, 0, 20, {}, ""});
			static const std::vector<std::string> kTypes{"usage",       "invoice",    "payment",    "top_up",  "refund",
			                                             "credit_note", "debit_note", "adjustment", "reversal"};
			if (type && std::find(kTypes.begin(), kTypes.end(), *type) == kTypes.end()) {
				v.Add("type", http::field_code::kNotAllowed,
				      "type must be one of usage, invoice, payment, top_up, refund, credit_note, debit_note, "
				      "adjustment, reversal");
				type.reset();
			}
		}
		if (!v.ok())
			return v.Failure(context);
		if (tx.exec_params("SELECT 1 FROM balatrix.accounts a WHERE a.id = $1::uuid", id).empty())
			return NotFound(context, "Account");
		const json result = QueryJson(tx, R"SQL(
WITH f AS (
    SELECT l.* FROM balatrix.ledger l
     WHERE l.account_id = $1::uuid
       AND ($2::date IS NULL OR l.created_at >= ($2::date)::timestamp AT TIME ZONE 'Asia/Kolkata')
       AND ($3::date IS NULL OR l.created_at < ($3::date + 1)::timestamp AT TIME ZONE 'Asia/Kolkata')
       AND ($4::text IS NULL OR l.entry_type = $4)
)
SELECT jsonb_build_object(
         'total', (SELECT count(*) FROM f),
         'items', coalesce((SELECT jsonb_agg(q.j ORDER BY q.id DESC)
                              FROM (SELECT to_jsonb(f) - 'created_by' - 'idempotency_key' AS j, f.id
                                      FROM f ORDER BY f.id DESC LIMIT $5 OFFSET $6) q), '[]'))
)SQL",
		                              id, OrNull(range.from), OrNull(range.to), OrNull(type),
		                              static_cast<long long>(page.limit), static_cast<long long>(page.offset()));
		return http::Success(context, "Ledger retrieved successfully",
		                     Paginated("entries", result["items"], result["total"].get<std::int64_t>(), page));
	});
}

// ---- reports -----------------------------------------------------------------------------------------

std::optional<std::string>
ReadMonth(http::Validator& v, const http::QueryParams& query)
{
	http::StringRule rule;
	rule.max_length = 7;
	rule.format = IsMonth;
	rule.format_message = "must be a month YYYY-MM";
	return v.QueryString(query, "month", rule);
}

Reply
GstSummary(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
		http::Validator v(nullptr);
		const auto month = ReadMonth(v, context.query);
		if (!v.ok())
			return v.Failure(context);
		const json report = QueryJson(tx, R"SQL(
WITH g AS (SELECT * FROM balatrix.gst_summary_monthly WHERE month = ($1::text || '-01')::date)
SELECT jsonb_build_object(
  'month', $1::text,
  'rows', coalesce((SELECT jsonb_agg(to_jsonb(g) ORDER BY g.supplier_gstin NULLS FIRST, g.currency, g.document_type) FROM g), '[]'),
  'totals', coalesce((SELECT jsonb_agg(to_jsonb(t) ORDER BY t.currency)
                        FROM (SELECT g.currency, sum(g.documents) AS documents,
                                     sum(g.net_taxable_value)::numeric(14,2) AS net_taxable_value,
                                     sum(g.net_tax)::numeric(14,2) AS net_tax,
                                     sum(g.net_total)::numeric(14,2) AS net_total
                                FROM g GROUP BY g.currency) t), '[]'))
)SQL",
		                              *month);
		return http::Success(context, "GST summary retrieved successfully", report);
	});
}

Reply
Gstr1(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
		http::Validator v(nullptr);
		const auto month = ReadMonth(v, context.query);
		if (!v.ok())
			return v.Failure(context);
		const json report = QueryJson(tx, R"SQL(
SELECT jsonb_build_object(
  'month', $1::text,
  'b2b', coalesce((SELECT jsonb_agg(to_jsonb(x) ORDER BY x.invoice_number, x.rate) FROM balatrix.gstr1_b2b x
                    WHERE x.month = ($1::text || '-01')::date), '[]'),
  'b2cl', coalesce((SELECT jsonb_agg(to_jsonb(x) ORDER BY x.invoice_number, x.rate) FROM balatrix.gstr1_b2cl x
                     WHERE x.month = ($1::text || '-01')::date), '[]'),
  'b2cs', coalesce((SELECT jsonb_agg(to_jsonb(x) ORDER BY x.supplier_gstin NULLS FIRST, x.place_of_supply, x.rate, x.supply_type)
                      FROM balatrix.gstr1_b2cs x WHERE x.month = ($1::text || '-01')::date), '[]'),
  'cdnr', coalesce((SELECT jsonb_agg(to_jsonb(x) ORDER BY x.note_number, x.rate) FROM balatrix.gstr1_cdnr x
                     WHERE x.month = ($1::text || '-01')::date), '[]'),
  'hsn', coalesce((SELECT jsonb_agg(to_jsonb(x) ORDER BY x.supplier_gstin NULLS FIRST, x.recipient_type, x.sac, x.rate)
                     FROM balatrix.gstr1_hsn x WHERE x.month = ($1::text || '-01')::date), '[]'))
)SQL",
		                              *month);
		return http::Success(context, "GSTR-1 retrieved successfully", report);
	});
}

Reply
Revenue(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
		http::Validator v(nullptr);
		const DateRange range = ReadDateRange(v, context.query, true);
		if (!v.ok())
			return v.Failure(context);
		// Issued documents (not draft, not void) by month of issue and currency: tax invoices and debit
		// notes add, credit notes subtract.
		const json report = QueryJson(tx, R"SQL(
WITH d AS (
    SELECT date_trunc('month', i.issue_date::timestamp)::date AS month, i.currency, i.document_type,
           i.taxable_total, i.tax_total, i.total, i.amount_paid
      FROM balatrix.invoices i
     WHERE i.status NOT IN ('draft', 'void') AND i.issue_date BETWEEN $1::date AND $2::date
), m AS (
    SELECT d.month, d.currency,
           count(*) FILTER (WHERE d.document_type = 'tax_invoice') AS invoices,
           count(*) FILTER (WHERE d.document_type = 'credit_note') AS credit_notes,
           count(*) FILTER (WHERE d.document_type = 'debit_note') AS debit_notes,
           coalesce(sum(d.total) FILTER (WHERE d.document_type <> 'credit_note'), 0)::numeric(14,2) AS invoiced_total,
           coalesce(sum(d.total) FILTER (WHERE d.document_type = 'credit_note'), 0)::numeric(14,2) AS credited_total,
           sum(CASE d.document_type WHEN 'credit_note' THEN -d.taxable_total ELSE d.taxable_total END)::numeric(14,2) AS net_taxable,
           sum(CASE d.document_type WHEN 'credit_note' THEN -d.tax_total ELSE d.tax_total END)::numeric(14,2) AS net_tax,
           sum(CASE d.document_type WHEN 'credit_note' THEN -d.total ELSE d.total END)::numeric(14,2) AS net_total,
           coalesce(sum(d.amount_paid) FILTER (WHERE d.document_type <> 'credit_note'), 0)::numeric(14,2) AS amount_paid
      FROM d GROUP BY d.month, d.currency
)
SELECT jsonb_build_object(
  'from', $1::date, 'to', $2::date,
  'months', coalesce((SELECT jsonb_agg(to_jsonb(m) ORDER BY m.month, m.currency) FROM m), '[]'),
  'totals', coalesce((SELECT jsonb_agg(to_jsonb(t) ORDER BY t.currency)
                        FROM (SELECT m.currency, sum(m.invoices) AS invoices, sum(m.credit_notes) AS credit_notes,
                                     sum(m.debit_notes) AS debit_notes,
                                     sum(m.invoiced_total)::numeric(14,2) AS invoiced_total,
                                     sum(m.credited_total)::numeric(14,2) AS credited_total,
                                     sum(m.net_taxable)::numeric(14,2) AS net_taxable,
                                     sum(m.net_tax)::numeric(14,2) AS net_tax,
                                     sum(m.net_total)::numeric(14,2) AS net_total,
                                     sum(m.amount_paid)::numeric(14,2) AS amount_paid
                                FROM m GROUP BY m.currency) t), '[]'))
)SQL",
		                              *range.from, *range.to);
		return http::Success(context, "Revenue report retrieved successfully", report);
	});
}

Reply
AuditLog(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAdmins, [&](pqxx::transaction_base& tx, const Principal&) {
		http::Validator v(nullptr);
		const Page page = ReadPage(v, context.query, 50);
		http::StringRule uuid_rule;
		uuid_rule.required = false;
		uuid_rule.max_length = 36;
		uuid_rule.format = [](std::string_view text) {
			return IsUuid(text);
		};
		uuid_rule.format_message = "must be a UUID";
		const auto actor = v.QueryString(context.query, "actor", uuid_rule);
		const auto action = v.QueryString(context.query, "action", http::StringRule{false, 1, 200, {}, ""});
		const auto entity = v.QueryString(context.query, "entity", http::StringRule{false, 1, 200, {}, ""});
		const auto entity_id = v.QueryString(context.query, "entityId", http::StringRule{false, 1, 200, {}, ""});
		const DateRange range = ReadDateRange(v, context.query, false);
		if (!v.ok())
			return v.Failure(context);
		const std::optional<std::string> action_like =
			action ? std::optional<std::string>(ContainsPattern(*action)) : std::nullopt;
		const json result =
			QueryJson(tx, R"SQL(
WITH f AS (
    SELECT a.* FROM balatrix.audit_log a
     WHERE ($1::uuid IS NULL OR a.actor_user_id = $1::uuid)
       AND ($2::text IS NULL OR a.action ILIKE $2)
       AND ($3::text IS NULL OR a.entity_type = $3)
       AND ($4::text IS NULL OR a.entity_id = $4)
       AND ($5::date IS NULL OR a.occurred_at >= ($5::date)::timestamp AT TIME ZONE 'Asia/Kolkata')
       AND ($6::date IS NULL OR a.occurred_at < ($6::date + 1)::timestamp AT TIME ZONE 'Asia/Kolkata')
)
SELECT jsonb_build_object(
         'total', (SELECT count(*) FROM f),
         'items', coalesce((SELECT jsonb_agg(q.j ORDER BY q.id DESC)
                              FROM (SELECT to_jsonb(f) AS j, f.id FROM f ORDER BY f.id DESC LIMIT $7 OFFSET $8) q), '[]'))
)SQL",
		              OrNull(actor), OrNull(action_like), OrNull(entity), OrNull(entity_id), OrNull(range.from),
		              OrNull(range.to), static_cast<long long>(page.limit), static_cast<long long>(page.offset()));
		return http::Success(context, "Audit log retrieved successfully",
		                     Paginated("entries", result["items"], result["total"].get<std::int64_t>(), page));
	});
}

json
PageQuery(std::initializer_list<json> extra = {})
{
	json list =
		json::array({json{{"name", "page"}, {"schema", {{"type", "integer"}, {"minimum", 1}}}, {"required", false}},
	                 json{{"name", "limit"},
	                      {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}}},
	                      {"required", false}}});
	for (const auto& item : extra)
		list.push_back(item);
	return list;
}

json
QueryParam(const char* name, json schema, bool required = false)
{
	return json{{"name", name}, {"schema", std::move(schema)}, {"required", required}};
}

json
CustomerSchema(bool creating)
{
	json properties = {
		{"name", {{"type", "string"}, {"minLength", 1}, {"maxLength", 200}}},
		{"companyName", {{"type", {"string", "null"}}, {"maxLength", 200}}},
		{"businessType", {{"enum", {"individual", "small_business", "enterprise"}}}},
		{"email", {{"type", {"string", "null"}}, {"format", "email"}}},
		{"phone", {{"type", {"string", "null"}}, {"pattern", "^\\+[1-9][0-9]{1,14}$"}}},
		{"gstin", {{"type", {"string", "null"}}}},
		{"pan", {{"type", {"string", "null"}}, {"pattern", "^[A-Z]{5}[0-9]{4}[A-Z]$"}}},
		{"billingAddress", {{"type", {"string", "null"}}, {"maxLength", 500}}},
		{"billingCity", {{"type", {"string", "null"}}}},
		{"billingStateCode", {{"type", {"string", "null"}}, {"pattern", "^[0-9]{2}$"}}},
		{"billingPincode", {{"type", {"string", "null"}}, {"pattern", "^[1-9][0-9]{5}$"}}},
		{"billingCountry", {{"type", "string"}, {"pattern", "^[A-Z]{2}$"}}},
		{"taxExempt", {{"type", "boolean"}, {"description", "staff only"}}},
		{"kycStatus", {{"enum", {"pending", "submitted", "verified", "rejected"}}, {"description", "staff only"}}},
		{"notes", {{"type", {"string", "null"}}, {"maxLength", 2000}, {"description", "staff only"}}},
	};
	if (creating) {
		properties["status"] = {{"enum", {"pending", "active"}}, {"description", "staff only"}};
		properties["userId"] = {{"type", "string"}, {"format", "uuid"}, {"description", "staff only"}};
	}
	json schema = {{"type", "object"}, {"additionalProperties", false}, {"properties", properties}};
	if (creating)
		schema["required"] = {"name"};
	else
		schema["minProperties"] = 1;
	return schema;
}

RouteDoc
Doc(std::string summary, const char* tag, const Roles& roles, json request = nullptr, json query = nullptr,
    int status = 200)
{
	RouteDoc doc;
	doc.summary = std::move(summary);
	doc.tag = tag;
	doc.authenticated = true;
	doc.roles = roles;
	doc.request = std::move(request);
	doc.query = std::move(query);
	doc.success_status = status;
	return doc;
}

} // namespace

void
RegisterCustomerRoutes(Registry& registry)
{
	const Services& s = registry.services();
	const Roles listers{Role::kSuperAdmin, Role::kAdmin, Role::kSupport, Role::kReseller};
	registry.Add("POST", "/api/customers",
	             Doc("Create a customer with a default prepaid account (staff; or a customer user once, for itself)",
	                 kTag, kAnyRole, CustomerSchema(true), nullptr, 201),
	             [&s](const RequestContext& c) { return CreateCustomer(s, c); });
	registry.Add("GET", "/api/customers",
	             Doc("List customers (staff: all; reseller: its own), paginated", kTag, listers, nullptr,
	                 PageQuery({QueryParam("status", {{"enum", {"pending", "active", "suspended", "cancelled"}}}),
	                            QueryParam("search", {{"type", "string"}, {"maxLength", 100}}),
	                            QueryParam("sortBy", {{"enum",
	                                                   {"createdAt", "updatedAt", "name", "companyName",
	                                                    "customerNumber", "status", "email"}}}),
	                            QueryParam("sortOrder", {{"enum", {"asc", "desc", "ASC", "DESC"}}})})),
	             [&s](const RequestContext& c) { return ListCustomers(s, c); });
	registry.Add("GET", "/api/customers/search",
	             Doc("Search customers by name, company, GSTIN, e-mail, number or phone (staff; 20 at most)", kTag,
	                 kStaff, nullptr,
	                 json::array({QueryParam("q", {{"type", "string"}, {"minLength", 1}, {"maxLength", 100}}, true)})),
	             [&s](const RequestContext& c) { return SearchCustomers(s, c); });
	registry.Add("GET", "/api/customers/me",
	             Doc("The caller's customer with its accounts and subscriptions", kTag, kAnyRole),
	             [&s](const RequestContext& c) { return MyCustomer(s, c); });
	registry.Add("GET", "/api/customers/:id",
	             Doc("A customer with its accounts and subscriptions (owner, reseller or staff)", kTag, kAnyRole),
	             [&s](const RequestContext& c) { return GetCustomer(s, c); });
	registry.Add("PUT", "/api/customers/:id",
	             Doc("Change a customer's details (owner, reseller or staff; status and credit are not changed here)",
	                 kTag, kAnyRole, CustomerSchema(false)),
	             [&s](const RequestContext& c) { return UpdateCustomer(s, c); });
	registry.Add(
		"DELETE", "/api/customers/:id",
		Doc("Close a customer (admins): status cancelled, accounts closed; 409 with live subscriptions", kTag, kAdmins),
		[&s](const RequestContext& c) { return DeleteCustomer(s, c); });
	const json reason_schema = {{"type", "object"},
	                            {"additionalProperties", false},
	                            {"properties", {{"reason", {{"type", "string"}, {"maxLength", 500}}}}}};
	registry.Add("POST", "/api/customers/:id/suspend",
	             Doc("Suspend an active customer and its active accounts (staff)", kTag, kStaff, reason_schema),
	             [&s](const RequestContext& c) {
					 return SetCustomerStatus(s, c, "suspended", "Customer suspended successfully");
				 });
	registry.Add(
		"POST", "/api/customers/:id/activate",
		Doc("Activate a suspended or pending customer and its suspended accounts (staff)", kTag, kStaff, reason_schema),
		[&s](const RequestContext& c) { return SetCustomerStatus(s, c, "active", "Customer activated successfully"); });
	registry.Add(
		"GET", "/api/customers/:id/statistics",
		Doc("A customer's accounts and counts and sums of subscriptions, payments and invoices", kTag, kAnyRole),
		[&s](const RequestContext& c) { return CustomerStatistics(s, c); });
	registry.Add("GET", "/api/customers/:id/accounts", Doc("A customer's accounts", kTag, kAnyRole),
	             [&s](const RequestContext& c) { return ListCustomerAccounts(s, c); });
	registry.Add("POST", "/api/customers/:id/accounts",
	             Doc("Open another account for a customer (staff)", kTag, kStaff,
	                 json{{"type", "object"},
	                      {"additionalProperties", false},
	                      {"required", {"accountType"}},
	                      {"properties",
	                       {{"accountType", {{"enum", {"prepaid", "postpaid"}}}},
	                        {"creditLimit",
	                         {{"type", {"string", "number"}},
	                          {"pattern", "^[0-9]{1,12}(\\.[0-9]{1,4})?$"},
	                          {"description", "postpaid only; a decimal string such as \"5000.00\""}}},
	                        {"currency", {{"type", "string"}, {"pattern", "^[A-Z]{3}$"}}}}}},
	                 nullptr, 201),
	             [&s](const RequestContext& c) { return CreateCustomerAccount(s, c); });
}

void
RegisterAccountRoutes(Registry& registry)
{
	const Services& s = registry.services();
	const char* const tag = "Accounts";
	const json date_schema = {{"type", "string"}, {"format", "date"}};
	registry.Add("GET", "/api/accounts/:id", Doc("An account (owner, reseller or staff)", tag, kAnyRole),
	             [&s](const RequestContext& c) { return GetAccount(s, c); });
	registry.Add("GET", "/api/accounts/:id/balance",
	             Doc("An account's balance, credit limit, available amount and low-balance flag", tag, kAnyRole),
	             [&s](const RequestContext& c) { return AccountBalance(s, c); });
	registry.Add("GET", "/api/accounts/:id/ledger",
	             Doc("An account's ledger entries, newest first, paginated (from / to: days in IST, inclusive)", tag,
	                 kAnyRole, nullptr,
	                 PageQuery({QueryParam("from", date_schema), QueryParam("to", date_schema),
	                            QueryParam("type", {{"enum",
	                                                 {"usage", "invoice", "payment", "top_up", "refund", "credit_note",
	                                                  "debit_note", "adjustment", "reversal"}}})})),
	             [&s](const RequestContext& c) { return AccountLedger(s, c); });
}

void
RegisterReportRoutes(Registry& registry)
{
	const Services& s = registry.services();
	const char* const tag = "Reports";
	const json month =
		json::array({QueryParam("month", {{"type", "string"}, {"pattern", "^[0-9]{4}-(0[1-9]|1[0-2])$"}}, true)});
	const json date_schema = {{"type", "string"}, {"format", "date"}};
	registry.Add("GET", "/api/reports/gst-summary",
	             Doc("Issued documents of a month by supplier GSTIN, currency and document type (staff)", tag, kStaff,
	                 nullptr, month),
	             [&s](const RequestContext& c) { return GstSummary(s, c); });
	registry.Add("GET", "/api/reports/gstr1",
	             Doc("GSTR-1 sections b2b, b2cl, b2cs, cdnr and hsn of a month (staff)", tag, kStaff, nullptr, month),
	             [&s](const RequestContext& c) { return Gstr1(s, c); });
	registry.Add("GET", "/api/reports/revenue",
	             Doc("Issued invoices and notes by month of issue between from and to, inclusive (staff)", tag, kStaff,
	                 nullptr,
	                 json::array({QueryParam("from", date_schema, true), QueryParam("to", date_schema, true)})),
	             [&s](const RequestContext& c) { return Revenue(s, c); });
	registry.Add("GET", "/api/reports/audit-log",
	             Doc("The audit log, newest first, paginated (admins)", tag, kAdmins, nullptr,
	                 PageQuery({QueryParam("actor", {{"type", "string"}, {"format", "uuid"}}),
	                            QueryParam("action", {{"type", "string"}}), QueryParam("entity", {{"type", "string"}}),
	                            QueryParam("entityId", {{"type", "string"}}), QueryParam("from", date_schema),
	                            QueryParam("to", date_schema)})),
	             [&s](const RequestContext& c) { return AuditLog(s, c); });
}

} // namespace balatrix::sidecar::api
