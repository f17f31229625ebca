// Loop driver of ThermalWorldStep over worlds (gpu/for_each_world.h). Compiled as C++ in builds
// without CUDA (emulated executor only) and by nvcc through thermal_kernels.cu otherwise.
#include "plants/thermal/thermal_kernels.h"

#include "gpu/for_each_world.h"

namespace ftwin {
namespace {

struct ThermalKernel {
  ThermalDeviceArgs args;
  FTWIN_HD void operator()(int world) const {
    const double* heat[kThermalMaxNodes];
    for (int k = 0; k < args.num_heat; ++k) heat[k] = args.heat_W[k].World(world);
    ThermalWorldStep(
        args.model, args.heated_nodes, args.num_heat, args.period_s,
        {args.ambient_K.World(world), heat, args.leak_W.World(world), args.temp_K.World(world),
         args.loss_W.World(world), args.totals.World(world)});
  }
};

}  // namespace

void ThermalOnDevice(gpu::Executor& executor, int num_worlds, const ThermalDeviceArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, ThermalKernel{args}, "thermal_network kernel");
}

}  // namespace ftwin
