// Writing the KPIs of a run: a table for people, JSON and CSV for programs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/simulator.h"

namespace ftwin {

/// Facts about the run recorded beside the KPIs.
struct RunMetadata {
  std::string scenario_name;
  std::string scenario_file;
  uint64_t seed = 0;
  int num_worlds = 1;
  int num_threads = 1;
  int64_t ticks = 0;
  double sim_time_s = 0;
  double wall_time_s = 0;
  int64_t world_resets = 0;
  std::string version;
};

/// Human-readable table: block, KPI, aggregate, unit (and spread when several worlds).
std::string FormatKpiTable(const std::vector<KpiEntry>& kpis, int num_worlds);
/// JSON document with metadata and every KPI (aggregate, mean, std, min, max, per world).
std::string KpisToJson(const std::vector<KpiEntry>& kpis, const RunMetadata& metadata);
/// CSV: one row per KPI and world, plus an "all" row with the aggregate.
std::string KpisToCsv(const std::vector<KpiEntry>& kpis);
/// Writes text to a file atomically (temporary file + rename). Throws std::runtime_error.
void WriteFileAtomic(const std::filesystem::path& path, const std::string& text);

}  // namespace ftwin
