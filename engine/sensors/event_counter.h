// Event counter (scenario type "event_counter"; docs/scenario-sensors.md): how a host system
// sees a stream of discrete events (MES lot track-in/track-out, barcode or RFID reads, part
// counts). The input is the true cumulative event count; each event reaches the host
// `latency` later (an exact delay line), is lost with `lost_event_probability` and reported
// twice with `duplicate_probability`. The per-world step is host-device code.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/block.h"
#include "engine/params.h"
#include "engine/rng.h"
#include "gpu/host_device.h"

namespace ftwin {

/// Slots of the event counter's per-world statistics field.
enum EventCounterSlot {
  kEventPushed,      ///< ticks pushed into the delay line
  kEventLastTruth,   ///< true count at the previous tick
  kEventTrue,        ///< events that reached the end of the delay line
  kEventReported,    ///< reported count (what the host has)
  kEventLost,        ///< events lost
  kEventDuplicated,  ///< events reported twice
  kEventUnmodelled,  ///< events beyond kEventMaxDrawsPerTick, passed through without draws
  kEventSlots
};

/// Events per tick that get their own loss/duplicate draws; a larger jump of the truth in one
/// tick passes the rest through unchanged (counted in kEventUnmodelled).
constexpr int64_t kEventMaxDrawsPerTick = 1'000'000;

struct EventCounterParams {
  int64_t latency_ticks = 0;
  double lost_probability = 0.0;
  double duplicate_probability = 0.0;
};

/// One tick of one world. `ring` holds latency_ticks + 1 entries (events entering per tick);
/// returns the events reported this tick. The truth is taken as floor(max(truth, 0)); a truth
/// that decreases (a counter reset) restarts the count from it without events.
FTWIN_HD inline double EventCounterWorldStep(const EventCounterParams& p, CounterRng rng,
                                             double truth, double* ring, double* s) {
  // Counts are integers: a fractional truth counts the events completed so far (floor).
  truth = truth >= 0.0 ? static_cast<double>(static_cast<int64_t>(truth)) : 0.0;
  double entering = truth - s[kEventLastTruth];
  if (!(entering >= 0.0)) entering = 0.0;
  s[kEventLastTruth] = truth;
  const int64_t capacity = p.latency_ticks + 1;
  const auto pushed = static_cast<int64_t>(s[kEventPushed]);
  ring[pushed % capacity] = entering;
  s[kEventPushed] = static_cast<double>(pushed + 1);
  if (pushed < p.latency_ticks) return 0.0;  // the delay line is still filling
  const double arriving = ring[(pushed - p.latency_ticks) % capacity];
  const auto n = static_cast<int64_t>(arriving);
  const int64_t drawn = n < kEventMaxDrawsPerTick ? n : kEventMaxDrawsPerTick;
  double reported = static_cast<double>(n - drawn);
  s[kEventUnmodelled] += static_cast<double>(n - drawn);
  for (int64_t k = 0; k < drawn; ++k) {
    // Two uniforms per event, keyed by the event's index in the stream: the outcome of event i
    // does not depend on how the events were spread over ticks.
    const auto event = static_cast<uint64_t>(s[kEventTrue]) + static_cast<uint64_t>(k);
    const bool lost = p.lost_probability > 0.0 && rng.Uniform(event, 0) < p.lost_probability;
    const bool twice =
        !lost && p.duplicate_probability > 0.0 && rng.Uniform(event, 1) < p.duplicate_probability;
    s[kEventLost] += lost ? 1.0 : 0.0;
    s[kEventDuplicated] += twice ? 1.0 : 0.0;
    reported += lost ? 0.0 : (twice ? 2.0 : 1.0);
  }
  s[kEventTrue] += static_cast<double>(n);
  s[kEventReported] += reported;
  return reported;
}

class EventCounterBlock final : public Block {
 public:
  EventCounterBlock(std::string name, int64_t latency_ns, EventCounterParams params)
      : Block(std::move(name)), latency_ns_(latency_ns), params_(params) {}
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);
  std::string type_name() const override { return "event_counter"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const override;

 private:
  int64_t latency_ns_ = 0;
  EventCounterParams params_;
  int in_count_ = -1, out_count_ = -1, out_events_ = -1, out_true_ = -1;
  FieldId ring_ = kInvalidField, stats_ = kInvalidField;
};

class BlockRegistry;
void RegisterEventCounterBlock(BlockRegistry& registry);

}  // namespace ftwin
