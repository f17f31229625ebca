// Micro-CHP engine after IEA Annex 42 (Beausoleil-Morrison 2007), as in EnergyPlus
// "Generator:MicroCHP" and the Modelica Buildings Library (Buildings.Fluid.CHPs), host-device.
//   Q_gro = P_el / η_e(P_el, ṁ, T_in)     fuel heat input (LHV)
//   Q_gen = η_q(P_el, ṁ, T_in) Q_gro        heat generated in the engine control volume
//   C_eng dT_eng/dt = Q_gen - UA_hx (T_eng - T_w) - UA_loss (T_eng - T_room)
//   C_hr  dT_w/dt   = UA_hx (T_eng - T_w) - ṁ c_p (T_w - T_in)
// η_e and η_q are the 27-term trivariate polynomials of the Annex 42 model (term order in
// docs/energy.md). With the validation data set the heat-recovery volume is stiff against a
// 1 s step (λ ≈ (UA_hx + ṁ c_p)/C_hr ≈ 2.4 /s), so the step uses the L-stable ROS2 method.
#pragma once

#include <cmath>

#include "gpu/host_device.h"
#include "plants/energy/integrators.h"

namespace ftwin::energy {

constexpr double kWaterCp = 4186.0;  // J/(kg K)

struct ChpParams {
  double eta_e[27] = {0.27};
  double eta_q[27] = {0.66};
  double ua_hex_W_per_K = 741.0;
  double ua_loss_W_per_K = 13.7;
  double cap_engine_J_per_K = 63605.6;
  double cap_recovery_J_per_K = 1000.7;
  double p_max_W = 5500.0, p_min_W = 0.0;
  double standby_W = 100.0, cooldown_W = 200.0;
  double warmup_delay_s = 60.0, cooldown_delay_s = 60.0;
  double water_max_K = 353.15;
  double fuel_lhv_J_per_kg = 47.614e6;
  double min_water_flow_kg_per_s = 0.0;
};

/// The Annex 42 polynomial: terms 1, x1², x1, x2², x2, x3², x3, x1²x2², x1x2, x1x2², x1²x2,
/// x1²x3², x1x3, x1x3², x1²x3, x2²x3², x2x3, x2x3², x2²x3, x1²x2²x3², x1²x2²x3, x1²x2x3²,
/// x1x2²x3², x1²x2x3, x1x2²x3, x1x2x3², x1x2x3; floored at 0.01.
FTWIN_HD inline double ChpPolynomial(const double* c, double x1, double x2, double x3) {
  const double a1 = x1 * x1, a2 = x2 * x2, a3 = x3 * x3;
  const double terms[27] = {1.0,          a1,           x1,           a2,           x2,
                            a3,           x3,           a1 * a2,      x1 * x2,      x1 * a2,
                            a1 * x2,      a1 * a3,      x1 * x3,      x1 * a3,      a1 * x3,
                            a2 * a3,      x2 * x3,      x2 * a3,      a2 * x3,      a1 * a2 * a3,
                            a1 * a2 * x3, a1 * x2 * a3, x1 * a2 * a3, a1 * x2 * x3, x1 * a2 * x3,
                            x1 * x2 * a3, x1 * x2 * x3};
  double v = 0.0;
  for (int k = 0; k < 27; ++k) v += c[k] * terms[k];
  return v > 0.01 ? v : 0.01;
}

enum ChpSlot { kChpEngine, kChpWater, kChpFuelJ, kChpHeatToWaterJ, kChpLossJ, kChpSlots };

struct ChpRhs {
  const ChpParams* p;
  double q_gen_W;   ///< heat generated in the engine (held over the step)
  double q_fuel_W;  ///< fuel heat input
  double water_flow_kg_per_s;
  double water_in_K;
  double room_K;
  FTWIN_HD void operator()(const double* x, double* dx) const {
    const ChpParams& c = *p;
    const double hex = c.ua_hex_W_per_K * (x[kChpEngine] - x[kChpWater]);
    const double loss = c.ua_loss_W_per_K * (x[kChpEngine] - room_K);
    const double to_water = water_flow_kg_per_s * kWaterCp * (x[kChpWater] - water_in_K);
    dx[kChpEngine] = (q_gen_W - hex - loss) / c.cap_engine_J_per_K;
    dx[kChpWater] = (hex - to_water) / c.cap_recovery_J_per_K;
    dx[kChpFuelJ] = q_fuel_W;
    dx[kChpHeatToWaterJ] = to_water;
    dx[kChpLossJ] = loss;
  }
};

/// Operating modes (Annex 42): off, stand-by, warm-up, normal, cool-down.
enum class ChpMode : int { kOff = 0, kStandby = 1, kWarmUp = 2, kNormal = 3, kCoolDown = 4 };

FTWIN_HD inline void ChpThermalStep(const ChpParams& p, double* x, double q_gen_W, double q_fuel_W,
                                    double flow, double water_in_K, double room_K, double h,
                                    int substeps = 1) {
  Integrate<kChpSlots>(Method::kRos2, ChpRhs{&p, q_gen_W, q_fuel_W, flow, water_in_K, room_K}, x, h,
                       substeps);
}

}  // namespace ftwin::energy
