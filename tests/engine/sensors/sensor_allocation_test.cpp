// The sensor block's Update allocates nothing (DESIGN.md §2.12): this executable replaces the
// global operator new and counts allocations while a scenario full of sensors steps.
#include <catch2/catch.hpp>
#include <string>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "tests/allocation_counter.h"

namespace ftwin {
namespace {

TEST_CASE("Stepping sensors (every noise model, a range scanner) allocates nothing", "[sensors]") {
  const std::string text = R"(ftwin: 1
name: sensor-allocation
run: {dt: 10ms, duration: 1h, seed: 3, worlds: 8, threads: 2}
blocks:
  - {name: source, type: signal_source, shape: sine, unit: K, mean: 300, amplitude: 5, wave_period: 2s}
  - name: probe
    type: sensor
    preset: rtd_pt100_class_a
    scale_factor_error: 0.01
    gauss_markov_sigma: 0.1
    gauss_markov_tau: 5s
    random_walk_density: 0.01
    latency: 35ms
    latency_interpolation: linear
    noise_sigma: 0.1
    outlier_probability: 0.01
    outlier_sigma: 3
    sample_period: 50ms
    jitter_sigma: 2ms
    dropout_probability: 0.05
  - name: scanner
    type: range_sensor
    pattern: planar
    beams: 181
    range_max: 20
    range_noise_sigma: 0.01
    beam_divergence: 0.003
    footprint_limit: 0.05
    scene:
      - {type: plane, normal: [1, 0, 0], offset: 4}
      - {type: sphere, center: [2, 1, 0], radius: 0.5}
      - {type: cylinder, from: [1, -2, -1], to: [1, -2, 1], radius: 0.3}
connections:
  - [source.value, probe.truth]
)";
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  const LoadedScenario scenario = LoadScenarioText(text, "alloc.yaml", registry);
  Simulator simulator(scenario.model);
  simulator.Step(100);  // warm-up
  CHECK(testing::CountAllocations([&] { simulator.Step(2000); }) == 0);
}

}  // namespace
}  // namespace ftwin
