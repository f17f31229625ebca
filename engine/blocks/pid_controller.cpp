#include "engine/blocks/pid_controller.h"

#include <cstring>

namespace ftwin {
namespace {
// Layout of the per-world PID state field (f64 x 5).
enum PidSlot { kIntegral, kDerivative, kPreviousMeasurement, kOutput, kInitialised, kPidSlots };
// Layout of the statistics field: Σe², Σ|u|·dt, elapsed time.
enum StatsSlot { kSumSquaredErrorTime, kOutputIntegral, kElapsed, kStatsSlots };
}  // namespace

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
                                 .shape = {kStatsSlots},
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
  io.Field<double>(pid_state_)[kOutput] = config_.initial_output;
  io.Out(out_command_)[0] = config_.initial_output;
}

void PidControllerBlock::Update(const TickInfo& tick, BlockIo& io) const {
  double* slots = io.Field<double>(pid_state_);
  PidState state{slots[kIntegral], slots[kDerivative], slots[kPreviousMeasurement], slots[kOutput],
                 slots[kInitialised] != 0.0};
  const double setpoint = io.Field<double>(setpoint_)[0];
  const double measurement = io.In(in_measurement_)[0];
  double output = state.output;
  if (io.Field<uint8_t>(stuck_)[0] == 0)
    output = PidStep(config_.pid, setpoint, measurement, tick.period_s, &state);
  slots[kIntegral] = state.integral;
  slots[kDerivative] = state.derivative;
  slots[kPreviousMeasurement] = state.previous_measurement;
  slots[kOutput] = output;
  slots[kInitialised] = state.initialised ? 1.0 : 0.0;
  io.Out(out_command_)[0] = output;
  double* stats = io.Field<double>(stats_);
  const double error = setpoint - measurement;
  stats[kSumSquaredErrorTime] += error * error * tick.period_s;
  stats[kOutputIntegral] += std::fabs(output) * tick.period_s;
  stats[kElapsed] += tick.period_s;
}

void PidControllerBlock::ApplyFault(const TickInfo&, BlockIo& io, int, std::span<const double>,
                                    bool active) const {
  io.Field<uint8_t>(stuck_)[0] = active ? 1 : 0;
}

void PidControllerBlock::ComputeKpis(const TickInfo&, const BlockIo& io,
                                     std::span<double> kpis) const {
  const double* stats = io.Field<double>(stats_);
  kpis[0] = stats[kElapsed] > 0 ? std::sqrt(stats[kSumSquaredErrorTime] / stats[kElapsed]) : 0.0;
  kpis[1] = stats[kOutputIntegral];
}

}  // namespace ftwin
