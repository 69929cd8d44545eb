// service::Lifecycle on its own: the draining flag, the in-flight marks and the bounded wait for idleness.
#include "service/lifecycle.hpp"

#include <chrono>
#include <future>
#include <optional>
#include <utility>

#include <gtest/gtest.h>

namespace balatrix::sidecar::service {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Upper bound for "returned promptly": far above any scheduling delay, far below the timeouts it is compared to.
constexpr auto kPromptly = std::chrono::seconds(10);
constexpr milliseconds kLongTimeout{60000};

TEST(Lifecycle, DrainingIsOneWayAndOnlyTheFirstCallBeginsIt)
{
	Lifecycle lifecycle;
	EXPECT_FALSE(lifecycle.draining());
	EXPECT_TRUE(lifecycle.BeginDraining());
	EXPECT_TRUE(lifecycle.draining());
	EXPECT_FALSE(lifecycle.BeginDraining()) << "a second signal must be told it is not the first";
	EXPECT_TRUE(lifecycle.draining());
}

TEST(Lifecycle, AMarkCountsUntilReleasedOrDestroyedAndReleaseIsIdempotent)
{
	Lifecycle lifecycle;
	EXPECT_EQ(lifecycle.in_flight(), 0);
	{
		Lifecycle::InFlight first = lifecycle.Track();
		std::optional<Lifecycle::InFlight> second(lifecycle.Track());
		EXPECT_EQ(lifecycle.in_flight(), 2);
		first.Release();
		EXPECT_EQ(lifecycle.in_flight(), 1);
		first.Release();
		EXPECT_EQ(lifecycle.in_flight(), 1) << "releasing twice must not count twice";
		second.reset();
		EXPECT_EQ(lifecycle.in_flight(), 0);
	} // `first` is destroyed here after its Release: still zero, not -1
	EXPECT_EQ(lifecycle.in_flight(), 0);
}

TEST(Lifecycle, MovingAMarkMovesTheCountNotDuplicatesIt)
{
	Lifecycle lifecycle;
	std::optional<Lifecycle::InFlight> original(lifecycle.Track());
	Lifecycle::InFlight moved(std::move(*original));
	original.reset(); // the moved-from mark counts nothing
	EXPECT_EQ(lifecycle.in_flight(), 1);

	Lifecycle::InFlight other = lifecycle.Track();
	EXPECT_EQ(lifecycle.in_flight(), 2);
	other = std::move(moved); // `other`'s own mark ends; it now holds `moved`'s
	EXPECT_EQ(lifecycle.in_flight(), 1);
	other.Release();
	EXPECT_EQ(lifecycle.in_flight(), 0);
}

TEST(Lifecycle, WaitUntilIdleReturnsAtOnceWhenNothingIsInFlight)
{
	Lifecycle lifecycle;
	EXPECT_TRUE(lifecycle.WaitUntilIdle(milliseconds(0)));
	const auto started = steady_clock::now();
	EXPECT_TRUE(lifecycle.WaitUntilIdle(kLongTimeout));
	EXPECT_LT(steady_clock::now() - started, kPromptly);
}

TEST(Lifecycle, WaitUntilIdleTimesOutWhileAMarkIsHeld)
{
	Lifecycle lifecycle;
	Lifecycle::InFlight mark = lifecycle.Track();
	EXPECT_FALSE(lifecycle.WaitUntilIdle(milliseconds(0))) << "a zero timeout only checks";
	EXPECT_FALSE(lifecycle.WaitUntilIdle(milliseconds(-5)));

	const milliseconds timeout(100);
	const auto started = steady_clock::now();
	EXPECT_FALSE(lifecycle.WaitUntilIdle(timeout));
	const auto waited = steady_clock::now() - started;
	EXPECT_GE(waited, timeout) << "gave up before its timeout";
	EXPECT_LT(waited, kPromptly);
	EXPECT_EQ(lifecycle.in_flight(), 1);
}

TEST(Lifecycle, WaitUntilIdleWakesWhenTheLastMarkIsReleasedOnAnotherThread)
{
	Lifecycle lifecycle;
	Lifecycle::InFlight first = lifecycle.Track();
	Lifecycle::InFlight second = lifecycle.Track();

	auto waiter = std::async(std::launch::async, [&lifecycle] {
		const auto started = steady_clock::now();
		const bool idle = lifecycle.WaitUntilIdle(kLongTimeout);
		return std::make_pair(idle, steady_clock::now() - started);
	});
	first.Release();
	EXPECT_FALSE(lifecycle.WaitUntilIdle(milliseconds(0))) << "one mark is still held";

	std::async(std::launch::async, [mark = std::move(second)]() mutable { mark.Release(); }).get();
	const auto [idle, waited] = waiter.get();
	EXPECT_TRUE(idle);
	EXPECT_LT(waited, kPromptly) << "the waiter must wake on the release, not at its timeout";
	EXPECT_EQ(lifecycle.in_flight(), 0);
}

} // namespace
} // namespace balatrix::sidecar::service
