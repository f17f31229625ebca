// Arm dynamics on one core, same arm, same dt, same semi-implicit Euler scheme as Bullet's
// multibody world (velocity from the accelerations at the start of the step, then position):
//   ftwin ABA-free forward dynamics (RNEA mass matrix + Cholesky)   vs   Bullet btMultiBody
//   (Featherstone ABA inside btMultiBodyDynamicsWorld::stepSimulation),
// plus ftwin's RNEA alone and an RK4 step; then the 4-robot weld cell (scenarios/robots/
// weld_cell.yaml) as a multiple of real time. Interleaved rounds, medians reported.
// MuJoCo 2.2.2 (libmujoco-dev) is not in Debian 12's archive for this machine, so it is absent.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <vector>

#include "engine/scenario.h"
#include "engine/simulator.h"
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

void BenchArm(const char* label, const ArmModel& arm) {
  const Eigen::Vector3d gravity(0, 0, -9.80665);
  const double dt = 1e-3;
  const int steps = 20000, rounds = 5;
  ArmVector q0 = ArmVector::Zero();
  for (int i = 0; i < arm.dof; ++i) q0(i) = 0.3 * ((i % 3) - 1);
  std::vector<double> ours, rk4, bullet, rnea;
  double sink = 0;
  for (int round = 0; round < rounds; ++round) {
    ArmVector q = q0, qd = ArmVector::Zero(), qdd;
    const ArmVector tau = ArmVector::Zero();
    ours.push_back(steps / TimeIt([&] {
                     for (int k = 0; k < steps; ++k) {
                       ArmForwardDynamics(arm, q, qd, tau, gravity, &qdd, false);
                       qd += dt * qdd;
                       q += dt * qd;
                     }
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
  }
  std::printf("%-22s %3d  %14.0f %14.0f %14.0f %14.0f\n", label, arm.dof, Median(ours),
              Median(bullet), Median(rk4), Median(rnea));
  if (sink == 12345.678) std::printf(" ");
}

}  // namespace

int main() {
  const std::filesystem::path shared = std::filesystem::path(FTWIN_SHARED_DIR) / "data/robots";
  UrdfImportOptions options;
  options.allow_missing_meshes = true;
  std::printf("Arm dynamics, steps/s on one core (dt 1 ms, free swing under gravity)\n");
  std::printf("%-22s %3s  %14s %14s %14s %14s\n", "arm", "dof", "ftwin FD+Euler", "Bullet world",
              "ftwin RK4", "ftwin RNEA/s");
  BenchArm("UR5e", RobotModel::FromUrdfFile(FTWIN_ROBOTS_DATA_DIR "/ur5e.urdf", options).arm());
  BenchArm("KUKA KR 210 L150", RobotModel::FromUrdfFile(shared / "kr210l150.urdf", options).arm());
  BenchArm("Franka Panda", RobotModel::FromUrdfFile(shared / "panda.urdf", options).arm());

  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterRobotBlocks(registry);
  const auto model =
      LoadScenario(std::filesystem::path(FTWIN_SOURCE_DIR) / "scenarios/robots/weld_cell.yaml",
                   registry, {.duration_ns = 60'000'000'000, .num_threads = 1})
          .model;
  std::vector<double> factors;
  for (int round = 0; round < 3; ++round) {
    Simulator simulator(model);
    const double wall = TimeIt([&] { simulator.Step(60000); });
    factors.push_back(60.0 / wall);
  }
  std::printf(
      "\nWeld cell (4 x KR 210, dt 1 ms, 60 s simulated, 1 thread): %.1f x real time "
      "(median of 3)\n",
      Median(factors));
  return 0;
}
