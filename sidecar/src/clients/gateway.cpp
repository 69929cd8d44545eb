#include "clients/gateway.hpp"

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>

#include <spdlog/logger.h>

#include "log.hpp"

namespace balatrix::sidecar::clients {
namespace {

// Retry-After in whole seconds ("120"). The HTTP-date form is not used by the gateways; it falls back to the
// computed backoff. More than 9 digits is nonsense and ignored.
std::optional<std::chrono::seconds>
RetryAfterSeconds(const HttpResponse& response)
{
	const std::string value = response.Header("retry-after");
	if (value.empty() || value.size() > 9)
		return std::nullopt;
	long seconds = 0;
	for (const char c : value) {
		if (c < '0' || c > '9')
			return std::nullopt;
		seconds = seconds * 10 + (c - '0');
	}
	return std::chrono::seconds(seconds);
}

// The URL's path, for logs: no scheme, host, userinfo or query.
std::string
LoggablePath(const std::string& url)
{
	const auto scheme_end = url.find("://");
	const auto path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
	if (path_start == std::string::npos)
		return "/";
	const auto path_end = url.find_first_of("?#", path_start);
	return url.substr(path_start, path_end == std::string::npos ? std::string::npos : path_end - path_start);
}

void
LogAttempt(spdlog::logger& logger, const HttpRequest& request, const HttpResponse& response, int attempt)
{
	nlohmann::json fields = {
		{"method", request.method},
		{"path", LoggablePath(request.url)},
		{"attempt", attempt},
		{"ms", response.elapsed.count()},
	};
	if (response.failure == TransportFailure::kNone)
		fields["status"] = response.status;
	else
		fields["failure"] = std::string(TransportFailureName(response.failure));
	LogEvent(logger, LogLevel::kDebug, "gateway_attempt", fields);
}

} // namespace

std::string_view
GatewayOutcomeName(GatewayOutcome outcome)
{
	switch (outcome) {
	case GatewayOutcome::kOk:
		return "ok";
	case GatewayOutcome::kDeclined:
		return "declined";
	case GatewayOutcome::kRejected:
		return "rejected";
	case GatewayOutcome::kUnavailable:
		return "unavailable";
	}
	return "unavailable";
}

Sleeper
RealSleeper()
{
	return [](std::chrono::milliseconds wait) {
		std::this_thread::sleep_for(wait);
	};
}

bool
IsRetryable(const HttpResponse& response)
{
	switch (response.failure) {
	case TransportFailure::kConnect:
	case TransportFailure::kTimeout:
	case TransportFailure::kDropped:
		return true;
	case TransportFailure::kOther:
		return false;
	case TransportFailure::kNone:
		break;
	}
	return response.status >= 500 || response.status == 409 || response.status == 429;
}

std::chrono::milliseconds
RetryDelay(const RetryPolicy& policy, int failed_attempt, const HttpResponse& response)
{
	const auto cap = std::max(policy.max_backoff, std::chrono::milliseconds(0));
	if (const auto retry_after = RetryAfterSeconds(response))
		return std::min<std::chrono::milliseconds>(*retry_after, cap);
	auto wait = std::max(policy.first_backoff, std::chrono::milliseconds(0));
	for (int n = 1; n < failed_attempt && wait < cap; ++n)
		wait *= 2; // stops at the cap, so it cannot overflow
	return std::min(wait, cap);
}

Exchange
SendWithRetries(HttpTransport& transport, const HttpRequest& request, Replay replay, const RetryPolicy& policy,
                const Sleeper& sleeper, spdlog::logger* logger)
{
	const int max_attempts = replay == Replay::kSafe ? std::max(policy.max_attempts, 1) : 1;
	Exchange exchange;
	for (int attempt = 1;; ++attempt) {
		exchange.response = transport.Send(request);
		exchange.attempts = attempt;
		if (logger != nullptr)
			LogAttempt(*logger, request, exchange.response, attempt);
		if (attempt >= max_attempts || !IsRetryable(exchange.response))
			return exchange;
		const auto wait = RetryDelay(policy, attempt, exchange.response);
		if (sleeper)
			sleeper(wait);
		else
			std::this_thread::sleep_for(wait);
	}
}

GatewayResult
ReadExchange(const Exchange& exchange)
{
	const HttpResponse& response = exchange.response;
	GatewayResult result;
	result.attempts = exchange.attempts;
	if (response.failure != TransportFailure::kNone) {
		result.outcome = GatewayOutcome::kUnavailable;
		result.error_code = "transport_" + std::string(TransportFailureName(response.failure));
		result.error_message = response.error;
		return result;
	}
	result.http_status = response.status;
	result.body = nlohmann::json::parse(response.body, nullptr, false);
	if (result.body.is_discarded())
		result.body = nullptr;
	if (response.status >= 200 && response.status < 300) {
		if (result.body.is_null()) {
			// The gateway acted (2xx) but we cannot read what it did: as unknown as a timeout.
			result.outcome = GatewayOutcome::kUnavailable;
			result.error_code = "invalid_response";
			result.error_message = "the gateway answered " + std::to_string(response.status) + " without a JSON body";
			return result;
		}
		result.outcome = GatewayOutcome::kOk;
		return result;
	}
	result.outcome = response.status >= 500 || response.status == 409 || response.status == 429
	                     ? GatewayOutcome::kUnavailable
	                     : GatewayOutcome::kRejected;
	return result;
}

GatewayResult
LocalRejection(std::string message)
{
	GatewayResult result;
	result.outcome = GatewayOutcome::kRejected;
	result.error_code = "invalid_argument";
	result.error_message = std::move(message);
	return result;
}

bool
IsSafePathId(std::string_view id)
{
	if (id.empty() || id.size() > 64)
		return false;
	return std::all_of(id.begin(), id.end(), [](char c) {
		return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
	});
}

std::string
WithoutTrailingSlash(std::string base_url)
{
	while (!base_url.empty() && base_url.back() == '/')
		base_url.pop_back();
	return base_url;
}

} // namespace balatrix::sidecar::clients
