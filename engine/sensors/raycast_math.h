// Ray casting against analytic primitives and triangles through a BVH, host-device, double
// precision (DESIGN.md §2.6). The same functions run in the CPU driver (raycast_scene.cpp) and
// in the CUDA driver. C++17, plain arrays, no heap, no exceptions.
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/rng.h"
#include "gpu/host_device.h"

// The host build of x86-64 tests the child boxes of a BVH node with SSE2 (part of the
// x86-64 baseline, so no -march flag is needed); device code and other hosts use the scalar form.
#if defined(__SSE2__) && !defined(__CUDA_ARCH__)
#define FTWIN_RAYCAST_SSE2 1
#include <emmintrin.h>
#else
#define FTWIN_RAYCAST_SSE2 0
#endif

namespace ftwin {

/// A ray origin + t * direction, t in [t_min, t_max]; direction is unit length, so t is metres.
struct Ray {
  double origin[3];
  double direction[3];
  double t_min;
  double t_max;
};

/// The kinds of geometry. Planes are infinite and kept outside the BVH.
enum class PrimitiveKind : int32_t { kSphere, kBox, kCapsule, kCylinder, kTriangle, kPlane };

/// One primitive, 16 doubles of data:
/// sphere   {cx, cy, cz, radius}
/// box      {cx, cy, cz, R (9, row-major, columns = box axes in world), hx, hy, hz}
/// capsule  {ax, ay, az, bx, by, bz, radius}   (segment a-b swept by a sphere)
/// cylinder {ax, ay, az, bx, by, bz, radius}   (capped, axis a-b)
/// triangle {v0 (3), v1 (3), v2 (3)}
/// plane    {nx, ny, nz, d}                      (points with n.x = d; n unit)
struct Primitive {
  PrimitiveKind kind;
  int32_t body;  ///< moving body it belongs to (-1 = static), for refits
  double data[15];
};

/// Axis-aligned bounding box.
struct Aabb {
  double lower[3];
  double upper[3];
};

/// Children of a BVH node (a 4-wide tree: fewer, wider steps per ray than a binary one).
constexpr int kBvhWidth = 4;

/// A BVH node holds the boxes of its (up to four) children, so one visit tests them all
/// (128 bytes, two cache lines). bounds[axis][0 = lower, 1 = upper][child] are float, rounded
/// outwards from the double bounds: a ray that meets a child's geometry always meets its box
/// (the slab test itself runs in double). Child c is a leaf holding primitives
/// first[c] .. first[c] + count[c] when count[c] > 0, else the inner node first[c]; an unused
/// slot has an empty box (lower +inf, upper -inf) that no ray meets. Node 0 is the root;
/// children come after their parent.
struct alignas(64) BvhNode {
  float bounds[3][2][kBvhWidth];
  int32_t first[kBvhWidth];
  int32_t count[kBvhWidth];
};

/// What a closest-hit query returns; primitive = -1 for a miss.
struct RayHit {
  double t;
  int32_t primitive;
};

FTWIN_HD inline double Dot3(const double* a, const double* b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/// Smallest root of a t^2 + 2 b t + c = 0 inside [t_min, t_max], or INFINITY.
FTWIN_HD inline double SmallestRootInRange(double a, double b, double c, double t_min,
                                           double t_max) {
  const double discriminant = b * b - a * c;
  if (discriminant < 0.0 || a == 0.0) return INFINITY;
  const double root = sqrt(discriminant);
  // Numerically stable form: q = -(b + sign(b) root); roots q / a and c / q.
  const double q = b >= 0.0 ? -(b + root) : -(b - root);
  double t0 = q / a;
  double t1 = q != 0.0 ? c / q : t0;
  if (t0 > t1) {
    const double swap = t0;
    t0 = t1;
    t1 = swap;
  }
  if (t0 >= t_min && t0 <= t_max) return t0;
  if (t1 >= t_min && t1 <= t_max) return t1;
  return INFINITY;
}

/// Sphere: |o + t d - c|^2 = r^2.
FTWIN_HD inline double IntersectSphere(const Ray& ray, const double* d) {
  const double oc[3] = {ray.origin[0] - d[0], ray.origin[1] - d[1], ray.origin[2] - d[2]};
  return SmallestRootInRange(Dot3(ray.direction, ray.direction), Dot3(oc, ray.direction),
                             Dot3(oc, oc) - d[3] * d[3], ray.t_min, ray.t_max);
}

/// Slab test of a ray (given 1/direction) against [lower, upper]; returns entry and exit.
FTWIN_HD inline bool SlabInterval(const double* origin, const double* inverse_direction,
                                  const double* lower, const double* upper, double t_min,
                                  double t_max, double* t_enter, double* t_exit) {
  for (int axis = 0; axis < 3; ++axis) {
    double t_near = (lower[axis] - origin[axis]) * inverse_direction[axis];
    double t_far = (upper[axis] - origin[axis]) * inverse_direction[axis];
    if (t_near > t_far) {
      const double swap = t_near;
      t_near = t_far;
      t_far = swap;
    }
    // NaN (0 * inf, the origin on a slab plane of a parallel ray) must not shrink the interval.
    t_min = t_near > t_min ? t_near : t_min;
    t_max = t_far < t_max ? t_far : t_max;
  }
  *t_enter = t_min;
  *t_exit = t_max;
  return t_min <= t_max;
}

/// Oriented box: the ray in box coordinates against the slabs [-h, h].
FTWIN_HD inline double IntersectBox(const Ray& ray, const double* d) {
  const double* r = d + 3;  // row-major rotation, columns = box axes
  const double rel[3] = {ray.origin[0] - d[0], ray.origin[1] - d[1], ray.origin[2] - d[2]};
  double origin[3], inverse[3], lower[3], upper[3];
  for (int axis = 0; axis < 3; ++axis) {
    origin[axis] = r[axis] * rel[0] + r[3 + axis] * rel[1] + r[6 + axis] * rel[2];
    const double direction = r[axis] * ray.direction[0] + r[3 + axis] * ray.direction[1] +
                             r[6 + axis] * ray.direction[2];
    inverse[axis] = 1.0 / direction;
    lower[axis] = -d[12 + axis];
    upper[axis] = d[12 + axis];
  }
  double t_enter, t_exit;
  if (!SlabInterval(origin, inverse, lower, upper, -INFINITY, INFINITY, &t_enter, &t_exit))
    return INFINITY;
  if (t_enter >= ray.t_min && t_enter <= ray.t_max) return t_enter;
  if (t_exit >= ray.t_min && t_exit <= ray.t_max) return t_exit;  // origin inside
  return INFINITY;
}

/// Infinite cylinder side around segment a-b of radius r, limited to the segment; returns the
/// smallest valid t. With `caps` the flat end discs count too, else hemispheres (capsule).
FTWIN_HD inline double IntersectSweptSegment(const Ray& ray, const double* d, bool capsule) {
  const double a[3] = {d[0], d[1], d[2]};
  const double axis[3] = {d[3] - d[0], d[4] - d[1], d[5] - d[2]};
  const double radius = d[6];
  const double length2 = Dot3(axis, axis);
  const double oa[3] = {ray.origin[0] - a[0], ray.origin[1] - a[1], ray.origin[2] - a[2]};
  const double axis_dot_dir = Dot3(axis, ray.direction);
  const double axis_dot_oa = Dot3(axis, oa);
  // Components perpendicular to the axis (scaled by length2 to avoid divisions).
  const double qa = length2 * Dot3(ray.direction, ray.direction) - axis_dot_dir * axis_dot_dir;
  const double qb = length2 * Dot3(oa, ray.direction) - axis_dot_oa * axis_dot_dir;
  const double qc = length2 * Dot3(oa, oa) - axis_dot_oa * axis_dot_oa - radius * radius * length2;
  double best = INFINITY;
  // Side: both roots, each valid when its axial coordinate is within the segment.
  const double discriminant = qb * qb - qa * qc;
  if (qa > 0.0 && discriminant >= 0.0) {
    const double root = sqrt(discriminant);
    const double q = qb >= 0.0 ? -(qb + root) : -(qb - root);
    const double roots[2] = {q / qa, q != 0.0 ? qc / q : q / qa};
    for (int i = 0; i < 2; ++i) {
      const double t = roots[i];
      if (t < ray.t_min || t > ray.t_max || t >= best) continue;
      const double axial = axis_dot_oa + t * axis_dot_dir;
      if (axial >= 0.0 && axial <= length2) best = t;
    }
  }
  for (int end = 0; end < 2; ++end) {
    const double* center = end == 0 ? d : d + 3;
    if (capsule) {
      const double sphere[4] = {center[0], center[1], center[2], radius};
      const double t = IntersectSphere(ray, sphere);
      if (t < best) best = t;
    } else if (axis_dot_dir != 0.0) {
      const double to_center[3] = {center[0] - ray.origin[0], center[1] - ray.origin[1],
                                   center[2] - ray.origin[2]};
      const double t = Dot3(axis, to_center) / axis_dot_dir;
      if (t < ray.t_min || t > ray.t_max || t >= best) continue;
      const double p[3] = {ray.origin[0] + t * ray.direction[0] - center[0],
                           ray.origin[1] + t * ray.direction[1] - center[1],
                           ray.origin[2] + t * ray.direction[2] - center[2]};
      const double along = Dot3(p, axis);
      if (Dot3(p, p) - along * along / length2 <= radius * radius) best = t;
    }
  }
  return best;
}

/// Triangle, Moeller-Trumbore.
FTWIN_HD inline double IntersectTriangle(const Ray& ray, const double* d) {
  const double e1[3] = {d[3] - d[0], d[4] - d[1], d[5] - d[2]};
  const double e2[3] = {d[6] - d[0], d[7] - d[1], d[8] - d[2]};
  const double* dir = ray.direction;
  const double p[3] = {dir[1] * e2[2] - dir[2] * e2[1], dir[2] * e2[0] - dir[0] * e2[2],
                       dir[0] * e2[1] - dir[1] * e2[0]};
  const double determinant = Dot3(e1, p);
  if (determinant == 0.0) return INFINITY;
  const double inverse = 1.0 / determinant;
  const double s[3] = {ray.origin[0] - d[0], ray.origin[1] - d[1], ray.origin[2] - d[2]};
  const double u = Dot3(s, p) * inverse;
  if (u < 0.0 || u > 1.0) return INFINITY;
  const double q[3] = {s[1] * e1[2] - s[2] * e1[1], s[2] * e1[0] - s[0] * e1[2],
                       s[0] * e1[1] - s[1] * e1[0]};
  const double v = Dot3(dir, q) * inverse;
  if (v < 0.0 || u + v > 1.0) return INFINITY;
  const double t = Dot3(e2, q) * inverse;
  return t >= ray.t_min && t <= ray.t_max ? t : INFINITY;
}

/// Plane n.x = d (two-sided).
FTWIN_HD inline double IntersectPlane(const Ray& ray, const double* d) {
  const double denominator = Dot3(d, ray.direction);
  if (denominator == 0.0) return INFINITY;
  const double t = (d[3] - Dot3(d, ray.origin)) / denominator;
  return t >= ray.t_min && t <= ray.t_max ? t : INFINITY;
}

/// Distance along the ray to one primitive, or INFINITY.
FTWIN_HD inline double IntersectPrimitive(const Ray& ray, const Primitive& primitive) {
  switch (primitive.kind) {
    case PrimitiveKind::kSphere:
      return IntersectSphere(ray, primitive.data);
    case PrimitiveKind::kBox:
      return IntersectBox(ray, primitive.data);
    case PrimitiveKind::kCapsule:
      return IntersectSweptSegment(ray, primitive.data, true);
    case PrimitiveKind::kCylinder:
      return IntersectSweptSegment(ray, primitive.data, false);
    case PrimitiveKind::kTriangle:
      return IntersectTriangle(ray, primitive.data);
    case PrimitiveKind::kPlane:
      return IntersectPlane(ray, primitive.data);
  }
  return INFINITY;
}

/// Read-only view of a built scene (host or device pointers).
struct SceneView {
  const Primitive* primitives;  ///< BVH primitives, in BVH leaf order
  int32_t num_primitives;
  const BvhNode* nodes;
  int32_t num_nodes;
  const Primitive* planes;  ///< unbounded primitives, tested by every ray
  int32_t num_planes;
};

/// Maximum depth of the binary tree the BVH is collapsed from (the builder guarantees it).
constexpr int kBvhMaxDepth = 64;
/// Entries of the traversal stack (up to 3 per level of the 4-wide tree); the builder checks
/// that no path can need more.
constexpr int kBvhStackSize = 96;

/// A ray prepared for box tests: 1 / direction and, per axis, which bound the ray meets first
/// (1 = upper when the direction is negative, -0 included).
struct RaySlabs {
  double origin[3];
  double inverse[3];
  int near_side[3];
};

FTWIN_HD inline RaySlabs PrepareSlabs(const Ray& ray) {
  RaySlabs slabs;
  for (int axis = 0; axis < 3; ++axis) {
    slabs.origin[axis] = ray.origin[axis];
    slabs.inverse[axis] = 1.0 / ray.direction[axis];
    slabs.near_side[axis] = slabs.inverse[axis] < 0.0 ? 1 : 0;
  }
  return slabs;
}

/// Slab test of the children of `node` within [t_min, t_max]: bit c of the result is set when
/// the ray meets child c's box, enter[c] is where it enters. The near and far bounds are chosen
/// by the direction's sign, so there is no swap; a NaN (0 * inf: the origin on a slab plane of
/// a parallel ray) never shrinks the interval, and an empty box is never met (its far distance
/// is -inf). This scalar form is the device path and the reference of the SSE2 one.
FTWIN_HD inline int SlabTestChildrenScalar(const BvhNode& node, const RaySlabs& slabs, double t_min,
                                           double t_max, double enter[kBvhWidth]) {
  double lower[kBvhWidth], upper[kBvhWidth];
  for (int c = 0; c < kBvhWidth; ++c) {
    lower[c] = t_min;
    upper[c] = t_max;
  }
  for (int axis = 0; axis < 3; ++axis) {
    const float* near_bound = node.bounds[axis][slabs.near_side[axis]];
    const float* far_bound = node.bounds[axis][1 - slabs.near_side[axis]];
    for (int c = 0; c < kBvhWidth; ++c) {
      const double t_near =
          (static_cast<double>(near_bound[c]) - slabs.origin[axis]) * slabs.inverse[axis];
      const double t_far =
          (static_cast<double>(far_bound[c]) - slabs.origin[axis]) * slabs.inverse[axis];
      lower[c] = t_near > lower[c] ? t_near : lower[c];
      upper[c] = t_far < upper[c] ? t_far : upper[c];
    }
  }
  int met = 0;
  for (int c = 0; c < kBvhWidth; ++c) {
    enter[c] = lower[c];
    met |= lower[c] <= upper[c] ? 1 << c : 0;
  }
  return met;
}

#if FTWIN_RAYCAST_SSE2
/// The same operations on two children at a time (one SSE2 lane per child). maxpd(a, b) is
/// a > b ? a : b and minpd(a, b) is a < b ? a : b, NaN included, exactly the scalar selects,
/// and sub, mul and the float-to-double conversion are exact IEEE operations: bit-identical
/// to SlabTestChildrenScalar (tests/engine/sensors/raycast_test.cpp checks it).
inline int SlabTestChildrenSse2(const BvhNode& node, const RaySlabs& slabs, double t_min,
                                double t_max, double enter[kBvhWidth]) {
  __m128d lower01 = _mm_set1_pd(t_min), upper01 = _mm_set1_pd(t_max);
  __m128d lower23 = lower01, upper23 = upper01;
  for (int axis = 0; axis < 3; ++axis) {
    const __m128d origin = _mm_set1_pd(slabs.origin[axis]);
    const __m128d inverse = _mm_set1_pd(slabs.inverse[axis]);
    const __m128 near_bound = _mm_loadu_ps(node.bounds[axis][slabs.near_side[axis]]);
    const __m128 far_bound = _mm_loadu_ps(node.bounds[axis][1 - slabs.near_side[axis]]);
    const __m128d near01 = _mm_cvtps_pd(near_bound);
    const __m128d near23 = _mm_cvtps_pd(_mm_movehl_ps(near_bound, near_bound));
    const __m128d far01 = _mm_cvtps_pd(far_bound);
    const __m128d far23 = _mm_cvtps_pd(_mm_movehl_ps(far_bound, far_bound));
    lower01 = _mm_max_pd(_mm_mul_pd(_mm_sub_pd(near01, origin), inverse), lower01);
    lower23 = _mm_max_pd(_mm_mul_pd(_mm_sub_pd(near23, origin), inverse), lower23);
    upper01 = _mm_min_pd(_mm_mul_pd(_mm_sub_pd(far01, origin), inverse), upper01);
    upper23 = _mm_min_pd(_mm_mul_pd(_mm_sub_pd(far23, origin), inverse), upper23);
  }
  _mm_storeu_pd(enter, lower01);
  _mm_storeu_pd(enter + 2, lower23);
  return _mm_movemask_pd(_mm_cmple_pd(lower01, upper01)) |
         (_mm_movemask_pd(_mm_cmple_pd(lower23, upper23)) << 2);
}
#endif

/// The slab test of a node's children the traversal uses: SSE2 on x86 hosts, scalar elsewhere.
FTWIN_HD inline int SlabTestChildren(const BvhNode& node, const RaySlabs& slabs, double t_min,
                                     double t_max, double enter[kBvhWidth]) {
#if FTWIN_RAYCAST_SSE2
  return SlabTestChildrenSse2(node, slabs, t_min, t_max, enter);
#else
  return SlabTestChildrenScalar(node, slabs, t_min, t_max, enter);
#endif
}

/// Closest hit of one ray in the scene: ordered depth-first traversal (nearest child first,
/// the others stacked farthest first; a stacked child is dropped once a hit closer than its
/// entry is known).
FTWIN_HD inline RayHit CastRay(const SceneView& scene, Ray ray) {
  RayHit hit = {INFINITY, -1};
  for (int32_t i = 0; i < scene.num_planes; ++i) {
    const double t = IntersectPlane(ray, scene.planes[i].data);
    if (t < hit.t) {
      hit.t = t;
      hit.primitive = scene.num_primitives + i;
      ray.t_max = t;
    }
  }
  if (scene.num_nodes == 0) return hit;
  const RaySlabs slabs = PrepareSlabs(ray);
  int32_t stack_first[kBvhStackSize];
  int32_t stack_count[kBvhStackSize];
  double stack_enter[kBvhStackSize];
  int stack_size = 0;
  // The current item: inner node `first` when count == 0, else a leaf's primitive range.
  int32_t first = 0, count = 0;
  for (;;) {
    if (count == 0) {
      const BvhNode& node = scene.nodes[first];
      double enter[kBvhWidth];
      const int met = SlabTestChildren(node, slabs, ray.t_min, ray.t_max, enter);
      if (met != 0) {
        // The met children by entry distance, nearest first (insertion sort, stable).
        int order[kBvhWidth];
        int num_met = 0;
        for (int c = 0; c < kBvhWidth; ++c) {
          if (!(met & (1 << c))) continue;
          int k = num_met++;
          while (k > 0 && enter[order[k - 1]] > enter[c]) {
            order[k] = order[k - 1];
            --k;
          }
          order[k] = c;
        }
        for (int k = num_met - 1; k > 0; --k) {
          stack_first[stack_size] = node.first[order[k]];
          stack_count[stack_size] = node.count[order[k]];
          stack_enter[stack_size++] = enter[order[k]];
        }
        first = node.first[order[0]];
        count = node.count[order[0]];
        continue;
      }
    } else {
      for (int32_t i = first; i < first + count; ++i) {
        const double t = IntersectPrimitive(ray, scene.primitives[i]);
        if (t < hit.t) {
          hit.t = t;
          hit.primitive = i;
          ray.t_max = t;
        }
      }
    }
    // Pop, skipping items that a closer hit has since made unreachable.
    for (;;) {
      if (stack_size == 0) return hit;
      --stack_size;
      if (stack_enter[stack_size] <= ray.t_max) break;
    }
    first = stack_first[stack_size];
    count = stack_count[stack_size];
  }
}

/// Range-finder return model of lidars, scanners and depth cameras.
struct RangeReturnParams {
  double range_min_m = 0.0;
  double range_max_m = INFINITY;
  double range_noise_sigma_m = 0.0;
  /// Beam divergence (full angle, rad): the chance of a return falls as the footprint grows,
  /// p_return = exp(-(range * divergence / footprint_limit)^2).
  double beam_divergence_rad = 0.0;
  double footprint_limit_m = INFINITY;
  double resolution_m = 0.0;  ///< range quantization (e.g. 0.002 m for Velodyne)
};

/// The measured range of one beam: noisy and quantized when returned; range_max_m for no
/// return (miss, out of range, or dropout), which is what real drivers report.
FTWIN_HD inline double MeasuredRange(const RangeReturnParams& p, double true_range, CounterRng rng,
                                     uint64_t beam_counter) {
  if (!(true_range >= p.range_min_m && true_range <= p.range_max_m)) return p.range_max_m;
  if (p.beam_divergence_rad > 0.0) {
    const double ratio = true_range * p.beam_divergence_rad / p.footprint_limit_m;
    if (rng.Uniform(beam_counter, 1) >= exp(-ratio * ratio)) return p.range_max_m;
  }
  double range = true_range;
  if (p.range_noise_sigma_m > 0.0) range += p.range_noise_sigma_m * rng.Normal(beam_counter, 0);
  if (p.resolution_m > 0.0) range = p.resolution_m * floor(range / p.resolution_m + 0.5);
  return range < p.range_min_m ? p.range_min_m : (range > p.range_max_m ? p.range_max_m : range);
}

}  // namespace ftwin
