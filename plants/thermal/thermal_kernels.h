// Device driver of the thermal_network block: the arguments of one launch and the launcher
// (plants/thermal/thermal_kernels.cpp; compiled by nvcc through thermal_kernels.cu in CUDA
// builds). No formula here: the kernel calls ThermalWorldStep.
#pragma once

#include <cstdint>

#include "gpu/executor.h"
#include "gpu/world_array.h"
#include "plants/thermal/thermal_math.h"

namespace ftwin {

struct ThermalDeviceArgs {
  ThermalStepModel model;  ///< device pointers
  int num_heat = 0;
  int32_t heated_nodes[kThermalMaxNodes] = {};
  gpu::WorldArray<const double> heat_W[kThermalMaxNodes] = {};
  double period_s = 0.0;
  gpu::WorldArray<const double> ambient_K, leak_W;
  gpu::WorldArray<double> temp_K, loss_W, totals;
};

/// ThermalWorldStep for every world.
void ThermalOnDevice(gpu::Executor& executor, int num_worlds, const ThermalDeviceArgs& args);

}  // namespace ftwin
