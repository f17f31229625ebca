// Sweep and recording overheads (issue: headless batches and recordings):
//  1. per-run overhead of `RunBatch` on a trivial scenario (one tick of a signal source): the
//     cost of expanding, validating, compiling, running, writing an fsync'd row and summarising;
//  2. parallel efficiency of 2 jobs vs 1 on runs of real work (the default scenario, 7 days);
//  3. recording overhead: the default scenario with and without an MCAP recording of every tick.
// Peers: the same run without the batch machinery (a bare Simulator loop) and without recording.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/batch.h"
#include "engine/recorder.h"
#include "engine/simulator.h"
#include "plants/register.h"

namespace {

using namespace ftwin;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  return registry;
}

double BatchSeconds(const fs::path& sweep, const fs::path& out, int jobs) {
  fs::remove_all(out);
  BatchOptions options;
  options.sweep_file = sweep;
  options.out_dir = out;
  options.jobs = jobs;
  options.quiet = true;
  const auto start = Clock::now();
  RunBatch(options, Registry());
  return Seconds(start, Clock::now());
}

}  // namespace

int main() {
  const fs::path dir = fs::temp_directory_path() / "ftwin_bench_batch";
  fs::remove_all(dir);
  fs::create_directories(dir);
  // 1. A trivial scenario, 400 runs.
  std::ofstream(dir / "trivial.yaml") << "ftwin: 1\nname: trivial\nrun: {dt: 1s, duration: 1s}\n"
                                         "blocks:\n  - {name: s, type: signal_source, value: 1}\n";
  std::ofstream(dir / "trivial_sweep.yaml")
      << "ftwin_sweep: 1\nname: trivial\nscenario: trivial.yaml\n"
         "seeds: {start: 0, count: 400}\n";
  const double trivial = BatchSeconds(dir / "trivial_sweep.yaml", dir / "out_trivial", 1);
  std::printf("sweep overhead: %.3f ms per run (400 trivial runs, 1 job, each row fsync'd)\n",
              trivial / 400 * 1e3);

  // 2. Real runs: the default scenario for 30 simulated days x 16 seeds, 1 vs 2 jobs.
  std::ofstream(dir / "real_sweep.yaml")
      << "ftwin_sweep: 1\nname: real\nscenario: " FTWIN_SOURCE_DIR
         "/scenarios/building.yaml\nseeds: {start: 0, count: 16}\n"
         "grid:\n  run.duration: [30d]\n  run.worlds: [8]\n";
  std::vector<double> one, two;
  for (int repeat = 0; repeat < 3; ++repeat) {
    one.push_back(BatchSeconds(dir / "real_sweep.yaml", dir / "out_real1", 1));
    two.push_back(BatchSeconds(dir / "real_sweep.yaml", dir / "out_real2", 2));
  }
  std::sort(one.begin(), one.end());
  std::sort(two.begin(), two.end());
  std::printf(
      "parallel efficiency on 2 cores: %.1f %% (1 job %.3f s, 2 jobs %.3f s, medians of 3)\n",
      100.0 * one[1] / (2.0 * two[1]), one[1], two[1]);

  // 3. Recording overhead on the default scenario (7 days, 8 worlds), every 10th tick recorded.
  const BlockRegistry registry = Registry();
  RunOverrides overrides;
  overrides.num_worlds = 8;
  const LoadedScenario scenario =
      LoadScenario(FTWIN_SOURCE_DIR "/scenarios/building.yaml", registry, overrides);
  const int64_t ticks = scenario.model->run().duration_ns / scenario.model->run().dt_ns;
  std::vector<double> plain, recorded;
  for (int repeat = 0; repeat < 3; ++repeat) {
    {
      Simulator simulator(scenario.model);
      const auto start = Clock::now();
      simulator.Step(ticks);
      plain.push_back(Seconds(start, Clock::now()));
    }
    {
      Simulator simulator(scenario.model);
      RecordOptions options;
      options.file = dir / "run.mcap";
      options.every_ticks = 10;
      const auto start = Clock::now();
      Recorder recorder(scenario.spec, overrides, simulator, options);
      simulator.Step(ticks);
      recorder.Close();
      recorded.push_back(Seconds(start, Clock::now()));
    }
  }
  std::sort(plain.begin(), plain.end());
  std::sort(recorded.begin(), recorded.end());
  std::printf(
      "recording: %.3f s without, %.3f s with (every 10th tick, %.1f MB): overhead %.0f %%\n",
      plain[1], recorded[1], static_cast<double>(fs::file_size(dir / "run.mcap")) / 1e6,
      100.0 * (recorded[1] - plain[1]) / plain[1]);
  fs::remove_all(dir);
  return 0;
}
