/*
 * Unit tests: the RFC 4180 CSV parser (extension/core/src/csv.cpp).
 *
 * Every expectation is written out by hand from the input beside it (RFC 4180 §2 and the dialect
 * stated in csv.hpp): records as (line, fields), errors as the line number and the words the
 * message must contain.
 */
#include "balatrix/core/csv.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace balatrix::core {
namespace {

struct Row {
	std::size_t line;
	std::vector<std::string> fields;
};

struct GoodCase {
	const char *name;
	std::string input;
	std::vector<Row> want;
};

void
PrintTo(const GoodCase &c, std::ostream *os)
{
	*os << c.name;
}

// Shows a record list in failure messages: 3:[a|b] 4:[c].
std::string
Show(const std::vector<CsvRecord> &records)
{
	std::string out;
	for (const CsvRecord &r : records) {
		out += std::to_string(r.line) + ":[";
		for (std::size_t i = 0; i < r.fields.size(); ++i)
			out += (i ? "|" : "") + r.fields[i];
		out += "] ";
	}
	return out;
}

// Test names are the case names.
template <typename Case>
std::string
CaseName(const testing::TestParamInfo<Case> &info)
{
	return info.param.name;
}

class CsvParses : public testing::TestWithParam<GoodCase> {};

TEST_P(CsvParses, IntoTheseRecords)
{
	const GoodCase &c = GetParam();
	std::vector<CsvRecord> got;
	Status status = ParseCsv(c.input, &got);
	ASSERT_TRUE(status.ok()) << status.error().message;
	ASSERT_EQ(got.size(), c.want.size()) << Show(got);
	for (std::size_t i = 0; i < got.size(); ++i) {
		SCOPED_TRACE("record " + std::to_string(i));
		EXPECT_EQ(got[i].line, c.want[i].line);
		EXPECT_EQ(got[i].fields, c.want[i].fields) << Show(got);
	}
}

const GoodCase kGoodCases[] = {
	{"empty_input", "", {}},
	{"one_field", "91", {{1, {"91"}}}},
	{"lf_lines", "prefix,rate\n91,1.99\n", {{1, {"prefix", "rate"}}, {2, {"91", "1.99"}}}},
	{"crlf_lines", "prefix,rate\r\n91,1.99\r\n", {{1, {"prefix", "rate"}}, {2, {"91", "1.99"}}}},
	{"lone_cr_lines", "a\rb\r", {{1, {"a"}}, {2, {"b"}}}},
	{"mixed_line_ends", "a\r\nb\nc\rd", {{1, {"a"}}, {2, {"b"}}, {3, {"c"}}, {4, {"d"}}}},
	{"last_line_without_newline", "a,b\nc,d", {{1, {"a", "b"}}, {2, {"c", "d"}}}},
	{"empty_fields", ",,", {{1, {"", "", ""}}}},
	{"trailing_comma_at_end", "a,", {{1, {"a", ""}}}},
	{"trailing_comma_before_newline", "a,\nb", {{1, {"a", ""}}, {2, {"b"}}}},
	{"leading_comma", ",a", {{1, {"", "a"}}}},
	{"spaces_are_data", " 91 , 1.99 ", {{1, {" 91 ", " 1.99 "}}}},
	{"blank_line_is_one_empty_field", "a\n\nb\n", {{1, {"a"}}, {2, {""}}, {3, {"b"}}}},
	{"only_a_newline", "\n", {{1, {""}}}},
	{"only_a_crlf", "\r\n", {{1, {""}}}},
	{"two_blank_lines_at_end", "a\n\n\n", {{1, {"a"}}, {2, {""}}, {3, {""}}}},
	{"quoted_plain", "\"91\",\"1.99\"", {{1, {"91", "1.99"}}}},
	{"quoted_empty", "\"\"", {{1, {""}}}},
	{"quoted_empty_then_field", "\"\",x", {{1, {"", "x"}}}},
	{"quoted_comma", "\"India, mobile\",1", {{1, {"India, mobile", "1"}}}},
	{"doubled_quote", "\"5\"\" display\"", {{1, {"5\" display"}}}},
	{"only_a_doubled_quote", "\"\"\"\"", {{1, {"\""}}}},
	{"quoted_lf_kept", "\"a\nb\",c\nd", {{1, {"a\nb", "c"}}, {3, {"d"}}}},
	{"quoted_crlf_kept_counts_once", "\"a\r\nb\"\r\nc", {{1, {"a\r\nb"}}, {3, {"c"}}}},
	{"quoted_lone_cr_counts", "\"a\rb\"\nc", {{1, {"a\rb"}}, {3, {"c"}}}},
	{"quoted_two_newlines", "x\n\"1\n2\n3\",y\nz", {{1, {"x"}}, {2, {"1\n2\n3", "y"}}, {5, {"z"}}}},
	{"quoted_at_end_of_line", "a,\"b\"\nc", {{1, {"a", "b"}}, {2, {"c"}}}},
	{"quoted_then_empty", "\"a\",", {{1, {"a", ""}}}},
	{"utf8_bytes_pass",
     "\xe2\x82\xb9/min,\"\xe0\xa4\xad\xe0\xa4\xbe\xe0\xa4\xb0\xe0\xa4\xa4\"",
     {{1, {"\xe2\x82\xb9/min", "\xe0\xa4\xad\xe0\xa4\xbe\xe0\xa4\xb0\xe0\xa4\xa4"}}}},
	{"ragged_records", "a,b,c\nd\ne,f", {{1, {"a", "b", "c"}}, {2, {"d"}}, {3, {"e", "f"}}}},
	{"rate_deck",
     "prefix,description,rate_per_minute\r\n91,\"India, all\",1.9900\r\n1,USA / Canada,6\r\n",
     {{1, {"prefix", "description", "rate_per_minute"}},
      {2, {"91", "India, all", "1.9900"}},
      {3, {"1", "USA / Canada", "6"}}}},
};

INSTANTIATE_TEST_SUITE_P(Rfc4180, CsvParses, testing::ValuesIn(kGoodCases), CaseName<GoodCase>);

struct BadCase {
	const char *name;
	std::string input;
	std::string want_message; // the whole message, line number included
};

void
PrintTo(const BadCase &c, std::ostream *os)
{
	*os << c.name;
}

class CsvRefuses : public testing::TestWithParam<BadCase> {};

TEST_P(CsvRefuses, WithTheLineNumber)
{
	const BadCase &c = GetParam();
	std::vector<CsvRecord> got = {CsvRecord{7, {"stale"}}};
	Status status = ParseCsv(c.input, &got);
	ASSERT_FALSE(status.ok()) << Show(got);
	EXPECT_EQ(status.error().code, ErrorCode::kInvalidText);
	EXPECT_EQ(status.error().message, c.want_message);
	EXPECT_FALSE(status.error().hint.empty());
	EXPECT_TRUE(got.empty()) << "records must be empty after an error: " << Show(got);
}

const std::string kUnterminated = ": the quoted field that starts here is never closed";
const std::string kJunk = ": a closing quote must be followed by a comma or a line break";
const std::string kBareQuote = ": a double quote inside an unquoted field";

const BadCase kBadCases[] = {
	{"unterminated_alone", "\"", "invalid CSV: line 1" + kUnterminated},
	{"unterminated_first_line", "\"abc", "invalid CSV: line 1" + kUnterminated},
	// The line reported is where the quote opens, not the end of the input.
	{"unterminated_spans_lines", "a\nb,\"c\nd\ne", "invalid CSV: line 2" + kUnterminated},
	{"unterminated_doubled_quote_at_end", "a\n\"x\"\"", "invalid CSV: line 2" + kUnterminated},
	{"junk_after_quote", "\"a\"b", "invalid CSV: line 1" + kJunk},
	{"space_after_quote", "x\ny\n\"a\" ,b", "invalid CSV: line 3" + kJunk},
	// Junk after a multi-line quoted field is reported on the line where the junk is.
	{"junk_after_multiline_quote", "\"a\nb\"c", "invalid CSV: line 2" + kJunk},
	{"junk_after_crlf_quote", "h\r\n\"a\r\n\r\nb\"x", "invalid CSV: line 4" + kJunk},
	{"bare_quote_in_field", "91,5\" display", "invalid CSV: line 1" + kBareQuote},
	{"bare_quote_later_line", "a\r\nb\r\nab\"c", "invalid CSV: line 3" + kBareQuote},
	{"quote_after_space", "a, \"b\"", "invalid CSV: line 1" + kBareQuote},
};

INSTANTIATE_TEST_SUITE_P(Rfc4180, CsvRefuses, testing::ValuesIn(kBadCases), CaseName<BadCase>);

// An input handed over as a string_view that is not NUL-terminated: the parser reads exactly
// size() bytes.
TEST(CsvParses, StopsAtTheEndOfTheView)
{
	const std::string buffer = "a,b\nc,d\"junk beyond the view";
	std::vector<CsvRecord> got;
	Status status = ParseCsv(std::string_view(buffer).substr(0, 7), &got);
	ASSERT_TRUE(status.ok()) << status.error().message;
	ASSERT_EQ(got.size(), 2u);
	EXPECT_EQ(got[1].fields, (std::vector<std::string>{"c", "d"}));
}

// A NUL byte is data like any other.
TEST(CsvParses, KeepsNulBytes)
{
	const std::string input("a\0b,\"c\0\"", 8);
	std::vector<CsvRecord> got;
	ASSERT_TRUE(ParseCsv(input, &got).ok());
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0].fields, (std::vector<std::string>{std::string("a\0b", 3), std::string("c\0", 2)}));
}

// Many records: line numbers keep counting, nothing is lost.
TEST(CsvParses, TenThousandLines)
{
	std::string input = "prefix,rate_per_minute\n";
	for (int i = 0; i < 10000; ++i)
		input += std::to_string(910000 + i) + ",\"1.5\"\n";
	std::vector<CsvRecord> got;
	ASSERT_TRUE(ParseCsv(input, &got).ok());
	ASSERT_EQ(got.size(), 10001u);
	EXPECT_EQ(got[10000].line, 10001u);
	EXPECT_EQ(got[10000].fields, (std::vector<std::string>{"919999", "1.5"}));
}

} // namespace
} // namespace balatrix::core
