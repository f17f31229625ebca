// Durations with units ("90s", "15min", "12h", "730d", "1ms") parsed exactly into integer
// nanoseconds, so that the engine clock never accumulates floating-point time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ftwin {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;

/// Parses a duration such as "90s", "1.5 h", "15min", "730d", "250ms", "10us", "5ns".
/// Units: ns, us, ms, s, min, h, d, w. Returns nullopt on a malformed value, a negative
/// value, a fraction finer than 1 ns, or overflow of int64 nanoseconds (about 292 years).
/// Decimal fractions are converted exactly (no binary rounding).
std::optional<int64_t> ParseDurationNs(std::string_view text);

/// Formats nanoseconds for people: "1h 02min 03.5s", "250ms", "3d 4h".
std::string FormatDuration(int64_t nanoseconds);

/// Seconds as double from integer nanoseconds.
constexpr double NsToSeconds(int64_t nanoseconds) {
  return static_cast<double>(nanoseconds) / static_cast<double>(kNanosecondsPerSecond);
}

/// The list of accepted duration units, for error messages.
constexpr const char* kDurationUnitsHelp =
    "a duration with a unit: ns, us, ms, s, min, h, d, w "
    "(e.g. 90s, 15min, 12h, 730d)";

}  // namespace ftwin
