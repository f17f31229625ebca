// Sensor imperfection models, host-device (DESIGN.md §2.6). One sample of a sensor goes
// truth -> scale factor -> bias (constant + Gauss-Markov + random walk) -> drift fault ->
// first-order lag -> transport latency -> white noise (+ noise burst fault) -> outliers ->
// quantization -> saturation -> sample-and-hold with jitter -> dropouts and faults.
// Every random draw is CounterRng(seed, world, sensor stream + model, counter = tick or sample
// index), so a reading depends only on (seed, world, sensor, tick): identical for any thread
// count and on CPU and GPU. C++17, no heap, no exceptions.
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/rng.h"
#include "gpu/host_device.h"

namespace ftwin {

/// Local RNG streams of one sensor, one per random model, so that enabling one model never
/// changes the draws of another.
enum SensorRngStream : uint32_t {
  kSensorStreamWhiteNoise = 0,
  kSensorStreamGaussMarkov = 1,
  kSensorStreamRandomWalk = 2,
  kSensorStreamDropout = 3,
  kSensorStreamOutlier = 4,
  kSensorStreamJitter = 5,
  kSensorStreamIntermittent = 6,
  kSensorStreamNoiseBurst = 7,
  kSensorStreamInitialBias = 8,
  kSensorStreamCount = 9,
};

/// How the latency line reads between two stored samples.
enum class LatencyInterpolation : int32_t { kZeroOrderHold = 0, kLinear = 1 };

/// Datasheet-style parameters of one sensor's imperfection chain (SI units of the measured
/// quantity, written "[u]" below). A zero disables a model.
struct SensorModelParams {
  double scale_factor_error = 0.0;   ///< relative gain error: reading = (1 + e) * truth
  double bias = 0.0;                 ///< constant offset [u]
  double initial_bias_sigma = 0.0;   ///< per-world turn-on bias, drawn once [u]
  double gauss_markov_sigma = 0.0;   ///< steady-state std of the first-order GM bias [u]
  double gauss_markov_tau_s = 0.0;   ///< GM correlation time [s] (> 0 when sigma > 0)
  double random_walk_density = 0.0;  ///< bias random walk [u/sqrt(s)]
  double lag_time_constant_s = 0.0;  ///< first-order lag [s]
  int32_t latency_capacity = 0;      ///< ring buffer slots (>= ceil(latency/tick) + 1)
  double latency_s = 0.0;            ///< transport delay [s]
  LatencyInterpolation latency_interpolation = LatencyInterpolation::kZeroOrderHold;
  double noise_sigma = 0.0;  ///< Gaussian white noise per sample [u]
  /// White-noise density [u*sqrt(s)] (angle/velocity random walk of an IMU): per-sample std
  /// density / sqrt(sample interval), added in quadrature to noise_sigma.
  double noise_density = 0.0;
  double outlier_probability = 0.0;  ///< per sample
  double outlier_sigma = 0.0;        ///< outlier magnitude std [u]
  double resolution = 0.0;           ///< quantization step [u] (mid-tread rounding)
  double range_min = -INFINITY;      ///< saturation limits [u]
  double range_max = INFINITY;
  double sample_period_s = 0.0;      ///< 0 = sample at every run of the block
  double jitter_sigma_s = 0.0;       ///< std of each sample instant [s]
  double dropout_probability = 0.0;  ///< per sample: no new reading, valid = 0
};

/// Active faults of one sensor (set by the fault mechanism).
struct SensorFaultState {
  int32_t stuck = 0;  ///< output frozen at stuck_value
  double stuck_value = 0.0;
  int32_t drift = 0;  ///< additive ramp drift_rate * (t - drift_start)
  double drift_rate_per_s = 0.0;
  double drift_start_s = 0.0;
  double intermittent_probability = 0.0;  ///< per sample: reading lost
  int32_t dead = 0;                       ///< no reading at all: value = dead_value, valid = 0
  double dead_value = 0.0;
  double burst_sigma = 0.0;  ///< extra white noise while a burst lasts [u]
};

/// Per-world mutable state of the chain, laid out as doubles so it lives in one State field.
struct SensorModelState {
  double gauss_markov_bias = 0.0;
  double random_walk_bias = 0.0;
  double initial_bias = 0.0;
  double lag_output = 0.0;
  double lag_initialised = 0.0;  ///< 0 until the first input
  double ring_count = 0.0;       ///< samples pushed into the latency ring
  double next_sample_index = 0.0;
  double next_sample_time_s = 0.0;
  double held_value = 0.0;  ///< last delivered reading
  double held_valid = 0.0;
  double samples_taken = 0.0;
};
/// Number of doubles in SensorModelState.
constexpr int kSensorModelStateSize = 11;
static_assert(sizeof(SensorModelState) == kSensorModelStateSize * sizeof(double), "layout");

/// Exact discretisation of a first-order Gauss-Markov process dx = -x/tau dt + q dW with
/// steady-state std sigma: x' = phi x + sigma sqrt(1 - phi^2) w, phi = exp(-dt / tau).
FTWIN_HD inline double GaussMarkovStep(double x, double sigma, double tau_s, double dt_s,
                                       double standard_normal) {
  const double phi = exp(-dt_s / tau_s);
  return phi * x + sigma * sqrt(1.0 - phi * phi) * standard_normal;
}

/// Exact zero-order-hold step of a first-order lag tau dy/dt = x - y.
FTWIN_HD inline double FirstOrderLagStep(double y, double x, double tau_s, double dt_s) {
  return y + (1.0 - exp(-dt_s / tau_s)) * (x - y);
}

/// Mid-tread quantization to multiples of `step` (step > 0).
FTWIN_HD inline double Quantize(double x, double step) { return step * floor(x / step + 0.5); }

/// Saturation to [low, high].
FTWIN_HD inline double Saturate(double x, double low, double high) {
  return x < low ? low : (x > high ? high : x);
}

/// Pushes `value` into a ring of `capacity` slots holding the last samples (slot = count %
/// capacity) and returns the value `delay_ticks` (possibly fractional) pushes ago. Before the
/// ring holds enough samples the oldest one is returned (the sensor starts with its first
/// reading, not with zeros).
FTWIN_HD inline double LatencyStep(double* ring, int32_t capacity, double* count, double value,
                                   double delay_ticks, LatencyInterpolation interpolation) {
  const int64_t pushed = static_cast<int64_t>(*count);
  ring[pushed % capacity] = value;
  *count = static_cast<double>(pushed + 1);
  const int64_t newest = pushed;
  const int64_t oldest_kept = pushed + 1 > capacity ? pushed + 1 - capacity : 0;
  auto at = [&](int64_t index) {
    if (index < oldest_kept) index = oldest_kept;
    return ring[index % capacity];
  };
  // A delay meant as a whole number of ticks (0.07 s / 0.01 s = 7.000000000000001) is one.
  const double nearest = floor(delay_ticks + 0.5);
  if (fabs(delay_ticks - nearest) < 1e-9) delay_ticks = nearest;
  const int64_t whole = static_cast<int64_t>(floor(delay_ticks));
  const double fraction = delay_ticks - static_cast<double>(whole);
  const double later = at(newest - whole);
  if (interpolation == LatencyInterpolation::kZeroOrderHold || fraction == 0.0) {
    // ZOH holds the sample that had arrived by the delayed instant.
    return interpolation == LatencyInterpolation::kZeroOrderHold && fraction > 0.0
               ? at(newest - whole - 1)
               : later;
  }
  const double earlier = at(newest - whole - 1);
  return later + fraction * (earlier - later);
}

/// The result of one run of the sensor chain.
struct SensorReading {
  double value;
  int32_t valid;  ///< 0 while dropped out, dead or before the first sample
};

/// Advances one sensor of one world by dt_s at time time_s (the end of the step) and returns
/// its reading. `ring` has params.latency_capacity slots. `rng` is the sensor's stream base:
/// model m draws from stream rng.stream + m. `tick` is the engine tick (counter of per-tick
/// processes); per-sample draws use the sample index.
FTWIN_HD inline SensorReading SensorStep(const SensorModelParams& p, const SensorFaultState& fault,
                                         SensorModelState* s, double* ring, CounterRng rng,
                                         int64_t tick, double time_s, double dt_s, double truth) {
  auto stream = [&](uint32_t model) {
    CounterRng r = rng;
    r.stream = rng.stream + model;
    return r;
  };
  const uint64_t counter = static_cast<uint64_t>(tick);
  // Per-tick processes: the bias evolves continuously whether or not a sample is taken.
  if (p.gauss_markov_sigma > 0.0)
    s->gauss_markov_bias =
        GaussMarkovStep(s->gauss_markov_bias, p.gauss_markov_sigma, p.gauss_markov_tau_s, dt_s,
                        stream(kSensorStreamGaussMarkov).Normal(counter));
  if (p.random_walk_density > 0.0)
    s->random_walk_bias +=
        p.random_walk_density * sqrt(dt_s) * stream(kSensorStreamRandomWalk).Normal(counter);
  double x = (1.0 + p.scale_factor_error) * truth + p.bias + s->initial_bias +
             s->gauss_markov_bias + s->random_walk_bias;
  if (fault.drift) x += fault.drift_rate_per_s * (time_s - fault.drift_start_s);
  if (p.lag_time_constant_s > 0.0) {
    s->lag_output = s->lag_initialised != 0.0
                        ? FirstOrderLagStep(s->lag_output, x, p.lag_time_constant_s, dt_s)
                        : x;
    s->lag_initialised = 1.0;
    x = s->lag_output;
  }
  if (p.latency_capacity > 0)
    x = LatencyStep(ring, p.latency_capacity, &s->ring_count, x, p.latency_s / dt_s,
                    p.latency_interpolation);

  // Sampling: a new reading when the (jittered) sample instant has been reached.
  bool sample_now = true;
  uint64_t sample = static_cast<uint64_t>(s->samples_taken);
  if (p.sample_period_s > 0.0) {
    sample_now = time_s >= s->next_sample_time_s;
    if (sample_now) {
      sample = static_cast<uint64_t>(s->next_sample_index);
      const double next = s->next_sample_index + 1.0;
      double jitter = 0.0;
      if (p.jitter_sigma_s > 0.0) {
        jitter = p.jitter_sigma_s * stream(kSensorStreamJitter).Normal(static_cast<uint64_t>(next));
        // Samples stay ordered: jitter never moves an instant by half a period or more.
        jitter = Saturate(jitter, -0.49 * p.sample_period_s, 0.49 * p.sample_period_s);
      }
      s->next_sample_index = next;
      s->next_sample_time_s = next * p.sample_period_s + jitter;
    }
  }
  if (fault.dead) {
    s->held_value = fault.dead_value;
    s->held_valid = 0.0;
    return {fault.dead_value, 0};
  }
  if (!sample_now) return {s->held_value, static_cast<int32_t>(s->held_valid)};
  s->samples_taken = static_cast<double>(sample + 1);

  if (p.noise_density > 0.0) {
    const double interval_s = p.sample_period_s > 0.0 ? p.sample_period_s : dt_s;
    const double sigma =
        sqrt(p.noise_sigma * p.noise_sigma + p.noise_density * p.noise_density / interval_s);
    x += sigma * stream(kSensorStreamWhiteNoise).Normal(sample);
  } else if (p.noise_sigma > 0.0) {
    x += p.noise_sigma * stream(kSensorStreamWhiteNoise).Normal(sample);
  }
  if (fault.burst_sigma > 0.0)
    x += fault.burst_sigma * stream(kSensorStreamNoiseBurst).Normal(sample);
  if (p.outlier_probability > 0.0) {
    const CounterRng outliers = stream(kSensorStreamOutlier);
    if (outliers.Uniform(sample, 0) < p.outlier_probability)
      x += p.outlier_sigma * outliers.Normal(sample + (1ull << 62), 0);
  }
  if (p.resolution > 0.0) x = Quantize(x, p.resolution);
  x = Saturate(x, p.range_min, p.range_max);
  if (fault.stuck) x = fault.stuck_value;

  bool lost = p.dropout_probability > 0.0 &&
              stream(kSensorStreamDropout).Uniform(sample) < p.dropout_probability;
  lost =
      lost || (fault.intermittent_probability > 0.0 &&
               stream(kSensorStreamIntermittent).Uniform(sample) < fault.intermittent_probability);
  if (lost) {
    s->held_valid = 0.0;
    return {s->held_value, 0};  // a lost sample keeps the last reading, flagged invalid
  }
  s->held_value = x;
  s->held_valid = 1.0;
  return {x, 1};
}

/// The turn-on bias of one world (drawn once at initialisation).
FTWIN_HD inline double InitialBias(const SensorModelParams& p, CounterRng rng) {
  rng.stream += kSensorStreamInitialBias;
  return p.initial_bias_sigma > 0.0 ? p.initial_bias_sigma * rng.Normal(0) : 0.0;
}

/// Gauss-Markov initial state drawn from its stationary distribution, so statistics hold from
/// the first tick.
FTWIN_HD inline double InitialGaussMarkov(const SensorModelParams& p, CounterRng rng) {
  rng.stream += kSensorStreamGaussMarkov;
  return p.gauss_markov_sigma > 0.0 ? p.gauss_markov_sigma * rng.Normal(0, 1) : 0.0;
}

}  // namespace ftwin
