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

// balatrix.supplier_state_code (string, default '29' Karnataka): the supplier's State for the place
// of supply; a GSTIN prefix (01-38, 97), checked by its hook.
extern char *supplier_state_code;

// balatrix.supplier_gstin (string, default empty): the supplier's GSTIN, printed on quotes and
// invoices; empty or a valid GSTIN whose State is any GSTIN prefix.
extern char *supplier_gstin;

// balatrix.invoice_round_off (bool, default off): round invoice totals to the rupee with a
// round-off amount.
extern bool invoice_round_off;

// balatrix.invoice_series (string, default 'INV'): the series of tax invoices, 1-4 characters
// [A-Z][A-Z0-9]* so that SERIES/FY/NNNNNN stays within 16 characters (CGST Rule 46(b)).
extern char *invoice_series;

// balatrix.invoice_due_days (int, default 15, 0..365): days from issue to the due date of an invoice.
extern int invoice_due_days;

// balatrix.downgrade_timing (enum): whether change_subscription_plan defers a downgrade to the next
// period (period_end, the default) or applies it now with a prorated credit note (immediate).
enum DowngradeTiming { kDowngradeAtPeriodEnd = 0, kDowngradeImmediate = 1 };
extern int downgrade_timing;
// balatrix.dunning_reminder_days / dunning_suspend_days (int, 3 / 15, 0 = off): the dunning sweep's
// reminder before the due date and suspension after it.
extern int dunning_reminder_days;
extern int dunning_suspend_days;
// balatrix.cdr_retention_days / outbox_retention_days (int, 90 / 30, 0 = keep): the retention job.
extern int cdr_retention_days;
extern int outbox_retention_days;

// _PG_init: the transaction callbacks that clear (or refuse to commit) unposted CDR charges.
void CdrRatingRegisterCallbacks();

// _PG_init: the transaction callback that clears the API actor (identity.cpp).
void IdentityRegisterCallbacks();

} // namespace balatrix::pg
