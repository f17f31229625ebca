// Jerk-limited (S-curve) joint moves of robots/trajectory_math.h against their analytic
// properties: every joint within its velocity, acceleration and jerk limits, the closed-form
// durations of the three cases (all limits reached; V not reached; neither V nor A), end state,
// continuity of position, velocity and acceleration, and velocity integrating to position.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "robots/trajectory_math.h"

namespace ftwin {
namespace {

struct Limits {
  double v[kArmMaxDof], a[kArmMaxDof], j[kArmMaxDof];
};

// Samples the move densely and checks limits per joint; returns the largest ratios reached
// (|qd|/vmax, |qdd|/amax, |jerk|/jmax) so callers can check that a limit is active.
void CheckMove(const PathProfile& profile, const ArmVector& q0, const ArmVector& q1, int dof,
               const Limits& limits, double ratios[3]) {
  ratios[0] = ratios[1] = ratios[2] = 0;
  const int samples = 20000;
  const double T = profile.duration_s, h = T / samples;
  ArmVector q, qd, qdd, q_prev, qd_prev, qdd_prev;
  SampleJointMove(profile, q0, q1, 0.0, 1.0, &q_prev, &qd_prev, &qdd_prev);
  ArmVector integrated = q0;  // trapezoidal integral of the velocity
  double jump[2] = {0, 0};
  for (int k = 1; k <= samples; ++k) {
    SampleJointMove(profile, q0, q1, k == samples ? T : k * h, 1.0, &q, &qd, &qdd);
    integrated += 0.5 * h * (qd + qd_prev);
    for (int i = 0; i < dof; ++i) {
      ratios[0] = std::max(ratios[0], std::abs(qd(i)) / limits.v[i]);
      ratios[1] = std::max(ratios[1], std::abs(qdd(i)) / limits.a[i]);
      // The acceleration is piecewise linear: its difference quotient is bounded by the jerk.
      ratios[2] = std::max(ratios[2], std::abs(qdd(i) - qdd_prev(i)) / h / limits.j[i]);
      // Continuity: position and velocity change by at most (bound x step).
      jump[0] = std::max(jump[0], std::abs(q(i) - q_prev(i)) / (limits.v[i] * h));
      jump[1] = std::max(jump[1], std::abs(qd(i) - qd_prev(i)) / (limits.a[i] * h));
    }
    q_prev = q, qd_prev = qd, qdd_prev = qdd;
  }
  for (int i = 0; i < dof; ++i) {
    CHECK(q(i) == Approx(q1(i)).margin(1e-12));  // ends on target
    CHECK(qd(i) == 0.0);
    // Velocity integrates to the position (trapezoidal rule error ~ h^2 x jerk).
    CHECK(std::abs(integrated(i) - q1(i)) <= 1e-6 * (1 + std::abs(q1(i) - q0(i))));
  }
  CHECK(jump[0] <= 1 + 1e-9);
  CHECK(jump[1] <= 1 + 1e-9);
  CHECK(ratios[0] <= 1 + 1e-9);
  CHECK(ratios[1] <= 1 + 1e-9);
  CHECK(ratios[2] <= 1 + 1e-6);  // difference quotient across a kink: within rounding
}

}  // namespace

TEST_CASE("S-curve durations match the closed forms of the three cases", "[robots]") {
  // One joint over 1 rad: path limits equal joint limits.
  ArmVector q0 = ArmVector::Zero(), q1 = ArmVector::Zero();
  q1(0) = 1.0;
  Limits limits{};
  double ratios[3];
  SECTION("V, A and J all reached: T = 1/V + V/A + A/J") {
    limits.v[0] = 1.0, limits.a[0] = 4.0, limits.j[0] = 40.0;
    const PathProfile p = PlanJointMoveSCurve(q0, q1, limits.v, limits.a, limits.j, 1);
    CHECK(p.duration_s == Approx(1.0 / 1.0 + 1.0 / 4.0 + 4.0 / 40.0).epsilon(1e-14));
    CheckMove(p, q0, q1, 1, limits, ratios);
    CHECK(ratios[0] == Approx(1.0).epsilon(1e-9));
    CHECK(ratios[1] == Approx(1.0).epsilon(1e-9));
    CHECK(ratios[2] == Approx(1.0).epsilon(1e-6));
  }
  SECTION("A not reached on the way to V (V J < A^2): T = 1/V + 2 sqrt(V/J)") {
    limits.v[0] = 1.0, limits.a[0] = 10.0, limits.j[0] = 40.0;
    const PathProfile p = PlanJointMoveSCurve(q0, q1, limits.v, limits.a, limits.j, 1);
    CHECK(p.duration_s == Approx(1.0 + 2.0 * std::sqrt(1.0 / 40.0)).epsilon(1e-14));
    CheckMove(p, q0, q1, 1, limits, ratios);
    CHECK(ratios[0] == Approx(1.0).epsilon(1e-9));
    CHECK(ratios[1] < 1.0);
  }
  SECTION("V not reached, A reached: Ta solves Ta^2 - Tj Ta - 1/A = 0, T = 2 Ta") {
    limits.v[0] = 10.0, limits.a[0] = 4.0, limits.j[0] = 40.0;
    const PathProfile p = PlanJointMoveSCurve(q0, q1, limits.v, limits.a, limits.j, 1);
    const double Tj = 0.1, Ta = 0.5 * Tj + std::sqrt(0.25 * Tj * Tj + 0.25);
    CHECK(p.duration_s == Approx(2.0 * Ta).epsilon(1e-14));
    CheckMove(p, q0, q1, 1, limits, ratios);
    CHECK(ratios[0] < 1.0);
    CHECK(ratios[1] == Approx(1.0).epsilon(1e-9));
  }
  SECTION("short move, neither V nor A reached: T = 4 (1/(2J))^(1/3)") {
    limits.v[0] = 10.0, limits.a[0] = 40.0, limits.j[0] = 40.0;
    const PathProfile p = PlanJointMoveSCurve(q0, q1, limits.v, limits.a, limits.j, 1);
    CHECK(p.duration_s == Approx(4.0 * std::cbrt(1.0 / 80.0)).epsilon(1e-14));
    CheckMove(p, q0, q1, 1, limits, ratios);
    CHECK(ratios[0] < 1.0);
    CHECK(ratios[1] < 1.0);
    CHECK(ratios[2] == Approx(1.0).epsilon(1e-6));
  }
  SECTION("an unbounded jerk gives back the trapezoid") {
    limits.v[0] = 1.0, limits.a[0] = 4.0, limits.j[0] = 1e12;
    const PathProfile s_curve = PlanJointMoveSCurve(q0, q1, limits.v, limits.a, limits.j, 1);
    const PathProfile trapezoid = PlanJointMove(q0, q1, limits.v, limits.a, 1);
    CHECK(s_curve.duration_s == Approx(trapezoid.duration_s).epsilon(1e-10));
  }
}

TEST_CASE("Synchronised S-curve moves keep every joint within its own limits", "[robots][slow]") {
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (int trial = 0; trial < 40; ++trial) {
    const int dof = 6;
    Limits limits{};
    ArmVector q0 = ArmVector::Zero(), q1 = ArmVector::Zero();
    for (int i = 0; i < dof; ++i) {
      limits.v[i] = 0.5 + 3.0 * uniform(rng);
      limits.a[i] = 1.0 + 10.0 * uniform(rng);
      limits.j[i] = 5.0 + 100.0 * uniform(rng);
      q0(i) = -3.0 + 6.0 * uniform(rng);
      // Short and long moves, one joint sometimes still.
      q1(i) = i == trial % 7 ? q0(i) : q0(i) + (uniform(rng) - 0.5) * (trial % 2 ? 0.05 : 5.0);
    }
    const PathProfile p = PlanJointMoveSCurve(q0, q1, limits.v, limits.a, limits.j, dof);
    REQUIRE(p.duration_s > 0);
    double ratios[3];
    CheckMove(p, q0, q1, dof, limits, ratios);
    // Time-optimal for the path parameter: the tightest joint meets at least one limit.
    INFO("trial " << trial << ": ratios " << ratios[0] << " " << ratios[1] << " " << ratios[2]);
    CHECK(std::max({ratios[0], ratios[1], ratios[2]}) > 1 - 1e-6);
    // Never faster than the trapezoid with the same V and A.
    CHECK(p.duration_s >= PlanJointMove(q0, q1, limits.v, limits.a, dof).duration_s - 1e-12);
  }
}

}  // namespace ftwin

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "robots/register.h"
#include "robots/robot_cell.h"

namespace ftwin {

TEST_CASE("A cell with jerk limits welds with S-curve moves, slower than trapezoids",
          "[robots][slow]") {
  auto text = [](const std::string& jerk) {
    return std::string(R"(ftwin: 1
name: mini-cell
run: {dt: 1ms, duration: 20s, seed: 3}
blocks:
  - name: cell
    type: robot_cell
    physics: native
    conveyor_length_m: 2.0
    conveyor_speed_m_per_s: 0.5
    exit_length_m: 1.5
    body_size_m: [1.0, 0.6, 0.3]
    body_floor_m: 0.1
    approach_m: 0.08
    robots:
      - name: r1
        urdf: )") +
           FTWIN_ROBOTS_DATA_DIR + R"(/ur5e.urdf
        base_xyz_m: [0.0, -0.75, 0.0]
        base_yaw_rad: 1.5707963267948966
        home_rad: [0.0, -1.8, 1.8, -1.57, -1.57, 0.0]
        link_radius_m: 0.05
)" + jerk + R"(        tool: {mass_kg: 1.0, com_m: [0, 0, 0.05], tcp_xyz_m: [0, 0, 0.1]}
        spots:
          - {position_m: [-0.12, -0.3, 0.42], direction: [0, 1, 0]}
          - {position_m: [0.12, -0.3, 0.42], direction: [0, 1, 0]}
          - {position_m: [0.0, -0.3, 0.55], direction: [0, 1, 0]}
)";
  };
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterRobotBlocks(registry);
  auto run = [&](const std::string& jerk, double* busy_s, bool* s_curve) {
    const auto model = LoadScenarioText(text(jerk), "mini.yaml", registry).model;
    const auto& cell = static_cast<const RobotCellBlock&>(model->block(model->FindBlock("cell")));
    Simulator simulator(model);
    *s_curve = false;
    for (int k = 0; k < 20; ++k) {
      simulator.Step(1000);
      const double* rf = simulator.state().World<double>(cell.robot_field(), 0);
      *s_curve = *s_curve || rf[RobotCellBlock::kMoveJerk] > 0;
    }
    double bodies = 0, welds = 0, quality = 0;
    for (const KpiEntry& entry : simulator.ComputeKpis()) {
      if (entry.desc.name == "bodies_completed") bodies = entry.per_world[0];
      if (entry.desc.name == "welds") welds = entry.per_world[0];
      if (entry.desc.name == "weld_quality_rate") quality = entry.per_world[0];
    }
    CHECK(bodies >= 1);
    CHECK(welds >= 3 * bodies);
    CHECK(quality == 1.0);
    *busy_s = simulator.state().World<double>(cell.robot_field(), 0)[RobotCellBlock::kBusyS];
  };
  double busy_trapezoid, busy_s_curve;
  bool used_trapezoid, used_s_curve;
  run("", &busy_trapezoid, &used_trapezoid);
  run("        max_jerk_rad_per_s3: [20, 20, 20, 40, 40, 40]\n", &busy_s_curve, &used_s_curve);
  CHECK_FALSE(used_trapezoid);
  CHECK(used_s_curve);
  // Same moves, each at least as long: the robot is busy longer over the same 20 s.
  CHECK(busy_s_curve > busy_trapezoid);
}

}  // namespace ftwin
