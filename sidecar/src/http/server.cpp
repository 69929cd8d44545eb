#include "http/server.hpp"

#include <stdexcept>
#include <utility>

#include <pistache/endpoint.h>

namespace balatrix::sidecar::http {

namespace Http = Pistache::Http;

struct Server::Impl {
	ServerOptions options;
	std::shared_ptr<Http::Handler> handler;
	std::unique_ptr<Http::Endpoint> endpoint;
	bool serving = false;
};

Server::Server(ServerOptions options, std::shared_ptr<Pistache::Http::Handler> handler)
	: impl_(std::make_unique<Impl>(Impl{std::move(options), std::move(handler), nullptr, false}))
{
}

Server::~Server()
{
	Shutdown();
}

void
Server::Start()
{
	if (impl_->endpoint)
		throw std::logic_error("Server::Start called twice");
	const auto& options = impl_->options;
	try {
		impl_->endpoint =
			std::make_unique<Http::Endpoint>(Pistache::Address(options.address, Pistache::Port(options.port)));
		impl_->endpoint->init(Http::Endpoint::options()
		                          .threads(options.threads)
		                          .threadsName("balatrix-http")
		                          .flags(Pistache::Tcp::Options::ReuseAddr)
		                          .maxRequestSize(options.max_body_bytes + kRequestHeadAllowance)
		                          .headerTimeout(options.header_timeout)
		                          .bodyTimeout(options.body_timeout)
		                          .keepaliveTimeout(options.keepalive_timeout));
		impl_->endpoint->setHandler(impl_->handler);
		impl_->endpoint->serveThreaded();
		impl_->serving = true;
	} catch (const std::exception& e) {
		impl_->endpoint.reset();
		throw std::runtime_error("cannot listen on " + options.address + ":" + std::to_string(options.port) + ": " +
		                         e.what());
	}
}

std::uint16_t
Server::port() const
{
	if (!impl_->endpoint)
		return 0;
	return static_cast<std::uint16_t>(impl_->endpoint->getPort());
}

void
Server::Shutdown()
{
	if (impl_ && impl_->serving) {
		impl_->serving = false;
		impl_->endpoint->shutdown();
	}
}

} // namespace balatrix::sidecar::http
