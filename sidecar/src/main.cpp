/*
 * balatrix-sidecar: the composition root. It reads the configuration, builds the object graph bottom-up
 * (logger -> pool -> probe -> services -> handlers -> router -> server), serves, and shuts down on SIGTERM or
 * SIGINT. Nothing else belongs here.
 *
 * Exit codes: 0 after a clean shutdown, 2 for invalid configuration, 1 for any other startup failure.
 */
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "db/pg_probe.hpp"
#include "db/pool.hpp"
#include "http/health_handler.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "log.hpp"
#include "service/health_service.hpp"

#ifndef BALATRIX_VERSION
#error "BALATRIX_VERSION must be defined by the build (from balatrix.control)"
#endif

namespace {

using balatrix::sidecar::LogEvent;
using balatrix::sidecar::LogLevel;
using nlohmann::json;

constexpr const char* kProgram = "balatrix-sidecar";
constexpr int kExitConfig = 2;
constexpr int kExitFailure = 1;
// How long shutdown waits for leased database connections to come back before closing them anyway.
constexpr std::chrono::milliseconds kPoolDrainGrace{5000};

sigset_t
HandledSignals()
{
	sigset_t signals;
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	return signals;
}

const char*
SignalName(int signal_number)
{
	switch (signal_number) {
	case SIGTERM:
		return "SIGTERM";
	case SIGINT:
		return "SIGINT";
	case SIGHUP:
		return "SIGHUP";
	default:
		return "unknown";
	}
}

int
Run(const balatrix::sidecar::Config& config, spdlog::logger& logger, const sigset_t& signals)
{
	namespace sidecar = balatrix::sidecar;

	std::unique_ptr<sidecar::db::Pool> pool_holder;
	try {
		pool_holder = std::make_unique<sidecar::db::Pool>(
			sidecar::db::PoolOptions{config.database_url, config.db_pool_size, std::chrono::seconds(3), kProgram},
			logger);
	} catch (const std::invalid_argument& e) {
		// libpq cannot parse DATABASE_URL: a configuration error, reported like the others.
		std::fprintf(stderr, "%s: %s\n", kProgram, e.what());
		LogEvent(logger, LogLevel::kCritical, "invalid_configuration", json{{"error", e.what()}});
		return kExitConfig;
	}
	sidecar::db::Pool& pool = *pool_holder;
	sidecar::db::PgProbe probe(pool, config.db_pool_timeout, logger);

	sidecar::service::HealthService health(probe, BALATRIX_VERSION);

	sidecar::http::HealthHandler health_handler(health);

	sidecar::http::Router router(sidecar::http::Handlers{health_handler},
	                             sidecar::http::RouterOptions{config.max_body_bytes}, logger);

	sidecar::http::ServerOptions server_options;
	server_options.address = config.listen_address;
	server_options.port = config.port;
	server_options.threads = config.threads;
	server_options.max_body_bytes = config.max_body_bytes;
	sidecar::http::Server server(server_options, router.MakeHttpHandler());
	try {
		server.Start();
	} catch (const std::exception& e) {
		LogEvent(logger, LogLevel::kCritical, "listen_failed", json{{"error", e.what()}});
		return kExitFailure;
	}
	LogEvent(logger, LogLevel::kInfo, "listening",
	         json{{"address", config.listen_address}, {"port", server.port()}, {"threads", config.threads}});

	// Not fatal either way: the sidecar serves /health while the database comes up, and /health/ready says
	// when it is usable. Logged so a misconfigured DATABASE_URL shows up at startup, not at the first request.
	const sidecar::service::Readiness readiness = health.Ready();
	json readiness_fields{{"ready", readiness.ready}};
	if (!readiness.ready)
		readiness_fields["reason"] = readiness.reason;
	LogEvent(logger, readiness.ready ? LogLevel::kInfo : LogLevel::kWarn, "startup_readiness", readiness_fields);

	for (;;) {
		int signal_number = 0;
		if (sigwait(&signals, &signal_number) != 0)
			continue;
		if (signal_number == SIGHUP) {
			// Configuration is read once; there is nothing to reload yet. Ignoring SIGHUP (rather than dying by
			// its default action) keeps a closed terminal or a reload-happy supervisor from stopping the service.
			LogEvent(logger, LogLevel::kInfo, "signal_ignored", json{{"signal", SignalName(signal_number)}});
			continue;
		}
		LogEvent(logger, LogLevel::kInfo, "shutting_down", json{{"signal", SignalName(signal_number)}});
		break;
	}

	server.Shutdown();
	pool.Close(kPoolDrainGrace);
	LogEvent(logger, LogLevel::kInfo, "stopped");
	return 0;
}

} // namespace

int
main()
{
	namespace sidecar = balatrix::sidecar;

	sidecar::ConfigResult result = sidecar::Config::FromEnv(sidecar::ProcessEnvironment());
	if (const auto* problems = std::get_if<std::vector<sidecar::ConfigProblem>>(&result)) {
		for (const auto& problem : *problems)
			std::fprintf(stderr, "%s: %s\n", kProgram, problem.message.c_str());
		return kExitConfig;
	}
	const auto& config = std::get<sidecar::Config>(result);

	const auto logger = sidecar::MakeStdoutJsonLogger(kProgram, config.log_level);
	LogEvent(*logger, LogLevel::kInfo, "starting", json{{"version", BALATRIX_VERSION}, {"config", config.Redacted()}});

	// Before any thread exists (the pool and the logger start none; Pistache starts its workers in
	// Server::Start): every thread inherits this mask, so SIGTERM/SIGINT/SIGHUP are delivered only to sigwait
	// below instead of killing the process from an arbitrary thread. SIGPIPE is ignored because a client that
	// hangs up mid-response must cost one write error, not the process.
	const sigset_t signals = HandledSignals();
	pthread_sigmask(SIG_BLOCK, &signals, nullptr);
	signal(SIGPIPE, SIG_IGN);

	try {
		return Run(config, *logger, signals); // every line is flushed as it is written
	} catch (const std::exception& e) {
		LogEvent(*logger, LogLevel::kCritical, "fatal", json{{"error", e.what()}});
		return kExitFailure;
	}
}
