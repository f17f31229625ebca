// The simulator: clock, periods, determinism across threads, snapshot/restore, command-log
// replay, faults, commands and per-world numeric isolation.
#include "engine/simulator.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "engine/graph.h"
#include "tests/engine/test_blocks.h"

namespace ftwin {
namespace {

using testing::CountingBlock;
using testing::FirstOrderBlock;
using testing::NanBlock;

RunConfig MakeRun(int worlds, int threads, int64_t dt_ns = 1'000'000, uint64_t seed = 7) {
  RunConfig run;
  run.dt_ns = dt_ns;
  run.num_worlds = worlds;
  run.num_threads = threads;
  run.seed = seed;
  return run;
}

// A small model: three counting blocks at periods 1, 3 and 10 feeding nothing, plus a
// first-order filter fed by one of them, plus a scheduled and a random fault.
std::shared_ptr<const Model> MakeModel(const RunConfig& run) {
  GraphBuilder builder(run);
  builder.AddBlock(std::make_unique<CountingBlock>("fast", 1));
  builder.AddBlock(std::make_unique<CountingBlock>("mid", 3));
  builder.AddBlock(std::make_unique<CountingBlock>("slow", 10));
  builder.AddBlock(std::make_unique<FirstOrderBlock>("filter", 0.05));
  builder.Connect("mid.walk", "filter.u");
  FaultSpec scheduled;
  scheduled.block = "slow";
  scheduled.fault = "freeze";
  scheduled.at_ns = 50 * run.dt_ns;
  scheduled.duration_ns = 20 * run.dt_ns;
  builder.AddFault(scheduled);
  FaultSpec random;
  random.block = "fast";
  random.fault = "freeze";
  random.at_ns = -1;
  random.mean_interval_ns = 40 * run.dt_ns;
  random.duration_ns = 5 * run.dt_ns;
  builder.AddFault(random);
  return builder.Build();
}

TEST_CASE("The clock is an integer: no drift after 1e9 ticks", "[simulator]") {
  RunConfig run = MakeRun(1, 1, 1'000'000);  // 1 ms
  const auto model = MakeModel(run);
  Simulator simulator(model);
  // Jump to tick 1e9 - 5 through a snapshot, then step across 1e9.
  std::vector<uint8_t> snapshot = simulator.Snapshot();
  const int64_t target = 1'000'000'000 - 5;
  std::memcpy(snapshot.data() + 4 + 4 + 8 + 4, &target,
              sizeof target);  // header: magic, version, hash, worlds, tick
  simulator.Restore(snapshot);
  simulator.Step(10);
  CHECK(simulator.tick() == 1'000'000'005);
  CHECK(simulator.time_ns() == 1'000'000'005LL * 1'000'000);
  CHECK(simulator.time_s() == 1'000'000.005);
  // The TickInfo handed to blocks is exact too, while accumulating dt in floating point drifts.
  const TickInfo info = model->MakeTickInfo(1'000'000'000, 1, 0);
  CHECK(info.time_ns == 1'000'000'000'000'000LL);
  CHECK(info.time_s == 1.0e6);
  double accumulated = 0.0;
  for (int i = 0; i < 10'000'000; ++i) accumulated += 0.001;
  CHECK(accumulated != 10'000.0);  // why the engine never does this
}

TEST_CASE("Blocks run exactly at their periods", "[simulator]") {
  const auto model = MakeModel(MakeRun(2, 1));
  Simulator simulator(model);
  simulator.Step(1000);
  for (const char* name : {"fast", "mid", "slow"}) {
    const int b = model->FindBlock(name);
    const auto& block = static_cast<const CountingBlock&>(model->block(b));
    for (int world = 0; world < 2; ++world) {
      CHECK(simulator.state().World<int64_t>(block.bad_period_, world)[0] == 0);
      const int64_t period = model->binding(b).period_ticks;
      // Runs at 0, p, 2p, ... < 1000.
      CHECK(simulator.state().World<int64_t>(block.runs_, world)[0] ==
            (1000 + period - 1) / period);
      CHECK(simulator.state().World<int64_t>(block.last_tick_, world)[0] ==
            (999 / period) * period);
    }
  }
}

uint64_t RunAndHash(int worlds, int threads, int64_t ticks, uint64_t seed = 7) {
  const auto model = MakeModel(MakeRun(worlds, threads, 1'000'000, seed));
  Simulator simulator(model);
  simulator.Step(ticks);
  return simulator.state().Hash();
}

TEST_CASE("Same seed gives an identical state hash; another seed does not", "[determinism]") {
  const uint64_t first = RunAndHash(8, 1, 500);
  CHECK(RunAndHash(8, 1, 500) == first);
  CHECK(RunAndHash(8, 1, 500, 8) != first);
}

TEST_CASE("1, 2 and 4 threads give identical state hashes", "[determinism]") {
  const uint64_t one = RunAndHash(13, 1, 400);
  CHECK(RunAndHash(13, 2, 400) == one);
  CHECK(RunAndHash(13, 4, 400) == one);
}

TEST_CASE("World i of a batch equals the same world of another batch size", "[determinism]") {
  const auto small = MakeModel(MakeRun(3, 1));
  const auto large = MakeModel(MakeRun(16, 2));
  Simulator a(small), b(large);
  a.Step(300);
  b.Step(300);
  for (int world = 0; world < 3; ++world)
    CHECK(a.state().HashWorld(world) == b.state().HashWorld(world));
}

TEST_CASE("Snapshot, restore and continue equals an uninterrupted run", "[determinism]") {
  const auto model = MakeModel(MakeRun(4, 2));
  Simulator reference(model);
  reference.Step(137);
  const std::vector<uint8_t> snapshot = reference.Snapshot();
  reference.Step(263);

  Simulator restored(model);
  restored.Step(11);  // some other state first
  restored.Restore(snapshot);
  CHECK(restored.tick() == 137);
  CHECK(restored.Snapshot() == snapshot);  // byte-exact
  restored.Step(263);
  CHECK(restored.state().Hash() == reference.state().Hash());
  CHECK(restored.Snapshot() == reference.Snapshot());
}

TEST_CASE("A snapshot of another model or garbage is rejected", "[simulator]") {
  const auto model = MakeModel(MakeRun(4, 1));
  Simulator simulator(model);
  std::vector<uint8_t> snapshot = simulator.Snapshot();
  const auto other = MakeModel(MakeRun(5, 1));
  Simulator other_simulator(other);
  CHECK_THROWS_WITH(other_simulator.Restore(snapshot),
                    Catch::Contains("different number of worlds"));
  std::vector<uint8_t> truncated(snapshot.begin(),
                                 snapshot.begin() + static_cast<long>(snapshot.size() / 2));
  CHECK_THROWS_WITH(simulator.Restore(truncated), Catch::Contains("truncated"));
  std::vector<uint8_t> garbage(64, 0xAB);
  CHECK_THROWS_WITH(simulator.Restore(garbage), Catch::Contains("bad magic"));
}

TEST_CASE("Command-log replay from a snapshot reproduces the run", "[determinism]") {
  const auto model = MakeModel(MakeRun(4, 2));
  Simulator original(model);
  original.Step(20);
  const std::vector<uint8_t> snapshot = original.Snapshot();
  // Commands at various ticks, from "controllers".
  REQUIRE(original.Submit({25, 1, "fast/kick", {3.5}, "test"}).empty());
  REQUIRE(original.Submit({30, -1, "mid.gain", {-2.0}, "test"}).empty());
  REQUIRE(original.Submit({31, 2, "slow!freeze", {0.01}, "test"}).empty());  // 10 ticks
  original.Step(40);
  REQUIRE(original.Submit({0, 0, "fast/kick", {-1.0}, "test"}).empty());  // "now"
  original.Step(40);
  const std::string log_text = original.command_log().ToJsonLines();
  REQUIRE(original.command_log().entries().size() == 4);
  CHECK(original.command_log().entries()[3].tick == 60);  // recorded when it applied

  Simulator replay(model);
  replay.Restore(snapshot);
  for (const Command& command : CommandLog::ParseJsonLines(log_text, "log.jsonl"))
    REQUIRE(replay.Submit(command).empty());
  replay.Step(80);
  CHECK(replay.state().Hash() == original.state().Hash());
  // Without the commands the run differs (the test can fail).
  Simulator without(model);
  without.Restore(snapshot);
  without.Step(80);
  CHECK(without.state().Hash() != original.state().Hash());
}

TEST_CASE("Commands are validated and bad ones change nothing", "[simulator]") {
  const auto model = MakeModel(MakeRun(2, 1));
  Simulator simulator(model);
  const uint64_t before = simulator.state().Hash();
  CHECK_THAT(simulator.Submit({0, 0, "nosuch.field", {1}, ""}), Catch::Contains("no field"));
  CHECK_THAT(simulator.Submit({0, 0, "fast.runs", {1}, ""}), Catch::Contains("only input fields"));
  CHECK_THAT(simulator.Submit({0, 0, "fast.gain", {11}, ""}), Catch::Contains("out of range"));
  CHECK_THAT(simulator.Submit({0, 0, "fast.gain", {NAN}, ""}), Catch::Contains("out of range"));
  CHECK_THAT(simulator.Submit({0, 0, "fast.gain", {1, 2}, ""}),
             Catch::Contains("expected 1 values"));
  CHECK_THAT(simulator.Submit({0, 5, "fast.gain", {1}, ""}), Catch::Contains("does not exist"));
  CHECK_THAT(simulator.Submit({0, 0, "fast/jump", {1}, ""}), Catch::Contains("no command 'jump'"));
  CHECK_THAT(simulator.Submit({0, 0, "fast/kick", {1000}, ""}), Catch::Contains("out of range"));
  CHECK_THAT(simulator.Submit({0, 0, "ghost/kick", {1}, ""}), Catch::Contains("no block named"));
  CHECK_THAT(simulator.Submit({0, 0, "fast!melt", {}, ""}), Catch::Contains("no fault 'melt'"));
  CHECK_THAT(simulator.Submit({0, 0, "fast.gain[3]", {1}, ""}),
             Catch::Contains("element index out of range"));
  CHECK(simulator.Submit({0, 0, "fast.gain[0]", {2}, ""}).empty());
  simulator.Step(0);
  CHECK(simulator.state().Hash() == before);
}

TEST_CASE("A set command applies at its tick, in that world only", "[simulator]") {
  const auto model = MakeModel(MakeRun(3, 1));
  Simulator simulator(model);
  const auto& block = static_cast<const CountingBlock&>(model->block(model->FindBlock("fast")));
  REQUIRE(simulator.Submit({5, 1, "fast.gain", {0.0}, ""}).empty());
  simulator.Step(5);
  CHECK(simulator.state().World<double>(block.gain_, 1)[0] == 1.0);
  simulator.Step(1);
  CHECK(simulator.state().World<double>(block.gain_, 1)[0] == 0.0);
  CHECK(simulator.state().World<double>(block.gain_, 0)[0] == 1.0);
  CHECK(simulator.state().World<double>(block.gain_, 2)[0] == 1.0);
}

TEST_CASE("Scheduled faults start and end at their ticks; random ones follow their rate",
          "[simulator]") {
  RunConfig run = MakeRun(64, 2);
  const auto model = MakeModel(run);
  Simulator simulator(model);
  const auto& slow = static_cast<const CountingBlock&>(model->block(model->FindBlock("slow")));
  simulator.Step(50);
  CHECK(simulator.state().World<uint8_t>(slow.frozen_, 0)[0] == 0);
  simulator.Step(1);  // tick 50 applied
  CHECK(simulator.state().World<uint8_t>(slow.frozen_, 0)[0] == 1);
  simulator.Step(20);  // ends at tick 70
  CHECK(simulator.state().World<uint8_t>(slow.frozen_, 0)[0] == 0);
  // Random fault: mean interval 40 ticks, each lasting 5 (onsets during an active fault are
  // skipped but counted). Over 20000 ticks x 64 worlds the onset count is Poisson-like.
  simulator.Step(20000 - 71);
  const int64_t* counts = simulator.state().Data<int64_t>(model->fault_count_field());
  double total = 0;
  for (int world = 0; world < 64; ++world) total += static_cast<double>(counts[world * 2 + 1]);
  // Inter-arrival = 1 + floor(Exp(40)) ticks: mean ≈ 40.5 ticks.
  const double expected = 64.0 * 20000.0 / 40.5;
  CHECK(std::fabs(total - expected) < 5 * std::sqrt(expected));
}

TEST_CASE("NaN in one of 8 worlds resets that world only and is counted", "[simulator]") {
  GraphBuilder builder(MakeRun(8, 2));
  builder.AddBlock(std::make_unique<NanBlock>("bad", 5, 30));
  builder.AddBlock(std::make_unique<CountingBlock>("walker", 1));
  const auto model = builder.Build();
  Simulator simulator(model);
  Simulator reference(model);
  simulator.Step(30);
  reference.Step(30);
  const uint64_t world5_before = simulator.state().HashWorld(5);
  simulator.Step(10);
  reference.Step(10);
  CHECK(simulator.total_resets() == 1);
  CHECK(simulator.state().World<int64_t>(model->resets_field(), 5)[0] == 1);
  const auto& nan_block = static_cast<const NanBlock&>(model->block(0));
  const FieldId x = model->binding(0).output_fields[0];
  (void)nan_block;
  // World 5 restarted at tick 31 from its initial state: it has integrated 9 ticks since.
  CHECK(simulator.state().World<double>(x, 5)[0] == Approx(9 * 1.005));
  CHECK(simulator.state().HashWorld(5) != world5_before);
  // The other 7 worlds are bit-identical to a run where nothing happened.
  for (int world = 0; world < 8; ++world)
    if (world != 5) CHECK(simulator.state().HashWorld(world) == reference.state().HashWorld(world));
  REQUIRE_FALSE(simulator.events().empty());
  CHECK(simulator.events().back().kind == "world_reset");
  CHECK(simulator.events().back().world == 5);
}

TEST_CASE("KPIs aggregate across worlds as declared", "[simulator]") {
  const auto model = MakeModel(MakeRun(5, 1));
  Simulator simulator(model);
  simulator.Step(100);
  const std::vector<KpiEntry> kpis = simulator.ComputeKpis();
  const KpiEntry* runs = nullptr;
  for (const KpiEntry& kpi : kpis)
    if (kpi.block == "mid" && kpi.desc.name == "runs") runs = &kpi;
  REQUIRE(runs != nullptr);
  CHECK(runs->aggregate == 5 * 34);  // sum across worlds of ceil(100/3)
  CHECK(runs->min == 34);
  CHECK(runs->stddev == 0.0);
}

TEST_CASE("A delayed input reads the value from the start of the tick", "[simulator]") {
  // Two filters feeding each other: a loop, legal because one input is delayed.
  GraphBuilder builder(MakeRun(1, 1, 100'000'000));  // 0.1 s
  builder.AddBlock(std::make_unique<FirstOrderBlock>("a", 1.0, /*delayed_input=*/true));
  builder.AddBlock(std::make_unique<FirstOrderBlock>("b", 1.0));
  builder.Connect("b.y", "a.u");
  builder.Connect("a.y", "b.u");
  const auto model = builder.Build();
  REQUIRE(model->update_order() == std::vector<int>{0, 1});
  Simulator simulator(model);
  simulator.Step(1);
  // a used b's initial output 1.0; b used a's new output.
  const double decay = std::exp(-0.1);
  const double a1 = decay + (1 - decay) * 1.0;
  const double b1 = decay + (1 - decay) * a1;
  CHECK(simulator.state().World<double>(model->binding(0).output_fields[0], 0)[0] ==
        Approx(a1).epsilon(1e-15));
  CHECK(simulator.state().World<double>(model->binding(1).output_fields[0], 0)[0] ==
        Approx(b1).epsilon(1e-15));
}

}  // namespace
}  // namespace ftwin
