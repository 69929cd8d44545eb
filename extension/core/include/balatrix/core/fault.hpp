/*
 * Core zone: deliberate failures, for proving the C++/PostgreSQL bridge.
 *
 * Tests reach this through an internal C symbol of balatrix.so that is NOT part of the extension's
 * SQL API (tests bind it with their own CREATE FUNCTION, as superuser). Each kind exercises one
 * path out of core code: a returned Status, a logic bug (exception), an allocation failure, and an
 * exception thrown by the standard library.
 */
#pragma once

#include "balatrix/core/status.hpp"

#include <string>
#include <string_view>

namespace balatrix::core {

// kind: "ok"          -> returns Ok and sets *out to "ok"
//       "status"      -> returns an ErrorCode::kInvalidParameter Status (an expected failure)
//       "logic_error" -> throws std::logic_error (a bug)
//       "bad_alloc"   -> throws std::bad_alloc
//       "out_of_range"-> std::vector::at past the end (the library throws std::out_of_range)
// Any other kind returns a kInvalidParameter Status naming the valid kinds.
Status RaiseFault(std::string_view kind, std::string *out);

} // namespace balatrix::core
