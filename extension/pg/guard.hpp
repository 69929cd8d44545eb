/*
 * Bridge between core C++ and the PostgreSQL backend. Read this before writing any PG-zone code.
 *
 * The hazard. ereport(ERROR) is a siglongjmp. If it unwinds through a C++ frame, destructors in that
 * frame never run (leaks, held mutexes, half-updated caches). A C++ exception that escapes an
 * extern "C" function kills the backend with SIGABRT, and the postmaster then restarts every
 * backend in the cluster. Both are avoided by keeping the two kinds of unwinding apart:
 *
 *   PG zone (extension/pg, *.cpp)   reads arguments, palloc, SPI, ereport. Locals are PODs or PG
 *                                  types only: no std::string, no std::vector, nothing with a
 *                                  destructor in a frame that can reach ereport / SPI / palloc /
 *                                  CHECK_FOR_INTERRUPTS.
 *   Core zone (extension/core)     ordinary C++; no PostgreSQL at all.
 *   Bridge (this file)             CallCore runs core code inside try and returns a POD Outcome.
 *                                  By the time the PG-zone caller looks at it, the try scope has
 *                                  closed and every C++ object is destroyed; only then may it
 *                                  RaiseOutcome (ereport).
 *
 * The rare core-side call into PostgreSQL goes through PgCall, which stops PostgreSQL's longjmp with
 * PG_TRY, copies the error and rethrows it as a C++ PgError; CallCore turns that back into the
 * original ERROR (same SQLSTATE, message and context) with ReThrowError.
 *
 * Rules: never return, throw or goto out of a PG_TRY block; nothing passed to PgCall may throw a C++
 * exception; no threads in a backend.
 */
#pragma once

#include "balatrix/core/status.hpp"

#include <cstring>
#include <exception>
#include <new>
#include <type_traits>

#include "pg_prelude.hpp"

namespace balatrix::pg {

// A PostgreSQL ERROR caught by PgCall, travelling through C++ frames as an exception. edata lives
// in the memory context that was current when PgCall was entered.
struct PgError {
	ErrorData *edata;
};

// The result of CallCore: plain data only, so it may be alive while ereport longjmps.
struct Outcome {
	bool ok;
	int sqlstate;          // ERRCODE_* (MAKE_SQLSTATE) when !ok and pg_error == nullptr
	ErrorData *pg_error;   // a PostgreSQL error to rethrow unchanged
	char message[1024];
	char detail[1024];
	char hint[512];
};

// SPI for hot functions without a SET search_path clause. A function with SET pays for a GUC nest
// level on every call (a tenth of a bulk CDR load); balatrix.tg_cdr_rate and balatrix.match_rate
// instead connect through these, which fix the search path in C for the SPI work only: pg_catalog
// alone (no pg_temp, no schema of the caller's), the queries naming every relation with its schema.
// A plan prepared under it always finds the same path again, so it is never re-planned because the
// caller's search_path differs. An ERROR in between pops the path with the (sub)transaction.
void ConnectSpiFixedPath();
void FinishSpiFixedPath();

// The one table from core::ErrorCode to SQLSTATE.
int SqlStateOf(core::ErrorCode code);

// Copies a core Error into an Outcome (truncating long texts). Never throws.
void SetOutcomeError(Outcome *out, const core::Error &error) noexcept;
void SetOutcomeException(Outcome *out, int sqlstate, const char *prefix, const char *what) noexcept;

// Runs core code. f() returns void or core::Status; results travel out through variables the
// caller owns (PODs, or C strings the caller copies into palloc memory after CallCore returns).
template <typename F>
Outcome
CallCore(F &&f) noexcept
{
	Outcome out;
	out.ok = true;
	out.sqlstate = 0;
	out.pg_error = nullptr;
	out.message[0] = out.detail[0] = out.hint[0] = '\0';
	try {
		if constexpr (std::is_void_v<decltype(f())>) {
			f();
		} else {
			core::Status status = f();
			if (!status.ok())
				SetOutcomeError(&out, status.error());
		}
	} catch (const PgError &e) {
		out.ok = false;
		out.pg_error = e.edata;
	} catch (const std::bad_alloc &) {
		SetOutcomeException(&out, ERRCODE_OUT_OF_MEMORY, "out of memory in balatrix", nullptr);
	} catch (const std::exception &e) {
		SetOutcomeException(&out, ERRCODE_INTERNAL_ERROR, "internal error in balatrix", e.what());
	} catch (...) {
		SetOutcomeException(&out, ERRCODE_INTERNAL_ERROR, "internal error in balatrix", "unknown C++ exception");
	}
	return out;
}

// PG zone: raises the Outcome's error. Must only be called with !out.ok.
pg_attribute_noreturn() void RaiseOutcome(const Outcome &out);

// CallCore, then RaiseOutcome on failure.
template <typename F>
void
CallCoreOrRaise(F &&f)
{
	Outcome out = CallCore(static_cast<F &&>(f));
	if (!out.ok)
		RaiseOutcome(out);
}

// Calls PostgreSQL from inside core-side C++ code (inside CallCore). f must only make PG calls and
// must not throw. A PostgreSQL ERROR becomes a PgError exception, so the C++ frames between here
// and CallCore unwind normally; CallCore's caller re-raises it unchanged.
template <typename F>
void
PgCall(F &&f)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ErrorData *volatile edata = nullptr;
	PG_TRY();
	{
		f();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	if (edata != nullptr)
		throw PgError{edata};
}

// Safety net for SQL-callable entry points: runs fn (PG-zone code) and, should a C++ exception
// escape it anyway, reports an internal error instead of letting it abort the backend.
Datum RunPgFunction(PGFunction fn, FunctionCallInfo fcinfo, const char *name);

} // namespace balatrix::pg

// Declares a SQL-callable C function `name` (C linkage, V1 call convention) whose body, written
// after the macro, is PG-zone code:   BALATRIX_PG_FUNCTION(balatrix_x) { ... PG_RETURN_...; }
#define BALATRIX_PG_FUNCTION(name)                                                                 \
	static Datum name##_impl(FunctionCallInfo fcinfo);                                             \
	extern "C" {                                                                                   \
	PG_FUNCTION_INFO_V1(name);                                                                     \
	}                                                                                              \
	extern "C" Datum name(PG_FUNCTION_ARGS)                                                        \
	{                                                                                              \
		return ::balatrix::pg::RunPgFunction(name##_impl, fcinfo, #name);                          \
	}                                                                                              \
	static Datum name##_impl(FunctionCallInfo fcinfo)
