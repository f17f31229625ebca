#include "robots/register.h"

#include "engine/scenario.h"
#include "robots/robot_cell.h"

namespace ftwin {

void RegisterRobotBlocks(BlockRegistry& registry) { RegisterRobotCellBlock(registry); }

}  // namespace ftwin
