/*
 * Core zone: money as integers (see money.hpp for the contracts).
 */
#include "balatrix/core/money.hpp"

#include <cstddef>
#include <limits>
#include <stdexcept>

namespace balatrix::core {
namespace {

bool
IsDigit(char c)
{
	return c >= '0' && c <= '9';
}

} // namespace

std::optional<Amount4>
ParseAmount4(std::string_view text)
{
	std::size_t pos = 0;
	bool negative = false;
	if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
		negative = text[pos] == '-';
		++pos;
	}

	// The magnitude is accumulated unsigned and compared with the limit after every digit, so a
	// thousand leading zeros are fine and a 25-digit number is refused without ever overflowing.
	const std::uint64_t limit = static_cast<std::uint64_t>(kMaxAmount4);
	std::uint64_t magnitude = 0;
	std::size_t int_digits = 0;
	for (; pos < text.size() && IsDigit(text[pos]); ++pos, ++int_digits) {
		magnitude = magnitude * 10 + static_cast<std::uint64_t>(text[pos] - '0');
		if (magnitude > limit / kAmount4PerUnit)
			return std::nullopt;
	}
	magnitude *= kAmount4PerUnit;

	std::size_t frac_digits = 0;
	if (pos < text.size() && text[pos] == '.') {
		++pos;
		std::uint64_t scale = kAmount4PerUnit;
		for (; pos < text.size() && IsDigit(text[pos]); ++pos, ++frac_digits) {
			if (frac_digits == 4)
				return std::nullopt;
			scale /= 10;
			magnitude += static_cast<std::uint64_t>(text[pos] - '0') * scale;
		}
	}
	if (pos != text.size() || int_digits + frac_digits == 0 || magnitude > limit)
		return std::nullopt;
	Amount4 value = static_cast<Amount4>(magnitude);
	return negative ? -value : value;
}

std::string
FormatAmount4(Amount4 amount)
{
	// Unsigned magnitude: -INT64_MIN does not exist as an int64.
	std::uint64_t magnitude = amount < 0 ? 0 - static_cast<std::uint64_t>(amount) : static_cast<std::uint64_t>(amount);
	std::uint64_t units = magnitude / kAmount4PerUnit;
	std::uint64_t fraction = magnitude % kAmount4PerUnit;

	char buffer[32];
	std::size_t end = sizeof(buffer);
	for (int i = 0; i < 4; ++i) {
		buffer[--end] = static_cast<char>('0' + fraction % 10);
		fraction /= 10;
	}
	buffer[--end] = '.';
	do {
		buffer[--end] = static_cast<char>('0' + units % 10);
		units /= 10;
	} while (units != 0);
	if (amount < 0)
		buffer[--end] = '-';
	return std::string(buffer + end, sizeof(buffer) - end);
}

Amount4
RoundToPaise(Amount4 amount)
{
	// Truncating division keeps the sign of the remainder, so half away from zero is symmetric.
	// No int64 can overflow here: INT64_MAX ends in ...07 and INT64_MIN in ...08, both of which round
	// toward zero.
	Amount4 paise = amount / 100;
	Amount4 remainder = amount % 100;
	if (remainder >= 50)
		++paise;
	else if (remainder <= -50)
		--paise;
	return paise * 100;
}

Amount4
RoundToRupee(Amount4 amount)
{
	// Unlike RoundToPaise this can overflow: INT64_MAX ends in ...5807, which rounds up past it.
	constexpr Amount4 kMaxRupees = std::numeric_limits<Amount4>::max() / kAmount4PerUnit;
	Amount4 rupees = amount / kAmount4PerUnit;
	Amount4 remainder = amount % kAmount4PerUnit; // same sign as amount
	if (remainder >= kAmount4PerUnit / 2)
		++rupees;
	else if (remainder <= -kAmount4PerUnit / 2)
		--rupees;
	if (rupees > kMaxRupees || rupees < -kMaxRupees)
		throw std::overflow_error("RoundToRupee: the result does not fit in 64 bits");
	return rupees * kAmount4PerUnit;
}

Amount4
MulDivRound(Amount4 numerator, std::int64_t multiplier, std::int64_t divisor)
{
	// Violations are bugs in the caller (PriceCall checks its bounds first), hence exceptions.
	if (divisor <= 0)
		throw std::invalid_argument("MulDivRound: divisor must be positive");
	// |int64 × int64| <= 2^126: the product always fits in 128 bits.
	__int128 product = static_cast<__int128>(numerator) * multiplier;
	__int128 quotient = product / divisor;
	__int128 remainder = product % divisor; // same sign as product
	if (remainder < 0)
		remainder = -remainder;
	if (2 * remainder >= divisor)
		quotient += product < 0 ? -1 : 1;
	if (quotient > std::numeric_limits<Amount4>::max() || quotient < std::numeric_limits<Amount4>::min())
		throw std::overflow_error("MulDivRound: the result does not fit in 64 bits");
	return static_cast<Amount4>(quotient);
}

Amount4
MulDivRoundToPaise(Amount4 amount, std::int64_t multiplier, std::int64_t divisor)
{
	if (divisor <= 0)
		throw std::invalid_argument("MulDivRoundToPaise: divisor must be positive");
	// The quotient is taken in paise: divide by divisor × 100 (at most 2^63 × 100 < 2^70) and round
	// there, then scale back. |amount × multiplier| <= 2^126 fits in 128 bits.
	__int128 product = static_cast<__int128>(amount) * multiplier;
	__int128 scaled_divisor = static_cast<__int128>(divisor) * 100;
	__int128 paise = product / scaled_divisor;
	__int128 remainder = product % scaled_divisor; // same sign as product
	if (remainder < 0)
		remainder = -remainder;
	if (2 * remainder >= scaled_divisor)
		paise += product < 0 ? -1 : 1;
	__int128 result = paise * 100;
	if (result > std::numeric_limits<Amount4>::max() || result < std::numeric_limits<Amount4>::min())
		throw std::overflow_error("MulDivRoundToPaise: the result does not fit in 64 bits");
	return static_cast<Amount4>(result);
}

} // namespace balatrix::core
