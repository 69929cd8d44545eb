#include "http/cors.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace balatrix::sidecar::http {
namespace {

constexpr std::string_view kWildcard = "*";

std::string
Lowercase(std::string_view text)
{
	std::string lower(text);
	for (char& c : lower)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	return lower;
}

bool
IsHostCharacter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool
IsIpv6Character(char c)
{
	return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

// "8443" -> true; "", "0", "080", "65536", "12a" -> false.
bool
IsPort(std::string_view text)
{
	if (text.empty() || text.size() > 5 || text.front() == '0')
		return false;
	long value = 0;
	for (const char c : text) {
		if (c < '0' || c > '9')
			return false;
		value = value * 10 + (c - '0');
	}
	return value >= 1 && value <= 65535;
}

std::string
Join(const std::vector<std::string>& items)
{
	std::string joined;
	for (const auto& item : items)
		joined += (joined.empty() ? "" : ", ") + item;
	return joined;
}

} // namespace

std::optional<std::string>
NormalizeOrigin(std::string_view origin)
{
	const std::string lower = Lowercase(origin);
	std::string_view rest = lower;
	for (const std::string_view scheme : {std::string_view("https://"), std::string_view("http://")}) {
		if (rest.substr(0, scheme.size()) == scheme) {
			rest.remove_prefix(scheme.size());
			break;
		}
	}
	if (rest.size() == lower.size())
		return std::nullopt; // no http(s) scheme

	std::string_view host;
	if (!rest.empty() && rest.front() == '[') {
		const auto close = rest.find(']');
		if (close == std::string_view::npos || close == 1)
			return std::nullopt;
		host = rest.substr(0, close + 1);
		if (!std::all_of(host.begin() + 1, host.end() - 1, IsIpv6Character))
			return std::nullopt;
	} else {
		const auto end = rest.find(':');
		host = rest.substr(0, end);
		if (host.empty() || !std::all_of(host.begin(), host.end(), IsHostCharacter))
			return std::nullopt;
	}
	rest.remove_prefix(host.size());
	if (!rest.empty()) {
		if (rest.front() != ':' || !IsPort(rest.substr(1)))
			return std::nullopt;
	}
	return lower;
}

CorsPolicy::CorsPolicy(CorsOptions options) : options_(std::move(options))
{
	const auto& origins = options_.allowed_origins;
	const bool has_wildcard = std::find(origins.begin(), origins.end(), kWildcard) != origins.end();
	if (has_wildcard && origins.size() > 1)
		throw std::invalid_argument("CORS: \"*\" must be the only allowed origin");
	if (has_wildcard && options_.allow_credentials)
		throw std::invalid_argument("CORS: \"*\" cannot be combined with credentials");
	for (auto& origin : options_.allowed_origins) {
		if (origin == kWildcard)
			continue;
		const auto normalized = NormalizeOrigin(origin);
		if (!normalized)
			throw std::invalid_argument("CORS: \"" + origin + "\" is not an origin");
		origin = *normalized;
	}
}

bool
CorsPolicy::wildcard() const
{
	return options_.allowed_origins.size() == 1 && options_.allowed_origins.front() == kWildcard;
}

bool
CorsPolicy::IsAllowed(std::string_view origin) const
{
	const auto normalized = NormalizeOrigin(origin);
	if (!normalized)
		return false;
	if (wildcard())
		return true;
	const auto& origins = options_.allowed_origins;
	return std::find(origins.begin(), origins.end(), *normalized) != origins.end();
}

HeaderList
CorsPolicy::ResponseHeaders(std::optional<std::string_view> origin) const
{
	HeaderList headers;
	if (!enabled())
		return headers;
	if (wildcard()) {
		if (origin && IsAllowed(*origin)) {
			headers.emplace_back("Access-Control-Allow-Origin", "*");
			headers.emplace_back("Access-Control-Expose-Headers", kCorsExposedHeaders);
		}
		return headers;
	}
	// The answer depends on Origin even when it is refused or absent: caches must key on it.
	headers.emplace_back("Vary", "Origin");
	if (origin && IsAllowed(*origin)) {
		headers.emplace_back("Access-Control-Allow-Origin", *NormalizeOrigin(*origin));
		if (options_.allow_credentials)
			headers.emplace_back("Access-Control-Allow-Credentials", "true");
		headers.emplace_back("Access-Control-Expose-Headers", kCorsExposedHeaders);
	}
	return headers;
}

HeaderList
CorsPolicy::PreflightHeaders(std::string_view origin, const std::vector<std::string>& methods) const
{
	HeaderList headers;
	if (wildcard()) {
		headers.emplace_back("Access-Control-Allow-Origin", "*");
	} else {
		headers.emplace_back("Vary", "Origin");
		headers.emplace_back("Access-Control-Allow-Origin", NormalizeOrigin(origin).value_or(std::string()));
		if (options_.allow_credentials)
			headers.emplace_back("Access-Control-Allow-Credentials", "true");
	}
	headers.emplace_back("Access-Control-Allow-Methods", Join(methods));
	headers.emplace_back("Access-Control-Allow-Headers", kCorsAllowedRequestHeaders);
	headers.emplace_back("Access-Control-Max-Age", std::to_string(options_.max_age.count()));
	return headers;
}

} // namespace balatrix::sidecar::http
