// Registration of the generic sensor block types (called from engine/blocks/register.cpp).
#pragma once

namespace ftwin {

class BlockRegistry;

/// Registers the sensor block types ("sensor") in `registry`.
void RegisterSensorBlocks(BlockRegistry& registry);
/// Registers the dedicated instruments (energy_meter, particle_counter, state_signal,
/// light_curtain, vibration_sensor, vector_sensor); called by RegisterSensorBlocks.
void RegisterInstrumentBlocks(BlockRegistry& registry);

}  // namespace ftwin
