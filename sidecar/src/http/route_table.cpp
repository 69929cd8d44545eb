#include "http/route_table.hpp"

#include <algorithm>
#include <stdexcept>

namespace balatrix::sidecar::http {
namespace {

bool
IsUnreserved(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_' || c == '~';
}

bool
IsParameterName(std::string_view name)
{
	if (name.empty())
		return false;
	for (std::size_t i = 0; i < name.size(); ++i) {
		const char c = name[i];
		const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
		const bool digit = c >= '0' && c <= '9';
		if (!letter && !(digit && i > 0))
			return false;
	}
	return true;
}

// Splits "/a/b" into {"a","b"}; "/" into {}. nullopt when the path does not start with '/', has an empty
// segment, or has too many segments. One trailing '/' is dropped first.
std::optional<std::vector<std::string_view>>
SplitPath(std::string_view path, std::size_t max_segments)
{
	if (path.empty() || path.front() != '/')
		return std::nullopt;
	if (path.size() > 1 && path.back() == '/')
		path.remove_suffix(1);
	std::vector<std::string_view> segments;
	if (path.size() == 1)
		return segments;
	std::size_t start = 1;
	for (;;) {
		const auto slash = path.find('/', start);
		const std::string_view segment =
			path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
		if (segment.empty() || segments.size() == max_segments)
			return std::nullopt;
		segments.push_back(segment);
		if (slash == std::string_view::npos)
			return segments;
		start = slash + 1;
	}
}

bool
IsRoutableMethod(std::string_view method)
{
	return std::any_of(std::begin(kRoutableMethods), std::end(kRoutableMethods),
	                   [method](const char* known) { return method == known; });
}

} // namespace

std::size_t
RouteTable::Add(std::string_view method, std::string_view pattern)
{
	const std::string where = std::string(method) + " " + std::string(pattern);
	if (!IsRoutableMethod(method))
		throw std::invalid_argument("route " + where + ": unsupported method");
	if (pattern.size() > 1 && pattern.back() == '/')
		throw std::invalid_argument("route " + where + ": trailing '/'");
	const auto parts = SplitPath(pattern, kMaxSegments);
	if (!parts)
		throw std::invalid_argument("route " + where + ": malformed pattern");

	RouteInfo info{std::string(method), std::string(pattern), {}};
	Compiled compiled;
	for (std::size_t i = 0; i < parts->size(); ++i) {
		const std::string_view part = (*parts)[i];
		Segment segment;
		if (part.front() == ':') {
			const std::string_view name = part.substr(1);
			if (!IsParameterName(name))
				throw std::invalid_argument("route " + where + ": bad parameter name \"" + std::string(name) + "\"");
			if (std::find(info.param_names.begin(), info.param_names.end(), name) != info.param_names.end())
				throw std::invalid_argument("route " + where + ": parameter \"" + std::string(name) + "\" repeated");
			segment.parameter = true;
			segment.text = std::string(name);
			info.param_names.push_back(segment.text);
		} else {
			if (!std::all_of(part.begin(), part.end(), IsUnreserved))
				throw std::invalid_argument("route " + where + ": segment \"" + std::string(part) +
				                            "\" must be unreserved characters or :name");
			segment.text = std::string(part);
			compiled.specificity |= std::uint32_t{1} << (kMaxSegments - 1 - i);
		}
		compiled.segments.push_back(std::move(segment));
	}

	for (std::size_t i = 0; i < routes_.size(); ++i) {
		const Compiled& other = compiled_[i];
		if (routes_[i].method != method || other.segments.size() != compiled.segments.size() ||
		    other.specificity != compiled.specificity)
			continue;
		bool same = true;
		for (std::size_t k = 0; k < other.segments.size() && same; ++k) {
			if (!other.segments[k].parameter && other.segments[k].text != compiled.segments[k].text)
				same = false;
		}
		if (same)
			throw std::invalid_argument("route " + where + " duplicates " + routes_[i].pattern);
	}

	routes_.push_back(std::move(info));
	compiled_.push_back(std::move(compiled));
	return routes_.size() - 1;
}

RouteTable::Match
RouteTable::Find(std::string_view method, std::string_view raw_path) const
{
	Match match;
	const auto parts = SplitPath(raw_path, kMaxSegments);
	if (!parts)
		return match;

	std::optional<std::size_t> best_for_method;
	for (std::size_t i = 0; i < compiled_.size(); ++i) {
		const Compiled& candidate = compiled_[i];
		if (candidate.segments.size() != parts->size())
			continue;
		bool matches = true;
		for (std::size_t k = 0; k < parts->size() && matches; ++k) {
			const Segment& segment = candidate.segments[k];
			if (!segment.parameter && segment.text != (*parts)[k])
				matches = false;
		}
		if (!matches)
			continue;
		const std::string& route_method = routes_[i].method;
		if (std::find(match.allowed_methods.begin(), match.allowed_methods.end(), route_method) ==
		    match.allowed_methods.end())
			match.allowed_methods.push_back(route_method);
		if (!match.path_index || candidate.specificity > compiled_[*match.path_index].specificity)
			match.path_index = i;
		if (route_method == method &&
		    (!best_for_method || candidate.specificity > compiled_[*best_for_method].specificity))
			best_for_method = i;
	}
	std::sort(match.allowed_methods.begin(), match.allowed_methods.end());

	if (best_for_method) {
		match.outcome = Match::Outcome::kFound;
		match.index = *best_for_method;
		match.path_index = best_for_method; // log the route that serves the request
		const Compiled& route = compiled_[match.index];
		for (std::size_t k = 0; k < route.segments.size(); ++k) {
			if (route.segments[k].parameter)
				match.raw_params.push_back((*parts)[k]);
		}
	} else if (match.path_index) {
		match.outcome = Match::Outcome::kMethodNotAllowed;
	}
	return match;
}

} // namespace balatrix::sidecar::http
