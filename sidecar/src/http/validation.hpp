/*
 * Input validation with per-field errors: 422 VALIDATION_ERROR whose error.details is the list of every
 * problem found, each {"field","code","message"} (the seed lost these details, BUG-84):
 *
 *   {"success":false,"message":"Validation failed","error":{"code":"VALIDATION_ERROR","details":[
 *     {"field":"email","code":"required","message":"email is required"},
 *     {"field":"limit","code":"out_of_range","message":"limit must be between 1 and 100"}]},"metadata":{...}}
 *
 * A handler reads every field through one Validator, then answers validator.Failure(context) if !ok(). All
 * problems are reported at once, never only the first. `code` is a stable machine-readable word (FieldCode);
 * `message` is English for humans and may change.
 *
 * Values are never coerced: "5" is not an integer in a JSON body, 5.0 is not an integer, and a string is
 * not trimmed. Query parameters are strings by nature and are parsed strictly (decimal digits, optional '-').
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "http/envelope.hpp"
#include "http/request_context.hpp"
#include "http/url.hpp"

namespace balatrix::sidecar::http {

// The `code` values of a FieldError.
namespace field_code {
inline constexpr const char* kRequired = "required";            // missing (or null)
inline constexpr const char* kInvalidType = "invalid_type";     // e.g. a string where a number belongs
inline constexpr const char* kTooShort = "too_short";           // fewer characters than allowed
inline constexpr const char* kTooLong = "too_long";             // more characters than allowed
inline constexpr const char* kOutOfRange = "out_of_range";      // a number outside its bounds
inline constexpr const char* kInvalidFormat = "invalid_format"; // fails the field's format (e-mail, GSTIN, ...)
inline constexpr const char* kNotAllowed = "not_allowed";       // not one of the permitted values
inline constexpr const char* kUnknownField = "unknown_field";   // a field the endpoint does not accept
inline constexpr const char* kRepeated = "repeated";            // a query parameter given more than once
} // namespace field_code

struct FieldError {
	std::string field; // "" for the body as a whole
	std::string code;  // a field_code value
	std::string message;

	bool
	operator==(const FieldError& other) const
	{
		return field == other.field && code == other.code && message == other.message;
	}
};

// [{"field","code","message"}, ...] in the given order.
nlohmann::json FieldErrorsJson(const std::vector<FieldError>& errors);

// 422 VALIDATION_ERROR, message "Validation failed", details FieldErrorsJson(errors).
Reply ValidationFailure(const RequestContext& context, const std::vector<FieldError>& errors);

struct StringRule {
	bool required = true;
	std::size_t min_length = 0;   // in Unicode code points
	std::size_t max_length = 255; // in Unicode code points
	// Optional format check and the message when it fails (e.g. "must be an e-mail address").
	std::function<bool(std::string_view)> format;
	std::string format_message = "has an invalid format";
};

struct IntegerRule {
	bool required = true;
	std::int64_t min = INT64_MIN;
	std::int64_t max = INT64_MAX;
};

class Validator {
public:
	// `body` is the request's parsed JSON body or null (no body). A body that is not an object is one error
	// (field "", invalid_type); field reads then return nullopt without further errors.
	explicit Validator(const nlohmann::json* body);

	// Each returns the value when present and valid; otherwise nullopt, having recorded an error unless the
	// field is optional and absent. JSON null counts as absent.
	std::optional<std::string> String(std::string_view field, const StringRule& rule);
	std::optional<std::int64_t> Integer(std::string_view field, const IntegerRule& rule);
	std::optional<bool> Boolean(std::string_view field, bool required);
	std::optional<std::string> OneOf(std::string_view field, const std::vector<std::string>& allowed, bool required);

	// Records unknown_field for every body member not in `known`, so a misspelt optional field is not ignored.
	void NoOtherFields(std::initializer_list<std::string_view> known);

	// Query parameters: absent -> nullopt (or `required`), repeated -> `repeated`, then parsed and checked.
	std::optional<std::int64_t> QueryInteger(const QueryParams& query, std::string_view name, const IntegerRule& rule);
	std::optional<std::string> QueryString(const QueryParams& query, std::string_view name, const StringRule& rule);

	void Add(std::string field, std::string code, std::string message);

	bool
	ok() const
	{
		return errors_.empty();
	}

	const std::vector<FieldError>&
	errors() const
	{
		return errors_;
	}

	// ValidationFailure(context, errors()).
	Reply Failure(const RequestContext& context) const;

private:
	// The member, or null when absent, JSON null, or the body is unusable.
	const nlohmann::json* Member(std::string_view field) const;
	bool CheckString(std::string_view field, std::string_view value, const StringRule& rule);
	bool CheckInteger(std::string_view field, std::int64_t value, const IntegerRule& rule);

	const nlohmann::json* body_;
	bool body_usable_ = true;
	std::vector<FieldError> errors_;
};

// Number of Unicode code points in well-formed UTF-8 (counts the bytes that do not continue a sequence).
std::size_t CodePointCount(std::string_view utf8);

} // namespace balatrix::sidecar::http
