// Chilled-water loop, host-device: a process water node heated by the process load, a pump
// circulating it through a mixed thermal-storage tank, and a chiller removing heat from the tank.
//   C_p dT_p/dt = Q_load - ṁ c_p (T_p - T_t)
//   C_t dT_t/dt = ṁ c_p (T_p - T_t) - Q_ch
// Chiller electric power Q_ch / COP, COP = COP_nom (a0 + a1 PLR + a2 PLR²) (1 - k_c (T_cond -
// T_ref)) (part-load and condenser-temperature corrections, DOE-2 style); pump power ṁ/ρ Δp / η.
#pragma once

#include <cmath>

#include "gpu/host_device.h"
#include "plants/energy/integrators.h"

namespace ftwin::energy {

struct ChillerParams {
  double capacity_W = 500e3;
  double cop_nominal = 5.0;
  double plr_coeffs[3] = {0.2, 1.4, -0.6};  ///< a0 + a1 PLR + a2 PLR² (1 at PLR = 1)
  double cond_coeff_per_K = 0.02;
  double cond_ref_K = 303.15;
  double process_capacity_J_per_K = 4.186e6;  ///< 1 m³ of water
  double tank_capacity_J_per_K = 4.186e7;     ///< 10 m³
  double flow_kg_per_s = 20.0;
  double pump_head_Pa = 2e5;
  double pump_efficiency = 0.7;
};

enum ChillerSlot { kChProcess, kChTank, kChCoolJ, kChLoadJ, kChSlots };

FTWIN_HD inline double ChillerCop(const ChillerParams& p, double cooling_W, double cond_K) {
  double plr = cooling_W / p.capacity_W;
  plr = plr < 0.05 ? 0.05 : (plr > 1.0 ? 1.0 : plr);
  const double f_plr = p.plr_coeffs[0] + p.plr_coeffs[1] * plr + p.plr_coeffs[2] * plr * plr;
  const double f_cond = 1.0 - p.cond_coeff_per_K * (cond_K - p.cond_ref_K);
  const double cop = p.cop_nominal * f_plr * f_cond;
  return cop > 0.5 ? cop : 0.5;
}

FTWIN_HD inline double PumpPower(const ChillerParams& p, double flow_kg_per_s) {
  return flow_kg_per_s / 1000.0 * p.pump_head_Pa / p.pump_efficiency;
}

struct ChillerRhs {
  const ChillerParams* p;
  double load_W, cooling_W, flow_kg_per_s;
  FTWIN_HD void operator()(const double* x, double* dx) const {
    const double transfer = flow_kg_per_s * 4186.0 * (x[kChProcess] - x[kChTank]);
    dx[kChProcess] = (load_W - transfer) / p->process_capacity_J_per_K;
    dx[kChTank] = (transfer - cooling_W) / p->tank_capacity_J_per_K;
    dx[kChCoolJ] = cooling_W;
    dx[kChLoadJ] = load_W;
  }
};

FTWIN_HD inline void ChillerStep(const ChillerParams& p, double* x, double load_W, double cooling_W,
                                 double flow, double h) {
  const double lambda =
      flow * 4186.0 * (1.0 / p.process_capacity_J_per_K + 1.0 / p.tank_capacity_J_per_K);
  Integrate<kChSlots>(Method::kRk4, ChillerRhs{&p, load_W, cooling_W, flow}, x, h,
                      Rk4Substeps(h, lambda));
}

}  // namespace ftwin::energy
