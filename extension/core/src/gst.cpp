/*
 * Core zone: GST reference data and GSTIN validation. See gst.hpp for the contracts.
 */
#include "balatrix/core/gst.hpp"

#include <array>
#include <cstddef>

namespace balatrix::core {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

// reference/gst-payments.md §1.6. 25 (Daman & Diu) and 28 (undivided Andhra Pradesh) are legacy
// codes: no longer places of supply for new registrations, but GSTINs issued under them remain
// valid, so they are accepted as GSTIN prefixes.
constexpr std::array<GstState, 41> kStates = {{
	{1, "Jammu and Kashmir", IntraStateLevy::kSgst, true},
	{2, "Himachal Pradesh", IntraStateLevy::kSgst, true},
	{3, "Punjab", IntraStateLevy::kSgst, true},
	{4, "Chandigarh", IntraStateLevy::kUtgst, true},
	{5, "Uttarakhand", IntraStateLevy::kSgst, true},
	{6, "Haryana", IntraStateLevy::kSgst, true},
	{7, "Delhi", IntraStateLevy::kSgst, true},
	{8, "Rajasthan", IntraStateLevy::kSgst, true},
	{9, "Uttar Pradesh", IntraStateLevy::kSgst, true},
	{10, "Bihar", IntraStateLevy::kSgst, true},
	{11, "Sikkim", IntraStateLevy::kSgst, true},
	{12, "Arunachal Pradesh", IntraStateLevy::kSgst, true},
	{13, "Nagaland", IntraStateLevy::kSgst, true},
	{14, "Manipur", IntraStateLevy::kSgst, true},
	{15, "Mizoram", IntraStateLevy::kSgst, true},
	{16, "Tripura", IntraStateLevy::kSgst, true},
	{17, "Meghalaya", IntraStateLevy::kSgst, true},
	{18, "Assam", IntraStateLevy::kSgst, true},
	{19, "West Bengal", IntraStateLevy::kSgst, true},
	{20, "Jharkhand", IntraStateLevy::kSgst, true},
	{21, "Odisha", IntraStateLevy::kSgst, true},
	{22, "Chhattisgarh", IntraStateLevy::kSgst, true},
	{23, "Madhya Pradesh", IntraStateLevy::kSgst, true},
	{24, "Gujarat", IntraStateLevy::kSgst, true},
	{25, "Daman and Diu", IntraStateLevy::kUtgst, true},
	{26, "Dadra and Nagar Haveli and Daman and Diu", IntraStateLevy::kUtgst, true},
	{27, "Maharashtra", IntraStateLevy::kSgst, true},
	{28, "Andhra Pradesh (before division)", IntraStateLevy::kSgst, true},
	{29, "Karnataka", IntraStateLevy::kSgst, true},
	{30, "Goa", IntraStateLevy::kSgst, true},
	{31, "Lakshadweep", IntraStateLevy::kUtgst, true},
	{32, "Kerala", IntraStateLevy::kSgst, true},
	{33, "Tamil Nadu", IntraStateLevy::kSgst, true},
	{34, "Puducherry", IntraStateLevy::kSgst, true},
	{35, "Andaman and Nicobar Islands", IntraStateLevy::kUtgst, true},
	{36, "Telangana", IntraStateLevy::kSgst, true},
	{37, "Andhra Pradesh", IntraStateLevy::kSgst, true},
	{38, "Ladakh", IntraStateLevy::kUtgst, true},
	{96, "Other Countries", IntraStateLevy::kNone, false},
	{97, "Other Territory", IntraStateLevy::kUtgst, true},
	{99, "Centre Jurisdiction", IntraStateLevy::kNone, false},
}};

int
ValueOf(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

bool
IsDigit(char c)
{
	return c >= '0' && c <= '9';
}

bool
IsUpper(char c)
{
	return c >= 'A' && c <= 'Z';
}

bool
IsSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char
ToUpper(char c)
{
	return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

} // namespace

const GstState *
GstStates(std::size_t *count) noexcept
{
	*count = kStates.size();
	return kStates.data();
}

const GstState *
FindGstState(int code) noexcept
{
	for (const GstState &state : kStates)
		if (state.code == code)
			return &state;
	return nullptr;
}

std::optional<char>
GstinCheckCharacter(std::string_view first14)
{
	if (first14.size() != 14)
		return std::nullopt;
	int sum = 0;
	for (std::size_t i = 0; i < first14.size(); ++i) {
		int value = ValueOf(first14[i]);
		if (value < 0)
			return std::nullopt;
		// Positions counted from 1: odd positions weigh 1, even positions 2.
		int product = value * ((i % 2 == 0) ? 1 : 2);
		sum += product / 36 + product % 36;
	}
	return kAlphabet[(36 - sum % 36) % 36];
}

GstinCheck
CheckGstin(std::string_view input, bool verify_check_character)
{
	GstinCheck result;
	while (!input.empty() && IsSpace(input.front()))
		input.remove_prefix(1);
	while (!input.empty() && IsSpace(input.back()))
		input.remove_suffix(1);
	// A GSTIN is ASCII; a non-ASCII byte is a wrong character, whatever the length in bytes says.
	for (char c : input) {
		if (static_cast<unsigned char>(c) >= 0x80) {
			result.fault = GstinFault::kBadFormat;
			return result;
		}
	}
	if (input.size() != 15) {
		result.fault = GstinFault::kBadLength;
		return result;
	}
	result.normalized.reserve(15);
	for (char c : input)
		result.normalized.push_back(ToUpper(c));
	const std::string &g = result.normalized;

	bool shape = IsDigit(g[0]) && IsDigit(g[1]);
	for (int i = 2; i < 7; ++i)
		shape = shape && IsUpper(g[i]);
	for (int i = 7; i < 11; ++i)
		shape = shape && IsDigit(g[i]);
	shape = shape && IsUpper(g[11]) && (IsDigit(g[12]) || IsUpper(g[12])) && g[13] == 'Z' &&
	        (IsDigit(g[14]) || IsUpper(g[14]));
	if (!shape) {
		result.fault = GstinFault::kBadFormat;
		return result;
	}

	result.expected_check = *GstinCheckCharacter(std::string_view(g).substr(0, 14));
	int code = (g[0] - '0') * 10 + (g[1] - '0');
	const GstState *state = FindGstState(code);
	if (state == nullptr || !state->gstin_prefix) {
		result.fault = GstinFault::kUnknownState;
		return result;
	}
	if (g[12] == '0') {
		result.fault = GstinFault::kBadEntityNumber;
		return result;
	}

	result.state_code = code;
	if (verify_check_character && g[14] != result.expected_check) {
		result.fault = GstinFault::kBadCheckCharacter;
		return result;
	}
	result.fault = GstinFault::kValid;
	return result;
}

const char *
GstinFaultMessage(GstinFault fault)
{
	switch (fault) {
	case GstinFault::kValid:
		return "valid GSTIN";
	case GstinFault::kBadLength:
		return "a GSTIN has exactly 15 characters";
	case GstinFault::kBadFormat:
		return "a GSTIN is 2 digits, a PAN (5 letters, 4 digits, 1 letter), an entity character, 'Z' "
		       "and a check character";
	case GstinFault::kUnknownState:
		return "the first two digits of a GSTIN must be a State / UT code (01-38 or 97)";
	case GstinFault::kBadEntityNumber:
		return "the 13th character of a GSTIN (entity number) cannot be 0";
	case GstinFault::kBadCheckCharacter:
		return "the GSTIN check character (15th) does not match the first 14 characters";
	}
	return "invalid GSTIN";
}

} // namespace balatrix::core
