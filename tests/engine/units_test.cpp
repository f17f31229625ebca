// Durations with units, parsed exactly.
#include "engine/units.h"

#include <catch2/catch.hpp>

namespace ftwin {
namespace {

TEST_CASE("Durations parse exactly into nanoseconds", "[units]") {
  CHECK(ParseDurationNs("90s") == 90 * kNanosecondsPerSecond);
  CHECK(ParseDurationNs("15min") == 900 * kNanosecondsPerSecond);
  CHECK(ParseDurationNs("12h") == 12 * 3600 * kNanosecondsPerSecond);
  CHECK(ParseDurationNs("730d") == 730LL * 86400 * kNanosecondsPerSecond);
  CHECK(ParseDurationNs("1ms") == 1'000'000);
  CHECK(ParseDurationNs("250us") == 250'000);
  CHECK(ParseDurationNs("7ns") == 7);
  CHECK(ParseDurationNs("2w") == 14LL * 86400 * kNanosecondsPerSecond);
  CHECK(ParseDurationNs(" 1.5 h ") == 5400 * kNanosecondsPerSecond);
  CHECK(ParseDurationNs("0.001s") == 1'000'000);  // no binary rounding: exactly 1 ms
  CHECK(ParseDurationNs("0.1s") == 100'000'000);
  CHECK(ParseDurationNs(".5s") == 500'000'000);
  CHECK(ParseDurationNs("0s") == 0);
}

TEST_CASE("Malformed durations are rejected", "[units]") {
  for (const char* bad : {"", "s", "10", "10 parsecs", "-5s", "1.5ns", "1e3s", "10s5", "1..2s",
                          "99999999999999999999s", "300000d"})
    CHECK_FALSE(ParseDurationNs(bad).has_value());
}

TEST_CASE("Durations format for people", "[units]") {
  CHECK(FormatDuration(90 * kNanosecondsPerSecond) == "1min 30s");
  CHECK(FormatDuration(3 * 86400 * kNanosecondsPerSecond + 4 * 3600 * kNanosecondsPerSecond) ==
        "3d 04h 00min");
  CHECK(FormatDuration(250'000'000) == "250ms");
}

}  // namespace
}  // namespace ftwin
