// The hybrid device path (docs/gpu.md): blocks without a device update, or with per-world
// objects, run on the host between the device kernels, on their inputs and own fields, which
// move for them. On the emulated executor the result must equal the CPU driver bit for bit, with
// a host block between device blocks (reading a device output, feeding a device block directly
// and through a delayed connection, taking commands and NaN resets), and for a Bullet robot cell
// (per-world Bullet worlds) next to device instruments.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "plants/register.h"
#include "robots/register.h"
#include "tests/gpu/state_compare.h"

namespace ftwin {
namespace {

// A block with no device update: integrates gain * in into `sum`; the command `gain` sets the
// gain. A NaN input makes the sum NaN, which the numeric check must catch on either path.
class HostIntegrator : public Block {
 public:
  using Block::Block;
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params) {
    params.Finish();
    return std::make_unique<HostIntegrator>(name);
  }
  std::string type_name() const override { return "host_integrator"; }
  void Declare(const DeclareContext&, BlockDeclaration& declaration) override {
    in_ = declaration.AddInput({.name = "in", .unit = "1", .doc = "integrand"});
    sum_ = declaration.AddOutput({.name = "sum", .unit = "s", .doc = "integral"},
                                 FieldKind::kContinuous);
    gain_ = declaration.AddState({.name = "gain", .unit = "1", .doc = "integrand gain"});
    declaration.AddCommand({.verb = "gain",
                            .args = {{.name = "gain", .unit = "1", .lower = -10, .upper = 10}},
                            .doc = "sets the gain"});
  }
  void InitWorld(const TickInfo&, BlockIo& io) const override {
    io.Field<double>(gain_)[0] = 1.0 + 0.25 * io.world();
  }
  void Update(const TickInfo& tick, BlockIo& io) const override {
    io.Out(sum_)[0] += io.Field<double>(gain_)[0] * io.In(in_)[0] * tick.period_s;
  }
  void ApplyCommand(const TickInfo&, BlockIo& io, int,
                    std::span<const double> args) const override {
    io.Field<double>(gain_)[0] = args[0];
  }

 private:
  int in_ = 0, sum_ = 0;
  FieldId gain_ = kInvalidField;
};

// Every field of every world equal byte for byte (names the first that differs).
void RequireSameState(const Simulator& a, const Simulator& b) {
  CHECK(CompareStates(a, b, {}) == "");
  CHECK(a.state().Hash() == b.state().Hash());
}

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  RegisterRobotBlocks(registry);
  registry.Register("host_integrator", "test block without a device update",
                    HostIntegrator::FromParams);
  return registry;
}

std::shared_ptr<const Model> Load(const std::string& text, int worlds, int threads = 1) {
  RunOverrides overrides;
  overrides.num_worlds = worlds;
  overrides.num_threads = threads;
  return LoadScenarioText(text, "hybrid.yaml", Registry(), overrides).model;
}

// signal (device) -> integrator (host) -> pid measurement (device, direct) and a sensor
// (device, through a delayed connection) -> integrator2 (host, after the device blocks).
const char* kChain = R"(ftwin: 1
name: hybrid
run: {dt: 1s, duration: 1h, seed: 11}
blocks:
  - {name: src, type: signal_source, shape: sine, unit: "1", mean: 0.5, amplitude: 1.0, wave_period: 5min}
  - {name: integ, type: host_integrator}
  - {name: pid, type: pid_controller, measurement_unit: s, output_unit: "1", setpoint: 30.0,
     setpoint_min: 0.0, setpoint_max: 100.0, kp: 0.2, ki: 0.01, output_min: -5.0, output_max: 5.0}
  - {name: probe, type: sensor, unit: s, noise_sigma: 0.05, lag_time_constant: 5s}
  - {name: integ2, type: host_integrator}
connections:
  - [src.value, integ.in]
  - [integ.sum, pid.measurement]
  - [integ.sum, probe.truth, delayed]
  - [pid.command, integ2.in]
)";

TEST_CASE("Hybrid device path: host blocks between kernels equal the CPU bit for bit",
          "[gpu_runtime][determinism]") {
  const auto model = Load(kChain, 6);
  CHECK(Simulator::DevicePathUnsupported(*model).empty());
  CHECK(Simulator::HostBlocksOnDevicePath(*model) ==
        "'integ' (host_integrator) has no device update, 'integ2' (host_integrator) has no "
        "device update");
  Simulator cpu(model);
  Simulator device(model, nullptr, {SimDevice::kEmulated});
  REQUIRE(device.on_device());
  CHECK_THAT(device.device_message(),
             Catch::Contains("; on the host: 'integ' (host_integrator) has no device update"));
  for (Simulator* sim : {&cpu, &device}) {
    REQUIRE(sim->Submit({40, 2, "integ/gain", {-0.5}, "test"}).empty());
    REQUIRE(sim->Submit({90, -1, "integ2/gain", {2.0}, "test"}).empty());
    REQUIRE(sim->Submit({120, 4, "pid.setpoint", {10.0}, "test"}).empty());
  }
  const FieldId sum = model->schema().Find("integ.sum");
  REQUIRE(sum != kInvalidField);
  for (int chunk = 0; chunk < 4; ++chunk) {
    cpu.Step(50);
    device.Step(50);
    // Reading through ReadFields on the device path sees the same values mid-run.
    const State& partial = device.ReadFields({&sum, 1});
    for (int world = 0; world < 6; ++world)
      CHECK(partial.World<double>(sum, world)[0] ==
            std::as_const(cpu).state().World<double>(sum, world)[0]);
    if (chunk == 1) {  // a NaN in a host block's field: caught and reset on both paths
      cpu.state().World<double>(sum, 3)[0] = std::numeric_limits<double>::quiet_NaN();
      device.state().World<double>(sum, 3)[0] = std::numeric_limits<double>::quiet_NaN();
    }
  }
  CHECK(device.total_resets() == 1);
  CHECK(cpu.total_resets() == 1);
  RequireSameState(device, cpu);
  // The host blocks' traffic per tick is their inputs down and their own fields up, not the
  // whole State: far less than two State copies per tick.
  const Simulator::DeviceSyncs syncs = device.device_syncs();
  const int64_t state_bytes = static_cast<int64_t>(model->schema().BytesPerWorld()) * 6;
  CHECK(syncs.upload_bytes + syncs.download_bytes < 200 * state_bytes);
}

TEST_CASE("Hybrid device path: batch size and thread count do not change a world",
          "[gpu_runtime][determinism]") {
  const auto big = Load(kChain, 16, 2);
  const auto small = Load(kChain, 3, 1);
  Simulator a(big, nullptr, {SimDevice::kEmulated});
  Simulator b(small, nullptr, {SimDevice::kEmulated});
  REQUIRE(a.on_device());
  a.Step(120);
  b.Step(120);
  const FieldId sum = big->schema().Find("integ2.sum");
  for (int world = 0; world < 3; ++world)
    CHECK(std::as_const(a).state().World<double>(sum, world)[0] ==
          std::as_const(b).state().World<double>(sum, world)[0]);
}

TEST_CASE("Hybrid device path: a Bullet robot cell runs on the host beside device sensors",
          "[gpu_runtime][determinism]") {
  // The cell keeps a Bullet world per world (WorldAux): it runs on the host; the generic sensor
  // on its joint state and the energy meter on its drive power run as kernels.
  const std::string text = R"(ftwin: 1
name: hybrid-cell
run: {dt: 1ms, duration: 3s, seed: 5}
blocks:
  - name: cell
    type: robot_cell
    physics: bullet
    conveyor_length_m: 0.5
    conveyor_speed_m_per_s: 1.0
    exit_length_m: 1.5
    body_size_m: [1.0, 0.6, 0.3]
    body_floor_m: 0.1
    approach_m: 0.08
    clamp_time: 100ms
    weld_time: 100ms
    robots:
      - name: left
        urdf: )" + std::string(FTWIN_ROBOTS_DATA_DIR) +
                           R"(/ur5e.urdf
        base_xyz_m: [-0.3, -0.75, 0.0]
        base_yaw_rad: 1.5707963267948966
        home_rad: [0.0, -1.8, 1.8, -1.57, -1.57, 0.0]
        link_radius_m: 0.05
        tool: {mass_kg: 1.0, com_m: [0, 0, 0.05], tcp_xyz_m: [0, 0, 0.1]}
        spots:
          - {position_m: [0.0, -0.3, 0.42], direction: [0, 1, 0]}
  - {name: power_probe, type: sensor, unit: W, noise_sigma: 5.0, lag_time_constant: 10ms}
  - {name: body_probe, type: sensor, unit: m, noise_sigma: 0.001}
connections:
  - [cell.power_W, power_probe.truth]
  - [cell.body_x_m, body_probe.truth, delayed]
)";
  const auto model = Load(text, 2);
  const std::string host = Simulator::HostBlocksOnDevicePath(*model);
  CHECK_THAT(host, Catch::Contains("'cell' (robot_cell) keeps per-world objects"));
  Simulator cpu(model);
  Simulator device(model, nullptr, {SimDevice::kEmulated});
  REQUIRE(device.on_device());
  cpu.Step(1200);
  device.Step(1200);
  RequireSameState(device, cpu);
}

}  // namespace
}  // namespace ftwin
