// Strict JSON: what plain nlohmann::json accepts and the trust boundary must not.
#include "strict_json.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace balatrix::sidecar {
namespace {

using nlohmann::json;

bool
Accepted(const std::string& text, StrictJsonOptions options = {})
{
	return std::holds_alternative<json>(ParseStrictJson(text, options));
}

std::string
Reason(const std::string& text, StrictJsonOptions options = {})
{
	const auto parsed = ParseStrictJson(text, options);
	if (const auto* problem = std::get_if<JsonProblem>(&parsed))
		return problem->reason;
	return "(accepted)";
}

TEST(StrictJson, AcceptsOrdinaryDocuments)
{
	for (const std::string text : {R"({})", R"([])", R"(null)", R"(1)", R"("x")", R"({"a":1,"b":[1,2,{"c":null}]})",
	                               R"({"a":{"a":{"a":1}}})", R"({"name":"caf\u00e9 \u20b9"})", " {\"a\" : true } ",
	                               R"({"big":18446744073709551615,"neg":-9223372036854775808,"f":1.5e300})"}) {
		EXPECT_TRUE(Accepted(text)) << text << ": " << Reason(text);
	}
	const auto parsed = std::get<json>(ParseStrictJson(R"({"b":2,"a":[true]})"));
	EXPECT_EQ(parsed, (json{{"a", {true}}, {"b", 2}}));
}

TEST(StrictJson, RefusesDuplicateKeysAtAnyDepth)
{
	EXPECT_EQ(Reason(R"({"alg":"HS256","alg":"none"})"), "duplicate key \"alg\"");
	EXPECT_EQ(Reason(R"({"a":{"x":1,"x":2}})"), "duplicate key \"x\"");
	EXPECT_EQ(Reason(R"([{"x":1},{"x":2,"y":0,"x":3}])"), "duplicate key \"x\"");
	// The same key in sibling objects is fine.
	EXPECT_TRUE(Accepted(R"([{"x":1},{"x":2}])"));
	EXPECT_TRUE(Accepted(R"({"a":{"x":1},"b":{"x":1}})"));
	// Escapes are compared after decoding: "\u0061" is "a".
	EXPECT_EQ(Reason(R"({"a":1,"\u0061":2})"), "duplicate key \"a\"");
}

TEST(StrictJson, RefusesNulInStringsAndKeys)
{
	EXPECT_NE(Reason(R"({"name":"admin\u0000x"})").find("NUL"), std::string::npos);
	EXPECT_NE(Reason(R"({"a\u0000":1})").find("NUL"), std::string::npos);
	EXPECT_NE(Reason(R"(["\u0000"])").find("NUL"), std::string::npos);
}

TEST(StrictJson, BoundsNesting)
{
	StrictJsonOptions options;
	options.max_depth = 3;
	EXPECT_TRUE(Accepted("[[[1]]]", options));
	EXPECT_TRUE(Accepted(R"({"a":{"b":[]}})", options));
	EXPECT_EQ(Reason("[[[[1]]]]", options), "nested deeper than 3 levels");
	EXPECT_EQ(Reason(R"({"a":{"b":{"c":{}}}})", options), "nested deeper than 3 levels");

	// The default (64) stops a bracket bomb early, without building anything.
	const std::string bomb(1000000, '[');
	EXPECT_EQ(Reason(bomb), "nested deeper than 64 levels");
	EXPECT_TRUE(Accepted(std::string(64, '[') + std::string(64, ']')));
}

TEST(StrictJson, RefusesOverflowingNumbersInvalidUtf8AndGarbage)
{
	EXPECT_NE(Reason("1e400").find("overflow"), std::string::npos) << Reason("1e400");
	EXPECT_NE(Reason(R"({"x":-1e999})").find("overflow"), std::string::npos);
	EXPECT_EQ(Reason(std::string("{}\0{\"a\":1}", 10)), "NUL byte in JSON text") << "NUL is not the end of input";
	const std::vector<std::string> garbage = {
		"",
		"{",
		"}",
		"{\"a\":}",
		"{'a':1}",
		"{\"a\":1,}",
		"[1,]",
		"nul",
		"01",
		"1 2",
		"{\"a\":1} x",
		"NaN",
		"Infinity",
		"\"\xff\"",
		"\"\xC0\xAF\"",
		"\"\xED\xA0\x80\"",
		"/* c */ {}",
		std::string("{\"a\":1}\0", 8),
	};
	for (const auto& text : garbage) {
		const auto parsed = ParseStrictJson(text);
		EXPECT_TRUE(std::holds_alternative<JsonProblem>(parsed)) << "accepted: " << text;
	}
}

TEST(StrictJson, SyntaxErrorsCarryAnOffsetAndAReadableReason)
{
	const auto parsed = ParseStrictJson(R"({"a":1,"b":tru})");
	ASSERT_TRUE(std::holds_alternative<JsonProblem>(parsed));
	const auto& problem = std::get<JsonProblem>(parsed);
	ASSERT_TRUE(problem.offset.has_value());
	EXPECT_GE(*problem.offset, 11u);
	EXPECT_LE(*problem.offset, 15u);
	EXPECT_EQ(problem.reason.find("[json.exception"), std::string::npos) << problem.reason;
	EXPECT_NE(problem.reason.find("syntax error"), std::string::npos) << problem.reason;
}

} // namespace
} // namespace balatrix::sidecar
