// The immutable description of a wafer fab: tool families, routes, release streams, setups,
// breakdown and PM calendars. Built from the scenario YAML (fab_line.cpp) or from the SMT2020
// files (smt2020.cpp); the discrete-event simulation (fab_sim.h) only reads it.
// Times are seconds (double) in the description and integer nanoseconds in the simulation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ftwin::fab {

/// A random duration. Uniform is on [mean - half_width, mean + half_width] (the AutoSched /
/// SMT2020 convention: PTIME is the mean, PTIME2 the half width).
enum class DistKind : uint8_t { kConstant, kUniform, kExponential };
struct Dist {
  DistKind kind = DistKind::kConstant;
  double mean_s = 0.0;
  double half_width_s = 0.0;
  /// A sample from a uniform variate u in [0, 1).
  double Sample(double u) const;
};

enum class TimeBasis : uint8_t { kPerLot, kPerPiece, kPerBatch };

/// Dispatch rules. Every rule breaks ties by queue arrival time, then lot id (FIFO).
enum class DispatchRule : uint8_t {
  kFifo,           ///< earliest arrival at the queue
  kEdd,            ///< earliest due date
  kCriticalRatio,  ///< smallest (due - now) / remaining raw process time
  kSpt,            ///< shortest mean processing time of the step
  kLeastSetup,     ///< smallest setup time on this tool, then FIFO
  kHotLotFirst,    ///< highest priority, then least setup, then FIFO (SMT2020 default)
  kStepPriority,   ///< highest static step rank, then FIFO (buffer priorities, Lu-Kumar)
  kHotLotFirstCr,  ///< highest priority, then least setup, then critical ratio (SMT2020 LV/HM)
};
const char* DispatchRuleName(DispatchRule rule);
/// Parses a rule name as written in scenarios ("fifo", "edd", ...); false when unknown.
bool ParseDispatchRule(const std::string& text, DispatchRule* rule);
constexpr const char* kDispatchRuleChoices =
    "fifo, edd, critical_ratio, spt, least_setup, hot_lot_first, step_priority or "
    "hot_lot_first_cr";

struct Step {
  std::string name;
  int32_t family = 0;
  Dist time;  ///< per lot, piece or batch (basis)
  TimeBasis basis = TimeBasis::kPerLot;
  /// Cascading: the tool is free again after this interval (per piece for per-piece steps,
  /// per lot otherwise) although the lot finishes after `time`; 0 = not cascading.
  double cascade_s = 0.0;
  int32_t batch_min_wafers = 0;  ///< batching step when batch_max_wafers > 0
  int32_t batch_max_wafers = 0;
  int32_t setup = -1;         ///< setup state the tool needs (-1 = none)
  double setup_time_s = 0.0;  ///< used when the setup matrix has no entry
  double sampling = 1.0;      ///< fraction of lots that do this step
  double rework_probability = 0.0;
  int32_t rework_to = -1;  ///< route position to go back to on rework
  int32_t cqt_to = -1;     ///< the lot must start position cqt_to within cqt_limit_s
  double cqt_limit_s = 0.0;
  int32_t pin_to = -1;       ///< position that must run on the same tool as this one
  int32_t rank = 0;          ///< static priority for kStepPriority (higher first)
  double mean_time_s = 0.0;  ///< mean processing time for a nominal lot (SPT, raw time)
};

struct Product {
  std::string name;
  std::vector<Step> route;
  int32_t nominal_wafers = 25;
  /// remaining_s[p]: mean raw processing time from position p to the end (critical ratio).
  std::vector<double> remaining_s;
  double raw_time_s = 0.0;  ///< remaining_s[0]: the X-factor denominator
};

/// Unscheduled breakdowns: time to failure counted in calendar time.
struct DownCalendar {
  std::string name;
  Dist mttf, mttr, first;
};

/// Preventive maintenance, due by calendar time or by pieces processed.
struct PmCalendar {
  std::string name;
  bool by_pieces = false;
  double interval = 0.0;       ///< seconds, or pieces when by_pieces
  double first = 0.0;          ///< first due (seconds or pieces); < 0 = one interval
  bool stagger_first = false;  ///< tool k of n is first due at first * (k + 1) / n
  Dist duration;
};

/// Process chamber of a family's tools (optional): pressure and temperature approach the
/// setpoint of the tool's state as first-order lags (pump-down / venting with tau = V/S, heat-up
/// with the chamber's thermal time constant). Targets: processing -> process values; standby,
/// engineering, setups and switched-off tools -> idle values (pumped, held warm); PM and repair
/// -> vent values (opened to the cleanroom).
struct ChamberSpec {
  bool enabled = false;
  double process_pressure_Pa = 0.0, idle_pressure_Pa = 0.0, vent_pressure_Pa = 101325.0;
  double pressure_tau_s = 1.0;
  double process_temperature_K = 0.0, idle_temperature_K = 0.0, vent_temperature_K = 295.15;
  double temperature_tau_s = 1.0;
};

struct Family {
  std::string name;
  std::string group;  ///< area used for KPIs (SMT2020 STNGRP)
  int32_t num_tools = 1;
  DispatchRule rule = DispatchRule::kFifo;
  double load_s = 0.0, unload_s = 0.0;
  int32_t min_run = 0;  ///< lots to run after a setup before switching again (if any wait)
  double idle_power_W = 0.0, busy_power_W = 0.0;
  std::vector<int32_t> down_calendars, pm_calendars;
  int32_t location = 0;  ///< index into FabConfig::locations (transport times)
  /// Loads and unloads while processing (SMT2020 STNCAP 2): load/unload add to the lot's time
  /// but not to the tool's.
  bool cascading = false;
  /// An arriving lot wakes the idle tool needing the least setup for it first (SMT2020
  /// WAKERESRANK wake_LeastSetupTime); otherwise idle tools choose in index order.
  bool wake_least_setup = false;
  /// > 0: dispatch decisions are delegated (fab/dispatch command) and fall back to `rule`
  /// after this many seconds without an answer.
  double delegate_timeout_s = 0.0;
  /// Lots whose critical queue time runs at their step here start first (earliest deadline),
  /// before the rule orders the rest: the usual CQT-aware dispatching of real fabs.
  bool cqt_first = false;
  ChamberSpec chamber;
};

struct ReleaseStream {
  std::string name;
  int32_t product = 0;
  int32_t priority = 10;  ///< SMT2020: 10 normal, 20 hot, 30 super hot
  int32_t wafers = 25;
  double start_s = 0.0;
  Dist interval;
  int64_t count = 0;  ///< releases in total (0 = unlimited)
  int32_t lots_per_release = 1;
  double due_after_s = 0.0;  ///< due date = release + due_after
};

struct InitialLot {
  int32_t product = 0;
  int32_t position = 0;
  int32_t priority = 10;
  int32_t wafers = 25;
  double release_s = 0.0;  ///< may be negative (started before the run)
  double due_s = 0.0;
};

/// In-line metrology of a process result that drifts with the tool's use since its last PM
/// (film thickness after deposition, critical dimension after etch, overlay after litho): a lot
/// processed on `family` with w wafers through the tool since its last PM gets the true value
/// nominal + drift_per_wafer * w + N(0, lot_sigma), reported when the lot's step ends.
struct MetrologySpec {
  std::string name;
  std::string unit;
  int32_t family = 0;
  double nominal = 0.0;
  double drift_per_wafer = 0.0;  ///< [unit per wafer]
  double lot_sigma = 0.0;        ///< lot-to-lot process variation (standard deviation) [unit]
  double lower_spec = -1e300, upper_spec = 1e300;
};

struct FabConfig {
  std::vector<Family> families;
  std::vector<std::string> groups;
  std::vector<int32_t> family_group;
  std::vector<Product> products;
  std::vector<ReleaseStream> releases;
  std::vector<InitialLot> initial_wip;
  std::vector<DownCalendar> down_calendars;
  std::vector<PmCalendar> pm_calendars;
  std::vector<std::string> setup_names;
  struct SetupEntry {
    int32_t from = -1;  ///< -1 = from any setup
    int32_t to = 0;
    double time_s = 0.0;
  };
  std::vector<SetupEntry> setup_entries;  ///< sequence-dependent setup times
  Dist transport;                         ///< between any two steps, unless transport_matrix is set
  std::vector<std::string> locations;
  /// transport_matrix[from * locations + to]; mean 0 = no transport between those locations.
  std::vector<Dist> transport_matrix;
  double warmup_s = 0.0;  ///< lots released before are left out of cycle-time KPIs
  std::vector<MetrologySpec> metrology;

  // Derived by Finalise().
  std::vector<int32_t> tool_family;  ///< per tool
  std::vector<int32_t> family_first_tool;
  int32_t max_batch_lots = 1;
  std::vector<int32_t> family_metrology;  ///< per family, index into metrology (-1 = none)
  /// setup_matrix[(from + 1) * n + to]: seconds, < 0 = no entry; from = -1 is "any".
  std::vector<double> setup_matrix;

  int32_t num_tools() const { return static_cast<int32_t>(tool_family.size()); }
  /// Setup time for a change from setup `from` (-1 = none) to `to` at `step`.
  double SetupTime(int32_t from, int32_t to, const Step& step) const;
  int32_t SetupIndex(const std::string& name);  ///< adds the name when new
  /// Transport time distribution from a step on family `from` to one on family `to`.
  const Dist& Transport(int32_t from, int32_t to) const {
    if (transport_matrix.empty()) return transport;
    return transport_matrix[static_cast<size_t>(families[static_cast<size_t>(from)].location) *
                                locations.size() +
                            static_cast<size_t>(families[static_cast<size_t>(to)].location)];
  }
  /// Fills the derived fields (tools, remaining times, mean times). Call once after building.
  void Finalise();
};

/// Mean processing time of a step for a lot of `wafers` wafers.
double StepMeanTime(const Step& step, int32_t wafers);

}  // namespace ftwin::fab
