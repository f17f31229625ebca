// World-steps per second of scenarios/building.yaml (signal source, thermal network, PID,
// two sensors; every block with a device update) on the CPU driver (1 and 2 threads), on the
// emulated device (the device orchestration on the host) and on CUDA when a device is present,
// for several batch sizes; plus device memory per world. A program, not a timed test:
//   bench_gpu_building [--ticks N] [--worlds 1024,4096,...] [--max-cpu-worlds N]
// Each configuration steps `ticks` ticks after a 10-tick warm-up, in one Step() call (the way
// `ftwin run` steps: host syncs only at commands, faults, resets and at the end).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "gpu/executor.h"
#include "plants/register.h"

namespace {

using namespace ftwin;
using Clock = std::chrono::steady_clock;

std::shared_ptr<const Model> Building(int worlds, int threads) {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  RunOverrides overrides;
  overrides.num_worlds = worlds;
  overrides.num_threads = threads;
  return LoadScenario(FTWIN_SOURCE_DIR "/scenarios/building.yaml", registry, overrides).model;
}

struct Result {
  double world_steps_per_s = 0.0;
  uint64_t hash = 0;
  std::string note;
};

Result Measure(int worlds, int threads, SimDevice device, int64_t ticks) {
  Simulator simulator(Building(worlds, threads), nullptr, {device});
  Result result;
  if (device != SimDevice::kCpu && !simulator.on_device()) {
    result.note = simulator.device_message();
    return result;
  }
  simulator.Step(10);
  const auto start = Clock::now();
  simulator.Step(ticks);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.world_steps_per_s = static_cast<double>(worlds) * static_cast<double>(ticks) / seconds;
  result.hash = simulator.state().Hash();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t ticks = 2000;
  int max_cpu_worlds = 4096;
  std::vector<int> sizes = {1, 64, 1024, 4096, 16384, 65536};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--ticks") == 0) ticks = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--max-cpu-worlds") == 0) max_cpu_worlds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--worlds") == 0) {
      sizes.clear();
      std::stringstream list(argv[i + 1]);
      std::string item;
      while (std::getline(list, item, ',')) sizes.push_back(std::atoi(item.c_str()));
    }
  }
  std::string why;
  const bool cuda = gpu::Executor::CreateCuda(&why) != nullptr;
  {
    Simulator probe(Building(1, 1), nullptr, {SimDevice::kEmulated});
    std::printf("building.yaml: %zu bytes of device State per world (FP64 everywhere)\n",
                probe.device_bytes_per_world());
  }
  std::printf("CUDA: %s\n", cuda ? "available" : ("skipped: " + why).c_str());
  std::printf("%8s %14s %14s %14s %14s  %s\n", "worlds", "cpu 1 thread", "cpu 2 threads",
              "emulated", "cuda", "(world-steps/s; hashes equal cpu/emulated)");
  for (int worlds : sizes) {
    const bool cpu_too = worlds <= max_cpu_worlds;
    const Result cpu1 = cpu_too ? Measure(worlds, 1, SimDevice::kCpu, ticks) : Result{};
    const Result cpu2 = cpu_too ? Measure(worlds, 2, SimDevice::kCpu, ticks) : Result{};
    const Result emulated = cpu_too ? Measure(worlds, 1, SimDevice::kEmulated, ticks) : Result{};
    const Result device = cuda ? Measure(worlds, 1, SimDevice::kCuda, ticks) : Result{};
    auto cell = [](const Result& r) {
      char text[32];
      if (r.world_steps_per_s > 0)
        std::snprintf(text, sizeof text, "%.4g", r.world_steps_per_s);
      else
        std::snprintf(text, sizeof text, "-");
      return std::string(text);
    };
    std::printf("%8d %14s %14s %14s %14s  %s\n", worlds, cell(cpu1).c_str(), cell(cpu2).c_str(),
                cell(emulated).c_str(), cell(device).c_str(),
                !cpu_too                                               ? "(cpu skipped)"
                : cpu1.hash == cpu2.hash && cpu1.hash == emulated.hash ? "yes"
                                                                       : "NO (bug)");
    std::fflush(stdout);
  }
  return 0;
}
