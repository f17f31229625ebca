// The robot cell's rigid bodies in Bullet (robots/cell_bullet_world.h) against independent
// truth: belt transport time = length / speed, friction-limited acceleration and stopping
// distance (mu g), the resting height of a box on the belt, the clamp holding the body at the
// station datum, exact snapshot/restore into a fresh simulator, thread-count invariance, and
// the station timing of the kinematic native cell.
#include "robots/cell_bullet_world.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "robots/register.h"
#include "robots/robot_cell.h"

namespace ftwin {
namespace {

constexpr double kG = 9.80665;
constexpr double kInfinity = std::numeric_limits<double>::infinity();

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterRobotBlocks(registry);
  return registry;
}

// One UR5e welding three spots on a 1 m x 0.6 m x 0.3 m body of 80 kg, 2 m of infeed at
// 0.5 m/s, body underside (belt top) at 0.1 m.
std::string Cell(const std::string& extra, const std::string& duration = "20s",
                 const std::string& speed = "0.5", const std::string& exit = "1.5") {
  return R"(ftwin: 1
name: bullet-cell
run: {dt: 1ms, duration: )" +
         duration + R"(, seed: 3}
blocks:
  - name: cell
    type: robot_cell
    conveyor_length_m: 2.0
    conveyor_speed_m_per_s: )" +
         speed + R"(
    exit_length_m: )" +
         exit + R"(
    body_size_m: [1.0, 0.6, 0.3]
    body_floor_m: 0.1
    body_mass_kg: 80
    approach_m: 0.08
)" + extra +
         R"(
    robots:
      - name: r1
        urdf: )" +
         std::string(FTWIN_ROBOTS_DATA_DIR) + R"(/ur5e.urdf
        base_xyz_m: [0.0, -0.75, 0.0]
        base_yaw_rad: 1.5707963267948966
        home_rad: [0.0, -1.8, 1.8, -1.57, -1.57, 0.0]
        link_radius_m: 0.05
        tool: {mass_kg: 1.0, com_m: [0, 0, 0.05], tcp_xyz_m: [0, 0, 0.1]}
        spots:
          - {position_m: [-0.12, -0.3, 0.42], direction: [0, 1, 0]}
          - {position_m: [0.12, -0.3, 0.42], direction: [0, 1, 0]}
          - {position_m: [0.0, -0.3, 0.55], direction: [0, 1, 0]}
)";
}

const RobotCellBlock& CellBlock(const Model& model) {
  return static_cast<const RobotCellBlock&>(model.block(model.FindBlock("cell")));
}

// Resting centre height of the test body: belt top + half its height.
constexpr double kRestZ = 0.1 + 0.15;

}  // namespace

TEST_CASE("Bullet belts carry the car body to the station in length / speed", "[robots][bullet]") {
  const auto model = LoadScenarioText(Cell(""), "cell.yaml", Registry()).model;
  Simulator simulator(model);
  const RobotCellBlock& cell = CellBlock(*model);
  REQUIRE(cell.body_rigid_field() != kInvalidField);
  const auto* counts = simulator.state().World<int64_t>(cell.counts_field(), 0);
  const double* body = simulator.state().World<double>(cell.body_rigid_field(), 0);
  double lowest = kInfinity, highest = -kInfinity, slowest = kInfinity, fastest = 0, drift = 0;
  while (counts[RobotCellBlock::kStationPhase] == RobotCellBlock::kArriving &&
         simulator.tick() < 10000) {
    simulator.Step();
    if (counts[RobotCellBlock::kStationPhase] != RobotCellBlock::kArriving) break;  // clamped
    lowest = std::min(lowest, body[kRigidZ]);
    highest = std::max(highest, body[kRigidZ]);
    slowest = std::min(slowest, body[kRigidVx]);
    fastest = std::max(fastest, body[kRigidVx]);
    drift = std::max({drift, std::abs(body[kRigidY]), std::abs(CellBodyYaw(body))});
  }
  INFO("arrival " << simulator.time_s() << " s, z in [" << lowest << ", " << highest
                  << "] m, vx in [" << slowest << ", " << fastest << "] m/s, drift " << drift);
  // 2.0 m at 0.5 m/s = 4 s. Slip tolerance: the station sees the body one tick after it
  // crosses x = 0, plus at most one tick of slip over the run (0.05 % of the time).
  CHECK(std::abs(simulator.time_s() - 2.0 / 0.5) <= 2e-3 + 1e-12);
  // The body rides on the belt: it neither sinks into it nor lifts off (0.1 mm), keeps the belt
  // speed (0.1 %) and runs straight.
  CHECK(lowest > kRestZ - 1e-4);
  CHECK(highest < kRestZ + 1e-4);
  CHECK(std::abs(slowest - 0.5) < 5e-4);
  CHECK(std::abs(fastest - 0.5) < 5e-4);
  CHECK(drift < 1e-5);
}

TEST_CASE("Belt friction limits the body's acceleration to mu g", "[robots][bullet]") {
  // belt_friction 0.3: a speed step from 0.5 to 1.5 m/s accelerates the body at mu g until it
  // runs with the belt: 1.0 / (0.3 g) = 0.340 s.
  const auto model =
      LoadScenarioText(Cell("    belt_friction: 0.3\n"), "cell.yaml", Registry()).model;
  Simulator simulator(model);
  REQUIRE(simulator.Submit({.tick = 500, .target = "cell/conveyor_speed", .values = {1.5}}) == "");
  const double* body = simulator.state().World<double>(CellBlock(*model).body_rigid_field(), 0);
  simulator.Step(500);
  REQUIRE(std::abs(body[kRigidVx] - 0.5) < 5e-4);
  int ticks = 0;
  while (body[kRigidVx] < 1.5 - 1e-3 && ticks < 2000) {
    simulator.Step();
    ++ticks;
  }
  const double expected = 1.0 / (0.3 * kG);
  INFO("reached the belt speed after " << ticks << " ticks, expected " << expected << " s");
  CHECK(std::abs(ticks * 1e-3 - expected) < 0.01 * expected + 2e-3);
  simulator.Step(200);
  CHECK(std::abs(body[kRigidVx] - 1.5) < 1e-3);  // then rides with the belt
}

TEST_CASE("A body on a stopped belt slides v^2 / (2 mu g) and rests at its height",
          "[robots][bullet]") {
  // The belt jams at 1 s under a body moving at 0.5 m/s: friction (mu 0.6) stops it after
  // 0.25 / (2 * 0.6 g) = 21.2 mm; then it rests on the belt without sinking.
  const auto model =
      LoadScenarioText(Cell("", "5s") + "faults:\n  - {block: cell, fault: conveyor_jam, at: 1s}\n",
                       "cell.yaml", Registry())
          .model;
  Simulator simulator(model);
  const double* body = simulator.state().World<double>(CellBlock(*model).body_rigid_field(), 0);
  simulator.Step(1000);
  const double x_jam = body[kRigidX];
  simulator.Step(1000);
  const double slide = body[kRigidX] - x_jam, expected = 0.25 / (2 * 0.6 * kG);
  INFO("slid " << slide << " m, expected " << expected << " m");
  // Within 2 % plus one tick of travel at the jam (the belt stops at a tick boundary).
  CHECK(std::abs(slide - expected) < 0.02 * expected + 0.5e-3);
  double lowest = kInfinity, highest = -kInfinity, fastest = 0;
  for (int k = 0; k < 1000; ++k) {
    simulator.Step();
    lowest = std::min(lowest, body[kRigidZ]);
    highest = std::max(highest, body[kRigidZ]);
    fastest = std::max({fastest, std::abs(body[kRigidVx]), std::abs(body[kRigidVz])});
  }
  INFO("resting z in [" << lowest << ", " << highest << "], speed " << fastest);
  CHECK(lowest > kRestZ - 1e-4);
  CHECK(highest < kRestZ + 1e-4);
  CHECK(fastest < 1e-4);
}

TEST_CASE("The station clamp holds the body at the datum while the robot welds",
          "[robots][bullet]") {
  // Without the clamp the arriving body (0.5 m/s) would slide 21 mm past the station on the
  // stopped belt; clamped it stays within 0.1 mm of x = 0 for the whole processing phase.
  const auto model = LoadScenarioText(Cell("", "16s"), "cell.yaml", Registry()).model;
  Simulator simulator(model);
  const RobotCellBlock& cell = CellBlock(*model);
  const auto* counts = simulator.state().World<int64_t>(cell.counts_field(), 0);
  const double* body = simulator.state().World<double>(cell.body_rigid_field(), 0);
  int processing = 0;
  double worst_x = 0, worst_v = 0;
  for (int k = 0; k < 16000 && counts[RobotCellBlock::kBodies] == 0; ++k) {
    simulator.Step();
    if (counts[RobotCellBlock::kStationPhase] != RobotCellBlock::kProcessing) continue;
    ++processing;
    worst_x = std::max({worst_x, std::abs(body[kRigidX]), std::abs(body[kRigidY]),
                        std::abs(body[kRigidZ] - kRestZ)});
    worst_v = std::max(
        {worst_v, std::abs(body[kRigidVx]), std::abs(body[kRigidVy]), std::abs(body[kRigidVz])});
  }
  INFO(processing << " processing ticks, worst offset " << worst_x << " m, speed " << worst_v);
  CHECK(processing > 2000);  // the robot welded for seconds
  CHECK(worst_x < 1e-4);
  CHECK(worst_v < 1e-4);
  CHECK(counts[RobotCellBlock::kBodies] == 1);  // released and leaving
  simulator.Step(500);
  CHECK(body[kRigidVx] > 0.4);  // the belt carries it off again
}

TEST_CASE("Bullet cell bodies: snapshot/restore into a fresh simulator and threads are exact",
          "[robots][bullet][determinism]") {
  // A fast belt and a short clamp, two worlds with different belt speeds: snapshots are taken
  // with the body riding the belt (world 0 arrives at 0.4 s, world 1 at 0.5 s).
  const std::string text = Cell("    clamp_time: 100ms\n", "3s");
  auto model_for = [&](int threads) {
    return LoadScenarioText(text, "cell.yaml", Registry(),
                            {.num_worlds = 2, .num_threads = threads})
        .model;
  };
  auto start = [](Simulator& simulator) {
    REQUIRE(simulator.Submit({.tick = 0, .target = "cell/conveyor_speed", .values = {5.0}}) == "");
    REQUIRE(simulator.Submit(
                {.tick = 0, .world = 1, .target = "cell/conveyor_speed", .values = {4.0}}) == "");
  };
  const auto model = model_for(1);
  const FieldId rigid = CellBlock(*model).body_rigid_field();
  for (const int n : {300, 700}) {  // on the belt; clamped with the arm moving
    Simulator simulator(model);
    start(simulator);
    simulator.Step(n);
    const double* body = simulator.state().World<double>(rigid, 0);
    INFO("snapshot at tick " << n << ", body x " << body[kRigidX] << ", vx " << body[kRigidVx]);
    const std::vector<uint8_t> snapshot = simulator.Snapshot();
    simulator.Step(400);
    const uint64_t continued = simulator.state().Hash();
    Simulator fresh(model);
    fresh.Restore(snapshot);
    fresh.Step(400);
    CHECK(fresh.state().Hash() == continued);
    simulator.Restore(snapshot);
    simulator.Step(400);
    CHECK(simulator.state().Hash() == continued);
    Simulator threaded(model_for(2));
    start(threaded);
    threaded.Step(n + 400);
    CHECK(threaded.state().Hash() == continued);
  }
}

TEST_CASE("Bullet and native cells agree on the station cycle", "[robots][bullet][slow]") {
  // Arrival, clamping, the weld program and the release at a 2 m/s belt: the native cell moves
  // the body kinematically (it takes the belt speed at once), Bullet carries it on the belt.
  // Truth: the first body enters at belt speed, so it arrives and is released within 2 ms (the
  // Bullet station sees the body one tick after it crosses the station, plus a tick of slip);
  // a released body starts from rest and slips until friction has brought it to belt speed,
  // which costs v / (2 mu g) = 0.170 s: the next arrival, release and so the cycle time are
  // that much later, again within 2 ms.
  auto release_times = [](const std::string& physics) {
    const auto model =
        LoadScenarioText(
            Cell("    physics: " + physics + "\n    clamp_time: 200ms\n", "21s", "2.0", "0.5"),
            "cell.yaml", Registry())
            .model;
    Simulator simulator(model);
    const auto* counts = simulator.state().World<int64_t>(CellBlock(*model).counts_field(), 0);
    std::vector<double> times;
    std::vector<double> arrivals;
    int64_t bodies = 0, phase = counts[RobotCellBlock::kStationPhase];
    while (times.size() < 2 && simulator.tick() < 21000) {
      simulator.Step();
      if (counts[RobotCellBlock::kBodies] != bodies) times.push_back(simulator.time_s());
      if (counts[RobotCellBlock::kStationPhase] == RobotCellBlock::kClamping &&
          phase == RobotCellBlock::kArriving)
        arrivals.push_back(simulator.time_s());
      bodies = counts[RobotCellBlock::kBodies];
      phase = counts[RobotCellBlock::kStationPhase];
    }
    times.insert(times.end(), arrivals.begin(), arrivals.end());
    return times;
  };
  const std::vector<double> bullet = release_times("bullet"), native = release_times("native");
  REQUIRE(bullet.size() == 4);
  REQUIRE(native.size() == 4);
  const double lag = 2.0 / (2 * 0.6 * kG);
  for (size_t k = 0; k < 4; ++k) {
    INFO((k < 2 ? "release " : "arrival ")
         << k % 2 << ": bullet " << bullet[k] << " s, native " << native[k] << " s");
    const double expected = k % 2 == 0 ? 0.0 : lag;
    CHECK(bullet[k] - native[k] >= expected - 1e-9);  // Bullet is never early
    CHECK(bullet[k] - native[k] <= expected + 2e-3 + 1e-9);
  }
  // Cycle time (release to release).
  CHECK(std::abs((bullet[1] - bullet[0]) - (native[1] - native[0]) - lag) <= 2e-3 + 1e-9);
}

TEST_CASE("Bad rigid-body keys are rejected with the key and the expectation", "[robots]") {
  // Each case replaces one line of the valid scenario.
  auto error_for = [](const std::string& line, const std::string& replacement) -> std::string {
    std::string text = Cell("", "1s");
    const size_t at = text.find(line);
    REQUIRE(at != std::string::npos);
    text.replace(at, line.size(), replacement);
    try {
      LoadScenarioText(text, "cell.yaml", Registry());
    } catch (const InputError& error) {
      return error.what();
    }
    return "";
  };
  const std::string kMass = "    body_mass_kg: 80\n", kFloor = "    body_floor_m: 0.1\n";
  const std::string mass = error_for(kMass, "    body_mass_kg: -5\n");
  INFO(mass);
  CHECK(mass.find("cell.yaml:") != std::string::npos);
  CHECK(mass.find("body_mass_kg") != std::string::npos);
  const std::string belt = error_for(kMass, kMass + "    belt_friction: -0.1\n");
  INFO(belt);
  CHECK(belt.find("belt_friction") != std::string::npos);
  const std::string floor = error_for(kMass, kMass + "    floor_friction: -1\n");
  CHECK(floor.find("floor_friction") != std::string::npos);
  // The native cell has no belt geometry: a body on the floor is fine there.
  const std::string bullet_floor = error_for(kFloor, "    body_floor_m: 0\n");
  INFO(bullet_floor);
  CHECK(bullet_floor.find("expected > 0 with physics: bullet") != std::string::npos);
  CHECK(error_for(kFloor, "    body_floor_m: 0\n    physics: native\n").empty());
}

}  // namespace ftwin
