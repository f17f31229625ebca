// PEM electrolyzer stack with hydrogen compression and storage, host-device.
// Cell voltage (current density j [A/m²], stack temperature T [K]):
//   V = E_rev + V_act + V_ohm + V_con
//   E_rev = 1.229 - 0.9e-3 (T - 298.15) + R T/(2F) ln(p_H2 √p_O2)        (pressures in bar)
//   V_act = R T/(2 α F) asinh(j / (2 j0))
//   V_ohm = j r_area                                                      [Ω m²]
//   V_con = -R T/(2F) ln(1 - j / j_lim)
// Faraday: ṅ_H2 = η_F N_cells I / (2F). Stack heat: C dT/dt = N I (V - V_tn) - hA (T - T_amb)
// - Q_cool, with the cooling removing heat above the operating temperature (proportional band).
// Compressor (isentropic from the stack outlet pressure to the tank pressure, efficiency η_c):
//   P_comp = ṅ κ/(κ-1) R T_in ((p_tank/p_out)^((κ-1)/κ) - 1) / η_c
// Tank: ideal gas p = n R T_tank / V; a constant demand draws hydrogen off.
#pragma once

#include <cmath>

#include "gpu/host_device.h"
#include "plants/energy/integrators.h"

namespace ftwin::energy {

constexpr double kFaraday = 96485.33212;            // C/mol
constexpr double kGasConstant = 8.314462618;        // J/(mol K)
constexpr double kH2MolarMass = 2.01588e-3;         // kg/mol
constexpr double kH2HigherHeatingValue = 141.88e6;  // J/kg (reference for kWh/kg)

struct ElectrolyzerParams {
  int cells = 100;
  double area_m2 = 0.03;
  double exchange_current_A_per_m2 = 1e-3 * 1e4 * 1e-3;  // j0
  double transfer_coefficient = 0.5;                     // α
  double area_resistance_ohm_m2 = 1.5e-5;                // r_area
  double limiting_current_A_per_m2 = 2.5e4;              // j_lim
  double faraday_efficiency = 0.99;
  double p_h2_bar = 30.0, p_o2_bar = 1.0;  // stack outlet pressures
  double heat_capacity_J_per_K = 2e5;
  double cooling_W_per_K = 50.0;  // passive hA
  double operating_temp_K = 333.15;
  double cooler_gain_W_per_K = 2e4;  // active cooling above operating temperature
  double compressor_efficiency = 0.7;
  double compressor_inlet_K = 303.15;
  double tank_volume_m3 = 10.0;
  double tank_temp_K = 293.15;
  double tank_max_bar = 350.0;
  double demand_mol_per_s = 0.0;
};

FTWIN_HD inline double ElectrolyzerCellVoltage(const ElectrolyzerParams& p, double j, double t_K) {
  const double rt2f = kGasConstant * t_K / (2.0 * kFaraday);
  const double e_rev =
      1.229 - 0.9e-3 * (t_K - 298.15) + rt2f * std::log(p.p_h2_bar * std::sqrt(p.p_o2_bar));
  const double act =
      rt2f / p.transfer_coefficient * std::asinh(j / (2.0 * p.exchange_current_A_per_m2));
  const double ohm = j * p.area_resistance_ohm_m2;
  const double x = j / p.limiting_current_A_per_m2;
  const double con = -rt2f * std::log(1.0 - (x < 0.999999 ? x : 0.999999));
  return e_rev + act + ohm + con;
}

/// Stack current [A] that draws `power_W` (stack DC power) at temperature t_K: bisection on the
/// monotone P(I) = N V(I/A) I, 80 halvings (deterministic, fixed cost). Clamped at 0.98 j_lim.
FTWIN_HD inline double ElectrolyzerCurrentForPower(const ElectrolyzerParams& p, double power_W,
                                                   double t_K) {
  if (power_W <= 0.0) return 0.0;
  double lo = 0.0, hi = 0.98 * p.limiting_current_A_per_m2 * p.area_m2;
  if (p.cells * ElectrolyzerCellVoltage(p, hi / p.area_m2, t_K) * hi <= power_W) return hi;
  for (int k = 0; k < 80; ++k) {
    const double mid = 0.5 * (lo + hi);
    if (p.cells * ElectrolyzerCellVoltage(p, mid / p.area_m2, t_K) * mid < power_W)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

FTWIN_HD inline double ElectrolyzerH2Rate(const ElectrolyzerParams& p, double current_A) {
  return p.faraday_efficiency * p.cells * current_A / (2.0 * kFaraday);
}

FTWIN_HD inline double TankPressureBar(const ElectrolyzerParams& p, double moles) {
  return moles * kGasConstant * p.tank_temp_K / p.tank_volume_m3 * 1e-5;
}

FTWIN_HD inline double CompressorPower(const ElectrolyzerParams& p, double mol_per_s,
                                       double tank_bar) {
  constexpr double kKappa = 1.41;
  const double ratio = tank_bar > p.p_h2_bar ? tank_bar / p.p_h2_bar : 1.0;
  return mol_per_s * kKappa / (kKappa - 1.0) * kGasConstant * p.compressor_inlet_K *
         (std::pow(ratio, (kKappa - 1.0) / kKappa) - 1.0) / p.compressor_efficiency;
}

enum ElectrolyzerSlot {
  kElyTemp,
  kElyTankMol,
  kElyProducedMol,
  kElyStackJ,
  kElyCompressorJ,
  kElyHeatJ,  ///< heat generated in the stack
  kElySlots
};

struct ElectrolyzerRhs {
  const ElectrolyzerParams* p;
  double current_A;
  double ambient_K;
  FTWIN_HD void operator()(const double* x, double* dx) const {
    const ElectrolyzerParams& e = *p;
    const double v =
        current_A > 0.0 ? ElectrolyzerCellVoltage(e, current_A / e.area_m2, x[kElyTemp]) : 0.0;
    const double stack_W = e.cells * v * current_A;
    const double rate = ElectrolyzerH2Rate(e, current_A);
    const double heat = e.cells * current_A * (v - 1.481) * (current_A > 0.0 ? 1.0 : 0.0);
    const double over = x[kElyTemp] - e.operating_temp_K;
    const double cool = (over > 0.0 ? e.cooler_gain_W_per_K * over : 0.0) +
                        e.cooling_W_per_K * (x[kElyTemp] - ambient_K);
    dx[kElyTemp] = (heat - cool) / e.heat_capacity_J_per_K;
    dx[kElyTankMol] = rate - (x[kElyTankMol] > 0.0 ? e.demand_mol_per_s : 0.0);
    dx[kElyProducedMol] = rate;
    dx[kElyStackJ] = stack_W;
    dx[kElyCompressorJ] = CompressorPower(e, rate, TankPressureBar(e, x[kElyTankMol]));
    dx[kElyHeatJ] = heat;
  }
};

FTWIN_HD inline void ElectrolyzerStep(const ElectrolyzerParams& p, double* x, double current_A,
                                      double ambient_K, double h) {
  const double lambda = (p.cooler_gain_W_per_K + p.cooling_W_per_K) / p.heat_capacity_J_per_K;
  Integrate<kElySlots>(Method::kRk4, ElectrolyzerRhs{&p, current_A, ambient_K}, x, h,
                       Rk4Substeps(h, lambda));
}

}  // namespace ftwin::energy
