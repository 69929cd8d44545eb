#include "http/security_headers.hpp"

#include <algorithm>
#include <cctype>

namespace balatrix::sidecar::http {
namespace {

// RFC 9110 token characters.
bool
IsTokenCharacter(char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool
IsSafeName(const std::string& name)
{
	return !name.empty() && std::all_of(name.begin(), name.end(), IsTokenCharacter);
}

bool
IsSafeValue(const std::string& value)
{
	return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

bool
SameName(const std::string& a, const std::string& b)
{
	return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
			   return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
		   });
}

} // namespace

HeaderList
SecurityHeaders(const SecurityHeaderOptions& options)
{
	HeaderList headers{
		{"X-Content-Type-Options", "nosniff"},
		{"X-Frame-Options", "DENY"},
		{"Referrer-Policy", "no-referrer"},
		{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
		{"Cache-Control", "no-store"},
	};
	if (options.hsts_max_age.count() > 0) {
		headers.emplace_back("Strict-Transport-Security",
		                     "max-age=" + std::to_string(options.hsts_max_age.count()) + "; includeSubDomains");
	}
	return headers;
}

HeaderList
MergeHeaders(std::initializer_list<const HeaderList*> lists)
{
	HeaderList merged;
	for (const HeaderList* list : lists) {
		if (list == nullptr)
			continue;
		for (const auto& [name, value] : *list) {
			if (!IsSafeName(name) || !IsSafeValue(value))
				continue;
			const bool seen = std::any_of(merged.begin(), merged.end(),
			                              [&name = name](const auto& header) { return SameName(header.first, name); });
			if (!seen)
				merged.emplace_back(name, value);
		}
	}
	return merged;
}

} // namespace balatrix::sidecar::http
