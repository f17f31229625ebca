// The energy-plant and instrument blocks on the device path (docs/gpu.md). On the emulated
// executor the energy site (scenarios/energy/site.yaml) and the instrument scenario (with a
// load profile in place of its fab line) must reproduce the CPU driver bit for bit with
// commands, commanded and scheduled faults and an islanded hour inside the window; on a CUDA
// device every plant and instrument block must agree with the CPU within the per-field
// tolerances below (without a device those tests WARN "skipped: no CUDA device (...)").
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "gpu/executor.h"
#include "plants/register.h"
#include "tests/gpu/state_compare.h"

namespace ftwin {
namespace {

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  return registry;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Replace(std::string* text, const std::string& from, const std::string& to) {
  const size_t at = text->find(from);
  REQUIRE(at != std::string::npos);
  text->replace(at, from.size(), to);
}

std::shared_ptr<const Model> Load(const std::string& text, const std::string& path, int worlds,
                                  int threads = 1) {
  RunOverrides overrides;
  overrides.num_worlds = worlds;
  overrides.num_threads = threads;
  return LoadScenarioText(text, path, Registry(), overrides).model;
}

// site.yaml with every scheduled fault moved into the first 10 minutes: a turbine trip, a
// battery string fault, a PV inverter trip, a chiller pump failure and sensor drift, and a grid
// outage (the site runs islanded from 5 to 8 min).
std::shared_ptr<const Model> SiteModel(int worlds, int threads = 1) {
  const std::string path = FTWIN_SOURCE_DIR "/scenarios/energy/site.yaml";
  std::string text = ReadFile(path);
  Replace(&text, "{block: ccgt, fault: trip, at: 2d, duration: 1h}",
          "{block: ccgt, fault: trip, at: 100s, duration: 60s}");
  Replace(&text, "{block: battery, fault: string_fault, at: 3d,",
          "{block: battery, fault: string_fault, at: 150s,");
  Replace(&text, "{block: pv, fault: inverter_trip, at: 108h, duration: 2h}",
          "{block: pv, fault: inverter_trip, at: 200s, duration: 100s}");
  Replace(&text, "{block: chiller, fault: pump_failure, at: 5d, duration: 20min}",
          "{block: chiller, fault: pump_failure, at: 120s, duration: 60s}");
  Replace(&text, "{block: chiller, fault: sensor_drift, at: 126h,",
          "{block: chiller, fault: sensor_drift, at: 130s,");
  Replace(&text, "{block: site, fault: grid_outage, at: 154h, duration: 1h}",
          "{block: site, fault: grid_outage, at: 300s, duration: 180s}");
  return Load(text, path, worlds, threads);
}

// Set-field commands on every kind of input field (one world and all worlds), the EMS
// overrides, a commanded CHP trip with a duration and a commanded breaker opening.
void SubmitSiteCommands(Simulator& simulator) {
  const std::vector<Command> commands = {
      {40, 1, "ccgt.on", {0.0}, "test"},
      {90, -1, "ccgt.on", {1.0}, "test"},
      {60, -1, "battery.manual", {1.0}, "test"},
      {60, 2, "battery.setpoint_W", {-3.0e5}, "test"},
      {240, -1, "battery.manual", {0.0}, "test"},
      {70, 0, "electrolyzer.manual", {1.0}, "test"},
      {70, 0, "electrolyzer.setpoint_W", {2.0e5}, "test"},
      {80, -1, "ems.manual[2]", {1.0}, "test"},
      {80, -1, "ems.override_W[2]", {4000.0}, "test"},
      {110, 3, "ems.manual", {0.0, 0.0, 1.0, 1.0}, "test"},
      {110, 3, "ems.override_W", {0.0, 0.0, 5000.0, 2.0e6}, "test"},
      {140, 1, "chiller.setpoint_K", {278.15}, "test"},
      {160, 2, "chp!trip", {120.0}, "test"},
      {420, 0, "site.breaker_closed", {0.0}, "test"},
      {520, 0, "site.breaker_closed", {1.0}, "test"},
  };
  for (const Command& command : commands) {
    if (command.world >= simulator.num_worlds()) continue;
    INFO(command.target);
    REQUIRE(simulator.Submit(command).empty());
  }
}

// The instrument scenario (scenarios/sensors/instruments.yaml) at 100 ms with a constant load
// in place of its fab line (a fab line keeps per-world event calendars: no device path) and
// signal sources in place of the fab's truth ports, its noise burst moved to 20 s.
std::shared_ptr<const Model> InstrumentModel(int worlds) {
  const std::string path = FTWIN_SOURCE_DIR "/scenarios/sensors/instruments.yaml";
  std::string text = ReadFile(path);
  Replace(&text, "dt: 10ms", "dt: 100ms");
  const size_t fab = text.find("  - name: fab\n");
  const size_t site = text.find("  - name: site\n");
  REQUIRE(fab != std::string::npos);
  REQUIRE(site > fab);
  text.replace(fab, site - fab,
               "  - {name: fab, type: load_profile, power_W: 1.5e5}\n"
               "  - {name: chamber_p, type: signal_source, unit: Pa, shape: ramp, from: 0.5, "
               "to: 30, start: 10s, end: 30s}\n"
               "  - {name: chamber_T, type: signal_source, unit: K, value: 873.15}\n"
               "  - {name: track_outs, type: signal_source, shape: ramp, from: 0, to: 40, "
               "start: 10s, end: 80s}\n");
  // The fab line's truth ports: the stand-ins above and the etch tool's E10 sequence.
  Replace(&text, "[\"fab.tool_state[0]\", furnace_e10.state]",
          "[etch_tool_state.value, furnace_e10.state]");
  Replace(&text, "[\"fab.chamber_pressure_Pa[0]\", furnace_pressure.truth]",
          "[chamber_p.value, furnace_pressure.truth]");
  Replace(&text, "[\"fab.chamber_temperature_K[0]\", furnace_temperature.truth]",
          "[chamber_T.value, furnace_temperature.truth]");
  Replace(&text, "[\"fab.track_outs[2]\", implant_track_out.count]",
          "[track_outs.value, implant_track_out.count]");
  Replace(&text, "fault: noise_burst, at: 7min", "fault: noise_burst, at: 20s");
  return Load(text, path, worlds);
}

void RequireSameRun(const Simulator& cpu, const Simulator& device) {
  const Schema& schema = cpu.model().schema();
  for (FieldId id = 0; id < schema.size(); ++id) {
    const size_t bytes = schema.field(id).BytesPerWorld() * static_cast<size_t>(cpu.num_worlds());
    INFO("field " << schema.field(id).name);
    CHECK(std::memcmp(cpu.state().Bytes(id), device.state().Bytes(id), bytes) == 0);
  }
  CHECK(cpu.state().Hash() == device.state().Hash());
  REQUIRE(device.events().size() == cpu.events().size());
  for (size_t i = 0; i < cpu.events().size(); ++i) {
    CHECK(device.events()[i].tick == cpu.events()[i].tick);
    CHECK(device.events()[i].world == cpu.events()[i].world);
    CHECK(device.events()[i].kind == cpu.events()[i].kind);
  }
  CHECK(cpu.command_log().entries().size() == device.command_log().entries().size());
  const std::vector<KpiEntry> a = cpu.ComputeKpis(), b = device.ComputeKpis();
  REQUIRE(a.size() == b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    INFO("kpi " << a[k].block << "." << a[k].desc.name);
    CHECK(std::memcmp(a[k].per_world.data(), b[k].per_world.data(),
                      a[k].per_world.size() * sizeof(double)) == 0);
  }
}

double Value(const Simulator& simulator, const std::string& field, int world, int element = 0) {
  const FieldId id = simulator.model().schema().Find(field);
  REQUIRE(id != kInvalidField);
  return simulator.state().World<double>(id, world)[element];
}

TEST_CASE("Energy site: every block has a device update", "[gpu_runtime]") {
  CHECK(Simulator::DevicePathUnsupported(*SiteModel(1)) == "");
  CHECK(Simulator::DevicePathUnsupported(*InstrumentModel(1)) == "");
}

TEST_CASE("Emulated device run of the energy site equals the CPU run bit for bit",
          "[determinism]") {
  const auto model = SiteModel(4);
  const int64_t ticks = 600;  // 10 min at 1 s: all six faults, the commands, an island
  Simulator cpu(model), device(model, nullptr, {SimDevice::kEmulated});
  REQUIRE(device.on_device());
  for (Simulator* s : {&cpu, &device}) {
    SubmitSiteCommands(*s);
    s->Step(250);  // host and device state exchanged between the chunks
    s->Step(ticks - 250);
  }
  RequireSameRun(cpu, device);
  // The window did exercise what it claims: faults started and ended, world 0 islanded by the
  // commanded breaker and every world by the outage, the turbine restarted after its trip.
  int starts = 0, ends = 0;
  for (const SimEvent& event : cpu.events()) {
    starts += event.kind == "fault_start";
    ends += event.kind == "fault_end";
  }
  CHECK(starts == 4 * 6 + 1);  // six scheduled per world and the commanded CHP trip
  CHECK(ends == 4 * 4 + 1);    // those with a duration
  for (int world = 0; world < 4; ++world) {
    INFO("world " << world);
    CHECK(Value(cpu, "ccgt.totals", world, 4) == 1.0);  // one trip
    CHECK(Value(cpu, "battery.strings_ok", world) == 900.0);
    CHECK(Value(cpu, "site.totals", world, 12) < 49.9);  // the island's frequency nadir
  }
  CHECK(Value(cpu, "chp.tripped", 2) == 0.0);  // the commanded trip ended (120 s)
  // The islanded site kept its energy balance (the KPI the site bus computes): tiny residual.
  for (const KpiEntry& kpi : cpu.ComputeKpis())
    if (kpi.block == "site" && kpi.desc.name == "balance_relative")
      for (double v : kpi.per_world) CHECK(v < 1e-6);
}

TEST_CASE("Emulated device: energy site worlds equal their CPU runs on 2 threads and alone",
          "[determinism]") {
  const int64_t ticks = 400;
  Simulator batch(SiteModel(5), nullptr, {SimDevice::kEmulated});
  Simulator alone(SiteModel(1), nullptr, {SimDevice::kEmulated});
  Simulator threads(SiteModel(5, 2));
  for (Simulator* s : {&batch, &alone, &threads}) {
    SubmitSiteCommands(*s);
    s->Step(ticks);
  }
  CHECK(alone.state().HashWorld(0) == batch.state().HashWorld(0));
  for (int world = 0; world < 5; ++world) {
    INFO("world " << world);
    CHECK(threads.state().HashWorld(world) == batch.state().HashWorld(world));
  }
}

TEST_CASE("Emulated device run of the instrument blocks equals the CPU run bit for bit",
          "[determinism]") {
  const auto model = InstrumentModel(3);
  Simulator cpu(model), device(model, nullptr, {SimDevice::kEmulated});
  REQUIRE(device.on_device());
  // A generic sensor fault with a duration and set-field commands inside the window.
  for (Simulator* s : {&cpu, &device}) {
    REQUIRE(s->Submit({150, 1, "grid_frequency!stuck", {0.0, 1.0, 30.0}, "test"}).empty());
    REQUIRE(s->Submit({300, -1, "battery.manual", {1.0}, "test"}).empty());
    REQUIRE(s->Submit({300, 2, "battery.setpoint_W", {-6.0e5}, "test"}).empty());
    s->Step(400);
    s->Step(500);  // 90 s: tool-state changes, a particle sample, a visitor trip and restart
  }
  RequireSameRun(cpu, device);
  for (int world = 0; world < 3; ++world) {
    INFO("world " << world);
    CHECK(Value(cpu, "zone_scanner.timers", world, 2) >= 1.0);    // tripped by the visitor
    CHECK(Value(cpu, "particles.accumulator", world, 2) == 1.0);  // one 1 min sample
    CHECK(Value(cpu, "etch_e10.stats", world, 4) == 900.0);       // ran every tick
    CHECK(Value(cpu, "grid_import_meter.energy_J", world, 1) > 0.0);
    CHECK(Value(cpu, "implant_track_out.stats", world, 2) == 40.0);  // events past the delay
  }
}

// ---- CUDA -----------------------------------------------------------------------------------

struct ParityCase {
  std::string name;
  std::string yaml;
  int64_t ticks;
  std::vector<Tolerance> tolerances;  // docs/gpu.md, "Precision per field"
};

// Open-loop cases: each block driven by signal sources, so a last-bit difference cannot flip a
// controller decision of another block.
std::vector<ParityCase> CudaCases() {
  const std::string head = "ftwin: 1\nname: parity\nrun: {dt: 1s, duration: 1d, seed: 7}\n";
  const std::string data = FTWIN_SOURCE_DIR "/scenarios/energy/data/site_day.csv";
  return {
      {"profiles",
       head + R"(blocks:
  - {name: load, type: load_profile, power_W: {file: )" +
           data + R"(, column: load_W}}
  - {name: pv, type: pv, peak_W: 3.0e6, irradiance_W_per_m2: {file: )" +
           data + R"(, column: ghi_W_per_m2}, cell_temp_K: {file: )" + data +
           R"(, column: cell_temp_K}}
  - {name: wind, type: wind_turbine, curve_speed_m_per_s: [0, 3, 9, 25, 25.01], curve_power_W: [0, 0, 1.0e6, 2.0e6, 0], wind_speed_m_per_s: {file: )" +
           data + R"(, column: wind_m_per_s}}
)",
       3000,
       // fmod and one interpolation per sample: FMA in w * (y1 - y0) + y0; energy sums it.
       {{"load.power_W", 1e-9, 1e-13},
        {"pv.power_W", 1e-9, 1e-13},
        {"pv.dc_W", 1e-9, 1e-13},
        {"wind.power_W", 1e-9, 1e-13},
        {"load.energy_J", 1e-6, 1e-12},
        {"pv.energy_J", 1e-6, 1e-12},
        {"wind.energy_J", 1e-6, 1e-12}}},
      {"plants",
       head + R"(blocks:
  - {name: request, type: signal_source, unit: W, shape: sine, mean: 1.0e6, amplitude: 1.5e6, wave_period: 20min}
  - {name: demand, type: signal_source, unit: W, shape: step, before: 0, after: 4000, at: 5min}
  - {name: ccgt, type: gas_turbine, rated_W: 3.0e6, start_time_s: 120, initial_load_fraction: 0.5}
  - {name: chp, type: micro_chp, water_flow_kg_per_s: 0.4}
  - {name: ely, type: pem_electrolyzer, cells: 400, cell_area_m2: 0.05, rated_W: 4.0e5, tank_volume_m3: 50, h2_demand_kg_per_s: 0.0005}
  - {name: chiller, type: chilled_water, capacity_W: 4.0e5, heat_load_W: 2.0e5, process_volume_m3: 10, tank_volume_m3: 40}
connections:
  - [request.value, ccgt.power_request_W]
  - [request.value, ely.power_request_W]
  - [demand.value, chp.demand_W]
)",
       1800,
       // Stiff ROS2 / RK4 steps (exp, log, asinh, sqrt, FMA in the LU solves) over 30 min.
       {{"ccgt.x", 1e-6, 1e-9},
        {"ccgt.totals", 1e-3, 1e-9},
        {"ccgt.power_W", 1e-3, 1e-9},
        {"ccgt.gt_W", 1e-3, 1e-9},
        {"ccgt.steam_W", 1e-3, 1e-9},
        {"ccgt.fuel_W", 1e-3, 1e-9},
        {"ccgt.exhaust_F", 1e-9, 1e-9},
        {"chp.x", 1e-6, 1e-9},
        {"chp.totals", 1e-3, 1e-9},
        {"chp.power_W", 1e-6, 1e-9},
        {"chp.electric_W", 1e-6, 1e-9},
        {"chp.heat_W", 1e-3, 1e-8},
        {"chp.fuel_W", 1e-6, 1e-9},
        {"chp.water_out_K", 1e-9, 1e-11},
        {"chp.engine_K", 1e-9, 1e-11},
        {"ely.x", 1e-6, 1e-9},
        {"ely.power_W", 1e-3, 1e-9},
        {"ely.h2_kg_per_s", 1e-12, 1e-9},
        {"ely.current_A", 1e-6, 1e-9},
        {"ely.cell_voltage_V", 1e-12, 1e-11},
        {"ely.tank_bar", 1e-9, 1e-11},
        {"ely.temp_K", 1e-9, 1e-11},
        {"chiller.x", 1e-6, 1e-11},
        {"chiller.pid", 1e-6, 1e-9},
        {"chiller.totals", 1e-3, 1e-9},
        {"chiller.power_W", 1e-6, 1e-9},
        {"chiller.process_K", 1e-9, 1e-12},
        {"chiller.tank_K", 1e-9, 1e-12},
        {"chiller.cooling_W", 1e-6, 1e-9},
        {"chiller.cop", 1e-12, 1e-11}}},
      {"site_bus",
       head + R"(blocks:
  - {name: load, type: signal_source, unit: W, shape: sine, mean: 3.0e6, amplitude: 1.0e6, wave_period: 10min}
  - {name: gen, type: signal_source, unit: W, shape: ramp, from: 0, to: -2.5e6, start: 0s, end: 20min}
  - name: site
    type: site_bus
    loads: [load, gen]
    renewables: [gen]
    grid: {import_limit_W: 4.0e6, export_limit_W: 1.0e6, price_per_kWh: 0.12, peak_price_per_kWh: 0.28}
    island: {base_W: 8.0e6, inertia_s: 4.0, governor_base_W: 4.0e6, reserve_up_W: 1.5e6}
    protection: {shed_stages: [{below_Hz: 49.2, fraction: 0.15}, {below_Hz: 48.8, fraction: 0.3}]}
  - {name: soc, type: signal_source, shape: ramp, from: 0.1, to: 0.95, start: 0s, end: 30min}
  - {name: tank, type: signal_source, unit: bar, value: 100}
  - name: ems
    type: energy_manager
    battery_max_W: 8.0e5
    electrolyzer_max_W: 4.0e5
connections:
  - [load.value, site.load_W]
  - [gen.value, site.gen_W]
  - [site.net_uncontrolled_W, ems.net_W]
  - [site.price_per_kWh, ems.price_per_kWh]
  - [soc.value, ems.battery_soc]
  - [tank.value, ems.tank_bar]
faults:
  - {block: site, fault: grid_outage, at: 10min, duration: 10min}
)",
       1800,
       // The island's RK4 swing step: FMA only; its totals are running sums of it.
       {{"site.swing", 1e-6, 1e-9},
        {"site.totals", 1e-3, 1e-9},
        {"site.frequency_Hz", 1e-9, 1e-12},
        {"site.grid_W", 1e-6, 1e-12},
        {"site.net_W", 1e-6, 1e-12},
        {"site.net_uncontrolled_W", 1e-6, 1e-12},
        {"site.unmet_W", 1e-6, 1e-12},
        {"site.co2_kg_per_kWh", 0.0, 1e-15},
        {"ems.battery_W", 1e-6, 1e-12},
        {"ems.electrolyzer_W", 1e-6, 1e-12},
        {"load.value", 0.0, 1e-14}}},
      {"instruments",
       head + R"(blocks:
  - {name: power, type: signal_source, unit: W, shape: sine, mean: 1.0e5, amplitude: 3.0e5, wave_period: 10min}
  - {name: meter, type: energy_meter, mode: net, resolution_kWh: 0.01}
  - {name: speed, type: signal_source, unit: rad/s, shape: ramp, from: 0, to: 157.08, start: 10s, end: 40s}
  - {name: vib, type: vibration_sensor, amplitude_1x: 1.5, amplitude_2x: 0.4, noise_sigma: 0.2, noise_bandwidth_Hz: 0.1}
  - {name: dust, type: signal_source, unit: 1/m^3, shape: ramp, from: 3500, to: 35000, start: 2min, end: 6min}
  - {name: counter, type: particle_counter, sample_time: 1min}
  - {name: state, type: signal_source, shape: schedule, interpolation: hold, points: [[0s, 1], [30s, 0], [3min, 4]], repeat: 5min}
  - {name: e10, type: state_signal, truth_dtype: f64, latency: 2s, lost_event_probability: 0.2}
  - {name: visitor, type: signal_source, unit: m, shape: sine, mean: 2.0, amplitude: 1.5, wave_period: 2min}
  - {name: curtain, type: light_curtain, protective_field_m: 1.5, warning_field_m: 3.0, response_time: 1s, restart_delay: 2s}
  - {name: ossd_log, type: state_signal, truth_dtype: u8, latency: 1s, lost_event_probability: 0.1}
  - {name: force, type: signal_source, unit: N, shape: sine, mean: 10, amplitude: 200, wave_period: 1min}
  - {name: torque, type: signal_source, unit: N*m, shape: ramp, from: 0, to: 5, start: 1min, end: 2min}
  - {name: ft, type: vector_sensor, preset: wrist_force_torque}
connections:
  - [power.value, meter.power_W]
  - [speed.value, vib.speed_rad_per_s]
  - [dust.value, counter.concentration_per_m3]
  - [state.value, e10.state]
  - [visitor.value, curtain.distance_m]
  - [curtain.ossd, ossd_log.state]
  - [force.value, ft.fx]
  - [force.value, ft.fy]
  - [force.value, ft.fz]
  - [torque.value, ft.tx]
  - [torque.value, ft.ty]
  - [torque.value, ft.tz]
)",
       1800,
       // sin/cos/exp/log of CUDA's libm (≤ 2 ulp) and FMA; the meter's register is a
       // truncation, the particle count an integer: equal unless a value sits on a boundary.
       {{"power.value", 0.0, 1e-14},
        {"force.value", 0.0, 1e-14},
        {"visitor.value", 0.0, 1e-14},
        {"meter.energy_J", 1e-3, 1e-12},
        {"meter.true_energy_kWh", 1e-9, 1e-12},
        {"vib.state", 1e-9, 1e-12},
        {"vib.acceleration_m_per_s2", 1e-11, 1e-12},
        {"vib.harmonics_m_per_s2", 1e-11, 1e-12},
        {"counter.accumulator", 1e-9, 1e-12},
        {"counter.expected_counts", 1e-9, 1e-12},
        {"counter.measured_per_m3", 1e-9, 1e-12},
        {"ft.fx", 1e-9, 1e-12},
        {"ft.fy", 1e-9, 1e-12},
        {"ft.fz", 1e-9, 1e-12},
        {"ft.tx", 1e-9, 1e-12},
        {"ft.ty", 1e-9, 1e-12},
        {"ft.tz", 1e-9, 1e-12},
        {"ft.fx_truth", 0.0, 1e-14},
        {"ft.fy_truth", 0.0, 1e-14},
        {"ft.fz_truth", 0.0, 1e-14},
        {"ft.model_state", 1e-11, 1e-12},
        {"ft.stats", 1e-6, 1e-10}}},
  };
}

TEST_CASE("Energy and instrument blocks: emulated device equals the CPU on the CUDA cases",
          "[determinism]") {
  for (const ParityCase& c : CudaCases()) {
    INFO("case " << c.name);
    const auto model = Load(c.yaml, "parity.yaml", 4);
    Simulator cpu(model), device(model, nullptr, {SimDevice::kEmulated});
    REQUIRE(device.on_device());
    cpu.Step(c.ticks);
    device.Step(c.ticks);
    CHECK(CompareStates(cpu, device, {}) == "");
  }
}

TEST_CASE("Energy and instrument blocks: CUDA equals the CPU within stated tolerances", "[gpu]") {
  std::string why;
  if (gpu::Executor::CreateCuda(&why) == nullptr) {
    WARN("skipped: no CUDA device (" << why << ")");
    return;
  }
  for (const ParityCase& c : CudaCases()) {
    INFO("case " << c.name);
    const auto model = Load(c.yaml, "parity.yaml", 4096);
    Simulator cpu(model), device(model, nullptr, {SimDevice::kCuda});
    REQUIRE(device.on_device());
    cpu.Step(c.ticks);
    device.Step(c.ticks);
    CHECK(CompareStates(cpu, device, c.tolerances) == "");
  }
}

TEST_CASE("CUDA: the energy site is bit-identical run to run and close to the CPU", "[gpu]") {
  std::string why;
  if (gpu::Executor::CreateCuda(&why) == nullptr) {
    WARN("skipped: no CUDA device (" << why << ")");
    return;
  }
  const auto model = SiteModel(512);
  Simulator first(model, nullptr, {SimDevice::kCuda}), second(model, nullptr, {SimDevice::kCuda});
  Simulator cpu(model);
  for (Simulator* s : {&first, &second, &cpu}) {
    SubmitSiteCommands(*s);
    s->Step(600);
  }
  CHECK(first.state().Hash() == second.state().Hash());
  // Closed loop (EMS thresholds, CHP and turbine modes): compare the site's energy totals
  // loosely and print the worst difference.
  double worst = 0.0;
  for (int world = 0; world < 512; ++world)
    for (int k = 0; k < 4; ++k) {
      const double a = Value(cpu, "site.totals", world, k);
      const double b = Value(first, "site.totals", world, k);
      worst = std::max(worst, std::fabs(a - b) / std::max(1.0, std::fabs(a)));
    }
  WARN("energy site, 512 worlds, 600 ticks: worst relative difference of the site energy totals "
       << worst);
  CHECK(worst < 1e-6);
}

}  // namespace
}  // namespace ftwin
