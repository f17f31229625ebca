// Assembly robots of the robot cell: a gripper robot picks parts from the AGV's buffer and
// places them on the clamped body. Checked against part conservation (buffer, reservations,
// grasped and placed parts), the grip tolerance rule, starvation on an empty buffer, and the
// carried part's static load against J^T m g (an independent formula from the RNEA the servo
// and the plant use).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "robots/arm_math.h"
#include "robots/cell_bullet_world.h"
#include "robots/register.h"
#include "robots/robot_cell.h"

namespace ftwin {
namespace {

using Cell = RobotCellBlock;

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterRobotBlocks(registry);
  return registry;
}

// A 1 m body on a short conveyor, one UR5e with a parallel gripper that picks from a tray beside
// the conveyor and places one part on the body's side.
std::string AssemblyCell(const std::string& physics, const std::string& extra,
                         double part_mass_kg = 1.0, const std::string& duration = "30s") {
  return R"(ftwin: 1
name: assembly-cell
run: {dt: 1ms, duration: )" +
         duration + R"(, seed: 5}
blocks:
  - name: cell
    type: robot_cell
    physics: )" +
         physics + R"(
    conveyor_length_m: 2.0
    conveyor_speed_m_per_s: 0.5
    exit_length_m: 1.5
    body_size_m: [1.0, 0.6, 0.3]
    body_floor_m: 0.1
    approach_m: 0.08
    grip_time: 400ms
)" + extra +
         R"(
    robots:
      - name: picker
        role: assembly
        urdf: )" +
         std::string(FTWIN_ROBOTS_DATA_DIR) + R"(/ur5e.urdf
        tool_link: tool0
        base_xyz_m: [0.2, -0.85, 0.0]
        base_yaw_rad: 1.5707963267948966
        home_rad: [0.0, -1.8, 1.8, -1.57, -1.57, 0.0]
        link_radius_m: 0.05
        tool: {preset: parallel_gripper_ur}
        part_mass_kg: )" +
         std::to_string(part_mass_kg) + R"(
        pick: {position_m: [0.6, -0.55, 0.25]}
        spots:
          - {position_m: [0.1, -0.3, 0.3], direction: [0, 1, 0]}
)";
}

const std::string kAgv =
    "    agv: {pickup_xy_m: [10.0, -4.0], dropoff_xy_m: [5.0, -4.0], load_time: 2s, "
    "parts_per_trip: 3, buffer_capacity: 6, buffer_initial: 2}\n";

double Kpi(const Simulator& simulator, const std::string& name) {
  for (const KpiEntry& entry : simulator.ComputeKpis())
    if (entry.desc.name == name) return entry.per_world[0];
  FAIL("no KPI " << name);
  return 0;
}

const Cell& CellOf(const Model& model) {
  return static_cast<const Cell&>(model.block(model.FindBlock("cell")));
}

}  // namespace

TEST_CASE("An assembly robot places one part per body and conserves the parts", "[robots][slow]") {
  const std::string physics = GENERATE(std::string("native"), std::string("bullet"));
  INFO("physics " << physics);
  const auto model =
      LoadScenarioText(AssemblyCell(physics, kAgv), "assembly.yaml", Registry()).model;
  Simulator simulator(model);
  const Cell& cell = CellOf(*model);
  const double* agv = simulator.state().World<double>(cell.agv_field(), 0);
  const int64_t* st = simulator.state().World<int64_t>(cell.robot_state_field(), 0);
  const double* rf = simulator.state().World<double>(cell.robot_field(), 0);
  double worst_grip_error = 0.0;
  for (int tick = 0; tick < 30000; ++tick) {
    simulator.Step();
    if (st[Cell::kPhase] == Cell::kGripping)
      worst_grip_error = std::max(worst_grip_error, rf[Cell::kWeldErrorM]);
    // Conservation at every tick: the initial parts plus the delivered ones are in the buffer,
    // reserved for a pick, or consumed (grasped).
    const double reserved = st[Cell::kHolding] == 2 ? 1.0 : 0.0;
    REQUIRE(2.0 + agv[Cell::kAgvDelivered] ==
            agv[Cell::kAgvBuffer] + reserved + agv[Cell::kAgvConsumed]);
  }
  const double bodies = Kpi(simulator, "bodies_completed");
  const double placed = Kpi(simulator, "parts_placed");
  const double holding = st[Cell::kHolding] == 1 ? 1.0 : 0.0;
  const auto* counts = simulator.state().World<int64_t>(cell.counts_field(), 0);
  INFO("bodies " << bodies << ", placed " << placed << ", worst grip error " << worst_grip_error
                 << " m; last collision: tick " << counts[Cell::kLastCollisionTick] << ", kind "
                 << counts[Cell::kLastCollisionKind] << ", index "
                 << counts[Cell::kLastCollisionIndex]);
  CHECK(bodies >= 2);
  // Every released body got its part; a body still at the station may have it already.
  CHECK(placed >= bodies);
  CHECK(placed <= bodies + 1);
  CHECK(agv[Cell::kAgvConsumed] == placed + holding);
  CHECK(Kpi(simulator, "assembly_quality_rate") == 1.0);
  CHECK(Kpi(simulator, "failed_picks") == 0);
  CHECK(Kpi(simulator, "starved_s") == 0);
  CHECK(Kpi(simulator, "collisions") == 0);
  CHECK(worst_grip_error < 2e-3);
}

TEST_CASE("A grip outside the tolerance leaves the part in the buffer", "[robots][slow]") {
  // A tolerance far below the servo's settling error: every pick fails.
  const auto model =
      LoadScenarioText(AssemblyCell("native", kAgv + "    grip_tolerance_m: 1e-9\n", 1.0, "12s"),
                       "assembly.yaml", Registry())
          .model;
  Simulator simulator(model);
  simulator.Step(12000);
  const double* agv = simulator.state().World<double>(CellOf(*model).agv_field(), 0);
  CHECK(Kpi(simulator, "failed_picks") >= 1);
  CHECK(Kpi(simulator, "parts_placed") == 0);
  CHECK(agv[Cell::kAgvConsumed] == 0);
  // The place step of each processed body found an empty gripper.
  const int64_t* counts = simulator.state().World<int64_t>(CellOf(*model).counts_field(), 0);
  CHECK(counts[Cell::kPartsMissed] >= 1);
  CHECK(Kpi(simulator, "assembly_quality_rate") == 0.0);
}

TEST_CASE("An assembly robot waits above an empty buffer and the body is not released",
          "[robots][slow]") {
  const std::string agv =
      "    agv: {pickup_xy_m: [10.0, -4.0], dropoff_xy_m: [5.0, -4.0], load_time: 2s, "
      "parts_per_trip: 3, buffer_capacity: 6, buffer_initial: 0}\n";
  const auto model = LoadScenarioText(AssemblyCell("native", agv, 1.0, "15s") +
                                          "faults:\n  - {block: cell, fault: agv_breakdown, at: "
                                          "0s}\n",
                                      "assembly.yaml", Registry())
                         .model;
  Simulator simulator(model);
  simulator.Step(15000);
  const Cell& cell = CellOf(*model);
  const int64_t* st = simulator.state().World<int64_t>(cell.robot_state_field(), 0);
  CHECK(st[Cell::kPhase] == Cell::kWaitPart);
  CHECK(Kpi(simulator, "bodies_completed") == 0);
  CHECK(Kpi(simulator, "parts_placed") == 0);
  // The body arrives after 4 s and is clamped 1.5 s later; the robot reaches the tray's
  // approach pose within a few seconds and waits from then on.
  const double starved = Kpi(simulator, "starved_s");
  CHECK(starved > 5.0);
  CHECK(starved < 15.0 - 5.5);
  // It waits standing still at the approach waypoint above the tray.
  const Cell::Robot& robot = cell.config().robots[0];
  const double* q = simulator.state().World<double>(cell.q_field(), 0);
  const double* qd = simulator.state().World<double>(cell.qd_field(), 0);
  const ArmVector& approach = robot.waypoints[static_cast<size_t>(robot.program[0])];
  for (int i = 0; i < robot.arm.dof; ++i) {
    CHECK(std::abs(q[i] - approach(i)) < 1e-3);
    CHECK(std::abs(qd[i]) < 1e-3);
  }
}

TEST_CASE("The carried part loads the drives by J^T m g", "[robots][slow]") {
  const std::string physics = GENERATE(std::string("native"), std::string("bullet"));
  INFO("physics " << physics);
  // Torques while the part is held still at the place pose (the end of the place dwell), with
  // and without the part's mass.
  auto held_torques = [&](double mass, ArmVector* q_out) {
    const auto model =
        LoadScenarioText(AssemblyCell(physics, kAgv, mass), "assembly.yaml", Registry()).model;
    Simulator simulator(model);
    const Cell& cell = CellOf(*model);
    const int64_t* st = simulator.state().World<int64_t>(cell.robot_state_field(), 0);
    const double* rf = simulator.state().World<double>(cell.robot_field(), 0);
    const Cell::Robot& robot = cell.config().robots[0];
    for (int tick = 0; tick < 30000; ++tick) {
      simulator.Step();
      if (st[Cell::kPhase] == Cell::kGripping && st[Cell::kHolding] == 1 &&
          robot.program_grip[static_cast<size_t>(st[Cell::kStep])] == 2 && rf[Cell::kDwell] >= 0.35)
        break;
    }
    REQUIRE(st[Cell::kPhase] == Cell::kGripping);
    const double* torque = simulator.state().World<double>(cell.tau_field(), 0);
    const double* q = simulator.state().World<double>(cell.q_field(), 0);
    ArmVector result = ArmVector::Zero();
    for (int i = 0; i < robot.arm.dof; ++i) result(i) = torque[i], (*q_out)(i) = q[i];
    return result;
  };
  ArmVector q_light = ArmVector::Zero(), q_heavy = ArmVector::Zero();
  const ArmVector light = held_torques(0.0, &q_light);
  const ArmVector heavy = held_torques(2.0, &q_heavy);
  const auto model =
      LoadScenarioText(AssemblyCell(physics, kAgv), "assembly.yaml", Registry()).model;
  const Cell::Robot& robot = CellOf(*model).config().robots[0];
  // Static load of a point mass at the TCP: tau = -J_v^T m g (g in the base frame).
  const Eigen::Vector3d gravity = robot.base.R.transpose() * Eigen::Vector3d(0, 0, -9.80665);
  const ArmJacobian J = ArmToolJacobian(robot.arm, q_heavy);
  const ArmVector expected = -(J.topRows<3>().transpose() * (2.0 * gravity));
  for (int i = 0; i < robot.arm.dof; ++i) {
    INFO("joint " << i + 1 << ": light " << light(i) << ", heavy " << heavy(i) << ", expected +"
                  << expected(i) << " N m; q differs by " << q_heavy(i) - q_light(i));
    CHECK(std::abs(heavy(i) - light(i) - expected(i)) < 0.02 * std::abs(expected(i)) + 0.02);
  }
}

TEST_CASE("An AGV near the protective zone slows and stops the robots like a person",
          "[robots][slow]") {
  // The AGV shuttles along y = -2.5 m past the cell (zone: robot base and body box, x in
  // [-0.5, 0.5], y in [-0.85, 0.3]); its 0.6 m footprint comes to 1.05 m of the zone.
  const std::string agv =
      "    agv: {pickup_xy_m: [8.0, -2.5], dropoff_xy_m: [-8.0, -2.5], load_time: 1s, "
      "parts_per_trip: 1, buffer_capacity: 100, buffer_initial: 2}\n";
  for (const bool triggers : {true, false}) {
    INFO("agv_triggers " << triggers);
    const std::string safety =
        std::string("    safety: {agv_triggers: ") + (triggers ? "true" : "false") + "}\n";
    const auto model = LoadScenarioText(AssemblyCell("native", agv + safety, 1.0, "40s"),
                                        "assembly.yaml", Registry())
                           .model;
    Simulator simulator(model);
    const Cell& cell = CellOf(*model);
    const double* pose = simulator.state().World<double>(cell.agv_field(), 0);
    const int64_t* counts = simulator.state().World<int64_t>(cell.counts_field(), 0);
    const FieldId distance_id = model->schema().Find("cell.visitor_distance_m");
    int slow_ticks = 0, stop_ticks = 0;
    for (int tick = 0; tick < 40000; ++tick) {
      // The scanners see the AGV where the last tick left it.
      const double dx = std::max({-0.5 - pose[Cell::kAgvX], 0.0, pose[Cell::kAgvX] - 0.5});
      const double dy = std::max({-0.85 - pose[Cell::kAgvY], 0.0, pose[Cell::kAgvY] - 0.3});
      const double expected = std::sqrt(dx * dx + dy * dy) - 0.6;
      simulator.Step();
      const double seen = simulator.state().World<double>(distance_id, 0)[0];
      if (triggers) {
        REQUIRE(std::abs(seen - expected) < 1e-12);
        REQUIRE(counts[Cell::kSafety] == (seen < 1.5 ? 2 : (seen < 3.0 ? 1 : 0)));
      } else {
        REQUIRE(std::isinf(seen));
        REQUIRE(counts[Cell::kSafety] == 0);
      }
      slow_ticks += counts[Cell::kSafety] == 1;
      stop_ticks += counts[Cell::kSafety] == 2;
    }
    if (triggers) {
      CHECK(slow_ticks > 1000);
      CHECK(stop_ticks > 500);
      CHECK(Kpi(simulator, "safety_stop_s") == Approx(stop_ticks * 1e-3).epsilon(1e-9));
    } else {
      CHECK(Kpi(simulator, "safety_stop_s") == 0.0);
    }
  }
}

TEST_CASE("Bad assembly robot keys are rejected with their key", "[robots]") {
  // part_mass_kg on a welding robot, a negative part mass, an assembly robot without `pick`.
  const std::string base = AssemblyCell("native", kAgv);
  std::string weld_with_mass = base;
  weld_with_mass.replace(weld_with_mass.find("role: assembly"), 14, "role: weld");
  std::string negative = base;
  negative.replace(negative.find("part_mass_kg: "), 14, "part_mass_kg: -");
  std::string no_pick = base;
  no_pick.replace(no_pick.find("pick: "), 4, "xpick");
  const std::pair<std::string, std::string> cases[] = {
      {weld_with_mass, "part_mass_kg"}, {negative, "part_mass_kg"}, {no_pick, "pick"}};
  for (const auto& [text, key] : cases) {
    INFO(key);
    try {
      LoadScenarioText(text, "assembly.yaml", Registry());
      FAIL("loaded a bad scenario");
    } catch (const InputError& error) {
      const std::string message = error.what();
      INFO(message);
      CHECK(message.find("assembly.yaml:") != std::string::npos);
      CHECK(message.find(key) != std::string::npos);
    }
  }
}

}  // namespace ftwin

namespace ftwin {

TEST_CASE("In Bullet the part is a rigid body: buffer, gripper, fixed to the body, gone with it",
          "[robots][bullet][slow]") {
  // One body: the part is reserved (at rest on the tray at the pick pose), grasped (at the TCP,
  // moving with it), placed (fixed to the car body: its pose in the body's frame stays put while
  // the unclamped body is carried off by the belt, slipping as it starts) and removed when the
  // body leaves the line. Checked against the arm's forward kinematics and the body's state.
  const auto model =
      LoadScenarioText(AssemblyCell("bullet", kAgv), "assembly.yaml", Registry()).model;
  Simulator simulator(model);
  const Cell& cell = CellOf(*model);
  const Cell::Robot& robot = cell.config().robots[0];
  REQUIRE(cell.parts_field() != kInvalidField);
  const int hand = cell.hand_part_row(0);
  const int placed_row = hand - static_cast<int>(robot.spots.size());  // spot 0
  const double* parts = simulator.state().World<double>(cell.parts_field(), 0);
  const double* hand_part = parts + hand * kPartSlots;
  const double* placed = parts + placed_row * kPartSlots;
  const double* body = simulator.state().World<double>(cell.body_rigid_field(), 0);
  const double* q_all = simulator.state().World<double>(cell.q_field(), 0);
  const int64_t* st = simulator.state().World<int64_t>(cell.robot_state_field(), 0);
  const auto* counts = simulator.state().World<int64_t>(cell.counts_field(), 0);
  const Eigen::Vector3d pick = (robot.base * robot.spot_tcp.back()).p;
  auto pose_of = [](const double* rigid) {
    ArmPose pose;
    pose.p = Eigen::Vector3d(rigid[kRigidX], rigid[kRigidY], rigid[kRigidZ]);
    pose.R = Eigen::Quaterniond(rigid[kRigidQw], rigid[kRigidQx], rigid[kRigidQy], rigid[kRigidQz])
                 .toRotationMatrix();
    return pose;
  };
  int buffer_ticks = 0, held_ticks = 0, on_body_ticks = 0;
  double worst_buffer = 0, worst_held = 0, worst_held_v = 0, worst_drift = 0, worst_turn = 0;
  double body_x_at_place = 0, body_x_last = 0;
  ArmPose attached;
  bool removed = false;
  std::vector<uint8_t> snapshot;
  int64_t snapshot_tick = -1;
  while (simulator.tick() < 25000 && !removed) {
    const bool was_on_body = placed[kPartMode] == kPartOnBody;
    simulator.Step();
    ArmVector q = ArmVector::Zero(), qd = ArmVector::Zero();
    for (int i = 0; i < 6; ++i) q(i) = q_all[i];
    if (st[Cell::kHolding] == 2) {
      REQUIRE(hand_part[kPartMode] == kPartInBuffer);
      ++buffer_ticks;
      worst_buffer = std::max(worst_buffer, (pose_of(hand_part + kPartRigid).p - pick).norm());
    } else if (st[Cell::kHolding] == 1) {
      REQUIRE(hand_part[kPartMode] == kPartHeld);
      ++held_ticks;
      const ArmPose tcp = robot.base * ArmToolPose(robot.arm, q);
      const ArmPose part = pose_of(hand_part + kPartRigid);
      worst_held = std::max(
          worst_held, (part.p - tcp.p).norm() + ArmRotationLog(part.R * tcp.R.transpose()).norm());
      // Its velocity is the TCP's, J(q) qd.
      const double* qd_all = simulator.state().World<double>(cell.qd_field(), 0);
      for (int i = 0; i < 6; ++i) qd(i) = qd_all[i];
      const Eigen::Vector3d v = robot.base.R * (ArmToolJacobian(robot.arm, q) * qd).head<3>();
      worst_held_v = std::max(worst_held_v, (Eigen::Vector3d(hand_part[kPartRigid + kRigidVx],
                                                             hand_part[kPartRigid + kRigidVy],
                                                             hand_part[kPartRigid + kRigidVz]) -
                                             v)
                                                .norm());
    }
    if (placed[kPartMode] == kPartOnBody) {
      const ArmPose in_body = pose_of(body).Inverse() * pose_of(placed + kPartRigid);
      if (!was_on_body) {
        attached = in_body;
        body_x_at_place = body[kRigidX];
        CHECK(hand_part[kPartMode] == kPartAbsent);  // the hand is empty again
        CHECK(counts[Cell::kPartsPlaced] == 1);
      }
      ++on_body_ticks;
      worst_drift = std::max(worst_drift, (in_body.p - attached.p).norm());
      worst_turn = std::max(worst_turn, ArmRotationLog(in_body.R * attached.R.transpose()).norm());
      body_x_last = body[kRigidX];
      // A snapshot with the part on the moving body.
      if (snapshot.empty() && body[kRigidVx] > 0.2) {
        snapshot = simulator.Snapshot();
        snapshot_tick = simulator.tick();
      }
    } else if (was_on_body) {
      removed = true;
      CHECK(placed[kPartMode] == kPartAbsent);
      CHECK(counts[Cell::kStationPhase] == Cell::kArriving);  // the body was handed over
    }
  }
  INFO("buffer " << buffer_ticks << " ticks (worst " << worst_buffer << " m), held " << held_ticks
                 << " ticks (worst " << worst_held << ", v " << worst_held_v << "), on the body "
                 << on_body_ticks << " ticks (drift " << worst_drift << " m, " << worst_turn
                 << " rad), body travelled " << body_x_last - body_x_at_place << " m");
  CHECK(buffer_ticks > 0);
  CHECK(held_ticks > 0);
  CHECK(worst_buffer < 1e-12);
  CHECK(worst_held < 1e-12);
  CHECK(worst_held_v < 1e-12);
  REQUIRE(removed);
  // The part rode with the body from the station to the end of the line (exit_length_m 1.5 m),
  // holding its placement pose to within a micrometre and a microradian.
  CHECK(body_x_last - body_x_at_place > 1.4);
  CHECK(worst_drift < 1e-6);
  CHECK(worst_turn < 1e-6);
  // Snapshot/restore with the part on the moving body: a fresh simulator continues bit for bit.
  REQUIRE(!snapshot.empty());
  Simulator continued(model);
  continued.Restore(snapshot);
  Simulator straight(model);
  straight.Step(snapshot_tick + 600);
  continued.Step(600);
  CHECK(continued.state().Hash() == straight.state().Hash());
}

}  // namespace ftwin
