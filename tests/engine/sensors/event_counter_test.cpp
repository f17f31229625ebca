// The event_counter instrument (MES lot tracking, reads, part counts) against independent truth:
// an exact delay of N ticks, binomial statistics of lost and duplicated events, conservation
// (reported = true - lost + duplicated), outcomes that depend on the event's index and not on how
// the events were spread over ticks, and clear errors for bad keys.
#include "engine/sensors/event_counter.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "engine/scenario.h"
#include "engine/simulator.h"

namespace ftwin {
namespace {

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  return registry;
}

// A count that rises by `per_s` events per second for 2000 s, read by an event counter. A
// source's value at the end of step k is its value at the start of that step, k dt: the count
// reaches 2000 per_s after 2000 s / dt + 1 steps.
std::string Scenario(const std::string& dt, double per_s, const std::string& counter_keys) {
  return "ftwin: 1\nname: events\nrun: {dt: " + dt +
         ", duration: 2100s, seed: 11}\nblocks:\n"
         "  - {name: moves, type: signal_source, shape: ramp, from: 0, to: " +
         std::to_string(2000.0 * per_s) +
         ", start: 0s, end: 2000s}\n"
         "  - {name: reader, type: event_counter" +
         counter_keys + "}\nconnections:\n  - [moves.value, reader.count]\n";
}

struct Run {
  explicit Run(const std::string& text)
      : model(LoadScenarioText(text, "events.yaml", Registry()).model), simulator(model) {}
  double Get(const std::string& field, int element = 0) {
    const FieldId id = simulator.state().schema().Find(field);
    REQUIRE(id != kInvalidField);
    return simulator.state().World<double>(id, 0)[element];
  }
  std::shared_ptr<const Model> model;
  Simulator simulator;
};

}  // namespace

TEST_CASE("An event counter reports every event exactly latency ticks later", "[sensors]") {
  Run run(Scenario("1s", 3.0, ", latency: 4s"));
  std::vector<double> truth;
  for (int tick = 0; tick < 2001; ++tick) {
    run.simulator.Step();
    truth.push_back(run.Get("reader.true_count"));
    const double reported = run.Get("reader.count");
    // Reported = true count 4 ticks earlier (0 before the line has filled).
    const double expected = tick >= 4 ? truth[static_cast<size_t>(tick - 4)] : 0.0;
    REQUIRE(reported == expected);
    REQUIRE(run.Get("reader.events") ==
            expected - (tick >= 5 ? truth[static_cast<size_t>(tick - 5)] : 0.0));
  }
  // floor(3 t) at t = 2000 s, whatever the ramp's rounding on the way.
  CHECK(truth.back() == 6000.0);
}

TEST_CASE("Lost and duplicated events follow their probabilities; counts are conserved",
          "[sensors]") {
  // 20 events per second for 2000 s: 40 000 events.
  Run run(Scenario("1s", 20.0, ", lost_event_probability: 0.02, duplicate_probability: 0.05"));
  run.simulator.Step(2001);
  const double* s =
      run.simulator.state().World<double>(run.simulator.state().schema().Find("reader.stats"), 0);
  const double n = s[kEventTrue], lost = s[kEventLost], twice = s[kEventDuplicated];
  REQUIRE(n == 40000.0);
  // Binomial(n, p) within 4.5 sigma.
  CHECK(std::abs(lost - n * 0.02) < 4.5 * std::sqrt(n * 0.02 * 0.98));
  // Duplicates are drawn for the events that were not lost.
  const double kept = n - lost;
  CHECK(std::abs(twice - kept * 0.05) < 4.5 * std::sqrt(kept * 0.05 * 0.95));
  CHECK(run.Get("reader.count") == n - lost + twice);
  double reported_kpi = -1;
  for (const KpiEntry& kpi : run.simulator.ComputeKpis())
    if (kpi.desc.name == "events_reported") reported_kpi = kpi.per_world[0];
  CHECK(reported_kpi == n - lost + twice);
}

TEST_CASE("An event's fate depends on its index, not on how events were spread over ticks",
          "[sensors][determinism]") {
  // The same 4000 events arrive one per 500 ms tick or eight per 4 s tick.
  const std::string keys = ", lost_event_probability: 0.1, duplicate_probability: 0.1";
  Run fine(Scenario("500ms", 2.0, keys));
  Run coarse(Scenario("4s", 2.0, keys));
  fine.simulator.Step(4001);
  coarse.simulator.Step(501);
  REQUIRE(fine.Get("reader.true_count") == 4000.0);
  REQUIRE(coarse.Get("reader.true_count") == 4000.0);
  CHECK(fine.Get("reader.count") == coarse.Get("reader.count"));
  CHECK(fine.Get("reader.stats", kEventLost) == coarse.Get("reader.stats", kEventLost));
  CHECK(fine.Get("reader.stats", kEventLost) > 0);
}

TEST_CASE("Bad event counter keys are rejected with their key", "[sensors]") {
  const std::pair<std::string, std::string> cases[] = {
      {", lost_event_probability: 1.5", "lost_event_probability"},
      {", duplicate_probability: -0.1", "duplicate_probability"},
      {", latency: 1500ms", "latency"},
      {", jitter: 1s", "jitter"}};
  for (const auto& [keys, key] : cases) {
    INFO(keys);
    try {
      LoadScenarioText(Scenario("1s", 1.0, keys), "events.yaml", Registry());
      FAIL("loaded a bad scenario");
    } catch (const InputError& error) {
      const std::string message = error.what();
      INFO(message);
      CHECK(message.find("events.yaml:") != std::string::npos);
      CHECK(message.find(key) != std::string::npos);
    }
  }
}

}  // namespace ftwin
