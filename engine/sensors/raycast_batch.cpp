// CPU driver of batched range sensing, and the scene upload when CUDA is not built.
#include "engine/sensors/raycast_batch.h"

#include <cmath>

#include "engine/thread_pool.h"

namespace ftwin {

SensorPose SensorPoseFromYawPitchRoll(const double position[3], double yaw, double pitch,
                                      double roll) {
  const double cy = std::cos(yaw), sy = std::sin(yaw), cp = std::cos(pitch), sp = std::sin(pitch);
  const double cr = std::cos(roll), sr = std::sin(roll);
  return {{position[0], position[1], position[2]},
          {cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr, sy * cp, sy * sp * sr + cy * cr,
           sy * sp * cr - cy * sr, -sp, cp * sr, cp * cr}};
}

void CastBatchCpu(const RaycastBatch& batch, ThreadPool* pool) {
  auto run = [&batch](int world_begin, int world_end) {
    for (int32_t w = world_begin; w < world_end; ++w)
      for (int32_t beam = 0; beam < batch.num_beams; ++beam) CastBatchBeam(batch, w, beam);
  };
  if (pool == nullptr || pool->num_threads() <= 1 || batch.num_worlds <= 1) {
    run(0, batch.num_worlds);
    return;
  }
  pool->ParallelFor(batch.num_worlds, run);
}

}  // namespace ftwin
