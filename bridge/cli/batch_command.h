// `ftwin batch` and `ftwin merge`: sweeps of runs, sharded across processes or cluster jobs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ftwin {

struct BatchCommandOptions {
  std::filesystem::path sweep;
  std::filesystem::path out_dir;
  int jobs = 1;
  std::string shard;  ///< "i/N"; empty = from the environment or 0/1
  bool dry_run = false;
  bool quiet = false;
};

/// Runs (or with dry_run lists) the sweep's runs. Returns an ExitCode: 0 all runs complete,
/// 2 invalid sweep or scenario, 3 some runs failed (rerun the same command to retry them).
int BatchCommand(const BatchCommandOptions& options);
/// Merges shard folders. Returns 0 when every run is present, 3 when runs or shards are
/// missing (listed), 2 on unusable input.
int MergeCommand(const std::vector<std::filesystem::path>& shard_dirs,
                 const std::filesystem::path& out_dir);

}  // namespace ftwin
