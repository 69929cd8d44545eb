/*
 * Core zone: an RFC 4180 CSV parser (rate decks are loaded from CSV text).
 *
 * The dialect, which is RFC 4180 with the usual relaxations on line endings:
 *   - fields are separated by ',' and records end at CRLF, LF or a lone CR; the last record may
 *     end without a line break;
 *   - a field that starts with '"' is quoted: it runs to the next '"' that is not doubled, "" in it
 *     stands for one '"', and it may contain ',', CR and LF (kept as they are);
 *   - an unquoted field is taken byte for byte (spaces included: trimming is the caller's choice);
 *   - every line break outside quotes ends a record, so a blank line is a record of one empty
 *     field (callers that do not want blank lines skip them); an empty input has no records.
 * Errors (the whole input is refused, nothing is returned):
 *   - a quoted field with no closing quote ("unterminated");
 *   - anything but ',' or a line break right after a closing quote ("junk after a closing quote");
 *   - a '"' inside an unquoted field (RFC 4180 §2.5: a field containing quotes must be quoted).
 * The parser works on bytes: any ASCII-compatible encoding (UTF-8, every PostgreSQL server
 * encoding) passes through unchanged.
 */
#pragma once

#include "balatrix/core/status.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace balatrix::core {

struct CsvRecord {
	std::size_t line = 0;            // 1-based line on which the record starts
	std::vector<std::string> fields; // at least one field
};

// Parses the whole input into *records (cleared first). On failure returns an
// ErrorCode::kInvalidText Status whose message names the 1-based line of the fault, and *records
// is left empty. Never throws but std::bad_alloc.
Status ParseCsv(std::string_view input, std::vector<CsvRecord> *records);

} // namespace balatrix::core
