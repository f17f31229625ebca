// Registers every robot-cell block type with a scenario registry.
#pragma once

namespace ftwin {
class BlockRegistry;
void RegisterRobotBlocks(BlockRegistry& registry);
}  // namespace ftwin
