// Sweeps and batches: expansion, sharding, resume after a torn write, merge.
#include "engine/batch.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "plants/register.h"

namespace ftwin {
namespace {

namespace fs = std::filesystem;

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  return registry;
}

fs::path TempDir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("ftwin_batch_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A sweep over the default scenario, shortened to 6 h per run.
fs::path WriteSweep(const fs::path& dir, const std::string& extra = "") {
  const fs::path file = dir / "sweep.yaml";
  std::ofstream(file)
      << "ftwin_sweep: 1\nname: test\nscenario: " FTWIN_SOURCE_DIR
         "/scenarios/building.yaml\n"
         "seeds: [5, 6]\n"
         "grid:\n  blocks.heater.kp: [1000, 3000, 9000]\n  run.duration: [6h]\n"
         "random:\n  count: 2\n  seed: 4\n  params:\n"
         "    blocks.building.nodes[1].capacitance_J_per_K: {loguniform: [1.0e7, 1.0e8]}\n"
      << extra;
  return file;
}

std::string ErrorsOf(const fs::path& file) {
  try {
    LoadSweep(file);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

std::map<std::string, std::string> RowsById(const fs::path& dir) {
  std::map<std::string, std::string> rows;
  for (const std::string& line : ReadResultRows(dir / "results.jsonl", false)) {
    nlohmann::json row = nlohmann::json::parse(line);
    row.erase("wall_time_s");  // the only field that differs between identical runs
    rows[row["run"].get<std::string>()] = row.dump();
  }
  return rows;
}

TEST_CASE("A sweep expands into points times seeds with stable ids", "[batch]") {
  const fs::path dir = TempDir("expand");
  const SweepSpec spec = LoadSweep(WriteSweep(dir));
  const std::vector<SweepRun> runs = ExpandSweep(spec);
  REQUIRE(runs.size() == 3 * 1 * 2 * 2);  // kp x duration x random samples x seeds
  CHECK(runs[0].id == "r000000");
  CHECK(runs[11].id == "r000011");
  CHECK(runs[0].params[0] == std::make_pair(std::string("blocks.heater.kp"), std::string("1000")));
  CHECK(runs[11].params[0].second == "9000");
  CHECK(runs[0].seed == 5);
  CHECK(runs[1].seed == 6);
  CHECK(runs[0].point == runs[1].point);
  for (const SweepRun& run : runs) {
    const double capacitance = std::stod(run.params[2].second);
    CHECK(capacitance >= 1.0e7);
    CHECK(capacitance <= 1.0e8);
  }
  CHECK(runs[0].params[2] != runs[2].params[2]);  // two different random samples
  // Deterministic: expanding again gives the same values.
  const std::vector<SweepRun> again = ExpandSweep(LoadSweep(dir / "sweep.yaml"));
  for (size_t i = 0; i < runs.size(); ++i) CHECK(again[i].params == runs[i].params);
  fs::remove_all(dir);
}

TEST_CASE("Controller choices multiply the points and override last", "[batch]") {
  const fs::path dir = TempDir("controllers");
  const fs::path file = WriteSweep(
      dir, "controllers:\n  baseline:\n  gentle: {blocks.heater.kp: 200, blocks.heater.ki: 0.1}\n");
  const std::vector<SweepRun> runs = ExpandSweep(LoadSweep(file));
  REQUIRE(runs.size() == 24);  // 12 as before x 2 controllers
  CHECK(runs[0].controller == "baseline");
  CHECK(runs[2].controller == "gentle");
  CHECK(runs[2].params.back() ==
        std::make_pair(std::string("blocks.heater.ki"), std::string("0.1")));
  BatchOptions options;
  options.sweep_file = file;
  options.out_dir = dir / "out";
  options.quiet = true;
  options.jobs = 2;
  CHECK(RunBatch(options, Registry()).completed == 24);
  std::ifstream stream(dir / "out" / "summary.json");
  std::ostringstream summary;
  summary << stream.rdbuf();
  CHECK_THAT(summary.str(), Catch::Contains("\"controller\": \"gentle\""));
  // The gentle controller's kp (applied last) wins over the grid's kp: all its points agree.
  const auto rows = RowsById(dir / "out");
  CHECK(rows.at("r000002").find("\"blocks.heater.kp\":\"200\"") != std::string::npos);
  // An unknown path in a controller choice is rejected like any other.
  std::ofstream(dir / "bad.yaml")
      << "ftwin_sweep: 1\nname: b\nscenario: " FTWIN_SOURCE_DIR
         "/scenarios/building.yaml\ncontrollers:\n  x: {blocks.cooler.kp: 1}\n";
  CHECK_THAT(ErrorsOf(dir / "bad.yaml"),
             Catch::Contains("controllers.x") && Catch::Contains("no block 'cooler'"));
  fs::remove_all(dir);
}

TEST_CASE("Every run lands in exactly one shard", "[batch]") {
  const fs::path dir = TempDir("shards");
  const std::vector<SweepRun> runs = ExpandSweep(LoadSweep(WriteSweep(dir)));
  for (int count : {1, 2, 5, 7, 24, 40}) {
    std::map<int, int> seen;
    for (int shard = 0; shard < count; ++shard)
      for (const SweepRun& run : runs)
        if (ShardOf(run, count) == shard) ++seen[run.index];
    CHECK(seen.size() == runs.size());
    for (const auto& [index, times] : seen) CHECK(times == 1);
  }
  int index = -1, count = -1;
  std::string error;
  CHECK(ResolveShard("2/4", &index, &count, &error));
  CHECK((index == 2 && count == 4));
  CHECK_FALSE(ResolveShard("4/4", &index, &count, &error));
  CHECK_FALSE(ResolveShard("x", &index, &count, &error));
  fs::remove_all(dir);
}

TEST_CASE("Bad sweeps are rejected with file, line and key", "[batch]") {
  const fs::path dir = TempDir("bad");
  const fs::path file = WriteSweep(dir, "");
  std::string text;
  {
    std::ifstream stream(file);
    std::ostringstream buffer;
    buffer << stream.rdbuf();
    text = buffer.str();
  }
  auto with = [&](const std::string& from, const std::string& to) {
    std::string changed = text;
    changed.replace(changed.find(from), from.size(), to);
    std::ofstream(file) << changed;
    return ErrorsOf(file);
  };
  // A key the block does not have is caught when the run's scenario is validated, before any run.
  with("blocks.heater.kp", "blocks.heater.kq");
  BatchOptions options;
  options.sweep_file = file;
  options.out_dir = dir / "out";
  options.quiet = true;
  CHECK_THROWS_WITH(RunBatch(options, Registry()), Catch::Contains("blocks[2].kq: unknown key") &&
                                                       Catch::Contains("in run r000000"));
  CHECK_FALSE(fs::exists(dir / "out" / "results.jsonl"));
  CHECK_THAT(with("blocks.heater.kp", "blocks.cooler.kp"), Catch::Contains("no block 'cooler'"));
  CHECK_THAT(with("{loguniform: [1.0e7, 1.0e8]}", "{loguniform: [0, 1.0e8]}"),
             Catch::Contains("sweep.yaml:12:") && Catch::Contains("low > 0"));
  CHECK_THAT(with("{loguniform: [1.0e7, 1.0e8]}", "{gamma: [1, 2]}"),
             Catch::Contains("expected a distribution"));
  CHECK_THAT(with("seeds: [5, 6]", "seeds: [5, -6]"),
             Catch::Contains("non-negative integer seeds"));
  CHECK_THAT(with("building.yaml", "nosuch.yaml"),
             Catch::Contains("scenario") && Catch::Contains("expected an existing file"));
  fs::remove_all(dir);
}

TEST_CASE("Resume after a torn write redoes only the missing runs", "[batch]") {
  const fs::path dir = TempDir("resume");
  const fs::path sweep = WriteSweep(dir);
  BatchOptions options;
  options.sweep_file = sweep;
  options.out_dir = dir / "reference";
  options.jobs = 2;
  options.quiet = true;
  const BatchSummary reference = RunBatch(options, Registry());
  CHECK(reference.completed == 12);
  const auto expected = RowsById(options.out_dir);
  REQUIRE(expected.size() == 12);

  // A crash: keep 5 complete rows and half of the 6th.
  options.out_dir = dir / "crashed";
  RunBatch(options, Registry());
  const fs::path results = options.out_dir / "results.jsonl";
  std::vector<std::string> lines = ReadResultRows(results, false);
  {
    std::ofstream out(results, std::ios::trunc);
    for (int i = 0; i < 5; ++i) out << lines[static_cast<size_t>(i)] << "\n";
    out << lines[5].substr(0, lines[5].size() / 2);
  }
  const BatchSummary resumed = RunBatch(options, Registry());
  CHECK(resumed.skipped == 5);
  CHECK(resumed.completed == 7);
  CHECK(ReadResultRows(results, false).size() == 12);  // no duplicates, torn row gone
  CHECK(RowsById(options.out_dir) == expected);
  // A rerun of a complete sweep does nothing.
  CHECK(RunBatch(options, Registry()).completed == 0);
  fs::remove_all(dir);
}

TEST_CASE("Merged shards equal a local run; a missing shard is reported", "[batch]") {
  const fs::path dir = TempDir("merge");
  BatchOptions options;
  options.sweep_file = WriteSweep(dir);
  options.quiet = true;
  options.out_dir = dir / "local";
  RunBatch(options, Registry());
  std::vector<fs::path> shards;
  for (int shard = 0; shard < 3; ++shard) {
    options.out_dir = dir / ("shard" + std::to_string(shard));
    options.shard_index = shard;
    options.shard_count = 3;
    RunBatch(options, Registry());
    shards.push_back(options.out_dir);
  }
  const MergeReport full = MergeBatches(shards, dir / "merged");
  CHECK(full.missing_runs.empty());
  CHECK(full.problems.empty());
  CHECK(full.present == 12);
  CHECK(RowsById(dir / "merged") == RowsById(dir / "local"));

  const MergeReport partial = MergeBatches({shards[0], shards[2]}, dir / "partial");
  CHECK(partial.missing_runs.size() == 4);
  CHECK(partial.missing_shards == std::vector<std::string>{"1/3"});
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ftwin
