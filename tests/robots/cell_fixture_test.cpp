// Cell fixtures (robots/robot_cell_world.h): the capsule-against-box distance against analytic
// distances and a brute-force sampling of the segment, and an arm driven into a fixture by an
// external joint target in both physics modes: one collision event that names the fixture, found
// at the first check where the sampled distance falls below the link radius, and a stop with
// collision_stop.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "robots/arm_math.h"
#include "robots/cell_bullet_world.h"
#include "robots/register.h"
#include "robots/robot_cell.h"
#include "robots/robot_cell_world.h"
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

CellBox MakeBox(const Eigen::Vector3d& center, const Eigen::Vector3d& size, double yaw) {
  CellBox box;
  for (int k = 0; k < 3; ++k) box.center[k] = center(k), box.half[k] = 0.5 * size(k);
  box.cos_yaw = std::cos(yaw);
  box.sin_yaw = std::sin(yaw);
  return box;
}

// Distance of a point from the box, written out independently: into the box frame by the
// inverse rotation matrix, then the clamped excess per axis.
double PointBox(const Eigen::Vector3d& p, const Eigen::Vector3d& center,
                const Eigen::Vector3d& size, double yaw) {
  const Eigen::Matrix3d R = Eigen::AngleAxisd(yaw, Eigen::Vector3d::UnitZ()).toRotationMatrix();
  const Eigen::Vector3d local = R.transpose() * (p - center);
  double squared = 0;
  for (int k = 0; k < 3; ++k) {
    const double excess = std::max(std::abs(local(k)) - 0.5 * size(k), 0.0);
    squared += excess * excess;
  }
  return std::sqrt(squared);
}

// The segment's distance by sampling: an upper bound, within half the sample spacing of the
// true distance (distance is 1-Lipschitz in the point).
double SampledSegmentBox(const Eigen::Vector3d& a, const Eigen::Vector3d& b,
                         const Eigen::Vector3d& center, const Eigen::Vector3d& size, double yaw,
                         int samples) {
  double best = HUGE_VAL;
  for (int s = 0; s <= samples; ++s)
    best = std::min(best,
                    PointBox(a + (b - a) * (static_cast<double>(s) / samples), center, size, yaw));
  return best;
}

}  // namespace

TEST_CASE("Capsule against box: exact distances to faces, edges, corners; crossing is 0",
          "[robots]") {
  const Eigen::Vector3d center(1.0, 2.0, 0.5), size(2.0, 1.0, 1.0);  // half (1, 0.5, 0.5)
  const CellBox box = MakeBox(center, size, 0.0);
  auto at = [&](double x, double y, double z) -> Eigen::Vector3d {
    return center + Eigen::Vector3d(x, y, z);
  };
  // Parallel to the top face, 0.3 above it, spanning beyond both ends: 0.3.
  CHECK(CellSegmentBoxDistance(at(-3, 0.1, 0.8), at(3, -0.2, 0.8), box) ==
        Approx(0.3).margin(1e-15));
  // Beside the +x face, pointing away from it: the near end's 0.25.
  CHECK(CellSegmentBoxDistance(at(1.25, 0, 0), at(4, 0.3, 0.1), box) == Approx(0.25).margin(1e-15));
  // Passing the +x,+y edge (parallel to z) diagonally: the line x + y = 1.5 + 0.5 + 2 d / sqrt 2
  // runs at distance d from the edge; d = 0.2.
  const double d = 0.2, offset = d * std::sqrt(2.0);
  CHECK(CellSegmentBoxDistance(at(1.0 + offset + 1.0, 0.5 - 1.0, 0.1),
                               at(1.0 + offset - 1.0, 0.5 + 1.0, 0.1),
                               box) == Approx(d).epsilon(1e-14));
  // Towards the (+1, +0.5, +0.5) corner along the diagonal, stopping short by (0.1, 0.2, 0.2):
  // 0.3.
  CHECK(CellSegmentBoxDistance(at(3, 3, 3), at(1.1, 0.7, 0.7), box) == Approx(0.3).epsilon(1e-14));
  // Through the box, and entirely inside it: 0.
  CHECK(CellSegmentBoxDistance(at(-2, -2, 0.1), at(2, 2, 0.1), box) == 0.0);
  CHECK(CellSegmentBoxDistance(at(-0.1, 0, 0), at(0.1, 0.1, 0.1), box) == 0.0);
  // A point (degenerate segment) off a face.
  CHECK(CellSegmentBoxDistance(at(0, -0.9, 0), at(0, -0.9, 0), box) == Approx(0.4).epsilon(1e-14));
  // A box turned by 30 degrees: a segment parallel to its turned +x face at 0.1 outside it.
  const double yaw = M_PI / 6;
  const CellBox turned = MakeBox(center, size, yaw);
  const Eigen::Vector3d ex(std::cos(yaw), std::sin(yaw), 0), ey(-std::sin(yaw), std::cos(yaw), 0);
  CHECK(CellSegmentBoxDistance(center + 1.1 * ex - 0.3 * ey, center + 1.1 * ex + 0.3 * ey,
                               turned) == Approx(0.1).epsilon(1e-13));
  // The capsule test: the radius decides.
  CHECK(CellCapsuleHitsBox(at(-3, 0, 0.8), at(3, 0, 0.8), 0.31, box));
  CHECK_FALSE(CellCapsuleHitsBox(at(-3, 0, 0.8), at(3, 0, 0.8), 0.29, box));
  // Far away: the bounding-sphere rejection.
  CHECK_FALSE(CellCapsuleHitsBox(at(50, 0, 0), at(51, 0, 0), 1.0, box));
}

TEST_CASE("Capsule against box: random segments and turned boxes equal the sampled distance",
          "[robots]") {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int trial = 0; trial < 120; ++trial) {
    const Eigen::Vector3d center(u(rng), u(rng), u(rng));
    const Eigen::Vector3d size(0.2 + std::abs(u(rng)), 0.2 + std::abs(u(rng)),
                               0.2 + std::abs(u(rng)));
    const double yaw = 3.0 * u(rng);
    const Eigen::Vector3d a = center + 2.0 * Eigen::Vector3d(u(rng), u(rng), u(rng));
    const Eigen::Vector3d b = a + 1.5 * Eigen::Vector3d(u(rng), u(rng), u(rng));
    const int samples = 4000;  // the bound below scales with the spacing
    const double exact = CellSegmentBoxDistance(a, b, MakeBox(center, size, yaw));
    const double sampled = SampledSegmentBox(a, b, center, size, yaw, samples);
    const double spacing = (b - a).norm() / samples;
    INFO("trial " << trial << ": exact " << exact << ", sampled " << sampled);
    CHECK(exact <= sampled + 1e-12);
    CHECK(exact >= sampled - 0.5 * spacing - 1e-12);
  }
}

namespace {

// A UR5e on the floor beside a 1 m body; `fixtures` is the YAML list.
std::string FixtureCell(const std::string& physics, bool collision_stop,
                        const std::string& fixtures) {
  return testing::SmallUr5eCell(
      "fixture-cell", physics, "duration: 5s, seed: 3",
      std::string("    collision_stop: ") + (collision_stop ? "true" : "false") +
          "\n    fixtures:\n" + fixtures,
      "          - {position_m: [0.0, -0.3, 0.42], direction: [0, 1, 0]}\n");
}

double Kpi(const Simulator& simulator, const std::string& name) {
  for (const KpiEntry& entry : simulator.ComputeKpis())
    if (entry.desc.name == name) return entry.per_world[0];
  FAIL("no KPI " << name);
  return 0;
}

const Cell& CellOf(const Model& model) {
  return static_cast<const Cell&>(model.block(model.FindBlock("cell")));
}

// The capsule points of robot 0 (base, joint origins, TCP) in the cell frame.
std::vector<Eigen::Vector3d> ArmPoints(const Cell::Robot& robot, const double* q_all) {
  ArmVector q = ArmVector::Zero();
  for (int i = 0; i < robot.arm.dof; ++i) q(i) = q_all[i];
  ArmPose poses[kArmMaxDof];
  ArmForwardKinematics(robot.arm, q, poses);
  std::vector<Eigen::Vector3d> points = {robot.base.p};
  for (int i = 0; i < robot.arm.dof; ++i) points.push_back(robot.base.Apply(poses[i].p));
  points.push_back((robot.base * ArmToolPose(robot.arm, q)).p);
  return points;
}

}  // namespace

TEST_CASE("An arm driven into a fixture is one collision event naming it; collision_stop stops it",
          "[robots]") {
  // The target pose swings the arm round and down; the obstacle, a 0.16 m cube, sits at the
  // target's TCP, so the tool runs into it on the way.
  const ArmVector target = (ArmVector() << 1.0, -1.7, 1.3, -1.2, -1.57, 0.0, 0, 0, 0, 0).finished();
  const std::string far = "      - {name: far, center_m: [0, 6, 1], size_m: [1, 1, 1]}\n";
  const auto probe =
      LoadScenarioText(FixtureCell("native", false, far), "fixture.yaml", Registry());
  const Cell::Robot& probe_robot = CellOf(*probe.model).config().robots[0];
  const Eigen::Vector3d obstacle = (probe_robot.base * ArmToolPose(probe_robot.arm, target)).p;
  const Eigen::Vector3d obstacle_size(0.16, 0.16, 0.16);
  INFO("obstacle at " << obstacle.transpose());
  REQUIRE(obstacle.z() > 0.2);  // clear of the floor and the clamp posts
  char line[200];
  std::snprintf(line, sizeof line,
                "      - {name: obstacle, center_m: [%.17g, %.17g, %.17g], size_m: [0.16, 0.16, "
                "0.16], yaw_rad: 0.3}\n",
                obstacle.x(), obstacle.y(), obstacle.z());
  const std::string fixtures = far + line;

  for (const std::string physics : {"native", "bullet"})
    for (const bool stop : {true, false}) {
      if (physics == "bullet" && !stop) continue;
      INFO(physics << (stop ? ", collision_stop" : ""));
      const auto model =
          LoadScenarioText(FixtureCell(physics, stop, fixtures), "fixture.yaml", Registry()).model;
      const Cell& cell = CellOf(*model);
      // Clamp posts first, then the scenario's list.
      REQUIRE(cell.config().fixtures.size() == 4);
      CHECK(cell.config().fixtures[0].name == "clamp_post_right");
      CHECK(cell.config().fixtures[3].name == "obstacle");
      Simulator simulator(model);
      const double* q = simulator.state().World<double>(cell.q_field(), 0);
      const double* qd = simulator.state().World<double>(cell.qd_field(), 0);
      const auto* counts = simulator.state().World<int64_t>(cell.counts_field(), 0);
      REQUIRE(simulator.Submit({.tick = 0, .target = "cell/select_program", .values = {0, 0}}) ==
              "");
      std::vector<double> values = {0};
      for (int i = 0; i < 6; ++i) values.push_back(target(i));
      REQUIRE(simulator.Submit({.tick = 1, .target = "cell/move_joints", .values = values}) == "");
      // Step to the first collision, keeping the sampled clearance at every check tick.
      const Cell::Robot& robot = cell.config().robots[0];
      const double radius = robot.link_radius_m;
      double clearance_before = HUGE_VAL, clearance_at = HUGE_VAL;
      while (counts[Cell::kCollisions] == 0 && simulator.tick() < 4000) {
        const int64_t tick = simulator.tick();
        simulator.Step();
        if (tick % 10 != 0) continue;
        const std::vector<Eigen::Vector3d> points = ArmPoints(robot, q);
        double clearance = HUGE_VAL;
        for (size_t i = 1; i + 1 < points.size(); ++i)
          clearance = std::min(clearance, SampledSegmentBox(points[i], points[i + 1], obstacle,
                                                            obstacle_size, 0.3, 4000));
        if (counts[Cell::kCollisions] == 0)
          clearance_before = clearance;
        else
          clearance_at = clearance;
      }
      REQUIRE(counts[Cell::kCollisions] == 1);
      CHECK(counts[Cell::kFixtureCollisions] == 1);
      CHECK(counts[Cell::kLastCollisionKind] == Cell::kHitFixture);
      CHECK(counts[Cell::kLastCollisionRobot] == 0);
      REQUIRE(counts[Cell::kLastCollisionIndex] == 3);
      CHECK(cell.config().fixtures[3].name == "obstacle");
      CHECK(counts[Cell::kLastCollisionTick] == simulator.tick() - 1);
      // The same event in the simulation's event stream (the bridge's `_events/`), naming both.
      auto collisions = [&] {
        std::vector<SimEvent> found;
        for (const SimEvent& event : simulator.events())
          if (event.kind == "collision") found.push_back(event);
        return found;
      };
      REQUIRE(collisions().size() == 1);
      CHECK(collisions()[0].tick == simulator.tick());
      CHECK(collisions()[0].world == 0);
      CHECK_THAT(collisions()[0].text,
                 Catch::StartsWith("cell: robot '" + robot.name + "' hit fixture 'obstacle'"));
      // Found at the first check tick whose clearance is below the link radius (sampled: at
      // most half the sample spacing of the longest, 0.43 m, segment too long).
      CHECK(clearance_before >= radius - 0.5 * 0.43 / 4000);
      CHECK(clearance_at < radius + 0.5 * 0.43 / 4000);
      simulator.Step(2500);
      CHECK(Kpi(simulator, "collisions") == 1);  // one event: the contact persists
      CHECK(collisions().size() == 1);
      CHECK(Kpi(simulator, "fixture_collisions") == 1);
      double off_target = 0, speed = 0;
      for (int i = 0; i < 6; ++i) {
        off_target = std::max(off_target, std::abs(q[i] - target(i)));
        speed = std::max(speed, std::abs(qd[i]));
      }
      const double* rf = simulator.state().World<double>(cell.robot_field(), 0);
      if (stop) {
        // The override went to 0 (ramped at override_ramp_per_s): the move's path time froze
        // short of its end, the arm stopped short of the target and stands still.
        CHECK(rf[Cell::kOverride] == 0.0);
        CHECK(rf[Cell::kPathTime] < rf[Cell::kMoveDuration]);
        CHECK(off_target > 0.01);
        CHECK(speed < 1e-3);
      } else {
        CHECK(rf[Cell::kOverride] == 1.0);
        CHECK(off_target < 1e-3);  // without the stop it reaches its target inside the box
      }
    }
}

TEST_CASE("Fixture keys: capacity, names and sizes are checked with the key", "[robots]") {
  auto error = [](const std::string& fixtures) {
    try {
      LoadScenarioText(FixtureCell("native", false, fixtures), "fixture.yaml", Registry());
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string many;
  for (int f = 0; f < kCellMaxFixtures + 1; ++f)
    many += "      - {center_m: [" + std::to_string(f) + ", 9, 1], size_m: [0.5, 0.5, 0.5]}\n";
  const std::string too_many = error(many);
  CHECK(too_many.find("fixture.yaml") != std::string::npos);
  CHECK(too_many.find("fixtures") != std::string::npos);
  CHECK(too_many.find("at most 16") != std::string::npos);
  const std::string negative =
      error("      - {name: t, center_m: [0, 9, 1], size_m: [0.5, -0.5, 0.5]}\n");
  CHECK(negative.find("size_m") != std::string::npos);
  const std::string duplicate = error(
      "      - {name: t, center_m: [0, 9, 1], size_m: [0.5, 0.5, 0.5]}\n"
      "      - {name: t, center_m: [2, 9, 1], size_m: [0.5, 0.5, 0.5]}\n");
  CHECK(duplicate.find("name") != std::string::npos);
  CHECK(duplicate.find("no other fixture") != std::string::npos);
  const std::string post =
      error("      - {name: clamp_post_left, center_m: [0, 9, 1], size_m: [0.5, 0.5, 0.5]}\n");
  CHECK(post.find("clamp posts") != std::string::npos);
  const std::string missing = error("      - {name: t, size_m: [0.5, 0.5, 0.5]}\n");
  CHECK(missing.find("center_m") != std::string::npos);
}

}  // namespace ftwin

namespace ftwin {

TEST_CASE("The shipped weld cell's programs clear every fixture", "[robots][slow]") {
  // scenarios/robots/weld_cell.yaml (native physics: the same arm motion to within the plants'
  // rounding) over 75 s: two bodies welded, their parts placed, a third in process. Every
  // robot's capsules keep a positive clearance from the clamp posts, the pedestal, the part rack
  // and the fences at every collision check, and no collision is counted.
  const std::filesystem::path file =
      std::filesystem::path(FTWIN_SOURCE_DIR) / "scenarios/robots/weld_cell.yaml";
  std::string text;
  {
    std::ifstream in(file);
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  const size_t at = text.find("    robots:");
  REQUIRE(at != std::string::npos);
  text.insert(at, "    physics: native\n");
  const auto model =
      LoadScenarioText(text, file, Registry(), {.duration_ns = 75'000'000'000}).model;
  const Cell& cell = CellOf(*model);
  const CellParams& params = cell.params();
  REQUIRE(params.num_fixtures == 6);
  Simulator simulator(model);
  const double* q_all = simulator.state().World<double>(cell.q_field(), 0);
  std::vector<double> clearance(static_cast<size_t>(params.num_robots * params.num_fixtures),
                                HUGE_VAL);
  while (simulator.tick() < 75000) {
    simulator.Step(10);
    for (int r = 0; r < params.num_robots; ++r) {
      const Cell::Robot& robot = cell.config().robots[static_cast<size_t>(r)];
      const std::vector<Eigen::Vector3d> points =
          ArmPoints(robot, q_all + params.robots[r].dof_offset);
      for (int f = 0; f < params.num_fixtures; ++f)
        for (size_t i = 1; i + 1 < points.size(); ++i) {
          double& c = clearance[static_cast<size_t>(r * params.num_fixtures + f)];
          c = std::min(c, CellSegmentBoxDistance(points[i], points[i + 1], params.fixtures[f]) -
                              robot.link_radius_m);
        }
    }
  }
  CHECK(Kpi(simulator, "bodies_completed") >= 1);
  CHECK(Kpi(simulator, "parts_placed") >= 1);
  CHECK(Kpi(simulator, "collisions") == 0);
  CHECK(Kpi(simulator, "fixture_collisions") == 0);
  for (int r = 0; r < params.num_robots; ++r)
    for (int f = 0; f < params.num_fixtures; ++f) {
      const double c = clearance[static_cast<size_t>(r * params.num_fixtures + f)];
      INFO(cell.config().robots[static_cast<size_t>(r)].name
           << " vs " << cell.config().fixtures[static_cast<size_t>(f)].name << ": " << c << " m");
      CHECK(c > 0.0);
    }
}

}  // namespace ftwin

namespace ftwin {
namespace {

// A weld robot and an AGV shuttling along y = 2 m between x = -3 and x = 3 through a pillar.
std::string AgvCell(const std::string& physics) {
  std::string text =
      FixtureCell(physics, false,
                  "      - {name: pillar, center_m: [0.0, 2.0, 0.5], size_m: [0.3, 0.3, 1.0]}\n");
  const size_t at = text.find("    robots:");
  text.insert(at,
              "    agv: {pickup_xy_m: [3.0, 2.0], dropoff_xy_m: [-3.0, 2.0], load_time: 1s, "
              "parts_per_trip: 2, buffer_capacity: 4, buffer_initial: 0}\n"
              "    safety: {agv_triggers: false}\n");
  return text;
}

}  // namespace

TEST_CASE("The AGV running into a fixture is a collision event; Bullet's contacts agree",
          "[robots][bullet]") {
  for (const std::string physics : {"native", "bullet"}) {
    INFO(physics);
    const auto model = LoadScenarioText(AgvCell(physics), "agv.yaml", Registry()).model;
    const Cell& cell = CellOf(*model);
    Simulator simulator(model);
    const double* agv = simulator.state().World<double>(cell.agv_field(), 0);
    const auto* counts = simulator.state().World<int64_t>(cell.counts_field(), 0);
    // Truth: heading 0 along y = 2 through the 0.3 m pillar at x = 0, the 1 m chassis overlaps it
    // while |x| < 0.5 + 0.15.
    double x_before = -HUGE_VAL;
    while (counts[Cell::kCollisions] == 0 && simulator.tick() < 10000) {
      const int64_t tick = simulator.tick();
      simulator.Step();
      // The chassis where the last check without a collision saw it.
      if (tick % 10 == 0 && counts[Cell::kCollisions] == 0) x_before = agv[Cell::kAgvX];
    }
    REQUIRE(counts[Cell::kCollisions] == 1);
    CHECK(counts[Cell::kFixtureCollisions] == 1);
    CHECK(counts[Cell::kLastCollisionKind] == Cell::kHitAgv);
    CHECK(counts[Cell::kLastCollisionRobot] == -1);
    CHECK(cell.config().fixtures[static_cast<size_t>(counts[Cell::kLastCollisionIndex])].name ==
          "pillar");
    CHECK(std::abs(agv[Cell::kAgvY] - 2.0) < 1e-9);
    CHECK(std::abs(agv[Cell::kAgvHeading]) < 1e-9);
    CHECK(agv[Cell::kAgvX] > -0.65);
    CHECK(x_before <= -0.65);
  }
  // Bullet's kinematic chassis against the same pillar (and a turned one): contact points exactly
  // where the cell's separating-axis test finds an overlap, away from the touching poses.
  std::string text = AgvCell("bullet");
  text.replace(text.find("size_m: [0.3, 0.3, 1.0]}"), 24,
               "size_m: [0.3, 0.3, 1.0]}\n      - {name: turned, center_m: [0.0, 4.0, 0.1], "
               "size_m: [0.6, 0.2, 0.2], yaw_rad: 0.7}");
  const auto model = LoadScenarioText(text, "agv.yaml", Registry()).model;
  const Cell& cell = CellOf(*model);
  CellBulletWorld world(cell.config());
  double body[kRigidSlots];
  CellBodyAtRest(cell.config(), -2.0, 0.0, body);
  int agree = 0, touching = 0;
  for (const double heading : {0.0, 0.5, 2.0})
    for (const double y : {2.0, 2.3, 4.0, 4.35})
      for (double x = -1.2; x <= 1.2; x += 0.01) {
        CellBulletInputs inputs;
        inputs.agv_before[0] = inputs.agv_after[0] = x;
        inputs.agv_before[1] = inputs.agv_after[1] = y;
        inputs.agv_before[2] = inputs.agv_after[2] = heading;
        world.Step(1e-3, inputs, body);
        for (int f = 2; f < 4; ++f) {
          const CellBox& box = cell.params().fixtures[f];
          const bool ours = CellAgvHitsBox(cell.params(), x, y, heading, box);
          // Away from grazing: the pose moved 2 mm either way gives the same answer.
          bool grazing = false;
          for (const double dx : {-2e-3, 2e-3})
            for (const double dy : {-2e-3, 2e-3})
              grazing =
                  grazing || CellAgvHitsBox(cell.params(), x + dx, y + dy, heading, box) != ours;
          if (grazing) continue;
          INFO("fixture " << f << " at x " << x << ", y " << y << ", heading " << heading);
          CHECK(world.AgvTouchesFixture(f) == ours);
          ++agree;
          touching += ours ? 1 : 0;
        }
      }
  CHECK(agree > 1000);
  CHECK(touching > 100);
}

}  // namespace ftwin
