/*
 * The process's serving state, shared by the HTTP layer (which counts requests) and the services (which
 * answer readiness), without either knowing the other's types.
 *
 * Graceful shutdown: on SIGTERM main() calls BeginDraining(). From then on /health/ready answers 503 so a load
 * balancer stops routing here, every response carries Connection: close, and main() waits with
 * WaitUntilIdle() until no request is in flight (bounded by SHUTDOWN_GRACE_MS) before it stops the server,
 * because Pistache 0.0.5's Endpoint::shutdown() drops whatever is in flight.
 *
 * Thread-safe: requests are counted on every Pistache worker thread; main() waits on its own.
 */
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace balatrix::sidecar::service {

class Lifecycle {
public:
	// Marks one request in flight from construction until Release() or destruction, whichever comes first.
	// Move-only; a moved-from mark counts nothing. Hold it until the response is on the wire (or known lost),
	// not merely handed to the transport: the count is what decides when stopping the server is safe.
	class InFlight {
	public:
		InFlight(InFlight&& other) noexcept;
		InFlight& operator=(InFlight&& other) noexcept;
		InFlight(const InFlight&) = delete;
		InFlight& operator=(const InFlight&) = delete;
		~InFlight();

		// Ends the mark now. Idempotent and callable from any thread: of Release() and the destructor, exactly
		// one decrements the count.
		void Release() noexcept;

	private:
		friend class Lifecycle;
		explicit InFlight(Lifecycle* owner) noexcept;

		std::atomic<Lifecycle*> owner_;
	};

	Lifecycle() = default;
	Lifecycle(const Lifecycle&) = delete;
	Lifecycle& operator=(const Lifecycle&) = delete;

	// Enters the draining state; there is no way back. Returns true on the first call, false afterwards.
	bool BeginDraining() noexcept;
	bool draining() const noexcept;

	// Counts one request as in flight; see InFlight. Every mark must be released before the Lifecycle dies.
	[[nodiscard]] InFlight Track() noexcept;

	// The number of unreleased marks.
	int in_flight() const;

	// Blocks until no request is in flight (true) or `timeout` has passed with some still in flight (false).
	// Returns at once when nothing is in flight, and as soon as the last mark is released otherwise. A zero
	// or negative timeout only checks.
	bool WaitUntilIdle(std::chrono::milliseconds timeout) const;

private:
	void Finished() noexcept;

	std::atomic<bool> draining_{false};
	mutable std::mutex mutex_;
	mutable std::condition_variable idle_;
	int in_flight_ = 0; // guarded by mutex_
};

} // namespace balatrix::sidecar::service
