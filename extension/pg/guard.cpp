/*
 * Bridge: the SQLSTATE table and the raising side of CallCore. See guard.hpp.
 */
#include "guard.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "executor/spi.h"
}

namespace balatrix::pg {

namespace {

void
CopyText(char *dst, size_t size, const char *src) noexcept
{
	if (src == nullptr) {
		dst[0] = '\0';
		return;
	}
	strlcpy(dst, src, size);
}

} // namespace

void
ConnectSpiFixedPath()
{
	OverrideSearchPath path;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "balatrix: SPI_connect failed");
	path.schemas = NIL;
	path.addCatalog = true;
	path.addTemp = false;
	path.generation = 0;
	PushOverrideSearchPath(&path);
}

void
FinishSpiFixedPath()
{
	PopOverrideSearchPath();
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "balatrix: SPI_finish failed");
}

int
SqlStateOf(core::ErrorCode code)
{
	switch (code) {
	case core::ErrorCode::kInvalidParameter:
		return ERRCODE_INVALID_PARAMETER_VALUE;
	case core::ErrorCode::kInvalidText:
		return ERRCODE_INVALID_TEXT_REPRESENTATION;
	case core::ErrorCode::kOutOfRange:
		return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
	case core::ErrorCode::kNotFound:
		return ERRCODE_NO_DATA_FOUND;
	case core::ErrorCode::kInternal:
		return ERRCODE_INTERNAL_ERROR;
	}
	return ERRCODE_INTERNAL_ERROR;
}

void
SetOutcomeError(Outcome *out, const core::Error &error) noexcept
{
	out->ok = false;
	out->sqlstate = SqlStateOf(error.code);
	out->pg_error = nullptr;
	CopyText(out->message, sizeof out->message, error.message.c_str());
	CopyText(out->detail, sizeof out->detail, error.detail.c_str());
	CopyText(out->hint, sizeof out->hint, error.hint.c_str());
}

void
SetOutcomeException(Outcome *out, int sqlstate, const char *prefix, const char *what) noexcept
{
	out->ok = false;
	out->sqlstate = sqlstate;
	out->pg_error = nullptr;
	if (what != nullptr)
		std::snprintf(out->message, sizeof out->message, "%s: %s", prefix, what);
	else
		CopyText(out->message, sizeof out->message, prefix);
	out->detail[0] = '\0';
	CopyText(out->hint, sizeof out->hint,
	         sqlstate == ERRCODE_INTERNAL_ERROR
	             ? "This is a bug in balatrix. The statement was rolled back; please report it with the statement."
	             : nullptr);
}

void
RaiseOutcome(const Outcome &out)
{
	if (out.pg_error != nullptr)
		ReThrowError(out.pg_error);
	ereport(ERROR, (errcode(out.sqlstate), errmsg("%s", out.message),
	                out.detail[0] != '\0' ? errdetail("%s", out.detail) : 0,
	                out.hint[0] != '\0' ? errhint("%s", out.hint) : 0));
	pg_unreachable();
}

Datum
RunPgFunction(PGFunction fn, FunctionCallInfo fcinfo, const char *name)
{
	char message[512];
	bool escaped = false;
	Datum result = (Datum) 0;
	try {
		result = fn(fcinfo);
	} catch (const std::exception &e) {
		escaped = true;
		strlcpy(message, e.what(), sizeof message);
	} catch (...) {
		escaped = true;
		strlcpy(message, "unknown C++ exception", sizeof message);
	}
	if (escaped)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
		                errmsg("internal error in balatrix: a C++ exception escaped %s: %s", name, message),
		                errhint("This is a bug in balatrix; please report it with the statement.")));
	return result;
}

} // namespace balatrix::pg
