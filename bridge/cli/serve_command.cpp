#include "bridge/cli/serve_command.h"

#include <sys/stat.h>
#include <zmq.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>

#include "bridge/cli/registry.h"
#include "bridge/cli/run_command.h"
#include "engine/kpi_report.h"
#include "engine/mcap.h"
#include "engine/recorder.h"
#include "engine/simulator.h"
#include "engine/units.h"
#include "gpu/cuda_device.h"

namespace ftwin {
namespace {

std::atomic<bool> g_stop{false};
void OnStopSignal(int) { g_stop = true; }

}  // namespace

int ServeCommand(const ServeCommandOptions& options) {
  const BlockRegistry registry = MakeFullRegistry();
  LoadedScenario loaded;
  try {
    loaded = LoadScenario(options.scenario, registry, options.overrides);
  } catch (const InputError& error) {
    std::fprintf(stderr, "%s\n%zu error(s); nothing was run.\n", error.what(),
                 error.diagnostics().size());
    return kExitInvalidInput;
  }
  const std::string name = loaded.spec.name;
  const RunConfig run = loaded.model->run();
  bridge::ServerOptions server_options = options.server;
  server_options.version = FTWIN_VERSION;
  // The device path as for `ftwin run` (docs/gpu.md); FTWIN_DEVICE_EMULATE=1 runs its host
  // emulation.
  // Blocks without a device update run on the host inside the device path (docs/gpu.md).
  const bool supports_cuda = Simulator::DevicePathUnsupported(*loaded.model).empty();
  gpu::Backend backend = gpu::Backend::kCpu;
  std::string device_message;
  if (!gpu::ChooseBackend(options.device, supports_cuda, &backend, &device_message)) {
    std::fprintf(stderr, "%s\n", device_message.c_str());
    return kExitInvalidInput;
  }
  if (!server_options.quiet) std::printf("%s\n", device_message.c_str());
  if (backend == gpu::Backend::kCuda) server_options.device = SimDevice::kCuda;
  if (const char* emulate = std::getenv("FTWIN_DEVICE_EMULATE"); emulate && emulate[0] == '1')
    server_options.device = SimDevice::kEmulated;
  std::unique_ptr<bridge::BridgeServer> server;
  try {
    server = std::make_unique<bridge::BridgeServer>(std::move(loaded), &registry, options.overrides,
                                                    server_options);
    server->Start();
  } catch (const InputError& error) {
    std::fprintf(stderr, "%s\nnothing was run.\n", error.what());
    return kExitInvalidInput;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return kExitInvalidInput;
  }
  const bool lockstep = server_options.mode == bridge::TimingMode::kLockstep;
  if (!server_options.quiet) {
    std::printf("ftwin %s: serving scenario '%s', %d world(s), dt %s, %s%s\n", FTWIN_VERSION,
                name.c_str(), run.num_worlds, FormatDuration(run.dt_ns).c_str(),
                lockstep ? "lockstep" : "real time",
                lockstep ? "" : (" x" + std::to_string(server_options.realtime_factor)).c_str());
    std::printf("control %s\nstream %s\n%s\n", server->control_endpoint().c_str(),
                server->stream_endpoint().c_str(),
                server_options.keys_dir.empty() ? "security: loopback only, no encryption"
                                                : "security: CURVE with a client allow-list");
    std::fflush(stdout);
  }
  g_stop = false;
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  const auto start = std::chrono::steady_clock::now();
  const uint64_t hash = server->Run(g_stop);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  const bridge::ServerStats stats = server->stats();
  const std::vector<KpiEntry> kpis = server->ComputeKpis();
  if (!server_options.quiet) {
    std::printf(
        "served %s of simulated time in %.3f s wall: %lld request(s), %lld error reply(ies), "
        "%lld message(s) published, %lld watchdog trip(s), %lld deadline miss(es)\n",
        FormatDuration(static_cast<int64_t>(server->time_s() * 1e9)).c_str(), wall_s,
        static_cast<long long>(stats.requests), static_cast<long long>(stats.errors),
        static_cast<long long>(stats.published), static_cast<long long>(stats.watchdog_trips),
        static_cast<long long>(stats.deadline_misses));
    std::printf("state hash %016llx\n\n%s", static_cast<unsigned long long>(hash),
                FormatKpiTable(kpis, run.num_worlds).c_str());
  }
  if (options.out_dir) {
    try {
      std::filesystem::create_directories(*options.out_dir);
      RunMetadata metadata{name,
                           options.scenario.string(),
                           run.seed,
                           run.num_worlds,
                           run.num_threads,
                           server->tick(),
                           server->time_s(),
                           wall_s,
                           0,
                           FTWIN_VERSION};
      WriteFileAtomic(*options.out_dir / "kpis.json", KpisToJson(kpis, metadata));
      WriteFileAtomic(*options.out_dir / "kpis.csv", KpisToCsv(kpis));
      WriteFileAtomic(*options.out_dir / "commands.jsonl", server->CommandLogJsonLines());
      char hash_text[32];
      std::snprintf(hash_text, sizeof hash_text, "%016llx\n",
                    static_cast<unsigned long long>(hash));
      WriteFileAtomic(*options.out_dir / "state_hash.txt", hash_text);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "error: %s\n", error.what());
      return kExitRuntimeError;
    }
  }
  return kExitOk;
}

int ReplayServeCommand(const std::filesystem::path& recording, bridge::ServerOptions options) {
  const BlockRegistry registry = MakeFullRegistry();
  std::vector<std::string> errors;
  mcap::McapContents contents;
  try {
    contents = mcap::ReadMcap(recording);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s: %s\n", recording.string().c_str(), error.what());
    return kExitInvalidInput;
  }
  std::optional<RecordedRun> run = ReadRecordedRun(contents, registry, &errors);
  if (!run) {
    for (const std::string& error : errors)
      std::fprintf(stderr, "error: %s: %s\n", recording.string().c_str(), error.c_str());
    return kExitInvalidInput;
  }
  options.mode = bridge::TimingMode::kRealtime;
  options.stop_at_duration = true;
  options.observers_only = true;
  options.version = FTWIN_VERSION;
  const std::string name = run->loaded.spec.name;
  std::unique_ptr<bridge::BridgeServer> server;
  try {
    server = std::make_unique<bridge::BridgeServer>(std::move(run->loaded), &registry,
                                                    run->overrides, options);
    server->Preload(run->commands);
    server->Start();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return kExitInvalidInput;
  }
  if (!options.quiet) {
    std::printf(
        "ftwin %s: re-streaming recording %s (scenario '%s') at x%g\ncontrol %s\nstream %s\n",
        FTWIN_VERSION, recording.string().c_str(), name.c_str(), options.realtime_factor,
        server->control_endpoint().c_str(), server->stream_endpoint().c_str());
    std::fflush(stdout);
  }
  g_stop = false;
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  const uint64_t hash = server->Run(g_stop);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!options.quiet)
    std::printf("re-streamed %.6g s of simulated time; state hash %016llx\n", server->time_s(),
                static_cast<unsigned long long>(hash));
  return g_stop ? kExitInterrupted : kExitOk;
}

int KeygenCommand(const std::filesystem::path& dir, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) {
    std::fprintf(stderr, "keygen: --name must be a plain file name, got '%s'\n", name.c_str());
    return kExitInvalidInput;
  }
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    std::fprintf(stderr, "keygen: this libzmq has no CURVE support (%s)\n",
                 zmq_strerror(zmq_errno()));
    return kExitRuntimeError;
  }
  try {
    std::filesystem::create_directories(dir);
    const std::filesystem::path public_file = dir / (name + ".key");
    const std::filesystem::path secret_file = dir / (name + ".key_secret");
    if (std::filesystem::exists(secret_file)) {
      std::fprintf(stderr, "keygen: %s exists; not overwriting a secret key\n",
                   secret_file.string().c_str());
      return kExitInvalidInput;
    }
    {
      std::ofstream out(secret_file);
      out << "# ftwin CURVE secret key (Z85): keep private\n" << secret_key << "\n";
      if (!out) throw std::runtime_error("cannot write " + secret_file.string());
    }
    ::chmod(secret_file.c_str(), 0600);
    std::ofstream out(public_file);
    out << "# ftwin CURVE public key (Z85)\n" << public_key << "\n";
    if (!out) throw std::runtime_error("cannot write " + public_file.string());
    std::printf("wrote %s and %s\n", public_file.string().c_str(), secret_file.string().c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "keygen: %s\n", error.what());
    return kExitRuntimeError;
  }
  return kExitOk;
}

}  // namespace ftwin
