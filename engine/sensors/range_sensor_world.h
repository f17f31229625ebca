// The per-beam formula of the range_sensor block, host-device (DESIGN.md rule 6): the CPU driver
// (RangeSensorBlock::Update, one world at a time) and the device driver (range_sensor_kernels,
// one thread per world and beam) both call RangeSensorBeam. C++17, no heap: nvcc compiles it.
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/rng.h"
#include "engine/sensors/raycast_math.h"
#include "gpu/host_device.h"

namespace ftwin {

/// Moving bodies a range sensor may have (checked when the scenario loads).
constexpr int kRangeMaxBodies = 16;

/// What one range sensor casts against: beams in world coordinates, the static scene and each
/// moving body's scene in its body frame. Host pointers for the CPU driver, device pointers in
/// the device driver (the views of the uploaded copies).
struct RangeSensorScenes {
  SceneView scene{};
  SceneView bodies[kRangeMaxBodies]{};
  int32_t num_bodies = 0;
  const Ray* rays = nullptr;
  int32_t num_beams = 0;
  RangeReturnParams returns;
};

/// A moving body's pose in one world as the ray transform uses it: a world point p is
/// Rz(-yaw) (p - position) in the body frame; c, s = cos(yaw), sin(yaw).
struct BodyFrame {
  double x, y, z, c, s;
};

FTWIN_HD inline BodyFrame BodyFrameFromPose(double x, double y, double z, double yaw) {
  return {x, y, z, cos(yaw), sin(yaw)};
}

/// The true range of beam `beam`: the nearest hit of the static scene and of every moving body
/// (the ray taken into the body frame, so the body's BVH is never moved); inf for no hit.
/// `frames(b)` gives body b's BodyFrame in this world.
template <class Frames>
FTWIN_HD inline double RangeBeamTrueRange(const RangeSensorScenes& s, const Frames& frames,
                                          int32_t beam) {
  const Ray& w = s.rays[beam];
  RayHit hit = CastRay(s.scene, w);
  for (int32_t b = 0; b < s.num_bodies; ++b) {
    const BodyFrame q = frames(b);
    Ray local = w;
    const double dx = w.origin[0] - q.x, dy = w.origin[1] - q.y;
    local.origin[0] = q.c * dx + q.s * dy;
    local.origin[1] = -q.s * dx + q.c * dy;
    local.origin[2] = w.origin[2] - q.z;
    local.direction[0] = q.c * w.direction[0] + q.s * w.direction[1];
    local.direction[1] = -q.s * w.direction[0] + q.c * w.direction[1];
    local.t_max = hit.t < w.t_max ? hit.t : w.t_max;  // only nearer hits matter
    const RayHit body_hit = CastRay(s.bodies[b], local);
    if (body_hit.t < hit.t) hit = body_hit;
  }
  return hit.t;
}

/// One beam of one world: writes its true range and its measured range (noise, quantisation,
/// dropouts, max-range returns; the draw keyed by the block's stream, counter tick * beams +
/// beam). `range` and `truth` are this world's rows.
template <class Frames>
FTWIN_HD inline void RangeSensorBeam(const RangeSensorScenes& s, const Frames& frames,
                                     const CounterRng& rng, int64_t tick, int32_t beam,
                                     double* range, double* truth) {
  const double t = RangeBeamTrueRange(s, frames, beam);
  truth[beam] = t;
  range[beam] = MeasuredRange(s.returns, t, rng,
                              static_cast<uint64_t>(tick) * static_cast<uint64_t>(s.num_beams) +
                                  static_cast<uint64_t>(beam));
}

}  // namespace ftwin
