// Request targets, query strings and path parameters, table-driven.
#include "http/url.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace balatrix::sidecar::http {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(RequestTargetFromLine, Table)
{
	const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
		{"GET /health HTTP/1.1", "/health"},
		{"GET /a?b=c&d HTTP/1.1\r", "/a?b=c&d"},
		{"POST /api/x%20y HTTP/1.0", "/api/x%20y"},
		{"GET  HTTP/1.1", ""}, // empty target: present, and refused later
		{"GET /x", std::nullopt},
		{"GARBAGE", std::nullopt},
		{"", std::nullopt},
	};
	for (const auto& [line, expected] : cases) {
		const auto target = RequestTargetFromLine(line);
		ASSERT_EQ(target.has_value(), expected.has_value()) << line;
		if (target) {
			EXPECT_EQ(std::string(*target), *expected) << line;
		}
	}
}

TEST(SplitRequestTarget, AcceptsOriginForm)
{
	struct Case {
		std::string target;
		std::string path;
		std::optional<std::string> query;
	};
	const std::vector<Case> cases = {
		{"/", "/", std::nullopt},
		{"/health", "/health", std::nullopt},
		{"/a/b?", "/a/b", ""},
		{"/a?x=1&y=%20", "/a", "x=1&y=%20"},
		{"/a?b?c", "/a", "b?c"}, // only the first '?' splits
		{"/p%2Fq", "/p%2Fq", std::nullopt},
	};
	for (const auto& c : cases) {
		const auto split = SplitRequestTarget(c.target);
		ASSERT_TRUE(std::holds_alternative<RequestTarget>(split)) << c.target;
		const auto& target = std::get<RequestTarget>(split);
		EXPECT_EQ(std::string(target.path), c.path) << c.target;
		ASSERT_EQ(target.query.has_value(), c.query.has_value()) << c.target;
		if (target.query) {
			EXPECT_EQ(std::string(*target.query), *c.query) << c.target;
		}
	}
}

TEST(SplitRequestTarget, RefusesEverythingElse)
{
	const std::vector<std::pair<std::string, TargetError>> cases = {
		{"", TargetError::kEmpty},
		{"*", TargetError::kNotOriginForm},
		{"http://evil.example/x", TargetError::kNotOriginForm},
		{"health", TargetError::kNotOriginForm},
		{"/a#frag", TargetError::kInvalidCharacter},
		{"/a?b#c", TargetError::kInvalidCharacter},
		{"/a\tb", TargetError::kInvalidCharacter},
		{"/a\x7F", TargetError::kInvalidCharacter},
		{std::string("/a\0b", 4), TargetError::kInvalidCharacter},
		{"/caf\xC3\xA9", TargetError::kInvalidCharacter}, // raw non-ASCII must be percent-encoded
		{"/a b", TargetError::kInvalidCharacter},
	};
	for (const auto& [target, error] : cases) {
		const auto split = SplitRequestTarget(target);
		ASSERT_TRUE(std::holds_alternative<TargetError>(split)) << target;
		EXPECT_EQ(std::get<TargetError>(split), error) << target;
		EXPECT_FALSE(TargetErrorMessage(error).empty());
	}
}

TEST(ParseQuery, Table)
{
	const std::vector<std::pair<std::string, Pairs>> cases = {
		{"", {}},
		{"a=1", {{"a", "1"}}},
		{"a=1&b=2", {{"a", "1"}, {"b", "2"}}},
		{"status=a&status=b&status=c", {{"status", "a"}, {"status", "b"}, {"status", "c"}}}, // repeats kept, in order
		{"b=2&a=1&b=3", {{"b", "2"}, {"a", "1"}, {"b", "3"}}},
		{"flag", {{"flag", ""}}},
		{"flag=", {{"flag", ""}}},
		{"=x", {{"", "x"}}},
		{"a=1&&b=2&", {{"a", "1"}, {"b", "2"}}}, // empty pairs skipped
		{"&&&", {}},
		{"q=a=b", {{"q", "a=b"}}},           // only the first '=' splits
		{"q=x+y%2Bz", {{"q", "x y+z"}}},     // '+' is a space, %2B a plus
		{"na%6De=v%61l", {{"name", "val"}}}, // names are decoded too
		{"a=1;b=2", {{"a", "1;b=2"}}},       // ';' is not a separator
		{"search=%E0%A4%A8%E0%A4%AE", {{"search", "\xE0\xA4\xA8\xE0\xA4\xAE"}}},
	};
	for (const auto& [raw, expected] : cases) {
		const auto parsed = ParseQuery(raw);
		ASSERT_TRUE(std::holds_alternative<QueryParams>(parsed)) << raw;
		EXPECT_EQ(std::get<QueryParams>(parsed).entries(), expected) << raw;
	}
}

TEST(ParseQuery, RefusesBadEscapesNulAndInvalidUtf8WithTheParameterName)
{
	const std::vector<std::tuple<std::string, DecodeError, std::string>> cases = {
		{"ok=1&page=%zz", DecodeError::kInvalidEscape, "page"},
		{"page=1%", DecodeError::kInvalidEscape, "page"},
		{"na%me=1", DecodeError::kInvalidEscape, "na%me"},
		{"file=a%00b", DecodeError::kNulByte, "file"},
		{"%00=1", DecodeError::kNulByte, "%00"},
		{"q=%FF", DecodeError::kInvalidUtf8, "q"},
		{"q=%C0%AF", DecodeError::kInvalidUtf8, "q"},
	};
	for (const auto& [raw, error, parameter] : cases) {
		const auto parsed = ParseQuery(raw);
		ASSERT_TRUE(std::holds_alternative<QueryError>(parsed)) << raw;
		const auto& failure = std::get<QueryError>(parsed);
		EXPECT_EQ(failure.kind, QueryError::Kind::kDecode) << raw;
		EXPECT_EQ(failure.decode_error, error) << raw;
		EXPECT_EQ(failure.parameter, parameter) << raw;
		EXPECT_NE(QueryErrorMessage(failure).find(parameter), std::string::npos) << QueryErrorMessage(failure);
	}
}

TEST(ParseQuery, BoundsTheNumberOfParameters)
{
	std::string at_limit;
	for (std::size_t i = 0; i < kMaxQueryParameters; ++i)
		at_limit += "p" + std::to_string(i) + "=1&";
	EXPECT_TRUE(std::holds_alternative<QueryParams>(ParseQuery(at_limit)));
	const auto over = ParseQuery(at_limit + "one=more");
	ASSERT_TRUE(std::holds_alternative<QueryError>(over));
	EXPECT_EQ(std::get<QueryError>(over).kind, QueryError::Kind::kTooManyParameters);
}

TEST(QueryParams, Accessors)
{
	const QueryParams query(Pairs{{"status", "active"}, {"page", "2"}, {"status", "suspended"}, {"empty", ""}});
	EXPECT_TRUE(query.Has("status"));
	EXPECT_FALSE(query.Has("Status")) << "names are case-sensitive";
	EXPECT_EQ(query.Count("status"), 2u);
	EXPECT_EQ(query.Count("nope"), 0u);
	EXPECT_EQ(query.First("status"), "active");
	EXPECT_EQ(query.First("empty"), "");
	EXPECT_EQ(query.First("nope"), std::nullopt);
	EXPECT_EQ(query.All("status"), (std::vector<std::string_view>{"active", "suspended"}));
	EXPECT_TRUE(query.All("nope").empty());
	EXPECT_TRUE(QueryParams().empty());
}

TEST(DecodePathParams, DecodesEachValueOrNamesTheBadOne)
{
	const auto ok = DecodePathParams({"id", "name"}, {"42", "a%2Fb%20c+d"});
	ASSERT_TRUE(std::holds_alternative<PathParams>(ok));
	const auto& params = std::get<PathParams>(ok);
	EXPECT_EQ(params.Get("id"), "42");
	EXPECT_EQ(params.Get("name"), "a/b c+d") << "'+' is literal in a path";
	EXPECT_EQ(params.Get("other"), std::nullopt);

	const auto bad = DecodePathParams({"id", "name"}, {"42", "%E2%82"});
	ASSERT_TRUE(std::holds_alternative<PathParamError>(bad));
	EXPECT_EQ(std::get<PathParamError>(bad).name, "name");
	EXPECT_EQ(std::get<PathParamError>(bad).error, DecodeError::kInvalidUtf8);

	const auto nul = DecodePathParams({"id"}, {"1%00"});
	ASSERT_TRUE(std::holds_alternative<PathParamError>(nul));
	EXPECT_EQ(std::get<PathParamError>(nul).error, DecodeError::kNulByte);
}

} // namespace
} // namespace balatrix::sidecar::http
