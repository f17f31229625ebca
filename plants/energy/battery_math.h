// Equivalent-circuit lithium-ion cell with lumped thermal model and capacity fade, host-device.
//
// Cell (current I > 0 = discharge), after Plett's enhanced self-correcting model in continuous
// time:
//   dz/dt    = -η(I) I / (3600 Q_eff)          η = 1 discharging, η_c charging
//   dv_j/dt  = (I R_j(T) - v_j) / τ_j          RC pair j (v_j = R_j i_Rj)
//   dh/dt    = γ |I| / (3600 Q_eff) (s - h)    hysteresis state, s = -sign(I) (held per tick)
//   v        = OCV(z) + k_T (T - T_ref) + M h + M0 s - Σ v_j - R0(T) I
//   C_th dT/dt = q_heat - hA (T - T_amb),  q_heat = R0 I² + Σ v_j²/R_j - (M h + M0 s) I
//   dq/dt    = (k_cyc |I|/3600 + k_cal) exp(E_f (1/T_ref - 1/T))    fade (fraction of Q_nom)
//   R(T)     = R_ref exp(E_r (1/T - 1/T_ref))  (Arrhenius, E in K)
// The step integrates, besides the state, the DC energy delivered (∫ v I dt) and the heat
// (∫ q_heat dt) so the energy balance of the cell is exact to the integrator's order:
//   ∫ v I dt = Q ∫ OCV dz-part - Δ(½ Σ C_j v_j²) - ∫ q_heat dt   (see battery_test.cpp).
#pragma once

#include <cmath>

#include "gpu/host_device.h"
#include "plants/energy/integrators.h"

namespace ftwin::energy {

constexpr int kCellMaxOcvPoints = 128;
constexpr int kCellMaxRc = 3;

struct CellParams {
  int num_ocv = 0;
  double ocv_soc[kCellMaxOcvPoints] = {};
  double ocv_V[kCellMaxOcvPoints] = {};
  double ocv_temp_coeff_V_per_K = 0.0;  ///< k_T (entropic coefficient, mean)
  double capacity_Ah = 2.0;             ///< Q_nom
  double coulombic_efficiency = 1.0;    ///< η_c while charging
  double r0_ohm = 0.01;
  int num_rc = 0;
  double rc_r_ohm[kCellMaxRc] = {};
  double rc_tau_s[kCellMaxRc] = {};
  double hysteresis_V = 0.0;          ///< M
  double instant_hysteresis_V = 0.0;  ///< M0
  double hysteresis_rate = 0.0;       ///< γ
  double t_ref_K = 298.15;
  double resistance_activation_K = 0.0;  ///< E_r / R_gas
  double heat_capacity_J_per_K = 40.0;   ///< C_th of one cell
  double cooling_W_per_K = 0.05;         ///< hA of one cell
  double fade_per_Ah = 0.0;              ///< k_cyc: capacity fraction lost per Ah throughput
  double fade_per_s = 0.0;               ///< k_cal: calendar fade, fraction per second
  double fade_activation_K = 0.0;        ///< E_f / R_gas
};

/// State of one (lumped) cell; the last two entries are running integrals for the balance.
enum CellSlot {
  kCellSoc,
  kCellV1,
  kCellV2,
  kCellV3,
  kCellHyst,
  kCellTemp,
  kCellFade,
  kCellEnergyOut,  ///< ∫ v I dt [J] (DC energy delivered by the cell)
  kCellHeat,       ///< ∫ q_heat dt [J]
  kCellSlots
};

FTWIN_HD inline double CellResistanceFactor(const CellParams& p, double temp_K) {
  return std::exp(p.resistance_activation_K * (1.0 / temp_K - 1.0 / p.t_ref_K));
}

FTWIN_HD inline double CellOcv(const CellParams& p, double soc, double temp_K) {
  return Interp(p.ocv_soc, p.ocv_V, p.num_ocv, soc) +
         p.ocv_temp_coeff_V_per_K * (temp_K - p.t_ref_K);
}

/// Effective capacity [As] after fade.
FTWIN_HD inline double CellCapacityAs(const CellParams& p, double fade) {
  return 3600.0 * p.capacity_Ah * (1.0 - fade);
}

/// Terminal voltage for current `current_A` (hysteresis sign `sign` = -sign(I) or last).
FTWIN_HD inline double CellVoltage(const CellParams& p, const double* x, double current_A,
                                   double sign) {
  double v = CellOcv(p, x[kCellSoc], x[kCellTemp]) + p.hysteresis_V * x[kCellHyst] +
             p.instant_hysteresis_V * sign -
             p.r0_ohm * CellResistanceFactor(p, x[kCellTemp]) * current_A;
  for (int j = 0; j < p.num_rc; ++j) v -= x[kCellV1 + j];
  return v;
}

/// The cell ODE for constant current and ambient temperature over a step.
struct CellRhs {
  const CellParams* p;
  double current_A;
  double sign;  ///< hysteresis direction held over the step
  double ambient_K;
  FTWIN_HD void operator()(const double* x, double* dx) const {
    const CellParams& c = *p;
    const double i = current_A;
    const double rf = CellResistanceFactor(c, x[kCellTemp]);
    const double q_as = CellCapacityAs(c, x[kCellFade]);
    const double eta = i < 0.0 ? c.coulombic_efficiency : 1.0;
    dx[kCellSoc] = -eta * i / q_as;
    double heat = c.r0_ohm * rf * i * i;
    for (int j = 0; j < kCellMaxRc; ++j) {
      if (j < c.num_rc) {
        const double r = c.rc_r_ohm[j] * rf;
        dx[kCellV1 + j] = (i * r - x[kCellV1 + j]) / c.rc_tau_s[j];
        heat += x[kCellV1 + j] * x[kCellV1 + j] / r;
      } else {
        dx[kCellV1 + j] = 0.0;
      }
    }
    const double hyst_v = c.hysteresis_V * x[kCellHyst] + c.instant_hysteresis_V * sign;
    heat -= hyst_v * i;
    dx[kCellHyst] = c.hysteresis_rate * std::fabs(i) / q_as * (sign - x[kCellHyst]);
    dx[kCellTemp] =
        (heat - c.cooling_W_per_K * (x[kCellTemp] - ambient_K)) / c.heat_capacity_J_per_K;
    const double arrhenius = std::exp(c.fade_activation_K * (1.0 / c.t_ref_K - 1.0 / x[kCellTemp]));
    dx[kCellFade] = (c.fade_per_Ah * std::fabs(i) / 3600.0 + c.fade_per_s) * arrhenius;
    dx[kCellEnergyOut] = CellVoltage(c, x, i, sign) * i;
    dx[kCellHeat] = heat;
  }
};

/// Fastest eigenvalue magnitude of the cell ODE (for RK4 sub-steps): the smallest RC τ.
FTWIN_HD inline double CellLambdaMax(const CellParams& p) {
  double lambda = p.cooling_W_per_K / p.heat_capacity_J_per_K;
  for (int j = 0; j < p.num_rc; ++j) lambda = std::fmax(lambda, 1.0 / p.rc_tau_s[j]);
  return lambda;
}

/// Advances a cell by h seconds at constant current (RK4, sub-stepped for stability).
FTWIN_HD inline void CellStep(const CellParams& p, double* x, double current_A, double sign,
                              double ambient_K, double h, int min_substeps = 1) {
  const CellRhs rhs{&p, current_A, sign, ambient_K};
  int n = Rk4Substeps(h, CellLambdaMax(p));
  if (n < min_substeps) n = min_substeps;
  Integrate<kCellSlots>(Method::kRk4, rhs, x, h, n);
}

/// Limits the BMS enforces, per cell.
struct BmsLimits {
  double v_min = 2.5, v_max = 3.6;
  double i_discharge_max_A = 10.0, i_charge_max_A = 10.0;
  double soc_min = 0.05, soc_max = 0.95;
  double t_max_K = 318.15;     ///< current goes to zero at this temperature
  double t_derate_K = 313.15;  ///< linear derating from here to t_max
  double t_min_charge_K = 273.15;
};

/// Current (per cell) that a DC power demand `p_cell_W` (> 0 = discharge) needs at the present
/// state: v(I) I = P with v linear in I. Saturates at the maximum-power current.
FTWIN_HD inline double CellCurrentForPower(const CellParams& p, const double* x, double p_cell_W,
                                           double sign) {
  const double r0 = p.r0_ohm * CellResistanceFactor(p, x[kCellTemp]);
  const double e = CellVoltage(p, x, 0.0, sign);
  const double disc = e * e - 4.0 * r0 * p_cell_W;
  if (disc <= 0.0) return e / (2.0 * r0);
  return (e - std::sqrt(disc)) / (2.0 * r0);
}

/// Clamps a requested current to the BMS limits over a step of h seconds, using the step's
/// effective resistance R0 + Σ R_j (1 - e^{-h/τ_j}) for the voltage limits.
FTWIN_HD inline double BmsClampCurrent(const CellParams& p, const BmsLimits& lim, const double* x,
                                       double current_A, double h) {
  double i = current_A;
  if (i > lim.i_discharge_max_A) i = lim.i_discharge_max_A;
  if (i < -lim.i_charge_max_A) i = -lim.i_charge_max_A;
  const double temp = x[kCellTemp];
  double derate = 1.0;
  if (temp >= lim.t_max_K)
    derate = 0.0;
  else if (temp > lim.t_derate_K)
    derate = (lim.t_max_K - temp) / (lim.t_max_K - lim.t_derate_K);
  i *= derate;
  if (i < 0.0 && temp < lim.t_min_charge_K) i = 0.0;
  const double q_as = CellCapacityAs(p, x[kCellFade]);
  const double i_soc_dis = (x[kCellSoc] - lim.soc_min) * q_as / h;
  const double i_soc_chg = (lim.soc_max - x[kCellSoc]) * q_as / (p.coulombic_efficiency * h);
  if (i > i_soc_dis) i = i_soc_dis > 0.0 ? i_soc_dis : 0.0;
  if (i < -i_soc_chg) i = i_soc_chg > 0.0 ? -i_soc_chg : 0.0;
  const double rf = CellResistanceFactor(p, temp);
  double r_eff = p.r0_ohm * rf;
  for (int j = 0; j < p.num_rc; ++j)
    r_eff += p.rc_r_ohm[j] * rf * (1.0 - std::exp(-h / p.rc_tau_s[j]));
  // Open-circuit part at the end of the step if the RC voltages only relaxed: bounded by now.
  const double e_now = CellVoltage(p, x, 0.0, i >= 0.0 ? -1.0 : 1.0);
  if (i > 0.0 && e_now - r_eff * i < lim.v_min)
    i = e_now > lim.v_min ? (e_now - lim.v_min) / r_eff : 0.0;
  if (i < 0.0 && e_now - r_eff * i > lim.v_max)
    i = e_now < lim.v_max ? (e_now - lim.v_max) / r_eff : 0.0;
  return i;
}

/// Pack of `series` x `parallel` identical cells behind a converter, with the BMS. One step:
/// chooses the cell current for a DC power demand, clamps it, integrates, and if a limit would
/// still be crossed at the end of the step (the OCV slope inside the step), halves the current
/// and retries (at most 6 times, then rests). Returns the cell current used.
FTWIN_HD inline double PackStep(const CellParams& p, const BmsLimits& lim, double* x,
                                double p_cell_W, double* sign, double ambient_K, double h) {
  double i = CellCurrentForPower(p, x, p_cell_W, *sign);
  i = BmsClampCurrent(p, lim, x, i, h);
  double trial[kCellSlots];
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (attempt == 7) i = 0.0;
    const double s = i > 0.0 ? -1.0 : (i < 0.0 ? 1.0 : *sign);
    for (int k = 0; k < kCellSlots; ++k) trial[k] = x[k];
    CellStep(p, trial, i, s, ambient_K, h);
    const double v_end = CellVoltage(p, trial, i, s);
    // Heat the RC pairs can still release after the current stops (½ C v², C = τ/R): counted
    // against the temperature limit so that resting cannot push the cell over it.
    double releasable_J = 0.0;
    for (int j = 0; j < p.num_rc; ++j)
      releasable_J += 0.5 * p.rc_tau_s[j] / p.rc_r_ohm[j] * trial[kCellV1 + j] * trial[kCellV1 + j];
    const bool ok =
        i == 0.0 ||
        (trial[kCellSoc] >= lim.soc_min - 1e-12 && trial[kCellSoc] <= lim.soc_max + 1e-12 &&
         v_end >= lim.v_min && v_end <= lim.v_max &&
         trial[kCellTemp] + releasable_J / p.heat_capacity_J_per_K <= lim.t_max_K);
    if (ok) {
      for (int k = 0; k < kCellSlots; ++k) x[k] = trial[k];
      *sign = s;
      return i;
    }
    i *= 0.5;
  }
  return 0.0;
}

}  // namespace ftwin::energy
