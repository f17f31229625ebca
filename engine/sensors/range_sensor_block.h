// Range sensor block (scenario type "range_sensor"): a multi-channel lidar (from a channel
// table), a planar safety scanner or a pinhole depth camera, mounted at a fixed pose in a
// static scene described in the scenario. Each run casts every beam through the BVH and writes
// the measured ranges (noise, quantization, divergence dropouts, max-range returns) next to
// the true ranges.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/block.h"
#include "engine/params.h"
#include "engine/sensors/lidar_pattern.h"
#include "engine/sensors/range_sensor_world.h"
#include "engine/sensors/raycast_scene.h"

namespace ftwin {

/// A rigid body of the scene whose pose (x, y, z, yaw) comes from input ports every run. Its
/// geometry is kept in its own frame with its own BVH, built once; a ray is transformed into
/// the body frame instead of moving (and refitting) the geometry: exact, and the block stays
/// const with no per-world BVH.
struct MovingBody {
  std::string name;
  RaycastScene scene;
};

class RangeSensorBlock final : public Block {
 public:
  RangeSensorBlock(std::string name, RaycastScene scene, std::vector<Ray> rays,
                   RangeReturnParams returns, int64_t period_ns,
                   std::vector<MovingBody> bodies = {})
      : Block(std::move(name)),
        scene_(std::move(scene)),
        rays_(std::move(rays)),
        returns_(returns),
        period_ns_(period_ns),
        bodies_(std::move(bodies)) {}
  /// Reads pattern, mount pose, return model and scene; reports errors with file/line/key.
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);

  std::string type_name() const override { return "range_sensor"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  /// Device path: the static scene, every body's scene and the beams are uploaded once
  /// (CreateDeviceData); UpdateDevice casts every beam of every world, one thread each.
  bool SupportsCuda() const override { return true; }
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor& executor) const override;
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;
  /// Beams in world coordinates (after the mount pose).
  const std::vector<Ray>& rays() const { return rays_; }

 private:
  /// What RangeSensorBeam casts against, host pointers.
  RangeSensorScenes HostScenes() const;
  RaycastScene scene_;
  std::vector<Ray> rays_;
  RangeReturnParams returns_;
  int64_t period_ns_;
  std::vector<MovingBody> bodies_;
  std::vector<int> in_pose_;  // 4 per body: x, y, z, yaw
  int out_range_ = -1;
  FieldId true_range_ = kInvalidField;
};

}  // namespace ftwin
