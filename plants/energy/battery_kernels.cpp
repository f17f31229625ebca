// Loop driver of BatteryWorldStep over worlds (gpu/for_each_world.h). Compiled as C++ in builds
// without CUDA (emulated executor only) and by nvcc through battery_kernels.cu otherwise.
#include "plants/energy/battery_kernels.h"

#include "gpu/for_each_world.h"

namespace ftwin::energy {
namespace {

struct BatteryKernel {
  BatteryDeviceArgs a;
  FTWIN_HD void operator()(int world) const {
    BatteryWorldStep(
        a.pack, a.period_s,
        {a.cell.World(world), a.totals.World(world), a.sign.World(world), a.strings.World(world),
         a.inverter_ok.World(world), a.manual.World(world), a.setpoint.World(world),
         a.request.World(world), a.ambient.World(world), a.power_W.World(world), a.soc.World(world),
         a.voltage_V.World(world), a.current_A.World(world), a.temp_K.World(world)});
  }
};

}  // namespace

void BatteryOnDevice(gpu::Executor& executor, int num_worlds, const BatteryDeviceArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, BatteryKernel{args}, "battery kernel");
}

}  // namespace ftwin::energy
