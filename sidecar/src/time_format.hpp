/*
 * Timestamps as they appear on the wire and in the logs.
 */
#pragma once

#include <chrono>
#include <string>

namespace balatrix::sidecar {

// RFC 3339 UTC with millisecond precision, e.g. "2026-11-24T10:00:00.123Z" (sub-millisecond digits are
// truncated, not rounded, so a timestamp never lies in the future).
std::string FormatUtcTimestamp(std::chrono::system_clock::time_point time);

} // namespace balatrix::sidecar
