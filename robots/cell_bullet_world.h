// The per-world Bullet world of a robot cell in `physics: bullet` mode (docs/robots.md): one
// btMultiBodyDynamicsWorld holding the arms (multibodies with joint-limit constraints, no
// colliders) and the cell's rigid bodies: the floor, the station fixtures and the conveyor's
// belt segments (static boxes), the car body (a dynamic box carried by the belts through
// friction and held by the station clamp, a fixed constraint) and, with part supply, the AGV
// (a kinematic box following the pose the cell computes).
//
// Belts are static boxes whose contacts carry a surface velocity: before the solver runs, every
// contact point against a belt gets its first friction direction along the belt and a target
// relative tangential velocity equal to the belt speed (Bullet's contact-motion mechanism), so
// friction drags a body along exactly as a running belt does, with slip when the friction
// limit is exceeded, while no belt geometry ever moves.
//
// Exactness: the car body's pose and velocity live in a State field (CellBodySlot), written
// after every step and loaded back into the world before the next one; contact manifolds are
// emptied before each step and warm starting is off, so the step is a function of the State
// alone (a snapshot restored into a fresh simulator continues bit for bit).
#pragma once

#include <memory>
#include <vector>

#include "engine/state.h"
#include "robots/robot_cell.h"

namespace ftwin {

/// Slots of the car body's rigid-body state (field `body_rigid`, Bullet mode): centre of mass
/// position [m], orientation quaternion (x, y, z, w), linear velocity [m/s], angular velocity
/// [rad/s], all in the cell frame.
enum CellBodySlot {
  kRigidX,
  kRigidY,
  kRigidZ,
  kRigidQx,
  kRigidQy,
  kRigidQz,
  kRigidQw,
  kRigidVx,
  kRigidVy,
  kRigidVz,
  kRigidWx,
  kRigidWy,
  kRigidWz,
  kRigidSlots
};

/// Slots of one part body (field `parts`, Bullet mode with assembly robots whose part_mass_kg >
/// 0): its mode (kPartAbsent ... kPartOnBody), its rigid-body state (kPartRigid + CellBodySlot:
/// centre, quaternion, velocity, angular velocity, cell frame) and, on the car body, the part's
/// pose in the body's frame (position, quaternion x, y, z, w) that the fixed constraint holds.
constexpr int kPartMode = 0;
constexpr int kPartRigid = 1;
constexpr int kPartAttach = kPartRigid + static_cast<int>(kRigidSlots);
constexpr int kPartSlots = kPartAttach + 7;
/// Where a part body is (slot kPartMode). Only on the car body does Bullet move it (a fixed
/// constraint to the car body); otherwise the cell sets its state every tick.
constexpr double kPartAbsent = 0;    ///< not in the cell (parked, collides with nothing)
constexpr double kPartInBuffer = 1;  ///< reserved in the buffer, at rest at the pick pose
constexpr double kPartHeld = 2;    ///< in the gripper: the TCP's pose and velocity after each step
constexpr double kPartOnBody = 3;  ///< placed: fixed to the car body at its placement pose

/// What the cell commands for one step of its rigid bodies.
struct CellBulletInputs {
  double belt_speed_m_per_s = 0.0;  ///< surface speed of every belt segment along +x
  bool clamp = false;               ///< station clamp engaged
  /// AGV pose (x [m], y [m], heading [rad]) before and after this tick's AGV update.
  double agv_before[3] = {0, 0, 0}, agv_after[3] = {0, 0, 0};
};

/// The car body resting on the belt with its centre at x (y = 0, level), moving at vx.
void CellBodyAtRest(const RobotCellBlock::Config& config, double x, double vx, double* body);

/// Yaw [rad] of a body state's orientation (rotation about +z).
double CellBodyYaw(const double* body);

class CellBulletWorld final : public WorldAux {
 public:
  explicit CellBulletWorld(const RobotCellBlock::Config& config);
  ~CellBulletWorld() override;
  CellBulletWorld(const CellBulletWorld&) = delete;
  CellBulletWorld& operator=(const CellBulletWorld&) = delete;

  // Arms: robot r's multibody, as the cell's Update drives it.
  int num_arms() const { return static_cast<int>(dofs_.size()); }
  void SetArmState(int arm, const ArmVector& q, const ArmVector& qd);
  void GetArmState(int arm, ArmVector* q, ArmVector* qd) const;
  /// Joint forces applied during the next Step (cleared by it).
  void SetArmTorques(int arm, const ArmVector& tau);

  /// Part bodies (the `parts` field's rows, in RobotCellBlock's slot order).
  int num_parts() const;
  /// After a step: whether Bullet found the AGV's chassis penetrating fixture `fixture` (index
  /// into the config's fixtures; contact points without response, both are immovable).
  bool AgvTouchesFixture(int fixture) const;

  /// One step of dt: loads the car body from `body` (CellBodySlot) and the part bodies from
  /// `parts` (num_parts() rows of CellPartSlot; may be null without parts), applies the inputs,
  /// steps the whole world once and writes back the car body's new state and that of every part
  /// on the car body.
  void Step(double dt, const CellBulletInputs& inputs, double* body, double* parts = nullptr);

  /// The arms' joint state (the rigid bodies are State fields, saved with the State).
  void Save(ByteWriter& writer) const override;
  void Load(ByteReader& reader) override;

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
  std::vector<int> dofs_;
};

}  // namespace ftwin
