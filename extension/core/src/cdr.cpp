/*
 * Core zone: reading a FreeSWITCH CDR (see cdr.hpp for the contracts).
 */
#include "balatrix/core/cdr.hpp"

#include <limits>
#include <string>

namespace balatrix::core {
namespace {

bool
IsDigit(char c)
{
	return c >= '0' && c <= '9';
}

// Parses exactly `width` digits at `text[pos]`.
bool
Digits(std::string_view text, std::size_t pos, std::size_t width, int *value)
{
	if (pos + width > text.size())
		return false;
	int v = 0;
	for (std::size_t i = pos; i < pos + width; ++i) {
		if (!IsDigit(text[i]))
			return false;
		v = v * 10 + (text[i] - '0');
	}
	*value = v;
	return true;
}

bool
IsLeapYear(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
DaysInMonth(int year, int month)
{
	static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

Error
InvalidField(const char *field, std::string_view value, const char *why)
{
	std::string shown(value.substr(0, 64));
	return Error{ErrorCode::kInvalidText, std::string(field) + " \"" + shown + "\" " + why, "", ""};
}

// Reads one instant from its epoch field (preferred) or its stamp field.
Status
ReadInstant(const CdrField &uepoch, const char *uepoch_name, const CdrField &stamp, const char *stamp_name,
            CdrInstant *out)
{
	if (!CdrFieldMissing(uepoch)) {
		std::optional<std::int64_t> us = ParseCdrInteger(*uepoch);
		if (!us || *us < 0)
			return InvalidField(uepoch_name, *uepoch, "is not a count of microseconds");
		if (*us > 0) {
			out->source = CdrInstant::Source::kEpoch;
			out->utc_us = *us;
			return Status::Ok();
		}
		// 0 means "did not happen" (answer_uepoch of an unanswered leg): fall back to the stamp,
		// which FreeSWITCH leaves unset in that case.
	}
	if (!CdrFieldMissing(stamp)) {
		std::optional<CivilTime> civil = ParseCdrStamp(*stamp);
		if (!civil)
			return InvalidField(stamp_name, *stamp, "is not a time stamp (YYYY-MM-DD HH:MM:SS)");
		out->source = CdrInstant::Source::kStamp;
		out->civil = *civil;
	}
	return Status::Ok();
}

} // namespace

bool
CdrFieldMissing(const CdrField &field)
{
	return !field || field->empty() || *field == "(NULL)";
}

std::optional<std::int64_t>
ParseCdrInteger(std::string_view text)
{
	bool negative = false;
	if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
		negative = text.front() == '-';
		text.remove_prefix(1);
	}
	if (text.empty() || text.size() > 19)
		return std::nullopt;
	// Accumulate negatively so that INT64_MIN is representable.
	std::int64_t value = 0;
	for (char c : text) {
		if (!IsDigit(c))
			return std::nullopt;
		int digit = c - '0';
		if (value < (std::numeric_limits<std::int64_t>::min() + digit) / 10)
			return std::nullopt;
		value = value * 10 - digit;
	}
	if (!negative) {
		if (value == std::numeric_limits<std::int64_t>::min())
			return std::nullopt;
		value = -value;
	}
	return value;
}

std::optional<CivilTime>
ParseCdrStamp(std::string_view text)
{
	CivilTime t;
	if (text.size() < 19 || text[4] != '-' || text[7] != '-' || (text[10] != ' ' && text[10] != 'T') ||
	    text[13] != ':' || text[16] != ':')
		return std::nullopt;
	if (!Digits(text, 0, 4, &t.year) || !Digits(text, 5, 2, &t.month) || !Digits(text, 8, 2, &t.day) ||
	    !Digits(text, 11, 2, &t.hour) || !Digits(text, 14, 2, &t.minute) || !Digits(text, 17, 2, &t.second))
		return std::nullopt;
	if (text.size() > 19) {
		// Only fractional seconds may follow.
		if (text[19] != '.' || text.size() == 20)
			return std::nullopt;
		for (std::size_t i = 20; i < text.size(); ++i)
			if (!IsDigit(text[i]))
				return std::nullopt;
	}
	if (t.year < 1970 || t.month < 1 || t.month > 12 || t.day < 1 || t.day > DaysInMonth(t.year, t.month) ||
	    t.hour > 23 || t.minute > 59 || t.second > 59)
		return std::nullopt;
	return t;
}

Status
ReadCdr(const CdrInput &input, CdrFacts *facts)
{
	facts->has_uuid = !CdrFieldMissing(input.uuid);

	// legs=a sends only a-legs. With legs=ab, a b-leg is a leg FreeSWITCH originated for another one:
	// direction "outbound" and the call_uuid of the leg that caused it (an API-originated call is
	// outbound too, but its call_uuid is its own uuid, so it stays an a-leg).
	facts->leg = CdrLeg::kA;
	if (!CdrFieldMissing(input.direction) && *input.direction == "outbound" && !CdrFieldMissing(input.call_uuid) &&
	    (!facts->has_uuid || *input.call_uuid != *input.uuid))
		facts->leg = CdrLeg::kB;

	Status status = ReadInstant(input.start_uepoch, "start_uepoch", input.start_stamp, "start_stamp", &facts->start);
	if (!status.ok())
		return status;
	status = ReadInstant(input.answer_uepoch, "answer_uepoch", input.answer_stamp, "answer_stamp", &facts->answer);
	if (!status.ok())
		return status;
	status = ReadInstant(input.end_uepoch, "end_uepoch", input.end_stamp, "end_stamp", &facts->end);
	if (!status.ok())
		return status;

	struct Candidate {
		const CdrField &field;
		const char *name;
		std::int64_t to_ms_divisor;   // value / divisor * multiplier = ms
		std::int64_t to_ms_multiplier;
		CdrFacts::BillableSource source;
	};
	const Candidate candidates[] = {
		{input.billmsec, "billmsec", 1, 1, CdrFacts::BillableSource::kBillmsec},
		{input.billusec, "billusec", 1000, 1, CdrFacts::BillableSource::kBillusec},
		{input.billsec, "billsec", 1, 1000, CdrFacts::BillableSource::kBillsec},
	};
	facts->billable_ms = 0;
	facts->billable_source = CdrFacts::BillableSource::kNone;
	for (const Candidate &c : candidates) {
		if (CdrFieldMissing(c.field))
			continue;
		std::optional<std::int64_t> value = ParseCdrInteger(*c.field);
		if (!value)
			return InvalidField(c.name, *c.field, "is not a whole number");
		if (*value < 0)
			return InvalidField(c.name, *c.field, "is negative");
		if (*value > std::numeric_limits<std::int64_t>::max() / c.to_ms_multiplier)
			return InvalidField(c.name, *c.field, "is out of range");
		facts->billable_ms = *value / c.to_ms_divisor * c.to_ms_multiplier;
		facts->billable_source = c.source;
		break;
	}

	facts->answered = facts->answer.source != CdrInstant::Source::kNone || facts->billable_ms > 0;
	return Status::Ok();
}

} // namespace balatrix::core
