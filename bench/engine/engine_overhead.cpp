// Engine overhead per world-tick: blocks that do (almost) nothing, 1 to 1e5 worlds, one thread.
// The peer is a hand-written loop doing the same per-world work without the engine, measured in
// the same run; the difference is what the engine costs. Usage: bench_engine_overhead [threads]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "engine/graph.h"
#include "engine/simulator.h"

namespace {

using namespace ftwin;

// An empty block: declares nothing, does nothing.
class EmptyBlock final : public Block {
 public:
  using Block::Block;
  std::string type_name() const override { return "empty"; }
  void Declare(const DeclareContext&, BlockDeclaration&) override {}
  void Update(const TickInfo&, BlockIo&) const override {}
};

// The smallest real block: one f64 state, incremented (so the numeric check has work too).
class IncrementBlock final : public Block {
 public:
  using Block::Block;
  std::string type_name() const override { return "increment"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    field_ = d.AddState({.name = "x", .unit = "1", .kind = FieldKind::kContinuous});
  }
  void Update(const TickInfo& tick, BlockIo& io) const override {
    io.Field<double>(field_)[0] += tick.dt_s;
  }

 private:
  FieldId field_ = kInvalidField;
};

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

template <class BlockType>
double EngineNsPerWorldTick(int worlds, int threads, int64_t ticks, int blocks) {
  RunConfig run;
  run.dt_ns = 1'000'000;
  run.num_worlds = worlds;
  run.num_threads = threads;
  GraphBuilder builder(run);
  for (int b = 0; b < blocks; ++b)
    builder.AddBlock(std::make_unique<BlockType>("b" + std::to_string(b)));
  Simulator simulator(builder.Build());
  simulator.Step(std::max<int64_t>(1, ticks / 10));  // warm-up
  const auto start = std::chrono::steady_clock::now();
  simulator.Step(ticks);
  const auto end = std::chrono::steady_clock::now();
  return Seconds(start, end) * 1e9 / (static_cast<double>(ticks) * worlds);
}

// The same work as IncrementBlock x blocks, written as a plain loop over a [worlds x blocks]
// array, with the same finite check.
double PlainLoopNsPerWorldTick(int worlds, int64_t ticks, int blocks) {
  std::vector<double> x(static_cast<size_t>(worlds) * blocks, 0.0);
  volatile int failures = 0;
  auto body = [&] {
    for (int w = 0; w < worlds; ++w) {
      double* row = x.data() + static_cast<size_t>(w) * blocks;
      for (int b = 0; b < blocks; ++b) row[b] += 0.001;
    }
    for (double value : x)
      if (!std::isfinite(value)) failures = failures + 1;
  };
  for (int64_t t = 0; t < std::max<int64_t>(1, ticks / 10); ++t) body();
  const auto start = std::chrono::steady_clock::now();
  for (int64_t t = 0; t < ticks; ++t) body();
  const auto end = std::chrono::steady_clock::now();
  return Seconds(start, end) * 1e9 / (static_cast<double>(ticks) * worlds);
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int blocks = 4;
  const int repeats = 5;
  std::printf("engine overhead, %d blocks per world, %d thread(s), median of %d interleaved runs\n",
              blocks, threads, repeats);
  std::printf("%8s %14s %18s %18s %10s\n", "worlds", "empty ns/wt", "increment ns/wt",
              "plain loop ns/wt", "ratio");
  for (int worlds : {1, 10, 100, 1000, 10000, 100000}) {
    // About 2e7 world-ticks per measurement, at least 20 ticks.
    const int64_t ticks = std::max<int64_t>(20, 20'000'000 / worlds);
    std::vector<double> empty, increment, plain;
    for (int r = 0; r < repeats; ++r) {
      empty.push_back(EngineNsPerWorldTick<EmptyBlock>(worlds, threads, ticks, blocks));
      increment.push_back(EngineNsPerWorldTick<IncrementBlock>(worlds, threads, ticks, blocks));
      plain.push_back(PlainLoopNsPerWorldTick(worlds, ticks, blocks));
    }
    std::printf("%8d %14.2f %18.2f %18.2f %10.2f\n", worlds, Median(empty), Median(increment),
                Median(plain), Median(increment) / Median(plain));
  }
  return 0;
}
