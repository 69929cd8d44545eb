/*
 * Request bodies: the content-type rule (415) and strict JSON parsing (400), decided before any handler runs.
 * Pure (no Pistache).
 *
 * The rule, for routes with BodyPolicy::kJson (the default):
 *   - a non-empty body must be declared application/json (charset, if given, must be utf-8), whatever the
 *     method, else 415 UNSUPPORTED_MEDIA_TYPE; then it must be strict JSON (strict_json.hpp), else 400
 *     INVALID_JSON;
 *   - POST, PUT and PATCH with a Content-Type other than JSON get 415 even when the body is empty;
 *   - an empty body otherwise means "no body": the handler sees a null body and its validation decides.
 * Routes with BodyPolicy::kRaw (webhooks that must verify a signature over the exact bytes, CDR posts in other
 * encodings) skip all of this and read the raw body.
 */
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json_fwd.hpp>

#include "http/envelope.hpp"

namespace balatrix::sidecar::http {

enum class BodyPolicy {
	kJson, // see above
	kRaw,  // no content-type check, no parsing
};

// True for "application/json", optionally with "; charset=utf-8" (case-insensitive, the value may be quoted,
// spaces around ';' and '=' allowed). Any other parameter, another charset, or another type is false.
bool IsJsonMediaType(std::string_view content_type);

// True for the methods whose requests normally carry a body: POST, PUT, PATCH.
bool MethodCarriesBody(std::string_view method);

struct BodyRejection {
	ErrorCode code; // kUnsupportedMediaType or kInvalidJson
	std::string message;
	std::optional<std::size_t> offset; // byte offset of a JSON syntax error, when known
};

// The parsed body (null pointer when there is none), or why the request is refused.
std::variant<std::shared_ptr<const nlohmann::json>, BodyRejection>
ReadJsonBody(std::string_view method, std::optional<std::string_view> content_type, std::string_view body);

} // namespace balatrix::sidecar::http
