// Lumped thermal RC network: nodes with heat capacities, conductances between nodes and to
// an ambient temperature, and heat inputs. Linear ODE
//     C dT/dt = -L T + g_a T_amb + P
// discretised exactly for inputs held constant over a step (zero-order hold):
//     T(t + h) = Φ T(t) + Γ u,   Φ = exp(A h),  Γ = ∫_0^h exp(A s) ds B,
// with A = -C⁻¹L, B = C⁻¹[g_a | I], u = [T_amb; P]. Φ and Γ are computed once per model by the
// augmented matrix exponential (Van Loan 1978), so the step is exact and stable for any h.
// Scenario type "thermal_network" (docs/scenario.md).
#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "engine/block.h"
#include "engine/params.h"
#include "plants/thermal/thermal_math.h"

namespace ftwin {

class ThermalNetworkBlock final : public Block {
 public:
  struct Node {
    std::string name;
    double capacitance_J_per_K = 0.0;
    double ambient_conductance_W_per_K = 0.0;
    double initial_temp_K = 293.15;
  };
  struct Link {
    int a = 0, b = 0;
    double conductance_W_per_K = 0.0;
  };
  struct Config {
    std::vector<Node> nodes;
    std::vector<Link> links;
    std::vector<int> heated_nodes;  ///< one input port "heat_<node>_W" per entry
  };
  ThermalNetworkBlock(std::string name, Config config);
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);

  /// Continuous-time matrices: dT/dt = A T + B u, u = [T_amb; P_node...].
  const Eigen::MatrixXd& A() const { return a_; }
  const Eigen::MatrixXd& B() const { return b_; }
  /// Exact one-step matrices for step `h` seconds.
  static void Discretise(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, double h,
                         Eigen::MatrixXd* phi, Eigen::MatrixXd* gamma);

  /// The constant step matrices for the engine's dt (valid after Declare).
  ThermalStepModel StepModel() const;

  std::string type_name() const override { return "thermal_network"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  bool SupportsCuda() const override { return true; }
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor& executor) const override;
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;
  void ApplyFault(const TickInfo& tick, BlockIo& io, int fault, std::span<const double> params,
                  bool active) const override;
  void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const override;

 private:
  Config config_;
  Eigen::MatrixXd a_, b_, phi_, gamma_;
  std::vector<double> phi_row_major_, gamma_row_major_, capacitance_, ambient_conductance_;
  int in_ambient_ = -1;
  std::vector<int> in_heat_;
  std::vector<int32_t> heated_nodes_;  ///< node of each heat input
  int out_temp_ = -1, out_loss_ = -1;
  FieldId leak_ = kInvalidField, totals_ = kInvalidField;
};

void RegisterThermalBlocks(class BlockRegistry& registry);

}  // namespace ftwin
