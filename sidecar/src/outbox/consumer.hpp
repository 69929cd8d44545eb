/*
 * The outbox consumer: a background thread that takes events out of balatrix.event_outbox and makes them take
 * effect (PRODUCT.md §2: LISTEN with a polling fallback, leases, retries with backoff, dead letter).
 *
 * It holds one database connection of its own (DATABASE_URL, application_name balatrix-sidecar-outbox; not
 * one of the API pool's), LISTENs on balatrix_events and loops:
 *
 *   claim_events(worker, OUTBOX_BATCH_SIZE, OUTBOX_LEASE_SECONDS)             autocommit, FOR UPDATE SKIP LOCKED
 *   for each event, in order:
 *     the action handler registered for its type, if any (payment.retry_due -> charge the saved card, ...):
 *       Retry(error) -> fail_event, nothing is sent this time
 *     outbox_deliveries(event, worker, channels, lease)  renews the lease; the deliveries still unsent
 *     send each (DeliverySender) and record it at once: notification_sent / notification_failed, which also
 *       renew the lease (a heartbeat: the event stays ours as long as each single send fits in the lease)
 *     complete_event, or fail_event(first error, OUTBOX_MAX_ATTEMPTS) when a send failed: 'retry' (backoff
 *     30 s doubling, at most 6 h) or 'dead' (left for a person)
 *   fewer events than the batch: wait for a NOTIFY, at most OUTBOX_POLL_INTERVAL_MS (so a lost NOTIFY costs
 *   one interval at most), in slices of 250 ms so that Stop() is noticed within half a second
 *
 * Exactly-once effects under at-least-once delivery: several consumers (sidecars) may run at once, the lease
 * keeps each event with one of them, and notifications keeps each (event, channel, recipient) sent once. A
 * consumer killed mid-event leaves the event leased until the lease expires; the next claim re-plans it and
 * gets only the deliveries not recorded as sent, so at most the one message in flight at the kill goes out
 * twice (with the same Message-ID / Balatrix-Event-Id, for the receiver to drop).
 *
 * Action handlers run at least once per event (a consumer may die after the action and before
 * complete_event): they must be idempotent (the payment handlers key their gateway calls on the event's
 * payment). They run on the consumer thread, one event at a time; an exception counts as Retry(what()).
 *
 * Failures are logged, never fatal: a database that is down or a connection that breaks is retried with
 * backoff (OUTBOX_RECONNECT: 1 s doubling to 30 s); an SQL error on one event fails that event (and the loop
 * goes on); a peer that fails is the delivery's failure. Stop() finishes the event in hand, gives the rest of
 * the batch back (release_event: claimable at once by another sidecar, the claim not counted as an attempt)
 * and joins the thread.
 */
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "service/stoppable_thread.hpp"

namespace pqxx {
class connection_base;
} // namespace pqxx

namespace spdlog {
class logger;
} // namespace spdlog

namespace balatrix::sidecar::db {
class Pool;
} // namespace balatrix::sidecar::db

namespace balatrix::sidecar::outbox {

class DeliverySender;
struct Delivery;

// One claimed row of balatrix.event_outbox.
struct OutboxEvent {
	std::int64_t id = 0;
	std::string type;                       // e.g. payment.retry_due
	std::optional<std::string> customer_id; // uuid
	std::string aggregate_type;             // "" when NULL
	std::string aggregate_id;               // "" when NULL
	std::string payload;                    // the JSON text as stored: numbers keep their exact decimals
	int attempts = 0;                       // this claim included
};

// A string member of the event's payload ("payment_id"), or nullopt when absent, not a string, or the payload is
// not a JSON object. Numbers are deliberately not offered (an amount must never pass through a double): read
// them from the database.
std::optional<std::string> PayloadString(const OutboxEvent& event, const std::string& key);

struct ActionOutcome {
	bool done = true;
	std::string error; // when !done: why, stored as the event's last_error

	static ActionOutcome
	Done()
	{
		return ActionOutcome{true, {}};
	}

	static ActionOutcome
	Retry(std::string error)
	{
		return ActionOutcome{false, std::move(error)};
	}
};

using ActionHandler = std::function<ActionOutcome(const OutboxEvent&)>;
using ActionHandlers = std::map<std::string, ActionHandler>; // by event type

struct ConsumerOptions {
	std::string database_url; // secret
	std::string worker;       // unique per process (MakeWorkerName); 1..200 bytes
	int batch_size = 10;
	std::chrono::seconds lease{60};
	int max_attempts = 8;
	std::chrono::milliseconds poll_interval{5000};
	std::vector<std::string> channels{"webhook"}; // Notifier::Channels()
	std::chrono::milliseconds reconnect_initial{1000};
	std::chrono::milliseconds reconnect_max{30000};
};

// Counters since Start, for logs and tests.
struct ConsumerStats {
	std::uint64_t events_done = 0;
	std::uint64_t events_retried = 0;
	std::uint64_t events_dead = 0;
	std::uint64_t deliveries_sent = 0;
	std::uint64_t deliveries_failed = 0;
	std::uint64_t reconnects = 0;
};

// "<host>:<pid>:<8 random hex digits>".
std::string MakeWorkerName();

class OutboxConsumer {
public:
	// Throws std::invalid_argument when options.database_url is not a libpq connection string. Connects only
	// in Start's thread. `sender`, the handlers' captures and `logger` must outlive the consumer.
	OutboxConsumer(ConsumerOptions options, DeliverySender& sender, ActionHandlers actions, spdlog::logger& logger);
	~OutboxConsumer(); // Stop()
	OutboxConsumer(const OutboxConsumer&) = delete;
	OutboxConsumer& operator=(const OutboxConsumer&) = delete;

	void Start();
	// Asks the thread to stop after the event in hand; returns at once. Idempotent.
	void RequestStop();
	// RequestStop, then waits for the thread. Idempotent.
	void Stop();
	// RequestStop, then waits at most `limit` for the thread (it may be stuck in a connection attempt to an
	// unresponsive database, or in a send). True when it ended (joined, as Stop); false when it is still running:
	// the caller must then end the process without destroying this object (std::_Exit).
	bool StopWithin(std::chrono::milliseconds limit);

	ConsumerStats Stats() const;

	const std::string&
	worker() const
	{
		return options_.worker;
	}

private:
	void Run();
	void Session(pqxx::connection_base& connection);
	void WaitForWork(pqxx::connection_base& connection, const std::atomic<bool>& notified);
	void Process(pqxx::connection_base& connection, const OutboxEvent& event);
	std::vector<Delivery> Plan(pqxx::connection_base& connection, const OutboxEvent& event);
	void Finish(pqxx::connection_base& connection, const OutboxEvent& event, const std::string& error);
	void Release(pqxx::connection_base& connection, const std::vector<OutboxEvent>& events, std::size_t from);
	bool Stopping() const;
	// Sleeps up to `duration`; false when woken by a stop request.
	bool SleepUnlessStopped(std::chrono::milliseconds duration);

	ConsumerOptions options_;
	DeliverySender& sender_;
	ActionHandlers actions_;
	spdlog::logger& logger_;
	std::unique_ptr<db::Pool> connection_pool_; // one connection: the consumer's own session
	std::string channels_literal_;              // channels as a text[] literal: {email,webhook}

	service::StoppableThread thread_;

	std::atomic<std::uint64_t> events_done_{0};
	std::atomic<std::uint64_t> events_retried_{0};
	std::atomic<std::uint64_t> events_dead_{0};
	std::atomic<std::uint64_t> deliveries_sent_{0};
	std::atomic<std::uint64_t> deliveries_failed_{0};
	std::atomic<std::uint64_t> reconnects_{0};
};

} // namespace balatrix::sidecar::outbox
