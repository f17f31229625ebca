// The ftwin program: run, validate and inspect factory digital-twin scenarios.
#include <CLI/CLI.hpp>
#include <cstdio>

#include <cmath>
#include <limits>
#include "bridge/cli/batch_command.h"
#include "bridge/cli/registry.h"
#include "bridge/cli/run_command.h"
#include "bridge/cli/serve_command.h"
#include "engine/units.h"
#include "gpu/cuda_device.h"

namespace {

// A positive number, `inf` included (CLI::PositiveNumber stops at the largest double).
const CLI::Validator kPositiveOrInfinite(
    [](std::string& text) -> std::string {
      char* end = nullptr;
      const double value = std::strtod(text.c_str(), &end);
      if (end == text.c_str() || *end != '\0' || !(value > 0))
        return "expected a positive number or inf, got '" + text + "'";
      return {};
    },
    "POSITIVE|inf");

std::string VersionText() {
  return std::string("ftwin ") + FTWIN_VERSION + "\n" + ftwin::gpu::DescribeCudaBuild();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ftwin;
  CLI::App app{
      "ftwin: digital twins of fab lines, energy plants and robot cells on one clock.\n"
      "Exit codes: 0 ok, 1 runtime error, 2 invalid input or usage,\n"
      "3 incomplete (batch runs failed, merge runs missing), 130 interrupted."};
  app.set_version_flag("--version", VersionText());
  app.require_subcommand(1);

  RunOptions run_options;
  std::string seed_text, duration_text, out_text;
  int worlds = 0, threads = 0;
  CLI::App* run = app.add_subcommand("run", "Run a scenario headless and print its KPIs");
  run->add_option("scenario", run_options.scenario, "Scenario file (YAML)")->required();
  run->add_option("--seed", seed_text, "Random seed (overrides run.seed)");
  run->add_option("--duration", duration_text,
                  "Simulated time with a unit, e.g. 90s, 15min, 12h, 730d");
  run->add_option("--worlds", worlds, "Number of parallel worlds (overrides run.worlds)")
      ->check(CLI::Range(1, 1 << 24));
  run->add_option("--threads", threads, "Worker threads (overrides run.threads)")
      ->check(CLI::Range(1, 1024));
  run->add_option("--out", out_text, "Directory for kpis.json, kpis.csv and commands.jsonl");
  run->add_flag("--quiet", run_options.quiet, "Print nothing but errors");
  run->add_option("--device", run_options.device,
                  "auto (CUDA when a GPU and CUDA drivers for every block exist), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  std::string record_every_text;
  run->add_option("--record", run_options.record_file, "Record the run to this MCAP file");
  run->add_option("--record-every", record_every_text,
                  "Record the state every T of simulated time (default: every tick)");

  bool run_serve = false;
  std::string run_control, run_stream;
  run->add_flag("--serve", run_serve,
                "Also publish the state stream and take requests (docs/protocol.md) while running "
                "as fast as possible");
  run->add_option("--control", run_control, "With --serve: control endpoint")
      ->default_str("tcp://127.0.0.1:5555");
  run->add_option("--stream", run_stream, "With --serve: stream endpoint")
      ->default_str("tcp://127.0.0.1:5556");

  ServeCommandOptions serve_options;
  std::string serve_mode = "lockstep", serve_seed, serve_duration, serve_out;
  int serve_worlds = 0, serve_threads = 0;
  double serve_rtf = 1.0;
  CLI::App* serve = app.add_subcommand(
      "serve", "Serve a scenario to AI controllers over ZeroMQ (docs/protocol.md)");
  serve->add_option("scenario", serve_options.scenario, "Scenario file (YAML)")->required();
  serve
      ->add_option("--mode", serve_mode,
                   "lockstep (waits for the controllers' steps) or realtime (runs on the clock)")
      ->check(CLI::IsMember({"lockstep", "realtime"}));
  serve
      ->add_option("--rtf", serve_rtf,
                   "realtime: simulated seconds per wall second (inf = as fast as possible)")
      ->check(kPositiveOrInfinite);
  serve->add_option("--control", serve_options.server.control_endpoint, "Control endpoint (ROUTER)")
      ->capture_default_str();
  serve->add_option("--stream", serve_options.server.stream_endpoint, "Stream endpoint (PUB)")
      ->capture_default_str();
  serve->add_option("--keys", serve_options.server.keys_dir,
                    "CURVE key folder: server.key, server.key_secret, clients/*.key, "
                    "readonly/*.key (required for non-loopback endpoints)");
  serve->add_option("--seed", serve_seed, "Random seed (overrides run.seed)");
  serve->add_option("--duration", serve_duration, "realtime: stop after this simulated time");
  serve->add_option("--worlds", serve_worlds, "Number of parallel worlds")
      ->check(CLI::Range(1, 1 << 24));
  serve->add_option("--threads", serve_threads, "Worker threads")->check(CLI::Range(1, 1024));
  serve->add_option("--record", serve_options.server.record_file,
                    "Record each episode to MCAP (replay with `ftwin replay`)");
  serve->add_option("--out", serve_out,
                    "At exit: kpis.json, kpis.csv, commands.jsonl, state_hash.txt");
  serve
      ->add_option("--max-message", serve_options.server.max_message_bytes,
                   "Largest accepted request in bytes (ZMQ_MAXMSGSIZE)")
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 34));
  serve->add_flag("--quiet", serve_options.server.quiet, "Print nothing but errors");
  serve
      ->add_option("--device", serve_options.device,
                   "auto (CUDA when a GPU and CUDA drivers for every block exist), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  int64_t busy_poll_us = 0;
  serve
      ->add_option("--busy-poll-us", busy_poll_us,
                   "Keep polling this long after each request instead of sleeping (latency)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}));

  std::string keygen_dir, keygen_name = "server";
  CLI::App* keygen = app.add_subcommand("keygen", "Make a CURVE key pair for `ftwin serve --keys`");
  keygen->add_option("dir", keygen_dir, "Folder for <name>.key and <name>.key_secret")->required();
  keygen->add_option("--name", keygen_name, "Key name: 'server' for the server's own pair")
      ->capture_default_str();

  std::string replay_file;
  CLI::App* replay =
      app.add_subcommand("replay", "Re-run a recording and check it reproduces bit-exactly");
  replay->add_option("recording", replay_file, "MCAP recording")->required();
  bool replay_serve = false;
  bridge::ServerOptions replay_server;
  replay->add_flag("--serve", replay_serve,
                   "Re-stream the recording over the bridge (read-only) instead of checking it");
  replay
      ->add_option("--rtf", replay_server.realtime_factor,
                   "With --serve: simulated seconds per wall second (inf = as fast as possible)")
      ->check(kPositiveOrInfinite);
  replay->add_option("--control", replay_server.control_endpoint, "With --serve: control endpoint");
  replay->add_option("--stream", replay_server.stream_endpoint, "With --serve: stream endpoint");
  replay->add_option("--keys", replay_server.keys_dir, "With --serve: CURVE key folder");
  std::string recover_file, recover_out;
  CLI::App* recover =
      app.add_subcommand("recover", "Tell what a (truncated) recording still holds");
  recover->add_option("recording", recover_file, "MCAP recording")->required();
  recover->add_option("--out", recover_out, "Write a repaired, complete copy here");

  std::string validate_file;
  CLI::App* validate =
      app.add_subcommand("validate", "Check a scenario completely without running it");
  validate->add_option("scenario", validate_file, "Scenario file (YAML)")->required();

  CLI::App* blocks = app.add_subcommand("blocks", "List the block types this build knows");

  BatchCommandOptions batch_options;
  CLI::App* batch =
      app.add_subcommand("batch", "Run a parameter/seed sweep (resumable, shardable)");
  batch->add_option("sweep", batch_options.sweep, "Sweep file (YAML)")->required();
  batch->add_option("--out", batch_options.out_dir,
                    "Results folder (rerun the same command to resume)");
  batch->add_option("--jobs", batch_options.jobs, "Runs in parallel")->check(CLI::Range(1, 4096));
  batch->add_option(
      "--shard", batch_options.shard,
      "Run slice i/N (default: from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX "
      "with FTWIN_SHARD_COUNT)");
  batch->add_flag("--dry-run", batch_options.dry_run, "List the runs of this shard and exit");
  batch->add_flag("--quiet", batch_options.quiet, "Print nothing but errors");

  std::vector<std::string> merge_inputs;
  std::string merge_out;
  CLI::App* merge = app.add_subcommand("merge", "Merge the result folders of sweep shards");
  merge->add_option("shards", merge_inputs, "Shard result folders")->required();
  merge->add_option("--out", merge_out, "Merged results folder")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? kExitOk : kExitInvalidInput;
  }

  if (*run) {
    if (!seed_text.empty()) {
      char* end = nullptr;
      const unsigned long long seed = std::strtoull(seed_text.c_str(), &end, 10);
      if (end != seed_text.c_str() + seed_text.size() || seed_text[0] == '-') {
        std::fprintf(stderr, "--seed: got '%s', expected a non-negative integer\n",
                     seed_text.c_str());
        return kExitInvalidInput;
      }
      run_options.overrides.seed = seed;
    }
    if (!duration_text.empty()) {
      const std::optional<int64_t> duration = ParseDurationNs(duration_text);
      if (!duration) {
        std::fprintf(stderr, "--duration: got '%s', expected %s\n", duration_text.c_str(),
                     kDurationUnitsHelp);
        return kExitInvalidInput;
      }
      run_options.overrides.duration_ns = *duration;
    }
    if (worlds > 0) run_options.overrides.num_worlds = worlds;
    if (threads > 0) run_options.overrides.num_threads = threads;
    if (!out_text.empty()) run_options.out_dir = out_text;
    if (!record_every_text.empty()) {
      const std::optional<int64_t> every = ParseDurationNs(record_every_text);
      if (!every || *every <= 0) {
        std::fprintf(stderr, "--record-every: got '%s', expected %s\n", record_every_text.c_str(),
                     kDurationUnitsHelp);
        return kExitInvalidInput;
      }
      run_options.record_every_ns = *every;
    }
    if (run_serve) {
      ServeCommandOptions options;
      options.scenario = run_options.scenario;
      options.overrides = run_options.overrides;
      options.out_dir = run_options.out_dir;
      options.server.mode = bridge::TimingMode::kRealtime;
      options.server.realtime_factor = std::numeric_limits<double>::infinity();
      options.server.stop_at_duration = true;
      options.server.quiet = run_options.quiet;
      if (!run_control.empty()) options.server.control_endpoint = run_control;
      if (!run_stream.empty()) options.server.stream_endpoint = run_stream;
      options.server.record_file = run_options.record_file;
      options.device = run_options.device;
      return ServeCommand(options);
    }
    return RunScenarioCommand(run_options);
  }
  if (*serve) {
    if (!serve_seed.empty()) {
      char* end = nullptr;
      const unsigned long long seed = std::strtoull(serve_seed.c_str(), &end, 10);
      if (end != serve_seed.c_str() + serve_seed.size() || serve_seed[0] == '-') {
        std::fprintf(stderr, "--seed: got '%s', expected a non-negative integer\n",
                     serve_seed.c_str());
        return kExitInvalidInput;
      }
      serve_options.overrides.seed = seed;
    }
    if (!serve_duration.empty()) {
      const std::optional<int64_t> duration = ParseDurationNs(serve_duration);
      if (!duration) {
        std::fprintf(stderr, "--duration: got '%s', expected %s\n", serve_duration.c_str(),
                     kDurationUnitsHelp);
        return kExitInvalidInput;
      }
      serve_options.overrides.duration_ns = *duration;
      serve_options.server.stop_at_duration = true;
    }
    if (serve_worlds > 0) serve_options.overrides.num_worlds = serve_worlds;
    if (serve_threads > 0) serve_options.overrides.num_threads = serve_threads;
    if (!serve_out.empty()) serve_options.out_dir = serve_out;
    serve_options.server.mode =
        serve_mode == "realtime" ? bridge::TimingMode::kRealtime : bridge::TimingMode::kLockstep;
    serve_options.server.realtime_factor = serve_rtf;
    serve_options.server.busy_poll_ns = busy_poll_us * 1000;
    return ServeCommand(serve_options);
  }
  if (*keygen) return KeygenCommand(keygen_dir, keygen_name);
  if (*validate) return ValidateScenarioCommand(validate_file);
  if (*replay)
    return replay_serve ? ReplayServeCommand(replay_file, replay_server)
                        : ReplayCommand(replay_file);
  if (*recover) return RecoverCommand(recover_file, recover_out);
  if (*batch) {
    if (!batch_options.dry_run && batch_options.out_dir.empty()) {
      std::fprintf(stderr, "batch: --out is required (except with --dry-run)\n");
      return kExitInvalidInput;
    }
    return BatchCommand(batch_options);
  }
  if (*merge) {
    std::vector<std::filesystem::path> dirs(merge_inputs.begin(), merge_inputs.end());
    return MergeCommand(dirs, merge_out);
  }
  if (*blocks) {
    const BlockRegistry registry = MakeFullRegistry();
    for (const std::string& type : registry.TypeNames())
      std::printf("%-22s %s\n", type.c_str(), registry.Doc(type).c_str());
    return kExitOk;
  }
  return kExitOk;
}
