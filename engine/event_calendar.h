// Discrete-event calendar for blocks that simulate events between ticks (fab lines, conveyors).
// Times are integer nanoseconds, so nothing drifts; ties are broken by (time, priority, insertion
// sequence), so the order of simultaneous events never depends on heap layout, thread count or
// platform. The heap is an implicit 4-ary heap in one vector reserved up front: Push and Pop do
// not allocate unless the reserved capacity is exceeded (then the vector doubles once).
// A block keeps one calendar per world inside its WorldAux and drains it to each tick boundary
// with RunUntil; Save/Load write the exact heap contents, so snapshots restore bit-identically.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/bytes.h"

namespace ftwin {

/// One scheduled event. `Payload` is trivially copyable (it is saved as raw bytes).
template <class Payload>
struct CalendarEntry {
  int64_t time_ns = 0;
  int32_t priority = 0;   ///< lower runs first among events at the same time
  uint64_t sequence = 0;  ///< insertion order, the final tie-break
  Payload payload{};
};

template <class Payload>
class EventCalendar {
  static_assert(std::is_trivially_copyable_v<Payload>, "calendar payloads are saved as bytes");
  // Saved bytes feed the state hash, so a payload must have no padding (indeterminate bytes).
  static_assert(std::has_unique_object_representations_v<Payload>,
                "calendar payloads must have no padding bytes");

 public:
  using Entry = CalendarEntry<Payload>;

  explicit EventCalendar(size_t capacity = 1024) { heap_.reserve(capacity); }

  /// Reserves room for `capacity` pending events (no allocation below it).
  void Reserve(size_t capacity) { heap_.reserve(capacity); }
  size_t capacity() const { return heap_.capacity(); }
  size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }
  /// Time of the earliest event; only valid when !empty().
  int64_t next_time_ns() const { return heap_.front().time_ns; }
  const Entry& top() const { return heap_.front(); }
  /// Sequence number the next Push will get (also the number of events ever pushed).
  uint64_t next_sequence() const { return next_sequence_; }

  /// Schedules `payload` at `time_ns`; returns its sequence number.
  uint64_t Push(int64_t time_ns, int32_t priority, const Payload& payload) {
    Entry entry{time_ns, priority, next_sequence_++, payload};
    heap_.push_back(entry);
    SiftUp(heap_.size() - 1, entry);
    return entry.sequence;
  }

  /// Removes and returns the earliest event (by time, priority, sequence).
  Entry Pop() {
    Entry result = heap_.front();
    const Entry last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) SiftDown(0, last);
    return result;
  }

  /// Pops every event with time <= `end_ns` in order and calls handler(entry). The handler may
  /// push new events (those at or before end_ns run in this call too).
  template <class Handler>
  int64_t RunUntil(int64_t end_ns, Handler&& handler) {
    int64_t count = 0;
    while (!heap_.empty() && heap_.front().time_ns <= end_ns) {
      const Entry entry = Pop();
      handler(entry);
      ++count;
    }
    return count;
  }

  void Clear() {
    heap_.clear();
    next_sequence_ = 0;
  }

  /// Writes the exact heap (layout included) and the sequence counter, field by field so that
  /// no padding byte of Entry reaches the snapshot or the hash.
  void Save(ByteWriter& writer) const {
    writer.Value<uint64_t>(next_sequence_);
    writer.Value<uint64_t>(heap_.capacity());
    writer.Value<uint64_t>(heap_.size());
    for (const Entry& entry : heap_) {
      writer.Value(entry.time_ns);
      writer.Value(entry.priority);
      writer.Value(entry.sequence);
      writer.Value(entry.payload);
    }
  }
  void Load(ByteReader& reader) {
    next_sequence_ = reader.Value<uint64_t>();
    const uint64_t capacity = reader.Value<uint64_t>();
    const uint64_t count = reader.Value<uint64_t>();
    if (count > reader.remaining()) throw std::runtime_error("snapshot data is truncated");
    heap_.clear();
    heap_.reserve(capacity > count ? capacity : count);
    for (uint64_t i = 0; i < count; ++i) {
      Entry entry;
      entry.time_ns = reader.Value<int64_t>();
      entry.priority = reader.Value<int32_t>();
      entry.sequence = reader.Value<uint64_t>();
      entry.payload = reader.Value<Payload>();
      heap_.push_back(entry);
    }
  }

  /// Strict order of two entries: (time, priority, sequence).
  static bool Before(const Entry& a, const Entry& b) {
    if (a.time_ns != b.time_ns) return a.time_ns < b.time_ns;
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.sequence < b.sequence;
  }

 private:
  static constexpr size_t kArity = 4;  // shallower than binary: fewer cache misses per Pop

  // Moves the hole at `index` up until `entry` fits, then stores it.
  void SiftUp(size_t index, const Entry& entry) {
    while (index > 0) {
      const size_t parent = (index - 1) / kArity;
      if (!Before(entry, heap_[parent])) break;
      heap_[index] = heap_[parent];
      index = parent;
    }
    heap_[index] = entry;
  }
  void SiftDown(size_t index, const Entry& entry) {
    const size_t n = heap_.size();
    for (;;) {
      const size_t first = index * kArity + 1;
      if (first >= n) break;
      size_t best = first;
      const size_t last = first + kArity < n ? first + kArity : n;
      for (size_t child = first + 1; child < last; ++child)
        if (Before(heap_[child], heap_[best])) best = child;
      if (!Before(heap_[best], entry)) break;
      heap_[index] = heap_[best];
      index = best;
    }
    heap_[index] = entry;
  }

  std::vector<Entry> heap_;
  uint64_t next_sequence_ = 0;
};

}  // namespace ftwin
