#include "robots/robot_cell.h"

#include "engine/device_state.h"
#include "engine/scene.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "engine/scenario.h"
#include "engine/units.h"
#include "robots/arm_native.h"
#include "robots/cell_bullet_world.h"
#include "robots/robot_cell_kernels.h"

namespace ftwin {
namespace {

const Eigen::Vector3d kGravity(0.0, 0.0, -9.80665);

// Tool orientation for a spot: tool z along the approach direction, tool x as close to "up"
// as possible (a fixed rule, so every robot holds its gun the same way).
Eigen::Matrix3d SpotOrientation(const Eigen::Vector3d& direction) {
  const Eigen::Vector3d z = direction.normalized();
  Eigen::Vector3d reference = Eigen::Vector3d::UnitZ();
  if (std::abs(z.dot(reference)) > 0.9) reference = Eigen::Vector3d::UnitX();
  const Eigen::Vector3d x = (reference - reference.dot(z) * z).normalized();
  Eigen::Matrix3d R;
  R.col(0) = x;
  R.col(1) = z.cross(x);
  R.col(2) = z;
  return R;
}

Eigen::Vector3d Vec3(const std::vector<double>& v, const Eigen::Vector3d& fallback) {
  return v.size() == 3 ? Eigen::Vector3d(v[0], v[1], v[2]) : fallback;
}

// A part body out of the cell: absent, at rest below the floor.
void ParkPart(double* part) {
  std::fill(part, part + kPartSlots, 0.0);
  part[kPartRigid + kRigidZ] = -5.0;
  part[kPartRigid + kRigidQw] = 1.0;
  part[kPartAttach + 6] = 1.0;
}

// Writes a pose (and a twist) into a rigid-body state (CellBodySlot order).
void SetRigid(const ArmPose& pose, const Eigen::Vector3d& v, const Eigen::Vector3d& w,
              double* rigid) {
  const Eigen::Quaterniond q(pose.R);
  rigid[kRigidX] = pose.p.x(), rigid[kRigidY] = pose.p.y(), rigid[kRigidZ] = pose.p.z();
  rigid[kRigidQx] = q.x(), rigid[kRigidQy] = q.y(), rigid[kRigidQz] = q.z(),
  rigid[kRigidQw] = q.w();
  rigid[kRigidVx] = v.x(), rigid[kRigidVy] = v.y(), rigid[kRigidVz] = v.z();
  rigid[kRigidWx] = w.x(), rigid[kRigidWy] = w.y(), rigid[kRigidWz] = w.z();
}

ArmPose RigidPose(const double* rigid) {
  ArmPose pose;
  pose.p = Eigen::Vector3d(rigid[kRigidX], rigid[kRigidY], rigid[kRigidZ]);
  pose.R = Eigen::Quaterniond(rigid[kRigidQw], rigid[kRigidQx], rigid[kRigidQy], rigid[kRigidQz])
               .toRotationMatrix();
  return pose;
}

// The slot layouts of robot_cell.h and robot_cell_world.h are one layout.
constexpr bool Same(int a, int b) { return a == b; }
static_assert(Same(RobotCellBlock::kRobotSlots, kCellRobotSlots) &&
              Same(RobotCellBlock::kMoveJerkTime, kCellMoveJerkTime) &&
              Same(RobotCellBlock::kWeldErrorM, kCellWeldErrorM));
static_assert(Same(RobotCellBlock::kStateSlots, kCellStateSlots) &&
              Same(RobotCellBlock::kWeldOk, kCellWeldOk));
static_assert(Same(RobotCellBlock::kExternal, kCellExternal) &&
              Same(RobotCellBlock::kWaitZone, kCellWaitZone) &&
              Same(RobotCellBlock::kGripping, kCellGripping) &&
              Same(RobotCellBlock::kWaitPart, kCellWaitPart));
static_assert(Same(RobotCellBlock::kHolding, kCellHolding) &&
              Same(RobotCellBlock::kFailedPicks, kCellFailedPicks) &&
              Same(RobotCellBlock::kPartsPlaced, kCellPartsPlaced));
static_assert(Same(RobotCellBlock::kCellSlots, kCellFloatSlots) &&
              Same(RobotCellBlock::kStopElapsed, kCellStopElapsed) &&
              Same(RobotCellBlock::kEnergyJ_, kCellTotalEnergyJ));
static_assert(Same(RobotCellBlock::kCellCounts, kCellCountSlots) &&
              Same(RobotCellBlock::kRejectedTargets, kCellRejectedTargets));
static_assert(Same(RobotCellBlock::kLeaving, kCellLeaving) &&
              Same(RobotCellBlock::kWaitClamp, kCellWaitClamp));
static_assert(Same(RobotCellBlock::kClampRequest, kCellClampRequest) &&
              Same(RobotCellBlock::kAgvGoalY, kCellAgvGoalY));
static_assert(Same(RobotCellBlock::kFixtureCollisions, kCellFixtureCollisions) &&
              Same(RobotCellBlock::kLastCollisionIndex, kCellLastCollisionIndex) &&
              Same(RobotCellBlock::kHitFixture, kCellHitFixture) &&
              Same(RobotCellBlock::kHitBody, kCellHitBody) &&
              Same(RobotCellBlock::kHitAgv, kCellHitAgv));
static_assert(Same(RobotCellBlock::kAgvSlots, kCellAgvSlots) &&
              Same(RobotCellBlock::kAgvBroken, kCellAgvBroken));
static_assert(Same(RobotCellBlock::kWaiting, kCellAgvWaiting) &&
              Same(RobotCellBlock::kUnloading, kCellAgvUnloading));

}  // namespace

// Clearance between the body's sides and the station's clamp posts [m].
constexpr double kClampPostClearance = 0.15;

std::vector<RobotCellBlock::Fixture> RobotCellBlock::ClampPosts(const Config& config) {
  const Eigen::Vector3d body = config.body_size_m;
  // The clamps hold the body's sills from below: the posts reach up to the body's underside (at
  // least 5 cm), below where the robots work on the body's sides.
  const Eigen::Vector3d post(0.3, 0.2, std::max(config.body_floor_m, 0.05));
  std::vector<Fixture> posts;
  for (int side = -1; side <= 1; side += 2) {
    Fixture fixture;
    fixture.name = side < 0 ? "clamp_post_right" : "clamp_post_left";
    fixture.center_m = Eigen::Vector3d(
        0.0, side * (0.5 * body.y() + kClampPostClearance + 0.5 * post.y()), 0.5 * post.z());
    fixture.size_m = post;
    posts.push_back(fixture);
  }
  return posts;
}

int RobotCellBlock::PartRows(const Config& config, std::vector<int>* first_row) {
  first_row->assign(config.robots.size(), -1);
  if (config.physics != Physics::kBullet) return 0;
  int rows = 0;
  for (size_t r = 0; r < config.robots.size(); ++r) {
    const Robot& robot = config.robots[r];
    if (!robot.assembly || !(robot.part_mass_kg > 0)) continue;
    (*first_row)[r] = rows;
    rows += static_cast<int>(robot.spots.size()) + 1;
  }
  return rows;
}

int RobotCellBlock::hand_part_row(int robot) const {
  const int first = part_first_row_[static_cast<size_t>(robot)];
  return first < 0
             ? -1
             : first + static_cast<int>(config_.robots[static_cast<size_t>(robot)].spots.size());
}

RobotCellBlock::RobotCellBlock(std::string name, Config config)
    : Block(std::move(name)), config_(std::move(config)), params_(std::make_unique<CellParams>()) {
  part_rows_ = PartRows(config_, &part_first_row_);
  if (config_.fixtures.size() > static_cast<size_t>(kCellMaxFixtures))
    throw std::invalid_argument("robot_cell '" + this->name() +
                                "': " + std::to_string(config_.fixtures.size()) +
                                " fixtures, at most " + std::to_string(kCellMaxFixtures));
  {
    std::vector<Fixture> all = ClampPosts(config_);
    all.insert(all.end(), config_.fixtures.begin(), config_.fixtures.end());
    config_.fixtures = std::move(all);
  }
  for (const Robot& robot : config_.robots) {
    dof_offset_.push_back(total_dof_);
    total_dof_ += robot.arm.dof;
  }
  const Config& c = config_;
  CellParams& p = *params_;
  if (c.robots.size() > static_cast<size_t>(kCellMaxRobots))
    throw std::invalid_argument("robot_cell '" + this->name() +
                                "': " + std::to_string(c.robots.size()) + " robots, at most " +
                                std::to_string(kCellMaxRobots));
  p.num_robots = static_cast<int>(c.robots.size());
  for (size_t r = 0; r < c.robots.size(); ++r) {
    const Robot& robot = c.robots[r];
    CellRobotParams& out = p.robots[r];
    if (robot.spots.size() > static_cast<size_t>(kCellMaxSpots) ||
        robot.waypoints.size() > static_cast<size_t>(kCellMaxWaypoints) ||
        robot.spot_tcp.size() > static_cast<size_t>(kCellMaxSpots) + 1 ||
        robot.program.size() > static_cast<size_t>(kCellMaxSteps))
      throw std::invalid_argument("robot_cell '" + this->name() + "', robot '" + robot.name +
                                  "': more than " + std::to_string(kCellMaxSpots) + " weld spots");
    out.arm = robot.arm;
    out.arm_loaded = robot.arm_loaded;
    out.assembly = robot.assembly ? 1 : 0;
    out.part_mass_kg = robot.part_mass_kg;
    out.base = robot.base;
    out.gravity_base = robot.base.R.transpose() * kGravity;
    out.home = robot.home;
    for (int i = 0; i < kArmMaxDof; ++i) {
      out.max_accel[i] = robot.max_accel[i];
      out.max_jerk[i] = robot.max_jerk[i];
    }
    out.jerk_limited = robot.jerk_limited ? 1 : 0;
    out.link_radius_m = robot.link_radius_m;
    out.dof_offset = dof_offset_[r];
    out.num_waypoints = static_cast<int>(robot.waypoints.size());
    for (size_t k = 0; k < robot.waypoints.size(); ++k) out.waypoints[k] = robot.waypoints[k];
    out.num_spots = static_cast<int>(robot.spot_tcp.size());
    for (size_t k = 0; k < robot.spot_tcp.size(); ++k) out.spot_p[k] = robot.spot_tcp[k].p;
    out.program_length = static_cast<int>(robot.program.size());
    for (size_t k = 0; k < robot.program.size(); ++k) {
      out.program[k] = robot.program[k];
      out.program_weld[k] = robot.program_weld[k];
      out.program_zone[k] = robot.program_zone[k];
      out.program_spot[k] = robot.program_spot[k];
      out.program_grip[k] = robot.program_grip[k];
    }
  }
  p.interlocks = c.interlocks ? 1 : 0;
  p.conveyor_length_m = c.conveyor_length_m;
  p.exit_length_m = c.exit_length_m;
  p.clamp_time_s = c.clamp_time_s;
  p.unclamp_time_s = c.unclamp_time_s;
  for (int k = 0; k < 3; ++k) p.body_size_m[k] = c.body_size_m(k);
  p.body_floor_m = c.body_floor_m;
  p.weld_time_s = c.weld_time_s;
  p.weld_tolerance_m = c.weld_tolerance_m;
  p.servo_bandwidth_rad_per_s = c.servo_bandwidth_rad_per_s;
  p.override_ramp_per_s = c.override_ramp_per_s;
  p.drive_efficiency = c.drive_efficiency;
  p.regeneration = c.regeneration;
  p.standby_W = c.standby_W;
  p.copper_loss_W_per_Nm2 = c.copper_loss_W_per_Nm2;
  p.conveyor_power_W = c.conveyor_power_W;
  p.slow_distance_m = c.slow_distance_m;
  p.stop_distance_m = c.stop_distance_m;
  p.reduced_speed = c.reduced_speed;
  p.stop_time_s = c.stop_time_s;
  p.stop_category = c.stop_category;
  p.visitor_enter_s = c.visitor_enter_s;
  p.visitor_speed_m_per_s = c.visitor_speed_m_per_s;
  p.visitor_start_distance_m = c.visitor_start_distance_m;
  p.visitor_closest_m = c.visitor_closest_m;
  p.visitor_dwell_s = c.visitor_dwell_s;
  p.collision_stop = c.collision_stop ? 1 : 0;
  p.agv_enabled = c.agv_enabled ? 1 : 0;
  p.agv = c.agv;
  for (int k = 0; k < 2; ++k) {
    p.agv_pickup_xy[k] = c.agv_pickup_xy[k];
    p.agv_dropoff_xy[k] = c.agv_dropoff_xy[k];
  }
  p.agv_load_time_s = c.agv_load_time_s;
  p.agv_parts_per_trip = c.agv_parts_per_trip;
  p.buffer_capacity = c.buffer_capacity;
  p.collision_check_ticks = c.collision_check_ticks;
  p.grip_time_s = c.grip_time_s;
  p.grip_tolerance_m = c.grip_tolerance_m;
  p.assembly_robots = c.assembly_robots;
  p.body_kinematic = c.physics == Physics::kNative ? 1 : 0;
  for (int k = 0; k < 4; ++k) p.zone_xy_m[k] = c.zone_xy_m[k];
  p.agv_triggers_safety = c.agv_triggers_safety ? 1 : 0;
  p.agv_footprint_radius_m = c.agv_footprint_radius_m;
  p.num_fixtures = static_cast<int>(c.fixtures.size());
  for (size_t f = 0; f < c.fixtures.size(); ++f) {
    CellBox& box = p.fixtures[f];
    for (int k = 0; k < 3; ++k) {
      box.center[k] = c.fixtures[f].center_m(k);
      box.half[k] = 0.5 * c.fixtures[f].size_m(k);
    }
    box.cos_yaw = std::cos(c.fixtures[f].yaw_rad);
    box.sin_yaw = std::sin(c.fixtures[f].yaw_rad);
  }
}

RobotCellBlock::~RobotCellBlock() = default;

double RobotCellBlock::AgvZoneDistance(double x_m, double y_m) const {
  return CellAgvZoneDistance(*params_, x_m, y_m);
}

double RobotCellBlock::VisitorDistance(double t) const { return CellVisitorDistance(*params_, t); }

std::unique_ptr<Block> RobotCellBlock::FromParams(const std::string& name, ParamReader& params) {
  Config c;
  c.physics = params.Choice("physics", "bullet", {"bullet", "native"}) == "native"
                  ? Physics::kNative
                  : Physics::kBullet;
  c.interlocks = params.Bool("interlocks", true);
  c.conveyor_length_m = params.Number("conveyor_length_m", 8.0, NumberRange::Positive("m"));
  c.conveyor_speed_m_per_s =
      params.Number("conveyor_speed_m_per_s", 0.5, NumberRange::Between(0.0, 5.0, "m/s"));
  c.exit_length_m = params.Number("exit_length_m", 6.0, NumberRange::Positive("m"));
  c.clamp_time_s = NsToSeconds(params.DurationNs("clamp_time", 1'500'000'000));
  c.unclamp_time_s = NsToSeconds(params.DurationNs("unclamp_time", 1'000'000'000));
  c.body_size_m = Vec3(params.NumberList("body_size_m", NumberRange::Positive("m"), 3, 3, false),
                       c.body_size_m);
  c.body_floor_m = params.Number("body_floor_m", 0.4, NumberRange::NonNegative("m"));
  c.body_mass_kg = params.Number("body_mass_kg", 350.0, NumberRange::Positive("kg"));
  c.belt_friction = params.Number("belt_friction", 0.6, NumberRange::NonNegative("1"));
  c.floor_friction = params.Number("floor_friction", 0.5, NumberRange::NonNegative("1"));
  if (c.physics == Physics::kBullet && !(c.body_floor_m > 0))
    params.Error("body_floor_m", std::to_string(c.body_floor_m),
                 "expected > 0 with physics: bullet (the belt is a raised box under the body)");
  c.weld_time_s = NsToSeconds(params.DurationNs("weld_time", 400'000'000, 1));
  c.weld_tolerance_m = params.Number("weld_tolerance_m", 1e-3, NumberRange::Positive("m"));
  c.approach_m = params.Number("approach_m", 0.12, NumberRange::NonNegative("m"));
  c.servo_bandwidth_rad_per_s =
      params.Number("servo_bandwidth_rad_per_s", 40.0, NumberRange::Positive("rad/s"));
  c.override_ramp_per_s = params.Number("override_ramp_per_s", 2.0, NumberRange::Positive("1/s"));
  c.drive_efficiency = params.Number("drive_efficiency", 0.9, NumberRange::Between(0.05, 1.0, "1"));
  c.regeneration = params.Number("regeneration", 0.0, NumberRange::Fraction());
  c.standby_W = params.Number("standby_W", 350.0, NumberRange::NonNegative("W"));
  c.copper_loss_W_per_Nm2 =
      params.Number("copper_loss_W_per_Nm2", 2e-6, NumberRange::NonNegative("W/(N m)^2"));
  c.conveyor_power_W = params.Number("conveyor_power_W", 1500.0, NumberRange::NonNegative("W"));
  c.collision_stop = params.Bool("collision_stop", false);
  c.collision_check_ticks =
      static_cast<int>(params.Integer("collision_check_ticks", 10, 1, 100000));
  c.grip_time_s = NsToSeconds(params.DurationNs("grip_time", 500'000'000, 1));
  c.grip_tolerance_m = params.Number("grip_tolerance_m", 2e-3, NumberRange::Positive("m"));
  ParamReader safety = params.Child("safety");
  c.slow_distance_m = safety.Number("slow_distance_m", 3.0, NumberRange::Positive("m"));
  c.stop_distance_m = safety.Number("stop_distance_m", 1.5, NumberRange::Positive("m"));
  c.reduced_speed = safety.Number("reduced_speed", 0.25, NumberRange::Fraction());
  c.stop_time_s = NsToSeconds(safety.DurationNs("stop_time", 600'000'000, 1));
  c.stop_category = static_cast<StopCategory>(safety.Integer("stop_category", 1, 0, 2));
  const std::vector<double> zone =
      safety.NumberList("zone_xy_m", NumberRange::Any("m"), 4, 4, false);
  const bool zone_given = zone.size() == 4;
  if (zone_given) {
    for (int k = 0; k < 4; ++k) c.zone_xy_m[k] = zone[static_cast<size_t>(k)];
    if (!(zone[0] < zone[2] && zone[1] < zone[3]))
      safety.Error("zone_xy_m", "", "expected [x_min, y_min, x_max, y_max] with min < max");
  }
  c.agv_triggers_safety = safety.Bool("agv_triggers", true);
  if (c.stop_distance_m > c.slow_distance_m)
    safety.Error("stop_distance_m", std::to_string(c.stop_distance_m),
                 "expected stop_distance_m <= slow_distance_m");
  safety.Finish();
  if (params.Has("visitor")) {
    ParamReader visitor = params.Child("visitor");
    c.visitor_enter_s = NsToSeconds(visitor.RequiredDurationNs("enter_at"));
    c.visitor_speed_m_per_s = visitor.Number("speed_m_per_s", 1.6, NumberRange::Positive("m/s"));
    c.visitor_start_distance_m =
        visitor.Number("start_distance_m", 8.0, NumberRange::Positive("m"));
    c.visitor_closest_m = visitor.Number("closest_distance_m", 0.8, NumberRange::NonNegative("m"));
    c.visitor_dwell_s = NsToSeconds(visitor.DurationNs("dwell", 5'000'000'000));
    if (c.visitor_closest_m >= c.visitor_start_distance_m)
      visitor.Error("closest_distance_m", std::to_string(c.visitor_closest_m),
                    "expected less than start_distance_m");
    visitor.Finish();
  }
  if (params.Has("agv")) {
    ParamReader agv = params.Child("agv");
    c.agv_enabled = true;
    const std::vector<double> pickup =
        agv.NumberList("pickup_xy_m", NumberRange::Any("m"), 2, 2, false);
    const std::vector<double> dropoff =
        agv.NumberList("dropoff_xy_m", NumberRange::Any("m"), 2, 2, false);
    if (pickup.size() == 2) c.agv_pickup_xy[0] = pickup[0], c.agv_pickup_xy[1] = pickup[1];
    if (dropoff.size() == 2) c.agv_dropoff_xy[0] = dropoff[0], c.agv_dropoff_xy[1] = dropoff[1];
    c.agv_load_time_s = NsToSeconds(agv.DurationNs("load_time", 10'000'000'000));
    c.agv_parts_per_trip = static_cast<int>(agv.Integer("parts_per_trip", 4, 1, 1000));
    c.buffer_capacity = static_cast<int>(agv.Integer("buffer_capacity", 8, 1, 100000));
    c.buffer_initial = static_cast<int>(agv.Integer("buffer_initial", 2, 0, 100000));
    c.agv.wheel_radius_m = agv.Number("wheel_radius_m", 0.1, NumberRange::Positive("m"));
    c.agv.track_m = agv.Number("track_m", 0.6, NumberRange::Positive("m"));
    c.agv.max_wheel_speed_rad_per_s =
        agv.Number("max_wheel_speed_rad_per_s", 15.0, NumberRange::Positive("rad/s"));
    c.agv_footprint_radius_m = agv.Number("footprint_radius_m", 0.6, NumberRange::NonNegative("m"));
    if (c.buffer_initial > c.buffer_capacity)
      agv.Error("buffer_initial", std::to_string(c.buffer_initial), "expected <= buffer_capacity");
    agv.Finish();
  }
  // Fixtures: static boxes the arms and tools are checked against (part tables, fences, ...).
  std::vector<ParamReader> fixtures = params.ChildList("fixtures");
  if (fixtures.size() > static_cast<size_t>(kCellMaxFixtures))
    params.Error("fixtures", std::to_string(fixtures.size()) + " fixtures",
                 "expected at most " + std::to_string(kCellMaxFixtures) +
                     " fixtures (the cell's fixed capacity, kCellMaxFixtures in "
                     "robots/robot_cell_world.h)");
  for (ParamReader& entry : fixtures) {
    Fixture fixture;
    fixture.name = entry.String("name", "fixture_" + std::to_string(c.fixtures.size() + 1));
    fixture.center_m =
        Vec3(entry.NumberList("center_m", NumberRange::Any("m"), 3, 3), Eigen::Vector3d::Zero());
    fixture.size_m =
        Vec3(entry.NumberList("size_m", NumberRange::Positive("m"), 3, 3), Eigen::Vector3d::Ones());
    fixture.yaw_rad = entry.Number("yaw_rad", 0.0, NumberRange::Between(-7, 7, "rad"));
    for (const Fixture& other : c.fixtures)
      if (other.name == fixture.name)
        entry.Error("name", fixture.name, "expected a name no other fixture has");
    if (fixture.name == "clamp_post_right" || fixture.name == "clamp_post_left")
      entry.Error("name", fixture.name, "expected a name other than the station's clamp posts");
    entry.Finish();
    c.fixtures.push_back(fixture);
  }
  const YAML::Node zones = params.Raw("zones");
  if (zones.IsDefined() && !zones.IsNull()) {
    if (!zones.IsSequence())
      params.Error("zones", NodeText(zones), "expected a list of zone names");
    else
      for (const auto& zone : zones) c.zones.push_back(zone.Scalar());
  }
  std::vector<ParamReader> robots = params.ChildList("robots", true);
  for (ParamReader& entry : robots) {
    Robot robot;
    robot.name = entry.RequiredString("name");
    robot.assembly = entry.Choice("role", "weld", {"weld", "assembly"}) == "assembly";
    robot.part_mass_kg = entry.Number("part_mass_kg", 0.0, NumberRange::NonNegative("kg"));
    robot.part_size_m =
        Vec3(entry.NumberList("part_size_m", NumberRange::Positive("m"), 3, 3, false),
             robot.part_size_m);
    if (entry.Has("part_size_m") && !robot.assembly)
      entry.Error("part_size_m", "", "expected only on a robot with role: assembly");
    if (robot.part_mass_kg > 0 && !robot.assembly)
      entry.Error("part_mass_kg", std::to_string(robot.part_mass_kg),
                  "expected only on a robot with role: assembly");
    const std::filesystem::path urdf = entry.ExistingFile("urdf");
    UrdfImportOptions options;
    options.allow_missing_meshes = entry.Bool("allow_missing_meshes", true);
    options.tool_link = entry.String("tool_link", "");
    std::optional<RobotModel> model;
    if (!urdf.empty()) {
      try {
        model = RobotModel::FromUrdfFile(urdf, options);
      } catch (const InputError& error) {
        params.diagnostics()->Append(error.diagnostics());
      }
    }
    const int dof = model ? model->arm().dof : 6;
    const std::vector<double> base = entry.NumberList("base_xyz_m", NumberRange::Any("m"), 3, 3);
    const double yaw = entry.Number("base_yaw_rad", 0.0, NumberRange::Between(-7, 7, "rad"));
    robot.base.R = Eigen::AngleAxisd(yaw, Eigen::Vector3d::UnitZ()).toRotationMatrix();
    robot.base.p = Vec3(base, Eigen::Vector3d::Zero());
    const std::vector<double> home = entry.NumberList(
        "home_rad", NumberRange::Any("rad"), static_cast<size_t>(dof), static_cast<size_t>(dof));
    const std::vector<double> effort =
        entry.NumberList("max_effort_Nm", NumberRange::Positive("N m"), static_cast<size_t>(dof),
                         static_cast<size_t>(dof), false);
    const std::vector<double> accel =
        entry.NumberList("max_accel_rad_per_s2", NumberRange::Positive("rad/s^2"),
                         static_cast<size_t>(dof), static_cast<size_t>(dof), false);
    const std::vector<double> jerk =
        entry.NumberList("max_jerk_rad_per_s3", NumberRange::Positive("rad/s^3"),
                         static_cast<size_t>(dof), static_cast<size_t>(dof), false);
    const std::vector<double> viscous =
        entry.NumberList("viscous_Nms_per_rad", NumberRange::NonNegative("N m s/rad"),
                         static_cast<size_t>(dof), static_cast<size_t>(dof), false);
    const std::vector<double> coulomb =
        entry.NumberList("coulomb_Nm", NumberRange::NonNegative("N m"), static_cast<size_t>(dof),
                         static_cast<size_t>(dof), false);
    robot.link_radius_m = entry.Number("link_radius_m", 0.2, NumberRange::Positive("m"));
    ParamReader tool = entry.Child("tool");
    // Presets (robots/data/tools.yaml) give the defaults; explicit keys override them.
    double preset_mass = 0.0, preset_inertia = 0.0;
    std::vector<double> preset_com(3, 0.0), preset_xyz(3, 0.0), preset_rpy(3, 0.0);
    const std::string preset = tool.String("preset", "");
    if (!preset.empty()) {
      const std::string file = std::string(FTWIN_ROBOTS_DATA_DIR) + "/tools.yaml";
      const YAML::Node presets = YAML::LoadFile(file);
      if (!presets[preset]) {
        std::string names;
        for (const auto& item : presets) names += (names.empty() ? "" : ", ") + item.first.Scalar();
        tool.Error("preset", preset, "expected one of " + names + " (" + file + ")");
      } else {
        const YAML::Node p = presets[preset];
        preset_mass = p["mass_kg"].as<double>();
        preset_inertia = p["inertia_kg_m2"].as<double>();
        preset_com = p["com_m"].as<std::vector<double>>();
        preset_xyz = p["tcp_xyz_m"].as<std::vector<double>>();
        preset_rpy = p["tcp_rpy_rad"].as<std::vector<double>>();
      }
    }
    const double tool_mass = tool.Number("mass_kg", preset_mass, NumberRange::NonNegative("kg"));
    const Eigen::Vector3d tool_com =
        Vec3(tool.NumberList("com_m", NumberRange::Any("m"), 3, 3, false),
             Vec3(preset_com, Eigen::Vector3d::Zero()));
    const Eigen::Vector3d tcp_xyz =
        Vec3(tool.NumberList("tcp_xyz_m", NumberRange::Any("m"), 3, 3, false),
             Vec3(preset_xyz, Eigen::Vector3d::Zero()));
    const Eigen::Vector3d tcp_rpy =
        Vec3(tool.NumberList("tcp_rpy_rad", NumberRange::Any("rad"), 3, 3, false),
             Vec3(preset_rpy, Eigen::Vector3d::Zero()));
    const double tool_inertia =
        tool.Number("inertia_kg_m2", preset_inertia, NumberRange::NonNegative("kg m^2"));
    tool.Finish();
    // Assembly robots pick from the part buffer at `pick` (cell frame; approach from above by
    // default) and place at their spots.
    Spot pick;
    pick.direction = -Eigen::Vector3d::UnitZ();
    std::vector<ParamReader> pick_reader;  // kept for errors found by the IK below
    if (robot.assembly) {
      pick_reader.push_back(entry.Child("pick", true));
      ParamReader& reader = pick_reader.back();
      pick.position = Vec3(reader.NumberList("position_m", NumberRange::Any("m"), 3, 3),
                           Eigen::Vector3d::Zero());
      pick.direction = Vec3(reader.NumberList("direction", NumberRange::Any("1"), 3, 3, false),
                            -Eigen::Vector3d::UnitZ());
      if (!(pick.direction.norm() > 0))
        reader.Error("direction", "0 0 0", "expected a non-zero approach direction");
      reader.Finish();
    } else if (entry.Has("pick")) {
      entry.Error("pick", "", "expected only on a robot with role: assembly");
    }
    std::vector<ParamReader> spots = entry.ChildList("spots");
    if (spots.size() > static_cast<size_t>(kCellMaxSpots))
      entry.Error("spots", std::to_string(spots.size()) + " spots",
                  "expected at most " + std::to_string(kCellMaxSpots) +
                      " weld spots per robot (the cell's fixed capacity, kCellMaxSpots in "
                      "robots/robot_cell_world.h)");
    for (ParamReader& spot_reader : spots) {
      Spot spot;
      spot.position = Vec3(spot_reader.NumberList("position_m", NumberRange::Any("m"), 3, 3),
                           Eigen::Vector3d::Zero());
      spot.direction = Vec3(spot_reader.NumberList("direction", NumberRange::Any("1"), 3, 3),
                            -Eigen::Vector3d::UnitY());
      if (!(spot.direction.norm() > 0))
        spot_reader.Error("direction", "0 0 0", "expected a non-zero approach direction");
      const std::string zone = spot_reader.String("zone", "");
      if (!zone.empty()) {
        const auto it = std::find(c.zones.begin(), c.zones.end(), zone);
        if (it == c.zones.end())
          spot_reader.Error("zone", zone, "expected one of the cell's zones");
        else
          spot.zone = static_cast<int>(it - c.zones.begin());
      }
      spot_reader.Finish();
      robot.spots.push_back(spot);
    }
    entry.Finish();
    if (!model || home.size() != static_cast<size_t>(dof) || !params.diagnostics()->ok()) continue;
    robot.arm = model->arm();
    ArmPose tcp;
    tcp.R = (Eigen::AngleAxisd(tcp_rpy.z(), Eigen::Vector3d::UnitZ()) *
             Eigen::AngleAxisd(tcp_rpy.y(), Eigen::Vector3d::UnitY()) *
             Eigen::AngleAxisd(tcp_rpy.x(), Eigen::Vector3d::UnitX()))
                .toRotationMatrix();
    tcp.p = tcp_xyz;
    const ArmPose flange = robot.arm.tool;
    robot.arm.tool = flange * tcp;
    AddArmPayload(&robot.arm, robot.arm.tool_body, tool_mass, flange.Apply(tool_com),
                  tool_inertia * Eigen::Matrix3d::Identity());
    for (int i = 0; i < dof; ++i) {
      robot.home(i) = home[static_cast<size_t>(i)];
      if (!effort.empty()) robot.arm.max_effort[i] = effort[static_cast<size_t>(i)];
      if (!std::isfinite(robot.arm.max_effort[i]))
        entry.Error("max_effort_Nm", "", "expected joint torque limits (the URDF has none)");
      if (!std::isfinite(robot.arm.max_velocity[i]))
        entry.Error("urdf", urdf.string(), "expected velocity limits on every joint");
      robot.max_accel[i] =
          accel.empty() ? 2.0 * robot.arm.max_velocity[i] : accel[static_cast<size_t>(i)];
      robot.arm.viscous[i] = viscous.empty() ? 0.0 : viscous[static_cast<size_t>(i)];
      robot.jerk_limited = !jerk.empty();
      robot.max_jerk[i] = jerk.empty() ? 0.0 : jerk[static_cast<size_t>(i)];
      robot.arm.coulomb[i] = coulomb.empty() ? 0.0 : coulomb[static_cast<size_t>(i)];
      if (home[static_cast<size_t>(i)] < robot.arm.lower[i] ||
          home[static_cast<size_t>(i)] > robot.arm.upper[i])
        entry.Error("home_rad", std::to_string(home[static_cast<size_t>(i)]),
                    "expected joint " + std::to_string(i + 1) + " within its URDF limits");
    }
    // The arm carrying a part: the part is a point mass at the TCP.
    robot.arm_loaded = robot.arm;
    if (robot.part_mass_kg > 0)
      AddArmPayload(&robot.arm_loaded, robot.arm.tool_body, robot.part_mass_kg, robot.arm.tool.p,
                    Eigen::Matrix3d::Zero());
    // Program: IK for every approach and spot pose, seeded along the path. A weld robot goes
    // approach, spot (weld), approach per spot; an assembly robot goes pick approach, pick
    // (close gripper), pick approach, place approach, place (open gripper), place approach.
    robot.waypoints.push_back(robot.home);
    const ArmPose to_base = robot.base.Inverse();
    ArmVector seed = robot.home;
    ArmIkOptions ik;
    ik.max_iterations = 1000;
    // Appends the approach and target waypoints of a pose; false (reported) when unreachable.
    auto add_pose = [&](const Spot& spot, ParamReader& reader, ArmPose* target_base) {
      ArmPose target;
      target.R = SpotOrientation(spot.direction);
      target.p = spot.position;
      ArmPose approach = target;
      approach.p -= c.approach_m * target.R.col(2);
      const ArmPose spot_base = to_base * target, approach_base = to_base * approach;
      ArmVector q_approach = seed;
      const ArmIkResult first =
          ArmInverseKinematics(robot.arm, approach_base, robot.home, &q_approach, ik);
      ArmVector q_spot = q_approach;
      const ArmIkResult second =
          ArmInverseKinematics(robot.arm, spot_base, robot.home, &q_spot, ik);
      if (!first.converged || !second.converged) {
        const ArmIkResult& bad = first.converged ? second : first;
        reader.Error("position_m",
                     std::to_string(spot.position.x()) + " " + std::to_string(spot.position.y()) +
                         " " + std::to_string(spot.position.z()),
                     "expected a pose the robot can reach (IK residual " +
                         std::to_string(bad.position_error_m) + " m, " +
                         std::to_string(bad.orientation_error_rad) + " rad)");
        return false;
      }
      robot.waypoints.push_back(q_approach);
      robot.waypoints.push_back(q_spot);
      *target_base = spot_base;
      seed = q_approach;
      return true;
    };
    auto add_step = [&](int waypoint, int weld, int grip, int zone, int spot) {
      robot.program.push_back(waypoint);
      robot.program_weld.push_back(weld);
      robot.program_grip.push_back(grip);
      robot.program_zone.push_back(zone);
      robot.program_spot.push_back(spot);
    };
    int pick_approach = -1;
    if (robot.assembly) {
      ArmPose pick_base;
      if (add_pose(pick, pick_reader.back(), &pick_base)) {
        pick_approach = static_cast<int>(robot.waypoints.size()) - 2;
        robot.spot_tcp.resize(robot.spots.size() + 1);
        robot.spot_tcp.back() = pick_base;
      }
    }
    for (size_t k = 0; k < robot.spots.size(); ++k) {
      const Spot& spot = robot.spots[k];
      ArmPose spot_base;
      if (!add_pose(spot, spots[k], &spot_base)) continue;
      if (robot.spot_tcp.size() <= k) robot.spot_tcp.resize(k + 1);
      robot.spot_tcp[k] = spot_base;
      const int a = static_cast<int>(robot.waypoints.size()) - 2;
      const int spot_index = static_cast<int>(k);
      if (robot.assembly) {
        const int pick_index = static_cast<int>(robot.spots.size());
        add_step(pick_approach, 0, 0, -1, pick_index);
        add_step(pick_approach + 1, 0, 1, -1, pick_index);
        add_step(pick_approach, 0, 0, -1, pick_index);
        add_step(a, 0, 0, spot.zone, spot_index);
        add_step(a + 1, 0, 2, spot.zone, spot_index);
        add_step(a, 0, 0, spot.zone, spot_index);
      } else {
        add_step(a, 0, 0, spot.zone, spot_index);
        add_step(a + 1, 1, 0, spot.zone, spot_index);
        add_step(a, 0, 0, spot.zone, spot_index);
      }
    }
    add_step(0, 0, 0, -1, -1);
    if (robot.assembly) ++c.assembly_robots;
    c.robots.push_back(std::move(robot));
  }
  if (!zone_given) {
    // Default protective zone: the robot bases and the body at the station.
    double* z = c.zone_xy_m;
    z[0] = -0.5 * c.body_size_m.x(), z[1] = -0.5 * c.body_size_m.y();
    z[2] = 0.5 * c.body_size_m.x(), z[3] = 0.5 * c.body_size_m.y();
    for (const Robot& robot : c.robots) {
      z[0] = std::min(z[0], robot.base.p.x()), z[1] = std::min(z[1], robot.base.p.y());
      z[2] = std::max(z[2], robot.base.p.x()), z[3] = std::max(z[3], robot.base.p.y());
    }
  }
  if (robots.empty()) params.Error("robots", "", "expected at least one robot");
  if (robots.size() > static_cast<size_t>(kCellMaxRobots))
    params.Error("robots", std::to_string(robots.size()),
                 "expected at most " + std::to_string(kCellMaxRobots) + " robots");
  if (!params.diagnostics()->ok()) return nullptr;
  return std::make_unique<RobotCellBlock>(name, std::move(c));
}

void RobotCellBlock::Declare(const DeclareContext&, BlockDeclaration& declaration) {
  const int R = static_cast<int>(config_.robots.size());
  const int zones = std::max<int>(1, static_cast<int>(config_.zones.size()));
  out_power_ = declaration.AddOutput(
      {.name = "power_W",
       .unit = "W",
       .doc = "electrical power drawn by the cell (drives, controllers, conveyor) from the site "
              "bus; positive = consumed"});
  // The car body's pose, for instruments that see it (a range_sensor's moving body: connect
  // these four to its <body>_x, _y, _z, _yaw inputs).
  const char* pose_names[4] = {"body_x_m", "body_y_m", "body_z_m", "body_yaw_rad"};
  for (int k = 0; k < 4; ++k)
    out_body_pose_[k] = declaration.AddOutput(
        {.name = pose_names[k],
         .unit = k == 3 ? "rad" : "m",
         .doc = "centre of the car body's box (size body_size_m) in the cell frame; its yaw"});
  q_ = declaration.AddState({.name = "q",
                             .shape = {total_dof_},
                             .unit = "rad",
                             .kind = FieldKind::kContinuous,
                             .doc = "joint positions, all robots"});
  qd_ = declaration.AddState({.name = "qd",
                              .shape = {total_dof_},
                              .unit = "rad/s",
                              .kind = FieldKind::kContinuous,
                              .doc = "joint velocities"});
  tau_ = declaration.AddState({.name = "tau",
                               .shape = {total_dof_},
                               .unit = "N m",
                               .kind = FieldKind::kOutput,
                               .doc = "drive torques"});
  from_ = declaration.AddState({.name = "move_from",
                                .shape = {total_dof_},
                                .unit = "rad",
                                .kind = FieldKind::kDiscrete,
                                .doc = "start of the current move"});
  to_ = declaration.AddState({.name = "move_to",
                              .shape = {total_dof_},
                              .unit = "rad",
                              .kind = FieldKind::kDiscrete,
                              .doc = "end of the current move"});
  robot_ = declaration.AddState({.name = "robot",
                                 .shape = {R, kRobotSlots},
                                 .unit = "1",
                                 .kind = FieldKind::kDiscrete,
                                 .doc = "per robot: path time, profile, override, dwell, derate, "
                                        "tip wear, busy time, energy, weld error"});
  robot_state_ = declaration.AddState({.name = "robot_state",
                                       .dtype = DType::kInt64,
                                       .shape = {R, kStateSlots},
                                       .unit = "1",
                                       .kind = FieldKind::kDiscrete,
                                       .doc = "per robot: step, phase, zone held, segment zone, "
                                              "faulted, program, weld/grip ok, holding a part"});
  cell_ = declaration.AddState({.name = "cell",
                                .shape = {kCellSlots},
                                .unit = "1",
                                .kind = FieldKind::kDiscrete,
                                .doc = "body position, conveyor speed, timers, energy, totals"});
  counts_ = declaration.AddState({.name = "counts",
                                  .dtype = DType::kInt64,
                                  .shape = {kCellCounts},
                                  .unit = "1",
                                  .kind = FieldKind::kDiscrete,
                                  .doc = "station phase, bodies, welds, collisions, safety state"});
  collision_events_ =
      declaration.AddState({.name = "collision_events",
                            .dtype = DType::kInt64,
                            .unit = "1",
                            .kind = FieldKind::kDiscrete,
                            .doc = "collision events so far (each one is also a simulation "
                                   "event naming the robot and what it hit)"});
  zone_owner_ = declaration.AddState({.name = "zone_owner",
                                      .dtype = DType::kInt64,
                                      .shape = {zones},
                                      .unit = "1",
                                      .kind = FieldKind::kDiscrete,
                                      .doc = "robot holding each shared zone (-1: free)"});
  visitor_ = declaration.AddState({.name = "visitor_distance_m",
                                   .unit = "m",
                                   .kind = FieldKind::kOutput,
                                   .doc = "distance of the nearest person or AGV from the "
                                          "protective zone, as the scanners see it (inf: none)",
                                   .checked = false});
  agv_ = declaration.AddState({.name = "agv",
                               .shape = {kAgvSlots},
                               .unit = "1",
                               .kind = FieldKind::kDiscrete,
                               .doc = "AGV x [m], y [m], heading [rad], timer [s], mode, buffer "
                                      "parts, delivered, consumed, starved time [s], broken"});
  if (!native()) {
    declaration.UseAux();
    body_rigid_ = declaration.AddState(
        {.name = "body_rigid",
         .shape = {kRigidSlots},
         .unit = "1",
         .kind = FieldKind::kContinuous,
         .doc = "car body as a Bullet rigid body: centre x, y, z [m], orientation quaternion x, y, "
                "z, w, velocity [m/s], angular velocity [rad/s], cell frame"});
    if (part_rows_ > 0)
      parts_ = declaration.AddState(
          {.name = "parts",
           .shape = {part_rows_, kPartSlots},
           .unit = "1",
           .kind = FieldKind::kContinuous,
           .doc = "part bodies (per assembly robot: one per spot, then the part in hand): mode "
                  "(0 absent, 1 in the buffer, 2 held, 3 on the car body), rigid-body state as "
                  "body_rigid, pose in the car body's frame (x, y, z [m], quaternion)"});
  }
  declaration.AddCommand(
      {.verb = "speed_override",
       .args = {{.name = "value", .unit = "1", .lower = 0, .upper = 1, .default_value = 1}},
       .doc = "speed override of every robot"});
  declaration.AddCommand({.verb = "select_program",
                          .args = {{.name = "robot", .unit = "1", .lower = 0, .upper = R - 1.0},
                                   {.name = "program",
                                    .unit = "1",
                                    .lower = 0,
                                    .upper = 1,
                                    .default_value = 1,
                                    .doc = "0 idle at home, 1 weld program"}},
                          .doc = "program of one robot, from the next body on"});
  declaration.AddCommand({.verb = "conveyor_speed",
                          .args = {{.name = "speed_m_per_s",
                                    .unit = "m/s",
                                    .lower = 0,
                                    .upper = 5,
                                    .default_value = config_.conveyor_speed_m_per_s}},
                          .doc = "conveyor belt speed"});
  declaration.AddCommand(
      {.verb = "release", .doc = "unclamp and release the body now (robots abort to home)"});
  std::vector<ArgDesc> joint_args = {{.name = "robot", .unit = "1", .lower = 0, .upper = R - 1.0}};
  for (int i = 0; i < 6; ++i)
    joint_args.push_back({.name = "q" + std::to_string(i + 1),
                          .unit = "rad",
                          .lower = -7,
                          .upper = 7,
                          .doc = "joint target (joints beyond the arm's are ignored)"});
  declaration.AddCommand({.verb = "move_joints",
                          .args = joint_args,
                          .doc = "external control: joint move of a robot whose program is 0 "
                                 "(targets clamped to the joint limits)"});
  declaration.AddCommand(
      {.verb = "move_tcp",
       .args = {{.name = "robot", .unit = "1", .lower = 0, .upper = R - 1.0},
                {.name = "x", .unit = "m", .lower = -50, .upper = 50},
                {.name = "y", .unit = "m", .lower = -50, .upper = 50},
                {.name = "z", .unit = "m", .lower = -50, .upper = 50},
                {.name = "rx", .unit = "rad", .lower = -4, .upper = 4},
                {.name = "ry", .unit = "rad", .lower = -4, .upper = 4},
                {.name = "rz", .unit = "rad", .lower = -4, .upper = 4}},
       .doc = "external control: move the TCP of a robot whose program is 0 to a cell-frame pose "
              "(rotation vector); unreachable targets are rejected and counted"});
  declaration.AddCommand(
      {.verb = "clamp_mode",
       .args = {{.name = "manual",
                 .unit = "1",
                 .lower = 0,
                 .upper = 1,
                 .default_value = 1,
                 .doc = "1: an arriving body waits unclamped until `clamp`, and a processed body "
                        "stays clamped until clamp(0) or release; 0: automatic"}},
       .doc = "manual or automatic station clamping"});
  declaration.AddCommand({.verb = "clamp",
                          .args = {{.name = "engage",
                                    .unit = "1",
                                    .lower = 0,
                                    .upper = 1,
                                    .default_value = 1,
                                    .doc = "1 clamp the body at the station, 0 open the clamp "
                                           "once the robots are done"}},
                          .doc = "station clamp (manual clamping)"});
  declaration.AddCommand(
      {.verb = "agv_goal",
       .args = {{.name = "x_m", .unit = "m", .lower = -100, .upper = 100},
                {.name = "y_m", .unit = "m", .lower = -100, .upper = 100}},
       .doc = "the AGV leaves its shuttle, drives to (x, y) in the cell frame and waits there "
              "(rejected and counted without an AGV)"});
  declaration.AddCommand(
      {.verb = "agv_auto",
       .doc = "the AGV resumes its shuttle where it left off (a load or unload in progress "
              "restarts at its station)"});
  declaration.AddFault({.name = "encoder_failure",
                        .params = {{.name = "robot", .unit = "1", .lower = 0, .upper = R - 1.0}},
                        .doc = "a joint encoder of the robot fails: category 0 stop, robot out"});
  declaration.AddFault({.name = "overheat",
                        .params = {{.name = "robot", .unit = "1", .lower = 0, .upper = R - 1.0},
                                   {.name = "derate",
                                    .unit = "1",
                                    .lower = 0.05,
                                    .upper = 1,
                                    .default_value = 0.5,
                                    .doc = "fraction of speed and torque left"}},
                        .doc = "motor overheat: speed and torque derated"});
  declaration.AddFault({.name = "tip_wear",
                        .params = {{.name = "robot", .unit = "1", .lower = 0, .upper = R - 1.0},
                                   {.name = "wear_per_weld_m",
                                    .unit = "m",
                                    .lower = 0,
                                    .upper = 0.01,
                                    .default_value = 5e-5}},
                        .doc = "weld-gun electrode tips wear: the tip shortens with every weld"});
  declaration.AddFault({.name = "conveyor_jam", .doc = "the conveyor stops"});
  declaration.AddFault({.name = "agv_breakdown", .doc = "the part-supply AGV stops where it is"});
  declaration.AddKpi({.name = "bodies_completed",
                      .unit = "1",
                      .across_worlds = KpiAggregation::kSum,
                      .doc = "car bodies released"});
  declaration.AddKpi({.name = "cycle_time_s", .unit = "s", .doc = "mean time between releases"});
  declaration.AddKpi({.name = "jobs_per_hour", .unit = "1/h", .doc = "bodies per hour"});
  declaration.AddKpi(
      {.name = "welds", .unit = "1", .across_worlds = KpiAggregation::kSum, .doc = "welds made"});
  declaration.AddKpi({.name = "weld_quality_rate",
                      .unit = "1",
                      .doc = "share of welds within tolerance for the whole weld time"});
  declaration.AddKpi({.name = "missed_welds",
                      .unit = "1",
                      .across_worlds = KpiAggregation::kSum,
                      .doc = "programmed welds not made (faulted or idle robots, early release)"});
  declaration.AddKpi(
      {.name = "utilization", .unit = "1", .doc = "mean share of time the robots move or weld"});
  declaration.AddKpi({.name = "energy_J", .unit = "J", .doc = "electrical energy drawn"});
  declaration.AddKpi({.name = "energy_per_body_J", .unit = "J", .doc = "energy per body released"});
  declaration.AddKpi({.name = "collisions",
                      .unit = "1",
                      .across_worlds = KpiAggregation::kSum,
                      .doc = "collision events (arm-arm, arm-body, arm-fixture, AGV-fixture)"});
  declaration.AddKpi({.name = "safety_stop_s", .unit = "s", .doc = "time under a safety stop"});
  declaration.AddKpi({.name = "interlock_wait_s",
                      .unit = "s",
                      .doc = "robot time spent waiting for a shared zone"});
  declaration.AddKpi({.name = "rejected_targets",
                      .unit = "1",
                      .across_worlds = KpiAggregation::kSum,
                      .doc = "external move commands rejected (robot busy or pose unreachable)"});
  declaration.AddKpi({.name = "parts_delivered",
                      .unit = "1",
                      .across_worlds = KpiAggregation::kSum,
                      .doc = "parts the AGV delivered"});
  declaration.AddKpi({.name = "starved_s",
                      .unit = "s",
                      .doc = "time a clamped body or an assembly robot waited for a part "
                             "(empty buffer)"});
  declaration.AddKpi({.name = "parts_placed",
                      .unit = "1",
                      .across_worlds = KpiAggregation::kSum,
                      .doc = "parts an assembly robot placed within grip_tolerance_m"});
  declaration.AddKpi({.name = "assembly_quality_rate",
                      .unit = "1",
                      .doc = "share of programmed placements made within tolerance"});
  declaration.AddKpi({.name = "failed_picks",
                      .unit = "1",
                      .across_worlds = KpiAggregation::kSum,
                      .doc = "picks outside grip_tolerance_m (the part stayed in the buffer)"});
  declaration.AddKpi(
      {.name = "fixture_collisions",
       .unit = "1",
       .across_worlds = KpiAggregation::kSum,
       .doc = "collision events of an arm, a tool or the AGV against a fixture (clamp posts, "
              "`fixtures`; also counted in collisions)"});
}

std::unique_ptr<WorldAux> RobotCellBlock::CreateAux(int) const {
  return std::make_unique<CellBulletWorld>(config_);
}

void RobotCellBlock::WriteBodyPose(BlockIo& io) const {
  if (native()) {
    CellWriteBodyPose(*params_, WorldView(io));
    return;
  }
  const double* body = io.Field(body_rigid_);
  io.Out(out_body_pose_[0])[0] = body[kRigidX];
  io.Out(out_body_pose_[1])[0] = body[kRigidY];
  io.Out(out_body_pose_[2])[0] = body[kRigidZ];
  io.Out(out_body_pose_[3])[0] = CellBodyYaw(body);
}

void RobotCellBlock::InitWorld(const TickInfo&, BlockIo& io) const {
  auto* aux = native() ? nullptr : static_cast<CellBulletWorld*>(io.Aux());
  double* q = io.Field(q_);
  double* qd = io.Field(qd_);
  double* from = io.Field(from_);
  double* to = io.Field(to_);
  for (size_t r = 0; r < config_.robots.size(); ++r) {
    const Robot& robot = config_.robots[r];
    if (aux != nullptr) aux->SetArmState(static_cast<int>(r), robot.home, ArmVector::Zero());
    for (int i = 0; i < robot.arm.dof; ++i) qd[dof_offset_[r] + i] = 0.0;
    for (int i = 0; i < robot.arm.dof; ++i)
      q[dof_offset_[r] + i] = from[dof_offset_[r] + i] = to[dof_offset_[r] + i] = robot.home(i);
    double* rf = io.Field(robot_) + r * kRobotSlots;
    int64_t* st = io.Field<int64_t>(robot_state_) + r * kStateSlots;
    rf[kOverride] = 1.0;
    rf[kDerate] = 1.0;
    st[kPhase] = kDone;
    st[kZoneHeld] = -1;
    st[kSegmentZone] = -1;
    st[kProgram] = 1;
  }
  double* cell = io.Field(cell_);
  cell[kBodyX] = -config_.conveyor_length_m;
  cell[kConveyorSpeed] = config_.conveyor_speed_m_per_s;
  cell[kUserOverride] = 1.0;
  if (aux != nullptr)
    CellBodyAtRest(config_, cell[kBodyX], cell[kConveyorSpeed], io.Field(body_rigid_));
  if (parts_ != kInvalidField)
    for (int row = 0; row < part_rows_; ++row) ParkPart(io.Field(parts_) + row * kPartSlots);
  int64_t* zone_owner = io.Field<int64_t>(zone_owner_);
  for (int z = 0; z < std::max<int>(1, static_cast<int>(config_.zones.size())); ++z)
    zone_owner[z] = -1;
  double* agv = io.Field(agv_);
  agv[kAgvX] = config_.agv_dropoff_xy[0];
  agv[kAgvY] = config_.agv_dropoff_xy[1];
  io.Field(visitor_)[0] =
      config_.agv_enabled && config_.agv_triggers_safety
          ? std::min(VisitorDistance(0.0), AgvZoneDistance(agv[kAgvX], agv[kAgvY]))
          : VisitorDistance(0.0);
  agv[kAgvMode] = static_cast<double>(kWaiting);
  agv[kAgvBuffer] = config_.agv_enabled ? config_.buffer_initial : 0;
  WriteBodyPose(io);
}

CellWorld RobotCellBlock::WorldView(BlockIo& io) const {
  CellWorld w;
  w.q = io.Field(q_);
  w.qd = io.Field(qd_);
  w.tau = io.Field(tau_);
  w.move_from = io.Field(from_);
  w.move_to = io.Field(to_);
  w.robot = io.Field(robot_);
  w.robot_state = io.Field<int64_t>(robot_state_);
  w.cell = io.Field(cell_);
  w.counts = io.Field<int64_t>(counts_);
  w.collision_events = io.Field<int64_t>(collision_events_);
  w.zone_owner = io.Field<int64_t>(zone_owner_);
  w.visitor = io.Field(visitor_);
  w.agv = io.Field(agv_);
  w.power_W = io.Out(out_power_);
  for (int k = 0; k < 4; ++k) w.body_pose[k] = io.Out(out_body_pose_[k]);
  return w;
}

void RobotCellBlock::Update(const TickInfo& tick, BlockIo& io) const {
  const CellWorld w = WorldView(io);
  const double dt = tick.period_s;
  if (native()) {
    CellWorldStepNative(*params_, tick.tick, tick.time_s, dt, w);
    return;
  }
  // Bullet physics: the per-world Bullet world holds the joint state and the car body of
  // record; the HD phases work on the q/qd fields, which are copied from it before each phase.
  auto* aux = static_cast<CellBulletWorld*>(io.Aux());
  const int R = params_->num_robots;
  auto pull_state = [&]() {
    for (int r = 0; r < R; ++r) {
      const int n = params_->robots[r].arm.dof, off = params_->robots[r].dof_offset;
      ArmVector q, qd;
      aux->GetArmState(r, &q, &qd);
      for (int i = 0; i < n; ++i) w.q[off + i] = q(i), w.qd[off + i] = qd(i);
    }
  };
  CellBulletInputs bullet;  // this tick's inputs to the rigid bodies
  for (int k = 0; k < 3; ++k) bullet.agv_before[k] = w.agv[kCellAgvX + k];
  pull_state();
  const int64_t phase_before = w.counts[kCellStationPhase];
  CellScratch scratch;
  CellPhaseA(*params_, tick.time_s, dt, w, &scratch);
  double* body = io.Field(body_rigid_);
  const double belt = w.counts[kCellJam] != 0 ? 0.0 : w.cell[kCellConveyorSpeed];
  // A body that left at the exit is handed over at the entry, resting on the belt at its speed.
  const bool body_left =
      phase_before == kCellLeaving && w.counts[kCellStationPhase] == kCellArriving;
  double* parts = parts_ != kInvalidField ? io.Field(parts_) : nullptr;
  // Parts: reserved in the buffer, grasped, placed onto the body (before it is handed over).
  if (parts != nullptr) UpdateParts(w, body_left, body, parts);
  if (body_left) CellBodyAtRest(config_, w.cell[kCellBodyX], belt, body);
  for (int r = 0; r < R; ++r) {
    // Bullet has no joint friction: the plant's friction is an explicit opposing torque.
    const CellRobotParams& robot = params_->robots[r];
    ArmVector applied = scratch.drive[r];
    for (int i = 0; i < robot.arm.dof; ++i)
      applied(i) -= ArmFriction(robot.arm, i, w.qd[robot.dof_offset + i]);
    if (w.robot_state[r * kCellStateSlots + kCellHolding] == 1 && robot.part_mass_kg > 0) {
      // The multibody's links do not include the part: its weight acts through the tool
      // Jacobian (a point mass; its inertia is left out on this path).
      ArmVector q = ArmVector::Zero();
      for (int i = 0; i < robot.arm.dof; ++i) q(i) = w.q[robot.dof_offset + i];
      const ArmJacobian J = ArmToolJacobian(robot.arm, q);
      applied += J.topRows<3>().transpose() * (robot.part_mass_kg * robot.gravity_base);
    }
    aux->SetArmTorques(r, applied);
  }
  // One step of the whole Bullet world: arms, belts, clamp, car body, AGV.
  const int64_t station = w.counts[kCellStationPhase];
  bullet.belt_speed_m_per_s = (station == kCellArriving || station == kCellLeaving) ? belt : 0.0;
  bullet.clamp = station == kCellClamping || station == kCellProcessing;
  for (int k = 0; k < 3; ++k) bullet.agv_after[k] = w.agv[kCellAgvX + k];
  aux->Step(dt, bullet, body, parts);
  w.cell[kCellBodyX] = body[kRigidX];
  pull_state();
  if (parts != nullptr) PartsFollowGrippers(w, parts);
  CellPhaseB(*params_, tick.tick, dt, w, scratch);
  WriteBodyPose(io);  // the rigid body's pose (phase B wrote the kinematic one)
}

void RobotCellBlock::UpdateParts(const CellWorld& w, bool body_left, const double* body,
                                 double* parts) const {
  // The body has left the line: its parts go with it.
  if (body_left)
    for (int row = 0; row < part_rows_; ++row)
      if (parts[row * kPartSlots + kPartMode] == kPartOnBody) ParkPart(parts + row * kPartSlots);
  for (size_t r = 0; r < config_.robots.size(); ++r) {
    const int hand = hand_part_row(static_cast<int>(r));
    if (hand < 0) continue;
    const Robot& robot = config_.robots[r];
    const int64_t* st = w.robot_state + r * kStateSlots;
    double* part = parts + hand * kPartSlots;
    const double mode = part[kPartMode];
    if (st[kHolding] == 2 && mode != kPartInBuffer) {
      // Reserved: the part lies in the buffer at the pick pose, at rest.
      ParkPart(part);
      SetRigid(robot.base * robot.spot_tcp.back(), Eigen::Vector3d::Zero(), Eigen::Vector3d::Zero(),
               part + kPartRigid);
      part[kPartMode] = kPartInBuffer;
    } else if (st[kHolding] == 1) {
      part[kPartMode] = kPartHeld;  // grasped: it follows the TCP from this step on
    } else if (st[kHolding] == 0 && mode == kPartHeld) {
      // Just opened the gripper at a place step (the step before the current one): within
      // tolerance the part is fixed to the car body where it is; otherwise it is scrap.
      const int place_step = static_cast<int>(st[kStep]) - 1;
      const int spot = place_step >= 0 && place_step < static_cast<int>(robot.program_spot.size())
                           ? robot.program_spot[static_cast<size_t>(place_step)]
                           : -1;
      if (st[kWeldOk] != 0 && spot >= 0 && spot < static_cast<int>(robot.spots.size())) {
        double* placed = parts + (part_first_row_[r] + spot) * kPartSlots;
        std::copy(part, part + kPartSlots, placed);
        placed[kPartMode] = kPartOnBody;
        const ArmPose in_body = RigidPose(body).Inverse() * RigidPose(part + kPartRigid);
        const Eigen::Quaterniond q(in_body.R);
        double* a = placed + kPartAttach;
        a[0] = in_body.p.x(), a[1] = in_body.p.y(), a[2] = in_body.p.z();
        a[3] = q.x(), a[4] = q.y(), a[5] = q.z(), a[6] = q.w();
      }
      ParkPart(part);
    }
  }
}

void RobotCellBlock::PartsFollowGrippers(const CellWorld& w, double* parts) const {
  for (size_t r = 0; r < config_.robots.size(); ++r) {
    const int hand = hand_part_row(static_cast<int>(r));
    if (hand < 0 || parts[hand * kPartSlots + kPartMode] != kPartHeld) continue;
    const Robot& robot = config_.robots[r];
    const int off = dof_offset_[r];
    ArmVector q = ArmVector::Zero(), qd = ArmVector::Zero();
    for (int i = 0; i < robot.arm.dof; ++i) q(i) = w.q[off + i], qd(i) = w.qd[off + i];
    // The part's centre sits at the TCP, turned with it; its velocity is the TCP's twist.
    const ArmPose tcp = robot.base * ArmToolPose(robot.arm, q);
    const Eigen::Matrix<double, 6, 1> twist = ArmToolJacobian(robot.arm, q) * qd;
    SetRigid(tcp, robot.base.R * twist.head<3>(), robot.base.R * twist.tail<3>(),
             parts + hand * kPartSlots + kPartRigid);
  }
}

namespace {

// The cell description in executor memory.
class CellDeviceData final : public DeviceBlockData {
 public:
  CellDeviceData(gpu::Executor& executor, const CellParams& params)
      : params(gpu::DeviceArray<CellParams>::FromHost(executor, &params, 1)) {}
  gpu::DeviceArray<CellParams> params;
};

}  // namespace

std::unique_ptr<DeviceBlockData> RobotCellBlock::CreateDeviceData(gpu::Executor& executor) const {
  return std::make_unique<CellDeviceData>(executor, *params_);
}

void RobotCellBlock::UpdateDevice(const TickInfo& tick, const DeviceState& state,
                                  const BlockBinding& binding, const DeviceBlockData* data) const {
  RobotCellDeviceArgs a;
  a.params = static_cast<const CellDeviceData*>(data)->params.data();
  a.tick = tick.tick;
  a.time_s = tick.time_s;
  a.period_s = tick.period_s;
  a.q = state.Field<double>(q_);
  a.qd = state.Field<double>(qd_);
  a.tau = state.Field<double>(tau_);
  a.move_from = state.Field<double>(from_);
  a.move_to = state.Field<double>(to_);
  a.robot = state.Field<double>(robot_);
  a.cell = state.Field<double>(cell_);
  a.visitor = state.Field<double>(visitor_);
  a.agv = state.Field<double>(agv_);
  a.power_W = state.Output(binding, out_power_);
  for (int k = 0; k < 4; ++k) a.body_pose[k] = state.Output(binding, out_body_pose_[k]);
  a.robot_state = state.Field<int64_t>(robot_state_);
  a.counts = state.Field<int64_t>(counts_);
  a.collision_events = state.Field<int64_t>(collision_events_);
  a.zone_owner = state.Field<int64_t>(zone_owner_);
  RobotCellOnDevice(state.executor(), state.num_worlds(), a);
}

void RobotCellBlock::ApplyCommand(const TickInfo&, BlockIo& io, int command,
                                  std::span<const double> args) const {
  double* cell = io.Field(cell_);
  switch (command) {
    case 0:
      cell[kUserOverride] = args[0];
      break;
    case 1:
      io.Field<int64_t>(robot_state_)[static_cast<int>(args[0]) * kStateSlots + kProgram] =
          static_cast<int64_t>(args[1]);
      break;
    case 2:
      cell[kConveyorSpeed] = args[0];
      break;
    case 3: {
      int64_t* counts = io.Field<int64_t>(counts_);
      if (counts[kStationPhase] == kProcessing || counts[kStationPhase] == kClamping) {
        for (size_t r = 0; r < config_.robots.size(); ++r) {
          int64_t* st = io.Field<int64_t>(robot_state_) + r * kStateSlots;
          const Robot& robot = config_.robots[r];
          if (counts[kStationPhase] == kProcessing && st[kPhase] == kDone) continue;
          for (size_t k = counts[kStationPhase] == kProcessing ? static_cast<size_t>(st[kStep]) : 0;
               k < robot.program_weld.size(); ++k) {
            counts[kMissedWelds] += robot.program_weld[k];
            counts[kPartsMissed] += robot.program_grip[k] == 2 ? 1 : 0;
          }
        }
        counts[kStationPhase] = kUnclamping;
        counts[kClampRequest] = 0;
        cell[kStationTimer] = 0.0;
        // Robots still in their program abort and return home (the last program step).
        for (size_t r = 0; r < config_.robots.size(); ++r) {
          int64_t* st = io.Field<int64_t>(robot_state_) + r * kStateSlots;
          if (st[kFaulted] != 0 || st[kPhase] == kDone || st[kPhase] == kExternal) continue;
          const Robot& robot = config_.robots[r];
          int64_t* zone_owner = io.Field<int64_t>(zone_owner_);
          if (st[kZoneHeld] >= 0 && zone_owner[st[kZoneHeld]] == static_cast<int64_t>(r))
            zone_owner[st[kZoneHeld]] = -1;
          st[kZoneHeld] = -1;
          st[kSegmentZone] = -1;
          st[kStep] = static_cast<int64_t>(robot.program.size()) - 1;
          // A part reserved but not yet grasped goes back to the buffer; a grasped part stays
          // in the gripper for the next body.
          if (st[kHolding] == 2) {
            if (config_.agv_enabled) io.Field(agv_)[kAgvBuffer] += 1.0;
            st[kHolding] = 0;
          }
          CellStartMoveFromReference(*params_, static_cast<int>(r), WorldView(io), robot.home);
          st[kPhase] = kMoving;
        }
      }
      break;
    }
    case 4:
    case 5: {
      const int r = static_cast<int>(args[0]);
      const Robot& robot = config_.robots[static_cast<size_t>(r)];
      int64_t* st = io.Field<int64_t>(robot_state_) + r * kStateSlots;
      if (st[kProgram] != 0 || st[kFaulted] != 0 ||
          !(st[kPhase] == kDone || st[kPhase] == kExternal)) {
        ++io.Field<int64_t>(counts_)[kRejectedTargets];
        break;
      }
      const int off = dof_offset_[static_cast<size_t>(r)];
      ArmVector goal = ArmVector::Zero();
      for (int i = 0; i < robot.arm.dof; ++i) goal(i) = io.Field(to_)[off + i];
      if (command == 4) {
        for (int i = 0; i < robot.arm.dof && i < 6; ++i) goal(i) = args[static_cast<size_t>(1 + i)];
      } else {
        ArmPose target;
        const Eigen::Vector3d rotation(args[4], args[5], args[6]);
        const double angle = rotation.norm();
        target.R =
            angle > 0 ? ArmAxisRotation(rotation / angle, angle) : Eigen::Matrix3d::Identity();
        target.p = Eigen::Vector3d(args[1], args[2], args[3]);
        ArmIkOptions ik;
        ik.max_iterations = 500;
        if (!ArmInverseKinematics(robot.arm, robot.base.Inverse() * target, robot.home, &goal, ik)
                 .converged) {
          ++io.Field<int64_t>(counts_)[kRejectedTargets];
          break;
        }
      }
      CellStartMoveFromReference(*params_, r, WorldView(io), goal);
      st[kPhase] = kExternal;
      break;
    }
    case 6:
      io.Field<int64_t>(counts_)[kClampManual] = args[0] != 0 ? 1 : 0;
      break;
    case 7:
      io.Field<int64_t>(counts_)[kClampRequest] = args[0] != 0 ? 1 : 0;
      break;
    case 8:
    case 9: {
      double* agv = io.Field(agv_);
      if (!config_.agv_enabled) {
        ++io.Field<int64_t>(counts_)[kRejectedTargets];
        break;
      }
      if (command == 8) {
        agv[kAgvManual] = 1.0;
        agv[kAgvGoalX] = args[0];
        agv[kAgvGoalY] = args[1];
      } else if (agv[kAgvManual] != 0) {
        // Back to the shuttle where it left off: a load or unload in progress restarts once the
        // AGV is back at its station (parts change hands only when it completes).
        agv[kAgvManual] = 0.0;
        if (agv[kAgvMode] == static_cast<double>(kLoading)) agv[kAgvMode] = kToPickup;
        if (agv[kAgvMode] == static_cast<double>(kUnloading)) agv[kAgvMode] = kToDropoff;
        agv[kAgvTimer] = 0.0;
      }
      break;
    }
    default:
      break;
  }
}

void RobotCellBlock::ApplyFault(const TickInfo&, BlockIo& io, int fault,
                                std::span<const double> params, bool active) const {
  int64_t* counts = io.Field<int64_t>(counts_);
  if (fault == 3) {
    counts[kJam] = active ? 1 : 0;
    return;
  }
  if (fault == 4) {
    io.Field(agv_)[kAgvBroken] = active ? 1.0 : 0.0;
    return;
  }
  const int r = static_cast<int>(params[0]);
  double* rf = io.Field(robot_) + r * kRobotSlots;
  int64_t* st = io.Field<int64_t>(robot_state_) + r * kStateSlots;
  switch (fault) {
    case 0:
      st[kFaulted] = active ? 1 : 0;
      if (active && st[kZoneHeld] >= 0) {
        int64_t* zone_owner = io.Field<int64_t>(zone_owner_);
        if (zone_owner[st[kZoneHeld]] == r) zone_owner[st[kZoneHeld]] = -1;
        st[kZoneHeld] = -1;
      }
      break;
    case 1:
      rf[kDerate] = active ? params[1] : 1.0;
      break;
    case 2:
      rf[kWearRateM] = active ? params[1] : 0.0;
      break;
    default:
      break;
  }
}

void RobotCellBlock::DescribeEvent(const BlockIo& io, int64_t new_events, std::string* kind,
                                   std::string* text) const {
  const int64_t* counts = io.Field<int64_t>(counts_);
  const int64_t robot = counts[kLastCollisionRobot];
  const int64_t index = counts[kLastCollisionIndex];
  auto robot_name = [&](int64_t r) {
    return r >= 0 && r < static_cast<int64_t>(config_.robots.size())
               ? "robot '" + config_.robots[static_cast<size_t>(r)].name + "'"
               : std::string("a robot");
  };
  auto fixture_name = [&](int64_t f) {
    return f >= 0 && f < static_cast<int64_t>(config_.fixtures.size())
               ? "fixture '" + config_.fixtures[static_cast<size_t>(f)].name + "'"
               : std::string("a fixture");
  };
  *kind = "collision";
  switch (counts[kLastCollisionKind]) {
    case kHitRobot:
      *text = robot_name(robot) + " hit " + robot_name(index);
      break;
    case kHitBody:
      *text = robot_name(robot) + " hit the car body";
      break;
    case kHitFixture:
      *text = robot_name(robot) + " hit " + fixture_name(index);
      break;
    case kHitAgv:
      *text = "the AGV hit " + fixture_name(index);
      break;
    default:
      *text = "collision";
  }
  *text += " (check at tick " + std::to_string(counts[kLastCollisionTick]) + ")";
  if (new_events > 1)
    *text += "; " + std::to_string(new_events - 1) + " earlier collision(s) since the last tick";
}

void RobotCellBlock::ComputeKpis(const TickInfo&, const BlockIo& io, std::span<double> kpis) const {
  const double* cell = io.Field(cell_);
  const int64_t* counts = io.Field<int64_t>(counts_);
  const double elapsed = cell[kElapsedS];
  const double bodies = static_cast<double>(counts[kBodies]);
  double busy = 0;
  for (size_t r = 0; r < config_.robots.size(); ++r)
    busy += io.Field(robot_)[r * kRobotSlots + kBusyS];
  kpis[0] = bodies;
  kpis[1] = counts[kCycles] > 0 ? cell[kCycleSumS] / static_cast<double>(counts[kCycles]) : 0.0;
  kpis[2] = elapsed > 0 ? bodies / (elapsed / 3600.0) : 0.0;
  kpis[3] = static_cast<double>(counts[kWelds]);
  kpis[4] = counts[kWelds] > 0
                ? static_cast<double>(counts[kGoodWelds]) / static_cast<double>(counts[kWelds])
                : 0.0;
  kpis[5] = static_cast<double>(counts[kMissedWelds]);
  kpis[6] = elapsed > 0 ? busy / (elapsed * static_cast<double>(config_.robots.size())) : 0.0;
  kpis[7] = cell[kEnergyJ_];
  kpis[8] = bodies > 0 ? cell[kEnergyJ_] / bodies : 0.0;
  kpis[9] = static_cast<double>(counts[kCollisions]);
  kpis[10] = cell[kSafetyStopS];
  kpis[11] = cell[kInterlockWaitS];
  kpis[12] = static_cast<double>(counts[kRejectedTargets]);
  const double* agv = io.Field(agv_);
  kpis[13] = agv[kAgvDelivered];
  kpis[14] = agv[kAgvStarvedS];
  kpis[15] = static_cast<double>(counts[kPartsPlaced]);
  const int64_t attempts = counts[kPartsPlaced] + counts[kPartsMissed];
  kpis[16] = attempts > 0
                 ? static_cast<double>(counts[kPartsPlaced]) / static_cast<double>(attempts)
                 : 0.0;
  kpis[17] = static_cast<double>(counts[kFailedPicks]);
  kpis[18] = static_cast<double>(counts[kFixtureCollisions]);
}

void RegisterRobotCellBlock(BlockRegistry& registry) {
  registry.Register("robot_cell",
                    "spot-welding cell: conveyor, URDF arms as Bullet multibodies, weld programs, "
                    "interlocks, safety stops, drive power",
                    RobotCellBlock::FromParams);
}

namespace {

// A cylinder of radius r from a to b (Foxglove cylinders stand along their local z axis).
ScenePrimitive Segment(const Eigen::Vector3d& a, const Eigen::Vector3d& b, double r,
                       const std::array<double, 4>& color) {
  ScenePrimitive cylinder;
  cylinder.kind = ScenePrimitive::Kind::kCylinder;
  const Eigen::Vector3d mid = 0.5 * (a + b), axis = b - a;
  const double length = axis.norm();
  const Eigen::Quaterniond q =
      length > 1e-12 ? Eigen::Quaterniond::FromTwoVectors(Eigen::Vector3d::UnitZ(), axis)
                     : Eigen::Quaterniond::Identity();
  cylinder.position = {mid.x(), mid.y(), mid.z()};
  cylinder.orientation = {q.x(), q.y(), q.z(), q.w()};
  cylinder.size = {2 * r, 2 * r, length};
  cylinder.color = color;
  return cylinder;
}

ScenePrimitive Box(const Eigen::Vector3d& center, const Eigen::Vector3d& size,
                   const std::array<double, 4>& color) {
  ScenePrimitive cube;
  cube.position = {center.x(), center.y(), center.z()};
  cube.size = {size.x(), size.y(), size.z()};
  cube.color = color;
  return cube;
}

}  // namespace

void RobotCellBlock::DescribeScene(const TickInfo& tick, const BlockIo& io,
                                   SceneBuilder& scene) const {
  (void)tick;
  const std::array<double, 4> kRobotColor{1.0, 0.45, 0.0, 1.0}, kJointColor{0.2, 0.2, 0.2, 1.0};
  const double* q_all = io.Field<double>(q_);
  for (size_t r = 0; r < config_.robots.size(); ++r) {
    const Robot& robot = config_.robots[r];
    ArmVector q = ArmVector::Zero();
    for (int i = 0; i < robot.arm.dof; ++i) q(i) = q_all[dof_offset_[r] + i];
    ArmPose bodies[kArmMaxDof];
    ArmForwardKinematics(robot.arm, q, bodies);
    SceneEntity& entity = scene.Entity(robot.name);
    Eigen::Vector3d previous = robot.base.p;
    for (int i = 0; i < robot.arm.dof; ++i) {
      const Eigen::Vector3d joint = (robot.base * bodies[i]).p;
      entity.primitives.push_back(Segment(previous, joint, 0.5 * robot.link_radius_m, kRobotColor));
      ScenePrimitive sphere;
      sphere.kind = ScenePrimitive::Kind::kSphere;
      sphere.position = {joint.x(), joint.y(), joint.z()};
      sphere.size = {robot.link_radius_m * 1.2, robot.link_radius_m * 1.2,
                     robot.link_radius_m * 1.2};
      sphere.color = kJointColor;
      entity.primitives.push_back(sphere);
      previous = joint;
    }
    const Eigen::Vector3d tcp = (robot.base * ArmToolPose(robot.arm, q)).p;
    entity.primitives.push_back(Segment(previous, tcp, 0.3 * robot.link_radius_m, kJointColor));
    if (io.Field<int64_t>(robot_state_)[r * kStateSlots + kHolding] == 1 && part_first_row_[r] < 0)
      entity.primitives.push_back(
          Box(tcp, Eigen::Vector3d(0.2, 0.2, 0.1), {0.9, 0.8, 0.1, 1.0}));  // the carried part
  }
  if (config_.agv_enabled) {
    const double* agv = io.Field<double>(agv_);
    scene.Entity("agv").primitives.push_back(Box(Eigen::Vector3d(agv[kAgvX], agv[kAgvY], 0.2),
                                                 Eigen::Vector3d(1.2, 0.8, 0.4),
                                                 {0.2, 0.7, 0.3, 1.0}));
  }
  const double* cell = io.Field<double>(cell_);
  const Eigen::Vector3d body_center(cell[kBodyX], 0.0,
                                    config_.body_floor_m + 0.5 * config_.body_size_m.z());
  ScenePrimitive car = Box(body_center, config_.body_size_m, {0.75, 0.78, 0.82, 0.9});
  if (!native()) {
    // Bullet: the rigid body's pose (it may slip, drift and rock on the belt).
    const double* body = io.Field<double>(body_rigid_);
    car.position = {body[kRigidX], body[kRigidY], body[kRigidZ]};
    car.orientation = {body[kRigidQx], body[kRigidQy], body[kRigidQz], body[kRigidQw]};
  }
  scene.Entity("car_body").primitives.push_back(car);
  if (parts_ != kInvalidField) {
    // Bullet: the part bodies in the buffer, in the grippers and on the car body.
    SceneEntity& parts = scene.Entity("parts");
    for (size_t r = 0; r < config_.robots.size(); ++r) {
      if (part_first_row_[r] < 0) continue;
      const Robot& robot = config_.robots[r];
      for (size_t k = 0; k <= robot.spots.size(); ++k) {
        const double* part =
            io.Field<double>(parts_) + (part_first_row_[r] + static_cast<int>(k)) * kPartSlots;
        if (part[kPartMode] == kPartAbsent) continue;
        const double* rigid = part + kPartRigid;
        ScenePrimitive box = Box(Eigen::Vector3d(rigid[kRigidX], rigid[kRigidY], rigid[kRigidZ]),
                                 robot.part_size_m, {0.9, 0.8, 0.1, 1.0});
        box.orientation = {rigid[kRigidQx], rigid[kRigidQy], rigid[kRigidQz], rigid[kRigidQw]};
        parts.primitives.push_back(box);
      }
    }
  }
  SceneEntity& fixtures = scene.Entity("fixtures");
  for (const Fixture& fixture : config_.fixtures) {
    ScenePrimitive box = Box(fixture.center_m, fixture.size_m, {0.55, 0.55, 0.6, 1.0});
    box.orientation = {0.0, 0.0, std::sin(0.5 * fixture.yaw_rad), std::cos(0.5 * fixture.yaw_rad)};
    fixtures.primitives.push_back(box);
  }
  const double conveyor_length = config_.conveyor_length_m + config_.exit_length_m;
  scene.Entity("conveyor")
      .primitives.push_back(
          Box(Eigen::Vector3d(0.5 * (config_.exit_length_m - config_.conveyor_length_m), 0.0, 0.2),
              Eigen::Vector3d(conveyor_length, config_.body_size_m.y() * 0.8, 0.4),
              {0.25, 0.25, 0.3, 1.0}));
  const double visitor = io.Field<double>(visitor_)[0];
  if (std::isfinite(visitor) && visitor < 50.0) {
    ScenePrimitive person =
        Segment(Eigen::Vector3d(0.0, -visitor, 0.0), Eigen::Vector3d(0.0, -visitor, 1.8), 0.25,
                {0.1, 0.6, 1.0, 1.0});
    scene.Entity("visitor").primitives.push_back(person);
  }
}

}  // namespace ftwin
