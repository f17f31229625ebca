#include "engine/block.h"

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

CounterRng BlockIo::Rng(uint64_t seed, uint32_t local_stream) const {
  return CounterRng{seed, static_cast<uint32_t>(world_), binding_->stream_base + local_stream};
}

}  // namespace ftwin
