// The Simulator's device path (docs/gpu.md). On the emulated executor the device orchestration
// (uploads, downloads, device-to-device delayed copies, per-world failure flags, host sync for
// commands, faults and observers) must reproduce the CPU driver bit for bit: same formulas, same
// order, only the loop driver differs. On a CUDA device the same runs must agree with the CPU
// within the per-field tolerances stated below (FMA contraction and CUDA's libm differ from the
// host by a few ulp); without a device those tests WARN "skipped: no CUDA device (...)".
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "engine/device_state.h"
#include "engine/recorder.h"
#include "engine/scenario.h"
#include "engine/simulator.h"
#include "gpu/executor.h"
#include "plants/register.h"
#include "tests/gpu/state_compare.h"

namespace ftwin {
namespace {

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  return registry;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// building.yaml with its scheduled fault moved from 3 d to 2 h, so short runs include it.
std::shared_ptr<const Model> BuildingModel(int worlds, int threads = 1) {
  std::string text = ReadFile(FTWIN_SOURCE_DIR "/scenarios/building.yaml");
  const std::string from = "at: 3d, duration: 2h";
  REQUIRE(text.find(from) != std::string::npos);
  text.replace(text.find(from), from.size(), "at: 2h, duration: 1h");
  RunOverrides overrides;
  overrides.num_worlds = worlds;
  overrides.num_threads = threads;
  return LoadScenarioText(text, FTWIN_SOURCE_DIR "/scenarios/building.yaml", Registry(), overrides)
      .model;
}

std::shared_ptr<const Model> ModelFromText(const std::string& text, int worlds) {
  RunOverrides overrides;
  overrides.num_worlds = worlds;
  return LoadScenarioText(text, "parity.yaml", Registry(), overrides).model;
}

// Commands and commanded faults of every kind (those for worlds the batch lacks are left out).
void SubmitCommands(Simulator& simulator) {
  const std::vector<Command> commands = {
      {50, 3, "heater.setpoint", {296.15}, "test"},
      {300, -1, "heater.setpoint", {293.15}, "test"},
      {120, 5, "building!heat_leak", {1, 2000.0, 600.0}, "test"},
      {200, 6, "heater!output_stuck", {}, "test"},
      {400, 6, "heater!output_stuck", {0.0}, "test"},  // cleared (duration 0)
      {250, 2, "air_probe!noise_burst", {0.5, 300.0}, "test"},
      {260, -1, "heater_meter!drift", {2.0, 1200.0}, "test"},
  };
  for (const Command& command : commands) {
    if (command.world >= simulator.num_worlds()) continue;
    INFO(command.target);
    REQUIRE(simulator.Submit(command).empty());
  }
}

// Runs `ticks` ticks in chunks; before chunk 2 world `nan_world` gets a NaN air temperature,
// which the check must catch and reset. Returns the state hashes an every-60-ticks observer saw.
std::vector<uint64_t> Drive(Simulator& simulator, int64_t ticks, int nan_world) {
  std::vector<uint64_t> seen;
  simulator.AddObserver([&seen](const Simulator& s) {
    if (s.tick() % 60 == 0) seen.push_back(s.state().Hash());
  });
  SubmitCommands(simulator);
  const FieldId temp = simulator.model().schema().Find("building.temp_K");
  REQUIRE(temp != kInvalidField);
  const int64_t chunk = ticks / 3;
  simulator.Step(chunk);
  if (nan_world >= 0)
    simulator.state().World<double>(temp, nan_world)[0] = std::numeric_limits<double>::quiet_NaN();
  simulator.Step(chunk);
  simulator.Step(ticks - 2 * chunk);
  return seen;
}

// Every field of every world equal byte for byte; names the first field that differs.
void RequireSameState(const Simulator& a, const Simulator& b) {
  const Schema& schema = a.model().schema();
  for (FieldId id = 0; id < schema.size(); ++id) {
    const size_t bytes = schema.field(id).BytesPerWorld() * static_cast<size_t>(a.num_worlds());
    INFO("field " << schema.field(id).name);
    CHECK(std::memcmp(a.state().Bytes(id), b.state().Bytes(id), bytes) == 0);
  }
  CHECK(a.state().Hash() == b.state().Hash());
}

TEST_CASE("The emulated executor is a host-memory device", "[gpu_runtime]") {
  auto executor = gpu::Executor::CreateEmulated();
  REQUIRE(executor->emulated());
  std::vector<double> host = {1.0, -2.5, 3.25}, back(3, 0.0);
  auto a = gpu::DeviceArray<double>::FromHost(*executor, host.data(), host.size());
  gpu::DeviceArray<double> b(*executor, 3);
  executor->CopyOnDevice(b.data(), a.data(), b.bytes());
  executor->Download(back.data(), b.data(), b.bytes());
  CHECK(back == host);
  executor->Zero(b.data(), b.bytes());
  executor->Download(back.data(), b.data(), b.bytes());
  CHECK(back == std::vector<double>(3, 0.0));
}

TEST_CASE("The device path is refused with a reason for models it cannot run", "[gpu_runtime]") {
  const auto building = BuildingModel(2);
  CHECK(Simulator::DevicePathUnsupported(*building).empty());
  CHECK(Simulator::HostBlocksOnDevicePath(*building).empty());
  // The Mini-Fab is one fab_line, which keeps per-world objects: nothing would run on the device,
  // so the path is refused and the reason names the block.
  RunOverrides overrides;
  overrides.num_worlds = 1;
  const auto fab =
      LoadScenario(FTWIN_SOURCE_DIR "/scenarios/fab/minifab.yaml", Registry(), overrides).model;
  CHECK_THAT(Simulator::DevicePathUnsupported(*fab),
             Catch::Contains("no block of this scenario has a device update") &&
                 Catch::Contains("(fab_line) keeps per-world objects"));
  Simulator refused(fab, nullptr, {SimDevice::kEmulated});
  CHECK_FALSE(refused.on_device());
  CHECK_THAT(refused.device_message(),
             Catch::Contains("emulated device not used: no block of this scenario"));
  Simulator cuda(building, nullptr, {SimDevice::kCuda});
  std::string why;
  if (gpu::Executor::CreateCuda(&why) == nullptr) {
    CHECK_FALSE(cuda.on_device());
    CHECK_THAT(cuda.device_message(), Catch::Contains("CUDA not used: " + why));
  } else {
    CHECK(cuda.on_device());
  }
  Simulator emulated(building, nullptr, {SimDevice::kEmulated});
  CHECK(emulated.on_device());
  CHECK(emulated.device_bytes_per_world() == building->schema().BytesPerWorld());
}

TEST_CASE("Emulated device run of building.yaml equals the CPU run bit for bit", "[determinism]") {
  const auto model = BuildingModel(1024);
  const int64_t ticks = 1200;  // 3 h 20 min: commands, the 2 h fault, a NaN reset
  Simulator cpu(model), device(model, nullptr, {SimDevice::kEmulated});
  REQUIRE(device.on_device());
  REQUIRE_FALSE(cpu.on_device());
  const std::vector<uint64_t> cpu_seen = Drive(cpu, ticks, 11);
  const std::vector<uint64_t> device_seen = Drive(device, ticks, 11);
  RequireSameState(cpu, device);
  // The observer saw the same synced state at every one of its ticks.
  CHECK(cpu_seen.size() == static_cast<size_t>(ticks / 60));
  CHECK(device_seen == cpu_seen);
  // The NaN world was reset exactly once, on both paths; the others never.
  CHECK(cpu.total_resets() == 1);
  CHECK(device.total_resets() == 1);
  REQUIRE(device.events().size() == cpu.events().size());
  for (size_t i = 0; i < cpu.events().size(); ++i) {
    CHECK(device.events()[i].tick == cpu.events()[i].tick);
    CHECK(device.events()[i].world == cpu.events()[i].world);
    CHECK(device.events()[i].kind == cpu.events()[i].kind);
  }
  // The run did exercise the sync points.
  int fault_starts = 0;
  for (const SimEvent& event : cpu.events()) fault_starts += event.kind == "fault_start";
  CHECK(fault_starts >= 1024 + 4);  // the scheduled leak in every world + the commanded faults
  CHECK(cpu.command_log().entries().size() == device.command_log().entries().size());
  const std::vector<KpiEntry> a = cpu.ComputeKpis(), b = device.ComputeKpis();
  REQUIRE(a.size() == b.size());
  for (size_t k = 0; k < a.size(); ++k) CHECK(a[k].per_world == b[k].per_world);
}

TEST_CASE("Emulated device: world i of a 1024 batch equals that world in smaller batches",
          "[determinism]") {
  const int64_t ticks = 900;
  Simulator large(BuildingModel(1024), nullptr, {SimDevice::kEmulated});
  Drive(large, ticks, 11);
  Simulator alone(BuildingModel(1), nullptr, {SimDevice::kEmulated});
  Drive(alone, ticks, -1);
  CHECK(alone.state().HashWorld(0) == large.state().HashWorld(0));
  Simulator small(BuildingModel(37), nullptr, {SimDevice::kEmulated});
  Drive(small, ticks, 11);
  for (int world = 0; world < 37; ++world) {
    INFO("world " << world);
    CHECK(small.state().HashWorld(world) == large.state().HashWorld(world));
  }
  // And the CPU driver with 2 threads over the same small batch.
  Simulator cpu(BuildingModel(37, 2));
  Drive(cpu, ticks, 11);
  for (int world = 0; world < 37; ++world)
    CHECK(cpu.state().HashWorld(world) == small.state().HashWorld(world));
}

TEST_CASE("Emulated device: an MCAP recording every 6 ticks equals the CPU one byte for byte",
          "[determinism]") {
  const std::string text = ReadFile(FTWIN_SOURCE_DIR "/scenarios/building.yaml");
  RunOverrides overrides;
  overrides.num_worlds = 8;
  const LoadedScenario scenario =
      LoadScenarioText(text, FTWIN_SOURCE_DIR "/scenarios/building.yaml", Registry(), overrides);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ftwin_gpu_record_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::vector<std::string> files;
  for (SimDevice device : {SimDevice::kCpu, SimDevice::kEmulated}) {
    Simulator simulator(scenario.model, nullptr, {device});
    REQUIRE(simulator.on_device() == (device == SimDevice::kEmulated));
    const std::filesystem::path file = dir / (device == SimDevice::kCpu ? "cpu.mcap" : "emu.mcap");
    {
      Recorder recorder(scenario.spec, overrides, simulator, {file, 6, "test"});
      SubmitCommands(simulator);  // events and commands are written between recorded ticks
      simulator.Step(500);
      recorder.Close();
    }
    files.push_back(ReadFile(file.string()));
  }
  std::filesystem::remove_all(dir);
  REQUIRE(files[0].size() > 10000);
  CHECK(files[0] == files[1]);
}

// ---- CPU vs device parity per block ----------------------------------------------------------

struct ParityCase {
  std::string name;
  std::string yaml;
  int64_t ticks;
  std::vector<Tolerance> tolerances;  // for CUDA; the emulated device must be exact
};

std::vector<ParityCase> ParityCases() {
  const std::string head = "ftwin: 1\nname: parity\nrun: {dt: 10s, duration: 1d, seed: 7}\n";
  return {
      {"signal_source",
       head + R"(blocks:
  - {name: sine, type: signal_source, shape: sine, mean: 278.15, amplitude: 6.0, wave_period: 1d, peak_at: 15h}
  - {name: ramp, type: signal_source, shape: ramp, from: 0.0, to: 5.0, start: 1h, end: 3h}
  - {name: step, type: signal_source, shape: step, before: 1.0, after: 2.0, at: 2h}
  - {name: linear, type: signal_source, shape: schedule, repeat: 6h, points: [[0s, 1.0], [1h, 4.0], [5h, -2.0]]}
  - {name: hold, type: signal_source, shape: schedule, interpolation: hold, points: [[0s, 1.0], [1h, 4.0], [5h, -2.0]]}
)",
       2000,
       // cos of the same argument: CUDA's cos is within 2 ulp of the correctly rounded value.
       {{"sine.value", 0.0, 1e-14}, {"ramp.value", 0.0, 1e-15}, {"linear.value", 0.0, 1e-15}}},
      {"thermal_network",
       head + R"(blocks:
  - {name: weather, type: signal_source, unit: K, shape: sine, mean: 278.15, amplitude: 6.0, wave_period: 1d}
  - {name: power, type: signal_source, unit: W, shape: schedule, repeat: 2h, points: [[0s, 8000.0], [1h, 0.0]], interpolation: hold}
  - name: room
    type: thermal_network
    nodes:
      - {name: air, capacitance_J_per_K: 2.0e6, ambient_conductance_W_per_K: 60.0, initial_temp_K: 288.15}
      - {name: walls, capacitance_J_per_K: 5.0e7, ambient_conductance_W_per_K: 250.0, initial_temp_K: 283.15}
      - {name: floor, capacitance_J_per_K: 8.0e7, ambient_conductance_W_per_K: 20.0, initial_temp_K: 284.15}
    links:
      - {a: air, b: walls, conductance_W_per_K: 900.0}
      - {a: air, b: floor, conductance_W_per_K: 300.0}
    heat_inputs: [air, floor]
connections:
  - [weather.value, room.ambient_K]
  - [power.value, room.heat_air_W]
  - [power.value, room.heat_floor_W]
)",
       4000,
       // Matrix-vector products with FMA contraction on the device: a few ulp per step, damped
       // by the stable dynamics. The loss total is a difference of stored heats (~1e10 J), so
       // its error is absolute: ulp(1e10 J) ~ 2e-6 J per step, summed over the steps.
       {{"room.temp_K", 0.0, 1e-12},
        {"room.loss_W", 1e-6, 1e-11},
        {"room.totals", 0.05, 1e-11},
        {"weather.value", 0.0, 1e-14}}},
      {"pid_controller",
       head + R"(blocks:
  - {name: process, type: signal_source, shape: sine, mean: 20.0, amplitude: 3.0, wave_period: 3h}
  - {name: pid, type: pid_controller, setpoint: 21.0, kp: 400.0, ki: 0.5, kd: 50.0, derivative_filter_s: 30.0, output_min: -1000.0, output_max: 1000.0, rate_limit_per_s: 5.0, period: 30s}
connections:
  - [process.value, pid.measurement, delayed]   # exercises the delayed-copy refresh
)",
       3000,
       // Open loop: the error of the measurement (sine, 1e-14 relative) times the gains.
       {{"process.value", 0.0, 1e-14},
        {"pid.command", 1e-9, 1e-12},
        {"pid.pid_state", 1e-9, 1e-12},
        {"pid.stats", 1e-6, 1e-11}}},
      {"sensor",
       head + R"(blocks:
  - {name: truth, type: signal_source, unit: K, shape: sine, mean: 300.0, amplitude: 10.0, wave_period: 2h}
  - name: probe
    type: sensor
    unit: K
    scale_factor_error: 0.001
    bias: 0.1
    initial_bias_sigma: 0.2
    gauss_markov_sigma: 0.05
    gauss_markov_tau: 600s
    random_walk_density: 0.001
    lag_time_constant: 30s
    latency: 25s
    latency_interpolation: linear
    noise_sigma: 0.02
    outlier_probability: 0.01
    outlier_sigma: 1.0
    sample_period: 20s
    jitter_sigma: 1s
    dropout_probability: 0.05
connections:
  - [truth.value, probe.truth]
)",
       3000,
       // Box-Muller draws use log, sqrt and cos: a few ulp apart on the device; the chain sums
       // them without amplification. valid (u8) must match exactly: uniforms are exact.
       // No quantization here: a quantized reading may differ by one resolution step when the
       // unquantized values straddle a rounding boundary (docs/gpu.md).
       {{"truth.value", 0.0, 1e-14},
        {"probe.value", 1e-11, 1e-12},
        {"probe.truth", 0.0, 1e-14},
        {"probe.model_state", 1e-11, 1e-12},
        {"probe.latency_ring", 1e-11, 1e-12},
        {"probe.stats", 1e-9, 1e-10}}},
      {"battery",
       head + R"(blocks:
  - {name: request, type: signal_source, unit: W, shape: sine, mean: 5000.0, amplitude: 40000.0, wave_period: 3h}
  - {name: ambient, type: signal_source, unit: K, shape: sine, mean: 298.15, amplitude: 8.0, wave_period: 1d}
  - name: pack
    type: battery
    cell_file: )" +
           std::string(FTWIN_SOURCE_DIR) + R"(/plants/energy/data/a123_cell.yaml
    series: 200
    parallel: 10
    initial_soc: 0.5
    converter_efficiency: 0.97
    limits: {soc_min: 0.1, soc_max: 0.9, cell_discharge_max_A: 6, cell_charge_max_A: 4}
connections:
  - [request.value, pack.power_request_W]
  - [ambient.value, pack.ambient_K]
)",
       3000,
       // exp/sqrt in the cell model and the BMS: a few ulp per step. A BMS decision (halving the
       // current near a limit) taken on a value within those ulp of the limit would differ more;
       // the counter of limited ticks may then differ by one.
       {{"request.value", 0.0, 1e-14},
        {"ambient.value", 0.0, 1e-14},
        {"pack.cell", 1e-9, 1e-9},
        {"pack.hysteresis_sign", 0.0, 0.0},
        {"pack.totals", 1.0, 1e-9},
        {"pack.power_W", 1e-6, 1e-9},
        {"pack.soc", 1e-12, 1e-9},
        {"pack.voltage_V", 1e-9, 1e-9},
        {"pack.current_A", 1e-9, 1e-9},
        {"pack.temp_K", 1e-9, 1e-9}}},
  };
}

TEST_CASE("Comparing states catches a one-part-in-1e9 difference", "[gpu_runtime]") {
  const ParityCase c = ParityCases()[1];
  const auto model = ModelFromText(c.yaml, 4);
  Simulator a(model), b(model);
  a.Step(10);
  b.Step(10);
  CHECK(CompareStates(a, b, c.tolerances).empty());
  b.state().World<double>(model->schema().Find("room.temp_K"), 2)[1] *= 1.0 + 1e-9;
  CHECK_THAT(CompareStates(a, b, c.tolerances), Catch::StartsWith("room.temp_K[7]"));
}

TEST_CASE("Every ported block: emulated device equals the CPU driver bit for bit",
          "[determinism]") {
  for (const ParityCase& c : ParityCases()) {
    INFO("block " << c.name);
    const auto model = ModelFromText(c.yaml, 64);
    Simulator cpu(model), device(model, nullptr, {SimDevice::kEmulated});
    REQUIRE(device.on_device());
    cpu.Step(c.ticks);
    device.Step(c.ticks);
    CHECK(CompareStates(cpu, device, {}) == "");
  }
}

TEST_CASE("Every ported block: CUDA driver equals the CPU driver within stated tolerances",
          "[gpu]") {
  std::string why;
  if (gpu::Executor::CreateCuda(&why) == nullptr) {
    WARN("skipped: no CUDA device (" << why << ")");
    return;
  }
  for (const ParityCase& c : ParityCases()) {
    INFO("block " << c.name);
    const auto model = ModelFromText(c.yaml, 4096);
    Simulator cpu(model), device(model, nullptr, {SimDevice::kCuda});
    REQUIRE(device.on_device());
    cpu.Step(c.ticks);
    device.Step(c.ticks);
    CHECK(CompareStates(cpu, device, c.tolerances) == "");
  }
}

TEST_CASE("CUDA: building.yaml runs are bit-identical run to run, NaN isolation included",
          "[gpu]") {
  std::string why;
  if (gpu::Executor::CreateCuda(&why) == nullptr) {
    WARN("skipped: no CUDA device (" << why << ")");
    return;
  }
  const auto model = BuildingModel(4096);
  Simulator first(model, nullptr, {SimDevice::kCuda}), second(model, nullptr, {SimDevice::kCuda});
  REQUIRE(first.on_device());
  Drive(first, 1200, 11);
  Drive(second, 1200, 11);
  RequireSameState(first, second);
  CHECK(first.total_resets() == 1);
  bool reset_world_11 = false;
  for (const SimEvent& event : first.events())
    reset_world_11 = reset_world_11 || (event.kind == "world_reset" && event.world == 11);
  CHECK(reset_world_11);
  // Against the CPU: the closed loop sees quantized sensor readings, so compare the physics
  // loosely (a reading one 0.01 K step apart moves the heater by kp * 0.01 K = 40 W).
  Simulator cpu(model);
  Drive(cpu, 1200, 11);
  const FieldId temp = model->schema().Find("building.temp_K");
  double worst = 0.0;
  for (int world = 0; world < 4096; ++world)
    worst = std::max(worst, std::fabs(cpu.state().World<double>(temp, world)[0] -
                                      first.state().World<double>(temp, world)[0]));
  WARN("building.yaml, 4096 worlds, 1200 ticks: max |T_air(CUDA) - T_air(CPU)| = " << worst
                                                                                   << " K");
  CHECK(worst < 0.05);
}

TEST_CASE("The device path pins the host State for its copies", "[gpu_runtime]") {
  const auto model = BuildingModel(16);
  Simulator cpu(model);
  CHECK(cpu.device_pinned_bytes() == 0);
  Simulator emulated(model, nullptr, {SimDevice::kEmulated});
  REQUIRE(emulated.on_device());
  // Every field's buffer, all worlds: the whole State the uploads and downloads copy.
  CHECK(emulated.device_pinned_bytes() == model->schema().BytesPerWorld() * 16);
  emulated.Step(10);
  CHECK(emulated.device_pinned_bytes() == model->schema().BytesPerWorld() * 16);
}

TEST_CASE("On the device path a command moves only its target's fields", "[gpu_runtime]") {
  // The coherence contract (engine/simulator.h): the State goes up once; a field comes back only
  // when the host reads it; a block command (or commanded fault) brings back its block's own
  // fields and inputs and sends up the own fields it may have written.
  const auto model = BuildingModel(8);
  const Schema& schema = model->schema();
  auto bytes_of = [&](FieldId id) {
    return static_cast<int64_t>(schema.field(id).BytesPerWorld()) * 8;
  };
  Simulator cpu(model);
  Simulator device(model, nullptr, {SimDevice::kEmulated});
  REQUIRE(device.on_device());
  device.Step(10);
  cpu.Step(10);
  Simulator::DeviceSyncs before = device.device_syncs();
  CHECK(before.upload_bytes == static_cast<int64_t>(schema.BytesPerWorld()) * 8);
  CHECK(before.download_bytes == 0);  // nobody read anything
  // More steps without commands or reads move nothing.
  device.Step(5);
  cpu.Step(5);
  CHECK(device.device_syncs().upload_bytes == before.upload_bytes);
  CHECK(device.device_syncs().download_bytes == 0);

  const Command leak = {15, 5, "building!heat_leak", {1, 2000.0, 600.0}, "test"};
  REQUIRE(device.Submit(leak).empty());
  REQUIRE(cpu.Submit(leak).empty());
  device.Step(1);
  cpu.Step(1);
  const BlockBinding& building = model->binding(model->FindBlock("building"));
  std::set<FieldId> read(building.state_fields.begin(), building.state_fields.end());
  read.insert(building.input_fields.begin(), building.input_fields.end());
  int64_t expected_down = 0, expected_up = bytes_of(model->fault_command_end_field());
  for (FieldId id : read) expected_down += bytes_of(id);
  for (FieldId id : building.state_fields) expected_up += bytes_of(id);
  const Simulator::DeviceSyncs after = device.device_syncs();
  CHECK(after.download_bytes == expected_down);
  CHECK(after.upload_bytes - before.upload_bytes == expected_up);
  CHECK(expected_up < static_cast<int64_t>(schema.BytesPerWorld()) * 8);

  // Reading one field brings back that field (of the asked worlds) only; the whole State after.
  const FieldId temp = schema.Find("building.temp_K");
  const State& partial = device.ReadFields({&temp, 1}, 2, 5);
  CHECK(device.device_syncs().download_bytes - after.download_bytes == bytes_of(temp) / 8 * 3);
  for (int world = 2; world < 5; ++world)
    CHECK(partial.World<double>(temp, world)[0] == cpu.state().World<double>(temp, world)[0]);
  device.Step(20);
  cpu.Step(20);
  RequireSameState(device, cpu);
}

}  // namespace
}  // namespace ftwin
