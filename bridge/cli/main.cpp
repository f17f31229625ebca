// The ftwin program: run, validate and inspect factory digital-twin scenarios.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "bridge/cli/batch_command.h"
#include "bridge/cli/registry.h"
#include "bridge/cli/run_command.h"
#include "engine/units.h"
#include "gpu/cuda_device.h"

namespace {

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

  std::string replay_file;
  CLI::App* replay =
      app.add_subcommand("replay", "Re-run a recording and check it reproduces bit-exactly");
  replay->add_option("recording", replay_file, "MCAP recording")->required();
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
    return RunScenarioCommand(run_options);
  }
  if (*validate) return ValidateScenarioCommand(validate_file);
  if (*replay) return ReplayCommand(replay_file);
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
