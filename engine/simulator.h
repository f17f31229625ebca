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

class Simulator {
 public:
  /// `pool` may be null: a private pool with model.run().num_threads threads is created.
  explicit Simulator(std::shared_ptr<const Model> model, ThreadPool* pool = nullptr);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  const Model& model() const { return *model_; }
  std::shared_ptr<const Model> model_ptr() const { return model_; }
  State& state() { return *state_; }
  const State& state() const { return *state_; }
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

  /// Called at the end of every tick (Publish phase) on the simulation thread.
  using Observer = std::function<void(const Simulator&)>;
  void AddObserver(Observer observer) { observers_.push_back(std::move(observer)); }

  /// KPIs of every block for every world, aggregated across worlds.
  std::vector<KpiEntry> ComputeKpis() const;

 private:
  void InitWorld(int world);
  void PreUpdate();
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
  std::vector<ResolvedCommand> due_;   // reused each tick: no allocation on the hot path
  std::vector<uint8_t> world_failed_;  // per world, set by the Check phase
  std::vector<int> scheduled_blocks_;  // reused each tick
};

}  // namespace ftwin
