// Shared test doubles: a log sink that keeps lines for inspection, a scriptable DatabaseProbe (which can also
// hold calls until released, to keep a request in flight deterministically, or throw), and a real HTTP server
// (the production Router + Server) on an ephemeral loopback port.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include "http/health_handler.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "log.hpp"
#include "service/database_probe.hpp"
#include "service/health_service.hpp"
#include "service/lifecycle.hpp"

namespace balatrix::sidecar::testing {

// Keeps every formatted line. Thread-safe: the server logs from its worker threads.
class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
	std::vector<std::string>
	Lines()
	{
		std::lock_guard<std::mutex> lock(mutex_);
		return lines_;
	}

	// The parsed log lines whose "msg" is `event`.
	std::vector<nlohmann::json>
	Events(const std::string& event)
	{
		std::vector<nlohmann::json> events;
		for (const auto& line : Lines()) {
			const auto parsed = nlohmann::json::parse(line, nullptr, false);
			if (parsed.is_object() && parsed.value("msg", "") == event)
				events.push_back(parsed);
		}
		return events;
	}

	// Polls for a matching line: the server logs a request after it has sent the response, so the client can
	// see the response first.
	template <typename Predicate>
	std::vector<nlohmann::json>
	WaitForEvents(const std::string& event, Predicate predicate,
	              std::chrono::milliseconds timeout = std::chrono::seconds(3))
	{
		const auto deadline = std::chrono::steady_clock::now() + timeout;
		for (;;) {
			std::vector<nlohmann::json> matching;
			for (auto& candidate : Events(event)) {
				if (predicate(candidate))
					matching.push_back(std::move(candidate));
			}
			if (!matching.empty() || std::chrono::steady_clock::now() >= deadline)
				return matching;
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
		}
	}

protected:
	void
	sink_it_(const spdlog::details::log_msg& msg) override
	{
		spdlog::memory_buf_t formatted;
		formatter_->format(msg, formatted);
		lines_.emplace_back(formatted.data(), formatted.size());
		if (!lines_.back().empty() && lines_.back().back() == '\n')
			lines_.back().pop_back();
	}

	void
	flush_() override
	{
	}

private:
	std::vector<std::string> lines_;
};

// Returns whatever result the test set last. Thread-safe: Check runs on server threads.
//
// Hold() makes every later Check wait until Release(), so a request to /health/ready stays in flight for as
// long as the test wants; WaitForHeld() tells when a call has arrived. ThrowNonStandard() makes Check throw
// something that is not a std::exception: HealthService converts only std::exception into "not ready", so
// this escapes the handler and exercises the router's last line of defence.
class FakeDatabaseProbe final : public service::DatabaseProbe {
public:
	struct NonStandardException {};

	void
	Set(service::ProbeResult result)
	{
		std::lock_guard lock(mutex_);
		result_ = std::move(result);
	}

	int
	calls()
	{
		std::lock_guard lock(mutex_);
		return calls_;
	}

	void
	Hold()
	{
		std::lock_guard lock(mutex_);
		holding_ = true;
	}

	void
	Release()
	{
		{
			std::lock_guard lock(mutex_);
			holding_ = false;
		}
		changed_.notify_all();
	}

	// True once `count` calls are waiting in Check; false after `timeout` (the test then fails, not hangs).
	bool
	WaitForHeld(int count, std::chrono::milliseconds timeout = std::chrono::seconds(10))
	{
		std::unique_lock lock(mutex_);
		return changed_.wait_for(lock, timeout, [&] { return held_ >= count; });
	}

	void
	ThrowNonStandard(bool enabled)
	{
		std::lock_guard lock(mutex_);
		throw_ = enabled;
	}

	service::ProbeResult
	Check() override
	{
		std::unique_lock lock(mutex_);
		++calls_;
		if (holding_) {
			++held_;
			changed_.notify_all();
			changed_.wait(lock, [this] { return !holding_; });
			--held_;
		}
		if (throw_)
			throw NonStandardException{};
		return result_;
	}

	static service::ProbeResult
	Healthy(std::string extension_version = "0.1.0")
	{
		service::ProbeResult result;
		result.ok = true;
		result.latency = std::chrono::microseconds(1234);
		result.server_version = "15.20 (test)";
		result.extension_version = std::move(extension_version);
		return result;
	}

	static service::ProbeResult
	Unreachable()
	{
		service::ProbeResult result;
		result.ok = false;
		result.latency = std::chrono::microseconds(42);
		result.error = "could not connect to the database";
		return result;
	}

private:
	std::mutex mutex_;
	std::condition_variable changed_;
	service::ProbeResult result_ = Healthy();
	int calls_ = 0;
	bool holding_ = false;
	int held_ = 0;
	bool throw_ = false;
};

inline constexpr const char* kTestVersion = "9.8.7-test";

// What a TestServer is built with besides the production routes.
struct TestServerOptions {
	std::size_t max_body_bytes = 4096;
	http::CorsOptions cors;
	http::SecurityHeaderOptions security;
	// Called with the router before it starts serving, to add probe routes (Router::Add).
	std::function<void(http::Router&)> extra_routes;
};

// The production object graph minus the database, serving on 127.0.0.1:<ephemeral>.
class TestServer {
public:
	explicit TestServer(std::size_t max_body_bytes = 4096) : TestServer(WithBodyLimit(max_body_bytes)) {}

	explicit TestServer(TestServerOptions options)
		: sink_(std::make_shared<CaptureSink>()), logger_(MakeJsonLogger("test", LogLevel::kDebug, sink_)),
		  health_(probe_, lifecycle_, kTestVersion), health_handler_(health_),
		  router_(http::Handlers{health_handler_}, RouterOptionsOf(options), lifecycle_, *logger_),
		  server_(Options(options.max_body_bytes), HttpHandler(router_, options))
	{
		server_.Start();
	}

	~TestServer()
	{
		// A held probe call blocks a worker thread, and Shutdown joins the workers.
		probe_.Release();
		server_.Shutdown();
	}

	std::string
	Url(const std::string& path) const
	{
		return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
	}

	unsigned short
	port() const
	{
		return server_.port();
	}

	FakeDatabaseProbe&
	probe()
	{
		return probe_;
	}

	service::Lifecycle&
	lifecycle()
	{
		return lifecycle_;
	}

	CaptureSink&
	log()
	{
		return *sink_;
	}

private:
	static TestServerOptions
	WithBodyLimit(std::size_t max_body_bytes)
	{
		TestServerOptions options;
		options.max_body_bytes = max_body_bytes;
		return options;
	}

	static http::RouterOptions
	RouterOptionsOf(const TestServerOptions& options)
	{
		http::RouterOptions router;
		router.max_body_bytes = options.max_body_bytes;
		router.cors = options.cors;
		router.security = options.security;
		return router;
	}

	// Runs in the member initialiser list, after router_ exists and before the server takes its handler.
	static std::shared_ptr<Pistache::Http::Handler>
	HttpHandler(http::Router& router, const TestServerOptions& options)
	{
		if (options.extra_routes)
			options.extra_routes(router);
		return router.MakeHttpHandler();
	}

	static http::ServerOptions
	Options(std::size_t max_body_bytes)
	{
		http::ServerOptions options;
		options.address = "127.0.0.1";
		options.port = 0;
		options.threads = 2;
		options.max_body_bytes = max_body_bytes;
		return options;
	}

	std::shared_ptr<CaptureSink> sink_;
	std::shared_ptr<spdlog::logger> logger_;
	// Before the router and the server: the server's threads count requests in it until they are joined.
	service::Lifecycle lifecycle_;
	FakeDatabaseProbe probe_;
	service::HealthService health_;
	http::HealthHandler health_handler_;
	http::Router router_;
	http::Server server_;
};

} // namespace balatrix::sidecar::testing
