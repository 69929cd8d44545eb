/*
 * Core zone: GST reference data and GSTIN validation.
 *
 * GSTIN layout (15 characters, reference/gst-payments.md §1.5):
 *   1-2 state code · 3-12 PAN (5 letters, 4 digits, 1 letter) · 13 entity number (1-9, A-Z)
 *   · 14 'Z' (normal taxpayer) · 15 check character (Luhn mod 36 over the first 14).
 * Only the normal-taxpayer layout is accepted; UIN / TDS / TCS / OIDAR registrations use other
 * layouts and are out of scope for customer records.
 */
#pragma once

#include "balatrix/core/status.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

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

} // namespace balatrix::core
