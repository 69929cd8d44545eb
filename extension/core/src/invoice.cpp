/*
 * Core zone: invoice and pricing arithmetic (see invoice.hpp for the contracts).
 *
 * Every rounding here is MulDivRoundToPaise: the exact rational value (price × 9.6, price × days /
 * days, quantity × unit price) rounded once to paise, computed in 128 bits, so neither overflow nor
 * a double rounding (0.004950 -> 0.0050 -> 0.01) can creep in.
 */
#include "balatrix/core/invoice.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace balatrix::core {
namespace {

bool
WithinInvoiceRange(Amount4 amount)
{
	return amount >= -kMaxInvoiceAmount4 && amount <= kMaxInvoiceAmount4;
}

bool
IsDigit(char c)
{
	return c >= '0' && c <= '9';
}

bool
IsUpper(char c)
{
	return c >= 'A' && c <= 'Z';
}

PriceResult
Fault(InvoiceFault fault)
{
	PriceResult result;
	result.fault = fault;
	return result;
}

PriceResult
Amount(Amount4 amount)
{
	PriceResult result;
	result.amount = amount;
	return result;
}

constexpr std::array<std::pair<LineKind, const char *>, 9> kLineKinds = {{
	{LineKind::kPlan, "plan"},
	{LineKind::kAddOn, "add_on"},
	{LineKind::kDidRent, "did_rent"},
	{LineKind::kUsage, "usage"},
	{LineKind::kOverage, "overage"},
	{LineKind::kProration, "proration"},
	{LineKind::kDiscount, "discount"},
	{LineKind::kSetupFee, "setup_fee"},
	{LineKind::kAdjustment, "adjustment"},
}};

} // namespace

const char *
InvoiceFaultMessage(InvoiceFault fault)
{
	switch (fault) {
	case InvoiceFault::kOk:
		return "no fault";
	case InvoiceFault::kNegativeAmount:
		return "a price must not be negative (only discount, proration and adjustment lines may be)";
	case InvoiceFault::kOutOfRange:
		return "amount out of range for an invoice (at most 999999999999.99; unit prices 9999999999.9999)";
	case InvoiceFault::kBadQuantity:
		return "a quantity must be between 0 and 9999999999.9999";
	case InvoiceFault::kBadDays:
		return "proration needs 0 <= days remaining <= days in the period, and a period of at least one day";
	case InvoiceFault::kGst:
		return "the GST computation was refused";
	}
	return "invoice computation refused";
}

ErrorCode
InvoiceFaultErrorCode(InvoiceFault fault)
{
	switch (fault) {
	case InvoiceFault::kOk:
		return ErrorCode::kInternal;
	case InvoiceFault::kOutOfRange:
		return ErrorCode::kOutOfRange;
	default:
		return ErrorCode::kInvalidParameter;
	}
}

// ---- recurring prices and proration --------------------------------------------------------------

PriceResult
RecurringPrice(Amount4 monthly_price, BillingCycle cycle)
{
	if (monthly_price < 0)
		return Fault(InvoiceFault::kNegativeAmount);
	if (monthly_price > kMaxInvoiceAmount4)
		return Fault(InvoiceFault::kOutOfRange);
	Amount4 price = 0;
	switch (cycle) {
	case BillingCycle::kMonthly:
		price = MulDivRoundToPaise(monthly_price, 1, 1);
		break;
	case BillingCycle::kQuarterly:
		price = MulDivRoundToPaise(monthly_price, 3, 1);
		break;
	case BillingCycle::kAnnual:
		price = MulDivRoundToPaise(monthly_price, 48, 5); // 12 × 0.8 = 48 / 5
		break;
	}
	if (price > kMaxInvoiceAmount4)
		return Fault(InvoiceFault::kOutOfRange);
	return Amount(price);
}

PriceResult
Prorate(Amount4 amount, std::int64_t days_remaining, std::int64_t days_in_period)
{
	if (days_in_period <= 0 || days_remaining < 0 || days_remaining > days_in_period)
		return Fault(InvoiceFault::kBadDays);
	if (!WithinInvoiceRange(amount))
		return Fault(InvoiceFault::kOutOfRange);
	// |result| <= |amount| (days_remaining <= days_in_period): within range.
	return Amount(MulDivRoundToPaise(amount, days_remaining, days_in_period));
}

std::optional<std::int64_t>
DaysRemaining(const Period &period, Date from)
{
	if (!period.Contains(from))
		return std::nullopt;
	return DaysBetween(from, period.end);
}

PlanChangeProration
ProratePlanChange(Amount4 old_price, Amount4 new_price, std::int64_t days_remaining, std::int64_t days_in_period)
{
	PlanChangeProration result;
	if (old_price < 0 || new_price < 0) {
		result.fault = InvoiceFault::kNegativeAmount;
		return result;
	}
	PriceResult unused_old = Prorate(old_price, days_remaining, days_in_period);
	PriceResult prorated_new = Prorate(new_price, days_remaining, days_in_period);
	if (unused_old.fault != InvoiceFault::kOk || prorated_new.fault != InvoiceFault::kOk) {
		result.fault = unused_old.fault != InvoiceFault::kOk ? unused_old.fault : prorated_new.fault;
		return result;
	}
	// Both parts are in [0, kMaxInvoiceAmount4]: the difference is within range.
	result.unused_old = unused_old.amount;
	result.prorated_new = prorated_new.amount;
	result.difference = prorated_new.amount - unused_old.amount;
	return result;
}

PriceResult
UsageAmount(const std::vector<Amount4> &cdr_charges)
{
	// A charge may be as large as kMaxAmount4 (9e18), but the running sum is kept within the invoice
	// range (about 1e16) after every step, so sum + charge is below 9.02e18 < INT64_MAX and never
	// overflows. Refusing a running sum beyond the range refuses some lists whose later credits
	// would have brought the sum back; CDR charges are non-negative except for re-rating credits, and
	// such a list could not come from one invoice period anyway.
	Amount4 sum = 0;
	for (Amount4 charge : cdr_charges) {
		if (charge < -kMaxAmount4 || charge > kMaxAmount4)
			return Fault(InvoiceFault::kOutOfRange);
		sum += charge;
		if (!WithinInvoiceRange(sum))
			return Fault(InvoiceFault::kOutOfRange);
	}
	const Amount4 rounded = RoundToPaise(sum);
	if (!WithinInvoiceRange(rounded))
		return Fault(InvoiceFault::kOutOfRange);
	return Amount(rounded);
}

// ---- quotes and invoice lines ------------------------------------------------------------------

const char *
LineKindName(LineKind kind)
{
	for (const auto &entry : kLineKinds)
		if (entry.first == kind)
			return entry.second;
	return "adjustment";
}

std::optional<LineKind>
ParseLineKind(std::string_view name)
{
	for (const auto &entry : kLineKinds)
		if (name == entry.second)
			return entry.first;
	return std::nullopt;
}

bool
IsCreditKind(LineKind kind)
{
	return kind == LineKind::kDiscount || kind == LineKind::kProration || kind == LineKind::kAdjustment;
}

Quote
QuoteInvoice(const QuoteRequest &request)
{
	Quote quote;
	auto fail = [](InvoiceFault fault, GstFault gst_fault, std::optional<std::size_t> line) {
		Quote failed;
		failed.fault = fault;
		failed.gst_fault = gst_fault;
		failed.line = line;
		return failed;
	};

	TaxRegimeDecision regime = DetermineTaxRegime(request.supplier_state_code, request.place_of_supply_code,
	                                              request.tax_exempt, request.currency);
	if (regime.fault != GstFault::kOk)
		return fail(InvoiceFault::kGst, regime.fault, std::nullopt);
	quote.regime = regime.regime;

	std::vector<TaxedLine> taxed;
	taxed.reserve(request.lines.size());
	quote.lines.reserve(request.lines.size());
	for (std::size_t i = 0; i < request.lines.size(); ++i) {
		const QuoteLineInput &in = request.lines[i];
		if (in.quantity < 0 || in.quantity > kMaxQuantity4)
			return fail(InvoiceFault::kBadQuantity, GstFault::kOk, i);
		if (in.unit_price < -kMaxUnitPrice4 || in.unit_price > kMaxUnitPrice4)
			return fail(InvoiceFault::kOutOfRange, GstFault::kOk, i);
		if (in.unit_price < 0 && !IsCreditKind(in.kind))
			return fail(InvoiceFault::kNegativeAmount, GstFault::kOk, i);
		if (!IsWellFormedSac(in.sac))
			return fail(InvoiceFault::kGst, GstFault::kBadSac, i);

		std::int32_t rate_bp = 0;
		if (in.rate_bp) {
			if (CheckGstRate(*in.rate_bp) != GstFault::kOk)
				return fail(InvoiceFault::kGst, GstFault::kBadRate, i);
			rate_bp = *in.rate_bp;
		} else if (quote.regime != TaxRegime::kNoTax) {
			GstRateLookup lookup = GstRateForSac(in.sac);
			if (lookup.fault != GstFault::kOk)
				return fail(InvoiceFault::kGst, lookup.fault, i);
			rate_bp = lookup.rate_bp;
		}
		if (quote.regime == TaxRegime::kNoTax)
			rate_bp = 0;

		// quantity and unit_price both have 4 decimals: taxable = quantity × unit_price / 10^4 in
		// Amount4, rounded once to paise. The product (< 1e28) fits 128 bits but its quotient need
		// not fit 64, so the magnitude is judged first, on the truncated quotient; a value that
		// passes is within a paisa of the range and MulDivRoundToPaise cannot overflow on it.
		const __int128 exact = static_cast<__int128>(in.unit_price) * in.quantity / kAmount4PerUnit;
		if (exact > kMaxInvoiceAmount4 + 100 || exact < -(kMaxInvoiceAmount4 + 100))
			return fail(InvoiceFault::kOutOfRange, GstFault::kOk, i);
		const Amount4 taxable = MulDivRoundToPaise(in.unit_price, in.quantity, kAmount4PerUnit);
		if (!WithinInvoiceRange(taxable))
			return fail(InvoiceFault::kOutOfRange, GstFault::kOk, i);
		LineTax tax = ComputeLineTax(taxable, rate_bp, quote.regime);
		if (tax.fault != GstFault::kOk)
			return fail(InvoiceFault::kGst, tax.fault, i);

		QuotedLine out;
		out.kind = in.kind;
		out.description = in.description;
		out.sac = in.sac;
		out.quantity = in.quantity;
		out.unit_price = in.unit_price;
		out.taxable = taxable;
		out.rate_bp = rate_bp;
		out.tax = tax.tax;
		quote.lines.push_back(std::move(out));
		taxed.push_back(TaxedLine{taxable, tax.tax});
	}

	InvoiceTotalsResult totals = SumInvoiceLines(taxed, request.round_to_rupee);
	if (totals.fault != GstFault::kOk) {
		InvoiceFault fault = totals.fault == GstFault::kOutOfRange ? InvoiceFault::kOutOfRange : InvoiceFault::kGst;
		return fail(fault, fault == InvoiceFault::kGst ? totals.fault : GstFault::kOk, totals.line);
	}
	quote.totals = totals.totals;
	return quote;
}

// ---- invoice numbers ---------------------------------------------------------------------------

const char *
InvoiceNumberFaultMessage(InvoiceNumberFault fault)
{
	switch (fault) {
	case InvoiceNumberFault::kOk:
		return "no fault";
	case InvoiceNumberFault::kBadSeries:
		return "an invoice series is 1 to 6 upper-case letters or digits, starting with a letter";
	case InvoiceNumberFault::kBadFinancialYear:
		return "a financial year label is four digits such as 2526 (FY 2025-26)";
	case InvoiceNumberFault::kBadSequence:
		return "an invoice sequence number is a positive integer";
	case InvoiceNumberFault::kBadWidth:
		return "the sequence width must be between 1 and 9 digits";
	case InvoiceNumberFault::kTooLong:
		return "an invoice number has at most 16 characters (CGST Rule 46(b))";
	case InvoiceNumberFault::kBadFormat:
		return "an invoice number is SERIES/FY/SEQUENCE, e.g. INV/2526/000001";
	}
	return "invalid invoice number";
}

bool
IsValidInvoiceSeries(std::string_view series)
{
	return !series.empty() && series.size() <= 6 && IsUpper(series[0]) &&
	       std::all_of(series.begin(), series.end(), [](char c) { return IsUpper(c) || IsDigit(c); });
}

InvoiceNumberText
FormatInvoiceNumber(std::string_view series, std::string_view financial_year, std::int64_t sequence, int min_digits)
{
	InvoiceNumberText result;
	if (!IsValidInvoiceSeries(series))
		result.fault = InvoiceNumberFault::kBadSeries;
	else if (!FinancialYearFromLabel(financial_year))
		result.fault = InvoiceNumberFault::kBadFinancialYear;
	else if (sequence < 1)
		result.fault = InvoiceNumberFault::kBadSequence;
	else if (min_digits < 1 || min_digits > 9)
		result.fault = InvoiceNumberFault::kBadWidth;
	if (result.fault != InvoiceNumberFault::kOk)
		return result;

	std::string digits;
	for (std::int64_t rest = sequence; rest != 0; rest /= 10)
		digits.push_back(static_cast<char>('0' + rest % 10));
	while (digits.size() < static_cast<std::size_t>(min_digits))
		digits.push_back('0');
	std::reverse(digits.begin(), digits.end());

	const std::size_t length = series.size() + 1 + financial_year.size() + 1 + digits.size();
	if (length > kMaxInvoiceNumberLength) {
		result.fault = InvoiceNumberFault::kTooLong;
		return result;
	}
	result.text.reserve(length);
	result.text.append(series);
	result.text.push_back('/');
	result.text.append(financial_year);
	result.text.push_back('/');
	result.text.append(digits);
	return result;
}

InvoiceNumberParts
ParseInvoiceNumber(std::string_view text)
{
	InvoiceNumberParts result;
	if (text.size() > kMaxInvoiceNumberLength) {
		result.fault = InvoiceNumberFault::kTooLong;
		return result;
	}
	const std::size_t first = text.find('/');
	const std::size_t second = first == std::string_view::npos ? first : text.find('/', first + 1);
	if (second == std::string_view::npos || text.find('/', second + 1) != std::string_view::npos) {
		result.fault = InvoiceNumberFault::kBadFormat;
		return result;
	}
	const std::string_view series = text.substr(0, first);
	const std::string_view financial_year = text.substr(first + 1, second - first - 1);
	const std::string_view sequence = text.substr(second + 1);
	if (!IsValidInvoiceSeries(series)) {
		result.fault = InvoiceNumberFault::kBadSeries;
		return result;
	}
	if (!FinancialYearFromLabel(financial_year)) {
		result.fault = InvoiceNumberFault::kBadFinancialYear;
		return result;
	}
	// At most 16 - len("A/2526/") = 9 digits: no overflow.
	std::int64_t value = 0;
	if (sequence.empty() || sequence.size() > 9 || !std::all_of(sequence.begin(), sequence.end(), IsDigit)) {
		result.fault = InvoiceNumberFault::kBadSequence;
		return result;
	}
	for (char c : sequence)
		value = value * 10 + (c - '0');
	if (value < 1) {
		result.fault = InvoiceNumberFault::kBadSequence;
		return result;
	}
	result.series = std::string(series);
	result.financial_year = std::string(financial_year);
	result.sequence = value;
	return result;
}

} // namespace balatrix::core
