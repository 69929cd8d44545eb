#include "time_format.hpp"

#include <cstdio>
#include <ctime>

namespace balatrix::sidecar {

std::string
FormatUtcTimestamp(std::chrono::system_clock::time_point time)
{
	// floor (not duration_cast) so instants before 1970 still split into a valid second + millisecond.
	const auto millis = std::chrono::floor<std::chrono::milliseconds>(time.time_since_epoch());
	const auto seconds = std::chrono::floor<std::chrono::seconds>(millis);
	const auto fraction = static_cast<int>((millis - seconds).count());
	const std::time_t epoch_seconds = static_cast<std::time_t>(seconds.count());

	std::tm utc{};
	if (gmtime_r(&epoch_seconds, &utc) == nullptr)
		return "1970-01-01T00:00:00.000Z";

	// Sized for the widest int fields so the compiler can prove no truncation; real output is 24 bytes.
	char buffer[96];
	std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
	              utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, fraction);
	return buffer;
}

} // namespace balatrix::sidecar
