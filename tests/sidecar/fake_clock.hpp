// A Clock the test sets by hand (Kill Bill's habit: fix the clock, act, assert, advance).
#pragma once

#include <atomic>
#include <chrono>

#include "clock.hpp"

namespace balatrix::sidecar::testing {

class FakeClock final : public Clock {
public:
	explicit FakeClock(long long unix_seconds = 0)
	{
		Set(unix_seconds);
	}

	void
	Set(long long unix_seconds)
	{
		seconds_.store(unix_seconds);
	}

	void
	Advance(std::chrono::seconds by)
	{
		seconds_.fetch_add(by.count());
	}

	long long
	seconds() const
	{
		return seconds_.load();
	}

	std::chrono::system_clock::time_point
	Now() const override
	{
		return std::chrono::system_clock::time_point(std::chrono::seconds(seconds_.load()));
	}

private:
	std::atomic<long long> seconds_{0};
};

} // namespace balatrix::sidecar::testing
