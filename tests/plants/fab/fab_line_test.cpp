// The fab_line block in the engine: Mini-Fab conservation and Little's law, determinism across
// threads, snapshot/restore, commands, the power port and input errors.
#include "plants/fab/fab_line.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "plants/register.h"

namespace ftwin {
namespace {

const std::string kMinifab = std::string(FTWIN_SOURCE_DIR) + "/scenarios/fab/minifab.yaml";

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  return registry;
}

// The Mini-Fab scenario without its completion log (tests write no files into the tree).
std::shared_ptr<const Model> Minifab(const RunOverrides& overrides = {}) {
  std::string text = ReadText(kMinifab);
  const size_t line = text.find("    completion_log:");
  REQUIRE(line != std::string::npos);
  text.erase(line, text.find('\n', line) - line + 1);
  return LoadScenarioText(text, kMinifab, Registry(), overrides).model;
}

const fab::FabWorld& World(Simulator& simulator, int world = 0) {
  const Model& model = simulator.model();
  const int block = model.FindBlock("fab");
  return *static_cast<const fab::FabWorld*>(
      simulator.state().Aux(model.binding(block).aux_slot, world));
}

double Kpi(const std::vector<KpiEntry>& kpis, const std::string& name, int world = 0) {
  for (const KpiEntry& entry : kpis)
    if (entry.desc.name == name) return entry.per_world[static_cast<size_t>(world)];
  FAIL("no KPI " << name);
  return 0;
}

TEST_CASE("Mini-Fab conserves lots at every tick: released = finished + WIP", "[fab]") {
  Simulator simulator(Minifab());
  const Schema& schema = simulator.model().schema();
  const FieldId released = schema.Find("fab.lots_released");
  const FieldId out = schema.Find("fab.lots_out");
  const FieldId wip = schema.Find("fab.wip_lots");
  const FieldId queue = schema.Find("fab.queue_lots");
  int64_t violations = 0, queue_mismatches = 0;
  for (int tick = 0; tick < 30 * 1440; ++tick) {  // 30 days of 1-minute ticks
    simulator.Step(1);
    const State& state = simulator.state();
    if (state.World<double>(released, 0)[0] !=
        state.World<double>(out, 0)[0] + state.World<double>(wip, 0)[0])
      ++violations;
    // Waiting lots: the queue port equals the world's queues and never exceeds WIP.
    double waiting = 0;
    for (int f = 0; f < 3; ++f) {
      const double q = state.World<double>(queue, 0)[f];
      waiting += q;
      if (q != static_cast<double>(World(simulator).queue(f).size())) ++queue_mismatches;
    }
    if (waiting > state.World<double>(wip, 0)[0]) ++queue_mismatches;
  }
  CHECK(violations == 0);
  CHECK(queue_mismatches == 0);
  CHECK(simulator.state().World<double>(out, 0)[0] > 300);  // lots really flowed
}

TEST_CASE("Little's law holds on the Mini-Fab: WIP = throughput x cycle time", "[fab]") {
  RunOverrides overrides;
  overrides.duration_ns = int64_t{400} * 86400 * 1'000'000'000;
  const auto model = Minifab(overrides);
  Simulator simulator(model);
  simulator.Step(model->run().duration_ns / model->run().dt_ns);
  const auto kpis = simulator.ComputeKpis();
  // Over the whole run, with every lot counted from its release (warm-up included).
  const fab::FabWorld& world = World(simulator);
  double sum_ct_s = 0;
  for (const fab::Completion& c : world.completions())
    sum_ct_s += static_cast<double>(c.finish_ns - c.release_ns) * 1e-9;
  const double horizon_s = static_cast<double>(model->run().duration_ns) * 1e-9;
  const double throughput = static_cast<double>(world.completions().size()) / horizon_s;
  const double cycle_time_s = sum_ct_s / static_cast<double>(world.completions().size());
  const double wip_mean = Kpi(kpis, "wip_mean_lots");
  INFO("WIP " << wip_mean << ", lambda W " << throughput * cycle_time_s);
  CHECK(throughput * cycle_time_s == Approx(wip_mean).epsilon(0.03));
  // The same from the KPIs (after the warm-up): within statistical tolerance.
  const double kpi_lw =
      Kpi(kpis, "throughput_lots_per_day") * Kpi(kpis, "cycle_time_mean_h") / 24.0;
  CHECK(kpi_lw == Approx(wip_mean).epsilon(0.08));
  // Utilisation of the bottleneck matches the offered load: litho does 55 + 10 min per lot.
  const double lots_per_min = (2.0 / 200.0 + 1.0 / 1440.0);
  CHECK(Kpi(kpis, "utilisation_litho") == Approx(lots_per_min * 65.0).epsilon(0.03));
  // Availability of litho: a 6 h PM every 7 days.
  CHECK(Kpi(kpis, "availability_litho") == Approx(1.0 - 6.0 / 168.0).epsilon(0.005));
  // Implant: breakdowns with MTTF 3 d, MTTR 4 h (setups are scheduled down as well).
  CHECK(Kpi(kpis, "availability_implant") < 1.0 - 4.0 / 76.0 + 0.01);
  CHECK(Kpi(kpis, "x_factor") > 1.0);
}

uint64_t HashAfter(int threads, uint64_t seed, std::vector<fab::Completion>* log0) {
  RunOverrides overrides;
  overrides.num_worlds = 3;
  overrides.num_threads = threads;
  overrides.seed = seed;
  overrides.duration_ns = int64_t{20} * 86400 * 1'000'000'000;
  const auto model = Minifab(overrides);
  Simulator simulator(model);
  simulator.Step(model->run().duration_ns / model->run().dt_ns);
  if (log0 != nullptr) *log0 = World(simulator, 1).completions();
  return simulator.state().Hash();
}

bool SameLog(const std::vector<fab::Completion>& a, const std::vector<fab::Completion>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].lot_id != b[i].lot_id || a[i].finish_ns != b[i].finish_ns ||
        a[i].release_ns != b[i].release_ns)
      return false;
  return true;
}

TEST_CASE("Same seed gives the same completion log and state hash on 1 or 2 threads",
          "[determinism]") {
  std::vector<fab::Completion> one, two, other;
  const uint64_t hash1 = HashAfter(1, 9, &one);
  const uint64_t hash2 = HashAfter(2, 9, &two);
  CHECK(hash1 == hash2);
  CHECK(SameLog(one, two));
  CHECK(one.size() > 100);
  const uint64_t hash3 = HashAfter(1, 10, &other);
  CHECK(hash3 != hash1);
  CHECK_FALSE(SameLog(one, other));
}

TEST_CASE("Snapshot and restore continue a fab run bit-identically", "[determinism]") {
  const auto model = Minifab();
  Simulator a(model), b(model);
  a.Step(5 * 1440);
  const std::vector<uint8_t> snapshot = a.Snapshot();
  a.Step(5 * 1440);
  b.Step(17);  // somewhere else entirely
  b.Restore(snapshot);
  b.Step(5 * 1440);
  CHECK(a.state().Hash() == b.state().Hash());
  CHECK(SameLog(World(a).completions(), World(b).completions()));
}

TEST_CASE("Fab commands: CONWIP caps WIP, release rate scales releases, tools go down", "[fab]") {
  const auto model = Minifab();
  Simulator simulator(model);
  const Schema& schema = model->schema();
  simulator.Step(2 * 1440);
  std::string error = simulator.Submit({.target = "fab/conwip", .values = {4}, .origin = "test"});
  REQUIRE(error.empty());
  simulator.Step(1);
  int64_t max_wip_after = 0;
  const FieldId wip = schema.Find("fab.wip_lots");
  // Once WIP has drained below the cap it never exceeds it again.
  bool reached = false;
  for (int tick = 0; tick < 10 * 1440; ++tick) {
    simulator.Step(1);
    const auto now = static_cast<int64_t>(simulator.state().World<double>(wip, 0)[0]);
    if (now <= 4) reached = true;
    if (reached) max_wip_after = std::max(max_wip_after, now);
  }
  CHECK(reached);
  CHECK(max_wip_after <= 4);
  CHECK(World(simulator).counters().held_releases > 0);
  // Lifting CONWIP releases the held lots at once.
  REQUIRE(simulator.Submit({.target = "fab/conwip", .values = {0}, .origin = "test"}).empty());
  simulator.Step(1);
  CHECK(World(simulator).counters().held_releases == 0);
  // Switching the litho tool (index 4) off: it becomes non-scheduled, and nothing finishes.
  REQUIRE(simulator.Submit({.target = "fab/tool_down", .values = {4}, .origin = "test"}).empty());
  simulator.Step(1440);
  CHECK(World(simulator).tools()[4].e10_state == fab::kNonScheduled);
  const int64_t finished = World(simulator).counters().finished_lots;
  simulator.Step(1440);
  CHECK(World(simulator).counters().finished_lots == finished);
  REQUIRE(simulator.Submit({.target = "fab/tool_up", .values = {4}, .origin = "test"}).empty());
  simulator.Step(1440);
  CHECK(World(simulator).counters().finished_lots > finished);
  // Out-of-range arguments are refused by the engine.
  CHECK_FALSE(
      simulator.Submit({.target = "fab/tool_down", .values = {5}, .origin = "test"}).empty());
}

TEST_CASE("Fab commands: pm_advance starts the litho PM early, product_mix sets a rate", "[fab]") {
  // Mini-Fab litho (tool 4) has its first PM at 3 d (6 h +- 1 h). Advanced at t = 0 with an 80 h
  // window it runs on day 1 (after at most one job), so day 1 has 5-7 h of PM; without, none.
  const auto model = Minifab();
  Simulator simulator(model);
  REQUIRE(
      simulator.Submit({.target = "fab/pm_advance", .values = {4, 80}, .origin = "test"}).empty());
  REQUIRE(simulator.Submit({.target = "fab/product_mix", .values = {1, 0.5}, .origin = "test"})
              .empty());
  simulator.Step(1440);
  const int64_t pm_ns = World(simulator).tools()[4].e10_ns[fab::kScheduledDown];
  CHECK(pm_ns >= 5 * 3600 * int64_t{1'000'000'000});
  CHECK(pm_ns <= 7 * 3600 * int64_t{1'000'000'000});
  CHECK(World(simulator).product_rate(1) == 0.5);
  CHECK(World(simulator).product_rate(0) == 1.0);
  CHECK_FALSE(
      simulator.Submit({.target = "fab/product_mix", .values = {2, 1}, .origin = "test"}).empty());
}

TEST_CASE("Mini-Fab overlay metrology: drift between litho PMs, commands on batches", "[fab]") {
  // 21 days: three weekly litho PMs. Overlay starts at 2 nm after each PM and grows 1 pm per
  // wafer; the litho tool (index 4) never runs more than about a week of wafers between PMs.
  const auto model = Minifab();
  Simulator simulator(model);
  const Schema& schema = simulator.state().schema();
  const FieldId overlay = schema.Find("fab.overlay"), count = schema.Find("fab.overlay_count"),
                since_pm = schema.Find("fab.wafers_since_pm");
  REQUIRE(overlay != kInvalidField);
  double max_since_pm = 0.0;
  for (int day = 0; day < 21; ++day) {
    simulator.Step(1440);
    const double value = simulator.state().World<double>(overlay, 0)[0];
    CHECK(value > 0.0);
    CHECK(value < 2.0e-9 + 1.0e-12 * 12000 + 5 * 0.8e-9);
    max_since_pm = std::max(max_since_pm, simulator.state().World<double>(since_pm, 0)[4]);
  }
  const fab::MetrologyStats& stats = World(simulator).metrology()[0];
  CHECK(simulator.state().World<double>(count, 0)[0] == static_cast<double>(stats.count));
  CHECK(stats.count > 400);  // two litho visits per lot, ~15 lots a day
  CHECK(max_since_pm > 2000);
  CHECK(max_since_pm < 9000);
  const std::vector<KpiEntry> kpis = simulator.ComputeKpis();
  CHECK(Kpi(kpis, "overlay_mean") > 2.0e-9);
  CHECK(Kpi(kpis, "overlay_out_of_spec_fraction") > 0.0);
  CHECK(Kpi(kpis, "overlay_out_of_spec_fraction") < 0.5);
  // Batch controls arrive through the command path and are range-checked.
  CHECK(simulator.Submit({.target = "fab/batch_min", .values = {0, 75}, .origin = "test"}).empty());
  CHECK(simulator.Submit({.target = "fab/batch_start", .values = {0}, .origin = "test"}).empty());
  CHECK_FALSE(
      simulator.Submit({.target = "fab/batch_start", .values = {5}, .origin = "test"}).empty());
  simulator.Step(1);
  CHECK(World(simulator).batch_min_override(0) == 75);
}

TEST_CASE("The completion log CSV has one row per finished lot", "[fab]") {
  const std::filesystem::path csv =
      std::filesystem::temp_directory_path() / "ftwin_fab_test_lots.csv";
  std::filesystem::remove(csv);
  std::string text = ReadText(kMinifab);
  const size_t line = text.find("    completion_log:");
  text.replace(line, text.find('\n', line) - line, "    completion_log: " + csv.string());
  const auto model = LoadScenarioText(text, kMinifab, Registry()).model;
  Simulator simulator(model);
  simulator.Step(10 * 1440);
  simulator.ComputeKpis();  // writes the log
  std::ifstream in(csv);
  std::string header, row;
  std::getline(in, header);
  CHECK(header ==
        "lot,product,priority,wafers,release_h,finish_h,due_h,cycle_time_h,on_time,reworks");
  std::vector<std::string> rows;
  while (std::getline(in, row)) rows.push_back(row);
  const auto& done = World(simulator).completions();
  REQUIRE(rows.size() == done.size());
  REQUIRE(!rows.empty());
  // The first row: lot id, product name and cycle time as in the world.
  std::istringstream first(rows[0]);
  std::string id, product, priority, wafers, release, finish, due, cycle;
  std::getline(first, id, ',');
  std::getline(first, product, ',');
  std::getline(first, priority, ',');
  std::getline(first, wafers, ',');
  std::getline(first, release, ',');
  std::getline(first, finish, ',');
  std::getline(first, due, ',');
  std::getline(first, cycle, ',');
  CHECK(std::stoll(id) == done[0].lot_id);
  CHECK(product == static_cast<const FabLineBlock&>(model->block(model->FindBlock("fab")))
                       .config()
                       .products[static_cast<size_t>(done[0].product)]
                       .name);
  CHECK(std::stod(cycle) ==
        Approx(static_cast<double>(done[0].finish_ns - done[0].release_ns) / 3.6e12).margin(1e-6));
  std::filesystem::remove(csv);
}

TEST_CASE("AI dispatch: decisions by command, timeouts fall back to the rule", "[fab]") {
  std::string text = ReadText(kMinifab);
  const size_t line = text.find("    completion_log:");
  text.replace(line, text.find('\n', line) - line,
               "    ai_dispatch: {families: [litho], timeout: 10min}");
  const auto model = LoadScenarioText(text, kMinifab, Registry()).model;
  const FieldId awaiting = model->schema().Find("fab.awaiting_decision");
  const FieldId view = model->schema().Find("fab.queue_view");
  const int litho_tool = 4;  // tools: diffusion 0-1, implant 2-3, litho 4
  // 1. Nobody answers: every litho decision times out to the rule, lots still flow.
  {
    Simulator simulator(model);
    simulator.Step(10 * 1440);
    const auto& counters = World(simulator).counters();
    CHECK(counters.ai_decisions == 0);
    CHECK(counters.ai_timeouts > 100);
    CHECK(counters.finished_lots > 100);
  }
  // 2. A scripted agent takes the head of the litho queue whenever the tool asks: it decides
  //    everything (the answer arrives within a tick, long before the 10 min timeout).
  {
    Simulator simulator(model);
    int64_t asked = 0;
    for (int tick = 0; tick < 10 * 1440; ++tick) {
      simulator.Step(1);
      const double* wait = simulator.state().World<double>(awaiting, 0);
      REQUIRE(wait[0] == 0.0);  // only delegated families ask
      if (wait[litho_tool] == 1.0) {
        ++asked;
        // The view shows the head lot of the litho queue (family 2): priority 10 or 20.
        const double* litho = simulator.state().World<double>(view, 0) + 2 * 4 * 3;
        REQUIRE(litho[0] >= 10);
        REQUIRE(simulator
                    .Submit({.tick = simulator.tick(),
                             .target = "fab/dispatch",
                             .values = {double(litho_tool), 0},
                             .origin = "agent"})
                    .empty());
      }
    }
    const auto& counters = World(simulator).counters();
    CHECK(asked > 100);
    CHECK(counters.ai_decisions == asked);
    CHECK(counters.ai_timeouts == 0);
    CHECK(counters.finished_lots > 100);
    // 3. An answer that names no lot is ignored: the decision times out to the rule.
    for (int tick = 0; tick < 1440; ++tick) {
      simulator.Step(1);
      if (simulator.state().World<double>(awaiting, 0)[litho_tool] == 1.0)
        REQUIRE(simulator
                    .Submit({.tick = simulator.tick(),
                             .target = "fab/dispatch",
                             .values = {double(litho_tool), 500},
                             .origin = "agent"})
                    .empty());
    }
    CHECK(World(simulator).counters().ai_timeouts > 0);
    CHECK(World(simulator).counters().ai_decisions == asked);
  }
}

TEST_CASE("power_W is the mean tool power: idle or busy per tool", "[fab]") {
  const auto model = Minifab();
  Simulator simulator(model);
  const FieldId power = model->schema().Find("fab.power_W");
  double energy_J = 0;
  for (int tick = 0; tick < 3 * 1440; ++tick) {
    simulator.Step(1);
    const double p = simulator.state().World<double>(power, 0)[0];
    // Between all idle (2*30 + 2*15 + 20 kW) and all busy (2*90 + 2*60 + 45 kW).
    REQUIRE(p >= 110e3 - 1e-6);
    REQUIRE(p <= 345e3 + 1e-6);
    energy_J += p * 60.0;
  }
  CHECK(energy_J == Approx(World(simulator).energy_J()).epsilon(1e-9));
}

std::string ErrorOf(const std::string& replace, const std::string& with) {
  std::string text = ReadText(kMinifab);
  const size_t at = text.find(replace);
  REQUIRE(at != std::string::npos);
  text.replace(at, replace.size(), with);
  try {
    LoadScenarioText(text, kMinifab, Registry());
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST_CASE("Bad fab scenarios are rejected with file, line, key and expectation", "[fab]") {
  CHECK_THAT(ErrorOf("family: implant, time: 30min", "family: etch, time: 30min"),
             Catch::Contains("minifab.yaml:") &&
                 Catch::Contains("products[0].route[1].family: got 'etch', expected the name of a "
                                 "family"));
  CHECK_THAT(ErrorOf("batch_min_wafers: 50, batch_max_wafers: 75}\n          - {name: S2",
                     "batch_min_wafers: 50, batch_max_wafers: 25}\n          - {name: S2"),
             Catch::Contains("batch_max_wafers: got '25', expected batch_max_wafers >= "
                             "batch_min_wafers"));
  CHECK_THAT(ErrorOf("time: 30min, dist: uniform", "time: -30min, dist: uniform"),
             Catch::Contains("route[1].time: got '-30min'"));
  CHECK_THAT(ErrorOf("time: 30min, dist: uniform", "time: 30min, dist: weibull"),
             Catch::Contains("route[1].dist: got 'weibull'"));
  CHECK_THAT(ErrorOf("family: litho, unit: m", "family: etch, unit: m"),
             Catch::Contains("metrology[0].family: got 'etch', expected the name of a family"));
  CHECK_THAT(ErrorOf("lot_sigma: 0.8e-9", "lot_sigma: -0.8e-9"),
             Catch::Contains("metrology[0].lot_sigma: got '-0.8e-9'"));
  CHECK_THAT(ErrorOf("rule: fifo", "rule: random"),
             Catch::Contains("families[0].rule: got 'random', expected one of fifo"));
  CHECK_THAT(ErrorOf("{product: A, interval: 200min", "{product: C, interval: 200min"),
             Catch::Contains("releases[0].product: got 'C'"));
  // The line number points at the bad value in the file.
  const std::string text = ReadText(kMinifab);
  const size_t at = text.find("family: implant, time: 30min");
  const auto line =
      1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  const std::string error = ErrorOf("family: implant, time: 30min", "family: etch, time: 30min");
  CHECK_THAT(error, Catch::Contains("minifab.yaml:" + std::to_string(line) + ":"));
}

}  // namespace
}  // namespace ftwin
