// Arm dynamics on one core, same arm, same dt, same semi-implicit Euler scheme (velocity from
// the accelerations at the start of the step, then position):
//   ftwin native plant step (robots/arm_native.h: CRBA mass matrix + Cholesky, friction/limit
//   solver skipped when inactive)  vs  Bullet btMultiBody (Featherstone ABA inside
//   btMultiBodyDynamicsWorld::stepSimulation)  vs  MuJoCo 2.2.2 mj_step (integrator Euler,
//   contacts off, same bodies and inertias written as MJCF from our ArmModel),
// plus ftwin's RNEA alone and an RK4 step; then the 4-robot weld cell (scenarios/robots/
// weld_cell.yaml) with Bullet and with native physics as a multiple of real time. Interleaved
// rounds, medians reported. MuJoCo (Debian libmujoco-dev) is optional: without it the MuJoCo
// column reads "-".
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <vector>

#ifdef FTWIN_HAVE_MUJOCO
#include <mujoco/mujoco.h>

#include <unistd.h>
#endif

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "robots/arm_native.h"
#include "robots/bullet_arm.h"
#include "robots/register.h"
#include "robots/robot_model.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace ftwin;

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double TimeIt(const std::function<void()>& body) {
  const auto start = Clock::now();
  body();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

#ifdef FTWIN_HAVE_MUJOCO
// MJCF of the arm: one body per arm body at (tree_R, tree_p) in its parent, a hinge or slide
// along the joint axis at the body origin, the inertial exactly ours (full tensor at the COM),
// no geoms, contacts off, no limits, no damping or armature, integrator Euler (semi-implicit).
void WriteBody(const ArmModel& arm, int i, std::ostringstream& out) {
  const Eigen::Quaterniond q(arm.tree_R[i]);
  const Eigen::Matrix3d& I = arm.inertia[i];
  out.precision(17);
  out << "<body name=\"b" << i << "\" pos=\"" << arm.tree_p[i].x() << " " << arm.tree_p[i].y()
      << " " << arm.tree_p[i].z() << "\" quat=\"" << q.w() << " " << q.x() << " " << q.y() << " "
      << q.z() << "\">\n";
  out << "<joint name=\"j" << i << "\" type=\""
      << (arm.type[i] == ArmJointType::kRevolute ? "hinge" : "slide") << "\" axis=\""
      << arm.axis[i].x() << " " << arm.axis[i].y() << " " << arm.axis[i].z()
      << "\" limited=\"false\" damping=\"0\" armature=\"0\" frictionloss=\"0\"/>\n";
  out << "<inertial pos=\"" << arm.com[i].x() << " " << arm.com[i].y() << " " << arm.com[i].z()
      << "\" mass=\"" << arm.mass_kg[i] << "\" fullinertia=\"" << I(0, 0) << " " << I(1, 1) << " "
      << I(2, 2) << " " << I(0, 1) << " " << I(0, 2) << " " << I(1, 2) << "\"/>\n";
  for (int c = i + 1; c < arm.dof; ++c)
    if (arm.parent[c] == i) WriteBody(arm, c, out);
  out << "</body>\n";
}

mjModel* MujocoArm(const ArmModel& arm, double dt) {
  std::ostringstream out;
  out << "<mujoco model=\"arm\">\n<compiler angle=\"radian\" inertiafromgeom=\"false\"/>\n"
      << "<option timestep=\"" << dt
      << "\" integrator=\"Euler\" gravity=\"0 0 -9.80665\">\n<flag contact=\"disable\"/>\n"
      << "</option>\n<worldbody>\n";
  for (int i = 0; i < arm.dof; ++i)
    if (arm.parent[i] < 0) WriteBody(arm, i, out);
  out << "</worldbody>\n</mujoco>\n";
  const std::string file = "/tmp/ftwin_bench_arm_" + std::to_string(::getpid()) + ".xml";
  {
    std::ofstream xml(file);
    xml << out.str();
  }
  char error[1000] = "";
  mjModel* model = mj_loadXML(file.c_str(), nullptr, error, sizeof error);
  std::remove(file.c_str());
  if (model == nullptr) std::printf("MuJoCo rejected the model: %s\n", error);
  return model;
}

// The model check: masses body by body, the joint-space mass matrix at q0 and the accelerations
// of the free arm, ours against MuJoCo's; then 1 s of the same stepping from q0.
void CheckMujoco(const char* label, const ArmModel& arm, const mjModel* m, const ArmVector& q0,
                 const Eigen::Vector3d& gravity, double dt) {
  double mass_diff = 0;
  for (int i = 0; i < arm.dof; ++i)
    mass_diff = std::max(mass_diff, std::abs(m->body_mass[i + 1] - arm.mass_kg[i]));
  mjData* d = mj_makeData(m);
  for (int i = 0; i < arm.dof; ++i) d->qpos[i] = q0(i);
  mj_forward(m, d);
  std::vector<mjtNum> full(static_cast<size_t>(m->nv * m->nv));
  mj_fullM(m, full.data(), d->qM);
  const ArmMatrix H = ArmMassMatrix(arm, q0);
  double h_diff = 0;
  for (int r = 0; r < arm.dof; ++r)
    for (int c = 0; c < arm.dof; ++c)
      h_diff = std::max(h_diff, std::abs(full[static_cast<size_t>(r * m->nv + c)] - H(r, c)));
  ArmVector qdd;
  ArmForwardDynamics(arm, q0, ArmVector::Zero(), ArmVector::Zero(), gravity, &qdd, false);
  double a_diff = 0;
  for (int i = 0; i < arm.dof; ++i) a_diff = std::max(a_diff, std::abs(d->qacc[i] - qdd(i)));
  ArmVector q = q0, qd = ArmVector::Zero();
  double traj_diff = 0;
  for (int k = 0; k < 1000; ++k) {
    mj_step(m, d);
    ArmNativeStep(arm, ArmVector::Zero(), gravity, dt, &q, &qd);
    for (int i = 0; i < arm.dof; ++i) traj_diff = std::max(traj_diff, std::abs(d->qpos[i] - q(i)));
  }
  mj_deleteData(d);
  std::printf(
      "  MuJoCo model check %-18s total mass %.6f kg (ours %.6f), max |dm| %.2e kg, max |dH| "
      "%.2e, max |dqdd| %.2e, 1 s free swing max |dq| %.2e rad\n",
      label, mj_getTotalmass(m),
      [&] {
        double total = 0;
        for (int i = 0; i < arm.dof; ++i) total += arm.mass_kg[i];
        return total;
      }(),
      mass_diff, h_diff, a_diff, traj_diff);
}
#endif

void BenchArm(const char* label, ArmModel arm) {
  const Eigen::Vector3d gravity(0, 0, -9.80665);
  const double dt = 1e-3;
  // 5 s per round: a longer unlimited free swing of the light Panda spins up until MuJoCo
  // declares it unstable and resets it.
  const int steps = 5000, rounds = 9;
  // The same plant for every peer: no joint friction, no limits (a free swing may wrap).
  for (int i = 0; i < arm.dof; ++i) {
    arm.viscous[i] = arm.coulomb[i] = 0.0;
    arm.lower[i] = -std::numeric_limits<double>::infinity();
    arm.upper[i] = std::numeric_limits<double>::infinity();
  }
  ArmVector q0 = ArmVector::Zero();
  for (int i = 0; i < arm.dof; ++i) q0(i) = 0.3 * ((i % 3) - 1);
  std::vector<double> ours, rk4, bullet, rnea, mujoco;
#ifdef FTWIN_HAVE_MUJOCO
  mjModel* mj = MujocoArm(arm, dt);
  if (mj != nullptr) CheckMujoco(label, arm, mj, q0, gravity, dt);
#endif
  double sink = 0;
  for (int round = 0; round < rounds; ++round) {
    ArmVector q = q0, qd = ArmVector::Zero();
    const ArmVector tau = ArmVector::Zero();
    ours.push_back(steps / TimeIt([&] {
                     for (int k = 0; k < steps; ++k) ArmNativeStep(arm, tau, gravity, dt, &q, &qd);
                   }));
    sink += q(0);
    q = q0, qd.setZero();
    rk4.push_back(steps / TimeIt([&] {
                    for (int k = 0; k < steps; ++k)
                      ArmRk4Step(arm, tau, gravity, dt, &q, &qd, false);
                  }));
    sink += q(0);
    q = q0, qd.setZero();
    rnea.push_back(steps / TimeIt([&] {
                     for (int k = 0; k < steps; ++k) {
                       q(0) += 1e-6;
                       sink += ArmInverseDynamics(arm, q, qd, qd, gravity, false)(0);
                     }
                   }));
    BulletArmWorld world(gravity);
    world.AddArm(arm, {}, false);
    world.SetState(0, q0, ArmVector::Zero());
    bullet.push_back(steps / TimeIt([&] {
                       for (int k = 0; k < steps; ++k) world.Step(dt);
                     }));
    world.GetState(0, &q, &qd);
    sink += q(0);
#ifdef FTWIN_HAVE_MUJOCO
    if (mj != nullptr) {
      mjData* d = mj_makeData(mj);
      for (int i = 0; i < arm.dof; ++i) d->qpos[i] = q0(i);
      mujoco.push_back(steps / TimeIt([&] {
                         for (int k = 0; k < steps; ++k) mj_step(mj, d);
                       }));
      sink += d->qpos[0];
      mj_deleteData(d);
    }
#endif
  }
#ifdef FTWIN_HAVE_MUJOCO
  if (mj != nullptr) mj_deleteModel(mj);
#endif
  char mujoco_text[32] = "-";
  if (!mujoco.empty()) std::snprintf(mujoco_text, sizeof mujoco_text, "%.0f", Median(mujoco));
  std::printf("%-22s %3d  %14.0f %14.0f %14s %14.0f %14.0f   native/Bullet %.2f", label, arm.dof,
              Median(ours), Median(bullet), mujoco_text, Median(rk4), Median(rnea),
              Median(ours) / Median(bullet));
  if (!mujoco.empty()) std::printf("  native/MuJoCo %.2f", Median(ours) / Median(mujoco));
  std::printf("\n");
  if (sink == 12345.678) std::printf(" ");
}

}  // namespace

int main() {
  const std::filesystem::path shared = std::filesystem::path(FTWIN_SHARED_DIR) / "data/robots";
  UrdfImportOptions options;
  options.allow_missing_meshes = true;
  std::printf("Arm dynamics, steps/s on one core (dt 1 ms, free swing under gravity)\n");
  std::printf("%-22s %3s  %14s %14s %14s %14s %14s\n", "arm", "dof", "ftwin native", "Bullet world",
              "MuJoCo 2.2.2", "ftwin RK4", "ftwin RNEA/s");
  BenchArm("UR5e", RobotModel::FromUrdfFile(FTWIN_ROBOTS_DATA_DIR "/ur5e.urdf", options).arm());
  BenchArm("KUKA KR 210 L150", RobotModel::FromUrdfFile(shared / "kr210l150.urdf", options).arm());
  // The Panda's two prismatic fingers would slide off an unlimited free swing (MuJoCo then
  // reports a singular inertia and resets): they are merged into the hand, 7 dof.
  ArmModel panda = RobotModel::FromUrdfFile(shared / "panda.urdf", options).arm();
  for (int finger = panda.dof - 1; finger >= 7; --finger) {
    const int hand = panda.parent[finger];
    AddArmPayload(&panda, hand, panda.mass_kg[finger],
                  panda.tree_p[finger] + panda.tree_R[finger] * panda.com[finger],
                  panda.tree_R[finger] * panda.inertia[finger] * panda.tree_R[finger].transpose());
  }
  panda.dof = 7;
  BenchArm("Franka Panda (hand)", panda);

  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterRobotBlocks(registry);
  const std::filesystem::path file =
      std::filesystem::path(FTWIN_SOURCE_DIR) / "scenarios/robots/weld_cell.yaml";
  std::string text;
  {
    std::ifstream in(file);
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  const std::string anchor = "    type: robot_cell\n";
  std::string native_text = text;
  native_text.insert(native_text.find(anchor) + anchor.size(), "    physics: native\n");
  const RunOverrides overrides{.duration_ns = 60'000'000'000, .num_threads = 1};
  const auto bullet_model = LoadScenarioText(text, file, registry, overrides).model;
  const auto native_model = LoadScenarioText(native_text, file, registry, overrides).model;
  std::vector<double> bullet_factors, native_factors;
  for (int round = 0; round < 3; ++round) {
    for (int physics = 0; physics < 2; ++physics) {
      Simulator simulator(physics == 0 ? bullet_model : native_model);
      const double wall = TimeIt([&] { simulator.Step(60000); });
      (physics == 0 ? bullet_factors : native_factors).push_back(60.0 / wall);
    }
  }
  std::printf(
      "\nWeld cell (4 x KR 210, dt 1 ms, 60 s simulated, 1 thread, median of 3): Bullet %.1f x "
      "real time, native %.1f x real time (native/Bullet %.2f)\n",
      Median(bullet_factors), Median(native_factors),
      Median(native_factors) / Median(bullet_factors));
  return 0;
}
