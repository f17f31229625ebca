// Device drivers of the instrument blocks: launch arguments and launchers
// (instrument_kernels.cpp, compiled by nvcc through instrument_kernels.cu in CUDA builds). No
// formula: each kernel calls the block's per-world step of instrument_world.h.
#pragma once

#include <cstdint>

#include "engine/rng.h"
#include "engine/sensors/instrument_world.h"
#include "gpu/executor.h"
#include "gpu/world_array.h"

namespace ftwin {

struct EnergyMeterArgs {
  EnergyMeterParams params;
  double period_s = 0.0;
  gpu::WorldArray<const double> power;
  gpu::WorldArray<double> energy, reading, true_kWh;
};
void EnergyMeterOnDevice(gpu::Executor& executor, int num_worlds, const EnergyMeterArgs& args);

/// The block's random stream base: BlockIo::Rng(seed, 0) of world w is {seed, w, stream}.
struct InstrumentRng {
  uint64_t seed = 0;
  uint32_t stream = 0;
  FTWIN_HD CounterRng For(int world) const {
    return CounterRng{seed, static_cast<uint32_t>(world), stream};
  }
};

struct ParticleCounterArgs {
  ParticleCounterParams params;
  InstrumentRng rng;
  double period_s = 0.0;
  int64_t period_ticks = 1;
  gpu::WorldArray<const double> concentration;
  gpu::WorldArray<double> acc, counts, measured;
  gpu::WorldArray<uint8_t> valid;
  gpu::WorldArray<double> expected;
};
void ParticleCounterOnDevice(gpu::Executor& executor, int num_worlds,
                             const ParticleCounterArgs& args);

struct StateSignalArgs {
  StateSignalParams params;
  InstrumentRng rng;
  gpu::WorldArray<const uint8_t> truth;  ///< stride in bytes
  gpu::WorldArray<double> ring, stats;
  gpu::WorldArray<uint8_t> state, true_state;
};
void StateSignalOnDevice(gpu::Executor& executor, int num_worlds, const StateSignalArgs& args);

struct LightCurtainArgs {
  LightCurtainParams params;
  double now_ns = 0.0;
  int64_t period_ticks = 1;
  gpu::WorldArray<const double> distance;
  gpu::WorldArray<double> timers;
  gpu::WorldArray<uint8_t> ossd, warning, intrusion;
};
void LightCurtainOnDevice(gpu::Executor& executor, int num_worlds, const LightCurtainArgs& args);

struct VibrationArgs {
  VibrationParams params;
  InstrumentRng rng;
  int64_t tick = 0;
  double period_s = 0.0;
  gpu::WorldArray<const double> speed;
  gpu::WorldArray<double> state, accel, harmonics;
};
void VibrationOnDevice(gpu::Executor& executor, int num_worlds, const VibrationArgs& args);

struct VectorSensorArgs {
  VectorSensorParams params;  ///< axes and cross-talk in device memory
  InstrumentRng rng;
  int64_t tick = 0;
  double time_s = 0.0;  ///< end of the step
  double period_s = 0.0;
  gpu::WorldArray<const double> truth[kVectorMaxAxes];
  gpu::WorldArray<double> value[kVectorMaxAxes], truth_copy[kVectorMaxAxes];
  gpu::WorldArray<uint8_t> valid;
  gpu::WorldArray<double> model_state, rings, stats;  ///< rings.base null without latency
};
void VectorSensorOnDevice(gpu::Executor& executor, int num_worlds, const VectorSensorArgs& args);

struct EventCounterArgs {
  EventCounterParams params;
  InstrumentRng rng;
  gpu::WorldArray<const double> truth;
  gpu::WorldArray<double> ring, stats, count, events, true_count;
};
void EventCounterOnDevice(gpu::Executor& executor, int num_worlds, const EventCounterArgs& args);

}  // namespace ftwin
