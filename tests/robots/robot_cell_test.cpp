// The robot cell against independent truth: conveyor kinematics (length / speed), the weld
// tolerance rule under a known tip wear, zone interlocks, safety stops within the configured
// time, exact snapshot/restore of the Bullet world and determinism.
#include "robots/robot_cell.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include <unistd.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/mcap.h"
#include "engine/recorder.h"
#include "engine/scenario.h"
#include "engine/simulator.h"
#include "robots/register.h"

namespace ftwin {
namespace {

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterRobotBlocks(registry);
  return registry;
}

// A small cell of UR5e arms (cheap to simulate) around a 1 m body. `robots` is the YAML list.
std::string MiniCell(const std::string& extra, const std::string& robots,
                     const std::string& duration = "20s") {
  return R"(ftwin: 1
name: mini-cell
run: {dt: 1ms, duration: )" +
         duration + R"(, seed: 3}
blocks:
  - name: cell
    type: robot_cell
    conveyor_length_m: 2.0
    conveyor_speed_m_per_s: 0.5
    exit_length_m: 1.5
    body_size_m: [1.0, 0.6, 0.3]
    body_floor_m: 0.1
    approach_m: 0.08
)" + extra +
         R"(
    robots:
)" + robots;
}

std::string Ur5e(const std::string& name, double x, const std::string& spots) {
  return "      - name: " + name + "\n        urdf: " + std::string(FTWIN_ROBOTS_DATA_DIR) +
         "/ur5e.urdf\n        base_xyz_m: [" + std::to_string(x) +
         ", -0.75, 0.0]\n        base_yaw_rad: 1.5707963267948966\n"
         "        home_rad: [0.0, -1.8, 1.8, -1.57, -1.57, 0.0]\n"
         "        link_radius_m: 0.05\n"
         "        tool: {mass_kg: 1.0, com_m: [0, 0, 0.05], tcp_xyz_m: [0, 0, 0.1]}\n"
         "        spots:\n" +
         spots;
}

const std::string kThreeSpots =
    "          - {position_m: [-0.12, -0.3, 0.42], direction: [0, 1, 0]}\n"
    "          - {position_m: [0.12, -0.3, 0.42], direction: [0, 1, 0]}\n"
    "          - {position_m: [0.0, -0.3, 0.55], direction: [0, 1, 0]}\n";

const RobotCellBlock& Cell(const Model& model) {
  return static_cast<const RobotCellBlock&>(model.block(model.FindBlock("cell")));
}

double Kpi(const Simulator& simulator, const std::string& name) {
  for (const KpiEntry& entry : simulator.ComputeKpis())
    if (entry.desc.name == name) return entry.per_world[0];
  FAIL("no KPI " << name);
  return 0;
}

}  // namespace

TEST_CASE("The conveyor delivers a body after length / speed", "[robots][slow]") {
  for (const std::string physics : {"native", "bullet"}) {
    const auto model =
        LoadScenarioText(MiniCell("    physics: " + physics + "\n", Ur5e("r1", 0.0, kThreeSpots)),
                         "mini.yaml", Registry())
            .model;
    Simulator simulator(model);
    const RobotCellBlock& cell = Cell(*model);
    const auto* counts = simulator.state().World<int64_t>(cell.counts_field(), 0);
    while (counts[RobotCellBlock::kStationPhase] == RobotCellBlock::kArriving &&
           simulator.tick() < 10000)
      simulator.Step();
    // 2.0 m at 0.5 m/s = 4 s, to within one tick (kinematic body), two with the Bullet belt
    // (the station sees the rigid body one tick after it crosses; slip).
    INFO(physics << ": arrival at " << simulator.time_s() << " s");
    CHECK(std::abs(simulator.time_s() - 2.0 / 0.5) <= (physics == "native" ? 1e-3 : 2e-3) + 1e-12);
  }
}

TEST_CASE("A cell welds every spot of every body within tolerance", "[robots][slow]") {
  const auto model =
      LoadScenarioText(MiniCell("", Ur5e("r1", 0.0, kThreeSpots)), "mini.yaml", Registry()).model;
  Simulator simulator(model);
  simulator.Step(20000);
  const double bodies = Kpi(simulator, "bodies_completed");
  CHECK(bodies >= 1);
  CHECK(Kpi(simulator, "welds") >= 3 * bodies);
  CHECK(Kpi(simulator, "weld_quality_rate") == 1.0);
  CHECK(Kpi(simulator, "collisions") == 0);
  // Energy KPI = integral of the power output.
  CHECK(Kpi(simulator, "energy_J") > 0);
}

TEST_CASE("Weld-gun tip wear fails welds once it exceeds the tolerance", "[robots][slow]") {
  // Wear 0.3 mm per weld and a 1 mm tolerance: welds 1-4 (wear 0, 0.3, 0.6, 0.9 mm) pass as long
  // as the servo tracks to better than 0.1 mm, welds 5 and later (>= 1.2 mm) fail.
  const auto model = LoadScenarioText(MiniCell("", Ur5e("r1", 0.0, kThreeSpots), "30s") +
                                          "faults:\n  - {block: cell, fault: tip_wear, at: 0s, "
                                          "params: {robot: 0, wear_per_weld_m: 3.0e-4}}\n",
                                      "mini.yaml", Registry())
                         .model;
  Simulator simulator(model);
  simulator.Step(30000);
  const double welds = Kpi(simulator, "welds");
  REQUIRE(welds >= 6);
  const double good = welds * Kpi(simulator, "weld_quality_rate");
  CHECK(good == 4.0);
}

TEST_CASE("Zone interlocks keep two robots out of a shared zone at the same time",
          "[robots][slow]") {
  const std::string zone_spots =
      "          - {position_m: [0.0, -0.3, 0.42], direction: [0, 1, 0], zone: middle}\n"
      "          - {position_m: [0.0, -0.3, 0.52], direction: [0, 1, 0], zone: middle}\n";
  auto run = [&](bool interlocks) {
    const std::string extra =
        "    zones: [middle]\n    interlocks: " + std::string(interlocks ? "true" : "false") + "\n";
    const auto model =
        LoadScenarioText(
            MiniCell(extra, Ur5e("left", -0.3, zone_spots) + Ur5e("right", 0.3, zone_spots), "15s"),
            "mini.yaml", Registry())
            .model;
    Simulator simulator(model);
    const RobotCellBlock& cell = Cell(*model);
    const auto* state = simulator.state().World<int64_t>(cell.robot_state_field(), 0);
    int both_inside = 0;
    for (int k = 0; k < 15000; ++k) {
      simulator.Step();
      const bool a = state[RobotCellBlock::kSegmentZone] == 0;
      const bool b = state[RobotCellBlock::kStateSlots + RobotCellBlock::kSegmentZone] == 0;
      if (a && b) ++both_inside;
    }
    return std::make_pair(both_inside, Kpi(simulator, "welds"));
  };
  const auto [with_interlocks, welds] = run(true);
  const auto [without, welds_free] = run(false);
  CHECK(with_interlocks == 0);
  CHECK(welds >= 4);   // both robots finished their zone spots, one after the other
  CHECK(without > 0);  // the check can fail: without interlocks they overlap
  CHECK(welds_free >= 4);
}

TEST_CASE("A person entering the protective zone stops the robots within the stop time",
          "[robots][slow]") {
  for (int category : {1, 2}) {
    // Visitor: 4 m away at 6 s, walking in at 1.6 m/s, crosses the 1.5 m stop distance at
    // 6 + 2.5 / 1.6 = 7.5625 s, reaches 0.5 m at 6 + 3.5 / 1.6 s, stays 3 s, leaves across
    // 1.5 m at 6 + 3.5 / 1.6 + 3 + 1 / 1.6 = 11.8125 s.
    const std::string extra =
        "    safety: {slow_distance_m: 1.5, stop_distance_m: 1.5, stop_category: " +
        std::to_string(category) +
        ", stop_time: 500ms}\n"
        "    visitor: {enter_at: 6s, speed_m_per_s: 1.6, start_distance_m: 4.0, "
        "closest_distance_m: 0.5, dwell: 3s}\n";
    const auto model = LoadScenarioText(MiniCell(extra, Ur5e("r1", 0.0, kThreeSpots), "14s"),
                                        "mini.yaml", Registry())
                           .model;
    Simulator simulator(model);
    const RobotCellBlock& cell = Cell(*model);
    const double* qd = simulator.state().World<double>(cell.qd_field(), 0);
    const double t_cross = 6.0 + 2.5 / 1.6, t_leave = 6.0 + 3.5 / 1.6 + 3.0 + 1.0 / 1.6;
    double moving_before = 0, after_stop = 0, moving_after_leave = 0;
    while (simulator.time_s() < 14.0 - 1e-9) {
      simulator.Step();
      const double t = simulator.time_s();
      double fastest = 0;
      for (int i = 0; i < 6; ++i) fastest = std::max(fastest, std::abs(qd[i]));
      if (t > t_cross - 0.5 && t < t_cross) moving_before = std::max(moving_before, fastest);
      if (t >= t_cross + 0.5 && t < t_leave) after_stop = std::max(after_stop, fastest);
      if (t > t_leave) moving_after_leave = std::max(moving_after_leave, fastest);
    }
    INFO("category " << category << ": fastest joint before " << moving_before
                     << " rad/s, after the stop time " << after_stop << " rad/s");
    REQUIRE(moving_before > 0.05);     // the robot was moving when the person crossed
    CHECK(after_stop < 0.01);          // standstill: every joint below 0.01 rad/s
    CHECK(moving_after_leave > 0.05);  // and resumes once the person has left
    CHECK(Kpi(simulator, "safety_stop_s") == Approx(t_leave - t_cross).margin(2e-3));
  }
}

TEST_CASE("Snapshot and restore of the 4-robot weld cell are exact", "[robots][slow]") {
  const auto model =
      LoadScenario(std::filesystem::path(FTWIN_SOURCE_DIR) / "scenarios/robots/weld_cell.yaml",
                   Registry(), {.duration_ns = 20'000'000'000})
          .model;
  // A fast belt brings the first body in 1.6 s; the arms move from 3.1 s on.
  auto start = [](Simulator& simulator) {
    REQUIRE(simulator.Submit({.tick = 0, .target = "cell/conveyor_speed", .values = {5.0}}) == "");
  };
  Simulator simulator(model);
  start(simulator);
  simulator.Step(4000);  // mid-move
  const double* qd = simulator.state().World<double>(Cell(*model).qd_field(), 0);
  double fastest = 0;
  for (int i = 0; i < 24; ++i) fastest = std::max(fastest, std::abs(qd[i]));
  REQUIRE(fastest > 0.05);  // the snapshot is taken with the multibodies in motion
  const std::vector<uint8_t> snapshot = simulator.Snapshot();
  simulator.Step(1500);
  const uint64_t continued = simulator.state().Hash();
  simulator.Restore(snapshot);
  simulator.Step(1500);
  CHECK(simulator.state().Hash() == continued);
  // A second simulator from scratch gives the same state (same seed, same model).
  Simulator again(model);
  start(again);
  again.Step(5500);
  CHECK(again.state().Hash() == continued);
}

TEST_CASE("Unreachable weld spots are rejected when the scenario loads", "[robots]") {
  const std::string far = "          - {position_m: [0.0, 1.5, 0.4], direction: [0, 1, 0]}\n";
  try {
    LoadScenarioText(MiniCell("", Ur5e("r1", 0.0, far)), "mini.yaml", Registry());
    FAIL("an unreachable spot was accepted");
  } catch (const InputError& error) {
    const std::string text = error.what();
    CHECK(text.find("mini.yaml:") != std::string::npos);
    CHECK(text.find("robots[0].spots[0].position_m") != std::string::npos);
    CHECK(text.find("expected a pose the robot can reach") != std::string::npos);
  }
}

TEST_CASE("Joint moves respect velocity and acceleration limits and end on target", "[robots]") {
  const double vmax[] = {2.0, 1.0, 3.0}, amax[] = {4.0, 1.0, 10.0};
  ArmVector q0 = ArmVector::Zero(), q1 = ArmVector::Zero();
  q0.head<3>() << 0.1, -0.5, 2.0;
  q1.head<3>() << 1.9, 0.7, -1.0;
  for (double scale : {1.0, 0.01}) {  // a long (trapezoidal) and a short (triangular) move
    const ArmVector target = q0 + scale * (q1 - q0);
    const PathProfile profile = PlanJointMove(q0, target, vmax, amax, 3);
    double peak_v[3] = {}, peak_a[3] = {};
    const double h = 1e-4;
    ArmVector q, qd, qdd;
    for (double t = 0; t <= profile.duration_s + h; t += h) {
      SampleJointMove(profile, q0, target, t, 1.0, &q, &qd, &qdd);
      for (int i = 0; i < 3; ++i) {
        peak_v[i] = std::max(peak_v[i], std::abs(qd(i)));
        peak_a[i] = std::max(peak_a[i], std::abs(qdd(i)));
      }
    }
    SampleJointMove(profile, q0, target, profile.duration_s, 1.0, &q, &qd, &qdd);
    CHECK((q - target).norm() < 1e-12);
    CHECK(qd.norm() == 0.0);
    bool some_limit_active = false;
    for (int i = 0; i < 3; ++i) {
      CHECK(peak_v[i] <= vmax[i] * (1 + 1e-12));
      CHECK(peak_a[i] <= amax[i] * (1 + 1e-12));
      some_limit_active =
          some_limit_active || peak_a[i] > amax[i] * (1 - 1e-9) || peak_v[i] > vmax[i] * (1 - 1e-3);
    }
    CHECK(some_limit_active);  // time-optimal: the slowest joint runs at its limit
    // Position is the integral of velocity (numerically, trapezoid rule).
    double integral = 0;
    ArmVector v_prev = ArmVector::Zero();
    for (double t = h; t <= profile.duration_s + h; t += h) {
      SampleJointMove(profile, q0, target, t, 1.0, &q, &qd, &qdd);
      integral += 0.5 * h * (qd(1) + v_prev(1));
      v_prev = qd;
    }
    CHECK(integral == Approx(target(1) - q0(1)).margin(1e-6));
  }
  // Override ramps are rate-limited.
  CHECK(RampOverride(1.0, 0.0, 2.0, 0.1) == Approx(0.8));
  CHECK(RampOverride(0.1, 0.0, 2.0, 0.1) == 0.0);
  // Brakes hold a static load within their rating and saturate beyond it.
  CHECK(BrakeTorque(0.0, 50.0, 100.0, 1000.0) == 50.0);
  CHECK(BrakeTorque(1.0, 50.0, 100.0, 1000.0) == -100.0);
}

}  // namespace ftwin

namespace ftwin {

TEST_CASE("Cell faults: conveyor jam, encoder failure, overheat derating", "[robots][slow]") {
  const std::string robot = Ur5e("r1", 0.0, kThreeSpots);
  SECTION("a 2 s conveyor jam delays the arrival by 2 s") {
    const auto model =
        LoadScenarioText(
            MiniCell("", robot) +
                "faults:\n  - {block: cell, fault: conveyor_jam, at: 1s, duration: 2s}\n",
            "mini.yaml", Registry())
            .model;
    Simulator simulator(model);
    const auto* counts = simulator.state().World<int64_t>(Cell(*model).counts_field(), 0);
    while (counts[RobotCellBlock::kStationPhase] == RobotCellBlock::kArriving &&
           simulator.tick() < 10000)
      simulator.Step();
    // Within two ticks (Bullet mode: the body decelerates and re-accelerates by friction on the
    // stopped and restarted belt; it slides as far as it lags, so the arrival time is kept).
    CHECK(std::abs(simulator.time_s() - (2.0 / 0.5 + 2.0)) <= 2e-3 + 1e-12);
  }
  SECTION("an encoder failure stops the robot; its remaining welds are missed") {
    const auto model =
        LoadScenarioText(
            MiniCell("", robot) +
                "faults:\n  - {block: cell, fault: encoder_failure, at: 6s, params: {robot: 0}}\n",
            "mini.yaml", Registry())
            .model;
    Simulator simulator(model);
    const double* qd = simulator.state().World<double>(Cell(*model).qd_field(), 0);
    simulator.Step(7000);
    double fastest = 0;
    for (int k = 0; k < 3000; ++k) {
      simulator.Step();
      for (int i = 0; i < 6; ++i) fastest = std::max(fastest, std::abs(qd[i]));
    }
    CHECK(fastest < 0.01);  // braked to standstill within 1 s and held
    CHECK(Kpi(simulator, "welds") + Kpi(simulator, "missed_welds") >= 3);
    CHECK(Kpi(simulator, "missed_welds") >= 1);
  }
  SECTION("overheat derating slows the program") {
    auto first_release = [&](const std::string& faults) {
      const auto model =
          LoadScenarioText(MiniCell("", robot) + faults, "mini.yaml", Registry()).model;
      Simulator simulator(model);
      while (Kpi(simulator, "bodies_completed") < 1 && simulator.tick() < 20000) simulator.Step(10);
      return simulator.time_s();
    };
    const double normal = first_release("");
    const double hot = first_release(
        "faults:\n  - {block: cell, fault: overheat, at: 0s, params: {robot: 0, derate: 0.5}}\n");
    INFO("first body released at " << normal << " s normally, " << hot << " s derated");
    CHECK(hot > normal + 1.0);
  }
}

TEST_CASE("Cell commands: conveyor speed, program selection, speed override", "[robots][slow]") {
  const auto model =
      LoadScenarioText(MiniCell("", Ur5e("r1", 0.0, kThreeSpots)), "mini.yaml", Registry()).model;
  SECTION("conveyor speed") {
    Simulator simulator(model);
    REQUIRE(simulator.Submit({.tick = 0, .target = "cell/conveyor_speed", .values = {1.0}}) == "");
    const auto* counts = simulator.state().World<int64_t>(Cell(*model).counts_field(), 0);
    while (counts[RobotCellBlock::kStationPhase] == RobotCellBlock::kArriving &&
           simulator.tick() < 10000)
      simulator.Step();
    // Bullet mode: the body entered at 0.5 m/s and slips until friction (mu 0.6) has brought
    // it to 1 m/s, which costs dv^2 / (2 mu g v) = 21.2 ms; within two ticks of that.
    const double slip = 0.5 * 0.5 / (2 * 0.6 * 9.80665 * 1.0);
    CHECK(std::abs(simulator.time_s() - (2.0 + slip)) <= 2e-3 + 1e-12);
  }
  SECTION("an idle program leaves the welds undone") {
    Simulator simulator(model);
    REQUIRE(simulator.Submit({.tick = 0, .target = "cell/select_program", .values = {0, 0}}) == "");
    simulator.Step(12000);
    CHECK(Kpi(simulator, "welds") == 0);
    CHECK(Kpi(simulator, "missed_welds") == 3);
    CHECK(Kpi(simulator, "bodies_completed") == 1);
  }
  SECTION("override 0 holds the robot") {
    Simulator simulator(model);
    REQUIRE(simulator.Submit({.tick = 0, .target = "cell/speed_override", .values = {0.0}}) == "");
    simulator.Step(12000);
    CHECK(Kpi(simulator, "welds") == 0);
    CHECK(Kpi(simulator, "bodies_completed") == 0);
  }
}

TEST_CASE("The cell's energy KPI is the integral of its power output", "[robots][slow]") {
  const auto model =
      LoadScenarioText(MiniCell("", Ur5e("r1", 0.0, kThreeSpots)), "mini.yaml", Registry()).model;
  Simulator simulator(model);
  const FieldId power = model->schema().Find("cell.power_W");
  double integral = 0, lowest = 1e300;
  simulator.AddObserver([&](const Simulator& s) {
    const double p = s.state().World<double>(power, 0)[0];
    integral += p * 1e-3;
    lowest = std::min(lowest, p);
  });
  simulator.Step(12000);
  CHECK(Kpi(simulator, "energy_J") == Approx(integral).epsilon(1e-12));
  CHECK(lowest >= 350.0);  // never below the controller's standby draw
}

TEST_CASE("A small cell is bit-identical across thread counts and after restore",
          "[robots][determinism]") {
  // Cheap enough for the sanitizer run: one UR5e, a fast belt and a short clamp, so the arm is
  // moving within half a second.
  const std::string text = MiniCell("    clamp_time: 100ms\n", Ur5e("r1", 0.0, kThreeSpots), "3s");
  auto model_for = [&](int threads) {
    return LoadScenarioText(text, "mini.yaml", Registry(),
                            {.num_worlds = 2, .num_threads = threads})
        .model;
  };
  auto start = [](Simulator& simulator) {
    // World 1 gets a faster belt, so the worlds differ.
    REQUIRE(simulator.Submit({.tick = 0, .target = "cell/conveyor_speed", .values = {5.0}}) == "");
    REQUIRE(simulator.Submit(
                {.tick = 0, .world = 1, .target = "cell/conveyor_speed", .values = {4.0}}) == "");
  };
  const auto model = model_for(1);
  Simulator simulator(model);
  start(simulator);
  simulator.Step(900);
  const double* qd = simulator.state().World<double>(Cell(*model).qd_field(), 0);
  double fastest = 0;
  for (int i = 0; i < 6; ++i) fastest = std::max(fastest, std::abs(qd[i]));
  REQUIRE(fastest > 0.05);  // snapshot with the multibody in motion
  const std::vector<uint8_t> snapshot = simulator.Snapshot();
  simulator.Step(300);
  const uint64_t continued = simulator.state().Hash();
  simulator.Restore(snapshot);
  simulator.Step(300);
  CHECK(simulator.state().Hash() == continued);
  Simulator threaded(model_for(2));
  start(threaded);
  threaded.Step(1200);
  CHECK(threaded.state().Hash() == continued);
}

}  // namespace ftwin

namespace ftwin {

TEST_CASE("A Cartesian linear move keeps the tool on the straight line", "[robots][slow]") {
  const ArmModel arm =
      RobotModel::FromUrdfFile(std::string(FTWIN_ROBOTS_DATA_DIR) + "/ur5e.urdf").arm();
  ArmVector q = ArmVector::Zero();
  q.head<6>() << 0.2, -1.6, 1.7, -1.6, -1.5, 0.3;
  const ArmPose start = ArmToolPose(arm, q);
  ArmPose goal = start;
  goal.p += Eigen::Vector3d(0.15, -0.1, 0.12);
  goal.R = start.R * ArmAxisRotation(Eigen::Vector3d(0, 0, 1), 0.4);
  const CartesianMove move = PlanCartesianMove(start, goal, 0.25, 1.0, 1.0, 3.0);
  REQUIRE(move.profile.duration_s > 0);
  const Eigen::Vector3d line = (goal.p - start.p).normalized();
  double worst_off_line = 0, fastest_tool = 0;
  Eigen::Vector3d previous = start.p;
  const double dt = 1e-3;
  for (double t = dt; t <= move.profile.duration_s + dt; t += dt) {
    const ArmPose target = SampleCartesianMove(move, t);
    const ArmIkResult result = ArmInverseKinematics(arm, target, q, &q);  // tracked at 1 kHz
    REQUIRE(result.converged);
    const Eigen::Vector3d p = ArmToolPose(arm, q).p;
    const Eigen::Vector3d from_start = p - start.p;
    worst_off_line = std::max(worst_off_line, (from_start - from_start.dot(line) * line).norm());
    fastest_tool = std::max(fastest_tool, (p - previous).norm() / dt);
    previous = p;
  }
  CHECK(worst_off_line < 1e-6);
  CHECK(fastest_tool <= 0.25 * (1 + 1e-6));
  CHECK((ArmToolPose(arm, q).p - goal.p).norm() < 1e-6);
  CHECK(ArmRotationLog(ArmToolPose(arm, q).R * goal.R.transpose()).norm() < 1e-6);
}

}  // namespace ftwin

namespace ftwin {

TEST_CASE("An external controller moves a robot by joint and TCP targets", "[robots][slow]") {
  const auto model =
      LoadScenarioText(MiniCell("", Ur5e("r1", 0.0, kThreeSpots)), "mini.yaml", Registry()).model;
  Simulator simulator(model);
  const RobotCellBlock& cell = Cell(*model);
  const double* q = simulator.state().World<double>(cell.q_field(), 0);
  // While the weld program owns the robot, external targets are rejected.
  REQUIRE(simulator.Submit({.tick = 0,
                            .target = "cell/move_joints",
                            .values = {0, 0.5, -1.5, 1.5, -1.5, -1.5, 0}}) == "");
  simulator.Step(1);
  CHECK(Kpi(simulator, "rejected_targets") == 1);
  REQUIRE(simulator.Submit({.tick = 1, .target = "cell/select_program", .values = {0, 0}}) == "");
  REQUIRE(simulator.Submit({.tick = 2,
                            .target = "cell/move_joints",
                            .values = {0, 0.5, -1.5, 1.5, -1.5, -1.5, 0}}) == "");
  simulator.Step(3000);
  const double expected[] = {0.5, -1.5, 1.5, -1.5, -1.5, 0};
  for (int i = 0; i < 6; ++i) CHECK(q[i] == Approx(expected[i]).margin(1e-4));
  // A TCP pose in the cell frame: pointing along +y at (0.1, -0.35, 0.45).
  const Eigen::Matrix3d R =
      (Eigen::AngleAxisd(-1.5707963267948966, Eigen::Vector3d::UnitX())).toRotationMatrix();
  const Eigen::AngleAxisd rotation(R);
  const Eigen::Vector3d rv = rotation.axis() * rotation.angle();
  REQUIRE(simulator.Submit({.tick = simulator.tick(),
                            .target = "cell/move_tcp",
                            .values = {0, 0.1, -0.35, 0.45, rv.x(), rv.y(), rv.z()}}) == "");
  simulator.Step(3000);
  const RobotCellBlock::Robot& robot = cell.config().robots[0];
  ArmVector qv = ArmVector::Zero();
  for (int i = 0; i < 6; ++i) qv(i) = q[i];
  const ArmPose tcp = robot.base * ArmToolPose(robot.arm, qv);
  CHECK((tcp.p - Eigen::Vector3d(0.1, -0.35, 0.45)).norm() < 1e-4);
  CHECK(ArmRotationLog(tcp.R * R.transpose()).norm() < 1e-3);
  // Out of reach: rejected, the robot stays.
  REQUIRE(simulator.Submit({.tick = simulator.tick(),
                            .target = "cell/move_tcp",
                            .values = {0, 3.0, 3.0, 0.45, rv.x(), rv.y(), rv.z()}}) == "");
  simulator.Step(10);
  CHECK(Kpi(simulator, "rejected_targets") == 2);
}

}  // namespace ftwin

namespace ftwin {

TEST_CASE("The AGV keeps the part buffer supplied; a breakdown starves the station",
          "[robots][slow]") {
  // 1 part per body (a body every ~15 s); the AGV drives 5 m each way at up to 1.5 m/s and
  // loads/unloads in 2 s, 4 parts per trip: supply outpaces demand.
  const std::string agv =
      "    agv: {pickup_xy_m: [-5.0, 6.0], dropoff_xy_m: [0.0, 6.0], load_time: 2s, "
      "parts_per_trip: 4, buffer_capacity: 8, buffer_initial: 2}\n";
  auto run = [&](const std::string& faults) {
    const auto model = LoadScenarioText(MiniCell(agv, Ur5e("r1", 0.0, kThreeSpots), "60s") + faults,
                                        "mini.yaml", Registry())
                           .model;
    Simulator simulator(model);
    simulator.Step(60000);
    const double* state = simulator.state().World<double>(Cell(*model).agv_field(), 0);
    // Conservation: initial + delivered = consumed + in the buffer.
    CHECK(2.0 + state[RobotCellBlock::kAgvDelivered] ==
          state[RobotCellBlock::kAgvConsumed] + state[RobotCellBlock::kAgvBuffer]);
    CHECK(state[RobotCellBlock::kAgvBuffer] <= 8.0);
    return std::make_pair(Kpi(simulator, "starved_s"), Kpi(simulator, "bodies_completed"));
  };
  const auto [starved, bodies] = run("");
  const auto [starved_broken, bodies_broken] =
      run("faults:\n  - {block: cell, fault: agv_breakdown, at: 1s}\n");
  INFO("starved " << starved << " s (" << bodies << " bodies), with breakdown " << starved_broken
                  << " s (" << bodies_broken << " bodies)");
  CHECK(starved == 0.0);
  CHECK(bodies >= 3);
  CHECK(starved_broken > 10.0);  // the initial parts feed two bodies, then the station waits
  CHECK(bodies_broken == 2);
}

}  // namespace ftwin

namespace ftwin {

TEST_CASE("Recordings carry the cell as a Foxglove 3D scene matching the kinematics", "[robots]") {
  const LoadedScenario loaded =
      LoadScenarioText(MiniCell("", Ur5e("r1", 0.0, kThreeSpots), "3s"), "mini.yaml", Registry());
  const std::string file = "/tmp/ftwin-robot-scene-" + std::to_string(::getpid()) + ".mcap";
  {
    Simulator simulator(loaded.model);
    RecordOptions options;
    options.file = file;
    options.every_ticks = 500;
    options.version = "test";
    Recorder recorder(loaded.spec, {}, simulator, options);
    simulator.Step(3000);
    recorder.Close();
    // The last scene message describes the final state: joint spheres at the forward
    // kinematics of the recorded joint positions.
    const mcap::McapContents contents = mcap::ReadMcap(file);
    REQUIRE(contents.errors.empty());
    uint16_t scene_channel = 0;
    for (const auto& [id, channel] : contents.channels)
      if (channel.topic == "/cell/scene") {
        scene_channel = id;
        CHECK(contents.schemas.at(channel.schema_id).name == "foxglove.SceneUpdate");
      }
    REQUIRE(scene_channel != 0);
    const mcap::McapMessage* last = nullptr;
    int scenes = 0;
    for (const mcap::McapMessage& message : contents.messages)
      if (message.channel_id == scene_channel) {
        last = &message;
        ++scenes;
      }
    CHECK(scenes == 7);  // ticks 0, 500, ..., 3000
    REQUIRE(last != nullptr);
    const nlohmann::json update = nlohmann::json::parse(last->data);
    std::map<std::string, nlohmann::json> entities;
    for (const nlohmann::json& entity : update["entities"]) entities[entity["id"]] = entity;
    REQUIRE(entities.count("r1"));
    CHECK(entities.count("car_body"));
    CHECK(entities.count("conveyor"));
    // The fixtures: here the two clamp posts, at their configured centres.
    REQUIRE(entities.count("fixtures"));
    const nlohmann::json& posts = entities["fixtures"]["cubes"];
    REQUIRE(posts.size() == 2);
    for (size_t f = 0; f < 2; ++f) {
      const Eigen::Vector3d center = Cell(*loaded.model).config().fixtures[f].center_m;
      CHECK(posts[f]["pose"]["position"]["y"].get<double>() == center.y());
      CHECK(posts[f]["pose"]["position"]["z"].get<double>() == center.z());
    }
    CHECK(entities["r1"]["frame_id"] == "world0");
    const RobotCellBlock& cell = Cell(*loaded.model);
    const RobotCellBlock::Robot& robot = cell.config().robots[0];
    const double* q_all = simulator.state().World<double>(cell.q_field(), 0);
    ArmVector q = ArmVector::Zero();
    for (int i = 0; i < robot.arm.dof; ++i) q(i) = q_all[i];
    ArmPose bodies[kArmMaxDof];
    ArmForwardKinematics(robot.arm, q, bodies);
    const nlohmann::json& spheres = entities["r1"]["spheres"];
    REQUIRE(spheres.size() == static_cast<size_t>(robot.arm.dof));
    for (int i = 0; i < robot.arm.dof; ++i) {
      const Eigen::Vector3d expected = (robot.base * bodies[i]).p;
      const nlohmann::json& position = spheres[static_cast<size_t>(i)]["pose"]["position"];
      CHECK(position["x"].get<double>() == Approx(expected.x()).margin(1e-12));
      CHECK(position["y"].get<double>() == Approx(expected.y()).margin(1e-12));
      CHECK(position["z"].get<double>() == Approx(expected.z()).margin(1e-12));
    }
  }
  // Scenes are derived data: the recording still replays bit-exactly.
  const ReplayReport report = ReplayRecording(file, Registry());
  CHECK(report.errors.empty());
  CHECK(report.identical);
  std::remove(file.c_str());
}

}  // namespace ftwin

namespace ftwin {
namespace {

TEST_CASE("A safety scanner sees the car body the cell moves along the conveyor", "[robots]") {
  // A planar scanner at y = 1 m, body height, looking along -y across the conveyor; the scene
  // holds the car body (a moving body fed by the cell's body pose ports) and a fence whose near
  // face is at y = -2 m. The centre beam reads 0.7 m (the body's near face at y = 0.3) while the
  // body spans x = 0, else 3 m (the fence): checked every tick as the body arrives.
  const std::string scanner = R"(
  - name: scanner
    type: range_sensor
    pattern: planar
    field_of_view: 60
    beams: 61
    range_max: 5.0
    position: [0.0, 1.0, 0.25]
    yaw: -1.5707963267948966
    scene:
      - {type: box, center: [0, 0, 0], size: [1.0, 0.6, 0.3], body: car}
      - {type: box, center: [0, -2.05, 0.25], size: [10, 0.1, 2]}
connections:
  - [cell.body_x_m, scanner.car_x]
  - [cell.body_y_m, scanner.car_y]
  - [cell.body_z_m, scanner.car_z]
  - [cell.body_yaw_rad, scanner.car_yaw]
)";
  const auto model = LoadScenarioText(MiniCell("", Ur5e("r1", 0.0, kThreeSpots)) + scanner,
                                      "mini.yaml", Registry())
                         .model;
  Simulator simulator(model);
  const Schema& schema = simulator.state().schema();
  const FieldId range = schema.Find("scanner.range_m"), body_x = schema.Find("cell.body_x_m");
  REQUIRE(range != kInvalidField);
  int on_body = 0, on_fence = 0;
  for (int tick = 0; tick < 5000; ++tick) {
    simulator.Step();
    const double x = simulator.state().World<double>(body_x, 0)[0];
    const double centre = simulator.state().World<double>(range, 0)[30];
    if (std::abs(std::abs(x) - 0.5) < 1e-5) continue;  // the beam grazes the body's edge
    const bool hits_body = std::abs(x) < 0.5;
    // 10 um: the body rides the Bullet belt with micrometre sideways drift (from its first
    // contact; cell_bullet_world_test.cpp).
    CHECK(std::abs(centre - (hits_body ? 0.7 : 3.0)) < 1e-5);
    (hits_body ? on_body : on_fence) += 1;
  }
  CHECK(on_body > 1000);  // arrived at 4 s and clamped
  CHECK(on_fence > 1000);
}

}  // namespace
}  // namespace ftwin
