/*
 * Core zone: GST reference data, GSTIN validation, and the tax arithmetic of an invoice: which heads
 * apply (CGST + SGST, CGST + UTGST or IGST), at what rate (by SAC), the tax of each line, the
 * invoice totals with the optional round-off, and the B2B / B2C and GSTR-1 classification.
 *
 * Money is Amount4 (money.hpp); every tax amount and total produced here is a whole number of
 * paise (a multiple of 100) within ±kMaxInvoiceAmount4. Expected failures are GstFault values;
 * nothing here throws except std::bad_alloc.
 *
 * GSTIN layout (15 characters, reference/gst-payments.md §1.5):
 *   1-2 state code · 3-12 PAN (5 letters, 4 digits, 1 letter) · 13 entity number (1-9, A-Z)
 *   · 14 'Z' (normal taxpayer) · 15 check character (Luhn mod 36 over the first 14).
 * Only the normal-taxpayer layout is accepted; UIN / TDS / TCS / OIDAR registrations use other
 * layouts and are out of scope for customer records.
 */
#pragma once

#include "balatrix/core/calendar.hpp"
#include "balatrix/core/money.hpp"
#include "balatrix/core/status.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace balatrix::core {

// Which second tax head an intra-State supply carries in this State / UT.
enum class IntraStateLevy {
	kSgst,   // States, and UTs with a legislature (Delhi, Puducherry, Jammu & Kashmir)
	kUtgst,  // UTs without a legislature (UTGST Act s.2(8))
	kNone,   // codes that are never a place of supply inside India (96 exports, 99 Centre)
};

struct GstState {
	int code;                 // 1..99, printed as two digits
	const char *name;         // official short name, e.g. "Karnataka"
	IntraStateLevy levy;
	bool gstin_prefix;        // may start a GSTIN (01-38, 97)
};

// The state / UT code table (§1.6), ordered by code. nullptr for an unknown code.
const GstState *FindGstState(int code) noexcept;
// All entries: *count is set to their number. The table is static (never freed).
const GstState *GstStates(std::size_t *count) noexcept;

// Why a GSTIN is not valid. kValid is the only accepting value.
enum class GstinFault {
	kValid,
	kBadLength,          // not 15 characters after trimming
	kBadFormat,          // characters in the wrong classes (PAN shape, position 14 not 'Z', ...)
	kUnknownState,       // first two digits are not a GSTIN state code
	kBadEntityNumber,    // position 13 is '0'
	kBadCheckCharacter,  // position 15 differs from the computed check character
};

struct GstinCheck {
	GstinFault fault = GstinFault::kBadLength;
	std::string normalized;   // trimmed, upper-cased input (set when it is 15 ASCII characters)
	int state_code = 0;       // set when fault is kValid or kBadCheckCharacter
	char expected_check = 0;  // set when the shape is right (fault kValid, kUnknownState,
	                          // kBadEntityNumber or kBadCheckCharacter)
};

// Validates one GSTIN. Leading / trailing ASCII whitespace is ignored and letters are compared
// case-insensitively (as python-stdnum's compact() does); `normalized` is the canonical form to
// store. With verify_check_character = false the check character is not enforced, for the NIC
// sandbox GSTINs that fail it (setting balatrix.gstin_verify_check_character). Never throws for
// any input.
GstinCheck CheckGstin(std::string_view input, bool verify_check_character = true);

// The check character for a 14-character GSTIN prefix; nullopt if a character is outside
// [0-9A-Z] (lower case is not accepted here: normalise first).
std::optional<char> GstinCheckCharacter(std::string_view first14);

// A one-line, user-facing reason for a fault ("GSTIN must be 15 characters", ...).
const char *GstinFaultMessage(GstinFault fault);

// ---- tax computation -----------------------------------------------------------------------

// Why a GST computation was refused. kOk is the only accepting value.
enum class GstFault {
	kOk,
	kBadCurrency,          // currency is not three upper-case ASCII letters (ISO 4217 form)
	kUnknownSupplierState, // supplier State code cannot be a registration: not 01-38 or 97
	kUnknownPlaceOfSupply, // place-of-supply code is not in the §1.6 table, or is 99 (Centre)
	kBadSac,               // SAC is not 4, 6 or 8 digits starting with 99 (the sac domain)
	kUnknownSac,           // well-formed SAC with no rate in the table: give the rate explicitly
	kBadRate,              // rate outside 0..kMaxGstRateBp basis points
	kNotPaise,             // a taxable value with a part below one paisa (round the line first)
	kOutOfRange,           // an amount or a running sum beyond ±kMaxInvoiceAmount4
	kMixedLevies,          // lines of one invoice carry different heads (IGST and CGST, SGST and UTGST)
};

// A one-line, user-facing reason ("unknown place of supply", ...). Never nullptr.
const char *GstFaultMessage(GstFault fault);
// The ErrorCode (hence SQLSTATE) a caller should raise for a fault: kOutOfRange for kOutOfRange,
// kInvalidParameter for the rest (kInternal for kOk, which is not an error).
ErrorCode GstFaultErrorCode(GstFault fault);

// Which heads an invoice carries. One regime per invoice: it depends on the parties, not the lines.
enum class TaxRegime {
	kNoTax,     // tax-exempt recipient, or a supply not in INR: every head is 0
	kCgstSgst,  // intra-State, a State or a UT with a legislature
	kCgstUtgst, // intra-State, a UT without a legislature (IntraStateLevy::kUtgst)
	kIgst,      // inter-State, including exports (place of supply 96)
};

struct TaxRegimeDecision {
	GstFault fault = GstFault::kOk;
	TaxRegime regime = TaxRegime::kNoTax;
};

// The regime of a supply (reference/gst-payments.md §1.2, PRODUCT §4 / §6), decided in this order:
//  1. currency must look like an ISO 4217 code ("INR", "USD"), else kBadCurrency; a currency other
//     than "INR" is a supply without GST (kNoTax): GST applies to INR supplies only;
//  2. a tax-exempt recipient: kNoTax. In these two cases the State codes are not consulted (a
//     foreign customer has no Indian State), so they may be anything, 0 included;
//  3. supplier_state_code must be a State / UT of registration (a GSTIN prefix: 01-38, 97), else
//     kUnknownSupplierState; place_of_supply_code must be in the §1.6 table and not 99, else
//     kUnknownPlaceOfSupply;
//  4. the same code: intra-State, kCgstUtgst when the State's levy is UTGST, else kCgstSgst;
//     different codes (POS 96, an export, among them): kIgst. The legacy codes 25 and 28 count as
//     codes of their own (a supplier in 29 and POS 28 is inter-State).
// The place of supply (IGST Act s.12(11), §1.3) is the caller's to determine and freeze; SEZ
// supplies (IGST even within a State) and zero-rating under LUT are not modelled here.
TaxRegimeDecision DetermineTaxRegime(int supplier_state_code, int place_of_supply_code, bool tax_exempt,
                                     std::string_view currency);

// GST rates are basis points of the taxable value: 1800 = 18 %. invoice_lines.gst_rate is
// numeric(5,2) BETWEEN 0 AND 40, so a rate in basis points is exact and at most 4000.
inline constexpr std::int32_t kMaxGstRateBp = 4000;
inline constexpr std::int32_t kTelecomGstRateBp = 1800;

struct GstRateLookup {
	GstFault fault = GstFault::kOk;
	std::int32_t rate_bp = 0; // set when fault is kOk
};

// True for 4, 6 or 8 ASCII digits starting with 99 (the balatrix.sac domain, '^99[0-9]{2}([0-9]{2}){0,2}$').
bool IsWellFormedSac(std::string_view sac);

// The rate of a SAC, from a deliberately small table (§1.1; Notification 11/2017-CT(Rate) Sl. 22,
// heading 9984, item (ii), 9 % CGST + 9 % SGST = 18 %, unchanged by the September 2025
// rationalisation):
//   9984                                the heading itself (4-digit SAC of smaller suppliers)  18 %
//   998411 998412 998413 998414 998415 998419   telecommunications services (group 99841)      18 %
//   998421 998422 998423 998424 998429          internet telecommunications (group 99842)      18 %
//   an 8-digit SAC                      the rate of its first six digits
// Everything else that is well-formed is kUnknownSac (a malformed SAC is kBadSac): on-line content
// (99843x) is left out on purpose because an e-book (998431) is taxed at a lower rate and content
// may be OIDAR, and broadcasting (99846x) because the exact codes must come from the annexure.
// Callers give such lines an explicit rate (CheckGstRate).
GstRateLookup GstRateForSac(std::string_view sac);

// kOk for 0 <= rate_bp <= kMaxGstRateBp, else kBadRate. An explicit rate (a line whose SAC is not
// in the table, a zero-rated line) is checked with this.
GstFault CheckGstRate(std::int32_t rate_bp);

// The tax heads of one line, or of an invoice. Amount4, multiples of 100 (paise). At most the heads
// of one regime are non-zero.
struct TaxHeads {
	Amount4 cgst = 0;
	Amount4 sgst = 0;
	Amount4 utgst = 0;
	Amount4 igst = 0;

	// The sum of the (already rounded) heads: 40.37 + 40.37 = 80.74, never a separately rounded
	// 18 % of the taxable value (which would be 80.73, the original's T14 divergence).
	Amount4
	Total() const
	{
		return cgst + sgst + utgst + igst;
	}
};

struct LineTax {
	GstFault fault = GstFault::kOk;
	TaxHeads tax; // all zero unless fault is kOk
};

// The tax of one line (PRODUCT §4, gst-payments.md §1.9): every head is computed on the line's own
// taxable value and rounded half away from zero to paise on its own, in one rounding:
//   kCgstSgst   CGST = SGST  = round(taxable × rate / 2)
//   kCgstUtgst  CGST = UTGST = round(taxable × rate / 2)
//   kIgst       IGST = round(taxable × rate)
//   kNoTax      every head 0 (the rate is still checked)
// A credit (negative taxable) gets exactly the negated tax of its magnitude. Faults: kBadRate;
// kNotPaise when taxable is not a multiple of 100 (a line's taxable value is rounded to paise
// before it is taxed); kOutOfRange when |taxable| > kMaxInvoiceAmount4.
LineTax ComputeLineTax(Amount4 taxable, std::int32_t rate_bp, TaxRegime regime);

// One line as the invoice totals see it.
struct TaxedLine {
	Amount4 taxable = 0; // paise
	TaxHeads tax;
};

struct InvoiceTotals {
	Amount4 taxable = 0;   // sum of the lines' taxable values
	TaxHeads heads;        // each head summed over the lines
	Amount4 tax = 0;       // heads.Total()
	Amount4 round_off = 0; // 0 unless rounding to the rupee was asked
	Amount4 total = 0;     // taxable + tax + round_off
};

struct InvoiceTotalsResult {
	GstFault fault = GstFault::kOk;
	std::size_t line = 0; // index of the offending line, for kNotPaise / kOutOfRange / kMixedLevies
	InvoiceTotals totals; // zero unless fault is kOk
};

// Invoice totals are sums of the lines (PRODUCT §4): taxable and each head summed separately, tax =
// the sum of the heads, total = taxable + tax + round_off. With round_to_rupee the total is rounded
// half away from zero to whole rupees (s.170 CGST Act: 50 paise and more up) and round_off is the
// difference: -0.49..+0.50 for a positive total, -0.50..+0.49 for a negative one (within the
// invoices.round_off CHECK of ±0.99 and the e-invoice RndOffAmt of ±99.99). No line is changed by the
// round-off. An empty list gives all zeros.
// Faults (line names the offending line): kNotPaise when a taxable value or a head is not whole
// paise; kOutOfRange when a line amount, a running sum or the total leaves ±kMaxInvoiceAmount4;
// kMixedLevies when one line has IGST and another CGST / SGST / UTGST, or one SGST and another
// UTGST (lines with no tax mix with anything). The sign of the result is not judged here: a
// negative total (more credit than charge) is the caller's to refuse or to issue as a credit note.
InvoiceTotalsResult SumInvoiceLines(const std::vector<TaxedLine> &lines, bool round_to_rupee);

// ---- B2B / B2C and GSTR-1 ------------------------------------------------------------------------

enum class RecipientKind {
	kB2b, // registered recipient: a valid GSTIN on the invoice
	kB2c, // unregistered recipient
};

// kB2b exactly when `gstin` is a valid GSTIN (CheckGstin with the same verify flag); empty, blank
// and invalid text classify as kB2c: an invalid GSTIN is not a registration. Callers that must
// refuse a malformed GSTIN validate it first (the customers.gstin domain does).
RecipientKind ClassifyRecipient(std::string_view gstin, bool verify_check_character = true);

// The GSTR-1 section an invoice is reported in (reference/gst-payments.md §1.8).
enum class Gstr1Section {
	kB2b,  // "b2b": registered recipients
	kB2cl, // "b2cl": inter-State B2C invoices above the threshold, reported invoice by invoice
	kB2cs, // "b2cs": other B2C invoices, aggregated by place of supply and rate
	kExp,  // "exp": exports (place of supply 96)
	kNil,  // "nil": supplies without GST (exempt recipient, non-INR supply)
};

// "b2b", "b2cl", "b2cs", "exp", "nil": the GSTR-1 JSON section keys.
const char *Gstr1SectionName(Gstr1Section section);

// The B2C-large threshold in force on invoice_date (§1.8, CGST Rule 59(4)(a) as amended by
// Notification 12/2024-CT): ₹1,00,000 for invoices dated 2024-08-01 or later, ₹2,50,000 before.
// An invoice is b2cl when its value is strictly MORE than the threshold.
Amount4 B2cLargeThreshold(Date invoice_date);

// The section of one invoice, decided in this order: place of supply 96 -> kExp; kNoTax -> kNil;
// kB2b -> kB2b; kIgst with invoice_value > B2cLargeThreshold(invoice_date) -> kB2cl; else kB2cs
// (intra-State B2C invoices are b2cs whatever their value). invoice_value is the invoice total
// including tax (GSTR-1 `val`).
Gstr1Section ClassifyGstr1(RecipientKind recipient, TaxRegime regime, int place_of_supply_code, Amount4 invoice_value,
                           Date invoice_date);

} // namespace balatrix::core
