// Loop drivers (gpu/for_each_world.h) of the instrument blocks. Compiled as C++ in builds
// without CUDA (emulated executor only) and by nvcc through instrument_kernels.cu otherwise.
#include "engine/sensors/instrument_kernels.h"

#include "gpu/for_each_world.h"

namespace ftwin {
namespace {

struct EnergyMeterKernel {
  EnergyMeterArgs a;
  FTWIN_HD void operator()(int world) const {
    EnergyMeterWorldStep(a.params, a.period_s,
                         {a.power.World(world), a.energy.World(world), a.reading.World(world),
                          a.true_kWh.World(world)});
  }
};

struct ParticleCounterKernel {
  ParticleCounterArgs a;
  FTWIN_HD void operator()(int world) const {
    ParticleCounterWorldStep(
        a.params, a.rng.For(world), a.period_s, a.period_ticks,
        {a.concentration.World(world), a.acc.World(world), a.counts.World(world),
         a.measured.World(world), a.valid.World(world), a.expected.World(world)});
  }
};

struct StateSignalKernel {
  StateSignalArgs a;
  FTWIN_HD void operator()(int world) const {
    StateSignalWorldStep(a.params, a.rng.For(world),
                         {a.truth.World(world), a.ring.World(world), a.stats.World(world),
                          a.state.World(world), a.true_state.World(world)});
  }
};

struct LightCurtainKernel {
  LightCurtainArgs a;
  FTWIN_HD void operator()(int world) const {
    LightCurtainWorldStep(a.params, a.now_ns, a.period_ticks,
                          {a.distance.World(world), a.timers.World(world), a.ossd.World(world),
                           a.warning.World(world), a.intrusion.World(world)});
  }
};

struct VibrationKernel {
  VibrationArgs a;
  FTWIN_HD void operator()(int world) const {
    VibrationWorldStep(a.params, a.rng.For(world), a.tick, a.period_s,
                       {a.speed.World(world), a.state.World(world), a.accel.World(world),
                        a.harmonics.World(world)});
  }
};

struct VectorSensorKernel {
  VectorSensorArgs a;
  FTWIN_HD void operator()(int world) const {
    VectorSensorWorld w;
    for (int i = 0; i < a.params.num_axes; ++i) {
      w.truth[i] = a.truth[i].World(world);
      w.value[i] = a.value[i].World(world);
      w.truth_copy[i] = a.truth_copy[i].World(world);
    }
    w.valid = a.valid.World(world);
    w.model_state = a.model_state.World(world);
    w.rings = a.rings.base == nullptr ? nullptr : a.rings.World(world);
    w.stats = a.stats.World(world);
    VectorSensorWorldStep(a.params, a.rng.For(world), a.tick, a.time_s, a.period_s, w);
  }
};

struct EventCounterKernel {
  EventCounterArgs a;
  FTWIN_HD void operator()(int world) const {
    EventCounterRun(a.params, a.rng.For(world),
                    {a.truth.World(world), a.ring.World(world), a.stats.World(world),
                     a.count.World(world), a.events.World(world), a.true_count.World(world)});
  }
};

}  // namespace

void EnergyMeterOnDevice(gpu::Executor& executor, int num_worlds, const EnergyMeterArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, EnergyMeterKernel{args}, "energy_meter kernel");
}
void ParticleCounterOnDevice(gpu::Executor& executor, int num_worlds,
                             const ParticleCounterArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, ParticleCounterKernel{args}, "particle_counter kernel");
}
void StateSignalOnDevice(gpu::Executor& executor, int num_worlds, const StateSignalArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, StateSignalKernel{args}, "state_signal kernel");
}
void LightCurtainOnDevice(gpu::Executor& executor, int num_worlds, const LightCurtainArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, LightCurtainKernel{args}, "light_curtain kernel");
}
void VibrationOnDevice(gpu::Executor& executor, int num_worlds, const VibrationArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, VibrationKernel{args}, "vibration_sensor kernel");
}
void VectorSensorOnDevice(gpu::Executor& executor, int num_worlds, const VectorSensorArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, VectorSensorKernel{args}, "vector_sensor kernel");
}

void EventCounterOnDevice(gpu::Executor& executor, int num_worlds, const EventCounterArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, EventCounterKernel{args}, "event_counter kernel");
}

}  // namespace ftwin
