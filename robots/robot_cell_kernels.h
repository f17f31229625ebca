// Device driver of the robot cell (native physics): launch arguments and the launcher
// (robot_cell_kernels.cpp, compiled by nvcc through robot_cell_kernels.cu in CUDA builds). No
// formula: the kernel calls CellWorldStepNative (robots/robot_cell_world.h).
#pragma once

#include <cstdint>

#include "gpu/executor.h"
#include "gpu/world_array.h"
#include "robots/robot_cell_world.h"

namespace ftwin {

struct RobotCellDeviceArgs {
  const CellParams* params = nullptr;  ///< in executor memory
  int64_t tick = 0;
  double time_s = 0.0, period_s = 0.0;
  gpu::WorldArray<double> q, qd, tau, move_from, move_to, robot, cell, visitor, agv, power_W;
  gpu::WorldArray<double> body_pose[4];
  gpu::WorldArray<int64_t> robot_state, counts, zone_owner, collision_events;
};

/// CellWorldStepNative for every world.
void RobotCellOnDevice(gpu::Executor& executor, int num_worlds, const RobotCellDeviceArgs& args);

}  // namespace ftwin
