// Builds a Bullet (double precision) btMultiBody from an ArmModel: the physics of record on
// the CPU, and the second implementation the dynamics tests compare against.
//
// Bullet wants each link's frame at its centre of mass with principal axes; the builder
// diagonalises every body inertia and expresses the joint axes and offsets in those frames.
#pragma once

#include <BulletDynamics/Featherstone/btMultiBody.h>
#include <btBulletDynamicsCommon.h>

#include <memory>

#include "robots/arm_math.h"

namespace ftwin {

/// A fixed-base multibody with the arm's bodies as links (link i = body i). The base frame
/// sits at `base` in the world. No damping, no sleeping, no velocity clamp.
std::unique_ptr<btMultiBody> CreateBulletArm(const ArmModel& model, const ArmPose& base = {});

/// Bullet's articulated-body forward dynamics at (q, qd) under joint forces tau and `gravity`
/// (world frame), without friction: returns qdd. Leaves the multibody at (q, qd).
ArmVector BulletForwardDynamics(btMultiBody* body, const ArmModel& model, const ArmVector& q,
                                const ArmVector& qd, const ArmVector& tau,
                                const Eigen::Vector3d& gravity);

/// Sets the joint state of the multibody (and its link transforms).
void SetBulletArmState(btMultiBody* body, const ArmModel& model, const ArmVector& q,
                       const ArmVector& qd);

}  // namespace ftwin

class btMultiBodyDynamicsWorld;
class btMultiBodyConstraintSolver;

namespace ftwin {

/// A btMultiBodyDynamicsWorld holding fixed-base arms (no colliders: arms interact with the
/// cell through the cell's own geometry checks, so the world has no contact caches and its whole
/// state is the joint positions and velocities). Joint limits are Bullet limit constraints.
class BulletArmWorld {
 public:
  explicit BulletArmWorld(const Eigen::Vector3d& gravity);
  ~BulletArmWorld();
  BulletArmWorld(const BulletArmWorld&) = delete;
  BulletArmWorld& operator=(const BulletArmWorld&) = delete;

  /// Adds an arm; returns its index. `limits`: add joint-limit constraints for finite limits.
  int AddArm(const ArmModel& model, const ArmPose& base, bool limits = true);
  int num_arms() const { return static_cast<int>(arms_.size()); }
  btMultiBody* arm(int index) const { return arms_[static_cast<size_t>(index)].get(); }

  void SetState(int arm, const ArmVector& q, const ArmVector& qd);
  void GetState(int arm, ArmVector* q, ArmVector* qd) const;
  /// Joint forces applied during the next Step (cleared by it).
  void SetJointTorques(int arm, const ArmVector& tau);
  /// One step of dt seconds (one fixed sub-step).
  void Step(double dt);

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
  std::vector<std::unique_ptr<btMultiBody>> arms_;
  std::vector<int> dofs_;
};

}  // namespace ftwin
