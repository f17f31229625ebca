// Loop drivers (gpu/for_each_world.h) of the engine's per-world device work. Compiled as C++ in
// builds without CUDA (emulated executor only) and by nvcc through device_kernels.cu otherwise.
#include "engine/device_kernels.h"

#include "engine/sensors/sensor_world.h"
#include "gpu/for_each_world.h"

namespace ftwin {
namespace {

struct CheckKernel {
  const CheckedFieldView* fields;
  int num_fields;
  uint8_t* failed;
  int32_t* any_failed;
  FTWIN_HD void operator()(int world) const {
    const bool fails = WorldFailsCheck(fields, num_fields, world);
    failed[world] = fails ? 1 : 0;
    if (fails) {
#if defined(__CUDA_ARCH__)
      atomicOr(any_failed, 1);  // integer: the result is the same in any order
#else
      *any_failed = 1;
#endif
    }
  }
};

struct SignalKernel {
  SignalSourceArgs args;
  FTWIN_HD void operator()(int world) const {
    args.out.World(world)[0] = SignalValueAt(args.shape, args.time_s);
  }
};

struct PidKernel {
  PidDeviceArgs a;
  FTWIN_HD void operator()(int world) const {
    PidWorldStep(a.params, a.period_s,
                 {a.slots.World(world), a.setpoint.World(world), a.measurement.World(world),
                  a.stuck.World(world), a.command.World(world), a.stats.World(world)});
  }
};

struct SensorKernel {
  SensorArgs a;
  FTWIN_HD void operator()(int world) const {
    const CounterRng rng{a.seed, static_cast<uint32_t>(world), a.stream};
    SensorWorldStep(a.params, rng, a.tick, a.time_s, a.period_s,
                    {a.truth.World(world), a.faults.World(world), a.model_state.World(world),
                     a.ring.base == nullptr ? nullptr : a.ring.World(world), a.value.World(world),
                     a.valid.World(world), a.truth_copy.World(world), a.counters.World(world)});
  }
};

}  // namespace

void CheckWorldsOnDevice(gpu::Executor& executor, int num_worlds, const CheckedFieldView* fields,
                         int num_fields, uint8_t* failed, int32_t* any_failed) {
  executor.Zero(any_failed, sizeof(int32_t));
  gpu::ForEachWorld(executor, num_worlds, CheckKernel{fields, num_fields, failed, any_failed},
                    "numeric check kernel");
}

void SignalSourceOnDevice(gpu::Executor& executor, int num_worlds, const SignalSourceArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, SignalKernel{args}, "signal_source kernel");
}

void PidOnDevice(gpu::Executor& executor, int num_worlds, const PidDeviceArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, PidKernel{args}, "pid_controller kernel");
}

void SensorOnDevice(gpu::Executor& executor, int num_worlds, const SensorArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, SensorKernel{args}, "sensor kernel");
}

}  // namespace ftwin
