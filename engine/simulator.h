// The Simulator: owns the clock and the batched State of N worlds and runs the model's blocks
// tick by tick (DESIGN.md §1, §2.5).
//
// Tick order. The State at tick k describes time t_k = k * dt (integer nanoseconds, never
// accumulated). Step() computes tick k -> k + 1:
//
//   Step():
//     k = tick
//     1 PreUpdate   for each command with command.tick <= k, in submission order: apply
//                   (set an input field | block command | fault) and append to the command log;
//                   for each scheduled/random fault due at k: start it (ApplyFault active);
//                   for each active fault whose end tick is k: end it (ApplyFault inactive)
//     parallel over worlds w (static ranges, so thread count never changes results):
//       2 Update      for b in update_order:      if k % period(b) == 0: b.Update(k, w)
//       3 PostUpdate  for s in post_update_order: if k % period(s) == 0: s.Update(k, w)
//       4 Check       if any checked field of w is NaN/Inf or outside [lower, upper]:
//                       flag w
//     serially, in world order:
//       4 Check       for each flagged w: ++resets[w], record an event, re-initialise w
//                     (InitWorld of every block at tick k + 1) -- the other worlds are untouched
//       5 Publish     refresh delayed-input copies; tick = k + 1; call observers(state)
//
// A block with period p runs at ticks k = 0, p, 2p, ... and each run advances it by p * dt.
//
// Device path (docs/gpu.md). With SimulatorOptions::device = kCuda (or kEmulated, its host
// emulation) and a model with at least one block that has a device update, the State lives in
// executor buffers; phase 2/3 run as one kernel per such block (Block::UpdateDevice; the other
// blocks run on the host between the kernels, on their fields), phase 4's check as a
// kernel writing per-world flags, and phase 5's delayed copies device to device. Host and device
// copies are kept coherent per field: a field the host wrote (a command, a fault, a reset,
// state()) goes up before the next kernel; a field the kernels wrote comes back only when someone
// on the host reads it (state() brings every field, ReadFields() only the named ones, e.g. a
// controller's observation). A command brings back and sends up only the fields of its target
// (DESIGN.md: blocks touch their own fields and read their inputs). Results equal the CPU path
// bit for bit on the emulated executor; on CUDA within the tolerances of docs/gpu.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/commands.h"
#include "engine/model.h"
#include "engine/state.h"
#include "engine/thread_pool.h"

namespace ftwin {

/// Something that happened in a run: a fault started or ended, a world was reset, ...
struct SimEvent {
  int64_t tick = 0;
  int32_t world = -1;
  std::string kind;  ///< "fault_start", "fault_end", "world_reset", "command"
  std::string text;
};

/// KPI values of every world plus their aggregation (engine/kpi.h writes them out).
struct KpiEntry {
  std::string block;
  KpiDesc desc;
  std::vector<double> per_world;
  double aggregate = 0;  ///< per desc.across_worlds
  double mean = 0, stddev = 0, min = 0, max = 0;
};

/// Where a Simulator runs its blocks.
enum class SimDevice : uint8_t {
  kCpu,       ///< the CPU driver: UpdateRange over static world ranges on the thread pool
  kCuda,      ///< the device path on a CUDA GPU
  kEmulated,  ///< the device path on the host-memory emulation (tests; FTWIN_DEVICE_EMULATE=1)
};

struct SimulatorOptions {
  SimDevice device = SimDevice::kCpu;
};

class Simulator {
 public:
  /// `pool` may be null: a private pool with model.run().num_threads threads is created. When
  /// `options` asks for a device the model cannot use (no block with a device update, no CUDA
  /// device), the Simulator runs on the CPU and device_message() says why.
  explicit Simulator(std::shared_ptr<const Model> model, ThreadPool* pool = nullptr,
                     SimulatorOptions options = {});
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  const Model& model() const { return *model_; }
  std::shared_ptr<const Model> model_ptr() const { return model_; }
  /// The host State with every field current. On the device path this brings back the fields
  /// the device changed since they were last read (lazily: nothing moves when nothing changed);
  /// the non-const overload also counts every field as written by the host, so the next Step()
  /// sends them all up. Hot readers use ReadFields().
  State& state();
  const State& state() const;
  /// The host State in which `fields` of worlds [world_begin, world_end) are current (world_end
  /// < 0: all worlds); other fields may be stale on the device path. Reads only: a caller that
  /// writes uses state(). On the CPU path this is state() without any copy.
  const State& ReadFields(std::span<const FieldId> fields, int world_begin = 0,
                          int world_end = -1) const;
  int num_worlds() const { return state_->num_worlds(); }

  int64_t tick() const { return tick_; }
  int64_t time_ns() const { return tick_ * model_->run().dt_ns; }
  double time_s() const;

  /// Back to tick 0 with every world initialised; clears the queue, the log and events.
  void Reset();
  /// Re-initialises one world at the current tick (a controller's per-world reset).
  void ResetWorld(int world, const std::string& reason);

  /// Advances `ticks` ticks.
  void Step(int64_t ticks = 1);

  /// Validates and queues a command. Returns an empty string, or the error (nothing queued).
  /// Thread-safe: may be called from the bridge thread while Step runs.
  std::string Submit(const Command& command);

  const CommandLog& command_log() const { return log_; }
  const std::vector<SimEvent>& events() const { return events_; }
  /// Numeric resets so far, summed over worlds.
  int64_t total_resets() const;

  /// Whole-simulation snapshot: tick and every world (fields and aux), byte-exact.
  std::vector<uint8_t> Snapshot() const;
  /// Restores a snapshot of the same model; clears queued commands. Throws on mismatch.
  void Restore(std::span<const uint8_t> snapshot);

  /// Called at the end of every tick (Publish phase) on the simulation thread. On the device
  /// path an observer that reads the State through ReadFields() or state() brings back what it
  /// reads, at the ticks it reads it (nothing otherwise).
  using Observer = std::function<void(const Simulator&)>;
  /// Returns the observer's index.
  size_t AddObserver(Observer observer) {
    observers_.push_back(std::move(observer));
    return observers_.size() - 1;
  }
  /// Host-device copies so far (0 on the CPU path), one per field copied: what a caller's
  /// Step() sizes, commands and reads cost.
  struct DeviceSyncs {
    int64_t uploads = 0;    ///< field copies host -> device
    int64_t downloads = 0;  ///< field (or field world range) copies device -> host
    int64_t upload_bytes = 0;
    int64_t download_bytes = 0;
  };
  DeviceSyncs device_syncs() const;

  /// True when Step() runs on the device path (CUDA or emulated).
  bool on_device() const { return device_ != nullptr; }
  /// What runs the blocks and, when a device was asked for but is not used, why.
  const std::string& device_message() const { return device_message_; }
  /// Device bytes per world on the device path (0 on the CPU path).
  size_t device_bytes_per_world() const;
  /// Host State bytes page-locked for the device path's copies (0 on the CPU path).
  size_t device_pinned_bytes() const;
  /// Why `model` cannot run on the device path ("" when it can): no block has a device update.
  static std::string DevicePathUnsupported(const Model& model);
  /// The blocks that run on the host inside the device path and why ("" when none): blocks
  /// without a device update (a fab line) or with per-world objects (a Bullet robot cell). Each
  /// runs between the kernels on its inputs and own fields, which move for it (docs/gpu.md).
  static std::string HostBlocksOnDevicePath(const Model& model);

  /// KPIs of every block for every world, aggregated across worlds.
  std::vector<KpiEntry> ComputeKpis() const;

 private:
  void InitWorld(int world);
  void PreUpdate();
  void ApplyDuePreUpdate();  // PreUpdate after due_ was filled
  bool FaultsDue() const;
  void StepDevice(int64_t ticks);
  // Device-path coherence (no-ops on the CPU path), see simulator.cpp.
  void SyncAllToHost() const;
  void SyncToHost(FieldId id, int world_begin, int world_end) const;
  void MarkHostWritten(FieldId id);
  void MarkAllHostWritten();
  void SyncCommandFields(const ResolvedCommand& command, bool after_apply);
  void FlushToDevice();
  // Block events (Block::EventCounter): records the new ones of every world; SeedEvents(world)
  // takes a world's current counts as seen (-1: every world).
  void PollBlockEvents();
  void SeedEvents(int world);
  void ApplyFault(int world, int fault_index, const std::vector<double>& params, bool active);
  void ApplyCommand(const ResolvedCommand& command);
  void RunWorlds(int world_begin, int world_end);
  void RefreshDelayedCopies();

  std::shared_ptr<const Model> model_;
  std::unique_ptr<ThreadPool> own_pool_;
  ThreadPool* pool_;
  std::unique_ptr<State> state_;
  int64_t tick_ = 0;
  CommandQueue queue_;
  CommandLog log_;
  std::vector<SimEvent> events_;
  std::vector<Observer> observers_;
  struct DeviceRun;  // simulator.cpp
  std::unique_ptr<DeviceRun> device_;
  std::string device_message_ = "device: cpu";
  std::vector<ResolvedCommand> due_;   // reused each tick: no allocation on the hot path
  std::vector<uint8_t> world_failed_;  // per world, set by the Check phase
  std::vector<int> scheduled_blocks_;  // reused each tick
  std::vector<int> event_blocks_;      // blocks with an event counter
  std::vector<int64_t> events_seen_;   // [event block][world]: count already recorded
};

}  // namespace ftwin
