#include "http/envelope.hpp"

#include <nlohmann/json.hpp>

#include "time_format.hpp"

namespace balatrix::sidecar::http {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

ordered_json
Metadata(const ResponseMeta& meta)
{
	return ordered_json{{"timestamp", FormatUtcTimestamp(meta.timestamp)}, {"requestId", meta.request_id}};
}

ResponseMeta
MetaOf(const RequestContext& context)
{
	return ResponseMeta{context.request_id, std::chrono::system_clock::now()};
}

// Strings in a reply may echo client input (a path, a header); invalid UTF-8 becomes U+FFFD instead of
// making serialization throw.
std::string
Serialize(const ordered_json& envelope)
{
	return envelope.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

} // namespace

int
ToHttpStatus(ErrorCode code)
{
	switch (code) {
	case ErrorCode::kBadRequest:
	case ErrorCode::kInvalidJson:
		return 400;
	case ErrorCode::kUnauthorized:
		return 401;
	case ErrorCode::kForbidden:
		return 403;
	case ErrorCode::kNotFound:
		return 404;
	case ErrorCode::kMethodNotAllowed:
		return 405;
	case ErrorCode::kRequestTimeout:
		return 408;
	case ErrorCode::kConflict:
		return 409;
	case ErrorCode::kPayloadTooLarge:
		return 413;
	case ErrorCode::kUriTooLong:
		return 414;
	case ErrorCode::kUnsupportedMediaType:
		return 415;
	case ErrorCode::kValidationFailed:
		return 422;
	case ErrorCode::kRateLimited:
		return 429;
	case ErrorCode::kInternalError:
		return 500;
	case ErrorCode::kServiceUnavailable:
		return 503;
	}
	return 500;
}

std::string_view
ErrorCodeName(ErrorCode code)
{
	switch (code) {
	case ErrorCode::kBadRequest:
		return "BAD_REQUEST";
	case ErrorCode::kInvalidJson:
		return "INVALID_JSON";
	case ErrorCode::kUnauthorized:
		return "UNAUTHORIZED";
	case ErrorCode::kForbidden:
		return "FORBIDDEN";
	case ErrorCode::kNotFound:
		return "NOT_FOUND";
	case ErrorCode::kMethodNotAllowed:
		return "METHOD_NOT_ALLOWED";
	case ErrorCode::kRequestTimeout:
		return "REQUEST_TIMEOUT";
	case ErrorCode::kConflict:
		return "CONFLICT";
	case ErrorCode::kPayloadTooLarge:
		return "PAYLOAD_TOO_LARGE";
	case ErrorCode::kUriTooLong:
		return "URI_TOO_LONG";
	case ErrorCode::kUnsupportedMediaType:
		return "UNSUPPORTED_MEDIA_TYPE";
	case ErrorCode::kValidationFailed:
		return "VALIDATION_ERROR";
	case ErrorCode::kRateLimited:
		return "RATE_LIMIT_EXCEEDED";
	case ErrorCode::kInternalError:
		return "INTERNAL_ERROR";
	case ErrorCode::kServiceUnavailable:
		return "SERVICE_UNAVAILABLE";
	}
	return "INTERNAL_ERROR";
}

nlohmann::ordered_json
SuccessEnvelope(std::string_view message, const nlohmann::json& data, const ResponseMeta& meta)
{
	ordered_json envelope;
	envelope["success"] = true;
	envelope["message"] = std::string(message);
	envelope["data"] = ordered_json(data);
	envelope["metadata"] = Metadata(meta);
	return envelope;
}

nlohmann::ordered_json
ErrorEnvelope(ErrorCode code, std::string_view message, const nlohmann::json& details, const ResponseMeta& meta)
{
	ordered_json error;
	error["code"] = std::string(ErrorCodeName(code));
	error["details"] = ordered_json(details);
	ordered_json envelope;
	envelope["success"] = false;
	envelope["message"] = std::string(message);
	envelope["error"] = std::move(error);
	envelope["metadata"] = Metadata(meta);
	return envelope;
}

Reply
Success(const RequestContext& context, std::string_view message, const nlohmann::json& data, int status)
{
	return Reply{status, Serialize(SuccessEnvelope(message, data, MetaOf(context))), {}};
}

Reply
SuccessWithRawData(const RequestContext& context, std::string_view message, std::string_view data, int status)
{
	std::string body = R"({"success":true,"message":)";
	body += Serialize(ordered_json(message));
	body += R"(,"data":)";
	body.append(data);
	body += R"(,"metadata":)";
	body += Serialize(Metadata(MetaOf(context)));
	body.push_back('}');
	return Reply{status, std::move(body), {}};
}

Reply
Failure(const RequestContext& context, ErrorCode code, std::string_view message, const nlohmann::json& details)
{
	return Reply{ToHttpStatus(code), Serialize(ErrorEnvelope(code, message, details, MetaOf(context))), {}};
}

Reply
Failure(const RequestContext& context, ErrorCode code, std::string_view message)
{
	return Failure(context, code, message, json(nullptr));
}

} // namespace balatrix::sidecar::http
