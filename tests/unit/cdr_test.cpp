// Reading FreeSWITCH CDR fields (extension/core/src/cdr.cpp). Expected values come from
// reference/freeswitch.md (§1.11 statements, §2 variables), worked out by hand.
#include "balatrix/core/cdr.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>

namespace {

using balatrix::core::CdrFacts;
using balatrix::core::CdrField;
using balatrix::core::CdrFieldMissing;
using balatrix::core::CdrInput;
using balatrix::core::CdrInstant;
using balatrix::core::CdrLeg;
using balatrix::core::ErrorCode;
using balatrix::core::ParseCdrInteger;
using balatrix::core::ParseCdrStamp;
using balatrix::core::ReadCdr;
using balatrix::core::Status;

TEST(CdrField, MissingMeansNullEmptyOrTheNullLiteral)
{
	EXPECT_TRUE(CdrFieldMissing(std::nullopt));
	EXPECT_TRUE(CdrFieldMissing(CdrField("")));
	EXPECT_TRUE(CdrFieldMissing(CdrField("(NULL)")));
	EXPECT_FALSE(CdrFieldMissing(CdrField("(null)")));
	EXPECT_FALSE(CdrFieldMissing(CdrField("0")));
	EXPECT_FALSE(CdrFieldMissing(CdrField(" ")));
}

TEST(ParseCdrInteger, AcceptsPlainIntegersOnly)
{
	struct Case {
		const char *text;
		std::optional<std::int64_t> want;
	} cases[] = {
		{"0", 0},
		{"253", 253},
		{"252245000", 252245000},
		{"+7", 7},
		{"-5", -5},
		{"9223372036854775807", std::numeric_limits<std::int64_t>::max()},
		{"-9223372036854775808", std::numeric_limits<std::int64_t>::min()},
		{"9223372036854775808", std::nullopt},
		{"-9223372036854775809", std::nullopt},
		{"99999999999999999999", std::nullopt},
		{"", std::nullopt},
		{"-", std::nullopt},
		{" 5", std::nullopt},
		{"5 ", std::nullopt},
		{"5.0", std::nullopt},
		{"1e3", std::nullopt},
		{"abc", std::nullopt},
		{"0x10", std::nullopt},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.text);
		EXPECT_EQ(ParseCdrInteger(c.text), c.want);
	}
}

TEST(ParseCdrStamp, ReadsFreeSwitchStamps)
{
	auto t = ParseCdrStamp("2025-03-14 09:26:53");
	ASSERT_TRUE(t);
	EXPECT_EQ(t->year, 2025);
	EXPECT_EQ(t->month, 3);
	EXPECT_EQ(t->day, 14);
	EXPECT_EQ(t->hour, 9);
	EXPECT_EQ(t->minute, 26);
	EXPECT_EQ(t->second, 53);
	EXPECT_TRUE(ParseCdrStamp("2024-02-29 23:59:59"));          // leap day
	EXPECT_TRUE(ParseCdrStamp("2025-03-14T09:26:53"));          // ISO separator
	EXPECT_TRUE(ParseCdrStamp("2025-03-14 09:26:53.412345"));   // fractional seconds dropped
	EXPECT_EQ(ParseCdrStamp("2025-03-14 09:26:53.9")->second, 53);
	for (const char *bad : {"", "2025-03-14", "2025-03-14 09:26", "2025-02-29 10:00:00", "2025-13-01 00:00:00",
	                        "2025-04-31 00:00:00", "2025-03-14 24:00:00", "2025-03-14 09:60:00", "2025-03-14 09:26:60",
	                        "1969-12-31 23:59:59", "2025/03/14 09:26:53", "2025-03-14 09:26:53Z", "2025-03-14 09:26:53.",
	                        "2025-03-14 09:26:53+01", "(NULL)", "abcd-ef-gh ij:kl:mn"}) {
		SCOPED_TRACE(bad);
		EXPECT_FALSE(ParseCdrStamp(bad));
	}
}

// §1.11 statement 1, with the optional epoch fields of §2: billmsec 252245 wins over billsec 253.
TEST(ReadCdr, AnsweredCallPrefersEpochsAndMilliseconds)
{
	CdrInput in;
	in.uuid = "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607";
	in.start_stamp = "2025-03-14 09:26:53";
	in.answer_stamp = "2025-03-14 09:27:01";
	in.end_stamp = "2025-03-14 09:31:14";
	in.start_uepoch = "1741940813412345";
	in.answer_uepoch = "1741940821958000";
	in.end_uepoch = "1741941074203000";
	in.duration = "261";
	in.billsec = "253";
	in.billmsec = "252245";
	in.billusec = "252245000";
	CdrFacts f;
	ASSERT_TRUE(ReadCdr(in, &f).ok());
	EXPECT_TRUE(f.has_uuid);
	EXPECT_EQ(f.leg, CdrLeg::kA);
	EXPECT_EQ(f.start.source, CdrInstant::Source::kEpoch);
	EXPECT_EQ(f.start.utc_us, 1741940813412345);
	EXPECT_EQ(f.answer.utc_us, 1741940821958000);
	EXPECT_EQ(f.end.utc_us, 1741941074203000);
	EXPECT_TRUE(f.answered);
	EXPECT_EQ(f.billable_ms, 252245);
	EXPECT_EQ(f.billable_source, CdrFacts::BillableSource::kBillmsec);
}

// The default column set has no epochs and no billmsec: stamps as civil times, billsec × 1000.
TEST(ReadCdr, DefaultColumnSetFallsBackToStampsAndBillsec)
{
	CdrInput in;
	in.uuid = "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607";
	in.start_stamp = "2025-03-14 09:26:53";
	in.answer_stamp = "2025-03-14 09:27:01";
	in.end_stamp = "2025-03-14 09:31:14";
	in.billsec = "253";
	CdrFacts f;
	ASSERT_TRUE(ReadCdr(in, &f).ok());
	EXPECT_EQ(f.answer.source, CdrInstant::Source::kStamp);
	EXPECT_EQ(f.answer.civil.hour, 9);
	EXPECT_EQ(f.answer.civil.minute, 27);
	EXPECT_EQ(f.answer.civil.second, 1);
	EXPECT_EQ(f.billable_ms, 253000);
	EXPECT_EQ(f.billable_source, CdrFacts::BillableSource::kBillsec);
	EXPECT_TRUE(f.answered);
}

// billusec alone is truncated to whole milliseconds, as FreeSWITCH truncates billmsec.
TEST(ReadCdr, BillusecIsTruncatedToMilliseconds)
{
	CdrInput in;
	in.billusec = "252245999";
	in.billsec = "253";
	CdrFacts f;
	ASSERT_TRUE(ReadCdr(in, &f).ok());
	EXPECT_EQ(f.billable_ms, 252245);
	EXPECT_EQ(f.billable_source, CdrFacts::BillableSource::kBillusec);
}

// §1.11 statement 2: unanswered, answer_stamp null, billsec 0; answer_uepoch is 0, not absent (§1.7).
TEST(ReadCdr, UnansweredLeg)
{
	CdrInput in;
	in.uuid = "5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a";
	in.start_stamp = "2025-03-14 10:02:11";
	in.end_stamp = "2025-03-14 10:02:41";
	in.answer_uepoch = "0";
	in.duration = "30";
	in.billsec = "0";
	CdrFacts f;
	ASSERT_TRUE(ReadCdr(in, &f).ok());
	EXPECT_FALSE(f.answered);
	EXPECT_EQ(f.answer.source, CdrInstant::Source::kNone);
	EXPECT_EQ(f.billable_ms, 0);
}

// Answered is never inferred from hangup_cause; billable time alone is enough.
TEST(ReadCdr, BillableTimeMeansAnsweredEvenWithoutAnswerStamp)
{
	CdrInput in;
	in.billmsec = "1500";
	CdrFacts f;
	ASSERT_TRUE(ReadCdr(in, &f).ok());
	EXPECT_TRUE(f.answered);
}

TEST(ReadCdr, NullLiteralAndEmptyFieldsAreMissingNotErrors)
{
	CdrInput in;
	in.uuid = "(NULL)";
	in.answer_stamp = "(NULL)";
	in.billsec = "";
	in.billmsec = "(NULL)";
	CdrFacts f;
	ASSERT_TRUE(ReadCdr(in, &f).ok());
	EXPECT_FALSE(f.has_uuid);
	EXPECT_FALSE(f.answered);
	EXPECT_EQ(f.billable_source, CdrFacts::BillableSource::kNone);
}

TEST(ReadCdr, UnusableFieldsAreNamedInTheError)
{
	struct Case {
		const char *field;
		CdrInput input;
	};
	auto with = [](auto setter) {
		CdrInput in;
		setter(in);
		return in;
	};
	Case cases[] = {
		{"billsec", with([](CdrInput &in) { in.billsec = "abc"; })},
		{"billsec", with([](CdrInput &in) { in.billsec = "-5"; })},
		{"billmsec", with([](CdrInput &in) { in.billmsec = "12.5"; })},
		{"billusec", with([](CdrInput &in) { in.billusec = "-1"; })},
		{"billsec", with([](CdrInput &in) { in.billsec = "9223372036854775807"; })},
		{"start_stamp", with([](CdrInput &in) { in.start_stamp = "yesterday"; })},
		{"answer_stamp", with([](CdrInput &in) { in.answer_stamp = "2025-02-30 10:00:00"; })},
		{"end_uepoch", with([](CdrInput &in) { in.end_uepoch = "-1"; })},
		{"start_uepoch", with([](CdrInput &in) { in.start_uepoch = "soon"; })},
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.field);
		CdrFacts f;
		Status s = ReadCdr(c.input, &f);
		ASSERT_FALSE(s.ok());
		EXPECT_EQ(s.error().code, ErrorCode::kInvalidText);
		EXPECT_EQ(s.error().message.rfind(c.field, 0), 0u) << s.error().message;
	}
}

// A 30-hour call is read as it is; whether it is plausible is the trigger's decision.
TEST(ReadCdr, LongCallsAreReadAsTheyAre)
{
	CdrInput in;
	in.billsec = "108000";
	CdrFacts f;
	ASSERT_TRUE(ReadCdr(in, &f).ok());
	EXPECT_EQ(f.billable_ms, 108000000);
}

TEST(ReadCdr, LegsFromDirectionAndCallUuid)
{
	struct Case {
		CdrField direction, uuid, call_uuid;
		CdrLeg want;
	} cases[] = {
		{"inbound", "a", "a", CdrLeg::kA},
		{"outbound", "b", "a", CdrLeg::kB},                 // b-leg of call a
		{"outbound", "a", "a", CdrLeg::kA},                 // originated from the API, no parent
		{"outbound", "b", std::nullopt, CdrLeg::kA},        // call_uuid not logged: cannot tell, bill it
		{std::nullopt, "b", "a", CdrLeg::kA},               // direction not logged
		{"outbound", std::nullopt, "a", CdrLeg::kB},
		{"OUTBOUND", "b", "a", CdrLeg::kA},                 // FreeSWITCH writes lower case only
	};
	for (const Case &c : cases) {
		CdrInput in;
		in.direction = c.direction;
		in.uuid = c.uuid;
		in.call_uuid = c.call_uuid;
		CdrFacts f;
		ASSERT_TRUE(ReadCdr(in, &f).ok());
		EXPECT_EQ(f.leg, c.want);
	}
}

TEST(ReadCdr, RandomFieldsNeverThrow)
{
	std::mt19937 rng(11);
	std::uniform_int_distribution<int> len(0, 24);
	std::uniform_int_distribution<int> byte(0, 255);
	std::uniform_int_distribution<int> coin(0, 3);
	const std::string pool = "0123456789-:. T(NULL)";
	std::uniform_int_distribution<std::size_t> from_pool(0, pool.size() - 1);
	for (int n = 0; n < 20000; ++n) {
		std::string storage[13];
		CdrField *fields[13];
		CdrInput in;
		CdrField *all[] = {&in.uuid,       &in.direction,    &in.call_uuid,     &in.start_stamp, &in.answer_stamp,
		                   &in.end_stamp,  &in.start_uepoch, &in.answer_uepoch, &in.end_uepoch,  &in.duration,
		                   &in.billsec,    &in.billmsec,     &in.billusec};
		for (int i = 0; i < 13; ++i) {
			fields[i] = all[i];
			int l = len(rng);
			for (int k = 0; k < l; ++k)
				storage[i].push_back(coin(rng) == 0 ? static_cast<char>(byte(rng)) : pool[from_pool(rng)]);
			if (coin(rng) != 0)
				*fields[i] = storage[i];
		}
		CdrFacts f;
		Status s;
		ASSERT_NO_THROW(s = ReadCdr(in, &f));
		EXPECT_GE(f.billable_ms, 0);
		if (s.ok() && f.billable_ms > 0) {
			EXPECT_TRUE(f.answered);
		}
	}
}

} // namespace
