// One exact step of a lumped thermal RC network (host-device; see thermal_network.h for the
// model). The CPU driver (ThermalNetworkBlock::Update) and the CUDA driver
// (thermal_network_cuda.cu) both call ThermalStep, one world at a time.
#pragma once

#include "gpu/host_device.h"

namespace ftwin {

/// Largest network a block may hold (stack buffers in the step).
constexpr int kThermalMaxNodes = 64;

/// The constant matrices of a network, row-major, for step length h.
struct ThermalStepModel {
  int num_nodes = 0;
  const double* phi = nullptr;    ///< exp(A h), num_nodes x num_nodes
  const double* gamma = nullptr;  ///< ∫ exp(A s) ds B, num_nodes x (num_nodes + 1)
  const double* capacitance_J_per_K = nullptr;          ///< num_nodes
  const double* ambient_conductance_W_per_K = nullptr;  ///< num_nodes
};

/// Advances `temp_K` (num_nodes, in/out) by one step with inputs held constant:
/// input[0] = ambient temperature [K], input[1 + i] = net heat into node i [W].
/// Returns the change of stored heat [J] in `stored_change_J` and the heat flow to the ambient
/// at the end of the step [W] in `loss_W`.
FTWIN_HD inline void ThermalStep(const ThermalStepModel& model, const double* input, double* temp_K,
                                 double* stored_change_J, double* loss_W) {
  const int n = model.num_nodes;
  double next[kThermalMaxNodes];
  double stored_before = 0.0;
  for (int i = 0; i < n; ++i) {
    stored_before += model.capacitance_J_per_K[i] * temp_K[i];
    double value = 0.0;
    for (int j = 0; j < n; ++j) value += model.phi[i * n + j] * temp_K[j];
    for (int j = 0; j <= n; ++j) value += model.gamma[i * (n + 1) + j] * input[j];
    next[i] = value;
  }
  double stored_after = 0.0, loss = 0.0;
  for (int i = 0; i < n; ++i) {
    temp_K[i] = next[i];
    stored_after += model.capacitance_J_per_K[i] * next[i];
    loss += model.ambient_conductance_W_per_K[i] * (next[i] - input[0]);
  }
  *stored_change_J = stored_after - stored_before;
  *loss_W = loss;
}

}  // namespace ftwin
