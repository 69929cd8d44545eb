/*
 * PG zone: the module's identity and its settings (GUCs).
 *
 * Every balatrix.* setting is defined here, one block each, so `SHOW balatrix.<name>` and the
 * README's settings table have one place to agree with. The module needs no
 * shared_preload_libraries entry: settings exist once the library is loaded by the first call to
 * one of its functions, and values set before that (postgresql.conf, ALTER DATABASE ... SET) are
 * kept as placeholders and applied when it loads.
 */
#include "balatrix/core/gst.hpp"

#include "guard.hpp"
#include "rating_cache.hpp"
#include "settings.hpp"

extern "C" {
#include "pgtime.h"
}

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

namespace balatrix::pg {
bool gstin_verify_check_character = true;
char *supplier_state_code = nullptr;
char *supplier_gstin = nullptr;
bool invoice_round_off = false;
char *invoice_series = nullptr;
int invoice_due_days = 15;
int downgrade_timing = kDowngradeAtPeriodEnd;
int dunning_reminder_days = 3;
int dunning_suspend_days = 15;
int cdr_retention_days = 90;
int outbox_retention_days = 30;
}

namespace {

const struct config_enum_entry kCdrLegsOptions[] = {
    {"a", balatrix::pg::kCdrLegsA, false},
    {"b", balatrix::pg::kCdrLegsB, false},
    {"ab", balatrix::pg::kCdrLegsAB, false},
    {nullptr, 0, false},
};

const struct config_enum_entry kDowngradeTimingOptions[] = {
    {"period_end", balatrix::pg::kDowngradeAtPeriodEnd, false},
    {"immediate", balatrix::pg::kDowngradeImmediate, false},
    {nullptr, 0, false},
};

// balatrix.cdr_timezone must name a zone PostgreSQL knows (pg_tzset loads it from the tz database),
// so the CDR trigger never meets an unknown one. The names are those of SET timezone.
bool
CheckCdrTimezone(char **newval, void **extra, GucSource source)
{
	if (*newval == nullptr || pg_tzset(*newval) == nullptr) {
		GUC_check_errdetail("Time zone \"%s\" is not known.", *newval == nullptr ? "" : *newval);
		return false;
	}
	return true;
}

// balatrix.supplier_state_code: two digits naming a State / UT where a supplier can be registered
// (a GSTIN prefix: 01-38, 97), so that every quote and invoice has a valid supplier State.
bool
CheckSupplierStateCode(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;
	const balatrix::core::GstState *state = nullptr;
	if (v != nullptr && strlen(v) == 2 && v[0] >= '0' && v[0] <= '9' && v[1] >= '0' && v[1] <= '9')
		state = balatrix::core::FindGstState((v[0] - '0') * 10 + (v[1] - '0'));
	if (state == nullptr || !state->gstin_prefix) {
		GUC_check_errdetail("\"%s\" is not the two-digit code of a State or UT of GST registration (01-38, 97).",
		                    v == nullptr ? "" : v);
		return false;
	}
	return true;
}

// balatrix.supplier_gstin: empty, or a valid GSTIN (format, State code and check character; the
// check character is enforced whatever balatrix.gstin_verify_check_character says, since a hook
// must not depend on another setting's order of assignment). Stored as given: no normalisation.
bool
CheckSupplierGstin(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;
	bool valid = false;
	const char *reason = "";
	if (v == nullptr || v[0] == '\0')
		return true;
	balatrix::pg::Outcome out = balatrix::pg::CallCore([&] {
		balatrix::core::GstinCheck check = balatrix::core::CheckGstin(v, true);
		valid = check.fault == balatrix::core::GstinFault::kValid && check.normalized == v;
		reason = check.fault == balatrix::core::GstinFault::kValid ? "use upper case without spaces"
		                                                           : balatrix::core::GstinFaultMessage(check.fault);
	});
	if (!out.ok || !valid) {
		GUC_check_errdetail("\"%s\" is not a valid GSTIN: %s.", v, out.ok ? reason : out.message);
		return false;
	}
	return true;
}

// balatrix.invoice_series: 1-4 characters, a capital letter then capitals or digits, so that an
// invoice number SERIES/FY/NNNNNN has at most 16 characters (CGST Rule 46(b)). CN and DN are the
// series of credit and debit notes.
bool
CheckInvoiceSeries(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;
	size_t len = v == nullptr ? 0 : strlen(v);
	bool ok = len >= 1 && len <= 4 && v[0] >= 'A' && v[0] <= 'Z';
	for (size_t i = 1; ok && i < len; ++i)
		ok = (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9');
	if (ok && (strcmp(v, "CN") == 0 || strcmp(v, "DN") == 0))
		ok = false;
	if (!ok) {
		GUC_check_errdetail("\"%s\" is not a series: 1-4 characters, a capital letter then capitals or digits, "
		                    "not CN or DN (the notes' series).", v == nullptr ? "" : v);
		return false;
	}
	return true;
}

} // namespace

extern "C" void
_PG_init(void)
{
	DefineCustomBoolVariable(
	    "balatrix.gstin_verify_check_character",
	    gettext_noop("Whether GSTIN validation enforces the mod-36 check character."),
	    gettext_noop("Turn off only for sandbox GSTINs (the NIC e-invoice sandbox uses GSTINs that fail "
	                 "the check). Format and State code are always enforced."),
	    &balatrix::pg::gstin_verify_check_character, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);

	DefineCustomStringVariable(
	    "balatrix.cdr_timezone",
	    gettext_noop("Time zone of the FreeSWITCH host: CDR *_stamp fields (local time, no offset) are read in it."),
	    gettext_noop("Used only when a CDR has no *_uepoch values. A time in a DST gap or overlap is resolved "
	                 "as PostgreSQL resolves timestamptz input."),
	    &balatrix::pg::cdr_timezone, "Asia/Kolkata", PGC_USERSET, 0, CheckCdrTimezone, nullptr, nullptr);

	DefineCustomEnumVariable(
	    "balatrix.cdr_legs", gettext_noop("Which CDR legs are billed: a, b or ab."),
	    gettext_noop("Legs not billed are stored with rating_status 'skipped'."), &balatrix::pg::cdr_legs,
	    balatrix::pg::kCdrLegsA, kCdrLegsOptions, PGC_USERSET, 0, nullptr, nullptr, nullptr);

	DefineCustomIntVariable(
	    "balatrix.cdr_max_call_seconds",
	    gettext_noop("Longest billable time a CDR may carry; a longer one is stored as 'invalid'."), nullptr,
	    &balatrix::pg::cdr_max_call_seconds, 86400, 1, 2592000, PGC_USERSET, GUC_UNIT_S, nullptr, nullptr, nullptr);

	DefineCustomStringVariable(
	    "balatrix.supplier_state_code",
	    gettext_noop("GST State code of the supplier (two digits, default 29 = Karnataka)."),
	    gettext_noop("Compared with the place of supply: the same State gives CGST + SGST (or UTGST), another IGST."),
	    &balatrix::pg::supplier_state_code, "29", PGC_USERSET, 0, CheckSupplierStateCode, nullptr, nullptr);

	DefineCustomStringVariable(
	    "balatrix.supplier_gstin", gettext_noop("GSTIN of the supplier, printed on quotes and tax invoices."),
	    gettext_noop("Empty (the default) or a valid GSTIN in upper case."), &balatrix::pg::supplier_gstin, "",
	    PGC_USERSET, 0, CheckSupplierGstin, nullptr, nullptr);

	DefineCustomBoolVariable(
	    "balatrix.invoice_round_off",
	    gettext_noop("Whether invoice and quote totals are rounded to the rupee with a round-off amount."), nullptr,
	    &balatrix::pg::invoice_round_off, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);

	DefineCustomStringVariable(
	    "balatrix.invoice_series", gettext_noop("Series of tax invoice numbers (SERIES/FY/NNNNNN), default INV."),
	    gettext_noop("1-4 characters; credit notes use CN and debit notes DN. Numbers are consecutive per series "
	                 "and financial year."),
	    &balatrix::pg::invoice_series, "INV", PGC_USERSET, 0, CheckInvoiceSeries, nullptr, nullptr);

	DefineCustomIntVariable(
	    "balatrix.invoice_due_days", gettext_noop("Days from the issue of an invoice to its due date."), nullptr,
	    &balatrix::pg::invoice_due_days, 15, 0, 365, PGC_USERSET, 0, nullptr, nullptr, nullptr);

	DefineCustomEnumVariable(
	    "balatrix.downgrade_timing", gettext_noop("When a downgrade takes effect: period_end or immediate."),
	    gettext_noop("period_end (the default) switches the plan at the next renewal; immediate switches it now and "
	                 "credits the prorated difference with a credit note."),
	    &balatrix::pg::downgrade_timing, balatrix::pg::kDowngradeAtPeriodEnd, kDowngradeTimingOptions, PGC_USERSET, 0,
	    nullptr, nullptr, nullptr);

	DefineCustomIntVariable(
	    "balatrix.dunning_reminder_days",
	    gettext_noop("Days before its due date that an unpaid invoice gets a payment reminder (0: none)."), nullptr,
	    &balatrix::pg::dunning_reminder_days, 3, 0, 365, PGC_USERSET, 0, nullptr, nullptr, nullptr);

	DefineCustomIntVariable(
	    "balatrix.dunning_suspend_days",
	    gettext_noop("Days past its due date after which an unpaid invoice suspends its subscription (0: never)."),
	    nullptr, &balatrix::pg::dunning_suspend_days, 15, 0, 365, PGC_USERSET, 0, nullptr, nullptr, nullptr);

	DefineCustomIntVariable(
	    "balatrix.cdr_retention_days",
	    gettext_noop("Days CDRs are kept: the retention job drops monthly partitions wholly older (0: keep all)."),
	    nullptr, &balatrix::pg::cdr_retention_days, 90, 0, 36500, PGC_USERSET, 0, nullptr, nullptr, nullptr);

	DefineCustomIntVariable(
	    "balatrix.outbox_retention_days",
	    gettext_noop("Days a delivered outbox event is kept before the retention job deletes it (0: keep all)."),
	    nullptr, &balatrix::pg::outbox_retention_days, 30, 0, 36500, PGC_USERSET, 0, nullptr, nullptr, nullptr);

	MarkGUCPrefixReserved("balatrix");

	// The per-backend rate cache is dropped when a deck changes (rating_cache.hpp).
	balatrix::pg::RatingCacheRegisterCallback();
	// Unposted CDR charges are cleared on abort and refused at commit (cdr_rating.cpp).
	balatrix::pg::CdrRatingRegisterCallbacks();
	// The API actor is cleared at the end of every transaction (identity.cpp).
	balatrix::pg::IdentityRegisterCallbacks();
}
