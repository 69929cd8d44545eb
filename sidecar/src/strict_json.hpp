/*
 * JSON from untrusted sources (request bodies, JWT headers and payloads), parsed strictly.
 *
 * nlohmann::json alone accepts a few things that are dangerous at a trust boundary:
 *   - duplicate object keys (it keeps the last): two parsers reading the same document can then disagree
 *     about its meaning, the classic smuggling trick against JWT headers ({"alg":"HS256","alg":"none"});
 *   - unbounded nesting: a 1 MiB body of '[' builds a million-deep tree;
 *   - "\u0000" inside strings: PostgreSQL text cannot hold NUL and libpqxx passes parameters as C strings,
 *     so the value would be truncated silently on its way to the database;
 *   - numbers that overflow a double ("1e400"), which would become infinity;
 *   - a raw NUL byte, which its lexer takes for the end of input ("{}\0anything" parses as "{}").
 * ParseStrictJson refuses all of these. Invalid UTF-8 and trailing garbage are refused by nlohmann itself.
 *
 * The check is a SAX pass (no tree is built, it stops at the first problem) followed by the ordinary parse;
 * both are linear, so the cost is about twice a plain parse.
 */
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json_fwd.hpp>

namespace balatrix::sidecar {

struct StrictJsonOptions {
	std::size_t max_depth = 64; // nesting of arrays and objects; a top-level scalar has depth 0
};

struct JsonProblem {
	std::string reason;                // one line of English, e.g. "duplicate key \"alg\""
	std::optional<std::size_t> offset; // byte offset of a syntax error, when known
};

// The parsed document, or why it was refused. Never throws except std::bad_alloc.
std::variant<nlohmann::json, JsonProblem> ParseStrictJson(std::string_view text, StrictJsonOptions options = {});

} // namespace balatrix::sidecar
