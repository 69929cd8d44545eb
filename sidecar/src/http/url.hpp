/*
 * The request target, taken apart and decoded strictly (Pistache 0.0.5 decodes nothing, and its own query
 * parser keeps one value per name in an unordered map, losing repeated keys and their order).
 *
 * The router reads the raw request target from the request line itself (see EndpointHandler in router.cpp),
 * checks it with SplitRequestTarget, matches the raw path against the route table, and only then decodes:
 * path parameters with DecodePathParams, the query with ParseQuery. Matching before decoding keeps "%2F"
 * inside a parameter instead of turning it into a path separator. Any decoding failure is a 400 for the
 * client; handlers only ever see decoded, NUL-free, valid UTF-8 values.
 */
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "percent_encoding.hpp"

namespace balatrix::sidecar::http {

// Bounds on what a request target may contain; beyond them the request is refused (414 / 400).
inline constexpr std::size_t kMaxRequestLineBytes = 8192;
inline constexpr std::size_t kMaxQueryParameters = 256;

// The target of a request line such as "GET /a?b HTTP/1.1": the text between the first and the second space
// (which may be empty). nullopt when the line has no two spaces. A trailing '\r' is ignored.
std::optional<std::string_view> RequestTargetFromLine(std::string_view request_line);

struct RequestTarget {
	std::string_view path;                 // starts with '/'
	std::optional<std::string_view> query; // without the '?'; present but empty for "/x?"
};

enum class TargetError {
	kEmpty,            // ""
	kNotOriginForm,    // does not start with '/' ("*", "http://host/x")
	kInvalidCharacter, // control characters, spaces, bytes >= 0x80, or '#' (a fragment never goes on the wire)
};

std::string_view TargetErrorMessage(TargetError error);

// Splits `target` at the first '?' after checking every byte. Views point into `target`.
std::variant<RequestTarget, TargetError> SplitRequestTarget(std::string_view target);

// Decoded name/value pairs in the order they arrived; a name may repeat ("?status=a&status=b").
class QueryParams {
public:
	using Entry = std::pair<std::string, std::string>;

	QueryParams() = default;
	explicit QueryParams(std::vector<Entry> entries) : entries_(std::move(entries)) {}

	const std::vector<Entry>&
	entries() const
	{
		return entries_;
	}

	bool
	empty() const
	{
		return entries_.empty();
	}

	bool Has(std::string_view name) const;
	std::size_t Count(std::string_view name) const;
	// The first value given for `name`. Handlers that expect one value should reject Count(name) > 1 instead of
	// silently picking one (the seed collapsed arrays to their last element, BUG-13).
	std::optional<std::string_view> First(std::string_view name) const;
	std::vector<std::string_view> All(std::string_view name) const;

private:
	std::vector<Entry> entries_;
};

struct QueryError {
	enum class Kind { kDecode, kTooManyParameters } kind;
	DecodeError decode_error = DecodeError::kInvalidEscape; // for kDecode
	std::string parameter;                                  // the raw name (cut at 64 bytes) for kDecode
};

// One line of English for a QueryError, naming the parameter.
std::string QueryErrorMessage(const QueryError& error);

// Parses an application/x-www-form-urlencoded query ("a=1&b=x+y&a=2"): '&' separates pairs, the first '='
// separates name from value (a pair without '=' has an empty value), empty pairs ("a=1&&b=2") are skipped,
// both name and value are PercentDecode'd in query mode ('+' is a space). ';' is not a separator.
std::variant<QueryParams, QueryError> ParseQuery(std::string_view raw_query);

// Decoded path parameters, in pattern order.
class PathParams {
public:
	using Entry = std::pair<std::string, std::string>;

	PathParams() = default;
	explicit PathParams(std::vector<Entry> entries) : entries_(std::move(entries)) {}

	const std::vector<Entry>&
	entries() const
	{
		return entries_;
	}

	// The value of `name`; nullopt when the matched pattern has no such parameter.
	std::optional<std::string_view> Get(std::string_view name) const;

private:
	std::vector<Entry> entries_;
};

struct PathParamError {
	std::string name;
	DecodeError error;
};

// Decodes raw segment values (names[i] goes with raw_values[i]; the sizes must match).
std::variant<PathParams, PathParamError> DecodePathParams(const std::vector<std::string>& names,
                                                          const std::vector<std::string_view>& raw_values);

} // namespace balatrix::sidecar::http
