// The fab line's truth ports for fab instruments: the E10 state per tool (a state_signal's
// truth), MES track-in/track-out counts (an event_counter's truth) and chamber pressure and
// temperature traces. Checked against the tool's own schedule: the chamber trace against a
// tick-by-tick first-order recursion driven by the reported E10 states (a second way to compute
// the closed-form anchored trace), track counts against lot conservation.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "plants/register.h"

namespace ftwin {
namespace {

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  return registry;
}

// One etch chamber; a lot every 100 s, 40 s per lot; a PM of 60 s comes due at 530 s (during a
// job, so it starts when the job ends). Every event falls on a whole second, the tick.
const std::string kChamberFab = R"(ftwin: 1
name: chamber-fab
run: {dt: 1s, duration: 2000s, seed: 1}
blocks:
  - name: fab
    type: fab_line
    families:
      - name: etch
        tools: 1
        chamber: {process_pressure_Pa: 4.0, idle_pressure_Pa: 0.01, vent_pressure_Pa: 101325,
                  pressure_time_constant: 15s, process_temperature_K: 333.15,
                  idle_temperature_K: 313.15, vent_temperature_K: 295.15,
                  temperature_time_constant: 120s}
        pm: {interval: 1000s, first: 530s, duration: 60s}
      - name: inspect
        tools: 1
    products:
      - name: P
        wafers_per_lot: 25
        route:
          - {name: etch1, family: etch, time: 40s}
          - {name: inspect1, family: inspect, time: 20s}
    releases:
      - {product: P, interval: 100s, wafers: 25}
  - name: etch_e10
    type: state_signal
    truth_dtype: f64
    latency: 2s
  - name: etch_track_out
    type: event_counter
    latency: 3s
connections:
  - ["fab.tool_state[0]", etch_e10.state]
  - ["fab.track_outs[0]", etch_track_out.count]
)";

}  // namespace

TEST_CASE("Fab chamber traces follow the first-order response to the tool's E10 state", "[fab]") {
  const auto model = LoadScenarioText(kChamberFab, "chamber.yaml", Registry()).model;
  Simulator simulator(model);
  const Schema& schema = model->schema();
  const FieldId state_id = schema.Find("fab.tool_state");
  const FieldId pressure_id = schema.Find("fab.chamber_pressure_Pa");
  const FieldId temperature_id = schema.Find("fab.chamber_temperature_K");
  REQUIRE(pressure_id != kInvalidField);
  auto get = [&](FieldId id, int element) {
    return simulator.state().World<double>(id, 0)[element];
  };
  // Targets by E10 state: productive -> process, PM (scheduled down without setups here) and
  // repair -> vent, the rest -> idle.
  auto targets = [](int state) {
    if (state == 0) return std::pair{4.0, 333.15};
    if (state == 3 || state == 4) return std::pair{101325.0, 295.15};
    return std::pair{0.01, 313.15};
  };
  // The first lot is released at 0 s and starts at once: over the first second the chamber
  // pumps from idle towards the process pressure and heats towards the process temperature.
  simulator.Step();
  double pressure = 4.0 + (0.01 - 4.0) * std::exp(-1.0 / 15.0);
  double temperature = 333.15 + (313.15 - 333.15) * std::exp(-1.0 / 120.0);
  CHECK(get(pressure_id, 0) == Approx(pressure).epsilon(1e-12));
  CHECK(get(temperature_id, 0) == Approx(temperature).epsilon(1e-12));
  int state = static_cast<int>(get(state_id, 0));
  REQUIRE(state == 0);
  int productive_ticks = 1, vented_ticks = 0;
  double worst_pressure = 0.0, worst_temperature = 0.0;
  for (int tick = 1; tick < 2000; ++tick) {
    simulator.Step();
    // The state reported at the previous tick held over this whole step.
    const auto [p_target, t_target] = targets(state);
    pressure = p_target + (pressure - p_target) * std::exp(-1.0 / 15.0);
    temperature = t_target + (temperature - t_target) * std::exp(-1.0 / 120.0);
    worst_pressure =
        std::max(worst_pressure, std::abs(get(pressure_id, 0) - pressure) / (1.0 + pressure));
    worst_temperature = std::max(worst_temperature, std::abs(get(temperature_id, 0) - temperature));

    state = static_cast<int>(get(state_id, 0));
    productive_ticks += state == 0;
    vented_ticks += state == 3;
    // The chamberless inspection tool reads 0.
    REQUIRE(get(pressure_id, 1) == 0.0);
  }
  INFO("worst relative pressure error " << worst_pressure << ", temperature " << worst_temperature
                                        << " K");
  CHECK(worst_pressure < 1e-9);
  CHECK(worst_temperature < 1e-9);
  // The schedule did exercise every target: 20 lots x 40 s processing, two PMs of 60 s.
  CHECK(productive_ticks >= 700);
  CHECK(vented_ticks == 120);
}

TEST_CASE("Fab E10 and track-out ports drive a state signal and an MES event counter", "[fab]") {
  const auto model = LoadScenarioText(kChamberFab, "chamber.yaml", Registry()).model;
  Simulator simulator(model);
  const Schema& schema = model->schema();
  auto get = [&](const std::string& name, int element = 0) {
    const FieldId id = schema.Find(name);
    REQUIRE(id != kInvalidField);
    return simulator.state().World<double>(id, 0)[element];
  };
  std::vector<double> states, track_outs;
  for (int tick = 0; tick < 2000; ++tick) {
    simulator.Step();
    states.push_back(get("fab.tool_state"));
    track_outs.push_back(get("fab.track_outs"));
    // Lot conservation on the etch tool: started = finished + the one in process.
    const double in_process = get("fab.track_ins") - get("fab.track_outs");
    REQUIRE((in_process == 0.0 || in_process == 1.0));
    REQUIRE(in_process == (states.back() == 0.0 ? 1.0 : 0.0));
    if (tick >= 3)
      REQUIRE(get("etch_track_out.count") == track_outs[static_cast<size_t>(tick - 3)]);
    const FieldId reported = schema.Find("etch_e10.state");
    if (tick >= 2)
      REQUIRE(static_cast<double>(simulator.state().World<uint8_t>(reported, 0)[0]) ==
              states[static_cast<size_t>(tick - 2)]);
  }
  // 20 lots released; the last one's etch ends at 1940 s.
  CHECK(track_outs.back() == 20.0);
  CHECK(get("fab.track_outs", 1) == 20.0);  // inspection is done by 1960 s
}

TEST_CASE("Bad fab chamber keys are rejected with their key", "[fab]") {
  std::string text = kChamberFab;
  text.replace(text.find("pressure_time_constant: 15s"), 27, "pressure_time_constant: 0s");
  std::string missing = kChamberFab;
  missing.replace(missing.find("process_temperature_K: 333.15,"), 30, "");
  std::string negative = kChamberFab;
  negative.replace(negative.find("idle_pressure_Pa: 0.01"), 22, "idle_pressure_Pa: -1");
  const std::pair<std::string, std::string> cases[] = {{text, "pressure_time_constant"},
                                                       {missing, "process_temperature_K"},
                                                       {negative, "idle_pressure_Pa"}};
  for (const auto& [scenario, key] : cases) {
    INFO(key);
    try {
      LoadScenarioText(scenario, "chamber.yaml", Registry());
      FAIL("loaded a bad scenario");
    } catch (const InputError& error) {
      const std::string message = error.what();
      INFO(message);
      CHECK(message.find("chamber.yaml:") != std::string::npos);
      CHECK(message.find(key) != std::string::npos);
    }
  }
}

}  // namespace ftwin
