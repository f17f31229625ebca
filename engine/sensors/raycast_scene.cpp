#include "engine/sensors/raycast_scene.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ftwin {
namespace {

constexpr int32_t kLeafSize = 4;

void Grow(Aabb* box, const double point[3], double pad = 0.0) {
  for (int a = 0; a < 3; ++a) {
    box->lower[a] = std::min(box->lower[a], point[a] - pad);
    box->upper[a] = std::max(box->upper[a], point[a] + pad);
  }
}

Aabb EmptyBox() { return {{INFINITY, INFINITY, INFINITY}, {-INFINITY, -INFINITY, -INFINITY}}; }

void Merge(Aabb* box, const Aabb& other) {
  Grow(box, other.lower);
  Grow(box, other.upper);
}

}  // namespace

Aabb PrimitiveBounds(const Primitive& p) {
  Aabb box = EmptyBox();
  const double* d = p.data;
  switch (p.kind) {
    case PrimitiveKind::kSphere:
      Grow(&box, d, d[3]);
      break;
    case PrimitiveKind::kBox:
      for (int a = 0; a < 3; ++a) {
        // Extent of an oriented box along world axis a: sum |R(a, k)| h_k.
        const double extent = std::fabs(d[3 + 3 * a]) * d[12] + std::fabs(d[4 + 3 * a]) * d[13] +
                              std::fabs(d[5 + 3 * a]) * d[14];
        box.lower[a] = d[a] - extent;
        box.upper[a] = d[a] + extent;
      }
      break;
    case PrimitiveKind::kCapsule:
    case PrimitiveKind::kCylinder:
      // Conservative: the capsule bounds contain the cylinder.
      Grow(&box, d, d[6]);
      Grow(&box, d + 3, d[6]);
      break;
    case PrimitiveKind::kTriangle:
      Grow(&box, d);
      Grow(&box, d + 3);
      Grow(&box, d + 6);
      break;
    case PrimitiveKind::kPlane:
      box = {{-INFINITY, -INFINITY, -INFINITY}, {INFINITY, INFINITY, INFINITY}};
      break;
  }
  return box;
}

int32_t RaycastScene::Add(const Primitive& primitive) {
  added_.push_back(primitive);
  return static_cast<int32_t>(added_.size()) - 1;
}

int32_t RaycastScene::AddSphere(const double c[3], double radius, int32_t body) {
  Primitive p{PrimitiveKind::kSphere, body, {c[0], c[1], c[2], radius}};
  return Add(p);
}

int32_t RaycastScene::AddBox(const double c[3], const double r[9], const double h[3],
                             int32_t body) {
  Primitive p{
      PrimitiveKind::kBox,
      body,
      {c[0], c[1], c[2], r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], h[0], h[1], h[2]}};
  return Add(p);
}

int32_t RaycastScene::AddCapsule(const double a[3], const double b[3], double radius,
                                 int32_t body) {
  Primitive p{PrimitiveKind::kCapsule, body, {a[0], a[1], a[2], b[0], b[1], b[2], radius}};
  return Add(p);
}

int32_t RaycastScene::AddCylinder(const double a[3], const double b[3], double radius,
                                  int32_t body) {
  Primitive p{PrimitiveKind::kCylinder, body, {a[0], a[1], a[2], b[0], b[1], b[2], radius}};
  return Add(p);
}

int32_t RaycastScene::AddPlane(const double n[3], double offset) {
  const double norm = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  Primitive p{PrimitiveKind::kPlane, -1, {n[0] / norm, n[1] / norm, n[2] / norm, offset / norm}};
  return Add(p);
}

int32_t RaycastScene::AddMesh(std::span<const double> v, std::span<const int32_t> indices,
                              int32_t body) {
  const int32_t first = static_cast<int32_t>(added_.size());
  for (size_t t = 0; t + 2 < indices.size(); t += 3) {
    Primitive p{PrimitiveKind::kTriangle, body, {}};
    for (int corner = 0; corner < 3; ++corner)
      for (int a = 0; a < 3; ++a)
        p.data[3 * corner + a] = v[3 * static_cast<size_t>(indices[t + corner]) + a];
    Add(p);
  }
  return first;
}

void RaycastScene::Build() {
  order_.clear();
  plane_ids_.clear();
  planes_.clear();
  slot_of_.assign(added_.size(), -1);
  for (int32_t id = 0; id < static_cast<int32_t>(added_.size()); ++id) {
    if (added_[id].kind == PrimitiveKind::kPlane) {
      plane_ids_.push_back(id);
      planes_.push_back(added_[id]);
    } else {
      order_.push_back(id);
    }
  }
  nodes_.clear();
  depth_ = 0;
  if (!order_.empty()) {
    nodes_.reserve(2 * order_.size());
    nodes_.push_back({});
    BuildNode(0, 0, static_cast<int32_t>(order_.size()), 1);
  }
  ordered_.resize(order_.size());
  for (size_t slot = 0; slot < order_.size(); ++slot) {
    ordered_[slot] = added_[order_[slot]];
    slot_of_[order_[slot]] = static_cast<int32_t>(slot);
  }
  if (depth_ > kBvhMaxDepth) throw std::logic_error("BVH deeper than the traversal stack");
}

void RaycastScene::BuildNode(int32_t index, int32_t begin, int32_t end, int depth) {
  depth_ = std::max(depth_, depth);
  Aabb box = EmptyBox(), centroids = EmptyBox();
  for (int32_t i = begin; i < end; ++i) {
    const Aabb bounds = PrimitiveBounds(added_[order_[i]]);
    Merge(&box, bounds);
    const double center[3] = {0.5 * (bounds.lower[0] + bounds.upper[0]),
                              0.5 * (bounds.lower[1] + bounds.upper[1]),
                              0.5 * (bounds.lower[2] + bounds.upper[2])};
    Grow(&centroids, center);
  }
  nodes_[index].box = box;
  if (end - begin <= 2) {
    nodes_[index].first = begin;
    nodes_[index].count = end - begin;
    return;
  }
  int axis = 0;
  for (int a = 1; a < 3; ++a)
    if (centroids.upper[a] - centroids.lower[a] > centroids.upper[axis] - centroids.lower[axis])
      axis = a;
  const double extent = centroids.upper[axis] - centroids.lower[axis];
  int32_t middle = begin + (end - begin) / 2;
  auto centroid = [&](int32_t id) {
    const Aabb b = PrimitiveBounds(added_[id]);
    return 0.5 * (b.lower[axis] + b.upper[axis]);
  };
  // Binned surface-area heuristic (Wald 2007) on the longest centroid axis; the median split
  // is the fallback for degenerate centroids and deep trees (the traversal stack is bounded).
  bool split_done = false;
  if (extent > 0 && depth < kBvhMaxDepth - 16) {
    constexpr int kBins = 16;
    Aabb bin_box[kBins];
    int32_t bin_count[kBins] = {};
    for (Aabb& b : bin_box) b = EmptyBox();
    auto bin_of = [&](double c) {
      return std::min(kBins - 1, static_cast<int>(kBins * (c - centroids.lower[axis]) / extent));
    };
    for (int32_t i = begin; i < end; ++i) {
      const Aabb b = PrimitiveBounds(added_[order_[i]]);
      const int bin = bin_of(0.5 * (b.lower[axis] + b.upper[axis]));
      Merge(&bin_box[bin], b);
      ++bin_count[bin];
    }
    auto area = [](const Aabb& b) {
      const double dx = b.upper[0] - b.lower[0], dy = b.upper[1] - b.lower[1],
                   dz = b.upper[2] - b.lower[2];
      return dx * dy + dy * dz + dz * dx;
    };
    double right_area[kBins];
    int32_t right_count[kBins];
    Aabb accumulated = EmptyBox();
    int32_t count = 0;
    for (int i = kBins - 1; i > 0; --i) {
      Merge(&accumulated, bin_box[i]);
      count += bin_count[i];
      right_area[i] = count > 0 ? area(accumulated) : 0.0;
      right_count[i] = count;
    }
    accumulated = EmptyBox();
    count = 0;
    double best_cost = INFINITY;
    int best_split = -1;
    for (int i = 1; i < kBins; ++i) {
      Merge(&accumulated, bin_box[i - 1]);
      count += bin_count[i - 1];
      if (count == 0 || right_count[i] == 0) continue;
      const double cost = area(accumulated) * count + right_area[i] * right_count[i];
      if (cost < best_cost) {
        best_cost = cost;
        best_split = i;
      }
    }
    // Leaf when splitting costs more than testing every primitive (traversal cost ~1 test).
    if (best_split > 0 && end - begin <= kLeafSize &&
        best_cost + area(box) >= area(box) * (end - begin)) {
      nodes_[index].first = begin;
      nodes_[index].count = end - begin;
      return;
    }
    if (best_split > 0) {
      const auto mid =
          std::partition(order_.begin() + begin, order_.begin() + end,
                         [&](int32_t id) { return bin_of(centroid(id)) < best_split; });
      middle = static_cast<int32_t>(mid - order_.begin());
      split_done = middle > begin && middle < end;
    }
  }
  if (!split_done) {
    middle = begin + (end - begin) / 2;
    std::nth_element(order_.begin() + begin, order_.begin() + middle, order_.begin() + end,
                     [&](int32_t x, int32_t y) { return centroid(x) < centroid(y); });
  }
  // Children are adjacent (right = left + 1) and always after their parent.
  const int32_t left = static_cast<int32_t>(nodes_.size());
  nodes_.push_back({});
  nodes_.push_back({});
  nodes_[index].first = left;
  nodes_[index].count = 0;
  BuildNode(left, begin, middle, depth + 1);
  BuildNode(left + 1, middle, end, depth + 1);
}

void RaycastScene::Update(int32_t id, const Primitive& primitive) {
  added_[id] = primitive;
  if (slot_of_[id] >= 0) {
    ordered_[slot_of_[id]] = primitive;
  } else {
    for (size_t i = 0; i < plane_ids_.size(); ++i)
      if (plane_ids_[i] == id) planes_[i] = primitive;
  }
}

void RaycastScene::Refit() {
  // Children always have larger indices than their parent: one reverse sweep.
  for (int32_t i = static_cast<int32_t>(nodes_.size()) - 1; i >= 0; --i) {
    BvhNode& node = nodes_[i];
    Aabb box = EmptyBox();
    if (node.count > 0) {
      for (int32_t k = node.first; k < node.first + node.count; ++k)
        Merge(&box, PrimitiveBounds(ordered_[k]));
    } else {
      Merge(&box, nodes_[node.first].box);
      Merge(&box, nodes_[node.first + 1].box);
    }
    node.box = box;
  }
}

SceneView RaycastScene::View() const {
  return {ordered_.data(), static_cast<int32_t>(ordered_.size()),
          nodes_.data(),   static_cast<int32_t>(nodes_.size()),
          planes_.data(),  static_cast<int32_t>(planes_.size())};
}

void RaycastScene::Cast(std::span<const Ray> rays, std::span<RayHit> hits) const {
  const SceneView view = View();
  for (size_t i = 0; i < rays.size(); ++i) {
    RayHit hit = CastRay(view, rays[i]);
    if (hit.primitive >= 0)
      hit.primitive = hit.primitive < view.num_primitives
                          ? order_[hit.primitive]
                          : plane_ids_[hit.primitive - view.num_primitives];
    hits[i] = hit;
  }
}

}  // namespace ftwin
