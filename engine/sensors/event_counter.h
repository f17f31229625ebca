// Event counter (scenario type "event_counter"; docs/scenario-sensors.md): how a host system
// sees a stream of discrete events (MES lot track-in/track-out, barcode or RFID reads, part
// counts). The input is the true cumulative event count; each event reaches the host
// `latency` later (an exact delay line), is lost with `lost_event_probability` and reported
// twice with `duplicate_probability`. The per-world step (EventCounterWorldStep) is host-device
// code in instrument_world.h, shared by the CPU and device drivers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/block.h"
#include "engine/params.h"
#include "engine/sensors/instrument_world.h"

namespace ftwin {

class EventCounterBlock final : public Block {
 public:
  EventCounterBlock(std::string name, int64_t latency_ns, EventCounterParams params)
      : Block(std::move(name)), latency_ns_(latency_ns), params_(params) {}
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);
  std::string type_name() const override { return "event_counter"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  bool SupportsCuda() const override { return true; }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;
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
