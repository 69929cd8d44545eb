/*
 * The JSON envelopes of PRODUCT.md §8 — the only two response shapes the API has — and the one mapping from
 * error codes to HTTP statuses.
 *
 *   success: {"success":true,"message":...,"data":...,"metadata":{"timestamp":...,"requestId":...}}
 *   error:   {"success":false,"message":...,"error":{"code":...,"details":...},
 *             "metadata":{"timestamp":...,"requestId":...}}
 *
 * Errors carry the same metadata as successes so a client can quote the request id of a failure.
 */
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "http/request_context.hpp"

namespace balatrix::sidecar::http {

// Machine-readable error classes (error.code). Add new ones here and in ToHttpStatus / ErrorCodeName.
enum class ErrorCode {
	kBadRequest,           // 400 BAD_REQUEST: syntactically wrong request
	kInvalidJson,          // 400 INVALID_JSON: body is not JSON
	kUnauthorized,         // 401 UNAUTHORIZED: missing or invalid credentials
	kForbidden,            // 403 FORBIDDEN: authenticated but not allowed
	kNotFound,             // 404 NOT_FOUND: no such route or resource
	kMethodNotAllowed,     // 405 METHOD_NOT_ALLOWED: route exists for other methods
	kRequestTimeout,       // 408 REQUEST_TIMEOUT: the client did not finish sending the request in time
	kConflict,             // 409 CONFLICT: state conflict, duplicate
	kPayloadTooLarge,      // 413 PAYLOAD_TOO_LARGE: body over MAX_BODY_BYTES
	kUriTooLong,           // 414 URI_TOO_LONG: request line over http::kMaxRequestLineBytes
	kUnsupportedMediaType, // 415 UNSUPPORTED_MEDIA_TYPE: body is not application/json
	kValidationFailed,     // 422 VALIDATION_ERROR: well-formed but invalid input
	kRateLimited,          // 429 RATE_LIMIT_EXCEEDED
	kInternalError,        // 500 INTERNAL_ERROR: a bug; never for bad input
	kServiceUnavailable,   // 503 SERVICE_UNAVAILABLE: a dependency (the database) is down
};

// The single ErrorCode -> HTTP status mapping.
int ToHttpStatus(ErrorCode code);

// The wire name, e.g. "NOT_FOUND".
std::string_view ErrorCodeName(ErrorCode code);

struct ResponseMeta {
	std::string request_id;
	std::chrono::system_clock::time_point timestamp{};
};

// Keys keep the documented order (success, message, data | error, metadata) for human readers.
nlohmann::ordered_json SuccessEnvelope(std::string_view message, const nlohmann::json& data, const ResponseMeta& meta);

nlohmann::ordered_json ErrorEnvelope(ErrorCode code, std::string_view message, const nlohmann::json& details,
                                     const ResponseMeta& meta);

// A finished response: what a handler returns and the router sends. The body is serialized already, so
// this header needs no JSON library. Content-Type (application/json; charset=utf-8), X-Request-ID, the
// security headers (security_headers.hpp) and CORS are added by the router; `headers` holds anything else
// (e.g. Allow, Retry-After). A handler cannot override a header the router sets: the router's copy wins.
struct Reply {
	int status = 200;
	std::string body;
	std::vector<std::pair<std::string, std::string>> headers;
};

// A success envelope stamped with the context's request id and the current time.
Reply Success(const RequestContext& context, std::string_view message, const nlohmann::json& data, int status = 200);

// Success with `data` already serialized as JSON text (spliced in as is; the caller guarantees it is valid
// JSON). The same envelope, key order and metadata as Success.
Reply SuccessWithRawData(const RequestContext& context, std::string_view message, std::string_view data, int status = 200);

// An error envelope with status ToHttpStatus(code); `details` may be null.
Reply Failure(const RequestContext& context, ErrorCode code, std::string_view message, const nlohmann::json& details);

// Same, with null details.
Reply Failure(const RequestContext& context, ErrorCode code, std::string_view message);

} // namespace balatrix::sidecar::http
