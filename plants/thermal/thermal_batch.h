// Batched thermal steps for many worlds: the CPU driver and the CUDA driver of ThermalStep.
// Neither holds a formula: both loop ThermalStep (thermal_math.h) over worlds.
#pragma once

#include <string>

#include "plants/thermal/thermal_math.h"

namespace ftwin {

/// Worlds' arrays, world-major: inputs [worlds x (n + 1)], temps [worlds x n] (in/out),
/// stored_change_J and loss_W [worlds].
struct ThermalBatch {
  int num_worlds = 0;
  const double* inputs = nullptr;
  double* temps_K = nullptr;
  double* stored_change_J = nullptr;
  double* loss_W = nullptr;
};

/// CPU driver.
void ThermalStepBatchCpu(const ThermalStepModel& model, const ThermalBatch& batch);

/// CUDA driver (host arrays in, host arrays out; one thread per world). Returns false with the
/// reason when CUDA is not built or no device is present.
bool ThermalStepBatchCuda(const ThermalStepModel& model, const ThermalBatch& batch,
                          std::string* error);

}  // namespace ftwin
