// The CPU driver of ray casting: builds the BVH of a scene once, refits it when bodies move,
// and casts batches of rays with the host-device functions of raycast_math.h.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/sensors/raycast_math.h"

namespace ftwin {

/// Bounding box of one primitive (planes: unbounded, not used).
Aabb PrimitiveBounds(const Primitive& primitive);

class RaycastScene {
 public:
  /// Adds a primitive; returns its id (stable across Build). Planes go to the unbounded list.
  int32_t Add(const Primitive& primitive);
  int32_t AddSphere(const double center[3], double radius, int32_t body = -1);
  /// `rotation` row-major, its columns are the box axes in world coordinates.
  int32_t AddBox(const double center[3], const double rotation[9], const double half_extent[3],
                 int32_t body = -1);
  int32_t AddCapsule(const double a[3], const double b[3], double radius, int32_t body = -1);
  int32_t AddCylinder(const double a[3], const double b[3], double radius, int32_t body = -1);
  int32_t AddPlane(const double normal[3], double offset);
  /// A triangle mesh: vertices xyz, triangles as index triples; returns the first id.
  int32_t AddMesh(std::span<const double> vertices_xyz, std::span<const int32_t> indices,
                  int32_t body = -1);

  /// Builds the BVH (binned SAH over all three axes with a per-kind intersection cost, at
  /// most 8 primitives a leaf).
  void Build();
  /// Replaces primitive `id` (same kind; a moving body), then Refit().
  void Update(int32_t id, const Primitive& primitive);
  /// Recomputes every node box bottom-up after primitives moved (topology unchanged).
  void Refit();

  /// The view CastRay reads.
  SceneView View() const;
  /// Casts every ray; hits[i].primitive is a primitive id (as returned by Add), or -1.
  void Cast(std::span<const Ray> rays, std::span<RayHit> hits) const;

  int32_t num_primitives() const { return static_cast<int32_t>(ordered_.size()); }
  int32_t num_nodes() const { return static_cast<int32_t>(nodes_.size()); }
  /// Depth of the deepest leaf of the 4-wide BVH (root = 1).
  int depth() const { return depth_; }

 private:
  std::vector<Primitive> added_;  // by id (bounded primitives and planes mixed)
  std::vector<int32_t> plane_ids_;
  std::vector<Primitive> planes_;
  std::vector<int32_t> order_;      // BVH slot -> id
  std::vector<int32_t> slot_of_;    // id -> BVH slot (-1 for planes)
  std::vector<Primitive> ordered_;  // primitives in BVH slot order
  std::vector<BvhNode> nodes_;
  int depth_ = 0;
};

}  // namespace ftwin
