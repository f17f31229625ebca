#include "plants/thermal/thermal_network.h"

#include <unsupported/Eigen/MatrixFunctions>

#include "engine/device_state.h"
#include "engine/scenario.h"
#include "plants/thermal/thermal_kernels.h"

namespace ftwin {
ThermalNetworkBlock::ThermalNetworkBlock(std::string name, Config config)
    : Block(std::move(name)), config_(std::move(config)) {
  const int n = static_cast<int>(config_.nodes.size());
  Eigen::MatrixXd conductance = Eigen::MatrixXd::Zero(n, n);  // L: weighted Laplacian + ambient
  for (const Link& link : config_.links) {
    conductance(link.a, link.a) += link.conductance_W_per_K;
    conductance(link.b, link.b) += link.conductance_W_per_K;
    conductance(link.a, link.b) -= link.conductance_W_per_K;
    conductance(link.b, link.a) -= link.conductance_W_per_K;
  }
  Eigen::VectorXd ambient(n), inverse_capacitance(n);
  for (int i = 0; i < n; ++i) {
    conductance(i, i) += config_.nodes[static_cast<size_t>(i)].ambient_conductance_W_per_K;
    ambient(i) = config_.nodes[static_cast<size_t>(i)].ambient_conductance_W_per_K;
    inverse_capacitance(i) = 1.0 / config_.nodes[static_cast<size_t>(i)].capacitance_J_per_K;
  }
  a_ = -(inverse_capacitance.asDiagonal() * conductance);
  for (const Node& node : config_.nodes) {
    capacitance_.push_back(node.capacitance_J_per_K);
    ambient_conductance_.push_back(node.ambient_conductance_W_per_K);
  }
  b_ = Eigen::MatrixXd::Zero(n, n + 1);
  b_.col(0) = inverse_capacitance.cwiseProduct(ambient);
  b_.rightCols(n) = inverse_capacitance.asDiagonal();
}

void ThermalNetworkBlock::Discretise(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, double h,
                                     Eigen::MatrixXd* phi, Eigen::MatrixXd* gamma) {
  const Eigen::Index n = a.rows(), m = b.cols();
  Eigen::MatrixXd augmented = Eigen::MatrixXd::Zero(n + m, n + m);
  augmented.topLeftCorner(n, n) = a * h;
  augmented.topRightCorner(n, m) = b * h;
  const Eigen::MatrixXd exponential = augmented.exp();
  *phi = exponential.topLeftCorner(n, n);
  *gamma = exponential.topRightCorner(n, m);
}

std::unique_ptr<Block> ThermalNetworkBlock::FromParams(const std::string& name,
                                                       ParamReader& params) {
  Config config;
  for (ParamReader& node : params.ChildList("nodes", true)) {
    Node entry;
    entry.name = node.RequiredString("name");
    entry.capacitance_J_per_K =
        node.RequiredNumber("capacitance_J_per_K", NumberRange::Positive("J/K"));
    entry.ambient_conductance_W_per_K =
        node.Number("ambient_conductance_W_per_K", 0.0, NumberRange::NonNegative("W/K"));
    entry.initial_temp_K = node.Number("initial_temp_K", 293.15, NumberRange::Positive("K"));
    for (const Node& existing : config.nodes)
      if (existing.name == entry.name)
        node.Error("name", entry.name, "expected a unique node name");
    node.Finish();
    config.nodes.push_back(entry);
  }
  auto find_node = [&](ParamReader& reader, const std::string& key) {
    const std::string node_name = reader.RequiredString(key);
    for (size_t i = 0; i < config.nodes.size(); ++i)
      if (config.nodes[i].name == node_name) return static_cast<int>(i);
    if (!node_name.empty())
      reader.Error(key, node_name, "expected the name of a node of this network");
    return -1;
  };
  for (ParamReader& link : params.ChildList("links")) {
    Link entry;
    entry.a = find_node(link, "a");
    entry.b = find_node(link, "b");
    entry.conductance_W_per_K =
        link.RequiredNumber("conductance_W_per_K", NumberRange::Positive("W/K"));
    if (entry.a >= 0 && entry.a == entry.b)
      link.Error("b", "", "expected a link between two different nodes");
    link.Finish();
    if (entry.a >= 0 && entry.b >= 0) config.links.push_back(entry);
  }
  const YAML::Node heated = params.Raw("heat_inputs");
  if (heated.IsDefined() && !heated.IsNull()) {
    if (!heated.IsSequence()) {
      params.Error("heat_inputs", NodeText(heated), "expected a list of node names");
    } else {
      for (const auto& item : heated) {
        int index = -1;
        for (size_t i = 0; i < config.nodes.size(); ++i)
          if (item.IsScalar() && config.nodes[i].name == item.Scalar()) index = static_cast<int>(i);
        if (index < 0)
          params.diagnostics()->Add(NodeLocation(item, params.file()),
                                    params.path() + ".heat_inputs", NodeText(item),
                                    "expected the name of a node of this network");
        else
          config.heated_nodes.push_back(index);
      }
    }
  }
  // Every node must reach the ambient, or its temperature drifts without bound under heat input.
  if (!config.nodes.empty()) {
    bool any_ambient = false;
    for (const Node& node : config.nodes)
      any_ambient = any_ambient || node.ambient_conductance_W_per_K > 0;
    if (!any_ambient)
      params.Error("nodes", "", "expected at least one node with ambient_conductance_W_per_K > 0");
  }
  if (config.nodes.size() > static_cast<size_t>(kThermalMaxNodes))
    params.Error("nodes", std::to_string(config.nodes.size()), "expected at most 64 nodes");
  if (config.nodes.empty()) return nullptr;
  return std::make_unique<ThermalNetworkBlock>(name, std::move(config));
}

void ThermalNetworkBlock::Declare(const DeclareContext& context, BlockDeclaration& declaration) {
  const int n = static_cast<int>(config_.nodes.size());
  Discretise(a_, b_, context.period_s, &phi_, &gamma_);  // exact over one run of the block
  phi_row_major_.assign(static_cast<size_t>(n * n), 0.0);
  gamma_row_major_.assign(static_cast<size_t>(n * (n + 1)), 0.0);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) phi_row_major_[static_cast<size_t>(i * n + j)] = phi_(i, j);
    for (int j = 0; j <= n; ++j)
      gamma_row_major_[static_cast<size_t>(i * (n + 1) + j)] = gamma_(i, j);
  }
  heated_nodes_.assign(config_.heated_nodes.begin(), config_.heated_nodes.end());
  in_ambient_ =
      declaration.AddInput({.name = "ambient_K", .unit = "K", .doc = "ambient temperature"});
  for (int node : config_.heated_nodes)
    in_heat_.push_back(declaration.AddInput(
        {.name = "heat_" + config_.nodes[static_cast<size_t>(node)].name + "_W",
         .unit = "W",
         .doc = "heat flow into the node"}));
  out_temp_ =
      declaration.AddOutput({.name = "temp_K", .size = n, .unit = "K", .doc = "node temperatures"},
                            FieldKind::kContinuous, 0.0, 1e4);
  out_loss_ = declaration.AddOutput({.name = "loss_W", .unit = "W", .doc = "heat flow to ambient"});
  leak_ = declaration.AddState({.name = "leak_W",
                                .shape = {n},
                                .unit = "W",
                                .kind = FieldKind::kDiscrete,
                                .doc = "extra heat loss per node from the 'heat_leak' fault"});
  totals_ = declaration.AddState({.name = "totals",
                                  .shape = {kTotalSlots},
                                  .unit = "J",
                                  .kind = FieldKind::kDiscrete,
                                  .doc = "heat in [J], loss to ambient [J], elapsed [s]"});
  declaration.AddFault(
      {.name = "heat_leak",
       .params = {{.name = "node", .unit = "1", .lower = 0, .upper = n - 1.0, .doc = "node index"},
                  {.name = "power_W",
                   .unit = "W",
                   .lower = 0,
                   .upper = 1e9,
                   .default_value = 1000.0,
                   .doc = "heat lost"}},
       .doc = "an extra heat loss at a node (an open door, a broken seal)"});
  for (const Node& node : config_.nodes)
    declaration.AddKpi(
        {.name = "final_temp_" + node.name + "_K", .unit = "K", .doc = "temperature at the end"});
  declaration.AddKpi({.name = "heat_in_J", .unit = "J", .doc = "heat delivered by the inputs"});
  declaration.AddKpi({.name = "loss_to_ambient_J", .unit = "J", .doc = "heat lost to the ambient"});
}

void ThermalNetworkBlock::InitWorld(const TickInfo&, BlockIo& io) const {
  double* temp = io.Out(out_temp_);
  for (size_t i = 0; i < config_.nodes.size(); ++i) temp[i] = config_.nodes[i].initial_temp_K;
}

void ThermalNetworkBlock::Update(const TickInfo& tick, BlockIo& io) const {
  const double* heat[kThermalMaxNodes];  // on the stack: no allocation in the tick
  for (size_t k = 0; k < in_heat_.size(); ++k) heat[k] = io.In(in_heat_[k]);
  ThermalWorldStep(StepModel(), heated_nodes_.data(), static_cast<int>(in_heat_.size()),
                   tick.period_s,
                   {io.In(in_ambient_), heat, io.Field<double>(leak_), io.Out(out_temp_),
                    io.Out(out_loss_), io.Field<double>(totals_)});
}

namespace {
// The step matrices in device memory.
struct ThermalDeviceData final : DeviceBlockData {
  gpu::DeviceArray<double> phi, gamma, capacitance, conductance;
};
}  // namespace

std::unique_ptr<DeviceBlockData> ThermalNetworkBlock::CreateDeviceData(
    gpu::Executor& executor) const {
  auto data = std::make_unique<ThermalDeviceData>();
  using Array = gpu::DeviceArray<double>;
  data->phi = Array::FromHost(executor, phi_row_major_.data(), phi_row_major_.size());
  data->gamma = Array::FromHost(executor, gamma_row_major_.data(), gamma_row_major_.size());
  data->capacitance = Array::FromHost(executor, capacitance_.data(), capacitance_.size());
  data->conductance =
      Array::FromHost(executor, ambient_conductance_.data(), ambient_conductance_.size());
  return data;
}

void ThermalNetworkBlock::UpdateDevice(const TickInfo& tick, const DeviceState& state,
                                       const BlockBinding& binding,
                                       const DeviceBlockData* data) const {
  const auto* device = static_cast<const ThermalDeviceData*>(data);
  ThermalDeviceArgs args;
  args.model = {static_cast<int>(config_.nodes.size()), device->phi.data(), device->gamma.data(),
                device->capacitance.data(), device->conductance.data()};
  args.num_heat = static_cast<int>(in_heat_.size());
  for (int k = 0; k < args.num_heat; ++k) {
    args.heated_nodes[k] = heated_nodes_[static_cast<size_t>(k)];
    args.heat_W[k] = state.Input(binding, in_heat_[static_cast<size_t>(k)]);
  }
  args.period_s = tick.period_s;
  args.ambient_K = state.Input(binding, in_ambient_);
  args.leak_W = state.Field<double>(leak_).Const();
  args.temp_K = state.Output(binding, out_temp_);
  args.loss_W = state.Output(binding, out_loss_);
  args.totals = state.Field<double>(totals_);
  ThermalOnDevice(state.executor(), state.num_worlds(), args);
}

ThermalStepModel ThermalNetworkBlock::StepModel() const {
  return {static_cast<int>(config_.nodes.size()), phi_row_major_.data(), gamma_row_major_.data(),
          capacitance_.data(), ambient_conductance_.data()};
}

void ThermalNetworkBlock::ApplyFault(const TickInfo&, BlockIo& io, int,
                                     std::span<const double> params, bool active) const {
  const int node = static_cast<int>(params[0]);
  io.Field<double>(leak_)[node] = active ? params[1] : 0.0;
}

void ThermalNetworkBlock::ComputeKpis(const TickInfo&, const BlockIo& io,
                                      std::span<double> kpis) const {
  const double* temp = io.Out(out_temp_);
  const size_t n = config_.nodes.size();
  for (size_t i = 0; i < n; ++i) kpis[i] = temp[i];
  kpis[n] = io.Field<double>(totals_)[kHeatInJ];
  kpis[n + 1] = io.Field<double>(totals_)[kLossToAmbientJ];
}

void RegisterThermalBlocks(BlockRegistry& registry) {
  registry.Register("thermal_network", "lumped thermal RC network with exact ZOH discretisation",
                    ThermalNetworkBlock::FromParams);
}

}  // namespace ftwin
