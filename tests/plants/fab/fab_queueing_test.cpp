// The fab's event core against queueing theory and hand-computed schedules.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "plants/fab/fab_model.h"
#include "plants/fab/fab_sim.h"

namespace ftwin::fab {
namespace {

constexpr double kHourS = 3600.0;
constexpr int64_t kMinNs = 60'000'000'000;

std::array<CounterRng, kFabStreamCount> Rngs(uint64_t seed) {
  std::array<CounterRng, kFabStreamCount> rngs;
  for (int s = 0; s < kFabStreamCount; ++s)
    rngs[static_cast<size_t>(s)] = CounterRng{seed, 0, static_cast<uint32_t>(s)};
  return rngs;
}

Dist Exp(double mean_s) { return {DistKind::kExponential, mean_s, 0.0}; }
Dist Const(double mean_s) { return {DistKind::kConstant, mean_s, 0.0}; }

// One family of `tools` tools, one single-step product of 1-wafer lots, Poisson-or-not arrivals.
FabConfig SingleStation(int tools, Dist service, Dist interarrival) {
  FabConfig config;
  Family family;
  family.name = "station";
  family.num_tools = tools;
  config.families.push_back(family);
  Product product;
  product.name = "p";
  product.nominal_wafers = 1;
  Step step;
  step.family = 0;
  step.time = service;
  product.route.push_back(step);
  config.products.push_back(product);
  ReleaseStream stream;
  stream.wafers = 1;
  stream.interval = interarrival;
  config.releases.push_back(stream);
  config.Finalise();
  return config;
}

struct Estimate {
  double mean = 0, half_width = 0;
};

// Mean of per-lot values by batch means: 20 batches after dropping the first 10 % (warm-up);
// half width of the 99 % confidence interval from Student's t with 19 degrees of freedom.
Estimate BatchMeans(const std::vector<double>& values) {
  const size_t start = values.size() / 10;
  const size_t batches = 20, size = (values.size() - start) / batches;
  std::vector<double> means;
  for (size_t b = 0; b < batches; ++b) {
    double sum = 0;
    for (size_t i = 0; i < size; ++i) sum += values[start + b * size + i];
    means.push_back(sum / static_cast<double>(size));
  }
  double mean = 0, var = 0;
  for (double m : means) mean += m;
  mean /= batches;
  for (double m : means) var += (m - mean) * (m - mean);
  var /= batches - 1;
  return {mean, 2.861 * std::sqrt(var / batches)};
}

std::vector<double> SojournHours(const FabWorld& world) {
  std::vector<Completion> done = world.completions();
  std::sort(done.begin(), done.end(),
            [](const Completion& a, const Completion& b) { return a.lot_id < b.lot_id; });
  std::vector<double> hours;
  for (const Completion& c : done)
    hours.push_back(static_cast<double>(c.finish_ns - c.release_ns) * 1e-9 / kHourS);
  return hours;
}

FabWorld Run(const FabConfig& config, uint64_t seed, double hours) {
  FabWorld world(&config);
  world.SetRngs(Rngs(seed));
  world.Start(0);
  world.AdvanceTo(static_cast<int64_t>(hours * kHourS * 1e9));
  return world;
}

TEST_CASE("M/M/1: mean time in system matches 1/(mu - lambda)", "[fab][queueing]") {
  const double lambda = 0.8, mu = 1.0;  // per hour
  const FabConfig config = SingleStation(1, Exp(kHourS / mu), Exp(kHourS / lambda));
  const FabWorld world = Run(config, 11, 250000.0);
  const Estimate estimate = BatchMeans(SojournHours(world));
  const double analytic = 1.0 / (mu - lambda);  // 5 h
  INFO("simulated " << estimate.mean << " +- " << estimate.half_width << " h, analytic "
                    << analytic);
  CHECK(std::abs(estimate.mean - analytic) < estimate.half_width);
  CHECK(estimate.half_width < 0.1 * analytic);  // the interval is informative
}

TEST_CASE("M/M/c: mean time in system matches Erlang C", "[fab][queueing]") {
  const int c = 3;
  const double lambda = 2.4, mu = 1.0, a = lambda / mu, rho = a / c;
  // Erlang C: probability of waiting.
  double sum = 0, term = 1;
  for (int k = 0; k < c; ++k) {
    if (k > 0) term *= a / k;
    sum += term;
  }
  const double last = term * a / c / (1 - rho);  // a^c / c! / (1 - rho)
  const double erlang_c = last / (sum + last);
  const double analytic = erlang_c / (c * mu - lambda) + 1.0 / mu;
  const FabConfig config = SingleStation(c, Exp(kHourS / mu), Exp(kHourS / lambda));
  const FabWorld world = Run(config, 5, 100000.0);
  const Estimate estimate = BatchMeans(SojournHours(world));
  INFO("simulated " << estimate.mean << " +- " << estimate.half_width << " h, analytic "
                    << analytic);
  CHECK(std::abs(estimate.mean - analytic) < estimate.half_width);
  CHECK(estimate.half_width < 0.1 * analytic);
}

TEST_CASE("M/D/1: mean wait matches Pollaczek-Khinchine", "[fab][queueing]") {
  const double lambda = 0.8, service_h = 1.0, rho = lambda * service_h;
  const double analytic_wait = rho * service_h / (2 * (1 - rho));  // 2 h
  const FabConfig config = SingleStation(1, Const(service_h * kHourS), Exp(kHourS / lambda));
  const FabWorld world = Run(config, 3, 250000.0);
  std::vector<double> waits = SojournHours(world);
  for (double& w : waits) w -= service_h;  // deterministic service: the rest is waiting
  const Estimate estimate = BatchMeans(waits);
  INFO("simulated " << estimate.mean << " +- " << estimate.half_width << " h, analytic "
                    << analytic_wait);
  CHECK(std::abs(estimate.mean - analytic_wait) < estimate.half_width);
  CHECK(estimate.half_width < 0.1 * analytic_wait);
}

TEST_CASE("A deterministic serial line gives the hand-computed cycle times exactly", "[fab]") {
  // Two single-tool stations, 10 and 20 min; a lot every 15 min, 4 lots. By hand: station 2
  // starts lot k at max(arrival, previous end): ends 30, 50, 70, 90 -> CT 30, 35, 40, 45 min.
  FabConfig config;
  for (const char* name : {"s1", "s2"}) {
    Family family;
    family.name = name;
    config.families.push_back(family);
  }
  Product product;
  product.name = "p";
  product.nominal_wafers = 1;
  for (int f = 0; f < 2; ++f) {
    Step step;
    step.family = f;
    step.time = Const(60.0 * (10 + 10 * f));
    product.route.push_back(step);
  }
  config.products.push_back(product);
  ReleaseStream stream;
  stream.wafers = 1;
  stream.interval = Const(15 * 60.0);
  stream.count = 4;
  config.releases.push_back(stream);
  config.Finalise();
  const FabWorld world = Run(config, 1, 10.0);
  REQUIRE(world.completions().size() == 4);
  for (int k = 0; k < 4; ++k) {
    const Completion& c = world.completions()[static_cast<size_t>(k)];
    CHECK(c.lot_id == k);
    CHECK(c.release_ns == 15 * k * kMinNs);
    CHECK(c.finish_ns - c.release_ns == (30 + 5 * k) * kMinNs);  // exact in integer ns
  }
  CHECK(world.wip() == 0);
  // E10: station 2 was productive exactly 80 min over the 10 h.
  const Tool& tool = world.tools()[1];
  CHECK(tool.e10_ns[kProductive] == 80 * kMinNs);
  CHECK(tool.e10_ns[kStandby] == 600 * kMinNs - 80 * kMinNs);
}

// An implant family of `tools` tools and two one-step products A and B (30 min, 1 wafer)
// needing setups A and B: any -> A 20 min, any -> B 20 min, A -> B 25 min. Releases and
// Finalise() are left to the test.
FabConfig SetupImplant(int tools, bool wake_least_setup) {
  FabConfig config;
  Family family;
  family.name = "implant";
  family.num_tools = tools;
  family.wake_least_setup = wake_least_setup;
  config.families.push_back(family);
  const int32_t a = config.SetupIndex("A"), b = config.SetupIndex("B");
  config.setup_entries = {{-1, a, 1200.0}, {-1, b, 1200.0}, {a, b, 1500.0}};
  for (int32_t setup : {a, b}) {
    Product product;
    product.name = setup == a ? "A" : "B";
    product.nominal_wafers = 1;
    Step step;
    step.time = Const(1800.0);
    step.setup = setup;
    product.route.push_back(step);
    config.products.push_back(product);
  }
  return config;
}

// Min 2, max 3 one-wafer lots, 10 min per batch; a lot every minute, 12 lots.
FabConfig BatchingStation() {
  FabConfig config = SingleStation(1, Const(600.0), Const(60.0));
  config.products[0].route[0].basis = TimeBasis::kPerBatch;
  config.products[0].route[0].batch_min_wafers = 2;
  config.products[0].route[0].batch_max_wafers = 3;
  config.releases[0].count = 12;
  config.Finalise();
  return config;
}

TEST_CASE("A batching tool forms the batches its min/max rule says", "[fab]") {
  // Lot 0 waits for lot 1 (min 2), then full batches of 3 form while the tool is busy; lot 11
  // stays alone.
  const FabConfig config = BatchingStation();
  const FabWorld world = Run(config, 1, 5.0);
  const int64_t expected_finish_min[] = {11, 11, 21, 21, 21, 31, 31, 31, 41, 41, 41};
  REQUIRE(world.completions().size() == 11);
  for (const Completion& c : world.completions())
    CHECK(c.finish_ns == expected_finish_min[c.lot_id] * kMinNs);
  CHECK(world.wip() == 1);  // lot 11: below the minimum batch, still waiting
  CHECK(world.queue(0).size() == 1);
}

TEST_CASE("Batch controls: a minimum-batch policy and batch start decisions", "[fab]") {
  // The batching station above (min 2, max 3 one-wafer lots, 10 min per batch, a lot every
  // minute, 12 lots). With the family's minimum raised to 3 from the start, lots 0-2 start at
  // 2 min, then full batches start at each tool release: 12, 22, 32 min; all 12 finish by 42.
  const FabConfig config = BatchingStation();
  {
    FabWorld world(&config);
    world.SetRngs(Rngs(1));
    world.SetBatchMin(0, 3);
    world.Start(0);
    world.AdvanceTo(5 * 60 * kMinNs);
    const int64_t expected_finish_min[] = {12, 12, 12, 22, 22, 22, 32, 32, 32, 42, 42, 42};
    REQUIRE(world.completions().size() == 12);
    for (const Completion& c : world.completions())
      CHECK(c.finish_ns == expected_finish_min[c.lot_id] * kMinNs);
  }
  // With the data's minimum, lot 11 is left waiting alone (see the test above). A batch start
  // decision, or lowering the minimum to 1, starts it at once: done 10 min later.
  for (int control = 0; control < 2; ++control) {
    FabWorld world(&config);
    world.SetRngs(Rngs(1));
    world.Start(0);
    world.AdvanceTo(5 * 60 * kMinNs);
    REQUIRE(world.wip() == 1);
    if (control == 0) {
      CHECK(world.StartBatchNow(0));
      CHECK_FALSE(world.StartBatchNow(0));  // now busy
    } else {
      world.SetBatchMin(0, 1);
      CHECK(world.batch_min_override(0) == 1);
    }
    world.AdvanceTo(6 * 60 * kMinNs);
    REQUIRE(world.completions().size() == 12);
    CHECK(world.completions().back().finish_ns == 310 * kMinNs);
    CHECK(world.wip() == 0);
  }
  // A batch start decision on a busy tool is refused and changes nothing: at 12 min the tool
  // runs lots 2-4 (started at 11 min); the schedule stays that of the data's rule.
  FabWorld world(&config);
  world.SetRngs(Rngs(1));
  world.Start(0);
  world.AdvanceTo(12 * kMinNs);
  CHECK_FALSE(world.StartBatchNow(0));
  world.AdvanceTo(5 * 60 * kMinNs);
  CHECK(world.completions().size() == 11);
}

TEST_CASE("Metrology drifts with wafers since the PM and resets at the PM", "[fab]") {
  // One tool, 1-wafer lots every 10 min, 10 min each; a PM every 4 wafers (1 min long). The
  // measured value is nominal + drift x wafers since the PM: 100, 101, 102, 103, then the PM,
  // then 100 ... 103 again. Upper spec 102.5: the two 103s are out of spec.
  FabConfig config = SingleStation(1, Const(600.0), Const(600.0));
  config.releases[0].count = 8;
  PmCalendar pm;
  pm.by_pieces = true;
  pm.interval = 4;
  pm.first = -1;
  pm.duration = Const(60.0);
  config.pm_calendars.push_back(pm);
  config.families[0].pm_calendars.push_back(0);
  MetrologySpec spec;
  spec.name = "film";
  spec.family = 0;
  spec.nominal = 100.0;
  spec.drift_per_wafer = 1.0;
  spec.upper_spec = 102.5;
  config.metrology.push_back(spec);
  config.Finalise();
  FabWorld world(&config);
  world.SetRngs(Rngs(1));
  world.Start(0);
  CHECK(world.metrology()[0].last == 100.0);  // nominal until the first measurement
  const double expected_last[] = {100, 101, 102, 103};
  for (int lot = 0; lot < 4; ++lot) {
    world.AdvanceTo((lot + 1) * 10 * kMinNs + kMinNs / 2);  // lot `lot` done at (lot + 1) x 10 min
    world.DrainMetrology();
    CHECK(world.metrology()[0].last == expected_last[lot]);
    CHECK(world.metrology()[0].count == lot + 1);
  }
  world.DrainMetrology();  // an empty interval keeps the last value
  CHECK(world.metrology()[0].last == 103.0);
  world.AdvanceTo(10 * 60 * kMinNs);
  const MetrologyStats& stats = world.metrology()[0];
  REQUIRE(stats.count == 8);
  CHECK(stats.sum == 2 * (100 + 101 + 102 + 103));
  CHECK(stats.sum_sq == 2 * (100.0 * 100 + 101 * 101 + 102 * 102 + 103 * 103));
  CHECK(stats.out_of_spec == 2);
  CHECK(world.tools()[0].wafers_since_pm == 0);  // the PM after the 8th wafer ran
}

TEST_CASE("Metrology lot-to-lot variation has the configured mean and spread", "[fab]") {
  // No drift, sigma 2 nm around 100 nm, ~20 000 lots (M/M/1 at load 0.5): the sample mean within
  // its 99.9 % bound and the sample variance within the chi-square 99.9 % bound (normal approx.).
  FabConfig config = SingleStation(1, Exp(60.0), Exp(120.0));
  MetrologySpec spec;
  spec.name = "film";
  spec.family = 0;
  spec.nominal = 100e-9;
  spec.lot_sigma = 2e-9;
  config.metrology.push_back(spec);
  config.Finalise();
  FabConfig without = config;
  without.metrology.clear();
  without.Finalise();
  const FabWorld world = Run(config, 3, 20000 * 120.0 / kHourS);
  const MetrologyStats& stats = world.metrology()[0];
  const double n = static_cast<double>(stats.count);
  REQUIRE(n > 19000);
  const double mean = stats.sum / n;
  const double variance = (stats.sum_sq - n * mean * mean) / (n - 1);
  CHECK(std::abs(mean - 100e-9) < 3.29 * 2e-9 / std::sqrt(n));
  CHECK(std::abs(variance / 4e-18 - 1.0) < 3.29 * std::sqrt(2.0 / (n - 1)));
  // Metrology draws do not shift the fab's other random sequences: same lot history.
  const FabWorld plain = Run(without, 3, 20000 * 120.0 / kHourS);
  REQUIRE(plain.completions().size() == world.completions().size());
  CHECK(plain.completions().back().finish_ns == world.completions().back().finish_ns);
}

TEST_CASE("CQT-first dispatching starts the lot whose queue-time clock runs", "[fab]") {
  // Product P: 5 min on A, then B within 30 min of leaving A (CQT). Product Q: 20 min on B only,
  // released at 0, 1 and 2 min. FIFO at B: Q0 0-20, Q1 20-40, Q2 40-60, P waits (from 5 min)
  // until 60 > 35: one violation, P done at 80. CQT-first at B: P starts at 20 (deadline 35),
  // done at 40, no violation; Q1 40-60, Q2 60-80.
  for (bool cqt_first : {false, true}) {
    FabConfig config;
    for (const char* name : {"A", "B"}) {
      Family family;
      family.name = name;
      config.families.push_back(family);
    }
    config.families[1].cqt_first = cqt_first;
    Product p, q;
    p.name = "P";
    q.name = "Q";
    p.nominal_wafers = q.nominal_wafers = 1;
    Step on_a, on_b;
    on_a.family = 0;
    on_a.time = Const(300.0);
    on_a.cqt_to = 1;
    on_a.cqt_limit_s = 1800.0;
    on_b.family = 1;
    on_b.time = Const(1200.0);
    p.route = {on_a, on_b};
    q.route = {on_b};
    config.products = {p, q};
    ReleaseStream stream_p, stream_q;
    stream_p.product = 0;
    stream_p.wafers = 1;
    stream_p.interval = Const(60.0);
    stream_p.count = 1;
    stream_q = stream_p;
    stream_q.product = 1;
    stream_q.count = 3;
    config.releases = {stream_p, stream_q};
    config.Finalise();
    const FabWorld world = Run(config, 1, 2.0);
    REQUIRE(world.completions().size() == 4);
    int64_t p_finish = 0, last_finish = 0;
    for (const Completion& c : world.completions()) {
      if (c.product == 0) p_finish = c.finish_ns;
      last_finish = std::max(last_finish, c.finish_ns);
    }
    CHECK(p_finish == (cqt_first ? 40 : 80) * kMinNs);
    CHECK(world.counters().cqt_violations == (cqt_first ? 0 : 1));
    CHECK(last_finish == 80 * kMinNs);
  }
}

TEST_CASE("Setups happen exactly when the setup family changes", "[fab]") {
  // One tool, lots far apart: A A B B B A. Setup times: any -> A 20 min, A -> B 25 min,
  // any -> B 20 min (B -> A falls back to any -> A = 20 min). Process 30 min.
  FabConfig config = SetupImplant(1, false);
  const int order[] = {0, 0, 1, 1, 1, 0};
  for (int k = 0; k < 6; ++k) {
    ReleaseStream stream;
    stream.product = order[k];
    stream.wafers = 1;
    stream.interval = Const(3600.0);
    stream.count = 1;
    stream.start_s = 3 * 3600.0 * k;
    config.releases.push_back(stream);
  }
  config.Finalise();
  const FabWorld world = Run(config, 1, 24.0);
  CHECK(world.counters().setups == 3);
  const int64_t expected_ct_min[] = {50, 30, 55, 30, 30, 50};
  REQUIRE(world.completions().size() == 6);
  for (const Completion& c : world.completions())
    CHECK(c.finish_ns - c.release_ns == expected_ct_min[c.lot_id] * kMinNs);
  // Setup time is E10 scheduled downtime.
  CHECK(world.tools()[0].e10_ns[kScheduledDown] == (20 + 25 + 20) * kMinNs);
}

TEST_CASE("Cascading: the tool takes the next lot before the previous one is done", "[fab]") {
  // Per-piece step, 10 min for the first wafer, then one wafer every 2 min (SMT2020
  // PartInterval): a 5-wafer lot is done after 10 + 4 x 2 = 18 min, the tool is free after
  // 5 x 2 = 10 min. The family loads/unloads 1 min each while processing (STNCAP 2): the lot
  // takes 20 min, the tool 10 min. Two lots at t = 0: done at 20 and 30 min.
  FabConfig config = SingleStation(1, Const(600.0), Const(3600.0));
  config.families[0].load_s = 60.0;
  config.families[0].unload_s = 60.0;
  config.families[0].cascading = true;
  config.products[0].route[0].basis = TimeBasis::kPerPiece;
  config.products[0].route[0].cascade_s = 120.0;
  config.releases[0].wafers = 5;
  config.releases[0].lots_per_release = 2;
  config.releases[0].count = 1;
  config.Finalise();
  const FabWorld world = Run(config, 1, 2.0);
  REQUIRE(world.completions().size() == 2);
  CHECK(world.completions()[0].finish_ns == 20 * kMinNs);
  CHECK(world.completions()[1].finish_ns == 30 * kMinNs);
  CHECK(world.tools()[0].e10_ns[kProductive] == 20 * kMinNs);  // two 10 min occupations
}

TEST_CASE("Constant first PM occurrences are staggered over the tools of a family", "[fab]") {
  // 4 tools, PM every 7 d, first at 4 d (constant): tool k first goes at (k + 1) d, for 1 h.
  FabConfig config = SingleStation(4, Const(60.0), Const(1e9));
  PmCalendar pm;
  pm.interval = 7 * 86400.0;
  pm.first = 4 * 86400.0;
  pm.stagger_first = true;
  pm.duration = Const(3600.0);
  config.pm_calendars.push_back(pm);
  config.families[0].pm_calendars.push_back(0);
  config.releases.clear();
  config.Finalise();
  const FabWorld world = Run(config, 1, 2.5 * 24);
  const int64_t hour_ns = 60 * kMinNs;
  CHECK(world.tools()[0].e10_ns[kScheduledDown] == hour_ns);
  CHECK(world.tools()[1].e10_ns[kScheduledDown] == hour_ns);
  CHECK(world.tools()[2].e10_ns[kScheduledDown] == 0);
  CHECK(world.tools()[3].e10_ns[kScheduledDown] == 0);
}

TEST_CASE("pm_advance pulls a PM due within the window forward to now", "[fab]") {
  // One tool, PM every 7 d, first at 3 d, 6 h long, no lots. Advancing at 2 d with a 30 h
  // window starts the PM at 2 d (done 2 d 6 h); the next is due 7 d later (9 d). The PM that
  // was due at 3 d must not run as well. A 12 h window at 2 d does not reach the 3 d PM.
  FabConfig config = SingleStation(1, Const(60.0), Const(1e9));
  PmCalendar pm;
  pm.interval = 7 * 86400.0;
  pm.first = 3 * 86400.0;
  pm.duration = Const(6 * kHourS);
  config.pm_calendars.push_back(pm);
  config.families[0].pm_calendars.push_back(0);
  config.releases.clear();
  config.Finalise();
  const int64_t hour_ns = 60 * kMinNs, day_ns = 24 * hour_ns;
  FabWorld base(&config), advanced(&config);
  for (FabWorld* world : {&base, &advanced}) {
    world->SetRngs(Rngs(1));
    world->Start(0);
    world->AdvanceTo(2 * day_ns);
  }
  CHECK(advanced.AdvancePm(0, 12 * hour_ns) == 0);
  CHECK(advanced.AdvancePm(0, 30 * hour_ns) == 1);
  const auto down = [](const FabWorld& world) { return world.tools()[0].e10_ns[kScheduledDown]; };
  for (FabWorld* world : {&base, &advanced}) world->AdvanceTo(2 * day_ns + 6 * hour_ns);
  CHECK(down(base) == 0);
  CHECK(down(advanced) == 6 * hour_ns);
  for (FabWorld* world : {&base, &advanced}) world->AdvanceTo(8 * day_ns + 12 * hour_ns);
  CHECK(down(base) == 6 * hour_ns);      // the 3 d PM
  CHECK(down(advanced) == 6 * hour_ns);  // only the advanced one, not the stale 3 d event
  for (FabWorld* world : {&base, &advanced}) world->AdvanceTo(9 * day_ns + 12 * hour_ns);
  CHECK(down(base) == 6 * hour_ns);       // next at 10 d
  CHECK(down(advanced) == 12 * hour_ns);  // next at 2 d + 7 d = 9 d
}

TEST_CASE("product_mix scales the release rate of one product only", "[fab]") {
  // Two products, each released every hour from t = 0 (constant), 1-minute service. With
  // product 0 at factor 2 from the start, by 10.5 h product 0 has released at 0, 0.5, ..., 10.5
  // h (22 lots) and product 1 at 0, 1, ..., 10 h (11 lots). Lots released at 10.5 h are not done.
  FabConfig config = SingleStation(1, Const(60.0), Const(kHourS));
  config.products.push_back(config.products[0]);
  config.products[1].name = "q";
  config.releases.push_back(config.releases[0]);
  config.releases[1].product = 1;
  config.Finalise();
  FabWorld world(&config);
  world.SetRngs(Rngs(1));
  world.SetProductRate(0, 2.0);
  world.Start(0);
  world.AdvanceTo(static_cast<int64_t>(10.5 * kHourS * 1e9));
  CHECK(world.counters().released_lots == 33);
  int done[2] = {0, 0};
  for (const Completion& c : world.completions()) ++done[c.product];
  CHECK(done[0] == 21);
  CHECK(done[1] == 11);
  CHECK(world.product_rate(1) == 1.0);
}

TEST_CASE("An arriving lot wakes the idle tool needing the least setup", "[fab]") {
  // Two tools; lots A (0 h), B (2 h), A (4 h), far apart. Setup any -> A/B 20 min,
  // A -> B 25 min. Waking by index: tool 0 does all three (none->A, A->B, B->A: 3 setups).
  // Waking by least setup: B goes to the fresh tool 1 (20 < 25 min), the second A to tool 0
  // which still has A: 2 setups.
  for (bool wake : {false, true}) {
    FabConfig config = SetupImplant(2, wake);
    const int order[] = {0, 1, 0};
    for (int k = 0; k < 3; ++k) {
      ReleaseStream stream;
      stream.product = order[k];
      stream.wafers = 1;
      stream.interval = Const(3600.0);
      stream.count = 1;
      stream.start_s = 2 * 3600.0 * k;
      config.releases.push_back(stream);
    }
    config.Finalise();
    const FabWorld world = Run(config, 1, 12.0);
    CHECK(world.counters().setups == (wake ? 2 : 3));
    CHECK(world.tools()[1].e10_ns[kProductive] == (wake ? 30 * kMinNs : 0));
  }
}

// Lu & Kumar (1991): two stations, route 1 -> 2 -> 2 -> 1 (steps 1..4), loads
// m1 + m4 = m2 + m3 = 0.7 < 1. Priority to steps 4 (station 1) and 2 (station 2) is unstable
// when m2 + m4 > 1 (here 1.2); FIFO is stable.
FabConfig LuKumar(bool bad_priority) {
  FabConfig config;
  for (const char* name : {"station1", "station2"}) {
    Family family;
    family.name = name;
    family.rule = bad_priority ? DispatchRule::kStepPriority : DispatchRule::kFifo;
    config.families.push_back(family);
  }
  Product product;
  product.name = "p";
  product.nominal_wafers = 1;
  const double mean_h[] = {0.1, 0.6, 0.1, 0.6};
  const int32_t station[] = {0, 1, 1, 0};
  const int32_t rank[] = {0, 1, 0, 1};
  for (int k = 0; k < 4; ++k) {
    Step step;
    step.family = station[k];
    step.time = Exp(mean_h[k] * kHourS);
    step.rank = rank[k];
    product.route.push_back(step);
  }
  config.products.push_back(product);
  ReleaseStream stream;
  stream.wafers = 1;
  stream.interval = Exp(kHourS);
  config.releases.push_back(stream);
  config.Finalise();
  return config;
}

TEST_CASE("Lu-Kumar network: unstable under the bad priority, stable under FIFO", "[fab][slow]") {
  const double horizon_h = 10000.0;
  for (bool bad : {true, false}) {
    const FabConfig config = LuKumar(bad);
    FabWorld world(&config);
    world.SetRngs(Rngs(21));
    world.Start(0);
    std::vector<double> wip;
    for (int quarter = 1; quarter <= 4; ++quarter) {
      world.AdvanceTo(static_cast<int64_t>(quarter * horizon_h / 4 * kHourS * 1e9));
      wip.push_back(static_cast<double>(world.wip()));
    }
    INFO((bad ? "priority" : "fifo")
         << " WIP by quarter: " << wip[0] << " " << wip[1] << " " << wip[2] << " " << wip[3]);
    if (bad) {
      // Linear growth: WIP keeps rising every quarter and ends in the thousands.
      CHECK(wip[1] > wip[0]);
      CHECK(wip[2] > wip[1]);
      CHECK(wip[3] > wip[2]);
      CHECK(wip[3] > 1000);
    } else {
      const double mean_wip = world.wip_area_lot_s() / (horizon_h * kHourS);
      CHECK(mean_wip < 20);
      CHECK(wip[3] < 50);
    }
  }
}

}  // namespace
}  // namespace ftwin::fab
