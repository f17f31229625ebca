// No heap allocation inside a tick of the device path either (DESIGN.md §2.12): the emulated
// executor runs the same orchestration as CUDA (launch arguments on the stack, device buffers
// allocated once per Simulator). This executable replaces the global operator new to count.
#include <catch2/catch.hpp>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "plants/register.h"
#include "tests/allocation_counter.h"

namespace ftwin {
namespace {

TEST_CASE("Stepping building.yaml on the emulated device allocates nothing per tick",
          "[simulator]") {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  RunOverrides overrides;
  overrides.num_worlds = 64;
  const LoadedScenario scenario =
      LoadScenario(FTWIN_SOURCE_DIR "/scenarios/building.yaml", registry, overrides);
  Simulator simulator(scenario.model, nullptr, {SimDevice::kEmulated});
  REQUIRE(simulator.on_device());
  simulator.Step(100);  // warm-up
  // Counted: one Step call of 5000 ticks (no faults or commands fall in this window); the
  // counter sees the harness work too, so a single allocation per tick would show as >= 5000.
  CHECK(testing::CountAllocations([&] { simulator.Step(5000); }) == 0);
  // And the counter does see allocations on this path: a due command allocates in PreUpdate.
  REQUIRE(simulator.Submit({simulator.tick(), -1, "heater.setpoint", {295.0}, "test"}).empty());
  CHECK(testing::CountAllocations([&] { simulator.Step(1); }) > 0);
}

TEST_CASE("Stepping the energy site on the emulated device and the CPU allocates nothing",
          "[simulator]") {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  RunOverrides overrides;
  overrides.num_worlds = 8;
  const LoadedScenario scenario =
      LoadScenario(FTWIN_SOURCE_DIR "/scenarios/energy/site.yaml", registry, overrides);
  Simulator simulator(scenario.model, nullptr, {SimDevice::kEmulated});
  REQUIRE(simulator.on_device());
  simulator.Step(10);
  // 2000 ticks (the site's faults lie days later): every energy-plant kernel, no allocation.
  CHECK(testing::CountAllocations([&] { simulator.Step(2000); }) == 0);
  // The CPU driver of the same steps allocates nothing either.
  Simulator cpu(scenario.model);
  cpu.Step(10);
  CHECK(testing::CountAllocations([&] { cpu.Step(2000); }) == 0);
}

TEST_CASE("Stepping the lidar yard on the emulated device and the CPU allocates nothing",
          "[simulator]") {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RunOverrides overrides;
  overrides.num_worlds = 2;
  const LoadedScenario scenario =
      LoadScenario(FTWIN_SOURCE_DIR "/scenarios/sensors/lidar_yard.yaml", registry, overrides);
  Simulator simulator(scenario.model, nullptr, {SimDevice::kEmulated});
  REQUIRE(simulator.on_device());
  simulator.Step(2);
  // Two range sensors with a moving body: scenes and beams were uploaded once, the launch
  // arguments live on the stack.
  CHECK(testing::CountAllocations([&] { simulator.Step(20); }) == 0);
  Simulator cpu(scenario.model);
  cpu.Step(2);
  CHECK(testing::CountAllocations([&] { cpu.Step(20); }) == 0);
}

}  // namespace
}  // namespace ftwin
