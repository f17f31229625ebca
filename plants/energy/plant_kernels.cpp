// Loop driver of the plant steps over worlds (gpu/for_each_world.h). Compiled as C++ in builds
// without CUDA (emulated executor only) and by nvcc through plant_kernels.cu otherwise.
#include "plants/energy/plant_kernels.h"

#include "gpu/for_each_world.h"

namespace ftwin::energy {
namespace {

template <class Step>
struct PlantKernel {
  PlantArgs<Step> a;
  FTWIN_HD void operator()(int world) const {
    const double* in[kPlantMaxIn];
    double* out[kPlantMaxOut];
    for (int i = 0; i < a.views.num_in; ++i) in[i] = a.views.in[i].World(world);
    for (int i = 0; i < a.views.num_out; ++i) out[i] = a.views.out[i].World(world);
    Step::Run(a.params, a.clock, in, out);
  }
};

}  // namespace

template <class Step>
void PlantOnDevice(gpu::Executor& executor, int num_worlds, const PlantArgs<Step>& args) {
  gpu::ForEachWorld(executor, num_worlds, PlantKernel<Step>{args}, "energy plant kernel");
}

template void PlantOnDevice<PvStep>(gpu::Executor&, int, const PlantArgs<PvStep>&);
template void PlantOnDevice<WindStep>(gpu::Executor&, int, const PlantArgs<WindStep>&);
template void PlantOnDevice<LoadStep>(gpu::Executor&, int, const PlantArgs<LoadStep>&);
template void PlantOnDevice<ChpStep>(gpu::Executor&, int, const PlantArgs<ChpStep>&);
template void PlantOnDevice<ChillerBlockStep>(gpu::Executor&, int,
                                              const PlantArgs<ChillerBlockStep>&);
template void PlantOnDevice<TurbineBlockStep>(gpu::Executor&, int,
                                              const PlantArgs<TurbineBlockStep>&);
template void PlantOnDevice<ElectrolyzerBlockStep>(gpu::Executor&, int,
                                                   const PlantArgs<ElectrolyzerBlockStep>&);
template void PlantOnDevice<EmsStep>(gpu::Executor&, int, const PlantArgs<EmsStep>&);
template void PlantOnDevice<SiteBusStep>(gpu::Executor&, int, const PlantArgs<SiteBusStep>&);

}  // namespace ftwin::energy
