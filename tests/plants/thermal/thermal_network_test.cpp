// Thermal RC network against analytic solutions and its energy balance.
#include "plants/thermal/thermal_network.h"

#include <Eigen/Eigenvalues>
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/rng.h"
#include "engine/scenario.h"
#include "engine/simulator.h"
#include "gpu/cuda_device.h"
#include "plants/register.h"
#include "plants/thermal/thermal_batch.h"

namespace ftwin {
namespace {

std::shared_ptr<const Model> Load(const std::string& text) {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  return LoadScenarioText(text, "thermal.yaml", registry).model;
}

TEST_CASE("A single thermal mass follows the analytic step response exactly", "[thermal]") {
  // C dT/dt = -g (T - Ta) + P, T(0) = T0  =>  T(t) = Ta + P/g + (T0 - Ta - P/g) exp(-g t / C)
  const double C = 5.0e5, g = 40.0, Ta = 275.0, P = 1200.0, T0 = 300.0;
  const auto model = Load(R"(ftwin: 1
name: rc
run: {dt: 7s, duration: 7h}
blocks:
  - {name: ambient, type: signal_source, unit: K, value: 275.0}
  - {name: power, type: signal_source, unit: W, value: 1200.0}
  - name: mass
    type: thermal_network
    nodes: [{name: m, capacitance_J_per_K: 5.0e5, ambient_conductance_W_per_K: 40.0, initial_temp_K: 300.0}]
    heat_inputs: [m]
connections:
  - [ambient.value, mass.ambient_K]
  - [power.value, mass.heat_m_W]
)");
  Simulator simulator(model);
  const FieldId temp = model->schema().Find("mass.temp_K");
  for (int step = 0; step < 5; ++step) {
    simulator.Step(1000);
    const double t = simulator.time_s();
    const double expected = Ta + P / g + (T0 - Ta - P / g) * std::exp(-g * t / C);
    CHECK(simulator.state().World<double>(temp, 0)[0] == Approx(expected).epsilon(1e-12));
  }
}

TEST_CASE(
    "A thermal network running at a period is exact over that period (bug: discretised "
    "with the tick)",
    "[thermal]") {
  // Same analytic step response, but the block runs every 10 ticks of 0.7 s (generic `period`).
  const double C = 5.0e5, g = 40.0, Ta = 275.0, P = 1200.0, T0 = 300.0;
  const auto model = Load(R"(ftwin: 1
name: rc
run: {dt: 700ms, duration: 7h}
blocks:
  - {name: ambient, type: signal_source, unit: K, value: 275.0}
  - {name: power, type: signal_source, unit: W, value: 1200.0}
  - name: mass
    type: thermal_network
    period: 7s
    nodes: [{name: m, capacitance_J_per_K: 5.0e5, ambient_conductance_W_per_K: 40.0, initial_temp_K: 300.0}]
    heat_inputs: [m]
connections:
  - [ambient.value, mass.ambient_K]
  - [power.value, mass.heat_m_W]
)");
  REQUIRE(model->binding(model->FindBlock("mass")).period_ticks == 10);
  Simulator simulator(model);
  const FieldId temp = model->schema().Find("mass.temp_K");
  for (int step = 0; step < 5; ++step) {
    simulator.Step(10000);
    const double t = simulator.time_s();
    const double expected = Ta + P / g + (T0 - Ta - P / g) * std::exp(-g * t / C);
    CHECK(simulator.state().World<double>(temp, 0)[0] == Approx(expected).epsilon(1e-12));
  }
}

TEST_CASE(
    "A two-node network matches the eigen-decomposition solution and closes its energy balance",
    "[thermal]") {
  const auto model = Load(R"(ftwin: 1
name: rc2
run: {dt: 30s, duration: 1d}
blocks:
  - {name: ambient, type: signal_source, unit: K, value: 270.0}
  - {name: power, type: signal_source, unit: W, value: 5000.0}
  - name: building
    type: thermal_network
    nodes:
      - {name: air, capacitance_J_per_K: 2.0e6, ambient_conductance_W_per_K: 60.0, initial_temp_K: 290.0}
      - {name: walls, capacitance_J_per_K: 5.0e7, ambient_conductance_W_per_K: 250.0, initial_temp_K: 280.0}
    links: [{a: air, b: walls, conductance_W_per_K: 900.0}]
    heat_inputs: [air]
connections:
  - [ambient.value, building.ambient_K]
  - [power.value, building.heat_air_W]
)");
  const auto& block =
      static_cast<const ThermalNetworkBlock&>(model->block(model->FindBlock("building")));
  Simulator simulator(model);
  simulator.Step(2880);  // one day
  // Independent route: T(t) = T_inf + V exp(Λ t) V⁻¹ (T0 - T_inf), T_inf = -A⁻¹ B u.
  const Eigen::MatrixXd& A = block.A();
  Eigen::VectorXd u(3);
  u << 270.0, 5000.0, 0.0;
  const Eigen::VectorXd t_inf = -A.fullPivLu().solve(block.B() * u);
  Eigen::EigenSolver<Eigen::MatrixXd> eigen(A);
  const Eigen::MatrixXd V = eigen.eigenvectors().real();
  const Eigen::VectorXd lambda = eigen.eigenvalues().real();
  Eigen::VectorXd t0(2);
  t0 << 290.0, 280.0;
  const Eigen::VectorXd coefficients = V.fullPivLu().solve(t0 - t_inf);
  const double t = 86400.0;
  Eigen::VectorXd expected = t_inf;
  for (int i = 0; i < 2; ++i) expected += V.col(i) * coefficients(i) * std::exp(lambda(i) * t);
  const double* temp = simulator.state().World<double>(model->schema().Find("building.temp_K"), 0);
  CHECK(temp[0] == Approx(expected(0)).epsilon(1e-10));
  CHECK(temp[1] == Approx(expected(1)).epsilon(1e-10));
  // Energy balance: heat in = loss to ambient + stored.
  const double* totals =
      simulator.state().World<double>(model->schema().Find("building.totals"), 0);
  const double stored = 2.0e6 * (temp[0] - 290.0) + 5.0e7 * (temp[1] - 280.0);
  CHECK(totals[0] == Approx(5000.0 * 86400.0).epsilon(1e-15));
  CHECK(totals[0] - totals[1] == Approx(stored).epsilon(1e-9));
}

TEST_CASE("Bad thermal networks are rejected with their key paths", "[thermal]") {
  const auto error_of = [](const std::string& nodes) {
    try {
      Load(
          "ftwin: 1\nname: x\nrun: {dt: 1s, duration: 1s}\nblocks:\n  - name: b\n    type: "
          "thermal_network\n" +
          nodes);
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  CHECK_THAT(error_of("    nodes: [{name: a, capacitance_J_per_K: 1}]\n"),
             Catch::Contains("ambient_conductance_W_per_K > 0"));
  CHECK_THAT(
      error_of("    nodes: [{name: a, capacitance_J_per_K: 1, ambient_conductance_W_per_K: 1}]\n"
               "    links: [{a: a, b: c, conductance_W_per_K: 1}]\n"),
      Catch::Contains("blocks[0].links[0].b: got 'c', expected the name of a node"));
  CHECK_THAT(
      error_of("    nodes: [{name: a, capacitance_J_per_K: 0, ambient_conductance_W_per_K: 1}]\n"),
      Catch::Contains("capacitance_J_per_K: got '0', expected a number > 0"));
}

}  // namespace
}  // namespace ftwin

namespace ftwin {
namespace {

// A 3-node network's step model for the batch drivers (h = 60 s).
struct ThreeNodeNetwork {
  std::vector<double> phi, gamma, capacitance{4.0e5, 2.0e6, 9.0e6}, conductance{30.0, 0.0, 120.0};
  ThermalStepModel model;
  ThreeNodeNetwork() {
    Eigen::MatrixXd a = Eigen::MatrixXd::Zero(3, 3), b = Eigen::MatrixXd::Zero(3, 4);
    const double g01 = 200.0, g12 = 500.0;
    const double l[3][3] = {
        {g01 + 30.0, -g01, 0.0}, {-g01, g01 + g12, -g12}, {0.0, -g12, g12 + 120.0}};
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) a(i, j) = -l[i][j] / capacitance[static_cast<size_t>(i)];
      b(i, 0) = conductance[static_cast<size_t>(i)] / capacitance[static_cast<size_t>(i)];
      b(i, i + 1) = 1.0 / capacitance[static_cast<size_t>(i)];
    }
    Eigen::MatrixXd p, g;
    ThermalNetworkBlock::Discretise(a, b, 60.0, &p, &g);
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) phi.push_back(p(i, j));
      for (int j = 0; j < 4; ++j) gamma.push_back(g(i, j));
    }
    model = {3, phi.data(), gamma.data(), capacitance.data(), conductance.data()};
  }
};

TEST_CASE("The batched CPU driver equals stepping each world alone", "[thermal]") {
  ThreeNodeNetwork network;
  const int worlds = 1000;
  std::vector<double> inputs(worlds * 4), temps(worlds * 3), stored(worlds), loss(worlds);
  const CounterRng rng{5, 0, 0};
  for (int w = 0; w < worlds; ++w) {
    inputs[static_cast<size_t>(w * 4)] = 260.0 + 30.0 * rng.Uniform(static_cast<uint64_t>(w));
    for (int i = 1; i < 4; ++i)
      inputs[static_cast<size_t>(w * 4 + i)] =
          1000.0 * rng.Uniform(static_cast<uint64_t>(w), 1) * i;
    for (int i = 0; i < 3; ++i) temps[static_cast<size_t>(w * 3 + i)] = 280.0 + i + w * 0.01;
  }
  std::vector<double> single = temps;
  ThermalStepBatchCpu(network.model,
                      {worlds, inputs.data(), temps.data(), stored.data(), loss.data()});
  for (int w = 0; w < worlds; w += 97) {
    double change, loss_w;
    ThermalStep(network.model, inputs.data() + w * 4, single.data() + w * 3, &change, &loss_w);
    for (int i = 0; i < 3; ++i)
      CHECK(single[static_cast<size_t>(w * 3 + i)] == temps[static_cast<size_t>(w * 3 + i)]);
    CHECK(change == stored[static_cast<size_t>(w)]);
  }
}

TEST_CASE("CUDA thermal driver matches the CPU driver", "[gpu]") {
  const gpu::CudaStatus cuda = gpu::QueryCuda();
  if (!cuda.available) {
    WARN("skipped: CUDA parity needs a GPU; " << cuda.reason);
    return;
  }
  ThreeNodeNetwork network;
  const int worlds = 65536;
  std::vector<double> inputs(worlds * 4), temps(worlds * 3);
  for (int w = 0; w < worlds; ++w) {
    inputs[static_cast<size_t>(w * 4)] = 250.0 + (w % 40);
    for (int i = 1; i < 4; ++i) inputs[static_cast<size_t>(w * 4 + i)] = 100.0 * ((w + i) % 17);
    for (int i = 0; i < 3; ++i) temps[static_cast<size_t>(w * 3 + i)] = 290.0 + i;
  }
  std::vector<double> cpu_temps = temps, gpu_temps = temps, cpu_stored(worlds), gpu_stored(worlds),
                      cpu_loss(worlds), gpu_loss(worlds);
  std::string error;
  for (int step = 0; step < 100; ++step) {
    ThermalStepBatchCpu(network.model, {worlds, inputs.data(), cpu_temps.data(), cpu_stored.data(),
                                        cpu_loss.data()});
    REQUIRE(ThermalStepBatchCuda(
        network.model,
        {worlds, inputs.data(), gpu_temps.data(), gpu_stored.data(), gpu_loss.data()}, &error));
  }
  // nvcc contracts a*b+c into fused multiply-adds, g++ does not: agreement to rounding, stated
  // as 1e-12 relative on temperatures after 100 steps.
  for (size_t i = 0; i < cpu_temps.size(); ++i)
    CHECK(gpu_temps[i] == Approx(cpu_temps[i]).epsilon(1e-12));
}

}  // namespace
}  // namespace ftwin
