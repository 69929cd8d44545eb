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
	thread_.Start([this] { Run(); });
}

void
Reconciler::Stop()
{
	thread_.Stop();
}

bool
Reconciler::StopWithin(std::chrono::milliseconds limit)
{
	return thread_.StopWithin(limit);
}

void
Reconciler::Run()
{
	while (thread_.SleepUnlessStopped(options_.interval)) {
		try {
			const int looked = flows_.Reconcile(options_.settle_after, options_.batch);
			if (looked > 0)
				LogEvent(logger_, LogLevel::kInfo, "reconciled", nlohmann::json{{"looked_at", looked}});
		} catch (const std::exception& e) {
			// Reconcile reports its own failures; this is the last guard of a background thread.
			LogEvent(logger_, LogLevel::kError, "reconcile_failed", nlohmann::json{{"error", e.what()}});
		}
	}
}

} // namespace balatrix::sidecar::payments
