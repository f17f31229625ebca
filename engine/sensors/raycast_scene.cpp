#include "engine/sensors/raycast_scene.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ftwin {
namespace {

void Grow(Aabb* box, const double point[3], double pad = 0.0) {
  for (int a = 0; a < 3; ++a) {
    box->lower[a] = std::min(box->lower[a], point[a] - pad);
    box->upper[a] = std::max(box->upper[a], point[a] + pad);
  }
}

Aabb EmptyBox() { return {{INFINITY, INFINITY, INFINITY}, {-INFINITY, -INFINITY, -INFINITY}}; }

// Union (an empty box, lower +inf and upper -inf, changes nothing).
void Merge(Aabb* box, const Aabb& other) {
  for (int a = 0; a < 3; ++a) {
    box->lower[a] = std::min(box->lower[a], other.lower[a]);
    box->upper[a] = std::max(box->upper[a], other.upper[a]);
  }
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

namespace {

// Cost model of the surface-area heuristic on the binary tree (before it is collapsed to 4-wide
// nodes), in units of one triangle test: visiting a node, and intersecting each kind of
// primitive, rounded from single-ray timings on the benchmark scene (triangle 12.6 ns, sphere
// 7.4, box 24, capsule 25, cylinder 33). Node costs 0.5-2 and leaf sizes 4-16 measured the same
// within the noise.
constexpr double kNodeCost = 1.0;
constexpr int32_t kMaxLeafSize = 8;
constexpr int kBins = 16;

double IntersectionCost(PrimitiveKind kind) {
  switch (kind) {
    case PrimitiveKind::kTriangle:
    case PrimitiveKind::kSphere:
      return 1.0;
    case PrimitiveKind::kBox:
      return 2.0;
    default:
      return 2.5;
  }
}

double HalfArea(const Aabb& b) {
  const double dx = b.upper[0] - b.lower[0], dy = b.upper[1] - b.lower[1],
               dz = b.upper[2] - b.lower[2];
  return dx * dy + dy * dz + dz * dx;
}

// Largest float <= x and smallest float >= x (infinities kept, beyond the float range widened).
float FloatDown(double x) {
  if (std::isinf(x)) return static_cast<float>(x);
  if (x > std::numeric_limits<float>::max()) return std::numeric_limits<float>::max();
  if (x < -std::numeric_limits<float>::max()) return -INFINITY;
  float f = static_cast<float>(x);
  if (static_cast<double>(f) > x) f = std::nextafter(f, -INFINITY);
  return f;
}

float FloatUp(double x) { return -FloatDown(-x); }

void SetChild(BvhNode* node, int c, const Aabb& box, int32_t first, int32_t count) {
  for (int axis = 0; axis < 3; ++axis) {
    node->bounds[axis][0][c] = FloatDown(box.lower[axis]);
    node->bounds[axis][1][c] = FloatUp(box.upper[axis]);
  }
  node->first[c] = first;
  node->count[c] = count;
}

Aabb ChildBox(const BvhNode& node, int c) {
  Aabb box;
  for (int axis = 0; axis < 3; ++axis) {
    box.lower[axis] = node.bounds[axis][0][c];
    box.upper[axis] = node.bounds[axis][1][c];
  }
  return box;
}

// Top-down binned SAH build (Wald 2007) over all three axes.
class BvhBuilder {
 public:
  BvhBuilder(const std::vector<Primitive>& added, std::vector<int32_t>* order,
             std::vector<BvhNode>* nodes)
      : order_(*order), nodes_(*nodes) {
    bounds_.resize(added.size());
    centroid_.resize(added.size());
    cost_.resize(added.size());
    for (int32_t id : order_) {
      bounds_[id] = PrimitiveBounds(added[id]);
      for (int a = 0; a < 3; ++a)
        centroid_[id][a] = 0.5 * (bounds_[id].lower[a] + bounds_[id].upper[a]);
      cost_[id] = IntersectionCost(added[id].kind);
    }
  }

  struct Subtree {
    Aabb box;
    int32_t first;
    int32_t count;  // > 0: a leaf of primitives order[first ..], 0: inner node `first`
  };

  Subtree Build(int32_t begin, int32_t end, int depth) {
    depth_ = std::max(depth_, depth);
    Aabb box = EmptyBox(), centroids = EmptyBox();
    double leaf_cost = 0.0;
    for (int32_t i = begin; i < end; ++i) {
      Merge(&box, bounds_[order_[i]]);
      Grow(&centroids, centroid_[order_[i]].data());
      leaf_cost += cost_[order_[i]];
    }
    const int32_t n = end - begin;
    if (n == 1) return {box, begin, 1};
    int32_t middle = -1;
    if (depth < kBvhMaxDepth - 16) {
      const Split split = BestSplit(begin, end, centroids);
      const double split_cost = kNodeCost + split.cost / HalfArea(box);
      if (n <= kMaxLeafSize && !(split_cost < leaf_cost)) return {box, begin, n};
      if (split.axis >= 0) {
        const int axis = split.axis;
        const double lower = centroids.lower[axis];
        const double scale = kBins / (centroids.upper[axis] - lower);
        const auto mid = std::partition(
            order_.begin() + begin, order_.begin() + end,
            [&](int32_t id) { return Bin(centroid_[id][axis], lower, scale) < split.bin; });
        middle = static_cast<int32_t>(mid - order_.begin());
        if (middle == begin || middle == end) middle = -1;
      }
    } else if (n <= kMaxLeafSize) {
      return {box, begin, n};
    }
    if (middle < 0) {
      // Degenerate centroids or a deep tree: median split on the longest centroid axis.
      int axis = 0;
      for (int a = 1; a < 3; ++a)
        if (centroids.upper[a] - centroids.lower[a] > centroids.upper[axis] - centroids.lower[axis])
          axis = a;
      middle = begin + n / 2;
      std::nth_element(
          order_.begin() + begin, order_.begin() + middle, order_.begin() + end,
          [&](int32_t x, int32_t y) { return centroid_[x][axis] < centroid_[y][axis]; });
    }
    const int32_t index = static_cast<int32_t>(binary_.size());
    binary_.push_back({});
    const Subtree left = Build(begin, middle, depth + 1);
    const Subtree right = Build(middle, end, depth + 1);
    binary_[index] = {left, right};
    return {box, index, 0};
  }

  // Collapses the binary subtree `tree` (an inner node) into 4-wide nodes: a node takes its
  // two children and then, while a slot is free, replaces the inner child of largest surface
  // area by its two children. Returns the node's index; `stack_need` gets the most traversal
  // stack entries a path below needs (one less than the children, per level).
  int32_t Collapse(const Subtree& tree, int* stack_need, int depth) {
    wide_depth_ = std::max(wide_depth_, depth);
    Subtree children[kBvhWidth];
    int n = 2;
    children[0] = binary_[tree.first].left;
    children[1] = binary_[tree.first].right;
    while (n < kBvhWidth) {
      int widest = -1;
      for (int c = 0; c < n; ++c)
        if (children[c].count == 0 &&
            (widest < 0 || HalfArea(children[c].box) > HalfArea(children[widest].box)))
          widest = c;
      if (widest < 0) break;
      const BinaryNode& expanded = binary_[children[widest].first];
      children[widest] = expanded.left;
      children[n++] = expanded.right;
    }
    const int32_t index = static_cast<int32_t>(nodes_.size());
    nodes_.push_back({});
    int below = 0;
    for (int c = 0; c < kBvhWidth; ++c) {
      if (c >= n) {
        SetChild(&nodes_[index], c, EmptyBox(), -1, 0);
        continue;
      }
      int32_t first = children[c].first;
      if (children[c].count == 0) {
        int need = 0;
        first = Collapse(children[c], &need, depth + 1);
        below = std::max(below, need);
      }
      SetChild(&nodes_[index], c, children[c].box, first, children[c].count);
    }
    *stack_need = n - 1 + below;
    return index;
  }

  int depth() const { return depth_; }
  int wide_depth() const { return wide_depth_; }

 private:
  struct BinaryNode {
    Subtree left, right;
  };

  struct Split {
    int axis = -1;
    int bin = 0;
    double cost = INFINITY;  // sum over both sides of half area x intersection cost
  };

  static int Bin(double centroid, double lower, double scale) {
    return std::min(kBins - 1, static_cast<int>((centroid - lower) * scale));
  }

  Split BestSplit(int32_t begin, int32_t end, const Aabb& centroids) const {
    Split best;
    for (int axis = 0; axis < 3; ++axis) {
      const double extent = centroids.upper[axis] - centroids.lower[axis];
      if (!(extent > 0.0)) continue;
      const double lower = centroids.lower[axis], scale = kBins / extent;
      Aabb bin_box[kBins];
      double bin_cost[kBins] = {};
      for (Aabb& b : bin_box) b = EmptyBox();
      for (int32_t i = begin; i < end; ++i) {
        const int32_t id = order_[i];
        const int bin = Bin(centroid_[id][axis], lower, scale);
        Merge(&bin_box[bin], bounds_[id]);
        bin_cost[bin] += cost_[id];
      }
      double right_area_cost[kBins];
      Aabb accumulated = EmptyBox();
      double cost = 0.0;
      for (int i = kBins - 1; i > 0; --i) {
        Merge(&accumulated, bin_box[i]);
        cost += bin_cost[i];
        right_area_cost[i] = cost > 0.0 ? HalfArea(accumulated) * cost : -1.0;
      }
      accumulated = EmptyBox();
      cost = 0.0;
      for (int i = 1; i < kBins; ++i) {
        Merge(&accumulated, bin_box[i - 1]);
        cost += bin_cost[i - 1];
        if (cost == 0.0 || right_area_cost[i] < 0.0) continue;
        const double total = HalfArea(accumulated) * cost + right_area_cost[i];
        if (total < best.cost) best = {axis, i, total};
      }
    }
    return best;
  }

  std::vector<int32_t>& order_;
  std::vector<BvhNode>& nodes_;
  std::vector<BinaryNode> binary_;
  int wide_depth_ = 0;
  std::vector<Aabb> bounds_;
  std::vector<std::array<double, 3>> centroid_;
  std::vector<double> cost_;
  int depth_ = 0;
};

}  // namespace

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
  int binary_depth = 0, stack_need = 0;
  if (!order_.empty()) {
    nodes_.reserve(order_.size());
    BvhBuilder builder(added_, &order_, &nodes_);
    const BvhBuilder::Subtree root = builder.Build(0, static_cast<int32_t>(order_.size()), 1);
    if (root.count > 0) {
      // A single leaf: a root node with that leaf and empty slots.
      nodes_.push_back({});
      SetChild(&nodes_[0], 0, root.box, root.first, root.count);
      for (int c = 1; c < kBvhWidth; ++c) SetChild(&nodes_[0], c, EmptyBox(), -1, 0);
      depth_ = 1;
    } else {
      builder.Collapse(root, &stack_need, 1);
      depth_ = builder.wide_depth();
    }
    binary_depth = builder.depth();
  }
  ordered_.resize(order_.size());
  for (size_t slot = 0; slot < order_.size(); ++slot) {
    ordered_[slot] = added_[order_[slot]];
    slot_of_[order_[slot]] = static_cast<int32_t>(slot);
  }
  if (binary_depth > kBvhMaxDepth || stack_need > kBvhStackSize)
    throw std::logic_error("BVH deeper than the traversal stack");
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
    for (int c = 0; c < kBvhWidth; ++c) {
      Aabb box = EmptyBox();
      if (node.count[c] > 0) {
        for (int32_t k = node.first[c]; k < node.first[c] + node.count[c]; ++k)
          Merge(&box, PrimitiveBounds(ordered_[k]));
      } else if (node.first[c] >= 0) {
        for (int g = 0; g < kBvhWidth; ++g) Merge(&box, ChildBox(nodes_[node.first[c]], g));
      }
      SetChild(&node, c, box, node.first[c], node.count[c]);
    }
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
