// service::StoppableThread: a stop request wakes a sleeping body at once; StopWithin gives up on a body that does
// not return and reports it; Stop joins.
#include <atomic>
#include <chrono>

#include <gtest/gtest.h>

#include "service/stoppable_thread.hpp"

namespace balatrix::sidecar::service {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

TEST(StoppableThread, AStopRequestWakesASleepingBody)
{
	StoppableThread thread;
	std::atomic<int> rounds{0};
	thread.Start([&] {
		while (thread.SleepUnlessStopped(milliseconds(60000)))
			++rounds;
	});
	const auto started = steady_clock::now();
	EXPECT_TRUE(thread.StopWithin(milliseconds(5000)));
	EXPECT_LT(steady_clock::now() - started, milliseconds(2000)); // not the 60 s sleep
	EXPECT_EQ(rounds.load(), 0);
	EXPECT_TRUE(thread.Stopping());
}

TEST(StoppableThread, StopWithinGivesUpOnABodyThatDoesNotReturn)
{
	StoppableThread thread;
	std::atomic<bool> release{false};
	thread.Start([&] {
		while (!release.load()) // deaf to stop requests, like a body blocked in a connection attempt
			std::this_thread::sleep_for(milliseconds(5));
	});
	EXPECT_FALSE(thread.StopWithin(milliseconds(50)));
	release = true;
	EXPECT_TRUE(thread.StopWithin(milliseconds(5000)));
	thread.Stop(); // idempotent
}

TEST(StoppableThread, StopWithoutStartAndRestart)
{
	StoppableThread thread;
	EXPECT_TRUE(thread.StopWithin(milliseconds(1)));
	std::atomic<int> runs{0};
	thread.Start([&] { ++runs; });
	thread.Stop();
	thread.Start([&] { ++runs; });
	thread.Stop();
	EXPECT_EQ(runs.load(), 2);
}

} // namespace
} // namespace balatrix::sidecar::service
