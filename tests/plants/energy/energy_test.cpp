// Energy plants: integrators against CVODE, analytic checks (swing equation with droop,
// Faraday's law, thermal step), the site's energy balance, protection, CHP behaviour,
// parameter errors and determinism.
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "plants/energy/battery_math.h"
#include "plants/energy/chp_math.h"
#include "plants/energy/electrolyzer_math.h"
#include "plants/energy/swing_math.h"
#include "plants/register.h"
#include "tests/plants/energy/cvode_reference.h"

namespace ftwin::energy {
namespace {

const std::string kSource = FTWIN_SOURCE_DIR;
const std::string kShared = FTWIN_SHARED_DIR;

std::shared_ptr<const Model> Load(const std::string& text) {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  return LoadScenarioText(text, kSource + "/scenarios/energy/test.yaml", registry).model;
}

double Field(const Simulator& sim, const std::string& name, int element = 0) {
  const FieldId id = sim.model().schema().Find(name);
  REQUIRE(id != kInvalidField);
  return sim.state().World<double>(id, 0)[element];
}

double Kpi(const Simulator& sim, const std::string& block, const std::string& name) {
  for (const KpiEntry& e : sim.ComputeKpis())
    if (e.block == block && e.desc.name == name) return e.per_world[0];
  FAIL("no KPI " << block << "." << name);
  return 0.0;
}

TEST_CASE("Swing equation with droop: steady state -dP R/(1+D R) and time constant 2H/(D+1/R)",
          "[energy][grid]") {
  SwingParams p;
  p.base_W = 1e7;
  p.governor_base_W = 1e7;
  p.inertia_s = 4.0;
  p.damping = 1.5;
  p.droop = 0.04;
  p.governor_tau_s = 0.0;
  const double dP = 0.1;  // per-unit load increase
  double x[kSwingSlots] = {};
  const double expected = -dP * p.droop / (1.0 + p.damping * p.droop);
  const double tau = 2.0 * p.inertia_s / (p.damping + 1.0 / p.droop);
  for (int k = 0; k < 10; ++k) SwingStep(p, x, -dP * p.base_W, tau / 10.0);  // one τ
  CHECK(x[kSwingDw] == Approx(expected * (1.0 - std::exp(-1.0))).epsilon(1e-6));
  for (int k = 0; k < 400; ++k) SwingStep(p, x, -dP * p.base_W, 0.1);
  CHECK(x[kSwingDw] == Approx(expected).epsilon(1e-9));
  // With a governor lag the steady state is the same.
  p.governor_tau_s = 0.8;
  double y[kSwingSlots] = {};
  for (int k = 0; k < 600; ++k) SwingStep(p, y, -dP * p.base_W, 1.0);
  CHECK(y[kSwingDw] == Approx(expected).epsilon(1e-9));
  // Energy: ∫P_net + E_gov = ΔE_kin + E_damp.
  CHECK(-dP * p.base_W * 600.0 + y[kSwingEgov] ==
        Approx(y[kSwingEkin] + y[kSwingEdamp]).epsilon(1e-12));
}

template <int N, class F>
double FixedStepError(Method method, const F& f, const std::vector<double>& x0,
                      const std::vector<double>& ref, double t_end, int steps, int slot) {
  double x[N];
  for (int i = 0; i < N; ++i) x[i] = x0[static_cast<size_t>(i)];
  Integrate<N>(method, f, x, t_end, steps);
  return std::fabs(x[slot] - ref[static_cast<size_t>(slot)]);
}

TEST_CASE("Islanded site bus: droop steady state and time constant through the block",
          "[energy][grid]") {
  // 0.1 pu load on an island of 2 MW base, H = 4 s, D = 1, R = 0.05, instantaneous governor.
  auto model = Load(R"(ftwin: 1
name: island
run: {dt: 10ms, duration: 60s}
blocks:
  - {name: load, type: load_profile, power_W: 2.0e5}
  - name: site
    type: site_bus
    loads: [load]
    island: {start_islanded: true, base_W: 2.0e6, inertia_s: 4.0, damping: 1.0, droop: 0.05, governor_tau_s: 0}
connections:
  - [load.power_W, site.load_W]
)");
  Simulator sim(model);
  const double R = 0.05, D = 1.0, dP = 0.1, H = 4.0;
  const double df_inf = -dP * R / (1 + D * R) * 50.0, tau = 2 * H / (D + 1 / R);
  sim.Step(static_cast<int64_t>(std::llround(tau / 0.01)));
  CHECK(Field(sim, "site.frequency_Hz") - 50.0 ==
        Approx(df_inf * (1 - std::exp(-sim.time_s() / tau))).epsilon(1e-6));
  sim.Step(6000 - sim.tick());
  CHECK(Field(sim, "site.frequency_Hz") - 50.0 == Approx(df_inf).epsilon(1e-9));
  CHECK(Kpi(sim, "site", "balance_relative") < 1e-9);
}

TEST_CASE("Electrolyzer and chiller steps at the default 1 s tick against CVODE",
          "[energy][numerics]") {
  ElectrolyzerParams p;
  const double current = ElectrolyzerCurrentForPower(p, 45000.0, 300.0);
  const ElectrolyzerRhs rhs{&p, current, 293.15};
  const std::vector<double> x0 = {300.0, 500.0, 0, 0, 0, 0};
  const auto ref = testing::CvodeSolve([&](const double* x, double* dx) { rhs(x, dx); }, x0, 600.0,
                                       1e-11, 1e-10);
  double x[kElySlots];
  for (int i = 0; i < kElySlots; ++i) x[i] = x0[static_cast<size_t>(i)];
  for (int k = 0; k < 600; ++k) ElectrolyzerStep(p, x, current, 293.15, 1.0);
  CHECK(std::fabs(x[kElyTemp] - ref[kElyTemp]) < 1e-6);
  CHECK(x[kElyStackJ] == Approx(ref[kElyStackJ]).epsilon(1e-9));
  CHECK(x[kElyCompressorJ] == Approx(ref[kElyCompressorJ]).epsilon(1e-9));
  CHECK(x[kElyProducedMol] == Approx(ref[kElyProducedMol]).epsilon(1e-12));
}

TEST_CASE("Integrators converge to the CVODE reference at their stated order",
          "[energy][numerics]") {
  SECTION("RK4 on the cell model (order 4)") {
    CellParams c;
    c.num_ocv = 3;
    c.ocv_soc[1] = 0.5, c.ocv_soc[2] = 1.0;
    c.ocv_V[0] = 3.0, c.ocv_V[1] = 3.3, c.ocv_V[2] = 3.5;
    c.num_rc = 2;
    c.rc_r_ohm[0] = 0.02, c.rc_tau_s[0] = 20.0, c.rc_r_ohm[1] = 0.05, c.rc_tau_s[1] = 400.0;
    c.hysteresis_V = 0.02, c.hysteresis_rate = 50.0;
    c.resistance_activation_K = 2000.0;
    c.fade_per_Ah = 1e-4;
    const CellRhs rhs{&c, 4.0, -1.0, 300.0};
    const std::vector<double> x0 = {0.7, 0, 0, 0, 0, 290.0, 0, 0, 0};
    const auto ref =
        testing::CvodeSolve([&](const double* x, double* dx) { rhs(x, dx); }, x0, 240.0);
    double prev = 0.0;
    for (int steps : {32, 64, 128}) {
      const double err =
          FixedStepError<kCellSlots>(Method::kRk4, rhs, x0, ref, 240.0, steps, kCellV1);
      if (prev > 0.0) {
        const double order = std::log2(prev / err);
        INFO("steps " << steps << " error " << err << " observed order " << order);
        CHECK(order > 3.6);
        CHECK(order < 4.6);
      }
      prev = err;
    }
    // Default step (1 s tick, no sub-steps needed) stays within 1 µV of CVODE on the RC voltage.
    CHECK(FixedStepError<kCellSlots>(Method::kRk4, rhs, x0, ref, 240.0, 240, kCellV1) < 1e-6);
  }
  SECTION("ROS2 on the micro-CHP thermal model (order 2)") {
    ChpParams p;
    const ChpRhs rhs{&p, 13000.0, 20000.0, 0.4, 330.0, 294.0};
    const std::vector<double> x0 = {342.7, 335.0, 0, 0, 0};
    const auto ref =
        testing::CvodeSolve([&](const double* x, double* dx) { rhs(x, dx); }, x0, 120.0);
    double prev = 0.0;
    for (int steps : {40, 80, 160, 320}) {
      const double err =
          FixedStepError<kChpSlots>(Method::kRos2, rhs, x0, ref, 120.0, steps, kChpEngine);
      if (prev > 0.0) {
        const double order = std::log2(prev / err);
        INFO("steps " << steps << " error " << err << " observed order " << order);
        CHECK(order > 1.8);
        CHECK(order < 2.3);
      }
      prev = err;
    }
    // Default 1 s step: within 0.05 K of CVODE; and stable where explicit RK4 at 1 s is marginal.
    CHECK(FixedStepError<kChpSlots>(Method::kRos2, rhs, x0, ref, 120.0, 120, kChpWater) < 0.05);
  }
  SECTION("RK4 on the swing equation with governor lag (order 4)") {
    SwingParams p;
    p.governor_tau_s = 0.5;
    const SwingRhs rhs{&p, -5e4};
    const std::vector<double> x0 = {0, 0, 0, 0, 0};
    const auto ref = testing::CvodeSolve([&](const double* x, double* dx) { rhs(x, dx); }, x0, 4.0,
                                         1e-13, 1e-15);
    double prev = 0.0;
    for (int steps : {20, 40, 80}) {
      const double err =
          FixedStepError<kSwingSlots>(Method::kRk4, rhs, x0, ref, 4.0, steps, kSwingDw);
      if (prev > 0.0) CHECK(std::log2(prev / err) > 3.6);
      prev = err;
    }
  }
}

TEST_CASE(
    "Electrolyzer: hydrogen rate equals Faraday's law exactly; power matches the polarization "
    "curve",
    "[energy][electrolyzer]") {
  ElectrolyzerParams p;
  const double t = 333.15;
  const double i = ElectrolyzerCurrentForPower(p, 30000.0, t);
  const double v = ElectrolyzerCellVoltage(p, i / p.area_m2, t);
  CHECK(p.cells * v * i == Approx(30000.0).epsilon(1e-9));
  CHECK(v > 1.48);
  CHECK(v < 2.2);
  // Through the block: produced mass = ∫ η_F N I / (2F) M dt with the reported current.
  auto model = Load(R"(ftwin: 1
name: ely
run: {dt: 1s, duration: 1h}
blocks:
  - {name: req, type: signal_source, unit: W, value: 40000.0}
  - {name: ely, type: pem_electrolyzer, rated_W: 50000, faraday_efficiency: 0.97, initial_tank_bar: 30}
connections:
  - [req.value, ely.power_request_W]
)");
  Simulator sim(model);
  double expected_kg = 0.0;
  for (int k = 0; k < 3600; ++k) {
    sim.Step(1);
    expected_kg += 0.97 * 100 * Field(sim, "ely.current_A") / (2.0 * kFaraday) * kH2MolarMass;
    CHECK(Field(sim, "ely.power_W") > 40000.0);  // stack + compressor
  }
  CHECK(Kpi(sim, "ely", "h2_produced_kg") == Approx(expected_kg).epsilon(1e-12));
  CHECK(Kpi(sim, "ely", "specific_energy_kWh_per_kg") > 39.4);  // above the HHV bound
  CHECK(Field(sim, "ely.tank_bar") > 30.0);
}

const char* kSite = R"(ftwin: 1
name: site-day
run: {dt: 1s, duration: 1d, seed: 7}
blocks:
  - {name: ambient, type: signal_source, unit: K, value: 295.0}
  - {name: fab, type: load_profile, power_W: {file: ../../scenarios/energy/data/site_day.csv, column: load_W}}
  - {name: pv, type: pv, peak_W: 700000, irradiance_W_per_m2: {file: ../../scenarios/energy/data/site_day.csv, column: ghi_W_per_m2}, cell_temp_K: {file: ../../scenarios/energy/data/site_day.csv, column: cell_temp_K}}
  - name: bat
    type: battery
    cell_file: ../../plants/energy/data/a123_cell.yaml
    series: 200
    parallel: 400
    initial_soc: 0.5
  - {name: ely, type: pem_electrolyzer, rated_W: 50000}
  - {name: ems, type: energy_manager, battery_max_W: 150000, electrolyzer_max_W: 50000, electrolyzer_min_W: 5000}
  - name: site
    type: site_bus
    loads: [fab, pv, bat, ely]
    renewables: [pv]
    controllable: [bat, ely]
    grid: {import_limit_W: 300000, export_limit_W: 50000, peak_price_per_kWh: 0.3, price_per_kWh: 0.12}
connections:
  - [ambient.value, bat.ambient_K]
  - [ems.battery_W, bat.power_request_W]
  - [ems.electrolyzer_W, ely.power_request_W]
  - [site.net_uncontrolled_W, ems.net_W]
  - [bat.soc, ems.battery_soc, delayed]
  - [site.price_per_kWh, ems.price_per_kWh]
  - [ely.tank_bar, ems.tank_bar, delayed]
  - [fab.power_W, site.fab_W]
  - [pv.power_W, site.pv_W]
  - [bat.power_W, site.bat_W]
  - [ely.power_W, site.ely_W]
)";

TEST_CASE("Site energy balance closes to 1e-9 over a day", "[energy][site]") {
  auto model = Load(kSite);
  Simulator sim(model);
  // Independent ledger from the blocks' own outputs, tick by tick.
  double fab = 0, pv = 0, bat = 0, ely = 0, grid = 0, unmet = 0;
  sim.AddObserver([&](const Simulator& s) {
    fab += Field(s, "fab.power_W");
    pv += Field(s, "pv.power_W");
    bat += Field(s, "bat.power_W");
    ely += Field(s, "ely.power_W");
    grid += Field(s, "site.grid_W");
    unmet += Field(s, "site.unmet_W");
  });
  sim.Step(86400);
  const double consumption = Kpi(sim, "site", "consumption_kWh");
  CHECK(Kpi(sim, "site", "balance_relative") < 1e-9);
  const double curtailed = Kpi(sim, "site", "curtailed_kWh") * 3.6e6;
  const double lhs = fab + pv + bat + ely;  // J (1 s ticks)
  const double rhs = grid + unmet - curtailed;
  CHECK(std::fabs(lhs - rhs) / (consumption * 3.6e6) < 1e-9);
  CHECK(Kpi(sim, "bat", "throughput_kWh") > 10.0);  // the EMS really used the battery
  CHECK(Kpi(sim, "ely", "h2_produced_kg") > 0.0);
  CHECK(Kpi(sim, "site", "renewable_share") > 0.05);
}

TEST_CASE("BMS keeps SoC, voltage and temperature inside limits whatever the command",
          "[energy][battery]") {
  auto model = Load(R"(ftwin: 1
name: bms
run: {dt: 1s, duration: 3h}
blocks:
  - {name: ambient, type: signal_source, unit: K, value: 308.0}
  - {name: zero, type: signal_source, unit: W, value: 0.0}
  - name: bat
    type: battery
    cell_file: ../../plants/energy/data/a123_cell.yaml
    series: 10
    parallel: 2
    initial_soc: 0.8
    thermal: {cell_heat_capacity_J_per_K: 40, cell_cooling_W_per_K: 0.02}
    limits: {soc_min: 0.1, soc_max: 0.9, temp_max_K: 318.15, temp_derate_K: 315.15, cell_charge_max_A: 6, cell_discharge_max_A: 6, cell_v_max: 3.6, cell_v_min: 2.6}
connections:
  - [ambient.value, bat.ambient_K]
  - [zero.value, bat.power_request_W]
)");
  Simulator sim(model);
  REQUIRE(
      sim.Submit(
             {.tick = 0, .world = -1, .target = "bat.manual", .values = {1.0}, .origin = "test"})
          .empty());
  REQUIRE(sim.Submit({.tick = 0,
                      .world = -1,
                      .target = "bat.setpoint_W",
                      .values = {5000.0},
                      .origin = "test"})
              .empty());
  REQUIRE(sim.Submit({.tick = 5400,
                      .world = -1,
                      .target = "bat.setpoint_W",
                      .values = {-5000.0},
                      .origin = "test"})
              .empty());
  double soc_max = 0, soc_min = 1, t_max = 0, v_max = 0, v_min = 100;
  bool charged_to_limit = false;
  sim.AddObserver([&](const Simulator& s) {
    const double soc = Field(s, "bat.soc");
    soc_max = std::max(soc_max, soc);
    soc_min = std::min(soc_min, soc);
    t_max = std::max(t_max, Field(s, "bat.temp_K"));
    v_max = std::max(v_max, Field(s, "bat.voltage_V") / 10);
    v_min = std::min(v_min, Field(s, "bat.voltage_V") / 10);
    if (soc > 0.89) charged_to_limit = true;
  });
  sim.Step(3 * 3600);
  CHECK(charged_to_limit);
  CHECK(soc_max <= 0.9 + 1e-12);
  CHECK(soc_min >= 0.1 - 1e-12);
  CHECK(t_max <= 318.15);
  CHECK(v_max <= 3.6);
  CHECK(v_min >= 2.6);
  CHECK(Kpi(sim, "bat", "bms_limited_ticks") > 0);
}

TEST_CASE("Islanded: a frequency drop sheds load at the configured thresholds", "[energy][grid]") {
  auto model = Load(R"(ftwin: 1
name: ufls
run: {dt: 10ms, duration: 20s}
blocks:
  - {name: load, type: load_profile, power_W: 5.0e5}
  - name: site
    type: site_bus
    loads: [load]
    island: {start_islanded: true, base_W: 1.0e6, inertia_s: 5.0, damping: 1.0, droop: 0.05, governor_tau_s: 0.5, reserve_up_W: 3.0e5}
    protection: {shed_stages: [{below_Hz: 49.2, fraction: 0.2}, {below_Hz: 48.8, fraction: 0.4}], restore_above_Hz: 49.95, restore_delay_s: 1000}
connections:
  - [load.power_W, site.load_W]
)");
  Simulator sim(model);
  double first_shed_f = 0.0, second_shed_f = 0.0, prev_shed = 0.0;
  sim.AddObserver([&](const Simulator& s) {
    const double shed = Field(s, "site.shed_fraction"), f = Field(s, "site.frequency_Hz");
    if (shed > prev_shed && shed == 0.2) first_shed_f = f;
    if (shed > prev_shed && shed == 0.4) second_shed_f = f;
    prev_shed = shed;
  });
  sim.Step(2000);
  // Stage 1 trips at the first tick below 49.2 Hz, stage 2 below 48.8 Hz (0.5 MW against 0.3 MW
  // of governor reserve would otherwise fall without bound); with 40 % shed the reserve holds.
  CHECK(first_shed_f < 49.2);
  CHECK(first_shed_f > 49.15);
  CHECK(second_shed_f < 48.8);
  CHECK(second_shed_f > 48.75);
  CHECK(Field(sim, "site.frequency_Hz") > 48.5);
  CHECK(Kpi(sim, "site", "frequency_nadir_Hz") < 48.8);
  CHECK(Kpi(sim, "site", "balance_relative") < 1e-9);
}

TEST_CASE("Micro-CHP driven by the validation series: efficiencies, warm-up and heat",
          "[energy][chp]") {
  const std::string d = kShared + "/data/chp/";
  auto model = Load(
      R"(ftwin: 1
name: chp
run: {dt: 1s, duration: 2d}
blocks:
  - name: chp
    type: micro_chp
    parameters_file: )" +
      d + R"(microchp_validation3_parameters.yaml
    demand_W: {file: )" +
      d + R"(microchp_validation_inputs.csv, column: "PEleDem[W]", periodic: false}
    water_flow_kg_per_s: {file: )" +
      d + R"(microchp_validation_inputs.csv, column: "mWat_flow[kg/s]", periodic: false}
    water_in_K: {file: )" +
      d +
      R"(microchp_validation_inputs.csv, column: "TWatIn[degC]", offset: 273.15, periodic: false}
    room_K: {file: )" +
      d + R"(microchp_validation_inputs.csv, column: "TRoo[degC]", offset: 273.15, periodic: false}
)");
  Simulator sim(model);
  int warmup_ticks = 0, normal_ticks = 0;
  double max_water = 0.0;
  sim.AddObserver([&](const Simulator& s) {
    const double mode = Field(s, "chp.mode");
    if (mode == 2.0) {
      ++warmup_ticks;
      CHECK(Field(s, "chp.electric_W") == 0.0);
    }
    if (mode == 3.0) ++normal_ticks;
    max_water = std::max(max_water, Field(s, "chp.water_out_K"));
  });
  sim.Step(2 * 86400);
  CHECK(Kpi(sim, "chp", "electrical_efficiency") ==
        Approx(0.27).epsilon(1e-9));  // sums over 690k sub-steps
  // Thermal: 0.66 of the fuel is generated as heat; what reaches the water is that minus the
  // jacket loss and the change of stored heat, so a little below 0.66.
  const double eta_q = Kpi(sim, "chp", "thermal_efficiency");
  CHECK(eta_q < 0.66);
  CHECK(eta_q > 0.55);  // jacket loss UA_loss (T_eng - T_room) is about 8 % of the fuel
  CHECK(Kpi(sim, "chp", "starts") >= 1);
  CHECK(warmup_ticks >= 60 * Kpi(sim, "chp", "starts") - 1);
  CHECK(normal_ticks > 3600);
  CHECK(max_water < 373.15);
  CHECK(Kpi(sim, "chp", "electric_kWh") > 10.0);
}

void ExpectError(const std::string& text, const std::string& needle) {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  try {
    LoadScenarioText(text, kSource + "/scenarios/energy/bad.yaml", registry);
    FAIL("expected an error mentioning " << needle);
  } catch (const InputError& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(needle) != std::string::npos);
  }
}

TEST_CASE("Bad energy parameters give clear errors", "[energy][params]") {
  const std::string head = "ftwin: 1\nname: bad\nrun: {dt: 1s, duration: 1h}\nblocks:\n";
  ExpectError(
      head +
          R"(  - {name: b, type: battery, series: 1, parallel: 1, cell: {capacity_Ah: -2, r0_ohm: 0.01, ocv_soc: [0, 1], ocv_V: [3.0, 3.4]}}
)",
      "capacity_Ah");
  ExpectError(
      head +
          R"(  - {name: b, type: battery, series: 1, parallel: 1, cell: {capacity_Ah: 2, r0_ohm: 0.01, ocv_soc: [0, 0.5, 1], ocv_V: [3.0, 3.5, 3.4]}}
)",
      "non-monotonic OCV");
  ExpectError(
      head +
          R"(  - {name: b, type: battery, series: 1, parallel: 1, converter_efficiency: 1.2, cell: {capacity_Ah: 2, r0_ohm: 0.01, ocv_soc: [0, 1], ocv_V: [3.0, 3.4]}}
)",
      "converter_efficiency");
  ExpectError(
      head + R"(  - {name: e, type: pem_electrolyzer, rated_W: 1000, faraday_efficiency: 1.05}
)",
      "faraday_efficiency");
  ExpectError(
      head + R"(  - {name: c, type: micro_chp, electrical_efficiency: 0.5, thermal_efficiency: 0.6}
)",
      "efficiency <= 1");
  ExpectError(
      head + R"(  - {name: l, type: load_profile, power_W: {file: no_such_file.csv, column: load_W}}
)",
      "no_such_file.csv");
  ExpectError(
      head + R"(  - {name: l, type: load_profile, power_W: {file: data/site_day.csv, column: nope}}
)",
      "expected a column name");
}

TEST_CASE("Same seed, same site trace, whatever the thread count", "[determinism]") {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  auto make = [&](int threads) {
    RunOverrides o;
    o.num_worlds = 4;
    o.num_threads = threads;
    return LoadScenarioText(kSite, kSource + "/scenarios/energy/test.yaml", registry, o).model;
  };
  Simulator a(make(1)), b(make(2));
  a.Step(7200);
  b.Step(3600);
  b.Step(3600);
  CHECK(a.state().Hash() == b.state().Hash());
  Simulator c(make(1));
  c.Step(7201);
  CHECK(a.state().Hash() != c.state().Hash());  // the hash does see the state move
}

}  // namespace
}  // namespace ftwin::energy
