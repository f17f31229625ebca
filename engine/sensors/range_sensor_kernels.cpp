// Loop driver (gpu/for_each_world.h) of the range_sensor block. Compiled as C++ in builds
// without CUDA (emulated executor only) and by nvcc through range_sensor_kernels.cu otherwise.
#include "engine/sensors/range_sensor_kernels.h"

#include "gpu/for_each_world.h"

namespace ftwin {
namespace {

// Body b's frame in one world, read from the pose input ports (the thread computes the cos and
// sin the CPU driver computes once per world: the same values).
struct DevicePoses {
  const RangeSensorArgs* a;
  int world;
  FTWIN_HD BodyFrame operator()(int32_t b) const {
    return BodyFrameFromPose(a->pose[4 * b].World(world)[0], a->pose[4 * b + 1].World(world)[0],
                             a->pose[4 * b + 2].World(world)[0],
                             a->pose[4 * b + 3].World(world)[0]);
  }
};

struct RangeSensorKernel {
  RangeSensorArgs a;
  FTWIN_HD void operator()(int world, int beam) const {
    const CounterRng rng = {a.seed, static_cast<uint32_t>(world), a.stream};
    RangeSensorBeam(a.scenes, DevicePoses{&a, world}, rng, a.tick, beam, a.range.World(world),
                    a.truth.World(world));
  }
};

}  // namespace

void RangeSensorOnDevice(gpu::Executor& executor, int num_worlds, const RangeSensorArgs& args) {
  gpu::ForEachWorldItem(executor, num_worlds, args.scenes.num_beams, RangeSensorKernel{args},
                        "range_sensor kernel");
}

}  // namespace ftwin
