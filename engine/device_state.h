// The batched State of N worlds in executor memory (CUDA device or its host emulation): one
// buffer per field, the same layout as engine/state.h (world w of field f at w * elements(f)),
// so uploads and downloads are one copy per field. Blocks read it in UpdateDevice through
// typed per-world views (gpu::WorldArray).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/block.h"
#include "engine/schema.h"
#include "gpu/executor.h"
#include "gpu/world_array.h"

namespace ftwin {

class DeviceState {
 public:
  DeviceState(const Schema& schema, int num_worlds, gpu::Executor& executor);
  DeviceState(const DeviceState&) = delete;
  DeviceState& operator=(const DeviceState&) = delete;

  int num_worlds() const { return num_worlds_; }
  gpu::Executor& executor() const { return *executor_; }

  /// Field `id` of every world (T must match the field's dtype).
  template <class T>
  gpu::WorldArray<T> Field(FieldId id) const {
    return {reinterpret_cast<T*>(buffers_[static_cast<size_t>(id)].data()),
            counts_[static_cast<size_t>(id)]};
  }
  /// Input port `port` of a block (the connected field or its delayed copy, at the port offset).
  template <class T = double>
  gpu::WorldArray<const T> Input(const BlockBinding& binding, int port) const {
    const gpu::WorldArray<T> field = Field<T>(binding.input_fields[static_cast<size_t>(port)]);
    return {field.base + binding.input_offsets[static_cast<size_t>(port)], field.stride};
  }
  /// Output port `port` of a block.
  template <class T = double>
  gpu::WorldArray<T> Output(const BlockBinding& binding, int port) const {
    return Field<T>(binding.output_fields[static_cast<size_t>(port)]);
  }
  /// The whole field, raw, and its size over all worlds.
  void* Bytes(FieldId id) const { return buffers_[static_cast<size_t>(id)].data(); }
  size_t FieldBytes(FieldId id) const { return buffers_[static_cast<size_t>(id)].size(); }
  /// Device bytes of one world (sum over fields).
  size_t BytesPerWorld() const { return bytes_per_world_; }

  /// Every field, host -> device and device -> host.
  void Upload(const State& state);
  void Download(State* state) const;

 private:
  gpu::Executor* executor_;
  int num_worlds_;
  std::vector<int64_t> counts_;
  std::vector<gpu::DeviceArray<uint8_t>> buffers_;
  size_t bytes_per_world_ = 0;
};

}  // namespace ftwin
