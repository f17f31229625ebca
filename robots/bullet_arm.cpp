#include "robots/bullet_arm.h"

#include <Eigen/Eigenvalues>

namespace ftwin {
namespace {

btVector3 ToBt(const Eigen::Vector3d& v) { return btVector3(v.x(), v.y(), v.z()); }

btQuaternion ToBt(const Eigen::Matrix3d& R) {
  const Eigen::Quaterniond q(R);
  return btQuaternion(q.x(), q.y(), q.z(), q.w());
}

// Principal axes of a body inertia: columns of V (a proper rotation), moments d.
void Principal(const Eigen::Matrix3d& inertia, Eigen::Matrix3d* V, Eigen::Vector3d* d) {
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> solver(inertia);
  *V = solver.eigenvectors();
  *d = solver.eigenvalues();
  if (V->determinant() < 0) V->col(2) = -V->col(2);
}

}  // namespace

std::unique_ptr<btMultiBody> CreateBulletArm(const ArmModel& model, const ArmPose& base) {
  auto body = std::make_unique<btMultiBody>(model.dof, 0.0, btVector3(0, 0, 0), true, false);
  Eigen::Matrix3d V[kArmMaxDof];
  for (int i = 0; i < model.dof; ++i) {
    Eigen::Vector3d moments;
    Principal(model.inertia[i], &V[i], &moments);
    const int parent = model.parent[i];
    const Eigen::Matrix3d Vp = parent < 0 ? Eigen::Matrix3d::Identity() : V[parent];
    const Eigen::Vector3d cp = parent < 0 ? Eigen::Vector3d::Zero() : model.com[parent];
    const Eigen::Matrix3d rot_parent_to_this = V[i].transpose() * model.tree_R[i].transpose() * Vp;
    const Eigen::Vector3d parent_com_to_pivot = Vp.transpose() * (model.tree_p[i] - cp);
    const Eigen::Vector3d pivot_to_com = V[i].transpose() * model.com[i];
    const Eigen::Vector3d axis = V[i].transpose() * model.axis[i];
    if (model.type[i] == ArmJointType::kRevolute)
      body->setupRevolute(i, model.mass_kg[i], ToBt(moments), parent, ToBt(rot_parent_to_this),
                          ToBt(axis), ToBt(parent_com_to_pivot), ToBt(pivot_to_com), true);
    else
      body->setupPrismatic(i, model.mass_kg[i], ToBt(moments), parent, ToBt(rot_parent_to_this),
                           ToBt(axis), ToBt(parent_com_to_pivot), ToBt(pivot_to_com), true);
  }
  body->finalizeMultiDof();
  body->setBaseWorldTransform(btTransform(ToBt(base.R), ToBt(base.p)));
  body->setLinearDamping(0.0);
  body->setAngularDamping(0.0);
  body->setCanSleep(false);
  body->setMaxCoordinateVelocity(1e6);
  body->setUseGyroTerm(true);
  body->setHasSelfCollision(false);
  return body;
}

void SetBulletArmState(btMultiBody* body, const ArmModel& model, const ArmVector& q,
                       const ArmVector& qd) {
  for (int i = 0; i < model.dof; ++i) {
    body->setJointPos(i, q(i));
    body->setJointVel(i, qd(i));
  }
  btAlignedObjectArray<btQuaternion> world_to_local;
  btAlignedObjectArray<btVector3> local_origin;
  body->forwardKinematics(world_to_local, local_origin);
}

ArmVector BulletForwardDynamics(btMultiBody* body, const ArmModel& model, const ArmVector& q,
                                const ArmVector& qd, const ArmVector& tau,
                                const Eigen::Vector3d& gravity) {
  SetBulletArmState(body, model, q, qd);
  body->clearForcesAndTorques();
  for (int i = 0; i < model.dof; ++i) {
    body->addLinkForce(i, ToBt(Eigen::Vector3d(gravity * model.mass_kg[i])));
    body->addJointTorque(i, tau(i));
  }
  btAlignedObjectArray<btScalar> scratch_r;
  btAlignedObjectArray<btVector3> scratch_v;
  btAlignedObjectArray<btMatrix3x3> scratch_m;
  // With dt = 1 the velocity update is exactly qdd (plus rounding at the scale of qd).
  body->computeAccelerationsArticulatedBodyAlgorithmMultiDof(1.0, scratch_r, scratch_v, scratch_m,
                                                             false, false, false);
  ArmVector qdd = ArmVector::Zero();
  for (int i = 0; i < model.dof; ++i) qdd(i) = body->getJointVel(i) - qd(i);
  SetBulletArmState(body, model, q, qd);
  body->clearForcesAndTorques();
  return qdd;
}

}  // namespace ftwin

#include <BulletDynamics/Featherstone/btMultiBodyConstraintSolver.h>
#include <BulletDynamics/Featherstone/btMultiBodyDynamicsWorld.h>
#include <BulletDynamics/Featherstone/btMultiBodyJointLimitConstraint.h>

namespace ftwin {

struct BulletArmWorld::Parts {
  btDefaultCollisionConfiguration configuration;
  btCollisionDispatcher dispatcher{&configuration};
  btDbvtBroadphase broadphase;
  btMultiBodyConstraintSolver solver;
  btMultiBodyDynamicsWorld world{&dispatcher, &broadphase, &solver, &configuration};
  std::vector<std::unique_ptr<btMultiBodyJointLimitConstraint>> limits;
};

BulletArmWorld::BulletArmWorld(const Eigen::Vector3d& gravity) : parts_(std::make_unique<Parts>()) {
  parts_->world.setGravity(ToBt(gravity));
}

BulletArmWorld::~BulletArmWorld() {
  for (auto& limit : parts_->limits) parts_->world.removeMultiBodyConstraint(limit.get());
  for (auto& arm : arms_) parts_->world.removeMultiBody(arm.get());
}

int BulletArmWorld::AddArm(const ArmModel& model, const ArmPose& base, bool limits) {
  auto body = CreateBulletArm(model, base);
  parts_->world.addMultiBody(body.get());
  if (limits)
    for (int i = 0; i < model.dof; ++i)
      if (std::isfinite(model.lower[i]) && std::isfinite(model.upper[i])) {
        auto limit = std::make_unique<btMultiBodyJointLimitConstraint>(
            body.get(), i, model.lower[i], model.upper[i]);
        parts_->world.addMultiBodyConstraint(limit.get());
        parts_->limits.push_back(std::move(limit));
      }
  arms_.push_back(std::move(body));
  dofs_.push_back(model.dof);
  return static_cast<int>(arms_.size()) - 1;
}

void BulletArmWorld::SetState(int arm, const ArmVector& q, const ArmVector& qd) {
  btMultiBody* body = arms_[static_cast<size_t>(arm)].get();
  for (int i = 0; i < dofs_[static_cast<size_t>(arm)]; ++i) {
    body->setJointPos(i, q(i));
    body->setJointVel(i, qd(i));
  }
  btAlignedObjectArray<btQuaternion> world_to_local;
  btAlignedObjectArray<btVector3> local_origin;
  body->forwardKinematics(world_to_local, local_origin);
}

void BulletArmWorld::GetState(int arm, ArmVector* q, ArmVector* qd) const {
  const btMultiBody* body = arms_[static_cast<size_t>(arm)].get();
  q->setZero();
  qd->setZero();
  for (int i = 0; i < dofs_[static_cast<size_t>(arm)]; ++i) {
    (*q)(i) = body->getJointPos(i);
    (*qd)(i) = body->getJointVel(i);
  }
}

void BulletArmWorld::SetJointTorques(int arm, const ArmVector& tau) {
  btMultiBody* body = arms_[static_cast<size_t>(arm)].get();
  for (int i = 0; i < dofs_[static_cast<size_t>(arm)]; ++i) body->addJointTorque(i, tau(i));
}

void BulletArmWorld::Step(double dt) { parts_->world.stepSimulation(dt, 0, dt); }

}  // namespace ftwin
