// The 4-wide BVH's traversal pieces: the SSE2 child-box test against the scalar device form
// (bit for bit) and an independent per-box slab interval, boxes that stay conservative after
// rounding to float, and tiny scenes (a root that is one leaf, partly empty nodes).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/sensors/raycast_math.h"
#include "engine/sensors/raycast_scene.h"

namespace ftwin {
namespace {

Ray MakeRay(double ox, double oy, double oz, double dx, double dy, double dz) {
  const double n = std::sqrt(dx * dx + dy * dy + dz * dz);
  return {{ox, oy, oz}, {dx / n, dy / n, dz / n}, 0.0, INFINITY};
}

// Random node: boxes with float corners on a coarse grid (so origins land on slab planes),
// some slots empty.
BvhNode RandomNode(const CounterRng& rng, uint64_t k) {
  BvhNode node{};
  for (int c = 0; c < kBvhWidth; ++c) {
    const bool empty = rng.Uniform(k, c) < 0.15;
    for (int axis = 0; axis < 3; ++axis) {
      const float a = static_cast<float>(std::floor(8 * rng.Uniform(k + 1 + axis, c)) - 4);
      const float b = a + static_cast<float>(std::floor(4 * rng.Uniform(k + 4 + axis, c)));
      node.bounds[axis][0][c] = empty ? INFINITY : a;
      node.bounds[axis][1][c] = empty ? -INFINITY : b;
    }
    node.first[c] = empty ? -1 : c;
    node.count[c] = empty ? 0 : 1;
  }
  return node;
}

// A direction component: often exactly +0 or -0 (parallel to a slab), else random.
double Component(const CounterRng& rng, uint64_t k, int lane) {
  const double u = rng.Uniform(k, lane);
  if (u < 0.15) return 0.0;
  if (u < 0.3) return -0.0;
  return rng.Normal(k + 1, lane);
}

TEST_CASE("The SSE2 child-box test equals the scalar device form bit for bit", "[raycast]") {
  const CounterRng rng{31, 0, 0};
  int met_count = 0, compared = 0, independent = 0;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t k = 16 * static_cast<uint64_t>(i);
    const BvhNode node = RandomNode(rng, k);
    Ray ray{};
    for (int a = 0; a < 3; ++a) {
      // Origins on the grid half the time: on slab planes of parallel rays (NaN slabs).
      const double o = 10 * rng.Uniform(k + 8, a) - 5;
      ray.origin[a] = rng.Uniform(k + 9, a) < 0.5 ? std::floor(o) : o;
      ray.direction[a] = Component(rng, k + 10, a);
    }
    if (ray.direction[0] == 0 && ray.direction[1] == 0 && ray.direction[2] == 0)
      ray.direction[2] = 1;
    ray.t_min = rng.Uniform(k + 12, 0) < 0.5 ? 0.0 : rng.Uniform(k + 12, 1);
    ray.t_max = rng.Uniform(k + 13, 0) < 0.5 ? INFINITY : 20 * rng.Uniform(k + 13, 1);
    const RaySlabs slabs = PrepareSlabs(ray);
    double enter_scalar[kBvhWidth], enter_used[kBvhWidth];
    const int met_scalar = SlabTestChildrenScalar(node, slabs, ray.t_min, ray.t_max, enter_scalar);
    const int met_used = SlabTestChildren(node, slabs, ray.t_min, ray.t_max, enter_used);
    REQUIRE(met_used == met_scalar);
    REQUIRE(std::memcmp(enter_used, enter_scalar, sizeof enter_scalar) == 0);
    ++compared;
    for (int c = 0; c < kBvhWidth; ++c) {
      met_count += (met_scalar >> c) & 1;
      if (node.count[c] == 0) {
        CHECK(((met_scalar >> c) & 1) == 0);  // an empty slot is never met
        continue;
      }
      // Independently: the swap-based slab interval of the same box, for rays not parallel to
      // any slab (where both forms are plain IEEE arithmetic on the same numbers).
      if (ray.direction[0] == 0 || ray.direction[1] == 0 || ray.direction[2] == 0) continue;
      const double lower[3] = {node.bounds[0][0][c], node.bounds[1][0][c], node.bounds[2][0][c]};
      const double upper[3] = {node.bounds[0][1][c], node.bounds[1][1][c], node.bounds[2][1][c]};
      double enter, exit;
      const bool met = SlabInterval(ray.origin, slabs.inverse, lower, upper, ray.t_min, ray.t_max,
                                    &enter, &exit);
      CHECK(met == (((met_scalar >> c) & 1) != 0));
      if (met) CHECK(enter == enter_scalar[c]);
      ++independent;
    }
  }
  CHECK(compared == 20000);
  CHECK(met_count > 1500);
  CHECK(independent > 10000);
}

TEST_CASE("Float child boxes stay conservative: grazing hits on doubles are kept", "[raycast]") {
  // Spheres at centres and radii that floats cannot represent; each ray passes 1e-12 m inside
  // the sphere's extreme x (far below a float's resolution there), so it hits only if the
  // box bounds were rounded outwards.
  const CounterRng rng{32, 0, 0};
  int hits = 0;
  for (int i = 0; i < 2000; ++i) {
    const uint64_t k = 4 * static_cast<uint64_t>(i);
    const double c[3] = {20 * rng.Uniform(k, 0) - 10, 20 * rng.Uniform(k, 1) - 10,
                         4 * rng.Uniform(k + 1, 0)};
    const double r = 0.1 + rng.Uniform(k + 1, 1);
    RaycastScene scene;
    scene.AddSphere(c, r);
    // A few other spheres so the grazed one sits in a multi-level tree.
    for (int j = 1; j < 12; ++j) {
      const double other[3] = {c[0] + 3.0 * j, c[1] - 2.0 * j, c[2]};
      scene.AddSphere(other, 0.5);
    }
    scene.Build();
    const double x = c[0] + r * (1 - 1e-12);
    Ray ray = MakeRay(x, c[1] - 20, c[2], 0, 1, 0);
    Primitive sphere{PrimitiveKind::kSphere, -1, {c[0], c[1], c[2], r}};
    const double expected = IntersectPrimitive(ray, sphere);
    REQUIRE(expected < INFINITY);
    const RayHit hit = CastRay(scene.View(), ray);
    CHECK(hit.t == expected);
    hits += hit.t == expected;
    // The same along -x at the sphere's lower y extreme.
    const double y = c[1] - r * (1 - 1e-12);
    ray = MakeRay(c[0] + 20, y, c[2], -1, 0, 0);
    CHECK(CastRay(scene.View(), ray).t == IntersectPrimitive(ray, sphere));
  }
  CHECK(hits == 2000);
}

TEST_CASE("Tiny scenes (one leaf, partly empty nodes) find the brute-force closest hit",
          "[raycast]") {
  const CounterRng rng{33, 0, 0};
  for (int count = 1; count <= 40; ++count) {
    RaycastScene scene;
    std::vector<Primitive> all;
    for (int i = 0; i < count; ++i) {
      const uint64_t k = 4 * static_cast<uint64_t>(i);
      const double c[3] = {6 * rng.Uniform(k, 0) - 3, 6 * rng.Uniform(k, 1) - 3,
                           6 * rng.Uniform(k + 1, 0) - 3};
      const double r = 0.2 + 0.6 * rng.Uniform(k + 1, 1);
      if (i % 2 == 0) {
        scene.AddSphere(c, r);
        all.push_back({PrimitiveKind::kSphere, -1, {c[0], c[1], c[2], r}});
      } else {
        const double identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, h[3] = {r, r, 0.5 * r};
        scene.AddBox(c, identity, h);
        all.push_back({PrimitiveKind::kBox,
                       -1,
                       {c[0], c[1], c[2], 1, 0, 0, 0, 1, 0, 0, 0, 1, h[0], h[1], h[2]}});
      }
    }
    scene.Build();
    REQUIRE(scene.num_nodes() >= 1);
    std::vector<Ray> rays;
    for (int i = 0; i < 400; ++i) {
      const uint64_t k = 1000 + 4 * static_cast<uint64_t>(i);
      Ray ray{};
      for (int a = 0; a < 3; ++a) {
        ray.origin[a] = 10 * rng.Uniform(k, a) - 5;
        ray.direction[a] = Component(rng, k + 1, a);
      }
      if (ray.direction[0] == 0 && ray.direction[1] == 0 && ray.direction[2] == 0)
        ray.direction[0] = -0.0, ray.direction[1] = 1;
      const double n = std::sqrt(Dot3(ray.direction, ray.direction));
      for (double& d : ray.direction) d /= n;
      ray.t_min = 0;
      ray.t_max = INFINITY;
      rays.push_back(ray);
    }
    std::vector<RayHit> hits(rays.size());
    scene.Cast(rays, hits);
    for (size_t r = 0; r < rays.size(); ++r) {
      double best = INFINITY;
      int32_t best_id = -1;
      for (size_t p = 0; p < all.size(); ++p) {
        const double t = IntersectPrimitive(rays[r], all[p]);
        if (t < best) best = t, best_id = static_cast<int32_t>(p);
      }
      INFO("scene of " << count << ", ray " << r);
      CHECK(hits[r].t == best);
      if (best < INFINITY) CHECK(IntersectPrimitive(rays[r], all[hits[r].primitive]) == best);
      CHECK((hits[r].primitive < 0) == (best_id < 0));
    }
  }
}

}  // namespace
}  // namespace ftwin
