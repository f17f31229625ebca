// World-steps per second of the energy site (scenarios/energy/site.yaml: PV, wind, load,
// battery, PEM electrolyzer, micro-CHP, gas turbine, chiller, energy manager, site bus; every
// block with a device update) on the CPU driver (1 and 2 threads), on the emulated device (the
// device orchestration on the host) and on CUDA when a device is present, for batch sizes from
// 1 to 65536 worlds; plus device memory per world. A program, not a timed test:
//   bench_gpu_energy [--world-steps N] [--max-ticks N] [--worlds 1,64,...] [--max-cpu-worlds N]
// Each configuration steps ticks = clamp(world-steps / worlds, 3, max-ticks) after a 3-tick
// warm-up, in one Step() call (host syncs only at the end: the scenario's faults lie days
// later), so every row costs about the same on the CPU.
#include <algorithm>
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

std::shared_ptr<const Model> Site(int worlds, int threads) {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  RunOverrides overrides;
  overrides.num_worlds = worlds;
  overrides.num_threads = threads;
  return LoadScenario(FTWIN_SOURCE_DIR "/scenarios/energy/site.yaml", registry, overrides).model;
}

struct Result {
  double world_steps_per_s = 0.0;
  uint64_t hash = 0;
  std::string note;
};

Result Measure(int worlds, int threads, SimDevice device, int64_t ticks) {
  Simulator simulator(Site(worlds, threads), nullptr, {device});
  Result result;
  if (device != SimDevice::kCpu && !simulator.on_device()) {
    result.note = simulator.device_message();
    return result;
  }
  simulator.Step(3);
  const auto start = Clock::now();
  simulator.Step(ticks);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.world_steps_per_s = static_cast<double>(worlds) * static_cast<double>(ticks) / seconds;
  result.hash = simulator.state().Hash();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t world_steps = 200000, max_ticks = 2000;
  int max_cpu_worlds = 65536;
  std::vector<int> sizes = {1, 16, 256, 1024, 4096, 16384, 65536};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--world-steps") == 0) world_steps = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--max-ticks") == 0) max_ticks = std::atoll(argv[i + 1]);
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
    Simulator probe(Site(1, 1), nullptr, {SimDevice::kEmulated});
    if (!probe.on_device()) {
      std::printf("energy site: no device path (%s)\n", probe.device_message().c_str());
      return 1;
    }
    std::printf("energy site: %zu bytes of device State per world (FP64 everywhere)\n",
                probe.device_bytes_per_world());
  }
  std::printf("CUDA: %s\n", cuda ? "available" : ("skipped: " + why).c_str());
  std::printf("%8s %6s %14s %14s %14s %14s  %s\n", "worlds", "ticks", "cpu 1 thread",
              "cpu 2 threads", "emulated", "cuda", "(world-steps/s; hashes equal cpu/emulated)");
  for (int worlds : sizes) {
    const int64_t ticks = std::clamp<int64_t>(world_steps / std::max(1, worlds), 3, max_ticks);
    const bool cpu_too = worlds <= max_cpu_worlds;
    const Result cpu1 = cpu_too ? Measure(worlds, 1, SimDevice::kCpu, ticks) : Result{};
    const Result cpu2 = cpu_too ? Measure(worlds, 2, SimDevice::kCpu, ticks) : Result{};
    const Result emulated = cpu_too ? Measure(worlds, 1, SimDevice::kEmulated, ticks) : Result{};
    // On CUDA every row runs max-ticks ticks (the GPU is not the bottleneck of the budget).
    const Result device = cuda ? Measure(worlds, 1, SimDevice::kCuda, max_ticks) : Result{};
    auto cell = [](const Result& r) {
      char text[32];
      if (r.world_steps_per_s > 0)
        std::snprintf(text, sizeof text, "%.4g", r.world_steps_per_s);
      else
        std::snprintf(text, sizeof text, "-");
      return std::string(text);
    };
    std::printf("%8d %6lld %14s %14s %14s %14s  %s\n", worlds, static_cast<long long>(ticks),
                cell(cpu1).c_str(), cell(cpu2).c_str(), cell(emulated).c_str(),
                cell(device).c_str(),
                !cpu_too                                               ? "(cpu skipped)"
                : cpu1.hash == cpu2.hash && cpu1.hash == emulated.hash ? "yes"
                                                                       : "NO (bug)");
    std::fflush(stdout);
  }
  return 0;
}
