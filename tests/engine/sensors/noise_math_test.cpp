// Statistics of the sensor imperfection models against their analytic values.
#include "engine/sensors/noise_math.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

namespace ftwin {
namespace {

// Runs the chain for `n` ticks of dt on a constant truth and returns the readings.
std::vector<double> Run(const SensorModelParams& p, int n, double dt, double truth = 0.0,
                        std::vector<double>* ring = nullptr, uint32_t world = 0) {
  SensorModelState state;
  const CounterRng rng{1234, world, 77};
  state.initial_bias = InitialBias(p, rng);
  state.gauss_markov_bias = InitialGaussMarkov(p, rng);
  std::vector<double> out;
  const SensorFaultState no_fault;
  for (int k = 0; k < n; ++k)
    out.push_back(SensorStep(p, no_fault, &state, ring ? ring->data() : nullptr, rng, k,
                             (k + 1) * dt, dt, truth)
                      .value);
  return out;
}

double Mean(const std::vector<double>& x) {
  double sum = 0;
  for (double v : x) sum += v;
  return sum / static_cast<double>(x.size());
}

double Variance(const std::vector<double>& x) {
  const double m = Mean(x);
  double sum = 0;
  for (double v : x) sum += (v - m) * (v - m);
  return sum / static_cast<double>(x.size() - 1);
}

double Autocorrelation(const std::vector<double>& x, int lag) {
  const double m = Mean(x), var = Variance(x);
  double sum = 0;
  for (size_t i = 0; i + lag < x.size(); ++i) sum += (x[i] - m) * (x[i + lag] - m);
  return sum / static_cast<double>(x.size() - lag) / var;
}

TEST_CASE("White noise has the set mean, variance and no autocorrelation", "[sensors]") {
  SensorModelParams p;
  p.noise_sigma = 0.5;
  p.bias = 2.0;
  const int n = 200000;
  const std::vector<double> x = Run(p, n, 0.01, 10.0);
  // Mean: 5 standard errors; variance: relative std error sqrt(2/n) ~ 0.32 %.
  CHECK(std::fabs(Mean(x) - 12.0) < 5 * 0.5 / std::sqrt(n));
  CHECK(Variance(x) == Approx(0.25).epsilon(5 * std::sqrt(2.0 / n)));
  for (int lag : {1, 2, 10}) CHECK(std::fabs(Autocorrelation(x, lag)) < 5 / std::sqrt(n));
}

TEST_CASE("Gauss-Markov bias: stationary variance and correlation time recovered", "[sensors]") {
  SensorModelParams p;
  p.gauss_markov_sigma = 0.3;
  p.gauss_markov_tau_s = 2.0;
  const double dt = 0.1;
  const int n = 400000;  // 40000 s = 20000 correlation times
  const std::vector<double> x = Run(p, n, dt);
  // The effective number of independent samples is n * dt / (2 tau) = 10^4.
  const double independent = n * dt / (2 * p.gauss_markov_tau_s);
  CHECK(std::fabs(Mean(x)) < 5 * 0.3 / std::sqrt(independent));
  CHECK(Variance(x) == Approx(0.09).epsilon(5 * std::sqrt(2.0 / independent)));
  // Lag-1 autocorrelation phi = exp(-dt / tau) gives tau = -dt / ln(phi).
  const double phi = Autocorrelation(x, 1);
  const double tau = -dt / std::log(phi);
  CHECK(tau == Approx(2.0).epsilon(0.05));
  // The whole autocorrelation function decays as exp(-lag dt / tau).
  CHECK(Autocorrelation(x, 20) == Approx(std::exp(-1.0)).margin(0.03));
}

TEST_CASE("Random-walk bias variance grows linearly in time", "[sensors]") {
  SensorModelParams p;
  p.random_walk_density = 0.2;  // units / sqrt(s)
  const double dt = 0.5;
  const int ticks = 200, worlds = 4000;
  double sum_sq = 0;
  for (int w = 0; w < worlds; ++w) {
    std::vector<double> ring;
    const double last = Run(p, ticks, dt, 0.0, &ring, static_cast<uint32_t>(w)).back();
    sum_sq += last * last;
  }
  const double expected = 0.04 * ticks * dt;  // q^2 t
  CHECK(sum_sq / worlds == Approx(expected).epsilon(5 * std::sqrt(2.0 / worlds)));
}

TEST_CASE("Quantization steps are exact and saturation clips", "[sensors]") {
  SensorModelParams p;
  p.resolution = 0.25;
  p.range_min = -1.0;
  p.range_max = 2.0;
  for (double truth : {0.1, 0.124, 0.126, 0.37, -0.6, 1.9, 5.0, -7.0}) {
    const double got = Run(p, 1, 1.0, truth)[0];
    const double expected = std::min(2.0, std::max(-1.0, 0.25 * std::floor(truth / 0.25 + 0.5)));
    CHECK(got == expected);
    CHECK(std::fmod(got, 0.25) == 0.0);
  }
  CHECK(Quantize(0.375, 0.25) == 0.5);  // mid-tread: half-way rounds up
}

TEST_CASE("Scale factor and first-order lag follow their analytic responses", "[sensors]") {
  SensorModelParams p;
  p.scale_factor_error = 0.02;
  CHECK(Run(p, 1, 1.0, 100.0)[0] == Approx(102.0).epsilon(1e-15));
  // Lag: step from the first value 0 to 1; y(t) = 1 - exp(-t / tau) exactly at the ticks.
  SensorModelParams lag;
  lag.lag_time_constant_s = 3.0;
  SensorModelState state;
  const SensorFaultState none;
  const CounterRng rng{1, 0, 0};
  SensorStep(lag, none, &state, nullptr, rng, 0, 0.0, 0.1, 0.0);
  for (int k = 1; k <= 100; ++k) {
    const double y = SensorStep(lag, none, &state, nullptr, rng, k, k * 0.1, 0.1, 1.0).value;
    CHECK(y == Approx(1.0 - std::exp(-k * 0.1 / 3.0)).epsilon(1e-12));
  }
}

TEST_CASE("Latency delays by exactly N ticks; linear interpolation between ticks", "[sensors]") {
  for (int n_ticks : {1, 3, 7}) {
    SensorModelParams p;
    p.latency_s = n_ticks * 0.01;
    p.latency_capacity = n_ticks + 2;
    std::vector<double> ring(p.latency_capacity);
    SensorModelState state;
    const SensorFaultState none;
    const CounterRng rng{1, 0, 0};
    for (int k = 0; k < 50; ++k) {
      const double truth = k * k + 1.0;  // distinct values
      const double y =
          SensorStep(p, none, &state, ring.data(), rng, k, (k + 1) * 0.01, 0.01, truth).value;
      const int source = std::max(0, k - n_ticks);
      CHECK(y == source * source + 1.0);
    }
  }
  // 2.5 ticks of delay on a ramp: linear gives the exact delayed ramp, hold the older sample.
  for (auto mode : {LatencyInterpolation::kLinear, LatencyInterpolation::kZeroOrderHold}) {
    SensorModelParams p;
    p.latency_s = 0.025;
    p.latency_capacity = 4;
    p.latency_interpolation = mode;
    std::vector<double> ring(4);
    SensorModelState state;
    double y = 0;
    for (int k = 0; k < 20; ++k)
      y = SensorStep(p, {}, &state, ring.data(), CounterRng{}, k, 0, 0.01, 10.0 * k).value;
    CHECK(y == Approx(mode == LatencyInterpolation::kLinear ? 190.0 - 25.0 : 190.0 - 30.0));
  }
}

TEST_CASE("Sample rate, jitter, dropouts and outliers", "[sensors]") {
  SensorModelParams p;
  p.sample_period_s = 0.1;  // every 10th tick of 10 ms
  SensorModelState state;
  int fresh = 0;
  double held = -1;
  for (int k = 0; k < 995; ++k) {  // up to t = 9.95 s: samples at 0, 0.1, ..., 9.9 s
    const double truth = k;
    const double y =
        SensorStep(p, {}, &state, nullptr, CounterRng{}, k, (k + 1) * 0.01, 0.01, truth).value;
    if (y != held) ++fresh;
    held = y;
  }
  CHECK(fresh == 100);  // 10 s at 10 Hz

  SensorModelParams jittery = p;
  jittery.jitter_sigma_s = 0.01;
  SensorModelState js;
  std::vector<double> intervals;
  double last_sample_time = 0;
  double previous = -1;
  for (int k = 0; k < 100000; ++k) {
    const double t = (k + 1) * 0.001;
    const double y = SensorStep(jittery, {}, &js, nullptr, CounterRng{5, 0, 0}, k, t, 0.001,
                                static_cast<double>(k))
                         .value;
    if (y != previous) {
      if (previous >= 0) intervals.push_back(t - last_sample_time);
      last_sample_time = t;
    }
    previous = y;
  }
  // Mean interval stays the sample period; jitter adds variance 2 sigma^2 to intervals
  // (plus the 1 ms tick's quantization variance 1/12 ms^2 per instant, twice).
  CHECK(Mean(intervals) == Approx(0.1).epsilon(0.002));
  const double expected_var = 2 * 1e-4 + 2 * 1e-6 / 12;
  CHECK(Variance(intervals) == Approx(expected_var).epsilon(0.06));

  SensorModelParams lossy;
  lossy.dropout_probability = 0.2;
  lossy.outlier_probability = 0.05;
  lossy.outlier_sigma = 100.0;
  SensorModelState ls;
  int valid = 0, outliers = 0;
  const int n = 100000;
  for (int k = 0; k < n; ++k) {
    const SensorReading r = SensorStep(lossy, {}, &ls, nullptr, CounterRng{9, 1, 2}, k, k, 1, 0.0);
    if (r.valid) {
      ++valid;
      if (r.value != 0.0) ++outliers;
    }
  }
  const double sd_valid = std::sqrt(n * 0.2 * 0.8);
  CHECK(std::fabs(valid - 0.8 * n) < 5 * sd_valid);
  CHECK(std::fabs(outliers - 0.05 * valid) < 5 * std::sqrt(valid * 0.05 * 0.95));
}

TEST_CASE("Faults: stuck, drift, dead, intermittent, noise burst", "[sensors]") {
  SensorModelParams p;
  SensorModelState s;
  SensorFaultState f;
  f.stuck = 1;
  f.stuck_value = 4.0;
  CHECK(SensorStep(p, f, &s, nullptr, CounterRng{}, 0, 1, 1, 9.0).value == 4.0);
  f = {};
  f.drift = 1;
  f.drift_rate_per_s = 0.5;
  f.drift_start_s = 10.0;
  CHECK(SensorStep(p, f, &s, nullptr, CounterRng{}, 1, 14.0, 1, 1.0).value == 3.0);
  f = {};
  f.dead = 1;
  f.dead_value = -1;
  const SensorReading dead = SensorStep(p, f, &s, nullptr, CounterRng{}, 2, 15, 1, 1.0);
  CHECK(dead.value == -1);
  CHECK(dead.valid == 0);
  f = {};
  f.burst_sigma = 2.0;
  std::vector<double> burst;
  for (int k = 0; k < 50000; ++k)
    burst.push_back(SensorStep(p, f, &s, nullptr, CounterRng{3}, k, k, 1, 0.0).value);
  CHECK(Variance(burst) == Approx(4.0).epsilon(5 * std::sqrt(2.0 / 50000)));
  f = {};
  f.intermittent_probability = 0.5;
  int valid = 0;
  for (int k = 0; k < 10000; ++k)
    valid += SensorStep(p, f, &s, nullptr, CounterRng{3}, k, k, 1, 0.0).valid;
  CHECK(std::fabs(valid - 5000) < 5 * 50);
}

}  // namespace
}  // namespace ftwin
