// Per-world steps of the energy-plant blocks (host-device): PV, wind, load profile, micro-CHP,
// chilled-water loop, gas turbine, PEM electrolyzer, energy manager and site bus. Each block's
// formulas live in one `<Block>Step::Run`; the CPU driver (the block's Update) and the device
// driver (UpdateDevice through plant_kernels.h) both call it, so the emulated device equals the
// CPU bit for bit. A step sees one world as two pointer tables: `in` (input ports, read-only)
// and `out` (the block's own fields and output ports), indexed by the step's slot enums; where
// each slot lives is recorded once per block (plant_slots.h). C++17: nvcc compiles this.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "engine/blocks/pid_math.h"
#include "gpu/host_device.h"
#include "gpu/world_array.h"
#include "plants/energy/chiller_math.h"
#include "plants/energy/chp_math.h"
#include "plants/energy/electrolyzer_math.h"
#include "plants/energy/integrators.h"
#include "plants/energy/swing_math.h"
#include "plants/energy/turbine_math.h"

namespace ftwin::energy {

/// Most input ports / own slots a plant step has (the site bus: one input per load).
constexpr int kPlantMaxIn = 32;
constexpr int kPlantMaxOut = 16;

/// The tick as a plant step sees it.
struct PlantClock {
  double time_s = 0.0;    ///< start of the step
  double period_s = 0.0;  ///< the step
};

/// A constant or a CSV time series (energy_common.h Signal) in host or device memory: linear
/// interpolation against time, held at the ends or repeated with the series' span.
struct SeriesView {
  const double* time = nullptr;
  const double* value = nullptr;
  int n = 0;  ///< 0: the constant
  int periodic = 0;
  double constant = 0.0;
  FTWIN_HD double At(double t) const {
    if (n == 0) return constant;
    if (periodic) {
      const double span = time[n - 1] - time[0];
      t = time[0] + std::fmod(std::fmod(t - time[0], span) + span, span);
    }
    return Interp(time, value, n, t);
  }
};

/// A table (wind power curve) in host or device memory.
struct TableView {
  const double* x = nullptr;
  const double* y = nullptr;
  int n = 0;
};

/// One launch's fields: per slot the base pointer and elements per world (unused slots null).
struct PlantViews {
  gpu::WorldArray<const double> in[kPlantMaxIn];
  gpu::WorldArray<double> out[kPlantMaxOut];
  int num_in = 0, num_out = 0;
};

// ------------------------------------------------------------------ pv, wind, load_profile

/// Output slots shared by the profile blocks (pv, wind_turbine, load_profile).
enum ProfileOut { kProfilePower, kProfileEnergy, kProfileTripped, kPvDc, kProfileOutSlots };

/// Power (bus convention) to the port and the energy total; a tripped inverter delivers none.
FTWIN_HD inline void ProfileEmit(const PlantClock& c, double* const* out, double power_W) {
  if (*out[kProfileTripped] > 0.5) power_W = 0.0;
  *out[kProfilePower] = power_W;
  *out[kProfileEnergy] += power_W * c.period_s;
}

struct PvParams {
  double peak_W = 0.0, gamma = 0.0, eta = 1.0, inv_max_W = 0.0;
  SeriesView irradiance, cell_temp;
};
struct PvStep {
  using Params = PvParams;
  FTWIN_HD static void Run(const PvParams& p, const PlantClock& c, const double* const*,
                           double* const* out) {
    // Mid-step sample of the series (the power is held over the step).
    const double t = c.time_s + 0.5 * c.period_s;
    const double g = std::max(0.0, p.irradiance.At(t));
    // P_dc = P_stc G/1000 (1 + γ (T_cell - 25 °C))
    const double dc =
        std::max(0.0, p.peak_W * g / 1000.0 * (1.0 + p.gamma * (p.cell_temp.At(t) - 298.15)));
    *out[kPvDc] = dc;
    ProfileEmit(c, out, -std::min(dc * p.eta, p.inv_max_W));
  }
};

struct WindParams {
  TableView curve;  ///< speed [m/s] -> power [W]; zero at and above the last speed (cut-out)
  SeriesView speed;
};
struct WindStep {
  using Params = WindParams;
  FTWIN_HD static void Run(const WindParams& p, const PlantClock& c, const double* const*,
                           double* const* out) {
    const double v = p.speed.At(c.time_s + 0.5 * c.period_s);
    const double cut_out = p.curve.x[p.curve.n - 1];
    const double power = v >= cut_out ? 0.0 : Interp(p.curve.x, p.curve.y, p.curve.n, v);
    ProfileEmit(c, out, -power);
  }
};

struct LoadParams {
  SeriesView power;
};
struct LoadStep {
  using Params = LoadParams;
  FTWIN_HD static void Run(const LoadParams& p, const PlantClock& c, const double* const*,
                           double* const* out) {
    ProfileEmit(c, out, p.power.At(c.time_s + 0.5 * c.period_s));
  }
};

// ------------------------------------------------------------------------------ micro_chp

// Four ROS2 sub-steps per 1 s tick keep the water temperature within 0.02 K of CVODE across
// demand steps (bench/energy); one step is stable but lags by up to 0.2 K.
constexpr int kChpSubsteps = 4;

struct ChpStepParams {
  ChpParams chp;
  int demand_port = 1;  ///< demand from the input port (else from `demand`)
  int cool_down_optional = 1;
  SeriesView demand, flow, water_in, room;
};
struct ChpStep {
  using Params = ChpStepParams;
  enum In { kDemand, kNumIn };
  enum Out {
    kPower,
    kElectric,
    kHeat,
    kFuel,
    kWaterOut,
    kEngine,
    kMode,
    kState,   // ChpSlot
    kTotals,  // Total
    kTripped,
    kNumOut
  };
  enum Total { kElectricJ, kHeatJ, kFuelJ, kAuxJ, kStarts, kModeTimer, kPrevMode, kNumTotals };
  FTWIN_HD static void Run(const ChpStepParams& q, const PlantClock& c, const double* const* in,
                           double* const* out) {
    const ChpParams& p = q.chp;
    const double h = c.period_s, t_mid = c.time_s + 0.5 * h;
    double* x = out[kState];
    double* tot = out[kTotals];
    const double demand = q.demand_port ? *in[kDemand] : q.demand.At(c.time_s);
    const double flow = std::max(0.0, q.flow.At(t_mid));
    const bool run = demand > 0.0 && *out[kTripped] < 0.5 && flow >= p.min_water_flow_kg_per_s &&
                     x[kChpWater] < p.water_max_K;
    auto mode = static_cast<ChpMode>(static_cast<int>(tot[kPrevMode]));
    const ChpMode before = mode;
    switch (mode) {
      case ChpMode::kOff:
      case ChpMode::kStandby:
        if (run) mode = ChpMode::kWarmUp;
        break;
      case ChpMode::kWarmUp:
        if (!run)
          mode = ChpMode::kStandby;
        else if (tot[kModeTimer] >= p.warmup_delay_s)
          mode = ChpMode::kNormal;
        break;
      case ChpMode::kNormal:
        if (!run) mode = ChpMode::kCoolDown;
        break;
      case ChpMode::kCoolDown:
        if (run && q.cool_down_optional)
          mode = ChpMode::kWarmUp;
        else if (tot[kModeTimer] >= p.cooldown_delay_s)
          mode = ChpMode::kStandby;
        break;
    }
    if (mode != before) {
      tot[kModeTimer] = 0.0;
      if (mode == ChpMode::kWarmUp) tot[kStarts] += 1.0;
    }
    double p_el = 0.0, aux = 0.0, q_fuel = 0.0, q_gen = 0.0;
    const double water_in_K = q.water_in.At(t_mid);
    const double t_in_C = water_in_K - 273.15;
    if (mode == ChpMode::kNormal) {
      p_el = std::clamp(demand, p.p_min_W, p.p_max_W);
      const double eta_e = ChpPolynomial(p.eta_e, p_el, flow, t_in_C);
      const double eta_q = ChpPolynomial(p.eta_q, p_el, flow, t_in_C);
      q_fuel = p_el / eta_e;
      q_gen = eta_q * q_fuel;
    } else if (mode == ChpMode::kCoolDown) {
      aux = p.cooldown_W;
    } else if (mode == ChpMode::kStandby || mode == ChpMode::kWarmUp) {
      // Warm-up by time delay: no net output and (as documented) no fuel; stand-by power.
      aux = p.standby_W;
    }
    const double e_fuel = x[kChpFuelJ], e_water = x[kChpHeatToWaterJ];
    ChpThermalStep(p, x, q_gen, q_fuel, flow, water_in_K, q.room.At(t_mid), h, kChpSubsteps);
    tot[kModeTimer] += h;
    tot[kPrevMode] = static_cast<double>(mode);
    tot[kElectricJ] += p_el * h;
    tot[kAuxJ] += aux * h;
    tot[kFuelJ] += x[kChpFuelJ] - e_fuel;
    tot[kHeatJ] += x[kChpHeatToWaterJ] - e_water;
    *out[kPower] = aux - p_el;
    *out[kElectric] = p_el;
    *out[kHeat] = (x[kChpHeatToWaterJ] - e_water) / h;
    *out[kFuel] = q_fuel;
    *out[kWaterOut] = x[kChpWater];
    *out[kEngine] = x[kChpEngine];
    *out[kMode] = static_cast<double>(mode);
  }
};

// -------------------------------------------------------------------------- chilled_water

struct ChillerStepParams {
  ChillerParams chiller;
  PidParams pid;
  int load_port = 1;  ///< heat load from the input port (else from `load`)
  double limit_K = 0.0;
  SeriesView load, condenser;
};
struct ChillerBlockStep {
  using Params = ChillerStepParams;
  enum In { kLoad, kNumIn };
  enum Out { kPower, kProcess, kTank, kCooling, kCop, kState, kPid, kTotals, kSetpoint, kNumOut };
  enum Total {
    kElectricJ,
    kPumpJ,
    kAboveS,
    kMaxProcessK,
    kDriftK,
    kDriftRate,
    kPumpOk,
    kNumTotals
  };
  enum PidSlot { kPidIntegral, kPidDerivative, kPidPrev, kPidOutput, kPidInit, kPidSlots };
  FTWIN_HD static void Run(const ChillerStepParams& q, const PlantClock& c, const double* const* in,
                           double* const* out) {
    const ChillerParams& p = q.chiller;
    const double h = c.period_s, t_mid = c.time_s + 0.5 * h;
    double* x = out[kState];
    double* t = out[kTotals];
    double* ps = out[kPid];
    t[kDriftK] += t[kDriftRate] * h / 3600.0;
    const double measured = x[kChTank] + t[kDriftK];
    PidState s{ps[kPidIntegral], ps[kPidDerivative], ps[kPidPrev], ps[kPidOutput],
               ps[kPidInit] > 0.5};
    const double cooling =
        std::clamp(PidStep(q.pid, *out[kSetpoint], measured, h, &s), 0.0, p.capacity_W);
    ps[kPidIntegral] = s.integral, ps[kPidDerivative] = s.derivative,
    ps[kPidPrev] = s.previous_measurement;
    ps[kPidOutput] = s.output, ps[kPidInit] = s.initialised ? 1.0 : 0.0;
    const double flow = t[kPumpOk] > 0.5 ? p.flow_kg_per_s : 0.0;
    const double load = std::max(0.0, q.load_port ? *in[kLoad] : q.load.At(t_mid));
    // The chiller cannot cool the tank below freezing margin: it stops at 275.15 K.
    const double cool = x[kChTank] > 275.15 ? cooling : 0.0;
    ChillerStep(p, x, load, cool, flow, h);
    const double cop = ChillerCop(p, cool, q.condenser.At(t_mid));
    const double electric = cool / cop, pump = PumpPower(p, flow);
    t[kElectricJ] += electric * h;
    t[kPumpJ] += pump * h;
    t[kMaxProcessK] = std::max(t[kMaxProcessK], x[kChProcess]);
    if (x[kChProcess] > q.limit_K) t[kAboveS] += h;
    *out[kPower] = electric + pump;
    *out[kProcess] = x[kChProcess];
    *out[kTank] = x[kChTank];
    *out[kCooling] = cool;
    *out[kCop] = cop;
  }
};

// ---------------------------------------------------------------------------- gas_turbine

struct TurbineStepParams {
  TurbineParams turbine;
  double min_load = 0.0, ramp_pu_per_s = 0.0, start_s = 0.0, aux_W = 0.0;
  int freq_input = 0;
  double nominal_Hz = 50.0;
  int substeps = 1;
};
struct TurbineBlockStep {
  using Params = TurbineStepParams;
  enum In { kRequest, kFrequency, kNumIn };
  enum Out { kPower, kGt, kSteam, kFuel, kExhaust, kMode, kState, kTotals, kOn, kNumOut };
  enum Mode { kOffMode = 0, kStarting = 1, kOnline = 2, kTripped = 3 };
  enum Total { kModeF, kTimerS, kPrefPu, kStartsN, kTripsN, kElectricJ, kAuxJ, kNumTotals };
  FTWIN_HD static void Run(const TurbineStepParams& q, const PlantClock& c, const double* const* in,
                           double* const* out) {
    const TurbineParams& p = q.turbine;
    const double h = c.period_s;
    double* x = out[kState];
    double* t = out[kTotals];
    const bool want_on = *out[kOn] > 0.5;
    int mode = static_cast<int>(t[kModeF]);
    const double request_pu = std::clamp(*in[kRequest] / p.rated_W, 0.0, 1.0);
    switch (mode) {
      case kOffMode:
        if (want_on) {
          mode = kStarting;
          t[kTimerS] = 0.0;
          t[kStartsN] += 1.0;
        }
        break;
      case kStarting:
        if (!want_on)
          mode = kOffMode;
        else if (t[kTimerS] >= q.start_s) {
          mode = kOnline;
          t[kPrefPu] = 0.0;
        }
        break;
      case kOnline:
        if (!want_on) mode = kOffMode;
        break;
      default:  // kTripped: cleared by the fault's end
        break;
    }
    // Load reference: ramp-limited towards the request, at least the minimum load while online.
    const double target = mode == kOnline ? std::max(request_pu, q.min_load) : 0.0;
    const double step = q.ramp_pu_per_s * h;
    t[kPrefPu] = std::clamp(target, t[kPrefPu] - step, t[kPrefPu] + step);
    if (mode != kOnline) t[kPrefPu] = 0.0;
    const double speed = q.freq_input ? *in[kFrequency] / q.nominal_Hz : 1.0;
    // Starting: the unit runs up at no-load fuel (P_ref = 0 → V_ce = 0, F_d = K6); off/tripped:
    // no fuel.
    const bool fuel_on = mode == kOnline || mode == kStarting;
    const double fuel0 = x[kGtFuelJ], shaft0 = x[kGtShaftJ], steam0 = x[kGtSteamJ];
    TurbineStep(p, x, t[kPrefPu], speed, fuel_on, h, q.substeps);
    t[kTimerS] += h;
    t[kModeF] = mode;
    // Shaft power only reaches the bus when synchronised; while starting it spins the rotor up.
    const double gt_W = mode == kOnline ? std::max(0.0, (x[kGtShaftJ] - shaft0) / h) : 0.0;
    const double st_W = std::max(0.0, (x[kGtSteamJ] - steam0) / h);
    const double aux = mode == kStarting ? q.aux_W : 0.0;
    t[kElectricJ] += (gt_W + st_W) * h;
    t[kAuxJ] += aux * h;
    *out[kPower] = aux - gt_W - st_W;
    *out[kGt] = gt_W;
    *out[kSteam] = st_W;
    *out[kFuel] = (x[kGtFuelJ] - fuel0) / h;
    *out[kExhaust] = x[kGtThermo];
    *out[kMode] = mode;
  }
};

// ----------------------------------------------------------------------- pem_electrolyzer

struct ElectrolyzerStepParams {
  ElectrolyzerParams ely;
  double rated_W = 0.0, min_fraction = 0.0, ambient_K = 293.15;
};
struct ElectrolyzerBlockStep {
  using Params = ElectrolyzerStepParams;
  enum In { kRequest, kNumIn };
  enum Out { kPower, kH2, kCurrent, kVoltage, kTank, kTemp, kState, kManual, kSetpoint, kNumOut };
  FTWIN_HD static void Run(const ElectrolyzerStepParams& q, const PlantClock& c,
                           const double* const* in, double* const* out) {
    const ElectrolyzerParams& p = q.ely;
    double* x = out[kState];
    double request = *out[kManual] > 0.5 ? *out[kSetpoint] : *in[kRequest];
    request = std::clamp(request, 0.0, q.rated_W);
    if (request < q.min_fraction * q.rated_W) request = 0.0;
    if (TankPressureBar(p, x[kElyTankMol]) >= p.tank_max_bar) request = 0.0;  // tank full
    const double current = ElectrolyzerCurrentForPower(p, request, x[kElyTemp]);
    const double e_stack = x[kElyStackJ], e_comp = x[kElyCompressorJ];
    ElectrolyzerStep(p, x, current, q.ambient_K, c.period_s);
    if (x[kElyTankMol] < 0.0) x[kElyTankMol] = 0.0;
    *out[kPower] = (x[kElyStackJ] - e_stack + x[kElyCompressorJ] - e_comp) / c.period_s;
    *out[kH2] = ElectrolyzerH2Rate(p, current) * kH2MolarMass;
    *out[kCurrent] = current;
    *out[kVoltage] =
        current > 0.0 ? ElectrolyzerCellVoltage(p, current / p.area_m2, x[kElyTemp]) : 0.0;
    *out[kTank] = TankPressureBar(p, x[kElyTankMol]);
    *out[kTemp] = x[kElyTemp];
  }
};

// ------------------------------------------------------------------------- energy_manager

struct EmsConfig {
  double battery_max_W = 1e6, electrolyzer_max_W = 1e6, electrolyzer_min_W = 0.0, chp_max_W = 0.0;
  double chp_threshold_W = 0.0;
  double soc_low = 0.2, soc_high = 0.9, soc_target = 0.6;
  double price_low = 0.1, price_high = 0.25;
  double grid_import_target_W = 1e30;  // peak shaving: discharge above this import
  double tank_max_bar = 300.0;
  double turbine_max_W = 0.0;
  double turbine_price =
      0.0;  // run the turbine above its minimum load when the grid price is at least this
};
struct EmsStep {
  using Params = EmsConfig;
  enum In { kNet, kSoc, kPrice, kTankBar, kTurbinePower, kChpPower, kNumIn };
  enum Out { kBattery, kElectrolyzer, kChp, kTurbine, kManual, kOverride, kNumOut };
  /// Channels of the manual / override_W fields.
  enum Channel { kChBattery, kChElectrolyzer, kChChp, kChTurbine, kChannels };
  FTWIN_HD static void Run(const EmsConfig& c, const PlantClock&, const double* const* in,
                           double* const* out) {
    const double net = *in[kNet], soc = *in[kSoc], price = *in[kPrice];
    const bool tank_full = *in[kTankBar] >= c.tank_max_bar;
    double battery = 0.0, ely = 0.0, chp = 0.0, gt = 0.0;
    // Gas turbine: covers the deficit when the grid price is above its dispatch price; the
    // other rules then act on what is left.
    // `net` includes what the turbine and CHP delivered last tick; the demand they should cover
    // is the net without them.
    const double gt_now = in[kTurbinePower] != nullptr ? *in[kTurbinePower] : 0.0;
    const double chp_now = in[kChpPower] != nullptr ? *in[kChpPower] : 0.0;
    const double base = net - gt_now - chp_now;
    if (c.turbine_max_W > 0.0 && price >= c.turbine_price && base > 0.0)
      gt = std::min(base, c.turbine_max_W);
    // CHP with hysteresis: starts above the threshold, keeps running down to half of it (a
    // start costs a warm-up; chp_now < 0 means it is generating).
    const double chp_need = base - gt;
    const double chp_on_level = chp_now < 0.0 ? 0.5 * c.chp_threshold_W : c.chp_threshold_W;
    if (c.chp_max_W > 0.0 && chp_need > chp_on_level) chp = std::min(chp_need, c.chp_max_W);
    // Battery and electrolyzer act on the real net (turbine at minimum load included).
    const double net_left = net;
    if (net_left < 0.0) {  // surplus: hydrogen first, then the battery
      const double surplus = -net_left;
      if (!tank_full && surplus >= c.electrolyzer_min_W)
        ely = std::min(surplus, c.electrolyzer_max_W);
      if (soc < c.soc_high) battery = std::min(surplus - ely, c.battery_max_W);
    } else {
      const double rest = net_left;
      const double shave = rest - c.grid_import_target_W;
      if (soc > c.soc_low && (price >= c.price_high || shave > 0.0))
        battery = -std::min(price >= c.price_high ? rest : shave, c.battery_max_W);
      else if (price <= c.price_low && soc < c.soc_target)
        battery = c.battery_max_W;  // cheap energy: charge towards the target
    }
    const double* manual = out[kManual];
    const double* over = out[kOverride];
    *out[kBattery] = manual[kChBattery] > 0.5 ? over[kChBattery] : battery;
    *out[kElectrolyzer] =
        manual[kChElectrolyzer] > 0.5 ? std::max(0.0, over[kChElectrolyzer]) : ely;
    *out[kChp] = manual[kChChp] > 0.5 ? std::max(0.0, over[kChChp]) : chp;
    *out[kTurbine] = manual[kChTurbine] > 0.5 ? std::max(0.0, over[kChTurbine]) : gt;
  }
};

// ------------------------------------------------------------------------------- site_bus

/// Most under-frequency shedding stages of a site bus.
constexpr int kSiteMaxStages = 8;

struct SiteBusParams {
  int num_loads = 0;
  uint8_t renewable[kPlantMaxIn] = {}, controllable[kPlantMaxIn] = {}, sheddable[kPlantMaxIn] = {};
  double import_limit_W = 1e30, export_limit_W = 1e30;
  SeriesView price, export_price, co2;
  double peak_price = -1.0, peak_from_h = 7.0, peak_to_h = 22.0;
  SwingParams swing;
  double nominal_Hz = 50.0, band_Hz = 0.2, restore_Hz = 49.9, restore_delay_s = 60.0;
  int num_stages = 0;
  double stage_below_Hz[kSiteMaxStages] = {}, stage_fraction[kSiteMaxStages] = {};
  double over_start_Hz = 50.2, over_droop_per_Hz = 0.4;  // renewable P(f) curtailment
};
struct SiteBusStep {
  using Params = SiteBusParams;
  // Inputs: one per load, in the order of `loads`.
  enum Out {
    kGrid,
    kFrequency,
    kNet,
    kNetUncontrolled,
    kUnmet,
    kShed,
    kPrice,
    kCo2,
    kSwing,
    kBreaker,
    kOutage,
    kTotals,
    kNumOut
  };
  enum Total {
    kConsumptionJ,
    kGenerationJ,
    kImportJ,
    kExportJ,
    kUnmetJ,
    kCurtailedJ,
    kGovernorJ,
    kDampingJ,
    kKineticJ,  // linearised rotor energy change
    kRenewableJ,
    kCostCurrency,
    kCo2Kg,
    kNadirHz,
    kOutsideBandS,
    kShedTimer,  // seconds above the restore frequency while shedding
    kMaxHz,
    kNumTotals
  };
  FTWIN_HD static double Price(const SiteBusParams& c, double time_s) {
    if (c.peak_price >= 0.0) {
      const double hour = std::fmod(time_s / 3600.0, 24.0);
      if (hour >= c.peak_from_h && hour < c.peak_to_h) return c.peak_price;
    }
    return c.price.At(time_s);
  }
  FTWIN_HD static void Run(const SiteBusParams& c, const PlantClock& clock, const double* const* in,
                           double* const* out) {
    const double h = clock.period_s;
    double* t = out[kTotals];
    double* x = out[kSwing];
    const double shed = *out[kShed];
    // Over-frequency response of the renewable inverters (grid-code P(f) droop) on last tick's
    // frequency: a fraction of their output is curtailed.
    const double f_prev = *out[kFrequency];
    const double over_cut = std::clamp((f_prev - c.over_start_Hz) * c.over_droop_per_Hz, 0.0, 1.0);
    double total = 0.0, uncontrolled = 0.0, served = 0.0, consumption = 0.0, generation = 0.0,
           renewable = 0.0, shed_W = 0.0, freq_curtailed = 0.0;
    for (int k = 0; k < c.num_loads; ++k) {
      const double p = *in[k];
      total += p;
      if (!c.controllable[k]) uncontrolled += p;
      if (p >= 0.0) {
        consumption += p;
        const double cut = c.sheddable[k] ? shed * p : 0.0;
        shed_W += cut;
        served += p - cut;
      } else {
        generation -= p;
        const double cut = c.renewable[k] ? over_cut * -p : 0.0;
        served += p + cut;
        freq_curtailed += cut;
        if (c.renewable[k]) renewable -= p;
      }
    }
    const bool connected = *out[kBreaker] > 0.5 && *out[kOutage] < 0.5;
    double grid = 0.0, unmet = shed_W, curtailed = freq_curtailed;
    const double price = Price(c, clock.time_s), co2 = c.co2.At(clock.time_s);
    if (connected) {
      grid = served;
      if (grid > c.import_limit_W) {
        unmet += grid - c.import_limit_W;
        grid = c.import_limit_W;
      } else if (grid < -c.export_limit_W) {
        curtailed = -c.export_limit_W - grid;
        grid = -c.export_limit_W;
      }
      // The grid holds the frequency: the island's state relaxes to nominal.
      x[kSwingDw] = 0.0;
      x[kSwingPgov] = 0.0;
    } else {
      const double e_kin0 = x[kSwingEkin], e_damp0 = x[kSwingEdamp], e_gov0 = x[kSwingEgov];
      SwingStep(c.swing, x, -served, h);
      t[kKineticJ] += x[kSwingEkin] - e_kin0;
      t[kDampingJ] += x[kSwingEdamp] - e_damp0;
      t[kGovernorJ] += x[kSwingEgov] - e_gov0;
    }
    const double f = c.nominal_Hz * (1.0 + x[kSwingDw]);
    // Under-frequency load shedding: the deepest stage reached sets the shed fraction (latched
    // until the frequency stays above restore_Hz for restore_delay_s).
    double next_shed = shed;
    for (int s = 0; s < c.num_stages; ++s)
      if (f < c.stage_below_Hz[s]) next_shed = std::max(next_shed, c.stage_fraction[s]);
    if (next_shed > 0.0 && f >= c.restore_Hz) {
      t[kShedTimer] += h;
      if (t[kShedTimer] >= c.restore_delay_s) next_shed = 0.0;
    } else {
      t[kShedTimer] = 0.0;
    }
    if (next_shed == 0.0) t[kShedTimer] = 0.0;
    t[kConsumptionJ] += consumption * h;
    t[kGenerationJ] += generation * h;
    t[kImportJ] += std::max(grid, 0.0) * h;
    t[kExportJ] += std::max(-grid, 0.0) * h;
    t[kUnmetJ] += unmet * h;
    t[kCurtailedJ] += curtailed * h;
    t[kRenewableJ] += renewable * h;
    const double export_price = c.export_price.At(clock.time_s);
    t[kCostCurrency] +=
        (std::max(grid, 0.0) * price - std::max(-grid, 0.0) * export_price) * h / 3.6e6;
    t[kCo2Kg] += std::max(grid, 0.0) * co2 * h / 3.6e6;
    t[kNadirHz] = std::min(t[kNadirHz], f);
    t[kMaxHz] = std::max(t[kMaxHz], f);
    if (std::fabs(f - c.nominal_Hz) > c.band_Hz) t[kOutsideBandS] += h;
    *out[kGrid] = grid;
    *out[kFrequency] = f;
    *out[kNet] = total;
    *out[kNetUncontrolled] = uncontrolled;
    *out[kUnmet] = unmet;
    *out[kShed] = next_shed;
    *out[kPrice] = price;
    *out[kCo2] = co2;
  }
};

}  // namespace ftwin::energy
