/*
 * /api/invoices: GST tax invoices and the credit notes that correct them.
 *
 * Reads are SELECTs as the caller (row-level security: a customer sees its own documents, staff all; drafts
 * are staff-only). Every write is one balatrix.api_* definer function (build-helper-c/cdrs_invoices.sql) that
 * checks the actor and calls the billing function that does the work (issue_invoice, void_invoice,
 * record_payment, bill_subscription, ...), so the money rules live in one place, in the database.
 *
 * Money on the wire is a string of its exact digits (WireJson). Amounts in request bodies may be JSON strings
 * or numbers; either way their text must be a plain decimal with at most 2 decimals (paise), and it reaches
 * PostgreSQL as that text, cast to numeric there.
 */
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/list_query.hpp"
#include "api/registry.hpp"

namespace balatrix::sidecar::api {
namespace {

using http::Reply;
using http::RequestContext;
using http::Validator;
using nlohmann::json;
namespace field_code = http::field_code;

const std::vector<std::string> kStatuses{"draft", "issued", "partially_paid", "paid", "overdue", "void"};
const std::vector<std::string> kTypes{"tax_invoice", "credit_note", "debit_note"};

// The invoice with its lines, payments and credit notes; drafts (the invoice's or its notes') only for staff.
// $1 = the invoice id.
std::string
DetailSql(bool staff)
{
	const std::string no_draft_i = staff ? "" : " AND i.status <> 'draft'";
	const std::string no_draft_n = staff ? "" : " AND n.status <> 'draft'";
	return "SELECT (to_jsonb(i) || jsonb_build_object("
	       "  'outstanding', CASE WHEN i.document_type = 'credit_note' OR i.status IN ('draft', 'void') THEN 0.00 "
	       "                      ELSE i.total - i.amount_paid - i.amount_credited END::numeric(14,2), "
	       "  'customer', (SELECT jsonb_build_object('id', c.id, 'name', c.name, 'company_name', c.company_name, "
	       "                                         'email', c.email, 'gstin', c.gstin) "
	       "                 FROM balatrix.customers c WHERE c.id = i.customer_id), "
	       "  'lines', coalesce((SELECT jsonb_agg(to_jsonb(l) ORDER BY l.line_no) FROM balatrix.invoice_lines l "
	       "                      WHERE l.invoice_id = i.id), '[]'), "
	       "  'payments', coalesce((SELECT jsonb_agg(to_jsonb(p) - 'gateway_response' - 'idempotency_key' "
	       "                                         ORDER BY p.created_at, p.id) "
	       "                         FROM balatrix.payments p WHERE p.invoice_id = i.id), '[]'), "
	       "  'credit_notes', coalesce((SELECT jsonb_agg(to_jsonb(n) ORDER BY n.issued_at NULLS LAST, n.created_at, n.id) "
	       "                             FROM balatrix.invoices n WHERE n.original_invoice_id = i.id "
	       "                              AND n.document_type = 'credit_note'" + no_draft_n + "), '[]')"
	       "))::text FROM balatrix.invoices i WHERE i.id = $1::uuid" + no_draft_i;
}

json
InvoiceDetail(pqxx::transaction_base& tx, const Principal& principal, const std::string& id)
{
	return QueryJson(tx, DetailSql(IsStaff(principal.role)), id);
}

// ?from / ?to on issue_date: a date, or a timestamp whose calendar date (as written) is taken. Inclusive.
std::optional<std::string>
QueryIssueDate(Validator& v, const http::QueryParams& query, std::string_view name)
{
	const auto text = v.QueryString(query, name, TextRule(false, 1, 40));
	if (!text)
		return std::nullopt;
	if (IsIsoDate(*text) || IsIsoTimestamp(*text))
		return text->substr(0, 10);
	v.Add(std::string(name), field_code::kInvalidFormat, std::string(name) + " must be an ISO 8601 date (2025-03-14)");
	return std::nullopt;
}

// ---- handlers ---------------------------------------------------------------------------------------------

const std::vector<std::pair<std::string, std::string>> kInvoiceSort{
	{"issueDate", "i.issue_date"}, {"dueDate", "i.due_date"}, {"total", "i.total"},
	{"createdAt", "i.created_at"}, {"invoiceNumber", "i.invoice_number"}};

Reply
ListInvoices(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal& principal) {
		Validator v(nullptr);
		const Page page = ReadPage(v, context.query);
		SqlParams params;
		std::string where = IsStaff(principal.role) ? "" : " AND i.status <> 'draft'";
		if (auto id = QueryUuid(v, context.query, "customerId"))
			where += " AND i.customer_id = " + params.Add(*id) + "::uuid";
		if (auto id = QueryUuid(v, context.query, "accountId"))
			where += " AND i.account_id = " + params.Add(*id) + "::uuid";
		if (auto id = QueryUuid(v, context.query, "subscriptionId"))
			where += " AND i.subscription_id = " + params.Add(*id) + "::uuid";
		if (auto status = QueryOneOf(v, context.query, "status", kStatuses))
			where += " AND i.status = " + params.Add(*status);
		if (auto type = QueryOneOf(v, context.query, "type", kTypes))
			where += " AND i.document_type = " + params.Add(*type);
		if (auto from = QueryIssueDate(v, context.query, "from"))
			where += " AND i.issue_date >= " + params.Add(*from) + "::date";
		if (auto to = QueryIssueDate(v, context.query, "to"))
			where += " AND i.issue_date <= " + params.Add(*to) + "::date";
		const std::string order =
			QueryOrderBy(v, context.query, kInvoiceSort, "issueDate", "desc", "i.created_at DESC, i.id");
		if (!v.ok())
			return v.Failure(context);
		const std::int64_t total =
			ExecWith(tx, "SELECT count(*) FROM balatrix.invoices i WHERE true" + where, params)[0][0].as<std::int64_t>();
		const std::string limit = params.Add(std::to_string(page.limit));
		const std::string offset = params.Add(std::to_string(page.offset()));
		const pqxx::result rows = ExecWith(
			tx,
			"SELECT coalesce(jsonb_agg(x.j ORDER BY x.n), '[]')::text FROM ("
			"  SELECT to_jsonb(i) || jsonb_build_object('outstanding', CASE WHEN i.document_type = 'credit_note' "
			"           OR i.status IN ('draft', 'void') THEN 0.00 ELSE i.total - i.amount_paid - i.amount_credited "
			"           END::numeric(14,2)) AS j, row_number() OVER (ORDER BY " + order + ") AS n"
			"    FROM balatrix.invoices i WHERE true" + where +
			"   ORDER BY " + order + " LIMIT " + limit + "::bigint OFFSET " + offset + "::bigint) x",
			params);
		return http::Success(context, "Invoices retrieved", Paginated("invoices", WireJson(rows[0][0].c_str()), total, page));
	});
}

Reply
OverdueInvoices(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(nullptr);
		const Page page = ReadPage(v, context.query);
		SqlParams params;
		std::string where;
		if (auto id = QueryUuid(v, context.query, "customerId"))
			where += " AND i.customer_id = " + params.Add(*id) + "::uuid";
		if (!v.ok())
			return v.Failure(context);
		// Open documents past their due date (IST), whether or not the dunning sweep has marked them yet.
		where = " AND i.document_type <> 'credit_note' AND i.status IN ('issued', 'partially_paid', 'overdue')"
		        " AND i.due_date < (now() AT TIME ZONE 'Asia/Kolkata')::date" + where;
		const std::int64_t total =
			ExecWith(tx, "SELECT count(*) FROM balatrix.invoices i WHERE true" + where, params)[0][0].as<std::int64_t>();
		const std::string limit = params.Add(std::to_string(page.limit));
		const std::string offset = params.Add(std::to_string(page.offset()));
		const pqxx::result rows = ExecWith(
			tx,
			"SELECT coalesce(jsonb_agg(x.j ORDER BY x.n), '[]')::text FROM ("
			"  SELECT to_jsonb(i) || jsonb_build_object("
			"           'outstanding', (i.total - i.amount_paid - i.amount_credited)::numeric(14,2), "
			"           'days_overdue', (now() AT TIME ZONE 'Asia/Kolkata')::date - i.due_date) AS j, "
			"         row_number() OVER (ORDER BY i.due_date, i.invoice_number) AS n"
			"    FROM balatrix.invoices i WHERE true" + where +
			"   ORDER BY i.due_date, i.invoice_number LIMIT " + limit + "::bigint OFFSET " + offset + "::bigint) x",
			params);
		return http::Success(context, "Overdue invoices retrieved",
		                     Paginated("invoices", WireJson(rows[0][0].c_str()), total, page));
	});
}

Reply
InvoiceStatistics(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(nullptr);
		SqlParams params;
		std::string where;
		if (auto id = QueryUuid(v, context.query, "customerId"))
			where += " AND i.customer_id = " + params.Add(*id) + "::uuid";
		if (auto from = QueryIssueDate(v, context.query, "from"))
			where += " AND i.issue_date >= " + params.Add(*from) + "::date";
		if (auto to = QueryIssueDate(v, context.query, "to"))
			where += " AND i.issue_date <= " + params.Add(*to) + "::date";
		if (!v.ok())
			return v.Failure(context);
		const std::string sums =
			"'total', coalesce(sum(x.total), 0)::numeric(14,2), 'amount_paid', coalesce(sum(x.amount_paid), 0)::numeric(14,2), "
			"'amount_credited', coalesce(sum(x.amount_credited), 0)::numeric(14,2), "
			"'outstanding', coalesce(sum(x.total - x.amount_paid - x.amount_credited) FILTER (WHERE x.document_type <> 'credit_note' "
			"   AND x.status IN ('issued', 'partially_paid', 'overdue')), 0)::numeric(14,2)";
		const std::string sql =
			"WITH f AS (SELECT i.* FROM balatrix.invoices i WHERE true" + where + ") "
			"SELECT jsonb_build_object("
			// Invoices and debit notes that count (issued, not void); credit notes are their own line.
			"  'totals', (SELECT jsonb_build_object('count', count(*), " + sums + ") FROM f x "
			"              WHERE x.document_type <> 'credit_note' AND x.status NOT IN ('draft', 'void')), "
			"  'credit_notes', (SELECT jsonb_build_object('count', count(*), 'total', coalesce(sum(x.total), 0)::numeric(14,2)) "
			"                     FROM f x WHERE x.document_type = 'credit_note' AND x.status NOT IN ('draft', 'void')), "
			"  'overdue', (SELECT jsonb_build_object('count', count(*), " + sums + ") FROM f x "
			"               WHERE x.document_type <> 'credit_note' AND x.status IN ('issued', 'partially_paid', 'overdue') "
			"                 AND x.due_date < (now() AT TIME ZONE 'Asia/Kolkata')::date), "
			"  'by_status', (SELECT coalesce(jsonb_agg(g.j ORDER BY g.status), '[]') FROM ("
			"       SELECT x.status, jsonb_build_object('status', x.status, 'count', count(*), " + sums + ") AS j "
			"         FROM f x WHERE x.document_type <> 'credit_note' GROUP BY x.status) g), "
			"  'by_type', (SELECT coalesce(jsonb_agg(g.j ORDER BY g.document_type), '[]') FROM ("
			"       SELECT x.document_type, jsonb_build_object('type', x.document_type, 'count', count(*), "
			"              'total', coalesce(sum(x.total), 0)::numeric(14,2)) AS j "
			"         FROM f x WHERE x.status NOT IN ('draft', 'void') GROUP BY x.document_type) g))::text";
		return http::Success(context, "Invoice statistics retrieved", WireJson(ExecWith(tx, sql, params)[0][0].c_str()));
	});
}

Reply
GetInvoice(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal& principal) {
		const auto id = PathUuid(context, "id");
		if (!id)
			return NotFound(context, "Invoice");
		json data = InvoiceDetail(tx, principal, *id);
		if (data.is_null())
			return NotFound(context, "Invoice");
		return http::Success(context, "Invoice retrieved", data);
	});
}

Reply
ListCreditNotes(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal& principal) {
		const auto id = PathUuid(context, "id");
		if (!id)
			return NotFound(context, "Invoice");
		const std::string no_draft = IsStaff(principal.role) ? "" : " AND n.status <> 'draft'";
		json data = QueryJson(
			tx,
			"SELECT (SELECT coalesce(jsonb_agg(to_jsonb(n) || jsonb_build_object('lines', coalesce(("
			"            SELECT jsonb_agg(to_jsonb(l) ORDER BY l.line_no) FROM balatrix.invoice_lines l "
			"             WHERE l.invoice_id = n.id), '[]')) ORDER BY n.issued_at NULLS LAST, n.created_at, n.id), '[]') "
			"          FROM balatrix.invoices n WHERE n.original_invoice_id = i.id AND n.document_type = 'credit_note'" +
			    no_draft + ")::text "
			"  FROM balatrix.invoices i WHERE i.id = $1::uuid" + (IsStaff(principal.role) ? "" : " AND i.status <> 'draft'"),
			*id);
		if (data.is_null())
			return NotFound(context, "Invoice");
		return http::Success(context, "Credit notes retrieved", data);
	});
}

Reply
GenerateSubscriptionInvoice(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal& principal) {
		const auto id = PathUuid(context, "subscriptionId");
		if (!id)
			return NotFound(context, "Subscription");
		const pqxx::row row = tx.exec_params1(
			"SELECT g.invoice_id::text, g.created FROM balatrix.api_generate_subscription_invoice($1::uuid) g", *id);
		const bool created = row[1].as<bool>();
		json data = InvoiceDetail(tx, principal, row[0].c_str());
		return http::Success(context, created ? "Invoice generated" : "The current period is already invoiced", data,
		                     created ? 201 : 200);
	});
}

Reply
IssueInvoice(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal& principal) {
		const auto id = PathUuid(context, "id");
		if (!id)
			return NotFound(context, "Invoice");
		Validator v(context.body.get());
		v.NoOtherFields({});
		if (!v.ok())
			return v.Failure(context);
		tx.exec_params("SELECT balatrix.api_issue_invoice($1::uuid)", *id);
		return http::Success(context, "Invoice issued", InvoiceDetail(tx, principal, *id));
	});
}

Reply
VoidInvoice(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAdmins, [&](pqxx::transaction_base& tx, const Principal& principal) {
		const auto id = PathUuid(context, "id");
		if (!id)
			return NotFound(context, "Invoice");
		Validator v(context.body.get());
		if (!context.body)
			v.Add("reason", field_code::kRequired, "reason is required");
		const auto reason = v.String("reason", TextRule(true, 1, 500));
		v.NoOtherFields({"reason"});
		if (!v.ok())
			return v.Failure(context);
		tx.exec_params("SELECT balatrix.api_void_invoice($1::uuid, $2)", *id, *reason);
		return http::Success(context, "Invoice voided", InvoiceDetail(tx, principal, *id));
	});
}

Reply
MarkInvoicePaid(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal& principal) {
		const auto id = PathUuid(context, "id");
		if (!id)
			return NotFound(context, "Invoice");
		Validator v(context.body.get());
		if (!context.body)
			v.Add("reference", field_code::kRequired, "reference is required");
		const auto amount = BodyAmount(v, context.body.get(), "amount", false);
		const auto reference = v.String("reference", TextRule(true, 1, 100));
		const auto paid_at = v.String("paidAt", TextRule(false, 10, 40));
		std::string paid_on_sql = "$4::date"; // NULL when not given
		if (paid_at) {
			if (IsIsoDate(*paid_at))
				paid_on_sql = "$4::date";
			else if (IsIsoTimestamp(*paid_at))
				paid_on_sql = HasZone(*paid_at) ? "($4::timestamptz AT TIME ZONE 'Asia/Kolkata')::date" : "$4::timestamp::date";
			else
				v.Add("paidAt", field_code::kInvalidFormat, "paidAt must be an ISO 8601 date or timestamp (2025-03-14)");
		}
		v.NoOtherFields({"amount", "reference", "paidAt"});
		if (!v.ok())
			return v.Failure(context);
		const pqxx::row row = tx.exec_params1(
			"SELECT m.payment_id::text, m.created FROM balatrix.api_mark_invoice_paid($1::uuid, $2::numeric, $3, " +
			    paid_on_sql + ") m",
			*id, amount ? amount->c_str() : nullptr, *reference, paid_at ? paid_at->c_str() : nullptr);
		const bool created = row[1].as<bool>();
		json payment = QueryJson(tx,
		                         "SELECT (to_jsonb(p) - 'gateway_response' - 'idempotency_key')::text "
		                         "  FROM balatrix.payments p WHERE p.id = $1::uuid",
		                         row[0].c_str());
		json data{{"payment", payment}, {"invoice", InvoiceDetail(tx, principal, *id)}};
		return http::Success(context, created ? "Payment recorded" : "Payment already recorded", data, created ? 201 : 200);
	});
}

Reply
CreateCreditNote(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAdmins, [&](pqxx::transaction_base& tx, const Principal& principal) {
		const auto id = PathUuid(context, "id");
		if (!id)
			return NotFound(context, "Invoice");
		Validator v(context.body.get());
		if (!context.body)
			v.Add("", field_code::kRequired, "a JSON body {amount, reason} is required");
		const auto amount = BodyAmount(v, context.body.get(), "amount", true);
		const auto reason = v.String("reason", TextRule(true, 1, 500));
		v.NoOtherFields({"amount", "reason"});
		if (!v.ok())
			return v.Failure(context);
		const pqxx::row row =
			tx.exec_params1("SELECT balatrix.api_create_credit_note($1::uuid, $2::numeric, $3)::text", *id, *amount, *reason);
		return http::Success(context, "Credit note issued", InvoiceDetail(tx, principal, row[0].c_str()), 201);
	});
}

json
Q(const char* name, json schema, bool required = false)
{
	return json{{"name", name}, {"schema", std::move(schema)}, {"required", required}};
}

} // namespace

void
RegisterInvoiceRoutes(Registry& registry)
{
	const Services& s = registry.services();
	const json uuid{{"type", "string"}, {"format", "uuid"}};
	const json date{{"type", "string"}, {"format", "date"}};
	const json page{{"type", "integer"}, {"minimum", 1}};
	const json limit{{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"default", 20}};
	const json money{{"type", "string"}, {"pattern", "^[0-9]{1,12}(\\.[0-9]{1,2})?$"}};

	registry.Add("GET", "/api/invoices",
	             RouteDoc{"List invoices and notes (own for customers, without drafts; all for staff)", "Invoices", true,
	                      kAnyRole, nullptr,
	                      json::array({Q("page", page), Q("limit", limit), Q("customerId", uuid), Q("accountId", uuid),
	                                   Q("subscriptionId", uuid), Q("status", {{"type", "string"}, {"enum", kStatuses}}),
	                                   Q("type", {{"type", "string"}, {"enum", kTypes}}), Q("from", date), Q("to", date),
	                                   Q("sortBy", {{"type", "string"}, {"enum", {"issueDate", "dueDate", "total", "createdAt", "invoiceNumber"}}}),
	                                   Q("sortOrder", {{"type", "string"}, {"enum", {"asc", "desc"}}})})},
	             [&s](const RequestContext& c) { return ListInvoices(s, c); });
	registry.Add("GET", "/api/invoices/overdue",
	             RouteDoc{"Open invoices past their due date (IST), oldest first", "Invoices", true, kStaff, nullptr,
	                      json::array({Q("page", page), Q("limit", limit), Q("customerId", uuid)})},
	             [&s](const RequestContext& c) { return OverdueInvoices(s, c); });
	registry.Add("GET", "/api/invoices/statistics",
	             RouteDoc{"Counts and sums of invoices by status and type; what is outstanding and overdue", "Invoices",
	                      true, kStaff, nullptr, json::array({Q("customerId", uuid), Q("from", date), Q("to", date)})},
	             [&s](const RequestContext& c) { return InvoiceStatistics(s, c); });
	registry.Add("POST", "/api/invoices/generate/subscription/:subscriptionId",
	             RouteDoc{"Invoice the current period of an active subscription if it is not invoiced yet (201), else "
	                      "return its invoice (200)", "Invoices", true, kStaff, nullptr, nullptr, 201},
	             [&s](const RequestContext& c) { return GenerateSubscriptionInvoice(s, c); });
	registry.Add("GET", "/api/invoices/:id",
	             RouteDoc{"One invoice with its lines, payments and credit notes", "Invoices", true, kAnyRole, nullptr, nullptr},
	             [&s](const RequestContext& c) { return GetInvoice(s, c); });
	registry.Add("POST", "/api/invoices/:id/issue",
	             RouteDoc{"Issue a draft (number, due date, ledger entries)", "Invoices", true, kStaff,
	                      json{{"type", "object"}, {"additionalProperties", false}}, nullptr},
	             [&s](const RequestContext& c) { return IssueInvoice(s, c); });
	registry.Add("POST", "/api/invoices/:id/void",
	             RouteDoc{"Void an issued, unpaid, uncredited invoice", "Invoices", true, kAdmins,
	                      json{{"type", "object"}, {"required", {"reason"}},
	                           {"properties", {{"reason", {{"type", "string"}, {"minLength", 1}, {"maxLength", 500}}}}},
	                           {"additionalProperties", false}},
	                      nullptr},
	             [&s](const RequestContext& c) { return VoidInvoice(s, c); });
	registry.Add("POST", "/api/invoices/:id/mark-paid",
	             RouteDoc{"Record a manual payment (default: what is outstanding); idempotent by reference (201 "
	                      "recorded, 200 repeat)", "Invoices", true, kStaff,
	                      json{{"type", "object"}, {"required", {"reference"}},
	                           {"properties", {{"amount", money},
	                                           {"reference", {{"type", "string"}, {"minLength", 1}, {"maxLength", 100}}},
	                                           {"paidAt", {{"type", "string"}, {"format", "date"}}}}},
	                           {"additionalProperties", false}},
	                      nullptr, 201},
	             [&s](const RequestContext& c) { return MarkInvoicePaid(s, c); });
	registry.Add("GET", "/api/invoices/:id/credit-notes",
	             RouteDoc{"The credit notes of an invoice, with their lines", "Invoices", true, kAnyRole, nullptr, nullptr},
	             [&s](const RequestContext& c) { return ListCreditNotes(s, c); });
	registry.Add("POST", "/api/invoices/:id/credit-notes",
	             RouteDoc{"Issue a credit note against an issued tax invoice: amount is the taxable value credited (GST "
	                      "is added at the invoice's rate)", "Invoices", true, kAdmins,
	                      json{{"type", "object"}, {"required", {"amount", "reason"}},
	                           {"properties", {{"amount", money},
	                                           {"reason", {{"type", "string"}, {"minLength", 1}, {"maxLength", 500}}}}},
	                           {"additionalProperties", false}},
	                      nullptr, 201},
	             [&s](const RequestContext& c) { return CreateCreditNote(s, c); });
}

} // namespace balatrix::sidecar::api
