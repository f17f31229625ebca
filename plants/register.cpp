#include "plants/register.h"

#include "engine/scenario.h"
#include "plants/thermal/thermal_network.h"
#if defined(FTWIN_HAVE_PLANT_fab)
#include "plants/fab/register.h"
#endif
#if defined(FTWIN_HAVE_PLANT_energy)
#include "plants/energy/register.h"
#endif

namespace ftwin {

void RegisterPlantBlocks(BlockRegistry& registry) {
  RegisterThermalBlocks(registry);
#if defined(FTWIN_HAVE_PLANT_fab)
  RegisterFabBlocks(registry);  // plants/fab/register.h
#endif
#if defined(FTWIN_HAVE_PLANT_energy)
  RegisterEnergyBlocks(registry);  // plants/energy/register.h
#endif
}

}  // namespace ftwin
