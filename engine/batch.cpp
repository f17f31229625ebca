#include "engine/batch.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "engine/kpi_report.h"
#include "engine/simulator.h"

namespace ftwin {
namespace {

using Json = nlohmann::ordered_json;

std::string ReadText(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

// Appends one line with a single write(2) and fsync(2): a crash leaves either the whole row or
// a torn tail that ReadResultRows drops.
void AppendLine(const std::filesystem::path& file, const std::string& line) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + file.string() + " for appending");
  const std::string text = line + "\n";
  const ssize_t written = ::write(fd, text.data(), text.size());
  ::fsync(fd);
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("short write to " + file.string());
}

// Two-sided 95 % Student-t quantiles for 1..30 degrees of freedom.
double TQuantile95(int dof) {
  static const double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                  2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                  2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                  2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof < 1) return NAN;
  return dof <= 30 ? kTable[dof - 1] : 1.96;
}

double Percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  const double position = fraction * static_cast<double>(values.size() - 1);
  const size_t lower = static_cast<size_t>(std::floor(position));
  const size_t upper = std::min(lower + 1, values.size() - 1);
  return values[lower] + (position - static_cast<double>(lower)) * (values[upper] - values[lower]);
}

// results.csv and summary.json from rows (sorted by run index).
void WriteTables(std::vector<Json> rows, const std::filesystem::path& out_dir) {
  std::sort(rows.begin(), rows.end(),
            [](const Json& a, const Json& b) { return a["index"] < b["index"]; });
  std::vector<std::string> param_names, kpi_names;
  for (const Json& row : rows) {
    for (const auto& [name, value] : row["params"].items())
      if (std::find(param_names.begin(), param_names.end(), name) == param_names.end())
        param_names.push_back(name);
    for (const auto& [name, value] : row["kpis"].items())
      if (std::find(kpi_names.begin(), kpi_names.end(), name) == kpi_names.end())
        kpi_names.push_back(name);
  }
  auto csv_field = [](std::string text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  };
  std::string csv = "run,index,point,seed,controller";
  for (const std::string& name : param_names) csv += "," + csv_field(name);
  csv += ",wall_time_s,state_hash";
  for (const std::string& name : kpi_names) csv += "," + csv_field(name);
  csv += "\n";
  char number[64];
  for (const Json& row : rows) {
    csv += row["run"].get<std::string>() + "," + std::to_string(row["index"].get<int>()) + "," +
           std::to_string(row["point"].get<int>()) + "," +
           std::to_string(row["seed"].get<uint64_t>()) + "," +
           (row.contains("controller") ? csv_field(row["controller"].get<std::string>()) : "");
    for (const std::string& name : param_names)
      csv += "," + (row["params"].contains(name) ? csv_field(row["params"][name].get<std::string>())
                                                 : "");
    std::snprintf(number, sizeof number, "%.6f", row["wall_time_s"].get<double>());
    csv += std::string(",") + number + "," + row["state_hash"].get<std::string>();
    for (const std::string& name : kpi_names) {
      if (row["kpis"].contains(name)) {
        std::snprintf(number, sizeof number, "%.17g", row["kpis"][name].get<double>());
        csv += std::string(",") + number;
      } else {
        csv += ",";
      }
    }
    csv += "\n";
  }
  WriteFileAtomic(out_dir / "results.csv", csv);

  // Summary per parameter point.
  std::map<int, std::vector<const Json*>> by_point;
  for (const Json& row : rows) by_point[row["point"].get<int>()].push_back(&row);
  Json points = Json::array();
  for (const auto& [point, point_rows] : by_point) {
    Json entry;
    entry["point"] = point;
    entry["params"] = point_rows.front()->at("params");
    if (point_rows.front()->contains("controller"))
      entry["controller"] = point_rows.front()->at("controller");
    entry["runs"] = point_rows.size();
    Json kpis = Json::object();
    for (const std::string& name : kpi_names) {
      std::vector<double> values;
      for (const Json* row : point_rows)
        if (row->at("kpis").contains(name)) values.push_back(row->at("kpis")[name].get<double>());
      if (values.empty()) continue;
      const double n = static_cast<double>(values.size());
      double mean = 0;
      for (double v : values) mean += v / n;
      double variance = 0;
      for (double v : values) variance += (v - mean) * (v - mean);
      const double stddev = values.size() > 1 ? std::sqrt(variance / (n - 1)) : 0.0;
      const double half_width =
          values.size() > 1
              ? TQuantile95(static_cast<int>(values.size()) - 1) * stddev / std::sqrt(n)
              : NAN;
      Json stats;
      stats["n"] = values.size();
      stats["mean"] = mean;
      stats["std"] = stddev;
      stats["min"] = *std::min_element(values.begin(), values.end());
      stats["p05"] = Percentile(values, 0.05);
      stats["p50"] = Percentile(values, 0.50);
      stats["p95"] = Percentile(values, 0.95);
      stats["max"] = *std::max_element(values.begin(), values.end());
      if (std::isfinite(half_width)) {
        stats["ci95_low"] = mean - half_width;
        stats["ci95_high"] = mean + half_width;
      }
      kpis[name] = std::move(stats);
    }
    entry["kpis"] = std::move(kpis);
    points.push_back(std::move(entry));
  }
  Json summary;
  summary["points"] = std::move(points);
  WriteFileAtomic(out_dir / "summary.json", summary.dump(2) + "\n");
}

std::string Hex(uint64_t value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

}  // namespace

std::vector<std::string> ReadResultRows(const std::filesystem::path& file, bool repair) {
  std::vector<std::string> rows;
  if (!std::filesystem::exists(file)) return rows;
  const std::string text = ReadText(file);
  size_t position = 0, good_end = 0;
  while (position < text.size()) {
    const size_t newline = text.find('\n', position);
    if (newline == std::string::npos) break;  // torn last line
    const std::string line = text.substr(position, newline - position);
    if (!Json::accept(line)) break;  // torn or corrupted: stop at the last good row
    rows.push_back(line);
    position = newline + 1;
    good_end = position;
  }
  if (repair && good_end != text.size()) std::filesystem::resize_file(file, good_end);
  return rows;
}

bool ResolveShard(const std::string& option, int* index, int* count, std::string* error) {
  auto parse = [&](const std::string& index_text, const std::string& count_text,
                   const std::string& source) {
    char* end1 = nullptr;
    char* end2 = nullptr;
    const long i = std::strtol(index_text.c_str(), &end1, 10);
    const long n = std::strtol(count_text.c_str(), &end2, 10);
    if (index_text.empty() || count_text.empty() || *end1 != '\0' || *end2 != '\0' || n < 1 ||
        n > 1'000'000 || i < 0 || i >= n) {
      *error =
          source + ": got '" + index_text + "/" + count_text + "', expected i/N with 0 <= i < N";
      return false;
    }
    *index = static_cast<int>(i);
    *count = static_cast<int>(n);
    return true;
  };
  if (!option.empty()) {
    const size_t slash = option.find('/');
    if (slash == std::string::npos) {
      *error = "--shard: got '" + option + "', expected i/N (e.g. 0/4)";
      return false;
    }
    return parse(option.substr(0, slash), option.substr(slash + 1), "--shard");
  }
  const char* slurm_id = std::getenv("SLURM_ARRAY_TASK_ID");
  const char* slurm_count = std::getenv("SLURM_ARRAY_TASK_COUNT");
  if (slurm_id != nullptr && slurm_count != nullptr) {
    // The shard is the task's position in the array: ID - MIN (arrays like --array=1-8 work too).
    const char* slurm_min = std::getenv("SLURM_ARRAY_TASK_MIN");
    const long position =
        std::strtol(slurm_id, nullptr, 10) - (slurm_min ? std::strtol(slurm_min, nullptr, 10) : 0);
    return parse(std::to_string(position), slurm_count,
                 "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT");
  }
  const char* k8s_index = std::getenv("JOB_COMPLETION_INDEX");
  const char* k8s_count = std::getenv("FTWIN_SHARD_COUNT");
  if (k8s_index != nullptr) {
    if (k8s_count == nullptr) {
      *error =
          "JOB_COMPLETION_INDEX is set but FTWIN_SHARD_COUNT is not (set it to the Job's "
          "completions)";
      return false;
    }
    return parse(k8s_index, k8s_count, "JOB_COMPLETION_INDEX/FTWIN_SHARD_COUNT");
  }
  *index = 0;
  *count = 1;
  return true;
}

BatchSummary RunBatch(const BatchOptions& options, const BlockRegistry& registry) {
  const SweepSpec sweep = LoadSweep(options.sweep_file);
  const std::string scenario_text = ReadText(sweep.scenario);
  const std::vector<SweepRun> all_runs = ExpandSweep(sweep);
  std::vector<const SweepRun*> runs;
  for (const SweepRun& run : all_runs)
    if (ShardOf(run, options.shard_count) == options.shard_index) runs.push_back(&run);
  const uint64_t sweep_hash = SweepHash(sweep, scenario_text);

  // Validate every run's scenario before running anything.
  Diagnostics diagnostics;
  std::vector<std::string> texts(all_runs.size());
  for (const SweepRun* run : runs) {
    texts[static_cast<size_t>(run->index)] = ApplyScenarioOverrides(
        scenario_text, run->params, sweep.file.string() + " run " + run->id, &diagnostics);
  }
  if (!diagnostics.ok()) throw InputError(diagnostics);
  for (const SweepRun* run : runs) {
    try {
      RunOverrides overrides;
      overrides.seed = run->seed;
      LoadScenarioText(texts[static_cast<size_t>(run->index)], sweep.scenario, registry, overrides);
    } catch (const InputError& error) {
      for (Diagnostic d : error.diagnostics().items()) {
        d.expected += " (in run " + run->id + " of sweep " + sweep.file.string() + ")";
        diagnostics.Add(d);
      }
    }
  }
  if (!diagnostics.ok()) throw InputError(diagnostics);

  std::filesystem::create_directories(options.out_dir);
  const std::filesystem::path manifest_file = options.out_dir / "sweep.json";
  if (std::filesystem::exists(manifest_file)) {
    const Json previous = Json::parse(ReadText(manifest_file), nullptr, false);
    if (previous.is_discarded() || previous.value("sweep_hash", "") != Hex(sweep_hash) ||
        previous.value("shard", "") !=
            std::to_string(options.shard_index) + "/" + std::to_string(options.shard_count)) {
      Diagnostics mismatch;
      mismatch.Add({options.out_dir.string(), 0, 0}, "sweep.json", "",
                   "this folder holds results of another sweep, sweep version or shard: use a new "
                   "--out folder");
      throw InputError(mismatch);
    }
  }
  Json manifest;
  manifest["sweep"] = sweep.name;
  manifest["sweep_file"] = sweep.file.string();
  manifest["sweep_hash"] = Hex(sweep_hash);
  manifest["total_runs"] = all_runs.size();
  manifest["shard"] =
      std::to_string(options.shard_index) + "/" + std::to_string(options.shard_count);
  manifest["runs_in_shard"] = runs.size();
  manifest["ftwin_version"] = options.version;
  WriteFileAtomic(manifest_file, manifest.dump(2) + "\n");

  // Resume: skip the runs that already have a complete row.
  const std::filesystem::path results_file = options.out_dir / "results.jsonl";
  const std::filesystem::path failures_file = options.out_dir / "failures.jsonl";
  std::set<std::string> done;
  std::vector<Json> rows;
  for (const std::string& line : ReadResultRows(results_file, /*repair=*/true)) {
    Json row = Json::parse(line);
    if (done.insert(row["run"].get<std::string>()).second) rows.push_back(std::move(row));
  }
  if (std::filesystem::exists(failures_file)) std::filesystem::remove(failures_file);

  BatchSummary summary;
  summary.total_in_shard = static_cast<int>(runs.size());
  std::vector<const SweepRun*> pending;
  for (const SweepRun* run : runs) {
    if (done.count(run->id) != 0)
      ++summary.skipped;
    else
      pending.push_back(run);
  }

  std::mutex mutex;
  std::atomic<size_t> next{0};
  const bool terminal = isatty(STDOUT_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  auto report = [&](bool final_line) {
    // Called with the mutex held.
    const auto now = std::chrono::steady_clock::now();
    if (options.quiet || (!final_line && std::chrono::duration<double>(now - last_report).count() <
                                             (terminal ? 0.2 : 2.0)))
      return;
    last_report = now;
    const int finished = summary.completed + summary.failed;
    const double elapsed = std::chrono::duration<double>(now - start).count();
    const double eta =
        finished > 0 ? elapsed / finished * (static_cast<double>(pending.size()) - finished) : 0.0;
    if (terminal)
      std::printf("\r  runs %d/%zu done, %d failed, %d skipped, ETA %.0fs   %s", summary.completed,
                  pending.size(), summary.failed, summary.skipped, eta, final_line ? "\n" : "");
    else
      std::printf("progress: done=%d failed=%d skipped=%d pending=%zu eta_s=%.1f\n",
                  summary.completed, summary.failed, summary.skipped,
                  pending.size() - static_cast<size_t>(finished), eta);
    std::fflush(stdout);
  };

  auto worker = [&] {
    for (;;) {
      const size_t slot = next.fetch_add(1);
      if (slot >= pending.size()) return;
      const SweepRun& run = *pending[slot];
      const auto run_start = std::chrono::steady_clock::now();
      Json row;
      row["run"] = run.id;
      row["index"] = run.index;
      row["point"] = run.point;
      row["seed"] = run.seed;
      if (!run.controller.empty()) row["controller"] = run.controller;
      Json params = Json::object();
      for (const auto& [path, value] : run.params) params[path] = value;
      row["params"] = params;
      const std::string& text = texts[static_cast<size_t>(run.index)];
      row["scenario_hash"] = Hex(HashBytes(text.data(), text.size()));
      row["ftwin_version"] = options.version;
      row["device"] = "cpu";
      try {
        RunOverrides overrides;
        overrides.seed = run.seed;
        overrides.num_threads = 1;
        const LoadedScenario loaded = LoadScenarioText(text, sweep.scenario, registry, overrides);
        Simulator simulator(loaded.model);
        simulator.Step(loaded.model->run().duration_ns / loaded.model->run().dt_ns);
        Json kpis = Json::object();
        for (const KpiEntry& kpi : simulator.ComputeKpis())
          kpis[kpi.block + "." + kpi.desc.name] = kpi.aggregate;
        row["kpis"] = kpis;
        row["worlds"] = loaded.model->run().num_worlds;
        row["world_resets"] = simulator.total_resets();
        row["state_hash"] = Hex(simulator.state().Hash());
        row["wall_time_s"] =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
        std::lock_guard<std::mutex> lock(mutex);
        AppendLine(results_file, row.dump());
        rows.push_back(std::move(row));
        ++summary.completed;
        report(false);
      } catch (const std::exception& error) {
        row["error"] = error.what();
        std::lock_guard<std::mutex> lock(mutex);
        AppendLine(failures_file, row.dump());
        ++summary.failed;
        report(false);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::max(1, options.jobs); ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& thread : threads) thread.join();
  {
    std::lock_guard<std::mutex> lock(mutex);
    report(true);
  }
  WriteTables(rows, options.out_dir);
  return summary;
}

MergeReport MergeBatches(const std::vector<std::filesystem::path>& shard_dirs,
                         const std::filesystem::path& out_dir) {
  MergeReport report;
  std::string sweep_hash;
  int shard_count = 0;
  std::set<int> shards_seen;
  std::map<std::string, Json> rows;
  for (const std::filesystem::path& dir : shard_dirs) {
    const std::filesystem::path manifest_file = dir / "sweep.json";
    if (!std::filesystem::exists(manifest_file)) {
      report.problems.push_back(dir.string() + ": no sweep.json (not an ftwin batch folder)");
      continue;
    }
    const Json manifest = Json::parse(ReadText(manifest_file), nullptr, false);
    if (manifest.is_discarded() || !manifest.contains("sweep_hash") ||
        !manifest.contains("shard")) {
      report.problems.push_back(manifest_file.string() + ": malformed");
      continue;
    }
    if (sweep_hash.empty()) sweep_hash = manifest["sweep_hash"].get<std::string>();
    if (manifest["sweep_hash"].get<std::string>() != sweep_hash) {
      report.problems.push_back(dir.string() + ": results of a different sweep (hash " +
                                manifest["sweep_hash"].get<std::string>() + " vs " + sweep_hash +
                                ")");
      continue;
    }
    report.total = manifest["total_runs"].get<int>();
    const std::string shard = manifest["shard"].get<std::string>();
    const int count = std::stoi(shard.substr(shard.find('/') + 1));
    if (shard_count == 0) shard_count = count;
    if (count != shard_count)
      report.problems.push_back(dir.string() + ": shard " + shard + " of a different split");
    shards_seen.insert(std::stoi(shard.substr(0, shard.find('/'))));
    for (const std::string& line : ReadResultRows(dir / "results.jsonl", false)) {
      Json row = Json::parse(line);
      const std::string id = row["run"].get<std::string>();
      const auto existing = rows.find(id);
      if (existing == rows.end())
        rows.emplace(id, std::move(row));
      else if (existing->second["state_hash"] != row["state_hash"])
        report.problems.push_back("run " + id + " appears twice with different results");
    }
  }
  report.present = static_cast<int>(rows.size());
  std::set<std::string> missing_shards;
  for (int index = 0; index < report.total; ++index) {
    char id[32];
    std::snprintf(id, sizeof id, "r%06d", index);
    if (rows.count(id) == 0) {
      report.missing_runs.push_back(id);
      if (shard_count > 0)
        missing_shards.insert(std::to_string(index % shard_count) + "/" +
                              std::to_string(shard_count));
    }
  }
  report.missing_shards.assign(missing_shards.begin(), missing_shards.end());
  std::filesystem::create_directories(out_dir);
  std::vector<Json> ordered;
  std::string jsonl;
  for (auto& [id, row] : rows) {
    jsonl += row.dump() + "\n";
    ordered.push_back(row);
  }
  WriteFileAtomic(out_dir / "results.jsonl", jsonl);
  WriteTables(ordered, out_dir);
  return report;
}

}  // namespace ftwin
