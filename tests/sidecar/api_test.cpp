// Units of the API's shared machinery (api/api.hpp): wire JSON (keys camelCased, money kept as exact
// text), pagination, UUID and address checks. The routes themselves are tested end to end (tests/e2e/api_*.sh).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "http/url.hpp"
#include "http/validation.hpp"

namespace balatrix::sidecar::api {
namespace {

using nlohmann::json;

TEST(WireJson, CamelCasesKeysAtEveryDepth)
{
	const json wire = WireJson(R"({"plan_code":"BASIC","rate_plan":{"monthly_price":"x","included_minutes":100},)"
	                           R"("lines":[{"tax_amount_cgst":1}]})");
	EXPECT_EQ(wire.dump(),
	          R"({"lines":[{"taxAmountCgst":1}],"planCode":"BASIC","ratePlan":{"includedMinutes":100,"monthlyPrice":"x"}})");
}

TEST(WireJson, KeepsFractionalNumbersAsTheirExactText)
{
	// 0.1 + 0.2 style values and 4-decimal money must not pass through a double.
	const json wire = WireJson(R"({"balance":1234567890123.4567,"rate":0.1000,"tiny":1e-7,"count":42,"neg":-3})");
	EXPECT_EQ(wire["balance"], "1234567890123.4567");
	EXPECT_EQ(wire["rate"], "0.1000");
	EXPECT_EQ(wire["tiny"], "1e-7");
	EXPECT_EQ(wire["count"], 42);
	EXPECT_TRUE(wire["count"].is_number_integer());
	EXPECT_EQ(wire["neg"], -3);
}

TEST(WireJson, ScalarsArraysAndNull)
{
	EXPECT_EQ(WireJson("null"), nullptr);
	EXPECT_EQ(WireJson("[1.50,true,\"a_b\"]").dump(), R"(["1.50",true,"a_b"])"); // values are not camelCased
	EXPECT_EQ(WireJson(R"({"_private":1,"a__b":2})").dump(), R"({"_private":1,"aB":2})");
}

TEST(WireJson, InvalidTextThrows)
{
	EXPECT_THROW(WireJson("{\"a\":"), nlohmann::json::parse_error);
	EXPECT_THROW(WireJson(""), nlohmann::json::parse_error);
}

TEST(WireJsonText, SameValueAsWireJsonWithoutADom)
{
	// jsonb's text form (spaces after ':' and ','), nested, money, exponents, escapes, non-ASCII, nulls.
	for (const char* input :
	     {R"({"plan_code": "BASIC", "rate_plan": {"monthly_price": 499.0000, "included_minutes": 100}})",
	      R"([{"tax_amount_cgst": 1}, -2.5e-3, "a_b: c", null, true, false, [], {}])",
	      R"({"quote_\"key": "x\"y_z", "name": "Kāveri Tech", "n_neg": -42, "big": 12345678901234567890.1234})",
	      R"({"_private": 1, "a__b": 2, "nested_list": [{"k_v": [1.0, 2]}]})", "null", "42", "3.14"}) {
		SCOPED_TRACE(input);
		const std::string text = WireJsonText(input);
		EXPECT_EQ(WireJson(text), WireJson(input)); // WireJson of already-wire text changes nothing further
	}
	EXPECT_EQ(WireJsonText(R"({"monthly_price": 499.0000, "count_all": 3})"), R"({"monthlyPrice":"499.0000","countAll":3})");
	EXPECT_EQ(WireJsonText(R"({"note": "a, b: c_d"})"), R"({"note":"a, b: c_d"})"); // values keep their spaces
	EXPECT_THROW(WireJsonText(R"({"open)"), std::invalid_argument);
}

TEST(SuccessWithRawData, TheSameEnvelopeAsSuccess)
{
	http::RequestContext context;
	context.request_id = "req-1";
	const json raw = json::parse(http::SuccessWithRawData(context, "Done \"ok\"", R"({"a":"1.50"})", 200).body);
	const json dom = json::parse(http::Success(context, "Done \"ok\"", json{{"a", "1.50"}}).body);
	EXPECT_EQ(raw["success"], dom["success"]);
	EXPECT_EQ(raw["message"], dom["message"]);
	EXPECT_EQ(raw["data"], dom["data"]);
	EXPECT_EQ(raw["metadata"]["requestId"], "req-1");
	EXPECT_EQ(raw.size(), dom.size());
}

TEST(Pagination, DefaultsCapsAndTotals)
{
	http::QueryParams none(std::vector<http::QueryParams::Entry>{});
	http::Validator v1(nullptr);
	const Page page = ReadPage(v1, none);
	EXPECT_TRUE(v1.ok());
	EXPECT_EQ(page.page, 1);
	EXPECT_EQ(page.limit, 20);
	EXPECT_EQ(page.offset(), 0);

	http::QueryParams big(std::vector<http::QueryParams::Entry>{{"page", "3"}, {"limit", "101"}});
	http::Validator v2(nullptr);
	ReadPage(v2, big);
	ASSERT_EQ(v2.errors().size(), 1u);
	EXPECT_EQ(v2.errors()[0].field, "limit");

	http::QueryParams ok(std::vector<http::QueryParams::Entry>{{"page", "3"}, {"limit", "25"}});
	http::Validator v3(nullptr);
	const Page third = ReadPage(v3, ok);
	EXPECT_EQ(third.offset(), 50);
	const json body = Paginated("items", json::array({1, 2}), 51, third);
	EXPECT_EQ(body["pagination"].dump(), R"({"limit":25,"page":3,"total":51,"totalPages":3})");
	EXPECT_EQ(Paginated("items", nullptr, 0, third)["items"], json::array());
}

TEST(IsUuid, CanonicalFormOnly)
{
	EXPECT_TRUE(IsUuid("0b7c1f0e-6d3a-4c8e-9f1a-2b3c4d5e6f70"));
	EXPECT_TRUE(IsUuid("0B7C1F0E-6D3A-4C8E-9F1A-2B3C4D5E6F70"));
	EXPECT_FALSE(IsUuid("0b7c1f0e6d3a4c8e9f1a2b3c4d5e6f70"));
	EXPECT_FALSE(IsUuid("0b7c1f0e-6d3a-4c8e-9f1a-2b3c4d5e6f7g"));
	EXPECT_FALSE(IsUuid("' OR 1=1--"));
	EXPECT_FALSE(IsUuid(""));
}

TEST(Roles, StaffAndAdmins)
{
	EXPECT_TRUE(IsStaff(Role::kSupport));
	EXPECT_FALSE(IsStaff(Role::kReseller));
	EXPECT_FALSE(IsStaff(Role::kCustomer));
	EXPECT_TRUE(IsAdmin(Role::kSuperAdmin));
	EXPECT_FALSE(IsAdmin(Role::kSupport));
}

TEST(ClientIp, OnlyRealAddresses)
{
	http::RequestContext context;
	context.remote_address = "127.0.0.1";
	EXPECT_EQ(ClientIp(context), "127.0.0.1");
	context.remote_address = "::1";
	EXPECT_EQ(ClientIp(context), "::1");
	context.remote_address = "1.2.3.4'; DROP TABLE x;--";
	EXPECT_EQ(ClientIp(context), std::nullopt);
}

} // namespace
} // namespace balatrix::sidecar::api
