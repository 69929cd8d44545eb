/*
 * Core zone: the RFC 4180 CSV parser. See csv.hpp for the dialect and the contract.
 *
 * One pass over the bytes, field by field. Line numbers count every line break, those inside
 * quoted fields included, so they match what an editor shows; a CRLF counts once.
 */
#include "balatrix/core/csv.hpp"

#include <utility>

namespace balatrix::core {
namespace {

Status
CsvError(std::size_t line, const std::string &what, std::string hint = std::string())
{
	Error error;
	error.code = ErrorCode::kInvalidText;
	error.message = "invalid CSV: line " + std::to_string(line) + ": " + what;
	error.hint = std::move(hint);
	return Status(std::move(error));
}

bool
IsLineBreak(char c)
{
	return c == '\r' || c == '\n';
}

} // namespace

Status
ParseCsv(std::string_view in, std::vector<CsvRecord> *records)
{
	records->clear();
	const std::size_t n = in.size();
	std::size_t i = 0;
	std::size_t line = 1;
	CsvRecord record;
	record.line = line;
	std::string field;

	while (i < n) {
		// i is at the start of a field.
		if (in[i] == '"') {
			const std::size_t opened_on = line;
			++i;
			for (;;) {
				if (i >= n) {
					records->clear();
					return CsvError(
						opened_on, "the quoted field that starts here is never closed",
						"Close the field with a double quote; a quote inside a quoted field is written twice.");
				}
				const char c = in[i];
				if (c == '"') {
					if (i + 1 < n && in[i + 1] == '"') {
						field.push_back('"');
						i += 2;
						continue;
					}
					++i;
					break;
				}
				// A line break inside quotes is data; count it (CRLF once).
				if (c == '\n' || (c == '\r' && !(i + 1 < n && in[i + 1] == '\n')))
					++line;
				field.push_back(c);
				++i;
			}
			if (i < n && in[i] != ',' && !IsLineBreak(in[i])) {
				records->clear();
				return CsvError(line, "a closing quote must be followed by a comma or a line break",
				                "A quote inside a quoted field is written twice (\"\").");
			}
		} else {
			const std::size_t start = i;
			while (i < n && in[i] != ',' && !IsLineBreak(in[i])) {
				if (in[i] == '"') {
					records->clear();
					return CsvError(line, "a double quote inside an unquoted field",
					                "Enclose the field in double quotes and write each quote in it twice.");
				}
				++i;
			}
			field.assign(in.substr(start, i - start));
		}
		record.fields.push_back(std::move(field));
		field.clear();

		if (i >= n)
			break;
		if (in[i] == ',') {
			++i;
			// A separator at the very end: the record ends with an empty field.
			if (i >= n)
				record.fields.emplace_back();
			continue;
		}
		// A line break ends the record.
		i += (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n') ? 2 : 1;
		++line;
		records->push_back(std::move(record));
		record = CsvRecord();
		record.line = line;
	}
	if (!record.fields.empty())
		records->push_back(std::move(record));
	return Status::Ok();
}

} // namespace balatrix::core
