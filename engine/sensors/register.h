// Registration of the generic sensor block types (called from engine/blocks/register.cpp).
#pragma once

namespace ftwin {

class BlockRegistry;

/// Registers the sensor block types ("sensor") in `registry`.
void RegisterSensorBlocks(BlockRegistry& registry);

}  // namespace ftwin
