// One tick of the robot cell for one world (host-device): the formulas of RobotCellBlock::Update
// over a plain parameter struct with fixed capacities (CellParams) and a per-world view of the
// block's fields (CellWorld). The CPU driver (RobotCellBlock::Update, both physics modes) and the
// device driver (RobotCellBlock::UpdateDevice, native physics) call the same functions, so the
// CPU path and the emulated device are bit-identical (docs/gpu.md).
//
// A tick is phase A (safety, conveyor and station, AGV, program state machines, reference and
// servo torque), the plant step (native: CellNativePhysics; bullet: the per-world Bullet world
// on the CPU), then phase B (export, drive power, weld checks, release, collision checks).
#pragma once

#include <cmath>
#include <cstdint>

#include "gpu/host_device.h"
#include "robots/agv_math.h"
#include "robots/arm_math.h"
#include "robots/arm_native.h"
#include "robots/trajectory_math.h"

namespace ftwin {

/// Capacities of the device-side cell description (checked when the scenario loads).
constexpr int kCellMaxRobots = 8;
constexpr int kCellMaxSpots = 16;  ///< weld or place spots per robot
/// home, the pick (approach, pose) of an assembly robot, (approach, spot) per spot
constexpr int kCellMaxWaypoints = 3 + 2 * kCellMaxSpots;
/// 3 steps per weld spot, 6 per placed part (pick and place), and the return home
constexpr int kCellMaxSteps = 6 * kCellMaxSpots + 1;
/// Static boxes of the scenario's `fixtures` list (part tables, fences, pedestals).
constexpr int kCellMaxFixtures = 16;
/// The station's two clamp posts, always fixtures 0 and 1 (right: y < 0, left: y > 0).
constexpr int kCellClampPosts = 2;
constexpr int kCellMaxBoxes = kCellClampPosts + kCellMaxFixtures;
/// The AGV's chassis, a box on the floor: length [m], height [m] and width beyond the wheel
/// track [m] (the Bullet body and the fixture check).
constexpr double kCellAgvLength = 1.0, kCellAgvHeight = 0.3, kCellAgvExtraWidth = 0.1;

// Slots of the per-robot float array "robot".
enum CellRobotSlot {
  kCellPathTime,
  kCellMoveDuration,
  kCellMoveAccelTime,
  kCellMovePeak,
  kCellMoveAccel,
  kCellOverride,
  kCellDwell,
  kCellDerate,
  kCellWearM,
  kCellWearRateM,
  kCellBusyS,
  kCellEnergyJ,
  kCellWeldErrorM,
  kCellMoveJerk,
  kCellMoveJerkTime,
  kCellRobotSlots
};
// Slots of the per-robot integer array "robot_state".
enum CellRobotState {
  kCellStep,
  kCellPhase,
  kCellZoneHeld,
  kCellSegmentZone,
  kCellFaulted,
  kCellProgram,
  kCellWeldOk,
  kCellHolding,  ///< assembly: 0 empty, 1 holding a part, 2 a buffer part reserved for this pick
  kCellStateSlots
};
enum CellRobotPhase {
  kCellIdle = 0,
  kCellMoving = 1,
  kCellWelding = 2,
  kCellDone = 3,
  kCellWaitZone = 4,
  kCellExternal = 5,
  kCellGripping = 6,  ///< closing (pick) or opening (place) the gripper at the pose
  kCellWaitPart = 7   ///< assembly robot above an empty buffer
};
// Cell floats.
enum CellFloatSlot {
  kCellBodyX,
  kCellConveyorSpeed,
  kCellStationTimer,
  kCellLastReleaseS,
  kCellCycleSumS,
  kCellTotalEnergyJ,
  kCellSafetyStopS,
  kCellUserOverride,
  kCellElapsedS,
  kCellInterlockWaitS,
  kCellStopElapsed,
  kCellFloatSlots
};
// Cell integers.
enum CellCountSlot {
  kCellStationPhase,
  kCellBodies,
  kCellWelds,
  kCellGoodWelds,
  kCellMissedWelds,
  kCellCollisions,
  kCellInCollision,
  kCellJam,
  kCellSafety,
  kCellCycles,
  kCellRejectedTargets,
  kCellPartsPlaced,         ///< parts placed within the grip tolerance
  kCellPartsMissed,         ///< place steps without a part or out of tolerance
  kCellFailedPicks,         ///< picks out of tolerance (the part stays in the buffer)
  kCellFixtureCollisions,   ///< collision events of an arm, a tool or the AGV against a fixture
  kCellLastCollisionTick,   ///< the last collision event: the tick of the check that found it,
  kCellLastCollisionRobot,  ///< the robot,
  kCellLastCollisionKind,   ///< what it hit (CellCollisionKind; 0 none yet),
  kCellLastCollisionIndex,  ///< and which: the other robot or the fixture (-1 for the body)
  kCellClampManual,         ///< 1: the station clamps and unclamps only on `clamp` commands
  kCellClampRequest,  ///< manual clamping: 1 after clamp(engage 1), 0 after clamp(0) or unclamping
  kCellCountSlots
};
/// What the last collision event was against (counts slot kCellLastCollisionKind).
enum CellCollisionKind {
  kCellHitNone = 0,
  kCellHitRobot = 1,    ///< another robot's arm or tool
  kCellHitBody = 2,     ///< the clamped car body
  kCellHitFixture = 3,  ///< a fixture (index: 0, 1 the clamp posts, then the `fixtures` list)
  kCellHitAgv = 4       ///< the AGV's chassis ran into a fixture (robot -1, index: the fixture)
};
enum CellStationPhase {
  kCellArriving = 0,
  kCellClamping = 1,
  kCellProcessing = 2,
  kCellUnclamping = 3,
  kCellLeaving = 4,
  kCellWaitClamp = 5  ///< manual clamping: the body stands at the station, unclamped
};
// AGV slots (float array "agv").
enum CellAgvSlot {
  kCellAgvX,
  kCellAgvY,
  kCellAgvHeading,
  kCellAgvTimer,
  kCellAgvMode,
  kCellAgvBuffer,
  kCellAgvDelivered,
  kCellAgvConsumed,
  kCellAgvStarvedS,
  kCellAgvBroken,
  kCellAgvManual,  ///< 1: driving to (or waiting at) the goal of an agv_goal command
  kCellAgvGoalX,   ///< that goal [m]
  kCellAgvGoalY,
  kCellAgvSlots
};
enum CellAgvMode {
  kCellAgvToPickup = 0,
  kCellAgvLoading = 1,
  kCellAgvToDropoff = 2,
  kCellAgvUnloading = 3,
  kCellAgvWaiting = 4
};

/// A static box of the cell (a fixture): centre [m] and half extents [m] in the cell frame,
/// turned by a yaw about +z (stored as its cosine and sine).
struct CellBox {
  double center[3] = {0, 0, 0};
  double half[3] = {0, 0, 0};
  double cos_yaw = 1.0, sin_yaw = 0.0;
};

/// One robot of the cell, flat (no heap): arm, base, limits, waypoints and weld program.
struct CellRobotParams {
  ArmModel arm;         ///< with the tool as payload and its TCP as tool frame
  ArmModel arm_loaded;  ///< assembly: the arm carrying a part (servo and native plant)
  int assembly = 0;
  double part_mass_kg = 0.0;
  ArmPose base;                                            ///< base in the cell frame
  Eigen::Vector3d gravity_base = Eigen::Vector3d::Zero();  ///< gravity in the base frame
  ArmVector home = ArmVector::Zero();
  double max_accel[kArmMaxDof] = {};
  double max_jerk[kArmMaxDof] = {};
  int jerk_limited = 0;
  double link_radius_m = 0.2;
  int dof_offset = 0;  ///< first joint of this robot in q, qd, tau, move_from, move_to
  int num_waypoints = 0;
  ArmVector waypoints[kCellMaxWaypoints];
  int num_spots = 0;
  /// Spot TCP position in the base frame; an assembly robot's pick pose follows its spots.
  Eigen::Vector3d spot_p[kCellMaxSpots + 1];
  int program_length = 0;
  int program[kCellMaxSteps] = {};  ///< waypoint index per step
  int program_weld[kCellMaxSteps] = {};
  int program_zone[kCellMaxSteps] = {};
  int program_spot[kCellMaxSteps] = {};
  int program_grip[kCellMaxSteps] = {};  ///< 0 none, 1 pick, 2 place at the end of the step
};

/// The constant part of a cell (uploaded once to the device for UpdateDevice).
struct CellParams {
  int num_robots = 0;
  CellRobotParams robots[kCellMaxRobots];
  int interlocks = 1;
  double conveyor_length_m = 8.0, exit_length_m = 6.0;
  double clamp_time_s = 1.5, unclamp_time_s = 1.0;
  double body_size_m[3] = {4.6, 1.8, 1.4};
  double body_floor_m = 0.4;
  double weld_time_s = 0.4, weld_tolerance_m = 1e-3;
  double servo_bandwidth_rad_per_s = 40.0, override_ramp_per_s = 2.0;
  double drive_efficiency = 0.9, regeneration = 0.0, standby_W = 350.0,
         copper_loss_W_per_Nm2 = 2e-6, conveyor_power_W = 1500.0;
  double slow_distance_m = 3.0, stop_distance_m = 1.5, reduced_speed = 0.25, stop_time_s = 0.6;
  StopCategory stop_category = StopCategory::kCategory1;
  double visitor_enter_s = -1, visitor_speed_m_per_s = 1.6, visitor_start_distance_m = 8.0,
         visitor_closest_m = 0.8, visitor_dwell_s = 5.0;
  int collision_stop = 0;
  int agv_enabled = 0;
  AgvModel agv;
  double agv_pickup_xy[2] = {-20.0, 6.0}, agv_dropoff_xy[2] = {0.0, 6.0};
  double agv_load_time_s = 10.0;
  int agv_parts_per_trip = 4, buffer_capacity = 8;
  int collision_check_ticks = 10;
  double grip_time_s = 0.5, grip_tolerance_m = 2e-3;
  int assembly_robots = 0;
  /// 1: the car body moves kinematically in the cell state (native); 0: the Bullet world moves
  /// it and the CPU driver writes its x into the cell state after the step.
  int body_kinematic = 1;
  /// Protective zone [x_min, y_min, x_max, y_max] and the AGV as a scanner trigger.
  double zone_xy_m[4] = {0, 0, 0, 0};
  int agv_triggers_safety = 1;
  double agv_footprint_radius_m = 0.6;
  /// Fixtures the arms and tools are checked against: the clamp posts, then `fixtures`.
  int num_fixtures = 0;
  CellBox fixtures[kCellMaxBoxes];
};

/// One world's fields of a robot cell (plain pointers into the State or the device State).
struct CellWorld {
  double* q;  ///< all robots' joints
  double* qd;
  double* tau;
  double* move_from;
  double* move_to;
  double* robot;              ///< kCellRobotSlots per robot
  int64_t* robot_state;       ///< kCellStateSlots per robot
  double* cell;               ///< kCellFloatSlots
  int64_t* counts;            ///< kCellCountSlots
  int64_t* collision_events;  ///< [1]: collision events so far (the engine's event counter)
  int64_t* zone_owner;
  double* visitor;  ///< visitor distance [m]
  double* agv;      ///< kCellAgvSlots
  double* power_W;  ///< output ports from here on
  double* body_pose[4];
};

/// What phase A hands to the plant step and to phase B.
struct CellScratch {
  ArmVector drive[kCellMaxRobots];  ///< drive torque per robot (servo or brakes)
  double power_W = 0.0;
  bool all_done = true;
};

// std::min / std::max / std::clamp with the same results (also for NaN and signed zeros).
FTWIN_HD inline double CellMin(double a, double b) { return b < a ? b : a; }
FTWIN_HD inline double CellMax(double a, double b) { return a < b ? b : a; }
FTWIN_HD inline double CellClamp(double v, double lo, double hi) {
  return v < lo ? lo : (hi < v ? hi : v);
}

// Joint speed below which an axis counts as standing still (standstill monitoring).
constexpr double kCellStandstillRadPerS = 0.01;
// A controlled stop finishes its deceleration ramp within this share of the stop time; the
// rest is left for the servo to settle.
constexpr double kCellStopRampShare = 0.7;

/// Distance of the scripted visitor from the cell at time t [m] (infinite when absent).
FTWIN_HD inline double CellVisitorDistance(const CellParams& c, double t) {
  if (c.visitor_enter_s < 0 || t < c.visitor_enter_s) return HUGE_VAL;
  const double t_rel = t - c.visitor_enter_s;
  const double walk = (c.visitor_start_distance_m - c.visitor_closest_m) / c.visitor_speed_m_per_s;
  if (t_rel < walk) return c.visitor_start_distance_m - c.visitor_speed_m_per_s * t_rel;
  if (t_rel < walk + c.visitor_dwell_s) return c.visitor_closest_m;
  if (t_rel < 2 * walk + c.visitor_dwell_s)
    return c.visitor_closest_m + c.visitor_speed_m_per_s * (t_rel - walk - c.visitor_dwell_s);
  return HUGE_VAL;
}

/// Distance of the AGV's footprint from the protective zone [m] (<= 0: inside it).
FTWIN_HD inline double CellAgvZoneDistance(const CellParams& c, double x_m, double y_m) {
  const double dx = CellMax(CellMax(c.zone_xy_m[0] - x_m, 0.0), x_m - c.zone_xy_m[2]);
  const double dy = CellMax(CellMax(c.zone_xy_m[1] - y_m, 0.0), y_m - c.zone_xy_m[3]);
  return sqrt(dx * dx + dy * dy) - c.agv_footprint_radius_m;
}

FTWIN_HD inline void CellStoreProfile(const PathProfile& profile, double* rf) {
  rf[kCellMoveDuration] = profile.duration_s;
  rf[kCellMoveAccelTime] = profile.accel_time_s;
  rf[kCellMovePeak] = profile.peak_rate;
  rf[kCellMoveAccel] = profile.accel;
  rf[kCellMoveJerk] = profile.jerk;
  rf[kCellMoveJerkTime] = profile.jerk_time_s;
}

FTWIN_HD inline PathProfile CellLoadProfile(const double* rf) {
  PathProfile profile;
  profile.duration_s = rf[kCellMoveDuration];
  profile.accel_time_s = rf[kCellMoveAccelTime];
  profile.peak_rate = rf[kCellMovePeak];
  profile.accel = rf[kCellMoveAccel];
  profile.jerk = rf[kCellMoveJerk];
  profile.jerk_time_s = rf[kCellMoveJerkTime];
  return profile;
}

/// The move profile of a robot: trapezoid or S-curve.
FTWIN_HD inline PathProfile CellPlanMove(const CellRobotParams& robot, const ArmVector& start,
                                         const ArmVector& goal) {
  return robot.jerk_limited != 0
             ? PlanJointMoveSCurve(start, goal, robot.arm.max_velocity, robot.max_accel,
                                   robot.max_jerk, robot.arm.dof)
             : PlanJointMove(start, goal, robot.arm.max_velocity, robot.max_accel, robot.arm.dof);
}

/// Plans a joint move of robot r from where its reference stands now to `goal` (clamped to the
/// joint limits). A move interrupted mid-way restarts from its reference (velocity is lost to
/// the servo; interruptions are rare events: release, external commands).
FTWIN_HD inline void CellStartMoveFromReference(const CellParams& c, int r, const CellWorld& w,
                                                const ArmVector& goal) {
  const CellRobotParams& robot = c.robots[r];
  const int n = robot.arm.dof, off = robot.dof_offset;
  double* rf = w.robot + r * kCellRobotSlots;
  double* from = w.move_from + off;
  double* to = w.move_to + off;
  const PathProfile profile = CellLoadProfile(rf);
  ArmVector q0 = ArmVector::Zero(), q1 = ArmVector::Zero();
  for (int i = 0; i < n; ++i) q0(i) = from[i], q1(i) = to[i];
  ArmVector reference, unused_v, unused_a;
  SampleJointMove(profile, q0, q1, rf[kCellPathTime], 1.0, &reference, &unused_v, &unused_a);
  ArmVector target = ArmVector::Zero();
  for (int i = 0; i < n; ++i) {
    target(i) = CellClamp(goal(i), robot.arm.lower[i], robot.arm.upper[i]);
    from[i] = reference(i);
    to[i] = target(i);
  }
  rf[kCellPathTime] = 0.0;
  CellStoreProfile(CellPlanMove(robot, reference, target), rf);
}

/// Starts program step st[kCellStep] of robot r (or waits for its zone).
FTWIN_HD inline void CellStartStep(const CellParams& c, int r, const CellWorld& w) {
  const CellRobotParams& robot = c.robots[r];
  const int n = robot.arm.dof, off = robot.dof_offset;
  double* rf = w.robot + r * kCellRobotSlots;
  int64_t* st = w.robot_state + r * kCellStateSlots;
  int64_t* zone_owner = w.zone_owner;
  double* from = w.move_from + off;
  double* to = w.move_to + off;
  const int k = static_cast<int>(st[kCellStep]);
  // A pick reserves a part of the buffer before the arm goes down (no two robots reach for the
  // same part); with an empty buffer the robot waits above it.
  if (robot.program_grip[k] == 1 && st[kCellHolding] == 0) {
    if (c.agv_enabled != 0) {
      if (w.agv[kCellAgvBuffer] < 1.0) {
        st[kCellPhase] = kCellWaitPart;
        return;
      }
      w.agv[kCellAgvBuffer] -= 1.0;
    }
    st[kCellHolding] = 2;
  }
  const int zone = robot.program_zone[k];
  if (c.interlocks != 0 && zone >= 0 && zone_owner[zone] != r) {
    if (zone_owner[zone] != -1) {
      st[kCellPhase] = kCellWaitZone;
      return;
    }
    zone_owner[zone] = r;
  }
  if (st[kCellZoneHeld] >= 0 && st[kCellZoneHeld] != zone && zone_owner[st[kCellZoneHeld]] == r)
    zone_owner[st[kCellZoneHeld]] = -1;
  st[kCellZoneHeld] = c.interlocks != 0 ? zone : -1;
  st[kCellSegmentZone] = zone;
  const ArmVector& goal = robot.waypoints[robot.program[k]];
  ArmVector start = ArmVector::Zero();
  for (int i = 0; i < n; ++i) {
    start(i) = to[i];
    from[i] = to[i];
    to[i] = goal(i);
  }
  rf[kCellPathTime] = 0.0;
  CellStoreProfile(CellPlanMove(robot, start, goal), rf);
  st[kCellPhase] = kCellMoving;
}

/// Advances robot r to its next program step (or finishes the program).
FTWIN_HD inline void CellNextStep(const CellParams& c, int r, const CellWorld& w) {
  const CellRobotParams& robot = c.robots[r];
  int64_t* st = w.robot_state + r * kCellStateSlots;
  int64_t* zone_owner = w.zone_owner;
  ++st[kCellStep];
  if (st[kCellStep] >= static_cast<int64_t>(robot.program_length)) {
    st[kCellPhase] = kCellDone;
    st[kCellSegmentZone] = -1;
    if (st[kCellZoneHeld] >= 0 && zone_owner[st[kCellZoneHeld]] == r)
      zone_owner[st[kCellZoneHeld]] = -1;
    st[kCellZoneHeld] = -1;
  } else {
    CellStartStep(c, r, w);
  }
}

/// Writes the car body's pose outputs.
FTWIN_HD inline void CellWriteBodyPose(const CellParams& c, const CellWorld& w) {
  w.body_pose[0][0] = w.cell[kCellBodyX];
  w.body_pose[1][0] = 0.0;
  w.body_pose[2][0] = c.body_floor_m + 0.5 * c.body_size_m[2];
  w.body_pose[3][0] = 0.0;
}

/// Drives the AGV towards a goal; on arrival switches to `next_mode`.
FTWIN_HD inline void CellAgvDriveTo(const CellParams& c, double* agv, AgvPose* pose,
                                    const double* goal, int next_mode, double dt) {
  double left = 0, right = 0;
  if (agv[kCellAgvBroken] != 0) return;
  if (AgvGoToGoal(c.agv, *pose, goal[0], goal[1], &left, &right)) {
    agv[kCellAgvMode] = static_cast<double>(next_mode);
    agv[kCellAgvTimer] = 0.0;
  } else {
    AgvStep(c.agv, left, right, dt, pose);
  }
}

/// Phase A: safety, conveyor and station, AGV, program state machines, reference and servo
/// (or brake) torque per robot into scratch->drive; the tau field gets the drive torque (0
/// while braking).
FTWIN_HD inline void CellPhaseA(const CellParams& c, double t, double dt, const CellWorld& w,
                                CellScratch* scratch) {
  const int R = c.num_robots;
  double* cell = w.cell;
  int64_t* counts = w.counts;
  cell[kCellElapsedS] += dt;

  // Safety: speed-and-separation monitoring from the scanner's distance to the nearest person
  // or AGV (the AGV where the last tick left it).
  double distance = CellVisitorDistance(c, t);
  if (c.agv_enabled != 0 && c.agv_triggers_safety != 0)
    distance = CellMin(distance, CellAgvZoneDistance(c, w.agv[kCellAgvX], w.agv[kCellAgvY]));
  w.visitor[0] = distance;
  const int safety = distance < c.stop_distance_m ? 2 : (distance < c.slow_distance_m ? 1 : 0);
  counts[kCellSafety] = safety;
  if (safety == 2) cell[kCellSafetyStopS] += dt;
  const double safety_cap = safety == 2 ? 0.0 : (safety == 1 ? c.reduced_speed : 1.0);

  // Conveyor and station.
  const double belt = counts[kCellJam] != 0 ? 0.0 : cell[kCellConveyorSpeed];
  double power_W = c.standby_W * R;
  const int64_t phase = counts[kCellStationPhase];
  if (phase == kCellArriving || phase == kCellLeaving) {
    // Bullet mode: the belt carries the rigid body (kCellBodyX is its x after the last step).
    if (c.body_kinematic != 0) cell[kCellBodyX] += belt * dt;
    if (belt > 0) power_W += c.conveyor_power_W;
    if (phase == kCellArriving && cell[kCellBodyX] >= 0.0) {
      if (c.body_kinematic != 0) cell[kCellBodyX] = 0.0;
      // Manual clamping: the body waits at the station until a clamp command.
      const bool wait = counts[kCellClampManual] != 0 && counts[kCellClampRequest] == 0;
      counts[kCellStationPhase] = wait ? kCellWaitClamp : kCellClamping;
      cell[kCellStationTimer] = 0.0;
    } else if (phase == kCellLeaving && cell[kCellBodyX] >= c.exit_length_m) {
      cell[kCellBodyX] = -c.conveyor_length_m;
      counts[kCellStationPhase] = kCellArriving;
    }
  } else if (phase == kCellWaitClamp) {
    if (counts[kCellClampManual] == 0 || counts[kCellClampRequest] != 0) {
      counts[kCellStationPhase] = kCellClamping;
      cell[kCellStationTimer] = 0.0;
    }
  } else if (phase == kCellClamping) {
    cell[kCellStationTimer] += dt;
    double* agv = w.agv;
    // Without an assembly robot the station itself takes one part per body from the buffer.
    const bool station_takes_part = c.agv_enabled != 0 && c.assembly_robots == 0;
    const bool part = !station_takes_part || agv[kCellAgvBuffer] >= 1.0;
    if (!part && cell[kCellStationTimer] >= c.clamp_time_s - 1e-12) agv[kCellAgvStarvedS] += dt;
    if (part && cell[kCellStationTimer] >= c.clamp_time_s - 1e-12) {
      if (station_takes_part) {
        agv[kCellAgvBuffer] -= 1.0;
        agv[kCellAgvConsumed] += 1.0;
      }
      counts[kCellStationPhase] = kCellProcessing;
      for (int r = 0; r < R; ++r) {
        int64_t* st = w.robot_state + r * kCellStateSlots;
        st[kCellStep] = 0;
        st[kCellPhase] = (st[kCellFaulted] == 0 && st[kCellProgram] == 1) ? kCellIdle : kCellDone;
      }
    }
  } else if (phase == kCellUnclamping) {
    cell[kCellStationTimer] += dt;
    if (cell[kCellStationTimer] >= c.unclamp_time_s - 1e-12) {
      counts[kCellStationPhase] = kCellLeaving;
      ++counts[kCellBodies];
      const double now = t + dt;
      if (counts[kCellBodies] > 1) {
        cell[kCellCycleSumS] += now - cell[kCellLastReleaseS];
        ++counts[kCellCycles];
      }
      cell[kCellLastReleaseS] = now;
    }
  }

  // Part supply: the AGV shuttles between pickup and the cell buffer.
  if (c.agv_enabled != 0) {
    double* agv = w.agv;
    AgvPose pose{agv[kCellAgvX], agv[kCellAgvY], agv[kCellAgvHeading]};
    // An agv_goal command takes the AGV off its shuttle: it drives to the goal and waits there
    // (its mode, timer and load stay as they were until agv_auto).
    const int mode = agv[kCellAgvManual] != 0 ? -1 : static_cast<int>(agv[kCellAgvMode]);
    if (mode == -1 && agv[kCellAgvBroken] == 0) {
      double left = 0, right = 0;
      if (!AgvGoToGoal(c.agv, pose, agv[kCellAgvGoalX], agv[kCellAgvGoalY], &left, &right))
        AgvStep(c.agv, left, right, dt, &pose);
    }
    switch (mode) {
      case kCellAgvWaiting:
        if (agv[kCellAgvBuffer] + c.agv_parts_per_trip <= c.buffer_capacity)
          agv[kCellAgvMode] = static_cast<double>(kCellAgvToPickup);
        break;
      case kCellAgvToPickup:
        CellAgvDriveTo(c, agv, &pose, c.agv_pickup_xy, kCellAgvLoading, dt);
        break;
      case kCellAgvToDropoff:
        CellAgvDriveTo(c, agv, &pose, c.agv_dropoff_xy, kCellAgvUnloading, dt);
        break;
      case kCellAgvLoading:
      case kCellAgvUnloading:
        if (agv[kCellAgvBroken] == 0) agv[kCellAgvTimer] += dt;
        if (agv[kCellAgvTimer] >= c.agv_load_time_s - 1e-12) {
          if (agv[kCellAgvMode] == static_cast<double>(kCellAgvLoading)) {
            agv[kCellAgvMode] = static_cast<double>(kCellAgvToDropoff);
          } else {
            agv[kCellAgvBuffer] += c.agv_parts_per_trip;
            agv[kCellAgvDelivered] += c.agv_parts_per_trip;
            agv[kCellAgvMode] = static_cast<double>(kCellAgvWaiting);
          }
        }
        break;
      default:
        break;
    }
    agv[kCellAgvX] = pose.x_m;
    agv[kCellAgvY] = pose.y_m;
    agv[kCellAgvHeading] = pose.heading_rad;
  }

  // Robots: program state machine, reference, servo torque.
  bool all_done = true;
  for (int r = 0; r < R; ++r) {
    const CellRobotParams& robot = c.robots[r];
    const int n = robot.arm.dof, off = robot.dof_offset;
    double* rf = w.robot + r * kCellRobotSlots;
    int64_t* st = w.robot_state + r * kCellStateSlots;
    const double* from = w.move_from + off;
    const double* to = w.move_to + off;
    ArmVector q = ArmVector::Zero(), qd = ArmVector::Zero();
    for (int i = 0; i < n; ++i) q(i) = w.q[off + i], qd(i) = w.qd[off + i];
    const bool faulted = st[kCellFaulted] != 0;
    double target = CellMin(CellMin(cell[kCellUserOverride], safety_cap), rf[kCellDerate]);
    if (faulted) target = 0.0;
    const double ramp =
        safety == 2 ? 1.0 / (kCellStopRampShare * c.stop_time_s) : c.override_ramp_per_s;
    rf[kCellOverride] = RampOverride(rf[kCellOverride], target, ramp, dt);

    if (!faulted) {
      switch (st[kCellPhase]) {
        case kCellIdle:
          CellStartStep(c, r, w);
          break;
        case kCellWaitZone:
          cell[kCellInterlockWaitS] += dt;
          CellStartStep(c, r, w);
          break;
        case kCellMoving:
          rf[kCellPathTime] += rf[kCellOverride] * dt;
          if (rf[kCellPathTime] >= rf[kCellMoveDuration]) {
            const int k = static_cast<int>(st[kCellStep]);
            if (robot.program_weld[k] != 0 || robot.program_grip[k] != 0) {
              st[kCellPhase] = robot.program_weld[k] != 0 ? kCellWelding : kCellGripping;
              rf[kCellDwell] = 0.0;
              rf[kCellWeldErrorM] = 0.0;
              st[kCellWeldOk] = 1;
            } else {
              // The arm has left the zone only once it is back at a waypoint outside it.
              if (st[kCellZoneHeld] >= 0 &&
                  (st[kCellStep] + 1 >= static_cast<int64_t>(robot.program_length) ||
                   robot.program_zone[st[kCellStep] + 1] != st[kCellZoneHeld])) {
                if (w.zone_owner[st[kCellZoneHeld]] == r) w.zone_owner[st[kCellZoneHeld]] = -1;
                st[kCellZoneHeld] = -1;
                st[kCellSegmentZone] = -1;
              }
              CellNextStep(c, r, w);
            }
          }
          break;
        case kCellWelding:
          if (rf[kCellOverride] > 0.0) rf[kCellDwell] += dt;
          if (rf[kCellDwell] >= c.weld_time_s - 1e-12) {
            ++counts[kCellWelds];
            counts[kCellGoodWelds] += st[kCellWeldOk];
            rf[kCellWearM] += rf[kCellWearRateM];
            CellNextStep(c, r, w);
          }
          break;
        case kCellGripping:
          if (rf[kCellOverride] > 0.0) rf[kCellDwell] += dt;
          if (rf[kCellDwell] >= c.grip_time_s - 1e-12) {
            const bool in_tolerance = st[kCellWeldOk] != 0;
            if (robot.program_grip[st[kCellStep]] == 1) {
              if (st[kCellHolding] == 2 && in_tolerance) {
                st[kCellHolding] = 1;
                w.agv[kCellAgvConsumed] += 1.0;
              } else if (st[kCellHolding] == 2) {
                // Missed grasp: the reserved part stays in the buffer.
                if (c.agv_enabled != 0) w.agv[kCellAgvBuffer] += 1.0;
                st[kCellHolding] = 0;
                ++counts[kCellFailedPicks];
              }
            } else {
              if (st[kCellHolding] == 1 && in_tolerance)
                ++counts[kCellPartsPlaced];
              else
                ++counts[kCellPartsMissed];
              if (st[kCellHolding] == 1) st[kCellHolding] = 0;
            }
            CellNextStep(c, r, w);
          }
          break;
        case kCellWaitPart:
          w.agv[kCellAgvStarvedS] += dt;
          CellStartStep(c, r, w);
          break;
        default:
          break;
      }
    }
    if (!faulted && st[kCellPhase] == kCellExternal) {
      rf[kCellPathTime] += rf[kCellOverride] * dt;
      if (rf[kCellPathTime] >= rf[kCellMoveDuration]) st[kCellPhase] = kCellDone;
    }
    if (st[kCellPhase] == kCellMoving || st[kCellPhase] == kCellWelding ||
        st[kCellPhase] == kCellGripping || st[kCellPhase] == kCellExternal)
      rf[kCellBusyS] += dt;
    // The servo and the plant carry the part while the gripper holds it.
    const ArmModel& arm = st[kCellHolding] == 1 ? robot.arm_loaded : robot.arm;
    if (!(faulted || st[kCellPhase] == kCellDone || st[kCellPhase] == kCellExternal))
      all_done = false;

    // Reference and computed-torque servo (or brakes).
    const PathProfile profile = CellLoadProfile(rf);
    ArmVector q0 = ArmVector::Zero(), q1 = ArmVector::Zero();
    for (int i = 0; i < n; ++i) q0(i) = from[i], q1(i) = to[i];
    ArmVector q_ref, qd_ref, qdd_ref;
    SampleJointMove(profile, q0, q1, rf[kCellPathTime], rf[kCellOverride], &q_ref, &qd_ref,
                    &qdd_ref);
    const Eigen::Vector3d& gravity = robot.gravity_base;
    bool still = true;
    for (int i = 0; i < n; ++i) still = still && fabs(qd(i)) < kCellStandstillRadPerS;
    const bool brakes = faulted || (safety == 2 && c.stop_category == StopCategory::kCategory0) ||
                        (safety == 2 && c.stop_category == StopCategory::kCategory1 &&
                         rf[kCellOverride] == 0.0 && still);
    ArmVector tau = ArmVector::Zero();
    const double derate = rf[kCellDerate];
    if (brakes) {
      // Friction brakes: the torque that halves the joint velocities within this step
      // (inverse dynamics with qdd = -qd / (2 dt), so coupling and the static load are
      // included), limited per axis by the brake rating.
      const ArmVector decelerate = -0.5 / dt * qd;
      const ArmVector wanted = ArmInverseDynamics(arm, q, qd, decelerate, gravity, true);
      for (int i = 0; i < n; ++i)
        tau(i) = BrakeTorque(0.0, wanted(i), robot.arm.max_effort[i], 0.0);
    } else {
      const double bw = c.servo_bandwidth_rad_per_s;
      const ArmVector qdd_cmd = qdd_ref + bw * bw * (q_ref - q) + 2.0 * bw * (qd_ref - qd);
      tau = ArmInverseDynamics(arm, q, qd, qdd_cmd, gravity, true);
      for (int i = 0; i < n; ++i) {
        const double limit = robot.arm.max_effort[i] * derate;
        tau(i) = CellClamp(tau(i), -limit, limit);
      }
    }
    scratch->drive[r] = tau;
    for (int i = 0; i < n; ++i) w.tau[off + i] = brakes ? 0.0 : tau(i);
  }
  scratch->power_W = power_W;
  scratch->all_done = all_done;
}

/// The native plant step of every arm: friction (viscous explicit, Coulomb as a bounded
/// impulse), joint limits, torque limits and semi-implicit Euler on q, qd (robots/arm_native.h).
FTWIN_HD inline void CellNativePhysics(const CellParams& c, double dt, const CellWorld& w,
                                       const CellScratch& scratch) {
  for (int r = 0; r < c.num_robots; ++r) {
    const CellRobotParams& robot = c.robots[r];
    const int n = robot.arm.dof, off = robot.dof_offset;
    ArmVector q = ArmVector::Zero(), qd = ArmVector::Zero();
    for (int i = 0; i < n; ++i) q(i) = w.q[off + i], qd(i) = w.qd[off + i];
    const int64_t* st = w.robot_state + r * kCellStateSlots;
    ArmNativeStep(st[kCellHolding] == 1 ? robot.arm_loaded : robot.arm, scratch.drive[r],
                  robot.gravity_base, dt, &q, &qd);
    for (int i = 0; i < n; ++i) w.q[off + i] = q(i), w.qd[off + i] = qd(i);
  }
}

// Closest distance between segments p1-q1 and p2-q2 (Ericson, Real-Time Collision Detection 5.1.9).
FTWIN_HD inline double CellSegmentDistance(const Eigen::Vector3d& p1, const Eigen::Vector3d& q1,
                                           const Eigen::Vector3d& p2, const Eigen::Vector3d& q2) {
  const Eigen::Vector3d d1 = q1 - p1, d2 = q2 - p2, r = p1 - p2;
  const double a = d1.squaredNorm(), e = d2.squaredNorm(), f = d2.dot(r);
  double s = 0, t = 0;
  if (a <= 1e-12 && e <= 1e-12) return r.norm();
  if (a <= 1e-12) {
    t = CellClamp(f / e, 0.0, 1.0);
  } else {
    const double cc = d1.dot(r);
    if (e <= 1e-12) {
      s = CellClamp(-cc / a, 0.0, 1.0);
    } else {
      const double b = d1.dot(d2), denom = a * e - b * b;
      s = denom > 1e-12 ? CellClamp((b * f - cc * e) / denom, 0.0, 1.0) : 0.0;
      t = (b * s + f) / e;
      if (t < 0)
        t = 0, s = CellClamp(-cc / a, 0.0, 1.0);
      else if (t > 1)
        t = 1, s = CellClamp((b - cc) / a, 0.0, 1.0);
    }
  }
  return ((p1 + d1 * s) - (p2 + d2 * t)).norm();
}

FTWIN_HD inline double CellPointBoxDistance(const Eigen::Vector3d& p, const Eigen::Vector3d& center,
                                            const Eigen::Vector3d& half) {
  const Eigen::Vector3d d = ((p - center).cwiseAbs() - half).cwiseMax(0.0);
  return d.norm();
}

/// Distance between the segment a-b and a fixture box (0 when they intersect), exact: in the
/// box's frame the squared distance of the point a + t (b - a) is a convex piecewise quadratic in
/// t whose pieces end where the point crosses a face plane; each piece's minimum is closed-form.
FTWIN_HD inline double CellSegmentBoxDistance(const Eigen::Vector3d& a, const Eigen::Vector3d& b,
                                              const CellBox& box) {
  const double ax = a.x() - box.center[0], ay = a.y() - box.center[1];
  const double bx = b.x() - box.center[0], by = b.y() - box.center[1];
  const double p[3] = {box.cos_yaw * ax + box.sin_yaw * ay, -box.sin_yaw * ax + box.cos_yaw * ay,
                       a.z() - box.center[2]};
  const double e[3] = {box.cos_yaw * bx + box.sin_yaw * by, -box.sin_yaw * bx + box.cos_yaw * by,
                       b.z() - box.center[2]};
  const double d[3] = {e[0] - p[0], e[1] - p[1], e[2] - p[2]};
  // Piece boundaries: 0, the face-plane crossings inside (0, 1), 1; sorted.
  double t[8];
  int n = 0;
  t[n++] = 0.0;
  for (int k = 0; k < 3; ++k)
    for (int side = -1; side <= 1; side += 2) {
      if (d[k] == 0.0) continue;
      const double crossing = (side * box.half[k] - p[k]) / d[k];
      if (crossing > 0.0 && crossing < 1.0) t[n++] = crossing;
    }
  t[n++] = 1.0;
  for (int i = 1; i < n; ++i)
    for (int j = i; j > 0 && t[j] < t[j - 1]; --j) {
      const double swap = t[j];
      t[j] = t[j - 1];
      t[j - 1] = swap;
    }
  double best = HUGE_VAL;
  for (int piece = 0; piece + 1 < n; ++piece) {
    const double lo = t[piece], hi = t[piece + 1], mid = 0.5 * (lo + hi);
    // On this piece every coordinate stays on one side of its slab: outside ones contribute
    // (p + d t - face)^2, whose sum is least at t = -sum d (p - face) / sum d^2.
    double dd = 0.0, dp = 0.0;
    for (int k = 0; k < 3; ++k) {
      const double x = p[k] + d[k] * mid;
      if (x > box.half[k])
        dd += d[k] * d[k], dp += d[k] * (p[k] - box.half[k]);
      else if (x < -box.half[k])
        dd += d[k] * d[k], dp += d[k] * (p[k] + box.half[k]);
    }
    const double s = dd > 0.0 ? CellClamp(-dp / dd, lo, hi) : lo;
    double squared = 0.0;
    for (int k = 0; k < 3; ++k) {
      const double outside = CellMax(fabs(p[k] + d[k] * s) - box.half[k], 0.0);
      squared += outside * outside;
    }
    best = CellMin(best, squared);
  }
  return sqrt(best);
}

/// Whether a capsule (segment a-b, radius r) reaches into a fixture box; a bounding-sphere test
/// first, the exact distance only for pairs that may touch.
FTWIN_HD inline bool CellCapsuleHitsBox(const Eigen::Vector3d& a, const Eigen::Vector3d& b,
                                        double radius, const CellBox& box) {
  const Eigen::Vector3d mid = 0.5 * (a + b);
  const Eigen::Vector3d center(box.center[0], box.center[1], box.center[2]);
  const double box_radius =
      sqrt(box.half[0] * box.half[0] + box.half[1] * box.half[1] + box.half[2] * box.half[2]);
  if ((mid - center).norm() > 0.5 * (b - a).norm() + box_radius + radius) return false;
  return CellSegmentBoxDistance(a, b, box) < radius;
}

/// Whether the AGV's chassis (kCellAgvLength x (track + kCellAgvExtraWidth) x kCellAgvHeight,
/// on the floor, turned by its heading) overlaps a fixture box: the heights overlap and no axis
/// of the two rectangles in plan separates them (separating-axis test).
FTWIN_HD inline bool CellAgvHitsBox(const CellParams& c, double x_m, double y_m, double heading_rad,
                                    const CellBox& box) {
  if (!(box.center[2] - box.half[2] < kCellAgvHeight && box.center[2] + box.half[2] > 0.0))
    return false;
  const double agv_half[2] = {0.5 * kCellAgvLength, 0.5 * (c.agv.track_m + kCellAgvExtraWidth)};
  const double ca = cos(heading_rad), sa = sin(heading_rad);
  // Axes of the chassis (a) and of the box (b) in plan; the centres' offset.
  const double a_axes[2][2] = {{ca, sa}, {-sa, ca}};
  const double b_axes[2][2] = {{box.cos_yaw, box.sin_yaw}, {-box.sin_yaw, box.cos_yaw}};
  const double d[2] = {box.center[0] - x_m, box.center[1] - y_m};
  for (int set = 0; set < 2; ++set)
    for (int k = 0; k < 2; ++k) {
      const double* axis = set == 0 ? a_axes[k] : b_axes[k];
      const double ra = agv_half[0] * fabs(axis[0] * a_axes[0][0] + axis[1] * a_axes[0][1]) +
                        agv_half[1] * fabs(axis[0] * a_axes[1][0] + axis[1] * a_axes[1][1]);
      const double rb = box.half[0] * fabs(axis[0] * b_axes[0][0] + axis[1] * b_axes[0][1]) +
                        box.half[1] * fabs(axis[0] * b_axes[1][0] + axis[1] * b_axes[1][1]);
      if (fabs(d[0] * axis[0] + d[1] * axis[1]) >= ra + rb) return false;
    }
  return true;
}

/// Phase B: export (drive power from the new joint state), weld checks, release, collisions.
FTWIN_HD inline void CellPhaseB(const CellParams& c, int64_t tick, double dt, const CellWorld& w,
                                const CellScratch& scratch) {
  const int R = c.num_robots;
  double* cell = w.cell;
  int64_t* counts = w.counts;
  double power_W = scratch.power_W;
  for (int r = 0; r < R; ++r) {
    const CellRobotParams& robot = c.robots[r];
    const int n = robot.arm.dof, off = robot.dof_offset;
    double* rf = w.robot + r * kCellRobotSlots;
    int64_t* st = w.robot_state + r * kCellStateSlots;
    ArmVector q = ArmVector::Zero(), qd = ArmVector::Zero();
    for (int i = 0; i < n; ++i) q(i) = w.q[off + i], qd(i) = w.qd[off + i];
    double mechanical = 0.0, copper = 0.0;
    for (int i = 0; i < n; ++i) {
      mechanical += w.tau[off + i] * qd(i);
      copper += c.copper_loss_W_per_Nm2 * w.tau[off + i] * w.tau[off + i];
    }
    const double electrical = (mechanical >= 0 ? mechanical / c.drive_efficiency
                                               : mechanical * c.drive_efficiency * c.regeneration) +
                              copper;
    power_W += electrical;
    rf[kCellEnergyJ] += electrical * dt;
    if (st[kCellPhase] == kCellWelding) {
      // The worn tip is shorter: the contact point lies `wear` behind the nominal TCP.
      const ArmPose tcp = ArmToolPose(robot.arm, q);
      const Eigen::Vector3d tip = tcp.p - rf[kCellWearM] * tcp.R.col(2);
      const int spot = robot.program_spot[st[kCellStep]];
      const double error = (tip - robot.spot_p[spot]).norm();
      rf[kCellWeldErrorM] = CellMax(rf[kCellWeldErrorM], error);
      if (error > c.weld_tolerance_m) st[kCellWeldOk] = 0;
    } else if (st[kCellPhase] == kCellGripping) {
      const ArmPose tcp = ArmToolPose(robot.arm, q);
      const int spot = robot.program_spot[st[kCellStep]];
      const double error = (tcp.p - robot.spot_p[spot]).norm();
      rf[kCellWeldErrorM] = CellMax(rf[kCellWeldErrorM], error);
      if (error > c.grip_tolerance_m) st[kCellWeldOk] = 0;
    }
  }
  cell[kCellTotalEnergyJ] += power_W * dt;
  w.power_W[0] = power_W;
  CellWriteBodyPose(c, w);

  // The station releases the body when every robot is done (with manual clamping, once the
  // clamp is no longer requested).
  if (counts[kCellStationPhase] == kCellProcessing && scratch.all_done &&
      !(counts[kCellClampManual] != 0 && counts[kCellClampRequest] != 0)) {
    for (int r = 0; r < R; ++r) {
      const CellRobotParams& robot = c.robots[r];
      const int64_t* st = w.robot_state + r * kCellStateSlots;
      if (st[kCellFaulted] != 0 || st[kCellProgram] != 1) {
        // Welds this robot did not make on this body.
        int64_t missing = 0, missing_parts = 0;
        for (int k = st[kCellFaulted] != 0 ? static_cast<int>(st[kCellStep]) : 0;
             k < robot.program_length; ++k) {
          missing += robot.program_weld[k];
          missing_parts += robot.program_grip[k] == 2 ? 1 : 0;
        }
        if (st[kCellFaulted] != 0 && st[kCellPhase] == kCellDone) missing = missing_parts = 0;
        counts[kCellMissedWelds] += missing;
        counts[kCellPartsMissed] += missing_parts;
      }
    }
    counts[kCellStationPhase] = kCellUnclamping;
    counts[kCellClampRequest] = 0;
    cell[kCellStationTimer] = 0.0;
  }

  // Collision checks between arms (capsules through the joint origins), against the body and
  // against the fixtures.
  if (tick % c.collision_check_ticks == 0) {
    bool colliding = false;
    int hit_robot = -1, hit_kind = kCellHitNone, hit_index = -1;
    Eigen::Vector3d points[kCellMaxRobots][kArmMaxDof + 2];
    int num_points[kCellMaxRobots] = {};
    for (int r = 0; r < R; ++r) {
      const CellRobotParams& robot = c.robots[r];
      ArmVector q = ArmVector::Zero();
      for (int i = 0; i < robot.arm.dof; ++i) q(i) = w.q[robot.dof_offset + i];
      ArmPose poses[kArmMaxDof];
      ArmForwardKinematics(robot.arm, q, poses);
      int m = 0;
      points[r][m++] = robot.base.p;
      for (int i = 0; i < robot.arm.dof; ++i) points[r][m++] = robot.base.Apply(poses[i].p);
      points[r][m++] = robot.base.Apply((poses[robot.arm.tool_body] * robot.arm.tool).p);
      num_points[r] = m;
    }
    for (int a = 0; a < R && !colliding; ++a)
      for (int b = a + 1; b < R && !colliding; ++b)
        for (int i = 0; i + 1 < num_points[a] && !colliding; ++i)
          for (int j = 0; j + 1 < num_points[b] && !colliding; ++j)
            if (CellSegmentDistance(points[a][i], points[a][i + 1], points[b][j],
                                    points[b][j + 1]) <
                c.robots[a].link_radius_m + c.robots[b].link_radius_m) {
              colliding = true;
              hit_robot = a, hit_kind = kCellHitRobot, hit_index = b;
            }
    // Arm against the clamped body (the gun segment touches it by design and is excluded).
    if ((counts[kCellStationPhase] >= kCellClamping &&
         counts[kCellStationPhase] <= kCellUnclamping) ||
        counts[kCellStationPhase] == kCellWaitClamp) {
      const Eigen::Vector3d half =
          0.5 * Eigen::Vector3d(c.body_size_m[0], c.body_size_m[1], c.body_size_m[2]);
      const Eigen::Vector3d center(cell[kCellBodyX], 0.0, c.body_floor_m + half.z());
      for (int r = 0; r < R && !colliding; ++r)
        for (int i = 1; i + 2 < num_points[r] && !colliding; ++i)
          for (int s = 0; s <= 4 && !colliding; ++s) {
            const Eigen::Vector3d p = points[r][i] + (points[r][i + 1] - points[r][i]) * (s / 4.0);
            if (CellPointBoxDistance(p, center, half) < c.robots[r].link_radius_m) {
              colliding = true;
              hit_robot = r, hit_kind = kCellHitBody, hit_index = -1;
            }
          }
    }
    // Arms and tools against the fixtures, exactly (capsule against box). The base segment (the
    // mount up to the first joint) is left out: it stands on the floor or on a pedestal.
    for (int r = 0; r < R && !colliding; ++r)
      for (int f = 0; f < c.num_fixtures && !colliding; ++f)
        for (int i = 1; i + 1 < num_points[r] && !colliding; ++i)
          if (CellCapsuleHitsBox(points[r][i], points[r][i + 1], c.robots[r].link_radius_m,
                                 c.fixtures[f])) {
            colliding = true;
            hit_robot = r, hit_kind = kCellHitFixture, hit_index = f;
          }
    // The AGV's chassis against the fixtures.
    if (c.agv_enabled != 0)
      for (int f = 0; f < c.num_fixtures && !colliding; ++f)
        if (CellAgvHitsBox(c, w.agv[kCellAgvX], w.agv[kCellAgvY], w.agv[kCellAgvHeading],
                           c.fixtures[f])) {
          colliding = true;
          hit_robot = -1, hit_kind = kCellHitAgv, hit_index = f;
        }
    if (colliding && counts[kCellInCollision] == 0) {
      ++counts[kCellCollisions];
      ++w.collision_events[0];
      if (hit_kind == kCellHitFixture || hit_kind == kCellHitAgv) ++counts[kCellFixtureCollisions];
      counts[kCellLastCollisionTick] = tick;
      counts[kCellLastCollisionRobot] = hit_robot;
      counts[kCellLastCollisionKind] = hit_kind;
      counts[kCellLastCollisionIndex] = hit_index;
      if (c.collision_stop != 0) cell[kCellUserOverride] = 0.0;
    }
    counts[kCellInCollision] = colliding ? 1 : 0;
  }
}

/// One tick of a native-physics cell: phase A, the native plant step, phase B.
FTWIN_HD inline void CellWorldStepNative(const CellParams& c, int64_t tick, double t, double dt,
                                         const CellWorld& w) {
  CellScratch scratch;
  CellPhaseA(c, t, dt, w, &scratch);
  CellNativePhysics(c, dt, w, scratch);
  CellPhaseB(c, tick, dt, w, scratch);
}

}  // namespace ftwin
