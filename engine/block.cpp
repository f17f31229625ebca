#include "engine/block.h"

#include <stdexcept>

namespace ftwin {

void Block::UpdateRange(const TickInfo& tick, State* state, const BlockBinding& binding,
                        int world_begin, int world_end) const {
  for (int world = world_begin; world < world_end; ++world) {
    BlockIo io(state, &binding, world);
    Update(tick, io);
  }
}

WorldAux* BlockIo::Aux() const {
  return binding_->aux_slot < 0 ? nullptr : state_->Aux(binding_->aux_slot, world_);
}

void Block::UpdateDevice(const TickInfo&, const DeviceState&, const BlockBinding&,
                         const DeviceBlockData*) const {
  throw std::logic_error("block '" + name_ + "' (" + type_name() + ") has no device update");
}

CounterRng BlockIo::Rng(uint64_t seed, uint32_t local_stream) const {
  return CounterRng{seed, static_cast<uint32_t>(world_), binding_->stream_base + local_stream};
}

}  // namespace ftwin
