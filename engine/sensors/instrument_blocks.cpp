#include "engine/sensors/instrument_blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/scenario.h"
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

void EnergyMeterBlock::Update(const TickInfo& tick, BlockIo& io) const {
  const double power = io.In(in_power_)[0];
  double counted = power;
  if (config_.mode == Mode::kImport) counted = std::max(power, 0.0);
  if (config_.mode == Mode::kExport) counted = std::max(-power, 0.0);
  double* e = io.Field<double>(energy_);
  // The port holds the power over the step just computed (plants write their step's power).
  e[0] += (1.0 + config_.scale_factor_error) * counted * tick.period_s;
  e[1] += counted * tick.period_s;
  // A net meter's register runs backwards on export; below zero it wraps like an odometer.
  io.Out(out_register_)[0] = EnergyRegister(config_.initial_reading_kWh + e[0] / kJoulesPerKWh,
                                            config_.resolution_kWh, config_.rollover_kWh);
  io.Out(out_true_)[0] = e[1] / kJoulesPerKWh;
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

void ParticleCounterBlock::Update(const TickInfo& tick, BlockIo& io) const {
  double* a = io.Field<double>(acc_);
  const double concentration = std::max(io.In(in_conc_)[0], 0.0);
  a[0] += config_.counting_efficiency * concentration * config_.flow_rate_m3_per_s * tick.period_s;
  a[1] += static_cast<double>(tick.period_ticks);
  if (a[1] < static_cast<double>(window_ticks_)) return;
  const double lambda = a[0] + config_.background_counts;
  const auto sample = static_cast<uint64_t>(a[2]);
  const double counts = static_cast<double>(PoissonSample(lambda, io.Rng(tick.seed, 0), sample));
  const double volume_m3 = config_.flow_rate_m3_per_s * NsToSeconds(config_.sample_time_ns);
  io.Out(out_counts_)[0] = counts;
  io.Out(out_conc_)[0] = counts / (volume_m3 * config_.counting_efficiency);
  io.Out<uint8_t>(out_valid_)[0] = 1;
  io.Out(out_expected_)[0] = lambda;
  a[0] = 0.0;
  a[1] = 0.0;
  a[2] += 1.0;
  a[3] += counts;
}

void ParticleCounterBlock::ComputeKpis(const TickInfo&, const BlockIo& io,
                                       std::span<double> kpis) const {
  const double* a = io.Field<double>(acc_);
  kpis[0] = a[2];
  kpis[1] = a[2] > 0 ? a[3] / a[2] : 0.0;
}

// ---------------------------------------------------------------------------- state_signal

namespace {
enum StateStats { kPushed, kDelayed, kEvents, kLost, kTicks, kMismatch, kStateStats };
}

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

double StateSignalBlock::ReadTruth(const BlockIo& io) const {
  switch (config_.truth_dtype) {
    case DType::kUInt8:
      return io.In<uint8_t>(in_state_)[0];
    case DType::kInt32:
      return io.In<int32_t>(in_state_)[0];
    case DType::kInt64:
      return static_cast<double>(io.In<int64_t>(in_state_)[0]);
    default:
      return std::round(io.In(in_state_)[0]);
  }
}

namespace {
uint8_t StateCode(double x) { return static_cast<uint8_t>(std::clamp(x, 0.0, 255.0)); }
}  // namespace

void StateSignalBlock::InitWorld(const TickInfo&, BlockIo& io) const {
  const double truth = ReadTruth(io);
  io.Field<double>(stats_)[kDelayed] = truth;
  io.Out<uint8_t>(out_state_)[0] = StateCode(truth);
  io.Out<uint8_t>(out_true_)[0] = StateCode(truth);
}

void StateSignalBlock::Update(const TickInfo& tick, BlockIo& io) const {
  const double truth = ReadTruth(io);
  double* s = io.Field<double>(stats_);
  double* ring = io.Field<double>(ring_);
  const int64_t capacity = latency_ticks_ + 1;
  const auto pushed = static_cast<int64_t>(s[kPushed]);
  ring[pushed % capacity] = truth;
  s[kPushed] = static_cast<double>(pushed + 1);
  // The state `latency` ticks ago (before the line is full: the first state).
  const int64_t index = std::max<int64_t>(0, pushed - latency_ticks_);
  const double delayed = ring[index % capacity];
  if (delayed != s[kDelayed]) {
    // A state-change event reaches the host now, or is lost (the host keeps the old state
    // until the next event gets through).
    const auto event = static_cast<uint64_t>(s[kEvents] + s[kLost]);
    const bool lost = config_.lost_event_probability > 0.0 &&
                      io.Rng(tick.seed, 0).Uniform(event) < config_.lost_event_probability;
    s[lost ? kLost : kEvents] += 1.0;
    if (!lost) io.Out<uint8_t>(out_state_)[0] = StateCode(delayed);
    s[kDelayed] = delayed;
  }
  io.Out<uint8_t>(out_true_)[0] = StateCode(truth);
  s[kTicks] += 1.0;
  if (io.Out<uint8_t>(out_state_)[0] != StateCode(truth)) s[kMismatch] += 1.0;
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
enum CurtainTimers { kTripAtNs, kLastIntrusionNs, kTrips, kStoppedTicks, kCurtainSlots };
constexpr double kNever = 9.0e18;  // ns: "no trip pending" / "never intruded"
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

void LightCurtainBlock::Update(const TickInfo& tick, BlockIo& io) const {
  double* t = io.Field<double>(timers_);
  // The state after this step is the state at the end of the step.
  const double now_ns = static_cast<double>(tick.time_ns + tick.period_ticks * tick.dt_ns);
  const double d = io.In(in_distance_)[0];
  const bool inside = d <= config_.protective_field_m;
  uint8_t& ossd = io.Out<uint8_t>(out_ossd_)[0];
  if (inside) {
    // Detected at the end of this step: the OSSDs switch off one response time later, even if
    // the object has left by then (the trip latches).
    if (ossd == 1 && t[kTripAtNs] == kNever)
      t[kTripAtNs] = now_ns + static_cast<double>(config_.response_time_ns);
    t[kLastIntrusionNs] = now_ns;
  }
  if (now_ns >= t[kTripAtNs]) {
    ossd = 0;
    t[kTripAtNs] = kNever;
    t[kTrips] += 1.0;
  }
  if (ossd == 0 && !inside && t[kTripAtNs] == kNever &&
      now_ns - t[kLastIntrusionNs] >= static_cast<double>(config_.restart_delay_ns))
    ossd = 1;  // automatic restart once the field has been clear for the restart delay
  if (ossd == 0) t[kStoppedTicks] += static_cast<double>(tick.period_ticks);
  io.Out<uint8_t>(out_warning_)[0] = d <= config_.warning_field_m ? 1 : 0;
  io.Out<uint8_t>(out_intrusion_)[0] = inside ? 1 : 0;
}

void LightCurtainBlock::ComputeKpis(const TickInfo& tick, const BlockIo& io,
                                    std::span<double> kpis) const {
  const double* t = io.Field<double>(timers_);
  kpis[0] = t[kTrips];
  kpis[1] = t[kStoppedTicks] * tick.dt_s;
}

// ------------------------------------------------------------------------- vibration_sensor

namespace {
enum VibrationSlots { kAngle, kPrevSpeed, kNoise, kRuns, kSumSquares, kVibrationSlots };
}

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
  double* s = io.Field<double>(state_);
  const double speed = io.In(in_speed_)[0];
  // Trapezoidal shaft angle (exact for a speed ramp), wrapped to keep sin() accurate.
  s[kAngle] += 0.5 * (s[kPrevSpeed] + speed) * tick.period_s;
  s[kAngle] -= 2.0 * M_PI * std::floor(s[kAngle] / (2.0 * M_PI));
  s[kPrevSpeed] = speed;
  if (params_.noise_sigma > 0.0)
    s[kNoise] = BandLimitedNoiseStep(s[kNoise], params_.noise_sigma, params_.noise_bandwidth_Hz,
                                     tick.period_s,
                                     io.Rng(tick.seed, 0).Normal(static_cast<uint64_t>(tick.tick)));
  const double h = VibrationHarmonics(params_, s[kAngle]);
  const double a = h + s[kNoise];
  io.Out(out_harmonics_)[0] = h;
  io.Out(out_accel_)[0] = a;
  s[kRuns] += 1.0;
  s[kSumSquares] += a * a;
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
    if (c.axes.size() > 64)
      params.Error("axes", std::to_string(c.axes.size()), "expected at most 64 axes");
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

void VectorSensorBlock::Update(const TickInfo& tick, BlockIo& io) const {
  const size_t n = runtime_.size();
  double truth[64], coupled[64];
  for (size_t i = 0; i < n; ++i) truth[i] = io.In(in_[i])[0];
  for (size_t i = 0; i < n; ++i) {
    coupled[i] = truth[i];
    if (!config_.cross_talk.empty())
      for (size_t j = 0; j < n; ++j) coupled[i] += config_.cross_talk[i * n + j] * truth[j];
  }
  double* states = io.Field<double>(model_state_);
  double* rings = ring_ == kInvalidField ? nullptr : io.Field<double>(ring_);
  double* stats = io.Field<double>(stats_);
  const double time_s = tick.time_s + tick.period_s;
  const SensorFaultState no_fault;
  for (size_t i = 0; i < n; ++i) {
    SensorModelState s;
    std::memcpy(static_cast<void*>(&s), states + i * kSensorModelStateSize, sizeof(s));
    const SensorReading r =
        SensorStep(runtime_[i], no_fault, &s, rings == nullptr ? nullptr : rings + i * ring_stride_,
                   io.Rng(tick.seed, static_cast<uint32_t>(i * kSensorStreamCount)), tick.tick,
                   time_s, tick.period_s, coupled[i]);
    std::memcpy(states + i * kSensorModelStateSize, &s, sizeof(s));
    io.Out(out_[i])[0] = r.value;
    io.Out<uint8_t>(out_valid_)[i] = static_cast<uint8_t>(r.valid);
    io.Field<double>(truth_[i])[0] = truth[i];
    if (r.valid) {
      stats[2 * i] += 1.0;
      stats[2 * i + 1] += (r.value - truth[i]) * (r.value - truth[i]);
    }
  }
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
