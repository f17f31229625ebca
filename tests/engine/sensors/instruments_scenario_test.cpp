// scenarios/sensors/instruments.yaml: the instruments on real plant ports agree with the plants'
// own accounting (site bus energy KPIs, fab energy) and with their timing specs.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "plants/register.h"

namespace ftwin {
namespace {

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  return registry;
}

double Kpi(const Simulator& simulator, const std::string& block, const std::string& name,
           int world) {
  for (const KpiEntry& kpi : simulator.ComputeKpis())
    if (kpi.block == block && kpi.desc.name == name) return kpi.per_world[world];
  FAIL("no KPI " << block << "." << name);
  return 0.0;
}

TEST_CASE("Instruments scenario: meters agree with the site bus, scanner stops on time",
          "[sensors]") {
  RunOverrides overrides;
  const LoadedScenario loaded =
      LoadScenario(FTWIN_SOURCE_DIR "/scenarios/sensors/instruments.yaml", Registry(), overrides);
  Simulator simulator(loaded.model);
  const Schema& schema = simulator.state().schema();
  auto get = [&](const std::string& field, int world = 0) {
    const FieldId id = schema.Find(field);
    REQUIRE(id != kInvalidField);
    return simulator.state().World<double>(id, world)[0];
  };
  auto get_u8 = [&](const std::string& field) {
    const FieldId id = schema.Find(field);
    REQUIRE(id != kInvalidField);
    return static_cast<int>(simulator.state().World<uint8_t>(id, 0)[0]);
  };
  int intrusion_tick = -1, stop_tick = -1;
  for (int k = 0; k < 9000; ++k) {  // 90 s: the visitor enters the field at about 63 s
    simulator.Step(1);
    if (intrusion_tick < 0 && get_u8("zone_scanner.intrusion") == 1) intrusion_tick = k;
    if (stop_tick < 0 && get_u8("zone_scanner.ossd") == 0) stop_tick = k;
  }
  REQUIRE(intrusion_tick > 0);
  CHECK(stop_tick - intrusion_tick == 8);  // response time 80 ms at 10 ms ticks
  simulator.Step(9000);                    // to 3 min
  for (int world = 0; world < simulator.num_worlds(); ++world) {
    // The meters integrate the bus's grid power; the bus keeps its own energy accounts.
    CHECK(get("grid_import_meter.true_energy_kWh", world) ==
          Approx(Kpi(simulator, "site", "grid_import_kWh", world)).epsilon(1e-9));
    CHECK(get("grid_export_meter.true_energy_kWh", world) ==
          Approx(Kpi(simulator, "site", "grid_export_kWh", world)).margin(1e-9));
    const double fab_kWh = get("fab_meter.true_energy_kWh", world);
    CHECK(fab_kWh == Approx(Kpi(simulator, "fab", "energy_kWh", world)).epsilon(1e-9));
    // Register: 99990 kWh at the start, 0.1 kWh digits, rolls over at 100000 kWh.
    const double shown = std::fmod(99990.0 + fab_kWh, 100000.0);
    CHECK(get("fab_meter.energy_kWh", world) == Approx(std::floor(shown * 10.0 + 1e-9) / 10.0));
    // BMS pack voltage: turn-on bias 0.33 V sigma + 0.05 V noise around the plant's voltage.
    CHECK(std::abs(get("pack_voltage.value", world) - get("battery.voltage_V", world)) < 2.0);
  }
}

TEST_CASE("Instruments scenario is identical for 1 and 2 threads", "[determinism]") {
  uint64_t reference = 0;
  for (int threads : {1, 2}) {
    RunOverrides overrides;
    overrides.num_threads = threads;
    const LoadedScenario loaded =
        LoadScenario(FTWIN_SOURCE_DIR "/scenarios/sensors/instruments.yaml", Registry(), overrides);
    Simulator simulator(loaded.model);
    simulator.Step(3000);
    const uint64_t hash = simulator.state().Hash();
    if (reference == 0) reference = hash;
    CHECK(hash == reference);
  }
}

}  // namespace
}  // namespace ftwin
