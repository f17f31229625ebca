// Device driver of the plant steps (plant_world.h): launch arguments and one launcher per step
// type (plant_kernels.cpp, compiled by nvcc through plant_kernels.cu in CUDA builds). No
// formula: the kernel builds one world's pointer tables and calls Step::Run.
#pragma once

#include "gpu/executor.h"
#include "plants/energy/plant_world.h"

namespace ftwin::energy {

template <class Step>
struct PlantArgs {
  typename Step::Params params;  ///< series and tables in device memory
  PlantClock clock;
  PlantViews views;
};

/// Step::Run for every world. Instantiated in plant_kernels.cpp for PvStep, WindStep,
/// LoadStep, ChpStep, ChillerBlockStep, TurbineBlockStep, ElectrolyzerBlockStep, EmsStep and
/// SiteBusStep.
template <class Step>
void PlantOnDevice(gpu::Executor& executor, int num_worlds, const PlantArgs<Step>& args);

}  // namespace ftwin::energy
