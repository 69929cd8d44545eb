// The libpqxx pool and PgProbe against a real PostgreSQL. Runs only when BALATRIX_TEST_DATABASE_URL is set
// (a libpq URI or key=value string); skipped otherwise. The extension-version assertion additionally needs
// BALATRIX_TEST_EXPECT_EXTENSION=1 (the balatrix extension installed in that database).
#include "db/pool.hpp"

#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pqxx/nontransaction>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include "db/pg_probe.hpp"
#include "test_support.hpp"

namespace balatrix::sidecar::db {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::optional<std::string>
TestDatabaseUrl()
{
	const char* url = std::getenv("BALATRIX_TEST_DATABASE_URL");
	if (url == nullptr || *url == '\0')
		return std::nullopt;
	return std::string(url);
}

int
BackendPid(Lease& lease)
{
	pqxx::nontransaction tx(*lease);
	return tx.exec1("SELECT pg_catalog.pg_backend_pid()")[0].as<int>();
}

class PoolTest : public ::testing::Test {
protected:
	void
	SetUp() override
	{
		url_ = TestDatabaseUrl();
		if (!url_)
			GTEST_SKIP() << "BALATRIX_TEST_DATABASE_URL is not set";
	}

	std::unique_ptr<Pool>
	MakePool(std::size_t size)
	{
		return std::make_unique<Pool>(PoolOptions{*url_, size, std::chrono::seconds(3), "balatrix-sidecar-test"},
		                              *logger_);
	}

	std::optional<std::string> url_;
	std::shared_ptr<testing::CaptureSink> sink_ = std::make_shared<testing::CaptureSink>();
	std::shared_ptr<spdlog::logger> logger_ = MakeJsonLogger("test", LogLevel::kDebug, sink_);
};

// Needs no database: construction never connects.
TEST(PoolOffline, InvalidConnectionStringIsRejectedWithoutQuotingIt)
{
	auto logger = MakeJsonLogger("test", LogLevel::kOff, std::make_shared<spdlog::sinks::null_sink_mt>());
	try {
		Pool pool(PoolOptions{"host=x password=hunter2-secret bogus_option=1", 2}, *logger);
		FAIL() << "expected std::invalid_argument";
	} catch (const std::invalid_argument& e) {
		EXPECT_THAT(e.what(), HasSubstr("DATABASE_URL"));
		EXPECT_THAT(e.what(), Not(HasSubstr("hunter2")));
	}
}

TEST(PoolOffline, ConnectFailureIsAPoolErrorWithTheSecretsScrubbed)
{
	auto sink = std::make_shared<testing::CaptureSink>();
	auto logger = MakeJsonLogger("test", LogLevel::kDebug, sink);
	// Port 1 on loopback: nothing listens, the connection is refused at once.
	Pool pool(PoolOptions{"postgresql://someone:hunter2-secret@127.0.0.1:1/none", 2}, *logger);
	try {
		pool.Acquire(std::chrono::milliseconds(500));
		FAIL() << "expected PoolError";
	} catch (const PoolError& e) {
		EXPECT_EQ(e.kind(), PoolError::Kind::kConnectFailed);
		EXPECT_THAT(e.what(), HasSubstr("could not connect"));
		EXPECT_THAT(e.what(), Not(HasSubstr("hunter2")));
	}
	EXPECT_EQ(pool.GetStats().open, 0u) << "a failed connect must give its slot back";
	ASSERT_EQ(sink->Events("db_connect_failed").size(), 1u);
	for (const auto& line : sink->Lines())
		EXPECT_THAT(line, Not(HasSubstr("hunter2")));
}

TEST(PoolOffline, ScrubRemovesThePasswordInBothSyntaxes)
{
	auto logger = MakeJsonLogger("test", LogLevel::kOff, std::make_shared<spdlog::sinks::null_sink_mt>());
	Pool uri(PoolOptions{"postgresql://u:pa55-word@db.example:5432/x", 1}, *logger);
	EXPECT_EQ(uri.Scrub("auth failed for pa55-word at db.example"), "auth failed for *** at db.example");
	Pool keyword(PoolOptions{"host=db.example password='pa55 word' dbname=x", 1}, *logger);
	EXPECT_EQ(keyword.Scrub("x pa55 word y"), "x *** y");
}

TEST(PoolOffline, ClosedPoolRefusesAcquire)
{
	auto logger = MakeJsonLogger("test", LogLevel::kOff, std::make_shared<spdlog::sinks::null_sink_mt>());
	Pool pool(PoolOptions{"host=127.0.0.1 port=1", 1}, *logger);
	pool.Close(std::chrono::milliseconds(0));
	try {
		pool.Acquire(std::chrono::milliseconds(10));
		FAIL() << "expected PoolError";
	} catch (const PoolError& e) {
		EXPECT_EQ(e.kind(), PoolError::Kind::kClosed);
	}
}

TEST_F(PoolTest, AcquireRunsQueriesAndReleaseReusesTheConnection)
{
	auto pool = MakePool(2);
	int first_pid = 0;
	{
		Lease lease = pool->Acquire(std::chrono::milliseconds(2000));
		first_pid = BackendPid(lease);
		EXPECT_GT(first_pid, 0);
		pqxx::nontransaction tx(*lease);
		EXPECT_EQ(tx.exec1("SELECT pg_catalog.current_setting('application_name')")[0].as<std::string>(),
		          "balatrix-sidecar-test");
	}
	EXPECT_EQ(pool->GetStats().open, 1u);
	EXPECT_EQ(pool->GetStats().idle, 1u);
	Lease again = pool->Acquire(std::chrono::milliseconds(2000));
	EXPECT_EQ(BackendPid(again), first_pid) << "an idle connection is reused, not reopened";
}

TEST_F(PoolTest, ConnectionsAreOpenedLazily)
{
	auto pool = MakePool(3);
	EXPECT_EQ(pool->GetStats().open, 0u);
	Lease lease = pool->Acquire(std::chrono::milliseconds(2000));
	EXPECT_EQ(pool->GetStats().open, 1u);
}

TEST_F(PoolTest, SizeIsABoundAndAcquireTimesOut)
{
	auto pool = MakePool(2);
	Lease a = pool->Acquire(std::chrono::milliseconds(2000));
	Lease b = pool->Acquire(std::chrono::milliseconds(2000));
	EXPECT_NE(BackendPid(a), BackendPid(b)) << "two leases never share a connection";

	const auto started = std::chrono::steady_clock::now();
	try {
		pool->Acquire(std::chrono::milliseconds(150));
		FAIL() << "a third lease on a pool of 2 must time out";
	} catch (const PoolError& e) {
		EXPECT_EQ(e.kind(), PoolError::Kind::kTimeout);
	}
	const auto waited = std::chrono::steady_clock::now() - started;
	EXPECT_GE(waited, std::chrono::milliseconds(140));
	EXPECT_LT(waited, std::chrono::milliseconds(2000));
	EXPECT_EQ(pool->GetStats().open, 2u);
}

TEST_F(PoolTest, AWaiterGetsTheConnectionWhenALeaseIsReturned)
{
	auto pool = MakePool(1);
	std::optional<Lease> held(pool->Acquire(std::chrono::milliseconds(2000)));
	const int pid = BackendPid(*held);
	std::thread releaser([&held] {
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
		held.reset();
	});
	Lease waited = pool->Acquire(std::chrono::milliseconds(3000));
	releaser.join();
	EXPECT_EQ(BackendPid(waited), pid);
}

TEST_F(PoolTest, BrokenConnectionIsDiscardedAndReplaced)
{
	auto pool = MakePool(1);
	int old_pid = 0;
	{
		Lease lease = pool->Acquire(std::chrono::milliseconds(2000));
		old_pid = BackendPid(lease);
		pqxx::nontransaction tx(*lease);
		EXPECT_ANY_THROW(tx.exec("SELECT pg_catalog.pg_terminate_backend(pg_catalog.pg_backend_pid())"));
		// Returned without Discard(): the pool itself must notice.
	}
	Lease fresh = pool->Acquire(std::chrono::milliseconds(2000));
	const int new_pid = BackendPid(fresh);
	EXPECT_NE(new_pid, old_pid);
	EXPECT_EQ(pool->GetStats().open, 1u);
	EXPECT_FALSE(sink_->Events("db_connection_discarded").empty());
}

TEST_F(PoolTest, IdleConnectionKilledFromOutsideIsDetectedAtAcquire)
{
	auto pool = MakePool(2);
	int victim_pid = 0;
	{
		Lease victim = pool->Acquire(std::chrono::milliseconds(2000));
		victim_pid = BackendPid(victim);
	} // back to idle
	{
		// Kill it from a second connection while it sits idle in the pool.
		Pool killer_pool(PoolOptions{*url_, 1}, *logger_);
		Lease killer = killer_pool.Acquire(std::chrono::milliseconds(2000));
		pqxx::nontransaction tx(*killer);
		EXPECT_TRUE(tx.exec_params1("SELECT pg_catalog.pg_terminate_backend($1)", victim_pid)[0].as<bool>());
	}
	// The server closes the socket asynchronously; give it a moment to arrive.
	std::this_thread::sleep_for(std::chrono::milliseconds(200));
	Lease lease = pool->Acquire(std::chrono::milliseconds(2000));
	EXPECT_NE(BackendPid(lease), victim_pid) << "the dead idle connection must not be handed out";
}

TEST_F(PoolTest, DiscardedLeaseIsClosed)
{
	auto pool = MakePool(1);
	int pid = 0;
	{
		Lease lease = pool->Acquire(std::chrono::milliseconds(2000));
		pid = BackendPid(lease);
		lease.Discard();
	}
	EXPECT_EQ(pool->GetStats().open, 0u);
	Lease lease = pool->Acquire(std::chrono::milliseconds(2000));
	EXPECT_NE(BackendPid(lease), pid);
}

TEST_F(PoolTest, CloseWaitsForLeasesThenClosesEverything)
{
	auto pool = MakePool(2);
	std::optional<Lease> held(pool->Acquire(std::chrono::milliseconds(2000)));
	{
		Lease idle = pool->Acquire(std::chrono::milliseconds(2000));
	}
	std::thread releaser([&held] {
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
		held.reset();
	});
	pool->Close(std::chrono::milliseconds(3000));
	releaser.join();
	EXPECT_EQ(pool->GetStats().open, 0u);
	EXPECT_EQ(pool->GetStats().idle, 0u);
}

TEST_F(PoolTest, ProbeReportsServerVersion)
{
	auto pool = MakePool(1);
	PgProbe probe(*pool, std::chrono::milliseconds(2000), *logger_);
	const service::ProbeResult result = probe.Check();
	ASSERT_TRUE(result.ok) << result.error;
	EXPECT_THAT(result.server_version, ::testing::MatchesRegex("^[0-9]+\\.[0-9]+.*"));
	EXPECT_GT(result.latency.count(), 0);

	const char* expect_extension = std::getenv("BALATRIX_TEST_EXPECT_EXTENSION");
	if (expect_extension != nullptr && std::string(expect_extension) == "1") {
		ASSERT_TRUE(result.extension_version.has_value()) << "balatrix is not installed in the test database";
		EXPECT_THAT(*result.extension_version, ::testing::MatchesRegex("^[0-9]+\\.[0-9]+\\.[0-9]+.*"));
	}
}

TEST_F(PoolTest, ProbeReportsATimeoutWhenThePoolIsExhausted)
{
	auto pool = MakePool(1);
	Lease hog = pool->Acquire(std::chrono::milliseconds(2000));
	PgProbe probe(*pool, std::chrono::milliseconds(50), *logger_);
	const service::ProbeResult result = probe.Check();
	EXPECT_FALSE(result.ok);
	EXPECT_EQ(result.error, "timed out waiting for a free database connection");
}

TEST(PgProbeOffline, UnreachableDatabaseIsAFailedProbeWithAClientSafeReason)
{
	auto logger = MakeJsonLogger("test", LogLevel::kOff, std::make_shared<spdlog::sinks::null_sink_mt>());
	Pool pool(PoolOptions{"postgresql://someone:hunter2-secret@127.0.0.1:1/none", 1}, *logger);
	PgProbe probe(pool, std::chrono::milliseconds(500), *logger);
	const service::ProbeResult result = probe.Check();
	EXPECT_FALSE(result.ok);
	EXPECT_EQ(result.error, "could not connect to the database");
	EXPECT_THAT(result.error, Not(HasSubstr("127.0.0.1")));
}

} // namespace
} // namespace balatrix::sidecar::db
