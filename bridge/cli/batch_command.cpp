#include "bridge/cli/batch_command.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "bridge/cli/registry.h"
#include "bridge/cli/run_command.h"
#include "engine/batch.h"

namespace ftwin {

int BatchCommand(const BatchCommandOptions& options) {
  int shard_index = 0, shard_count = 1;
  std::string error;
  if (!ResolveShard(options.shard, &shard_index, &shard_count, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return kExitInvalidInput;
  }
  try {
    if (options.dry_run) {
      const SweepSpec sweep = LoadSweep(options.sweep);
      const std::vector<SweepRun> runs = ExpandSweep(sweep);
      int listed = 0;
      for (const SweepRun& run : runs) {
        if (ShardOf(run, shard_count) != shard_index) continue;
        ++listed;
        std::printf("%s point=%d seed=%llu", run.id.c_str(), run.point,
                    static_cast<unsigned long long>(run.seed));
        if (!run.controller.empty()) std::printf(" controller=%s", run.controller.c_str());
        for (const auto& [path, value] : run.params)
          std::printf(" %s=%s", path.c_str(), value.c_str());
        std::printf("\n");
      }
      std::printf("%d run(s) in shard %d/%d of %zu in sweep '%s'\n", listed, shard_index,
                  shard_count, runs.size(), sweep.name.c_str());
      return kExitOk;
    }
    BatchOptions batch;
    batch.sweep_file = options.sweep;
    batch.out_dir = options.out_dir;
    batch.jobs = options.jobs;
    batch.shard_index = shard_index;
    batch.shard_count = shard_count;
    batch.quiet = options.quiet;
    batch.version = FTWIN_VERSION;
    const BatchSummary summary = RunBatch(batch, MakeFullRegistry());
    if (!options.quiet)
      std::printf(
          "shard %d/%d: %d run(s), %d already done, %d completed now, %d failed; results in %s\n",
          shard_index, shard_count, summary.total_in_shard, summary.skipped, summary.completed,
          summary.failed, options.out_dir.string().c_str());
    if (summary.failed > 0) {
      std::fprintf(stderr,
                   "%d run(s) failed (see failures.jsonl); rerun the same command to retry them\n",
                   summary.failed);
      return kExitIncomplete;
    }
    return kExitOk;
  } catch (const InputError& input_error) {
    std::fprintf(stderr, "%s\n%zu error(s); nothing was run.\n", input_error.what(),
                 input_error.diagnostics().size());
    return kExitInvalidInput;
  } catch (const std::exception& runtime_error) {
    std::fprintf(stderr, "error: %s\n", runtime_error.what());
    return kExitRuntimeError;
  }
}

int MergeCommand(const std::vector<std::filesystem::path>& shard_dirs,
                 const std::filesystem::path& out_dir) {
  try {
    const MergeReport report = MergeBatches(shard_dirs, out_dir);
    for (const std::string& problem : report.problems)
      std::fprintf(stderr, "problem: %s\n", problem.c_str());
    std::printf("merged %d of %d run(s) into %s\n", report.present, report.total,
                out_dir.string().c_str());
    if (!report.missing_runs.empty()) {
      std::string shards;
      for (const std::string& shard : report.missing_shards) shards += " " + shard;
      std::fprintf(stderr, "missing %zu run(s) (first: %s); shards with missing runs:%s\n",
                   report.missing_runs.size(), report.missing_runs.front().c_str(), shards.c_str());
      return kExitIncomplete;
    }
    if (report.total == 0 || !report.problems.empty()) return kExitInvalidInput;
    return kExitOk;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return kExitRuntimeError;
  }
}

}  // namespace ftwin
