/*
 * Core zone: rating a call — number normalisation, longest-prefix rate lookup, increment rounding,
 * time-band splitting and allowance consumption. Pure C++: no PostgreSQL, no floating point, no I/O.
 *
 * Times are UTC microseconds since the Unix epoch. Time bands are in IST (UTC+05:30, no DST in India).
 * Durations come in milliseconds (FreeSWITCH billmsec) and are billed in whole seconds.
 */
#pragma once

#include "balatrix/core/money.hpp"
#include "balatrix/core/status.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace balatrix::core {

// ---- number normalisation ------------------------------------------------------------------------

enum class NumberKind {
	kIndianGeographic,  // fixed line: 91 + STD code + subscriber number
	kIndianMobile,      // 91 + 10 digits starting 6-9
	kIndianTollFree,    // 91 + 1800 / 1860 + 6-7 digits
	kInternational,     // another country code
};

struct NormalizedNumber {
	std::string e164;   // digits only, country code first, no '+': "919876543210", "9118001234567", "14155551234"
	NumberKind kind;
};

// Brings a dialled destination to E.164 digits so that "+919876543210", "919876543210",
// "09876543210" and "9876543210" all reach the same prefix. Recognised forms (after dropping spaces,
// '-', '(', ')' and '.'):
//   +<cc><number>, 00<cc><number>      international format (00 is India's international prefix)
//   91 + 10 digits                     Indian number without '+'
//   0 + 10 digits                      national format with trunk prefix
//   10 digits (starting 2-9)           bare national number (mobile 6-9, geographic 2-5)
//   1800 / 1860 + 6 or 7 digits        toll-free (also with a leading 0, 91 or +91)
// Anything else (letters, empty, too short / long, a 1-9 digit short code) is an error Status with
// ErrorCode::kInvalidText and a message saying why. Never throws except bad_alloc.
//
// Decisions worth knowing:
//  - An Indian national significant number (after 91 or the trunk 0) is 10 digits starting 1-9:
//    6-9 is classified mobile, 1-5 geographic (Delhi is 011, so +91 11... and 011... are accepted).
//    Fixed lines of STD areas whose code starts 6-8 (Bangalore 080) come out as kIndianMobile: the
//    number alone cannot tell them apart without the SDCA table. The e164 digits, which are what
//    rates by prefix, are right either way.
//  - A bare 10-digit number is Indian, whatever it looks like: "4930901820" (Berlin dialled without
//    + or 00, as in reference/freeswitch.md §1.11) becomes 914930901820. Foreign numbers need + or 00;
//    a bare 11-15 digit number that is not 91 + 10 digits or toll-free is refused, not guessed.
//  - After +91 / 0091 a single trunk 0 is dropped, for the written form "+91 (0)80 2345 6789".
//  - International numbers (country code other than 91, not starting 0) are checked for length only:
//    8 to 15 digits including the country code (E.164).
Status NormalizeDestination(std::string_view dialled, NormalizedNumber *out);

// ---- rates ---------------------------------------------------------------------------------------

inline constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t kSinceEver = std::numeric_limits<std::int64_t>::min();

// An optional time-of-week window in IST: the rate applies to the parts of a call inside it.
// A window opens on each listed weekday at start_second and closes at end_second of the same day, or
// of the next day when it wraps: a Friday-only 22:00-06:00 band covers Friday 22:00 to Saturday 06:00
// (and not Friday 00:00-06:00, which belongs to Thursday's window).
struct TimeBand {
	std::uint8_t weekdays;      // bit 0 = Monday ... bit 6 = Sunday; non-zero, bit 7 clear
	std::int32_t start_second;  // seconds after IST midnight, [0, 86400)
	std::int32_t end_second;    // exclusive, [0, 86400]; end < start wraps past midnight (22:00-06:00);
	                            // end == start is refused as ambiguous (write a whole day as 0-86400)
};

struct Rate {
	std::int64_t id = 0;                    // balatrix.rates.id
	std::string prefix;                     // digits of the E.164 number
	Amount4 rate_per_minute = 0;            // >= 0
	std::int32_t initial_increment = 60;    // seconds, 1..86400
	std::int32_t subsequent_increment = 60; // seconds, 1..86400
	Amount4 connect_fee = 0;                // >= 0, charged once per answered call
	Amount4 minimum_charge = 0;             // >= 0, floor of the call's charged amount
	                                        // (all amounts at most kMaxAmount4)
	bool charge_unanswered = false;         // connect fee also on unanswered calls
	bool uses_allowance = true;             // included minutes of the plan may pay for it
	std::int64_t effective_from = kSinceEver; // UTC µs, inclusive
	std::int64_t effective_to = kForever;     // UTC µs, exclusive
	std::optional<TimeBand> band;           // none: applies at any time
};

// An immutable index of one or more decks' rates, built once and shared by every CDR of a backend
// until a deck changes. Lookup cost is O(length of the number).
class RateIndex {
public:
	RateIndex();
	~RateIndex();
	RateIndex(RateIndex &&) noexcept;
	RateIndex &operator=(RateIndex &&) noexcept;

	// Adds a rate of deck `deck_priority` (lower is consulted first). Invalid rates (empty or
	// non-digit prefix, a prefix longer than 15 digits, which no E.164 number could match, increments
	// outside 1..86400, negative amounts or amounts above kMaxAmount4, effective_to <= effective_from,
	// a band with no weekday or out-of-range seconds) are refused with kInvalidParameter and leave the
	// index unchanged. Rates with the same prefix and priority keep their insertion order among equal
	// effective_from.
	Status Add(int deck_priority, Rate rate);

	// The rates that price a call to `e164` starting at `start_us`: from the first deck (by priority)
	// that has any rate for a prefix of the number effective at `start_us`, the rates of the longest
	// such prefix that are effective then, latest effective_from first (an unbanded rate and banded
	// ones may coexist). Empty when nothing matches. Time bands play no part here (PriceCall applies
	// them). The walk stops at the first non-digit. The pointers stay valid until the next Add, move
	// or destruction of the index.
	std::vector<const Rate *> Match(std::string_view e164, std::int64_t start_us) const;

	std::size_t size() const;

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

// ---- pricing -------------------------------------------------------------------------------------

struct CallToRate {
	std::int64_t start_us = 0;       // when billing time starts (answer time for answered calls), UTC µs
	std::int64_t billable_ms = 0;    // >= 0; 0 = unanswered or zero-length
	bool answered = false;
	std::int64_t allowance_seconds = 0; // included seconds still available in the subscription period
};

// One stretch of a call priced by one rate (bands split a call into several).
struct RatedSegment {
	std::int64_t rate_id = 0;
	std::int64_t start_us = 0;          // offset into the billed timeline, absolute UTC µs
	std::int64_t seconds = 0;           // billed seconds of this segment
	std::int64_t included_seconds = 0;  // of them, paid by the allowance
	Amount4 charge = 0;                 // for the charged (non-included) seconds, 4 decimals
};

struct RatedCall {
	std::int64_t billed_seconds = 0;     // after increment rounding
	std::int64_t included_seconds = 0;   // consumed from the allowance (sum over segments)
	Amount4 connect_fee = 0;
	Amount4 charge = 0;                  // total, 4 decimals: segments + connect fee, floored at the minimum
	std::int64_t primary_rate_id = 0;    // the rate of the first segment (or of the connect fee)
	std::vector<RatedSegment> segments;
};

// Prices one call with the rates Match returned (must be non-empty):
//  - billed seconds: 0 for a zero-length call; else initial increment, then whole subsequent
//    increments, covering billable_ms (a call of exactly N increments is not rounded up);
//  - the billed timeline [start, start + billed) is split at IST band boundaries; each segment takes
//    the banded rate whose band covers it, else the unbanded rate (no applicable rate -> kNotFound);
//  - included seconds are consumed from the start of the call, on segments whose rate
//    uses_allowance, up to allowance_seconds; the rest is charged at rate × seconds / 60, each segment
//    rounded half-up to 4 decimals;
//  - connect fee once for answered calls (and unanswered ones when charge_unanswered); the total of
//    a call with a charged part is at least minimum_charge. A call fully paid by the allowance costs
//    its connect fee only.
// Precisely:
//  - The primary rate is the one that applies at start_us (by the band rule above). Its increments
//    round the whole call, and its connect fee and minimum charge are the call's.
//  - An unanswered call is billed 0 seconds whatever billable_ms says.
//  - Each billed second is priced by the rate that applies at its first instant (start_us + k s), so
//    a band boundary that falls inside a second moves to the next whole second of the call. Adjacent
//    seconds priced by the same rate form one segment. Among banded rates covering an instant the
//    latest effective_from wins (the first in `rates` on a tie); likewise among unbanded rates.
//  - Effectiveness is judged by Match at the start: a rate whose effective_to falls during the call
//    still prices all of it.
//  - Errors: kNotFound when `rates` is empty or an instant of the call has no applicable rate;
//    kInvalidParameter for a null or invalid rate (as RateIndex::Add, prefix not checked), negative
//    billable_ms or allowance_seconds; kOutOfRange for billable_ms above 366 days, start_us beyond
//    ±2^62 µs (±146,000 years) or a charge above kMaxAmount4. On error *out is reset to RatedCall{}.
// Never throws except bad_alloc.
Status PriceCall(const CallToRate &call, const std::vector<const Rate *> &rates, RatedCall *out);

} // namespace balatrix::core
