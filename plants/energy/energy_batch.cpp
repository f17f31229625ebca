#include "plants/energy/energy_batch.h"

namespace ftwin::energy {

void CellStepBatchCpu(const CellParams& cell, const BmsLimits& limits, const CellBatch& batch,
                      double ambient_K, double h) {
  for (int w = 0; w < batch.num_worlds; ++w)
    batch.current_A[w] = PackStep(cell, limits, batch.state + w * kCellSlots, batch.power_cell_W[w],
                                  batch.sign + w, ambient_K, h);
}

void TurbineStepBatchCpu(const TurbineParams& p, const TurbineBatch& batch, double h,
                         int substeps) {
  for (int w = 0; w < batch.num_worlds; ++w)
    TurbineStep(p, batch.state + w * kGtSlots, batch.p_ref_pu[w], 1.0, true, h, substeps);
}

#if !FTWIN_HAVE_CUDA
bool CellStepBatchCuda(const CellParams&, const BmsLimits&, const CellBatch&, double, double,
                       std::string* error) {
  *error = "this ftwin was built without CUDA (nvcc was not found at configure time)";
  return false;
}
bool TurbineStepBatchCuda(const TurbineParams&, const TurbineBatch&, double, int,
                          std::string* error) {
  *error = "this ftwin was built without CUDA (nvcc was not found at configure time)";
  return false;
}
#endif

}  // namespace ftwin::energy
