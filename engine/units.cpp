#include "engine/units.h"

#include <array>
#include <cctype>
#include <cstdio>

namespace ftwin {
namespace {

struct UnitScale {
  std::string_view name;
  int64_t nanoseconds;
};

constexpr std::array<UnitScale, 8> kUnits = {{{"ns", 1},
                                              {"us", 1'000},
                                              {"ms", 1'000'000},
                                              {"s", kNanosecondsPerSecond},
                                              {"min", 60 * kNanosecondsPerSecond},
                                              {"h", 3600 * kNanosecondsPerSecond},
                                              {"d", 86400 * kNanosecondsPerSecond},
                                              {"w", 7 * 86400 * kNanosecondsPerSecond}}};

bool MultiplyChecked(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
bool AddChecked(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }

}  // namespace

std::optional<int64_t> ParseDurationNs(std::string_view text) {
  size_t position = 0;
  auto skip_spaces = [&] {
    while (position < text.size() && std::isspace(static_cast<unsigned char>(text[position])))
      ++position;
  };
  skip_spaces();
  // Integer part.
  int64_t integer_part = 0;
  size_t digits = 0;
  while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position]))) {
    if (!MultiplyChecked(integer_part, 10, &integer_part) ||
        !AddChecked(integer_part, text[position] - '0', &integer_part))
      return std::nullopt;
    ++position;
    ++digits;
  }
  // Fraction digits kept as a decimal string, converted exactly once the unit is known.
  std::string_view fraction;
  if (position < text.size() && text[position] == '.') {
    ++position;
    const size_t start = position;
    while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position])))
      ++position;
    fraction = text.substr(start, position - start);
  }
  if (digits == 0 && fraction.empty()) return std::nullopt;
  skip_spaces();
  size_t unit_start = position;
  while (position < text.size() && std::isalpha(static_cast<unsigned char>(text[position])))
    ++position;
  const std::string_view unit = text.substr(unit_start, position - unit_start);
  skip_spaces();
  if (position != text.size() || unit.empty()) return std::nullopt;
  const UnitScale* scale = nullptr;
  for (const UnitScale& candidate : kUnits)
    if (candidate.name == unit) scale = &candidate;
  if (scale == nullptr) return std::nullopt;

  int64_t total = 0;
  if (!MultiplyChecked(integer_part, scale->nanoseconds, &total)) return std::nullopt;
  // fraction * scale must be an integer number of nanoseconds.
  int64_t numerator = 0;
  int64_t denominator = 1;
  for (char digit : fraction) {
    if (!MultiplyChecked(numerator, 10, &numerator) ||
        !AddChecked(numerator, digit - '0', &numerator) ||
        !MultiplyChecked(denominator, 10, &denominator))
      return std::nullopt;
  }
  if (numerator != 0) {
    // numerator/denominator * scale, exactly: reduce before multiplying.
    int64_t a = numerator, b = denominator;
    while (b != 0) {
      const int64_t t = a % b;
      a = b;
      b = t;
    }
    numerator /= a;
    denominator /= a;
    if (scale->nanoseconds % denominator != 0) return std::nullopt;  // finer than 1 ns
    int64_t fraction_ns = 0;
    if (!MultiplyChecked(numerator, scale->nanoseconds / denominator, &fraction_ns) ||
        !AddChecked(total, fraction_ns, &total))
      return std::nullopt;
  }
  return total;
}

std::string FormatDuration(int64_t nanoseconds) {
  char buffer[96];
  const bool negative = nanoseconds < 0;
  const uint64_t magnitude =
      negative ? static_cast<uint64_t>(-(nanoseconds + 1)) + 1 : static_cast<uint64_t>(nanoseconds);
  const char* sign = negative ? "-" : "";
  const uint64_t second = kNanosecondsPerSecond;
  if (magnitude < 1'000'000) {
    std::snprintf(buffer, sizeof buffer, "%s%.3gus", sign, static_cast<double>(magnitude) / 1e3);
  } else if (magnitude < second) {
    std::snprintf(buffer, sizeof buffer, "%s%.4gms", sign, static_cast<double>(magnitude) / 1e6);
  } else if (magnitude < 60 * second) {
    std::snprintf(buffer, sizeof buffer, "%s%.4gs", sign, static_cast<double>(magnitude) / 1e9);
  } else {
    const uint64_t total_seconds = magnitude / second;
    const uint64_t days = total_seconds / 86400;
    const uint64_t hours = total_seconds % 86400 / 3600;
    const uint64_t minutes = total_seconds % 3600 / 60;
    const uint64_t seconds = total_seconds % 60;
    if (days > 0)
      std::snprintf(buffer, sizeof buffer, "%s%llud %02lluh %02llumin", sign,
                    static_cast<unsigned long long>(days), static_cast<unsigned long long>(hours),
                    static_cast<unsigned long long>(minutes));
    else if (hours > 0)
      std::snprintf(buffer, sizeof buffer, "%s%lluh %02llumin %02llus", sign,
                    static_cast<unsigned long long>(hours),
                    static_cast<unsigned long long>(minutes),
                    static_cast<unsigned long long>(seconds));
    else
      std::snprintf(buffer, sizeof buffer, "%s%llumin %02llus", sign,
                    static_cast<unsigned long long>(minutes),
                    static_cast<unsigned long long>(seconds));
  }
  return buffer;
}

}  // namespace ftwin
