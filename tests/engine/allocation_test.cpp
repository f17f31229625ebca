// No heap allocation inside a tick on the hot path (DESIGN.md §2.12). This executable replaces
// the global operator new to count allocations while the simulator steps.
#include <catch2/catch.hpp>
#include <vector>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "plants/register.h"
#include "tests/allocation_counter.h"

namespace ftwin {
namespace {

TEST_CASE("The allocation counter sees allocations", "[simulator]") {
  std::vector<double>* probe = nullptr;
  // The vector object and its buffer.
  CHECK(testing::CountAllocations([&] { probe = new std::vector<double>(100); }) == 2);
  delete probe;
}

TEST_CASE("Stepping the default scenario allocates nothing", "[simulator]") {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  RunOverrides overrides;
  overrides.num_worlds = 16;
  for (int threads : {1, 2}) {
    overrides.num_threads = threads;
    const LoadedScenario scenario =
        LoadScenario(FTWIN_SOURCE_DIR "/scenarios/building.yaml", registry, overrides);
    Simulator simulator(scenario.model);
    simulator.Step(100);  // warm-up
    INFO("threads: " << threads);
    // No faults or commands fall in this window.
    CHECK(testing::CountAllocations([&] { simulator.Step(5000); }) == 0);
  }
}

}  // namespace
}  // namespace ftwin
