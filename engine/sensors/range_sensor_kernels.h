// Device driver of the range_sensor block: launch arguments and launcher
// (range_sensor_kernels.cpp, compiled by nvcc through range_sensor_kernels.cu in CUDA builds). No
// formula: the kernel calls RangeSensorBeam of range_sensor_world.h, like the CPU Update.
#pragma once

#include <cstdint>

#include "engine/sensors/range_sensor_world.h"
#include "gpu/executor.h"
#include "gpu/world_array.h"

namespace ftwin {

struct RangeSensorArgs {
  RangeSensorScenes scenes;  ///< device views (scenes, rays) uploaded by CreateDeviceData
  uint64_t seed = 0;
  uint32_t stream = 0;  ///< the block's stream base: BlockIo::Rng(seed, 0) of world w
  int64_t tick = 0;
  /// Per body: x, y, z, yaw input ports.
  gpu::WorldArray<const double> pose[4 * kRangeMaxBodies];
  gpu::WorldArray<double> range, truth;
};

/// One thread per (world, beam): every beam of every world of the batch.
void RangeSensorOnDevice(gpu::Executor& executor, int num_worlds, const RangeSensorArgs& args);

}  // namespace ftwin
