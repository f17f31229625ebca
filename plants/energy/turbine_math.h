// Heavy-duty gas turbine after Rowen (1983, "Simplified mathematical representations of heavy-
// duty gas turbines", J. Eng. Power 105) with a heat-recovery steam generator and steam turbine
// as first-order thermal stages (combined cycle), host-device. Per unit of the GT rating, speed
// N per unit (from the bus frequency):
//   speed governor (droop)  τ_g dV_s/dt = W (N_ref - N) - V_s,   N_ref = 1 + P_ref / W
//   temperature control     V_t = K_t (T_ref - T_m) + I_t,  dI_t/dt = K_t (T_ref - T_m)/τ_t, I_t ∈
//   [0, F_max]
//                           (PI form of Rowen's (T5 s + 1)/(Tt s) limit controller)
//   low-value select        V_ce = clamp(min(V_s, V_t), F_min, F_max)
//   fuel demand             F_d = (K3 V_ce + K6) N
//   valve positioner        τ_v dV_p/dt = F_d - V_p
//   fuel system             τ_f dW_f/dt = V_p - W_f
//   combustor, exhaust      transport delays (ECR, ETD) as first-order lags W_f1, W_f2
//   turbine torque          f2 = A (W_f2 - K6) + B (1 - N)        (A = 1.3, B = 0.5)
//   exhaust temperature     f1 = T_R - 700 (1 - W_f1) + 550 (1 - N)   [°F]
//   radiation shield, thermocouple  T_s = K4 f1 + K5 x_s, τ_3 dx_s/dt = f1 - x_s;  τ_4 dT_m/dt =
//   T_s - T_m
// The exhaust heat (fuel - shaft power, less the stack loss) feeds the HRSG:
//   τ_hrsg dQ_s/dt = η_hrsg Q_exh - Q_s,   τ_st dP_st/dt = η_st Q_s - P_st.
// Time constants span 5 ms (combustor) to minutes (HRSG): stiff at a 1 s tick, so the step uses
// the L-stable ROS2 method.
#pragma once

#include <cmath>

#include "gpu/host_device.h"
#include "plants/energy/integrators.h"

namespace ftwin::energy {

struct TurbineParams {
  double rated_W = 10e6;
  double efficiency_rated = 0.33;  ///< GT electrical efficiency at rated load
  double governor_gain = 25.0;     ///< W = 1/droop
  double governor_tau_s = 0.05;    ///< Y
  double valve_tau_s = 0.05;
  double fuel_tau_s = 0.4;
  double combustor_tau_s = 0.005;  ///< ECR
  double exhaust_tau_s = 0.04;     ///< ETD
  double k3 = 0.77, k6 = 0.23;
  double fuel_max = 1.5, fuel_min = -0.1;
  double exhaust_ref_F = 950.0;  ///< T_R and the temperature limit
  double temp_gain = 0.02;       ///< K_t [pu/°F]
  double temp_tau_s = 30.0;      ///< τ_t, integral time of the PI limit controller
  double shield_tau_s = 15.0, k4 = 0.8, k5 = 0.2;
  double thermocouple_tau_s = 2.5;
  double stack_loss = 0.15;  ///< fraction of the exhaust heat lost up the stack
  double hrsg_efficiency = 0.85, hrsg_tau_s = 120.0;
  double steam_efficiency = 0.32, steam_tau_s = 20.0;
};

enum TurbineSlot {
  kGtSpeedGov,
  kGtValve,
  kGtFuel,
  kGtComb,
  kGtExh,
  kGtShield,
  kGtThermo,
  kGtTempInt,
  kGtSteamHeat,   // Q_s [pu of GT rating]
  kGtSteamPower,  // P_st [pu]
  kGtFuelJ,
  kGtShaftJ,
  kGtSteamJ,
  kGtSlots
};

FTWIN_HD inline double TurbineExhaustF(const TurbineParams& p, double wf1, double n) {
  return p.exhaust_ref_F - 700.0 * (1.0 - wf1) + 550.0 * (1.0 - n);
}
FTWIN_HD inline double TurbineShaftPu(const TurbineParams& p, double wf2, double n) {
  return 1.3 * (wf2 - p.k6) + 0.5 * (1.0 - n);
}
/// Fuel heat input at W_f = 1 [W]: shaft power at rated is 1 pu = rated_W / η_rated of fuel
/// above the no-load flow; fuel ∝ W_f.
FTWIN_HD inline double TurbineFuelRatedW(const TurbineParams& p) {
  return p.rated_W / p.efficiency_rated;
}

struct TurbineRhs {
  const TurbineParams* p;
  double p_ref_pu;  ///< load reference (0 for a tripped unit: fuel is cut below)
  double speed_pu;
  bool fuel_on;
  FTWIN_HD void operator()(const double* x, double* dx) const {
    const TurbineParams& t = *p;
    const double n = speed_pu;
    const double n_ref = 1.0 + p_ref_pu / t.governor_gain;
    dx[kGtSpeedGov] = (t.governor_gain * (n_ref - n) - x[kGtSpeedGov]) / t.governor_tau_s;
    const double err_T = t.exhaust_ref_F - x[kGtThermo];
    const double v_t = t.temp_gain * err_T + x[kGtTempInt];
    double v_ce = x[kGtSpeedGov] < v_t ? x[kGtSpeedGov] : v_t;
    v_ce = v_ce > t.fuel_max ? t.fuel_max : (v_ce < t.fuel_min ? t.fuel_min : v_ce);
    const double demand = fuel_on ? (t.k3 * v_ce + t.k6) * n : 0.0;
    // Integrator with anti-windup: held at its bounds.
    double di = t.temp_gain * err_T / t.temp_tau_s;
    if ((x[kGtTempInt] >= t.fuel_max && di > 0.0) || (x[kGtTempInt] <= 0.0 && di < 0.0)) di = 0.0;
    dx[kGtTempInt] = di;
    dx[kGtValve] = (demand - x[kGtValve]) / t.valve_tau_s;
    dx[kGtFuel] = (x[kGtValve] - x[kGtFuel]) / t.fuel_tau_s;
    dx[kGtComb] = (x[kGtFuel] - x[kGtComb]) / t.combustor_tau_s;
    dx[kGtExh] = (x[kGtComb] - x[kGtExh]) / t.exhaust_tau_s;
    const double f1 = TurbineExhaustF(t, x[kGtComb], n);
    dx[kGtShield] = (f1 - x[kGtShield]) / t.shield_tau_s;
    const double shield = t.k4 * f1 + t.k5 * x[kGtShield];
    dx[kGtThermo] = (shield - x[kGtThermo]) / t.thermocouple_tau_s;
    const double fuel_pu = x[kGtFuel] > 0.0 ? x[kGtFuel] : 0.0;
    double shaft = TurbineShaftPu(t, x[kGtExh], n);
    if (fuel_pu <= 0.0 || shaft < 0.0) shaft = shaft < 0.0 ? shaft : 0.0;
    const double fuel_W = fuel_pu * TurbineFuelRatedW(t);
    const double shaft_W = shaft * t.rated_W;
    double exhaust_W = (fuel_W - (shaft_W > 0.0 ? shaft_W : 0.0)) * (1.0 - t.stack_loss);
    if (exhaust_W < 0.0) exhaust_W = 0.0;
    dx[kGtSteamHeat] = (t.hrsg_efficiency * exhaust_W / t.rated_W - x[kGtSteamHeat]) / t.hrsg_tau_s;
    dx[kGtSteamPower] = (t.steam_efficiency * x[kGtSteamHeat] - x[kGtSteamPower]) / t.steam_tau_s;
    dx[kGtFuelJ] = fuel_W;
    dx[kGtShaftJ] = shaft_W;
    dx[kGtSteamJ] = x[kGtSteamPower] * t.rated_W;
  }
};

/// Steady state at load reference p_ref (speed 1): V_ce = p_ref below the temperature limit.
FTWIN_HD inline void TurbineSteadyState(const TurbineParams& p, double p_ref, double* x) {
  for (int i = 0; i < kGtSlots; ++i) x[i] = 0.0;
  const double wf = p.k3 * p_ref + p.k6;
  x[kGtSpeedGov] = p_ref;
  x[kGtValve] = x[kGtFuel] = x[kGtComb] = x[kGtExh] = wf;
  const double f1 = TurbineExhaustF(p, wf, 1.0);
  x[kGtShield] = f1;
  x[kGtThermo] = f1;
  x[kGtTempInt] = p.fuel_max;
  const double fuel_W = wf * TurbineFuelRatedW(p);
  const double shaft_W = TurbineShaftPu(p, wf, 1.0) * p.rated_W;
  x[kGtSteamHeat] = p.hrsg_efficiency * (fuel_W - shaft_W) * (1.0 - p.stack_loss) / p.rated_W;
  x[kGtSteamPower] = p.steam_efficiency * x[kGtSteamHeat];
}

FTWIN_HD inline void TurbineStep(const TurbineParams& p, double* x, double p_ref_pu,
                                 double speed_pu, bool fuel_on, double h, int substeps) {
  Integrate<kGtSlots>(Method::kRos2, TurbineRhs{&p, p_ref_pu, speed_pu, fuel_on}, x, h, substeps);
}

}  // namespace ftwin::energy
