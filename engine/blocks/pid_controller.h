// PID controller block: reads a measurement, drives an output; the setpoint is an input field
// that commands may change. Scenario type "pid_controller" (docs/scenario.md).
#pragma once

#include "engine/block.h"
#include "engine/blocks/pid_math.h"
#include "engine/params.h"

namespace ftwin {

class PidControllerBlock final : public Block {
 public:
  struct Config {
    PidParams pid;
    std::string measurement_unit = "1";
    std::string output_unit = "1";
    double setpoint = 0.0;
    double setpoint_min = -INFINITY, setpoint_max = INFINITY;
    int64_t period_ns = 0;  ///< 0 = every tick
    double initial_output = 0.0;
  };
  PidControllerBlock(std::string name, Config config) : Block(std::move(name)), config_(config) {}
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);

  std::string type_name() const override { return "pid_controller"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  bool SupportsCuda() const override { return true; }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;
  void ApplyFault(const TickInfo& tick, BlockIo& io, int fault, std::span<const double> params,
                  bool active) const override;
  void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const override;

 private:
  Config config_;
  int in_measurement_ = -1, out_command_ = -1;
  FieldId setpoint_ = kInvalidField, pid_state_ = kInvalidField, stats_ = kInvalidField,
          stuck_ = kInvalidField;
};

}  // namespace ftwin
