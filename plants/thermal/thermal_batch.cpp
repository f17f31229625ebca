#include "plants/thermal/thermal_batch.h"

namespace ftwin {

void ThermalStepBatchCpu(const ThermalStepModel& model, const ThermalBatch& batch) {
  const int n = model.num_nodes;
  for (int world = 0; world < batch.num_worlds; ++world)
    ThermalStep(model, batch.inputs + world * (n + 1), batch.temps_K + world * n,
                batch.stored_change_J + world, batch.loss_W + world);
}

#if !FTWIN_HAVE_CUDA
bool ThermalStepBatchCuda(const ThermalStepModel&, const ThermalBatch&, std::string* error) {
  *error = "this ftwin was built without CUDA (nvcc was not found at configure time)";
  return false;
}
#endif

}  // namespace ftwin
