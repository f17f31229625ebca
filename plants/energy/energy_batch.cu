// CUDA drivers of the energy steps: one thread per world calls the same host-device step as the
// CPU driver (no formula here). Parameters travel by value in the kernel arguments.
#include <cuda_runtime.h>

#include "gpu/device_memory.h"
#include "plants/energy/energy_batch.h"

namespace ftwin::energy {
namespace {

__global__ void CellStepKernel(CellParams cell, BmsLimits limits, CellBatch batch, double ambient_K,
                               double h) {
  const int w = blockIdx.x * blockDim.x + threadIdx.x;
  if (w >= batch.num_worlds) return;
  batch.current_A[w] = PackStep(cell, limits, batch.state + w * kCellSlots, batch.power_cell_W[w],
                                batch.sign + w, ambient_K, h);
}

__global__ void TurbineStepKernel(TurbineParams p, TurbineBatch batch, double h, int substeps) {
  const int w = blockIdx.x * blockDim.x + threadIdx.x;
  if (w >= batch.num_worlds) return;
  TurbineStep(p, batch.state + w * kGtSlots, batch.p_ref_pu[w], 1.0, true, h, substeps);
}

bool Launched(const char* what, std::string* error) {
  const cudaError_t status = cudaGetLastError();
  if (status == cudaSuccess) return true;
  *error = std::string(what) + " kernel launch: " + cudaGetErrorString(status);
  return false;
}

}  // namespace

bool CellStepBatchCuda(const CellParams& cell, const BmsLimits& limits, const CellBatch& batch,
                       double ambient_K, double h, std::string* error) {
  const size_t worlds = static_cast<size_t>(batch.num_worlds), d = sizeof(double);
  gpu::DeviceBuffer state, power, sign, current;
  if (!state.Allocate(worlds * kCellSlots * d, error) ||
      !state.CopyFromHost(batch.state, worlds * kCellSlots * d, error) ||
      !power.Allocate(worlds * d, error) ||
      !power.CopyFromHost(batch.power_cell_W, worlds * d, error) ||
      !sign.Allocate(worlds * d, error) || !sign.CopyFromHost(batch.sign, worlds * d, error) ||
      !current.Allocate(worlds * d, error))
    return false;
  CellBatch device{batch.num_worlds, static_cast<double*>(state.data()),
                   static_cast<const double*>(power.data()), static_cast<double*>(sign.data()),
                   static_cast<double*>(current.data())};
  const int threads = 128;
  CellStepKernel<<<(batch.num_worlds + threads - 1) / threads, threads>>>(cell, limits, device,
                                                                          ambient_K, h);
  if (!Launched("cell", error)) return false;
  return state.CopyToHost(batch.state, worlds * kCellSlots * d, error) &&
         sign.CopyToHost(batch.sign, worlds * d, error) &&
         current.CopyToHost(batch.current_A, worlds * d, error);
}

bool TurbineStepBatchCuda(const TurbineParams& p, const TurbineBatch& batch, double h, int substeps,
                          std::string* error) {
  const size_t worlds = static_cast<size_t>(batch.num_worlds), d = sizeof(double);
  gpu::DeviceBuffer state, pref;
  if (!state.Allocate(worlds * kGtSlots * d, error) ||
      !state.CopyFromHost(batch.state, worlds * kGtSlots * d, error) ||
      !pref.Allocate(worlds * d, error) || !pref.CopyFromHost(batch.p_ref_pu, worlds * d, error))
    return false;
  TurbineBatch device{batch.num_worlds, static_cast<double*>(state.data()),
                      static_cast<const double*>(pref.data())};
  const int threads = 128;
  TurbineStepKernel<<<(batch.num_worlds + threads - 1) / threads, threads>>>(p, device, h,
                                                                             substeps);
  if (!Launched("turbine", error)) return false;
  return state.CopyToHost(batch.state, worlds * kGtSlots * d, error);
}

}  // namespace ftwin::energy
