#include "http/request_body.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "strict_json.hpp"

namespace balatrix::sidecar::http {
namespace {

std::string_view
Trim(std::string_view text)
{
	while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
		text.remove_prefix(1);
	while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
		text.remove_suffix(1);
	return text;
}

bool
EqualsIgnoringCase(std::string_view text, std::string_view lower)
{
	if (text.size() != lower.size())
		return false;
	for (std::size_t i = 0; i < text.size(); ++i) {
		if (std::tolower(static_cast<unsigned char>(text[i])) != lower[i])
			return false;
	}
	return true;
}

} // namespace

bool
IsJsonMediaType(std::string_view content_type)
{
	std::size_t start = 0;
	bool first = true;
	while (start <= content_type.size()) {
		auto end = content_type.find(';', start);
		if (end == std::string_view::npos)
			end = content_type.size();
		const std::string_view part = Trim(content_type.substr(start, end - start));
		start = end + 1;
		if (first) {
			if (!EqualsIgnoringCase(part, "application/json"))
				return false;
			first = false;
			continue;
		}
		if (part.empty())
			continue;
		const auto equals = part.find('=');
		if (equals == std::string_view::npos || !EqualsIgnoringCase(Trim(part.substr(0, equals)), "charset"))
			return false;
		std::string_view value = Trim(part.substr(equals + 1));
		if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
			value = value.substr(1, value.size() - 2);
		if (!EqualsIgnoringCase(value, "utf-8"))
			return false;
	}
	return !first;
}

bool
MethodCarriesBody(std::string_view method)
{
	return method == "POST" || method == "PUT" || method == "PATCH";
}

std::variant<std::shared_ptr<const nlohmann::json>, BodyRejection>
ReadJsonBody(std::string_view method, std::optional<std::string_view> content_type, std::string_view body)
{
	const bool declared_json = content_type && IsJsonMediaType(*content_type);
	if (body.empty()) {
		if (content_type && !declared_json && MethodCarriesBody(method))
			return BodyRejection{ErrorCode::kUnsupportedMediaType, "Content-Type must be application/json",
			                     std::nullopt};
		return std::shared_ptr<const nlohmann::json>();
	}
	if (!declared_json)
		return BodyRejection{ErrorCode::kUnsupportedMediaType, "Content-Type must be application/json", std::nullopt};

	auto parsed = ParseStrictJson(body);
	if (auto* problem = std::get_if<JsonProblem>(&parsed))
		return BodyRejection{ErrorCode::kInvalidJson, "Malformed JSON body: " + problem->reason, problem->offset};
	return std::make_shared<const nlohmann::json>(std::move(std::get<nlohmann::json>(parsed)));
}

} // namespace balatrix::sidecar::http
