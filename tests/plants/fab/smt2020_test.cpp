// The SMT2020 loader against the data set itself: counts, calendars, analytic load, errors.
#include "plants/fab/smt2020.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "plants/fab/fab_sim.h"

namespace ftwin::fab {
namespace {

const std::filesystem::path kData = std::filesystem::path(FTWIN_SHARED_DIR) / "data/smt2020";

FabConfig Load(const std::filesystem::path& dir) {
  Diagnostics diagnostics;
  FabConfig config;
  LoadSmt2020(dir, &diagnostics, &config);
  INFO(diagnostics.ToString());
  REQUIRE(diagnostics.ok());
  config.Finalise();
  return config;
}

std::array<CounterRng, kFabStreamCount> Rngs(uint64_t seed) {
  std::array<CounterRng, kFabStreamCount> rngs;
  for (int s = 0; s < kFabStreamCount; ++s)
    rngs[static_cast<size_t>(s)] = CounterRng{seed, 0, static_cast<uint32_t>(s)};
  return rngs;
}

TEST_CASE("SMT2020 HV/LM and LV/HM load without error", "[fab][smt2020]") {
  const FabConfig hv = Load(kData / "HVLM");
  CHECK(hv.products.size() == 2);
  CHECK(hv.products[0].route.size() == 583);  // route_3.txt: 583 steps
  CHECK(hv.products[1].route.size() == 343);  // route_4.txt: 343 steps
  CHECK(hv.families.size() == 106);           // tool.txt.1l rows
  CHECK(hv.releases.size() == 5);             // order.txt rows
  CHECK(hv.initial_wip.size() == 2255);       // WIP.txt rows
  CHECK(hv.down_calendars.size() == 11);
  CHECK(hv.pm_calendars.size() == 292);
  CHECK(hv.groups.size() == 12);  // STNGRP values (Delay_32 is its own)
  int tools = 0;
  for (const Family& family : hv.families) tools += family.num_tools;
  CHECK(tools == hv.num_tools());
  // Spot checks against the files: route_3 step 1 is a per-batch diffusion of 125-150 wafers,
  // 501.33 +- 25.0665 min; the lot release interval is 51.69 min; transport 7.5 +- 2.5 min.
  const Step& first = hv.products[0].route[0];
  CHECK(hv.families[static_cast<size_t>(first.family)].name == "Diffusion_FE_120");
  CHECK(first.basis == TimeBasis::kPerBatch);
  CHECK(first.batch_min_wafers == 125);
  CHECK(first.batch_max_wafers == 150);
  CHECK(first.time.mean_s == Approx(501.33 * 60));
  CHECK(first.time.half_width_s == Approx(25.0665 * 60));
  CHECK(hv.releases[0].interval.mean_s == Approx(51.69 * 60));
  CHECK(hv.releases[0].count == 200000);
  CHECK(hv.Transport(0, 0).mean_s == Approx(7.5 * 60));
  const FabConfig lv = Load(kData / "LVHM");
  CHECK(lv.products.size() == 10);
  CHECK(lv.releases.size() == 21);
}

struct FamilyStats {
  double productive = 0, up = 0, total = 0;
};

std::vector<FamilyStats> Stats(const FabConfig& config, const FabWorld& world) {
  std::vector<FamilyStats> stats(config.families.size());
  for (const Tool& tool : world.tools()) {
    FamilyStats& s = stats[static_cast<size_t>(tool.family)];
    for (int64_t span : tool.e10_ns) s.total += static_cast<double>(span);
    s.productive += static_cast<double>(tool.e10_ns[kProductive]);
    s.up += static_cast<double>(tool.e10_ns[kProductive] + tool.e10_ns[kStandby]);
  }
  return stats;
}

TEST_CASE(
    "SMT2020 HV/LM: availability matches the calendars, utilisation the analytic load, "
    "Little's law holds",
    "[fab][smt2020][slow]") {
  // At the data set's release rate the litho families run at ~95 % of their availability and
  // WIP drifts up (docs/fab.md); at 85 % of it the fab is stable, so the utilisation of every
  // family must equal its offered load. No initial WIP; statistics from day 100 to day 400.
  FabConfig config = Load(kData / "HVLM");
  config.initial_wip.clear();
  const double rate_factor = 0.85;
  FabWorld world(&config);
  world.SetRngs(Rngs(3));
  world.SetReleaseRate(rate_factor);
  world.Start(0);
  world.AdvanceTo(int64_t{100} * 86400 * 1'000'000'000);
  const std::vector<FamilyStats> before = Stats(config, world);
  const double wip_area_before = world.wip_area_lot_s();
  const size_t done_before = world.completions().size();
  world.AdvanceTo(int64_t{400} * 86400 * 1'000'000'000);
  std::vector<FamilyStats> stats = Stats(config, world);
  // Little's law over the window: time-average WIP = throughput x mean cycle time.
  const double window_s = 300 * 86400.0;
  const double wip_mean = (world.wip_area_lot_s() - wip_area_before) / window_s;
  double sum_ct_s = 0;
  for (size_t i = done_before; i < world.completions().size(); ++i)
    sum_ct_s +=
        static_cast<double>(world.completions()[i].finish_ns - world.completions()[i].release_ns) *
        1e-9;
  const double lots = static_cast<double>(world.completions().size() - done_before);
  INFO("SMT2020 WIP " << wip_mean << " lots, lambda W " << lots / window_s * (sum_ct_s / lots));
  CHECK(lots / window_s * (sum_ct_s / lots) == Approx(wip_mean).epsilon(0.05));
  for (size_t f = 0; f < stats.size(); ++f) {
    stats[f].productive -= before[f].productive;
    stats[f].up -= before[f].up;
    stats[f].total -= before[f].total;
  }
  // Analytic load per family: release rate x sum over visits of (load + occupancy + unload).
  std::vector<double> work_s(config.families.size(), 0.0);
  std::vector<bool> simple(config.families.size(), true);
  for (const ReleaseStream& stream : config.releases) {
    const double rate = rate_factor * stream.lots_per_release / stream.interval.mean_s;
    for (const Step& step : config.products[static_cast<size_t>(stream.product)].route) {
      const Family& family = config.families[static_cast<size_t>(step.family)];
      if (step.batch_max_wafers > 0 || step.setup >= 0)
        simple[static_cast<size_t>(step.family)] = false;
      double occupy = step.cascade_s > 0 ? step.cascade_s : step.time.mean_s;
      if (step.basis == TimeBasis::kPerPiece) occupy *= stream.wafers;
      work_s[static_cast<size_t>(step.family)] +=
          rate * step.sampling * (1 + step.rework_probability) *
          (occupy + (family.cascading ? 0.0 : family.load_s + family.unload_s));
    }
  }
  int checked_util = 0, checked_avail = 0;
  for (size_t f = 0; f < config.families.size(); ++f) {
    const Family& family = config.families[f];
    const FamilyStats& s = stats[f];
    // Availability from the calendars: breakdowns MTTR / (MTTF + MTTR), time-based PMs
    // duration / interval (families with piece-counted PMs or setups are left out).
    bool time_based = simple[f];
    double down = 0, variance = 0;
    for (int32_t c : family.down_calendars) {
      const DownCalendar& d = config.down_calendars[static_cast<size_t>(c)];
      down += d.mttr.mean_s / (d.mttf.mean_s + d.mttr.mean_s);
      // Exponential failures and repairs: Var(total repair time) ~ 2 N MTTR^2 per tool.
      const double failures = window_s / (d.mttf.mean_s + d.mttr.mean_s);
      variance += 2 * failures * d.mttr.mean_s * d.mttr.mean_s / (window_s * window_s);
    }
    const double standard_error = std::sqrt(variance / family.num_tools);
    for (int32_t c : family.pm_calendars) {
      const PmCalendar& pm = config.pm_calendars[static_cast<size_t>(c)];
      if (pm.by_pieces) time_based = false;
      down += pm.duration.mean_s / pm.interval;
    }
    if (time_based && family.num_tools >= 2) {
      INFO(family.name << " availability " << s.up / s.total << " expected " << 1 - down);
      CHECK(s.up / s.total == Approx(1 - down).margin(0.005 + 4 * standard_error));
      ++checked_avail;
    }
    const double analytic = work_s[f] / family.num_tools;
    if (simple[f] && analytic > 0.2) {
      INFO(family.name << " utilisation " << s.productive / s.total << " analytic " << analytic);
      CHECK(s.productive / s.total == Approx(analytic).epsilon(0.05));
      ++checked_util;
    }
  }
  CHECK(checked_avail >= 10);
  CHECK(checked_util >= 20);
}

// Copies the HV/LM folder to a temporary one with one file's text edited.
std::filesystem::path Corrupt(const std::string& file, const std::string& from,
                              const std::string& to, int which = 1) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ftwin_smt2020_bad_" + std::to_string(std::rand()));
  std::filesystem::create_directories(dir);
  for (const auto& entry : std::filesystem::directory_iterator(kData / "HVLM")) {
    std::filesystem::copy_file(entry.path(), dir / entry.path().filename(),
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(
        dir / entry.path().filename(),
        std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  std::ifstream in(dir / file);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  size_t at = 0;
  for (int i = 0; i < which; ++i) {
    at = text.find(from, i == 0 ? 0 : at + 1);
    REQUIRE(at != std::string::npos);
  }
  text.replace(at, from.size(), to);
  std::ofstream(dir / file) << text;
  return dir;
}

std::string ErrorOf(const std::filesystem::path& dir) {
  Diagnostics diagnostics;
  FabConfig config;
  LoadSmt2020(dir, &diagnostics, &config);
  std::filesystem::remove_all(dir);
  return diagnostics.ToString();
}

TEST_CASE("Bad SMT2020 data is reported with file, line, column and header", "[fab][smt2020]") {
  // route_3.txt line 2 is step 1: "r_3\t1\t001_Diffusion\tDiffusion_FE_120\tuniform\t501.33...".
  CHECK_THAT(ErrorOf(Corrupt("route_3.txt", "\tDiffusion_FE_120\t", "\tNoSuchFamily\t")),
             Catch::Contains("route_3.txt:2:21: route_3.txt:STNFAM: got 'NoSuchFamily', expected a "
                             "tool family listed in tool.txt.1l"));
  CHECK_THAT(ErrorOf(Corrupt("route_3.txt", "\t501.33\t", "\t-501.33\t")),
             Catch::Contains("route_3.txt:2:") && Catch::Contains("PTIME: got '-501.33'"));
  CHECK_THAT(ErrorOf(Corrupt("route_3.txt", "\t501.33\t", "\t\t")),
             Catch::Contains(
                 "route_3.txt:2:46: route_3.txt:PTIME: expected a number (the cell is empty)"));
  CHECK_THAT(ErrorOf(Corrupt("route_3.txt", "\t125\t150\t", "\t150\t125\t")),
             Catch::Contains("route_3.txt:2:") &&
                 Catch::Contains("BATCHMX: got '125', expected BATCHMX >= BATCHMN"));
  CHECK_THAT(ErrorOf(Corrupt("route_3.txt", "\tuniform\t501.33", "\tweibull\t501.33")),
             Catch::Contains("PDIST: got 'weibull', expected a distribution"));
  CHECK_THAT(
      ErrorOf(Corrupt("order.txt", "02/23/18 20:07:47", "02/30/18 25:07:47")),
      Catch::Contains("order.txt:2:") &&
          Catch::Contains("DUE: got '02/30/18 25:07:47', expected a date MM/DD/YY hh:mm:ss"));
  CHECK_THAT(ErrorOf(Corrupt("attach.txt", "\tstngrp\tDef_Met\t", "\tstngrp\tDef_Mett\t")),
             Catch::Contains("attach.txt:2:") && Catch::Contains("RESNAME: got 'Def_Mett'"));
  Diagnostics missing;
  FabConfig config;
  LoadSmt2020(kData / "NoSuchFolder", &missing, &config);
  CHECK_THAT(missing.ToString(), Catch::Contains("tool.txt.1l: expected a readable SMT2020 file"));
}

}  // namespace
}  // namespace ftwin::fab
