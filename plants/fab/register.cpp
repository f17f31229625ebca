#include "plants/fab/register.h"

#include "engine/scenario.h"
#include "plants/fab/fab_line.h"

namespace ftwin {

void RegisterFabBlocks(BlockRegistry& registry) {
  registry.Register("fab_line",
                    "wafer fab: lots on re-entrant routes, dispatching, batching, setups, "
                    "breakdowns and PMs, simulated event by event (inline or SMT2020 data)",
                    FabLineBlock::FromParams);
}

}  // namespace ftwin
