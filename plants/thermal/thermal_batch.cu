// CUDA driver of the thermal step: one thread per world calls ThermalStep (no formula here).
#include <cuda_runtime.h>

#include <vector>

#include "gpu/device_memory.h"
#include "plants/thermal/thermal_batch.h"

namespace ftwin {
namespace {

__global__ void ThermalStepKernel(ThermalStepModel model, ThermalBatch batch) {
  const int world = blockIdx.x * blockDim.x + threadIdx.x;
  if (world >= batch.num_worlds) return;
  const int n = model.num_nodes;
  ThermalStep(model, batch.inputs + world * (n + 1), batch.temps_K + world * n,
              batch.stored_change_J + world, batch.loss_W + world);
}

}  // namespace

bool ThermalStepBatchCuda(const ThermalStepModel& model, const ThermalBatch& batch,
                          std::string* error) {
  const int n = model.num_nodes;
  const size_t worlds = static_cast<size_t>(batch.num_worlds);
  gpu::DeviceBuffer phi, gamma, capacitance, conductance, inputs, temps, stored, loss;
  const size_t d = sizeof(double);
  if (!phi.Allocate(n * n * d, error) || !phi.CopyFromHost(model.phi, n * n * d, error))
    return false;
  if (!gamma.Allocate(n * (n + 1) * d, error) ||
      !gamma.CopyFromHost(model.gamma, n * (n + 1) * d, error))
    return false;
  if (!capacitance.Allocate(n * d, error) ||
      !capacitance.CopyFromHost(model.capacitance_J_per_K, n * d, error))
    return false;
  if (!conductance.Allocate(n * d, error) ||
      !conductance.CopyFromHost(model.ambient_conductance_W_per_K, n * d, error))
    return false;
  if (!inputs.Allocate(worlds * (n + 1) * d, error) ||
      !inputs.CopyFromHost(batch.inputs, worlds * (n + 1) * d, error))
    return false;
  if (!temps.Allocate(worlds * n * d, error) ||
      !temps.CopyFromHost(batch.temps_K, worlds * n * d, error))
    return false;
  if (!stored.Allocate(worlds * d, error) || !loss.Allocate(worlds * d, error)) return false;
  ThermalStepModel device_model{n, static_cast<const double*>(phi.data()),
                                static_cast<const double*>(gamma.data()),
                                static_cast<const double*>(capacitance.data()),
                                static_cast<const double*>(conductance.data())};
  ThermalBatch device_batch{batch.num_worlds, static_cast<const double*>(inputs.data()),
                            static_cast<double*>(temps.data()), static_cast<double*>(stored.data()),
                            static_cast<double*>(loss.data())};
  const int threads = 128;
  ThermalStepKernel<<<(batch.num_worlds + threads - 1) / threads, threads>>>(device_model,
                                                                             device_batch);
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) {
    *error = std::string("thermal kernel launch: ") + cudaGetErrorString(status);
    return false;
  }
  return temps.CopyToHost(batch.temps_K, worlds * n * d, error) &&
         stored.CopyToHost(batch.stored_change_J, worlds * d, error) &&
         loss.CopyToHost(batch.loss_W, worlds * d, error);
}

}  // namespace ftwin
