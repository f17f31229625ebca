#include "engine/sensors/sensor_block.h"

#include <cmath>
#include <cstring>
#include <string>

#include "engine/device_kernels.h"
#include "engine/device_state.h"
#include "engine/scenario.h"
#include "engine/sensors/event_counter.h"
#include "engine/sensors/range_sensor_block.h"
#include "engine/sensors/register.h"
#include "engine/units.h"

namespace ftwin {
namespace {

double Seconds(ParamReader& params, const std::string& key, double default_s) {
  const int64_t default_ns = static_cast<int64_t>(std::llround(default_s * 1e9));
  return NsToSeconds(params.DurationNs(key, default_ns));
}

}  // namespace

void ReadSensorModel(ParamReader& params, std::string* unit, SensorModelParams* model) {
  SensorModelParams& p = *model;
  if (params.Has("preset")) {
    const std::string preset_name = params.String("preset", "");
    const SensorPreset* preset = FindSensorPreset(preset_name);
    if (preset == nullptr) {
      std::string names;
      for (const SensorPreset& known : SensorPresets())
        names += (names.empty() ? "" : ", ") + known.name;
      params.Error("preset", preset_name, "expected one of: " + names);
    } else {
      *unit = preset->unit;
      p = preset->params;
    }
  }
  // Every key overrides the preset (or the ideal sensor when there is none).
  *unit = unit->empty() ? params.RequiredString("unit") : params.String("unit", *unit);
  const std::string& u = *unit;
  p.scale_factor_error = params.Number("scale_factor_error", p.scale_factor_error,
                                       NumberRange::Between(-0.5, 0.5, "1"));
  p.bias = params.Number("bias", p.bias, NumberRange::Any(u));
  p.initial_bias_sigma =
      params.Number("initial_bias_sigma", p.initial_bias_sigma, NumberRange::NonNegative(u));
  p.gauss_markov_sigma =
      params.Number("gauss_markov_sigma", p.gauss_markov_sigma, NumberRange::NonNegative(u));
  p.gauss_markov_tau_s = Seconds(params, "gauss_markov_tau", p.gauss_markov_tau_s);
  if (p.gauss_markov_sigma > 0 && p.gauss_markov_tau_s <= 0)
    params.Error("gauss_markov_tau", "0",
                 "expected a positive correlation time when "
                 "gauss_markov_sigma > 0, e.g. 100s");
  p.random_walk_density = params.Number("random_walk_density", p.random_walk_density,
                                        NumberRange::NonNegative(u + "/sqrt(s)"));
  p.lag_time_constant_s = Seconds(params, "lag_time_constant", p.lag_time_constant_s);
  p.latency_s = Seconds(params, "latency", p.latency_s);
  const std::string interpolation =
      params.Choice("latency_interpolation",
                    p.latency_interpolation == LatencyInterpolation::kLinear ? "linear" : "hold",
                    {"hold", "linear"});
  p.latency_interpolation = interpolation == "linear" ? LatencyInterpolation::kLinear
                                                      : LatencyInterpolation::kZeroOrderHold;
  p.noise_sigma = params.Number("noise_sigma", p.noise_sigma, NumberRange::NonNegative(u));
  p.noise_density =
      params.Number("noise_density", p.noise_density, NumberRange::NonNegative(u + "*sqrt(s)"));
  p.outlier_probability =
      params.Number("outlier_probability", p.outlier_probability, NumberRange::Fraction());
  p.outlier_sigma = params.Number("outlier_sigma", p.outlier_sigma, NumberRange::NonNegative(u));
  if (params.Has("counts_per_revolution") && params.Has("resolution"))
    params.Error("counts_per_revolution", "",
                 "expected either resolution or "
                 "counts_per_revolution, not both");
  if (params.Has("counts_per_revolution")) {
    const int64_t counts = params.Integer("counts_per_revolution", 0, 1, int64_t{1} << 40);
    p.resolution = 2.0 * M_PI / static_cast<double>(counts);
  } else {
    p.resolution = params.Number("resolution", p.resolution, NumberRange::NonNegative(u));
  }
  p.range_min = params.Number("range_min", p.range_min, NumberRange::Any(u));
  p.range_max = params.Number("range_max", p.range_max, NumberRange::Any(u));
  if (!(p.range_min < p.range_max))
    params.Error("range_max", std::to_string(p.range_max),
                 "expected range_max > range_min (" + std::to_string(p.range_min) + ")");
  p.sample_period_s = Seconds(params, "sample_period", p.sample_period_s);
  p.jitter_sigma_s = Seconds(params, "jitter_sigma", p.jitter_sigma_s);
  if (p.jitter_sigma_s > 0 && p.sample_period_s <= 0)
    params.Error("jitter_sigma", "", "expected a sample_period when jitter_sigma is set");
  p.dropout_probability =
      params.Number("dropout_probability", p.dropout_probability, NumberRange::Fraction());
}

std::unique_ptr<Block> SensorBlock::FromParams(const std::string& name, ParamReader& params) {
  Config config;
  ReadSensorModel(params, &config.unit, &config.params);
  config.period_ns = params.DurationNs("period", 0);
  params.Finish();
  return std::make_unique<SensorBlock>(name, std::move(config));
}

void SensorBlock::Declare(const DeclareContext& context, BlockDeclaration& declaration) {
  declaration.SetPhase(BlockPhase::kPostUpdate);
  int64_t period_ticks = 1;
  if (config_.period_ns > 0) {
    if (config_.period_ns % context.dt_ns != 0)
      declaration.Error("period", DurationText(config_.period_ns),
                        "expected a multiple of the tick " + DurationText(context.dt_ns));
    period_ticks = std::max<int64_t>(1, config_.period_ns / context.dt_ns);
  }
  declaration.SetPeriodTicks(period_ticks);
  const double step_s = context.dt_s * static_cast<double>(period_ticks);
  runtime_params_ = config_.params;
  if (runtime_params_.latency_s > 0) {
    // floor(delay) + 2 slots: the two samples around the delayed instant.
    runtime_params_.latency_capacity =
        static_cast<int32_t>(std::floor(runtime_params_.latency_s / step_s + 1e-9)) + 2;
  }
  const std::string& u = config_.unit;
  in_truth_ = declaration.AddInput({.name = "truth", .unit = u, .doc = "the measured quantity"});
  out_value_ = declaration.AddOutput({.name = "value", .unit = u, .doc = "the sensor reading"},
                                     FieldKind::kSensor);
  out_valid_ = declaration.AddOutput(
      {.name = "valid", .dtype = DType::kUInt8, .unit = "1", .doc = "1 when the reading is fresh"},
      FieldKind::kSensor);
  truth_copy_ = declaration.AddState({.name = "truth",
                                      .unit = u,
                                      .kind = FieldKind::kOutput,
                                      .doc = "ground truth at the last run (training label)"});
  model_state_ = declaration.AddState({.name = "model_state",
                                       .shape = {kSensorModelStateSize},
                                       .unit = "1",
                                       .kind = FieldKind::kDiscrete,
                                       .doc = "bias, lag, latency and sampling state",
                                       .checked = false});
  fault_state_ = declaration.AddState({.name = "faults",
                                       .shape = {kSensorFaultSlots},
                                       .unit = "1",
                                       .kind = FieldKind::kDiscrete,
                                       .doc = "active faults and their parameters",
                                       .checked = false});
  if (runtime_params_.latency_capacity > 0)
    ring_ = declaration.AddState({.name = "latency_ring",
                                  .shape = {runtime_params_.latency_capacity},
                                  .unit = u,
                                  .kind = FieldKind::kDiscrete,
                                  .doc = "transport-delay line",
                                  .checked = false});
  counters_ = declaration.AddState({.name = "stats",
                                    .shape = {kSensorCounterSlots},
                                    .unit = "1",
                                    .kind = FieldKind::kDiscrete,
                                    .doc = "runs, valid runs, sum of squared error",
                                    .checked = false});
  const double inf = std::numeric_limits<double>::infinity();
  declaration.AddFault({.name = "stuck",
                        .params = {{.name = "value", .unit = u, .doc = "the frozen reading"},
                                   {.name = "hold_current",
                                    .unit = "1",
                                    .lower = 0,
                                    .upper = 1,
                                    .default_value = 1,
                                    .doc = "1: freeze at the current reading, 0: at value"}},
                        .doc = "stuck-at: the reading freezes"});
  declaration.AddFault(
      {.name = "drift",
       .params =
           {{.name = "rate", .unit = u + "/s", .lower = -inf, .upper = inf, .default_value = 0}},
       .doc = "an additive ramp starting at the fault onset"});
  declaration.AddFault({.name = "intermittent",
                        .params = {{.name = "probability",
                                    .unit = "1",
                                    .lower = 0,
                                    .upper = 1,
                                    .default_value = 0.5,
                                    .doc = "chance that a sample is lost"}},
                        .doc = "samples lost at random (loose connector)"});
  declaration.AddFault({.name = "dead",
                        .params = {{.name = "value", .unit = u, .doc = "what the dead line reads"}},
                        .doc = "no reading: value = dead value, valid = 0"});
  declaration.AddFault({.name = "noise_burst",
                        .params = {{.name = "sigma",
                                    .unit = u,
                                    .lower = 0,
                                    .upper = inf,
                                    .default_value = 1,
                                    .doc = "extra white-noise std"}},
                        .doc = "extra white noise while the fault lasts (EMI)"});
  declaration.AddKpi({.name = "rms_error", .unit = u, .doc = "RMS of reading minus truth"});
  declaration.AddKpi({.name = "valid_fraction", .unit = "1", .doc = "fraction of fresh readings"});
}

void SensorBlock::InitWorld(const TickInfo& tick, BlockIo& io) const {
  double* state = io.Field<double>(model_state_);
  SensorModelState initial;
  const CounterRng rng = io.Rng(tick.seed, 0);
  initial.initial_bias = InitialBias(runtime_params_, rng);
  initial.gauss_markov_bias = InitialGaussMarkov(runtime_params_, rng);
  std::memcpy(state, &initial, sizeof(initial));
  // Before its first sample the instrument shows the initial truth through its static errors
  // (scale, biases), flagged not fresh: a controller must never start from a reading of zero.
  const double truth = io.In(in_truth_)[0];
  io.Out(out_value_)[0] = (1.0 + runtime_params_.scale_factor_error) * truth +
                          runtime_params_.bias + initial.initial_bias + initial.gauss_markov_bias;
  io.Out<uint8_t>(out_valid_)[0] = 0;
}

void SensorBlock::Update(const TickInfo& tick, BlockIo& io) const {
  double* ring = ring_ == kInvalidField ? nullptr : io.Field<double>(ring_);
  // The reading describes the end of the step this call advances over.
  SensorWorldStep(runtime_params_, io.Rng(tick.seed, 0), tick.tick, tick.time_s + tick.period_s,
                  tick.period_s,
                  {io.In(in_truth_), io.Field<double>(fault_state_), io.Field<double>(model_state_),
                   ring, io.Out(out_value_), io.Out<uint8_t>(out_valid_),
                   io.Field<double>(truth_copy_), io.Field<double>(counters_)});
}

void SensorBlock::UpdateDevice(const TickInfo& tick, const DeviceState& state,
                               const BlockBinding& binding, const DeviceBlockData*) const {
  SensorArgs args;
  args.params = runtime_params_;
  args.seed = tick.seed;
  args.stream = binding.stream_base;  // BlockIo::Rng(seed, 0)
  args.tick = tick.tick;
  args.time_s = tick.time_s + tick.period_s;
  args.period_s = tick.period_s;
  args.truth = state.Input(binding, in_truth_);
  args.faults = state.Field<double>(fault_state_).Const();
  args.model_state = state.Field<double>(model_state_);
  if (ring_ != kInvalidField) args.ring = state.Field<double>(ring_);
  args.value = state.Output(binding, out_value_);
  args.valid = state.Output<uint8_t>(binding, out_valid_);
  args.truth_copy = state.Field<double>(truth_copy_);
  args.counters = state.Field<double>(counters_);
  SensorOnDevice(state.executor(), state.num_worlds(), args);
}

void SensorBlock::ApplyFault(const TickInfo& tick, BlockIo& io, int fault,
                             std::span<const double> params, bool active) const {
  double* f = io.Field<double>(fault_state_);
  const double on = active ? 1.0 : 0.0;
  switch (fault) {
    case kFaultStuck:
      f[kSensorSlotStuck] = on;
      f[kSensorSlotStuckValue] = params[1] != 0.0 ? io.Out(out_value_)[0] : params[0];
      break;
    case kFaultDrift:
      f[kSensorSlotDrift] = on;
      f[kSensorSlotDriftRate] = params[0];
      f[kSensorSlotDriftStart] = tick.time_s;
      break;
    case kFaultIntermittent:
      f[kSensorSlotIntermittent] = active ? params[0] : 0.0;
      break;
    case kFaultDead:
      f[kSensorSlotDead] = on;
      f[kSensorSlotDeadValue] = params[0];
      break;
    case kFaultNoiseBurst:
      f[kSensorSlotBurstSigma] = active ? params[0] : 0.0;
      break;
    default:
      break;
  }
}

void SensorBlock::ComputeKpis(const TickInfo&, const BlockIo& io, std::span<double> kpis) const {
  const double* counters = io.Field<double>(counters_);
  kpis[0] = counters[kSensorValidRuns] > 0
                ? std::sqrt(counters[kSensorSquaredErrorSum] / counters[kSensorValidRuns])
                : 0.0;
  kpis[1] = counters[kSensorRuns] > 0 ? counters[kSensorValidRuns] / counters[kSensorRuns] : 0.0;
}

void RegisterSensorBlocks(BlockRegistry& registry) {
  registry.Register("sensor",
                    "generic instrument: noise, bias, lag, latency, sampling, dropouts, faults",
                    SensorBlock::FromParams);
  registry.Register("range_sensor",
                    "lidar (channel table), planar scanner or depth camera in a static scene",
                    RangeSensorBlock::FromParams);
  RegisterInstrumentBlocks(registry);
  RegisterEventCounterBlock(registry);
}

}  // namespace ftwin
