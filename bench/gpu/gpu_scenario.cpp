// World-steps per second of a scenario whose every block has a device update (default
// scenarios/building.yaml; scenarios/energy/site.yaml runs every energy-plant block) on the CPU
// driver (1 and 2 threads), on the emulated device (the device orchestration on the host) and on
// CUDA when a device is present, for several batch sizes; plus device memory per world. A
// program, not a timed test:
//   bench_gpu_scenario [--scenario FILE] [--ticks N] [--world-steps N] [--worlds 1,64,...]
//                      [--max-cpu-worlds N]
// Each configuration steps `ticks` ticks after a 10-tick warm-up, in one Step() call (the way
// `ftwin run` steps: host syncs only at commands, faults, resets and at the end). With
// --world-steps W the CPU rows step clamp(W / worlds, 3, ticks) ticks instead, so every row
// costs about the same; CUDA rows always step `ticks`. For scenarios with range sensors
// (scenarios/sensors/lidar_yard.yaml) a second line per batch size gives the beams cast per
// second (world-steps/s times the beams a world casts per tick).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/gpu/bench_args.h"
#include "engine/scenario.h"
#include "engine/sensors/range_sensor_block.h"
#include "engine/simulator.h"
#include "gpu/executor.h"
#include "plants/register.h"

namespace {

using namespace ftwin;
using Clock = std::chrono::steady_clock;

std::shared_ptr<const Model> Load(const std::string& file, int worlds, int threads) {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  RunOverrides overrides;
  overrides.num_worlds = worlds;
  overrides.num_threads = threads;
  return LoadScenario(file, registry, overrides).model;
}

struct Result {
  double world_steps_per_s = 0.0;
  uint64_t hash = 0;
};

Result Measure(const std::string& file, int worlds, int threads, SimDevice device, int64_t ticks) {
  Simulator simulator(Load(file, worlds, threads), nullptr, {device});
  if (device != SimDevice::kCpu && !simulator.on_device()) return {};
  simulator.Step(10);
  const auto start = Clock::now();
  simulator.Step(ticks);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return {static_cast<double>(worlds) * static_cast<double>(ticks) / seconds,
          simulator.state().Hash()};
}

// Beams the range sensors of a model cast per world and tick (a sensor with period P casts its
// beams every P ticks).
double RaysPerWorldStep(const Model& model) {
  double rays = 0.0;
  for (int b = 0; b < model.num_blocks(); ++b)
    if (const auto* sensor = dynamic_cast<const RangeSensorBlock*>(&model.block(b)))
      rays += static_cast<double>(sensor->rays().size()) /
              static_cast<double>(model.binding(b).period_ticks);
  return rays;
}

}  // namespace

int main(int argc, char** argv) {
  std::string file = FTWIN_SOURCE_DIR "/scenarios/building.yaml";
  int64_t ticks = 2000, world_steps = 0;
  int max_cpu_worlds = 4096;
  std::vector<int> sizes = {1, 64, 1024, 4096, 16384, 65536};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--scenario") == 0) file = argv[i + 1];
    if (std::strcmp(argv[i], "--ticks") == 0) ticks = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--world-steps") == 0) world_steps = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--max-cpu-worlds") == 0) max_cpu_worlds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--worlds") == 0) sizes = bench::ParseWorldList(argv[i + 1]);
  }
  std::string why;
  const bool cuda = gpu::Executor::CreateCuda(&why) != nullptr;
  {
    Simulator probe(Load(file, 1, 1), nullptr, {SimDevice::kEmulated});
    if (!probe.on_device()) {
      std::printf("%s: no device path (%s)\n", file.c_str(), probe.device_message().c_str());
      return 1;
    }
    std::printf("%s: %zu bytes of device State per world (FP64 everywhere)\n", file.c_str(),
                probe.device_bytes_per_world());
  }
  const double rays = RaysPerWorldStep(*Load(file, 1, 1));
  if (rays > 0) std::printf("range sensors: %.0f beams per world and tick\n", rays);
  std::printf("CUDA: %s\n", cuda ? "available" : ("skipped: " + why).c_str());
  std::printf("%8s %6s %14s %14s %14s %14s  %s\n", "worlds", "ticks", "cpu 1 thread",
              "cpu 2 threads", "emulated", "cuda", "(world-steps/s; hashes equal cpu/emulated)");
  for (int worlds : sizes) {
    const int64_t cpu_ticks =
        world_steps > 0 ? std::clamp<int64_t>(world_steps / std::max(1, worlds), 3, ticks) : ticks;
    const bool cpu_too = worlds <= max_cpu_worlds;
    Result cpu1, cpu2, emulated, device;
    if (cpu_too) {
      cpu1 = Measure(file, worlds, 1, SimDevice::kCpu, cpu_ticks);
      cpu2 = Measure(file, worlds, 2, SimDevice::kCpu, cpu_ticks);
      emulated = Measure(file, worlds, 1, SimDevice::kEmulated, cpu_ticks);
    }
    if (cuda) device = Measure(file, worlds, 1, SimDevice::kCuda, ticks);
    std::printf("%8d %6lld %14s %14s %14s %14s  %s\n", worlds, static_cast<long long>(cpu_ticks),
                bench::RateCell(cpu1.world_steps_per_s).c_str(),
                bench::RateCell(cpu2.world_steps_per_s).c_str(),
                bench::RateCell(emulated.world_steps_per_s).c_str(),
                bench::RateCell(device.world_steps_per_s).c_str(),
                !cpu_too                                               ? "(cpu skipped)"
                : cpu1.hash == cpu2.hash && cpu1.hash == emulated.hash ? "yes"
                                                                       : "NO (bug)");
    if (rays > 0)
      std::printf("%8s %6s %14s %14s %14s %14s  (rays/s)\n", "", "",
                  bench::RateCell(rays * cpu1.world_steps_per_s).c_str(),
                  bench::RateCell(rays * cpu2.world_steps_per_s).c_str(),
                  bench::RateCell(rays * emulated.world_steps_per_s).c_str(),
                  bench::RateCell(rays * device.world_steps_per_s).c_str());
    std::fflush(stdout);
  }
  return 0;
}
