// Headless batches: run every run of a sweep (or one shard of it) in parallel, write one
// result row per run atomically, resume after a crash, and merge shard outputs.
//
// Output folder:
//   sweep.json      what this folder holds: sweep name and hash, total runs, shard i/N
//   results.jsonl   one JSON row per completed run, appended with a single write + fsync
//   failures.jsonl  one row per failed run (retried on the next invocation)
//   results.csv     all rows in run order (rewritten atomically at the end)
//   summary.json    per parameter point and KPI: n, mean, std, min, p05, p50, p95, max, 95 % CI
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/scenario.h"
#include "engine/sweep.h"

namespace ftwin {

struct BatchOptions {
  std::filesystem::path sweep_file;
  std::filesystem::path out_dir;
  int jobs = 1;         ///< runs in parallel (threads, one simulator each)
  int shard_index = 0;  ///< this process runs the runs with index % shard_count == shard_index
  int shard_count = 1;
  bool quiet = false;
  std::string version;  ///< ftwin version recorded in every row
};

/// Result of a batch invocation.
struct BatchSummary {
  int total_in_shard = 0;
  int skipped = 0;  ///< already complete (resume)
  int completed = 0;
  int failed = 0;
};

/// Runs the shard of the sweep; throws InputError on an invalid sweep or scenario.
BatchSummary RunBatch(const BatchOptions& options, const BlockRegistry& registry);

/// Merge report.
struct MergeReport {
  int total = 0;
  int present = 0;
  std::vector<std::string> missing_runs;
  std::vector<std::string> missing_shards;  ///< "i/N" of shards with missing runs
  std::vector<std::string> problems;        ///< inconsistent inputs
};
/// Merges shard folders into `out_dir` (results.jsonl, results.csv, summary.json).
MergeReport MergeBatches(const std::vector<std::filesystem::path>& shard_dirs,
                         const std::filesystem::path& out_dir);

/// Reads the complete rows of a results.jsonl, dropping a torn last line (truncating the file
/// to the last complete row when `repair`). Rows are JSON texts.
std::vector<std::string> ReadResultRows(const std::filesystem::path& file, bool repair);

/// Shard "i/N" from the command line or the environment (SLURM_ARRAY_TASK_ID with
/// SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX with FTWIN_SHARD_COUNT). Returns false and
/// sets `error` on malformed input; leaves 0/1 when nothing is set.
bool ResolveShard(const std::string& option, int* index, int* count, std::string* error);

}  // namespace ftwin
