// A minimal blocking HTTP client over libcurl for the handler tests.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace balatrix::sidecar::testing {

struct HttpResult {
	long status = 0;
	std::map<std::string, std::string> headers; // names lowercased; last value wins
	std::string body;

	// The header's value, or "" when absent.
	std::string Header(const std::string& lowercase_name) const;
};

// Performs one request. `headers` are "Name: value" lines. Throws std::runtime_error on transport failure
// (connection refused, timeout), so a test never mistakes "no answer" for an answer.
HttpResult Fetch(const std::string& method, const std::string& url, const std::vector<std::string>& headers = {},
                 const std::optional<std::string>& body = std::nullopt);

// Sends `raw` bytes as-is over a TCP connection to 127.0.0.1:`port` and returns everything the server sends
// back until it closes the connection or `timeout_ms` passes. For requests curl refuses to send.
std::string SendRaw(unsigned short port, const std::string& raw, int timeout_ms = 3000);

// Sends each request on one keep-alive TCP connection, waiting for each complete response (headers and
// Content-Length bytes of body) before sending the next; returns the raw responses. A response that does not
// complete within `timeout_ms` is returned as far as it came, and the remaining requests are not sent.
std::vector<std::string> ExchangeOnOneConnection(unsigned short port, const std::vector<std::string>& requests,
                                                 int timeout_ms = 3000);

} // namespace balatrix::sidecar::testing
