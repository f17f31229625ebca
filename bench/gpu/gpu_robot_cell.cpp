// Env-steps per second of a robot cell (physics: native, four six-axis UR5e arms, collision
// checks every control period) driven the way a learning loop drives it: every control period
// (10 ticks of 1 ms) each world gets a random joint target for each arm (`cell/move_joints`
// commands), then the batch steps one period. Measured on the CPU driver (1 and 2 threads), the
// emulated device, CUDA when a device is present, and the same cell with physics: bullet on the
// CPU (the Bullet peer). Also memory per world. A program, not a timed test:
//   bench_gpu_robot_cell [--periods N] [--worlds 1,16,256,...] [--max-cpu-worlds N]
//                        [--max-bullet-worlds N]
// An env step is one control period; env-steps/s = worlds x periods / wall time (commands
// included: on the device path they are applied on the host, docs/gpu.md).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "bench/gpu/bench_args.h"
#include "engine/scenario.h"
#include "engine/simulator.h"
#include "gpu/executor.h"
#include "robots/register.h"
#include "robots/robot_cell_world.h"

namespace {

using namespace ftwin;
using Clock = std::chrono::steady_clock;

constexpr int kArms = 4;
constexpr int64_t kPeriodTicks = 10;
const double kHome[6] = {0.0, -1.8, 1.8, -1.57, -1.57, 0.0};

std::string Arm(const std::string& name, double x, double y, double yaw) {
  return "      - name: " + name + "\n        urdf: " + std::string(FTWIN_ROBOTS_DATA_DIR) +
         "/ur5e.urdf\n        base_xyz_m: [" + std::to_string(x) + ", " + std::to_string(y) +
         ", 0.0]\n        base_yaw_rad: " + std::to_string(yaw) +
         "\n        home_rad: [0.0, -1.8, 1.8, -1.57, -1.57, 0.0]\n"
         "        viscous_Nms_per_rad: [2, 2, 2, 0.5, 0.5, 0.5]\n"
         "        coulomb_Nm: [1, 1, 1, 0.2, 0.2, 0.2]\n"
         "        link_radius_m: 0.05\n"
         "        tool: {mass_kg: 1.0, com_m: [0, 0, 0.05], tcp_xyz_m: [0, 0, 0.1]}\n"
         "        spots:\n"
         "          - {position_m: [" +
         std::to_string(x) + ", " + std::to_string(y > 0 ? 0.3 : -0.3) +
         ", 0.42], direction: [0, " + (y > 0 ? "-1" : "1") + ", 0]}\n";
}

std::shared_ptr<const Model> Cell(int worlds, int threads, const std::string& physics) {
  const std::string text = R"(ftwin: 1
name: bench-cell
run: {dt: 1ms, duration: 1h, seed: 1}
blocks:
  - name: cell
    type: robot_cell
    physics: )" + physics + R"(
    conveyor_length_m: 2.0
    body_size_m: [1.0, 0.6, 0.3]
    body_floor_m: 0.1
    approach_m: 0.08
    collision_check_ticks: 10
    robots:
)" + Arm("a", -0.3, -0.75, 1.5707963267948966) +
                           Arm("b", 0.3, -0.75, 1.5707963267948966) +
                           Arm("c", -0.3, 0.75, -1.5707963267948966) +
                           Arm("d", 0.3, 0.75, -1.5707963267948966);
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterRobotBlocks(registry);
  RunOverrides overrides;
  overrides.num_worlds = worlds;
  overrides.num_threads = threads;
  return LoadScenarioText(text, "bench_cell.yaml", registry, overrides).model;
}

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

struct Result {
  double env_steps_per_s = 0.0;
  double rss_bytes_per_world = 0.0;
  uint64_t hash = 0;
  std::string note;
};

Result Measure(int worlds, int threads, SimDevice device, const std::string& physics,
               int64_t periods) {
  const size_t before = ResidentBytes();
  Simulator simulator(Cell(worlds, threads, physics), nullptr, {device});
  Result result;
  result.rss_bytes_per_world =
      (static_cast<double>(ResidentBytes()) - static_cast<double>(before)) / worlds;
  if (device != SimDevice::kCpu && !simulator.on_device()) {
    result.note = simulator.device_message();
    return result;
  }
  // Every robot under external control (program 0): wait until the cell accepts targets.
  for (int r = 0; r < kArms; ++r)
    simulator.Submit({.tick = 0,
                      .world = -1,
                      .target = "cell/select_program",
                      .values = {static_cast<double>(r), 0.0}});
  simulator.Step(kPeriodTicks);
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> offset(-0.5, 0.5);
  const auto start = Clock::now();
  for (int64_t p = 0; p < periods; ++p) {
    for (int w = 0; w < worlds; ++w)
      for (int r = 0; r < kArms; ++r) {
        std::vector<double> values = {static_cast<double>(r)};
        for (int i = 0; i < 6; ++i) values.push_back(kHome[i] + offset(random));
        simulator.Submit({.tick = simulator.tick(),
                          .world = w,
                          .target = "cell/move_joints",
                          .values = std::move(values)});
      }
    simulator.Step(kPeriodTicks);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.env_steps_per_s = static_cast<double>(worlds) * static_cast<double>(periods) / seconds;
  result.hash = simulator.state().Hash();
  return result;
}

std::string Format(const Result& r) { return bench::RateCell(r.env_steps_per_s); }

}  // namespace

int main(int argc, char** argv) {
  int64_t periods = 20;
  int max_cpu_worlds = 4096, max_bullet_worlds = 256;
  std::vector<int> sizes = {1, 16, 256, 4096, 65536};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--periods") == 0) periods = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--max-cpu-worlds") == 0) max_cpu_worlds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--max-bullet-worlds") == 0)
      max_bullet_worlds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--worlds") == 0) sizes = bench::ParseWorldList(argv[i + 1]);
  }
  std::string why;
  const bool cuda = gpu::Executor::CreateCuda(&why) != nullptr;
  {
    Simulator probe(Cell(1, 1, "native"), nullptr, {SimDevice::kEmulated});
    std::printf(
        "robot cell (native, %d x UR5e): %zu bytes of State per world (device and host, "
        "FP64)\n",
        kArms, probe.device_bytes_per_world());
  }
  std::printf("CellParams (uploaded once per Simulator): %zu bytes\n", sizeof(CellParams));
  std::printf("CUDA: %s\n", cuda ? "available" : ("skipped: " + why).c_str());
  std::printf(
      "env step = %lld ticks of 1 ms with %d move_joints commands; %lld env steps per "
      "configuration\n",
      static_cast<long long>(kPeriodTicks), kArms, static_cast<long long>(periods));
  std::printf("%8s %12s %12s %12s %12s %12s %12s  %s\n", "worlds", "cpu 1 thr", "cpu 2 thr",
              "emulated", "cuda", "bullet 1 thr", "bullet 2 thr",
              "(env-steps/s; bullet RSS growth per world; hashes cpu = emulated)");
  for (int worlds : sizes) {
    const bool cpu_too = worlds <= max_cpu_worlds, bullet_too = worlds <= max_bullet_worlds;
    const Result cpu1 = cpu_too ? Measure(worlds, 1, SimDevice::kCpu, "native", periods) : Result{};
    const Result cpu2 = cpu_too ? Measure(worlds, 2, SimDevice::kCpu, "native", periods) : Result{};
    const Result emulated =
        cpu_too ? Measure(worlds, 1, SimDevice::kEmulated, "native", periods) : Result{};
    const Result device = cuda ? Measure(worlds, 1, SimDevice::kCuda, "native", periods) : Result{};
    const Result bullet1 =
        bullet_too ? Measure(worlds, 1, SimDevice::kCpu, "bullet", periods) : Result{};
    const Result bullet2 =
        bullet_too ? Measure(worlds, 2, SimDevice::kCpu, "bullet", periods) : Result{};
    char memory[64];
    std::snprintf(memory, sizeof memory, "%.3g MB",
                  bullet_too ? bullet1.rss_bytes_per_world / 1e6 : 0.0);
    std::printf("%8d %12s %12s %12s %12s %12s %12s  %s; %s\n", worlds, Format(cpu1).c_str(),
                Format(cpu2).c_str(), Format(emulated).c_str(), Format(device).c_str(),
                Format(bullet1).c_str(), Format(bullet2).c_str(), bullet_too ? memory : "-",
                !cpu_too                                               ? "cpu skipped"
                : cpu1.hash == cpu2.hash && cpu1.hash == emulated.hash ? "yes"
                                                                       : "NO (bug)");
    std::fflush(stdout);
  }
  return 0;
}
