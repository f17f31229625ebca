// Parameter sweeps: a sweep file names a base scenario and what varies (seeds, grids of
// parameter values, random samples). ExpandSweep turns it into a deterministic list of runs,
// each with a stable id, so shards, resumes and merges agree on what "run 17" is.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "engine/diagnostics.h"

namespace ftwin {

/// One varied parameter of a grid: a scenario path and the values it takes.
struct SweepAxis {
  std::string path;                 ///< e.g. "blocks.heater.kp", "run.duration"
  std::vector<std::string> values;  ///< YAML scalars as written
};

/// One randomly sampled parameter.
struct RandomParameter {
  enum class Distribution { kUniform, kLogUniform, kNormal, kChoice };
  std::string path;
  Distribution distribution = Distribution::kUniform;
  double a = 0, b = 0;               ///< uniform/loguniform bounds, or normal mean/std
  std::vector<std::string> choices;  ///< kChoice
};

/// A named controller choice: scenario overrides that select or configure the controller
/// (e.g. a dispatch rule, a PID tuning, a built-in versus an alternative policy block).
struct ControllerChoice {
  std::string name;
  std::vector<std::pair<std::string, std::string>> params;  ///< path -> value
};

/// A sweep file, validated.
struct SweepSpec {
  std::filesystem::path file;
  std::string name;
  std::filesystem::path scenario;  ///< resolved against the sweep file's folder
  std::vector<uint64_t> seeds;
  std::vector<SweepAxis> grid;
  int random_count = 0;
  uint64_t random_seed = 1;
  std::vector<RandomParameter> random;
  std::vector<ControllerChoice> controllers;  ///< empty = the scenario's own controllers
  std::string text;                           ///< the sweep file as read
};

/// One run of a sweep.
struct SweepRun {
  int index = 0;   ///< position in the expanded list (0-based)
  std::string id;  ///< "r000017"
  int point = 0;   ///< parameter point (runs of one point differ only by seed)
  uint64_t seed = 0;
  std::string controller;  ///< ControllerChoice name ("" when the sweep has none)
  std::vector<std::pair<std::string, std::string>> params;  ///< path -> value (YAML scalar)
};

/// Loads a sweep file; throws InputError naming file, line and key for every problem.
SweepSpec LoadSweep(const std::filesystem::path& file);
/// All runs: every grid point × every random sample (or the grid alone) × every controller
/// choice, × every seed. A point is one combination before the seed.
std::vector<SweepRun> ExpandSweep(const SweepSpec& spec);
/// A hash identifying the expanded sweep (same file and scenario → same hash).
uint64_t SweepHash(const SweepSpec& spec, const std::string& scenario_text);

/// Applies "path = value" overrides to scenario YAML text and returns the new text.
/// Paths: "run.<key>", "name", "blocks.<block name>.<key>[.<key>|[i]]...". A path that does not
/// name an existing key of the scenario is an error (recorded in `diagnostics`).
std::string ApplyScenarioOverrides(const std::string& scenario_text,
                                   const std::vector<std::pair<std::string, std::string>>& params,
                                   const std::string& origin, Diagnostics* diagnostics);

/// Which shard a run belongs to with `count` shards: index mod count.
inline int ShardOf(const SweepRun& run, int count) { return run.index % count; }

}  // namespace ftwin
