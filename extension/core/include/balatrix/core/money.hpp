/*
 * Core zone: money as integers. No floating point anywhere money flows.
 *
 * Amount4 is an amount in ten-thousandths of the currency unit (₹0.0001): the precision of rates
 * (₹/minute, 4 decimals) and of call charges. Invoice amounts are paise (2 decimals); RoundToPaise
 * converts. The SQL side stores the same values as numeric(20,4) / numeric(14,2) and exchanges them
 * as decimal text ("12.3456"), which ParseAmount4 / FormatAmount4 read and write exactly.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace balatrix::core {

using Amount4 = std::int64_t;   // units of 0.0001
inline constexpr Amount4 kAmount4PerUnit = 10000;
// The largest magnitude ParseAmount4 accepts and PriceCall produces: ₹900,000,000,000,000.0000
// (9e18 units, the round figure below INT64_MAX ≈ 9.22e18; the SQL side's numeric(20,4) holds it).
inline constexpr Amount4 kMaxAmount4 = 900'000'000'000'000 * kAmount4PerUnit;
// The largest magnitude of an invoice amount (a line's taxable value, a tax head, a total):
// ₹999,999,999,999.99, what the invoice columns (numeric(14,2)) hold. Invoice arithmetic
// (gst.hpp, invoice.hpp) reports anything larger as a fault instead of letting PostgreSQL refuse
// the row later; sums of amounts within it cannot overflow an int64 (2 × 1e16 << 9.2e18).
inline constexpr Amount4 kMaxInvoiceAmount4 = 99'999'999'999'999 * 100;

// Parses a decimal text with at most 4 fractional digits ("-12.3456", "7", "0.5", "+3.10", and as
// PostgreSQL's numeric input also ".5" and "5."): exact, or nullopt on anything else (no digit at all,
// more than 4 decimals even if they are zeros, exponent, spaces, thousands separators, NaN, Infinity,
// a magnitude beyond kMaxAmount4).
std::optional<Amount4> ParseAmount4(std::string_view text);

// "12.3456", "-0.5000": always 4 decimals, '-' only for negatives. Never throws except bad_alloc.
std::string FormatAmount4(Amount4 amount);

// Rounds to paise (0.01), half away from zero (half-up for positive amounts), returned in Amount4
// units (a multiple of 100).
Amount4 RoundToPaise(Amount4 amount);

// Rounds to whole rupees, half away from zero (s.170 CGST Act: 50 paise and more up, less dropped),
// returned in Amount4 units (a multiple of 10000). Exact for |amount| <= kMaxAmount4; the few int64
// values beyond ±922,337,203,685,477.5 have no rounded int64 and throw std::overflow_error (a bug).
Amount4 RoundToRupee(Amount4 amount);

// numerator * multiplier / divisor rounded half away from zero, computed in 128 bits so the product
// never overflows (|int64 × int64| <= 2^126). Used for rate × seconds / 60. Preconditions (a
// violation is a bug and throws): divisor > 0 (std::invalid_argument) and a result that fits in
// int64 (std::overflow_error).
Amount4 MulDivRound(Amount4 numerator, std::int64_t multiplier, std::int64_t divisor);

// amount * multiplier / divisor rounded ONCE, half away from zero, to paise, returned in Amount4
// units (a multiple of 100). Not RoundToPaise(MulDivRound(...)): rounding first to 0.0001 and then
// to 0.01 rounds an exact 0.004950 (49.5 units) up to 0.01, where one rounding gives 0.00. Used for
// tax heads (taxable × rate), proration (price × days / days) and quantity × unit price. Same
// preconditions as MulDivRound (divisor > 0, a result within int64; violations throw).
Amount4 MulDivRoundToPaise(Amount4 amount, std::int64_t multiplier, std::int64_t divisor);

} // namespace balatrix::core
