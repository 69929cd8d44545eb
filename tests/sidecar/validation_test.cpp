// The validation helper: per-field errors, every problem at once, the 422 envelope.
#include "http/validation.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace balatrix::sidecar::http {
namespace {

using nlohmann::json;
using FieldCodes = std::vector<std::pair<std::string, std::string>>;

StringRule
OptionalString()
{
	StringRule rule;
	rule.required = false;
	return rule;
}

// (field, code) of every error; messages are for humans and may change, so only their presence is checked.
FieldCodes
Codes(const Validator& validator)
{
	FieldCodes codes;
	for (const auto& error : validator.errors()) {
		EXPECT_FALSE(error.message.empty()) << error.field;
		codes.emplace_back(error.field, error.code);
	}
	return codes;
}

TEST(Validator, ValidBodyYieldsValuesAndNoErrors)
{
	const json body = {{"email", "asha@example.in"}, {"limit", 25}, {"active", true}, {"cycle", "monthly"}};
	Validator validator(&body);
	EXPECT_EQ(validator.String("email", StringRule{}), "asha@example.in");
	EXPECT_EQ(validator.Integer("limit", IntegerRule{true, 1, 100}), 25);
	EXPECT_EQ(validator.Boolean("active", true), true);
	EXPECT_EQ(validator.OneOf("cycle", {"monthly", "quarterly", "annual"}, true), "monthly");
	EXPECT_EQ(validator.String("nickname", OptionalString()), std::nullopt) << "optional and absent";
	validator.NoOtherFields({"email", "limit", "active", "cycle", "nickname"});
	EXPECT_TRUE(validator.ok());
}

TEST(Validator, EveryProblemIsReportedAtOnce)
{
	const json body = {
		{"email", 42}, // wrong type
		{"name", "A"}, // too short
		{"company", std::string(101, 'x')},
		{"limit", 500},        // out of range
		{"page", 1.5},         // not an integer
		{"count", "7"},        // a string is not coerced
		{"active", "yes"},     // not a boolean
		{"cycle", "weekly"},   // not allowed
		{"gstin", "bad"},      // format
		{"nullable", nullptr}, // null counts as absent
		{"extra", 1},          // unknown
	};
	Validator validator(&body);
	StringRule name_rule;
	name_rule.min_length = 2;
	name_rule.max_length = 50;
	StringRule company_rule;
	company_rule.max_length = 100;
	StringRule gstin_rule;
	gstin_rule.format = [](std::string_view value) {
		return value.size() == 15;
	};
	gstin_rule.format_message = "must be a 15-character GSTIN";

	validator.String("email", StringRule{});
	validator.String("name", name_rule);
	validator.String("company", company_rule);
	validator.Integer("limit", IntegerRule{true, 1, 100});
	validator.Integer("page", IntegerRule{});
	validator.Integer("count", IntegerRule{});
	validator.Boolean("active", true);
	validator.OneOf("cycle", {"monthly", "annual"}, true);
	validator.String("gstin", gstin_rule);
	validator.String("nullable", StringRule{});
	validator.String("missing", StringRule{});
	validator.NoOtherFields(
		{"email", "name", "company", "limit", "page", "count", "active", "cycle", "gstin", "nullable", "missing"});

	EXPECT_FALSE(validator.ok());
	EXPECT_EQ(Codes(validator), (FieldCodes{
									{"email", "invalid_type"},
									{"name", "too_short"},
									{"company", "too_long"},
									{"limit", "out_of_range"},
									{"page", "invalid_type"},
									{"count", "invalid_type"},
									{"active", "invalid_type"},
									{"cycle", "not_allowed"},
									{"gstin", "invalid_format"},
									{"nullable", "required"},
									{"missing", "required"},
									{"extra", "unknown_field"},
								}));
	EXPECT_EQ(validator.errors()[8].message, "gstin must be a 15-character GSTIN");
}

TEST(Validator, LengthsAreCountedInCodePoints)
{
	const json body = {{"name", "\xE0\xA4\xA8\xE0\xA4\xAE"}}; // two Devanagari letters, six bytes
	StringRule rule;
	rule.min_length = 2;
	rule.max_length = 2;
	Validator validator(&body);
	EXPECT_EQ(validator.String("name", rule), "\xE0\xA4\xA8\xE0\xA4\xAE");
	EXPECT_TRUE(validator.ok());
	EXPECT_EQ(CodePointCount("\xF0\x9F\x93\x9E"), 1u);
}

TEST(Validator, IntegerBoundsIncludingHugeUnsigned)
{
	const json body = {{"a", 0}, {"b", -5}, {"c", 18446744073709551615ULL}};
	Validator validator(&body);
	EXPECT_EQ(validator.Integer("a", IntegerRule{true, 0, 10}), 0);
	EXPECT_EQ(validator.Integer("b", IntegerRule{true, -5, 5}), -5);
	EXPECT_EQ(validator.Integer("c", IntegerRule{}), std::nullopt);
	EXPECT_EQ(Codes(validator), (FieldCodes{{"c", "out_of_range"}}));
}

TEST(Validator, NoBodyMakesRequiredFieldsMissing)
{
	Validator validator(nullptr);
	validator.String("email", StringRule{});
	validator.Integer("page", IntegerRule{false});
	validator.NoOtherFields({});
	EXPECT_EQ(Codes(validator), (FieldCodes{{"email", "required"}}));
}

TEST(Validator, ANonObjectBodyIsOneError)
{
	const json body = json::array({1, 2});
	Validator validator(&body);
	validator.String("email", StringRule{});
	validator.Integer("page", IntegerRule{});
	validator.NoOtherFields({});
	EXPECT_EQ(Codes(validator), (FieldCodes{{"", "invalid_type"}}));
}

TEST(Validator, QueryParameters)
{
	const QueryParams query(std::vector<QueryParams::Entry>{{"page", "2"},
	                                                        {"limit", "1000"},
	                                                        {"status", "a"},
	                                                        {"status", "b"},
	                                                        {"from", "x1"},
	                                                        {"neg", "-3"},
	                                                        {"plus", "+3"},
	                                                        {"space", " 3"},
	                                                        {"huge", "99999999999999999999"},
	                                                        {"q", "ab"}});
	Validator validator(nullptr);
	EXPECT_EQ(validator.QueryInteger(query, "page", IntegerRule{false, 1, 1000}), 2);
	EXPECT_EQ(validator.QueryInteger(query, "limit", IntegerRule{false, 1, 100}), std::nullopt);
	EXPECT_EQ(validator.QueryString(query, "status", OptionalString()), std::nullopt);
	EXPECT_EQ(validator.QueryInteger(query, "from", IntegerRule{false}), std::nullopt);
	EXPECT_EQ(validator.QueryInteger(query, "neg", IntegerRule{false, -10, 10}), -3);
	EXPECT_EQ(validator.QueryInteger(query, "plus", IntegerRule{false}), std::nullopt);
	EXPECT_EQ(validator.QueryInteger(query, "space", IntegerRule{false}), std::nullopt);
	EXPECT_EQ(validator.QueryInteger(query, "huge", IntegerRule{false}), std::nullopt);
	EXPECT_EQ(validator.QueryInteger(query, "absent", IntegerRule{false}), std::nullopt);
	EXPECT_EQ(validator.QueryInteger(query, "needed", IntegerRule{true}), std::nullopt);
	StringRule q_rule;
	q_rule.min_length = 3;
	EXPECT_EQ(validator.QueryString(query, "q", q_rule), std::nullopt);
	EXPECT_EQ(Codes(validator), (FieldCodes{
									{"limit", "out_of_range"},
									{"status", "repeated"},
									{"from", "invalid_type"},
									{"plus", "invalid_type"},
									{"space", "invalid_type"},
									{"huge", "out_of_range"},
									{"needed", "required"},
									{"q", "too_short"},
								}));
}

TEST(ValidationFailure, Is422WithTheFieldList)
{
	RequestContext context;
	context.request_id = "req-422";
	const Reply reply = ValidationFailure(context, {FieldError{"email", "required", "email is required"},
	                                                FieldError{"limit", "out_of_range", "limit must be ..."}});
	EXPECT_EQ(reply.status, 422);
	const json body = json::parse(reply.body);
	EXPECT_EQ(body["success"], false);
	EXPECT_EQ(body["message"], "Validation failed");
	EXPECT_EQ(body["error"]["code"], "VALIDATION_ERROR");
	EXPECT_EQ(body["error"]["details"],
	          json::parse(R"([{"field":"email","code":"required","message":"email is required"},
	                          {"field":"limit","code":"out_of_range","message":"limit must be ..."}])"));
	EXPECT_EQ(body["metadata"]["requestId"], "req-422");
}

} // namespace
} // namespace balatrix::sidecar::http
