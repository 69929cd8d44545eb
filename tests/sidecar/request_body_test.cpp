// The content-type rule (415) and JSON body parsing (400), without a server.
#include "http/request_body.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace balatrix::sidecar::http {
namespace {

using nlohmann::json;

TEST(IsJsonMediaType, Table)
{
	const std::vector<std::pair<std::string, bool>> cases = {
		{"application/json", true},
		{"Application/JSON", true},
		{"application/json; charset=utf-8", true},
		{"application/json;charset=UTF-8", true},
		{"application/json ; charset = \"utf-8\"", true},
		{"application/json;", true},
		{"application/json; charset=latin1", false},
		{"application/json; charset=utf-16", false},
		{"application/json; boundary=x", false},
		{"application/json-patch+json", false},
		{"application/jsonx", false},
		{"application/x-www-form-urlencoded", false},
		{"text/plain", false},
		{"text/json", false},
		{"multipart/form-data; boundary=abc", false},
		{"", false},
		{"; charset=utf-8", false},
	};
	for (const auto& [value, expected] : cases)
		EXPECT_EQ(IsJsonMediaType(value), expected) << value;
}

struct BodyCase {
	std::string method;
	std::optional<std::string> content_type;
	std::string body;
	std::optional<ErrorCode> rejected; // nullopt: accepted
	bool has_body;                     // when accepted
};

TEST(ReadJsonBody, Table)
{
	const std::string json_type = "application/json";
	const std::vector<BodyCase> cases = {
		{"POST", json_type, R"({"a":1})", std::nullopt, true},
		{"PUT", "application/json; charset=utf-8", "[1,2]", std::nullopt, true},
		{"POST", std::nullopt, "", std::nullopt, false}, // no body at all
		{"POST", json_type, "", std::nullopt, false},    // declared but empty: no body
		{"GET", std::nullopt, "", std::nullopt, false},
		{"GET", "text/plain", "", std::nullopt, false}, // a stray type on a GET is harmless
		{"DELETE", json_type, R"({"reason":"x"})", std::nullopt, true},
		{"POST", "text/plain", "", ErrorCode::kUnsupportedMediaType, false}, // wrong type on a body method
		{"PATCH", "application/xml", "", ErrorCode::kUnsupportedMediaType, false},
		{"POST", std::nullopt, R"({"a":1})", ErrorCode::kUnsupportedMediaType, false},
		{"POST", "application/x-www-form-urlencoded", "a=1", ErrorCode::kUnsupportedMediaType, false},
		{"GET", std::nullopt, "x", ErrorCode::kUnsupportedMediaType, false}, // a body on any method must be JSON
		{"POST", json_type, "{", ErrorCode::kInvalidJson, false},
		{"POST", json_type, "a=1", ErrorCode::kInvalidJson, false},
		{"POST", json_type, R"({"a":1,"a":2})", ErrorCode::kInvalidJson, false},
		{"POST", json_type, "\"\xff\"", ErrorCode::kInvalidJson, false},
		{"POST", json_type, R"({"s":"\u0000"})", ErrorCode::kInvalidJson, false},
	};
	for (const auto& c : cases) {
		const std::optional<std::string_view> content_type =
			c.content_type ? std::optional<std::string_view>(*c.content_type) : std::nullopt;
		const auto result = ReadJsonBody(c.method, content_type, c.body);
		const std::string label = c.method + " [" + c.content_type.value_or("-") + "] " + c.body;
		if (c.rejected) {
			ASSERT_TRUE(std::holds_alternative<BodyRejection>(result)) << label;
			EXPECT_EQ(std::get<BodyRejection>(result).code, *c.rejected) << label;
			EXPECT_FALSE(std::get<BodyRejection>(result).message.empty());
		} else {
			ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const json>>(result))
				<< label << ": " << std::get<BodyRejection>(result).message;
			EXPECT_EQ(std::get<std::shared_ptr<const json>>(result) != nullptr, c.has_body) << label;
		}
	}
}

TEST(ReadJsonBody, KeepsTheParsedValueAndReportsSyntaxOffsets)
{
	const auto ok = ReadJsonBody("POST", "application/json", R"({"name":"Asha","n":[1,2]})");
	const auto& body = std::get<std::shared_ptr<const json>>(ok);
	ASSERT_NE(body, nullptr);
	EXPECT_EQ(*body, (json{{"name", "Asha"}, {"n", {1, 2}}}));

	const auto bad = ReadJsonBody("POST", "application/json", R"({"name": nope})");
	const auto& rejection = std::get<BodyRejection>(bad);
	EXPECT_EQ(rejection.code, ErrorCode::kInvalidJson);
	ASSERT_TRUE(rejection.offset.has_value());
	EXPECT_GE(*rejection.offset, 9u);
}

TEST(MethodCarriesBody, Table)
{
	EXPECT_TRUE(MethodCarriesBody("POST"));
	EXPECT_TRUE(MethodCarriesBody("PUT"));
	EXPECT_TRUE(MethodCarriesBody("PATCH"));
	EXPECT_FALSE(MethodCarriesBody("GET"));
	EXPECT_FALSE(MethodCarriesBody("DELETE"));
	EXPECT_FALSE(MethodCarriesBody("post"));
}

} // namespace
} // namespace balatrix::sidecar::http
