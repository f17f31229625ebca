// Fab benchmarks (docs/performance.md, docs/fab.md):
//  1. Event core: the classic hold model (pop the earliest event, push it again at now + an
//     exponential increment) on ftwin's EventCalendar against a plain std::priority_queue of
//     (time, sequence) pairs, the same increments, interleaved rounds, medians reported.
//  2. SMT2020 HV/LM (or any folder given): wall time and events/s for a horizon (default 730 d)
//     on one core, with the fab KPIs that matter for a sanity check.
//  3. Mini-Fab through the whole engine (scenario file, 1-minute ticks): events/s.
// Usage: bench_fab [smt2020_dir] [days]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <queue>
#include <sstream>
#include <string>
#include <vector>

#include "engine/event_calendar.h"
#include "engine/rng.h"
#include "engine/scenario.h"
#include "engine/simulator.h"
#include "plants/fab/fab_sim.h"
#include "plants/fab/smt2020.h"
#include "plants/register.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Payload {
  int32_t id;
  int32_t kind;
};

// Increments in ns, exponential with mean 1 ms, precomputed so both loops do the same work.
std::vector<int64_t> Increments(size_t count) {
  const ftwin::CounterRng rng{99, 0, 0};
  std::vector<int64_t> out(count);
  for (size_t i = 0; i < count; ++i)
    out[i] = static_cast<int64_t>(std::llround(rng.Exponential(i, 1e6)));
  return out;
}

int64_t HoldCalendar(size_t pending, const std::vector<int64_t>& increments, double* seconds) {
  ftwin::EventCalendar<Payload> calendar(pending + 16);
  for (size_t i = 0; i < pending; ++i)
    calendar.Push(increments[i], 0, {static_cast<int32_t>(i), 0});
  const auto start = Clock::now();
  int64_t checksum = 0;
  for (size_t i = pending; i < increments.size(); ++i) {
    const auto entry = calendar.Pop();
    checksum += entry.payload.id;
    calendar.Push(entry.time_ns + increments[i], 0, entry.payload);
  }
  *seconds = Seconds(start);
  return checksum;
}

int64_t HoldPriorityQueue(size_t pending, const std::vector<int64_t>& increments, double* seconds) {
  // The same information: time, insertion sequence (tie-break) and a payload.
  struct Item {
    int64_t time;
    uint64_t sequence;
    Payload payload;
    bool operator>(const Item& other) const {
      return time != other.time ? time > other.time : sequence > other.sequence;
    }
  };
  std::vector<Item> storage;
  storage.reserve(pending + 16);
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue(std::greater<Item>(),
                                                                         std::move(storage));
  uint64_t sequence = 0;
  for (size_t i = 0; i < pending; ++i)
    queue.push({increments[i], sequence++, {static_cast<int32_t>(i), 0}});
  const auto start = Clock::now();
  int64_t checksum = 0;
  for (size_t i = pending; i < increments.size(); ++i) {
    const Item item = queue.top();
    queue.pop();
    checksum += item.payload.id;
    queue.push({item.time + increments[i], sequence++, item.payload});
  }
  *seconds = Seconds(start);
  return checksum;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void BenchCalendar() {
  std::printf("== Event core: hold model, events/s (median of 5 interleaved rounds)\n");
  std::printf("%10s %16s %16s %8s\n", "pending", "EventCalendar", "priority_queue", "ratio");
  for (size_t pending : {100, 10'000, 1'000'000}) {
    const size_t operations = 4'000'000;
    const std::vector<int64_t> increments = Increments(pending + operations);
    std::vector<double> ours, theirs;
    for (int round = 0; round < 5; ++round) {
      double a = 0, b = 0;
      const int64_t x = HoldCalendar(pending, increments, &a);
      const int64_t y = HoldPriorityQueue(pending, increments, &b);
      if (x != y) std::printf("  (checksums differ: %lld vs %lld)\n", (long long)x, (long long)y);
      ours.push_back(static_cast<double>(operations) / a);
      theirs.push_back(static_cast<double>(operations) / b);
    }
    std::printf("%10zu %16.3g %16.3g %8.2f\n", pending, Median(ours), Median(theirs),
                Median(ours) / Median(theirs));
  }
}

void BenchSmt2020(const std::string& dir, double days) {
  std::printf("\n== SMT2020 %s, %.0f days, one core\n", dir.c_str(), days);
  ftwin::Diagnostics diagnostics;
  ftwin::fab::FabConfig config;
  const auto load_start = Clock::now();
  ftwin::fab::LoadSmt2020(dir, &diagnostics, &config);
  if (!diagnostics.ok()) {
    std::printf("%s\n", diagnostics.ToString().c_str());
    return;
  }
  config.Finalise();
  const double load_s = Seconds(load_start);
  ftwin::fab::FabWorld world(&config);
  std::array<ftwin::CounterRng, ftwin::fab::kFabStreamCount> rngs;
  for (int s = 0; s < ftwin::fab::kFabStreamCount; ++s)
    rngs[static_cast<size_t>(s)] = ftwin::CounterRng{1, 0, static_cast<uint32_t>(s)};
  world.SetRngs(rngs);
  world.Start(0);
  const auto start = Clock::now();
  const int64_t hour_ns = int64_t{3600} * 1'000'000'000;
  const int64_t hours = static_cast<int64_t>(days * 24);
  for (int64_t h = 1; h <= hours; ++h) world.AdvanceTo(h * hour_ns);  // hourly ticks
  const double wall = Seconds(start);
  const auto& counters = world.counters();
  std::printf(
      "load %.3f s; simulate %.2f s wall (%.0f simulated days/s), %lld events, %.3g "
      "events/s\n",
      load_s, wall, days / wall, static_cast<long long>(counters.events),
      static_cast<double>(counters.events) / wall);
  std::printf("tools %d, released %lld, finished %lld, WIP %lld, setups %lld\n", config.num_tools(),
              static_cast<long long>(counters.released_lots),
              static_cast<long long>(counters.finished_lots),
              static_cast<long long>(counters.wip_lots), static_cast<long long>(counters.setups));
}

void BenchMinifab(const std::string& scenario) {
  std::printf("\n== Mini-Fab through the engine (%s)\n", scenario.c_str());
  ftwin::BlockRegistry registry;
  ftwin::RegisterEngineBlocks(registry);
  ftwin::RegisterPlantBlocks(registry);
  ftwin::RunOverrides overrides;
  overrides.duration_ns = int64_t{3650} * 86400 * 1'000'000'000;  // 10 years
  try {
    std::ifstream in(scenario);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    const size_t line = text.find("    completion_log:");  // no CSV from a benchmark
    if (line != std::string::npos) text.erase(line, text.find('\n', line) - line + 1);
    const auto loaded = ftwin::LoadScenarioText(text, scenario, registry, overrides);
    ftwin::Simulator simulator(loaded.model);
    const int64_t ticks = loaded.model->run().duration_ns / loaded.model->run().dt_ns;
    const auto start = Clock::now();
    simulator.Step(ticks);
    const double wall = Seconds(start);
    double events = 0;
    for (const auto& kpi : simulator.ComputeKpis())
      if (kpi.desc.name == "events") events = kpi.per_world[0];
    std::printf(
        "10 years, %lld ticks: %.3f s wall, %.0f events, %.3g events/s (tick overhead "
        "included)\n",
        static_cast<long long>(ticks), wall, events, events / wall);
  } catch (const std::exception& exception) {
    std::printf("%s\n", exception.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string shared = FTWIN_SHARED_DIR;
  const std::string dir = argc > 1 ? argv[1] : shared + "/data/smt2020/HVLM";
  const double days = argc > 2 ? std::atof(argv[2]) : 730.0;
  BenchCalendar();
  BenchSmt2020(dir, days);
  BenchMinifab(std::string(FTWIN_SOURCE_DIR) + "/scenarios/fab/minifab.yaml");
  return 0;
}
