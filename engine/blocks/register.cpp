#include "engine/sensors/register.h"
#include "engine/blocks/pid_controller.h"
#include "engine/blocks/signal_source.h"
#include "engine/scenario.h"

namespace ftwin {

void RegisterEngineBlocks(BlockRegistry& registry) {
  registry.Register("signal_source",
                    "a known function of time: constant, step, ramp, sine, schedule",
                    SignalSourceBlock::FromParams);
  registry.Register("pid_controller", "PID with anti-windup, derivative filter, rate limit",
                    PidControllerBlock::FromParams);
  RegisterSensorBlocks(registry);
}

}  // namespace ftwin
