// Registers the energy-plant block types (docs/energy.md).
#pragma once

namespace ftwin {
class BlockRegistry;
void RegisterEnergyBlocks(BlockRegistry& registry);
}  // namespace ftwin
