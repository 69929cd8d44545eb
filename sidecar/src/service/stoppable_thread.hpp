/*
 * A background thread that can be asked to stop, and waited for with a bound (the reconciler, the outbox
 * consumer).
 *
 * The body runs once, on the thread, and should return soon after Stopping() turns true; it sleeps with
 * SleepUnlessStopped so a stop request wakes it at once. Stop() joins for as long as it takes; StopWithin(limit)
 * gives up after `limit` and returns false with the thread still running (a body blocked in a connection
 * attempt or a slow request): the owner must then end the process without destroying this object (std::_Exit),
 * since the destructor joins.
 */
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace balatrix::sidecar::service {

class StoppableThread {
public:
	StoppableThread() = default;
	~StoppableThread(); // Stop()
	StoppableThread(const StoppableThread&) = delete;
	StoppableThread& operator=(const StoppableThread&) = delete;

	// Starts `body` on a new thread; nothing when one is running already.
	void Start(std::function<void()> body);
	// Asks the body to stop; returns at once. Idempotent.
	void RequestStop();
	// RequestStop, then joins. Idempotent.
	void Stop();
	// RequestStop, then waits at most `limit`: true when the body returned (joined), false when it still runs.
	bool StopWithin(std::chrono::milliseconds limit);

	bool
	Stopping() const
	{
		return stopping_.load();
	}
	// Sleeps up to `duration`; false when woken by a stop request.
	bool SleepUnlessStopped(std::chrono::milliseconds duration);

private:
	std::mutex mutex_;
	std::condition_variable wake_;
	std::atomic<bool> stopping_{false};
	bool finished_ = false; // guarded by mutex_: the body has returned
	std::thread thread_;
};

} // namespace balatrix::sidecar::service
