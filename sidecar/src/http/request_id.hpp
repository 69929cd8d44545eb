/*
 * Request ids: taken from the client's X-Request-ID when it is a sane token, generated otherwise, and always
 * echoed back (header, envelope metadata, access log), so one id follows a request through every log.
 */
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace balatrix::sidecar::http {

inline constexpr const char* kRequestIdHeader = "X-Request-ID";
inline constexpr std::size_t kMaxRequestIdLength = 128;

// True for 1..128 characters of [A-Za-z0-9._-]. Anything else (spaces, quotes, control characters, very long
// values) could forge log lines or bloat them, so it is replaced rather than echoed.
bool IsAcceptableRequestId(std::string_view id);

// Random version-4 UUIDs, e.g. "3f2c1a9e-7b4d-4c2e-9a1f-0e5d6c7b8a90". Thread-safe. Not for secrets: ids only
// need to be unique, and mt19937_64 seeded from std::random_device makes collisions negligible.
class RequestIdGenerator {
public:
	RequestIdGenerator();

	std::string Next();

private:
	std::mutex mutex_;
	std::mt19937_64 engine_;
};

// The incoming id when acceptable, else a fresh one.
std::string ResolveRequestId(const std::optional<std::string>& incoming, RequestIdGenerator& generator);

} // namespace balatrix::sidecar::http
