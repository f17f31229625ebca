// Batched energy-component steps for many worlds: a CPU driver and a CUDA driver, neither with a
// formula of its own: both loop the host-device steps (PackStep of battery_math.h, TurbineStep of
// turbine_math.h) over worlds, one CUDA thread per world.
#pragma once

#include <string>

#include "plants/energy/battery_math.h"
#include "plants/energy/turbine_math.h"

namespace ftwin::energy {

/// World-major arrays: cell state [worlds x kCellSlots] (in/out), DC power per cell [worlds],
/// hysteresis sign [worlds] (in/out), current used [worlds] (out).
struct CellBatch {
  int num_worlds = 0;
  double* state = nullptr;
  const double* power_cell_W = nullptr;
  double* sign = nullptr;
  double* current_A = nullptr;
};

/// Turbine state [worlds x kGtSlots] (in/out) and load reference [worlds].
struct TurbineBatch {
  int num_worlds = 0;
  double* state = nullptr;
  const double* p_ref_pu = nullptr;
};

void CellStepBatchCpu(const CellParams& cell, const BmsLimits& limits, const CellBatch& batch,
                      double ambient_K, double h);
void TurbineStepBatchCpu(const TurbineParams& p, const TurbineBatch& batch, double h, int substeps);

/// CUDA drivers (host arrays in and out). Return false with the reason when CUDA is not built or
/// no device is present.
bool CellStepBatchCuda(const CellParams& cell, const BmsLimits& limits, const CellBatch& batch,
                       double ambient_K, double h, std::string* error);
bool TurbineStepBatchCuda(const TurbineParams& p, const TurbineBatch& batch, double h, int substeps,
                          std::string* error);

}  // namespace ftwin::energy
