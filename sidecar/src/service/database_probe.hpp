/*
 * What the health service needs to know about the database, without knowing what a database client is.
 */
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace balatrix::sidecar::service {

struct ProbeResult {
	bool ok = false;                      // a connection was obtained and the probe query ran
	std::chrono::microseconds latency{0}; // acquiring a connection plus the probe query
	std::string error;                    // when !ok: a short reason fit for API clients (no host, user or secret)
	std::string server_version;           // when ok, e.g. "15.20 (Debian 15.20-0+deb12u1)"
	std::optional<std::string> extension_version; // when ok: the installed balatrix extension version, if any
};

class DatabaseProbe {
public:
	virtual ~DatabaseProbe() = default;

	// Checks the database once. Must not throw: every failure is reported in the result. May block up to the
	// pool's acquire timeout plus a connect timeout; called concurrently from several request threads.
	virtual ProbeResult Check() = 0;
};

} // namespace balatrix::sidecar::service
