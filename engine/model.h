// The immutable Model: blocks, their resolved bindings, the schedule and the run settings,
// shared by every world of a batch (DESIGN.md §2.1). Built by GraphBuilder (engine/graph.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/block.h"
#include "engine/schema.h"

namespace ftwin {

/// Run settings of a scenario.
struct RunConfig {
  int64_t dt_ns = 1'000'000'000;  ///< tick length [ns]
  int64_t duration_ns = 0;        ///< default run length [ns] (a multiple of dt)
  uint64_t seed = 1;
  int num_worlds = 1;
  int num_threads = 1;
};

/// A fault from the scenario: at a fixed time, or random with a mean interval (Poisson).
struct ScheduledFault {
  int block = 0;
  int fault = 0;
  std::vector<double> params;  ///< one per FaultDesc::params, defaults filled in
  bool random = false;
  int64_t start_tick = 0;          ///< fixed faults: first tick it is active
  double mean_interval_ticks = 0;  ///< random faults: mean ticks between onsets
  int64_t duration_ticks = 0;      ///< 0 = stays until cleared by a command
  std::vector<int> worlds;         ///< empty = every world
  SourceLocation location;
};

/// A field copied at the end of every tick, feeding a delayed input with last tick's value.
struct DelayedCopy {
  FieldId source;
  FieldId copy;
};

/// The compiled, immutable model.
class Model {
 public:
  const RunConfig& run() const { return run_; }
  const Schema& schema() const { return *schema_; }
  std::shared_ptr<const Schema> schema_ptr() const { return schema_; }

  int num_blocks() const { return static_cast<int>(blocks_.size()); }
  const Block& block(int index) const { return *blocks_[static_cast<size_t>(index)]; }
  const BlockBinding& binding(int index) const { return bindings_[static_cast<size_t>(index)]; }
  /// Block index by name, or -1.
  int FindBlock(std::string_view name) const;

  /// Blocks of phase kUpdate in dependency order, then kPostUpdate ones.
  const std::vector<int>& update_order() const { return update_order_; }
  const std::vector<int>& post_update_order() const { return post_update_order_; }
  const std::vector<DelayedCopy>& delayed_copies() const { return delayed_copies_; }
  const std::vector<ScheduledFault>& faults() const { return faults_; }
  int num_aux_slots() const { return num_aux_slots_; }

  /// Engine-owned fields.
  FieldId resets_field() const { return resets_field_; }  ///< i64: numeric resets per world
  FieldId fault_next_tick_field() const { return fault_next_tick_field_; }  ///< i64 [faults]
  FieldId fault_end_tick_field() const { return fault_end_tick_field_; }    ///< i64 [faults]
  FieldId fault_count_field() const { return fault_count_field_; }          ///< i64 [faults]
  /// i64 [all faults declared by all blocks]: end tick of a commanded fault (-1 = none).
  FieldId fault_command_end_field() const { return fault_command_end_field_; }

  /// Fields the numeric check scans (floating, checked, not scratch).
  const std::vector<FieldId>& checked_fields() const { return checked_fields_; }

  /// TickInfo for `tick` and a block's period.
  TickInfo MakeTickInfo(int64_t tick, int64_t period_ticks, uint64_t seed) const;

 private:
  friend class GraphBuilder;
  friend class BlockDeclaration;
  RunConfig run_;
  std::shared_ptr<Schema> schema_;
  std::vector<std::unique_ptr<Block>> blocks_;
  std::vector<BlockBinding> bindings_;
  std::vector<int> update_order_;
  std::vector<int> post_update_order_;
  std::vector<DelayedCopy> delayed_copies_;
  std::vector<ScheduledFault> faults_;
  std::vector<FieldId> checked_fields_;
  int num_aux_slots_ = 0;
  FieldId resets_field_ = kInvalidField;
  FieldId fault_next_tick_field_ = kInvalidField;
  FieldId fault_end_tick_field_ = kInvalidField;
  FieldId fault_count_field_ = kInvalidField;
  FieldId fault_command_end_field_ = kInvalidField;
};

}  // namespace ftwin
