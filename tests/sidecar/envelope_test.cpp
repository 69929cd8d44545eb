#include "http/envelope.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace balatrix::sidecar::http {
namespace {

using nlohmann::json;

// 2026-11-24T10:00:00.123Z
const auto kInstant = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795514400123LL));

const ErrorCode kAllCodes[] = {
	ErrorCode::kBadRequest,
	ErrorCode::kInvalidJson,
	ErrorCode::kUnauthorized,
	ErrorCode::kForbidden,
	ErrorCode::kNotFound,
	ErrorCode::kMethodNotAllowed,
	ErrorCode::kRequestTimeout,
	ErrorCode::kConflict,
	ErrorCode::kPayloadTooLarge,
	ErrorCode::kUriTooLong,
	ErrorCode::kUnsupportedMediaType,
	ErrorCode::kValidationFailed,
	ErrorCode::kRateLimited,
	ErrorCode::kInternalError,
	ErrorCode::kServiceUnavailable,
};

TEST(Envelope, ToHttpStatusFollowsPRODUCTSection9)
{
	EXPECT_EQ(ToHttpStatus(ErrorCode::kBadRequest), 400);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kInvalidJson), 400);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kUnauthorized), 401);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kForbidden), 403);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kNotFound), 404);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kMethodNotAllowed), 405);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kRequestTimeout), 408);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kConflict), 409);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kPayloadTooLarge), 413);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kUriTooLong), 414);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kUnsupportedMediaType), 415);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kValidationFailed), 422);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kRateLimited), 429);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kInternalError), 500);
	EXPECT_EQ(ToHttpStatus(ErrorCode::kServiceUnavailable), 503);
}

TEST(Envelope, OnlyInternalErrorMapsTo500)
{
	for (const ErrorCode code : kAllCodes) {
		if (code != ErrorCode::kInternalError) {
			EXPECT_NE(ToHttpStatus(code), 500) << ErrorCodeName(code);
		}
	}
}

TEST(Envelope, ErrorCodeNamesAreDistinctUpperSnakeCase)
{
	std::set<std::string> seen;
	for (const ErrorCode code : kAllCodes) {
		const std::string name(ErrorCodeName(code));
		EXPECT_TRUE(seen.insert(name).second) << "duplicate " << name;
		EXPECT_EQ(name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_"), std::string::npos) << name;
	}
	EXPECT_EQ(ErrorCodeName(ErrorCode::kNotFound), "NOT_FOUND");
	EXPECT_EQ(ErrorCodeName(ErrorCode::kServiceUnavailable), "SERVICE_UNAVAILABLE");
	EXPECT_EQ(ErrorCodeName(ErrorCode::kValidationFailed), "VALIDATION_ERROR");
	EXPECT_EQ(ErrorCodeName(ErrorCode::kUriTooLong), "URI_TOO_LONG");
	EXPECT_EQ(ErrorCodeName(ErrorCode::kUnsupportedMediaType), "UNSUPPORTED_MEDIA_TYPE");
	EXPECT_EQ(ErrorCodeName(ErrorCode::kInvalidJson), "INVALID_JSON");
}

TEST(Envelope, SuccessShape)
{
	const auto envelope = SuccessEnvelope("created", json{{"id", 7}}, ResponseMeta{"req-1", kInstant});
	EXPECT_EQ(envelope.dump(), R"({"success":true,"message":"created","data":{"id":7},)"
	                           R"("metadata":{"timestamp":"2026-11-24T10:00:00.123Z","requestId":"req-1"}})");
}

TEST(Envelope, ErrorShape)
{
	const auto envelope = ErrorEnvelope(ErrorCode::kValidationFailed, "Validation failed",
	                                    json::array({{{"field", "email"}}}), ResponseMeta{"req-2", kInstant});
	EXPECT_EQ(envelope.dump(), R"({"success":false,"message":"Validation failed",)"
	                           R"("error":{"code":"VALIDATION_ERROR","details":[{"field":"email"}]},)"
	                           R"("metadata":{"timestamp":"2026-11-24T10:00:00.123Z","requestId":"req-2"}})");
}

TEST(Envelope, FailureReplyCarriesStatusAndRequestId)
{
	RequestContext context;
	context.request_id = "abc-123";
	const Reply reply = Failure(context, ErrorCode::kNotFound, "no such thing");
	EXPECT_EQ(reply.status, 404);
	const json body = json::parse(reply.body);
	EXPECT_EQ(body["success"], false);
	EXPECT_EQ(body["message"], "no such thing");
	EXPECT_EQ(body["error"]["code"], "NOT_FOUND");
	EXPECT_TRUE(body["error"]["details"].is_null());
	EXPECT_EQ(body["metadata"]["requestId"], "abc-123");
}

TEST(Envelope, SuccessReplySurvivesInvalidUtf8)
{
	RequestContext context;
	context.request_id = "r";
	const Reply reply = Success(context, "ok", json{{"echo", std::string("bad \xff byte")}}, 201);
	EXPECT_EQ(reply.status, 201);
	const json body = json::parse(reply.body); // would throw if the reply were not valid JSON
	EXPECT_EQ(body["data"]["echo"], "bad \xEF\xBF\xBD byte");
}

} // namespace
} // namespace balatrix::sidecar::http
