// Loop driver of CellWorldStepNative over worlds (gpu/for_each_world.h). Compiled as C++ in
// builds without CUDA (emulated executor only) and by nvcc through robot_cell_kernels.cu
// otherwise.
#include "robots/robot_cell_kernels.h"

#include "gpu/for_each_world.h"

namespace ftwin {
namespace {

struct RobotCellKernel {
  RobotCellDeviceArgs a;
  FTWIN_HD void operator()(int world) const {
    CellWorld w;
    w.q = a.q.World(world);
    w.qd = a.qd.World(world);
    w.tau = a.tau.World(world);
    w.move_from = a.move_from.World(world);
    w.move_to = a.move_to.World(world);
    w.robot = a.robot.World(world);
    w.robot_state = a.robot_state.World(world);
    w.cell = a.cell.World(world);
    w.counts = a.counts.World(world);
    w.collision_events = a.collision_events.World(world);
    w.zone_owner = a.zone_owner.World(world);
    w.visitor = a.visitor.World(world);
    w.agv = a.agv.World(world);
    w.power_W = a.power_W.World(world);
    for (int k = 0; k < 4; ++k) w.body_pose[k] = a.body_pose[k].World(world);
    CellWorldStepNative(*a.params, a.tick, a.time_s, a.period_s, w);
  }
};

}  // namespace

void RobotCellOnDevice(gpu::Executor& executor, int num_worlds, const RobotCellDeviceArgs& args) {
  gpu::ForEachWorld(executor, num_worlds, RobotCellKernel{args}, "robot_cell kernel");
}

}  // namespace ftwin
