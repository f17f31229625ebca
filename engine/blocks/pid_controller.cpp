#include "engine/blocks/pid_controller.h"

#include <cstring>

#include "engine/device_kernels.h"
#include "engine/device_state.h"

namespace ftwin {

std::unique_ptr<Block> PidControllerBlock::FromParams(const std::string& name,
                                                      ParamReader& params) {
  Config config;
  config.measurement_unit = params.String("measurement_unit", "1");
  config.output_unit = params.String("output_unit", "1");
  config.pid.kp = params.Number("kp", 1.0, NumberRange::Any(""));
  config.pid.ki = params.Number("ki", 0.0, NumberRange::Any(""));
  config.pid.kd = params.Number("kd", 0.0, NumberRange::Any(""));
  config.pid.derivative_filter_s =
      params.Number("derivative_filter_s", 0.0, NumberRange::NonNegative("s"));
  config.pid.output_min =
      params.Number("output_min", -INFINITY, NumberRange::Any(config.output_unit));
  config.pid.output_max =
      params.Number("output_max", INFINITY, NumberRange::Any(config.output_unit));
  config.pid.rate_limit_per_s =
      params.Number("rate_limit_per_s", INFINITY, NumberRange::Positive(config.output_unit + "/s"));
  config.pid.reverse_acting = params.Bool("reverse_acting", false);
  config.setpoint = params.RequiredNumber("setpoint", NumberRange::Any(config.measurement_unit));
  config.setpoint_min =
      params.Number("setpoint_min", -INFINITY, NumberRange::Any(config.measurement_unit));
  config.setpoint_max =
      params.Number("setpoint_max", INFINITY, NumberRange::Any(config.measurement_unit));
  config.period_ns = params.DurationNs("period", 0);
  config.initial_output =
      params.Number("initial_output", 0.0, NumberRange::Any(config.output_unit));
  if (config.pid.output_min > config.pid.output_max)
    params.Error("output_min", std::to_string(config.pid.output_min),
                 "expected output_min <= output_max");
  if (config.setpoint < config.setpoint_min || config.setpoint > config.setpoint_max)
    params.Error("setpoint", std::to_string(config.setpoint),
                 "expected setpoint_min <= setpoint <= setpoint_max");
  return std::make_unique<PidControllerBlock>(name, config);
}

void PidControllerBlock::Declare(const DeclareContext& context, BlockDeclaration& declaration) {
  if (config_.period_ns > 0) {
    if (config_.period_ns % context.dt_ns != 0)
      declaration.Error("period", std::to_string(config_.period_ns) + " ns",
                        "expected a multiple of dt");
    declaration.SetPeriodTicks(std::max<int64_t>(1, config_.period_ns / context.dt_ns));
  }
  in_measurement_ = declaration.AddInput(
      {.name = "measurement", .unit = config_.measurement_unit, .doc = "process value"});
  out_command_ = declaration.AddOutput(
      {.name = "command", .unit = config_.output_unit, .doc = "controller output"},
      FieldKind::kOutput);
  setpoint_ = declaration.AddState({.name = "setpoint",
                                    .unit = config_.measurement_unit,
                                    .kind = FieldKind::kInput,
                                    .doc = "setpoint (commandable)",
                                    .lower = config_.setpoint_min,
                                    .upper = config_.setpoint_max});
  pid_state_ = declaration.AddState(
      {.name = "pid_state",
       .shape = {kPidSlots},
       .unit = "mixed",
       .kind = FieldKind::kContinuous,
       .doc = "integral, derivative, previous measurement, output, initialised"});
  stats_ = declaration.AddState({.name = "stats",
                                 .shape = {kPidStatsSlots},
                                 .unit = "mixed",
                                 .kind = FieldKind::kDiscrete,
                                 .doc = "∫e² dt, ∫|u| dt, elapsed [s] for KPIs"});
  stuck_ = declaration.AddState({.name = "output_stuck",
                                 .dtype = DType::kUInt8,
                                 .unit = "1",
                                 .kind = FieldKind::kDiscrete,
                                 .doc = "fault: output frozen"});
  declaration.AddFault(
      {.name = "output_stuck", .params = {}, .doc = "the actuator freezes at its current output"});
  declaration.AddKpi({.name = "rms_error",
                      .unit = config_.measurement_unit,
                      .doc = "root-mean-square control error over the run"});
  declaration.AddKpi({.name = "output_integral",
                      .unit = config_.output_unit + "*s",
                      .across_worlds = KpiAggregation::kMean,
                      .doc = "∫|output| dt (energy when the output is a power)"});
}

void PidControllerBlock::InitWorld(const TickInfo&, BlockIo& io) const {
  io.Field<double>(setpoint_)[0] = config_.setpoint;
  io.Field<double>(pid_state_)[kPidOutput] = config_.initial_output;
  io.Out(out_command_)[0] = config_.initial_output;
}

void PidControllerBlock::Update(const TickInfo& tick, BlockIo& io) const {
  PidWorldStep(config_.pid, tick.period_s,
               {io.Field<double>(pid_state_), io.Field<double>(setpoint_), io.In(in_measurement_),
                io.Field<uint8_t>(stuck_), io.Out(out_command_), io.Field<double>(stats_)});
}

void PidControllerBlock::UpdateDevice(const TickInfo& tick, const DeviceState& state,
                                      const BlockBinding& binding, const DeviceBlockData*) const {
  PidDeviceArgs args;
  args.params = config_.pid;
  args.period_s = tick.period_s;
  args.slots = state.Field<double>(pid_state_);
  args.setpoint = state.Field<double>(setpoint_).Const();
  args.measurement = state.Input(binding, in_measurement_);
  args.stuck = state.Field<uint8_t>(stuck_).Const();
  args.command = state.Output(binding, out_command_);
  args.stats = state.Field<double>(stats_);
  PidOnDevice(state.executor(), state.num_worlds(), args);
}

void PidControllerBlock::ApplyFault(const TickInfo&, BlockIo& io, int, std::span<const double>,
                                    bool active) const {
  io.Field<uint8_t>(stuck_)[0] = active ? 1 : 0;
}

void PidControllerBlock::ComputeKpis(const TickInfo&, const BlockIo& io,
                                     std::span<double> kpis) const {
  const double* stats = io.Field<double>(stats_);
  kpis[0] =
      stats[kPidElapsed] > 0 ? std::sqrt(stats[kPidSumSquaredErrorTime] / stats[kPidElapsed]) : 0.0;
  kpis[1] = stats[kPidOutputIntegral];
}

}  // namespace ftwin
