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

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "api/metrics_routes.hpp"
#include "api/openapi.hpp"
#include "api/registry.hpp"
#include "clients/http_transport.hpp"
#include "clients/razorpay_client.hpp"
#include "clients/smtp_client.hpp"
#include "clients/stripe_client.hpp"
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
#include "outbox/consumer.hpp"
#include "outbox/notifier.hpp"
#include "payments/payment_flows.hpp"
#include "payments/reconciler.hpp"
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
// How long shutdown waits for each background thread (reconciler, outbox consumer) before abandoning it.
constexpr std::chrono::milliseconds kBackgroundStopLimit{5000};
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
	// Payments: the gateways that are configured (key id and secret / secret key), one HTTP transport for all.
	const auto transport = sidecar::clients::MakeCurlTransport();
	std::unique_ptr<sidecar::clients::RazorpayClient> razorpay;
	std::unique_ptr<sidecar::clients::StripeClient> stripe;
	sidecar::payments::GatewayConfig gateways;
	if (config.razorpay_key_id && config.razorpay_key_secret) {
		sidecar::clients::RazorpayOptions options;
		options.base_url = config.razorpay_api_base;
		options.key_id = *config.razorpay_key_id;
		options.key_secret = *config.razorpay_key_secret;
		options.timeout = config.gateway_timeout;
		razorpay = std::make_unique<sidecar::clients::RazorpayClient>(*transport, options, sidecar::clients::RealSleeper());
		gateways.razorpay = razorpay.get();
		gateways.razorpay_key_id = *config.razorpay_key_id;
		gateways.razorpay_key_secret = *config.razorpay_key_secret;
	}
	if (config.stripe_secret_key) {
		sidecar::clients::StripeOptions options;
		options.base_url = config.stripe_api_base;
		options.secret_key = *config.stripe_secret_key;
		options.timeout = config.gateway_timeout;
		stripe = std::make_unique<sidecar::clients::StripeClient>(*transport, options, sidecar::clients::RealSleeper());
		gateways.stripe = stripe.get();
	}
	sidecar::payments::PaymentFlows payment_flows(pool, gateways, logger, config.db_pool_timeout);
	sidecar::payments::Reconciler reconciler(
		payment_flows, sidecar::payments::ReconcilerOptions{config.reconcile_interval, config.reconcile_after, 50}, logger);

	// The outbox consumer (outbox/consumer.hpp) and its notifier: e-mail when SMTP_URL is set, SMS when
	// SMS_GATEWAY_URL is set, customer webhooks always. It has a database connection of its own.
	std::unique_ptr<sidecar::clients::SmtpClient> smtp;
	if (config.smtp_url)
		smtp = std::make_unique<sidecar::clients::SmtpClient>(sidecar::clients::SmtpOptions{*config.smtp_url});
	sidecar::outbox::NotifierOptions notifier_options;
	notifier_options.from = sidecar::clients::ParseMailbox(config.smtp_from).value(); // Config validated it
	if (!notifier_options.from.display_name.empty())
		notifier_options.templates.brand = notifier_options.from.display_name;
	notifier_options.templates.app_base_url = config.app_base_url;
	notifier_options.sms_gateway_url = config.sms_gateway_url.value_or("");
	notifier_options.sms_gateway_token = config.sms_gateway_token.value_or("");
	notifier_options.webhook_timeout = config.webhook_timeout;
	sidecar::outbox::Notifier notifier(smtp.get(), *transport, clock, notifier_options);
	// Actions by event type, run before the event's notifications; at least once per event, so idempotent.
	// Payment handlers (payment.retry_due -> PaymentFlows::RetryDue, ...) are registered here.
	sidecar::outbox::ActionHandlers outbox_actions;
	// A failed invoice payment's next try is due (balatrix.run_payment_retries): charge the default saved method
	// off-session. Declined or charged, the database has recorded it (and scheduled the next try): done. Not
	// answered: the event is retried with the outbox's backoff (the same retry payment, the same idempotency key).
	outbox_actions["payment.retry_due"] = [&payment_flows](const sidecar::outbox::OutboxEvent& event) {
		const auto failed = sidecar::outbox::PayloadString(event, "payment_id");
		if (!failed)
			return sidecar::outbox::ActionOutcome::Done();
		const sidecar::payments::FlowResult result = payment_flows.RetryDue(*failed);
		if (result.status == sidecar::payments::FlowStatus::kPending ||
		    result.status == sidecar::payments::FlowStatus::kUnavailable)
			return sidecar::outbox::ActionOutcome::Retry(result.message);
		return sidecar::outbox::ActionOutcome::Done();
	};
	std::unique_ptr<sidecar::outbox::OutboxConsumer> outbox;
	if (config.outbox_enabled) {
		sidecar::outbox::ConsumerOptions outbox_options;
		outbox_options.database_url = config.database_url;
		outbox_options.worker = sidecar::outbox::MakeWorkerName();
		outbox_options.batch_size = config.outbox_batch_size;
		outbox_options.lease = config.outbox_lease;
		outbox_options.max_attempts = config.outbox_max_attempts;
		outbox_options.poll_interval = config.outbox_poll_interval;
		outbox_options.channels = notifier.Channels();
		outbox = std::make_unique<sidecar::outbox::OutboxConsumer>(std::move(outbox_options), notifier,
		                                                           std::move(outbox_actions), logger);
	}

	const sidecar::api::Services services{pool, tokens, passwords, random, totp, clock, logger, api_options, &payment_flows};
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

	// The background workers start after the readiness probe: its connection is the first the database sees.
	if (gateways.razorpay != nullptr || gateways.stripe != nullptr)
		reconciler.Start();
	if (outbox)
		outbox->Start();

	const int signal_number = WaitForStopSignal(signals, logger);
	const auto drain_started = std::chrono::steady_clock::now();
	lifecycle.BeginDraining();
	if (outbox)
		outbox->RequestStop(); // no new event is started; the one in hand finishes while requests drain
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
	// The background threads get a bounded wait: the reconciler's pass in progress, the outbox's event in hand
	// (drained only: unstarted events go back). One that is stuck (a database that accepts connections and
	// never answers, a slow gateway) is abandoned with the process below: a payment's outcome is asked again
	// by the next reconciler, an event's lease runs out and another sidecar delivers it.
	bool background_stopped = reconciler.StopWithin(kBackgroundStopLimit);
	if (outbox && drained)
		background_stopped = outbox->StopWithin(kBackgroundStopLimit) && background_stopped;
	pool.Close(drained && background_stopped ? kPoolDrainGrace : std::chrono::milliseconds(0));
	LogEvent(
		logger, drained ? LogLevel::kInfo : LogLevel::kWarn, "stopped",
		json{{"drained", drained}, {"in_flight_at_shutdown", in_flight_at_shutdown}, {"waited_ms", waited.count()}});
	if (!drained || !background_stopped) {
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
	// libcurl's global state (OpenSSL), once, before any thread can make a request.
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		LogEvent(*logger, LogLevel::kCritical, "fatal", json{{"error", "curl_global_init failed"}});
		return kExitFailure;
	}

	try {
		return Run(config, *logger, signals); // every line is flushed as it is written
	} catch (const std::exception& e) {
		LogEvent(*logger, LogLevel::kCritical, "fatal", json{{"error", e.what()}});
		return kExitFailure;
	}
}
