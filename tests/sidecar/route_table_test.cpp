// The route table: pattern validation, matching on raw paths, specificity, 404 versus 405.
#include "http/route_table.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace balatrix::sidecar::http {
namespace {

using Outcome = RouteTable::Match::Outcome;

class RouteTableTest : public ::testing::Test {
protected:
	void
	SetUp() override
	{
		for (const auto& [method, pattern] : std::vector<std::pair<std::string, std::string>>{
				 {"GET", "/"},
				 {"GET", "/health"},
				 {"GET", "/api/customers"},
				 {"POST", "/api/customers"},
				 {"GET", "/api/customers/stats"},
				 {"GET", "/api/customers/:id"},
				 {"PUT", "/api/customers/:id"},
				 {"DELETE", "/api/customers/:id"},
				 {"GET", "/api/customers/:id/accounts"},
				 {"GET", "/api/accounts/:account_id/ledger/:entry"},
				 {"POST", "/api/x/:a/fixed"},
				 {"POST", "/api/x/fixed/:b"},
			 }) {
			table_.Add(method, pattern);
		}
	}

	std::string
	Pattern(const RouteTable::Match& match) const
	{
		return table_.routes()[match.index].pattern;
	}

	RouteTable table_;
};

TEST_F(RouteTableTest, FindsFixedAndParameterRoutes)
{
	struct Case {
		std::string method, path, pattern;
		std::vector<std::string> params;
	};
	const std::vector<Case> cases = {
		{"GET", "/", "/", {}},
		{"GET", "/health", "/health", {}},
		{"GET", "/health/", "/health", {}}, // one trailing slash is ignored
		{"GET", "/api/customers", "/api/customers", {}},
		{"POST", "/api/customers", "/api/customers", {}},
		{"GET", "/api/customers/stats", "/api/customers/stats", {}}, // fixed beats :id
		{"GET", "/api/customers/42", "/api/customers/:id", {"42"}},
		{"PUT", "/api/customers/stats", "/api/customers/:id", {"stats"}},                   // only :id has PUT
		{"GET", "/api/customers/a%2Fb/accounts", "/api/customers/:id/accounts", {"a%2Fb"}}, // raw, undecoded
		{"GET", "/api/accounts/7/ledger/99", "/api/accounts/:account_id/ledger/:entry", {"7", "99"}},
		{"POST", "/api/x/fixed/fixed", "/api/x/fixed/:b", {"fixed"}}, // leftmost fixed segment wins
		{"POST", "/api/x/other/fixed", "/api/x/:a/fixed", {"other"}},
	};
	for (const auto& c : cases) {
		const auto match = table_.Find(c.method, c.path);
		ASSERT_EQ(match.outcome, Outcome::kFound) << c.method << " " << c.path;
		EXPECT_EQ(Pattern(match), c.pattern) << c.method << " " << c.path;
		EXPECT_EQ(std::vector<std::string>(match.raw_params.begin(), match.raw_params.end()), c.params) << c.path;
		ASSERT_TRUE(match.path_index.has_value());
		EXPECT_EQ(*match.path_index, match.index);
	}
}

TEST_F(RouteTableTest, UnknownPathsAreNotFound)
{
	const std::vector<std::string> paths = {
		"/nope",
		"/api",
		"/api/customers/1/2/3",
		"/health//",
		"//health",
		"/api//customers",
		"",
		"health",
		"/HEALTH",
		"/he%61lth",
		"/api/customers/42/accounts/x",
	};
	for (const auto& path : paths) {
		const auto match = table_.Find("GET", path);
		EXPECT_EQ(match.outcome, Outcome::kNotFound) << path;
		EXPECT_TRUE(match.allowed_methods.empty()) << path;
	}
}

TEST_F(RouteTableTest, KnownPathWithAnotherMethodIsMethodNotAllowedWithEveryAllowedMethod)
{
	const auto match = table_.Find("PATCH", "/api/customers/42");
	EXPECT_EQ(match.outcome, Outcome::kMethodNotAllowed);
	EXPECT_EQ(match.allowed_methods, (std::vector<std::string>{"DELETE", "GET", "PUT"}));
	ASSERT_TRUE(match.path_index.has_value());
	EXPECT_EQ(table_.routes()[*match.path_index].pattern, "/api/customers/:id");

	// "stats" matches both the fixed GET route and the :id routes: all their methods are allowed.
	const auto stats = table_.Find("POST", "/api/customers/stats");
	EXPECT_EQ(stats.outcome, Outcome::kMethodNotAllowed);
	EXPECT_EQ(stats.allowed_methods, (std::vector<std::string>{"DELETE", "GET", "PUT"}));
	EXPECT_EQ(table_.routes()[*stats.path_index].pattern, "/api/customers/stats");

	EXPECT_EQ(table_.Find("OPTIONS", "/health").outcome, Outcome::kMethodNotAllowed);
	EXPECT_EQ(table_.Find("HEAD", "/health").allowed_methods, (std::vector<std::string>{"GET"}));
}

TEST_F(RouteTableTest, RoutesAreListedWithTheirParameterNames)
{
	ASSERT_EQ(table_.routes().size(), 12u);
	const RouteInfo& ledger = table_.routes()[9];
	EXPECT_EQ(ledger.method, "GET");
	EXPECT_EQ(ledger.pattern, "/api/accounts/:account_id/ledger/:entry");
	EXPECT_EQ(ledger.param_names, (std::vector<std::string>{"account_id", "entry"}));
}

TEST(RouteTable, RefusesBadPatternsAndDuplicates)
{
	RouteTable table;
	table.Add("GET", "/a/:id");
	const std::vector<std::pair<std::string, std::string>> bad = {
		{"GET", "/a/:other"},                                                       // same shape as /a/:id
		{"FETCH", "/b"},                                                            // unknown method
		{"OPTIONS", "/b"},                                                          // answered by the router itself
		{"HEAD", "/b"},       {"GET", ""},         {"GET", "b"},    {"GET", "/b/"}, // trailing slash
		{"GET", "/b//c"},     {"GET", "/b/:"},                                      // empty parameter name
		{"GET", "/b/:1x"},                         // parameter names start with a letter
		{"GET", "/b/:x-y"},   {"GET", "/b/:x/:x"}, // repeated parameter
		{"GET", "/b c"},                           // reserved / unsafe characters in a fixed segment
		{"GET", "/b%20c"},    {"GET", "/b?x"},     {"GET", "/b:c"},
	};
	for (const auto& [method, pattern] : bad)
		EXPECT_THROW(table.Add(method, pattern), std::invalid_argument) << method << " " << pattern;
	EXPECT_NO_THROW(table.Add("POST", "/a/:id")) << "same shape, other method";
	EXPECT_NO_THROW(table.Add("GET", "/a/fixed")) << "fixed text differs from a parameter";
	EXPECT_NO_THROW(table.Add("GET", "/b/:x_1/c.d~e"));
}

TEST(RouteTable, TooManySegmentsMatchNothing)
{
	RouteTable table;
	std::string pattern;
	for (std::size_t i = 0; i < RouteTable::kMaxSegments; ++i)
		pattern += "/s";
	table.Add("GET", pattern);
	EXPECT_EQ(table.Find("GET", pattern).outcome, RouteTable::Match::Outcome::kFound);
	EXPECT_EQ(table.Find("GET", pattern + "/s").outcome, RouteTable::Match::Outcome::kNotFound);
	EXPECT_THROW(table.Add("GET", pattern + "/t"), std::invalid_argument);
}

} // namespace
} // namespace balatrix::sidecar::http
