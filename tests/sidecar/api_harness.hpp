// The production object graph of main.cpp — Router with the request metrics, Registry, every API route
// (RegisterApiRoutes), GET /metrics and GET /openapi.json — serving on 127.0.0.1:<ephemeral>, with a database
// pool that points at a closed port: routes are registered exactly as in production, and anything that needs
// the database answers as if it were down (503, business_metrics_up 0).
//
// Keep the wiring in step with main.cpp (the RegisterX calls and RouterOptions::metrics).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "api/api.hpp"
#include "api/metrics_routes.hpp"
#include "api/openapi.hpp"
#include "api/registry.hpp"
#include "clock.hpp"
#include "crypto/jwt.hpp"
#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "crypto/totp.hpp"
#include "db/pool.hpp"
#include "http/health_handler.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "service/health_service.hpp"
#include "service/lifecycle.hpp"
#include "test_support.hpp"

namespace balatrix::sidecar::testing {

inline constexpr const char* kHarnessVersion = "4.5.6-harness";

class ApiHarness {
public:
	explicit ApiHarness(std::size_t max_body_bytes = 4096)
		: max_body_bytes_(max_body_bytes), sink_(std::make_shared<CaptureSink>()),
		  logger_(MakeJsonLogger("test", LogLevel::kDebug, sink_)), health_(probe_, lifecycle_, kHarnessVersion),
		  health_handler_(health_),
		  // Port 1 on loopback: refused at once, so database-backed answers are fast 503s.
		  pool_(
			  db::PoolOptions{"postgresql://balatrix_api@127.0.0.1:1/balatrix", 2, std::chrono::seconds(1), "harness"},
			  *logger_),
		  tokens_(std::string(48, 'k'), crypto::JwtOptions{}, clock_),
		  totp_(crypto::TotpOptions{}, clock_), services_{pool_, tokens_, passwords_, random_,
	                                                      totp_, clock_,  *logger_,   Options()},
		  router_(http::Handlers{health_handler_}, RouterOptionsOf(max_body_bytes, &metrics_), lifecycle_, *logger_),
		  registry_(router_, services_)
	{
		api::RegisterApiRoutes(registry_);
		api::RegisterMetricsRoutes(registry_, metrics_, kHarnessVersion);
		api::RegisterOpenApiRoute(registry_, kHarnessVersion);
	}

	~ApiHarness()
	{
		if (server_)
			server_->Shutdown();
	}

	// Starts serving (freezes the routes).
	void
	Start()
	{
		http::ServerOptions options;
		options.address = "127.0.0.1";
		options.port = 0;
		options.threads = 2;
		options.max_body_bytes = max_body_bytes_;
		server_ = std::make_unique<http::Server>(options, router_.MakeHttpHandler());
		server_->Start();
	}

	std::string
	Url(const std::string& path) const
	{
		return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
	}

	unsigned short
	port() const
	{
		return server_->port();
	}

	http::Router&
	router()
	{
		return router_;
	}

	api::Registry&
	registry()
	{
		return registry_;
	}

	http::Metrics&
	metrics()
	{
		return metrics_;
	}

	CaptureSink&
	log()
	{
		return *sink_;
	}

private:
	static api::ApiOptions
	Options()
	{
		api::ApiOptions options;
		options.pool_timeout = std::chrono::milliseconds(500);
		return options;
	}

	static http::RouterOptions
	RouterOptionsOf(std::size_t max_body_bytes, http::Metrics* metrics)
	{
		http::RouterOptions options;
		options.max_body_bytes = max_body_bytes;
		options.metrics = metrics;
		return options;
	}

	std::size_t max_body_bytes_ = 4096;
	std::shared_ptr<CaptureSink> sink_;
	std::shared_ptr<spdlog::logger> logger_;
	service::Lifecycle lifecycle_;
	FakeDatabaseProbe probe_;
	service::HealthService health_;
	http::HealthHandler health_handler_;
	http::Metrics metrics_;
	db::Pool pool_;
	SystemClock clock_;
	crypto::Hs256JwtCodec tokens_;
	crypto::Argon2idHasher passwords_;
	crypto::SodiumRandom random_;
	crypto::OathTotp totp_;
	api::Services services_;
	http::Router router_;
	api::Registry registry_;
	std::unique_ptr<http::Server> server_;
};

} // namespace balatrix::sidecar::testing
