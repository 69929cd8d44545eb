#include "api/api.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>
#include <functional>
#include <regex>
#include <stack>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "crypto/jwt.hpp"
#include "db/pool.hpp"
#include "log.hpp"

namespace balatrix::sidecar::api {

using http::ErrorCode;
using http::Failure;
using http::Reply;
using http::RequestContext;
using nlohmann::json;

bool
IsStaff(Role role)
{
	return role == Role::kSuperAdmin || role == Role::kAdmin || role == Role::kSupport;
}

bool
IsAdmin(Role role)
{
	return role == Role::kSuperAdmin || role == Role::kAdmin;
}

namespace {

bool
Mutating(std::string_view method)
{
	return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

bool
Successful(const Reply& reply)
{
	return reply.status >= 200 && reply.status < 400;
}

// "-" when absent: set_config needs a value and an empty string reads as "not given" in SQL.
std::string
HeaderOr(const RequestContext& context, std::string_view name, std::size_t max_bytes)
{
	std::optional<std::string> value = http::RequestHeader(context, name);
	if (!value)
		return {};
	if (value->size() > max_bytes)
		value->resize(max_bytes);
	// Only printable ASCII reaches the database (a user agent is logged, not interpreted).
	for (char& c : *value)
		if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
			c = '?';
	return *value;
}

const char*
NullIfEmpty(const std::string& text)
{
	return text.empty() ? nullptr : text.c_str();
}

} // namespace

std::optional<std::string>
ClientIp(const RequestContext& context)
{
	const std::string& text = context.remote_address;
	unsigned char buffer[sizeof(in6_addr)];
	if (inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1)
		return text;
	return std::nullopt;
}

std::variant<Principal, Reply>
Authenticate(const Services& services, const RequestContext& context)
{
	const std::optional<std::string> header = http::RequestHeader(context, "Authorization");
	if (!header || header->empty())
		return Failure(context, ErrorCode::kUnauthorized, "No token provided");
	constexpr std::string_view kBearer = "Bearer ";
	if (header->size() <= kBearer.size() || strncasecmp(header->c_str(), "Bearer ", kBearer.size()) != 0)
		return Failure(context, ErrorCode::kUnauthorized, "Invalid token");
	const std::string token = header->substr(kBearer.size());
	auto verified = services.tokens.Verify(token);
	if (const auto* error = std::get_if<crypto::JwtError>(&verified)) {
		LogEvent(services.logger, LogLevel::kInfo, "token_refused",
		         json{{"request_id", context.request_id}, {"reason", crypto::JwtErrorName(*error)}});
		return Failure(context, ErrorCode::kUnauthorized,
		               *error == crypto::JwtError::kExpired ? "Token has expired" : "Invalid token");
	}
	const auto& claims = std::get<crypto::AccessClaims>(verified);
	return Principal{claims.subject, claims.role, claims.session_id, token};
}

namespace {

// 503 for a database that cannot be reached (pool timeout, lost connection), logged as `event` with the
// error's text (connection details scrubbed).
Reply
Unavailable(const Services& services, const RequestContext& context, const char* event, const std::exception& error)
{
	LogEvent(services.logger, LogLevel::kWarn, event,
	         json{{"request_id", context.request_id}, {"error", services.pool.Scrub(error.what())}});
	return Failure(context, ErrorCode::kServiceUnavailable, "The database is unavailable; try again");
}

} // namespace

Reply
DbFailure(const Services& services, const RequestContext& context, const pqxx::sql_error& error)
{
	// libpqxx 6.4 throws insufficient_privilege without its SQLSTATE; every other class keeps it.
	const std::string state = !error.sqlstate().empty() ? error.sqlstate()
	                          : dynamic_cast<const pqxx::insufficient_privilege*>(&error) != nullptr ? "42501"
	                                                                                                 : "";
	// The primary message only: libpqxx's what() is the whole server message, whose first line it is.
	std::string message = error.what();
	if (const auto newline = message.find('\n'); newline != std::string::npos)
		message.resize(newline);
	for (const char* prefix : {"ERROR:  ", "FATAL:  "})
		if (message.rfind(prefix, 0) == 0)
			message.erase(0, std::strlen(prefix));
	auto starts = [&](const char* p) { return state.rfind(p, 0) == 0; };

	json log{{"request_id", context.request_id}, {"sqlstate", state}, {"route", context.route_pattern}};
	if (state == "28000")
		return Failure(context, ErrorCode::kUnauthorized, "Invalid token");
	if (state == "42501")
		return Failure(context, ErrorCode::kForbidden, message.empty() ? "Insufficient permissions" : message);
	if (state == "P0002" || state == "02000")
		return Failure(context, ErrorCode::kNotFound, message);
	if (state == "23505")
		return Failure(context, ErrorCode::kConflict, message);
	if (state == "55000" || state == "55P03" || (starts("25") && state != "25P02") || state == "23P01")
		return Failure(context, ErrorCode::kConflict, message);
	if (starts("22") || state == "23502" || state == "23503" || state == "23514" || state == "P0001" ||
	    state == "42P02")
		return Failure(context, ErrorCode::kValidationFailed, message, json::array({json{{"field", ""}, {"code", "invalid"}, {"message", message}}}));
	if (state == "57014" || starts("53") || starts("08") || state == "40001" || state == "40P01") {
		LogEvent(services.logger, LogLevel::kWarn, "database_unavailable", log);
		return Failure(context, ErrorCode::kServiceUnavailable, "The database is unavailable; try again");
	}
	log["error"] = message;
	LogEvent(services.logger, LogLevel::kError, "database_error", log);
	return Failure(context, ErrorCode::kInternalError, "Internal server error");
}

namespace {

// Ends the explicit transaction of `tx` without a result the caller needs; a failure marks the connection
// unusable (the pool closes it) instead of handing a session in an unknown state to the next request.
void
RollBackQuietly(pqxx::nontransaction& tx, db::Lease& lease) noexcept
{
	try {
		tx.exec("ROLLBACK");
	} catch (...) {
		lease.Discard();
	}
}

} // namespace

Reply
InTransaction(const Services& services, const RequestContext& context, const Principal* principal, const TxBody& body)
{
	const std::string client_ip = ClientIp(context).value_or("");
	const std::string user_agent = HeaderOr(context, "User-Agent", 512);
	for (int attempt = 1;; ++attempt) {
		try {
			db::Lease lease = services.pool.Acquire(services.options.pool_timeout);
			// The transaction is driven by hand on a nontransaction so that BEGIN and the identity travel in one
			// round trip ("BEGIN; SELECT set_identity(...)", a simple-protocol multi-statement; the values are
			// quoted by libpq): three round trips per request (that one, the handler's query, COMMIT) instead
			// of four. Everything the handler runs is inside the BEGIN.
			pqxx::nontransaction tx(*lease);
			bool open = false;       // BEGIN sent: a failure must roll back
			bool committing = false; // COMMIT sent: a lost connection leaves the outcome unknown
			try {
				std::string start = "BEGIN; SELECT set_config('balatrix_request.id', " + tx.quote(context.request_id) +
				                    ", true), set_config('balatrix_request.ip', " + tx.quote(client_ip) +
				                    ", true), set_config('balatrix_request.user_agent', " + tx.quote(user_agent) + ", true)";
				if (principal != nullptr)
					start += ", (SELECT true FROM balatrix.set_identity(" + tx.quote(principal->access_token) + "))";
				open = true;
				try {
					tx.exec(start);
				} catch (const pqxx::sql_error& e) {
					if (principal != nullptr && e.sqlstate() == "28000") {
						RollBackQuietly(tx, lease);
						return Failure(context, ErrorCode::kUnauthorized, "Session expired or revoked");
					}
					throw;
				}
				Reply reply = body(tx);
				if (!Successful(reply)) {
					RollBackQuietly(tx, lease);
					return reply;
				}
				if (principal != nullptr && IsStaff(principal->role) && Mutating(context.method)) {
					const std::optional<std::string_view> id = context.path_params.Get("id");
					tx.exec_params("SELECT balatrix.write_audit($1, $2, $3, NULL, NULL)",
					               context.method + " " + context.route_pattern, NullIfEmpty(context.route_pattern),
					               id ? std::string(*id).c_str() : nullptr);
				}
				committing = true;
				// "SELECT 1" first: in a transaction an error has aborted it fails (25P02) where a bare COMMIT would
				// answer ROLLBACK quietly, so a handler that caught a database error and still returned 2xx can
				// never report a success that was not committed. One round trip either way.
				tx.exec("SELECT 1; COMMIT");
				return reply;
			} catch (const pqxx::broken_connection&) {
				lease.Discard();
				if (committing)
					throw pqxx::in_doubt_error("the connection was lost during COMMIT");
				throw;
			} catch (...) {
				if (open)
					RollBackQuietly(tx, lease);
				throw;
			}
		} catch (const pqxx::transaction_rollback& e) {
			// Serialization failure, deadlock, or a statement whose completion is unknown: retried.
			if (attempt >= 3) {
				LogEvent(services.logger, LogLevel::kWarn, "transaction_retries_exhausted",
				         json{{"request_id", context.request_id}, {"error", services.pool.Scrub(e.what())}});
				return Failure(context, ErrorCode::kServiceUnavailable, "The database is busy; try again");
			}
		} catch (const pqxx::sql_error& e) {
			return DbFailure(services, context, e);
		} catch (const pqxx::in_doubt_error& e) {
			LogEvent(services.logger, LogLevel::kError, "commit_in_doubt",
			         json{{"request_id", context.request_id}, {"error", services.pool.Scrub(e.what())}});
			return Failure(context, ErrorCode::kServiceUnavailable,
			               "The database connection was lost while committing; the outcome is unknown");
		} catch (const pqxx::broken_connection& e) {
			return Unavailable(services, context, "database_connection_lost", e);
		} catch (const db::PoolError& e) {
			return Unavailable(services, context, "database_unavailable", e);
		}
	}
}

std::optional<Reply>
CheckRateLimit(const Services& services, const RequestContext& context, const RateLimit& limit, const std::string& key)
{
	if (limit.max <= 0)
		return std::nullopt;
	std::int64_t retry_after = 0;
	try {
		// One autocommit statement: the hit counts whatever becomes of the request.
		db::Lease lease = services.pool.Acquire(services.options.pool_timeout);
		try {
			pqxx::nontransaction tx(*lease);
			retry_after = tx.exec_params("SELECT balatrix.rate_limit_hit($1, $2, $3)", limit.name + ":" + key,
			                             static_cast<long long>(limit.window.count()), static_cast<long long>(limit.max))[0][0]
			                  .as<long long>();
		} catch (const pqxx::broken_connection&) {
			lease.Discard();
			throw;
		}
	} catch (const pqxx::sql_error& e) {
		return DbFailure(services, context, e);
	} catch (const std::exception& e) {
		// Unavailable database (pool timeout, lost connection): that error, not a silent pass.
		return Unavailable(services, context, "database_unavailable", e);
	}
	if (retry_after <= 0)
		return std::nullopt;
	Reply refused = Failure(context, ErrorCode::kRateLimited, "Too many requests; try again later",
	                        json{{"retryAfter", retry_after}, {"limit", limit.max}, {"windowSeconds", limit.window.count()}});
	refused.headers.emplace_back("Retry-After", std::to_string(retry_after));
	return refused;
}

namespace {

// What Authed and AuthedRead do before any query: the token, the role, the general API rate limit.
std::variant<Principal, Reply>
Admit(const Services& services, const RequestContext& context, const Roles& roles)
{
	auto authenticated = Authenticate(services, context);
	if (std::holds_alternative<Reply>(authenticated))
		return authenticated;
	const Principal& principal = std::get<Principal>(authenticated);
	if (!roles.empty() && std::find(roles.begin(), roles.end(), principal.role) == roles.end())
		return Forbidden(context);
	if (auto limited = CheckRateLimit(services, context, services.options.api, principal.user_id))
		return std::move(*limited);
	return authenticated;
}

} // namespace

Reply
Authed(const Services& services, const RequestContext& context, const Roles& roles, const AuthedBody& body)
{
	auto admitted = Admit(services, context, roles);
	if (auto* reply = std::get_if<Reply>(&admitted))
		return std::move(*reply);
	const Principal& principal = std::get<Principal>(admitted);
	return InTransaction(services, context, &principal,
	                     [&](pqxx::transaction_base& tx) { return body(tx, principal); });
}

Reply
AuthedRead(const Services& services, const RequestContext& context, const Roles& roles, const std::string& expression,
           std::string_view message)
{
	auto admitted = Admit(services, context, roles);
	if (auto* reply = std::get_if<Reply>(&admitted))
		return std::move(*reply);
	const Principal& principal = std::get<Principal>(admitted);
	try {
		db::Lease lease = services.pool.Acquire(services.options.pool_timeout);
		try {
			// Prepared once per connection (pqxx keeps the definitions; the same one again is a no-op), so the
			// statement is neither parsed nor planned per request.
			const std::string sql = "SELECT " + expression + " FROM balatrix.set_identity($1) AS caller";
			const std::string name = "api_read_" + std::to_string(std::hash<std::string>{}(sql));
			lease->prepare(name, sql);
			pqxx::nontransaction tx(*lease);
			const pqxx::result rows = tx.exec_prepared(name, principal.access_token);
			// The database's JSON goes to the client rewritten as text (WireJsonText), never parsed into a DOM.
			const std::string data =
				rows.empty() || rows[0][0].is_null() ? std::string("null") : WireJsonText(rows[0][0].c_str());
			return http::SuccessWithRawData(context, message, data);
		} catch (const pqxx::broken_connection&) {
			lease.Discard();
			throw;
		}
	} catch (const pqxx::sql_error& e) {
		if (e.sqlstate() == "28000")
			return Failure(context, ErrorCode::kUnauthorized, "Session expired or revoked");
		return DbFailure(services, context, e);
	} catch (const pqxx::broken_connection& e) {
		return Unavailable(services, context, "database_connection_lost", e);
	} catch (const db::PoolError& e) {
		return Unavailable(services, context, "database_unavailable", e);
	}
}

// ---- wire JSON --------------------------------------------------------------------------------------------

namespace {

std::string
CamelCase(const std::string& key)
{
	std::string out;
	out.reserve(key.size());
	bool upper = false;
	for (char c : key) {
		if (c == '_' && !out.empty()) {
			upper = true;
			continue;
		}
		out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
		upper = false;
	}
	return out;
}

// Builds the value while parsing, so a number's text is still at hand (nlohmann's DOM parser would have
// turned 0.1 into a double already).
class WireSax : public nlohmann::json_sax<json> {
public:
	bool null() override { return Put(nullptr); }
	bool boolean(bool value) override { return Put(value); }
	bool number_integer(number_integer_t value) override { return Put(value); }
	bool number_unsigned(number_unsigned_t value) override { return Put(value); }
	bool number_float(number_float_t, const string_t& text) override { return Put(text); }
	bool string(string_t& value) override { return Put(value); }
	bool binary(binary_t&) override { return false; }
	bool start_object(std::size_t) override { return Open(json::object()); }
	bool key(string_t& name) override
	{
		key_ = CamelCase(name);
		return true;
	}
	bool end_object() override { return Close(); }
	bool start_array(std::size_t) override { return Open(json::array()); }
	bool end_array() override { return Close(); }
	bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override
	{
		throw json::parse_error::create(101, position, e.what(), nullptr);
	}

	json result;

private:
	json* Slot(json value)
	{
		if (stack_.empty()) {
			result = std::move(value);
			return &result;
		}
		json& top = *stack_.back();
		if (top.is_array()) {
			top.push_back(std::move(value));
			return &top.back();
		}
		json& slot = top[key_];
		slot = std::move(value);
		return &slot;
	}
	bool Put(json value)
	{
		Slot(std::move(value));
		return true;
	}
	bool Open(json value)
	{
		stack_.push_back(Slot(std::move(value)));
		return true;
	}
	bool Close()
	{
		stack_.pop_back();
		return true;
	}

	std::vector<json*> stack_;
	std::string key_;
};

} // namespace

json
WireJson(std::string_view text)
{
	WireSax sax;
	json::sax_parse(text.begin(), text.end(), &sax);
	return std::move(sax.result);
}

std::string
WireJsonText(std::string_view text)
{
	std::string out;
	out.reserve(text.size() + text.size() / 8);
	std::size_t i = 0;
	const std::size_t n = text.size();
	auto skip_space = [&](std::size_t at) {
		while (at < n && (text[at] == ' ' || text[at] == '\n' || text[at] == '\t' || text[at] == '\r'))
			++at;
		return at;
	};
	while (i < n) {
		const char c = text[i];
		if (c == '"') {
			std::size_t end = i + 1;
			while (end < n && text[end] != '"')
				end += text[end] == '\\' ? 2 : 1;
			if (end >= n)
				throw std::invalid_argument("WireJsonText: unterminated string");
			const std::string_view content = text.substr(i + 1, end - i - 1);
			const std::size_t next = skip_space(end + 1);
			out.push_back('"');
			if (next < n && text[next] == ':')
				out += CamelCase(std::string(content)); // a key
			else
				out.append(content);
			out.push_back('"');
			i = end + 1;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			std::size_t end = i;
			bool fraction = false;
			while (end < n && (text[end] == '-' || text[end] == '+' || text[end] == '.' || text[end] == 'e' ||
			                   text[end] == 'E' || (text[end] >= '0' && text[end] <= '9'))) {
				fraction = fraction || text[end] == '.' || text[end] == 'e' || text[end] == 'E';
				++end;
			}
			if (fraction)
				out.push_back('"');
			out.append(text.substr(i, end - i));
			if (fraction)
				out.push_back('"');
			i = end;
		} else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
			++i;
		} else {
			out.push_back(c);
			++i;
		}
	}
	return out;
}

// ---- small helpers ---------------------------------------------------------------------------------------

Page
ReadPage(http::Validator& validator, const http::QueryParams& query, std::int64_t default_limit, std::int64_t max_limit)
{
	Page page;
	page.limit = default_limit;
	if (auto value = validator.QueryInteger(query, "page", http::IntegerRule{false, 1, 1000000}))
		page.page = *value;
	if (auto value = validator.QueryInteger(query, "limit", http::IntegerRule{false, 1, max_limit}))
		page.limit = *value;
	return page;
}

json
Paginated(std::string_view items_key, json items, std::int64_t total, const Page& page)
{
	json out = json::object();
	out[std::string(items_key)] = items.is_null() ? json::array() : std::move(items);
	out["pagination"] = json{{"total", total},
	                         {"page", page.page},
	                         {"limit", page.limit},
	                         {"totalPages", page.limit > 0 ? (total + page.limit - 1) / page.limit : 0}};
	return out;
}

bool
IsUuid(std::string_view text)
{
	if (text.size() != 36)
		return false;
	for (std::size_t i = 0; i < text.size(); ++i) {
		const char c = text[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!std::isxdigit(static_cast<unsigned char>(c))) {
			return false;
		}
	}
	return true;
}

// A money amount from the body: a JSON string or number whose text is a plain decimal with at most 2 decimals.
std::optional<std::string>
BodyAmount(http::Validator& v, const nlohmann::json* body, const char* field, bool required)
{
	if (body == nullptr || !body->is_object())
		return std::nullopt;
	const auto it = body->find(field);
	if (it == body->end() || it->is_null()) {
		if (required)
			v.Add(field, http::field_code::kRequired, std::string(field) + " is required");
		return std::nullopt;
	}
	std::string text;
	if (it->is_string())
		text = it->get<std::string>();
	else if (it->is_number())
		text = it->dump();
	else {
		v.Add(field, http::field_code::kInvalidType, std::string(field) + " must be a decimal string or a number");
		return std::nullopt;
	}
	static const std::regex kAmount("^[0-9]{1,12}(\\.[0-9]{1,2})?$");
	if (!std::regex_match(text, kAmount)) {
		v.Add(field, http::field_code::kInvalidFormat,
		      std::string(field) + " must be a positive amount in rupees with at most 2 decimals (\"1499.50\")");
		return std::nullopt;
	}
	static const std::regex kZero("^0+(\\.0+)?$");
	if (std::regex_match(text, kZero)) {
		v.Add(field, http::field_code::kOutOfRange, std::string(field) + " must be greater than 0");
		return std::nullopt;
	}
	return text;
}

std::optional<std::string>
PathUuid(const http::RequestContext& context, std::string_view name)
{
	const auto id = context.path_params.Get(name);
	if (!id || !IsUuid(*id))
		return std::nullopt;
	return std::string(*id);
}

Reply
NotFound(const RequestContext& context, std::string_view what)
{
	return Failure(context, ErrorCode::kNotFound, std::string(what) + " not found");
}

Reply
Forbidden(const RequestContext& context)
{
	return Failure(context, ErrorCode::kForbidden, "Insufficient permissions");
}

} // namespace balatrix::sidecar::api
