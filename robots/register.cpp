#include "robots/register.h"

#include "engine/scenario.h"

namespace ftwin {

void RegisterRobotBlocks(BlockRegistry& registry) { (void)registry; }

}  // namespace ftwin
