#include "engine/device_state.h"

#include "engine/state.h"

namespace ftwin {

DeviceState::DeviceState(const Schema& schema, int num_worlds, gpu::Executor& executor)
    : executor_(&executor), num_worlds_(num_worlds) {
  for (const FieldDesc& field : schema.fields()) {
    counts_.push_back(field.ElementCount());
    bytes_per_world_ += field.BytesPerWorld();
    buffers_.emplace_back(executor, field.BytesPerWorld() * static_cast<size_t>(num_worlds));
  }
}

void DeviceState::Upload(const State& state) {
  for (FieldId id = 0; id < static_cast<FieldId>(buffers_.size()); ++id)
    executor_->Upload(Bytes(id), state.Bytes(id), FieldBytes(id));
}

void DeviceState::Download(State* state) const {
  for (FieldId id = 0; id < static_cast<FieldId>(buffers_.size()); ++id)
    executor_->Download(state->Bytes(id), Bytes(id), FieldBytes(id));
}

}  // namespace ftwin
