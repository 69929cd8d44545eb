/*
 * Core zone: rating a call (see rating.hpp for the contracts).
 *
 * Three parts, in the order a CDR meets them: NormalizeDestination (dialled text -> E.164 digits),
 * RateIndex (digit trie, longest prefix per deck priority) and PriceCall (increments, IST time bands,
 * allowance, charge).
 */
#include "balatrix/core/rating.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace balatrix::core {
namespace {

constexpr std::int64_t kUsPerSecond = 1'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;
constexpr std::int64_t kUsPerDay = kSecondsPerDay * kUsPerSecond;
constexpr std::int64_t kIstOffsetUs = (5 * 3600 + 30 * 60) * kUsPerSecond; // UTC+05:30, no DST
constexpr std::int32_t kMaxIncrement = 86'400;
constexpr std::size_t kMaxPrefixDigits = 15; // E.164: no number is longer
constexpr std::size_t kMaxDialledLength = 64;
constexpr std::int64_t kMaxBillableMs = 366 * kSecondsPerDay * 1000;
// Keeps start + billed time + a day of band arithmetic far from int64 overflow.
constexpr std::int64_t kMaxInstantUs = std::int64_t{1} << 62;

bool
IsDigit(char c)
{
	return c >= '0' && c <= '9';
}

bool
StartsWith(std::string_view text, std::string_view prefix)
{
	return text.substr(0, prefix.size()) == prefix;
}

// Floor division and modulo: instants before 1970 are negative and must land on the right day.
std::int64_t
FloorDiv(std::int64_t a, std::int64_t b)
{
	std::int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::int64_t
FloorMod(std::int64_t a, std::int64_t b)
{
	return a - FloorDiv(a, b) * b;
}

// ---- number normalisation -----------------------------------------------------------------------

Status
InvalidNumber(std::string_view dialled, const std::string &why)
{
	// The input is quoted for the user, but it may be anything (a rogue dialplan, invalid UTF-8):
	// only printable ASCII is shown, and only the start of it.
	std::string shown;
	for (char c : dialled.substr(0, 40))
		shown.push_back(c >= 0x20 && c < 0x7f ? c : '?');
	if (dialled.size() > 40)
		shown += "...";
	return Error{ErrorCode::kInvalidText, "destination \"" + shown + "\" " + why, "",
	             "expected +<country code><number>, 00<country code><number>, 91 or 0 followed by 10 digits, "
	             "a 10-digit Indian number, or a 1800 / 1860 toll-free number"};
}

bool
IsTollFree(std::string_view nsn)
{
	return (StartsWith(nsn, "1800") || StartsWith(nsn, "1860")) && (nsn.size() == 10 || nsn.size() == 11);
}

// An Indian national significant number (no 91, no trunk 0) -> 91 + nsn.
Status
IndianNumber(std::string_view dialled, std::string_view nsn, NormalizedNumber *out)
{
	NumberKind kind;
	if (IsTollFree(nsn))
		kind = NumberKind::kIndianTollFree;
	else if (nsn.size() == 10 && nsn[0] >= '6')
		kind = NumberKind::kIndianMobile;
	else if (nsn.size() == 10 && nsn[0] >= '1')
		kind = NumberKind::kIndianGeographic;
	else
		return InvalidNumber(dialled, "is not an Indian number: after 91 or the trunk 0 come 10 digits (not "
		                              "starting 0) or a 1800 / 1860 toll-free number");
	out->e164 = "91";
	out->e164.append(nsn);
	out->kind = kind;
	return Status::Ok();
}

// The digits after '+' or '00': country code first.
Status
InternationalNumber(std::string_view dialled, std::string_view digits, NormalizedNumber *out)
{
	if (StartsWith(digits, "91")) {
		std::string_view nsn = digits.substr(2);
		if (StartsWith(nsn, "0")) // "+91 (0)80 ...": the trunk 0 written in brackets
			nsn.remove_prefix(1);
		return IndianNumber(dialled, nsn, out);
	}
	if (digits.empty() || digits[0] == '0')
		return InvalidNumber(dialled, "has no country code after + or 00");
	if (digits.size() < 8 || digits.size() > 15)
		return InvalidNumber(dialled, "is not an international number: E.164 numbers have 8 to 15 digits "
		                              "with the country code, this has " +
		                                  std::to_string(digits.size()));
	out->e164.assign(digits);
	out->kind = NumberKind::kInternational;
	return Status::Ok();
}

// ---- rates --------------------------------------------------------------------------------------

Status
InvalidRate(const Rate &rate, const char *why)
{
	return Error{ErrorCode::kInvalidParameter, "rate " + std::to_string(rate.id) + ": " + why, "", ""};
}

bool
AmountInRange(Amount4 amount)
{
	return amount >= 0 && amount <= kMaxAmount4;
}

// Everything PriceCall relies on; the prefix is checked by RateIndex::Add only.
Status
ValidatePricing(const Rate &rate)
{
	if (!AmountInRange(rate.rate_per_minute))
		return InvalidRate(rate, "rate per minute must be between 0 and 900000000000000");
	if (!AmountInRange(rate.connect_fee))
		return InvalidRate(rate, "connect fee must be between 0 and 900000000000000");
	if (!AmountInRange(rate.minimum_charge))
		return InvalidRate(rate, "minimum charge must be between 0 and 900000000000000");
	if (rate.initial_increment < 1 || rate.initial_increment > kMaxIncrement)
		return InvalidRate(rate, "initial increment must be 1 to 86400 seconds");
	if (rate.subsequent_increment < 1 || rate.subsequent_increment > kMaxIncrement)
		return InvalidRate(rate, "subsequent increment must be 1 to 86400 seconds");
	if (rate.effective_to <= rate.effective_from)
		return InvalidRate(rate, "effective_to must be later than effective_from");
	if (rate.band) {
		const TimeBand &band = *rate.band;
		if (band.weekdays == 0 || (band.weekdays & 0x80) != 0)
			return InvalidRate(rate, "a time band needs at least one weekday (bits 0-6, Monday-Sunday)");
		if (band.start_second < 0 || band.start_second >= kSecondsPerDay)
			return InvalidRate(rate, "a time band starts 0 to 86399 seconds after midnight");
		if (band.end_second < 0 || band.end_second > kSecondsPerDay)
			return InvalidRate(rate, "a time band ends 0 to 86400 seconds after midnight");
		if (band.end_second == band.start_second)
			return InvalidRate(rate, "a time band must not start and end at the same second (a whole day is "
			                         "0-86400)");
	}
	return Status::Ok();
}

bool
IsEffective(const Rate &rate, std::int64_t at_us)
{
	return rate.effective_from <= at_us && at_us < rate.effective_to;
}

// ---- pricing ------------------------------------------------------------------------------------

// Does the band cover the IST second that contains `at_us`? Bands change only at whole seconds, so
// the second is all that matters.
bool
BandCovers(const TimeBand &band, std::int64_t at_us)
{
	std::int64_t local_us = at_us + kIstOffsetUs;
	std::int64_t day = FloorDiv(local_us, kUsPerDay);
	std::int64_t second = (local_us - day * kUsPerDay) / kUsPerSecond;
	// Day 0 (1970-01-01) was a Thursday, weekday 3 when Monday is 0.
	int weekday = static_cast<int>(FloorMod(day + 3, 7));
	int yesterday = (weekday + 6) % 7;
	bool open_today = ((band.weekdays >> weekday) & 1) != 0;
	if (band.start_second < band.end_second)
		return open_today && second >= band.start_second && second < band.end_second;
	// A wrapping window belongs to the day it opens on.
	bool open_yesterday = ((band.weekdays >> yesterday) & 1) != 0;
	return (open_today && second >= band.start_second) || (open_yesterday && second < band.end_second);
}

// The rate that prices the instant: a banded rate covering it, else an unbanded one; the latest
// effective_from within each kind, the first listed on a tie. nullptr when none applies.
const Rate *
RateAt(const std::vector<const Rate *> &rates, std::int64_t at_us)
{
	const Rate *banded = nullptr;
	const Rate *unbanded = nullptr;
	for (const Rate *rate : rates) {
		if (rate->band) {
			if (BandCovers(*rate->band, at_us) && (banded == nullptr || rate->effective_from > banded->effective_from))
				banded = rate;
		} else if (unbanded == nullptr || rate->effective_from > unbanded->effective_from) {
			unbanded = rate;
		}
	}
	return banded != nullptr ? banded : unbanded;
}

// billable_ms > 0: the initial increment, then whole subsequent increments, covering billable_ms.
std::int64_t
BilledSeconds(std::int64_t billable_ms, std::int64_t initial, std::int64_t subsequent)
{
	std::int64_t initial_ms = initial * 1000;
	if (billable_ms <= initial_ms)
		return initial;
	std::int64_t step_ms = subsequent * 1000;
	std::int64_t steps = (billable_ms - initial_ms + step_ms - 1) / step_ms;
	return initial + steps * subsequent;
}

Status
NoRateAt(std::int64_t at_us)
{
	std::string message = "no rate applies at " + std::to_string(at_us) +
	                      " (UTC microseconds): it is outside every time band of the matched prefix, which has "
	                      "no unbanded rate";
	return Error{ErrorCode::kNotFound, message, "",
	             "add an unbanded rate for the prefix, or bands that cover the whole week"};
}

// Splits [start, start + billed s) into segments priced by one rate each (see PriceCall's contract).
Status
SplitByBands(std::int64_t start_us, std::int64_t billed, const std::vector<const Rate *> &rates,
             std::vector<RatedSegment> *segments, std::vector<const Rate *> *segment_rates)
{
	std::int64_t end_us = start_us + billed * kUsPerSecond;

	// Candidate cuts: every band's start and end, and IST midnight (where the weekday changes), on each
	// IST day the call touches. A cut at instant b moves to the first whole second of the call at or
	// after b. Cuts that change nothing are merged away below.
	std::vector<std::int64_t> cuts;
	std::int64_t first_day = FloorDiv(start_us + kIstOffsetUs, kUsPerDay);
	std::int64_t last_day = FloorDiv(end_us - 1 + kIstOffsetUs, kUsPerDay);
	auto add_cut = [&](std::int64_t at_us) {
		if (at_us <= start_us || at_us >= end_us)
			return;
		std::int64_t second = (at_us - start_us + kUsPerSecond - 1) / kUsPerSecond;
		if (second < billed)
			cuts.push_back(second);
	};
	for (const Rate *rate : rates) {
		if (!rate->band)
			continue;
		for (std::int64_t day = first_day; day <= last_day; ++day) {
			std::int64_t midnight_us = day * kUsPerDay - kIstOffsetUs;
			add_cut(midnight_us);
			add_cut(midnight_us + rate->band->start_second * kUsPerSecond);
			add_cut(midnight_us + rate->band->end_second * kUsPerSecond);
		}
	}
	std::sort(cuts.begin(), cuts.end());
	cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
	cuts.push_back(billed);

	std::int64_t from = 0;
	for (std::int64_t to : cuts) {
		std::int64_t at_us = start_us + from * kUsPerSecond;
		const Rate *rate = RateAt(rates, at_us);
		if (rate == nullptr)
			return NoRateAt(at_us);
		if (!segment_rates->empty() && segment_rates->back() == rate) {
			segments->back().seconds += to - from;
		} else {
			RatedSegment segment;
			segment.rate_id = rate->id;
			segment.start_us = at_us;
			segment.seconds = to - from;
			segments->push_back(segment);
			segment_rates->push_back(rate);
		}
		from = to;
	}
	return Status::Ok();
}

Status
ChargeTooLarge()
{
	return Error{ErrorCode::kOutOfRange, "the charge of the call exceeds 900000000000000", "", ""};
}

} // namespace

// ---- number normalisation ------------------------------------------------------------------------

Status
NormalizeDestination(std::string_view dialled, NormalizedNumber *out)
{
	if (dialled.size() > kMaxDialledLength)
		return InvalidNumber(dialled, "is too long (more than 64 characters)");
	std::string digits;
	digits.reserve(dialled.size());
	bool plus = false;
	for (char c : dialled) {
		if (IsDigit(c))
			digits.push_back(c);
		else if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.')
			continue;
		else if (c == '+' && digits.empty() && !plus)
			plus = true;
		else if (c == '+')
			return InvalidNumber(dialled, "has a '+' that does not lead the number");
		else
			return InvalidNumber(dialled, "contains a character other than digits, a leading '+' and the "
			                              "separators space - ( ) .");
	}
	if (digits.empty())
		return InvalidNumber(dialled, "has no digits");

	std::string_view d(digits);
	if (plus)
		return InternationalNumber(dialled, d, out);
	if (StartsWith(d, "00"))
		return InternationalNumber(dialled, d.substr(2), out);
	if (StartsWith(d, "0"))
		return IndianNumber(dialled, d.substr(1), out);
	if (StartsWith(d, "91") && (d.size() == 12 || (d.size() == 13 && IsTollFree(d.substr(2)))))
		return IndianNumber(dialled, d.substr(2), out);
	if (IsTollFree(d) || (d.size() == 10 && d[0] >= '2'))
		return IndianNumber(dialled, d, out);
	if (d.size() < 10)
		return InvalidNumber(dialled, "is a short code or an incomplete number (" + std::to_string(d.size()) +
		                                  " digits): an Indian number has 10 digits");
	if (d.size() == 10)
		return InvalidNumber(dialled, "is not an Indian number: a 10-digit number dialled without 0 or 91 starts "
		                              "with 2-9, or is a 1800 / 1860 toll-free number");
	return InvalidNumber(dialled, "is not a recognised number: an international number needs + or 00 before "
	                              "the country code");
}

// ---- rate index ----------------------------------------------------------------------------------

// A digit trie. Nodes live in one vector and refer to each other by index, so the walk touches one
// small struct per digit (44 bytes, nothing else) and the whole trie of a 50,000-prefix deck is a
// few megabytes. The rates of a prefix hang off its node in a separate vector ("group"), sorted by
// deck priority, then latest effective_from first, so Match reads them in the order it needs.
struct RateIndex::Impl {
	struct Node {
		std::int32_t child[10];
		std::int32_t group; // index into groups, -1 when no rate has exactly this prefix
	};
	struct Entry {
		int priority;
		Rate rate;
	};

	std::vector<Node> nodes{EmptyNode()}; // nodes[0] is the root: the empty prefix
	std::vector<std::vector<Entry>> groups;
	std::size_t count = 0;

	static Node
	EmptyNode()
	{
		Node node;
		std::fill(std::begin(node.child), std::end(node.child), -1);
		node.group = -1;
		return node;
	}

	// Group order: deck priority ascending, then latest effective_from first.
	struct Key {
		int priority;
		std::int64_t effective_from;
	};
	static bool
	SortsBefore(const Key &key, const Entry &entry)
	{
		if (key.priority != entry.priority)
			return key.priority < entry.priority;
		return key.effective_from > entry.rate.effective_from;
	}
};

RateIndex::RateIndex() : impl_(std::make_unique<Impl>()) {}
RateIndex::~RateIndex() = default;
RateIndex::RateIndex(RateIndex &&) noexcept = default;
RateIndex &RateIndex::operator=(RateIndex &&) noexcept = default;

Status
RateIndex::Add(int deck_priority, Rate rate)
{
	if (rate.prefix.empty())
		return InvalidRate(rate, "the prefix is empty");
	if (rate.prefix.size() > kMaxPrefixDigits)
		return InvalidRate(rate, "the prefix is longer than 15 digits, the longest E.164 number");
	if (!std::all_of(rate.prefix.begin(), rate.prefix.end(), IsDigit))
		return InvalidRate(rate, "the prefix must be digits only");
	Status valid = ValidatePricing(rate);
	if (!valid.ok())
		return valid;

	if (!impl_) // a moved-from index starts over
		impl_ = std::make_unique<Impl>();
	Impl &index = *impl_;
	std::int32_t node = 0;
	for (char c : rate.prefix) {
		int digit = c - '0';
		if (index.nodes[node].child[digit] < 0) {
			index.nodes.push_back(Impl::EmptyNode());
			index.nodes[node].child[digit] = static_cast<std::int32_t>(index.nodes.size() - 1);
		}
		node = index.nodes[node].child[digit];
	}
	if (index.nodes[node].group < 0) {
		index.groups.emplace_back();
		index.nodes[node].group = static_cast<std::int32_t>(index.groups.size() - 1);
	}
	std::vector<Impl::Entry> &group = index.groups[index.nodes[node].group];
	// After every entry that sorts before or equal to the new one: insertion order among equals.
	Impl::Key key{deck_priority, rate.effective_from};
	auto position = std::upper_bound(group.begin(), group.end(), key, Impl::SortsBefore);
	group.insert(position, Impl::Entry{deck_priority, std::move(rate)});
	++index.count;
	return Status::Ok();
}

std::vector<const Rate *>
RateIndex::Match(std::string_view e164, std::int64_t start_us) const
{
	std::vector<const Rate *> result;
	if (!impl_)
		return result;
	const Impl &index = *impl_;

	// One walk down the trie, remembering the groups on the way (shortest prefix first).
	std::int32_t path[kMaxPrefixDigits];
	std::size_t found = 0;
	std::int32_t node = 0;
	for (char c : e164) {
		unsigned digit = static_cast<unsigned>(c - '0');
		if (digit > 9)
			break;
		node = index.nodes[node].child[digit];
		if (node < 0)
			break;
		std::int32_t group = index.nodes[node].group;
		if (group >= 0)
			path[found++] = group; // found <= depth <= kMaxPrefixDigits: Add refuses longer prefixes
	}

	// The best priority with an effective rate anywhere on the path; the longest prefix on a tie. A
	// group is sorted by priority, so its first effective entry carries its best priority.
	const std::vector<Impl::Entry> *best = nullptr;
	int best_priority = 0;
	for (std::size_t i = found; i-- > 0;) {
		for (const Impl::Entry &entry : index.groups[path[i]]) {
			if (!IsEffective(entry.rate, start_us))
				continue;
			if (best == nullptr || entry.priority < best_priority) {
				best = &index.groups[path[i]];
				best_priority = entry.priority;
			}
			break;
		}
	}
	if (best == nullptr)
		return result;
	for (const Impl::Entry &entry : *best)
		if (entry.priority == best_priority && IsEffective(entry.rate, start_us))
			result.push_back(&entry.rate);
	return result;
}

std::size_t
RateIndex::size() const
{
	return impl_ ? impl_->count : 0;
}

// ---- pricing -------------------------------------------------------------------------------------

Status
PriceCall(const CallToRate &call, const std::vector<const Rate *> &rates, RatedCall *out)
{
	*out = RatedCall();
	if (rates.empty())
		return Error{ErrorCode::kNotFound, "no rate matches the destination", "", ""};
	for (const Rate *rate : rates) {
		if (rate == nullptr)
			return Error{ErrorCode::kInvalidParameter, "a null rate was passed to PriceCall", "", ""};
		Status valid = ValidatePricing(*rate);
		if (!valid.ok())
			return valid;
	}
	if (call.billable_ms < 0)
		return Error{ErrorCode::kInvalidParameter,
		             "billable time must not be negative (" + std::to_string(call.billable_ms) + " ms)", "", ""};
	if (call.billable_ms > kMaxBillableMs)
		return Error{ErrorCode::kOutOfRange,
		             "billable time of " + std::to_string(call.billable_ms) + " ms exceeds 366 days", "", ""};
	if (call.allowance_seconds < 0)
		return Error{ErrorCode::kInvalidParameter, "the allowance must not be negative", "", ""};
	if (call.start_us > kMaxInstantUs || call.start_us < -kMaxInstantUs)
		return Error{ErrorCode::kOutOfRange, "the call start is out of range", "", ""};

	const Rate *primary = RateAt(rates, call.start_us);
	if (primary == nullptr)
		return NoRateAt(call.start_us);

	RatedCall rated;
	rated.primary_rate_id = primary->id;
	if (call.answered && call.billable_ms > 0)
		rated.billed_seconds =
			BilledSeconds(call.billable_ms, primary->initial_increment, primary->subsequent_increment);

	std::vector<const Rate *> segment_rates;
	if (rated.billed_seconds > 0) {
		Status split = SplitByBands(call.start_us, rated.billed_seconds, rates, &rated.segments, &segment_rates);
		if (!split.ok())
			return split;
	}

	// Allowance from the start of the call, on eligible segments only; the rest is charged. The
	// bounds checked above keep rate × seconds within 128 bits; the total is checked against
	// kMaxAmount4 before anything is narrowed.
	std::int64_t allowance_left = call.allowance_seconds;
	std::int64_t charged_seconds = 0;
	__int128 total = 0;
	for (std::size_t i = 0; i < rated.segments.size(); ++i) {
		RatedSegment &segment = rated.segments[i];
		const Rate &rate = *segment_rates[i];
		if (rate.uses_allowance) {
			segment.included_seconds = std::min(allowance_left, segment.seconds);
			allowance_left -= segment.included_seconds;
			rated.included_seconds += segment.included_seconds;
		}
		std::int64_t charged = segment.seconds - segment.included_seconds;
		charged_seconds += charged;
		if (static_cast<__int128>(rate.rate_per_minute) * charged > static_cast<__int128>(kMaxAmount4) * 60)
			return ChargeTooLarge();
		segment.charge = MulDivRound(rate.rate_per_minute, charged, 60);
		total += segment.charge;
	}

	if (call.answered || primary->charge_unanswered)
		rated.connect_fee = primary->connect_fee;
	total += rated.connect_fee;
	if (charged_seconds > 0 && total < primary->minimum_charge)
		total = primary->minimum_charge;
	if (total > kMaxAmount4)
		return ChargeTooLarge();
	rated.charge = static_cast<Amount4>(total);

	*out = std::move(rated);
	return Status::Ok();
}

} // namespace balatrix::core
