// The ftwin program end to end: exit codes, validation messages, KPI files.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs the CLI with `environment` ("NAME=value ...") set for it.
Result RunWithEnv(const std::string& environment, const std::string& arguments) {
  const std::string command =
      environment + " " + std::string(FTWIN_BIN) + " " + arguments + " 2>&1";
  Result result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t count;
  while ((count = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, count);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

Result Run(const std::string& arguments) { return RunWithEnv("", arguments); }

std::filesystem::path TempDir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ftwin_cli_test_" + name + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream stream(path);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

const std::string kDefault = std::string(FTWIN_SOURCE_DIR) + "/scenarios/building.yaml";

TEST_CASE("ftwin --version names the version and the CUDA build", "[cli]") {
  const Result result = Run("--version");
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.output, Catch::Contains("ftwin 0.") && Catch::Contains("CUDA:"));
}

TEST_CASE("The device option says which device runs and refuses cuda it cannot use", "[cli]") {
  const Result automatic = Run("run " + kDefault + " --duration 1h");
  CHECK(automatic.exit_code == 0);
  CHECK_THAT(automatic.output, Catch::Contains("device: cpu (CUDA not used: "));
  const Result cpu = Run("run " + kDefault + " --duration 1h --device cpu");
  CHECK_THAT(cpu.output, Catch::Contains("device: cpu (requested)"));
  // Most blocks of the default site have a device update (the others run on the host inside the
  // device path), so cuda runs where a GPU is and is refused, saying why, where none is.
  const Result cuda = Run("run " + kDefault + " --duration 1h --device cuda");
  if (cuda.exit_code == 0) {
    CHECK_THAT(cuda.output, Catch::Contains("device: cuda ("));
  } else {
    CHECK(cuda.exit_code == 2);
    CHECK_THAT(cuda.output, Catch::Contains("--device cuda: CUDA cannot be used: "));
  }
  CHECK(Run("run " + kDefault + " --device tpu").exit_code == 2);
}

TEST_CASE("ftwin validate accepts the default scenario", "[cli]") {
  const Result result = Run("validate " + kDefault);
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.output, Catch::Contains("valid"));
}

TEST_CASE("ftwin validate reports every error with file and line, exit code 2", "[cli]") {
  const auto dir = TempDir("validate");
  const auto file = dir / "bad.yaml";
  std::ofstream(file) << "ftwin: 1\nname: bad\nrun: {dt: 1s, duration: 10x}\nblocks:\n"
                         "  - {name: a, type: signal_source, value: 1, colour: red}\n";
  const Result result = Run("validate " + file.string());
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.output,
             Catch::Contains(file.string() + ":3:") && Catch::Contains("run.duration"));
  CHECK_THAT(result.output, Catch::Contains(file.string() + ":5:") &&
                                Catch::Contains("blocks[0].colour: unknown key"));
  CHECK_THAT(result.output, Catch::Contains("2 error(s); nothing was run"));
  CHECK(Run("validate " + (dir / "missing.yaml").string()).exit_code == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("ftwin run writes KPIs as JSON and CSV", "[cli]") {
  const auto dir = TempDir("run");
  const Result result =
      Run("run " + kDefault + " --duration 6h --worlds 3 --threads 2 --out " + dir.string());
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.output, Catch::Contains("building.final_temp_air_K"));
  const nlohmann::json kpis = nlohmann::json::parse(ReadFile(dir / "kpis.json"));
  CHECK(kpis["worlds"] == 3);
  CHECK(kpis["ticks"] == 6 * 360);
  CHECK(kpis["sim_time_s"] == 21600.0);
  bool found = false;
  for (const auto& kpi : kpis["kpis"])
    if (kpi["block"] == "heater" && kpi["name"] == "output_integral") {
      found = true;
      CHECK(kpi["per_world"].size() == 3);
      CHECK(kpi["value"].get<double>() > 0.0);
    }
  CHECK(found);
  const std::string csv = ReadFile(dir / "kpis.csv");
  CHECK_THAT(csv, Catch::StartsWith("block,kpi,unit,world,value\n"));
  CHECK_THAT(csv, Catch::Contains("heater,output_integral,W*s,2,"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("ftwin run rejects bad options with exit code 2", "[cli]") {
  CHECK(Run("run " + kDefault + " --duration 5parsecs").exit_code == 2);
  CHECK(Run("run " + kDefault + " --seed -1").exit_code == 2);
  CHECK(Run("run " + kDefault + " --worlds 0").exit_code == 2);
  CHECK(Run("run " + kDefault + " --duration 15s").exit_code == 2);  // not a multiple of dt
  CHECK(Run("run /no/such/scenario.yaml").exit_code == 2);
  CHECK(Run("fly").exit_code == 2);
  CHECK(Run("run --help").exit_code == 0);
}

// Rows of a results.jsonl by run id, without the wall time (the only field that may differ).
std::map<std::string, std::string> ResultRows(const std::filesystem::path& file) {
  std::map<std::string, std::string> rows;
  std::istringstream lines(ReadFile(file));
  std::string line;
  while (std::getline(lines, line)) {
    nlohmann::json row = nlohmann::json::parse(line);
    row.erase("wall_time_s");
    rows[row["run"].get<std::string>()] = row.dump();
  }
  return rows;
}

TEST_CASE("kill -9 in the middle of a sweep: rerunning completes it with no loss and no duplicates",
          "[cli][slow]") {
  const auto dir = TempDir("kill");
  const auto sweep = dir / "sweep.yaml";
  std::ofstream(sweep)
      << "ftwin_sweep: 1\nname: kill\nscenario: " << kDefault
      << "\nseeds: {start: 0, count: 16}\ngrid:\n  run.duration: [15d]\n  run.worlds: [16]\n";
  REQUIRE(Run("batch " + sweep.string() + " --quiet --jobs 2 --out " + (dir / "reference").string())
              .exit_code == 0);
  const auto out = dir / "killed";
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    execl(FTWIN_BIN, FTWIN_BIN, "batch", sweep.c_str(), "--quiet", "--jobs", "2", "--out",
          out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it once a few rows are written, while others are in flight.
  const auto results = out / "results.jsonl";
  for (int i = 0; i < 2000; ++i) {
    if (std::filesystem::exists(results) && ResultRows(results).size() >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  const size_t before = std::filesystem::exists(results) ? ResultRows(results).size() : 0;
  CHECK(WIFSIGNALED(status));  // it really was killed mid-sweep
  CHECK(before < 16);
  const Result resumed = Run("batch " + sweep.string() + " --out " + out.string());
  CHECK(resumed.exit_code == 0);
  CHECK_THAT(resumed.output, Catch::Contains(std::to_string(before) + " already done"));
  CHECK(ResultRows(results) == ResultRows(dir / "reference" / "results.jsonl"));
  // Exactly 16 lines: nothing duplicated.
  std::istringstream lines(ReadFile(results));
  CHECK(std::count(std::istreambuf_iterator<char>(lines), std::istreambuf_iterator<char>(), '\n') ==
        16);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Two runs with the same seed print the same KPIs", "[cli][determinism]") {
  const auto a = TempDir("a"), b = TempDir("b");
  REQUIRE(
      Run("run " + kDefault + " --duration 1d --worlds 2 --threads 1 --quiet --out " + a.string())
          .exit_code == 0);
  REQUIRE(
      Run("run " + kDefault + " --duration 1d --worlds 2 --threads 2 --quiet --out " + b.string())
          .exit_code == 0);
  CHECK(ReadFile(a / "kpis.csv") == ReadFile(b / "kpis.csv"));
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
}

}  // namespace

TEST_CASE("The whole-site scenario runs every plant and repeats itself exactly", "[cli][slow]") {
  // scenarios/default.yaml (README's main job): robot cell, fab line, energy plant and building
  // on one bus. 40 s of site time twice with the same seed, then once on the emulated device
  // path (the blocks without a device update run on the host between the kernels): identical
  // KPI files, and every plant reports.
  const std::string site = std::string(FTWIN_SOURCE_DIR) + "/scenarios/default.yaml";
  std::string csv[3];
  for (int run = 0; run < 3; ++run) {
    const auto dir = TempDir("site" + std::to_string(run));
    const Result result =
        run == 2 ? RunWithEnv("FTWIN_DEVICE_EMULATE=1",
                              "run " + site + " --duration 40s --out " + dir.string())
                 : Run("run " + site + " --duration 40s --quiet --out " + dir.string());
    REQUIRE(result.exit_code == 0);
    if (run == 2)
      CHECK_THAT(result.output, Catch::Contains("device: emulated") &&
                                    Catch::Contains("on the host: ") &&
                                    Catch::Contains("(fab_line) keeps per-world objects"));
    csv[run] = ReadFile(dir / "kpis.csv");
    std::filesystem::remove_all(dir);
  }
  CHECK(csv[0] == csv[1]);
  CHECK(csv[0] == csv[2]);
  for (const char* kpi : {"cell,energy_J,", "cell,parts_delivered,", "fab,lots_released,",
                          "site,grid_import_kWh,", "heater,output_integral,"})
    CHECK_THAT(csv[0], Catch::Contains(kpi));
}
