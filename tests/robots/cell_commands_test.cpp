// Controller inputs of the robot cell: manual station clamping (clamp_mode, clamp) and AGV
// goals (agv_goal, agv_auto), in both physics modes. Truth: the station phases the commands must
// produce, the body resting where the belt stopped it, the AGV's go-to-goal tolerance, and part
// conservation (initial + delivered = in the buffer + consumed) at every tick.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "robots/register.h"
#include "robots/robot_cell.h"
#include "tests/robots/small_cell.h"

namespace ftwin {
namespace {

using Cell = RobotCellBlock;

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterRobotBlocks(registry);
  return registry;
}

// One UR5e welding two spots on a 1 m body; `extra` adds cell keys.
std::string CommandCell(const std::string& physics, const std::string& extra) {
  return testing::SmallUr5eCell(
      "command-cell", physics, "duration: 60s, seed: 3", extra,
      "          - {position_m: [-0.12, -0.3, 0.42], direction: [0, 1, 0]}\n"
      "          - {position_m: [0.12, -0.3, 0.42], direction: [0, 1, 0]}\n");
}

const Cell& CellOf(const Model& model) {
  return static_cast<const Cell&>(model.block(model.FindBlock("cell")));
}

}  // namespace

TEST_CASE("Manual clamping: the body waits unclamped for clamp and stays clamped until clamp(0)",
          "[robots][slow]") {
  for (const std::string physics : {"native", "bullet"}) {
    INFO(physics);
    const auto model = LoadScenarioText(CommandCell(physics, ""), "cmd.yaml", Registry()).model;
    const Cell& cell = CellOf(*model);
    Simulator simulator(model);
    const auto* counts = simulator.state().World<int64_t>(cell.counts_field(), 0);
    const double* cell_f = simulator.state().World<double>(cell.cell_field(), 0);
    const int64_t* st = simulator.state().World<int64_t>(cell.robot_state_field(), 0);
    REQUIRE(simulator.Submit({.tick = 0, .target = "cell/clamp_mode", .values = {1}}) == "");
    // The body arrives after 2 m / 0.5 m/s = 4 s and waits: no clamping, no welding.
    simulator.Step(7000);
    CHECK(counts[Cell::kStationPhase] == Cell::kWaitClamp);
    CHECK(counts[Cell::kWelds] == 0);
    // At the station: natively exactly; in Bullet where friction stopped it once the belt stood
    // still, v^2 / (2 mu g) = 21 mm past the station at most.
    CHECK(cell_f[Cell::kBodyX] >= 0.0);
    // (The station sees the body a tick after it crosses: plus up to two ticks of travel.)
    CHECK(cell_f[Cell::kBodyX] <=
          (physics == "native" ? 0.0 : 0.5 * 0.5 * 0.5 / (0.6 * 9.80665) + 2 * 0.5e-3));
    REQUIRE(simulator.Submit({.tick = simulator.tick(), .target = "cell/clamp", .values = {1}}) ==
            "");
    simulator.Step(2);
    CHECK(counts[Cell::kStationPhase] == Cell::kClamping);
    // The robot welds both spots; then the station keeps the body clamped.
    while (!(counts[Cell::kWelds] == 2 && st[Cell::kPhase] == Cell::kDone) &&
           simulator.tick() < 30000)
      simulator.Step();
    REQUIRE(counts[Cell::kWelds] == 2);
    simulator.Step(1500);
    CHECK(counts[Cell::kStationPhase] == Cell::kProcessing);
    CHECK(counts[Cell::kBodies] == 0);
    REQUIRE(simulator.Submit({.tick = simulator.tick(), .target = "cell/clamp", .values = {0}}) ==
            "");
    simulator.Step(2);
    CHECK(counts[Cell::kStationPhase] == Cell::kUnclamping);
    CHECK(counts[Cell::kClampRequest] == 0);
    simulator.Step(1100);  // unclamp_time 1 s
    CHECK(counts[Cell::kStationPhase] == Cell::kLeaving);
    CHECK(counts[Cell::kBodies] == 1);
    CHECK(counts[Cell::kMissedWelds] == 0);
    // Back to automatic: the next body is clamped on arrival.
    REQUIRE(simulator.Submit(
                {.tick = simulator.tick(), .target = "cell/clamp_mode", .values = {0}}) == "");
    while (counts[Cell::kStationPhase] != Cell::kClamping && simulator.tick() < 40000)
      simulator.Step();
    CHECK(counts[Cell::kStationPhase] == Cell::kClamping);
  }
}

TEST_CASE("agv_goal takes the AGV off its shuttle to a goal; agv_auto resumes it; parts conserved",
          "[robots][slow]") {
  const std::string agv =
      "    agv: {pickup_xy_m: [4.0, 3.0], dropoff_xy_m: [-1.0, 3.0], load_time: 1s, "
      "parts_per_trip: 2, buffer_capacity: 4, buffer_initial: 1}\n"
      "    safety: {agv_triggers: false}\n";
  for (const std::string physics : {"native", "bullet"}) {
    INFO(physics);
    const auto model = LoadScenarioText(CommandCell(physics, agv), "cmd.yaml", Registry()).model;
    const Cell& cell = CellOf(*model);
    Simulator simulator(model);
    const double* a = simulator.state().World<double>(cell.agv_field(), 0);
    auto conserved = [&]() {
      REQUIRE(1.0 + a[Cell::kAgvDelivered] == a[Cell::kAgvBuffer] + a[Cell::kAgvConsumed]);
    };
    // On its way to the pickup, the AGV is sent to (0, 6).
    REQUIRE(simulator.Submit({.tick = 1000, .target = "cell/agv_goal", .values = {0.0, 6.0}}) ==
            "");
    for (int k = 0; k < 9000; ++k) simulator.Step(), conserved();
    CHECK(std::hypot(a[Cell::kAgvX] - 0.0, a[Cell::kAgvY] - 6.0) < 0.01);  // go-to-goal tolerance
    const double x = a[Cell::kAgvX], y = a[Cell::kAgvY], delivered = a[Cell::kAgvDelivered];
    CHECK(a[Cell::kAgvMode] == static_cast<double>(Cell::kToPickup));  // its shuttle mode kept
    for (int k = 0; k < 3000; ++k) simulator.Step(), conserved();
    CHECK(a[Cell::kAgvX] == x);  // it waits at the goal
    CHECK(a[Cell::kAgvY] == y);
    CHECK(a[Cell::kAgvDelivered] == delivered);
    REQUIRE(simulator.Submit({.tick = simulator.tick(), .target = "cell/agv_auto"}) == "");
    for (int k = 0; k < 30000; ++k) simulator.Step(), conserved();
    CHECK(a[Cell::kAgvManual] == 0.0);
    INFO("AGV at " << a[Cell::kAgvX] << ", " << a[Cell::kAgvY] << ", mode " << a[Cell::kAgvMode]
                   << ", timer " << a[Cell::kAgvTimer] << ", buffer " << a[Cell::kAgvBuffer]);
    CHECK(a[Cell::kAgvDelivered] > delivered);  // back on the shuttle, delivering
  }
  // Without an AGV the goal is rejected and counted.
  const auto model = LoadScenarioText(CommandCell("native", ""), "cmd.yaml", Registry()).model;
  Simulator simulator(model);
  REQUIRE(simulator.Submit({.tick = 0, .target = "cell/agv_goal", .values = {1.0, 1.0}}) == "");
  simulator.Step(2);
  CHECK(simulator.state().World<int64_t>(CellOf(*model).counts_field(),
                                         0)[Cell::kRejectedTargets] == 1);
}

}  // namespace ftwin
