/*
 * PG zone: the variables behind the balatrix.* settings (defined in module.cpp).
 */
#pragma once

#include "pg_prelude.hpp"

namespace balatrix::pg {

// balatrix.gstin_verify_check_character (bool, default on, user-settable).
extern bool gstin_verify_check_character;

// balatrix.cdr_timezone (string, default 'Asia/Kolkata'): the zone of the FreeSWITCH host, in which
// *_stamp CDR fields are read.
extern char *cdr_timezone;

// balatrix.cdr_legs (enum a | b | ab, default a): which legs the CDR trigger bills.
enum CdrLegs { kCdrLegsA = 0, kCdrLegsB = 1, kCdrLegsAB = 2 };
extern int cdr_legs;

// balatrix.cdr_max_call_seconds (int, default 86400, 1..2592000): longer billable time is 'invalid'.
extern int cdr_max_call_seconds;

// _PG_init: the transaction callbacks that clear (or refuse to commit) unposted CDR charges.
void CdrRatingRegisterCallbacks();

} // namespace balatrix::pg
