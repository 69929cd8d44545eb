/*
 * balatrix-sidecar: the composition root. It reads the configuration, builds the object graph bottom-up
 * (logger -> lifecycle -> pool -> probe -> services -> handlers -> router -> server), serves, and shuts down
 * gracefully on SIGTERM or SIGINT. Nothing else belongs here.
 *
 * Shutdown: the first SIGTERM/SIGINT starts draining (service::Lifecycle): /health/ready answers 503 "shutting
 * down", every other request is still served but answered with Connection: close. The wait ends when no request
 * is in flight, after SHUTDOWN_GRACE_MS, or at a second SIGTERM/SIGINT; then the endpoint stops, the database
 * pool closes, `stopped` is logged and the process exits 0. If requests were still in flight (grace expired or
 * second signal) the exit is immediate: see the comment at the end of Run.
 *
 * Exit codes: 0 after a shutdown (drained or not), 2 for invalid configuration, 1 for any other startup failure.
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string_view>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "api/metrics_routes.hpp"
#include "api/openapi.hpp"
#include "api/registry.hpp"
#include "clock.hpp"
#include "config.hpp"
#include "crypto/jwt.hpp"
#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "crypto/totp.hpp"
#include "db/pg_probe.hpp"
#include "db/pool.hpp"
#include "http/health_handler.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "log.hpp"
#include "service/health_service.hpp"
#include "service/lifecycle.hpp"

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
// While draining, how often the wait for idleness looks for a second signal. Idleness itself ends the wait at
// once (a condition variable); only the reaction to a second signal lags by up to this much.
constexpr std::chrono::milliseconds kSignalPollInterval{50};

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

// Blocks until SIGTERM or SIGINT arrives and returns it; SIGHUP is logged and ignored.
int
WaitForStopSignal(const sigset_t& signals, spdlog::logger& logger)
{
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
		return signal_number;
	}
}

// Waits until no request is in flight, `grace` has passed, or a second SIGTERM/SIGINT arrives, whichever is
// first. sigwait cannot also wait on a condition variable, so the wait is cut into kSignalPollInterval slices
// with a non-blocking look at the pending signals between them (they stay blocked, so none is lost).
void
Drain(const balatrix::sidecar::service::Lifecycle& lifecycle, std::chrono::milliseconds grace, const sigset_t& signals,
      spdlog::logger& logger)
{
	using std::chrono::steady_clock;
	const auto deadline = steady_clock::now() + grace;
	for (;;) {
		const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady_clock::now());
		if (lifecycle.WaitUntilIdle(std::min(left, kSignalPollInterval)) || steady_clock::now() >= deadline)
			return;
		const timespec no_wait{0, 0};
		const int signal_number = sigtimedwait(&signals, nullptr, &no_wait);
		if (signal_number == SIGTERM || signal_number == SIGINT) {
			LogEvent(logger, LogLevel::kWarn, "shutdown_forced",
			         json{{"signal", SignalName(signal_number)}, {"in_flight", lifecycle.in_flight()}});
			return;
		}
		if (signal_number == SIGHUP)
			LogEvent(logger, LogLevel::kInfo, "signal_ignored", json{{"signal", SignalName(signal_number)}});
	}
}

int
Run(const balatrix::sidecar::Config& config, spdlog::logger& logger, const sigset_t& signals)
{
	namespace sidecar = balatrix::sidecar;

	// First, so it outlives everything that uses it: the server's threads release request marks in it until
	// they are joined, in the Server's destructor.
	sidecar::service::Lifecycle lifecycle;

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

	sidecar::service::HealthService health(probe, lifecycle, BALATRIX_VERSION);

	sidecar::http::HealthHandler health_handler(health);
	// Before the router: it counts every response in it, until the Server's threads are joined.
	sidecar::http::Metrics metrics;

	sidecar::http::RouterOptions router_options;
	router_options.max_body_bytes = config.max_body_bytes;
	router_options.cors.allowed_origins = config.cors_allowed_origins;
	router_options.cors.allow_credentials = config.cors_allow_credentials;
	router_options.security.hsts_max_age = config.hsts_max_age;
	router_options.metrics = &metrics;
	sidecar::http::Router router(sidecar::http::Handlers{health_handler}, router_options, lifecycle, logger);

	// The REST API (api/registry.hpp): its services, then every route.
	const sidecar::SystemClock clock;
	sidecar::crypto::JwtOptions jwt_options;
	jwt_options.leeway = config.jwt_leeway;
	const sidecar::crypto::Hs256JwtCodec tokens(config.jwt_secret, jwt_options, clock);
	const sidecar::crypto::Argon2idHasher passwords;
	sidecar::crypto::SodiumRandom random;
	sidecar::crypto::TotpOptions totp_options;
	const sidecar::crypto::OathTotp totp(totp_options, clock);
	sidecar::api::ApiOptions api_options;
	api_options.pool_timeout = config.db_pool_timeout;
	api_options.access_lifetime = jwt_options.lifetime;
	api_options.api.max = config.rate_limits.api;
	api_options.login.max = config.rate_limits.login;
	api_options.refresh.max = config.rate_limits.refresh;
	api_options.registration.max = config.rate_limits.registration;
	api_options.password_reset.max = config.rate_limits.password_reset;
	api_options.cdr.max = config.rate_limits.cdr;
	api_options.razorpay_webhook_secret = config.razorpay_webhook_secret;
	api_options.stripe_webhook_secret = config.stripe_webhook_secret;
	const sidecar::api::Services services{pool, tokens, passwords, random, totp, clock, logger, api_options};
	sidecar::api::Registry registry(router, services);
	sidecar::api::RegisterApiRoutes(registry);
	sidecar::api::RegisterMetricsRoutes(registry, metrics, BALATRIX_VERSION);
	sidecar::api::RegisterOpenApiRoute(registry, BALATRIX_VERSION); // last: the document lists every route

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

	const int signal_number = WaitForStopSignal(signals, logger);
	const auto drain_started = std::chrono::steady_clock::now();
	lifecycle.BeginDraining();
	LogEvent(logger, LogLevel::kInfo, "shutting_down",
	         json{{"signal", SignalName(signal_number)},
	              {"in_flight", lifecycle.in_flight()},
	              {"grace_ms", config.shutdown_grace.count()}});
	Drain(lifecycle, config.shutdown_grace, signals, logger);

	// Read just before the endpoint stops: these are the requests Pistache is about to drop.
	const int in_flight_at_shutdown = lifecycle.in_flight();
	const bool drained = in_flight_at_shutdown == 0;
	const auto waited =
		std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - drain_started);
	server.Shutdown(); // only signals Pistache's threads; the Server's destructor joins them
	pool.Close(drained ? kPoolDrainGrace : std::chrono::milliseconds(0));
	LogEvent(
		logger, drained ? LogLevel::kInfo : LogLevel::kWarn, "stopped",
		json{{"drained", drained}, {"in_flight_at_shutdown", in_flight_at_shutdown}, {"waited_ms", waited.count()}});
	if (!drained) {
		// The requests still in flight are lost either way (Pistache drops them), but waiting for their handlers
		// would not be bounded: a handler blocked in the database keeps its worker thread, which the Server's
		// destructor joins, and its pool lease, which the Pool's destructor expects back. Returning would turn
		// SHUTDOWN_GRACE_MS and the second signal into "and then however long that handler takes". So exit
		// now, skipping destructors: the kernel closes the sockets, PostgreSQL rolls back the abandoned
		// sessions, and every log line is already flushed (the logger flushes each one).
		std::_Exit(0);
	}
	return 0;
}

// `balatrix-sidecar hash-password`: reads one password from stdin (the first line, without its newline) and
// prints its argon2id hash, for bootstrapping the first admin in SQL (README) and for make run's demo users.
int
HashPasswordCommand()
{
	std::string password;
	if (!std::getline(std::cin, password) || password.empty()) {
		std::fprintf(stderr, "%s hash-password: give the password on stdin\n", kProgram);
		return kExitConfig;
	}
	const balatrix::sidecar::crypto::Argon2idHasher hasher;
	const auto hash = hasher.Hash(password);
	if (!hash) {
		std::fprintf(stderr, "%s hash-password: the password could not be hashed (too long?)\n", kProgram);
		return kExitFailure;
	}
	std::printf("%s\n", hash->c_str());
	return 0;
}

} // namespace

int
main(int argc, char** argv)
{
	namespace sidecar = balatrix::sidecar;
	if (argc == 2 && std::string_view(argv[1]) == "hash-password")
		return HashPasswordCommand();
	if (argc > 1) {
		std::fprintf(stderr, "usage: %s [hash-password]\n  (configuration comes from the environment; see README)\n", kProgram);
		return kExitConfig;
	}

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
