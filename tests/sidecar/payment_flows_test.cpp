// The amount conversions of the payment flows (payments/payment_flows.hpp): decimal rupees as the database
// writes them <-> integer paise as the gateways take them. Table-driven; expected values written by hand.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "payments/payment_flows.hpp"

namespace balatrix::sidecar::payments {
namespace {

TEST(PaymentAmounts, ToMinorUnitsAcceptsPaise)
{
	const struct {
		const char* text;
		std::int64_t paise;
	} cases[] = {
		{"411.82", 41182}, {"411.8", 41180}, {"411", 41100}, {"0.01", 1}, {"0", 0},
		{"411.8200", 41182}, // numeric(20,4) from the ledger: zeros beyond paise are fine
		{"10000000.00", 1000000000},
	};
	for (const auto& c : cases)
		EXPECT_EQ(ToMinorUnits(c.text), std::optional<std::int64_t>(c.paise)) << c.text;
}

TEST(PaymentAmounts, ToMinorUnitsRefusesWhatIsNotAnAmountInPaise)
{
	for (const char* text : {"", "411.825", "411.8201", "-1", "+1", ".5", "1.", "12a", "1,000.00", " 1", "1e3",
	                         "0x10", "1234567890123456789"})
		EXPECT_EQ(ToMinorUnits(text), std::nullopt) << '"' << text << '"';
}

TEST(PaymentAmounts, FromMinorUnits)
{
	EXPECT_EQ(FromMinorUnits(41182), "411.82");
	EXPECT_EQ(FromMinorUnits(5), "0.05");
	EXPECT_EQ(FromMinorUnits(0), "0.00");
	EXPECT_EQ(FromMinorUnits(-100), "-1.00");
	EXPECT_EQ(FromMinorUnits(std::numeric_limits<std::int64_t>::min()), "-92233720368547758.08");
}

TEST(PaymentAmounts, RoundTrip)
{
	for (std::int64_t paise : {1LL, 99LL, 100LL, 41182LL, 123456789LL})
		EXPECT_EQ(ToMinorUnits(FromMinorUnits(paise)), std::optional<std::int64_t>(paise)) << paise;
}

} // namespace
} // namespace balatrix::sidecar::payments
