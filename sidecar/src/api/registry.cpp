#include "api/registry.hpp"

namespace balatrix::sidecar::api {

void
Registry::Add(std::string_view method, std::string_view pattern, RouteDoc doc, http::RouteHandler handler,
              http::RouteOptions options)
{
	router_.Add(method, pattern, std::move(handler), options);
	documented_.push_back(DocumentedRoute{std::string(method), std::string(pattern), std::move(doc)});
}

} // namespace balatrix::sidecar::api
