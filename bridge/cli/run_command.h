// `ftwin run` and `ftwin validate`: load, validate, run headless, print and write KPIs.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "engine/scenario.h"

namespace ftwin {

/// Documented exit codes of the ftwin program (README.md, docs/scenario.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitRuntimeError = 1,   ///< I/O failure or an internal error while running
  kExitInvalidInput = 2,   ///< bad command line or an invalid scenario/data file
  kExitIncomplete = 3,     ///< batch: some runs failed; merge: runs or shards missing
  kExitInterrupted = 130,  ///< stopped by SIGINT/SIGTERM (KPIs so far are still written)
};

struct RunOptions {
  std::filesystem::path scenario;
  RunOverrides overrides;
  std::optional<std::filesystem::path> out_dir;
  bool quiet = false;
  std::filesystem::path record_file;  ///< MCAP recording (empty = none)
  int64_t record_every_ns = 0;        ///< 0 = every tick
  std::string device = "auto";        ///< auto | cpu | cuda
};

/// `ftwin replay FILE`: re-runs a recording and checks it bit-exactly. Returns an ExitCode
/// (0 identical, 3 differs, 2 unusable file).
int ReplayCommand(const std::filesystem::path& file);
/// `ftwin recover FILE [--out FIXED]`: tells what a truncated recording still holds.
int RecoverCommand(const std::filesystem::path& file, const std::filesystem::path& repaired);

/// Runs a scenario headless; prints progress and the KPI table. Returns an ExitCode.
int RunScenarioCommand(const RunOptions& options);
/// Validates a scenario completely (including compiling the model). Returns an ExitCode.
int ValidateScenarioCommand(const std::filesystem::path& scenario);

}  // namespace ftwin
