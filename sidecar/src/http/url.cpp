#include "http/url.hpp"

namespace balatrix::sidecar::http {
namespace {

constexpr std::size_t kMaxQuotedName = 64;

std::string
Quoted(std::string_view raw)
{
	if (raw.size() <= kMaxQuotedName)
		return std::string(raw);
	return std::string(raw.substr(0, kMaxQuotedName)) + "...";
}

} // namespace

std::optional<std::string_view>
RequestTargetFromLine(std::string_view request_line)
{
	if (!request_line.empty() && request_line.back() == '\r')
		request_line.remove_suffix(1);
	const auto first = request_line.find(' ');
	if (first == std::string_view::npos)
		return std::nullopt;
	const auto second = request_line.find(' ', first + 1);
	if (second == std::string_view::npos)
		return std::nullopt;
	return request_line.substr(first + 1, second - first - 1);
}

std::string_view
TargetErrorMessage(TargetError error)
{
	switch (error) {
	case TargetError::kEmpty:
		return "empty request target";
	case TargetError::kNotOriginForm:
		return "the request target must be a path starting with '/'";
	case TargetError::kInvalidCharacter:
		return "the request target contains a character that must be percent-encoded";
	}
	return "invalid request target";
}

std::variant<RequestTarget, TargetError>
SplitRequestTarget(std::string_view target)
{
	if (target.empty())
		return TargetError::kEmpty;
	if (target.front() != '/')
		return TargetError::kNotOriginForm;
	for (const char c : target) {
		const auto byte = static_cast<unsigned char>(c);
		if (byte <= 0x20 || byte >= 0x7F || c == '#')
			return TargetError::kInvalidCharacter;
	}
	RequestTarget split;
	const auto question = target.find('?');
	if (question == std::string_view::npos) {
		split.path = target;
	} else {
		split.path = target.substr(0, question);
		split.query = target.substr(question + 1);
	}
	return split;
}

bool
QueryParams::Has(std::string_view name) const
{
	return Count(name) > 0;
}

std::size_t
QueryParams::Count(std::string_view name) const
{
	std::size_t count = 0;
	for (const auto& [key, value] : entries_) {
		if (key == name)
			++count;
	}
	return count;
}

std::optional<std::string_view>
QueryParams::First(std::string_view name) const
{
	for (const auto& [key, value] : entries_) {
		if (key == name)
			return std::string_view(value);
	}
	return std::nullopt;
}

std::vector<std::string_view>
QueryParams::All(std::string_view name) const
{
	std::vector<std::string_view> values;
	for (const auto& [key, value] : entries_) {
		if (key == name)
			values.emplace_back(value);
	}
	return values;
}

std::string
QueryErrorMessage(const QueryError& error)
{
	switch (error.kind) {
	case QueryError::Kind::kTooManyParameters:
		return "the query string has more than " + std::to_string(kMaxQueryParameters) + " parameters";
	case QueryError::Kind::kDecode:
		return "query parameter \"" + error.parameter + "\" " + std::string(DecodeErrorMessage(error.decode_error));
	}
	return "invalid query string";
}

std::variant<QueryParams, QueryError>
ParseQuery(std::string_view raw_query)
{
	std::vector<QueryParams::Entry> entries;
	std::size_t start = 0;
	while (start <= raw_query.size()) {
		auto end = raw_query.find('&', start);
		if (end == std::string_view::npos)
			end = raw_query.size();
		const std::string_view pair = raw_query.substr(start, end - start);
		start = end + 1;
		if (pair.empty())
			continue;
		if (entries.size() == kMaxQueryParameters)
			return QueryError{QueryError::Kind::kTooManyParameters, DecodeError::kInvalidEscape, std::string()};

		const auto equals = pair.find('=');
		const std::string_view raw_name = pair.substr(0, equals);
		const std::string_view raw_value =
			equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
		auto name = PercentDecode(raw_name, PercentDecodeMode::kQueryComponent);
		if (const auto* error = std::get_if<DecodeError>(&name))
			return QueryError{QueryError::Kind::kDecode, *error, Quoted(raw_name)};
		auto value = PercentDecode(raw_value, PercentDecodeMode::kQueryComponent);
		if (const auto* error = std::get_if<DecodeError>(&value))
			return QueryError{QueryError::Kind::kDecode, *error, Quoted(raw_name)};
		entries.emplace_back(std::move(std::get<std::string>(name)), std::move(std::get<std::string>(value)));
	}
	return QueryParams(std::move(entries));
}

std::optional<std::string_view>
PathParams::Get(std::string_view name) const
{
	for (const auto& [key, value] : entries_) {
		if (key == name)
			return std::string_view(value);
	}
	return std::nullopt;
}

std::variant<PathParams, PathParamError>
DecodePathParams(const std::vector<std::string>& names, const std::vector<std::string_view>& raw_values)
{
	std::vector<PathParams::Entry> entries;
	entries.reserve(names.size());
	for (std::size_t i = 0; i < names.size() && i < raw_values.size(); ++i) {
		auto value = PercentDecode(raw_values[i], PercentDecodeMode::kPathSegment);
		if (const auto* error = std::get_if<DecodeError>(&value))
			return PathParamError{names[i], *error};
		entries.emplace_back(names[i], std::move(std::get<std::string>(value)));
	}
	return PathParams(std::move(entries));
}

} // namespace balatrix::sidecar::http
