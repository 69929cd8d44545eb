/*
 * Core zone: GST reference data, GSTIN validation and the tax arithmetic of an invoice. See gst.hpp
 * for the contracts.
 */
#include "balatrix/core/gst.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace balatrix::core {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

// reference/gst-payments.md §1.6. 25 (Daman & Diu) and 28 (undivided Andhra Pradesh) are legacy
// codes: no longer places of supply for new registrations, but GSTINs issued under them remain
// valid, so they are accepted as GSTIN prefixes.
constexpr std::array<GstState, 41> kStates = {{
	{1, "Jammu and Kashmir", IntraStateLevy::kSgst, true},
	{2, "Himachal Pradesh", IntraStateLevy::kSgst, true},
	{3, "Punjab", IntraStateLevy::kSgst, true},
	{4, "Chandigarh", IntraStateLevy::kUtgst, true},
	{5, "Uttarakhand", IntraStateLevy::kSgst, true},
	{6, "Haryana", IntraStateLevy::kSgst, true},
	{7, "Delhi", IntraStateLevy::kSgst, true},
	{8, "Rajasthan", IntraStateLevy::kSgst, true},
	{9, "Uttar Pradesh", IntraStateLevy::kSgst, true},
	{10, "Bihar", IntraStateLevy::kSgst, true},
	{11, "Sikkim", IntraStateLevy::kSgst, true},
	{12, "Arunachal Pradesh", IntraStateLevy::kSgst, true},
	{13, "Nagaland", IntraStateLevy::kSgst, true},
	{14, "Manipur", IntraStateLevy::kSgst, true},
	{15, "Mizoram", IntraStateLevy::kSgst, true},
	{16, "Tripura", IntraStateLevy::kSgst, true},
	{17, "Meghalaya", IntraStateLevy::kSgst, true},
	{18, "Assam", IntraStateLevy::kSgst, true},
	{19, "West Bengal", IntraStateLevy::kSgst, true},
	{20, "Jharkhand", IntraStateLevy::kSgst, true},
	{21, "Odisha", IntraStateLevy::kSgst, true},
	{22, "Chhattisgarh", IntraStateLevy::kSgst, true},
	{23, "Madhya Pradesh", IntraStateLevy::kSgst, true},
	{24, "Gujarat", IntraStateLevy::kSgst, true},
	{25, "Daman and Diu", IntraStateLevy::kUtgst, true},
	{26, "Dadra and Nagar Haveli and Daman and Diu", IntraStateLevy::kUtgst, true},
	{27, "Maharashtra", IntraStateLevy::kSgst, true},
	{28, "Andhra Pradesh (before division)", IntraStateLevy::kSgst, true},
	{29, "Karnataka", IntraStateLevy::kSgst, true},
	{30, "Goa", IntraStateLevy::kSgst, true},
	{31, "Lakshadweep", IntraStateLevy::kUtgst, true},
	{32, "Kerala", IntraStateLevy::kSgst, true},
	{33, "Tamil Nadu", IntraStateLevy::kSgst, true},
	{34, "Puducherry", IntraStateLevy::kSgst, true},
	{35, "Andaman and Nicobar Islands", IntraStateLevy::kUtgst, true},
	{36, "Telangana", IntraStateLevy::kSgst, true},
	{37, "Andhra Pradesh", IntraStateLevy::kSgst, true},
	{38, "Ladakh", IntraStateLevy::kUtgst, true},
	{96, "Other Countries", IntraStateLevy::kNone, false},
	{97, "Other Territory", IntraStateLevy::kUtgst, true},
	{99, "Centre Jurisdiction", IntraStateLevy::kNone, false},
}};

int
ValueOf(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
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

bool
IsSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char
ToUpper(char c)
{
	return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

} // namespace

const GstState *
GstStates(std::size_t *count) noexcept
{
	*count = kStates.size();
	return kStates.data();
}

const GstState *
FindGstState(int code) noexcept
{
	for (const GstState &state : kStates)
		if (state.code == code)
			return &state;
	return nullptr;
}

std::optional<char>
GstinCheckCharacter(std::string_view first14)
{
	if (first14.size() != 14)
		return std::nullopt;
	int sum = 0;
	for (std::size_t i = 0; i < first14.size(); ++i) {
		int value = ValueOf(first14[i]);
		if (value < 0)
			return std::nullopt;
		// Positions counted from 1: odd positions weigh 1, even positions 2.
		int product = value * ((i % 2 == 0) ? 1 : 2);
		sum += product / 36 + product % 36;
	}
	return kAlphabet[(36 - sum % 36) % 36];
}

GstinCheck
CheckGstin(std::string_view input, bool verify_check_character)
{
	GstinCheck result;
	while (!input.empty() && IsSpace(input.front()))
		input.remove_prefix(1);
	while (!input.empty() && IsSpace(input.back()))
		input.remove_suffix(1);
	// A GSTIN is ASCII; a non-ASCII byte is a wrong character, whatever the length in bytes says.
	for (char c : input) {
		if (static_cast<unsigned char>(c) >= 0x80) {
			result.fault = GstinFault::kBadFormat;
			return result;
		}
	}
	if (input.size() != 15) {
		result.fault = GstinFault::kBadLength;
		return result;
	}
	result.normalized.reserve(15);
	for (char c : input)
		result.normalized.push_back(ToUpper(c));
	const std::string &g = result.normalized;

	bool shape = IsDigit(g[0]) && IsDigit(g[1]);
	for (int i = 2; i < 7; ++i)
		shape = shape && IsUpper(g[i]);
	for (int i = 7; i < 11; ++i)
		shape = shape && IsDigit(g[i]);
	shape = shape && IsUpper(g[11]) && (IsDigit(g[12]) || IsUpper(g[12])) && g[13] == 'Z' &&
	        (IsDigit(g[14]) || IsUpper(g[14]));
	if (!shape) {
		result.fault = GstinFault::kBadFormat;
		return result;
	}

	result.expected_check = *GstinCheckCharacter(std::string_view(g).substr(0, 14));
	int code = (g[0] - '0') * 10 + (g[1] - '0');
	const GstState *state = FindGstState(code);
	if (state == nullptr || !state->gstin_prefix) {
		result.fault = GstinFault::kUnknownState;
		return result;
	}
	if (g[12] == '0') {
		result.fault = GstinFault::kBadEntityNumber;
		return result;
	}

	result.state_code = code;
	if (verify_check_character && g[14] != result.expected_check) {
		result.fault = GstinFault::kBadCheckCharacter;
		return result;
	}
	result.fault = GstinFault::kValid;
	return result;
}

const char *
GstinFaultMessage(GstinFault fault)
{
	switch (fault) {
	case GstinFault::kValid:
		return "valid GSTIN";
	case GstinFault::kBadLength:
		return "a GSTIN has exactly 15 characters";
	case GstinFault::kBadFormat:
		return "a GSTIN is 2 digits, a PAN (5 letters, 4 digits, 1 letter), an entity character, 'Z' "
		       "and a check character";
	case GstinFault::kUnknownState:
		return "the first two digits of a GSTIN must be a State / UT code (01-38 or 97)";
	case GstinFault::kBadEntityNumber:
		return "the 13th character of a GSTIN (entity number) cannot be 0";
	case GstinFault::kBadCheckCharacter:
		return "the GSTIN check character (15th) does not match the first 14 characters";
	}
	return "invalid GSTIN";
}

// ---- tax computation -----------------------------------------------------------------------

namespace {

bool
WithinInvoiceRange(Amount4 amount)
{
	return amount >= -kMaxInvoiceAmount4 && amount <= kMaxInvoiceAmount4;
}

bool
IsPaise(Amount4 amount)
{
	return amount % 100 == 0;
}

bool
HeadsArePaise(const TaxHeads &heads)
{
	return IsPaise(heads.cgst) && IsPaise(heads.sgst) && IsPaise(heads.utgst) && IsPaise(heads.igst);
}

bool
HeadsWithinRange(const TaxHeads &heads)
{
	return WithinInvoiceRange(heads.cgst) && WithinInvoiceRange(heads.sgst) && WithinInvoiceRange(heads.utgst) &&
	       WithinInvoiceRange(heads.igst);
}

// a + b when both are within ±kMaxInvoiceAmount4 (so the sum cannot overflow) and so is the sum.
bool
AddWithinRange(Amount4 a, Amount4 b, Amount4 *sum)
{
	*sum = a + b;
	return WithinInvoiceRange(*sum);
}

// The 6-digit SACs of §1.1 taxed at 18 %: groups 99841 (telecommunications) and 99842 (internet
// telecommunications). Sorted, for the eye; the list is short enough to scan.
constexpr std::array<std::string_view, 11> kTelecomSacs = {
	"998411", "998412", "998413", "998414", "998415", "998419", "998421", "998422", "998423", "998424", "998429",
};

} // namespace

const char *
GstFaultMessage(GstFault fault)
{
	switch (fault) {
	case GstFault::kOk:
		return "no fault";
	case GstFault::kBadCurrency:
		return "currency must be a three-letter upper-case ISO 4217 code";
	case GstFault::kUnknownSupplierState:
		return "the supplier State code must be a State / UT of registration (01-38 or 97)";
	case GstFault::kUnknownPlaceOfSupply:
		return "the place of supply must be a State / UT code (01-38, 96 or 97)";
	case GstFault::kBadSac:
		return "a SAC is 4, 6 or 8 digits starting with 99";
	case GstFault::kUnknownSac:
		return "no GST rate is known for this SAC: give the rate explicitly";
	case GstFault::kBadRate:
		return "a GST rate must be between 0 and 40 percent";
	case GstFault::kNotPaise:
		return "a taxable value or tax amount must be a whole number of paise";
	case GstFault::kOutOfRange:
		return "amount out of range for an invoice (at most 999999999999.99)";
	case GstFault::kMixedLevies:
		return "the lines of one invoice must carry the same tax heads (IGST, CGST + SGST or CGST + UTGST)";
	}
	return "GST computation refused";
}

ErrorCode
GstFaultErrorCode(GstFault fault)
{
	switch (fault) {
	case GstFault::kOk:
		return ErrorCode::kInternal;
	case GstFault::kOutOfRange:
		return ErrorCode::kOutOfRange;
	default:
		return ErrorCode::kInvalidParameter;
	}
}

TaxRegimeDecision
DetermineTaxRegime(int supplier_state_code, int place_of_supply_code, bool tax_exempt, std::string_view currency)
{
	TaxRegimeDecision decision;
	if (currency.size() != 3 || !std::all_of(currency.begin(), currency.end(), IsUpper)) {
		decision.fault = GstFault::kBadCurrency;
		return decision;
	}
	if (currency != "INR" || tax_exempt)
		return decision; // kNoTax
	const GstState *supplier = FindGstState(supplier_state_code);
	if (supplier == nullptr || !supplier->gstin_prefix) {
		decision.fault = GstFault::kUnknownSupplierState;
		return decision;
	}
	const GstState *place = FindGstState(place_of_supply_code);
	if (place == nullptr || place->code == 99) {
		decision.fault = GstFault::kUnknownPlaceOfSupply;
		return decision;
	}
	if (supplier->code != place->code)
		decision.regime = TaxRegime::kIgst;
	else
		decision.regime = place->levy == IntraStateLevy::kUtgst ? TaxRegime::kCgstUtgst : TaxRegime::kCgstSgst;
	return decision;
}

bool
IsWellFormedSac(std::string_view sac)
{
	return (sac.size() == 4 || sac.size() == 6 || sac.size() == 8) && sac[0] == '9' && sac[1] == '9' &&
	       std::all_of(sac.begin(), sac.end(), IsDigit);
}

GstRateLookup
GstRateForSac(std::string_view sac)
{
	GstRateLookup lookup;
	if (!IsWellFormedSac(sac)) {
		lookup.fault = GstFault::kBadSac;
		return lookup;
	}
	const std::string_view group = sac.substr(0, std::min<std::size_t>(sac.size(), 6));
	const bool known =
		group == "9984" || std::find(kTelecomSacs.begin(), kTelecomSacs.end(), group) != kTelecomSacs.end();
	if (!known) {
		lookup.fault = GstFault::kUnknownSac;
		return lookup;
	}
	lookup.rate_bp = kTelecomGstRateBp;
	return lookup;
}

GstFault
CheckGstRate(std::int32_t rate_bp)
{
	return (rate_bp >= 0 && rate_bp <= kMaxGstRateBp) ? GstFault::kOk : GstFault::kBadRate;
}

LineTax
ComputeLineTax(Amount4 taxable, std::int32_t rate_bp, TaxRegime regime)
{
	LineTax result;
	if (CheckGstRate(rate_bp) != GstFault::kOk) {
		result.fault = GstFault::kBadRate;
		return result;
	}
	if (!WithinInvoiceRange(taxable)) {
		result.fault = GstFault::kOutOfRange;
		return result;
	}
	if (!IsPaise(taxable)) {
		result.fault = GstFault::kNotPaise;
		return result;
	}
	// rate_bp / 10000 of the taxable value, or half of it per head, rounded once to paise (half away
	// from zero, so a credit's tax is the exact negation of the charge's). |taxable| <= 1e16 and
	// rate <= 40 %: no head can leave the invoice range.
	switch (regime) {
	case TaxRegime::kNoTax:
		break;
	case TaxRegime::kCgstSgst:
		result.tax.cgst = MulDivRoundToPaise(taxable, rate_bp, 20000);
		result.tax.sgst = result.tax.cgst;
		break;
	case TaxRegime::kCgstUtgst:
		result.tax.cgst = MulDivRoundToPaise(taxable, rate_bp, 20000);
		result.tax.utgst = result.tax.cgst;
		break;
	case TaxRegime::kIgst:
		result.tax.igst = MulDivRoundToPaise(taxable, rate_bp, 10000);
		break;
	}
	return result;
}

InvoiceTotalsResult
SumInvoiceLines(const std::vector<TaxedLine> &lines, bool round_to_rupee)
{
	InvoiceTotalsResult result;
	InvoiceTotals sums;
	bool has_igst = false;
	bool has_cgst = false;
	bool has_sgst = false;
	bool has_utgst = false;
	auto fail = [&](GstFault fault, std::size_t line) {
		InvoiceTotalsResult failed;
		failed.fault = fault;
		failed.line = line;
		return failed;
	};
	for (std::size_t i = 0; i < lines.size(); ++i) {
		const TaxedLine &line = lines[i];
		if (!WithinInvoiceRange(line.taxable) || !HeadsWithinRange(line.tax))
			return fail(GstFault::kOutOfRange, i);
		if (!IsPaise(line.taxable) || !HeadsArePaise(line.tax))
			return fail(GstFault::kNotPaise, i);
		has_igst = has_igst || line.tax.igst != 0;
		has_cgst = has_cgst || line.tax.cgst != 0;
		has_sgst = has_sgst || line.tax.sgst != 0;
		has_utgst = has_utgst || line.tax.utgst != 0;
		if ((has_igst && (has_cgst || has_sgst || has_utgst)) || (has_sgst && has_utgst))
			return fail(GstFault::kMixedLevies, i);
		if (!AddWithinRange(sums.taxable, line.taxable, &sums.taxable) ||
		    !AddWithinRange(sums.heads.cgst, line.tax.cgst, &sums.heads.cgst) ||
		    !AddWithinRange(sums.heads.sgst, line.tax.sgst, &sums.heads.sgst) ||
		    !AddWithinRange(sums.heads.utgst, line.tax.utgst, &sums.heads.utgst) ||
		    !AddWithinRange(sums.heads.igst, line.tax.igst, &sums.heads.igst))
			return fail(GstFault::kOutOfRange, i);
	}
	// Each head is within range and only one regime's heads are non-zero, so tax is at most two
	// in-range sums: no overflow, but the result may still leave the range.
	sums.tax = sums.heads.Total();
	const std::size_t last = lines.empty() ? 0 : lines.size() - 1;
	if (!WithinInvoiceRange(sums.tax) || !AddWithinRange(sums.taxable, sums.tax, &sums.total))
		return fail(GstFault::kOutOfRange, last);
	if (round_to_rupee) {
		const Amount4 rounded = RoundToRupee(sums.total);
		if (!WithinInvoiceRange(rounded))
			return fail(GstFault::kOutOfRange, last);
		sums.round_off = rounded - sums.total;
		sums.total = rounded;
	}
	result.totals = sums;
	return result;
}

RecipientKind
ClassifyRecipient(std::string_view gstin, bool verify_check_character)
{
	return CheckGstin(gstin, verify_check_character).fault == GstinFault::kValid ? RecipientKind::kB2b
	                                                                             : RecipientKind::kB2c;
}

const char *
Gstr1SectionName(Gstr1Section section)
{
	switch (section) {
	case Gstr1Section::kB2b:
		return "b2b";
	case Gstr1Section::kB2cl:
		return "b2cl";
	case Gstr1Section::kB2cs:
		return "b2cs";
	case Gstr1Section::kExp:
		return "exp";
	case Gstr1Section::kNil:
		return "nil";
	}
	return "b2cs";
}

Amount4
B2cLargeThreshold(Date invoice_date)
{
	// Notification 12/2024-CT amended Rule 59(4)(a) from 1 August 2024: ₹2.5 lakh became ₹1 lakh.
	const bool lowered = invoice_date.year() > 2024 || (invoice_date.year() == 2024 && invoice_date.month() >= 8);
	return lowered ? 100'000 * kAmount4PerUnit : 250'000 * kAmount4PerUnit;
}

Gstr1Section
ClassifyGstr1(RecipientKind recipient, TaxRegime regime, int place_of_supply_code, Amount4 invoice_value,
              Date invoice_date)
{
	if (place_of_supply_code == 96)
		return Gstr1Section::kExp;
	if (regime == TaxRegime::kNoTax)
		return Gstr1Section::kNil;
	if (recipient == RecipientKind::kB2b)
		return Gstr1Section::kB2b;
	if (regime == TaxRegime::kIgst && invoice_value > B2cLargeThreshold(invoice_date))
		return Gstr1Section::kB2cl;
	return Gstr1Section::kB2cs;
}

} // namespace balatrix::core
