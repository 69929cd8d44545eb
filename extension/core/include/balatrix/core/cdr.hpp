/*
 * Core zone: reading a CDR as FreeSWITCH's mod_cdr_pg_csv writes it (reference/freeswitch.md §1-§2, §5).
 *
 * Every field arrives as text (balatrix.cdr is lenient on purpose) and any of them may be missing, empty,
 * the literal '(NULL)' (a not-null="true" field whose variable was unset), or junk from a rogue dialplan.
 * ReadCdr turns the fields that decide billing into facts — times, whether the leg was answered, its
 * billable milliseconds, which leg it is — or says precisely which field is unusable. It never throws
 * (except bad_alloc) and never rejects: the trigger stores the CDR either way, with a rating status.
 *
 * Times: *_uepoch (µs since the epoch, UTC) when present and non-zero; else the *_stamp text
 * ("YYYY-MM-DD HH:MM:SS", local time of the switch, no zone) as a civil time, which the PostgreSQL
 * side converts in the balatrix.cdr_timezone setting (this zone has no time-zone database).
 * Billable time: billmsec, else billusec (truncated to ms, as FreeSWITCH truncates billmsec), else
 * billsec × 1000. Answered: answer_uepoch > 0, else answer_stamp present, else billable time > 0.
 * Never from hangup_cause (§5: answered calls end with many causes).
 */
#pragma once

#include "balatrix/core/status.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace balatrix::core {

// A text field of the CDR: absent (SQL NULL) or a view of its bytes.
using CdrField = std::optional<std::string_view>;

struct CdrInput {
	CdrField uuid;
	CdrField direction;
	CdrField call_uuid;
	CdrField start_stamp, answer_stamp, end_stamp;
	CdrField start_uepoch, answer_uepoch, end_uepoch;
	CdrField duration, billsec, billmsec, billusec;
};

struct CivilTime {
	int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

// One instant of the call: from *_uepoch (utc_us set) or from *_stamp (civil set, to be placed in
// the CDR time zone by the caller), or unknown.
struct CdrInstant {
	enum class Source { kNone, kEpoch, kStamp } source = Source::kNone;
	std::int64_t utc_us = 0;
	CivilTime civil;
};

enum class CdrLeg {
	kA,        // the leg FreeSWITCH received (or direction unknown: legs=a sends only these)
	kB,        // a leg FreeSWITCH originated for another one (direction outbound, call_uuid of another leg)
};

struct CdrFacts {
	bool has_uuid = false;           // a usable idempotency key: present, non-empty, not '(NULL)'
	CdrLeg leg = CdrLeg::kA;
	CdrInstant start, answer, end;
	bool answered = false;
	std::int64_t billable_ms = 0;    // >= 0
	enum class BillableSource { kNone, kBillmsec, kBillusec, kBillsec } billable_source = BillableSource::kNone;
};

// True for SQL NULL, '', and the '(NULL)' that FreeSWITCH writes for an unset not-null="true" field.
bool CdrFieldMissing(const CdrField &field);

// A decimal integer: optional sign, digits, nothing else (no spaces, no decimal point); nullopt when
// malformed or outside int64.
std::optional<std::int64_t> ParseCdrInteger(std::string_view text);

// "YYYY-MM-DD HH:MM:SS" (optionally with fractional seconds, which are dropped, or 'T' between date
// and time); a real calendar date and time of day. nullopt otherwise.
std::optional<CivilTime> ParseCdrStamp(std::string_view text);

// Reads the billing facts. A field that is present but unusable (junk in billsec, a negative
// billmsec, a stamp that is not a date) is an error Status (kInvalidText) naming the field; missing
// fields are not errors (an unanswered leg has no answer_stamp). `facts` holds what was read so far
// even when an error is returned.
Status ReadCdr(const CdrInput &input, CdrFacts *facts);

} // namespace balatrix::core
