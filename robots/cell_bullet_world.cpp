#include "robots/cell_bullet_world.h"

#include <BulletDynamics/ConstraintSolver/btFixedConstraint.h>
#include <BulletDynamics/Featherstone/btMultiBodyConstraintSolver.h>
#include <BulletDynamics/Featherstone/btMultiBodyDynamicsWorld.h>
#include <BulletDynamics/Featherstone/btMultiBodyJointLimitConstraint.h>

#include <algorithm>
#include <cmath>

#include "robots/bullet_arm.h"

namespace ftwin {
namespace {

const Eigen::Vector3d kCellGravity(0.0, 0.0, -9.80665);

// User indices that tell the belt pass which collision objects are which.
constexpr int kTagNone = 0, kTagBelt = 1;

// Belt thickness when the belt top is close to the floor [m] (the belt is a raised box).
constexpr double kMinBeltThickness = 0.05;
// Extra belt beyond the body's half length at either end [m], so a body at the entry or exit
// point still has its centre of mass well over the belt.
constexpr double kBeltOverhang = 0.5;
// Clearance between the body's side and the station's clamp posts [m].
constexpr double kFixtureClearance = 0.15;
// Solver iterations per step (see the constructor).
constexpr int kSolverIterations = 50;
constexpr double kAgvLength = kCellAgvLength, kAgvHeight = kCellAgvHeight,
                 kAgvExtraWidth = kCellAgvExtraWidth;

btVector3 ToBt(const Eigen::Vector3d& v) { return btVector3(v.x(), v.y(), v.z()); }

// A btMultiBodyDynamicsWorld whose belt contacts carry the belt's surface velocity. The hook
// sits between collision detection and the solver (solveConstraints), where the step's fresh
// contact points exist and are not yet converted into solver rows.
class BeltWorld final : public btMultiBodyDynamicsWorld {
 public:
  using btMultiBodyDynamicsWorld::btMultiBodyDynamicsWorld;
  double belt_speed_m_per_s = 0.0;

  void solveConstraints(btContactSolverInfo& info) override {
    btDispatcher* dispatcher = getDispatcher();
    for (int m = 0; m < dispatcher->getNumManifolds(); ++m) {
      btPersistentManifold* manifold = dispatcher->getManifoldByIndexInternal(m);
      const bool belt0 = manifold->getBody0()->getUserIndex() == kTagBelt;
      const bool belt1 = manifold->getBody1()->getUserIndex() == kTagBelt;
      if (belt0 == belt1) continue;
      // The solver drives dir1 . (v_body0 - v_body1) to m_contactMotion1 (within the friction
      // limit): +speed when the carried body is body0, -speed when the belt is.
      const double motion = belt1 ? belt_speed_m_per_s : -belt_speed_m_per_s;
      for (int p = 0; p < manifold->getNumContacts(); ++p) {
        btManifoldPoint& point = manifold->getContactPoint(p);
        const btVector3& n = point.m_normalWorldOnB;
        btVector3 along = btVector3(1, 0, 0) - n * n.x();
        if (along.length2() < 1e-12) continue;  // a contact on a belt end face
        along.normalize();
        point.m_lateralFrictionDir1 = along;
        point.m_lateralFrictionDir2 = n.cross(along);
        point.m_contactMotion1 = motion;
        point.m_contactMotion2 = 0.0;
        point.m_contactPointFlags |= BT_CONTACT_FLAG_LATERAL_FRICTION_INITIALIZED;
      }
    }
    btMultiBodyDynamicsWorld::solveConstraints(info);
  }
};

// A static box; `friction` is the contact coefficient against the car body (whose own friction
// is 1: Bullet multiplies the two).
std::unique_ptr<btRigidBody> StaticBox(btCollisionShape* shape, const Eigen::Vector3d& center,
                                       double friction, int tag, double yaw_rad = 0.0) {
  btRigidBody::btRigidBodyConstructionInfo info(0.0, nullptr, shape);
  info.m_startWorldTransform = btTransform(
      yaw_rad == 0.0 ? btQuaternion::getIdentity() : btQuaternion(btVector3(0, 0, 1), yaw_rad),
      ToBt(center));
  info.m_friction = friction;
  info.m_restitution = 0.0;
  auto body = std::make_unique<btRigidBody>(info);
  body->setUserIndex(tag);
  return body;
}

}  // namespace

struct CellBulletWorld::Parts {
  btDefaultCollisionConfiguration configuration;
  btCollisionDispatcher dispatcher{&configuration};
  btDbvtBroadphase broadphase;
  btMultiBodyConstraintSolver solver;
  BeltWorld world{&dispatcher, &broadphase, &solver, &configuration};
  std::vector<std::unique_ptr<btMultiBody>> arms;
  std::vector<std::unique_ptr<btMultiBodyJointLimitConstraint>> limits;
  std::vector<std::unique_ptr<btCollisionShape>> shapes;
  std::vector<std::unique_ptr<btRigidBody>> bodies;  // in the order they were added
  btRigidBody* car = nullptr;
  btRigidBody* agv = nullptr;
  std::unique_ptr<btFixedConstraint> clamp;
  // Part bodies (rows of the `parts` field) and their fixed constraints to the car body.
  std::vector<btRigidBody*> parts;
  std::vector<btRigidBody*> fixture_bodies;  // as config.fixtures
  std::vector<std::unique_ptr<btFixedConstraint>> part_joints;

  btCollisionShape* Box(const Eigen::Vector3d& size) {
    shapes.push_back(std::make_unique<btBoxShape>(ToBt(0.5 * size)));
    return shapes.back().get();
  }
  btRigidBody* Add(std::unique_ptr<btRigidBody> body, bool collides = true) {
    if (collides)
      world.addRigidBody(body.get());
    else
      world.addRigidBody(body.get(), btBroadphaseProxy::KinematicFilter, 0);
    bodies.push_back(std::move(body));
    return bodies.back().get();
  }
};

void CellBodyAtRest(const RobotCellBlock::Config& config, double x, double vx, double* body) {
  std::fill(body, body + kRigidSlots, 0.0);
  body[kRigidX] = x;
  body[kRigidZ] = config.body_floor_m + 0.5 * config.body_size_m.z();
  body[kRigidQw] = 1.0;
  body[kRigidVx] = vx;
}

double CellBodyYaw(const double* body) {
  const double x = body[kRigidQx], y = body[kRigidQy], z = body[kRigidQz], w = body[kRigidQw];
  return std::atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z));
}

CellBulletWorld::CellBulletWorld(const RobotCellBlock::Config& config)
    : parts_(std::make_unique<Parts>()) {
  Parts& p = *parts_;
  p.world.setGravity(ToBt(kCellGravity));
  // History-free steps: no warm starting (manifolds are also emptied before every step), the
  // belt's friction directions are taken from the contact points (direction caching is what
  // lets the solver read them), two friction directions per contact, and pairs processed in
  // proxy-id order with empty manifolds skipped, so the solver sees the same rows in the same
  // order whatever the broadphase's history.
  btContactSolverInfo& solver = p.world.getSolverInfo();
  solver.m_solverMode =
      SOLVER_SIMD | SOLVER_USE_2_FRICTION_DIRECTIONS | SOLVER_ENABLE_FRICTION_DIRECTION_CACHING;
  // Without warm starting, Bullet's default 10 Gauss-Seidel iterations leave a box resting on
  // four contact points rocking (vertical velocity spikes of ~1 cm/s, 5 um dips at 1 ms); 50
  // converge (the body rests to 1e-14 m/s) at a few microseconds per tick.
  solver.m_numIterations = kSolverIterations;
  p.world.getDispatchInfo().m_deterministicOverlappingPairs = true;

  // Arms (as BulletArmWorld): fixed-base multibodies, Bullet limit constraints, no colliders.
  for (const RobotCellBlock::Robot& robot : config.robots) {
    auto arm = CreateBulletArm(robot.arm, robot.base);
    p.world.addMultiBody(arm.get());
    for (int i = 0; i < robot.arm.dof; ++i)
      if (std::isfinite(robot.arm.lower[i]) && std::isfinite(robot.arm.upper[i])) {
        auto limit = std::make_unique<btMultiBodyJointLimitConstraint>(
            arm.get(), i, robot.arm.lower[i], robot.arm.upper[i]);
        p.world.addMultiBodyConstraint(limit.get());
        p.limits.push_back(std::move(limit));
      }
    p.arms.push_back(std::move(arm));
    dofs_.push_back(robot.arm.dof);
  }

  // Static geometry: the floor (top at z = 0), the belt segments (top at body_floor_m), the
  // clamp posts beside the station.
  const Eigen::Vector3d body = config.body_size_m;
  const double belt_top = config.body_floor_m;
  const double thickness = std::max(belt_top, kMinBeltThickness);
  const double start = -config.conveyor_length_m - 0.5 * body.x() - kBeltOverhang;
  const double end = config.exit_length_m + 0.5 * body.x() + kBeltOverhang;
  const double station_half = 0.5 * body.x();
  const double floor_extent = 2.0 * (end - start) + 50.0;
  p.Add(StaticBox(p.Box(Eigen::Vector3d(floor_extent, floor_extent, 1.0)),
                  Eigen::Vector3d(0.5 * (start + end), 0.0, -0.5), config.floor_friction,
                  kTagNone));
  const double belt_width = 0.8 * body.y();
  const double cuts[4] = {start, -station_half, station_half, end};  // infeed, station, exit
  for (int s = 0; s < 3; ++s) {
    const double length = cuts[s + 1] - cuts[s];
    p.Add(StaticBox(p.Box(Eigen::Vector3d(length, belt_width, thickness)),
                    Eigen::Vector3d(0.5 * (cuts[s] + cuts[s + 1]), 0.0, belt_top - 0.5 * thickness),
                    config.belt_friction, kTagBelt));
  }
  // The fixtures: the clamp posts (the first two), then the scenario's `fixtures`.
  btRigidBody* fixture = nullptr;
  for (size_t f = 0; f < config.fixtures.size(); ++f) {
    const RobotCellBlock::Fixture& box = config.fixtures[f];
    btRigidBody* added = p.Add(
        StaticBox(p.Box(box.size_m), box.center_m, config.floor_friction, kTagNone, box.yaw_rad));
    p.fixture_bodies.push_back(added);
    if (f + 1 == static_cast<size_t>(kCellClampPosts)) fixture = added;  // the left post
  }

  // The car body: a dynamic box of the configured mass with a box's inertia.
  {
    btCollisionShape* shape = p.Box(body);
    btVector3 inertia(0, 0, 0);
    shape->calculateLocalInertia(config.body_mass_kg, inertia);
    btRigidBody::btRigidBodyConstructionInfo info(config.body_mass_kg, nullptr, shape, inertia);
    info.m_friction = 1.0;
    info.m_restitution = 0.0;
    info.m_linearDamping = 0.0;
    info.m_angularDamping = 0.0;
    double rest[kRigidSlots];
    CellBodyAtRest(config, -config.conveyor_length_m, 0.0, rest);
    info.m_startWorldTransform =
        btTransform(btQuaternion::getIdentity(), btVector3(rest[0], rest[1], rest[2]));
    auto car = std::make_unique<btRigidBody>(info);
    car->setActivationState(DISABLE_DEACTIVATION);
    p.car = p.Add(std::move(car));
  }

  // The clamp: the body's frame locked to the station datum (centre at the cell origin, resting
  // on the belt, level), expressed in the clamp post's frame.
  {
    double datum[kRigidSlots];
    CellBodyAtRest(config, 0.0, 0.0, datum);
    const btTransform datum_world(btQuaternion::getIdentity(),
                                  btVector3(datum[0], datum[1], datum[2]));
    const btTransform in_fixture = fixture->getWorldTransform().inverse() * datum_world;
    p.clamp = std::make_unique<btFixedConstraint>(*p.car, *fixture, btTransform::getIdentity(),
                                                  in_fixture);
    p.clamp->setEnabled(false);
    p.world.addConstraint(p.clamp.get(), true);
  }

  // The AGV: a kinematic chassis on the floor (it carries no Bullet load). It collides with the
  // static geometry (floor, belts, clamp posts, fixtures), which gives contact points (found
  // where the cell's own chassis-against-fixture check finds an overlap) but no response: both
  // sides are immovable. Not with the car body: its go-to-goal route knows nothing of the line
  // and may cross the conveyor (the assembly scenarios' routes do), where a kinematic chassis
  // would shove the car body aside.
  if (config.agv_enabled) {
    const Eigen::Vector3d size(kAgvLength, config.agv.track_m + kAgvExtraWidth, kAgvHeight);
    btRigidBody::btRigidBodyConstructionInfo info(0.0, nullptr, p.Box(size));
    info.m_startWorldTransform = btTransform(
        btQuaternion::getIdentity(),
        btVector3(config.agv_dropoff_xy[0], config.agv_dropoff_xy[1], 0.5 * kAgvHeight));
    auto agv = std::make_unique<btRigidBody>(info);
    agv->setCollisionFlags(agv->getCollisionFlags() | btCollisionObject::CF_KINEMATIC_OBJECT);
    agv->setActivationState(DISABLE_DEACTIVATION);
    p.world.addRigidBody(agv.get(), btBroadphaseProxy::KinematicFilter,
                         btBroadphaseProxy::StaticFilter);
    p.bodies.push_back(std::move(agv));
    p.agv = p.bodies.back().get();
  }

  // Part bodies: dynamic boxes of the part's mass that collide with nothing (their placement is
  // the cell's grip-tolerance rule; contacts with the body they are pressed onto would fight the
  // clamp), each with a fixed constraint to the car body that holds it once placed. All exist
  // from the start, so the world's arrays never change order; absent parts are parked below the
  // floor and reloaded every step.
  std::vector<int> first_row;
  const int rows = RobotCellBlock::PartRows(config, &first_row);
  p.parts.resize(static_cast<size_t>(rows), nullptr);
  p.part_joints.resize(static_cast<size_t>(rows));
  for (size_t r = 0; r < config.robots.size(); ++r) {
    if (first_row[r] < 0) continue;
    const RobotCellBlock::Robot& robot = config.robots[r];
    btCollisionShape* shape = p.Box(robot.part_size_m);
    btVector3 inertia(0, 0, 0);
    shape->calculateLocalInertia(robot.part_mass_kg, inertia);
    for (size_t k = 0; k <= robot.spots.size(); ++k) {
      btRigidBody::btRigidBodyConstructionInfo info(robot.part_mass_kg, nullptr, shape, inertia);
      info.m_startWorldTransform = btTransform(btQuaternion::getIdentity(), btVector3(0, 0, -5));
      info.m_friction = 1.0;
      info.m_restitution = 0.0;
      auto part = std::make_unique<btRigidBody>(info);
      part->setActivationState(DISABLE_DEACTIVATION);
      const size_t row = static_cast<size_t>(first_row[r]) + k;
      p.world.addRigidBody(part.get(), btBroadphaseProxy::DefaultFilter, 0);
      p.bodies.push_back(std::move(part));
      p.parts[row] = p.bodies.back().get();
      p.part_joints[row] = std::make_unique<btFixedConstraint>(
          *p.car, *p.parts[row], btTransform::getIdentity(), btTransform::getIdentity());
      p.part_joints[row]->setEnabled(false);
      p.world.addConstraint(p.part_joints[row].get(), true);
    }
  }
}

int CellBulletWorld::num_parts() const { return static_cast<int>(parts_->parts.size()); }

bool CellBulletWorld::AgvTouchesFixture(int fixture) const {
  Parts& p = *parts_;
  if (p.agv == nullptr) return false;
  const btCollisionObject* other = p.fixture_bodies[static_cast<size_t>(fixture)];
  for (int m = 0; m < p.dispatcher.getNumManifolds(); ++m) {
    const btPersistentManifold* manifold = p.dispatcher.getManifoldByIndexInternal(m);
    const bool pair = (manifold->getBody0() == p.agv && manifold->getBody1() == other) ||
                      (manifold->getBody1() == p.agv && manifold->getBody0() == other);
    if (!pair) continue;
    for (int c = 0; c < manifold->getNumContacts(); ++c)
      if (manifold->getContactPoint(c).getDistance() < 0.0) return true;
  }
  return false;
}

CellBulletWorld::~CellBulletWorld() {
  Parts& p = *parts_;
  for (auto& joint : p.part_joints) p.world.removeConstraint(joint.get());
  p.world.removeConstraint(p.clamp.get());
  for (auto& body : p.bodies) p.world.removeRigidBody(body.get());
  for (auto& limit : p.limits) p.world.removeMultiBodyConstraint(limit.get());
  for (auto& arm : p.arms) p.world.removeMultiBody(arm.get());
}

void CellBulletWorld::SetArmState(int arm, const ArmVector& q, const ArmVector& qd) {
  btMultiBody* body = parts_->arms[static_cast<size_t>(arm)].get();
  for (int i = 0; i < dofs_[static_cast<size_t>(arm)]; ++i) {
    body->setJointPos(i, q(i));
    body->setJointVel(i, qd(i));
  }
  btAlignedObjectArray<btQuaternion> world_to_local;
  btAlignedObjectArray<btVector3> local_origin;
  body->forwardKinematics(world_to_local, local_origin);
}

void CellBulletWorld::GetArmState(int arm, ArmVector* q, ArmVector* qd) const {
  const btMultiBody* body = parts_->arms[static_cast<size_t>(arm)].get();
  q->setZero();
  qd->setZero();
  for (int i = 0; i < dofs_[static_cast<size_t>(arm)]; ++i) {
    (*q)(i) = body->getJointPos(i);
    (*qd)(i) = body->getJointVel(i);
  }
}

void CellBulletWorld::SetArmTorques(int arm, const ArmVector& tau) {
  btMultiBody* body = parts_->arms[static_cast<size_t>(arm)].get();
  for (int i = 0; i < dofs_[static_cast<size_t>(arm)]; ++i) body->addJointTorque(i, tau(i));
}

namespace {

// Loads a rigid body's state (CellBodySlot order) into a Bullet body: velocities first
// (setCenterOfMassTransform copies them into the interpolation state), then the pose, which also
// refreshes the world inertia.
void LoadRigid(const double* state, btRigidBody* body) {
  body->setLinearVelocity(btVector3(state[kRigidVx], state[kRigidVy], state[kRigidVz]));
  body->setAngularVelocity(btVector3(state[kRigidWx], state[kRigidWy], state[kRigidWz]));
  body->setCenterOfMassTransform(
      btTransform(btQuaternion(state[kRigidQx], state[kRigidQy], state[kRigidQz], state[kRigidQw]),
                  btVector3(state[kRigidX], state[kRigidY], state[kRigidZ])));
  body->clearForces();
}

void SaveRigid(const btRigidBody* body, double* state) {
  const btTransform& pose = body->getWorldTransform();
  const btQuaternion q = pose.getRotation();
  const btVector3 v = body->getLinearVelocity(), w = body->getAngularVelocity();
  state[kRigidX] = pose.getOrigin().x();
  state[kRigidY] = pose.getOrigin().y();
  state[kRigidZ] = pose.getOrigin().z();
  state[kRigidQx] = q.x();
  state[kRigidQy] = q.y();
  state[kRigidQz] = q.z();
  state[kRigidQw] = q.w();
  state[kRigidVx] = v.x();
  state[kRigidVy] = v.y();
  state[kRigidVz] = v.z();
  state[kRigidWx] = w.x();
  state[kRigidWy] = w.y();
  state[kRigidWz] = w.z();
}

}  // namespace

void CellBulletWorld::Step(double dt, const CellBulletInputs& inputs, double* body, double* parts) {
  Parts& p = *parts_;
  // The parts from the State; a placed part's constraint holds it at its placement pose in the
  // car body's frame.
  for (size_t row = 0; row < p.parts.size(); ++row) {
    const double* part = parts + row * kPartSlots;
    LoadRigid(part + kPartRigid, p.parts[row]);
    const bool on_body = part[kPartMode] == kPartOnBody;
    p.part_joints[row]->setEnabled(on_body);
    if (on_body) {
      const double* a = part + kPartAttach;
      p.part_joints[row]->setFrames(
          btTransform(btQuaternion(a[3], a[4], a[5], a[6]), btVector3(a[0], a[1], a[2])),
          btTransform::getIdentity());
    }
  }
  // The car body from the State: velocities first (setCenterOfMassTransform copies them into
  // the interpolation state), then the pose, which also refreshes the world inertia.
  LoadRigid(body, p.car);
  // The AGV moves from its pose before this tick to its pose after it; Bullet derives the
  // kinematic body's velocity from the two (saveKinematicState).
  if (p.agv != nullptr) {
    auto pose = [](const double* xyh) {
      return btTransform(btQuaternion(btVector3(0, 0, 1), xyh[2]),
                         btVector3(xyh[0], xyh[1], 0.5 * kAgvHeight));
    };
    p.agv->setInterpolationWorldTransform(pose(inputs.agv_before));
    p.agv->setWorldTransform(pose(inputs.agv_after));
  }
  p.world.belt_speed_m_per_s = inputs.belt_speed_m_per_s;
  p.clamp->setEnabled(inputs.clamp);
  // No contact survives from the previous step: every point is found afresh.
  for (int m = 0; m < p.dispatcher.getNumManifolds(); ++m)
    p.dispatcher.getManifoldByIndexInternal(m)->clearManifold();
  p.world.stepSimulation(dt, 0, dt);
  // Export: the car body, and the parts Bullet moved (those on the car body).
  SaveRigid(p.car, body);
  for (size_t row = 0; row < p.parts.size(); ++row) {
    double* part = parts + row * kPartSlots;
    if (part[kPartMode] == kPartOnBody) SaveRigid(p.parts[row], part + kPartRigid);
  }
}

void CellBulletWorld::Save(ByteWriter& writer) const {
  for (int r = 0; r < num_arms(); ++r) {
    ArmVector q, qd;
    GetArmState(r, &q, &qd);
    for (int i = 0; i < dofs_[static_cast<size_t>(r)]; ++i) {
      writer.Value(q(i));
      writer.Value(qd(i));
    }
  }
}

void CellBulletWorld::Load(ByteReader& reader) {
  for (int r = 0; r < num_arms(); ++r) {
    ArmVector q = ArmVector::Zero(), qd = ArmVector::Zero();
    for (int i = 0; i < dofs_[static_cast<size_t>(r)]; ++i) {
      q(i) = reader.Value<double>();
      qd(i) = reader.Value<double>();
    }
    SetArmState(r, q, qd);
  }
}

}  // namespace ftwin
