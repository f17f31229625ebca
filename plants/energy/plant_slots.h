// Host side of the plant steps (plant_world.h): where each slot of a step lives for one block
// (PlantSlots: an input port, an output port or a State field, recorded once in Declare), the
// CPU driver and device driver built on it, and the block's constants in executor memory
// (PlantDeviceData: the step's parameters with their series and tables uploaded once).
#pragma once

#include <memory>
#include <vector>

#include "engine/block.h"
#include "engine/device_state.h"
#include "gpu/executor.h"
#include "plants/energy/plant_kernels.h"
#include "plants/energy/plant_world.h"

namespace ftwin::energy {

class PlantSlots {
 public:
  /// Sizes the tables (at most kPlantMaxIn / kPlantMaxOut); every slot starts absent.
  void Reset(int num_in, int num_out);
  void SetInput(int slot, int port) { in_[static_cast<size_t>(slot)] = port; }
  void SetOutput(int slot, int port) { out_[static_cast<size_t>(slot)] = {true, port, 0}; }
  void SetField(int slot, FieldId field) { out_[static_cast<size_t>(slot)] = {false, -1, field}; }

  /// One world's tables (absent slots null).
  void Gather(const BlockIo& io, const double** in, double** out) const;
  /// The tables' views for a launch over all worlds (absent slots null).
  PlantViews Views(const DeviceState& state, const BlockBinding& binding) const;

 private:
  struct Out {
    bool is_port = false;
    int port = -1;
    FieldId field = kInvalidField;
  };
  std::vector<int> in_;
  std::vector<Out> out_;
};

inline PlantClock ClockOf(const TickInfo& tick) { return {tick.time_s, tick.period_s}; }

/// CPU driver: Step::Run on one world.
template <class Step>
void RunPlantStep(const typename Step::Params& params, const PlantSlots& slots,
                  const TickInfo& tick, BlockIo& io) {
  const double* in[kPlantMaxIn];
  double* out[kPlantMaxOut];
  slots.Gather(io, in, out);
  Step::Run(params, ClockOf(tick), in, out);
}

/// A block's step parameters with their series and tables in executor memory.
template <class P>
struct PlantDeviceData final : DeviceBlockData {
  P params;
  std::vector<gpu::DeviceArray<double>> arrays;
  /// Device copy of `n` host values (kept alive by this object).
  const double* Upload(gpu::Executor& executor, const double* host, int n) {
    arrays.push_back(gpu::DeviceArray<double>::FromHost(executor, host, static_cast<size_t>(n)));
    return arrays.back().data();
  }
  /// The same series over device copies of its arrays.
  SeriesView Upload(gpu::Executor& executor, SeriesView series) {
    if (series.n > 0) {
      series.time = Upload(executor, series.time, series.n);
      series.value = Upload(executor, series.value, series.n);
    }
    return series;
  }
};

/// Device driver: Step::Run on every world, with the parameters of `data`.
template <class Step>
void RunPlantOnDevice(const DeviceBlockData* data, const PlantSlots& slots, const TickInfo& tick,
                      const DeviceState& state, const BlockBinding& binding) {
  PlantArgs<Step> args;
  args.params = static_cast<const PlantDeviceData<typename Step::Params>*>(data)->params;
  args.clock = ClockOf(tick);
  args.views = slots.Views(state, binding);
  PlantOnDevice<Step>(state.executor(), state.num_worlds(), args);
}

}  // namespace ftwin::energy
