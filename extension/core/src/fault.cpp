/*
 * Core zone: deliberate failures (see fault.hpp).
 */
#include "balatrix/core/fault.hpp"

#include <new>
#include <stdexcept>
#include <vector>

namespace balatrix::core {

Status
RaiseFault(std::string_view kind, std::string *out)
{
	if (kind == "ok") {
		*out = "ok";
		return Status::Ok();
	}
	if (kind == "status")
		return Error{ErrorCode::kInvalidParameter, "deliberate expected failure", "kind = status",
		             "this is the path business errors take"};
	if (kind == "logic_error")
		throw std::logic_error("deliberate logic error in core code");
	if (kind == "bad_alloc")
		throw std::bad_alloc();
	if (kind == "out_of_range") {
		std::vector<int> three{1, 2, 3};
		*out = std::to_string(three.at(three.size()));
		return Status::Ok();
	}
	return Error{ErrorCode::kInvalidParameter, "unknown fault kind \"" + std::string(kind) + "\"", "",
	             "valid kinds: ok, status, logic_error, bad_alloc, out_of_range"};
}

} // namespace balatrix::core
