#include "strict_json.hpp"

#include <cmath>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

namespace balatrix::sidecar {
namespace {

using nlohmann::json;

// Longest key quoted back in a "duplicate key" reason.
constexpr std::size_t kMaxQuotedKey = 64;

// Validates without building anything; returning false stops the parse at once.
class StrictSax {
public:
	explicit StrictSax(std::size_t max_depth) : max_depth_(max_depth) {}

	bool
	null()
	{
		return true;
	}

	bool
	boolean(bool)
	{
		return true;
	}

	bool
	number_integer(json::number_integer_t)
	{
		return true;
	}

	bool
	number_unsigned(json::number_unsigned_t)
	{
		return true;
	}

	bool
	number_float(json::number_float_t value, const json::string_t&)
	{
		if (!std::isfinite(value))
			return Fail("number out of range");
		return true;
	}

	bool
	string(json::string_t& value)
	{
		if (value.find('\0') != std::string::npos)
			return Fail("string contains a NUL character (\\u0000)");
		return true;
	}

	bool
	binary(json::binary_t&)
	{
		return Fail("binary values are not JSON");
	}

	bool
	start_object(std::size_t)
	{
		if (!Enter())
			return false;
		keys_.emplace_back();
		return true;
	}

	bool
	key(json::string_t& value)
	{
		if (value.find('\0') != std::string::npos)
			return Fail("key contains a NUL character (\\u0000)");
		if (!keys_.back().insert(value).second) {
			std::string shown = value.substr(0, kMaxQuotedKey);
			return Fail("duplicate key \"" + shown + (value.size() > kMaxQuotedKey ? "...\"" : "\""));
		}
		return true;
	}

	bool
	end_object()
	{
		keys_.pop_back();
		--depth_;
		return true;
	}

	bool
	start_array(std::size_t)
	{
		return Enter();
	}

	bool
	end_array()
	{
		--depth_;
		return true;
	}

	bool
	parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& error)
	{
		// what() looks like "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error
		// while parsing value - invalid literal; last read: 'x'"; the bracketed prefix is noise to a client.
		std::string reason = error.what();
		const auto prefix_end = reason.find("] ");
		if (reason.rfind("[json.exception.", 0) == 0 && prefix_end != std::string::npos)
			reason.erase(0, prefix_end + 2);
		problem_ = JsonProblem{std::move(reason), position > 0 ? position - 1 : 0};
		return false;
	}

	std::optional<JsonProblem>
	TakeProblem()
	{
		return std::move(problem_);
	}

private:
	bool
	Enter()
	{
		if (++depth_ > max_depth_)
			return Fail("nested deeper than " + std::to_string(max_depth_) + " levels");
		return true;
	}

	bool
	Fail(std::string reason)
	{
		problem_ = JsonProblem{std::move(reason), std::nullopt};
		return false;
	}

	std::size_t max_depth_;
	std::size_t depth_ = 0;
	// One key set per open object; arrays need none.
	std::vector<std::unordered_set<std::string>> keys_;
	std::optional<JsonProblem> problem_;
};

} // namespace

std::variant<nlohmann::json, JsonProblem>
ParseStrictJson(std::string_view text, StrictJsonOptions options)
{
	// nlohmann's lexer takes a NUL byte for the end of input, so "{}\0garbage" would parse as "{}". A raw NUL
	// is never valid JSON text (inside strings it must be escaped, and "\u0000" is refused below).
	if (const auto nul = text.find('\0'); nul != std::string_view::npos)
		return JsonProblem{"NUL byte in JSON text", nul};
	const char* first = text.data();
	const char* last = text.data() + text.size();
	StrictSax sax(options.max_depth);
	if (!json::sax_parse(first, last, &sax)) {
		if (auto problem = sax.TakeProblem())
			return std::move(*problem);
		return JsonProblem{"invalid JSON", std::nullopt};
	}
	// The same input the SAX pass accepted; with allow_exceptions = false a failure would yield a discarded
	// value rather than throw, which is checked for completeness.
	json document = json::parse(first, last, nullptr, /*allow_exceptions=*/false);
	if (document.is_discarded())
		return JsonProblem{"invalid JSON", std::nullopt};
	return document;
}

} // namespace balatrix::sidecar
