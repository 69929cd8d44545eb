/*
 * Unit tests: invoice and pricing arithmetic — recurring prices, proration, usage amounts, quotes
 * with their GST, and invoice numbers (extension/core/src/invoice.cpp).
 *
 * Expected values are seed-original.md §10 vectors (T1-T3, T8, T15, T24, T25, T38) and PRODUCT §3's
 * catalogue, or worked out by hand in the comments next to them; the invoice-number regex is the
 * invoices_number_format CHECK of extension/sql/balatrix.sql, applied with std::regex. Nothing is
 * computed by the code under test.
 */
#include "balatrix/core/invoice.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace balatrix::core {
namespace {

// "399.00" -> 3990000 Amount4, "2,50,000.01" (Indian grouping), "-0.05", and four decimals when
// written ("1.9900"). A test-local reader, so the tables read like the references; a malformed
// literal is a typo in a table and fails the test.
Amount4
Rs(std::string_view text)
{
	bool negative = !text.empty() && text.front() == '-';
	if (negative)
		text.remove_prefix(1);
	std::size_t dot = text.find('.');
	std::size_t decimals = dot == std::string_view::npos ? 0 : text.size() - dot - 1;
	if (dot == 0 || (decimals != 2 && decimals != 4)) {
		ADD_FAILURE() << "bad rupee literal " << text;
		return 0;
	}
	Amount4 value = 0;
	for (char c : text) {
		if (c == ',' || c == '.')
			continue;
		if (c < '0' || c > '9') {
			ADD_FAILURE() << "bad rupee literal " << text;
			return 0;
		}
		value = value * 10 + (c - '0');
	}
	if (decimals == 2)
		value *= 100;
	return negative ? -value : value;
}

// Quantities have 4 decimals: Qty(50) = 50.0000.
constexpr std::int64_t
Qty(std::int64_t whole)
{
	return whole * 10000;
}

Date
D(int year, int month, int day)
{
	std::optional<Date> date = Date::FromYmd(year, month, day);
	if (!date) {
		ADD_FAILURE() << "test table names an invalid date";
		return Date();
	}
	return *date;
}

const char *
Name(InvoiceFault fault)
{
	switch (fault) {
	case InvoiceFault::kOk:
		return "kOk";
	case InvoiceFault::kNegativeAmount:
		return "kNegativeAmount";
	case InvoiceFault::kOutOfRange:
		return "kOutOfRange";
	case InvoiceFault::kBadQuantity:
		return "kBadQuantity";
	case InvoiceFault::kBadDays:
		return "kBadDays";
	case InvoiceFault::kGst:
		return "kGst";
	}
	return "?";
}

const char *
Name(InvoiceNumberFault fault)
{
	switch (fault) {
	case InvoiceNumberFault::kOk:
		return "kOk";
	case InvoiceNumberFault::kBadSeries:
		return "kBadSeries";
	case InvoiceNumberFault::kBadFinancialYear:
		return "kBadFinancialYear";
	case InvoiceNumberFault::kBadSequence:
		return "kBadSequence";
	case InvoiceNumberFault::kBadWidth:
		return "kBadWidth";
	case InvoiceNumberFault::kTooLong:
		return "kTooLong";
	case InvoiceNumberFault::kBadFormat:
		return "kBadFormat";
	}
	return "?";
}

TEST(RsHelper, ReadsRupeeLiterals)
{
	EXPECT_EQ(Rs("349.00"), 3490000);
	EXPECT_EQ(Rs("1.9900"), 19900);
	EXPECT_EQ(Rs("0.0040"), 40);
	EXPECT_EQ(Rs("-322.26"), -3222600);
	EXPECT_EQ(Rs("1,00,000.00"), 1000000000);
}

// ---- recurring prices ------------------------------------------------------------------------------

struct RecurringCase {
	const char *why;
	const char *monthly;
	const char *monthly_price; // the monthly cycle's price: the monthly price to the paisa
	const char *quarterly;
	const char *annual;
};

TEST(RecurringPrice, QuarterlyThreeTimesAnnualNinePointSixTimes)
{
	const RecurringCase cases[] = {
		// PRODUCT §3 catalogue and T38: 349 × 12 × 0.8 = 3350.40, not the sources' 3348 / 3349.
		{"Starter", "349.00", "349.00", "1,047.00", "3,350.40"},
		{"Professional", "999.00", "999.00", "2,997.00", "9,590.40"},
		{"Call Center", "4,999.00", "4,999.00", "14,997.00", "47,990.40"},
		{"extra toll-free number", "199.00", "199.00", "597.00", "1,910.40"},
		{"extra extension", "99.00", "99.00", "297.00", "950.40"},
		{"free", "0.00", "0.00", "0.00", "0.00"},
		// 9.6 × a paise amount can need a third decimal: 0.01 × 9.6 = 0.096 -> 0.10.
		{"one paisa", "0.01", "0.01", "0.03", "0.10"},
		{"0.16: 1.536 -> 1.54", "0.16", "0.16", "0.48", "1.54"},
		{"0.15: 1.44 exactly", "0.15", "0.15", "0.45", "1.44"},
		// A 4-decimal monthly price is rounded once per cycle: 1.9999 -> 2.00, 3 × 1.9999 = 5.9997
		// -> 6.00, 9.6 × 1.9999 = 19.19904 -> 19.20.
		{"4-decimal price", "1.9999", "2.00", "6.00", "19.20"},
		{"half a paisa", "0.0050", "0.01", "0.02", "0.05"},       // 0.0150 -> 0.02; 0.048 -> 0.05
		{"below half a paisa", "0.0049", "0.00", "0.01", "0.05"}, // 0.0147 -> 0.01; 0.04704 -> 0.05
		// One rounding: 9.6 × 0.0026 = 0.02496 -> 0.02. Rounding to 0.0001 first (0.0250) would give 0.03.
		{"rounded once", "0.0026", "0.00", "0.01", "0.02"}, // 3 × 0.0026 = 0.0078 -> 0.01
		{"the largest annual: 104,166,666,666.66 × 9.6 = 999,999,999,999.936", "104,166,666,666.66",
	     "104,166,666,666.66", "312,499,999,999.98", "999,999,999,999.94"},
	};
	for (const RecurringCase &c : cases) {
		SCOPED_TRACE(c.why);
		const Amount4 m = Rs(c.monthly);
		PriceResult monthly = RecurringPrice(m, BillingCycle::kMonthly);
		PriceResult quarterly = RecurringPrice(m, BillingCycle::kQuarterly);
		PriceResult annual = RecurringPrice(m, BillingCycle::kAnnual);
		EXPECT_EQ(monthly.fault, InvoiceFault::kOk) << Name(monthly.fault);
		EXPECT_EQ(quarterly.fault, InvoiceFault::kOk) << Name(quarterly.fault);
		EXPECT_EQ(annual.fault, InvoiceFault::kOk) << Name(annual.fault);
		EXPECT_EQ(monthly.amount, Rs(c.monthly_price));
		EXPECT_EQ(quarterly.amount, Rs(c.quarterly));
		EXPECT_EQ(annual.amount, Rs(c.annual));
	}
}

TEST(RecurringPrice, Faults)
{
	EXPECT_EQ(RecurringPrice(-1, BillingCycle::kMonthly).fault, InvoiceFault::kNegativeAmount);
	EXPECT_EQ(RecurringPrice(Rs("-349.00"), BillingCycle::kAnnual).fault, InvoiceFault::kNegativeAmount);
	EXPECT_EQ(RecurringPrice(kMaxInvoiceAmount4 + 1, BillingCycle::kMonthly).fault, InvoiceFault::kOutOfRange);
	EXPECT_EQ(RecurringPrice(std::numeric_limits<Amount4>::max(), BillingCycle::kAnnual).fault,
	          InvoiceFault::kOutOfRange);
	// The largest monthly price is fine monthly, but not three or 9.6 times over.
	EXPECT_EQ(RecurringPrice(kMaxInvoiceAmount4, BillingCycle::kMonthly).amount, kMaxInvoiceAmount4);
	EXPECT_EQ(RecurringPrice(kMaxInvoiceAmount4, BillingCycle::kQuarterly).fault, InvoiceFault::kOutOfRange);
	EXPECT_EQ(RecurringPrice(kMaxInvoiceAmount4, BillingCycle::kAnnual).fault, InvoiceFault::kOutOfRange);
	// 104,166,666,666.67 × 9.6 = 1,000,000,000,000.032: one paisa of monthly price too many.
	EXPECT_EQ(RecurringPrice(Rs("104,166,666,666.67"), BillingCycle::kAnnual).fault, InvoiceFault::kOutOfRange);
	EXPECT_EQ(RecurringPrice(Rs("-1.00"), BillingCycle::kQuarterly).amount, 0);
}

// ---- proration -------------------------------------------------------------------------------------

TEST(Prorate, ByDaysRoundedOnceToPaise)
{
	struct Case {
		const char *why;
		const char *amount;
		std::int64_t remaining;
		std::int64_t period;
		const char *expected;
	};
	const Case cases[] = {
		{"T24 old: 349 × 15 / 30", "349.00", 15, 30, "174.50"},
		{"T24 new: 999 × 15 / 30", "999.00", 15, 30, "499.50"},
		{"T25 old: 999 × 10 / 31 = 322.2580...", "999.00", 10, 31, "322.26"},
		{"T25 new: 349 × 10 / 31 = 112.5806...", "349.00", 10, 31, "112.58"},
		{"whole period", "999.00", 31, 31, "999.00"},
		{"no day left", "999.00", 0, 31, "0.00"},
		{"one day of 31: 32.2258...", "999.00", 1, 31, "32.23"},
		{"leap February: 349 × 1 / 29 = 12.0344...", "349.00", 1, 29, "12.03"},
		{"annual, 100 of 366 days: 3350.40 × 100 / 366 = 915.4098...", "3,350.40", 100, 366, "915.41"},
		{"a credit rounds symmetrically", "-999.00", 10, 31, "-322.26"},
		{"half a paisa up: 0.01 / 2", "0.01", 1, 2, "0.01"},
		{"half a paisa, negative", "-0.01", 1, 2, "-0.01"},
		{"4-decimal amount: 1.9999 -> 2.00", "1.9999", 1, 1, "2.00"},
		{"one rounding: 0.0099 × 1 / 2 = 0.00495 -> 0.00 (not 0.0050 -> 0.01)", "0.0099", 1, 2, "0.00"},
		{"zero", "0.00", 7, 30, "0.00"},
		{"the largest amount, a third", "999,999,999,999.99", 1, 3, "333,333,333,333.33"},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.why);
		PriceResult result = Prorate(Rs(c.amount), c.remaining, c.period);
		EXPECT_EQ(result.fault, InvoiceFault::kOk) << Name(result.fault);
		EXPECT_EQ(result.amount, Rs(c.expected));
	}
}

TEST(Prorate, Faults)
{
	EXPECT_EQ(Prorate(Rs("349.00"), 15, 0).fault, InvoiceFault::kBadDays);
	EXPECT_EQ(Prorate(Rs("349.00"), 0, 0).fault, InvoiceFault::kBadDays);
	EXPECT_EQ(Prorate(Rs("349.00"), -1, 30).fault, InvoiceFault::kBadDays);
	EXPECT_EQ(Prorate(Rs("349.00"), 31, 30).fault, InvoiceFault::kBadDays);
	EXPECT_EQ(Prorate(Rs("349.00"), 1, -30).fault, InvoiceFault::kBadDays);
	EXPECT_EQ(Prorate(kMaxInvoiceAmount4 + 1, 1, 2).fault, InvoiceFault::kOutOfRange);
	EXPECT_EQ(Prorate(std::numeric_limits<Amount4>::min(), 1, 2).fault, InvoiceFault::kOutOfRange);
	EXPECT_EQ(Prorate(Rs("349.00"), std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::max())
	              .amount,
	          Rs("349.00"));
	EXPECT_EQ(Prorate(Rs("349.00"), 31, 30).amount, 0);
}

TEST(DaysRemaining, FromTheChangeDayToThePeriodEnd)
{
	// A 30-day period [Apr 15, May 15): a change on Apr 30 leaves Apr 30 ... May 14 = 15 days (T24).
	const Period april{D(2025, 4, 15), D(2025, 5, 15)};
	EXPECT_EQ(april.Days(), 30);
	EXPECT_EQ(DaysRemaining(april, D(2025, 4, 30)), std::optional<std::int64_t>(15));
	EXPECT_EQ(DaysRemaining(april, D(2025, 4, 15)), std::optional<std::int64_t>(30)); // first day: all
	EXPECT_EQ(DaysRemaining(april, D(2025, 5, 14)), std::optional<std::int64_t>(1));  // last day: one
	EXPECT_FALSE(DaysRemaining(april, D(2025, 5, 15)).has_value());                   // the end is not in
	EXPECT_FALSE(DaysRemaining(april, D(2025, 4, 14)).has_value());
	// T25's 10 of 31 days: a change on 22 March in [1 March, 1 April) leaves 22 ... 31 March.
	const Period march{D(2025, 3, 1), D(2025, 4, 1)};
	EXPECT_EQ(DaysRemaining(march, D(2025, 3, 22)), std::optional<std::int64_t>(10));
}

TEST(ProratePlanChange, DifferenceOfTheRoundedParts)
{
	struct Case {
		const char *why;
		const char *old_price;
		const char *new_price;
		std::int64_t remaining;
		std::int64_t period;
		const char *unused_old;
		const char *prorated_new;
		const char *difference;
	};
	const Case cases[] = {
		{"T24 upgrade 349 -> 999, 15 of 30 days", "349.00", "999.00", 15, 30, "174.50", "499.50", "325.00"},
		{"T25 downgrade 999 -> 349, 10 of 31 days", "999.00", "349.00", 10, 31, "322.26", "112.58", "-209.68"},
		{"same price", "999.00", "999.00", 10, 31, "322.26", "322.26", "0.00"},
		{"quarterly Starter -> Professional, 45 of 90 days", "1,047.00", "2,997.00", 45, 90, "523.50", "1,498.50",
	     "975.00"},
		{"on the first day: the whole difference", "349.00", "999.00", 30, 30, "349.00", "999.00", "650.00"},
		{"on the last day: one day", "349.00", "999.00", 1, 30, "11.63", "33.30", "21.67"},
		// 0.01 and 0.02 over half a period: exact parts 0.005 and 0.01 round to 0.01 and 0.01, so the
	    // difference of the rounded parts is 0.00 while the rounded exact difference (0.005) would be
	    // 0.01. The printed amounts must add up, hence the rounded parts.
		{"difference of rounded parts, not rounded difference", "0.01", "0.02", 1, 2, "0.01", "0.01", "0.00"},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.why);
		PlanChangeProration result = ProratePlanChange(Rs(c.old_price), Rs(c.new_price), c.remaining, c.period);
		ASSERT_EQ(result.fault, InvoiceFault::kOk) << Name(result.fault);
		EXPECT_EQ(result.unused_old, Rs(c.unused_old));
		EXPECT_EQ(result.prorated_new, Rs(c.prorated_new));
		EXPECT_EQ(result.difference, Rs(c.difference));
		EXPECT_EQ(result.difference, result.prorated_new - result.unused_old);
	}
}

TEST(ProratePlanChange, Faults)
{
	EXPECT_EQ(ProratePlanChange(Rs("-1.00"), Rs("999.00"), 15, 30).fault, InvoiceFault::kNegativeAmount);
	EXPECT_EQ(ProratePlanChange(Rs("349.00"), Rs("-1.00"), 15, 30).fault, InvoiceFault::kNegativeAmount);
	EXPECT_EQ(ProratePlanChange(Rs("349.00"), Rs("999.00"), 31, 30).fault, InvoiceFault::kBadDays);
	EXPECT_EQ(ProratePlanChange(Rs("349.00"), Rs("999.00"), 1, 0).fault, InvoiceFault::kBadDays);
	EXPECT_EQ(ProratePlanChange(Rs("349.00"), kMaxInvoiceAmount4 + 1, 1, 2).fault, InvoiceFault::kOutOfRange);
	PlanChangeProration failed = ProratePlanChange(Rs("349.00"), Rs("999.00"), 31, 30);
	EXPECT_EQ(failed.unused_old, 0);
	EXPECT_EQ(failed.prorated_new, 0);
	EXPECT_EQ(failed.difference, 0);
	// The largest prices: the difference of two in-range parts stays in range.
	PlanChangeProration extreme = ProratePlanChange(0, kMaxInvoiceAmount4, 1, 1);
	EXPECT_EQ(extreme.fault, InvoiceFault::kOk);
	EXPECT_EQ(extreme.difference, kMaxInvoiceAmount4);
}

// ---- usage lines -----------------------------------------------------------------------------------

TEST(UsageAmount, TheRoundedSumNotTheSumOfRoundedCharges)
{
	struct Case {
		const char *why;
		std::vector<Amount4> charges;
		const char *expected;
	};
	const std::vector<Amount4> thousand_calls(1000, Rs("0.3317")); // ₹1.99/min for 10 s each
	const Case cases[] = {
		// Three calls of 0.0040: rounded one by one they cost nothing; together 0.0120 -> 0.01.
		{"PRODUCT §4", {Rs("0.0040"), Rs("0.0040"), Rs("0.0040")}, "0.01"},
		// 1000 × 0.3317 = 331.7000; the sum of rounded charges would be 1000 × 0.33 = 330.00.
		{"a thousand short calls", thousand_calls, "331.70"},
		{"exactly half a paisa", {Rs("0.0050")}, "0.01"},
		{"just below", {Rs("0.0049")}, "0.00"},
		{"mixed: 3.9800 + 1.9900 + 0.3317 = 6.3017", {Rs("3.9800"), Rs("1.9900"), Rs("0.3317")}, "6.30"},
		{"a re-rating credit: 1.0000 - 0.0050 = 0.9950", {Rs("1.0000"), Rs("-0.0050")}, "1.00"},
		{"a net credit rounds away from zero", {Rs("-0.0050")}, "-0.01"},
		{"no calls", {}, "0.00"},
		{"the largest sum", {kMaxInvoiceAmount4}, "999,999,999,999.99"},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.why);
		PriceResult result = UsageAmount(c.charges);
		EXPECT_EQ(result.fault, InvoiceFault::kOk) << Name(result.fault);
		EXPECT_EQ(result.amount, Rs(c.expected));
	}
}

TEST(UsageAmount, Faults)
{
	EXPECT_EQ(UsageAmount({kMaxAmount4 + 1}).fault, InvoiceFault::kOutOfRange);
	EXPECT_EQ(UsageAmount({std::numeric_limits<Amount4>::min()}).fault, InvoiceFault::kOutOfRange);
	EXPECT_EQ(UsageAmount({kMaxAmount4}).fault, InvoiceFault::kOutOfRange);
	EXPECT_EQ(UsageAmount({kMaxInvoiceAmount4, 1}).fault, InvoiceFault::kOutOfRange);
	EXPECT_EQ(UsageAmount({-kMaxInvoiceAmount4, -1}).fault, InvoiceFault::kOutOfRange);
	// Many maximal charges: refused at the second, never overflowing.
	EXPECT_EQ(UsageAmount(std::vector<Amount4>(1000, kMaxAmount4)).fault, InvoiceFault::kOutOfRange);
	EXPECT_EQ(UsageAmount({kMaxAmount4 + 1}).amount, 0);
}

// ---- line kinds ------------------------------------------------------------------------------------

TEST(LineKind, SqlNamesAndCredits)
{
	struct Case {
		LineKind kind;
		const char *name;
		bool credit;
	};
	// invoice_lines.kind and its invoice_lines_sign CHECK.
	const Case cases[] = {
		{LineKind::kPlan, "plan", false},
		{LineKind::kAddOn, "add_on", false},
		{LineKind::kDidRent, "did_rent", false},
		{LineKind::kUsage, "usage", false},
		{LineKind::kOverage, "overage", false},
		{LineKind::kProration, "proration", true},
		{LineKind::kDiscount, "discount", true},
		{LineKind::kSetupFee, "setup_fee", false},
		{LineKind::kAdjustment, "adjustment", true},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.name);
		EXPECT_STREQ(LineKindName(c.kind), c.name);
		EXPECT_EQ(ParseLineKind(c.name), std::optional<LineKind>(c.kind));
		EXPECT_EQ(IsCreditKind(c.kind), c.credit);
	}
	for (const char *name : {"Plan", "addon", "add-on", "", "tax", "plan "}) {
		SCOPED_TRACE(name);
		EXPECT_FALSE(ParseLineKind(name).has_value());
	}
}

// ---- quotes ----------------------------------------------------------------------------------------

QuoteLineInput
Line(LineKind kind, const char *description, std::int64_t quantity, const char *unit_price, const char *sac = "998412")
{
	QuoteLineInput line;
	line.kind = kind;
	line.description = description;
	line.sac = sac;
	line.quantity = quantity;
	line.unit_price = Rs(unit_price);
	return line;
}

QuoteRequest
Request(int place_of_supply, std::vector<QuoteLineInput> lines)
{
	QuoteRequest request;
	request.supplier_state_code = 29; // Karnataka, the default supplier (PRODUCT §6)
	request.place_of_supply_code = place_of_supply;
	request.lines = std::move(lines);
	return request;
}

constexpr int kKarnataka = 29;   // intra-State for the Karnataka supplier
constexpr int kMaharashtra = 27; // inter-State

struct CheckoutCase {
	const char *why;
	const char *price;
	const char *half; // intra-State CGST = SGST
	const char *igst; // inter-State
	const char *total_intra;
	const char *total_inter;
};

TEST(QuoteInvoice, CheckoutTotalsT1ToT3AndT8)
{
	const CheckoutCase cases[] = {
		// The seed's vectors give one total, which both regimes reach (9 % of these prices is exact).
		{"T1 Starter monthly: 41182 paise", "349.00", "31.41", "62.82", "411.82", "411.82"},
		{"T2 Professional monthly: 117882 paise", "999.00", "89.91", "179.82", "1,178.82", "1,178.82"},
		{"T3 Call Center monthly: 589882 paise", "4,999.00", "449.91", "899.82", "5,898.82", "5,898.82"},
		// T8 intended (the original charged the monthly price for a quarter, BUG-10).
		{"T8 Starter quarterly", "1,047.00", "94.23", "188.46", "1,235.46", "1,235.46"},
		// T38 annual: 9 % of 3350.40 = 301.536 -> 301.54 twice = 603.08, but 18 % = 603.072 -> 603.07:
		// per-head rounding makes the intra-State invoice a paisa dearer.
		{"Starter annual 3350.40", "3,350.40", "301.54", "603.07", "3,953.48", "3,953.47"},
	};
	for (const CheckoutCase &c : cases) {
		SCOPED_TRACE(c.why);
		for (int pos : {kKarnataka, kMaharashtra}) {
			SCOPED_TRACE(pos);
			Quote quote = QuoteInvoice(Request(pos, {Line(LineKind::kPlan, "Plan", Qty(1), c.price)}));
			ASSERT_EQ(quote.fault, InvoiceFault::kOk) << Name(quote.fault);
			ASSERT_EQ(quote.lines.size(), 1u);
			const QuotedLine &line = quote.lines[0];
			EXPECT_EQ(line.taxable, Rs(c.price));
			EXPECT_EQ(line.rate_bp, 1800);
			if (pos == kKarnataka) {
				EXPECT_EQ(quote.regime, TaxRegime::kCgstSgst);
				EXPECT_EQ(line.tax.cgst, Rs(c.half));
				EXPECT_EQ(line.tax.sgst, Rs(c.half));
				EXPECT_EQ(line.tax.igst, 0);
				EXPECT_EQ(quote.totals.total, Rs(c.total_intra));
			} else {
				EXPECT_EQ(quote.regime, TaxRegime::kIgst);
				EXPECT_EQ(line.tax.igst, Rs(c.igst));
				EXPECT_EQ(line.tax.cgst, 0);
				EXPECT_EQ(quote.totals.total, Rs(c.total_inter));
			}
			EXPECT_EQ(quote.totals.taxable, Rs(c.price));
			EXPECT_EQ(quote.totals.round_off, 0);
			EXPECT_EQ(quote.totals.total, quote.totals.taxable + quote.totals.tax);
		}
	}
}

TEST(QuoteInvoice, T8QuarterlyPriceFromTheMonthlyPrice)
{
	// The quarterly line comes from RecurringPrice, then is quoted: 1047.00 / 188.46 / 1235.46.
	PriceResult quarterly = RecurringPrice(Rs("349.00"), BillingCycle::kQuarterly);
	ASSERT_EQ(quarterly.fault, InvoiceFault::kOk);
	QuoteLineInput plan;
	plan.kind = LineKind::kPlan;
	plan.description = "Starter, quarterly";
	plan.sac = "998412";
	plan.unit_price = quarterly.amount;
	Quote quote = QuoteInvoice(Request(kMaharashtra, {plan}));
	ASSERT_EQ(quote.fault, InvoiceFault::kOk);
	EXPECT_EQ(quote.totals.taxable, Rs("1,047.00"));
	EXPECT_EQ(quote.totals.tax, Rs("188.46"));
	EXPECT_EQ(quote.totals.total, Rs("1,235.46"));
}

TEST(QuoteInvoice, T15StarterWithOverageBothRegimes)
{
	// T15: Starter 349 + 50 overage minutes × 1.99 = 99.50; subtotal 448.50. Each line is taxed on
	// its own (PRODUCT §4). Inter-State: IGST 62.82 + 17.91 = 80.73, total 529.23 (the seed's
	// figures). Intra-State: CGST = SGST = 31.41 + 8.955 -> 8.96 = 40.37, tax 80.74, total 529.24: a
	// paisa more than the seed's 529.23, which taxed the subtotal in one go (T14's 40.365 halves).
	const std::vector<QuoteLineInput> lines = {
		Line(LineKind::kPlan, "Starter, monthly", Qty(1), "349.00"),
		Line(LineKind::kOverage, "Overage, 50 min at 1.99", Qty(50), "1.9900"),
	};

	Quote inter = QuoteInvoice(Request(kMaharashtra, lines));
	ASSERT_EQ(inter.fault, InvoiceFault::kOk) << Name(inter.fault);
	ASSERT_EQ(inter.lines.size(), 2u);
	EXPECT_EQ(inter.lines[0].taxable, Rs("349.00"));
	EXPECT_EQ(inter.lines[0].tax.igst, Rs("62.82"));
	EXPECT_EQ(inter.lines[1].taxable, Rs("99.50"));
	EXPECT_EQ(inter.lines[1].tax.igst, Rs("17.91"));
	EXPECT_EQ(inter.totals.taxable, Rs("448.50"));
	EXPECT_EQ(inter.totals.heads.igst, Rs("80.73"));
	EXPECT_EQ(inter.totals.tax, Rs("80.73"));
	EXPECT_EQ(inter.totals.total, Rs("529.23"));

	Quote intra = QuoteInvoice(Request(kKarnataka, lines));
	ASSERT_EQ(intra.fault, InvoiceFault::kOk) << Name(intra.fault);
	EXPECT_EQ(intra.lines[0].tax.cgst, Rs("31.41"));
	EXPECT_EQ(intra.lines[0].tax.sgst, Rs("31.41"));
	EXPECT_EQ(intra.lines[1].tax.cgst, Rs("8.96"));
	EXPECT_EQ(intra.lines[1].tax.sgst, Rs("8.96"));
	EXPECT_EQ(intra.totals.heads.cgst, Rs("40.37"));
	EXPECT_EQ(intra.totals.heads.sgst, Rs("40.37"));
	EXPECT_EQ(intra.totals.tax, Rs("80.74"));
	EXPECT_EQ(intra.totals.total, Rs("529.24"));

	// With the rupee round-off on: 529.24 -> 529.00 (-0.24), 529.23 -> 529.00 (-0.23).
	QuoteRequest rounded = Request(kKarnataka, lines);
	rounded.round_to_rupee = true;
	Quote r = QuoteInvoice(rounded);
	ASSERT_EQ(r.fault, InvoiceFault::kOk);
	EXPECT_EQ(r.totals.round_off, Rs("-0.24"));
	EXPECT_EQ(r.totals.total, Rs("529.00"));
	EXPECT_EQ(r.lines[1].tax.cgst, Rs("8.96")); // lines untouched by the round-off
	rounded.place_of_supply_code = kMaharashtra;
	r = QuoteInvoice(rounded);
	EXPECT_EQ(r.totals.round_off, Rs("-0.23"));
	EXPECT_EQ(r.totals.total, Rs("529.00"));
}

TEST(QuoteInvoice, UsageLineIsTheRoundedSumOfCdrCharges)
{
	// 30 calls of 3.3167 (₹1.99/min for 100 s = 3.31666... -> 3.3167 each): the exact sum 99.5010
	// rounds to 99.50; the line's unit price carries the 4-decimal sum, quantity 1.
	PriceResult usage = UsageAmount(std::vector<Amount4>(30, Rs("3.3167")));
	ASSERT_EQ(usage.fault, InvoiceFault::kOk);
	EXPECT_EQ(usage.amount, Rs("99.50"));
	QuoteLineInput line = Line(LineKind::kUsage, "Calls", Qty(1), "99.5010");
	Quote quote = QuoteInvoice(Request(kMaharashtra, {line}));
	ASSERT_EQ(quote.fault, InvoiceFault::kOk);
	EXPECT_EQ(quote.lines[0].taxable, Rs("99.50"));
	EXPECT_EQ(quote.lines[0].unit_price, Rs("99.5010"));
	EXPECT_EQ(quote.lines[0].tax.igst, Rs("17.91"));
}

TEST(QuoteInvoice, QuantitiesCreditsRatesAndRegimes)
{
	struct Totals {
		const char *taxable;
		const char *cgst;
		const char *sgst_or_utgst;
		const char *igst;
		const char *total;
	};
	struct Case {
		const char *why;
		QuoteRequest request;
		std::vector<const char *> taxable; // per line
		std::vector<std::int32_t> rate_bp; // per line
		TaxRegime regime;
		Totals totals;
	};
	// 2 × 199 = 398.00 (IGST 71.64); 0.5 × 99 = 49.50 (8.91); 1.5 × 0.3333 = 0.49995 -> 0.50 in one
	// rounding (0.09).
	const QuoteRequest fractions =
		Request(kMaharashtra, {Line(LineKind::kDidRent, "2 toll-free numbers", Qty(2), "199.00"),
	                           Line(LineKind::kAddOn, "Extension, half month", 5000, "99.00"),
	                           Line(LineKind::kAdjustment, "1.5 x 0.3333", 15000, "0.3333")});
	const QuoteRequest nothing = Request(kMaharashtra, {Line(LineKind::kAddOn, "None", 0, "199.00")});
	// T25 credited on the invoice: -322.26 × 18 % = -58.0068 -> -58.01; 179.82 - 58.01 = 121.81.
	const QuoteRequest downgrade =
		Request(kMaharashtra, {Line(LineKind::kPlan, "Professional", Qty(1), "999.00"),
	                           Line(LineKind::kProration, "Unused Professional", Qty(1), "-322.26")});
	// 31.41 - 4.50 = 26.91 a head.
	const QuoteRequest discount = Request(kKarnataka, {Line(LineKind::kPlan, "Starter", Qty(1), "349.00"),
	                                                   Line(LineKind::kDiscount, "Promotion", Qty(1), "-50.00")});
	QuoteRequest chandigarh = Request(4, {Line(LineKind::kPlan, "Plan", Qty(1), "349.00")});
	chandigarh.supplier_state_code = 4;
	QuoteRequest exempt = Request(kKarnataka, {Line(LineKind::kPlan, "Plan", Qty(1), "349.00"),
	                                           Line(LineKind::kAddOn, "Content", Qty(1), "10.00", "998431")});
	exempt.tax_exempt = true;
	QuoteRequest usd = Request(0, {Line(LineKind::kPlan, "Plan", Qty(1), "349.00")});
	usd.currency = "USD";
	QuoteLineInput ebook = Line(LineKind::kAddOn, "E-book bundle", Qty(1), "100.00", "998431");
	ebook.rate_bp = 500;
	QuoteLineInput zero_rated = Line(LineKind::kPlan, "Zero-rated", Qty(1), "100.00");
	zero_rated.rate_bp = 0;

	const Case cases[] = {
		{"quantities with decimals",
	     fractions,
	     {"398.00", "49.50", "0.50"},
	     {1800, 1800, 1800},
	     TaxRegime::kIgst,
	     {"448.00", "0.00", "0.00", "80.64", "528.64"}},
		{"a zero quantity", nothing, {"0.00"}, {1800}, TaxRegime::kIgst, {"0.00", "0.00", "0.00", "0.00", "0.00"}},
		{"a proration credit line",
	     downgrade,
	     {"999.00", "-322.26"},
	     {1800, 1800},
	     TaxRegime::kIgst,
	     {"676.74", "0.00", "0.00", "121.81", "798.55"}},
		{"a discount line, intra-State",
	     discount,
	     {"349.00", "-50.00"},
	     {1800, 1800},
	     TaxRegime::kCgstSgst,
	     {"299.00", "26.91", "26.91", "0.00", "352.82"}},
		{"Chandigarh to Chandigarh: CGST + UTGST",
	     chandigarh,
	     {"349.00"},
	     {1800},
	     TaxRegime::kCgstUtgst,
	     {"349.00", "31.41", "31.41", "0.00", "411.82"}},
		{"tax-exempt: rate 0, and a SAC outside the table needs no rate",
	     exempt,
	     {"349.00", "10.00"},
	     {0, 0},
	     TaxRegime::kNoTax,
	     {"359.00", "0.00", "0.00", "0.00", "359.00"}},
		{"USD: no GST", usd, {"349.00"}, {0}, TaxRegime::kNoTax, {"349.00", "0.00", "0.00", "0.00", "349.00"}},
		{"explicit 5 % for a SAC outside the table",
	     Request(kMaharashtra, {ebook}),
	     {"100.00"},
	     {500},
	     TaxRegime::kIgst,
	     {"100.00", "0.00", "0.00", "5.00", "105.00"}},
		{"explicit 0 % overrides the table",
	     Request(kKarnataka, {zero_rated}),
	     {"100.00"},
	     {0},
	     TaxRegime::kCgstSgst,
	     {"100.00", "0.00", "0.00", "0.00", "100.00"}},
		{"no lines", Request(kKarnataka, {}), {}, {}, TaxRegime::kCgstSgst, {"0.00", "0.00", "0.00", "0.00", "0.00"}},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.why);
		Quote quote = QuoteInvoice(c.request);
		ASSERT_EQ(quote.fault, InvoiceFault::kOk) << Name(quote.fault);
		EXPECT_EQ(quote.regime, c.regime);
		ASSERT_EQ(quote.lines.size(), c.taxable.size());
		for (std::size_t i = 0; i < quote.lines.size(); ++i) {
			SCOPED_TRACE(i);
			const QuotedLine &line = quote.lines[i];
			const QuoteLineInput &in = c.request.lines[i];
			EXPECT_EQ(line.taxable, Rs(c.taxable[i]));
			EXPECT_EQ(line.rate_bp, c.rate_bp[i]);
			EXPECT_EQ(line.kind, in.kind);
			EXPECT_EQ(line.description, in.description);
			EXPECT_EQ(line.sac, in.sac);
			EXPECT_EQ(line.quantity, in.quantity);
			EXPECT_EQ(line.unit_price, in.unit_price);
			// The invoice_lines_tax_sign CHECK: no head has the opposite sign of the taxable value.
			for (Amount4 head : {line.tax.cgst, line.tax.sgst, line.tax.utgst, line.tax.igst})
				EXPECT_GE(head * (line.taxable < 0 ? -1 : 1), 0);
		}
		EXPECT_EQ(quote.totals.taxable, Rs(c.totals.taxable));
		EXPECT_EQ(quote.totals.heads.cgst, Rs(c.totals.cgst));
		EXPECT_EQ(quote.totals.heads.sgst + quote.totals.heads.utgst, Rs(c.totals.sgst_or_utgst));
		EXPECT_EQ(quote.totals.heads.igst, Rs(c.totals.igst));
		EXPECT_EQ(quote.totals.total, Rs(c.totals.total));
		EXPECT_EQ(quote.totals.total, quote.totals.taxable + quote.totals.tax + quote.totals.round_off);
	}
	// UTGST really is the UTGST head, not SGST.
	Quote ut = QuoteInvoice(chandigarh);
	EXPECT_EQ(ut.totals.heads.utgst, Rs("31.41"));
	EXPECT_EQ(ut.totals.heads.sgst, 0);
}

TEST(QuoteInvoice, Faults)
{
	struct Case {
		const char *why;
		QuoteRequest request;
		InvoiceFault fault;
		GstFault gst_fault;
		std::optional<std::size_t> line;
	};
	const QuoteLineInput plan = Line(LineKind::kPlan, "Plan", Qty(1), "349.00");
	QuoteRequest bad_supplier = Request(kKarnataka, {plan});
	bad_supplier.supplier_state_code = 99;
	QuoteRequest bad_currency = Request(kKarnataka, {plan});
	bad_currency.currency = "rupees";
	QuoteLineInput negative_qty = plan;
	negative_qty.quantity = -1;
	QuoteLineInput huge_qty = plan;
	huge_qty.quantity = kMaxQuantity4 + 1;
	QuoteLineInput negative_plan = plan;
	negative_plan.unit_price = Rs("-349.00");
	QuoteLineInput huge_price = plan;
	huge_price.unit_price = kMaxUnitPrice4 + 1;
	QuoteLineInput bad_sac = plan;
	bad_sac.sac = "12345";
	QuoteLineInput unknown_sac = plan;
	unknown_sac.sac = "998431";
	QuoteLineInput bad_rate = plan;
	bad_rate.rate_bp = 4500;
	// 9,999,999,999.9999 × 9,999,999,999.9999: about 1e20 rupees, 1e28 before scaling.
	QuoteLineInput overflow = plan;
	overflow.quantity = kMaxQuantity4;
	overflow.unit_price = kMaxUnitPrice4;
	// 100 × 9,999,999,999.9999 = 999,999,999,999.99: the largest taxable value.
	QuoteLineInput largest = plan;
	largest.quantity = Qty(100);
	largest.unit_price = kMaxUnitPrice4;
	QuoteRequest exempt_twice = Request(kKarnataka, {largest, largest});
	exempt_twice.tax_exempt = true;
	QuoteRequest exempt_bad_sac = Request(kKarnataka, {bad_sac});
	exempt_bad_sac.tax_exempt = true;
	const Case cases[] = {
		{"place of supply 99", Request(99, {plan}), InvoiceFault::kGst, GstFault::kUnknownPlaceOfSupply, std::nullopt},
		{"supplier 99", bad_supplier, InvoiceFault::kGst, GstFault::kUnknownSupplierState, std::nullopt},
		{"currency", bad_currency, InvoiceFault::kGst, GstFault::kBadCurrency, std::nullopt},
		{"negative quantity", Request(kKarnataka, {plan, negative_qty}), InvoiceFault::kBadQuantity, GstFault::kOk, 1},
		{"quantity beyond numeric(14,4)", Request(kKarnataka, {huge_qty}), InvoiceFault::kBadQuantity, GstFault::kOk,
	     0},
		{"negative plan price", Request(kKarnataka, {negative_plan}), InvoiceFault::kNegativeAmount, GstFault::kOk, 0},
		{"unit price beyond numeric(14,4)", Request(kKarnataka, {huge_price}), InvoiceFault::kOutOfRange, GstFault::kOk,
	     0},
		{"malformed SAC", Request(kKarnataka, {plan, plan, bad_sac}), InvoiceFault::kGst, GstFault::kBadSac, 2},
		{"malformed SAC without tax", exempt_bad_sac, InvoiceFault::kGst, GstFault::kBadSac, 0},
		{"SAC without a known rate", Request(kKarnataka, {unknown_sac}), InvoiceFault::kGst, GstFault::kUnknownSac, 0},
		{"explicit rate above 40 %", Request(kKarnataka, {bad_rate}), InvoiceFault::kGst, GstFault::kBadRate, 0},
		{"quantity × unit price beyond 64 bits", Request(kKarnataka, {overflow}), InvoiceFault::kOutOfRange,
	     GstFault::kOk, 0},
		{"the largest taxable value plus its tax", Request(kKarnataka, {largest}), InvoiceFault::kOutOfRange,
	     GstFault::kOk, 0},
		{"two of the largest without tax", exempt_twice, InvoiceFault::kOutOfRange, GstFault::kOk, 1},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.why);
		Quote quote;
		ASSERT_NO_THROW(quote = QuoteInvoice(c.request));
		EXPECT_EQ(quote.fault, c.fault) << Name(quote.fault);
		EXPECT_EQ(quote.gst_fault, c.gst_fault);
		EXPECT_EQ(quote.line, c.line);
		EXPECT_TRUE(quote.lines.empty());
		EXPECT_EQ(quote.totals.total, 0);
	}
	// The largest value alone is fine without tax.
	QuoteRequest exempt_once = Request(kKarnataka, {largest});
	exempt_once.tax_exempt = true;
	Quote once = QuoteInvoice(exempt_once);
	ASSERT_EQ(once.fault, InvoiceFault::kOk);
	EXPECT_EQ(once.totals.total, Rs("999,999,999,999.99"));
}

// ---- fault messages --------------------------------------------------------------------------------

TEST(InvoiceFaultMessage, EveryFaultHasItsOwnMessageAndCode)
{
	const InvoiceFault faults[] = {InvoiceFault::kOk,          InvoiceFault::kNegativeAmount, InvoiceFault::kOutOfRange,
	                               InvoiceFault::kBadQuantity, InvoiceFault::kBadDays,        InvoiceFault::kGst};
	std::set<std::string> messages;
	for (InvoiceFault fault : faults) {
		SCOPED_TRACE(Name(fault));
		const char *message = InvoiceFaultMessage(fault);
		ASSERT_NE(message, nullptr);
		EXPECT_FALSE(std::string(message).empty());
		messages.insert(message);
		const ErrorCode expected = fault == InvoiceFault::kOk           ? ErrorCode::kInternal
		                           : fault == InvoiceFault::kOutOfRange ? ErrorCode::kOutOfRange
		                                                                : ErrorCode::kInvalidParameter;
		EXPECT_EQ(InvoiceFaultErrorCode(fault), expected);
	}
	EXPECT_EQ(messages.size(), std::size(faults));

	const InvoiceNumberFault number_faults[] = {
		InvoiceNumberFault::kOk,          InvoiceNumberFault::kBadSeries, InvoiceNumberFault::kBadFinancialYear,
		InvoiceNumberFault::kBadSequence, InvoiceNumberFault::kBadWidth,  InvoiceNumberFault::kTooLong,
		InvoiceNumberFault::kBadFormat,
	};
	std::set<std::string> number_messages;
	for (InvoiceNumberFault fault : number_faults) {
		const char *message = InvoiceNumberFaultMessage(fault);
		ASSERT_NE(message, nullptr);
		EXPECT_FALSE(std::string(message).empty());
		number_messages.insert(message);
	}
	EXPECT_EQ(number_messages.size(), std::size(number_faults));
	EXPECT_NE(std::string(InvoiceNumberFaultMessage(InvoiceNumberFault::kTooLong)).find("16"), std::string::npos);
}

// ---- invoice numbers -------------------------------------------------------------------------------

// invoices_number_format in extension/sql/balatrix.sql.
bool
MatchesNumberCheck(const std::string &number)
{
	static const std::regex kCheck("^[A-Z1-9][A-Z0-9/-]{0,15}$");
	return std::regex_match(number, kCheck);
}

struct FormatCase {
	const char *series;
	const char *fy;
	std::int64_t sequence;
	int min_digits;
	InvoiceNumberFault fault;
	const char *text;
};

TEST(FormatInvoiceNumber, SeriesYearSequence)
{
	constexpr InvoiceNumberFault ok = InvoiceNumberFault::kOk;
	const FormatCase cases[] = {
		{"INV", "2526", 1, 6, ok, "INV/2526/000001"}, // 15 characters
		{"INV", "2526", 42, 6, ok, "INV/2526/000042"},
		{"INV", "2526", 999999, 6, ok, "INV/2526/999999"},
		{"INV", "2526", 1000000, 6, ok, "INV/2526/1000000"}, // the width grows: 16 characters
		{"INV", "2526", 9999999, 6, ok, "INV/2526/9999999"},
		{"INV", "2526", 10000000, 6, InvoiceNumberFault::kTooLong, ""}, // 17
		{"TEL", "2526", 1, 6, ok, "TEL/2526/000001"},                   // gst-payments.md §1.4's example
		{"CRN", "2627", 7, 6, ok, "CRN/2627/000007"},
		{"INVC", "2627", 123456, 6, ok, "INVC/2627/123456"},            // 16
		{"INVCE", "2526", 1, 6, InvoiceNumberFault::kTooLong, ""},      // 17
		{"INVCE", "2526", 1, 5, ok, "INVCE/2526/00001"},                // 16
		{"ABCDEF", "2526", 1, 4, ok, "ABCDEF/2526/0001"},               // 16
		{"ABCDEF", "2526", 10000, 4, InvoiceNumberFault::kTooLong, ""}, // 17
		{"I", "9900", 123456789, 1, ok, "I/9900/123456789"},            // 16
		{"I", "2526", 1, 9, ok, "I/2526/000000001"},
		{"A1", "0910", 5, 1, ok, "A1/0910/5"},
		{"INV", "2526", std::numeric_limits<std::int64_t>::max(), 6, InvoiceNumberFault::kTooLong, ""},
		{"", "2526", 1, 6, InvoiceNumberFault::kBadSeries, ""},
		{"inv", "2526", 1, 6, InvoiceNumberFault::kBadSeries, ""},
		{"1NV", "2526", 1, 6, InvoiceNumberFault::kBadSeries, ""}, // the series CHECK wants a letter first
		{"IN-V", "2526", 1, 6, InvoiceNumberFault::kBadSeries, ""},
		{"INV/", "2526", 1, 6, InvoiceNumberFault::kBadSeries, ""},
		{"ABCDEFG", "2526", 1, 1, InvoiceNumberFault::kBadSeries, ""},
		{"INV", "2527", 1, 6, InvoiceNumberFault::kBadFinancialYear, ""},
		{"INV", "25-26", 1, 6, InvoiceNumberFault::kBadFinancialYear, ""},
		{"INV", "", 1, 6, InvoiceNumberFault::kBadFinancialYear, ""},
		{"INV", "202526", 1, 6, InvoiceNumberFault::kBadFinancialYear, ""},
		{"INV", "2526", 0, 6, InvoiceNumberFault::kBadSequence, ""},
		{"INV", "2526", -1, 6, InvoiceNumberFault::kBadSequence, ""},
		{"INV", "2526", std::numeric_limits<std::int64_t>::min(), 6, InvoiceNumberFault::kBadSequence, ""},
		{"INV", "2526", 1, 0, InvoiceNumberFault::kBadWidth, ""},
		{"INV", "2526", 1, 10, InvoiceNumberFault::kBadWidth, ""},
	};
	for (const FormatCase &c : cases) {
		SCOPED_TRACE(std::string(c.series) + " " + c.fy + " " + std::to_string(c.sequence) + " width " +
		             std::to_string(c.min_digits));
		InvoiceNumberText number = FormatInvoiceNumber(c.series, c.fy, c.sequence, c.min_digits);
		EXPECT_EQ(number.fault, c.fault) << Name(number.fault);
		EXPECT_EQ(number.text, c.text);
		if (number.fault == InvoiceNumberFault::kOk) {
			EXPECT_LE(number.text.size(), 16u);
			EXPECT_TRUE(MatchesNumberCheck(number.text)) << number.text;
		}
	}
	EXPECT_EQ(FormatInvoiceNumber("INV", "2526", 1).text, "INV/2526/000001"); // default width 6
}

TEST(ParseInvoiceNumber, SeriesYearSequence)
{
	struct Case {
		const char *text;
		InvoiceNumberFault fault;
		const char *series;
		const char *fy;
		std::int64_t sequence;
	};
	constexpr InvoiceNumberFault ok = InvoiceNumberFault::kOk;
	const Case cases[] = {
		{"INV/2526/000001", ok, "INV", "2526", 1},
		{"INV/2526/1000000", ok, "INV", "2526", 1000000},
		{"TEL/2526/42", ok, "TEL", "2526", 42},
		{"I/9900/123456789", ok, "I", "9900", 123456789},
		{"A/2526/000000001", ok, "A", "2526", 1}, // 9 digits, 16 characters
		{"ABCDEF/2526/0001", ok, "ABCDEF", "2526", 1},
		{"A/2526/0000000001", InvoiceNumberFault::kTooLong, "", "", 0}, // 17 characters
		{"INV/2526/0000000001", InvoiceNumberFault::kTooLong, "", "", 0},
		{"INV-2526-000001", InvoiceNumberFault::kBadFormat, "", "", 0},
		{"INV/2526", InvoiceNumberFault::kBadFormat, "", "", 0},
		{"INV/2526/0001/1", InvoiceNumberFault::kBadFormat, "", "", 0},
		{"", InvoiceNumberFault::kBadFormat, "", "", 0},
		{"//", InvoiceNumberFault::kBadSeries, "", "", 0},
		{"/2526/000001", InvoiceNumberFault::kBadSeries, "", "", 0},
		{"inv/2526/000001", InvoiceNumberFault::kBadSeries, "", "", 0},
		{"1NV/2526/000001", InvoiceNumberFault::kBadSeries, "", "", 0},
		{"INV/2527/000001", InvoiceNumberFault::kBadFinancialYear, "", "", 0},
		{"INV//000001", InvoiceNumberFault::kBadFinancialYear, "", "", 0},
		{"INV/2526/", InvoiceNumberFault::kBadSequence, "", "", 0},
		{"INV/2526/000000", InvoiceNumberFault::kBadSequence, "", "", 0},
		{"INV/2526/00a001", InvoiceNumberFault::kBadSequence, "", "", 0},
		{"INV/2526/+1", InvoiceNumberFault::kBadSequence, "", "", 0},
		{"INV/2526/-1", InvoiceNumberFault::kBadSequence, "", "", 0},
		{"INV/2526/ 1", InvoiceNumberFault::kBadSequence, "", "", 0},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.text);
		InvoiceNumberParts parts = ParseInvoiceNumber(c.text);
		EXPECT_EQ(parts.fault, c.fault) << Name(parts.fault);
		EXPECT_EQ(parts.series, c.series);
		EXPECT_EQ(parts.financial_year, c.fy);
		EXPECT_EQ(parts.sequence, c.sequence);
	}
}

TEST(InvoiceNumberProperty, FormatAndParseRoundTripWithinSixteenCharacters)
{
	const char *series[] = {"I", "INV", "TEL", "CRN", "DBN", "ABCD", "INVCE", "A1B2C3"};
	const char *years[] = {"2526", "9900", "0001", "2324"};
	const std::int64_t sequences[] = {1,       9,       10,       99,        12345,     999999,
	                                  1000000, 9999999, 10000000, 123456789, 999999999, 1000000000};
	int formatted = 0, too_long = 0;
	for (const char *s : series) {
		for (const char *fy : years) {
			for (std::int64_t sequence : sequences) {
				for (int width = 1; width <= 9; ++width) {
					SCOPED_TRACE(std::string(s) + " " + fy + " " + std::to_string(sequence) + " " +
					             std::to_string(width));
					InvoiceNumberText number = FormatInvoiceNumber(s, fy, sequence, width);
					// The oracle's length: series, '/', 4, '/', max(width, digits of sequence).
					const std::size_t digits = std::to_string(sequence).size();
					const std::size_t length =
						std::string_view(s).size() + 6 + (digits > static_cast<std::size_t>(width) ? digits : width);
					if (length > 16) {
						EXPECT_EQ(number.fault, InvoiceNumberFault::kTooLong);
						++too_long;
						continue;
					}
					ASSERT_EQ(number.fault, InvoiceNumberFault::kOk) << Name(number.fault);
					++formatted;
					EXPECT_EQ(number.text.size(), length);
					EXPECT_TRUE(MatchesNumberCheck(number.text)) << number.text;
					InvoiceNumberParts parts = ParseInvoiceNumber(number.text);
					ASSERT_EQ(parts.fault, InvoiceNumberFault::kOk) << number.text;
					EXPECT_EQ(parts.series, s);
					EXPECT_EQ(parts.financial_year, fy);
					EXPECT_EQ(parts.sequence, sequence);
				}
			}
		}
	}
	EXPECT_GT(formatted, 100);
	EXPECT_GT(too_long, 100);
}

TEST(InvoiceNumber, LabelOfTheIssueDate)
{
	// The financial year of the issue date names the series' year: an invoice of 31 March 2026 is
	// INV/2526/..., one of 1 April 2026 starts INV/2627/000001.
	std::optional<FinancialYear> march = FinancialYearOf(D(2026, 3, 31));
	std::optional<FinancialYear> april = FinancialYearOf(D(2026, 4, 1));
	ASSERT_TRUE(march && april);
	EXPECT_EQ(FormatInvoiceNumber("INV", march->label, 1234).text, "INV/2526/001234");
	EXPECT_EQ(FormatInvoiceNumber("INV", april->label, 1).text, "INV/2627/000001");
}

} // namespace
} // namespace balatrix::core
