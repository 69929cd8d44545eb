#include "service/lifecycle.hpp"

namespace balatrix::sidecar::service {

Lifecycle::InFlight::InFlight(Lifecycle* owner) noexcept : owner_(owner) {}

Lifecycle::InFlight::InFlight(InFlight&& other) noexcept : owner_(other.owner_.exchange(nullptr)) {}

Lifecycle::InFlight&
Lifecycle::InFlight::operator=(InFlight&& other) noexcept
{
	if (this != &other) {
		Release();
		owner_.store(other.owner_.exchange(nullptr));
	}
	return *this;
}

Lifecycle::InFlight::~InFlight()
{
	Release();
}

void
Lifecycle::InFlight::Release() noexcept
{
	if (Lifecycle* owner = owner_.exchange(nullptr))
		owner->Finished();
}

bool
Lifecycle::BeginDraining() noexcept
{
	return !draining_.exchange(true);
}

bool
Lifecycle::draining() const noexcept
{
	return draining_.load();
}

Lifecycle::InFlight
Lifecycle::Track() noexcept
{
	{
		std::lock_guard lock(mutex_);
		++in_flight_;
	}
	return InFlight(this);
}

int
Lifecycle::in_flight() const
{
	std::lock_guard lock(mutex_);
	return in_flight_;
}

bool
Lifecycle::WaitUntilIdle(std::chrono::milliseconds timeout) const
{
	std::unique_lock lock(mutex_);
	if (timeout <= std::chrono::milliseconds::zero())
		return in_flight_ == 0;
	return idle_.wait_for(lock, timeout, [this] { return in_flight_ == 0; });
}

void
Lifecycle::Finished() noexcept
{
	bool idle = false;
	{
		std::lock_guard lock(mutex_);
		idle = --in_flight_ == 0;
	}
	if (idle)
		idle_.notify_all();
}

} // namespace balatrix::sidecar::service
