// Fixed-step integrators shared by every energy component, host-device (FTWIN_HD), fixed-size
// and heap-free so the same code runs per world on the CPU and in a CUDA kernel.
//   Rk4Step   classical 4th-order Runge-Kutta (explicit; non-stiff components).
//   Ros2Step  2-stage Rosenbrock method ROS2 (Verwer et al. 1999), order 2, L-stable, with a
//             finite-difference Jacobian; for stiff components (small thermal masses, fast
//             governors) where RK4 would need many sub-steps.
// A right-hand side is any callable `f(const double* x, double* dxdt)` with inputs held constant
// over the step (zero-order hold from the tick's ports).
#pragma once

#include <cmath>

#include "gpu/host_device.h"

namespace ftwin::energy {

template <int N, class F>
FTWIN_HD inline void Rk4Step(const F& f, double* x, double h) {
  double k1[N], k2[N], k3[N], k4[N], y[N];
  f(x, k1);
  for (int i = 0; i < N; ++i) y[i] = x[i] + 0.5 * h * k1[i];
  f(y, k2);
  for (int i = 0; i < N; ++i) y[i] = x[i] + 0.5 * h * k2[i];
  f(y, k3);
  for (int i = 0; i < N; ++i) y[i] = x[i] + h * k3[i];
  f(y, k4);
  for (int i = 0; i < N; ++i) x[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
}

/// Solves a x = b in place (b becomes x) by Gaussian elimination with partial pivoting.
/// Returns false for a singular matrix.
template <int N>
FTWIN_HD inline bool SolveDense(double* a, double* b) {
  for (int c = 0; c < N; ++c) {
    int pivot = c;
    for (int r = c + 1; r < N; ++r)
      if (std::fabs(a[r * N + c]) > std::fabs(a[pivot * N + c])) pivot = r;
    if (a[pivot * N + c] == 0.0) return false;
    if (pivot != c) {
      for (int k = 0; k < N; ++k) {
        const double t = a[c * N + k];
        a[c * N + k] = a[pivot * N + k];
        a[pivot * N + k] = t;
      }
      const double t = b[c];
      b[c] = b[pivot];
      b[pivot] = t;
    }
    for (int r = c + 1; r < N; ++r) {
      const double m = a[r * N + c] / a[c * N + c];
      if (m == 0.0) continue;
      for (int k = c; k < N; ++k) a[r * N + k] -= m * a[c * N + k];
      b[r] -= m * b[c];
    }
  }
  for (int r = N - 1; r >= 0; --r) {
    double s = b[r];
    for (int k = r + 1; k < N; ++k) s -= a[r * N + k] * b[k];
    b[r] = s / a[r * N + r];
  }
  return true;
}

/// One ROS2 step: W = I - γ h J, W k1 = f(x), W k2 = f(x + h k1) - 2 k1,
/// x += h (1.5 k1 + 0.5 k2), γ = 1 + 1/√2. J by forward differences (scaled increments).
template <int N, class F>
FTWIN_HD inline void Ros2Step(const F& f, double* x, double h) {
  constexpr double kGamma = 1.7071067811865475;
  double f0[N], w[N * N], k1[N], k2[N], y[N], fy[N];
  f(x, f0);
  for (int j = 0; j < N; ++j) {
    for (int i = 0; i < N; ++i) y[i] = x[i];
    const double dx = 1e-7 * (std::fabs(x[j]) + 1.0);
    y[j] += dx;
    f(y, fy);
    for (int i = 0; i < N; ++i) w[i * N + j] = -kGamma * h * (fy[i] - f0[i]) / dx;
  }
  for (int i = 0; i < N; ++i) w[i * N + i] += 1.0;
  double lu[N * N];
  for (int i = 0; i < N * N; ++i) lu[i] = w[i];
  for (int i = 0; i < N; ++i) k1[i] = f0[i];
  SolveDense<N>(lu, k1);
  for (int i = 0; i < N; ++i) y[i] = x[i] + h * k1[i];
  f(y, fy);
  for (int i = 0; i < N * N; ++i) lu[i] = w[i];
  for (int i = 0; i < N; ++i) k2[i] = fy[i] - 2.0 * k1[i];
  SolveDense<N>(lu, k2);
  for (int i = 0; i < N; ++i) x[i] += h * (1.5 * k1[i] + 0.5 * k2[i]);
}

enum class Method { kRk4, kRos2 };

/// Advances x by `h` in `substeps` equal steps of the given method.
template <int N, class F>
FTWIN_HD inline void Integrate(Method method, const F& f, double* x, double h, int substeps) {
  const double step = h / substeps;
  for (int s = 0; s < substeps; ++s) {
    if (method == Method::kRk4)
      Rk4Step<N>(f, x, step);
    else
      Ros2Step<N>(f, x, step);
  }
}

/// Sub-steps that keep an explicit RK4 step inside its stability region (|h λ| ≤ 2.5, the real
/// axis limit is 2.785) for the fastest eigenvalue magnitude `lambda_max` [1/s].
FTWIN_HD inline int Rk4Substeps(double h, double lambda_max) {
  const double n = std::ceil(h * lambda_max / 2.5);
  return n < 1.0 ? 1 : (n > 10000.0 ? 10000 : static_cast<int>(n));
}

/// Piecewise-linear interpolation in a table with increasing x (clamped at the ends).
FTWIN_HD inline double Interp(const double* xs, const double* ys, int n, double x) {
  if (x <= xs[0]) return ys[0];
  if (x >= xs[n - 1]) return ys[n - 1];
  int lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (xs[mid] <= x)
      lo = mid;
    else
      hi = mid;
  }
  const double w = (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + w * (ys[hi] - ys[lo]);
}

}  // namespace ftwin::energy
