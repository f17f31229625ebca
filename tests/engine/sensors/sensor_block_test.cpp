// The "sensor" block in a scenario: truth beside the reading, determinism, presets, faults,
// and rejection of bad specs.
#include "engine/sensors/sensor_block.h"

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

std::string Scenario(const std::string& sensor, int worlds = 3, int threads = 1,
                     const std::string& faults = "") {
  return "ftwin: 1\nname: sensors\nrun: {dt: 10ms, duration: 10s, seed: 7, worlds: " +
         std::to_string(worlds) + ", threads: " + std::to_string(threads) +
         "}\nblocks:\n  - {name: source, type: signal_source, shape: sine, unit: K, mean: 300, "
         "amplitude: 5, wave_period: 2s}\n  - name: probe\n    type: sensor\n" +
         sensor + "connections:\n  - [source.value, probe.truth]\n" + faults;
}

std::string Errors(const std::string& text) {
  try {
    LoadScenarioText(text, "site.yaml", Registry());
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST_CASE("Sensor readings are identical for 1, 2 and 4 threads and reruns", "[determinism]") {
  const std::string sensor =
      "    preset: rtd_pt100_class_a\n    noise_sigma: 0.2\n    dropout_probability: 0.1\n"
      "    latency: 30ms\n    gauss_markov_sigma: 0.1\n    gauss_markov_tau: 1s\n";
  uint64_t reference = 0;
  for (int threads : {1, 2, 4, 1}) {
    const LoadedScenario loaded =
        LoadScenarioText(Scenario(sensor, 8, threads), "site.yaml", Registry());
    Simulator simulator(loaded.model);
    simulator.Step(300);
    const uint64_t hash = simulator.state().Hash();
    if (reference == 0) reference = hash;
    CHECK(hash == reference);
  }
}

// Regression: a controller reading a sensor before its first sample used to see 0 (0 K for a
// thermometer), which wound up the default scenario's PID for a whole control period.
TEST_CASE("Before its first sample a sensor shows the initial truth through its static errors",
          "[sensors]") {
  const LoadedScenario loaded = LoadScenarioText(
      Scenario("    unit: K\n    noise_sigma: 0.5\n    bias: 0.25\n    scale_factor_error: 0.01\n"),
      "site.yaml", Registry());
  Simulator simulator(loaded.model);
  const Schema& schema = simulator.state().schema();
  for (int world = 0; world < 3; ++world) {
    // The source starts at mean + amplitude = 305 K (a cosine); no noise before the first sample.
    CHECK(simulator.state().World<double>(schema.Find("probe.value"), world)[0] ==
          Approx(1.01 * 305.0 + 0.25));
    CHECK(simulator.state().World<uint8_t>(schema.Find("probe.valid"), world)[0] == 0);
  }
}

TEST_CASE("Truth stays readable beside the reading; worlds differ in noise", "[sensors]") {
  const LoadedScenario loaded =
      LoadScenarioText(Scenario("    unit: K\n    noise_sigma: 0.5\n    resolution: 0.001\n"),
                       "site.yaml", Registry());
  Simulator simulator(loaded.model);
  const Schema& schema = simulator.state().schema();
  const FieldId value = schema.Find("probe.value"), truth = schema.Find("probe.truth");
  const FieldId source = schema.Find("source.value");
  REQUIRE(value != kInvalidField);
  REQUIRE(truth != kInvalidField);
  double sum_sq = 0;
  int n = 0;
  for (int k = 0; k < 500; ++k) {
    simulator.Step(1);
    for (int w = 0; w < 3; ++w) {
      const double t = simulator.state().World<double>(truth, w)[0];
      CHECK(t == simulator.state().World<double>(source, w)[0]);
      const double e = simulator.state().World<double>(value, w)[0] - t;
      sum_sq += e * e;
      ++n;
    }
  }
  CHECK(std::sqrt(sum_sq / n) == Approx(0.5).epsilon(0.05));
  CHECK(simulator.state().World<double>(value, 0)[0] !=
        simulator.state().World<double>(value, 1)[0]);
}

TEST_CASE("Faults from the scenario: stuck reading, then dead line", "[sensors]") {
  const std::string faults =
      "faults:\n  - {block: probe, fault: stuck, at: 1s, duration: 1s}\n"
      "  - {block: probe, fault: dead, at: 5s, params: {value: 0}}\n";
  const std::string text = Scenario("    unit: K\n", 1, 1, faults);
  const LoadedScenario loaded = LoadScenarioText(text, "site.yaml", Registry());
  Simulator simulator(loaded.model);
  const Schema& schema = simulator.state().schema();
  const FieldId value = schema.Find("probe.value"), valid = schema.Find("probe.valid");
  simulator.Step(110);  // 1.1 s: stuck since 1 s
  const double frozen = simulator.state().World<double>(value, 0)[0];
  simulator.Step(50);
  CHECK(simulator.state().World<double>(value, 0)[0] == frozen);
  simulator.Step(100);  // 2.6 s: released, follows the sine again
  CHECK(simulator.state().World<double>(value, 0)[0] != frozen);
  CHECK(simulator.state().World<uint8_t>(valid, 0)[0] == 1);
  simulator.Step(300);  // 5.6 s: dead
  CHECK(simulator.state().World<double>(value, 0)[0] == 0.0);
  CHECK(simulator.state().World<uint8_t>(valid, 0)[0] == 0);
}

TEST_CASE("Presets load and can be overridden", "[sensors]") {
  for (const SensorPreset& preset : SensorPresets()) {
    CHECK(!preset.unit.empty());
    CHECK(preset.params.range_min < preset.params.range_max);
  }
  const std::string text = Scenario("    preset: rtd_pt100_class_a\n    noise_sigma: 0.2\n");
  CHECK(Errors(text).empty());
  // A preset of another unit cannot be wired to a K port.
  CHECK(Errors(Scenario("    preset: pressure_transmitter_10bar\n")).find("unit") !=
        std::string::npos);
}

TEST_CASE("Bad sensor specs are rejected with file, line, key and expectation", "[sensors]") {
  std::string e = Errors(Scenario("    unit: K\n    sample_period: -5ms\n"));
  CHECK(e.find("site.yaml:") != std::string::npos);
  CHECK(e.find("sample_period") != std::string::npos);
  e = Errors(Scenario("    unit: K\n    noise_model: pink\n"));
  CHECK(e.find("noise_model") != std::string::npos);
  CHECK(e.find("unknown") != std::string::npos);
  e = Errors(Scenario("    preset: no_such_sensor\n"));
  CHECK(e.find("no_such_sensor") != std::string::npos);
  CHECK(e.find("rtd_pt100_class_a") != std::string::npos);
  e = Errors(Scenario("    unit: K\n    noise_sigma: -1\n"));
  CHECK(e.find("noise_sigma") != std::string::npos);
  CHECK(e.find(":9:") != std::string::npos);  // the line of the key
  e = Errors(Scenario("    unit: K\n    gauss_markov_sigma: 1\n"));
  CHECK(e.find("gauss_markov_tau") != std::string::npos);
  e = Errors(Scenario("    unit: K\n    dropout_probability: 1.5\n"));
  CHECK(e.find("dropout_probability") != std::string::npos);
}

}  // namespace
}  // namespace ftwin
