// One exact step of a lumped thermal RC network (host-device; see thermal_network.h for the
// model). The CPU driver (ThermalNetworkBlock::Update) and the CUDA driver
// (thermal_network_cuda.cu) both call ThermalStep, one world at a time.
#pragma once

#include <cstdint>

#include "gpu/host_device.h"

namespace ftwin {

/// Largest network a block may hold (stack buffers in the step).
constexpr int kThermalMaxNodes = 64;

/// The constant matrices of a network, row-major, for step length h.
struct ThermalStepModel {
  int num_nodes = 0;
  const double* phi = nullptr;                  ///< exp(A h), num_nodes x num_nodes
  const double* gamma = nullptr;                ///< ∫ exp(A s) ds B, num_nodes x (num_nodes + 1)
  const double* capacitance_J_per_K = nullptr;  ///< num_nodes
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

/// Per-world running totals of a thermal_network block ("<block>.totals").
enum ThermalTotalSlot { kHeatInJ, kLossToAmbientJ, kElapsedS, kTotalSlots };

/// One world's fields of a thermal_network block.
struct ThermalWorld {
  const double* ambient_K;      ///< input port
  const double* const* heat_W;  ///< one input port per heated node (num_heat pointers)
  const double* leak_W;         ///< num_nodes: the heat_leak fault
  double* temp_K;               ///< num_nodes: output port
  double* loss_W;               ///< output port
  double* totals;               ///< kTotalSlots
};

/// One run of the thermal_network block for one world (the CPU driver, Update, and the device
/// driver, UpdateDevice, both call this): builds u = [T_amb; net heat per node] on the stack,
/// takes the exact step and books the energy balance. `heated_nodes[k]` is the node of heat
/// input k.
FTWIN_HD inline void ThermalWorldStep(const ThermalStepModel& model, const int32_t* heated_nodes,
                                      int num_heat, double period_s, const ThermalWorld& w) {
  const int n = model.num_nodes;
  double input[kThermalMaxNodes + 1];
  double heat_total = 0.0, leak_total = 0.0;
  input[0] = w.ambient_K[0];
  for (int i = 0; i < n; ++i) {
    input[i + 1] = -w.leak_W[i];
    leak_total += w.leak_W[i];
  }
  for (int k = 0; k < num_heat; ++k) {
    const double power = w.heat_W[k][0];
    input[heated_nodes[k] + 1] += power;
    heat_total += power;
  }
  double stored_change_J = 0.0, loss_W = 0.0;
  ThermalStep(model, input, w.temp_K, &stored_change_J, &loss_W);
  // Loss to the ambient over the step from the energy balance of the exact solution:
  // heat in - leak - change of stored heat.
  double* totals = w.totals;
  const double heat_in_J = heat_total * period_s;
  totals[kHeatInJ] += heat_in_J;
  totals[kLossToAmbientJ] += heat_in_J - leak_total * period_s - stored_change_J;
  totals[kElapsedS] += period_s;
  w.loss_W[0] = loss_W + leak_total;
}

}  // namespace ftwin
