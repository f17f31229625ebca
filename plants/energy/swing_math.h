// Aggregated swing equation of an islanded site with governor droop, host-device.
// Per unit on the base power S [W] (linearised around nominal speed):
//   2H dΔω/dt = (P_net + P_gov)/S - D Δω          P_net = generation - load [W]
//   T_g dP_gov/dt = -S_gov Δω / R - P_gov           (T_g = 0: P_gov = -S_gov Δω / R)
// P_gov is clamped to [-reserve_down, reserve_up]. With S_gov = S and no clamp the step response
// to a load increase ΔP settles at Δω = -ΔP R / (1 + D R) (per unit); with T_g = 0 its time
// constant is 2H / (D + 1/R). The step also integrates the energies: rotor (linearised kinetic
// energy 2 H S Δω), load damping (∫ D S Δω dt) and governor output (∫ P_gov dt), so the island's
// energy balance  ∫P_net dt + E_gov = ΔE_kin + E_damp  holds to the integrator's accuracy.
#pragma once

#include <cmath>

#include "gpu/host_device.h"
#include "plants/energy/integrators.h"

namespace ftwin::energy {

struct SwingParams {
  double base_W = 1e6;           ///< S
  double inertia_s = 5.0;        ///< H
  double damping = 1.0;          ///< D [pu power / pu frequency]
  double droop = 0.05;           ///< R [pu frequency / pu power]
  double governor_base_W = 1e6;  ///< S_gov: rating of the governed units
  double governor_tau_s = 0.5;   ///< T_g (0 = instantaneous)
  double reserve_up_W = 1e30, reserve_down_W = 1e30;
};

enum SwingSlot { kSwingDw, kSwingPgov, kSwingEkin, kSwingEdamp, kSwingEgov, kSwingSlots };

FTWIN_HD inline double SwingGovernorTarget(const SwingParams& p, double dw) {
  double target = -p.governor_base_W * dw / p.droop;
  if (target > p.reserve_up_W) target = p.reserve_up_W;
  if (target < -p.reserve_down_W) target = -p.reserve_down_W;
  return target;
}

struct SwingRhs {
  const SwingParams* p;
  double p_net_W;
  FTWIN_HD void operator()(const double* x, double* dx) const {
    const SwingParams& s = *p;
    const double gov = s.governor_tau_s > 0.0 ? x[kSwingPgov] : SwingGovernorTarget(s, x[kSwingDw]);
    const double damp_W = s.damping * s.base_W * x[kSwingDw];
    const double accel_W = p_net_W + gov - damp_W;
    dx[kSwingDw] = accel_W / (2.0 * s.inertia_s * s.base_W);
    dx[kSwingPgov] = s.governor_tau_s > 0.0
                         ? (SwingGovernorTarget(s, x[kSwingDw]) - x[kSwingPgov]) / s.governor_tau_s
                         : 0.0;
    dx[kSwingEkin] = accel_W;
    dx[kSwingEdamp] = damp_W;
    dx[kSwingEgov] = gov;
  }
};

FTWIN_HD inline double SwingLambdaMax(const SwingParams& p) {
  const double mech = (p.damping + p.governor_base_W / p.base_W / p.droop) / (2.0 * p.inertia_s);
  return p.governor_tau_s > 0.0 ? std::fmax(mech, 1.0 / p.governor_tau_s) + mech : mech;
}

/// Advances the island by h seconds with P_net held (RK4, sub-stepped for stability).
FTWIN_HD inline void SwingStep(const SwingParams& p, double* x, double p_net_W, double h,
                               int min_substeps = 1) {
  int n = Rk4Substeps(h, SwingLambdaMax(p));
  if (n < min_substeps) n = min_substeps;
  Integrate<kSwingSlots>(Method::kRk4, SwingRhs{&p, p_net_W}, x, h, n);
  if (p.governor_tau_s <= 0.0) x[kSwingPgov] = SwingGovernorTarget(p, x[kSwingDw]);
}

}  // namespace ftwin::energy
