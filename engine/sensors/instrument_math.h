// Models of dedicated instruments (energy meter register, particle counter, tool-state signal,
// light curtain, vibration channel), host-device like noise_math.h. C++17, no heap, no
// exceptions; every random draw is CounterRng(seed, world, sensor stream, counter).
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/rng.h"
#include "gpu/host_device.h"

namespace ftwin {

/// A Poisson(lambda) variate from counter `counter` of `rng`. lambda < 10: inversion of the
/// CDF from one uniform; otherwise Hormann's PTRS transformed rejection ("The transformed
/// rejection method for generating Poisson random variables", 1993), whose k-th attempt uses
/// the block at counter * 64 + k (mean attempts about 1.1; 64 is never reached in practice).
FTWIN_HD inline int64_t PoissonSample(double lambda, CounterRng rng, uint64_t counter) {
  if (!(lambda > 0.0)) return 0;
  if (lambda < 10.0) {
    const double u = rng.Uniform(counter);
    double p = exp(-lambda), cdf = p;
    int64_t k = 0;
    while (u > cdf && k < 1000) {
      ++k;
      p *= lambda / static_cast<double>(k);
      cdf += p;
    }
    return k;
  }
  const double slam = sqrt(lambda), loglam = log(lambda);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2.0);
  for (uint64_t attempt = 0; attempt < 64; ++attempt) {
    const uint64_t c = counter * 64 + attempt;
    const double u = rng.Uniform(c, 0) - 0.5;
    const double v = rng.Uniform(c, 1);
    const double us = 0.5 - fabs(u);
    const double k = floor((2.0 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<int64_t>(k);
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    if (log(v) + log(inv_alpha) - log(a / (us * us) + b) <= -lambda + k * loglam - lgamma(k + 1.0))
      return static_cast<int64_t>(k);
  }
  return static_cast<int64_t>(floor(lambda + 0.5));  // unreachable in practice
}

/// What an electricity meter's register shows for an accumulated energy: truncated (not
/// rounded) to the register resolution, as a mechanical or electronic counter does, and wrapped
/// at the rollover value (a 6-digit kWh register rolls over at 999999 -> 0, i.e. rollover
/// 1e6 kWh).
FTWIN_HD inline double EnergyRegister(double energy_kWh, double resolution_kWh,
                                      double rollover_kWh) {
  double shown = energy_kWh;
  if (rollover_kWh > 0.0) shown -= rollover_kWh * floor(shown / rollover_kWh);
  if (resolution_kWh > 0.0) {
    // Counts, so the truncation is exact in integers (1e-9 guards 0.3/0.1 = 2.9999999999).
    const double counts = floor(shown / resolution_kWh + 1e-9);
    shown = counts * resolution_kWh;
    if (rollover_kWh > 0.0 && shown >= rollover_kWh) shown = 0.0;
  }
  return shown;
}

/// One tick of a vibration channel: acceleration [m/s^2] of a rotating machine at shaft angle
/// `angle` (rad): rotating harmonics amplitude_1x sin(angle + phase_1x) + amplitude_2x
/// sin(2 angle + phase_2x), plus band-limited noise (white noise through a first-order low-pass
/// of bandwidth `noise_bandwidth_Hz`, exact discretisation, stationary std `noise_sigma`).
struct VibrationParams {
  double amplitude_1x = 0.0;  ///< [m/s^2]
  double phase_1x = 0.0;      ///< [rad]
  double amplitude_2x = 0.0;
  double phase_2x = 0.0;
  double noise_sigma = 0.0;  ///< stationary std of the band-limited noise [m/s^2]
  double noise_bandwidth_Hz = 0.0;
};

FTWIN_HD inline double VibrationHarmonics(const VibrationParams& p, double angle) {
  return p.amplitude_1x * sin(angle + p.phase_1x) + p.amplitude_2x * sin(2.0 * angle + p.phase_2x);
}

/// Advances the band-limited noise state `noise` by dt (an Ornstein-Uhlenbeck process with
/// correlation time 1/(2 pi bandwidth)).
FTWIN_HD inline double BandLimitedNoiseStep(double noise, double sigma, double bandwidth_Hz,
                                            double dt_s, double standard_normal) {
  const double phi = exp(-2.0 * 3.14159265358979323846 * bandwidth_Hz * dt_s);
  return phi * noise + sigma * sqrt(1.0 - phi * phi) * standard_normal;
}

}  // namespace ftwin
