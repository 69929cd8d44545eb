#include "db/pool.hpp"

#include <libpq-fe.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cctype>
#include <cerrno>
#include <optional>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>
#include <pqxx/except>

#include "log.hpp"

namespace balatrix::sidecar::db {
namespace {

struct NormalisedConninfo {
	std::string conninfo;
	std::string password;
};

void
AppendOption(std::string& out, std::string_view keyword, std::string_view value)
{
	if (!out.empty())
		out += ' ';
	out += keyword;
	out += "='";
	for (const char c : value) {
		if (c == '\'' || c == '\\')
			out += '\\';
		out += c;
	}
	out += '\'';
}

// Parses a URI or key=value connection string with libpq's own parser and re-emits it in key='value' form
// with our defaults added. Doing it this way (rather than appending "?connect_timeout=3" or
// " connect_timeout=3" to the text) is correct for both syntaxes, never duplicates a setting the operator
// chose, and yields the password so error messages can be scrubbed of it.
std::optional<NormalisedConninfo>
Normalise(const std::string& conninfo, std::chrono::seconds connect_timeout, const std::string& application_name)
{
	char* error = nullptr;
	std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(conninfo.c_str(), &error),
	                                                                     &PQconninfoFree);
	// libpq's parse error can quote fragments of the string, password included: it is dropped, not reported.
	if (error != nullptr)
		PQfreemem(error);
	if (!options)
		return std::nullopt;

	NormalisedConninfo result;
	bool has_connect_timeout = false;
	bool has_fallback_application_name = false;
	for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
		if (option->val == nullptr)
			continue;
		const std::string_view keyword(option->keyword);
		if (keyword == "password")
			result.password = option->val;
		else if (keyword == "connect_timeout")
			has_connect_timeout = true;
		else if (keyword == "fallback_application_name")
			has_fallback_application_name = true;
		AppendOption(result.conninfo, keyword, option->val);
	}
	if (!has_connect_timeout)
		AppendOption(result.conninfo, "connect_timeout", std::to_string(connect_timeout.count()));
	if (!has_fallback_application_name)
		AppendOption(result.conninfo, "fallback_application_name", application_name);
	return result;
}

// libpq messages span lines ("...failed: Connection refused\n\tIs the server running..."): one line reads
// better in a JSON log and an exception message.
std::string
OneLine(std::string_view text)
{
	std::string out;
	bool pending_space = false;
	for (const char c : text) {
		if (std::isspace(static_cast<unsigned char>(c)) != 0) {
			pending_space = !out.empty();
			continue;
		}
		if (pending_space)
			out += ' ';
		pending_space = false;
		out += c;
	}
	return out;
}

void
ReplaceAll(std::string& text, const std::string& needle, std::string_view replacement)
{
	if (needle.empty())
		return;
	for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + replacement.size()))
		text.replace(at, needle.size(), replacement);
}

// libpqxx 6 reconnects a broken connection behind the caller's back when the next transaction starts. The
// pool must see the break instead (to count and replace the connection, and because a new session silently
// loses whatever the old one had set), so reactivation is switched off. The API is deprecated in 6.x and gone
// in 7.x, where connections never reactivate: this keeps 6.4 behaving like the future.
void
DisableReactivation(pqxx::connection& connection)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	connection.inhibit_reactivation(true);
#pragma GCC diagnostic pop
}

} // namespace

// ---- Lease ------------------------------------------------------------------------------------------------

Lease::Lease(Pool* pool, std::unique_ptr<pqxx::connection> connection) noexcept
	: pool_(pool), connection_(std::move(connection))
{
}

Lease::Lease(Lease&& other) noexcept
	: pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)),
	  discard_(std::exchange(other.discard_, false))
{
}

Lease&
Lease::operator=(Lease&& other) noexcept
{
	if (this != &other) {
		Return();
		pool_ = std::exchange(other.pool_, nullptr);
		connection_ = std::move(other.connection_);
		discard_ = std::exchange(other.discard_, false);
	}
	return *this;
}

Lease::~Lease()
{
	Return();
}

void
Lease::Return() noexcept
{
	if (pool_ != nullptr && connection_)
		pool_->Release(std::move(connection_), discard_);
	pool_ = nullptr;
	connection_.reset();
	discard_ = false;
}

// ---- Pool -------------------------------------------------------------------------------------------------

Pool::Pool(PoolOptions options, spdlog::logger& logger) : capacity_(options.size), logger_(logger)
{
	if (capacity_ == 0)
		throw std::invalid_argument("database pool size must be at least 1");
	auto normalised = Normalise(options.conninfo, options.connect_timeout, options.application_name);
	if (!normalised) {
		throw std::invalid_argument("DATABASE_URL is not a valid PostgreSQL connection string (expected "
		                            "postgresql://user@host:port/dbname or key=value pairs)");
	}
	conninfo_ = std::move(normalised->conninfo);
	password_ = std::move(normalised->password);
	original_conninfo_ = std::move(options.conninfo);
	idle_.reserve(capacity_);
}

Pool::~Pool()
{
	Close(std::chrono::milliseconds(0));
}

Lease
Pool::Acquire(std::chrono::milliseconds timeout)
{
	const auto deadline = std::chrono::steady_clock::now() + timeout;
	std::unique_lock lock(mutex_);
	for (;;) {
		if (closed_)
			throw PoolError(PoolError::Kind::kClosed, "database pool is closed");

		if (!idle_.empty()) {
			auto connection = std::move(idle_.back());
			idle_.pop_back();
			lock.unlock();
			if (IsUsable(*connection))
				return Lease(this, std::move(connection));
			connection.reset(); // closes the socket, outside the lock
			LogEvent(logger_, LogLevel::kInfo, "db_connection_discarded", {{"reason", "closed while idle"}});
			lock.lock();
			--open_;
			changed_.notify_all();
			continue;
		}

		if (open_ < capacity_) {
			++open_; // reserve the slot, then connect without holding the lock (this can take connect_timeout)
			lock.unlock();
			try {
				return Lease(this, Connect());
			} catch (...) {
				lock.lock();
				--open_;
				changed_.notify_all();
				throw;
			}
		}

		const bool woken =
			changed_.wait_until(lock, deadline, [this] { return closed_ || !idle_.empty() || open_ < capacity_; });
		if (!woken) {
			throw PoolError(PoolError::Kind::kTimeout, "timed out after " + std::to_string(timeout.count()) +
			                                               " ms waiting for a free database connection (pool size " +
			                                               std::to_string(capacity_) + ")");
		}
	}
}

void
Pool::Close(std::chrono::milliseconds grace)
{
	std::vector<std::unique_ptr<pqxx::connection>> closing;
	{
		std::unique_lock lock(mutex_);
		closed_ = true;
		changed_.notify_all();
		changed_.wait_for(lock, grace, [this] { return open_ == idle_.size(); });
		closing.swap(idle_);
		open_ -= closing.size();
	}
	// Destroying the connections sends libpq's Terminate message; done outside the lock.
	closing.clear();
}

Pool::Stats
Pool::GetStats() const
{
	std::lock_guard lock(mutex_);
	return Stats{capacity_, open_, idle_.size()};
}

std::string
Pool::Scrub(std::string text) const
{
	ReplaceAll(text, original_conninfo_, "***");
	ReplaceAll(text, conninfo_, "***");
	ReplaceAll(text, password_, "***");
	return text;
}

std::unique_ptr<pqxx::connection>
Pool::Connect()
{
	try {
		auto connection = std::make_unique<pqxx::connection>(conninfo_);
		DisableReactivation(*connection);
		LogEvent(logger_, LogLevel::kDebug, "db_connection_opened",
		         {{"backend_pid", connection->backendpid()}, {"server_version", connection->server_version()}});
		return connection;
	} catch (const std::exception& e) {
		std::string message = Scrub(OneLine(e.what()));
		LogEvent(logger_, LogLevel::kWarn, "db_connect_failed", {{"error", message}});
		throw PoolError(PoolError::Kind::kConnectFailed, "could not connect to the database: " + message);
	}
}

void
Pool::Release(std::unique_ptr<pqxx::connection> connection, bool discard) noexcept
{
	const bool reusable = !discard && connection->is_open();
	{
		std::lock_guard lock(mutex_);
		if (reusable && !closed_)
			idle_.push_back(std::move(connection));
		else
			--open_;
		changed_.notify_all();
	}
	if (connection) {
		connection.reset(); // outside the lock
		if (!reusable)
			LogEvent(logger_, LogLevel::kInfo, "db_connection_discarded",
			         {{"reason", discard ? "discarded by its user" : "broken"}});
	}
}

bool
Pool::IsUsable(pqxx::connection& connection) noexcept
{
	if (!connection.is_open())
		return false;
	// A backend that was terminated while its connection sat idle (restart, pg_terminate_backend, idle
	// timeout) leaves a FATAL message and then EOF on the socket, and libpq notices neither until the next
	// query fails. get_notifs() consumes whatever arrived (libpq files an idle-time error as a notice); a
	// non-blocking MSG_PEEK then sees the EOF without taking any byte libpq might need. Cost: two recv()s.
	// A FIN still in flight is missed (the first query then fails and the lease is discarded): unavoidable.
	try {
		connection.get_notifs();
	} catch (const std::exception&) {
		return false;
	}
	if (!connection.is_open())
		return false;
	const int fd = connection.sock();
	if (fd < 0)
		return false;
	char byte = 0;
	const ssize_t peeked = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (peeked == 0)
		return false; // orderly shutdown by the server
	if (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return false; // reset or otherwise failed socket
	return true;
}

} // namespace balatrix::sidecar::db
