/*
 * Building the filtered list queries of the CDR and invoice routes: parameters numbered as they are added
 * (only the filters a request gives appear in the SQL, and every value travels as a parameter, never as SQL
 * text), time bounds from query strings, and the sort whitelist.
 */
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "http/url.hpp"
#include "http/validation.hpp"

namespace balatrix::sidecar::api {

// Positional parameters collected while a statement is written. Add returns the placeholder ("$3").
class SqlParams {
public:
	std::string
	Add(std::string value)
	{
		values_.push_back(std::move(value));
		null_.push_back(false);
		return "$" + std::to_string(values_.size());
	}

	std::string
	AddNull()
	{
		values_.emplace_back();
		null_.push_back(true);
		return "$" + std::to_string(values_.size());
	}

	// C strings for pqxx (nullptr = SQL NULL); valid while this object lives and is not added to.
	std::vector<const char*>
	Pointers() const
	{
		std::vector<const char*> out;
		out.reserve(values_.size());
		for (std::size_t i = 0; i < values_.size(); ++i)
			out.push_back(null_[i] ? nullptr : values_[i].c_str());
		return out;
	}

private:
	std::deque<std::string> values_;
	std::vector<bool> null_;
};

// A StringRule without a format check.
inline http::StringRule
TextRule(bool required, std::size_t min_length, std::size_t max_length)
{
	http::StringRule rule;
	rule.required = required;
	rule.min_length = min_length;
	rule.max_length = max_length;
	return rule;
}

inline pqxx::result
ExecWith(pqxx::transaction_base& tx, const std::string& sql, const SqlParams& params)
{
	const std::vector<const char*> pointers = params.Pointers();
	return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(pointers));
}

// A date ("2025-03-14") or an ISO 8601 timestamp ("2025-03-14T09:30", "2025-03-14 09:30:00.5+05:30",
// "...Z"). Dates and timestamps without an offset are Indian Standard Time (the billing calendar).
// The calendar itself (a 30 February) is checked by PostgreSQL: 22008 -> 422.
inline bool
IsIsoDate(std::string_view text)
{
	static const std::regex kDate("^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
	return std::regex_match(text.begin(), text.end(), kDate);
}

inline bool
IsIsoTimestamp(std::string_view text)
{
	static const std::regex kTimestamp(
		"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$");
	return std::regex_match(text.begin(), text.end(), kTimestamp);
}

inline bool
HasZone(std::string_view text)
{
	if (text.size() <= 10)
		return false;
	const std::string_view time = text.substr(11);
	return time.find_first_of("Z+-") != std::string_view::npos;
}

// ?<name>=date|timestamp as a SQL timestamptz expression over a new parameter. A date as an upper bound
// (`upper`) means the end of that day, so from=2025-03-01&to=2025-03-31 is the whole of March. Errors go to
// `validator` (invalid_format); nullopt when absent or invalid.
inline std::optional<std::string>
QueryTimeBound(http::Validator& validator, const http::QueryParams& query, std::string_view name, bool upper,
               SqlParams& params)
{
	const auto text = validator.QueryString(query, name, TextRule(false, 1, 40));
	if (!text)
		return std::nullopt;
	if (IsIsoDate(*text)) {
		const std::string p = params.Add(*text);
		return upper ? "((" + p + "::date + 1)::timestamp AT TIME ZONE 'Asia/Kolkata')"
		             : "(" + p + "::date::timestamp AT TIME ZONE 'Asia/Kolkata')";
	}
	if (IsIsoTimestamp(*text)) {
		const std::string p = params.Add(*text);
		return HasZone(*text) ? "(" + p + "::timestamptz)" : "(" + p + "::timestamp AT TIME ZONE 'Asia/Kolkata')";
	}
	validator.Add(std::string(name), http::field_code::kInvalidFormat,
	              std::string(name) + " must be an ISO 8601 date or timestamp (2025-03-14, 2025-03-14T09:30:00Z)");
	return std::nullopt;
}

// ?<name>=<uuid>; invalid_format otherwise.
inline std::optional<std::string>
QueryUuid(http::Validator& validator, const http::QueryParams& query, std::string_view name)
{
	const auto text = validator.QueryString(query, name, TextRule(false, 1, 64));
	if (!text)
		return std::nullopt;
	static const std::regex kUuid("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
	if (!std::regex_match(*text, kUuid)) {
		validator.Add(std::string(name), http::field_code::kInvalidFormat, std::string(name) + " must be a UUID");
		return std::nullopt;
	}
	return text;
}

// ?<name>=one of `allowed`; not_allowed otherwise.
inline std::optional<std::string>
QueryOneOf(http::Validator& validator, const http::QueryParams& query, std::string_view name,
           const std::vector<std::string>& allowed)
{
	const auto text = validator.QueryString(query, name, TextRule(false, 1, 64));
	if (!text)
		return std::nullopt;
	for (const auto& value : allowed)
		if (*text == value)
			return text;
	std::string list;
	for (const auto& value : allowed)
		list += (list.empty() ? "" : ", ") + value;
	validator.Add(std::string(name), http::field_code::kNotAllowed, std::string(name) + " must be one of: " + list);
	return std::nullopt;
}

// ORDER BY from ?sortBy (a key of `columns`, each mapped to trusted SQL) and ?sortOrder (asc|desc, any case),
// with `tiebreak` appended so that pages are stable.
inline std::string
QueryOrderBy(http::Validator& validator, const http::QueryParams& query,
             const std::vector<std::pair<std::string, std::string>>& columns, const std::string& default_key,
             const std::string& default_order, const std::string& tiebreak)
{
	std::vector<std::string> keys;
	for (const auto& [key, sql] : columns)
		keys.push_back(key);
	const std::string key = QueryOneOf(validator, query, "sortBy", keys).value_or(default_key);
	std::string order = default_order;
	if (const auto text = validator.QueryString(query, "sortOrder", TextRule(false, 1, 8))) {
		std::string lower;
		for (char c : *text)
			lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
		if (lower == "asc" || lower == "desc")
			order = lower;
		else
			validator.Add("sortOrder", http::field_code::kNotAllowed, "sortOrder must be asc or desc");
	}
	std::string column;
	for (const auto& [k, sql] : columns)
		if (k == key)
			column = sql;
	return column + (order == "asc" ? " ASC NULLS LAST" : " DESC NULLS LAST") + ", " + tiebreak;
}

} // namespace balatrix::sidecar::api
