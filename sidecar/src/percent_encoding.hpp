/*
 * Percent-encoding (RFC 3986 §2.1), strict in both directions.
 *
 * Pistache 0.0.5 hands path parameters and query strings over exactly as they arrived (toolchain.md G10), so
 * every value a handler sees goes through PercentDecode first. The decoder refuses rather than repairs:
 *
 *   - '%' not followed by two hex digits ("%", "%4", "%zz")  -> kInvalidEscape
 *   - a decoded NUL byte ("%00")                             -> kNulByte: PostgreSQL text cannot hold it, and
 *     libpqxx passes parameters as C strings, so a NUL would silently truncate the value at the database
 *   - bytes that are not well-formed UTF-8 after decoding    -> kInvalidUtf8 (overlong forms, surrogates and
 *     code points above U+10FFFF included); a value that reaches the database is text
 *
 * '+' means a space only in a query component (application/x-www-form-urlencoded, which is what browsers and
 * URLSearchParams produce); in a path segment it is a literal '+'.
 */
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace balatrix::sidecar {

enum class DecodeError {
	kInvalidEscape,
	kNulByte,
	kInvalidUtf8,
};

// A one-line English explanation, e.g. "invalid percent-escape".
std::string_view DecodeErrorMessage(DecodeError error);

enum class PercentDecodeMode {
	kPathSegment,    // '+' stays '+'
	kQueryComponent, // '+' becomes ' '
};

// The decoded bytes, or why `encoded` was refused. Never throws except std::bad_alloc.
std::variant<std::string, DecodeError> PercentDecode(std::string_view encoded, PercentDecodeMode mode);

// True when `text` is well-formed UTF-8 (RFC 3629: shortest form, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Encodes every byte except the RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) as %XX with upper-case
// hex digits, so the result is safe in any URI component (path segment, query name or value, otpauth label).
std::string PercentEncode(std::string_view bytes);

} // namespace balatrix::sidecar
