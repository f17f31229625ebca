// One run of each dedicated instrument block for one world (host-device): energy meter,
// particle counter, tool-state signal, light curtain, vibration channel, vector sensor and
// event counter (event_counter.h). The
// CPU drivers (the blocks' Update in instrument_blocks.cpp) and the device drivers
// (UpdateDevice through instrument_kernels.h) both call these steps, so the emulated device
// equals the CPU bit for bit. C++17: nvcc compiles this.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/rng.h"
#include "engine/sensors/instrument_math.h"
#include "engine/sensors/noise_math.h"
#include "gpu/host_device.h"

namespace ftwin {

// ---------------------------------------------------------------------------- energy_meter

struct EnergyMeterParams {
  int mode = 0;  ///< 0 import, 1 export, 2 net
  double resolution_kWh = 0.01, rollover_kWh = 1.0e6, initial_reading_kWh = 0.0;
  double scale_factor_error = 0.0;
};

struct EnergyMeterWorld {
  const double* power;  ///< input port
  double* energy;       ///< [measured J, true J]
  double* reading;      ///< output port: register [kWh]
  double* true_kWh;     ///< output port
};

FTWIN_HD inline void EnergyMeterWorldStep(const EnergyMeterParams& p, double period_s,
                                          const EnergyMeterWorld& w) {
  constexpr double kJoulesPerKWh = 3.6e6;
  const double power = w.power[0];
  double counted = power;
  if (p.mode == 0) counted = std::max(power, 0.0);
  if (p.mode == 1) counted = std::max(-power, 0.0);
  double* e = w.energy;
  // The port holds the power over the step just computed (plants write their step's power).
  e[0] += (1.0 + p.scale_factor_error) * counted * period_s;
  e[1] += counted * period_s;
  // A net meter's register runs backwards on export; below zero it wraps like an odometer.
  w.reading[0] = EnergyRegister(p.initial_reading_kWh + e[0] / kJoulesPerKWh, p.resolution_kWh,
                                p.rollover_kWh);
  w.true_kWh[0] = e[1] / kJoulesPerKWh;
}

// ------------------------------------------------------------------------ particle_counter

struct ParticleCounterParams {
  double flow_rate_m3_per_s = 0.0, counting_efficiency = 1.0, background_counts = 0.0;
  double volume_m3 = 0.0;  ///< flow rate x sample time
  int64_t window_ticks = 1;
};

struct ParticleCounterWorld {
  const double* concentration;  ///< input port
  double* acc;                  ///< [expected so far, ticks in window, samples, total counts]
  double* counts;               ///< output ports from here on
  double* measured;
  uint8_t* valid;
  double* expected;
};

FTWIN_HD inline void ParticleCounterWorldStep(const ParticleCounterParams& p, CounterRng rng,
                                              double period_s, int64_t period_ticks,
                                              const ParticleCounterWorld& w) {
  double* a = w.acc;
  const double concentration = std::max(w.concentration[0], 0.0);
  a[0] += p.counting_efficiency * concentration * p.flow_rate_m3_per_s * period_s;
  a[1] += static_cast<double>(period_ticks);
  if (a[1] < static_cast<double>(p.window_ticks)) return;
  const double lambda = a[0] + p.background_counts;
  const auto sample = static_cast<uint64_t>(a[2]);
  const double counts = static_cast<double>(PoissonSample(lambda, rng, sample));
  w.counts[0] = counts;
  w.measured[0] = counts / (p.volume_m3 * p.counting_efficiency);
  w.valid[0] = 1;
  w.expected[0] = lambda;
  a[0] = 0.0;
  a[1] = 0.0;
  a[2] += 1.0;
  a[3] += counts;
}

// ---------------------------------------------------------------------------- state_signal

enum StateStats { kPushed, kDelayed, kEvents, kLost, kTicks, kMismatch, kStateStats };

struct StateSignalParams {
  int truth_dtype = 0;  ///< 0 u8, 1 i32, 2 i64, 3 f64 (rounded)
  int64_t latency_ticks = 0;
  double lost_event_probability = 0.0;
};

struct StateSignalWorld {
  const uint8_t* truth;  ///< input port, of truth_dtype
  double* ring;          ///< latency_ticks + 1
  double* stats;         ///< kStateStats
  uint8_t* state;        ///< output port: reported
  uint8_t* true_state;   ///< output port: label
};

FTWIN_HD inline double StateSignalTruth(const StateSignalParams& p, const uint8_t* truth) {
  switch (p.truth_dtype) {
    case 0:
      return truth[0];
    case 1: {
      int32_t v;
      memcpy(&v, truth, sizeof(v));
      return v;
    }
    case 2: {
      int64_t v;
      memcpy(&v, truth, sizeof(v));
      return static_cast<double>(v);
    }
    default: {
      double v;
      memcpy(&v, truth, sizeof(v));
      return std::round(v);
    }
  }
}

FTWIN_HD inline uint8_t StateCode(double x) {
  return static_cast<uint8_t>(std::clamp(x, 0.0, 255.0));
}

FTWIN_HD inline void StateSignalWorldStep(const StateSignalParams& p, CounterRng rng,
                                          const StateSignalWorld& w) {
  const double truth = StateSignalTruth(p, w.truth);
  double* s = w.stats;
  double* ring = w.ring;
  const int64_t capacity = p.latency_ticks + 1;
  const auto pushed = static_cast<int64_t>(s[kPushed]);
  ring[pushed % capacity] = truth;
  s[kPushed] = static_cast<double>(pushed + 1);
  // The state `latency` ticks ago (before the line is full: the first state).
  const int64_t index = pushed - p.latency_ticks > 0 ? pushed - p.latency_ticks : 0;
  const double delayed = ring[index % capacity];
  if (delayed != s[kDelayed]) {
    // A state-change event reaches the host now, or is lost (the host keeps the old state
    // until the next event gets through).
    const auto event = static_cast<uint64_t>(s[kEvents] + s[kLost]);
    const bool lost =
        p.lost_event_probability > 0.0 && rng.Uniform(event) < p.lost_event_probability;
    s[lost ? kLost : kEvents] += 1.0;
    if (!lost) w.state[0] = StateCode(delayed);
    s[kDelayed] = delayed;
  }
  w.true_state[0] = StateCode(truth);
  s[kTicks] += 1.0;
  if (w.state[0] != StateCode(truth)) s[kMismatch] += 1.0;
}

// ---------------------------------------------------------------------------- light_curtain

enum CurtainTimers { kTripAtNs, kLastIntrusionNs, kTrips, kStoppedTicks, kCurtainSlots };
constexpr double kCurtainNever = 9.0e18;  // ns: "no trip pending" / "never intruded"

struct LightCurtainParams {
  double protective_field_m = 0.0, warning_field_m = 0.0;
  int64_t response_time_ns = 0, restart_delay_ns = 0;
};

struct LightCurtainWorld {
  const double* distance;  ///< input port
  double* timers;          ///< kCurtainSlots
  uint8_t* ossd;           ///< output ports from here on
  uint8_t* warning;
  uint8_t* intrusion;
};

/// `now_ns`: the end of the step (the state after this step is the state at its end).
FTWIN_HD inline void LightCurtainWorldStep(const LightCurtainParams& p, double now_ns,
                                           int64_t period_ticks, const LightCurtainWorld& w) {
  double* t = w.timers;
  const double d = w.distance[0];
  const bool inside = d <= p.protective_field_m;
  uint8_t& ossd = w.ossd[0];
  if (inside) {
    // Detected at the end of this step: the OSSDs switch off one response time later, even if
    // the object has left by then (the trip latches).
    if (ossd == 1 && t[kTripAtNs] == kCurtainNever)
      t[kTripAtNs] = now_ns + static_cast<double>(p.response_time_ns);
    t[kLastIntrusionNs] = now_ns;
  }
  if (now_ns >= t[kTripAtNs]) {
    ossd = 0;
    t[kTripAtNs] = kCurtainNever;
    t[kTrips] += 1.0;
  }
  if (ossd == 0 && !inside && t[kTripAtNs] == kCurtainNever &&
      now_ns - t[kLastIntrusionNs] >= static_cast<double>(p.restart_delay_ns))
    ossd = 1;  // automatic restart once the field has been clear for the restart delay
  if (ossd == 0) t[kStoppedTicks] += static_cast<double>(period_ticks);
  w.warning[0] = d <= p.warning_field_m ? 1 : 0;
  w.intrusion[0] = inside ? 1 : 0;
}

// ------------------------------------------------------------------------- vibration_sensor

enum VibrationSlots { kAngle, kPrevSpeed, kNoise, kRuns, kSumSquares, kVibrationSlots };

struct VibrationWorld {
  const double* speed;  ///< input port
  double* state;        ///< kVibrationSlots
  double* accel;        ///< output ports
  double* harmonics;
};

FTWIN_HD inline void VibrationWorldStep(const VibrationParams& p, CounterRng rng, int64_t tick,
                                        double period_s, const VibrationWorld& w) {
  constexpr double kTwoPi = 2.0 * 3.14159265358979323846;
  double* s = w.state;
  const double speed = w.speed[0];
  // Trapezoidal shaft angle (exact for a speed ramp), wrapped to keep sin() accurate.
  s[kAngle] += 0.5 * (s[kPrevSpeed] + speed) * period_s;
  s[kAngle] -= kTwoPi * std::floor(s[kAngle] / kTwoPi);
  s[kPrevSpeed] = speed;
  if (p.noise_sigma > 0.0)
    s[kNoise] = BandLimitedNoiseStep(s[kNoise], p.noise_sigma, p.noise_bandwidth_Hz, period_s,
                                     rng.Normal(static_cast<uint64_t>(tick)));
  const double h = VibrationHarmonics(p, s[kAngle]);
  const double a = h + s[kNoise];
  w.harmonics[0] = h;
  w.accel[0] = a;
  s[kRuns] += 1.0;
  s[kSumSquares] += a * a;
}

// ---------------------------------------------------------------------------- vector_sensor

/// Most axes of a vector sensor (the block's limit; the device path passes three views per axis
/// in the kernel arguments: 3 KB at 64 axes, within CUDA's 4 KB).
constexpr int kVectorMaxAxes = 64;

struct VectorSensorParams {
  const SensorModelParams* axes = nullptr;  ///< per axis, latency rings sized
  const double* cross_talk = nullptr;       ///< row-major n x n; null = none
  int num_axes = 0;
  int ring_stride = 0;  ///< elements per axis in the latency ring field (0: no ring)
};

struct VectorSensorWorld {
  const double* truth[kVectorMaxAxes];  ///< input ports
  double* value[kVectorMaxAxes];        ///< output ports
  double* truth_copy[kVectorMaxAxes];   ///< "<axis>_truth" fields
  uint8_t* valid;                       ///< output port, one per axis
  double* model_state;                  ///< n x kSensorModelStateSize
  double* rings;                        ///< n x ring_stride, or null
  double* stats;                        ///< n x [valid runs, sum of squared error]
};

/// `rng`: the block's stream base for this world (axis i uses streams from i *
/// kSensorStreamCount); `time_s`: the end of the step.
FTWIN_HD inline void VectorSensorWorldStep(const VectorSensorParams& p, CounterRng rng,
                                           int64_t tick, double time_s, double period_s,
                                           const VectorSensorWorld& w) {
  const int n = p.num_axes;
  double truth[kVectorMaxAxes], coupled[kVectorMaxAxes];
  for (int i = 0; i < n; ++i) truth[i] = w.truth[i][0];
  for (int i = 0; i < n; ++i) {
    coupled[i] = truth[i];
    if (p.cross_talk != nullptr)
      for (int j = 0; j < n; ++j) coupled[i] += p.cross_talk[i * n + j] * truth[j];
  }
  const SensorFaultState no_fault;
  for (int i = 0; i < n; ++i) {
    SensorModelState s;
    memcpy(static_cast<void*>(&s), w.model_state + i * kSensorModelStateSize, sizeof(s));
    CounterRng axis_rng = rng;
    axis_rng.stream += static_cast<uint32_t>(i * kSensorStreamCount);
    const SensorReading r = SensorStep(p.axes[i], no_fault, &s,
                                       w.rings == nullptr ? nullptr : w.rings + i * p.ring_stride,
                                       axis_rng, tick, time_s, period_s, coupled[i]);
    memcpy(w.model_state + i * kSensorModelStateSize, &s, sizeof(s));
    w.value[i][0] = r.value;
    w.valid[i] = static_cast<uint8_t>(r.valid);
    w.truth_copy[i][0] = truth[i];
    if (r.valid) {
      w.stats[2 * i] += 1.0;
      w.stats[2 * i + 1] += (r.value - truth[i]) * (r.value - truth[i]);
    }
  }
}

// --------------------------------------------------------------------------- event_counter

/// Slots of the event counter's per-world statistics field.
enum EventCounterSlot {
  kEventPushed,      ///< ticks pushed into the delay line
  kEventLastTruth,   ///< true count at the previous tick
  kEventTrue,        ///< events that reached the end of the delay line
  kEventReported,    ///< reported count (what the host has)
  kEventLost,        ///< events lost
  kEventDuplicated,  ///< events reported twice
  kEventUnmodelled,  ///< events beyond kEventMaxDrawsPerTick, passed through without draws
  kEventSlots
};

/// Events per tick that get their own loss/duplicate draws; a larger jump of the truth in one
/// tick passes the rest through unchanged (counted in kEventUnmodelled).
constexpr int64_t kEventMaxDrawsPerTick = 1'000'000;

struct EventCounterParams {
  int64_t latency_ticks = 0;
  double lost_probability = 0.0;
  double duplicate_probability = 0.0;
};

/// One tick of one world. `ring` holds latency_ticks + 1 entries (events entering per tick);
/// returns the events reported this tick. The truth is taken as floor(max(truth, 0)); a truth
/// that decreases (a counter reset) restarts the count from it without events.
FTWIN_HD inline double EventCounterWorldStep(const EventCounterParams& p, CounterRng rng,
                                             double truth, double* ring, double* s) {
  // Counts are integers: a fractional truth counts the events completed so far (floor).
  truth = truth >= 0.0 ? static_cast<double>(static_cast<int64_t>(truth)) : 0.0;
  double entering = truth - s[kEventLastTruth];
  if (!(entering >= 0.0)) entering = 0.0;
  s[kEventLastTruth] = truth;
  const int64_t capacity = p.latency_ticks + 1;
  const auto pushed = static_cast<int64_t>(s[kEventPushed]);
  ring[pushed % capacity] = entering;
  s[kEventPushed] = static_cast<double>(pushed + 1);
  if (pushed < p.latency_ticks) return 0.0;  // the delay line is still filling
  const double arriving = ring[(pushed - p.latency_ticks) % capacity];
  const auto n = static_cast<int64_t>(arriving);
  const int64_t drawn = n < kEventMaxDrawsPerTick ? n : kEventMaxDrawsPerTick;
  double reported = static_cast<double>(n - drawn);
  s[kEventUnmodelled] += static_cast<double>(n - drawn);
  for (int64_t k = 0; k < drawn; ++k) {
    // Two uniforms per event, keyed by the event's index in the stream: the outcome of event i
    // does not depend on how the events were spread over ticks.
    const auto event = static_cast<uint64_t>(s[kEventTrue]) + static_cast<uint64_t>(k);
    const bool lost = p.lost_probability > 0.0 && rng.Uniform(event, 0) < p.lost_probability;
    const bool twice =
        !lost && p.duplicate_probability > 0.0 && rng.Uniform(event, 1) < p.duplicate_probability;
    s[kEventLost] += lost ? 1.0 : 0.0;
    s[kEventDuplicated] += twice ? 1.0 : 0.0;
    reported += lost ? 0.0 : (twice ? 2.0 : 1.0);
  }
  s[kEventTrue] += static_cast<double>(n);
  s[kEventReported] += reported;
  return reported;
}

/// One world's fields of an event counter block.
struct EventCounterWorld {
  const double* truth;  ///< input port: true cumulative count
  double* ring;         ///< latency_ticks + 1
  double* stats;        ///< kEventSlots
  double* count;        ///< output ports: reported count, events this tick, true count
  double* events;
  double* true_count;
};

/// EventCounterWorldStep and the block's outputs.
FTWIN_HD inline void EventCounterRun(const EventCounterParams& p, CounterRng rng,
                                     const EventCounterWorld& w) {
  double* s = w.stats;
  const double events = EventCounterWorldStep(p, rng, w.truth[0], w.ring, s);
  w.count[0] = s[kEventReported];
  w.events[0] = events;
  w.true_count[0] = s[kEventLastTruth];
}

}  // namespace ftwin
