/*
 * The route table: which (method, path pattern) pairs exist, and which of them a request matches. Pure (no
 * Pistache), so it is tested on its own and the OpenAPI test can walk it.
 *
 * Patterns are "/" or "/seg/seg/..." where a segment is either fixed text of RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - . _ ~) or a parameter ":name" (name: [A-Za-z_][A-Za-z0-9_]*). A parameter matches any one
 * non-empty raw segment; decoding happens after matching (url.hpp).
 *
 * Matching works on the raw (still percent-encoded) path: one trailing '/' is ignored ("/health/" is
 * "/health"), an empty segment ("//") matches nothing, and a fixed segment matches byte for byte
 * ("/he%61lth" is not "/health"). When several patterns match, the most specific wins: comparing segment by
 * segment from the left, fixed text beats a parameter at the first position where they differ, so
 * "/customers/stats" wins over "/customers/:id" for "/customers/stats".
 *
 * Not thread-safe while routes are added; Find is const and may run concurrently once adding is over.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace balatrix::sidecar::http {

// Methods a route may be registered for. OPTIONS is answered by the router itself (CORS preflight) and HEAD
// is not served.
inline constexpr const char* kRoutableMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

struct RouteInfo {
	std::string method;
	std::string pattern;
	std::vector<std::string> param_names; // in pattern order
};

class RouteTable {
public:
	// Paths with more segments than this match nothing (and such patterns are refused).
	static constexpr std::size_t kMaxSegments = 32;

	struct Match {
		enum class Outcome { kFound, kMethodNotAllowed, kNotFound };
		Outcome outcome = Outcome::kNotFound;
		// kFound: the route for the request's method.
		std::size_t index = 0;
		// The most specific route for the path whatever its method (kFound and kMethodNotAllowed); for logs.
		std::optional<std::size_t> path_index;
		// Every method some route of this path accepts, sorted (kFound and kMethodNotAllowed).
		std::vector<std::string> allowed_methods;
		// kFound: the raw values of the route's parameters, in pattern order; views into the matched path.
		std::vector<std::string_view> raw_params;
	};

	// Returns the new route's index. Throws std::invalid_argument for a method outside kRoutableMethods, a
	// malformed pattern, a repeated parameter name, or a route that duplicates an existing one (same method and
	// the same fixed segments and parameter positions).
	std::size_t Add(std::string_view method, std::string_view pattern);

	Match Find(std::string_view method, std::string_view raw_path) const;

	const std::vector<RouteInfo>&
	routes() const
	{
		return routes_;
	}

private:
	struct Segment {
		bool parameter = false;
		std::string text; // fixed text, or the parameter's name
	};
	struct Compiled {
		std::vector<Segment> segments;
		// Bit (kMaxSegments - 1 - i) set when segment i is fixed: a larger value is more specific.
		std::uint32_t specificity = 0;
	};

	std::vector<RouteInfo> routes_;
	std::vector<Compiled> compiled_;
};

} // namespace balatrix::sidecar::http
