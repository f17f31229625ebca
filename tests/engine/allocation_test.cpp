// No heap allocation inside a tick on the hot path (DESIGN.md §2.12). This executable replaces
// the global operator new to count allocations while the simulator steps.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>
#include <vector>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "plants/register.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed))
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* pointer = std::malloc(size == 0 ? 1 : size)) return pointer;
  throw std::bad_alloc();
}
void operator delete(void* pointer) noexcept { std::free(pointer); }
void operator delete(void* pointer, std::size_t) noexcept { std::free(pointer); }

namespace ftwin {
namespace {

TEST_CASE("The allocation counter sees allocations", "[simulator]") {
  g_allocations = 0;
  g_counting = true;
  auto* probe = new std::vector<double>(100);
  g_counting = false;
  delete probe;
  CHECK(g_allocations.load() == 2);  // the vector object and its buffer
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
    g_allocations = 0;
    g_counting = true;
    simulator.Step(5000);  // no faults or commands fall in this window
    g_counting = false;
    INFO("threads: " << threads);
    CHECK(g_allocations.load() == 0);
  }
}

}  // namespace
}  // namespace ftwin
