/*
 * The REST API's shared machinery: who is calling (Authenticate), one database transaction per request run
 * as that caller (InTransaction), the mapping of database errors to the error envelope (DbFailure), the
 * database's JSON turned into wire JSON (WireJson), pagination, and route registration with its
 * OpenAPI description (ApiRoute).
 *
 * Tenant isolation lives in PostgreSQL, not here. The sidecar connects as balatrix_api; every transaction of
 * an authenticated request starts with balatrix.set_identity(<the caller's access token>), which verifies the
 * token itself (signature, expiry, an active user, a live session) and makes the caller the actor that the
 * row-level-security policies test. A handler bug that forgets an ownership test therefore still cannot
 * show or change another customer's rows; the handlers' own role checks only give clearer errors (403
 * instead of an empty list or 404).
 *
 * The same transaction records the request id, the client's address and user agent in transaction-local
 * settings (balatrix_request.id / .ip / .user_agent) for the audit rows the database writes, and, for staff
 * mutations that succeed, InTransaction writes the audit row itself (action "<METHOD> <route pattern>").
 *
 * Wire JSON: the database builds each response's data as json(b) (to_jsonb of rows, json_build_object);
 * WireJson converts keys from snake_case to camelCase and keeps every non-integer number (money, rates)
 * as a string of its exact digits: money never passes through a double.
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "clock.hpp"
#include "http/envelope.hpp"
#include "http/request_context.hpp"
#include "http/validation.hpp"
#include "role.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace balatrix::sidecar::db {
class Pool;
} // namespace balatrix::sidecar::db

namespace balatrix::sidecar::crypto {
class AccessTokenCodec;
class PasswordHasher;
class RandomSource;
class TotpAuthenticator;
} // namespace balatrix::sidecar::crypto

namespace balatrix::sidecar::payments {
class PaymentFlows;
} // namespace balatrix::sidecar::payments

namespace balatrix::sidecar::api {

// One fixed-window limit (the seed's express-rate-limit table, kept in PostgreSQL: balatrix.rate_limit_hit).
struct RateLimit {
	std::string name;            // key prefix, e.g. "login"
	std::int64_t max = 0;        // requests per window; 0 disables the limit
	std::chrono::seconds window{900};
};

struct ApiOptions {
	std::chrono::milliseconds pool_timeout{2000};
	std::chrono::seconds refresh_lifetime{7 * 24 * 3600};
	std::chrono::seconds access_lifetime{900};
	std::chrono::seconds user_token_lifetime{3600}; // password reset and e-mail verification
	// Every /api request, keyed by user (authenticated) or address.
	RateLimit api{"api", 1000, std::chrono::seconds(900)};
	RateLimit login{"login", 5, std::chrono::seconds(900)};
	RateLimit refresh{"refresh", 30, std::chrono::seconds(900)};
	RateLimit registration{"register", 3, std::chrono::seconds(3600)};
	RateLimit password_reset{"reset", 3, std::chrono::seconds(3600)};
	RateLimit cdr{"cdr", 1000, std::chrono::seconds(60)};
	// Gateway webhook secrets (RAZORPAY_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET); unset: the route answers 503.
	std::optional<std::string> razorpay_webhook_secret;
	std::optional<std::string> stripe_webhook_secret;
};

// What handlers need besides the request. Every reference must outlive the handlers.
struct Services {
	db::Pool& pool;
	const crypto::AccessTokenCodec& tokens;
	const crypto::PasswordHasher& passwords;
	crypto::RandomSource& random;
	const crypto::TotpAuthenticator& totp;
	const Clock& clock;
	spdlog::logger& logger;
	ApiOptions options;
	// The gateway side of payments (checkout, verify, refunds); null: the payment routes that need a gateway
	// answer 503.
	payments::PaymentFlows* payments = nullptr;
};

// The caller of an authenticated request, from its verified access token.
struct Principal {
	std::string user_id;
	Role role = Role::kCustomer;
	std::string session_id; // the refresh-token family
	std::string access_token;
};

// super_admin, admin, support.
bool IsStaff(Role role);
// super_admin, admin.
bool IsAdmin(Role role);

// Roles allowed to call a route; empty = any authenticated caller.
using Roles = std::vector<Role>;
inline const Roles kAnyRole{};
inline const Roles kStaff{Role::kSuperAdmin, Role::kAdmin, Role::kSupport};
inline const Roles kAdmins{Role::kSuperAdmin, Role::kAdmin};

// The Bearer token of the request verified by the sidecar (signature, algorithm, claims, expiry): the
// Principal, or a 401 reply ("No token provided", "Token has expired", "Invalid token"). The database checks
// the token again (session still live, user still active) in InTransaction.
std::variant<Principal, http::Reply> Authenticate(const Services& services, const http::RequestContext& context);

using TxBody = std::function<http::Reply(pqxx::transaction_base& tx)>;

// Runs `body` in one transaction on a pooled connection, as `principal` when given (set_identity first;
// an invalid or revoked session -> 401), and commits when the reply is a success (2xx/3xx), rolls back
// otherwise. Serialization failures and deadlocks are retried (3 tries in all). Database errors become
// error replies through DbFailure; a pool timeout or a lost connection -> 503. Never throws.
http::Reply InTransaction(const Services& services, const http::RequestContext& context,
                          const Principal* principal, const TxBody& body);

// Authenticate, check the role (403 "Insufficient permissions"), apply the general API rate limit, then
// InTransaction as that principal. The handler gets the principal too.
using AuthedBody = std::function<http::Reply(pqxx::transaction_base& tx, const Principal& principal)>;
http::Reply Authed(const Services& services, const http::RequestContext& context, const Roles& roles,
                   const AuthedBody& body);

// A read that is one SQL expression of the caller's rights: authenticates like Authed, then runs
// "SELECT <expression> FROM balatrix.set_identity(<token>)" as one autocommit statement. The FROM item runs
// first (it is the row the expression is projected from), so the expression sees the caller as actor, and
// the actor is cleared when the statement's transaction ends. One round trip instead of three, for hot,
// parameterless reads (my-dashboard). The expression's value (json or jsonb) is the reply's data.
http::Reply AuthedRead(const Services& services, const http::RequestContext& context, const Roles& roles,
                       const std::string& expression, std::string_view message);

// Counts one hit of `limit` for `key` in its own short transaction; a reply 429 RATE_LIMIT_EXCEEDED with
// Retry-After when over the limit, nullopt when allowed (or the limit is disabled).
std::optional<http::Reply> CheckRateLimit(const Services& services, const http::RequestContext& context,
                                          const RateLimit& limit, const std::string& key);

// The error reply for a database error, by SQLSTATE:
//   28000 -> 401; 42501 -> 403; P0002 / 02000 -> 404; 23505 -> 409; 55000, 55P03, 25xxx -> 409;
//   22xxx, 23502, 23503, 23514, P0001 -> 422 (the database's message; never its DETAIL, which may quote rows);
//   57014 (statement timeout), 53xxx, 08xxx -> 503; anything else -> 500 (logged with the request id).
http::Reply DbFailure(const Services& services, const http::RequestContext& context, const pqxx::sql_error& error);

// JSON text from PostgreSQL -> wire JSON: object keys snake_case -> camelCase; numbers with a fraction or an
// exponent -> strings of their exact text ("123.4500"); integers stay numbers. Throws nlohmann::json's
// parse_error for invalid text.
nlohmann::json WireJson(std::string_view text);

// The same conversion as WireJson, text to text, for JSON the database produced (so well-formed): keys
// camelCased, fractional numbers quoted, insignificant whitespace dropped; no DOM is built. Key order is
// the database's. Throws std::invalid_argument for an unterminated string.
std::string WireJsonText(std::string_view text);

// The first column of the first row of `sql` as wire JSON; JSON null when there is no row or it is NULL.
template <typename... Args>
nlohmann::json
QueryJson(pqxx::transaction_base& tx, const std::string& sql, Args&&... args)
{
	const pqxx::result rows = tx.exec_params(sql, std::forward<Args>(args)...);
	if (rows.empty() || rows[0][0].is_null())
		return nullptr;
	return WireJson(rows[0][0].c_str());
}

// ?page=1..1000000 (default 1) and ?limit=1..max_limit (default default_limit); errors go to `validator`.
struct Page {
	std::int64_t page = 1;
	std::int64_t limit = 20;
	std::int64_t offset() const { return (page - 1) * limit; }
};
Page ReadPage(http::Validator& validator, const http::QueryParams& query, std::int64_t default_limit = 20,
              std::int64_t max_limit = 100);

// {"<items_key>": items, "pagination": {"total","page","limit","totalPages"}}
nlohmann::json Paginated(std::string_view items_key, nlohmann::json items, std::int64_t total, const Page& page);

// True when `text` is a canonical UUID (8-4-4-4-12 hex digits). Ids that are not get 404, not a database error.
bool IsUuid(std::string_view text);

// The path parameter `name` when it is a canonical UUID; nullopt otherwise (the caller answers 404).
std::optional<std::string> PathUuid(const http::RequestContext& context, std::string_view name);

// A money amount from the body: a JSON string or number whose text is a plain positive decimal with at most 12
// digits before and 2 after the point; errors go to `v`. nullopt when absent (an error when `required`) or invalid.
std::optional<std::string> BodyAmount(http::Validator& v, const nlohmann::json* body, const char* field, bool required);

// 404 NOT_FOUND "<what> not found".
http::Reply NotFound(const http::RequestContext& context, std::string_view what);

// 403 FORBIDDEN "Insufficient permissions".
http::Reply Forbidden(const http::RequestContext& context);

// The address as PostgreSQL inet text, or nullopt when it does not parse as one (never trusted blindly).
std::optional<std::string> ClientIp(const http::RequestContext& context);

// One route's OpenAPI facts, registered together with the route (openapi.hpp builds the document).
struct RouteDoc {
	std::string summary;
	std::string tag;
	bool authenticated = true;
	Roles roles;                // empty: any authenticated caller (or public when !authenticated)
	nlohmann::json request;     // JSON Schema of the body, or null
	nlohmann::json query;       // [{"name","schema","required"}] or null
	int success_status = 200;
	std::string produces = "application/json";
};

} // namespace balatrix::sidecar::api
