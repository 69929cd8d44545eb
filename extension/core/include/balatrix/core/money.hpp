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

// numerator * multiplier / divisor rounded half away from zero, computed in 128 bits so the product
// never overflows (|int64 × int64| <= 2^126). Used for rate × seconds / 60. Preconditions (a
// violation is a bug and throws): divisor > 0 (std::invalid_argument) and a result that fits in
// int64 (std::overflow_error).
Amount4 MulDivRound(Amount4 numerator, std::int64_t multiplier, std::int64_t divisor);

} // namespace balatrix::core
