// 3D scene descriptions for recordings: blocks with geometry (robot cells) describe each
// world's scene as Foxglove `foxglove.SceneUpdate` messages, so a recording opens in Foxglove's
// 3D panel as it is (docs/batches.md).
#pragma once

#include <array>
#include <string>
#include <vector>

namespace ftwin {

/// A primitive in a scene entity, positioned in the entity's frame (SI units, quaternion x y z w).
struct ScenePrimitive {
  enum class Kind { kCube, kSphere, kCylinder };
  Kind kind = Kind::kCube;
  std::array<double, 3> position{};
  std::array<double, 4> orientation{0, 0, 0, 1};
  std::array<double, 3> size{1, 1, 1};  ///< cube edges, sphere/cylinder diameters and height
  std::array<double, 4> color{0.6, 0.6, 0.6, 1.0};  ///< r g b a in [0, 1]
};

/// One named object of a scene (a robot, a car body) made of primitives.
struct SceneEntity {
  std::string id;
  std::vector<ScenePrimitive> primitives;
};

/// Collects the entities of one world's scene and writes them as a foxglove.SceneUpdate.
class SceneBuilder {
 public:
  SceneEntity& Entity(const std::string& id);
  bool empty() const { return entities_.empty(); }
  const std::vector<SceneEntity>& entities() const { return entities_; }
  /// The foxglove.SceneUpdate JSON message at `time_ns`, in coordinate frame `frame_id`.
  std::string ToJson(int64_t time_ns, const std::string& frame_id) const;

 private:
  std::vector<SceneEntity> entities_;
};

/// The JSON schema of foxglove.SceneUpdate as far as ftwin writes it.
extern const char* const kSceneUpdateJsonSchema;

}  // namespace ftwin
