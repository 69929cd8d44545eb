/*
 * Wall-clock time as an injected dependency: token expiry, TOTP steps and lockouts are decided against a
 * Clock, so tests fix the time instead of sleeping (the Kill Bill habit of STYLE.md).
 */
#pragma once

#include <chrono>

namespace balatrix::sidecar {

class Clock {
public:
	virtual ~Clock() = default;

	// Must be callable from any thread.
	virtual std::chrono::system_clock::time_point Now() const = 0;
};

class SystemClock final : public Clock {
public:
	std::chrono::system_clock::time_point
	Now() const override
	{
		return std::chrono::system_clock::now();
	}
};

} // namespace balatrix::sidecar
