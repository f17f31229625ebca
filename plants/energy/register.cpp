#include "plants/energy/register.h"

#include "engine/scenario.h"
#include "plants/energy/energy_common.h"

namespace ftwin {

void RegisterEnergyBlocks(BlockRegistry& registry) {
  registry.Register("battery", "equivalent-circuit battery pack with BMS, thermal model and fade",
                    energy::MakeBattery);
  registry.Register("site_bus",
                    "site power bus: loads, generation, storage, grid, island frequency",
                    energy::MakeSiteBus);
  registry.Register("pv", "photovoltaic array from irradiance and cell temperature series",
                    energy::MakePv);
  registry.Register("wind_turbine", "wind turbine from a power curve and a wind-speed series",
                    energy::MakeWind);
  registry.Register("load_profile", "electrical load from a time series file",
                    energy::MakeLoadProfile);
  registry.Register("pem_electrolyzer", "PEM electrolyzer with compressor and hydrogen tank",
                    energy::MakeElectrolyzer);
  registry.Register("micro_chp", "IEA Annex 42 micro combined heat and power unit",
                    energy::MakeMicroChp);
  registry.Register("gas_turbine", "Rowen gas turbine with HRSG and steam stage (combined cycle)",
                    energy::MakeGasTurbine);
  registry.Register("chilled_water",
                    "chilled-water loop: chiller with COP curve, pump, storage tank",
                    energy::MakeChiller);
  registry.Register("energy_manager", "rule-based site energy management baseline",
                    energy::MakeEms);
}

}  // namespace ftwin
