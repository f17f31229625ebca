// Device driver of the battery block: launch arguments and the launcher (battery_kernels.cpp,
// compiled by nvcc through battery_kernels.cu in CUDA builds). No formula: the kernel calls
// BatteryWorldStep.
#pragma once

#include "gpu/executor.h"
#include "gpu/world_array.h"
#include "plants/energy/battery_world.h"

namespace ftwin::energy {

struct BatteryDeviceArgs {
  BatteryPack pack;
  double period_s = 0.0;
  gpu::WorldArray<double> cell, totals, sign;
  gpu::WorldArray<const double> strings, inverter_ok, manual, setpoint, request, ambient;
  gpu::WorldArray<double> power_W, soc, voltage_V, current_A, temp_K;
};

/// BatteryWorldStep for every world.
void BatteryOnDevice(gpu::Executor& executor, int num_worlds, const BatteryDeviceArgs& args);

}  // namespace ftwin::energy
