#include "payments/reconciler.hpp"

#include <exception>

#include <nlohmann/json.hpp>

#include "log.hpp"
#include "payments/payment_flows.hpp"

namespace balatrix::sidecar::payments {

Reconciler::Reconciler(PaymentFlows& flows, ReconcilerOptions options, spdlog::logger& logger)
	: flows_(flows), options_(options), logger_(logger)
{
}

Reconciler::~Reconciler()
{
	Stop();
}

void
Reconciler::Start()
{
	std::lock_guard<std::mutex> lock(mutex_);
	if (thread_.joinable())
		return;
	stopping_ = false;
	finished_ = false;
	thread_ = std::thread([this] {
		Run();
		{
			std::lock_guard<std::mutex> done(mutex_);
			finished_ = true;
		}
		wake_.notify_all();
	});
}

bool
Reconciler::StopWithin(std::chrono::milliseconds limit)
{
	{
		std::unique_lock<std::mutex> lock(mutex_);
		stopping_ = true;
		wake_.notify_all();
		if (thread_.joinable() && !wake_.wait_for(lock, limit, [this] { return finished_; }))
			return false;
	}
	Stop();
	return true;
}

void
Reconciler::Stop()
{
	{
		std::lock_guard<std::mutex> lock(mutex_);
		stopping_ = true;
	}
	wake_.notify_all();
	if (thread_.joinable())
		thread_.join();
}

void
Reconciler::Run()
{
	std::unique_lock<std::mutex> lock(mutex_);
	while (!stopping_) {
		if (wake_.wait_for(lock, options_.interval, [this] { return stopping_; }))
			break;
		lock.unlock();
		try {
			const int looked = flows_.Reconcile(options_.settle_after, options_.batch);
			if (looked > 0)
				LogEvent(logger_, LogLevel::kInfo, "reconciled", nlohmann::json{{"looked_at", looked}});
		} catch (const std::exception& e) {
			// Reconcile reports its own failures; this is the last guard of a background thread.
			LogEvent(logger_, LogLevel::kError, "reconcile_failed", nlohmann::json{{"error", e.what()}});
		}
		lock.lock();
	}
}

} // namespace balatrix::sidecar::payments
