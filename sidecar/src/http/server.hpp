/*
 * The HTTP endpoint: Pistache's listener and worker threads, configured explicitly (toolchain.md G10: its
 * defaults include a 4 KiB request limit).
 */
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace Pistache::Http {
class Handler;
} // namespace Pistache::Http

namespace balatrix::sidecar::http {

struct ServerOptions {
	std::string address = "127.0.0.1"; // IPv4 literal; "0.0.0.0" for every interface
	std::uint16_t port = 3000;         // 0 picks a free port (tests); see Server::port()
	int threads = 2;
	// The body limit the router enforces with a 413 envelope. Pistache's own hard limit is set above it (by
	// kRequestHeadAllowance) so that a body of exactly max_body_bytes still fits beside its request line and
	// headers; anything over the hard limit is rejected while it streams in, also with a 413 envelope.
	std::size_t max_body_bytes = 1048576;
	std::chrono::milliseconds header_timeout{10000};    // request line + headers must arrive within this
	std::chrono::milliseconds body_timeout{30000};      // the body must arrive within this
	std::chrono::milliseconds keepalive_timeout{60000}; // idle keep-alive connections are closed after this
};

// Room for the request line and headers on top of the body limit.
inline constexpr std::size_t kRequestHeadAllowance = 64 * 1024;

class Server {
public:
	Server(ServerOptions options, std::shared_ptr<Pistache::Http::Handler> handler);
	// Shuts down if still serving.
	~Server();

	Server(const Server&) = delete;
	Server& operator=(const Server&) = delete;

	// Binds and starts serving on background threads; returns once the socket is listening. Throws
	// std::runtime_error when the address cannot be bound (port in use, bad address). Call once. Block the
	// signals the process handles before calling this: the worker threads inherit the signal mask.
	void Start();

	// The bound port (the real one when ServerOptions::port was 0). Valid after Start.
	std::uint16_t port() const;

	// Stops accepting and tells the worker threads to stop. Requests in flight are dropped (Pistache 0.0.5 has
	// no drain; main() drains first, see service::Lifecycle). Returns without waiting: the threads are joined
	// when the Server is destroyed, which therefore waits for any handler still running. Idempotent.
	void Shutdown();

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace balatrix::sidecar::http
