// The range_sensor block (lidar, planar scanner, depth camera) on the Simulator's device path
// (docs/gpu.md). On the emulated executor the device driver casts every (world, beam) with the
// same host-device function as the CPU Update (RangeSensorBeam: static scene, moving bodies in
// their body frames, the return model with the block's Philox key), so every field must be equal
// bit for bit. The weld cell with native physics, whose body scanner sees the car body the cell
// moves, now runs wholly on the device path. On a CUDA device the same runs must agree within
// the tolerances below; without a device that test WARNs "skipped: no CUDA device".
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "gpu/executor.h"
#include "gpu/for_each_world.h"
#include "robots/register.h"
#include "tests/gpu/state_compare.h"

namespace ftwin {
namespace {

namespace fs = std::filesystem;

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterRobotBlocks(registry);
  return registry;
}

// A closed unit cube as an OBJ file (12 triangles), so the scenes include BVH triangles.
std::string CubeObj() {
  const fs::path dir =
      fs::temp_directory_path() / ("ftwin_range_device_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "cube.obj";
  std::ofstream out(file);
  out << "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\nv 1 1 1\nv 0 1 1\n"
         "f 1 3 2\nf 1 4 3\nf 5 6 7\nf 5 7 8\nf 1 2 6\nf 1 6 5\nf 2 3 7\nf 2 7 6\n"
         "f 3 4 8\nf 3 8 7\nf 4 1 5\nf 4 5 8\n";
  return file.string();
}

struct Pattern {
  const char* name;
  std::string keys;  ///< the pattern's scenario keys
  int beams;
};

std::vector<Pattern> Patterns() {
  return {{"lidar",
           "    pattern: lidar\n    channel_table: " FTWIN_SHARED_DIR
           "/data/lidar/VLP16db.yaml\n    azimuth_count: 90\n",
           16 * 90},
          {"planar", "    pattern: planar\n    field_of_view: 270\n    beams: 181\n", 181},
          {"depth_camera",
           "    pattern: depth_camera\n    width: 24\n    height: 16\n    fx: 20\n    fy: 20\n",
           24 * 16}};
}

// A sensor 1 m above the floor among static primitives and a static mesh, with two moving
// bodies: a cart (box + cylinder) whose x comes through a noisy instrument with a per-world
// bias (so every world sees it elsewhere, and it jitters every tick) and whose yaw swings, and
// a drone (sphere + mesh) in front of the sensor, bobbing up and down, its x biased per world.
// Noise, divergence dropouts and quantisation on.
std::string RangeScenario(const Pattern& pattern) {
  const std::string mesh = CubeObj();
  return R"(ftwin: 1
name: range-parity
run: {dt: 10ms, duration: 10s, seed: 11}
blocks:
  - {name: drive_x, type: signal_source, unit: m, shape: ramp, from: -3, to: 3, start: 0s, end: 1s}
  - {name: drive_yaw, type: signal_source, unit: rad, shape: sine, mean: 0.3, amplitude: 0.8, wave_period: 700ms}
  - {name: drive_z, type: signal_source, unit: m, shape: sine, mean: 1.2, amplitude: 0.6, wave_period: 500ms}
  - {name: fixed_y, type: signal_source, unit: m, shape: constant, value: 2.5}
  - {name: fixed_low, type: signal_source, unit: m, shape: constant, value: 0.4}
  - {name: fixed_far, type: signal_source, unit: m, shape: constant, value: 2.2}
  - {name: fixed_side, type: signal_source, unit: m, shape: constant, value: -0.3}
  - {name: pose_x, type: sensor, unit: m, initial_bias_sigma: 0.4, noise_sigma: 0.02}
  - {name: drone_x, type: sensor, unit: m, initial_bias_sigma: 0.2}
  - name: scanner
    type: range_sensor
    range_max: 12
    range_noise_sigma: 0.02
    beam_divergence: 0.004
    footprint_limit: 0.04
    resolution: 0.001
    position: [0, 0, 1]
    scene:
      - {type: plane, normal: [0, 0, 1], offset: 0}
      - {type: plane, normal: [1, 0, 0], offset: 7}
      - {type: plane, normal: [0, 1, 0], offset: -6}
      - {type: box, center: [4, 1, 1], size: [0.5, 3, 2], yaw: 0.3}
      - {type: sphere, center: [-3, 2, 1], radius: 0.7}
      - {type: capsule, from: [0, -3, 0], to: [1, -3, 2], radius: 0.3}
      - {type: mesh, file: )" +
         mesh + R"(, scale: 0.8, position: [-2, -2, 0], yaw: 0.4}
      - {type: box, center: [0, 0, 0], size: [1.2, 0.6, 0.8], body: cart}
      - {type: cylinder, from: [0.5, 0, 0], to: [0.5, 0, 1.5], radius: 0.1, body: cart}
      - {type: sphere, center: [0, 0, 0], radius: 0.4, body: drone}
      - {type: mesh, file: )" +
         mesh + R"(, scale: 0.5, position: [-0.25, -0.25, 0.3], body: drone}
)" + pattern.keys +
         R"(connections:
  - [drive_x.value, pose_x.truth]
  - [pose_x.value, scanner.cart_x]
  - [fixed_y.value, scanner.cart_y]
  - [fixed_low.value, scanner.cart_z]
  - [drive_yaw.value, scanner.cart_yaw]
  - [fixed_far.value, drone_x.truth]
  - [drone_x.value, scanner.drone_x]
  - [fixed_side.value, scanner.drone_y]
  - [drive_z.value, scanner.drone_z]
  - [drive_yaw.value, scanner.drone_yaw]
)";
}

std::shared_ptr<const Model> RangeModel(const Pattern& pattern, int worlds) {
  RunOverrides overrides;
  overrides.num_worlds = worlds;
  return LoadScenarioText(RangeScenario(pattern), "range_parity.yaml", Registry(), overrides).model;
}

std::vector<double> Field(const Simulator& simulator, const std::string& name, int world) {
  const FieldId id = simulator.model().schema().Find(name);
  REQUIRE(id != kInvalidField);
  const double* data = simulator.state().World<double>(id, world);
  return std::vector<double>(data, data + simulator.state().ElementCount(id));
}

// The scans are not trivial: beams hit (finite ranges below range_max), the return model acts
// (noisy, quantised ranges and dropouts), the worlds differ and the bodies moved since `first`.
void CheckScansAreRich(const Simulator& simulator, const std::vector<double>& first,
                       const Pattern& pattern) {
  const std::vector<double> truth = Field(simulator, "scanner.true_range_m", 0);
  const std::vector<double> range = Field(simulator, "scanner.range_m", 0);
  REQUIRE(static_cast<int>(truth.size()) == pattern.beams);
  int hits = 0, noisy = 0, dropouts = 0, moved = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 12.0) {
      ++hits;
      if (range[i] == 12.0)
        ++dropouts;
      else if (range[i] != truth[i])
        ++noisy;
    }
    if (truth[i] != first[i]) ++moved;
  }
  INFO(pattern.name << ": hits " << hits << ", noisy " << noisy << ", dropouts " << dropouts
                    << ", moved " << moved);
  CHECK(hits > pattern.beams / 4);
  CHECK(noisy > hits / 2);
  CHECK(dropouts > 0);
  CHECK(moved > 0);
  CHECK(Field(simulator, "scanner.true_range_m", 1) != truth);
}

TEST_CASE("Range sensor: emulated device equals the CPU bit for bit (lidar, planar, camera)",
          "[determinism]") {
  for (const Pattern& pattern : Patterns()) {
    INFO("pattern " << pattern.name);
    const auto model = RangeModel(pattern, 3);
    Simulator cpu(model), device(model, nullptr, {SimDevice::kEmulated});
    REQUIRE(device.on_device());
    cpu.Step(1);
    device.Step(1);
    CHECK(CompareStates(cpu, device, {}) == "");
    const std::vector<double> first = Field(cpu, "scanner.true_range_m", 0);
    cpu.Step(29);
    device.Step(29);
    CHECK(CompareStates(cpu, device, {}) == "");
    CHECK(cpu.state().Hash() == device.state().Hash());
    CheckScansAreRich(cpu, first, pattern);
  }
}

TEST_CASE("Range sensor on the emulated device: a ball on a ramp at the analytic range",
          "[determinism]") {
  // One beam along +x; a sphere (r = 0.5) whose x rides a ramp 3 -> 8 m, yawed (the body-frame
  // transform must not matter for a sphere on the beam), in front of a wall at 20 m.
  const std::string text = R"(ftwin: 1
name: ball
run: {dt: 10ms, duration: 1s, seed: 2, worlds: 2}
blocks:
  - name: scanner
    type: range_sensor
    pattern: planar
    field_of_view: 20
    beams: 1
    range_max: 50
    scene:
      - {type: plane, normal: [1, 0, 0], offset: 20}
      - {type: sphere, body: ball, center: [0, 0, 0], radius: 0.5}
  - {name: ball_x, type: signal_source, unit: m, shape: ramp, from: 3, to: 8, start: 0s, end: 1s}
  - {name: zero, type: signal_source, unit: m, shape: constant, value: 0}
  - {name: yaw, type: signal_source, unit: rad, shape: constant, value: 0.7}
connections:
  - [ball_x.value, scanner.ball_x]
  - [zero.value, scanner.ball_y]
  - [zero.value, scanner.ball_z]
  - [yaw.value, scanner.ball_yaw]
)";
  Simulator device(LoadScenarioText(text, "ball.yaml", Registry()).model, nullptr,
                   {SimDevice::kEmulated});
  REQUIRE(device.on_device());
  for (int k = 0; k < 50; ++k) {
    device.Step(1);
    for (int w = 0; w < 2; ++w) {
      const double x = Field(device, "ball_x.value", w)[0];
      CHECK(Field(device, "scanner.true_range_m", w)[0] == Approx(x - 0.5).margin(1e-9));
      CHECK(Field(device, "scanner.range_m", w)[0] == Approx(x - 0.5).margin(1e-9));
    }
  }
  CHECK(Field(device, "ball_x.value", 0)[0] > 5.0);  // the ball moved
}

TEST_CASE("ForEachWorldItem on the emulated executor visits every (world, item) once, in order",
          "[gpu_runtime]") {
  auto executor = gpu::Executor::CreateEmulated();
  const int worlds = 3, items = 5;
  std::vector<int> order, visits(worlds * items, 0);
  gpu::ForEachWorldItem(
      *executor, worlds, items,
      [&](int world, int item) {
        order.push_back(world * items + item);
        ++visits[static_cast<size_t>(world * items + item)];
      },
      "test");
  CHECK(visits == std::vector<int>(worlds * items, 1));
  for (size_t i = 0; i < order.size(); ++i) CHECK(order[i] == static_cast<int>(i));
  order.clear();
  gpu::ForEachWorldItem(
      *executor, worlds, 0, [&](int, int) { order.push_back(0); }, "none");
  CHECK(order.empty());
}

TEST_CASE(
    "Range sensor: every pattern has a device update, and such models run wholly on the device",
    "[gpu_runtime]") {
  for (const Pattern& pattern : Patterns()) {
    INFO("pattern " << pattern.name);
    const auto model = RangeModel(pattern, 1);
    CHECK(Simulator::DevicePathUnsupported(*model).empty());
    CHECK(Simulator::HostBlocksOnDevicePath(*model).empty());  // wholly on the device
  }
}

// scenarios/robots/weld_cell.yaml: four KR 210, the assembly UR5e, the AGV and the body scanner
// (a planar range sensor whose moving body is the car the cell conveys); native physics, or as
// shipped (Bullet).
std::shared_ptr<const Model> WeldCellModel(int worlds, bool native = true) {
  std::ifstream in(FTWIN_SOURCE_DIR "/scenarios/robots/weld_cell.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  const std::string cell = "    type: robot_cell\n";
  REQUIRE(yaml.find(cell) != std::string::npos);
  REQUIRE(yaml.find("\n    physics:") == std::string::npos);  // as shipped: Bullet (default)
  if (native) yaml.insert(yaml.find(cell) + cell.size(), "    physics: native\n");
  RunOverrides overrides;
  overrides.num_worlds = worlds;
  return LoadScenarioText(yaml, FTWIN_SOURCE_DIR "/scenarios/robots/weld_cell.yaml", Registry(),
                          overrides)
      .model;
}

// Runs the weld cell on the CPU and on the emulated device for `ticks` with the conveyor at
// `speed` m/s from tick 0 (a command: a host sync on the device path) and compares them; the
// body scanner must have seen the car body. Native physics: everything on the device. Bullet:
// a hybrid run, the cell on the host feeding the scanner's pose ports on the device.
constexpr int64_t kFastTicks = 1200;

void WeldCellParity(int64_t ticks, double speed, bool native = true) {
  const auto model = WeldCellModel(2, native);
  REQUIRE(Simulator::DevicePathUnsupported(*model).empty());
  const std::string host = Simulator::HostBlocksOnDevicePath(*model);
  if (native)
    CHECK(host.empty());  // cell and scanner on the device
  else
    CHECK(host == "'cell' (robot_cell) keeps per-world objects");  // the scanner is not listed
  Simulator cpu(model), device(model, nullptr, {SimDevice::kEmulated});
  REQUIRE(device.on_device());
  for (Simulator* simulator : {&cpu, &device})
    REQUIRE(simulator->Submit({0, -1, "cell/conveyor_speed", {speed}, "test"}).empty());
  cpu.Step(ticks);
  device.Step(ticks);
  CHECK(CompareStates(cpu, device, {}) == "");
  CHECK(cpu.state().Hash() == device.state().Hash());
  const std::vector<KpiEntry> a = cpu.ComputeKpis(), b = device.ComputeKpis();
  REQUIRE(a.size() == b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    INFO("KPI " << a[k].block << "." << a[k].desc.name);
    CHECK(std::memcmp(a[k].per_world.data(), b[k].per_world.data(),
                      a[k].per_world.size() * sizeof(double)) == 0);
  }
  // The scanner sees the car body: the far fence is 9 m away, the body's near side 3.6 m.
  const std::vector<double> truth = Field(cpu, "body_scanner.true_range_m", 1);
  int on_body = 0;
  for (double t : truth) on_body += t < 5.0;
  INFO("beams on the body " << on_body);
  CHECK(on_body > 10);
}

// The shipped belt speed (0.8 m/s): 6 s until the first body is well inside the scanner's view.
TEST_CASE("Weld cell (native physics) with its body scanner: emulated device equals the CPU",
          "[slow]") {
  WeldCellParity(6000, 0.8);
}

// The same at 3 m/s, so the body is in view within a window short enough for the sanitizers.
// 72 s under the sanitizers: the Release stage runs it; the pattern tests above cover the
// scanner's device path there.
TEST_CASE("Weld cell (native physics), fast belt: emulated device equals the CPU", "[slow]") {
  WeldCellParity(kFastTicks, 3.0);
}

// As shipped (Bullet physics): the cell on the host, the scanner on the device.
TEST_CASE("Weld cell as shipped (Bullet), fast belt: hybrid run, the scanner on the device",
          "[slow]") {
  WeldCellParity(kFastTicks, 3.0, false);
}

TEST_CASE("Range sensor: CUDA driver equals the CPU driver within stated tolerances", "[gpu]") {
  std::string why;
  if (gpu::Executor::CreateCuda(&why) == nullptr) {
    WARN("skipped: no CUDA device (" << why << ")");
    return;
  }
  // docs/gpu.md states these: the kernel is built with -fmad=false, so the intersections are
  // the same IEEE operations (sqrt and division are correctly rounded on both); what differs is
  // CUDA's cos/sin of a body's yaw (1-2 ulp, moving the body-frame ray by ~1e-16 m) and the
  // log/cos of the Box-Muller noise. A quantisation or dropout decision sitting within an ulp of
  // its threshold would flip; the test would name the beam.
  const std::vector<Tolerance> tolerances = {{"scanner.true_range_m", 1e-12, 1e-12},
                                             {"scanner.range_m", 1e-12, 1e-12}};
  for (const Pattern& pattern : Patterns()) {
    INFO("pattern " << pattern.name);
    const auto model = RangeModel(pattern, 256);
    Simulator cpu(model), device(model, nullptr, {SimDevice::kCuda});
    REQUIRE(device.on_device());
    cpu.Step(20);
    device.Step(20);
    CHECK(CompareStates(cpu, device, tolerances) == "");
    Simulator again(model, nullptr, {SimDevice::kCuda});
    again.Step(20);
    CHECK(again.state().Hash() == device.state().Hash());  // CUDA runs are deterministic
  }
}

}  // namespace
}  // namespace ftwin
