// The "range_sensor" block in a scenario: analytic ranges, noise statistics, determinism and
// bad specs.
#include "engine/sensors/range_sensor_block.h"

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

std::string Scenario(const std::string& sensor, int threads = 1) {
  return "ftwin: 1\nname: range\nrun: {dt: 100ms, duration: 10s, seed: 5, worlds: 4, threads: " +
         std::to_string(threads) + "}\nblocks:\n  - name: scanner\n    type: range_sensor\n" +
         sensor;
}

TEST_CASE("A planar scanner in a square room measures the analytic wall distances", "[sensors]") {
  // Walls at x = +-3 and y = +-2, scanner at the origin, 5 beams over 180 degrees.
  const std::string sensor =
      "    pattern: planar\n    field_of_view: 180\n    beams: 5\n    range_max: 30\n"
      "    position: [0, 0, 0.5]\n    scene:\n"
      "      - {type: plane, normal: [1, 0, 0], offset: 3}\n"
      "      - {type: plane, normal: [1, 0, 0], offset: -3}\n"
      "      - {type: plane, normal: [0, 1, 0], offset: 2}\n"
      "      - {type: plane, normal: [0, 1, 0], offset: -2}\n"
      "      - {type: box, center: [1.5, 1.5, 0.5], size: [0.4, 0.4, 1.0], yaw: "
      "0.7853981633974483}\n";
  const LoadedScenario loaded = LoadScenarioText(Scenario(sensor), "site.yaml", Registry());
  Simulator simulator(loaded.model);
  simulator.Step(1);
  const FieldId range = simulator.state().schema().Find("scanner.range_m");
  REQUIRE(range != kInvalidField);
  const double* r = simulator.state().World<double>(range, 0);
  // Beams at -90, -45, 0, 45, 90 degrees. The box turned by 45 degrees shows the 45-degree beam
  // a face 0.2 m (half its size) before its centre: distance |(1.5, 1.5)| - 0.2.
  CHECK(r[0] == Approx(2.0).margin(1e-12));
  CHECK(r[1] == Approx(2.0 * std::sqrt(2.0)).margin(1e-12));
  CHECK(r[2] == Approx(3.0).margin(1e-12));
  CHECK(r[3] == Approx(1.5 * std::sqrt(2.0) - 0.2).margin(1e-12));
  CHECK(r[4] == Approx(2.0).margin(1e-12));
}

TEST_CASE("A VLP-16 sees the floor at the analytic range with the set noise", "[sensors]") {
  const std::string sensor = "    pattern: lidar\n    channel_table: " FTWIN_SHARED_DIR
                             "/data/lidar/VLP16db.yaml\n    azimuth_count: 360\n"
                             "    range_max: 100\n    range_noise_sigma: 0.02\n"
                             "    position: [0, 0, 2]\n"
                             "    scene: [{type: plane, normal: [0, 0, 1], offset: 0}]\n";
  uint64_t reference = 0;
  for (int threads : {1, 2}) {
    const LoadedScenario loaded =
        LoadScenarioText(Scenario(sensor, threads), "site.yaml", Registry());
    Simulator simulator(loaded.model);
    simulator.Step(3);
    const Schema& schema = simulator.state().schema();
    const double* r = simulator.state().World<double>(schema.Find("scanner.range_m"), 1);
    const double* t = simulator.state().World<double>(schema.Find("scanner.true_range_m"), 1);
    double sum_sq = 0;
    int downward = 0;
    for (int a = 0; a < 360; ++a)
      for (int laser = 0; laser < 16; ++laser) {
        const int i = a * 16 + laser;
        if (std::isinf(t[i])) {
          CHECK(r[i] == 100.0);  // upward beams: max-range return
          continue;
        }
        // Laser 0 is at -15 degrees: range = h / sin(15 deg).
        if (laser == 0) CHECK(t[i] == Approx(2.0 / std::sin(15 * M_PI / 180)).margin(1e-9));
        sum_sq += (r[i] - t[i]) * (r[i] - t[i]);
        ++downward;
      }
    // Eight lasers point down, but the -1 degree one meets the floor at 2 / sin(1 deg) =
    // 114.6 m, beyond range_max: a max-range return.
    CHECK(downward == 360 * 7);
    // Noise 0.02 m plus the 2 mm range quantization of the table.
    CHECK(std::sqrt(sum_sq / downward) ==
          Approx(std::sqrt(0.02 * 0.02 + 0.002 * 0.002 / 12)).epsilon(0.05));
    const uint64_t hash = simulator.state().Hash();
    if (reference == 0) reference = hash;
    CHECK(hash == reference);
  }
}

TEST_CASE("Bad range sensor specs are rejected with file, line and key", "[sensors]") {
  auto errors = [](const std::string& sensor) {
    try {
      LoadScenarioText(Scenario(sensor), "site.yaml", Registry());
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  std::string e = errors("    pattern: planar\n    range_max: -1\n    scene: []\n");
  CHECK(e.find("range_max") != std::string::npos);
  e = errors(
      "    pattern: lidar\n    channel_table: missing.yaml\n    range_max: 10\n"
      "    scene: []\n");
  CHECK(e.find("missing.yaml") != std::string::npos);
  e = errors(
      "    pattern: planar\n    range_max: 10\n    scene:\n"
      "      - {type: torus, center: [0, 0, 0]}\n");
  CHECK(e.find("torus") != std::string::npos);
  INFO(e);
  CHECK(e.find("site.yaml:10:") != std::string::npos);
  CHECK(e.find("size") == std::string::npos);  // no follow-on errors for an unknown type
  e = errors(
      "    pattern: planar\n    range_max: 10\n    scene:\n"
      "      - {type: sphere, center: [0, 0], radius: 1}\n");
  CHECK(e.find("center") != std::string::npos);
}

}  // namespace
}  // namespace ftwin
