#include "engine/simulator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "engine/device_kernels.h"
#include "engine/device_state.h"
#include "engine/units.h"
#include "gpu/executor.h"

namespace ftwin {
namespace {
constexpr char kSnapshotMagic[4] = {'F', 'T', 'W', 'S'};
constexpr uint32_t kSnapshotVersion = 1;
}  // namespace

/// The device path's buffers (declared first: destroyed last, after the buffers it owns).
struct Simulator::DeviceRun {
  // The host State's buffers stay pinned while the device path runs (full-speed DMA for the
  // uploads and the downloads the observers and the bridge read); unpinned before the
  // executor goes.
  ~DeviceRun() {
    for (void* host : pinned) executor->UnpinHost(host);
  }
  std::unique_ptr<gpu::Executor> executor;
  std::vector<void*> pinned;
  std::unique_ptr<DeviceState> state;
  std::vector<std::unique_ptr<DeviceBlockData>> block_data;  // per block
  gpu::DeviceArray<CheckedFieldView> checked;
  int num_checked = 0;
  gpu::DeviceArray<uint8_t> failed;      // per world, written by the check kernel
  gpu::DeviceArray<int32_t> any_failed;  // 1 when some world failed
  std::vector<uint8_t> on_host;          // per block: runs on the host (HostReason)
  // Coherence per field: host_stale = the device copy is newer, device_stale = the host copy is
  // newer. Only device kernels and device-to-device copies make a field stale on the host.
  std::vector<uint8_t> host_stale, device_stale;
  DeviceSyncs syncs;
};

namespace {
// Why block b runs on the host inside the device path ("" when it runs on the device).
std::string HostReason(const Model& model, int b) {
  if (model.binding(b).aux_slot >= 0) return "keeps per-world objects";
  if (!model.block(b).SupportsCuda()) return "has no device update";
  return {};
}
}  // namespace

std::string Simulator::DevicePathUnsupported(const Model& model) {
  if (model.num_blocks() == 0) return "the scenario has no blocks";
  for (int b = 0; b < model.num_blocks(); ++b)
    if (HostReason(model, b).empty()) return {};
  return "no block of this scenario has a device update (first: block '" + model.binding(0).name +
         "' (" + model.block(0).type_name() + ") " + HostReason(model, 0) + ")";
}

std::string Simulator::HostBlocksOnDevicePath(const Model& model) {
  std::string text;
  for (int b = 0; b < model.num_blocks(); ++b) {
    const std::string why = HostReason(model, b);
    if (why.empty()) continue;
    text += (text.empty() ? "" : ", ") + std::string("'") + model.binding(b).name + "' (" +
            model.block(b).type_name() + ") " + why;
  }
  return text;
}

size_t Simulator::device_bytes_per_world() const {
  return device_ ? device_->state->BytesPerWorld() : 0;
}

size_t Simulator::device_pinned_bytes() const {
  return device_ ? device_->executor->pinned_bytes() : 0;
}

Simulator::Simulator(std::shared_ptr<const Model> model, ThreadPool* pool, SimulatorOptions options)
    : model_(std::move(model)), pool_(pool) {
  if (pool_ == nullptr) {
    own_pool_ = std::make_unique<ThreadPool>(model_->run().num_threads);
    pool_ = own_pool_.get();
  }
  const int num_worlds = model_->run().num_worlds;
  state_ = std::make_unique<State>(model_->schema_ptr(), num_worlds, model_->num_aux_slots());
  for (int b = 0; b < model_->num_blocks(); ++b) {
    const BlockBinding& binding = model_->binding(b);
    if (binding.aux_slot < 0) continue;
    for (int world = 0; world < num_worlds; ++world)
      state_->SetAux(binding.aux_slot, world, model_->block(b).CreateAux(world));
  }
  world_failed_.assign(static_cast<size_t>(num_worlds), 0);
  due_.reserve(64);
  for (int b = 0; b < model_->num_blocks(); ++b)
    if (model_->block(b).EventCounter() != kInvalidField) event_blocks_.push_back(b);
  events_seen_.assign(event_blocks_.size() * static_cast<size_t>(num_worlds), 0);
  Reset();
  if (options.device == SimDevice::kCpu) return;
  const char* wanted = options.device == SimDevice::kCuda ? "CUDA" : "emulated device";
  std::string why_not = DevicePathUnsupported(*model_);
  std::unique_ptr<gpu::Executor> executor;
  if (why_not.empty()) {
    executor = options.device == SimDevice::kCuda ? gpu::Executor::CreateCuda(&why_not)
                                                  : gpu::Executor::CreateEmulated();
  }
  if (executor == nullptr) {
    device_message_ = std::string("device: cpu (") + wanted + " not used: " + why_not + ")";
    return;
  }
  try {
    auto device = std::make_unique<DeviceRun>();
    device->executor = std::move(executor);
    gpu::Executor& ex = *device->executor;
    device->state = std::make_unique<DeviceState>(model_->schema(), num_worlds, ex);
    for (int b = 0; b < model_->num_blocks(); ++b) {
      const bool host = !HostReason(*model_, b).empty();
      device->on_host.push_back(host ? 1 : 0);
      device->block_data.push_back(host ? nullptr : model_->block(b).CreateDeviceData(ex));
    }
    std::vector<CheckedFieldView> checked;
    for (FieldId id : model_->checked_fields()) {
      const FieldDesc& field = model_->schema().field(id);
      checked.push_back({device->state->Bytes(id), state_->ElementCount(id),
                         field.dtype == DType::kFloat64 ? 1 : 0, field.lower, field.upper});
    }
    device->num_checked = static_cast<int>(checked.size());
    device->checked =
        gpu::DeviceArray<CheckedFieldView>::FromHost(ex, checked.data(), checked.size());
    device->failed = gpu::DeviceArray<uint8_t>(ex, static_cast<size_t>(num_worlds));
    device->any_failed = gpu::DeviceArray<int32_t>(ex, 1);
    for (FieldId id = 0; id < model_->schema().size(); ++id) {
      void* host = state_->Bytes(id);
      const size_t bytes =
          model_->schema().field(id).BytesPerWorld() * static_cast<size_t>(num_worlds);
      if (ex.PinHost(host, bytes)) device->pinned.push_back(host);
    }
    const size_t num_fields = static_cast<size_t>(model_->schema().size());
    device->host_stale.assign(num_fields, 0);
    device->device_stale.assign(num_fields, 1);  // the host State is initialised, the device not
    device_message_ = "device: " + ex.Describe();
    if (const std::string host = HostBlocksOnDevicePath(*model_); !host.empty())
      device_message_ += "; on the host: " + host;
    device_ = std::move(device);
  } catch (const std::exception& error) {
    device_message_ = std::string("device: cpu (") + wanted + " not used: " + error.what() + ")";
  }
}

Simulator::~Simulator() = default;

double Simulator::time_s() const { return NsToSeconds(time_ns()); }

// ---- device-path coherence ------------------------------------------------------------------

void Simulator::SyncToHost(FieldId id, int world_begin, int world_end) const {
  if (!device_) return;
  DeviceRun& device = *device_;
  const size_t field = static_cast<size_t>(id);
  if (!device.host_stale[field]) return;
  const size_t bytes_per_world = model_->schema().field(id).BytesPerWorld();
  const size_t offset = bytes_per_world * static_cast<size_t>(world_begin);
  const size_t bytes = bytes_per_world * static_cast<size_t>(world_end - world_begin);
  device.executor->Download(state_->Bytes(id) + offset,
                            static_cast<const uint8_t*>(device.state->Bytes(id)) + offset, bytes);
  ++device.syncs.downloads;
  device.syncs.download_bytes += static_cast<int64_t>(bytes);
  // A part of the worlds leaves the rest stale.
  if (world_begin == 0 && world_end == num_worlds()) device.host_stale[field] = 0;
}

void Simulator::SyncAllToHost() const {
  if (!device_) return;
  for (FieldId id = 0; id < model_->schema().size(); ++id) SyncToHost(id, 0, num_worlds());
}

void Simulator::MarkHostWritten(FieldId id) {
  if (device_) device_->device_stale[static_cast<size_t>(id)] = 1;
}

void Simulator::MarkAllHostWritten() {
  if (!device_) return;
  std::fill(device_->device_stale.begin(), device_->device_stale.end(), 1);
}

// Before a command applies on the host (after_apply false): brings back the fields it may read
// (its target field, or its block's own fields and inputs). After: marks the ones it may have
// written.
void Simulator::SyncCommandFields(const ResolvedCommand& command, bool after_apply) {
  if (command.kind == ResolvedCommand::Kind::kSetField) {
    if (after_apply)
      MarkHostWritten(command.field);
    else
      SyncToHost(command.field, 0, num_worlds());
    return;
  }
  const BlockBinding& binding = model_->binding(command.block);
  for (FieldId id : binding.state_fields) {
    if (after_apply)
      MarkHostWritten(id);
    else
      SyncToHost(id, 0, num_worlds());
  }
  if (after_apply) {
    if (command.kind == ResolvedCommand::Kind::kFault)
      MarkHostWritten(model_->fault_command_end_field());
    return;
  }
  for (FieldId id : binding.input_fields) SyncToHost(id, 0, num_worlds());
}

void Simulator::FlushToDevice() {
  DeviceRun& device = *device_;
  for (FieldId id = 0; id < model_->schema().size(); ++id) {
    const size_t field = static_cast<size_t>(id);
    if (!device.device_stale[field]) continue;
    const size_t bytes = device.state->FieldBytes(id);
    device.executor->Upload(device.state->Bytes(id), state_->Bytes(id), bytes);
    ++device.syncs.uploads;
    device.syncs.upload_bytes += static_cast<int64_t>(bytes);
    device.device_stale[field] = 0;
  }
}

State& Simulator::state() {
  SyncAllToHost();
  MarkAllHostWritten();
  return *state_;
}

const State& Simulator::state() const {
  SyncAllToHost();
  return *state_;
}

const State& Simulator::ReadFields(std::span<const FieldId> fields, int world_begin,
                                   int world_end) const {
  if (world_end < 0) world_end = num_worlds();
  world_begin = std::clamp(world_begin, 0, num_worlds());
  world_end = std::clamp(world_end, world_begin, num_worlds());
  for (FieldId id : fields) SyncToHost(id, world_begin, world_end);
  return *state_;
}

Simulator::DeviceSyncs Simulator::device_syncs() const {
  return device_ ? device_->syncs : DeviceSyncs{};
}

void Simulator::Reset() {
  SyncAllToHost();  // InitWorld keeps each world's reset count
  MarkAllHostWritten();
  tick_ = 0;
  queue_.Clear();
  log_.Clear();
  events_.clear();
  for (int world = 0; world < num_worlds(); ++world) {
    InitWorld(world);
    state_->World<int64_t>(model_->resets_field(), world)[0] = 0;
  }
  RefreshDelayedCopies();
  SeedEvents(-1);
}

void Simulator::SeedEvents(int world) {
  for (size_t e = 0; e < event_blocks_.size(); ++e) {
    const FieldId field = model_->block(event_blocks_[e]).EventCounter();
    for (int w = world < 0 ? 0 : world; w < (world < 0 ? num_worlds() : world + 1); ++w)
      events_seen_[e * static_cast<size_t>(num_worlds()) + static_cast<size_t>(w)] =
          state_->World<int64_t>(field, w)[0];
  }
}

void Simulator::PollBlockEvents() {
  for (size_t e = 0; e < event_blocks_.size(); ++e) {
    const int b = event_blocks_[e];
    const FieldId field = model_->block(b).EventCounter();
    SyncToHost(field, 0, num_worlds());  // the device path: 8 bytes per world
    for (int world = 0; world < num_worlds(); ++world) {
      int64_t& seen =
          events_seen_[e * static_cast<size_t>(num_worlds()) + static_cast<size_t>(world)];
      const int64_t count = state_->World<int64_t>(field, world)[0];
      if (count <= seen) continue;
      std::string kind = "event", text;
      BlockIo io(state_.get(), &model_->binding(b), world);
      // The description reads the block's own fields (on the device path: brought back now).
      for (FieldId id : model_->binding(b).state_fields) SyncToHost(id, 0, num_worlds());
      model_->block(b).DescribeEvent(io, count - seen, &kind, &text);
      events_.push_back({tick_, world, kind, model_->binding(b).name + ": " + text});
      seen = count;
    }
  }
}

void Simulator::ResetWorld(int world, const std::string& reason) {
  SyncAllToHost();  // the other worlds' parts of each field go up again with this one
  MarkAllHostWritten();
  InitWorld(world);
  for (const DelayedCopy& copy : model_->delayed_copies()) {
    const size_t bytes = model_->schema().field(copy.source).BytesPerWorld();
    std::memcpy(state_->Bytes(copy.copy) + bytes * static_cast<size_t>(world),
                state_->Bytes(copy.source) + bytes * static_cast<size_t>(world), bytes);
  }
  events_.push_back({tick_, world, "world_reset", reason});
  SeedEvents(world);
}

void Simulator::InitWorld(int world) {
  const Schema& schema = model_->schema();
  const int64_t resets = state_->World<int64_t>(model_->resets_field(), world)[0];
  for (FieldId id = 0; id < schema.size(); ++id) {
    const size_t bytes = schema.field(id).BytesPerWorld();
    std::memset(state_->Bytes(id) + bytes * static_cast<size_t>(world), 0, bytes);
  }
  state_->World<int64_t>(model_->resets_field(), world)[0] = resets;
  // Fresh auxiliary objects.
  for (int b = 0; b < model_->num_blocks(); ++b) {
    const BlockBinding& binding = model_->binding(b);
    if (binding.aux_slot >= 0)
      state_->SetAux(binding.aux_slot, world, model_->block(b).CreateAux(world));
  }
  const uint64_t seed = model_->run().seed;
  for (const std::vector<int>* order : {&model_->update_order(), &model_->post_update_order()}) {
    for (int b : *order) {
      const BlockBinding& binding = model_->binding(b);
      const TickInfo info = model_->MakeTickInfo(tick_, binding.period_ticks, seed);
      BlockIo io(state_.get(), &binding, world);
      model_->block(b).InitWorld(info, io);
    }
  }
  // Arm the faults from the scenario.
  int64_t* next = state_->World<int64_t>(model_->fault_next_tick_field(), world);
  int64_t* end = state_->World<int64_t>(model_->fault_end_tick_field(), world);
  int64_t* count = state_->World<int64_t>(model_->fault_count_field(), world);
  const auto& faults = model_->faults();
  for (size_t f = 0; f < faults.size(); ++f) {
    const ScheduledFault& fault = faults[f];
    end[f] = -1;
    count[f] = 0;
    bool applies = fault.worlds.empty();
    for (int w : fault.worlds) applies = applies || w == world;
    if (!applies) {
      next[f] = -1;
    } else if (!fault.random) {
      next[f] = fault.start_tick >= tick_ ? fault.start_tick : -1;
    } else {
      // Counter = (resets << 32 | onset index): a reset world draws fresh arrival times.
      const CounterRng rng{seed, static_cast<uint32_t>(world),
                           kStreamFaults + static_cast<uint32_t>(f)};
      const double wait =
          rng.Exponential(static_cast<uint64_t>(resets) << 32, fault.mean_interval_ticks);
      next[f] = tick_ + 1 + static_cast<int64_t>(std::floor(wait));
    }
  }
  int64_t* command_end = state_->World<int64_t>(model_->fault_command_end_field(), world);
  const int64_t declared = state_->ElementCount(model_->fault_command_end_field());
  for (int64_t i = 0; i < declared; ++i) command_end[i] = -1;
}

std::string Simulator::Submit(const Command& command) {
  std::string error;
  std::optional<ResolvedCommand> resolved = ResolveCommand(*model_, command, &error);
  if (!resolved) return error;
  queue_.Push(std::move(*resolved));
  return {};
}

void Simulator::ApplyFault(int world, int fault_index, const std::vector<double>& params,
                           bool active) {
  const ScheduledFault& fault = model_->faults()[static_cast<size_t>(fault_index)];
  const BlockBinding& binding = model_->binding(fault.block);
  const TickInfo info = model_->MakeTickInfo(tick_, binding.period_ticks, model_->run().seed);
  BlockIo io(state_.get(), &binding, world);
  model_->block(fault.block).ApplyFault(info, io, fault.fault, params, active);
  events_.push_back({tick_, world, active ? "fault_start" : "fault_end",
                     binding.name + "!" + binding.faults[static_cast<size_t>(fault.fault)].name});
}

void Simulator::ApplyCommand(const ResolvedCommand& command) {
  const int first = command.command.world < 0 ? 0 : command.command.world;
  const int last = command.command.world < 0 ? num_worlds() - 1 : command.command.world;
  const uint64_t seed = model_->run().seed;
  for (int world = first; world <= last; ++world) {
    switch (command.kind) {
      case ResolvedCommand::Kind::kSetField: {
        const FieldDesc& field = model_->schema().field(command.field);
        uint8_t* base =
            state_->Bytes(command.field) + field.BytesPerWorld() * static_cast<size_t>(world);
        const size_t offset = command.element < 0 ? 0 : static_cast<size_t>(command.element);
        for (size_t i = 0; i < command.command.values.size(); ++i) {
          const double value = command.command.values[i];
          const size_t element = offset + i;
          switch (field.dtype) {
            case DType::kFloat64:
              reinterpret_cast<double*>(base)[element] = value;
              break;
            case DType::kFloat32:
              reinterpret_cast<float*>(base)[element] = static_cast<float>(value);
              break;
            case DType::kInt64:
              reinterpret_cast<int64_t*>(base)[element] = static_cast<int64_t>(value);
              break;
            case DType::kInt32:
              reinterpret_cast<int32_t*>(base)[element] = static_cast<int32_t>(value);
              break;
            case DType::kUInt8:
              base[element] = static_cast<uint8_t>(value);
              break;
          }
        }
        break;
      }
      case ResolvedCommand::Kind::kBlockCommand: {
        const BlockBinding& binding = model_->binding(command.block);
        const TickInfo info = model_->MakeTickInfo(tick_, binding.period_ticks, seed);
        BlockIo io(state_.get(), &binding, world);
        model_->block(command.block).ApplyCommand(info, io, command.index, command.command.values);
        break;
      }
      case ResolvedCommand::Kind::kFault: {
        const BlockBinding& binding = model_->binding(command.block);
        const FaultDesc& desc = binding.faults[static_cast<size_t>(command.index)];
        const TickInfo info = model_->MakeTickInfo(tick_, binding.period_ticks, seed);
        BlockIo io(state_.get(), &binding, world);
        const std::span<const double> params(command.command.values.data(), desc.params.size());
        int64_t& end = state_->World<int64_t>(model_->fault_command_end_field(),
                                              world)[binding.fault_offset + command.index];
        const bool clear = command.duration_ticks == 0;
        model_->block(command.block).ApplyFault(info, io, command.index, params, !clear);
        end = command.duration_ticks > 0 ? tick_ + command.duration_ticks : -1;
        events_.push_back({tick_, world, clear ? "fault_end" : "fault_start",
                           command.command.target + " (commanded)"});
        break;
      }
    }
  }
}

void Simulator::PreUpdate() {
  // Commands due now, in submission order.
  queue_.TakeDue(tick_, &due_);
  ApplyDuePreUpdate();
}

bool Simulator::FaultsDue() const {
  const auto& faults = model_->faults();
  const int64_t commanded = state_->ElementCount(model_->fault_command_end_field());
  if (faults.empty() && commanded == 0) return false;
  for (int world = 0; world < num_worlds(); ++world) {
    const int64_t* next = state_->World<int64_t>(model_->fault_next_tick_field(), world);
    const int64_t* end = state_->World<int64_t>(model_->fault_end_tick_field(), world);
    for (size_t f = 0; f < faults.size(); ++f)
      if (next[f] == tick_ || end[f] == tick_) return true;
    const int64_t* command_end = state_->World<int64_t>(model_->fault_command_end_field(), world);
    for (int64_t i = 0; i < commanded; ++i)
      if (command_end[i] == tick_) return true;
  }
  return false;
}

void Simulator::ApplyDuePreUpdate() {
  for (ResolvedCommand& command : due_) {
    command.command.tick = tick_;  // the log records when it really applied
    ApplyCommand(command);
    log_.Append(command);
  }
  // Scenario faults and the ends of commanded faults.
  const auto& faults = model_->faults();
  const bool any_commanded_faults = state_->ElementCount(model_->fault_command_end_field()) > 0;
  if (faults.empty() && !any_commanded_faults) return;
  const uint64_t seed = model_->run().seed;
  for (int world = 0; world < num_worlds(); ++world) {
    int64_t* next = state_->World<int64_t>(model_->fault_next_tick_field(), world);
    int64_t* end = state_->World<int64_t>(model_->fault_end_tick_field(), world);
    int64_t* count = state_->World<int64_t>(model_->fault_count_field(), world);
    for (size_t f = 0; f < faults.size(); ++f) {
      const ScheduledFault& fault = faults[f];
      if (end[f] == tick_) {
        end[f] = -1;
        ApplyFault(world, static_cast<int>(f), fault.params, false);
      }
      if (next[f] != tick_) continue;
      if (end[f] < 0) {  // not already active
        ApplyFault(world, static_cast<int>(f), fault.params, true);
        end[f] = fault.duration_ticks > 0 ? tick_ + fault.duration_ticks : -1;
      }
      ++count[f];
      if (fault.random) {
        const int64_t resets = state_->World<int64_t>(model_->resets_field(), world)[0];
        const CounterRng rng{seed, static_cast<uint32_t>(world),
                             kStreamFaults + static_cast<uint32_t>(f)};
        const uint64_t counter =
            static_cast<uint64_t>(resets) << 32 | static_cast<uint64_t>(count[f]);
        next[f] =
            tick_ + 1 +
            static_cast<int64_t>(std::floor(rng.Exponential(counter, fault.mean_interval_ticks)));
      } else {
        next[f] = -1;
      }
    }
    if (!any_commanded_faults) continue;
    int64_t* command_end = state_->World<int64_t>(model_->fault_command_end_field(), world);
    for (int b = 0; b < model_->num_blocks(); ++b) {
      const BlockBinding& binding = model_->binding(b);
      for (size_t i = 0; i < binding.faults.size(); ++i) {
        int64_t& fault_end = command_end[binding.fault_offset + static_cast<int>(i)];
        if (fault_end != tick_) continue;
        fault_end = -1;
        const TickInfo info = model_->MakeTickInfo(tick_, binding.period_ticks, seed);
        BlockIo io(state_.get(), &binding, world);
        std::vector<double> defaults;
        for (const ArgDesc& param : binding.faults[i].params)
          defaults.push_back(param.default_value);
        model_->block(b).ApplyFault(info, io, static_cast<int>(i), defaults, false);
        events_.push_back({tick_, world, "fault_end", binding.name + "!" + binding.faults[i].name});
      }
    }
  }
}

void Simulator::RunWorlds(int world_begin, int world_end) {
  const uint64_t seed = model_->run().seed;
  State* state = state_.get();
  for (const std::vector<int>* order : {&model_->update_order(), &model_->post_update_order()}) {
    for (int b : *order) {
      const BlockBinding& binding = model_->binding(b);
      if (tick_ % binding.period_ticks != 0) continue;
      const TickInfo info = model_->MakeTickInfo(tick_, binding.period_ticks, seed);
      model_->block(b).UpdateRange(info, state, binding, world_begin, world_end);
    }
  }
  // Check: NaN, Inf or a value outside the field's declared range.
  for (int world = world_begin; world < world_end; ++world) {
    bool failed = false;
    for (FieldId id : model_->checked_fields()) {
      const FieldDesc& field = model_->schema().field(id);
      const int64_t count = state->ElementCount(id);
      if (field.dtype == DType::kFloat64) {
        const double* values = state->World<double>(id, world);
        for (int64_t i = 0; i < count; ++i) {
          const double v = values[i];
          // Written so that NaN fails: !(lower <= v <= upper) is true for NaN.
          if (!(v >= field.lower && v <= field.upper) || !std::isfinite(v)) failed = true;
        }
      } else {
        const float* values = state->World<float>(id, world);
        for (int64_t i = 0; i < count; ++i) {
          const double v = values[i];
          if (!(v >= field.lower && v <= field.upper) || !std::isfinite(v)) failed = true;
        }
      }
      if (failed) break;
    }
    world_failed_[static_cast<size_t>(world)] = failed ? 1 : 0;
  }
}

void Simulator::RefreshDelayedCopies() {
  for (const DelayedCopy& copy : model_->delayed_copies()) {
    const size_t bytes =
        model_->schema().field(copy.source).BytesPerWorld() * static_cast<size_t>(num_worlds());
    std::memcpy(state_->Bytes(copy.copy), state_->Bytes(copy.source), bytes);
  }
}

void Simulator::StepDevice(int64_t ticks) {
  DeviceRun& device = *device_;
  gpu::Executor& executor = *device.executor;
  DeviceState& dstate = *device.state;
  const uint64_t seed = model_->run().seed;
  for (int64_t i = 0; i < ticks; ++i) {
    // 1 PreUpdate on the host, only when something is due (fault fields are written on the host
    // only, so the host copy says when). A command moves only its target's fields; a fault
    // starting or ending (rare) moves the whole State.
    queue_.TakeDue(tick_, &due_);
    const bool faults_due = FaultsDue();
    if (!due_.empty() || faults_due) {
      if (faults_due) SyncAllToHost();
      for (const ResolvedCommand& command : due_) SyncCommandFields(command, false);
      ApplyDuePreUpdate();
      for (const ResolvedCommand& command : due_) SyncCommandFields(command, true);
      if (faults_due) MarkAllHostWritten();
    }
    // 2, 3 Update and PostUpdate: one kernel per device block; a host block (no device update,
    // or per-world objects such as a Bullet world) runs on the host between them on its inputs
    // and own fields, brought back for it; what it writes goes up before the next kernel.
    for (const std::vector<int>* order : {&model_->update_order(), &model_->post_update_order()}) {
      for (int b : *order) {
        const BlockBinding& binding = model_->binding(b);
        if (tick_ % binding.period_ticks != 0) continue;
        const TickInfo info = model_->MakeTickInfo(tick_, binding.period_ticks, seed);
        if (device.on_host[static_cast<size_t>(b)]) {
          for (FieldId id : binding.input_fields) SyncToHost(id, 0, num_worlds());
          for (FieldId id : binding.state_fields) SyncToHost(id, 0, num_worlds());
          const Block& block = model_->block(b);
          State* state = state_.get();
          pool_->ParallelFor(num_worlds(), [&](int begin, int end) {
            block.UpdateRange(info, state, binding, begin, end);
          });
          for (FieldId id : binding.state_fields) MarkHostWritten(id);
          continue;
        }
        FlushToDevice();
        model_->block(b).UpdateDevice(info, dstate, binding,
                                      device.block_data[static_cast<size_t>(b)].get());
        for (FieldId id : binding.state_fields) device.host_stale[static_cast<size_t>(id)] = 1;
      }
    }
    FlushToDevice();  // the check and the delayed copies read host blocks' outputs on the device
    // 4 Check: per-world flags on the device, one integer back.
    int32_t any_failed = 0;
    if (device.num_checked > 0) {
      CheckWorldsOnDevice(executor, num_worlds(), device.checked.data(), device.num_checked,
                          device.failed.data(), device.any_failed.data());
      executor.Download(&any_failed, device.any_failed.data(), sizeof(any_failed));
    }
    ++tick_;
    if (any_failed != 0) {
      executor.Download(world_failed_.data(), device.failed.data(), world_failed_.size());
      for (int world = 0; world < num_worlds(); ++world) {
        if (!world_failed_[static_cast<size_t>(world)]) continue;
        ++state_->World<int64_t>(model_->resets_field(), world)[0];
        ResetWorld(world, "numeric failure (NaN, Inf or out of range) in tick " +
                              std::to_string(tick_ - 1) + "; world re-initialised");
      }
      FlushToDevice();
    }
    PollBlockEvents();
    // 5 Publish: delayed copies device to device, then the observers (which bring back what
    // they read).
    for (const DelayedCopy& copy : model_->delayed_copies()) {
      executor.CopyOnDevice(dstate.Bytes(copy.copy), dstate.Bytes(copy.source),
                            dstate.FieldBytes(copy.source));
      device.host_stale[static_cast<size_t>(copy.copy)] = 1;
    }
    for (const Observer& observer : observers_) observer(*this);
  }
}

void Simulator::Step(int64_t ticks) {
  if (device_) {
    StepDevice(ticks);
    return;
  }
  for (int64_t i = 0; i < ticks; ++i) {
    PreUpdate();
    pool_->ParallelFor(num_worlds(), [this](int begin, int end) { RunWorlds(begin, end); });
    ++tick_;
    for (int world = 0; world < num_worlds(); ++world) {
      if (!world_failed_[static_cast<size_t>(world)]) continue;
      ++state_->World<int64_t>(model_->resets_field(), world)[0];
      ResetWorld(world, "numeric failure (NaN, Inf or out of range) in tick " +
                            std::to_string(tick_ - 1) + "; world re-initialised");
    }
    PollBlockEvents();
    RefreshDelayedCopies();
    for (const Observer& observer : observers_) observer(*this);
  }
}

int64_t Simulator::total_resets() const {
  int64_t total = 0;
  for (int world = 0; world < num_worlds(); ++world)
    total += state_->World<int64_t>(model_->resets_field(), world)[0];
  return total;
}

std::vector<uint8_t> Simulator::Snapshot() const {
  std::vector<uint8_t> bytes;
  ByteWriter writer(&bytes);
  writer.Raw(kSnapshotMagic, 4);
  writer.Value<uint32_t>(kSnapshotVersion);
  writer.Value<uint64_t>(model_->schema().Hash());
  writer.Value<int32_t>(num_worlds());
  writer.Value<int64_t>(tick_);
  SyncAllToHost();
  for (int world = 0; world < num_worlds(); ++world) state_->SaveWorld(world, &bytes);
  return bytes;
}

void Simulator::Restore(std::span<const uint8_t> snapshot) {
  ByteReader reader(snapshot.data(), snapshot.size());
  char magic[4];
  reader.Raw(magic, 4);
  if (std::memcmp(magic, kSnapshotMagic, 4) != 0)
    throw std::runtime_error("not an ftwin snapshot (bad magic)");
  if (reader.Value<uint32_t>() != kSnapshotVersion)
    throw std::runtime_error("unsupported snapshot version");
  if (reader.Value<uint64_t>() != model_->schema().Hash())
    throw std::runtime_error("snapshot was taken with a different model (schema hash differs)");
  if (reader.Value<int32_t>() != num_worlds())
    throw std::runtime_error("snapshot has a different number of worlds");
  const int64_t tick = reader.Value<int64_t>();
  SyncAllToHost();  // a snapshot that fails half-way leaves the host State whole
  MarkAllHostWritten();
  for (int world = 0; world < num_worlds(); ++world) state_->LoadWorld(world, reader);
  if (reader.remaining() != 0) throw std::runtime_error("snapshot has trailing data");
  tick_ = tick;
  queue_.Clear();
  SeedEvents(-1);
}

std::vector<KpiEntry> Simulator::ComputeKpis() const {
  std::vector<KpiEntry> entries;
  SyncAllToHost();
  const uint64_t seed = model_->run().seed;
  for (int b = 0; b < model_->num_blocks(); ++b) {
    const BlockBinding& binding = model_->binding(b);
    if (binding.kpis.empty()) continue;
    const size_t first = entries.size();
    for (const KpiDesc& desc : binding.kpis) {
      KpiEntry entry;
      entry.block = binding.name;
      entry.desc = desc;
      entry.per_world.resize(static_cast<size_t>(num_worlds()));
      entries.push_back(std::move(entry));
    }
    std::vector<double> values(binding.kpis.size());
    const TickInfo info = model_->MakeTickInfo(tick_, binding.period_ticks, seed);
    for (int world = 0; world < num_worlds(); ++world) {
      std::fill(values.begin(), values.end(), 0.0);
      BlockIo io(state_.get(), &binding, world);
      model_->block(b).ComputeKpis(info, io, values);
      for (size_t k = 0; k < values.size(); ++k)
        entries[first + k].per_world[static_cast<size_t>(world)] = values[k];
    }
  }
  for (KpiEntry& entry : entries) {
    const auto& v = entry.per_world;
    double sum = 0, min = v.empty() ? 0 : v[0], max = min;
    for (double x : v) {
      sum += x;
      min = std::min(min, x);
      max = std::max(max, x);
    }
    entry.mean = v.empty() ? 0 : sum / static_cast<double>(v.size());
    double squares = 0;
    for (double x : v) squares += (x - entry.mean) * (x - entry.mean);
    entry.stddev = v.size() > 1 ? std::sqrt(squares / static_cast<double>(v.size() - 1)) : 0.0;
    entry.min = min;
    entry.max = max;
    switch (entry.desc.across_worlds) {
      case KpiAggregation::kMean:
        entry.aggregate = entry.mean;
        break;
      case KpiAggregation::kSum:
        entry.aggregate = sum;
        break;
      case KpiAggregation::kMin:
        entry.aggregate = min;
        break;
      case KpiAggregation::kMax:
        entry.aggregate = max;
        break;
    }
  }
  return entries;
}

}  // namespace ftwin
