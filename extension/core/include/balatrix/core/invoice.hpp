/*
 * Core zone: invoice and pricing arithmetic — the recurring price of a billing cycle, proration of a
 * plan change by days, the lines of a quote or invoice with their GST (through gst.hpp), and Rule 46
 * invoice numbers.
 *
 * Money is Amount4 (money.hpp, units of ₹0.0001). Prices and unit prices may carry 4 decimals
 * (rates, CDR charges); every amount an invoice line or total shows is rounded half away from zero
 * to paise (half-up for charges, symmetric for credits) exactly once, at the line: never a sum of
 * rounded parts where the specification says "the rounded sum", and never rounded twice. Quantities
 * are fixed-point with 4 decimals too (invoice_lines.quantity is numeric(14,4)): 10000 = 1.
 *
 * Expected failures are returned as values (InvoiceFault, InvoiceNumberFault); nothing here throws
 * except std::bad_alloc.
 */
#pragma once

#include "balatrix/core/calendar.hpp"
#include "balatrix/core/gst.hpp"
#include "balatrix/core/money.hpp"
#include "balatrix/core/status.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace balatrix::core {

// Quantities and unit prices are numeric(14,4) in invoice_lines: at most 9,999,999,999.9999.
inline constexpr std::int64_t kMaxQuantity4 = 99'999'999'999'999;
inline constexpr Amount4 kMaxUnitPrice4 = 99'999'999'999'999;

// Why a pricing or quote computation was refused. kOk is the only accepting value.
enum class InvoiceFault {
	kOk,
	kNegativeAmount, // a price that cannot be negative is: a plan price, a charge line's unit price
	kOutOfRange,     // an amount beyond ±kMaxInvoiceAmount4, a unit price beyond kMaxUnitPrice4
	kBadQuantity,    // a quantity outside 0..kMaxQuantity4
	kBadDays,        // proration days: need 0 <= days_remaining <= days_in_period, days_in_period > 0
	kGst,            // the GST computation refused; the GstFault says why
};

const char *InvoiceFaultMessage(InvoiceFault fault);
// kOutOfRange for kOutOfRange, kInvalidParameter for the rest (kInternal for kOk). For kGst use
// GstFaultErrorCode of the accompanying GstFault.
ErrorCode InvoiceFaultErrorCode(InvoiceFault fault);

struct PriceResult {
	InvoiceFault fault = InvoiceFault::kOk;
	Amount4 amount = 0; // paise (a multiple of 100); 0 unless fault is kOk
};

// ---- recurring prices and proration --------------------------------------------------------------

// The price of one period of `cycle` for a plan or add-on priced `monthly_price` per month
// (PRODUCT §3, seed-original.md §3.1 "recommended port semantics"):
//   monthly    round(m)
//   quarterly  round(3 × m)                       (no discount)
//   annual     round(12 × m × 0.8) = round(9.6 × m)  (20 % off; 349 -> 3,350.40, T38)
// each rounded once, half-up, to paise (catalogue prices are paise already, so for them only the
// annual price can round: 9.6 × a paise amount has at most one more decimal, which is then 0).
// These are the defaults the catalogue is seeded with; rate_plans stores all three prices so an
// operator may set others. Faults: kNegativeAmount for m < 0; kOutOfRange when m or the result
// exceeds kMaxInvoiceAmount4.
PriceResult RecurringPrice(Amount4 monthly_price, BillingCycle cycle);

// amount × days_remaining / days_in_period, rounded once half away from zero to paise (a credit
// rounds symmetrically). Faults: kBadDays unless 0 <= days_remaining <= days_in_period and
// days_in_period > 0; kOutOfRange when |amount| > kMaxInvoiceAmount4.
PriceResult Prorate(Amount4 amount, std::int64_t days_remaining, std::int64_t days_in_period);

// The days of `period` from `from` (counted) to its end: DaysBetween(from, period.end). A change
// on the first day leaves every day, one on the last day leaves one. nullopt unless
// period.Contains(from).
std::optional<std::int64_t> DaysRemaining(const Period &period, Date from);

struct PlanChangeProration {
	InvoiceFault fault = InvoiceFault::kOk;
	Amount4 unused_old = 0;   // Prorate(old_price, ...): what the customer paid for and will not use
	Amount4 prorated_new = 0; // Prorate(new_price, ...): the new plan for the rest of the period
	Amount4 difference = 0;   // prorated_new - unused_old: > 0 charge (upgrade), < 0 credit (downgrade)
};

// An immediate plan change inside a period (PRODUCT §7): both prices prorated by the same days and
// rounded to paise SEPARATELY, and the difference taken of the ROUNDED parts, so the three printed
// amounts always add up (T24: 349 -> 999, 15 of 30 days: 174.50, 499.50, +325.00; T25: 999 -> 349,
// 10 of 31 days: 322.26, 112.58, -209.68). The rounded difference of the unrounded parts could
// differ from it by a paisa. Prices are per period (RecurringPrice of the cycle). Faults:
// kNegativeAmount for a negative price; kBadDays and kOutOfRange as Prorate.
PlanChangeProration ProratePlanChange(Amount4 old_price, Amount4 new_price, std::int64_t days_remaining,
                                      std::int64_t days_in_period);

// The amount of a usage line: the exact sum of its CDR charges (4 decimals each), rounded half away
// from zero to paise ONCE (PRODUCT §4: never a sum of rounded charges; three calls of 0.0040 make
// 0.01, not 0.00). Charges may be negative (re-rating adjustments). Faults: kOutOfRange when a
// charge is beyond ±kMaxAmount4 or the running sum or the result is beyond ±kMaxInvoiceAmount4.
// An empty list is 0.
PriceResult UsageAmount(const std::vector<Amount4> &cdr_charges);

// ---- quotes and invoice lines ------------------------------------------------------------------

// invoice_lines.kind.
enum class LineKind {
	kPlan,
	kAddOn,
	kDidRent,
	kUsage,
	kOverage,
	kProration,
	kDiscount,
	kSetupFee,
	kAdjustment,
};

// "plan", "add_on", "did_rent", "usage", "overage", "proration", "discount", "setup_fee",
// "adjustment": the SQL spelling.
const char *LineKindName(LineKind kind);
std::optional<LineKind> ParseLineKind(std::string_view name);
// The kinds that may be negative (invoice_lines_sign CHECK): discount, proration, adjustment.
bool IsCreditKind(LineKind kind);

struct QuoteLineInput {
	LineKind kind = LineKind::kPlan;
	std::string description;
	std::string sac;                         // 4, 6 or 8 digits starting with 99 (e.g. "998412")
	std::int64_t quantity = kAmount4PerUnit; // 4 decimals: 10000 = 1, 500000 = 50 (minutes, months...)
	Amount4 unit_price = 0;                  // 4 decimals; negative only for credit kinds
	std::optional<std::int32_t> rate_bp;     // explicit GST rate in basis points; default: GstRateForSac(sac)
};

struct QuotedLine {
	LineKind kind = LineKind::kPlan;
	std::string description;
	std::string sac;
	std::int64_t quantity = 0;
	Amount4 unit_price = 0;
	Amount4 taxable = 0;      // round(quantity × unit_price) to paise, once
	std::int32_t rate_bp = 0; // the rate the line is taxed at; 0 when the regime is kNoTax
	TaxHeads tax;             // ComputeLineTax(taxable, rate_bp, regime)
};

struct QuoteRequest {
	int supplier_state_code = 29; // the supplier's State (setting; default Karnataka, PRODUCT §6)
	int place_of_supply_code = 0; // frozen on the invoice by the caller (IGST Act s.12(11))
	bool tax_exempt = false;
	std::string currency = "INR";
	bool round_to_rupee = false; // round the grand total to the rupee with a round-off (setting)
	std::vector<QuoteLineInput> lines;
};

struct Quote {
	InvoiceFault fault = InvoiceFault::kOk;
	GstFault gst_fault = GstFault::kOk; // why, when fault is kGst
	std::optional<std::size_t> line;    // the offending line, when the fault is one line's
	TaxRegime regime = TaxRegime::kNoTax;
	std::vector<QuotedLine> lines; // one per input line, in order; empty unless fault is kOk
	InvoiceTotals totals;          // SumInvoiceLines of the lines; zero unless fault is kOk
};

// Prices the lines of an invoice, or of a checkout preview (the same arithmetic for both:
// seed-original.md §12 recommendation 3):
//  1. the regime from the parties (DetermineTaxRegime; a fault there is kGst with no line);
//  2. per line: quantity within 0..kMaxQuantity4 (kBadQuantity), |unit_price| <= kMaxUnitPrice4
//     (kOutOfRange), a negative unit price only on a credit kind (kNegativeAmount), a well-formed
//     SAC (kGst / kBadSac, even without tax: the SAC is printed), the rate (rate_bp if given, checked
//     with CheckGstRate, else GstRateForSac; looked up only when the regime taxes), taxable =
//     quantity × unit_price rounded once to paise (kOutOfRange beyond kMaxInvoiceAmount4), and its
//     tax by ComputeLineTax;
//  3. the totals by SumInvoiceLines (with round_to_rupee).
// A usage line is one line of quantity 1 and unit_price = the exact sum of its CDR charges (see
// UsageAmount for the rule; an overage line is minutes × the overage rate). Because each line is
// taxed on its own, an invoice's tax can differ by a paisa from the rate applied to its taxable total
// (T15 intra-State: 80.74, against 18 % of 448.50 = 80.73): that is the PRODUCT §4 rule.
Quote QuoteInvoice(const QuoteRequest &request);

// ---- invoice numbers (CGST Rule 46(b)) -----------------------------------------------------------

inline constexpr std::size_t kMaxInvoiceNumberLength = 16;

enum class InvoiceNumberFault {
	kOk,
	kBadSeries,        // not 1-6 characters [A-Z][A-Z0-9]* (the invoices.series CHECK)
	kBadFinancialYear, // not a financial-year label such as "2526" (FinancialYearFromLabel)
	kBadSequence,      // a sequence below 1, or (parsing) no digits / not a number
	kBadWidth,         // min_digits outside 1..9
	kTooLong,          // the number would exceed 16 characters
	kBadFormat,        // (parsing) not SERIES/FY/SEQUENCE
};

const char *InvoiceNumberFaultMessage(InvoiceNumberFault fault);

// True for 1-6 characters, an upper-case ASCII letter then upper-case letters or digits.
bool IsValidInvoiceSeries(std::string_view series);

struct InvoiceNumberText {
	InvoiceNumberFault fault = InvoiceNumberFault::kOk;
	std::string text; // set when fault is kOk
};

// "SERIES/FY/SEQUENCE" with the sequence zero-padded to at least min_digits:
// ("INV", "2526", 1) -> "INV/2526/000001" (15 characters). Rule 46(b): at most 16 characters of
// letters, digits, '-' and '/', unique per financial year (the label in the number makes a series
// restart safely each April). The result always matches invoices_number_format
// '^[A-Z1-9][A-Z0-9/-]{0,15}$' (a series starts with a letter). A series of n characters leaves
// 10 - n digits for the sequence: at the default width of 6, a series of up to 4 characters fits
// ("INV" up to sequence 9999999, 16 characters), and a 5- or 6-character series needs min_digits 5
// or 4. Faults: kBadSeries, kBadFinancialYear, kBadSequence (sequence < 1), kBadWidth, kTooLong
// (nothing is ever truncated).
InvoiceNumberText FormatInvoiceNumber(std::string_view series, std::string_view financial_year, std::int64_t sequence,
                                      int min_digits = 6);

struct InvoiceNumberParts {
	InvoiceNumberFault fault = InvoiceNumberFault::kOk;
	std::string series;         // set when fault is kOk
	std::string financial_year; // the four-digit label
	std::int64_t sequence = 0;
};

// The inverse of FormatInvoiceNumber, for numbers it could have produced with any width: exactly
// three '/'-separated parts, a valid series, a valid financial-year label, and a sequence of 1-9
// ASCII digits (leading zeros allowed) whose value is at least 1; at most 16 characters in all.
// Faults: kTooLong, kBadFormat (not three parts), kBadSeries, kBadFinancialYear, kBadSequence.
InvoiceNumberParts ParseInvoiceNumber(std::string_view text);

} // namespace balatrix::core
