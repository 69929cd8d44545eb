#include "outbox/consumer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <random>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>
#include <pqxx/notification>
#include <pqxx/pqxx>

#include "db/pool.hpp"
#include "log.hpp"
#include "outbox/notifier.hpp"

namespace balatrix::sidecar::outbox {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr const char* kChannel = "balatrix_events";
// How long one wait for a NOTIFY lasts before the stop flag is looked at again: Stop() is noticed within this.
constexpr milliseconds kWaitSlice{250};
constexpr milliseconds kAcquireTimeout{5000};

// Sets `flag` when balatrix_events is notified. Constructing it sends LISTEN; destroying it, UNLISTEN.
class Wakeup final : public pqxx::notification_receiver {
public:
	Wakeup(pqxx::connection_base& connection, std::atomic<bool>& flag)
		: pqxx::notification_receiver(connection, kChannel), flag_(flag)
	{
	}

	void
	operator()(const std::string& /*payload*/, int /*backend_pid*/) override
	{
		flag_ = true;
	}

private:
	std::atomic<bool>& flag_;
};

std::string
Text(const pqxx::field& field)
{
	return field.is_null() ? std::string() : std::string(field.c_str());
}

} // namespace

std::optional<std::string>
PayloadString(const OutboxEvent& event, const std::string& key)
{
	const json payload = json::parse(event.payload, nullptr, false);
	if (!payload.is_object())
		return std::nullopt;
	const auto it = payload.find(key);
	if (it == payload.end() || !it->is_string())
		return std::nullopt;
	return it->get<std::string>();
}

std::string
MakeWorkerName()
{
	char host[256] = {0};
	if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		std::snprintf(host, sizeof(host), "unknown");
	std::string name(host);
	if (name.size() > 100)
		name.resize(100);
	std::random_device random;
	char suffix[16];
	std::snprintf(suffix, sizeof(suffix), "%08x", static_cast<unsigned>(random()));
	return name + ":" + std::to_string(::getpid()) + ":" + suffix;
}

OutboxConsumer::OutboxConsumer(ConsumerOptions options, DeliverySender& sender, ActionHandlers actions,
                               spdlog::logger& logger)
	: options_(std::move(options)), sender_(sender), actions_(std::move(actions)), logger_(logger)
{
	if (options_.worker.empty() || options_.worker.size() > 200)
		throw std::invalid_argument("outbox consumer: the worker name must be 1 to 200 bytes");
	// A one-connection pool gives the session the pool's connection handling: DATABASE_URL normalised with a
	// connect_timeout, libpqxx's silent reactivation off, and error texts scrubbed of the password.
	connection_pool_ = std::make_unique<db::Pool>(
		db::PoolOptions{options_.database_url, 1, std::chrono::seconds(3), "balatrix-sidecar-outbox"}, logger_);
	channels_literal_ = "{";
	for (const auto& channel : options_.channels) {
		// Fixed tokens (email, sms, webhook): nothing to quote; outbox_deliveries refuses anything else.
		channels_literal_ += (channels_literal_.size() > 1 ? "," : "") + channel;
	}
	channels_literal_ += "}";
}

OutboxConsumer::~OutboxConsumer()
{
	Stop();
}

void
OutboxConsumer::Start()
{
	thread_.Start([this] { Run(); });
}

void
OutboxConsumer::RequestStop()
{
	thread_.RequestStop();
}

void
OutboxConsumer::Stop()
{
	thread_.Stop();
	connection_pool_->Close(milliseconds(0));
}

bool
OutboxConsumer::StopWithin(milliseconds limit)
{
	if (!thread_.StopWithin(limit))
		return false;
	connection_pool_->Close(milliseconds(0));
	return true;
}

ConsumerStats
OutboxConsumer::Stats() const
{
	ConsumerStats stats;
	stats.events_done = events_done_;
	stats.events_retried = events_retried_;
	stats.events_dead = events_dead_;
	stats.deliveries_sent = deliveries_sent_;
	stats.deliveries_failed = deliveries_failed_;
	stats.reconnects = reconnects_;
	return stats;
}

bool
OutboxConsumer::Stopping() const
{
	return thread_.Stopping();
}

bool
OutboxConsumer::SleepUnlessStopped(milliseconds duration)
{
	return thread_.SleepUnlessStopped(duration);
}

void
OutboxConsumer::Run()
{
	LogEvent(logger_, LogLevel::kInfo, "outbox_consumer_started",
	         json{{"worker", options_.worker},
	              {"channels", options_.channels},
	              {"batch_size", options_.batch_size},
	              {"lease_seconds", options_.lease.count()},
	              {"poll_interval_ms", options_.poll_interval.count()}});
	milliseconds backoff = options_.reconnect_initial;
	while (!Stopping()) {
		bool connected = false;
		std::string error;
		try {
			db::Lease lease = connection_pool_->Acquire(kAcquireTimeout);
			connected = true;
			try {
				Session(*lease);
			} catch (const pqxx::broken_connection&) {
				lease.Discard();
				throw;
			}
		} catch (const pqxx::broken_connection& e) {
			error = e.what();
		} catch (const db::PoolError& e) {
			error = e.what(); // scrubbed by the pool
		} catch (const std::exception& e) {
			// A bug or an allocation failure: the last guard of a background thread, which must not take the
			// process down. The session is given up and started again.
			error = e.what();
		}
		if (Stopping())
			break;
		if (connected)
			backoff = options_.reconnect_initial;
		++reconnects_;
		LogEvent(logger_, LogLevel::kWarn, "outbox_database_unavailable",
		         json{{"error", connection_pool_->Scrub(error)}, {"retry_in_ms", backoff.count()}});
		if (!SleepUnlessStopped(backoff))
			break;
		backoff = std::min(backoff * 2, options_.reconnect_max);
	}
	LogEvent(logger_, LogLevel::kInfo, "outbox_consumer_stopped",
	         json{{"worker", options_.worker},
	              {"events_done", events_done_.load()},
	              {"events_retried", events_retried_.load()},
	              {"events_dead", events_dead_.load()},
	              {"deliveries_sent", deliveries_sent_.load()},
	              {"deliveries_failed", deliveries_failed_.load()}});
}

void
OutboxConsumer::Session(pqxx::connection_base& connection)
{
	std::atomic<bool> notified{false};
	Wakeup wakeup(connection, notified); // LISTEN balatrix_events for this session
	LogEvent(logger_, LogLevel::kDebug, "outbox_listening", json{{"worker", options_.worker}});
	while (!Stopping()) {
		// Reset before the claim: a NOTIFY that libpqxx hands over while we work means "look again".
		notified = false;
		std::vector<OutboxEvent> events;
		try {
			pqxx::nontransaction tx(connection);
			const pqxx::result rows =
				tx.exec_params("SELECT id, event_type, customer_id::text, aggregate_type, aggregate_id, payload::text, "
			                   "attempts FROM balatrix.claim_events($1, $2, $3)",
			                   options_.worker, options_.batch_size, static_cast<int>(options_.lease.count()));
			for (const auto& row : rows) {
				OutboxEvent event;
				event.id = row[0].as<std::int64_t>();
				event.type = Text(row[1]);
				if (!row[2].is_null())
					event.customer_id = Text(row[2]);
				event.aggregate_type = Text(row[3]);
				event.aggregate_id = Text(row[4]);
				event.payload = Text(row[5]);
				event.attempts = row[6].as<int>();
				events.push_back(std::move(event));
			}
		} catch (const pqxx::broken_connection&) {
			throw;
		} catch (const std::exception& e) {
			// The claim itself failed (a missing function after a half-done upgrade, a lock timeout): nothing was
			// claimed; try again after one interval rather than spinning.
			LogEvent(logger_, LogLevel::kError, "outbox_claim_failed",
			         json{{"error", connection_pool_->Scrub(e.what())}});
			WaitForWork(connection, notified);
			continue;
		}
		std::size_t next = 0;
		while (next < events.size() && !Stopping())
			Process(connection, events[next++]);
		if (next < events.size())
			Release(connection, events, next);
		if (events.size() < static_cast<std::size_t>(options_.batch_size) && !Stopping())
			WaitForWork(connection, notified);
	}
}

void
OutboxConsumer::WaitForWork(pqxx::connection_base& connection, const std::atomic<bool>& notified)
{
	const auto deadline = std::chrono::steady_clock::now() + options_.poll_interval;
	while (!Stopping() && !notified) {
		const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
		if (left <= milliseconds(0))
			return;
		const auto slice = std::min(left, kWaitSlice);
		const auto microseconds = std::chrono::duration_cast<std::chrono::microseconds>(slice).count();
		if (connection.await_notification(static_cast<long>(microseconds / 1000000),
		                                  static_cast<long>(microseconds % 1000000)) > 0)
			return;
		// A server that went away makes the socket readable at once with nothing to deliver; without this check
		// the loop would spin until the next claim noticed.
		if (!connection.is_open())
			throw pqxx::broken_connection("the outbox connection closed");
	}
}

std::vector<Delivery>
OutboxConsumer::Plan(pqxx::connection_base& connection, const OutboxEvent& event)
{
	std::vector<Delivery> deliveries;
	pqxx::nontransaction tx(connection);
	const pqxx::result rows =
		tx.exec_params("SELECT notification_id::text, channel, recipient, template, context::text, secret, envelope "
	                   "FROM balatrix.outbox_deliveries($1, $2, $3::text[], $4)",
	                   event.id, options_.worker, channels_literal_, static_cast<int>(options_.lease.count()));
	for (const auto& row : rows) {
		Delivery delivery;
		delivery.notification_id = Text(row[0]);
		delivery.channel = Text(row[1]);
		delivery.recipient = Text(row[2]);
		delivery.event_type = Text(row[3]);
		delivery.event_id = event.id;
		if (!row[4].is_null()) {
			// Every member is a string (outbox_deliveries makes them so): no amount becomes a double here.
			json context = json::parse(Text(row[4]), nullptr, false);
			if (context.is_object())
				delivery.context = std::move(context);
		}
		delivery.secret = Text(row[5]);
		delivery.envelope = Text(row[6]);
		deliveries.push_back(std::move(delivery));
	}
	return deliveries;
}

void
OutboxConsumer::Process(pqxx::connection_base& connection, const OutboxEvent& event)
{
	try {
		const auto action = actions_.find(event.type);
		if (action != actions_.end()) {
			ActionOutcome outcome;
			try {
				outcome = action->second(event);
			} catch (const std::exception& e) {
				outcome = ActionOutcome::Retry(std::string("action failed: ") + e.what());
			}
			if (!outcome.done) {
				Finish(connection, event, outcome.error.empty() ? std::string("action failed") : outcome.error);
				return;
			}
		}
		std::string first_error;
		std::size_t sent = 0;
		// Each outcome renews the lease: an event keeps it as long as every single send fits in it.
		const int lease_seconds = static_cast<int>(options_.lease.count());
		const auto deliveries = Plan(connection, event);
		for (const auto& delivery : deliveries) {
			DeliveryOutcome outcome;
			try {
				outcome = sender_.Deliver(delivery);
			} catch (const std::exception& e) {
				outcome = DeliveryOutcome{false, std::string("delivery failed: ") + e.what()};
			}
			// Recorded at once, before the next send: a kill between two sends repeats one message at most.
			pqxx::nontransaction tx(connection);
			bool recorded = false;
			if (outcome.delivered) {
				++deliveries_sent_;
				++sent;
				recorded = tx.exec_params1("SELECT balatrix.notification_sent($1::uuid, $2, $3)",
				                           delivery.notification_id, options_.worker, lease_seconds)[0]
				               .as<bool>();
			} else {
				++deliveries_failed_;
				if (first_error.empty())
					first_error = outcome.error;
				LogEvent(logger_, LogLevel::kWarn, "outbox_delivery_failed",
				         json{{"event_id", event.id},
				              {"event_type", event.type},
				              {"notification_id", delivery.notification_id},
				              {"channel", delivery.channel},
				              {"error", outcome.error}});
				recorded = tx.exec_params1("SELECT balatrix.notification_failed($1::uuid, $2, $3, $4)",
				                           delivery.notification_id, options_.worker, outcome.error, lease_seconds)[0]
				               .as<bool>();
			}
			if (!recorded)
				LogEvent(logger_, LogLevel::kWarn, "outbox_lease_lost",
				         json{{"event_id", event.id}, {"notification_id", delivery.notification_id}});
		}
		Finish(connection, event, first_error);
		LogEvent(logger_, LogLevel::kDebug, "outbox_event_processed",
		         json{{"event_id", event.id},
		              {"event_type", event.type},
		              {"deliveries", deliveries.size()},
		              {"sent", sent},
		              {"ok", first_error.empty()}});
	} catch (const pqxx::broken_connection&) {
		throw;
	} catch (const std::exception& e) {
		// An SQL error on this event (or a bug): it is failed like a delivery, so it is retried with backoff and
		// dead-lettered at last instead of stopping the queue behind it.
		const std::string error = connection_pool_->Scrub(e.what());
		LogEvent(logger_, LogLevel::kError, "outbox_event_error",
		         json{{"event_id", event.id}, {"event_type", event.type}, {"error", error}});
		try {
			Finish(connection, event, "internal error: " + error);
		} catch (const pqxx::broken_connection&) {
			throw;
		} catch (const std::exception& again) {
			LogEvent(logger_, LogLevel::kError, "outbox_event_error",
			         json{{"event_id", event.id}, {"error", connection_pool_->Scrub(again.what())}});
		}
	}
}

void
OutboxConsumer::Finish(pqxx::connection_base& connection, const OutboxEvent& event, const std::string& error)
{
	pqxx::nontransaction tx(connection);
	if (error.empty()) {
		const bool completed =
			tx.exec_params1("SELECT balatrix.complete_event($1, $2)", event.id, options_.worker)[0].as<bool>();
		if (completed)
			++events_done_;
		else
			LogEvent(logger_, LogLevel::kWarn, "outbox_lease_lost",
			         json{{"event_id", event.id}, {"event_type", event.type}});
		return;
	}
	const std::string outcome = tx.exec_params1("SELECT balatrix.fail_event($1, $2, $3, $4)", event.id, options_.worker,
	                                            error, options_.max_attempts)[0]
	                                .as<std::string>();
	if (outcome == "dead") {
		++events_dead_;
		LogEvent(
			logger_, LogLevel::kError, "outbox_event_dead",
			json{{"event_id", event.id}, {"event_type", event.type}, {"attempts", event.attempts}, {"error", error}});
	} else if (outcome == "retry") {
		++events_retried_;
		LogEvent(
			logger_, LogLevel::kWarn, "outbox_event_retry",
			json{{"event_id", event.id}, {"event_type", event.type}, {"attempts", event.attempts}, {"error", error}});
	} else {
		LogEvent(logger_, LogLevel::kWarn, "outbox_lease_lost",
		         json{{"event_id", event.id}, {"event_type", event.type}});
	}
}

void
OutboxConsumer::Release(pqxx::connection_base& connection, const std::vector<OutboxEvent>& events, std::size_t from)
{
	for (std::size_t i = from; i < events.size(); ++i) {
		try {
			pqxx::nontransaction tx(connection);
			tx.exec_params("SELECT balatrix.release_event($1, $2)", events[i].id, options_.worker);
		} catch (const pqxx::broken_connection&) {
			throw;
		} catch (const std::exception& e) {
			// Not released: the lease expires and another consumer claims the event then.
			LogEvent(logger_, LogLevel::kWarn, "outbox_release_failed",
			         json{{"event_id", events[i].id}, {"error", connection_pool_->Scrub(e.what())}});
		}
	}
}

} // namespace balatrix::sidecar::outbox
