// The robot cell (physics: native) on the Simulator's device path (docs/gpu.md). On the emulated
// executor the device driver runs the same per-world step (CellWorldStepNative) as the CPU
// driver, so every field, the state hash, the events and the KPIs must be equal bit for bit,
// with commands (speed override, program selection, external joint targets, release) and faults
// (overheat, encoder failure) and a NaN-triggered world reset inside the window. On a CUDA device
// the same run must agree within the per-field tolerances below; without a device that test WARNs
// "skipped: no CUDA device".
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "gpu/executor.h"
#include "robots/register.h"
#include "robots/robot_cell.h"
#include "tests/gpu/state_compare.h"

namespace ftwin {
namespace {

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterRobotBlocks(registry);
  return registry;
}

std::string Ur5e(const std::string& name, double x, const std::string& spots) {
  return "      - name: " + name + "\n        urdf: " + std::string(FTWIN_ROBOTS_DATA_DIR) +
         "/ur5e.urdf\n        base_xyz_m: [" + std::to_string(x) +
         ", -0.75, 0.0]\n        base_yaw_rad: 1.5707963267948966\n"
         "        home_rad: [0.0, -1.8, 1.8, -1.57, -1.57, 0.0]\n"
         "        viscous_Nms_per_rad: [2, 2, 2, 0.5, 0.5, 0.5]\n"
         "        coulomb_Nm: [1, 1, 1, 0.2, 0.2, 0.2]\n"
         "        max_accel_rad_per_s2: [12, 12, 12, 12, 12, 12]\n"
         "        link_radius_m: 0.05\n"
         "        tool: {mass_kg: 1.0, com_m: [0, 0, 0.05], tcp_xyz_m: [0, 0, 0.1]}\n"
         "        spots:\n" +
         spots;
}

// Two UR5e sharing a zone on a short conveyor, with a visitor who trips the scanner (reduced
// speed, then a category 1 stop), an AGV supplying parts and fixtures (a fence and a bracket
// beside the spots that the tools touch): every part of the per-world step runs within 2.5 s. The
// AGV's footprint stays 3.6 m from the protective zone, beyond the scanners' slow-down distance.
std::string NativeCell(const std::string& physics = "native") {
  const std::string spots =
      "          - {position_m: [0.0, -0.3, 0.42], direction: [0, 1, 0], zone: middle}\n"
      "          - {position_m: [0.0, -0.3, 0.52], direction: [0, 1, 0]}\n";
  return R"(ftwin: 1
name: native-cell
run: {dt: 1ms, duration: 3s, seed: 5}
blocks:
  - name: cell
    type: robot_cell
    physics: )" +
         physics + R"(
    conveyor_length_m: 0.5
    conveyor_speed_m_per_s: 1.0
    exit_length_m: 1.5
    body_size_m: [1.0, 0.6, 0.3]
    body_floor_m: 0.1
    approach_m: 0.08
    clamp_time: 100ms
    weld_time: 100ms
    zones: [middle]
    collision_check_ticks: 5
    fixtures:
      - {name: fence, center_m: [0.0, -2.0, 1.0], size_m: [4.0, 0.1, 2.0]}
      - {name: bracket, center_m: [0.0, -0.36, 0.47], size_m: [0.04, 0.04, 0.04], yaw_rad: 0.4}
    agv: {pickup_xy_m: [-2.0, 4.5], dropoff_xy_m: [0.0, 4.5], load_time: 200ms, parts_per_trip: 2, buffer_capacity: 3, buffer_initial: 1}
    visitor: {enter_at: 2300ms, speed_m_per_s: 6.0, start_distance_m: 4.0, closest_distance_m: 1.0, dwell: 200ms}
    robots:
)" + Ur5e("left", -0.3, spots) +
         Ur5e("right", 0.3, spots);
}

std::shared_ptr<const Model> CellModel(int worlds, int threads = 1,
                                       const std::string& physics = "native") {
  return LoadScenarioText(NativeCell(physics), "native_cell.yaml", Registry(),
                          {.num_worlds = worlds, .num_threads = threads})
      .model;
}

// Commands and faults for world `world` of the batch (sent to world `as_world` of the run):
// every world gets its own belt speed, so the worlds differ.
void SubmitFor(Simulator& simulator, int world, int as_world) {
  const std::vector<Command> commands = {
      {0, as_world, "cell/conveyor_speed", {1.0 + 0.25 * world}, "test"},
      {700, as_world, "cell/speed_override", {world == 1 ? 0.5 : 0.8}, "test"},
      {0, as_world, "cell/select_program", {1, world == 2 ? 0.0 : 1.0}, "test"},
      {1100, as_world, "cell/move_joints", {1, 0.4, -1.5, 1.5, -1.2, -1.57, 0.3}, "test"},
      {900, as_world, "cell!overheat", {0, world == 0 ? 0.5 : 0.9}, "test"},
      {2000, as_world, "cell!encoder_failure", {world == 1 ? 1.0 : 0.0}, "test"},
      {2500, as_world, "cell!encoder_failure", {world == 1 ? 1.0 : 0.0, 0.0}, "test"},
      {2800, as_world, "cell/release", {}, "test"},
      // World 1 clamps by command (its body waits unclamped from 0.5 s to 0.8 s); every AGV
      // leaves its shuttle for a goal and resumes it.
      {0, as_world, "cell/clamp_mode", {world == 1 ? 1.0 : 0.0}, "test"},
      {800, as_world, "cell/clamp", {1}, "test"},
      {300, as_world, "cell/agv_goal", {-1.0 - 0.5 * world, 3.5}, "test"},
      {1600, as_world, "cell/agv_auto", {}, "test"},
  };
  for (const Command& command : commands) {
    INFO(command.target << " at " << command.tick);
    REQUIRE(simulator.Submit(command).empty());
  }
}

void SubmitAll(Simulator& simulator) {
  for (int w = 0; w < simulator.num_worlds(); ++w) SubmitFor(simulator, w, w);
}

double Kpi(const Simulator& simulator, const std::string& name, int world) {
  for (const KpiEntry& entry : simulator.ComputeKpis())
    if (entry.desc.name == name) return entry.per_world[static_cast<size_t>(world)];
  FAIL("no KPI " << name);
  return 0;
}

constexpr int64_t kTicks = 3000;
// Batch invariance needs no weld: a shorter window (these tests also run under the sanitizers).
constexpr int64_t kBatchTicks = 1500;

TEST_CASE("Robot cell: native physics runs on the device path, Bullet physics says why not",
          "[gpu_runtime]") {
  const auto native = CellModel(2);
  CHECK(Simulator::DevicePathUnsupported(*native).empty());
  Simulator emulated(native, nullptr, {SimDevice::kEmulated});
  CHECK(emulated.on_device());
  CHECK(emulated.device_bytes_per_world() == native->schema().BytesPerWorld());
  // A Bullet cell keeps a Bullet world per world: alone it has nothing for the device (beside
  // device blocks it runs on the host between their kernels: hybrid_device_test.cpp).
  const auto bullet = CellModel(1, 1, "bullet");
  CHECK_THAT(Simulator::DevicePathUnsupported(*bullet), Catch::Contains("per-world objects"));
  Simulator refused(bullet, nullptr, {SimDevice::kEmulated});
  CHECK_FALSE(refused.on_device());
  const RobotCellBlock& cell =
      static_cast<const RobotCellBlock&>(bullet->block(bullet->FindBlock("cell")));
  CHECK_FALSE(cell.SupportsCuda());
}

TEST_CASE("Robot cell: more spots than the flat cell description holds is a scenario error",
          "[gpu_runtime]") {
  std::string spots;
  for (int k = 0; k <= kCellMaxSpots; ++k)
    spots += "          - {position_m: [0.0, -0.3, 0.42], direction: [0, 1, 0]}\n";
  std::string text = NativeCell();
  text = text.substr(0, text.find("    robots:\n")) + "    robots:\n" + Ur5e("left", -0.3, spots);
  try {
    LoadScenarioText(text, "native_cell.yaml", Registry());
    FAIL("accepted " << kCellMaxSpots + 1 << " spots");
  } catch (const InputError& error) {
    const std::string message = error.what();
    CHECK_THAT(message, Catch::Contains("spots"));
    CHECK_THAT(message, Catch::Contains("expected at most 16 weld spots per robot"));
  }
}

// Runs `worlds` worlds for `ticks` ticks on the CPU driver and the emulated device, comparing
// every field every `chunk` ticks; at `nan_tick` world 1 gets a NaN joint velocity: the check
// catches it and both paths reset that world (InitWorld on the host) at the same tick. `full`:
// the window is long enough to require welds, interlock waits, a collision and a safety stop.
void EmulatedParity(int worlds, int64_t ticks, int64_t chunk, int64_t nan_tick, bool full) {
  const auto model = CellModel(worlds);
  Simulator cpu(model), device(model, nullptr, {SimDevice::kEmulated});
  REQUIRE(device.on_device());
  SubmitAll(cpu);
  SubmitAll(device);
  // In chunks, so host syncs between Step calls are part of the run.
  const FieldId qd = model->schema().Find("cell.qd");
  for (int64_t done = 0; done < ticks; done += chunk) {
    if (done == nan_tick)
      for (Simulator* s : {&cpu, &device})
        s->state().World<double>(qd, 1)[2] = std::numeric_limits<double>::quiet_NaN();
    cpu.Step(chunk);
    device.Step(chunk);
    INFO("tick " << cpu.tick());
    REQUIRE(CompareStates(cpu, device, {}) == "");
  }
  CHECK(cpu.state().Hash() == device.state().Hash());
  CHECK(cpu.total_resets() == 1);
  CHECK(device.total_resets() == 1);
  const auto cpu_kpis = cpu.ComputeKpis(), device_kpis = device.ComputeKpis();
  REQUIRE(cpu_kpis.size() == device_kpis.size());
  for (size_t k = 0; k < cpu_kpis.size(); ++k) {
    INFO("KPI " << cpu_kpis[k].desc.name);
    CHECK(std::memcmp(cpu_kpis[k].per_world.data(), device_kpis[k].per_world.data(),
                      sizeof(double) * worlds) == 0);
  }
  REQUIRE(cpu.events().size() == device.events().size());
  for (size_t e = 0; e < cpu.events().size(); ++e) {
    CHECK(cpu.events()[e].kind == device.events()[e].kind);
    CHECK(cpu.events()[e].world == device.events()[e].world);
  }
  if (!full) return;
  // The window exercised the cell: a weld made, robots waiting for the shared zone, a collision
  // found, the scanner tripped, an external target rejected (robot 1 runs its program in world
  // 0) and accepted (program 0 in world 2).
  CHECK(Kpi(cpu, "welds", 2) >= 1);
  CHECK(Kpi(cpu, "interlock_wait_s", 0) > 0.0);
  CHECK(Kpi(cpu, "collisions", 0) >= 1);
  // The robots' tools pass the bracket between the two spots (collisions against a fixture).
  CHECK(Kpi(cpu, "fixture_collisions", 0) + Kpi(cpu, "fixture_collisions", 1) +
            Kpi(cpu, "fixture_collisions", 2) >=
        1);
  CHECK(Kpi(cpu, "safety_stop_s", 0) > 0.0);
  CHECK(Kpi(cpu, "rejected_targets", 0) >= 1);
  CHECK(Kpi(cpu, "rejected_targets", 2) == 0);
  // The worlds differ (belt speeds, commands, faults).
  const Schema& schema = model->schema();
  const FieldId q = schema.Find("cell.q");
  CHECK(std::memcmp(cpu.state().World<double>(q, 0), cpu.state().World<double>(q, 1),
                    12 * sizeof(double)) != 0);
}

TEST_CASE("Robot cell: emulated device equals the CPU driver bit for bit (3 s window)", "[slow]") {
  EmulatedParity(3, kTicks, 500, 2500, true);
}

// The same comparison over a window short enough for the sanitizer builds: arrival, clamping,
// the first moves, the commands due by then and a NaN reset.
TEST_CASE("Robot cell: emulated device equals the CPU driver bit for bit (0.7 s window)",
          "[determinism]") {
  EmulatedParity(2, 700, 100, 600, false);
}

TEST_CASE("Robot cell: world i of an emulated batch equals that world alone and on 2 threads",
          "[slow]") {
  const int worlds = 3;
  Simulator batch(CellModel(worlds), nullptr, {SimDevice::kEmulated});
  REQUIRE(batch.on_device());
  SubmitAll(batch);
  batch.Step(kBatchTicks);
  Simulator threaded(CellModel(worlds, 2));
  SubmitAll(threaded);
  threaded.Step(kBatchTicks);
  CHECK(CompareStates(batch, threaded, {}) == "");
  const auto single = CellModel(1);
  const Schema& schema = single->schema();
  std::vector<FieldId> fields;
  for (FieldId id = 0; id < schema.size(); ++id) fields.push_back(id);
  for (int w = 0; w < worlds; ++w) {
    Simulator alone(single, nullptr, {SimDevice::kEmulated});
    REQUIRE(alone.on_device());
    SubmitFor(alone, w, 0);
    alone.Step(kBatchTicks);
    INFO("world " << w);
    CHECK(batch.state().HashWorld(w, fields) == alone.state().HashWorld(0, fields));
  }
}

TEST_CASE("Robot cell: CUDA driver equals the CPU driver within stated tolerances", "[gpu]") {
  std::string why;
  if (gpu::Executor::CreateCuda(&why) == nullptr) {
    WARN("skipped: no CUDA device (" << why << ")");
    return;
  }
  const int worlds = 256;
  const auto model = CellModel(worlds);
  Simulator cpu(model), device(model, nullptr, {SimDevice::kCuda});
  REQUIRE(device.on_device());
  for (int w = 0; w < worlds; ++w) SubmitFor(cpu, w % 3, w), SubmitFor(device, w % 3, w);
  cpu.Step(kTicks);
  device.Step(kTicks);
  // docs/gpu.md states these: CUDA's sin/cos (forward kinematics, joint rotations) differ from
  // glibc by 1-2 ulp; the kernel is built with -fmad=false so the rest is IEEE arithmetic in the
  // same order. The servo closes the loop, so joint errors stay near that level; integer fields
  // (program steps, phases, counts, zone owners) must be equal.
  const std::vector<Tolerance> tolerances = {
      {"cell.q", 1e-9, 1e-9},         {"cell.qd", 1e-7, 1e-9},      {"cell.tau", 1e-5, 1e-8},
      {"cell.move_from", 1e-9, 1e-9}, {"cell.move_to", 1e-9, 1e-9}, {"cell.robot", 1e-6, 1e-8},
      {"cell.cell", 1e-6, 1e-9},      {"cell.power_W", 1e-3, 1e-8}, {"cell.agv", 1e-9, 1e-12},
  };
  CHECK(CompareStates(cpu, device, tolerances) == "");
  Simulator again(model, nullptr, {SimDevice::kCuda});
  for (int w = 0; w < worlds; ++w) SubmitFor(again, w % 3, w);
  again.Step(kTicks);
  CHECK(again.state().Hash() == device.state().Hash());  // CUDA runs are deterministic
}

}  // namespace
}  // namespace ftwin
