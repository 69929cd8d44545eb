/*
 * The reconciler: a background thread that settles what a gateway timeout or a lost webhook left open.
 *
 * Every `interval` it runs PaymentFlows::Reconcile: payments still created / pending / authorized that nobody
 * touched for `settle_after`, and pending refunds, are looked up at the gateway and recorded (idempotently:
 * several sidecars may reconcile at once, the database takes each outcome once). Stop() wakes the thread at
 * once and joins it; a pass in progress finishes first (each gateway call is bounded by its timeout).
 */
#pragma once

#include <chrono>

#include "service/stoppable_thread.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace balatrix::sidecar::payments {

class PaymentFlows;

struct ReconcilerOptions {
	std::chrono::milliseconds interval{60000};
	std::chrono::seconds settle_after{120};
	int batch = 50;
};

class Reconciler {
public:
	Reconciler(PaymentFlows& flows, ReconcilerOptions options, spdlog::logger& logger);
	~Reconciler(); // Stop()
	Reconciler(const Reconciler&) = delete;
	Reconciler& operator=(const Reconciler&) = delete;

	void Start();
	void Stop();
	// Asks the thread to stop and waits at most `limit` (a pass may be waiting on a gateway). True when it ended
	// (joined); false when it is still running: the caller must then end the process without destroying this
	// object (std::_Exit).
	bool StopWithin(std::chrono::milliseconds limit);

private:
	void Run();

	PaymentFlows& flows_;
	ReconcilerOptions options_;
	spdlog::logger& logger_;
	service::StoppableThread thread_;
};

} // namespace balatrix::sidecar::payments
