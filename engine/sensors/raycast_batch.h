// Batched range sensing for many worlds: one scan pattern (rays in the sensor frame), one static
// scene, a sensor pose per world. Two loop drivers around the same host-device function
// (CastBatchBeam): the CPU one (thread pool, static world ranges) and the CUDA one (one thread per
// world and beam). Neither has a formula of its own (DESIGN.md §2.6).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/sensors/raycast_math.h"

namespace ftwin {

class ThreadPool;

/// Where a sensor is in one world: p_world = rotation * p_sensor + position (row-major 3x3).
struct SensorPose {
  double position[3];
  double rotation[9];
};

/// Builds the pose of a sensor at `position` turned by yaw, pitch, roll (Z-Y-X, radians), the
/// convention of the range_sensor block.
SensorPose SensorPoseFromYawPitchRoll(const double position[3], double yaw, double pitch,
                                      double roll);

/// One batched scan: inputs and outputs, host pointers for the CPU driver, device pointers
/// inside the CUDA driver.
struct RaycastBatch {
  SceneView scene;
  const Ray* pattern = nullptr;  ///< beams in the sensor frame [num_beams]
  int32_t num_beams = 0;
  const SensorPose* poses = nullptr;  ///< [num_worlds]
  int32_t num_worlds = 0;
  int32_t first_world = 0;  ///< world index of poses[0] (random keys use the absolute index)
  RangeReturnParams returns;
  uint64_t seed = 0;    ///< random key (seed, world, stream), counter tick * beams + beam,
  uint32_t stream = 0;  ///< as the range_sensor block keys its draws
  int64_t tick = 0;
  double* true_range_m = nullptr;  ///< [num_worlds x num_beams], inf = no hit
  double* range_m = nullptr;       ///< [num_worlds x num_beams], the measured range
};

/// Casts beam `beam` of world `world` (0-based within the batch) and writes both ranges.
FTWIN_HD inline void CastBatchBeam(const RaycastBatch& batch, int32_t world, int32_t beam) {
  const SensorPose& pose = batch.poses[world];
  const Ray& local = batch.pattern[beam];
  Ray ray = local;
  for (int r = 0; r < 3; ++r) {
    const double* row = pose.rotation + 3 * r;
    ray.origin[r] = Dot3(row, local.origin) + pose.position[r];
    ray.direction[r] = Dot3(row, local.direction);
  }
  const RayHit hit = CastRay(batch.scene, ray);
  const int64_t index = static_cast<int64_t>(world) * batch.num_beams + beam;
  const CounterRng rng = {batch.seed, static_cast<uint32_t>(batch.first_world + world),
                          batch.stream};
  batch.true_range_m[index] = hit.t;
  batch.range_m[index] =
      MeasuredRange(batch.returns, hit.t, rng,
                    static_cast<uint64_t>(batch.tick) * static_cast<uint64_t>(batch.num_beams) +
                        static_cast<uint64_t>(beam));
}

/// CPU driver: every world and beam, worlds split into static ranges over `pool` (null: this
/// thread), so the result does not depend on the thread count.
void CastBatchCpu(const RaycastBatch& batch, ThreadPool* pool);

/// A scene copied to the GPU once (primitives, BVH nodes, planes); scans then reuse it.
class DeviceRaycastScene {
 public:
  DeviceRaycastScene();
  ~DeviceRaycastScene();
  DeviceRaycastScene(const DeviceRaycastScene&) = delete;
  DeviceRaycastScene& operator=(const DeviceRaycastScene&) = delete;
  /// Uploads a built scene (RaycastScene::View(), host pointers). False (and why) without CUDA
  /// or a device.
  bool Upload(const SceneView& host_scene, std::string* error);
  /// The view with device pointers (valid after Upload).
  SceneView view() const;

 private:
  struct Buffers;
  std::unique_ptr<Buffers> buffers_;
  SceneView view_{};
};

/// CUDA driver: `batch` holds host pointers (pattern, poses in; ranges out); the scene is the
/// device copy. Copies the pattern and poses up and the ranges down once per call. False (and
/// why) without CUDA or a device.
bool CastBatchCuda(const DeviceRaycastScene& scene, const RaycastBatch& batch, std::string* error);

}  // namespace ftwin
