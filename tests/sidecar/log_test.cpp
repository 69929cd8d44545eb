#include "log.hpp"

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

namespace balatrix::sidecar {
namespace {

using nlohmann::json;

// A logger writing into a string; single-threaded use only.
class LogCapture {
public:
	explicit LogCapture(LogLevel level = LogLevel::kTrace)
		: logger_(MakeJsonLogger("test", level, std::make_shared<spdlog::sinks::ostream_sink_st>(stream_)))
	{
	}

	spdlog::logger&
	logger()
	{
		return *logger_;
	}

	std::string
	Text() const
	{
		return stream_.str();
	}

	// Every line parsed; fails the test if the output is not newline-terminated JSON objects.
	std::vector<json>
	Lines() const
	{
		std::vector<json> lines;
		const std::string text = Text();
		EXPECT_TRUE(text.empty() || text.back() == '\n') << "output must end with a newline";
		std::istringstream in(text);
		std::string line;
		while (std::getline(in, line)) {
			const json parsed = json::parse(line, nullptr, false);
			EXPECT_TRUE(parsed.is_object()) << "not a JSON object: " << line;
			lines.push_back(parsed);
		}
		return lines;
	}

private:
	std::ostringstream stream_;
	std::shared_ptr<spdlog::logger> logger_;
};

const std::regex kTimestamp(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");

TEST(Log, PlainMessageBecomesOneJsonObject)
{
	LogCapture capture;
	capture.logger().info("hello");
	const auto lines = capture.Lines();
	ASSERT_EQ(lines.size(), 1u);
	EXPECT_EQ(lines[0]["msg"], "hello");
	EXPECT_EQ(lines[0]["level"], "info");
	EXPECT_TRUE(std::regex_match(lines[0]["ts"].get<std::string>(), kTimestamp)) << lines[0]["ts"];
	EXPECT_EQ(capture.Text().rfind(R"({"ts":")", 0), 0u) << "ts comes first: " << capture.Text();
}

TEST(Log, HostileMessagesStayOneValidLineEach)
{
	static constexpr char kControlCharacters[] = "control \x01\x07\x1b[31m chars and a \0 nul";
	const std::vector<std::string> messages = {
		"quote \" inside",
		"back\\slash and \\\" escaped quote",
		"line one\nline two\r\nline three",
		std::string(kControlCharacters, sizeof kControlCharacters - 1),
		"}\n{\"level\":\"critical\",\"msg\":\"forged\"}",
		"invalid utf-8 \xff\xfe here",
		"\x1e{\"msg\":\"looks structured\",\"level\":\"forged\"}",
		"\x1enot json at all {",
	};
	LogCapture capture;
	for (const auto& message : messages)
		capture.logger().warn(message);

	const auto lines = capture.Lines();
	ASSERT_EQ(lines.size(), messages.size()) << capture.Text();
	for (std::size_t i = 0; i < 5; ++i)
		EXPECT_EQ(lines[i]["msg"], messages[i]) << "message " << i << " must round-trip exactly";
	for (const auto& line : lines)
		EXPECT_EQ(line["level"], "warn") << "a message must not be able to change its level";
	EXPECT_EQ(lines[5]["msg"], "invalid utf-8 \xEF\xBF\xBD\xEF\xBF\xBD here");
	EXPECT_EQ(lines[7]["msg"], "\x1enot json at all {");
}

TEST(Log, LogEventMergesFieldsAfterTheFixedKeys)
{
	LogCapture capture;
	LogEvent(capture.logger(), LogLevel::kInfo, "http_request",
	         json{{"method", "GET"}, {"path", "/health\n\"x\""}, {"status", 200}, {"ms", 1.25}, {"request_id", "r-1"}});
	const auto lines = capture.Lines();
	ASSERT_EQ(lines.size(), 1u);
	EXPECT_EQ(lines[0]["msg"], "http_request");
	EXPECT_EQ(lines[0]["level"], "info");
	EXPECT_EQ(lines[0]["method"], "GET");
	EXPECT_EQ(lines[0]["path"], "/health\n\"x\"");
	EXPECT_EQ(lines[0]["status"], 200);
	EXPECT_DOUBLE_EQ(lines[0]["ms"].get<double>(), 1.25);
	EXPECT_EQ(lines[0]["request_id"], "r-1");
	EXPECT_EQ(capture.Text().find(R"({"ts":")"), 0u);
	EXPECT_NE(capture.Text().find(R"(,"level":"info","msg":"http_request",)"), std::string::npos) << capture.Text();
}

TEST(Log, LogEventFieldsCannotOverrideFixedKeys)
{
	LogCapture capture;
	LogEvent(capture.logger(), LogLevel::kError, "real", json{{"msg", "fake"}, {"level", "debug"}, {"ts", "then"}});
	const auto lines = capture.Lines();
	ASSERT_EQ(lines.size(), 1u);
	EXPECT_EQ(lines[0]["msg"], "real");
	EXPECT_EQ(lines[0]["level"], "error");
	EXPECT_NE(lines[0]["ts"], "then");
	EXPECT_EQ(lines[0].size(), 3u) << lines[0].dump();
}

TEST(Log, LogEventWithNonObjectFieldsKeepsThem)
{
	LogCapture capture;
	LogEvent(capture.logger(), LogLevel::kInfo, "list", json::array({1, 2}));
	const auto lines = capture.Lines();
	ASSERT_EQ(lines.size(), 1u);
	EXPECT_EQ(lines[0]["fields"], json::array({1, 2}));
}

TEST(Log, LevelFiltersAndNamesMatchLogLevel)
{
	LogCapture capture(LogLevel::kWarn);
	LogEvent(capture.logger(), LogLevel::kInfo, "dropped");
	LogEvent(capture.logger(), LogLevel::kWarn, "kept-warn");
	LogEvent(capture.logger(), LogLevel::kCritical, "kept-critical");
	const auto lines = capture.Lines();
	ASSERT_EQ(lines.size(), 2u);
	EXPECT_EQ(lines[0]["level"], "warn");
	EXPECT_EQ(lines[1]["level"], "critical");
}

TEST(Log, OffSilencesEverything)
{
	LogCapture capture(LogLevel::kOff);
	LogEvent(capture.logger(), LogLevel::kCritical, "nothing");
	capture.logger().critical("nothing either");
	EXPECT_EQ(capture.Text(), "");
}

TEST(Log, ParseLogLevelRoundTrips)
{
	for (const LogLevel level : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError,
	                             LogLevel::kCritical, LogLevel::kOff}) {
		EXPECT_EQ(ParseLogLevel(LogLevelName(level)), level) << LogLevelName(level);
	}
	EXPECT_EQ(ParseLogLevel("INFO"), LogLevel::kInfo);
	EXPECT_FALSE(ParseLogLevel("warning").has_value());
	EXPECT_FALSE(ParseLogLevel("").has_value());
}

} // namespace
} // namespace balatrix::sidecar
