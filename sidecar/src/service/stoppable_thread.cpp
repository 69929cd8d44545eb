#include "service/stoppable_thread.hpp"

#include <utility>

namespace balatrix::sidecar::service {

StoppableThread::~StoppableThread()
{
	Stop();
}

void
StoppableThread::Start(std::function<void()> body)
{
	std::lock_guard<std::mutex> lock(mutex_);
	if (thread_.joinable())
		return;
	stopping_ = false;
	finished_ = false;
	thread_ = std::thread([this, body = std::move(body)] {
		body();
		{
			std::lock_guard<std::mutex> done(mutex_);
			finished_ = true;
		}
		wake_.notify_all();
	});
}

void
StoppableThread::RequestStop()
{
	{
		std::lock_guard<std::mutex> lock(mutex_);
		stopping_ = true;
	}
	wake_.notify_all();
}

void
StoppableThread::Stop()
{
	RequestStop();
	if (thread_.joinable())
		thread_.join();
}

bool
StoppableThread::StopWithin(std::chrono::milliseconds limit)
{
	RequestStop();
	{
		std::unique_lock<std::mutex> lock(mutex_);
		if (thread_.joinable() && !wake_.wait_for(lock, limit, [this] { return finished_; }))
			return false;
	}
	Stop();
	return true;
}

bool
StoppableThread::SleepUnlessStopped(std::chrono::milliseconds duration)
{
	std::unique_lock<std::mutex> lock(mutex_);
	return !wake_.wait_for(lock, duration, [this] { return stopping_.load(); });
}

} // namespace balatrix::sidecar::service
