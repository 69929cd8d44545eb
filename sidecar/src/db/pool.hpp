/*
 * A fixed-size pool of libpqxx 6.4 connections.
 *
 * - At most `size` connections exist at once; they are opened lazily, on the first Acquire that finds no idle
 *   one, so the sidecar starts (and answers /health) while the database is still down.
 * - A connection is used by one thread at a time: Acquire hands it out inside a Lease, which gives it back
 *   when destroyed. libpq connections are not safe for concurrent use; never pass a Lease between threads
 *   while both use it.
 * - Broken connections are dropped, never repaired in place: a returned connection that is no longer open is
 *   closed, and an idle connection is checked (a non-blocking read that notices a server-side close) before it
 *   is handed out. The next Acquire opens a fresh one. libpqxx's own transparent "reactivation" is disabled,
 *   so a session never silently changes under a caller.
 * - Every connection carries connect_timeout (default 3 s, unless DATABASE_URL sets one) and
 *   fallback_application_name=balatrix-sidecar (so pg_stat_activity shows who we are unless DATABASE_URL or
 *   PGAPPNAME names the application).
 *
 * Errors: Acquire throws PoolError (timeout, closed, connection failure). Messages that came from libpq have
 * the connection string and the password scrubbed out; they may still name the host, port and user, so they
 * belong in logs, not in API responses.
 */
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/connection>

namespace spdlog {
class logger;
} // namespace spdlog

namespace balatrix::sidecar::db {

struct PoolOptions {
	std::string conninfo;                    // libpq URI or key=value string (DATABASE_URL); secret
	std::size_t size = 8;                    // >= 1
	std::chrono::seconds connect_timeout{3}; // applied only when conninfo sets no connect_timeout
	std::string application_name = "balatrix-sidecar";
};

class PoolError : public std::runtime_error {
public:
	enum class Kind {
		kTimeout,       // every connection was leased for the whole wait
		kClosed,        // Close() was called
		kConnectFailed, // opening a new connection failed (server down, auth, ...)
	};

	PoolError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}

	Kind
	kind() const noexcept
	{
		return kind_;
	}

private:
	Kind kind_;
};

class Pool;

// Exclusive use of one pooled connection; returns it to the pool on destruction. Must not outlive the pool.
class Lease {
public:
	Lease(Lease&& other) noexcept;
	Lease& operator=(Lease&& other) noexcept;
	Lease(const Lease&) = delete;
	Lease& operator=(const Lease&) = delete;
	~Lease();

	pqxx::connection_base&
	operator*() const noexcept
	{
		return *connection_;
	}

	pqxx::connection_base*
	operator->() const noexcept
	{
		return connection_.get();
	}

	// Tells the pool to close this connection instead of reusing it: for a session left in a state the next
	// user must not inherit, or a failure libpq has not noticed. Connections that are no longer open are
	// dropped anyway.
	void
	Discard() noexcept
	{
		discard_ = true;
	}

private:
	friend class Pool;
	Lease(Pool* pool, std::unique_ptr<pqxx::connection> connection) noexcept;
	void Return() noexcept;

	Pool* pool_ = nullptr;
	std::unique_ptr<pqxx::connection> connection_;
	bool discard_ = false;
};

class Pool {
public:
	struct Stats {
		std::size_t capacity = 0;
		std::size_t open = 0; // idle + leased + being opened
		std::size_t idle = 0;
	};

	// Throws std::invalid_argument when options.conninfo is not a valid libpq connection string (the message
	// does not quote it) or options.size is 0. Opens no connection.
	Pool(PoolOptions options, spdlog::logger& logger);
	// Closes idle connections; every Lease must have been destroyed before.
	~Pool();

	Pool(const Pool&) = delete;
	Pool& operator=(const Pool&) = delete;

	// Waits up to `timeout` for a free slot; opening a new connection in that slot is bounded separately by
	// connect_timeout. Throws PoolError.
	Lease Acquire(std::chrono::milliseconds timeout);

	// Refuses new Acquires, waits up to `grace` for outstanding leases to come back, then closes every idle
	// connection. Leases returned later are closed on return. Idempotent.
	void Close(std::chrono::milliseconds grace);

	Stats GetStats() const;

	// `text` with the connection string and the password (if DATABASE_URL has one) replaced by "***".
	std::string Scrub(std::string text) const;

private:
	friend class Lease;

	std::unique_ptr<pqxx::connection> Connect();
	void Release(std::unique_ptr<pqxx::connection> connection, bool discard) noexcept;
	bool IsUsable(pqxx::connection& connection) noexcept;

	const std::size_t capacity_;
	std::string conninfo_;          // normalised (key='value' form); secret
	std::string original_conninfo_; // as configured; secret, kept only for scrubbing
	std::string password_;          // from conninfo, if any; secret, kept only for scrubbing
	spdlog::logger& logger_;

	mutable std::mutex mutex_;
	std::condition_variable changed_; // a slot freed, a connection returned, or the pool closed
	std::vector<std::unique_ptr<pqxx::connection>> idle_;
	std::size_t open_ = 0;
	bool closed_ = false;
};

} // namespace balatrix::sidecar::db
