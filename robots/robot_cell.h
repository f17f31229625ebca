// A body-in-white spot-welding cell (scenario type "robot_cell"; docs/robots.md).
//
// A conveyor brings car bodies to the station, where they are clamped; N arms (URDF models,
// stepped as Bullet multibodies in a per-world btMultiBodyDynamicsWorld) run their weld
// programs: joint-space trapezoidal moves to approach, spot and retract poses (solved by IK when
// the scenario loads), a weld counting when the tool centre point stays within the position
// tolerance for the weld time. Drives are computed-torque servos with torque limits; the
// built-in program is the baseline controller. Shared zones are interlocked, arms are checked
// for collisions (capsules against each other, the body and the fixtures), a scripted visitor trips
// the safety scanner (slow-down, then a category 0/1/2 stop), and the drives draw electrical power
// from the site bus (output port power_W).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/block.h"
#include "engine/params.h"
#include "robots/agv_math.h"
#include "robots/robot_cell_world.h"
#include "robots/robot_model.h"
#include "robots/trajectory_math.h"

namespace ftwin {

class RobotCellBlock final : public Block {
 public:
  /// A static box of the cell that arms and tools must not touch (and, in `physics: bullet`, a
  /// static collider): the station's clamp posts and the scenario's `fixtures`.
  struct Fixture {
    std::string name;
    Eigen::Vector3d center_m = Eigen::Vector3d::Zero();  ///< cell frame
    Eigen::Vector3d size_m = Eigen::Vector3d::Ones();
    double yaw_rad = 0.0;  ///< about +z
  };
  struct Spot {
    Eigen::Vector3d position = Eigen::Vector3d::Zero();     ///< on the body, body frame [m]
    Eigen::Vector3d direction = -Eigen::Vector3d::UnitY();  ///< tool approach direction
    int zone = -1;
  };
  struct Robot {
    std::string name;
    ArmModel arm;  ///< with the tool as payload and its TCP as tool frame
    ArmPose base;  ///< base in the cell frame
    ArmVector home = ArmVector::Zero();
    double max_accel[kArmMaxDof] = {};
    /// Jerk limits; all 0 = trapezoidal moves, else jerk-limited S-curves.
    double max_jerk[kArmMaxDof] = {};
    bool jerk_limited = false;
    std::vector<Spot> spots;
    /// Joint waypoints: 0 = home, then per spot (approach, spot).
    std::vector<ArmVector> waypoints;
    std::vector<ArmPose> spot_tcp;  ///< spot TCP pose in the robot base frame
    /// Program: waypoint index per step; weld steps flagged.
    std::vector<int> program, program_weld, program_zone, program_spot;
    /// Gripper action at the end of each program step: 0 none, 1 pick, 2 place (assembly).
    std::vector<int> program_grip;
    double link_radius_m = 0.2;
    /// Assembly robot (role: assembly): picks parts from the AGV's buffer and places them on
    /// the body at its spots; `arm_loaded` is the arm carrying a part (servo and plant model).
    bool assembly = false;
    double part_mass_kg = 0.0;
    /// The part's box (physics: bullet, where a part with mass is a rigid body).
    Eigen::Vector3d part_size_m = Eigen::Vector3d(0.2, 0.2, 0.1);
    ArmModel arm_loaded;
  };
  /// Who integrates the arms: Bullet multibodies in a per-world WorldAux (the physics of
  /// record), or ftwin's own articulated dynamics (robots/arm_native.h) on the q/qd fields, with
  /// no per-world object (the path a GPU batch runs).
  enum class Physics { kBullet = 0, kNative = 1 };
  struct Config {
    std::vector<Robot> robots;
    Physics physics = Physics::kBullet;
    std::vector<std::string> zones;
    bool interlocks = true;
    // Conveyor and station.
    double conveyor_length_m = 8.0, conveyor_speed_m_per_s = 0.5, exit_length_m = 6.0;
    double clamp_time_s = 1.5, unclamp_time_s = 1.0;
    Eigen::Vector3d body_size_m = Eigen::Vector3d(4.6, 1.8, 1.4);
    double body_floor_m = 0.4;  ///< height of the body's underside
    // Car body as a Bullet rigid body (physics: bullet only; robots/cell_bullet_world.h).
    double body_mass_kg = 350.0;
    double belt_friction = 0.6;   ///< body-belt contact friction coefficient
    double floor_friction = 0.5;  ///< body-floor and body-fixture contact friction coefficient
    // Welding.
    double weld_time_s = 0.4, weld_tolerance_m = 1e-3, approach_m = 0.12;
    // Servo.
    double servo_bandwidth_rad_per_s = 40.0, override_ramp_per_s = 2.0;
    // Drives.
    double drive_efficiency = 0.9, regeneration = 0.0, standby_W = 350.0,
           copper_loss_W_per_Nm2 = 2e-6, conveyor_power_W = 1500.0;
    // Safety.
    double slow_distance_m = 3.0, stop_distance_m = 1.5, reduced_speed = 0.25, stop_time_s = 0.6;
    StopCategory stop_category = StopCategory::kCategory1;
    /// Protective zone the scanners guard, cell frame [x_min, y_min, x_max, y_max] (default:
    /// the bounding box of the robot bases and the body at the station). The AGV is detected
    /// like a person when its footprint comes within the safety distances of it.
    double zone_xy_m[4] = {0, 0, 0, 0};
    bool agv_triggers_safety = true;
    double agv_footprint_radius_m = 0.6;
    double visitor_enter_s = -1, visitor_speed_m_per_s = 1.6, visitor_start_distance_m = 8.0,
           visitor_closest_m = 0.8, visitor_dwell_s = 5.0;
    bool collision_stop = false;
    // Part supply by AGV (enabled by the scenario key `agv`): every body takes one part from the
    // buffer when it is clamped; an empty buffer starves the station.
    bool agv_enabled = false;
    AgvModel agv;
    double agv_pickup_xy[2] = {-20.0, 6.0}, agv_dropoff_xy[2] = {0.0, 6.0};
    double agv_load_time_s = 10.0;
    int agv_parts_per_trip = 4, buffer_capacity = 8, buffer_initial = 2;
    int collision_check_ticks = 10;
    // Assembly: gripper close/open time and the TCP tolerance a pick or place must hold.
    double grip_time_s = 0.5, grip_tolerance_m = 2e-3;
    int assembly_robots = 0;
    /// The scenario's `fixtures` (at most kCellMaxFixtures). The block's own copy of the config
    /// (config()) starts with the two clamp posts (ClampPosts), then these.
    std::vector<Fixture> fixtures;
  };
  /// The station's clamp posts beside the body at the station (right: y < 0, then left): 0.3 m
  /// x 0.2 m, up to the body's underside (body_floor_m, at least 0.05 m), 0.15 m clear of its
  /// sides.
  static std::vector<Fixture> ClampPosts(const Config& config);
  /// Rows of the `parts` field (physics: bullet): per assembly robot with part_mass_kg > 0 one
  /// row per spot (the part placed there) and one for the part in hand, from its first row
  /// (-1 for other robots). Returns the number of rows.
  static int PartRows(const Config& config, std::vector<int>* first_row);

  RobotCellBlock(std::string name, Config config);
  ~RobotCellBlock() override;
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);

  const Config& config() const { return config_; }
  /// Distance of the AGV's footprint from the protective zone [m] (<= 0: inside it).
  double AgvZoneDistance(double x_m, double y_m) const;
  /// Distance of the scripted visitor from the cell at time t [m] (infinite when absent).
  double VisitorDistance(double t) const;

  std::string type_name() const override { return "robot_cell"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  std::unique_ptr<WorldAux> CreateAux(int world) const override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  void ApplyCommand(const TickInfo& tick, BlockIo& io, int command,
                    std::span<const double> args) const override;
  void ApplyFault(const TickInfo& tick, BlockIo& io, int fault, std::span<const double> params,
                  bool active) const override;
  void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const override;
  /// The device path runs native physics only (a Bullet world is a per-world CPU object).
  bool SupportsCuda() const override { return native(); }
  /// Uploads the cell description (CellParams) once.
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor& executor) const override;
  /// CellWorldStepNative for every world (robots/robot_cell_kernels.h).
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;
  /// The flat description the per-world step functions run on (robots/robot_cell_world.h).
  const CellParams& params() const { return *params_; }
  bool HasScene() const override { return true; }
  /// Robots (links as cylinders between joint origins, joints as spheres), the car body, the
  /// conveyor, the fixtures (entity "fixtures"), the part bodies in Bullet mode (entity "parts";
  /// natively a part in the gripper is drawn at the TCP) and the visitor, in the cell frame.
  void DescribeScene(const TickInfo& tick, const BlockIo& io, SceneBuilder& scene) const override;

  // Slots of the per-robot float array "robot" (public for tests).
  enum RobotSlot {
    kPathTime,
    kMoveDuration,
    kMoveAccelTime,
    kMovePeak,
    kMoveAccel,
    kOverride,
    kDwell,
    kDerate,
    kWearM,
    kWearRateM,
    kBusyS,
    kEnergyJ,
    kWeldErrorM,
    kMoveJerk,
    kMoveJerkTime,
    kRobotSlots
  };
  // Slots of the per-robot integer array "robot_state".
  enum RobotState {
    kStep,
    kPhase,
    kZoneHeld,
    kSegmentZone,
    kFaulted,
    kProgram,
    kWeldOk,
    kHolding,  ///< assembly: 0 empty, 1 holding a part, 2 a buffer part reserved for this pick
    kStateSlots
  };
  enum Phase {
    kIdle = 0,
    kMoving = 1,
    kWelding = 2,
    kDone = 3,
    kWaitZone = 4,
    kExternal = 5,
    kGripping = 6,  ///< closing (pick) or opening (place) the gripper at the pose
    kWaitPart = 7   ///< assembly robot above an empty buffer
  };
  // Cell floats.
  enum CellSlot {
    kBodyX,
    kConveyorSpeed,
    kStationTimer,
    kLastReleaseS,
    kCycleSumS,
    kEnergyJ_,
    kSafetyStopS,
    kUserOverride,
    kElapsedS,
    kInterlockWaitS,
    kStopElapsed,
    kCellSlots
  };
  // Cell integers.
  enum CellCount {
    kStationPhase,
    kBodies,
    kWelds,
    kGoodWelds,
    kMissedWelds,
    kCollisions,
    kInCollision,
    kJam,
    kSafety,
    kCycles,
    kRejectedTargets,
    kPartsPlaced,         ///< parts placed within the grip tolerance
    kPartsMissed,         ///< place steps without a part or out of tolerance
    kFailedPicks,         ///< picks out of tolerance (the part stays in the buffer)
    kFixtureCollisions,   ///< collision events against a fixture (arm, tool, AGV)
    kLastCollisionTick,   ///< the last collision event: tick of the check that found it,
    kLastCollisionRobot,  ///< the robot,
    kLastCollisionKind,   ///< what it hit (CollisionKind),
    kLastCollisionIndex,  ///< the other robot or the fixture (index into Config::fixtures)
    kClampManual,         ///< 1: the station clamps and unclamps only on `clamp` commands
    kClampRequest,        ///< manual clamping: the clamp is requested (clamp(1))
    kCellCounts
  };
  /// What a collision event was against (counts slot kLastCollisionKind).
  enum CollisionKind { kHitNone = 0, kHitRobot = 1, kHitBody = 2, kHitFixture = 3, kHitAgv = 4 };
  enum StationPhase {
    kArriving = 0,
    kClamping = 1,
    kProcessing = 2,
    kUnclamping = 3,
    kLeaving = 4,
    kWaitClamp = 5  ///< manual clamping: the body stands at the station, unclamped
  };
  /// Safety state: 0 normal, 1 reduced speed, 2 stopping/stopped.
  // AGV slots (float array "agv").
  enum AgvSlot {
    kAgvX,
    kAgvY,
    kAgvHeading,
    kAgvTimer,
    kAgvMode,
    kAgvBuffer,
    kAgvDelivered,
    kAgvConsumed,
    kAgvStarvedS,
    kAgvBroken,
    kAgvManual,  ///< 1: driving to (or waiting at) an agv_goal
    kAgvGoalX,
    kAgvGoalY,
    kAgvSlots
  };
  enum AgvMode { kToPickup = 0, kLoading = 1, kToDropoff = 2, kUnloading = 3, kWaiting = 4 };
  FieldId agv_field() const { return agv_; }
  FieldId q_field() const { return q_; }
  FieldId qd_field() const { return qd_; }
  FieldId tau_field() const { return tau_; }
  FieldId robot_field() const { return robot_; }
  FieldId robot_state_field() const { return robot_state_; }
  FieldId cell_field() const { return cell_; }
  FieldId counts_field() const { return counts_; }
  /// The car body's rigid-body state (CellBodySlot, robots/cell_bullet_world.h); Bullet mode
  /// only (kInvalidField with physics: native).
  FieldId body_rigid_field() const { return body_rigid_; }
  /// The part bodies (CellPartSlot rows, robots/cell_bullet_world.h); Bullet mode with parts
  /// only.
  FieldId parts_field() const { return parts_; }
  /// The `parts` row of robot r's part in hand (-1: none); the row of its spot k is this minus
  /// the number of spots plus k.
  int hand_part_row(int robot) const;

 private:
  bool native() const { return config_.physics == Physics::kNative; }
  /// This world's fields as plain pointers.
  CellWorld WorldView(BlockIo& io) const;
  /// The car body pose ports: the kinematic pose (native) or the rigid body's (Bullet).
  void WriteBodyPose(BlockIo& io) const;
  Config config_;
  std::unique_ptr<CellParams> params_;  ///< config_ flattened (large: kept on the heap)
  int total_dof_ = 0;
  std::vector<int> dof_offset_;
  int out_power_ = -1;
  int out_body_pose_[4] = {-1, -1, -1, -1};  ///< car body x, y, z [m], yaw [rad] in the cell frame
  FieldId q_ = kInvalidField, qd_ = kInvalidField, tau_ = kInvalidField, from_ = kInvalidField,
          to_ = kInvalidField, robot_ = kInvalidField, robot_state_ = kInvalidField,
          cell_ = kInvalidField, counts_ = kInvalidField, zone_owner_ = kInvalidField,
          visitor_ = kInvalidField, agv_ = kInvalidField, body_rigid_ = kInvalidField,
          parts_ = kInvalidField;
  std::vector<int> part_first_row_;  ///< per robot (PartRows)
  int part_rows_ = 0;
  /// Bullet mode: the part bodies' modes after phase A (buffer, hand, placed, removed).
  void UpdateParts(const CellWorld& w, bool body_left, const double* body, double* parts) const;
  /// Bullet mode: the parts in hand follow the TCP after the step.
  void PartsFollowGrippers(const CellWorld& w, double* parts) const;
};

void RegisterRobotCellBlock(class BlockRegistry& registry);

}  // namespace ftwin
