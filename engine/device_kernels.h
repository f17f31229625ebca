// Device drivers of the engine's own per-world work: the numeric-failure check of the
// Simulator and the updates of the engine blocks that have a device path (signal_source,
// pid_controller, sensor). Arguments of one launch and the launchers; the launchers live in
// device_kernels.cpp (compiled by nvcc through device_kernels.cu in CUDA builds) and hold no
// formulas: each kernel calls the block's host-device per-world step.
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/blocks/pid_math.h"
#include "engine/blocks/signal_math.h"
#include "engine/rng.h"
#include "engine/sensors/noise_math.h"
#include "gpu/executor.h"
#include "gpu/world_array.h"

namespace ftwin {

/// One checked State field (f64 or f32) as the failure check sees it.
struct CheckedFieldView {
  const void* data = nullptr;  ///< device memory, all worlds
  int64_t count = 0;           ///< elements per world
  int32_t is_double = 1;       ///< 1: f64, 0: f32
  double lower = 0.0, upper = 0.0;
};

/// Sets failed[w] = 1 for every world with a NaN, an Inf or a value outside [lower, upper] in a
/// checked field (0 otherwise), and *any_failed = 1 when some world failed (an integer flag, so
/// the result does not depend on thread order). `fields` is in device memory.
void CheckWorldsOnDevice(gpu::Executor& executor, int num_worlds, const CheckedFieldView* fields,
                         int num_fields, uint8_t* failed, int32_t* any_failed);

/// The same per-world test on the host (the CPU driver of the check).
FTWIN_HD inline bool WorldFailsCheck(const CheckedFieldView* fields, int num_fields, int world) {
  for (int f = 0; f < num_fields; ++f) {
    const CheckedFieldView& field = fields[f];
    const int64_t begin = field.count * static_cast<int64_t>(world);
    for (int64_t i = 0; i < field.count; ++i) {
      const double v = field.is_double ? static_cast<const double*>(field.data)[begin + i]
                                       : static_cast<const float*>(field.data)[begin + i];
      // Written so that NaN fails: !(lower <= v <= upper) is true for NaN.
#if defined(__CUDA_ARCH__)
      const bool finite = isfinite(v);
#else
      const bool finite = std::isfinite(v);
#endif
      if (!(v >= field.lower && v <= field.upper) || !finite) return true;
    }
  }
  return false;
}

struct SignalSourceArgs {
  SignalShape shape;  ///< schedule arrays in device memory
  double time_s = 0.0;
  gpu::WorldArray<double> out;
};
void SignalSourceOnDevice(gpu::Executor& executor, int num_worlds, const SignalSourceArgs& args);

struct PidDeviceArgs {
  PidParams params;
  double period_s = 0.0;
  gpu::WorldArray<double> slots;
  gpu::WorldArray<const double> setpoint, measurement;
  gpu::WorldArray<const uint8_t> stuck;
  gpu::WorldArray<double> command, stats;
};
void PidOnDevice(gpu::Executor& executor, int num_worlds, const PidDeviceArgs& args);

struct SensorArgs {
  SensorModelParams params;
  uint64_t seed = 0;
  uint32_t stream = 0;  ///< the block's stream base (BlockIo::Rng(seed, 0))
  int64_t tick = 0;
  double time_s = 0.0;  ///< end of the step
  double period_s = 0.0;
  gpu::WorldArray<const double> truth, faults;
  gpu::WorldArray<double> model_state, ring;  ///< ring.base null without latency
  gpu::WorldArray<double> value;
  gpu::WorldArray<uint8_t> valid;
  gpu::WorldArray<double> truth_copy, counters;
};
void SensorOnDevice(gpu::Executor& executor, int num_worlds, const SensorArgs& args);

}  // namespace ftwin
