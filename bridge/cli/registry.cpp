#include "bridge/cli/registry.h"

#include "plants/register.h"
#include "robots/register.h"

namespace ftwin {

BlockRegistry MakeFullRegistry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  RegisterRobotBlocks(registry);
  return registry;
}

}  // namespace ftwin
