// Event calendar: ordering against a sorted reference, tie-breaks, save/load, no allocation.
#include "engine/event_calendar.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <tuple>
#include <vector>

namespace ftwin {
namespace {

struct Payload {
  int32_t id;
  int32_t kind;
};

TEST_CASE("Event calendar pops in (time, priority, insertion) order", "[event_calendar]") {
  EventCalendar<Payload> calendar(16);
  std::mt19937_64 random(7);
  std::vector<std::tuple<int64_t, int32_t, uint64_t, int32_t>> reference;
  // Few distinct times and priorities, so ties are common and the tie-break is exercised.
  for (int32_t i = 0; i < 5000; ++i) {
    const int64_t time = static_cast<int64_t>(random() % 50);
    const int32_t priority = static_cast<int32_t>(random() % 3);
    const uint64_t sequence = calendar.Push(time, priority, {i, 0});
    reference.emplace_back(time, priority, sequence, i);
  }
  std::sort(reference.begin(), reference.end());
  REQUIRE(calendar.size() == reference.size());
  for (const auto& expected : reference) {
    const auto entry = calendar.Pop();
    CHECK(entry.time_ns == std::get<0>(expected));
    CHECK(entry.priority == std::get<1>(expected));
    CHECK(entry.payload.id == std::get<3>(expected));
  }
  CHECK(calendar.empty());
}

TEST_CASE("Event calendar interleaved hold model matches a sorted multiset", "[event_calendar]") {
  // Hold model: pop the earliest, push it again later; compare with a second implementation.
  EventCalendar<Payload> calendar(64);
  std::vector<std::tuple<int64_t, int32_t, uint64_t, int32_t>> reference;
  std::mt19937_64 random(11);
  for (int32_t i = 0; i < 40; ++i) {
    const int64_t time = static_cast<int64_t>(random() % 1000);
    reference.emplace_back(time, 0, calendar.Push(time, 0, {i, 0}), i);
  }
  for (int step = 0; step < 20000; ++step) {
    auto earliest = std::min_element(reference.begin(), reference.end());
    const auto entry = calendar.Pop();
    REQUIRE(entry.time_ns == std::get<0>(*earliest));
    REQUIRE(entry.payload.id == std::get<3>(*earliest));
    reference.erase(earliest);
    const int64_t time = entry.time_ns + static_cast<int64_t>(random() % 1000);
    reference.emplace_back(time, 0, calendar.Push(time, 0, entry.payload), entry.payload.id);
  }
}

TEST_CASE("RunUntil drains events up to and including the boundary", "[event_calendar]") {
  EventCalendar<Payload> calendar;
  calendar.Push(10, 0, {1, 0});
  calendar.Push(20, 0, {2, 0});
  calendar.Push(30, 0, {3, 0});
  std::vector<int32_t> seen;
  calendar.RunUntil(20, [&](const auto& entry) {
    seen.push_back(entry.payload.id);
    // An event scheduled inside the window by a handler runs in the same call.
    if (entry.payload.id == 1) calendar.Push(15, 0, {4, 0});
  });
  CHECK(seen == std::vector<int32_t>{1, 4, 2});
  CHECK(calendar.size() == 1);
  CHECK(calendar.next_time_ns() == 30);
}

TEST_CASE("Event calendar save and load restore the exact future", "[event_calendar]") {
  EventCalendar<Payload> a(8);
  std::mt19937_64 random(3);
  for (int32_t i = 0; i < 300; ++i) a.Push(static_cast<int64_t>(random() % 100), i % 2, {i, 7});
  for (int i = 0; i < 50; ++i) a.Pop();
  std::vector<uint8_t> bytes;
  ByteWriter writer(&bytes);
  a.Save(writer);
  EventCalendar<Payload> b(1);
  ByteReader reader(bytes.data(), bytes.size());
  b.Load(reader);
  CHECK(reader.remaining() == 0);
  CHECK(b.size() == a.size());
  CHECK(b.next_sequence() == a.next_sequence());
  // Both continue identically, including new pushes (same sequence numbers).
  for (int i = 0; i < 100; ++i) {
    a.Push(200 + i, 0, {1000 + i, 0});
    b.Push(200 + i, 0, {1000 + i, 0});
  }
  while (!a.empty()) {
    const auto x = a.Pop();
    const auto y = b.Pop();
    REQUIRE(x.time_ns == y.time_ns);
    REQUIRE(x.sequence == y.sequence);
    REQUIRE(x.payload.id == y.payload.id);
  }
  CHECK(b.empty());
  // Truncated input is reported, not read past.
  EventCalendar<Payload> c;
  ByteReader short_reader(bytes.data(), bytes.size() / 2);
  CHECK_THROWS(c.Load(short_reader));
}

TEST_CASE("Event calendar does not allocate below its reserved capacity", "[event_calendar]") {
  EventCalendar<Payload> calendar(256);
  const size_t capacity = calendar.capacity();
  for (int round = 0; round < 100; ++round) {
    for (int32_t i = 0; i < 200; ++i) calendar.Push(round * 1000 + i, 0, {i, 0});
    while (!calendar.empty()) calendar.Pop();
  }
  CHECK(calendar.capacity() == capacity);  // the buffer never moved or grew
}

}  // namespace
}  // namespace ftwin
