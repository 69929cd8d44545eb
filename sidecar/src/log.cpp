#include "log.hpp"

#include <array>
#include <cctype>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "time_format.hpp"

namespace balatrix::sidecar {
namespace {

using nlohmann::json;

// How LogEvent hands structured fields to the formatter through spdlog, which only carries a string: the
// payload is this marker followed by a serialized JSON object. The formatter merges the object only if it
// parses as one, so a plain message that happens to start with the marker still yields a valid line (at
// worst with its fields merged): the one-valid-object-per-line contract holds for every input.
constexpr char kStructuredMarker = '\x1e'; // ASCII record separator

constexpr std::array<std::pair<std::string_view, LogLevel>, 7> kLevelNames{{
	{"trace", LogLevel::kTrace},
	{"debug", LogLevel::kDebug},
	{"info", LogLevel::kInfo},
	{"warn", LogLevel::kWarn},
	{"error", LogLevel::kError},
	{"critical", LogLevel::kCritical},
	{"off", LogLevel::kOff},
}};

spdlog::level::level_enum
ToSpdlog(LogLevel level)
{
	switch (level) {
	case LogLevel::kTrace:
		return spdlog::level::trace;
	case LogLevel::kDebug:
		return spdlog::level::debug;
	case LogLevel::kInfo:
		return spdlog::level::info;
	case LogLevel::kWarn:
		return spdlog::level::warn;
	case LogLevel::kError:
		return spdlog::level::err;
	case LogLevel::kCritical:
		return spdlog::level::critical;
	case LogLevel::kOff:
		return spdlog::level::off;
	}
	return spdlog::level::info;
}

std::string_view
SpdlogLevelName(spdlog::level::level_enum level)
{
	switch (level) {
	case spdlog::level::trace:
		return "trace";
	case spdlog::level::debug:
		return "debug";
	case spdlog::level::info:
		return "info";
	case spdlog::level::warn:
		return "warn";
	case spdlog::level::err:
		return "error";
	case spdlog::level::critical:
		return "critical";
	default:
		return "off";
	}
}

// Serializes without ever throwing on invalid UTF-8 (nlohmann's default): bad bytes become U+FFFD.
std::string
Dump(const json& value)
{
	return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

class JsonFormatter final : public spdlog::formatter {
public:
	void
	format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override
	{
		std::string line;
		try {
			line = FormatLine(msg);
		} catch (...) {
			// Only allocation can fail above; still, a logger must not take the process down.
			line = R"({"ts":")" + FormatUtcTimestamp(msg.time) +
			       R"(","level":"error","msg":"log line could not be formatted"})";
		}
		line += '\n';
		dest.append(line.data(), line.data() + line.size());
	}

	std::unique_ptr<spdlog::formatter>
	clone() const override
	{
		return std::make_unique<JsonFormatter>();
	}

private:
	static std::string
	FormatLine(const spdlog::details::log_msg& msg)
	{
		const std::string_view payload(msg.payload.data(), msg.payload.size());

		std::string line;
		line.reserve(64 + payload.size());
		line += R"({"ts":")";
		line += FormatUtcTimestamp(msg.time);
		line += R"(","level":")";
		line += SpdlogLevelName(msg.level);
		line += R"(","msg":)";

		if (!payload.empty() && payload.front() == kStructuredMarker) {
			const json fields = json::parse(payload.substr(1), nullptr, /*allow_exceptions=*/false);
			if (fields.is_object()) {
				const auto message = fields.find("msg");
				line += message != fields.end() ? Dump(*message) : std::string(R"("")");
				for (const auto& [key, value] : fields.items()) {
					if (key == "ts" || key == "level" || key == "msg")
						continue;
					line += ',';
					line += Dump(json(key));
					line += ':';
					line += Dump(value);
				}
				line += '}';
				return line;
			}
		}
		line += Dump(json(std::string(payload)));
		line += '}';
		return line;
	}
};

} // namespace

std::optional<LogLevel>
ParseLogLevel(std::string_view name)
{
	std::string lower(name);
	for (char& c : lower)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	for (const auto& [level_name, level] : kLevelNames) {
		if (lower == level_name)
			return level;
	}
	return std::nullopt;
}

std::string_view
LogLevelName(LogLevel level)
{
	for (const auto& [level_name, candidate] : kLevelNames) {
		if (candidate == level)
			return level_name;
	}
	return "info";
}

std::unique_ptr<spdlog::formatter>
MakeJsonFormatter()
{
	return std::make_unique<JsonFormatter>();
}

std::shared_ptr<spdlog::logger>
MakeJsonLogger(std::string name, LogLevel level, std::shared_ptr<spdlog::sinks::sink> sink)
{
	auto logger = std::make_shared<spdlog::logger>(std::move(name), std::move(sink));
	logger->set_formatter(MakeJsonFormatter());
	logger->set_level(ToSpdlog(level));
	logger->flush_on(spdlog::level::trace);
	return logger;
}

std::shared_ptr<spdlog::logger>
MakeStdoutJsonLogger(std::string name, LogLevel level)
{
	return MakeJsonLogger(std::move(name), level, std::make_shared<spdlog::sinks::stdout_sink_mt>());
}

void
LogEvent(spdlog::logger& logger, LogLevel level, std::string_view event, const nlohmann::json& fields)
{
	const auto spd_level = ToSpdlog(level);
	if (level == LogLevel::kOff || !logger.should_log(spd_level))
		return;
	try {
		json object = fields.is_object() ? fields : json::object();
		if (!fields.is_object() && !fields.is_null())
			object["fields"] = fields;
		object["msg"] = std::string(event);

		std::string payload(1, kStructuredMarker);
		payload += Dump(object);
		logger.log(spd_level, spdlog::string_view_t(payload.data(), payload.size()));
	} catch (...) {
		// Logging is best effort; an allocation failure here must not turn into a failed request.
	}
}

void
LogEvent(spdlog::logger& logger, LogLevel level, std::string_view event)
{
	LogEvent(logger, level, event, json::object());
}

} // namespace balatrix::sidecar
