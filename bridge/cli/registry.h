// The block registry of the full program: engine, plant and robot blocks.
#pragma once

#include "engine/scenario.h"

namespace ftwin {
/// Every block type this build knows.
BlockRegistry MakeFullRegistry();
}  // namespace ftwin
