// Dedicated instruments against independent truth: energy integrals of analytic power curves,
// Poisson statistics (mean, index of dispersion, chi-square), exact latencies and stop-signal
// timing, DFT peaks of the vibration harmonics, cross-talk algebra and Allan deviations of the
// IMU noise terms.
#include "engine/sensors/instrument_blocks.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <complex>
#include <map>
#include <string>
#include <vector>

#include "engine/scenario.h"
#include "engine/simulator.h"

namespace ftwin {
namespace {

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  return registry;
}

std::string Scenario(const std::string& run, const std::string& blocks,
                     const std::string& connections) {
  return "ftwin: 1\nname: instruments\nrun: {" + run + "}\nblocks:\n" + blocks + "connections:\n" +
         connections;
}

std::string Errors(const std::string& text) {
  try {
    LoadScenarioText(text, "site.yaml", Registry());
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

struct Sim {
  explicit Sim(const std::string& text)
      : loaded(LoadScenarioText(text, "site.yaml", Registry())), simulator(loaded.model) {}
  template <class T = double>
  T Get(const std::string& field, int world = 0, int element = 0) {
    const FieldId id = simulator.state().schema().Find(field);
    REQUIRE(id != kInvalidField);
    return simulator.state().World<T>(id, world)[element];
  }
  LoadedScenario loaded;
  Simulator simulator;
};

// Chi-square statistic of observed counts against Poisson(lambda), pooling bins with an
// expectation below 5 into the tails; returns {statistic, degrees of freedom}.
std::pair<double, int> PoissonChiSquare(const std::map<int64_t, int64_t>& histogram, double lambda,
                                        int64_t n) {
  std::vector<double> expected, observed;
  double pmf = std::exp(-lambda), cdf = 0.0, pending_e = 0.0, pending_o = 0.0;
  const int64_t k_max = static_cast<int64_t>(lambda + 12.0 * std::sqrt(lambda) + 20.0);
  for (int64_t k = 0; k <= k_max; ++k) {
    if (k > 0) pmf = std::exp(k * std::log(lambda) - lambda - std::lgamma(k + 1.0));
    cdf += pmf;
    pending_e += pmf * static_cast<double>(n);
    auto it = histogram.find(k);
    pending_o += it == histogram.end() ? 0.0 : static_cast<double>(it->second);
    if (pending_e >= 5.0 && (1.0 - cdf) * static_cast<double>(n) >= 5.0) {
      expected.push_back(pending_e);
      observed.push_back(pending_o);
      pending_e = pending_o = 0.0;
    }
  }
  // The upper tail (everything not yet binned) joins the last bin.
  double tail_o = pending_o;
  for (const auto& [k, count] : histogram)
    if (k > k_max) tail_o += static_cast<double>(count);
  expected.back() += pending_e + (1.0 - cdf) * static_cast<double>(n);
  observed.back() += tail_o;
  double chi2 = 0.0;
  for (size_t i = 0; i < expected.size(); ++i)
    chi2 += (observed[i] - expected[i]) * (observed[i] - expected[i]) / expected[i];
  return {chi2, static_cast<int>(expected.size()) - 1};
}

// Upper 0.1 % point of chi-square with `df` degrees of freedom (Wilson-Hilferty).
double ChiSquare999(int df) {
  const double z = 3.090232306;
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

TEST_CASE("PoissonSample: mean, index of dispersion and chi-square for both branches",
          "[sensors]") {
  for (double lambda : {0.3, 3.5, 9.9, 10.0, 40.0, 1000.0}) {
    CAPTURE(lambda);
    const int64_t n = 100000;
    const CounterRng rng{17, 3, 5};
    std::map<int64_t, int64_t> histogram;
    double sum = 0.0, sum_sq = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = PoissonSample(lambda, rng, static_cast<uint64_t>(i));
      REQUIRE(k >= 0);
      ++histogram[k];
      sum += static_cast<double>(k);
      sum_sq += static_cast<double>(k) * static_cast<double>(k);
    }
    const double mean = sum / n, variance = sum_sq / n - mean * mean;
    CHECK(std::abs(mean - lambda) < 4.0 * std::sqrt(lambda / n));
    // Index of dispersion: var/mean = 1 for Poisson; its std is about sqrt(2/n).
    CHECK(std::abs(variance / mean - 1.0) < 4.0 * std::sqrt(2.0 / n) + 1e-3);
    const auto [chi2, df] = PoissonChiSquare(histogram, lambda, n);
    CAPTURE(chi2, df);
    CHECK(chi2 < ChiSquare999(df));
  }
}

TEST_CASE("Energy meter integrates power exactly; register truncates and rolls over", "[sensors]") {
  const std::string run = "dt: 1s, duration: 1h, seed: 3, worlds: 2";
  // 1 kW for half an hour, then 3 kW (the source holds each value over its tick): 0.5 kWh after
  // 30 min, 2 kWh after an hour. (Not a sine: a signal_source's `period` key is also the
  // engine's block period, see the report.)
  const std::string blocks =
      "  - {name: load, type: signal_source, unit: W, shape: schedule, interpolation: hold, "
      "points: [[0s, 1000], [30min, 3000]]}\n"
      "  - {name: meter, type: energy_meter, resolution_kWh: 0.01}\n"
      "  - {name: near_rollover, type: energy_meter, initial_reading_kWh: 999.5, rollover_kWh: "
      "1000, resolution_kWh: 0.25}\n"
      "  - {name: class2, type: energy_meter, scale_factor_error: 0.02, resolution_kWh: 0.001}\n"
      "  - {name: feed_in, type: signal_source, unit: W, value: -7200}\n"
      "  - {name: export_meter, type: energy_meter, mode: export}\n"
      "  - {name: import_meter, type: energy_meter, mode: import}\n"
      "  - {name: net_meter, type: energy_meter, mode: net, initial_reading_kWh: 1}\n";
  const std::string connections =
      "  - [load.value, meter.power_W]\n  - [load.value, near_rollover.power_W]\n"
      "  - [load.value, class2.power_W]\n  - [feed_in.value, export_meter.power_W]\n"
      "  - [feed_in.value, import_meter.power_W]\n  - [feed_in.value, net_meter.power_W]\n";
  Sim sim(Scenario(run, blocks, connections));
  sim.simulator.Step(1800);  // half an hour: 0.5 kWh
  CHECK(sim.Get("meter.true_energy_kWh") == Approx(0.5).margin(1e-9));
  CHECK(sim.Get("near_rollover.energy_kWh") == 0.0);  // 999.5 + 0.5 = 1000 -> 0
  sim.simulator.Step(1800);
  CHECK(sim.Get("meter.true_energy_kWh") == Approx(2.0).margin(1e-9));
  CHECK(sim.Get("meter.energy_kWh") == Approx(2.0).margin(1e-12));
  CHECK(sim.Get("near_rollover.energy_kWh") == Approx(1.5).margin(1e-12));
  CHECK(sim.Get("class2.energy_kWh") == Approx(2.04).margin(1e-12));
  CHECK(sim.Get("export_meter.energy_kWh") == Approx(7.2).margin(1e-12));
  CHECK(sim.Get("import_meter.energy_kWh") == 0.0);
  // A net meter runs backwards: 1 - 7.2 wraps to 1e6 - 6.2.
  CHECK(sim.Get("net_meter.energy_kWh") == Approx(1.0e6 - 6.2).margin(1e-6));
  for (const KpiEntry& kpi : sim.simulator.ComputeKpis())
    if (kpi.block == "meter" && kpi.desc.name == "true_energy_kWh")
      CHECK(kpi.per_world[0] == Approx(2.0).margin(1e-9));
  // Truncation: 0.3 kWh on a 0.25 kWh register shows 0.25, 0.5 shows 0.5.
  CHECK(EnergyRegister(0.3, 0.25, 1000.0) == 0.25);
  CHECK(EnergyRegister(0.5, 0.25, 1000.0) == 0.5);
  CHECK(EnergyRegister(0.3, 0.1, 1000.0) == Approx(0.3).margin(1e-15));
  CHECK(EnergyRegister(1234.56, 0.01, 1000.0) == Approx(234.56).margin(1e-9));
}

TEST_CASE("Particle counter counts are Poisson in the sampled volume", "[sensors]") {
  // lambda = c * flow * t * efficiency = 4.2 counts per 1 s sample.
  const double flow = 4.719474e-4, efficiency = 0.5, lambda = 4.2;
  const double c = lambda / (flow * 1.0 * efficiency);
  const int worlds = 32, samples = 1000;
  const std::string run = "dt: 100ms, duration: 200s, seed: 11, worlds: " + std::to_string(worlds);
  const std::string blocks =
      "  - {name: cleanroom, type: signal_source, unit: 1/m^3, value: " + std::to_string(c) +
      "}\n  - {name: opc, type: particle_counter, sample_time: 1s, counting_efficiency: 0.5}\n";
  Sim sim(Scenario(run, blocks, "  - [cleanroom.value, opc.concentration_per_m3]\n"));
  REQUIRE(sim.Get("cleanroom.value") == Approx(c).epsilon(1e-6));  // printed with 6 decimals
  const double c_set = sim.Get("cleanroom.value");
  std::map<int64_t, int64_t> histogram;
  double sum = 0.0, sum_sq = 0.0, measured = 0.0;
  int64_t n = 0;
  for (int s = 0; s < samples; ++s) {
    sim.simulator.Step(10);
    for (int w = 0; w < worlds; ++w) {
      REQUIRE(sim.Get<uint8_t>("opc.valid", w) == 1);
      CHECK(sim.Get("opc.expected_counts", w) ==
            Approx(c_set * flow * efficiency * 1.0).epsilon(1e-12));
      const double k = sim.Get("opc.counts", w);
      ++histogram[static_cast<int64_t>(k)];
      sum += k;
      sum_sq += k * k;
      measured += sim.Get("opc.measured_per_m3", w);
      ++n;
    }
  }
  const double mean = sum / n, variance = sum_sq / n - mean * mean;
  CHECK(std::abs(mean - lambda) < 4.0 * std::sqrt(lambda / n));
  CHECK(std::abs(variance / mean - 1.0) < 4.0 * std::sqrt(2.0 / n));
  CHECK(measured / n == Approx(c_set).epsilon(4.0 / std::sqrt(lambda * n)));
  const auto [chi2, df] = PoissonChiSquare(histogram, lambda, n);
  CAPTURE(chi2, df);
  CHECK(chi2 < ChiSquare999(df));
  // Worlds draw independently.
  bool differ = false;
  for (int w = 1; w < worlds; ++w) differ |= sim.Get("opc.counts", w) != sim.Get("opc.counts", 0);
  CHECK(differ);
}

TEST_CASE("State signal: reported state is the true state exactly `latency` ticks late",
          "[sensors]") {
  // E10 states cycling productive(0) -> standby(1) -> unscheduled down(4) -> engineering(2).
  const std::string blocks =
      "  - name: tool\n    type: signal_source\n    shape: schedule\n    interpolation: hold\n"
      "    repeat: 1s\n    points: [[0s, 0], [170ms, 1], [400ms, 4], [730ms, 2]]\n"
      "  - {name: e10, type: state_signal, truth_dtype: f64, latency: 50ms}\n";
  Sim sim(Scenario("dt: 10ms, duration: 20s, seed: 1, worlds: 2", blocks,
                   "  - [tool.value, e10.state]\n"));
  std::vector<int> truth;
  for (int k = 0; k < 500; ++k) {
    sim.simulator.Step(1);
    truth.push_back(sim.Get<uint8_t>("e10.true_state"));
    CHECK(truth.back() == static_cast<int>(sim.Get("tool.value")));
    const int expected = truth[static_cast<size_t>(std::max(0, k - 5))];
    REQUIRE(static_cast<int>(sim.Get<uint8_t>("e10.state")) == expected);
  }
}

TEST_CASE("State signal: lost events follow the binomial law and leave the old state",
          "[sensors]") {
  const int worlds = 16, ticks = 4000;
  const std::string blocks =
      "  - name: tool\n    type: signal_source\n    shape: schedule\n    interpolation: hold\n"
      "    repeat: 20ms\n    points: [[0s, 0], [10ms, 1]]\n"
      "  - {name: e10, type: state_signal, truth_dtype: f64, lost_event_probability: 0.2}\n";
  Sim sim(Scenario("dt: 10ms, duration: 100s, seed: 5, worlds: " + std::to_string(worlds), blocks,
                   "  - [tool.value, e10.state]\n"));
  int64_t stale_ticks = 0, truth_changes = 0;
  std::vector<int> previous(worlds, -1);
  for (int k = 0; k < ticks; ++k) {
    sim.simulator.Step(1);
    for (int w = 0; w < worlds; ++w) {
      const int truth = sim.Get<uint8_t>("e10.true_state", w);
      const int reported = sim.Get<uint8_t>("e10.state", w);
      if (previous[w] >= 0 && truth != previous[w]) ++truth_changes;
      previous[w] = truth;
      if (reported != truth) {
        ++stale_ticks;
        CHECK(reported == 1 - truth);  // the state before the lost change
      }
    }
  }
  double events = 0, lost = 0;
  for (int w = 0; w < worlds; ++w) {
    events += sim.Get("e10.stats", w, 2);
    lost += sim.Get("e10.stats", w, 3);
  }
  const double n = events + lost;
  CHECK(n == static_cast<double>(truth_changes));  // every change is one event
  REQUIRE(n > 10000);
  const double p = lost / n;
  CHECK(std::abs(p - 0.2) < 4.0 * std::sqrt(0.2 * 0.8 / n));
  // A lost event leaves the reading wrong for at least one tick.
  CHECK(static_cast<double>(stale_ticks) >= lost);
}

TEST_CASE("Light curtain: OSSD off exactly one response time after the intrusion; restart",
          "[sensors]") {
  // A person at 2 m steps into the 0.5 m protective field at 100 ms for 5 ms (shorter than the
  // response time: the trip still latches), then again at 600 ms for 50 ms.
  const std::string blocks =
      "  - name: person\n    type: signal_source\n    unit: m\n    shape: schedule\n"
      "    interpolation: hold\n    points: [[0s, 2.0], [100ms, 0.3], [105ms, 0.8], [110ms, "
      "2.0], [600ms, 0.2], [650ms, 2.0]]\n"
      "  - {name: curtain, type: light_curtain, protective_field_m: 0.5, warning_field_m: 1.0, "
      "response_time: 20ms, restart_delay: 200ms}\n";
  Sim sim(Scenario("dt: 1ms, duration: 2s, seed: 1, worlds: 1", blocks,
                   "  - [person.value, curtain.distance_m]\n"));
  std::vector<int> intrusion, ossd, warning;
  for (int k = 0; k < 1500; ++k) {
    sim.simulator.Step(1);
    intrusion.push_back(sim.Get<uint8_t>("curtain.intrusion"));
    ossd.push_back(sim.Get<uint8_t>("curtain.ossd"));
    warning.push_back(sim.Get<uint8_t>("curtain.warning"));
    CHECK(warning.back() == (sim.Get("person.value") <= 1.0 ? 1 : 0));
  }
  auto first = [&](const std::vector<int>& v, int value, int from) {
    for (int k = from; k < static_cast<int>(v.size()); ++k)
      if (v[k] == value) return k;
    return -1;
  };
  const int in1 = first(intrusion, 1, 0), out1 = first(intrusion, 0, in1);
  REQUIRE(in1 == 100);
  REQUIRE(out1 == 105);
  // Response time 20 ms = 20 ticks after the detection tick.
  CHECK(first(ossd, 0, 0) == in1 + 20);
  // Restart once clear for 200 ms counted from the last tick with an intrusion.
  CHECK(first(ossd, 1, in1 + 20) == (out1 - 1) + 200);
  const int in2 = first(intrusion, 1, out1), out2 = first(intrusion, 0, in2);
  REQUIRE(in2 == 600);
  CHECK(first(ossd, 0, in2) == in2 + 20);
  CHECK(first(ossd, 1, in2 + 20) == (out2 - 1) + 200);
  for (const KpiEntry& kpi : sim.simulator.ComputeKpis())
    if (kpi.block == "curtain" && kpi.desc.name == "trips") CHECK(kpi.per_world[0] == 2.0);
}

TEST_CASE("Vibration channel: DFT peaks at 1x and 2x with the set amplitudes", "[sensors]") {
  // 50 Hz shaft (3000 rpm), 1 kHz sampling, 1000 samples: 1x in bin 50, 2x in bin 100.
  const double omega = 2.0 * M_PI * 50.0;
  const std::string blocks =
      "  - {name: shaft, type: signal_source, unit: rad/s, value: " + std::to_string(omega) +
      "}\n  - {name: bearing, type: vibration_sensor, amplitude_1x: 2.0, phase_1x: 0.3, "
      "amplitude_2x: 0.7, phase_2x: 1.1, noise_sigma: 0.05, noise_bandwidth_Hz: 200}\n";
  Sim sim(Scenario("dt: 1ms, duration: 2s, seed: 9, worlds: 1", blocks,
                   "  - [shaft.value, bearing.speed_rad_per_s]\n"));
  const double w = sim.Get("shaft.value");  // the double the block integrates
  const int n = 1000;
  std::vector<double> a(n);
  double noise_sq = 0.0;
  for (int k = 0; k < n; ++k) {
    sim.simulator.Step(1);
    a[k] = sim.Get("bearing.acceleration_m_per_s2");
    const double angle = w * 1e-3 * (k + 1);
    const double h = 2.0 * std::sin(angle + 0.3) + 0.7 * std::sin(2.0 * angle + 1.1);
    CHECK(sim.Get("bearing.harmonics_m_per_s2") == Approx(h).margin(1e-9));
    noise_sq += (a[k] - h) * (a[k] - h);
  }
  CHECK(std::sqrt(noise_sq / n) == Approx(0.05).epsilon(0.25));
  std::vector<double> magnitude(n / 2);
  for (int bin = 1; bin < n / 2; ++bin) {
    std::complex<double> x = 0.0;
    for (int k = 0; k < n; ++k) x += a[k] * std::polar(1.0, -2.0 * M_PI * bin * k / n);
    magnitude[bin] = 2.0 * std::abs(x) / n;  // amplitude of a sinusoid in this bin
  }
  int top = 1, second = 1;
  for (int bin = 1; bin < n / 2; ++bin)
    if (magnitude[bin] > magnitude[top]) top = bin;
  for (int bin = 1; bin < n / 2; ++bin)
    if (bin != top && magnitude[bin] > magnitude[second]) second = bin;
  CHECK(top == 50);
  CHECK(second == 100);
  CHECK(magnitude[50] == Approx(2.0).margin(0.02));
  CHECK(magnitude[100] == Approx(0.7).margin(0.02));
}

TEST_CASE("Vector sensor: cross-talk matrix applied exactly; axes independent", "[sensors]") {
  const std::string blocks =
      "  - {name: fx, type: signal_source, unit: N, value: 100}\n"
      "  - {name: fz, type: signal_source, unit: N, value: -40}\n"
      "  - {name: tz, type: signal_source, unit: N*m, value: 2}\n"
      "  - name: ft\n    type: vector_sensor\n    axes:\n      - {name: fx, unit: N}\n"
      "      - {name: fz, unit: N}\n      - {name: tz, unit: N*m}\n"
      "    cross_talk: [0, 0.01, 0.5, 0.02, 0, 0, 0, 0.001, -0.01]\n";
  const std::string connections =
      "  - [fx.value, ft.fx]\n  - [fz.value, ft.fz]\n  - [tz.value, ft.tz]\n";
  Sim sim(Scenario("dt: 1ms, duration: 1s, seed: 2, worlds: 1", blocks, connections));
  sim.simulator.Step(3);
  CHECK(sim.Get("ft.fx") == Approx(100 + 0.01 * -40 + 0.5 * 2).margin(1e-12));
  CHECK(sim.Get("ft.fz") == Approx(-40 + 0.02 * 100).margin(1e-12));
  CHECK(sim.Get("ft.tz") == Approx(2 + 0.001 * -40 - 0.01 * 2).margin(1e-12));
  CHECK(sim.Get("ft.fx_truth") == 100.0);

  // Per-axis noise: each axis has its own sigma; the axes are uncorrelated.
  const std::string noisy =
      "  - {name: zero, type: signal_source, unit: N, value: 0}\n"
      "  - name: ft\n    type: vector_sensor\n    axes:\n"
      "      - {name: a, unit: N, noise_sigma: 0.1}\n      - {name: b, unit: N, noise_sigma: 2}\n";
  Sim sim2(Scenario("dt: 1ms, duration: 10s, seed: 2, worlds: 4", noisy,
                    "  - [zero.value, ft.a]\n  - [zero.value, ft.b]\n"));
  double saa = 0, sbb = 0, sab = 0;
  int n = 0;
  for (int k = 0; k < 5000; ++k) {
    sim2.simulator.Step(1);
    for (int w = 0; w < 4; ++w) {
      const double a = sim2.Get("ft.a", w), b = sim2.Get("ft.b", w);
      saa += a * a, sbb += b * b, sab += a * b, ++n;
    }
  }
  CHECK(std::sqrt(saa / n) == Approx(0.1).epsilon(4.0 / std::sqrt(2.0 * n)));
  CHECK(std::sqrt(sbb / n) == Approx(2.0).epsilon(4.0 / std::sqrt(2.0 * n)));
  CHECK(std::abs(sab / std::sqrt(saa * sbb)) < 4.0 / std::sqrt(n));
}

// Non-overlapping Allan deviation of a rate signal y sampled every dt, at tau = m dt.
double AllanDeviation(const std::vector<std::vector<double>>& runs, int m) {
  double sum = 0.0;
  int64_t terms = 0;
  for (const std::vector<double>& y : runs) {
    const size_t clusters = y.size() / m;
    double previous = 0.0;
    for (size_t c = 0; c < clusters; ++c) {
      double mean = 0.0;
      for (int i = 0; i < m; ++i) mean += y[c * m + i];
      mean /= m;
      if (c > 0) sum += 0.5 * (mean - previous) * (mean - previous), ++terms;
      previous = mean;
    }
  }
  return std::sqrt(sum / terms);
}

TEST_CASE("IMU axes: Allan deviation recovers angle random walk and rate random walk",
          "[sensors]") {
  // gyro N = 2.4e-4 rad/s/sqrt(Hz) (0.014 deg/s/sqrt(Hz)); rate random walk K = 1e-4
  // rad/s^(3/2) on a second axis alone. sigma_A(tau) = N / sqrt(tau) and K sqrt(tau / 3).
  const double N = 2.4e-4, K = 1.0e-4;
  const int worlds = 8, ticks = 40000;
  const std::string blocks =
      "  - {name: still, type: signal_source, unit: rad/s, value: 0}\n"
      "  - name: imu\n    type: vector_sensor\n    axes:\n"
      "      - {name: arw, unit: rad/s, noise_density: " +
      std::to_string(N) +
      "}\n      - {name: rrw, unit: rad/s, random_walk_density: " + std::to_string(K) + "}\n";
  Sim sim(Scenario("dt: 10ms, duration: 400s, seed: 4, worlds: " + std::to_string(worlds), blocks,
                   "  - [still.value, imu.arw]\n  - [still.value, imu.rrw]\n"));
  std::vector<std::vector<double>> arw(worlds), rrw(worlds);
  for (int k = 0; k < ticks; ++k) {
    sim.simulator.Step(1);
    for (int w = 0; w < worlds; ++w) {
      arw[w].push_back(sim.Get("imu.arw", w));
      rrw[w].push_back(sim.Get("imu.rrw", w));
    }
  }
  // White rate noise: tau = 0.1 s and 1 s.
  CHECK(AllanDeviation(arw, 10) == Approx(N / std::sqrt(0.1)).epsilon(0.05));
  CHECK(AllanDeviation(arw, 100) == Approx(N / std::sqrt(1.0)).epsilon(0.08));
  // Rate random walk: tau = 10 s (m = 1000: the discrete correction (2m^2+1)/(2m^2) is 1e-6).
  CHECK(AllanDeviation(rrw, 1000) == Approx(K * std::sqrt(10.0 / 3.0)).epsilon(0.15));
  // The IMU preset wires six axes with datasheet numbers.
  CHECK(Errors(Scenario("dt: 10ms, duration: 1s, seed: 1, worlds: 1",
                        "  - {name: a, type: signal_source, unit: m/s^2, value: 9.81}\n"
                        "  - {name: g, type: signal_source, unit: rad/s, value: 0}\n"
                        "  - {name: imu, type: vector_sensor, preset: imu_6axis_mems}\n",
                        "  - [a.value, imu.ax]\n  - [a.value, imu.ay]\n  - [a.value, imu.az]\n"
                        "  - [g.value, imu.gx]\n  - [g.value, imu.gy]\n  - [g.value, imu.gz]\n"))
            .empty());
}

TEST_CASE("Instrument readings are identical for 1, 2 and 4 threads", "[determinism]") {
  uint64_t reference = 0;
  for (int threads : {1, 2, 4, 1}) {
    const std::string blocks =
        "  - {name: p, type: signal_source, shape: ramp, unit: W, from: -2000, to: 9000, "
        "start: 1s, end: 8s}\n"
        "  - {name: c, type: signal_source, unit: 1/m^3, value: 3.0e4}\n"
        "  - {name: s, type: signal_source, unit: rad/s, value: 150}\n"
        "  - {name: f, type: signal_source, unit: N, shape: ramp, from: -50, to: 50, start: 0s, "
        "end: 5s}\n"
        "  - {name: meter, type: energy_meter}\n"
        "  - {name: opc, type: particle_counter, sample_time: 1s}\n"
        "  - {name: vib, type: vibration_sensor, amplitude_1x: 1, noise_sigma: 0.1, "
        "noise_bandwidth_Hz: 50}\n"
        "  - {name: ft, type: vector_sensor, axes: [{name: x, unit: N, noise_sigma: 0.5, "
        "dropout_probability: 0.1}, {name: y, unit: N, gauss_markov_sigma: 1, "
        "gauss_markov_tau: 2s}]}\n"
        "  - {name: e10, type: state_signal, truth_dtype: f64, lost_event_probability: 0.3}\n";
    const std::string connections =
        "  - [p.value, meter.power_W]\n  - [c.value, opc.concentration_per_m3]\n"
        "  - [s.value, vib.speed_rad_per_s]\n  - [f.value, ft.x]\n  - [f.value, ft.y]\n"
        "  - [opc.counts, e10.state]\n";
    Sim sim(
        Scenario("dt: 10ms, duration: 10s, seed: 8, worlds: 8, threads: " + std::to_string(threads),
                 blocks, connections));
    sim.simulator.Step(500);
    const uint64_t hash = sim.simulator.state().Hash();
    if (reference == 0) reference = hash;
    CHECK(hash == reference);
  }
}

TEST_CASE("Bad instrument specs are rejected with file, line, key and expectation", "[sensors]") {
  const std::string run = "dt: 10ms, duration: 1s, seed: 1, worlds: 1";
  auto one = [&](const std::string& source, const std::string& block, const std::string& conn) {
    return Errors(Scenario(run, "  - " + source + "\n  - " + block + "\n", "  - " + conn + "\n"));
  };
  const std::string power = "{name: p, type: signal_source, unit: W, value: 1}";
  std::string e = one(power,
                      "{name: m, type: energy_meter, initial_reading_kWh: 5, "
                      "rollover_kWh: 5}",
                      "[p.value, m.power_W]");
  CHECK(e.find("site.yaml:") != std::string::npos);
  CHECK(e.find("initial_reading_kWh") != std::string::npos);
  e = one(power, "{name: m, type: energy_meter, mode: reactive}", "[p.value, m.power_W]");
  CHECK(e.find("mode") != std::string::npos);
  const std::string conc = "{name: c, type: signal_source, unit: 1/m^3, value: 1}";
  e = one(conc, "{name: o, type: particle_counter, sample_time: 15ms}",
          "[c.value, o.concentration_per_m3]");
  CHECK(e.find("sample_time") != std::string::npos);
  CHECK(e.find("multiple") != std::string::npos);
  e = one(conc, "{name: o, type: particle_counter, flow_rate_m3_per_s: -1}",
          "[c.value, o.concentration_per_m3]");
  CHECK(e.find("flow_rate_m3_per_s") != std::string::npos);
  const std::string dist = "{name: d, type: signal_source, unit: m, value: 1}";
  e = one(dist, "{name: l, type: light_curtain, protective_field_m: 1, warning_field_m: 0.5}",
          "[d.value, l.distance_m]");
  CHECK(e.find("warning_field_m") != std::string::npos);
  e = one(dist, "{name: l, type: light_curtain, response_time: -2ms, protective_field_m: 1}",
          "[d.value, l.distance_m]");
  CHECK(e.find("response_time") != std::string::npos);
  e = one(dist, "{name: l, type: light_curtain}", "[d.value, l.distance_m]");
  CHECK(e.find("protective_field_m") != std::string::npos);
  const std::string speed = "{name: s, type: signal_source, unit: rad/s, value: 1}";
  e = one(speed, "{name: v, type: vibration_sensor, noise_sigma: 1}",
          "[s.value, v.speed_rad_per_s]");
  CHECK(e.find("noise_bandwidth_Hz") != std::string::npos);
  const std::string state = "{name: s, type: signal_source, value: 1}";
  e = one(state, "{name: t, type: state_signal, truth_dtype: string}", "[s.value, t.state]");
  CHECK(e.find("truth_dtype") != std::string::npos);
  // An f64 source into the default u8 state input: dtype mismatch named.
  e = one(state, "{name: t, type: state_signal}", "[s.value, t.state]");
  CHECK(!e.empty());
  const std::string force = "{name: f, type: signal_source, unit: N, value: 1}";
  e = one(force, "{name: v, type: vector_sensor, preset: no_such_ft}", "[f.value, v.x]");
  CHECK(e.find("wrist_force_torque") != std::string::npos);
  e = one(force, "{name: v, type: vector_sensor, axes: [{name: x, unit: N}], cross_talk: [0, 1]}",
          "[f.value, v.x]");
  CHECK(e.find("cross_talk") != std::string::npos);
  e = one(force, "{name: v, type: vector_sensor, axes: [{name: x, unit: N}, {name: x, unit: N}]}",
          "[f.value, v.x]");
  CHECK(e.find("unique") != std::string::npos);
  e = one(force, "{name: v, type: vector_sensor, axes: [{name: x, unit: N, noise_model: pink}]}",
          "[f.value, v.x]");
  CHECK(e.find("noise_model") != std::string::npos);
}

}  // namespace
}  // namespace ftwin
