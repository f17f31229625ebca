// Registers every plant block type (thermal, fab, energy) with a scenario registry.
#pragma once

namespace ftwin {
class BlockRegistry;
void RegisterPlantBlocks(BlockRegistry& registry);
}  // namespace ftwin
