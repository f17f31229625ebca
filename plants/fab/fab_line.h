// Scenario type "fab_line": a wafer fab simulated event by event between ticks. The fab is
// described inline in the scenario (families, products with routes, releases; docs/fab.md) or
// loaded from an SMT2020 data folder (`smt2020: <dir>`). Each world keeps a FabWorld (lots,
// tools, queues, event calendar) as its WorldAux; Update drains events up to the tick boundary.
//
// Ports (outputs): wip_lots [lot], lots_out [lot] (cumulative), lots_released [lot]
// (cumulative, initial WIP included), power_W [W] (mean electrical power of all tools over the
// step; positive = drawn from the site bus), queue_lots [lot] (lots waiting per family, in the
// order of the families: an observation for dispatch and release policies), and for AI
// dispatch (`ai_dispatch`): awaiting_decision [1] per tool and queue_view per family.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/block.h"
#include "engine/params.h"
#include "plants/fab/fab_model.h"
#include "plants/fab/fab_sim.h"

namespace ftwin {

class FabLineBlock final : public Block {
 public:
  FabLineBlock(std::string name, std::shared_ptr<const fab::FabConfig> config,
               std::string completion_log);
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);

  const fab::FabConfig& config() const { return *config_; }
  /// Commands in declaration order (index passed to ApplyCommand).
  enum CommandIndex {
    kCmdReleaseRate,
    kCmdConwip,
    kCmdToolDown,
    kCmdToolUp,
    kCmdPmPostpone,
    kCmdDispatchRule,
    kCmdDispatch,
    kCmdPmAdvance,
    kCmdProductMix,
    kCmdBatchMin,
    kCmdBatchStart,
  };
  /// Lots per family shown in the queue_view port (priority, slack [h], route position).
  static constexpr int kQueueView = 4;

  std::string type_name() const override { return "fab_line"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  std::unique_ptr<WorldAux> CreateAux(int world) const override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  void ApplyCommand(const TickInfo& tick, BlockIo& io, int command,
                    std::span<const double> args) const override;
  void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const override;

  /// Writes the completion log of one world as CSV (lot, product, priority, wafers, release_h,
  /// finish_h, due_h, cycle_time_h, on_time, reworks).
  void WriteCompletionLog(const fab::FabWorld& world, const std::string& path) const;

 private:
  void WriteOutputs(BlockIo& io, const fab::FabWorld& world, double period_s) const;
  std::shared_ptr<const fab::FabConfig> config_;
  std::string completion_log_;
  int out_wip_ = -1, out_lots_out_ = -1, out_released_ = -1, out_power_ = -1, out_queue_ = -1,
      out_awaiting_ = -1, out_queue_view_ = -1, out_wafers_since_pm_ = -1, out_tool_state_ = -1,
      out_track_ins_ = -1, out_track_outs_ = -1, out_chamber_pressure_ = -1,
      out_chamber_temperature_ = -1;
  std::vector<int> out_metrology_, out_metrology_count_;  ///< per metrology spec
  FieldId energy_field_ = kInvalidField;
  std::vector<std::string> kpi_names_;
};

namespace fab {
/// Reads an inline fab description (families, products, releases, ...) into `config`;
/// errors go to the reader's diagnostics.
void ParseFabYaml(ParamReader& params, FabConfig* config);
}  // namespace fab

}  // namespace ftwin
