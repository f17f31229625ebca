#include "engine/sensors/event_counter.h"

#include "engine/scenario.h"
#include "engine/units.h"

namespace ftwin {

std::unique_ptr<Block> EventCounterBlock::FromParams(const std::string& name, ParamReader& params) {
  EventCounterParams p;
  const int64_t latency_ns = params.DurationNs("latency", 0);
  p.lost_probability = params.Number("lost_event_probability", 0.0, NumberRange::Fraction());
  p.duplicate_probability = params.Number("duplicate_probability", 0.0, NumberRange::Fraction());
  params.Finish();
  return std::make_unique<EventCounterBlock>(name, latency_ns, p);
}

void EventCounterBlock::Declare(const DeclareContext& context, BlockDeclaration& declaration) {
  declaration.SetPhase(BlockPhase::kPostUpdate);
  if (latency_ns_ % context.dt_ns != 0)
    declaration.Error("latency", DurationText(latency_ns_),
                      "expected a multiple of the tick " + DurationText(context.dt_ns));
  params_.latency_ticks = latency_ns_ / context.dt_ns;
  in_count_ = declaration.AddInput(
      {.name = "count", .unit = "1", .doc = "true cumulative event count (non-decreasing)"});
  out_count_ = declaration.AddOutput(
      {.name = "count", .unit = "1", .doc = "cumulative count the host received"},
      FieldKind::kSensor);
  out_events_ = declaration.AddOutput(
      {.name = "events", .unit = "1", .doc = "events the host received this tick"},
      FieldKind::kSensor);
  out_true_ = declaration.AddOutput(
      {.name = "true_count", .unit = "1", .doc = "true cumulative count (label)"});
  ring_ = declaration.AddState({.name = "delay_line",
                                .shape = {static_cast<int32_t>(params_.latency_ticks + 1)},
                                .unit = "1",
                                .kind = FieldKind::kDiscrete,
                                .doc = "events entering the line per tick, last latency ticks",
                                .checked = false});
  stats_ = declaration.AddState({.name = "stats",
                                 .shape = {kEventSlots},
                                 .unit = "1",
                                 .kind = FieldKind::kDiscrete,
                                 .doc = "pushed, last truth, true, reported, lost, duplicated, "
                                        "unmodelled",
                                 .checked = false});
  declaration.AddKpi({.name = "events_true", .unit = "1", .doc = "events past the delay line"});
  declaration.AddKpi({.name = "events_reported", .unit = "1", .doc = "events the host counted"});
  declaration.AddKpi({.name = "events_lost", .unit = "1", .doc = "events never reported"});
  declaration.AddKpi({.name = "events_duplicated", .unit = "1", .doc = "events reported twice"});
}

void EventCounterBlock::InitWorld(const TickInfo&, BlockIo& io) const {
  // The count at the start is the host's starting point, not a burst of events.
  const double input = io.In(in_count_)[0];
  const double truth = input >= 0.0 ? static_cast<double>(static_cast<int64_t>(input)) : 0.0;
  double* s = io.Field<double>(stats_);
  s[kEventLastTruth] = truth;
  s[kEventReported] = truth;
  s[kEventTrue] = 0.0;
  io.Out(out_count_)[0] = truth;
  io.Out(out_events_)[0] = 0.0;
  io.Out(out_true_)[0] = truth;
}

void EventCounterBlock::Update(const TickInfo& tick, BlockIo& io) const {
  const double truth = io.In(in_count_)[0];
  double* s = io.Field<double>(stats_);
  const double events =
      EventCounterWorldStep(params_, io.Rng(tick.seed, 0), truth, io.Field<double>(ring_), s);
  io.Out(out_count_)[0] = s[kEventReported];
  io.Out(out_events_)[0] = events;
  io.Out(out_true_)[0] = s[kEventLastTruth];
}

void EventCounterBlock::ComputeKpis(const TickInfo&, const BlockIo& io,
                                    std::span<double> kpis) const {
  const double* s = io.Field<double>(stats_);
  kpis[0] = s[kEventTrue];
  kpis[1] = s[kEventTrue] - s[kEventLost] + s[kEventDuplicated];
  kpis[2] = s[kEventLost];
  kpis[3] = s[kEventDuplicated];
}

void RegisterEventCounterBlock(BlockRegistry& registry) {
  registry.Register(
      "event_counter",
      "discrete event stream (MES track-in/out, reads) with latency, loss, duplicates",
      EventCounterBlock::FromParams);
}

}  // namespace ftwin
