#include "bridge/cli/run_command.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "bridge/cli/registry.h"
#include "engine/kpi_report.h"
#include "engine/recorder.h"
#include "engine/simulator.h"
#include "engine/units.h"
#include "gpu/cuda_device.h"

namespace ftwin {
namespace {

std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted = true; }

std::string FormatSpeed(double factor) {
  char buffer[64];
  if (factor >= 1e6)
    std::snprintf(buffer, sizeof buffer, "%.3gM", factor / 1e6);
  else if (factor >= 1e3)
    std::snprintf(buffer, sizeof buffer, "%.3gk", factor / 1e3);
  else
    std::snprintf(buffer, sizeof buffer, "%.3g", factor);
  return buffer;
}

}  // namespace

int ValidateScenarioCommand(const std::filesystem::path& scenario) {
  try {
    const LoadedScenario loaded = LoadScenario(scenario, MakeFullRegistry());
    const std::shared_ptr<const Model>& model = loaded.model;
    std::printf("%s: valid (%d blocks, %d state fields, %zu bytes per world, dt %s, duration %s)\n",
                scenario.string().c_str(), model->num_blocks(), model->schema().size(),
                model->schema().BytesPerWorld(), FormatDuration(model->run().dt_ns).c_str(),
                FormatDuration(model->run().duration_ns).c_str());
    return kExitOk;
  } catch (const InputError& error) {
    std::fprintf(stderr, "%s\n%zu error(s); nothing was run.\n", error.what(),
                 error.diagnostics().size());
    return kExitInvalidInput;
  }
}

int RunScenarioCommand(const RunOptions& options) {
  Spec spec;
  std::shared_ptr<const Model> model;
  try {
    LoadedScenario loaded = LoadScenario(options.scenario, MakeFullRegistry(), options.overrides);
    spec = std::move(loaded.spec);
    model = std::move(loaded.model);
  } catch (const InputError& error) {
    std::fprintf(stderr, "%s\n%zu error(s); nothing was run.\n", error.what(),
                 error.diagnostics().size());
    return kExitInvalidInput;
  }
  std::filesystem::path out_dir;
  if (options.out_dir)
    out_dir = *options.out_dir;
  else if (!spec.outputs.dir.empty())
    out_dir = spec.outputs.dir.is_relative() ? spec.file.parent_path() / spec.outputs.dir
                                             : spec.outputs.dir;

  const RunConfig& run = model->run();
  // Blocks without a device update run on the host inside the device path (docs/gpu.md).
  const bool supports_cuda = Simulator::DevicePathUnsupported(*model).empty();
  gpu::Backend backend = gpu::Backend::kCpu;
  std::string device_message;
  if (!gpu::ChooseBackend(options.device, supports_cuda, &backend, &device_message)) {
    std::fprintf(stderr, "%s\n", device_message.c_str());
    return kExitInvalidInput;
  }
  const int64_t total_ticks = run.duration_ns / run.dt_ns;
  const bool terminal = isatty(STDOUT_FILENO) != 0;
  if (!options.quiet)
    std::printf(
        "ftwin %s: scenario '%s' (%s), %d world(s), %d thread(s), seed %llu, dt %s, duration %s\n",
        FTWIN_VERSION, spec.name.c_str(), options.scenario.string().c_str(), run.num_worlds,
        run.num_threads, static_cast<unsigned long long>(run.seed),
        FormatDuration(run.dt_ns).c_str(), FormatDuration(run.duration_ns).c_str());
  if (!options.quiet) std::printf("%s\n", device_message.c_str());
  std::fflush(stdout);

  g_interrupted = false;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  // The device path: CUDA when chosen above; FTWIN_DEVICE_EMULATE=1 runs its host emulation
  // (tests and machines without a GPU; docs/gpu.md).
  SimulatorOptions simulator_options;
  if (backend == gpu::Backend::kCuda) simulator_options.device = SimDevice::kCuda;
  if (const char* emulate = std::getenv("FTWIN_DEVICE_EMULATE"); emulate && emulate[0] == '1')
    simulator_options.device = SimDevice::kEmulated;
  Simulator simulator(model, nullptr, simulator_options);
  if (!options.quiet && simulator_options.device != SimDevice::kCpu)
    std::printf("%s\n", simulator.device_message().c_str());
  std::unique_ptr<Recorder> recorder;
  if (!options.record_file.empty()) {
    if (options.record_every_ns % run.dt_ns != 0) {
      std::fprintf(stderr, "--record-every: expected a multiple of dt (%s)\n",
                   FormatDuration(run.dt_ns).c_str());
      return kExitInvalidInput;
    }
    RecordOptions record;
    record.file = options.record_file;
    // Without --record-every, record at the scenario's fastest export rate (what the bridge
    // streams), or every tick when the scenario declares no exports.
    int64_t every_ns = options.record_every_ns;
    if (every_ns == 0 && !spec.exports.empty()) {
      every_ns = spec.exports.front().every_ns > 0 ? spec.exports.front().every_ns : run.dt_ns;
      for (const ExportSpec& item : spec.exports)
        every_ns = std::min(every_ns, item.every_ns > 0 ? item.every_ns : run.dt_ns);
    }
    record.every_ticks = std::max<int64_t>(1, every_ns / run.dt_ns);
    record.version = FTWIN_VERSION;
    try {
      recorder = std::make_unique<Recorder>(spec, options.overrides, simulator, record);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "error: %s\n", error.what());
      return kExitRuntimeError;
    }
  }
  const auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  // Step in chunks so the wall clock is read between ticks, never inside one.
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(total_ticks / 1000 + 1, 4096));
  int last_percent_logged = -10;
  while (simulator.tick() < total_ticks && !g_interrupted) {
    simulator.Step(std::min(chunk, total_ticks - simulator.tick()));
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    const double since_report = std::chrono::duration<double>(now - last_report).count();
    if (options.quiet) continue;
    const double fraction =
        static_cast<double>(simulator.tick()) / static_cast<double>(total_ticks);
    const double speed = elapsed > 0 ? simulator.time_s() / elapsed : 0.0;
    const double eta = fraction > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
    if (terminal && since_report >= 0.2) {
      std::printf("\r  sim %s / %s  %5.1f%%  %sx real time  ETA %s   ",
                  FormatDuration(simulator.time_ns()).c_str(),
                  FormatDuration(run.duration_ns).c_str(), 100 * fraction,
                  FormatSpeed(speed).c_str(),
                  FormatDuration(static_cast<int64_t>(eta * 1e9)).c_str());
      std::fflush(stdout);
      last_report = now;
    } else if (!terminal && (static_cast<int>(100 * fraction) >= last_percent_logged + 10 ||
                             since_report >= 30)) {
      last_percent_logged = static_cast<int>(100 * fraction) / 10 * 10;
      std::printf("progress: sim_time=%s fraction=%.3f speed=%sx eta=%s\n",
                  FormatDuration(simulator.time_ns()).c_str(), fraction, FormatSpeed(speed).c_str(),
                  FormatDuration(static_cast<int64_t>(eta * 1e9)).c_str());
      std::fflush(stdout);
      last_report = now;
    }
  }
  if (recorder) recorder->Close();
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (terminal && !options.quiet) std::printf("\n");
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  const std::vector<KpiEntry> kpis = simulator.ComputeKpis();
  RunMetadata metadata{spec.name,
                       options.scenario.string(),
                       run.seed,
                       run.num_worlds,
                       run.num_threads,
                       simulator.tick(),
                       simulator.time_s(),
                       wall_s,
                       simulator.total_resets(),
                       FTWIN_VERSION};
  if (!options.quiet) {
    std::printf("finished %s of simulated time in %.3f s wall (%sx real time)%s\n",
                FormatDuration(simulator.time_ns()).c_str(), wall_s,
                FormatSpeed(wall_s > 0 ? simulator.time_s() / wall_s : 0).c_str(),
                g_interrupted ? " -- interrupted" : "");
    for (const SimEvent& event : simulator.events())
      if (event.kind == "world_reset")
        std::printf("warning: world %d reset at tick %lld: %s\n", event.world,
                    static_cast<long long>(event.tick), event.text.c_str());
    std::printf("\n%s", FormatKpiTable(kpis, run.num_worlds).c_str());
  }
  if (!out_dir.empty()) {
    try {
      std::filesystem::create_directories(out_dir);
      if (spec.outputs.kpi_json || options.out_dir)
        WriteFileAtomic(out_dir / "kpis.json", KpisToJson(kpis, metadata));
      if (spec.outputs.kpi_csv || options.out_dir)
        WriteFileAtomic(out_dir / "kpis.csv", KpisToCsv(kpis));
      WriteFileAtomic(out_dir / "commands.jsonl", simulator.command_log().ToJsonLines());
      if (!options.quiet) std::printf("\nKPIs written to %s\n", out_dir.string().c_str());
    } catch (const std::exception& error) {
      std::fprintf(stderr, "error: %s\n", error.what());
      return kExitRuntimeError;
    }
  }
  return g_interrupted ? kExitInterrupted : kExitOk;
}

int ReplayCommand(const std::filesystem::path& file) {
  try {
    const ReplayReport report = ReplayRecording(file, MakeFullRegistry());
    for (const std::string& error : report.errors)
      std::fprintf(stderr, "error: %s\n", error.c_str());
    if (!report.errors.empty() && report.messages_compared == 0) return kExitInvalidInput;
    if (report.identical) {
      std::printf("%s: replay is bit-identical (%llu state messages compared)\n",
                  file.string().c_str(), static_cast<unsigned long long>(report.messages_compared));
      return kExitOk;
    }
    std::printf("%s: replay DIFFERS after %llu identical messages: %s\n", file.string().c_str(),
                static_cast<unsigned long long>(report.messages_compared),
                report.first_difference.c_str());
    return kExitIncomplete;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return kExitRuntimeError;
  }
}

int RecoverCommand(const std::filesystem::path& file, const std::filesystem::path& repaired) {
  try {
    const RecoverReport report = RecoverRecording(file, repaired);
    for (const std::string& error : report.errors)
      std::fprintf(stderr, "problem: %s\n", error.c_str());
    std::printf(
        "%s: %s; %llu complete chunk(s), %llu message(s) readable up to sim time %.9g s; %llu "
        "byte(s) lost%s\n",
        file.string().c_str(), report.was_complete ? "complete" : "truncated (no summary/footer)",
        static_cast<unsigned long long>(report.chunks),
        static_cast<unsigned long long>(report.messages), report.last_time_s,
        static_cast<unsigned long long>(report.lost_bytes),
        report.was_complete ? "" : " (the unfinished chunk)");
    if (!repaired.empty()) std::printf("repaired copy written to %s\n", repaired.string().c_str());
    return report.errors.empty() ? kExitOk : kExitIncomplete;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return kExitRuntimeError;
  }
}

}  // namespace ftwin
