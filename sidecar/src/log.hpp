/*
 * JSON logging: one JSON object per line on stdout, through spdlog.
 *
 *   {"ts":"2026-11-24T10:00:00.123Z","level":"info","msg":"http_request","method":"GET",...}
 *
 * "ts", "level" and "msg" always come first and are always present; structured fields given to LogEvent
 * follow. The line stays valid JSON whatever the message holds (quotes, newlines, control characters,
 * invalid UTF-8 — the latter replaced by U+FFFD).
 *
 * Secrets never reach this layer: callers log Config::Redacted(), never Config itself.
 *
 * spdlog and nlohmann/json are only forward-declared here; their headers cost seconds per translation unit.
 */
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace spdlog {
class logger;
class formatter;
namespace sinks {
class sink;
} // namespace sinks
} // namespace spdlog

namespace balatrix::sidecar {

// LOG_LEVEL values, in increasing severity; kOff disables logging.
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };

// Parses a LOG_LEVEL value (trace, debug, info, warn, error, critical, off; case-insensitive).
std::optional<LogLevel> ParseLogLevel(std::string_view name);

// The canonical lowercase name ("warn", not spdlog's "warning").
std::string_view LogLevelName(LogLevel level);

// The formatter behind every sidecar logger; exposed so tests can check its output byte for byte.
std::unique_ptr<spdlog::formatter> MakeJsonFormatter();

// A logger writing JSON lines to `sink`, flushed after every line (log shippers read a pipe). The logger is
// not registered in spdlog's global registry: it is passed to whoever needs it.
std::shared_ptr<spdlog::logger> MakeJsonLogger(std::string name, LogLevel level,
                                               std::shared_ptr<spdlog::sinks::sink> sink);

// Same, writing to stdout.
std::shared_ptr<spdlog::logger> MakeStdoutJsonLogger(std::string name, LogLevel level);

// Logs the event `event` (becomes "msg") with the members of `fields` merged into the line. `fields` should be
// an object; anything else is logged under the key "fields". Keys "ts", "level" and "msg" in `fields` are
// ignored: the line's own values win. Never throws.
void LogEvent(spdlog::logger& logger, LogLevel level, std::string_view event, const nlohmann::json& fields);

void LogEvent(spdlog::logger& logger, LogLevel level, std::string_view event);

} // namespace balatrix::sidecar
