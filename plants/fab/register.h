// Registers the fab block types (fab_line).
#pragma once

namespace ftwin {
class BlockRegistry;
void RegisterFabBlocks(BlockRegistry& registry);
}  // namespace ftwin
