/*
 * /api/cdrs: call detail records.
 *
 * Reads are plain SELECTs on balatrix.cdr as the caller (row-level security: a customer sees its own CDRs,
 * staff all of them). Writes go through balatrix.api_ingest_cdrs, which INSERTs into the same landing table
 * mod_cdr_pg_csv writes to, so the rating trigger rates, dedupes (by uuid) and charges an API CDR exactly
 * like one from FreeSWITCH.
 *
 * Two body shapes are accepted for a CDR, per item:
 *   - ours: {"uuid","accountId"|"accountCode","callingNumber","callerIdName","calledNumber","direction",
 *     "startTime","answerTime","endTime","duration","billsec","billmsec","hangupCause","context","callUuid",
 *     "blegUuid"}; times are ISO 8601 (with an offset they become *_uepoch, without one they are read in
 *     balatrix.cdr_timezone like FreeSWITCH's stamps);
 *   - FreeSWITCH mod_json_cdr's document {"variables":{...},"callflow":[...],"channel_data":{...}}: the
 *     landing-table columns are taken from "variables" (URL-decoded when mod_json_cdr's encode-values is on),
 *     caller-profile fields missing from them from callflow's newest profile, the uuid from ?uuid= last.
 * Either becomes an object keyed by the landing table's FreeSWITCH columns, all values text.
 */
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/list_query.hpp"
#include "api/registry.hpp"
#include "percent_encoding.hpp"

namespace balatrix::sidecar::api {
namespace {

using http::FieldError;
using http::Reply;
using http::RequestContext;
using http::Validator;
using nlohmann::json;
namespace field_code = http::field_code;

// The FreeSWITCH columns of balatrix.cdr (what an ingested CDR may set).
constexpr std::array<std::string_view, 36> kLandingColumns = {
	"local_ip_v4", "caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp",
	"answer_stamp", "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid", "accountcode",
	"read_codec", "write_codec", "sip_hangup_disposition", "ani", "direction", "call_uuid", "originating_leg_uuid",
	"hangup_cause_q850", "last_bridge_hangup_cause", "sip_term_status", "sip_call_id", "billmsec", "billusec",
	"mduration", "start_epoch", "answer_epoch", "end_epoch", "start_uepoch", "answer_uepoch", "end_uepoch",
	"progresssec", "waitsec"};

// FreeSWITCH's rating statuses (balatrix.cdr.rating_status).
const std::vector<std::string> kRatingStatuses{"pending", "rated", "skipped", "unknown_account", "no_rate", "invalid", "error"};

constexpr std::size_t kMaxUuidBytes = 255;
constexpr std::size_t kMaxBatch = 1000;
constexpr std::int64_t kExportMaxRows = 100000;
constexpr std::int64_t kExportChunkRows = 5000;

// ---- ISO 8601 -> epoch microseconds -------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t
DaysFromCivil(std::int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = static_cast<unsigned>(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool
IsLeap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

struct ParsedTime {
	bool has_zone = false;
	std::int64_t epoch_us = 0; // when has_zone
};

// "YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]", a real calendar date from 1970 on; nullopt otherwise.
std::optional<ParsedTime>
ParseIsoTime(const std::string& text)
{
	static const std::regex kIso("^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.([0-9]{1,6}))?)?"
	                             "(Z|([+-])([0-9]{2}):?([0-9]{2})?)?$");
	std::smatch m;
	if (!std::regex_match(text, m, kIso))
		return std::nullopt;
	const int year = std::stoi(m[1]), month = std::stoi(m[2]), day = std::stoi(m[3]);
	const int hour = std::stoi(m[4]), minute = std::stoi(m[5]), second = m[6].matched ? std::stoi(m[6]) : 0;
	static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (year < 1970 || month < 1 || month > 12 || day < 1 ||
	    day > (month == 2 && IsLeap(year) ? 29 : kDays[month - 1]) || hour > 23 || minute > 59 || second > 59)
		return std::nullopt;
	ParsedTime out;
	if (!m[8].matched)
		return out;
	out.has_zone = true;
	std::int64_t offset_minutes = 0;
	if (m[8] != "Z") {
		const int oh = std::stoi(m[10]);
		const int om = m[11].matched ? std::stoi(m[11]) : 0;
		if (oh > 23 || om > 59)
			return std::nullopt;
		offset_minutes = (oh * 60 + om) * (m[9] == "-" ? -1 : 1);
	}
	std::int64_t fraction_us = 0;
	if (m[7].matched) {
		std::string digits = m[7];
		digits.resize(6, '0');
		fraction_us = std::stoll(digits);
	}
	const std::int64_t seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
	                             offset_minutes * 60;
	out.epoch_us = seconds * 1000000 + fraction_us;
	return out;
}

// ---- our shape --------------------------------------------------------------------------------------------

std::string
Describe(const std::vector<FieldError>& errors)
{
	std::string out;
	for (const auto& e : errors)
		out += (out.empty() ? "" : "; ") + e.message;
	return out;
}

using Columns = json; // {"<landing column>": "<text>", ...}
using Converted = std::variant<Columns, std::vector<FieldError>>;

Converted
FromOurShape(const json& item)
{
	Validator v(&item);
	Columns out = json::object();
	auto text = [&](std::string_view field, std::string_view column, std::size_t max, bool required = false) {
		if (auto value = v.String(field, TextRule(required, 1, max)))
			out[std::string(column)] = *value;
	};
	if (auto uuid = v.String("uuid", TextRule(true, 1, kMaxUuidBytes)))
		out["uuid"] = *uuid;
	if (auto account = v.String("accountId", http::StringRule{false, 36, 36, IsUuid, "must be a UUID"}))
		out["account_id"] = *account;
	text("accountCode", "accountcode", 64);
	text("callingNumber", "caller_id_number", 64);
	text("callerIdName", "caller_id_name", 255);
	text("calledNumber", "destination_number", 64, true);
	if (auto direction = v.OneOf("direction", {"inbound", "outbound"}, false))
		out["direction"] = *direction;
	const struct {
		const char* field;
		const char* uepoch;
		const char* stamp;
		bool required;
	} times[] = {{"startTime", "start_uepoch", "start_stamp", true},
	             {"answerTime", "answer_uepoch", "answer_stamp", false},
	             {"endTime", "end_uepoch", "end_stamp", false}};
	for (const auto& t : times) {
		auto value = v.String(t.field, TextRule(t.required, 1, 40));
		if (!value)
			continue;
		auto parsed = ParseIsoTime(*value);
		if (!parsed) {
			v.Add(t.field, field_code::kInvalidFormat,
			      std::string(t.field) + " must be an ISO 8601 timestamp from 1970 on (2025-03-14T09:26:53+05:30)");
			continue;
		}
		out[t.stamp] = *value;
		if (parsed->has_zone)
			out[t.uepoch] = std::to_string(parsed->epoch_us);
	}
	for (const char* field : {"duration", "billsec", "billmsec"})
		if (auto value = v.Integer(field, http::IntegerRule{false, 0, INT64_C(1000000000000)}))
			out[field] = std::to_string(*value);
	text("hangupCause", "hangup_cause", 64);
	text("context", "context", 255);
	text("callUuid", "call_uuid", kMaxUuidBytes);
	text("blegUuid", "bleg_uuid", kMaxUuidBytes);
	text("localIp", "local_ip_v4", 64);
	v.NoOtherFields({"uuid", "accountId", "accountCode", "callingNumber", "callerIdName", "calledNumber", "direction",
	                 "startTime", "answerTime", "endTime", "duration", "billsec", "billmsec", "hangupCause", "context",
	                 "callUuid", "blegUuid", "localIp"});
	if (!v.ok())
		return v.errors();
	return out;
}

// ---- FreeSWITCH mod_json_cdr ---------------------------------------------------------------------------

std::optional<std::string>
ScalarText(const json& value)
{
	if (value.is_string())
		return value.get<std::string>();
	if (value.is_number_integer() || value.is_number_unsigned())
		return value.dump();
	return std::nullopt;
}

// True when the values are URL-encoded (mod_json_cdr's encode-values, on by default): the stamps, which always
// hold a space and colons, then show %20 / %3A instead.
bool
ValuesEncoded(const json& variables)
{
	for (const char* name : {"start_stamp", "end_stamp", "answer_stamp"}) {
		const auto it = variables.find(name);
		if (it != variables.end() && it->is_string()) {
			const auto& s = it->get_ref<const std::string&>();
			if (s.find("%20") != std::string::npos || s.find("%3A") != std::string::npos ||
			    s.find("%3a") != std::string::npos)
				return true;
			if (s.find(' ') != std::string::npos || s.find(':') != std::string::npos)
				return false;
		}
	}
	return false;
}

Converted
FromFreeSwitch(const json& item, const std::optional<std::string>& query_uuid)
{
	const json& variables = item["variables"];
	const bool encoded = ValuesEncoded(variables);
	Columns out = json::object();
	auto put = [&](std::string_view column, const std::string& raw) {
		std::string value = raw;
		if (encoded) {
			auto decoded = PercentDecode(raw, PercentDecodeMode::kPathSegment);
			if (auto* text = std::get_if<std::string>(&decoded))
				value = std::move(*text);
		}
		if (!value.empty())
			out[std::string(column)] = std::move(value);
	};
	for (std::string_view column : kLandingColumns) {
		const auto it = variables.find(std::string(column));
		if (it == variables.end())
			continue;
		if (auto value = ScalarText(*it))
			put(column, *value);
	}
	// Caller-profile fields (FreeSWITCH's channel variables read them from the profile; mod_json_cdr lists
	// them under callflow[].caller_profile, newest profile first).
	const json* profile = nullptr;
	if (const auto flow = item.find("callflow"); flow != item.end()) {
		const json* first = flow->is_array() ? (flow->empty() ? nullptr : &(*flow)[0]) : (flow->is_object() ? &*flow : nullptr);
		if (first != nullptr && first->is_object()) {
			const auto p = first->find("caller_profile");
			if (p != first->end() && p->is_object())
				profile = &*p;
		}
	}
	if (profile != nullptr) {
		for (const char* column : {"caller_id_name", "caller_id_number", "destination_number", "context", "ani", "uuid"}) {
			if (out.contains(column))
				continue;
			const auto it = profile->find(column);
			if (it != profile->end())
				if (auto value = ScalarText(*it))
					if (!value->empty())
						out[column] = *value;
		}
	}
	if (!out.contains("direction")) {
		const auto channel = item.find("channel_data");
		if (channel != item.end() && channel->is_object()) {
			const auto d = channel->find("direction");
			if (d != channel->end() && d->is_string() && !d->get_ref<const std::string&>().empty())
				out["direction"] = d->get<std::string>();
		}
	}
	if (!out.contains("uuid") && query_uuid && !query_uuid->empty())
		out["uuid"] = *query_uuid;
	if (!out.contains("uuid"))
		return std::vector<FieldError>{{"variables.uuid", field_code::kRequired, "variables.uuid is required"}};
	if (out["uuid"].get_ref<const std::string&>().size() > kMaxUuidBytes)
		return std::vector<FieldError>{{"variables.uuid", field_code::kTooLong,
		                                "variables.uuid must be at most 255 characters long"}};
	return out;
}

Converted
ToColumns(const json& item, const std::optional<std::string>& query_uuid)
{
	if (!item.is_object())
		return std::vector<FieldError>{{"", field_code::kInvalidType, "a CDR must be a JSON object"}};
	const auto variables = item.find("variables");
	if (variables != item.end()) {
		if (!variables->is_object())
			return std::vector<FieldError>{{"variables", field_code::kInvalidType, "variables must be an object"}};
		return FromFreeSwitch(item, query_uuid);
	}
	return FromOurShape(item);
}

// The uuid an item claims, for error reports (may be absent or not a string).
json
ItemUuid(const json& item)
{
	if (!item.is_object())
		return nullptr;
	if (auto it = item.find("uuid"); it != item.end() && it->is_string())
		return *it;
	if (auto v = item.find("variables"); v != item.end() && v->is_object())
		if (auto it = v->find("uuid"); it != v->end() && it->is_string())
			return *it;
	return nullptr;
}

// The SQL of api_ingest_cdrs' input: account_id (ours) is resolved to the account's number there.
const char* const kIngestSql =
	"SELECT i.ord, i.uuid, i.cdr_id, i.created FROM balatrix.api_ingest_cdrs("
	"  (SELECT coalesce(jsonb_agg(CASE WHEN e.v ? 'account_id' AND NOT e.v ? 'accountcode' "
	"       THEN (e.v - 'account_id') || coalesce((SELECT jsonb_build_object('accountcode', a.account_number) "
	"                                                 FROM balatrix.accounts a WHERE a.id = (e.v->>'account_id')::uuid), '{}') "
	"       ELSE e.v - 'account_id' END ORDER BY e.n), '[]') "
	"     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY e(v, n))) i ORDER BY i.ord";

// ---- filters ----------------------------------------------------------------------------------------------

// " AND ..." conditions on `c` (balatrix.cdr) from the shared filters.
std::string
CdrConditions(Validator& v, const http::QueryParams& query, SqlParams& params)
{
	std::string where;
	if (auto id = QueryUuid(v, query, "accountId"))
		where += " AND c.account_id = " + params.Add(*id) + "::uuid";
	if (auto id = QueryUuid(v, query, "customerId"))
		where += " AND c.customer_id = " + params.Add(*id) + "::uuid";
	if (auto from = QueryTimeBound(v, query, "from", false, params))
		where += " AND c.started_at >= " + *from;
	if (auto to = QueryTimeBound(v, query, "to", true, params))
		where += " AND c.started_at < " + *to;
	if (auto direction = QueryOneOf(v, query, "direction", {"inbound", "outbound"}))
		where += " AND c.direction = " + params.Add(*direction);
	if (auto status = QueryOneOf(v, query, "status", kRatingStatuses))
		where += " AND c.rating_status = " + params.Add(*status);
	return where;
}

const std::vector<std::pair<std::string, std::string>> kCdrSort{
	{"startedAt", "c.started_at"}, {"receivedAt", "c.received_at"}, {"charge", "c.charge"},
	{"billedSeconds", "c.billed_seconds"}, {"id", "c.id"}};

json
FilterQueryDoc(bool with_page)
{
	json q = json::array();
	if (with_page) {
		q.push_back({{"name", "page"}, {"schema", {{"type", "integer"}, {"minimum", 1}}}, {"required", false}});
		q.push_back({{"name", "limit"}, {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"default", 50}}}, {"required", false}});
	}
	q.push_back({{"name", "accountId"}, {"schema", {{"type", "string"}, {"format", "uuid"}}}, {"required", false}});
	q.push_back({{"name", "customerId"}, {"schema", {{"type", "string"}, {"format", "uuid"}}}, {"required", false}});
	q.push_back({{"name", "from"}, {"schema", {{"type", "string"}, {"description", "ISO 8601 date or timestamp (IST when no offset)"}}}, {"required", false}});
	q.push_back({{"name", "to"}, {"schema", {{"type", "string"}, {"description", "ISO 8601 date (inclusive) or timestamp (exclusive)"}}}, {"required", false}});
	q.push_back({{"name", "direction"}, {"schema", {{"type", "string"}, {"enum", {"inbound", "outbound"}}}}, {"required", false}});
	q.push_back({{"name", "status"}, {"schema", {{"type", "string"}, {"enum", kRatingStatuses}}}, {"required", false}});
	return q;
}

json
CdrItemSchema()
{
	return json{{"type", "object"},
	            {"description", "Our shape (uuid, accountId|accountCode, callingNumber, calledNumber, direction, startTime, "
	                            "answerTime, endTime, duration, billsec, billmsec, hangupCause, context, callUuid, blegUuid, "
	                            "callerIdName, localIp) or FreeSWITCH mod_json_cdr's document ({variables, callflow, ...})"},
	            {"properties", {{"uuid", {{"type", "string"}, {"maxLength", 255}}},
	                            {"accountId", {{"type", "string"}, {"format", "uuid"}}},
	                            {"calledNumber", {{"type", "string"}}},
	                            {"startTime", {{"type", "string"}, {"format", "date-time"}}},
	                            {"variables", {{"type", "object"}}}}}};
}

// ---- CSV ----------------------------------------------------------------------------------------------------

// One RFC 4180 cell, safe to open in a spreadsheet: a cell that starts with = + - @ (or a tab or CR) would be
// taken for a formula, so it gets a leading apostrophe; a cell with a comma, quote or line break is quoted.
std::string
CsvCell(std::string_view value)
{
	std::string cell;
	if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
	                       value[0] == '\t' || value[0] == '\r'))
		cell.push_back('\'');
	cell.append(value);
	if (cell.find_first_of(",\"\r\n") == std::string::npos)
		return cell;
	std::string quoted = "\"";
	for (char c : cell) {
		if (c == '"')
			quoted.push_back('"');
		quoted.push_back(c);
	}
	quoted.push_back('"');
	return quoted;
}

constexpr const char* kCsvHeader =
	"id,uuid,accountId,customerId,direction,callerIdNumber,destinationNumber,startedAt,answeredAt,endedAt,duration,"
	"billableMs,billedSeconds,includedSeconds,ratePerMinute,charge,currency,ratingStatus,ratingReason,hangupCause\r\n";

// The export's columns as text, in kCsvHeader's order (times in UTC, ISO 8601).
constexpr const char* kCsvSelect =
	"SELECT c.id::text, c.uuid, c.account_id::text, c.customer_id::text, c.direction, c.caller_id_number, "
	"c.destination_number, "
	"to_char(c.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
	"to_char(c.answered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
	"to_char(c.ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
	"c.duration, c.billable_ms::text, c.billed_seconds::text, c.included_seconds::text, c.rate_per_minute::text, "
	"c.charge::text, c.currency::text, c.rating_status, c.rating_reason, c.hangup_cause, c.id ";

// ---- handlers ---------------------------------------------------------------------------------------------

// The cdr rate limit (besides the general one), keyed by user.
std::optional<Reply>
CdrRateLimit(const Services& s, const RequestContext& context)
{
	auto authenticated = Authenticate(s, context);
	if (auto* reply = std::get_if<Reply>(&authenticated))
		return std::move(*reply);
	return CheckRateLimit(s, context, s.options.cdr, std::get<Principal>(authenticated).user_id);
}

bool
IsCdrId(std::string_view text)
{
	return !text.empty() && text.size() <= 18 && text[0] != '0' &&
	       std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Reply
ListCdrs(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(nullptr);
		const Page page = ReadPage(v, context.query, 50, 100);
		SqlParams params;
		const std::string where = CdrConditions(v, context.query, params);
		const std::string order = QueryOrderBy(v, context.query, kCdrSort, "startedAt", "desc", "c.id DESC");
		if (!v.ok())
			return v.Failure(context);
		const std::int64_t total =
			ExecWith(tx, "SELECT count(*) FROM balatrix.cdr c WHERE true" + where, params)[0][0].as<std::int64_t>();
		const std::string limit = params.Add(std::to_string(page.limit));
		const std::string offset = params.Add(std::to_string(page.offset()));
		const pqxx::result rows = ExecWith(
			tx,
			"SELECT coalesce(jsonb_agg(x.j ORDER BY x.n), '[]')::text FROM ("
			"  SELECT to_jsonb(c) AS j, row_number() OVER (ORDER BY " + order + ") AS n"
			"    FROM balatrix.cdr c WHERE true" + where +
			"   ORDER BY " + order + " LIMIT " + limit + "::bigint OFFSET " + offset + "::bigint) x",
			params);
		return http::Success(context, "CDRs retrieved", Paginated("cdrs", WireJson(rows[0][0].c_str()), total, page));
	});
}

Reply
GetCdr(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const std::string id(context.path_params.Get("id").value_or(""));
		if (!IsCdrId(id))
			return NotFound(context, "CDR");
		json data = QueryJson(tx, "SELECT to_jsonb(c)::text FROM balatrix.cdr c WHERE c.id = $1::bigint", id);
		if (data.is_null())
			return NotFound(context, "CDR");
		return http::Success(context, "CDR retrieved", data);
	});
}

Reply
ExportCdrs(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(nullptr);
		SqlParams params;
		const std::string where = CdrConditions(v, context.query, params);
		if (!v.ok())
			return v.Failure(context);
		// Keyset chunks in id order: each chunk is a bounded query, and the export as a whole is capped.
		std::string body = kCsvHeader;
		std::int64_t rows_written = 0;
		bool truncated = false;
		std::string after = "0";
		for (;;) {
			SqlParams chunk = params;
			const std::string after_p = chunk.Add(after);
			const std::int64_t want = std::min(kExportChunkRows, kExportMaxRows - rows_written + 1);
			const std::string limit_p = chunk.Add(std::to_string(want));
			const pqxx::result rows =
				ExecWith(tx,
				         std::string(kCsvSelect) + "FROM balatrix.cdr c WHERE c.id > " + after_p + "::bigint" + where +
				             " ORDER BY c.id LIMIT " + limit_p + "::bigint",
				         chunk);
			for (const auto& row : rows) {
				if (rows_written == kExportMaxRows) {
					truncated = true;
					break;
				}
				for (int i = 0; i < 20; ++i) {
					if (i > 0)
						body.push_back(',');
					if (!row[i].is_null())
						body += CsvCell(row[i].c_str());
				}
				body += "\r\n";
				++rows_written;
				after = row[20].c_str();
			}
			if (truncated || static_cast<std::int64_t>(rows.size()) < want)
				break;
		}
		Reply reply{200, std::move(body), {}};
		reply.headers.emplace_back("Content-Type", "text/csv; charset=utf-8");
		reply.headers.emplace_back("Content-Disposition", "attachment; filename=cdrs.csv");
		reply.headers.emplace_back("X-Export-Rows", std::to_string(rows_written));
		if (truncated)
			reply.headers.emplace_back("X-Export-Truncated", "true");
		return reply;
	});
}

Reply
CdrStatistics(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(nullptr);
		SqlParams params;
		const std::string where = CdrConditions(v, context.query, params);
		if (!v.ok())
			return v.Failure(context);
		const std::string sql =
			"WITH f AS (SELECT c.* FROM balatrix.cdr c WHERE true" + where + "), "
			"g AS (SELECT f.rating_status AS status, coalesce(f.direction, 'unknown') AS direction, count(*) AS calls, "
			"             count(*) FILTER (WHERE f.billable_ms > 0) AS answered, "
			"             coalesce(sum(f.billed_seconds), 0) AS billed_seconds, "
			"             coalesce(sum(f.charge), 0)::numeric(20,4) AS charge "
			"        FROM f GROUP BY 1, 2) "
			"SELECT jsonb_build_object("
			"  'totals', (SELECT jsonb_build_object('calls', coalesce(sum(g.calls), 0), 'answered', coalesce(sum(g.answered), 0), "
			"                 'billed_seconds', coalesce(sum(g.billed_seconds), 0), "
			"                 'billed_minutes', round(coalesce(sum(g.billed_seconds), 0) / 60.0, 2), "
			"                 'charge', coalesce(sum(g.charge), 0)::numeric(20,4)) FROM g), "
			"  'by_status', (SELECT coalesce(jsonb_agg(jsonb_build_object('status', x.status, 'calls', x.calls, "
			"                 'answered', x.answered, 'billed_seconds', x.billed_seconds, "
			"                 'billed_minutes', round(x.billed_seconds / 60.0, 2), 'charge', x.charge) ORDER BY x.status), '[]') "
			"                  FROM (SELECT g.status, sum(g.calls) AS calls, sum(g.answered) AS answered, "
			"                               sum(g.billed_seconds) AS billed_seconds, sum(g.charge) AS charge "
			"                          FROM g GROUP BY g.status) x), "
			"  'by_direction', (SELECT coalesce(jsonb_agg(jsonb_build_object('direction', x.direction, 'calls', x.calls, "
			"                 'answered', x.answered, 'billed_seconds', x.billed_seconds, "
			"                 'billed_minutes', round(x.billed_seconds / 60.0, 2), 'charge', x.charge) ORDER BY x.direction), '[]') "
			"                  FROM (SELECT g.direction, sum(g.calls) AS calls, sum(g.answered) AS answered, "
			"                               sum(g.billed_seconds) AS billed_seconds, sum(g.charge) AS charge "
			"                          FROM g GROUP BY g.direction) x))::text";
		return http::Success(context, "CDR statistics retrieved", WireJson(ExecWith(tx, sql, params)[0][0].c_str()));
	});
}

Reply
CdrAnalytics(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(nullptr);
		const std::string group = QueryOneOf(v, context.query, "groupBy", {"hour", "day", "month"}).value_or("day");
		SqlParams params;
		std::string where = CdrConditions(v, context.query, params);
		if (!v.ok())
			return v.Failure(context);
		// Without a lower bound: the last 30 days (hourly buckets over all time would be unbounded).
		if (!context.query.Has("from"))
			where += " AND c.started_at >= now() - interval '30 days'";
		const std::string format = group == "hour" ? "YYYY-MM-DD\"T\"HH24:00" : group == "day" ? "YYYY-MM-DD" : "YYYY-MM";
		const std::string unit = params.Add(group);
		const std::string fmt = params.Add(format);
		const std::string sql =
			"SELECT coalesce(jsonb_agg(jsonb_build_object('period', to_char(x.bucket, " + fmt + "), 'direction', x.direction, "
			"       'calls', x.calls, 'answered', x.answered, 'billed_seconds', x.billed_seconds, "
			"       'billed_minutes', round(x.billed_seconds / 60.0, 2), 'charge', x.charge) ORDER BY x.bucket, x.direction), '[]')::text "
			"  FROM (SELECT date_trunc(" + unit + ", c.started_at AT TIME ZONE 'Asia/Kolkata') AS bucket, "
			"               coalesce(c.direction, 'unknown') AS direction, count(*) AS calls, "
			"               count(*) FILTER (WHERE c.billable_ms > 0) AS answered, "
			"               coalesce(sum(c.billed_seconds), 0) AS billed_seconds, "
			"               coalesce(sum(c.charge), 0)::numeric(20,4) AS charge "
			"          FROM balatrix.cdr c WHERE c.started_at IS NOT NULL" + where +
			"         GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 10000) x";
		return http::Success(context, "CDR analytics retrieved", WireJson(ExecWith(tx, sql, params)[0][0].c_str()));
	});
}

Reply
TopDestinations(const Services& s, const RequestContext& context)
{
	return Authed(s, context, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(nullptr);
		const std::int64_t limit = v.QueryInteger(context.query, "limit", http::IntegerRule{false, 1, 100}).value_or(10);
		SqlParams params;
		const std::string where = CdrConditions(v, context.query, params);
		if (!v.ok())
			return v.Failure(context);
		const std::string limit_p = params.Add(std::to_string(limit));
		const std::string sql =
			"SELECT coalesce(jsonb_agg(jsonb_build_object('destination', x.destination, 'calls', x.calls, "
			"       'answered', x.answered, 'billed_seconds', x.billed_seconds, "
			"       'billed_minutes', round(x.billed_seconds / 60.0, 2), 'charge', x.charge) ORDER BY x.calls DESC, x.destination), '[]')::text "
			"  FROM (SELECT coalesce(c.destination_e164, c.destination_number) AS destination, count(*) AS calls, "
			"               count(*) FILTER (WHERE c.billable_ms > 0) AS answered, "
			"               coalesce(sum(c.billed_seconds), 0) AS billed_seconds, "
			"               coalesce(sum(c.charge), 0)::numeric(20,4) AS charge "
			"          FROM balatrix.cdr c WHERE coalesce(c.destination_e164, c.destination_number) IS NOT NULL" + where +
			"         GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT " + limit_p + "::integer) x";
		return http::Success(context, "Top destinations retrieved", WireJson(ExecWith(tx, sql, params)[0][0].c_str()));
	});
}

Reply
PostCdr(const Services& s, const RequestContext& context)
{
	if (auto limited = CdrRateLimit(s, context))
		return std::move(*limited);
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
		if (!context.body)
			return http::ValidationFailure(context, {{"", field_code::kRequired, "a JSON body (the CDR) is required"}});
		std::optional<std::string> query_uuid;
		if (auto q = context.query.First("uuid"))
			query_uuid = std::string(*q);
		Converted converted = ToColumns(*context.body, query_uuid);
		if (auto* errors = std::get_if<std::vector<FieldError>>(&converted))
			return http::ValidationFailure(context, *errors);
		const json items = json::array({std::get<Columns>(converted)});
		const pqxx::result rows = tx.exec_params(kIngestSql, items.dump());
		const bool created = rows[0][3].as<bool>();
		json data = QueryJson(tx, "SELECT to_jsonb(c)::text FROM balatrix.cdr c WHERE c.id = $1::bigint", rows[0][2].c_str());
		return http::Success(context, created ? "CDR recorded" : "CDR already recorded", data, created ? 201 : 200);
	});
}

Reply
PostCdrBatch(const Services& s, const RequestContext& context)
{
	if (auto limited = CdrRateLimit(s, context))
		return std::move(*limited);
	return Authed(s, context, kStaff, [&](pqxx::transaction_base& tx, const Principal&) {
		Validator v(context.body.get());
		const json* cdrs = nullptr;
		if (context.body && context.body->is_object()) {
			const auto it = context.body->find("cdrs");
			if (it == context.body->end() || it->is_null())
				v.Add("cdrs", field_code::kRequired, "cdrs is required");
			else if (!it->is_array())
				v.Add("cdrs", field_code::kInvalidType, "cdrs must be an array");
			else if (it->empty() || it->size() > kMaxBatch)
				v.Add("cdrs", field_code::kOutOfRange, "cdrs must hold 1 to 1000 CDRs");
			else
				cdrs = &*it;
		} else if (!context.body) {
			v.Add("", field_code::kRequired, "a JSON body {\"cdrs\":[...]} is required");
		}
		v.NoOtherFields({"cdrs"});
		if (!v.ok())
			return v.Failure(context);
		json items = json::array();
		json failed = json::array();
		for (const json& item : *cdrs) {
			Converted converted = ToColumns(item, std::nullopt);
			if (auto* errors = std::get_if<std::vector<FieldError>>(&converted))
				failed.push_back({{"uuid", ItemUuid(item)}, {"error", Describe(*errors)}});
			else
				items.push_back(std::move(std::get<Columns>(converted)));
		}
		json success = json::array();
		std::int64_t stored = 0;
		if (!items.empty()) {
			const pqxx::result rows = tx.exec_params(kIngestSql, items.dump());
			for (const auto& row : rows) {
				const bool created = row[3].as<bool>();
				stored += created ? 1 : 0;
				success.push_back({{"uuid", row[1].c_str()},
				                   {"cdrId", row[2].is_null() ? json(nullptr) : json(row[2].as<std::int64_t>())},
				                   {"created", created}});
			}
		}
		json data{{"success", success},
		          {"failed", failed},
		          {"summary", {{"received", cdrs->size()}, {"stored", stored},
		                       {"duplicates", static_cast<std::int64_t>(success.size()) - stored},
		                       {"failed", failed.size()}}}};
		return http::Success(context, "CDR batch processed", data);
	});
}

} // namespace

void
RegisterCdrRoutes(Registry& registry)
{
	const Services& s = registry.services();
	const json paged = FilterQueryDoc(true);
	json sorted = paged;
	sorted.push_back({{"name", "sortBy"}, {"schema", {{"type", "string"}, {"enum", {"startedAt", "receivedAt", "charge", "billedSeconds", "id"}}}}, {"required", false}});
	sorted.push_back({{"name", "sortOrder"}, {"schema", {{"type", "string"}, {"enum", {"asc", "desc"}}}}, {"required", false}});
	const json filters = FilterQueryDoc(false);

	registry.Add("GET", "/api/cdrs",
	             RouteDoc{"List CDRs (own for customers; all for staff), filtered and sorted", "CDRs", true, kAnyRole,
	                      nullptr, sorted},
	             [&s](const RequestContext& c) { return ListCdrs(s, c); });
	registry.Add("GET", "/api/cdrs/export",
	             RouteDoc{"Export CDRs as CSV (same filters; at most 100,000 rows, X-Export-Truncated when cut)", "CDRs",
	                      true, kAnyRole, nullptr, filters, 200, "text/csv"},
	             [&s](const RequestContext& c) { return ExportCdrs(s, c); });
	registry.Add("GET", "/api/cdrs/statistics",
	             RouteDoc{"Counts, minutes and charges of CDRs by rating status and direction", "CDRs", true, kAnyRole,
	                      nullptr, filters},
	             [&s](const RequestContext& c) { return CdrStatistics(s, c); });
	json analytics = filters;
	analytics.push_back({{"name", "groupBy"}, {"schema", {{"type", "string"}, {"enum", {"hour", "day", "month"}}, {"default", "day"}}}, {"required", false}});
	registry.Add("GET", "/api/cdrs/analytics",
	             RouteDoc{"CDR counts, minutes and charges per hour, day or month (IST) and direction; default the last 30 "
	                      "days", "CDRs", true, kAnyRole, nullptr, analytics},
	             [&s](const RequestContext& c) { return CdrAnalytics(s, c); });
	json top = filters;
	top.push_back({{"name", "limit"}, {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"default", 10}}}, {"required", false}});
	registry.Add("GET", "/api/cdrs/top-destinations",
	             RouteDoc{"The most called destinations", "CDRs", true, kAnyRole, nullptr, top},
	             [&s](const RequestContext& c) { return TopDestinations(s, c); });
	registry.Add("GET", "/api/cdrs/:id", RouteDoc{"One CDR", "CDRs", true, kAnyRole, nullptr, nullptr},
	             [&s](const RequestContext& c) { return GetCdr(s, c); });
	registry.Add("POST", "/api/cdrs",
	             RouteDoc{"Submit one CDR (our shape or mod_json_cdr's); rated like FreeSWITCH's; idempotent by uuid "
	                      "(201 stored, 200 already stored)", "CDRs", true, kStaff, CdrItemSchema(),
	                      json::array({{{"name", "uuid"}, {"schema", {{"type", "string"}}}, {"required", false}}}), 201},
	             [&s](const RequestContext& c) { return PostCdr(s, c); });
	registry.Add("POST", "/api/cdrs/batch",
	             RouteDoc{"Submit up to 1000 CDRs; per-item results", "CDRs", true, kStaff,
	                      json{{"type", "object"},
	                           {"required", {"cdrs"}},
	                           {"properties", {{"cdrs", {{"type", "array"}, {"minItems", 1}, {"maxItems", 1000}, {"items", CdrItemSchema()}}}}}},
	                      nullptr},
	             [&s](const RequestContext& c) { return PostCdrBatch(s, c); });
}

} // namespace balatrix::sidecar::api
