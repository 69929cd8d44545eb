#include "http/validation.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace balatrix::sidecar::http {
namespace {

using nlohmann::json;

std::string
Name(std::string_view field)
{
	return std::string(field);
}

} // namespace

nlohmann::json
FieldErrorsJson(const std::vector<FieldError>& errors)
{
	json list = json::array();
	for (const auto& error : errors)
		list.push_back(json{{"field", error.field}, {"code", error.code}, {"message", error.message}});
	return list;
}

Reply
ValidationFailure(const RequestContext& context, const std::vector<FieldError>& errors)
{
	return http::Failure(context, ErrorCode::kValidationFailed, "Validation failed", FieldErrorsJson(errors));
}

std::size_t
CodePointCount(std::string_view utf8)
{
	std::size_t count = 0;
	for (const char c : utf8) {
		if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
			++count;
	}
	return count;
}

Validator::Validator(const nlohmann::json* body) : body_(body)
{
	if (body_ != nullptr && !body_->is_object()) {
		body_usable_ = false;
		Add("", field_code::kInvalidType, "the request body must be a JSON object");
	}
}

void
Validator::Add(std::string field, std::string code, std::string message)
{
	errors_.push_back(FieldError{std::move(field), std::move(code), std::move(message)});
}

Reply
Validator::Failure(const RequestContext& context) const
{
	return ValidationFailure(context, errors_);
}

const nlohmann::json*
Validator::Member(std::string_view field) const
{
	if (body_ == nullptr || !body_usable_)
		return nullptr;
	const auto it = body_->find(std::string(field));
	if (it == body_->end() || it->is_null())
		return nullptr;
	return &*it;
}

bool
Validator::CheckString(std::string_view field, std::string_view value, const StringRule& rule)
{
	const std::size_t length = CodePointCount(value);
	if (length < rule.min_length) {
		Add(Name(field), field_code::kTooShort,
		    Name(field) + " must be at least " + std::to_string(rule.min_length) + " characters long");
		return false;
	}
	if (length > rule.max_length) {
		Add(Name(field), field_code::kTooLong,
		    Name(field) + " must be at most " + std::to_string(rule.max_length) + " characters long");
		return false;
	}
	if (rule.format && !rule.format(value)) {
		Add(Name(field), field_code::kInvalidFormat, Name(field) + " " + rule.format_message);
		return false;
	}
	return true;
}

bool
Validator::CheckInteger(std::string_view field, std::int64_t value, const IntegerRule& rule)
{
	if (value < rule.min || value > rule.max) {
		Add(Name(field), field_code::kOutOfRange,
		    Name(field) + " must be between " + std::to_string(rule.min) + " and " + std::to_string(rule.max));
		return false;
	}
	return true;
}

std::optional<std::string>
Validator::String(std::string_view field, const StringRule& rule)
{
	const json* member = Member(field);
	if (member == nullptr) {
		if (rule.required && body_usable_)
			Add(Name(field), field_code::kRequired, Name(field) + " is required");
		return std::nullopt;
	}
	if (!member->is_string()) {
		Add(Name(field), field_code::kInvalidType, Name(field) + " must be a string");
		return std::nullopt;
	}
	const auto& value = member->get_ref<const std::string&>();
	if (!CheckString(field, value, rule))
		return std::nullopt;
	return value;
}

std::optional<std::int64_t>
Validator::Integer(std::string_view field, const IntegerRule& rule)
{
	const json* member = Member(field);
	if (member == nullptr) {
		if (rule.required && body_usable_)
			Add(Name(field), field_code::kRequired, Name(field) + " is required");
		return std::nullopt;
	}
	std::int64_t value = 0;
	if (member->is_number_unsigned()) {
		const auto unsigned_value = member->get<std::uint64_t>();
		if (unsigned_value > static_cast<std::uint64_t>(INT64_MAX)) {
			Add(Name(field), field_code::kOutOfRange,
			    Name(field) + " must be between " + std::to_string(rule.min) + " and " + std::to_string(rule.max));
			return std::nullopt;
		}
		value = static_cast<std::int64_t>(unsigned_value);
	} else if (member->is_number_integer()) {
		value = member->get<std::int64_t>();
	} else {
		Add(Name(field), field_code::kInvalidType, Name(field) + " must be an integer");
		return std::nullopt;
	}
	if (!CheckInteger(field, value, rule))
		return std::nullopt;
	return value;
}

std::optional<bool>
Validator::Boolean(std::string_view field, bool required)
{
	const json* member = Member(field);
	if (member == nullptr) {
		if (required && body_usable_)
			Add(Name(field), field_code::kRequired, Name(field) + " is required");
		return std::nullopt;
	}
	if (!member->is_boolean()) {
		Add(Name(field), field_code::kInvalidType, Name(field) + " must be true or false");
		return std::nullopt;
	}
	return member->get<bool>();
}

std::optional<std::string>
Validator::OneOf(std::string_view field, const std::vector<std::string>& allowed, bool required)
{
	StringRule rule;
	rule.required = required;
	rule.max_length = SIZE_MAX;
	auto value = String(field, rule);
	if (!value)
		return std::nullopt;
	for (const auto& candidate : allowed) {
		if (*value == candidate)
			return value;
	}
	std::string list;
	for (const auto& candidate : allowed)
		list += (list.empty() ? "" : ", ") + candidate;
	Add(Name(field), field_code::kNotAllowed, Name(field) + " must be one of " + list);
	return std::nullopt;
}

void
Validator::NoOtherFields(std::initializer_list<std::string_view> known)
{
	if (body_ == nullptr || !body_usable_)
		return;
	for (const auto& [key, value] : body_->items()) {
		bool listed = false;
		for (const auto name : known)
			listed = listed || key == name;
		if (!listed)
			Add(key, field_code::kUnknownField, key + " is not accepted here");
	}
}

std::optional<std::int64_t>
Validator::QueryInteger(const QueryParams& query, std::string_view name, const IntegerRule& rule)
{
	const std::size_t count = query.Count(name);
	if (count == 0) {
		if (rule.required)
			Add(Name(name), field_code::kRequired, Name(name) + " is required");
		return std::nullopt;
	}
	if (count > 1) {
		Add(Name(name), field_code::kRepeated, Name(name) + " must be given once");
		return std::nullopt;
	}
	const std::string_view text = *query.First(name);
	std::int64_t value = 0;
	const char* first = text.data();
	const char* last = text.data() + text.size();
	const bool shape_ok = !text.empty() && (text.front() == '-' || (text.front() >= '0' && text.front() <= '9'));
	const auto [end, error] = std::from_chars(first, last, value);
	if (!shape_ok || end != last || error == std::errc::invalid_argument) {
		Add(Name(name), field_code::kInvalidType, Name(name) + " must be an integer");
		return std::nullopt;
	}
	if (error == std::errc::result_out_of_range) {
		Add(Name(name), field_code::kOutOfRange,
		    Name(name) + " must be between " + std::to_string(rule.min) + " and " + std::to_string(rule.max));
		return std::nullopt;
	}
	if (!CheckInteger(name, value, rule))
		return std::nullopt;
	return value;
}

std::optional<std::string>
Validator::QueryString(const QueryParams& query, std::string_view name, const StringRule& rule)
{
	const std::size_t count = query.Count(name);
	if (count == 0) {
		if (rule.required)
			Add(Name(name), field_code::kRequired, Name(name) + " is required");
		return std::nullopt;
	}
	if (count > 1) {
		Add(Name(name), field_code::kRepeated, Name(name) + " must be given once");
		return std::nullopt;
	}
	const std::string_view text = *query.First(name);
	if (!CheckString(name, text, rule))
		return std::nullopt;
	return std::string(text);
}

} // namespace balatrix::sidecar::http
