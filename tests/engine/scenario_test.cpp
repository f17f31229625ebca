// Scenario files: every class of input error names file, line and key path; valid scenarios
// load, compile and round-trip.
#include "engine/scenario.h"

#include <catch2/catch.hpp>
#include <filesystem>

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

const char* kValid = R"(ftwin: 1
name: test-site
run:
  dt: 1s
  duration: 1h
  seed: 3
blocks:
  - name: outside
    type: signal_source
    shape: constant
    unit: K
    value: 280
  - name: room
    type: thermal_network
    nodes:
      - {name: air, capacitance_J_per_K: 1.0e5, ambient_conductance_W_per_K: 10}
    heat_inputs: [air]
  - name: heater
    type: pid_controller
    measurement_unit: K
    output_unit: W
    setpoint: 293
    kp: 100
    output_min: 0
    output_max: 2000
connections:
  - [outside.value, room.ambient_K]
  - ["room.temp_K[0]", heater.measurement, delayed]
  - [heater.command, room.heat_air_W]
faults:
  - {block: room, fault: heat_leak, at: 10min, duration: 5min, params: {node: 0, power_W: 500}}
  - {block: heater, fault: output_stuck, mean_interval: 20min, duration: 1min, worlds: [0]}
)";

// Loads and compiles text; returns the error text ("" when valid).
std::string Errors(const std::string& text) {
  try {
    LoadScenarioText(text, "site.yaml", Registry());
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

TEST_CASE("A valid scenario loads, compiles and runs", "[scenario]") {
  REQUIRE(Errors(kValid).empty());
  const Spec spec = ParseSpec(kValid, "site.yaml");
  CHECK(spec.run.dt_ns == 1'000'000'000);
  CHECK(spec.run.duration_ns == 3600LL * 1'000'000'000);
  CHECK(spec.blocks.size() == 3);
  CHECK(spec.connections[1].delayed);
  CHECK(spec.faults[1].mean_interval_ns == 1200LL * 1'000'000'000);
}

TEST_CASE("A valid scenario round-trips through SpecToYaml", "[scenario]") {
  const Spec spec = ParseSpec(kValid, "site.yaml");
  const std::string text = SpecToYaml(spec);
  const Spec again = ParseSpec(text, "site.yaml");
  CHECK(SpecToYaml(again) == text);
  CHECK(again.run.seed == spec.run.seed);
  CHECK(again.connections.size() == spec.connections.size());
  CHECK(again.faults[0].params == spec.faults[0].params);
  // Same model and the same trajectory.
  const auto a = CompileSpec(spec, Registry());
  const auto b = CompileSpec(again, Registry());
  CHECK(a->schema().Hash() == b->schema().Hash());
  Simulator sa(a), sb(b);
  sa.Step(1200);
  sb.Step(1200);
  CHECK(sa.state().Hash() == sb.state().Hash());
}

TEST_CASE("YAML syntax errors name the line", "[scenario]") {
  CHECK_THAT(Errors("ftwin: 1\nname: [unclosed\n"),
             Catch::Contains("site.yaml:") && Catch::Contains("YAML syntax error"));
}

TEST_CASE("Unknown keys are reported with line and key path", "[scenario]") {
  const std::string error = Errors(Replace(kValid, "    kp: 100", "    kp: 100\n    kq: 5"));
  CHECK_THAT(error, Catch::Contains("site.yaml:24:5:") && Catch::Contains("blocks[2].kq") &&
                        Catch::Contains("unknown key"));
  CHECK_THAT(Errors(Replace(kValid, "  seed: 3", "  seed: 3\n  sed: 4")),
             Catch::Contains("site.yaml:7:3: run.sed: unknown key"));
}

TEST_CASE("Wrong types are reported with the value and the expectation", "[scenario]") {
  CHECK_THAT(Errors(Replace(kValid, "kp: 100", "kp: fast")),
             Catch::Contains("site.yaml:23:9: blocks[2].kp: got 'fast', expected a number"));
  CHECK_THAT(Errors(Replace(kValid, "dt: 1s", "dt: 1")),
             Catch::Contains("run.dt: got '1', expected a duration with a unit"));
  CHECK_THAT(Errors(Replace(kValid, "heat_inputs: [air]", "heat_inputs: air")),
             Catch::Contains("blocks[1].heat_inputs: got 'air', expected a list"));
}

TEST_CASE("Out-of-range values are reported", "[scenario]") {
  CHECK_THAT(Errors(Replace(kValid, "capacitance_J_per_K: 1.0e5", "capacitance_J_per_K: -5")),
             Catch::Contains(
                 "blocks[1].nodes[0].capacitance_J_per_K: got '-5', expected a number > 0 [J/K]"));
  CHECK_THAT(Errors(Replace(kValid, "  seed: 3", "  seed: 3\n  worlds: 0")),
             Catch::Contains("run.worlds: got '0', expected an integer in [1,"));
  CHECK_THAT(Errors(Replace(kValid, "duration: 1h", "duration: 1500ms")),
             Catch::Contains("run.duration") && Catch::Contains("multiple of dt"));
}

TEST_CASE("Missing required keys and referenced files are reported", "[scenario]") {
  CHECK_THAT(Errors(Replace(kValid, "    setpoint: 293\n", "")),
             Catch::Contains("blocks[2].setpoint: missing required key"));
  CHECK_THAT(Errors(Replace(kValid, "run:\n", "runs:\n")),
             Catch::Contains("run: missing required key"));
  // A file reference that does not exist (ParamReader::ExistingFile, used by data-driven blocks).
  Diagnostics diagnostics;
  YAML::Node node = YAML::Load("data: no/such/file.csv");
  ParamReader reader(node, "site.yaml", "blocks[0]", &diagnostics, "/tmp");
  reader.ExistingFile("data");
  REQUIRE(diagnostics.size() == 1);
  CHECK_THAT(diagnostics.ToString(),
             Catch::Contains("site.yaml:1:7: blocks[0].data: got 'no/such/file.csv'") &&
                 Catch::Contains("expected an existing file"));
}

TEST_CASE("Duplicate names are reported", "[scenario]") {
  CHECK_THAT(
      Errors(Replace(kValid, "name: heater", "name: room")),
      Catch::Contains(
          "blocks[2].name: got 'room', expected a unique block name (also used at line 13)"));
  CHECK_THAT(
      Errors(Replace(
          kValid,
          "      - {name: air, capacitance_J_per_K: 1.0e5, ambient_conductance_W_per_K: 10}",
          "      - {name: air, capacitance_J_per_K: 1.0e5, ambient_conductance_W_per_K: 10}\n"
          "      - {name: air, capacitance_J_per_K: 1.0e5}")),
      Catch::Contains("nodes[1].name: got 'air', expected a unique node name"));
}

TEST_CASE("Unknown block types and bad connections are reported", "[scenario]") {
  CHECK_THAT(
      Errors(Replace(kValid, "type: pid_controller", "type: pid_controler")),
      Catch::Contains("blocks[2].type: got 'pid_controler', expected a known block type (") &&
          Catch::Contains("pid_controller"));
  CHECK_THAT(
      Errors(Replace(kValid, "[heater.command, room.heat_air_W]", "[heater.command, room.heat_W]")),
      Catch::Contains("site.yaml:29:5: connections.to: got 'room.heat_W'"));
  CHECK_THAT(Errors(Replace(kValid, "\"room.temp_K[0]\", heater.measurement, delayed",
                            "\"room.temp_K[0]\", heater.measurement")),
             Catch::Contains("algebraic loop"));
}

TEST_CASE("All errors of a file are reported at once", "[scenario]") {
  std::string text = Replace(kValid, "kp: 100", "kp: fast");
  text = Replace(text, "  seed: 3", "  seed: -3");
  text = Replace(text, "value: 280", "value: hot");
  try {
    LoadScenarioText(text, "site.yaml", Registry());
    FAIL("expected an InputError");
  } catch (const InputError& error) {
    CHECK(error.diagnostics().size() == 3);
  }
}

TEST_CASE("The shipped scenarios validate", "[scenario]") {
  for (const auto& entry : std::filesystem::directory_iterator(FTWIN_SOURCE_DIR "/scenarios")) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path().string());
    const Spec spec = LoadSpec(entry.path());
    // Block types from other layers (robots, bridge) are checked by the CLI tests; here the
    // scenarios made only of engine and plant blocks must compile.
    bool only_known = true;
    const BlockRegistry registry = Registry();
    for (const BlockSpec& block : spec.blocks)
      only_known = only_known && registry.Find(block.type) != nullptr;
    if (only_known) CHECK_NOTHROW(CompileSpec(spec, registry));
  }
}

TEST_CASE("Any block may run at a period that is a multiple of the tick", "[scenario]") {
  const std::string text = Replace(kValid, "    value: 280\n", "    value: 280\n    period: 10s\n");
  const LoadedScenario loaded = LoadScenarioText(text, "site.yaml", Registry());
  const Model& model = *loaded.model;
  CHECK(model.binding(model.FindBlock("outside")).period_ticks == 10);
  CHECK(model.binding(model.FindBlock("room")).period_ticks == 1);
  // The PID controller reads `period` itself; the generic key agrees with it.
  const std::string pid =
      Replace(kValid, "    output_max: 2000\n", "    output_max: 2000\n    period: 5s\n");
  const LoadedScenario with_pid = LoadScenarioText(pid, "site.yaml", Registry());
  CHECK(with_pid.model->binding(with_pid.model->FindBlock("heater")).period_ticks == 5);
  const std::string bad =
      Replace(kValid, "    value: 280\n", "    value: 280\n    period: 1500ms\n");
  CHECK_THAT(Errors(bad),
             Catch::Contains("blocks[0].period") && Catch::Contains("multiple of run.dt"));
}

TEST_CASE("Stream export sets parse, round-trip and report their errors", "[scenario]") {
  const std::string text = std::string(kValid) +
                           "exports:\n"
                           "  - {topic: room/, fields: [\"room.*\"], every: 1min}\n"
                           "  - {topic: control/, fields: [heater.command, heater.setpoint]}\n";
  const Spec spec = ParseSpec(text, "site.yaml");
  REQUIRE(spec.exports.size() == 2);
  CHECK(spec.exports[0].topic == "room/");
  CHECK(spec.exports[0].fields == std::vector<std::string>{"room.*"});
  CHECK(spec.exports[0].every_ns == 60'000'000'000LL);
  CHECK(spec.exports[1].every_ns == 0);
  CHECK(spec.exports[1].location.line == 35);
  const Spec again = ParseSpec(SpecToYaml(spec), "site.yaml");
  REQUIRE(again.exports.size() == 2);
  CHECK(again.exports[1].fields == spec.exports[1].fields);
  CHECK(again.exports[0].every_ns == spec.exports[0].every_ns);

  const std::string bad = std::string(kValid) +
                          "exports:\n"
                          "  - {topic: _mine/, fields: []}\n"
                          "  - {topic: x/, fields: [a.b], every: 1500ms}\n";
  const std::string errors = Errors(bad);
  CHECK_THAT(errors, Catch::Contains("site.yaml:34") && Catch::Contains("exports[0].topic") &&
                         Catch::Contains("reserved"));
  CHECK_THAT(errors, Catch::Contains("exports[0].fields") && Catch::Contains("non-empty list"));
  CHECK_THAT(errors, Catch::Contains("site.yaml:35") && Catch::Contains("exports[1].every") &&
                         Catch::Contains("multiple of run.dt"));
}

}  // namespace
}  // namespace ftwin
