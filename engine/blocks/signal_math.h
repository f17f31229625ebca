// The signal_source block's value as a pure function of time (host-device): the CPU driver
// (SignalSourceBlock::Update) and the device driver (UpdateDevice) both call SignalValueAt.
#pragma once

#include <cmath>
#include <cstdint>

#include "gpu/host_device.h"

namespace ftwin {

/// A signal's shape; the schedule arrays live in host or device memory, matching the caller.
struct SignalShape {
  enum Kind : int32_t { kConstant, kStep, kRamp, kSine, kSchedule };
  int32_t kind = kConstant;
  double value = 0.0;        ///< constant; step: value before; ramp: value at start; sine: mean
  double final_value = 0.0;  ///< step: value after; ramp: value at end
  double start_s = 0.0;      ///< step time; ramp start
  double end_s = 0.0;        ///< ramp end
  double amplitude = 0.0;    ///< sine
  double period_s = 0.0;     ///< sine period; schedule repeat period (0 = no repeat)
  double phase_s = 0.0;      ///< sine: time of the first maximum
  const double* times_s = nullptr;  ///< schedule points (strictly increasing)
  const double* values = nullptr;
  int32_t num_points = 0;
  int32_t hold = 0;  ///< schedule: zero-order hold instead of linear
};

/// The signal at time t (seconds).
FTWIN_HD inline double SignalValueAt(const SignalShape& s, double time_s) {
  switch (s.kind) {
    case SignalShape::kConstant:
      return s.value;
    case SignalShape::kStep:
      return time_s < s.start_s ? s.value : s.final_value;
    case SignalShape::kRamp: {
      if (time_s <= s.start_s) return s.value;
      if (time_s >= s.end_s) return s.final_value;
      const double fraction = (time_s - s.start_s) / (s.end_s - s.start_s);
      return s.value + fraction * (s.final_value - s.value);
    }
    case SignalShape::kSine:
      return s.value + s.amplitude * cos(2.0 * M_PI * (time_s - s.phase_s) / s.period_s);
    case SignalShape::kSchedule: {
      double t = time_s;
      if (s.period_s > 0) t = fmod(t, s.period_s);
      const double* times = s.times_s;
      const int32_t count = s.num_points;
      if (t <= times[0]) return s.values[0];
      if (t >= times[count - 1]) return s.values[count - 1];
      // First point later than t (std::upper_bound), by bisection.
      int32_t low = 0, high = count;
      while (low < high) {
        const int32_t middle = low + (high - low) / 2;
        if (t < times[middle])
          high = middle;
        else
          low = middle + 1;
      }
      const int32_t upper = low;
      const int32_t lower = upper - 1;
      if (s.hold) return s.values[lower];
      const double fraction = (t - times[lower]) / (times[upper] - times[lower]);
      return s.values[lower] + fraction * (s.values[upper] - s.values[lower]);
    }
    default:
      return 0.0;
  }
}

}  // namespace ftwin
