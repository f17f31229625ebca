// Counts heap allocations in a test executable by replacing the global operator new (DESIGN.md
// §2.12: no allocation inside a tick on the hot path). Include it in exactly one source file of
// an executable: the replacement operators must be defined once. Not for sanitizer builds, which
// replace the allocator themselves.
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace ftwin::testing {

inline std::atomic<bool> g_counting{false};
inline std::atomic<long> g_allocations{0};

/// The number of heap allocations made while `body` runs (on any thread).
template <class Body>
long CountAllocations(Body&& body) {
  g_allocations = 0;
  g_counting = true;
  body();
  g_counting = false;
  return g_allocations.load();
}

}  // namespace ftwin::testing

void* operator new(std::size_t size) {
  if (ftwin::testing::g_counting.load(std::memory_order_relaxed))
    ftwin::testing::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* pointer = std::malloc(size == 0 ? 1 : size)) return pointer;
  throw std::bad_alloc();
}
void operator delete(void* pointer) noexcept { std::free(pointer); }
void operator delete(void* pointer, std::size_t) noexcept { std::free(pointer); }
