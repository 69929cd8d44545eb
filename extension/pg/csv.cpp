/*
 * PG zone: balatrix.parse_csv(csv text) -> TABLE(line_number integer, fields text[]).
 *
 * IMMUTABLE STRICT PARALLEL SAFE. One row per CSV record, in input order; line_number is the
 * 1-based line on which the record starts. Malformed CSV raises 22P02 with the line number. The
 * dialect is core::ParseCsv's (extension/core/include/balatrix/core/csv.hpp).
 *
 * How results cross the bridge. The core parser returns a std::vector of records of std::strings:
 * objects with destructors, which must all be gone before PG-zone code that can ereport runs
 * (guard.hpp). So, inside CallCore:
 *   1. parse into a local std::vector;
 *   2. size the result and obtain its memory with palloc, called through PgCall (palloc ereports
 *      on out-of-memory; PgCall turns that into a C++ exception, which unwinds the vector normally
 *      and CallCore hands back as the original ERROR);
 *   3. copy every field into that memory (memcpy; nothing here can fail).
 * When CallCore returns, the vector is destroyed and what is left is a ParsedCsv: plain C arrays
 * in the function's memory context. Only then does the PG zone build the tuplestore from it, row by
 * row in a per-row memory context, with CHECK_FOR_INTERRUPTS between rows.
 */
#include "balatrix/core/csv.hpp"

#include <climits>
#include <string_view>
#include <vector>

#include "guard.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
}

namespace core = balatrix::core;
using balatrix::pg::CallCore;
using balatrix::pg::PgCall;
using balatrix::pg::RaiseOutcome;

namespace {

// A parsed CSV in palloc'd memory. Record r has the fields first_field[r] .. first_field[r + 1] - 1;
// field f is the field_length[f] bytes at bytes + field_offset[f] (not NUL-terminated).
struct ParsedCsv {
	size_t record_count;
	int *line;
	size_t *first_field; // record_count + 1 entries
	size_t *field_offset;
	int *field_length;
	char *bytes;
};

// palloc for arrays that may pass MaxAllocSize (1 GB) on a huge input.
void *
PallocHuge(size_t size)
{
	return palloc_extended(size == 0 ? 1 : size, MCXT_ALLOC_HUGE);
}

// Core work: parse, then copy into palloc'd memory. Returns the core Status; a PostgreSQL ERROR of
// palloc travels as PgError. Called only through CallCore.
core::Status
ParseIntoPallocMemory(std::string_view input, ParsedCsv *out)
{
	std::vector<core::CsvRecord> records;
	core::Status status = core::ParseCsv(input, &records);
	if (!status.ok())
		return status;

	size_t field_count = 0;
	size_t byte_count = 0;
	for (const core::CsvRecord &record : records) {
		field_count += record.fields.size();
		for (const std::string &field : record.fields)
			byte_count += field.size();
	}
	// The input is a text value (< 1 GB), so line numbers and field lengths fit in an int; a core
	// bug that broke this must not wrap silently.
	if (!records.empty() && records.back().line > static_cast<size_t>(INT_MAX))
		return core::Error{core::ErrorCode::kOutOfRange, "CSV input has too many lines", "", ""};

	PgCall([&] {
		out->line = static_cast<int *>(PallocHuge(sizeof(int) * records.size()));
		out->first_field = static_cast<size_t *>(PallocHuge(sizeof(size_t) * (records.size() + 1)));
		out->field_offset = static_cast<size_t *>(PallocHuge(sizeof(size_t) * field_count));
		out->field_length = static_cast<int *>(PallocHuge(sizeof(int) * field_count));
		out->bytes = static_cast<char *>(PallocHuge(byte_count));
	});

	size_t f = 0;
	size_t offset = 0;
	for (size_t r = 0; r < records.size(); ++r) {
		out->line[r] = static_cast<int>(records[r].line);
		out->first_field[r] = f;
		for (const std::string &field : records[r].fields) {
			if (!field.empty())
				memcpy(out->bytes + offset, field.data(), field.size());
			out->field_offset[f] = offset;
			out->field_length[f] = static_cast<int>(field.size());
			offset += field.size();
			++f;
		}
	}
	out->first_field[records.size()] = f;
	out->record_count = records.size();
	return core::Status::Ok();
}

} // namespace

BALATRIX_PG_FUNCTION(balatrix_parse_csv)
{
	text *arg = PG_GETARG_TEXT_PP(0);
	const char *data = VARDATA_ANY(arg);
	size_t len = VARSIZE_ANY_EXHDR(arg);
	ParsedCsv parsed = {0, nullptr, nullptr, nullptr, nullptr, nullptr};
	ReturnSetInfo *rsinfo;
	MemoryContext row_context;

	balatrix::pg::Outcome outcome =
		CallCore([&] { return ParseIntoPallocMemory(std::string_view(data, len), &parsed); });
	if (!outcome.ok)
		RaiseOutcome(outcome);

	// From here on: PG zone, plain data only.
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	row_context = AllocSetContextCreate(CurrentMemoryContext, "balatrix.parse_csv row", ALLOCSET_DEFAULT_SIZES);
	for (size_t r = 0; r < parsed.record_count; ++r) {
		size_t first = parsed.first_field[r];
		int count = static_cast<int>(parsed.first_field[r + 1] - first);
		Datum values[2];
		bool nulls[2] = {false, false};
		Datum *elements;
		MemoryContext old_context;

		CHECK_FOR_INTERRUPTS();
		old_context = MemoryContextSwitchTo(row_context);
		elements = (Datum *) palloc(sizeof(Datum) * count);
		for (int i = 0; i < count; ++i)
			elements[i] = PointerGetDatum(cstring_to_text_with_len(parsed.bytes + parsed.field_offset[first + i],
			                                                       parsed.field_length[first + i]));
		values[0] = Int32GetDatum(parsed.line[r]);
		values[1] = PointerGetDatum(construct_array(elements, count, TEXTOID, -1, false, TYPALIGN_INT));
		// Copies the tuple into the tuplestore's own memory.
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(old_context);
		MemoryContextReset(row_context);
	}
	MemoryContextDelete(row_context);
	if (parsed.line != nullptr) {
		pfree(parsed.line);
		pfree(parsed.first_field);
		pfree(parsed.field_offset);
		pfree(parsed.field_length);
		pfree(parsed.bytes);
	}
	return (Datum) 0;
}
