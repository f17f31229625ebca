#include "engine/sensors/instrument_blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/device_state.h"
#include "engine/scenario.h"
#include "engine/sensors/instrument_kernels.h"
#include "engine/sensors/register.h"
#include "engine/sensors/sensor_block.h"
#include "engine/units.h"

namespace ftwin {
namespace {

constexpr double kJoulesPerKWh = 3.6e6;
constexpr double kInf = std::numeric_limits<double>::infinity();

int64_t PeriodTicks(const DeclareContext& context, BlockDeclaration& declaration,
                    const std::string& key, int64_t duration_ns) {
  if (duration_ns % context.dt_ns != 0)
    declaration.Error(key, DurationText(duration_ns),
                      "expected a multiple of the tick " + DurationText(context.dt_ns));
  return duration_ns / context.dt_ns;
}

}  // namespace

// ---------------------------------------------------------------------------- energy_meter

std::unique_ptr<Block> EnergyMeterBlock::FromParams(const std::string& name, ParamReader& params) {
  Config c;
  const std::string mode = params.Choice("mode", "import", {"import", "export", "net"});
  c.mode = mode == "import" ? Mode::kImport : (mode == "export" ? Mode::kExport : Mode::kNet);
  c.resolution_kWh =
      params.Number("resolution_kWh", c.resolution_kWh, NumberRange::NonNegative("kWh"));
  c.rollover_kWh = params.Number("rollover_kWh", c.rollover_kWh, NumberRange::Positive("kWh"));
  c.initial_reading_kWh =
      params.Number("initial_reading_kWh", 0.0, NumberRange::NonNegative("kWh"));
  if (c.initial_reading_kWh >= c.rollover_kWh)
    params.Error("initial_reading_kWh", std::to_string(c.initial_reading_kWh),
                 "expected a reading below rollover_kWh");
  if (c.resolution_kWh >= c.rollover_kWh)
    params.Error("resolution_kWh", std::to_string(c.resolution_kWh),
                 "expected a resolution below rollover_kWh");
  c.scale_factor_error =
      params.Number("scale_factor_error", 0.0, NumberRange::Between(-0.5, 0.5, "1"));
  params.Finish();
  return std::make_unique<EnergyMeterBlock>(name, c);
}

void EnergyMeterBlock::Declare(const DeclareContext&, BlockDeclaration& declaration) {
  declaration.SetPhase(BlockPhase::kPostUpdate);
  in_power_ = declaration.AddInput(
      {.name = "power_W", .unit = "W", .doc = "metered power (+ consumed, - exported)"});
  out_register_ = declaration.AddOutput(
      {.name = "energy_kWh", .unit = "kWh", .doc = "register reading (truncated, rolls over)"},
      FieldKind::kSensor);
  out_true_ = declaration.AddOutput(
      {.name = "true_energy_kWh", .unit = "kWh", .doc = "exact energy since start (label)"});
  energy_ = declaration.AddState({.name = "energy_J",
                                  .shape = {2},
                                  .unit = "J",
                                  .kind = FieldKind::kDiscrete,
                                  .doc = "measured and true energy counted since start",
                                  .checked = false});
  declaration.AddKpi({.name = "true_energy_kWh", .unit = "kWh", .doc = "energy counted"});
  declaration.AddKpi({.name = "register_kWh", .unit = "kWh", .doc = "final register reading"});
}

void EnergyMeterBlock::InitWorld(const TickInfo&, BlockIo& io) const {
  io.Out(out_register_)[0] =
      EnergyRegister(config_.initial_reading_kWh, config_.resolution_kWh, config_.rollover_kWh);
  io.Out(out_true_)[0] = 0.0;
}

EnergyMeterParams EnergyMeterBlock::StepParams() const {
  const int mode = config_.mode == Mode::kImport ? 0 : (config_.mode == Mode::kExport ? 1 : 2);
  return {mode, config_.resolution_kWh, config_.rollover_kWh, config_.initial_reading_kWh,
          config_.scale_factor_error};
}

void EnergyMeterBlock::Update(const TickInfo& tick, BlockIo& io) const {
  EnergyMeterWorldStep(
      StepParams(), tick.period_s,
      {io.In(in_power_), io.Field<double>(energy_), io.Out(out_register_), io.Out(out_true_)});
}

void EnergyMeterBlock::UpdateDevice(const TickInfo& tick, const DeviceState& state,
                                    const BlockBinding& binding, const DeviceBlockData*) const {
  EnergyMeterArgs a;
  a.params = StepParams();
  a.period_s = tick.period_s;
  a.power = state.Input(binding, in_power_);
  a.energy = state.Field<double>(energy_);
  a.reading = state.Output(binding, out_register_);
  a.true_kWh = state.Output(binding, out_true_);
  EnergyMeterOnDevice(state.executor(), state.num_worlds(), a);
}

void EnergyMeterBlock::ComputeKpis(const TickInfo&, const BlockIo& io,
                                   std::span<double> kpis) const {
  kpis[0] = io.Field<double>(energy_)[1] / kJoulesPerKWh;
  kpis[1] = io.Out(out_register_)[0];
}

// ------------------------------------------------------------------------ particle_counter

std::unique_ptr<Block> ParticleCounterBlock::FromParams(const std::string& name,
                                                        ParamReader& params) {
  Config c;
  c.flow_rate_m3_per_s =
      params.Number("flow_rate_m3_per_s", c.flow_rate_m3_per_s, NumberRange::Positive("m^3/s"));
  c.sample_time_ns = params.DurationNs("sample_time", c.sample_time_ns, 1);
  c.counting_efficiency =
      params.Number("counting_efficiency", 1.0, NumberRange::Between(0.0, 1.0, "1"));
  if (c.counting_efficiency <= 0.0)
    params.Error("counting_efficiency", "0", "expected a counting efficiency in (0, 1]");
  c.background_counts = params.Number("background_counts", 0.0, NumberRange::NonNegative("1"));
  params.Finish();
  return std::make_unique<ParticleCounterBlock>(name, c);
}

void ParticleCounterBlock::Declare(const DeclareContext& context, BlockDeclaration& declaration) {
  declaration.SetPhase(BlockPhase::kPostUpdate);
  window_ticks_ = std::max<int64_t>(
      1, PeriodTicks(context, declaration, "sample_time", config_.sample_time_ns));
  in_conc_ = declaration.AddInput({.name = "concentration_per_m3",
                                   .unit = "1/m^3",
                                   .doc = "particle number concentration (at the size threshold)"});
  out_counts_ = declaration.AddOutput(
      {.name = "counts", .unit = "1", .doc = "particles counted in the last sample"},
      FieldKind::kSensor);
  out_conc_ = declaration.AddOutput({.name = "measured_per_m3",
                                     .unit = "1/m^3",
                                     .doc = "counts / (flow rate * sample time * efficiency)"},
                                    FieldKind::kSensor);
  out_valid_ = declaration.AddOutput(
      {.name = "valid", .dtype = DType::kUInt8, .unit = "1", .doc = "1 once a sample completed"},
      FieldKind::kSensor);
  out_expected_ = declaration.AddOutput(
      {.name = "expected_counts", .unit = "1", .doc = "Poisson mean of the last sample (label)"});
  acc_ = declaration.AddState({.name = "accumulator",
                               .shape = {4},
                               .unit = "1",
                               .kind = FieldKind::kDiscrete,
                               .doc = "expected counts so far, ticks in window, samples, counts",
                               .checked = false});
  declaration.AddKpi({.name = "samples", .unit = "1", .doc = "completed samples"});
  declaration.AddKpi({.name = "mean_counts", .unit = "1", .doc = "mean counts per sample"});
}

ParticleCounterParams ParticleCounterBlock::StepParams() const {
  return {config_.flow_rate_m3_per_s, config_.counting_efficiency, config_.background_counts,
          config_.flow_rate_m3_per_s * NsToSeconds(config_.sample_time_ns), window_ticks_};
}

void ParticleCounterBlock::Update(const TickInfo& tick, BlockIo& io) const {
  ParticleCounterWorldStep(StepParams(), io.Rng(tick.seed, 0), tick.period_s, tick.period_ticks,
                           {io.In(in_conc_), io.Field<double>(acc_), io.Out(out_counts_),
                            io.Out(out_conc_), io.Out<uint8_t>(out_valid_), io.Out(out_expected_)});
}

void ParticleCounterBlock::UpdateDevice(const TickInfo& tick, const DeviceState& state,
                                        const BlockBinding& binding, const DeviceBlockData*) const {
  ParticleCounterArgs a;
  a.params = StepParams();
  a.rng = {tick.seed, binding.stream_base};  // BlockIo::Rng(seed, 0)
  a.period_s = tick.period_s;
  a.period_ticks = tick.period_ticks;
  a.concentration = state.Input(binding, in_conc_);
  a.acc = state.Field<double>(acc_);
  a.counts = state.Output(binding, out_counts_);
  a.measured = state.Output(binding, out_conc_);
  a.valid = state.Output<uint8_t>(binding, out_valid_);
  a.expected = state.Output(binding, out_expected_);
  ParticleCounterOnDevice(state.executor(), state.num_worlds(), a);
}

void ParticleCounterBlock::ComputeKpis(const TickInfo&, const BlockIo& io,
                                       std::span<double> kpis) const {
  const double* a = io.Field<double>(acc_);
  kpis[0] = a[2];
  kpis[1] = a[2] > 0 ? a[3] / a[2] : 0.0;
}

// ---------------------------------------------------------------------------- state_signal

std::unique_ptr<Block> StateSignalBlock::FromParams(const std::string& name, ParamReader& params) {
  Config c;
  const std::string dtype = params.Choice("truth_dtype", "u8", {"u8", "i32", "i64", "f64"});
  c.truth_dtype = DTypeFromName(dtype).value_or(DType::kUInt8);
  c.latency_ns = params.DurationNs("latency", 0);
  c.lost_event_probability = params.Number("lost_event_probability", 0.0, NumberRange::Fraction());
  params.Finish();
  return std::make_unique<StateSignalBlock>(name, c);
}

void StateSignalBlock::Declare(const DeclareContext& context, BlockDeclaration& declaration) {
  declaration.SetPhase(BlockPhase::kPostUpdate);
  latency_ticks_ = PeriodTicks(context, declaration, "latency", config_.latency_ns);
  in_state_ = declaration.AddInput({.name = "state",
                                    .dtype = config_.truth_dtype,
                                    .unit = "1",
                                    .doc = "true state code (SEMI E10: 0 productive ... 5 "
                                           "non-scheduled)"});
  out_state_ = declaration.AddOutput(
      {.name = "state", .dtype = DType::kUInt8, .unit = "1", .doc = "reported state"},
      FieldKind::kSensor);
  out_true_ = declaration.AddOutput(
      {.name = "true_state", .dtype = DType::kUInt8, .unit = "1", .doc = "true state (label)"});
  ring_ = declaration.AddState({.name = "delay_line",
                                .shape = {static_cast<int32_t>(latency_ticks_ + 1)},
                                .unit = "1",
                                .kind = FieldKind::kDiscrete,
                                .doc = "true states of the last latency ticks",
                                .checked = false});
  stats_ = declaration.AddState({.name = "stats",
                                 .shape = {kStateStats},
                                 .unit = "1",
                                 .kind = FieldKind::kDiscrete,
                                 .doc = "pushed, delayed state, events, lost, ticks, mismatches",
                                 .checked = false});
  declaration.AddKpi({.name = "events_reported", .unit = "1", .doc = "state changes reported"});
  declaration.AddKpi({.name = "events_lost", .unit = "1", .doc = "state changes never reported"});
  declaration.AddKpi(
      {.name = "mismatch_fraction", .unit = "1", .doc = "share of ticks reported != true"});
}

StateSignalParams StateSignalBlock::StepParams() const {
  int dtype = 3;
  if (config_.truth_dtype == DType::kUInt8) dtype = 0;
  if (config_.truth_dtype == DType::kInt32) dtype = 1;
  if (config_.truth_dtype == DType::kInt64) dtype = 2;
  return {dtype, latency_ticks_, config_.lost_event_probability};
}

const uint8_t* StateSignalBlock::TruthBytes(const BlockIo& io) const {
  switch (config_.truth_dtype) {
    case DType::kUInt8:
      return io.In<uint8_t>(in_state_);
    case DType::kInt32:
      return reinterpret_cast<const uint8_t*>(io.In<int32_t>(in_state_));
    case DType::kInt64:
      return reinterpret_cast<const uint8_t*>(io.In<int64_t>(in_state_));
    default:
      return reinterpret_cast<const uint8_t*>(io.In<double>(in_state_));
  }
}

double StateSignalBlock::ReadTruth(const BlockIo& io) const {
  return StateSignalTruth(StepParams(), TruthBytes(io));
}

void StateSignalBlock::InitWorld(const TickInfo&, BlockIo& io) const {
  const double truth = ReadTruth(io);
  io.Field<double>(stats_)[kDelayed] = truth;
  io.Out<uint8_t>(out_state_)[0] = StateCode(truth);
  io.Out<uint8_t>(out_true_)[0] = StateCode(truth);
}

void StateSignalBlock::Update(const TickInfo& tick, BlockIo& io) const {
  StateSignalWorldStep(StepParams(), io.Rng(tick.seed, 0),
                       {TruthBytes(io), io.Field<double>(ring_), io.Field<double>(stats_),
                        io.Out<uint8_t>(out_state_), io.Out<uint8_t>(out_true_)});
}

void StateSignalBlock::UpdateDevice(const TickInfo& tick, const DeviceState& state,
                                    const BlockBinding& binding, const DeviceBlockData*) const {
  StateSignalArgs a;
  a.params = StepParams();
  a.rng = {tick.seed, binding.stream_base};  // BlockIo::Rng(seed, 0)
  // The truth port as bytes: the step reads it with its dtype.
  const auto bytes = static_cast<int64_t>(DTypeSize(config_.truth_dtype));
  const gpu::WorldArray<const uint8_t> elements = state.Input<uint8_t>(binding, in_state_);
  const auto* field = static_cast<const uint8_t*>(
      state.Bytes(binding.input_fields[static_cast<size_t>(in_state_)]));
  const int64_t offset = binding.input_offsets[static_cast<size_t>(in_state_)];
  a.truth = {field + offset * bytes, elements.stride * bytes};
  a.ring = state.Field<double>(ring_);
  a.stats = state.Field<double>(stats_);
  a.state = state.Output<uint8_t>(binding, out_state_);
  a.true_state = state.Output<uint8_t>(binding, out_true_);
  StateSignalOnDevice(state.executor(), state.num_worlds(), a);
}

void StateSignalBlock::ComputeKpis(const TickInfo&, const BlockIo& io,
                                   std::span<double> kpis) const {
  const double* s = io.Field<double>(stats_);
  kpis[0] = s[kEvents];
  kpis[1] = s[kLost];
  kpis[2] = s[kTicks] > 0 ? s[kMismatch] / s[kTicks] : 0.0;
}

// ---------------------------------------------------------------------------- light_curtain

namespace {
constexpr double kNever = kCurtainNever;
}  // namespace

std::unique_ptr<Block> LightCurtainBlock::FromParams(const std::string& name, ParamReader& params) {
  Config c;
  c.protective_field_m = params.RequiredNumber("protective_field_m", NumberRange::Positive("m"));
  c.warning_field_m = params.Number("warning_field_m", 0.0, NumberRange::NonNegative("m"));
  if (c.warning_field_m > 0.0 && c.warning_field_m <= c.protective_field_m)
    params.Error("warning_field_m", std::to_string(c.warning_field_m),
                 "expected a warning field beyond protective_field_m (" +
                     std::to_string(c.protective_field_m) + " m)");
  c.response_time_ns = params.DurationNs("response_time", 20'000'000);
  c.restart_delay_ns = params.DurationNs("restart_delay", 500'000'000);
  params.Finish();
  return std::make_unique<LightCurtainBlock>(name, c);
}

void LightCurtainBlock::Declare(const DeclareContext&, BlockDeclaration& declaration) {
  declaration.SetPhase(BlockPhase::kPostUpdate);
  in_distance_ = declaration.AddInput(
      {.name = "distance_m", .unit = "m", .doc = "distance of the nearest object (inf: none)"});
  out_ossd_ = declaration.AddOutput({.name = "ossd",
                                     .dtype = DType::kUInt8,
                                     .unit = "1",
                                     .doc = "safety outputs: 1 = clear (run), 0 = stop"},
                                    FieldKind::kSensor);
  out_warning_ = declaration.AddOutput({.name = "warning",
                                        .dtype = DType::kUInt8,
                                        .unit = "1",
                                        .doc = "1 while an object is in the warning field"},
                                       FieldKind::kSensor);
  out_intrusion_ = declaration.AddOutput({.name = "intrusion",
                                          .dtype = DType::kUInt8,
                                          .unit = "1",
                                          .doc = "true protective-field intrusion (label)"});
  timers_ = declaration.AddState({.name = "timers",
                                  .shape = {kCurtainSlots},
                                  .unit = "1",
                                  .kind = FieldKind::kDiscrete,
                                  .doc = "trip time, last intrusion time (ns), trips, stop ticks",
                                  .checked = false});
  declaration.AddKpi({.name = "trips", .unit = "1", .doc = "stop signals issued"});
  declaration.AddKpi({.name = "stopped_s", .unit = "s", .doc = "time with the OSSDs off"});
}

void LightCurtainBlock::InitWorld(const TickInfo&, BlockIo& io) const {
  double* t = io.Field<double>(timers_);
  t[kTripAtNs] = kNever;
  t[kLastIntrusionNs] = -kNever;
  const double d = io.In(in_distance_)[0];
  const bool inside = d <= config_.protective_field_m;
  // An object already in the field at power-up: the curtain starts in the stop state.
  io.Out<uint8_t>(out_ossd_)[0] = inside ? 0 : 1;
  if (inside) t[kLastIntrusionNs] = 0.0;
  io.Out<uint8_t>(out_warning_)[0] = d <= config_.warning_field_m ? 1 : 0;
  io.Out<uint8_t>(out_intrusion_)[0] = inside ? 1 : 0;
}

LightCurtainParams LightCurtainBlock::StepParams() const {
  return {config_.protective_field_m, config_.warning_field_m, config_.response_time_ns,
          config_.restart_delay_ns};
}

namespace {
// The end of the step: the state after this step is the state at its end.
double StepEndNs(const TickInfo& tick) {
  return static_cast<double>(tick.time_ns + tick.period_ticks * tick.dt_ns);
}
}  // namespace

void LightCurtainBlock::Update(const TickInfo& tick, BlockIo& io) const {
  LightCurtainWorldStep(StepParams(), StepEndNs(tick), tick.period_ticks,
                        {io.In(in_distance_), io.Field<double>(timers_), io.Out<uint8_t>(out_ossd_),
                         io.Out<uint8_t>(out_warning_), io.Out<uint8_t>(out_intrusion_)});
}

void LightCurtainBlock::UpdateDevice(const TickInfo& tick, const DeviceState& state,
                                     const BlockBinding& binding, const DeviceBlockData*) const {
  LightCurtainArgs a;
  a.params = StepParams();
  a.now_ns = StepEndNs(tick);
  a.period_ticks = tick.period_ticks;
  a.distance = state.Input(binding, in_distance_);
  a.timers = state.Field<double>(timers_);
  a.ossd = state.Output<uint8_t>(binding, out_ossd_);
  a.warning = state.Output<uint8_t>(binding, out_warning_);
  a.intrusion = state.Output<uint8_t>(binding, out_intrusion_);
  LightCurtainOnDevice(state.executor(), state.num_worlds(), a);
}

void LightCurtainBlock::ComputeKpis(const TickInfo& tick, const BlockIo& io,
                                    std::span<double> kpis) const {
  const double* t = io.Field<double>(timers_);
  kpis[0] = t[kTrips];
  kpis[1] = t[kStoppedTicks] * tick.dt_s;
}

// ------------------------------------------------------------------------- vibration_sensor

std::unique_ptr<Block> VibrationSensorBlock::FromParams(const std::string& name,
                                                        ParamReader& params) {
  VibrationParams p;
  p.amplitude_1x = params.Number("amplitude_1x", 0.0, NumberRange::NonNegative("m/s^2"));
  p.phase_1x = params.Number("phase_1x", 0.0, NumberRange::Any("rad"));
  p.amplitude_2x = params.Number("amplitude_2x", 0.0, NumberRange::NonNegative("m/s^2"));
  p.phase_2x = params.Number("phase_2x", 0.0, NumberRange::Any("rad"));
  p.noise_sigma = params.Number("noise_sigma", 0.0, NumberRange::NonNegative("m/s^2"));
  p.noise_bandwidth_Hz = params.Number("noise_bandwidth_Hz", 0.0, NumberRange::NonNegative("Hz"));
  if (p.noise_sigma > 0.0 && p.noise_bandwidth_Hz <= 0.0)
    params.Error("noise_bandwidth_Hz", "0", "expected a positive bandwidth when noise_sigma > 0");
  params.Finish();
  return std::make_unique<VibrationSensorBlock>(name, p);
}

void VibrationSensorBlock::Declare(const DeclareContext&, BlockDeclaration& declaration) {
  declaration.SetPhase(BlockPhase::kPostUpdate);
  in_speed_ =
      declaration.AddInput({.name = "speed_rad_per_s", .unit = "rad/s", .doc = "shaft speed"});
  out_accel_ = declaration.AddOutput(
      {.name = "acceleration_m_per_s2", .unit = "m/s^2", .doc = "accelerometer signal"},
      FieldKind::kSensor);
  out_harmonics_ = declaration.AddOutput(
      {.name = "harmonics_m_per_s2", .unit = "m/s^2", .doc = "noise-free 1x + 2x (label)"});
  state_ = declaration.AddState({.name = "state",
                                 .shape = {kVibrationSlots},
                                 .unit = "1",
                                 .kind = FieldKind::kDiscrete,
                                 .doc = "shaft angle, previous speed, noise, runs, sum of a^2",
                                 .checked = false});
  declaration.AddKpi({.name = "rms_m_per_s2", .unit = "m/s^2", .doc = "RMS acceleration"});
}

void VibrationSensorBlock::InitWorld(const TickInfo& tick, BlockIo& io) const {
  double* s = io.Field<double>(state_);
  s[kPrevSpeed] = io.In(in_speed_)[0];
  // Noise starts from its stationary distribution.
  s[kNoise] = params_.noise_sigma * io.Rng(tick.seed, 1).Normal(0);
  const double h = VibrationHarmonics(params_, 0.0);
  io.Out(out_harmonics_)[0] = h;
  io.Out(out_accel_)[0] = h + s[kNoise];
}

void VibrationSensorBlock::Update(const TickInfo& tick, BlockIo& io) const {
  VibrationWorldStep(
      params_, io.Rng(tick.seed, 0), tick.tick, tick.period_s,
      {io.In(in_speed_), io.Field<double>(state_), io.Out(out_accel_), io.Out(out_harmonics_)});
}

void VibrationSensorBlock::UpdateDevice(const TickInfo& tick, const DeviceState& state,
                                        const BlockBinding& binding, const DeviceBlockData*) const {
  VibrationArgs a;
  a.params = params_;
  a.rng = {tick.seed, binding.stream_base};  // BlockIo::Rng(seed, 0)
  a.tick = tick.tick;
  a.period_s = tick.period_s;
  a.speed = state.Input(binding, in_speed_);
  a.state = state.Field<double>(state_);
  a.accel = state.Output(binding, out_accel_);
  a.harmonics = state.Output(binding, out_harmonics_);
  VibrationOnDevice(state.executor(), state.num_worlds(), a);
}

void VibrationSensorBlock::ComputeKpis(const TickInfo&, const BlockIo& io,
                                       std::span<double> kpis) const {
  const double* s = io.Field<double>(state_);
  kpis[0] = s[kRuns] > 0 ? std::sqrt(s[kSumSquares] / s[kRuns]) : 0.0;
}

// ---------------------------------------------------------------------------- vector_sensor

std::unique_ptr<Block> VectorSensorBlock::FromParams(const std::string& name, ParamReader& params) {
  Config c;
  if (params.Has("preset")) {
    const std::string preset_name = params.String("preset", "");
    const VectorSensorPreset* found = nullptr;
    std::string names;
    for (const VectorSensorPreset& p : VectorSensorPresets()) {
      if (p.name == preset_name) found = &p;
      names += (names.empty() ? "" : ", ") + p.name;
    }
    if (found == nullptr) {
      params.Error("preset", preset_name, "expected one of: " + names);
    } else {
      c.axes = found->axes;
      c.cross_talk = found->cross_talk;
    }
  }
  if (params.Has("axes") || c.axes.empty()) {
    // Axes given here replace the preset's; each takes every key of a `sensor`.
    c.axes.clear();
    c.cross_talk.clear();
    for (ParamReader& axis : params.ChildList("axes", true)) {
      VectorAxis a;
      a.name = axis.RequiredString("name");
      for (const VectorAxis& other : c.axes)
        if (other.name == a.name) axis.Error("name", a.name, "expected a unique axis name");
      ReadSensorModel(axis, &a.unit, &a.params);
      axis.Finish();
      c.axes.push_back(std::move(a));
    }
    if (c.axes.size() > static_cast<size_t>(kVectorMaxAxes))
      params.Error("axes", std::to_string(c.axes.size()),
                   "expected at most " + std::to_string(kVectorMaxAxes) + " axes");
  }
  const size_t n = c.axes.size();
  if (params.Has("cross_talk")) {
    c.cross_talk =
        params.NumberList("cross_talk", NumberRange::Between(-1.0, 1.0, "1"), n * n, n * n);
  }
  c.period_ns = params.DurationNs("period", 0);
  params.Finish();
  if (!params.diagnostics()->ok()) return nullptr;
  return std::make_unique<VectorSensorBlock>(name, std::move(c));
}

void VectorSensorBlock::Declare(const DeclareContext& context, BlockDeclaration& declaration) {
  declaration.SetPhase(BlockPhase::kPostUpdate);
  int64_t period_ticks = 1;
  if (config_.period_ns > 0)
    period_ticks =
        std::max<int64_t>(1, PeriodTicks(context, declaration, "period", config_.period_ns));
  declaration.SetPeriodTicks(period_ticks);
  const double step_s = context.dt_s * static_cast<double>(period_ticks);
  const int n = static_cast<int>(config_.axes.size());
  runtime_.clear();
  ring_stride_ = 0;
  for (const VectorAxis& axis : config_.axes) {
    SensorModelParams p = axis.params;
    if (p.latency_s > 0)
      p.latency_capacity = static_cast<int32_t>(std::floor(p.latency_s / step_s + 1e-9)) + 2;
    ring_stride_ = std::max(ring_stride_, p.latency_capacity);
    runtime_.push_back(p);
  }
  in_.clear();
  out_.clear();
  truth_.clear();
  for (const VectorAxis& axis : config_.axes) {
    in_.push_back(declaration.AddInput({.name = axis.name, .unit = axis.unit, .doc = "truth"}));
    out_.push_back(declaration.AddOutput({.name = axis.name, .unit = axis.unit, .doc = "reading"},
                                         FieldKind::kSensor));
    truth_.push_back(declaration.AddState({.name = axis.name + "_truth",
                                           .unit = axis.unit,
                                           .kind = FieldKind::kOutput,
                                           .doc = "truth at the last run (label)",
                                           .checked = false}));
  }
  out_valid_ = declaration.AddOutput(
      {.name = "valid", .dtype = DType::kUInt8, .size = n, .unit = "1", .doc = "fresh readings"},
      FieldKind::kSensor);
  model_state_ = declaration.AddState({.name = "model_state",
                                       .shape = {n, kSensorModelStateSize},
                                       .unit = "1",
                                       .kind = FieldKind::kDiscrete,
                                       .doc = "per-axis chain state",
                                       .checked = false});
  if (ring_stride_ > 0)
    ring_ = declaration.AddState({.name = "latency_ring",
                                  .shape = {n, ring_stride_},
                                  .unit = "1",
                                  .kind = FieldKind::kDiscrete,
                                  .doc = "per-axis delay lines",
                                  .checked = false});
  stats_ = declaration.AddState({.name = "stats",
                                 .shape = {n, 2},
                                 .unit = "1",
                                 .kind = FieldKind::kDiscrete,
                                 .doc = "per axis: valid runs, sum of squared error",
                                 .checked = false});
  for (const VectorAxis& axis : config_.axes)
    declaration.AddKpi(
        {.name = axis.name + "_rms_error", .unit = axis.unit, .doc = "RMS of reading minus truth"});
}

void VectorSensorBlock::InitWorld(const TickInfo& tick, BlockIo& io) const {
  double* state = io.Field<double>(model_state_);
  for (size_t i = 0; i < runtime_.size(); ++i) {
    const CounterRng rng = io.Rng(tick.seed, static_cast<uint32_t>(i * kSensorStreamCount));
    SensorModelState initial;
    initial.initial_bias = InitialBias(runtime_[i], rng);
    initial.gauss_markov_bias = InitialGaussMarkov(runtime_[i], rng);
    std::memcpy(state + i * kSensorModelStateSize, &initial, sizeof(initial));
    io.Out(out_[i])[0] = (1.0 + runtime_[i].scale_factor_error) * io.In(in_[i])[0] +
                         runtime_[i].bias + initial.initial_bias + initial.gauss_markov_bias;
    io.Out<uint8_t>(out_valid_)[i] = 0;
  }
}

VectorSensorParams VectorSensorBlock::StepParams() const {
  return {runtime_.data(), config_.cross_talk.empty() ? nullptr : config_.cross_talk.data(),
          static_cast<int>(runtime_.size()), ring_stride_};
}

void VectorSensorBlock::Update(const TickInfo& tick, BlockIo& io) const {
  VectorSensorWorld w;
  for (size_t i = 0; i < runtime_.size(); ++i) {
    w.truth[i] = io.In(in_[i]);
    w.value[i] = io.Out(out_[i]);
    w.truth_copy[i] = io.Field<double>(truth_[i]);
  }
  w.valid = io.Out<uint8_t>(out_valid_);
  w.model_state = io.Field<double>(model_state_);
  w.rings = ring_ == kInvalidField ? nullptr : io.Field<double>(ring_);
  w.stats = io.Field<double>(stats_);
  VectorSensorWorldStep(StepParams(), io.Rng(tick.seed, 0), tick.tick, tick.time_s + tick.period_s,
                        tick.period_s, w);
}

namespace {
// The per-axis parameters and the cross-talk matrix in device memory.
struct VectorDeviceData final : DeviceBlockData {
  gpu::DeviceArray<SensorModelParams> axes;
  gpu::DeviceArray<double> cross_talk;
};
}  // namespace

std::unique_ptr<DeviceBlockData> VectorSensorBlock::CreateDeviceData(
    gpu::Executor& executor) const {
  auto data = std::make_unique<VectorDeviceData>();
  data->axes =
      gpu::DeviceArray<SensorModelParams>::FromHost(executor, runtime_.data(), runtime_.size());
  data->cross_talk = gpu::DeviceArray<double>::FromHost(executor, config_.cross_talk.data(),
                                                        config_.cross_talk.size());
  return data;
}

void VectorSensorBlock::UpdateDevice(const TickInfo& tick, const DeviceState& state,
                                     const BlockBinding& binding,
                                     const DeviceBlockData* data) const {
  const auto* device = static_cast<const VectorDeviceData*>(data);
  VectorSensorArgs a;
  a.params = StepParams();
  a.params.axes = device->axes.data();
  a.params.cross_talk = config_.cross_talk.empty() ? nullptr : device->cross_talk.data();
  a.rng = {tick.seed, binding.stream_base};  // BlockIo::Rng(seed, 0)
  a.tick = tick.tick;
  a.time_s = tick.time_s + tick.period_s;
  a.period_s = tick.period_s;
  for (size_t i = 0; i < runtime_.size(); ++i) {
    a.truth[i] = state.Input(binding, in_[i]);
    a.value[i] = state.Output(binding, out_[i]);
    a.truth_copy[i] = state.Field<double>(truth_[i]);
  }
  a.valid = state.Output<uint8_t>(binding, out_valid_);
  a.model_state = state.Field<double>(model_state_);
  if (ring_ != kInvalidField) a.rings = state.Field<double>(ring_);
  a.stats = state.Field<double>(stats_);
  VectorSensorOnDevice(state.executor(), state.num_worlds(), a);
}

void VectorSensorBlock::ComputeKpis(const TickInfo&, const BlockIo& io,
                                    std::span<double> kpis) const {
  const double* stats = io.Field<double>(stats_);
  for (size_t i = 0; i < runtime_.size(); ++i)
    kpis[i] = stats[2 * i] > 0 ? std::sqrt(stats[2 * i + 1] / stats[2 * i]) : 0.0;
}

// ---------------------------------------------------------------------- vector presets

namespace {

VectorAxis Axis(const std::string& name, const std::string& unit, double initial_bias_sigma,
                double noise_sigma, double resolution, double range) {
  VectorAxis a;
  a.name = name;
  a.unit = unit;
  a.params.initial_bias_sigma = initial_bias_sigma;
  a.params.noise_sigma = noise_sigma;
  a.params.resolution = resolution;
  a.params.range_min = -range;
  a.params.range_max = range;
  return a;
}

std::vector<VectorSensorPreset> MakeVectorPresets() {
  std::vector<VectorSensorPreset> presets;
  {
    // ATI Mini45-class: Fxy ±580 N, Fz ±1160 N, Txyz ±20 N·m; resolution 1/4 N, 1/188 N·m;
    // 1 % full-scale cross-talk between force and torque channels.
    VectorSensorPreset p{
        "wrist_force_torque", "6-axis wrist F/T (Mini45 class), 1 % cross-talk", {}, {}};
    p.axes = {Axis("fx", "N", 0.5, 0.06, 0.25, 580),
              Axis("fy", "N", 0.5, 0.06, 0.25, 580),
              Axis("fz", "N", 1.0, 0.12, 0.25, 1160),
              Axis("tx", "N*m", 0.01, 0.002, 1.0 / 188.0, 20),
              Axis("ty", "N*m", 0.01, 0.002, 1.0 / 188.0, 20),
              Axis("tz", "N*m", 0.01, 0.002, 1.0 / 188.0, 20)};
    p.cross_talk.assign(36, 0.0);
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 6; ++j)
        if (i != j && (i < 3) == (j < 3)) p.cross_talk[i * 6 + j] = 0.01;
    presets.push_back(std::move(p));
  }
  {
    // Consumer-grade 6-axis MEMS IMU (BMI088 class): accel noise density 160 µg/√Hz, gyro
    // 0.014 °/s/√Hz; bias instability as Gauss-Markov (100 s); rate random walk.
    VectorSensorPreset p{"imu_6axis_mems", "6-axis MEMS IMU (BMI088 class), SI units", {}, {}};
    for (const char* n : {"ax", "ay", "az"}) {
      VectorAxis a = Axis(n, "m/s^2", 0.02, 0.0, 0.0, 16 * 9.80665);
      a.params.noise_density = 160e-6 * 9.80665;
      a.params.gauss_markov_sigma = 40e-6 * 9.80665;
      a.params.gauss_markov_tau_s = 100.0;
      a.params.random_walk_density = 1.0e-4;
      p.axes.push_back(a);
    }
    for (const char* n : {"gx", "gy", "gz"}) {
      VectorAxis a = Axis(n, "rad/s", 1.0e-3, 0.0, 0.0, 2000 * M_PI / 180);
      a.params.noise_density = 0.014 * M_PI / 180;
      a.params.gauss_markov_sigma = 4.0 / 3600 * M_PI / 180;
      a.params.gauss_markov_tau_s = 100.0;
      a.params.random_walk_density = 1.0e-5;
      p.axes.push_back(a);
    }
    presets.push_back(std::move(p));
  }
  {
    // Laser tracker with 6-DoF probe (AT960 class): 10 µm position noise, 0.01° orientation,
    // 1 kHz output, 1 ms latency.
    VectorSensorPreset p{"tcp_tracker", "laser tracker TCP pose x, y, z, roll, pitch, yaw", {}, {}};
    for (const char* n : {"x", "y", "z"}) {
      VectorAxis a = Axis(n, "m", 5e-6, 1e-5, 1e-7, 80.0);
      a.params.latency_s = 1e-3;
      p.axes.push_back(a);
    }
    for (const char* n : {"roll", "pitch", "yaw"}) {
      VectorAxis a = Axis(n, "rad", 0.0, 0.01 * M_PI / 180, 1e-6, 4 * M_PI);
      a.params.latency_s = 1e-3;
      p.axes.push_back(a);
    }
    presets.push_back(std::move(p));
  }
  return presets;
}

}  // namespace

const std::vector<VectorSensorPreset>& VectorSensorPresets() {
  static const std::vector<VectorSensorPreset> presets = MakeVectorPresets();
  return presets;
}

void RegisterInstrumentBlocks(BlockRegistry& registry) {
  registry.Register("energy_meter", "kWh meter: power integral with register resolution/rollover",
                    EnergyMeterBlock::FromParams);
  registry.Register("particle_counter", "optical particle counter: Poisson counts per sample",
                    ParticleCounterBlock::FromParams);
  registry.Register("state_signal", "discrete state (SEMI E10) with latency and lost events",
                    StateSignalBlock::FromParams);
  registry.Register("light_curtain", "light curtain / zone scanner: OSSD stop after response time",
                    LightCurtainBlock::FromParams);
  registry.Register("vibration_sensor", "vibration channel: 1x/2x harmonics + band-limited noise",
                    VibrationSensorBlock::FromParams);
  registry.Register("vector_sensor", "multi-axis sensor (F/T, IMU, TCP tracker) with cross-talk",
                    VectorSensorBlock::FromParams);
}

}  // namespace ftwin
