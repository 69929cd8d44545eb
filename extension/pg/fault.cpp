/*
 * PG zone: a deliberately failing entry point that proves the bridge (tests only).
 *
 * balatrix_debug_fault(kind text) is exported by balatrix.so but is not part of the extension's
 * SQL script: a test binds it with its own
 *     CREATE FUNCTION ... RETURNS text AS 'balatrix', 'balatrix_debug_fault' LANGUAGE C STRICT;
 * (which needs superuser), so production databases never expose it.
 *
 * Kinds (see core/fault.hpp): ok, status, logic_error, bad_alloc, out_of_range, and here
 * pg_error: core-side code calls PostgreSQL's numeric input function through PgCall with a
 * malformed number, so a PostgreSQL ERROR crosses C++ frames and is re-raised with its own
 * SQLSTATE (22P02) and message.
 */
#include "balatrix/core/fault.hpp"

#include <string>

#include "guard.hpp"

namespace core = balatrix::core;
namespace pg = balatrix::pg;

BALATRIX_PG_FUNCTION(balatrix_debug_fault)
{
	char *kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char result[64];
	result[0] = '\0';

	pg::CallCoreOrRaise([&]() -> core::Status {
		if (strcmp(kind, "pg_error") == 0) {
			std::string keep_alive = "a C++ object whose destructor must run";
			pg::PgCall([&] {
				(void) DirectFunctionCall3(numeric_in, CStringGetDatum("12.3.4"), ObjectIdGetDatum(InvalidOid),
				                           Int32GetDatum(-1));
			});
			strlcpy(result, keep_alive.c_str(), sizeof result);
			return core::Status::Ok();
		}
		std::string out;
		core::Status status = core::RaiseFault(kind, &out);
		strlcpy(result, out.c_str(), sizeof result);
		return status;
	});
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
