// Batched range sensing (engine/sensors/raycast_batch.h): analytic ranges from per-world poses,
// world and thread-count independence, and CUDA-vs-CPU parity where a GPU exists.
#include "engine/sensors/raycast_batch.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "engine/sensors/raycast_scene.h"
#include "engine/thread_pool.h"
#include "gpu/cuda_device.h"

namespace ftwin {
namespace {

// A fan of downward beams in the sensor frame: elevations -40 ... -5 deg, 16 azimuths.
std::vector<Ray> DownwardFan() {
  std::vector<Ray> rays;
  for (int e = 0; e < 8; ++e) {
    const double elevation = (-40.0 + 5.0 * e) * M_PI / 180.0;
    for (int a = 0; a < 16; ++a) {
      const double azimuth = a * 2.0 * M_PI / 16.0;
      rays.push_back({{0, 0, 0},
                      {std::cos(elevation) * std::cos(azimuth),
                       std::cos(elevation) * std::sin(azimuth), std::sin(elevation)},
                      0.0,
                      100.0});
    }
  }
  return rays;
}

// The floor (z = 0) plus a cloud of boxes and spheres high above it (BVH work, never hit by
// downward beams from below them... except where they are below the sensors, see the tests).
RaycastScene Floor(bool clutter) {
  RaycastScene scene;
  const double up[3] = {0, 0, 1};
  scene.AddPlane(up, 0.0);
  if (clutter) {
    for (int i = 0; i < 200; ++i) {
      const double center[3] = {-20.0 + 0.2 * i, std::fmod(7.3 * i, 20.0) - 10.0,
                                0.2 + 0.01 * (i % 7)};
      if (i % 2 == 0) {
        scene.AddSphere(center, 0.15);
      } else {
        const double rotation[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
        const double half[3] = {0.1, 0.2, 0.15};
        scene.AddBox(center, rotation, half);
      }
    }
  }
  scene.Build();
  return scene;
}

std::vector<SensorPose> Poses(int worlds) {
  std::vector<SensorPose> poses;
  for (int w = 0; w < worlds; ++w) {
    const double position[3] = {0.05 * w, -0.03 * w, 1.0 + 0.01 * w};
    poses.push_back(SensorPoseFromYawPitchRoll(position, 0.1 * w, 0.0, 0.0));
  }
  return poses;
}

RaycastBatch Batch(const RaycastScene& scene, const std::vector<Ray>& pattern,
                   const std::vector<SensorPose>& poses, std::vector<double>* truth,
                   std::vector<double>* range) {
  truth->assign(pattern.size() * poses.size(), -1.0);
  range->assign(pattern.size() * poses.size(), -1.0);
  RaycastBatch batch;
  batch.scene = scene.View();
  batch.pattern = pattern.data();
  batch.num_beams = static_cast<int32_t>(pattern.size());
  batch.poses = poses.data();
  batch.num_worlds = static_cast<int32_t>(poses.size());
  batch.returns.range_max_m = 50.0;
  batch.seed = 11;
  batch.stream = 3;
  batch.tick = 1234;
  batch.true_range_m = truth->data();
  batch.range_m = range->data();
  return batch;
}

TEST_CASE("Batched scans see the floor at the analytic range from every world's pose",
          "[sensors][raycast]") {
  // Sensor w at height h_w, yawed by 0.1 w: a beam with sensor-frame direction d (yaw keeps d_z)
  // meets z = 0 at h_w / -d_z.
  const RaycastScene scene = Floor(false);
  const std::vector<Ray> pattern = DownwardFan();
  const std::vector<SensorPose> poses = Poses(32);
  std::vector<double> truth, range;
  RaycastBatch batch = Batch(scene, pattern, poses, &truth, &range);
  batch.returns.range_min_m = 2.0;  // closer targets give no return (read range_max)
  CastBatchCpu(batch, nullptr);
  int too_close = 0;
  for (size_t w = 0; w < poses.size(); ++w)
    for (size_t b = 0; b < pattern.size(); ++b) {
      const double expected = poses[w].position[2] / -pattern[b].direction[2];
      const size_t i = w * pattern.size() + b;
      CHECK(std::abs(truth[i] - expected) < 1e-9);
      too_close += truth[i] < 2.0;
      CHECK(range[i] == (truth[i] < 2.0 ? 50.0 : truth[i]));  // no noise set
    }
  CHECK(too_close > 0);
}

TEST_CASE("A world's scan does not depend on its batch or the thread count",
          "[sensors][raycast][determinism]") {
  const RaycastScene scene = Floor(true);
  const std::vector<Ray> pattern = DownwardFan();
  const std::vector<SensorPose> poses = Poses(64);
  std::vector<double> truth1, range1, truth2, range2;
  RaycastBatch one = Batch(scene, pattern, poses, &truth1, &range1);
  one.returns = {0.1, 50.0, 0.01, 0.003, 0.05, 0.002};  // noise, dropouts, quantization
  RaycastBatch two = Batch(scene, pattern, poses, &truth2, &range2);
  two.returns = one.returns;
  CastBatchCpu(one, nullptr);
  ThreadPool pool(2);
  CastBatchCpu(two, &pool);
  CHECK(truth1 == truth2);
  CHECK(range1 == range2);
  // Noise really acts (otherwise this test could not fail): measured differs from the truth.
  int differ = 0, dropouts = 0;
  for (size_t i = 0; i < range1.size(); ++i) {
    differ += range1[i] != truth1[i];
    dropouts += range1[i] == 50.0 && truth1[i] < 50.0;
  }
  CHECK(differ > static_cast<int>(range1.size()) / 2);
  CHECK(dropouts > 0);
  // World 17 scanned alone (its absolute index keys its draws) equals its row of the batch.
  const std::vector<SensorPose> alone_pose = {poses[17]};
  std::vector<double> truth_alone, range_alone;
  RaycastBatch alone = Batch(scene, pattern, alone_pose, &truth_alone, &range_alone);
  alone.returns = one.returns;
  alone.first_world = 17;
  CastBatchCpu(alone, nullptr);
  for (size_t b = 0; b < pattern.size(); ++b) {
    CHECK(truth_alone[b] == truth1[17 * pattern.size() + b]);
    CHECK(range_alone[b] == range1[17 * pattern.size() + b]);
  }
}

TEST_CASE("CUDA batched scans match the CPU driver", "[gpu]") {
  const gpu::CudaStatus cuda = gpu::QueryCuda();
  const RaycastScene scene = Floor(true);
  DeviceRaycastScene device;
  std::string error;
  if (!cuda.available) {
    CHECK_FALSE(device.Upload(scene.View(), &error));  // and says why
    CHECK_FALSE(error.empty());
    WARN("skipped: CUDA parity needs a GPU; " << cuda.reason);
    return;
  }
  REQUIRE(device.Upload(scene.View(), &error));
  const std::vector<Ray> pattern = DownwardFan();
  const std::vector<SensorPose> poses = Poses(1024);
  std::vector<double> truth_cpu, range_cpu, truth_gpu, range_gpu;
  RaycastBatch cpu = Batch(scene, pattern, poses, &truth_cpu, &range_cpu);
  cpu.returns = {0.1, 50.0, 0.01, 0.003, 0.05, 0.002};
  RaycastBatch gpu_batch = Batch(scene, pattern, poses, &truth_gpu, &range_gpu);
  gpu_batch.returns = cpu.returns;
  CastBatchCpu(cpu, nullptr);
  REQUIRE(CastBatchCuda(device, gpu_batch, &error));
  // Tolerances: the geometry is double on both sides; nvcc may fuse multiply-adds, so exact
  // ranges agree to 1e-9 m, not bit for bit. Measured ranges add noise from log/sqrt/cos (ulp
  // differences between libdevice and glibc) and quantize at 2 mm, so a value sitting on a
  // rounding boundary may land one step apart: at most one step, rarely.
  int steps = 0;
  for (size_t i = 0; i < truth_cpu.size(); ++i) {
    if (std::isinf(truth_cpu[i])) {
      CHECK(std::isinf(truth_gpu[i]));
    } else {
      CHECK(std::abs(truth_gpu[i] - truth_cpu[i]) < 1e-9);
    }
    const double delta = std::abs(range_gpu[i] - range_cpu[i]);
    CHECK(delta <= 0.002 + 1e-9);
    steps += delta > 1e-9;
  }
  CHECK(steps <= static_cast<int>(truth_cpu.size()) / 1000);
}

}  // namespace
}  // namespace ftwin
