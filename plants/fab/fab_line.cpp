#include "plants/fab/fab_line.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "engine/scenario.h"
#include "plants/fab/smt2020.h"

namespace ftwin {
namespace fab {
namespace {

constexpr double kDayS = 86400.0;

double Seconds(int64_t ns) { return static_cast<double>(ns) * 1e-9; }

// A random duration: `<key>` (mean, with unit), `<prefix>dist` and `<prefix>spread`.
Dist ReadDist(ParamReader& reader, const std::string& key, const std::string& prefix, bool required,
              double default_s = 0.0) {
  Dist dist;
  const int64_t mean_ns = required
                              ? reader.RequiredDurationNs(key, 0)
                              : reader.DurationNs(key, static_cast<int64_t>(default_s * 1e9), 0);
  dist.mean_s = Seconds(mean_ns);
  const std::string kind =
      reader.Choice(prefix + "dist", "constant", {"constant", "uniform", "exponential"});
  dist.kind = kind == "uniform"       ? DistKind::kUniform
              : kind == "exponential" ? DistKind::kExponential
                                      : DistKind::kConstant;
  dist.half_width_s = Seconds(reader.DurationNs(prefix + "spread", 0, 0));
  if (dist.kind == DistKind::kUniform && dist.half_width_s > dist.mean_s)
    reader.Error(prefix + "spread", "", "expected a half width no larger than the mean");
  return dist;
}

int32_t FindName(const std::vector<std::string>& names, const std::string& name) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int32_t>(i);
  return -1;
}

}  // namespace

void ParseFabYaml(ParamReader& params, FabConfig* config) {
  const double default_idle_W = params.Number("idle_power_W", 0.0, NumberRange::NonNegative("W"));
  const double default_busy_W = params.Number("busy_power_W", 0.0, NumberRange::NonNegative("W"));
  std::vector<std::string> family_names;
  for (ParamReader& entry : params.ChildList("families", true)) {
    Family family;
    family.name = entry.RequiredString("name");
    family.group = entry.String("group", family.name);
    family.num_tools = static_cast<int32_t>(entry.Integer("tools", 1, 1, 100000));
    const std::string rule = entry.String("rule", "fifo");
    if (!ParseDispatchRule(rule, &family.rule))
      entry.Error("rule", rule, std::string("expected one of ") + kDispatchRuleChoices);
    family.load_s = Seconds(entry.DurationNs("load_time", 0, 0));
    family.unload_s = Seconds(entry.DurationNs("unload_time", 0, 0));
    family.min_run = static_cast<int32_t>(entry.Integer("min_run", 0, 0, 1000000));
    family.wake_least_setup = entry.Bool("wake_least_setup", false);
    family.idle_power_W =
        entry.Number("idle_power_W", default_idle_W, NumberRange::NonNegative("W"));
    family.busy_power_W =
        entry.Number("busy_power_W", default_busy_W, NumberRange::NonNegative("W"));
    if (entry.Has("breakdowns")) {
      ParamReader down = entry.Child("breakdowns");
      DownCalendar calendar;
      calendar.name = family.name + "_down";
      calendar.mttf = ReadDist(down, "mttf", "mttf_", true);
      calendar.mttf.kind = DistKind::kExponential;  // memoryless failures unless told otherwise
      if (down.Has("mttf_kind")) {
        const std::string kind =
            down.Choice("mttf_kind", "exponential", {"exponential", "constant"});
        if (kind == "constant") calendar.mttf.kind = DistKind::kConstant;
      }
      calendar.mttr = ReadDist(down, "mttr", "mttr_", true);
      if (!down.Has("mttr_dist")) calendar.mttr.kind = DistKind::kExponential;
      down.Finish();
      if (calendar.mttf.mean_s <= 0) down.Error("mttf", "", "expected a positive duration");
      family.down_calendars.push_back(static_cast<int32_t>(config->down_calendars.size()));
      config->down_calendars.push_back(calendar);
    }
    if (entry.Has("pm")) {
      ParamReader pm = entry.Child("pm");
      PmCalendar calendar;
      calendar.name = family.name + "_pm";
      calendar.interval = Seconds(pm.RequiredDurationNs("interval", 1));
      calendar.first = Seconds(pm.DurationNs("first", -1, 0));
      if (!pm.Has("first")) calendar.first = -1;
      calendar.duration = ReadDist(pm, "duration", "duration_", true);
      pm.Finish();
      family.pm_calendars.push_back(static_cast<int32_t>(config->pm_calendars.size()));
      config->pm_calendars.push_back(calendar);
    }
    if (entry.Has("chamber")) {
      ParamReader chamber = entry.Child("chamber");
      ChamberSpec& spec = family.chamber;
      spec.enabled = true;
      spec.process_pressure_Pa =
          chamber.RequiredNumber("process_pressure_Pa", NumberRange::NonNegative("Pa"));
      spec.idle_pressure_Pa =
          chamber.Number("idle_pressure_Pa", 0.01, NumberRange::NonNegative("Pa"));
      spec.vent_pressure_Pa =
          chamber.Number("vent_pressure_Pa", 101325.0, NumberRange::NonNegative("Pa"));
      spec.pressure_tau_s =
          Seconds(chamber.DurationNs("pressure_time_constant", 20'000'000'000, 1));
      spec.process_temperature_K =
          chamber.RequiredNumber("process_temperature_K", NumberRange::Positive("K"));
      spec.idle_temperature_K = chamber.Number("idle_temperature_K", spec.process_temperature_K,
                                               NumberRange::Positive("K"));
      spec.vent_temperature_K =
          chamber.Number("vent_temperature_K", 295.15, NumberRange::Positive("K"));
      spec.temperature_tau_s =
          Seconds(chamber.DurationNs("temperature_time_constant", 600'000'000'000, 1));
      chamber.Finish();
    }
    if (FindName(family_names, family.name) >= 0)
      entry.Error("name", family.name, "expected a unique family name");
    entry.Finish();
    family_names.push_back(family.name);
    config->families.push_back(family);
  }
  auto find_family = [&](ParamReader& reader, const std::string& key) {
    const std::string name = reader.RequiredString(key);
    const int32_t index = FindName(family_names, name);
    if (index < 0 && !name.empty())
      reader.Error(key, name, "expected the name of a family of this fab");
    return index;
  };
  for (ParamReader& entry : params.ChildList("setups")) {
    FabConfig::SetupEntry setup;
    const std::string from = entry.String("from", "*");
    setup.from = from == "*" ? -1 : config->SetupIndex(from);
    setup.to = config->SetupIndex(entry.RequiredString("to"));
    setup.time_s = Seconds(entry.RequiredDurationNs("time", 0));
    entry.Finish();
    config->setup_entries.push_back(setup);
  }
  std::vector<std::string> product_names;
  for (ParamReader& entry : params.ChildList("products", true)) {
    Product product;
    product.name = entry.RequiredString("name");
    product.nominal_wafers = static_cast<int32_t>(entry.Integer("wafers_per_lot", 25, 1, 10000));
    std::vector<ParamReader> route = entry.ChildList("route", true);
    const int32_t n = static_cast<int32_t>(route.size());
    for (ParamReader& item : route) {
      Step step;
      step.name = item.String("name", "");
      step.family = std::max(0, find_family(item, "family"));
      step.time = ReadDist(item, "time", "", true);
      const std::string basis = item.Choice("basis", "lot", {"lot", "piece", "batch"});
      step.basis = basis == "piece"   ? TimeBasis::kPerPiece
                   : basis == "batch" ? TimeBasis::kPerBatch
                                      : TimeBasis::kPerLot;
      step.cascade_s = Seconds(item.DurationNs("cascade", 0, 0));
      step.batch_min_wafers = static_cast<int32_t>(item.Integer("batch_min_wafers", 0, 0, 1000000));
      step.batch_max_wafers = static_cast<int32_t>(item.Integer("batch_max_wafers", 0, 0, 1000000));
      if (step.batch_max_wafers > 0 && step.batch_max_wafers < step.batch_min_wafers)
        item.Error("batch_max_wafers", std::to_string(step.batch_max_wafers),
                   "expected batch_max_wafers >= batch_min_wafers");
      if (step.batch_max_wafers > 0 && step.basis != TimeBasis::kPerBatch)
        item.Error("basis", basis, "expected 'batch' for a batching step");
      const std::string setup = item.String("setup", "");
      if (!setup.empty()) step.setup = config->SetupIndex(setup);
      step.setup_time_s = Seconds(item.DurationNs("setup_time", 0, 0));
      step.sampling = item.Number("sampling", 1.0, NumberRange::Fraction());
      step.rework_probability = item.Number("rework", 0.0, NumberRange::Fraction());
      step.rework_to = static_cast<int32_t>(item.Integer("rework_to", 1, 1, n)) - 1;
      if (item.Has("cqt_to")) {
        step.cqt_to = static_cast<int32_t>(item.Integer("cqt_to", 1, 1, n)) - 1;
        step.cqt_limit_s = Seconds(item.RequiredDurationNs("cqt", 0));
      }
      step.rank = static_cast<int32_t>(item.Integer("rank", 0, -1000000, 1000000));
      item.Finish();
      product.route.push_back(step);
    }
    if (FindName(product_names, product.name) >= 0)
      entry.Error("name", product.name, "expected a unique product name");
    entry.Finish();
    product_names.push_back(product.name);
    config->products.push_back(std::move(product));
  }
  auto find_product = [&](ParamReader& reader) {
    const std::string name = reader.RequiredString("product");
    const int32_t index = FindName(product_names, name);
    if (index < 0 && !name.empty())
      reader.Error("product", name, "expected the name of a product of this fab");
    return std::max(0, index);
  };
  for (ParamReader& entry : params.ChildList("releases", true)) {
    ReleaseStream stream;
    stream.product = find_product(entry);
    stream.name = entry.String(
        "name", product_names.empty() ? "" : product_names[static_cast<size_t>(stream.product)]);
    stream.interval = ReadDist(entry, "interval", "", true);
    if (stream.interval.mean_s <= 0) entry.Error("interval", "", "expected a positive duration");
    stream.wafers = static_cast<int32_t>(entry.Integer("wafers", 25, 1, 100000));
    stream.priority = static_cast<int32_t>(entry.Integer("priority", 10, 0, 1000));
    stream.due_after_s = Seconds(entry.DurationNs("due_after", 0, 0));
    stream.count = entry.Integer("count", 0, 0, INT64_MAX / 2);
    stream.start_s = Seconds(entry.DurationNs("start", 0, 0));
    stream.lots_per_release = static_cast<int32_t>(entry.Integer("lots_per_release", 1, 1, 1000));
    entry.Finish();
    config->releases.push_back(stream);
  }
  for (ParamReader& entry : params.ChildList("wip")) {
    InitialLot lot;
    lot.product = find_product(entry);
    const int64_t steps =
        product_names.empty()
            ? 1
            : static_cast<int64_t>(config->products[static_cast<size_t>(lot.product)].route.size());
    lot.position =
        static_cast<int32_t>(entry.RequiredInteger("step", 1, std::max<int64_t>(1, steps))) - 1;
    lot.wafers = static_cast<int32_t>(entry.Integer("wafers", 25, 1, 100000));
    lot.priority = static_cast<int32_t>(entry.Integer("priority", 10, 0, 1000));
    lot.due_s = Seconds(entry.DurationNs("due", 0, 0));
    const int64_t count = entry.Integer("count", 1, 1, 1000000);
    entry.Finish();
    for (int64_t i = 0; i < count; ++i) config->initial_wip.push_back(lot);
  }
  if (params.Has("transport")) {
    ParamReader transport = params.Child("transport");
    config->transport = ReadDist(transport, "time", "", true);
    transport.Finish();
  }
}

}  // namespace fab

namespace {
enum KpiFixed {
  kKpiReleased,
  kKpiFinished,
  kKpiWafersOut,
  kKpiWipFinal,
  kKpiWipMean,
  kKpiThroughputLots,
  kKpiThroughputWafers,
  kKpiCtMean,
  kKpiCtP50,
  kKpiCtP90,
  kKpiCtP99,
  kKpiXFactor,
  kKpiOnTime,
  kKpiSetupsPerDay,
  kKpiCqtViolations,
  kKpiReworks,
  kKpiEvents,
  kKpiEnergy,
  kKpiAiDecisions,
  kKpiAiTimeouts,
  kKpiFixedCount,
};
constexpr const char* kLotClasses[] = {"normal", "hot", "super_hot"};
int LotClass(int32_t priority) { return priority >= 30 ? 2 : priority >= 20 ? 1 : 0; }

double Percentile(std::vector<double>& values, double q) {
  if (values.empty()) return 0.0;
  const size_t index = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()))) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}
}  // namespace

namespace {
// `key` lists family names; `apply` runs on each. Unknown names and non-lists are reported with
// the item's own line.
template <class Apply>
void ForListedFamilies(ParamReader& reader, const std::string& key, fab::FabConfig* config,
                       Apply apply) {
  const YAML::Node families = reader.Raw(key);
  if (!families.IsSequence()) {
    reader.Error(key, NodeText(families), "expected a list of family names");
    return;
  }
  for (const auto& item : families) {
    bool found = false;
    for (fab::Family& family : config->families)
      if (item.IsScalar() && family.name == item.Scalar()) {
        apply(family);
        found = true;
      }
    if (!found)
      reader.diagnostics()->Add(NodeLocation(item, reader.file()), reader.path() + "." + key,
                                NodeText(item), "expected the name of a family of this fab");
  }
}
}  // namespace

FabLineBlock::FabLineBlock(std::string name, std::shared_ptr<const fab::FabConfig> config,
                           std::string completion_log)
    : Block(std::move(name)),
      config_(std::move(config)),
      completion_log_(std::move(completion_log)) {}

std::unique_ptr<Block> FabLineBlock::FromParams(const std::string& name, ParamReader& params) {
  auto config = std::make_shared<fab::FabConfig>();
  const size_t errors_before = params.diagnostics()->size();
  if (params.Has("smt2020")) {
    const std::filesystem::path dir = params.ExistingFile("smt2020");
    const double idle_W = params.Number("idle_power_W", 0.0, NumberRange::NonNegative("W"));
    const double busy_W = params.Number("busy_power_W", 0.0, NumberRange::NonNegative("W"));
    const bool transport = params.Bool("transport", true);
    if (!dir.empty()) {
      fab::LoadSmt2020(dir, params.diagnostics(), config.get());
      for (fab::Family& family : config->families) {
        family.idle_power_W = idle_W;
        family.busy_power_W = busy_W;
      }
      if (!transport) config->transport = fab::Dist{};
    }
  } else {
    fab::ParseFabYaml(params, config.get());
  }
  if (params.Has("ai_dispatch")) {
    // Delegated dispatching: listed families ask the fab/dispatch command first.
    ParamReader ai = params.Child("ai_dispatch");
    const double timeout_s = static_cast<double>(ai.RequiredDurationNs("timeout", 1)) * 1e-9;
    ForListedFamilies(ai, "families", config.get(),
                      [timeout_s](fab::Family& family) { family.delegate_timeout_s = timeout_s; });
    ai.Finish();
  }
  if (params.Has("cqt_first")) {
    // CQT-aware dispatching for the listed families (docs/fab.md, "Critical queue time").
    ForListedFamilies(params, "cqt_first", config.get(),
                      [](fab::Family& family) { family.cqt_first = true; });
  }
  for (ParamReader& entry : params.ChildList("metrology")) {
    // In-line metrology of a drifting process result (docs/fab.md, "Metrology").
    fab::MetrologySpec spec;
    spec.name = entry.RequiredString("name");
    spec.unit = entry.String("unit", "m");
    const std::string family = entry.RequiredString("family");
    spec.family = -1;
    for (size_t f = 0; f < config->families.size(); ++f)
      if (config->families[f].name == family) spec.family = static_cast<int32_t>(f);
    if (spec.family < 0 && !family.empty())
      entry.Error("family", family, "expected the name of a family of this fab");
    spec.nominal = entry.RequiredNumber("nominal", NumberRange::Any(spec.unit));
    spec.drift_per_wafer = entry.Number("drift_per_wafer", 0.0, NumberRange::Any(spec.unit));
    spec.lot_sigma = entry.Number("lot_sigma", 0.0, NumberRange::NonNegative(spec.unit));
    spec.lower_spec = entry.Number("lower_spec", -1e300, NumberRange::Any(spec.unit));
    spec.upper_spec = entry.Number("upper_spec", 1e300, NumberRange::Any(spec.unit));
    if (spec.lower_spec > spec.upper_spec)
      entry.Error("upper_spec", std::to_string(spec.upper_spec),
                  "expected upper_spec >= lower_spec");
    for (const fab::MetrologySpec& other : config->metrology) {
      if (other.name == spec.name)
        entry.Error("name", spec.name, "expected a unique metrology name");
      if (other.family == spec.family && spec.family >= 0)
        entry.Error("family", family, "expected one metrology entry per family");
    }
    entry.Finish();
    config->metrology.push_back(spec);
  }
  config->warmup_s = static_cast<double>(params.DurationNs("warmup", 0, 0)) * 1e-9;
  std::string log = params.String("completion_log", "");
  if (!log.empty() && std::filesystem::path(log).is_relative())
    log = (params.base_dir() / log).string();
  if (params.diagnostics()->size() != errors_before) return nullptr;
  config->Finalise();
  return std::make_unique<FabLineBlock>(name, std::move(config), std::move(log));
}

void FabLineBlock::Declare(const DeclareContext&, BlockDeclaration& declaration) {
  declaration.UseAux();
  out_wip_ = declaration.AddOutput({.name = "wip_lots", .unit = "1", .doc = "lots in the fab"});
  out_lots_out_ = declaration.AddOutput(
      {.name = "lots_out", .unit = "1", .doc = "lots finished since the start (cumulative)"});
  out_released_ = declaration.AddOutput(
      {.name = "lots_released", .unit = "1", .doc = "lots released, initial WIP included"});
  out_power_ = declaration.AddOutput(
      {.name = "power_W",
       .unit = "W",
       .doc = "mean electrical power of the tools over the step (positive = consumed)"});
  out_queue_ = declaration.AddOutput(
      {.name = "queue_lots",
       .size = static_cast<int32_t>(std::max<size_t>(1, config_->families.size())),
       .unit = "1",
       .doc = "lots waiting in each family's queue (families in scenario/tool-file order)"});
  out_awaiting_ = declaration.AddOutput(
      {.name = "awaiting_decision",
       .size = std::max(1, config_->num_tools()),
       .unit = "1",
       .doc = "1 where an idle tool of an ai_dispatch family waits for fab/dispatch"});
  out_queue_view_ = declaration.AddOutput(
      {.name = "queue_view",
       .size = static_cast<int32_t>(std::max<size_t>(1, config_->families.size()) * kQueueView * 3),
       .unit = "1",
       .doc = "per family, its first lots in arrival order: priority, slack to due date [h], "
              "route position (0-based); -1 where no lot"});
  out_wafers_since_pm_ = declaration.AddOutput(
      {.name = "wafers_since_pm",
       .size = std::max(1, config_->num_tools()),
       .unit = "1",
       .doc = "wafers each tool processed since its last PM ended (drives metrology drift)"});
  const int32_t tool_count = std::max(1, config_->num_tools());
  out_tool_state_ = declaration.AddOutput(
      {.name = "tool_state",
       .size = tool_count,
       .unit = "1",
       .doc = "SEMI E10 state of each tool: 0 productive, 1 standby, 2 engineering, 3 scheduled "
              "down, 4 unscheduled down, 5 non-scheduled (a state_signal's truth)"});
  out_track_ins_ = declaration.AddOutput(
      {.name = "track_ins",
       .size = tool_count,
       .unit = "1",
       .doc = "lots started on each tool since the start (MES track-in events; an "
              "event_counter's truth)"});
  out_track_outs_ = declaration.AddOutput(
      {.name = "track_outs",
       .size = tool_count,
       .unit = "1",
       .doc = "lots that finished their step on each tool (MES track-out events)"});
  out_chamber_pressure_ = declaration.AddOutput(
      {.name = "chamber_pressure_Pa",
       .size = tool_count,
       .unit = "Pa",
       .doc = "process chamber pressure of each tool (families with `chamber`; 0 otherwise)"});
  out_chamber_temperature_ = declaration.AddOutput(
      {.name = "chamber_temperature_K",
       .size = tool_count,
       .unit = "K",
       .doc = "process chamber temperature of each tool (families with `chamber`; 0 otherwise)"});
  out_metrology_.clear();
  out_metrology_count_.clear();
  for (const fab::MetrologySpec& spec : config_->metrology) {
    out_metrology_.push_back(declaration.AddOutput(
        {.name = spec.name,
         .unit = spec.unit,
         .doc = "true value measured on the lots whose step ended in the last run (their mean; "
                "held when none); feed it to a sensor for gauge noise"}));
    out_metrology_count_.push_back(declaration.AddOutput(
        {.name = spec.name + "_count", .unit = "1", .doc = "lots measured since the start"}));
  }
  energy_field_ = declaration.AddState({.name = "energy_J",
                                        .shape = {1},
                                        .unit = "J",
                                        .kind = FieldKind::kDiscrete,
                                        .doc = "tool energy since the start"});
  const double tools = std::max(1, config_->num_tools()) - 1.0;
  const double families = std::max<size_t>(1, config_->families.size()) - 1.0;
  declaration.AddCommand({.verb = "release_rate",
                          .args = {{.name = "factor",
                                    .unit = "1",
                                    .lower = 1e-3,
                                    .upper = 1e3,
                                    .default_value = 1.0,
                                    .doc = "release rate multiplier (interarrival / factor)"}},
                          .doc = "scales the release rate of every stream"});
  declaration.AddCommand({.verb = "conwip",
                          .args = {{.name = "level",
                                    .unit = "1",
                                    .lower = 0,
                                    .upper = 1e9,
                                    .doc = "WIP cap in lots (0 = off)"}},
                          .doc = "CONWIP: releases wait while WIP >= level"});
  declaration.AddCommand(
      {.verb = "tool_down",
       .args = {{.name = "tool", .unit = "1", .lower = 0, .upper = tools, .doc = "tool index"}},
       .doc = "takes a tool out of service after its current job (E10 non-scheduled)"});
  declaration.AddCommand(
      {.verb = "tool_up",
       .args = {{.name = "tool", .unit = "1", .lower = 0, .upper = tools, .doc = "tool index"}},
       .doc = "returns a tool to service"});
  declaration.AddCommand(
      {.verb = "pm_postpone",
       .args = {{.name = "tool", .unit = "1", .lower = 0, .upper = tools, .doc = "tool index"},
                {.name = "hours",
                 .unit = "h",
                 .lower = 0,
                 .upper = 1e5,
                 .doc = "PMs of the tool wait until now + hours"}},
       .doc = "postpones the tool's due PMs"});
  declaration.AddCommand(
      {.verb = "dispatch_rule",
       .args =
           {{.name = "family", .unit = "1", .lower = 0, .upper = families, .doc = "family index"},
            {.name = "rule",
             .unit = "1",
             .lower = 0,
             .upper = 7,
             .doc = "0 fifo, 1 edd, 2 critical_ratio, 3 spt, 4 least_setup, 5 hot_lot_first, "
                    "6 step_priority, 7 hot_lot_first_cr"}},
       .doc = "changes a family's dispatch rule"});
  declaration.AddCommand(
      {.verb = "dispatch",
       .args = {{.name = "tool", .unit = "1", .lower = 0, .upper = tools, .doc = "tool index"},
                {.name = "queue_index",
                 .unit = "1",
                 .lower = 0,
                 .upper = 1e9,
                 .doc = "lot position in the family queue (arrival order, as in queue_view)"}},
       .doc = "AI dispatch: start that lot (and its batch mates) on a tool awaiting a decision; "
              "ignored otherwise (the decision then falls back to the rule at the timeout)"});
  declaration.AddCommand(
      {.verb = "pm_advance",
       .args = {{.name = "tool", .unit = "1", .lower = 0, .upper = tools, .doc = "tool index"},
                {.name = "hours",
                 .unit = "h",
                 .lower = 0,
                 .upper = 1e5,
                 .doc = "PMs of the tool due within now + hours start now"}},
       .doc = "pulls the tool's time-based PMs due within the window forward to now (after the "
              "current job); the PM interval restarts from now"});
  const double products = std::max<size_t>(1, config_->products.size()) - 1.0;
  declaration.AddCommand(
      {.verb = "product_mix",
       .args = {{.name = "product",
                 .unit = "1",
                 .lower = 0,
                 .upper = products,
                 .doc = "product index (order of products)"},
                {.name = "factor",
                 .unit = "1",
                 .lower = 1e-3,
                 .upper = 1e3,
                 .default_value = 1.0,
                 .doc = "release rate multiplier of the product's streams"}},
       .doc = "product-mix control: the product's streams release at factor x their rate "
              "(times release_rate), from each stream's next interarrival"});
  declaration.AddCommand(
      {.verb = "batch_min",
       .args =
           {{.name = "family", .unit = "1", .lower = 0, .upper = families, .doc = "family index"},
            {.name = "wafers",
             .unit = "1",
             .lower = -1,
             .upper = 1e6,
             .doc = "minimum batch in wafers for the family's batching steps (-1 = the data's)"}},
       .doc = "minimum-batch-size policy: batches of the family start once this many wafers wait; "
              "idle tools re-dispatch at once"});
  declaration.AddCommand(
      {.verb = "batch_start",
       .args = {{.name = "tool", .unit = "1", .lower = 0, .upper = tools, .doc = "tool index"}},
       .doc = "batch start decision: the idle tool starts its best lot now with the batch mates "
              "that fit, even below the minimum batch; ignored when busy, down or nothing waits"});
  const char* fixed[kKpiFixedCount][3] = {
      {"lots_released", "1", "lots released (initial WIP included)"},
      {"lots_finished", "1", "lots finished"},
      {"wafers_out", "1", "wafers finished"},
      {"wip_lots", "1", "WIP at the end"},
      {"wip_mean_lots", "1", "time-average WIP"},
      {"throughput_lots_per_day", "1/d", "lots finished per day after the warm-up"},
      {"throughput_wafers_per_day", "1/d", "wafers finished per day after the warm-up"},
      {"cycle_time_mean_h", "h", "mean cycle time of lots released after the warm-up"},
      {"cycle_time_p50_h", "h", "median cycle time"},
      {"cycle_time_p90_h", "h", "90th percentile cycle time"},
      {"cycle_time_p99_h", "h", "99th percentile cycle time"},
      {"x_factor", "1", "sum of cycle times / sum of raw process times"},
      {"on_time_fraction", "1", "lots finished by their due date"},
      {"setups_per_day", "1/d", "setup changes per day"},
      {"cqt_violations", "1", "critical queue-time violations"},
      {"reworks", "1", "rework loops"},
      {"events", "1", "discrete events processed"},
      {"energy_kWh", "kWh", "tool energy"},
      {"ai_decisions", "1", "dispatch decisions taken by fab/dispatch"},
      {"ai_timeouts", "1", "delegated decisions that fell back to the family rule"},
  };
  for (const auto& kpi : fixed) {
    declaration.AddKpi({.name = kpi[0], .unit = kpi[1], .doc = kpi[2]});
    kpi_names_.push_back(kpi[0]);
  }
  for (const fab::Product& product : config_->products) {
    declaration.AddKpi({.name = "throughput_lots_per_day_" + product.name,
                        .unit = "1/d",
                        .doc = "lots of this product finished per day"});
    declaration.AddKpi({.name = "cycle_time_mean_h_" + product.name,
                        .unit = "h",
                        .doc = "mean cycle time of this product"});
  }
  for (const char* lot_class : kLotClasses)
    declaration.AddKpi({.name = std::string("cycle_time_mean_h_") + lot_class,
                        .unit = "h",
                        .doc = "mean cycle time of this lot class (priority <20, 20-29, >=30)"});
  for (const fab::MetrologySpec& spec : config_->metrology) {
    declaration.AddKpi(
        {.name = spec.name + "_mean", .unit = spec.unit, .doc = "mean measured value"});
    declaration.AddKpi(
        {.name = spec.name + "_std", .unit = spec.unit, .doc = "standard deviation of the values"});
    declaration.AddKpi({.name = spec.name + "_out_of_spec_fraction",
                        .unit = "1",
                        .doc = "lots measured outside [lower_spec, upper_spec]"});
  }
  for (const std::string& group : config_->groups) {
    declaration.AddKpi({.name = "utilisation_" + group,
                        .unit = "1",
                        .doc = "E10 productive time / total time of the group's tools"});
    declaration.AddKpi({.name = "availability_" + group,
                        .unit = "1",
                        .doc = "E10 uptime (productive + standby + engineering) / total"});
  }
}

std::unique_ptr<WorldAux> FabLineBlock::CreateAux(int) const {
  return std::make_unique<fab::FabWorld>(config_.get());
}

void FabLineBlock::InitWorld(const TickInfo& tick, BlockIo& io) const {
  auto* world = static_cast<fab::FabWorld*>(io.Aux());
  std::array<CounterRng, fab::kFabStreamCount> rngs;
  for (int s = 0; s < fab::kFabStreamCount; ++s)
    rngs[static_cast<size_t>(s)] = io.Rng(tick.seed, static_cast<uint32_t>(s));
  world->SetRngs(rngs);
  world->Start(tick.time_ns);
  WriteOutputs(io, *world, 0.0);
}

void FabLineBlock::WriteOutputs(BlockIo& io, const fab::FabWorld& world, double period_s) const {
  const fab::FabCounters& counters = world.counters();
  io.Out(out_wip_)[0] = static_cast<double>(counters.wip_lots);
  io.Out(out_lots_out_)[0] = static_cast<double>(counters.finished_lots);
  io.Out(out_released_)[0] = static_cast<double>(counters.released_lots);
  double* queue = io.Out(out_queue_);
  for (size_t f = 0; f < config_->families.size(); ++f)
    queue[f] = static_cast<double>(world.queue(static_cast<int32_t>(f)).size());
  double* awaiting = io.Out(out_awaiting_);
  for (size_t t = 0; t < world.tools().size(); ++t)
    awaiting[t] = world.tools()[t].awaiting ? 1.0 : 0.0;
  double* view = io.Out(out_queue_view_);
  const int64_t now = world.counters().time_ns;
  for (size_t f = 0; f < config_->families.size(); ++f) {
    const std::vector<int32_t>& lots = world.queue(static_cast<int32_t>(f));
    for (int k = 0; k < kQueueView; ++k) {
      double* cell = view + (f * kQueueView + static_cast<size_t>(k)) * 3;
      if (static_cast<size_t>(k) >= lots.size()) {
        cell[0] = cell[1] = cell[2] = -1.0;
        continue;
      }
      const fab::Lot& lot = world.lot(lots[static_cast<size_t>(k)]);
      cell[0] = lot.priority;
      cell[1] = static_cast<double>(lot.due_ns - now) / 3.6e12;
      cell[2] = lot.position;
    }
  }
  double* since_pm = io.Out(out_wafers_since_pm_);
  double* state = io.Out(out_tool_state_);
  double* track_ins = io.Out(out_track_ins_);
  double* track_outs = io.Out(out_track_outs_);
  double* pressure = io.Out(out_chamber_pressure_);
  double* temperature = io.Out(out_chamber_temperature_);
  for (size_t t = 0; t < world.tools().size(); ++t) {
    const fab::Tool& tool = world.tools()[t];
    since_pm[t] = static_cast<double>(tool.wafers_since_pm);
    state[t] = tool.e10_state;
    track_ins[t] = static_cast<double>(tool.track_ins);
    track_outs[t] = static_cast<double>(tool.track_outs);
    pressure[t] = world.ChamberPressure(static_cast<int32_t>(t), now);
    temperature[t] = world.ChamberTemperature(static_cast<int32_t>(t), now);
  }
  for (size_t m = 0; m < out_metrology_.size(); ++m) {
    io.Out(out_metrology_[m])[0] = world.metrology()[m].last;
    io.Out(out_metrology_count_[m])[0] = static_cast<double>(world.metrology()[m].count);
  }
  double* energy = io.Field<double>(energy_field_);
  io.Out(out_power_)[0] = period_s > 0 ? (world.energy_J() - energy[0]) / period_s : 0.0;
  energy[0] = world.energy_J();
}

void FabLineBlock::Update(const TickInfo& tick, BlockIo& io) const {
  auto* world = static_cast<fab::FabWorld*>(io.Aux());
  world->AdvanceTo(tick.time_ns + tick.period_ticks * tick.dt_ns);
  world->DrainMetrology();
  WriteOutputs(io, *world, tick.period_s);
}

void FabLineBlock::ApplyCommand(const TickInfo& tick, BlockIo& io, int command,
                                std::span<const double> args) const {
  auto* world = static_cast<fab::FabWorld*>(io.Aux());
  switch (command) {
    case kCmdReleaseRate:
      world->SetReleaseRate(args[0]);
      break;
    case kCmdConwip:
      world->SetConwip(static_cast<int64_t>(args[0]));
      break;
    case kCmdToolDown:
      world->SetToolOff(static_cast<int32_t>(args[0]), true);
      break;
    case kCmdToolUp:
      world->SetToolOff(static_cast<int32_t>(args[0]), false);
      break;
    case kCmdPmPostpone:
      world->PostponePm(static_cast<int32_t>(args[0]),
                        tick.time_ns + static_cast<int64_t>(std::llround(args[1] * 3600e9)));
      break;
    case kCmdDispatchRule:
      world->SetRule(static_cast<int32_t>(args[0]),
                     static_cast<fab::DispatchRule>(static_cast<int>(args[1])));
      break;
    case kCmdDispatch:
      world->DispatchByCommand(static_cast<int32_t>(args[0]), static_cast<int32_t>(args[1]));
      break;
    case kCmdPmAdvance:
      world->AdvancePm(static_cast<int32_t>(args[0]),
                       static_cast<int64_t>(std::llround(args[1] * 3600e9)));
      break;
    case kCmdProductMix:
      world->SetProductRate(static_cast<int32_t>(args[0]), args[1]);
      break;
    case kCmdBatchMin:
      world->SetBatchMin(static_cast<int32_t>(args[0]), static_cast<int32_t>(std::lround(args[1])));
      break;
    case kCmdBatchStart:
      world->StartBatchNow(static_cast<int32_t>(args[0]));
      break;
    default:
      break;
  }
}

void FabLineBlock::ComputeKpis(const TickInfo& tick, const BlockIo& io,
                               std::span<double> kpis) const {
  const auto* world = static_cast<const fab::FabWorld*>(io.Aux());
  const fab::FabCounters& counters = world->counters();
  const double now_s = static_cast<double>(counters.time_ns) * 1e-9;
  const double warmup_s = config_->warmup_s;
  const double window_days = std::max(1e-12, (now_s - warmup_s) / fab::kDayS);
  const size_t products = config_->products.size();
  std::vector<double> cycle_h;
  std::vector<double> product_ct(products, 0.0), product_count(products, 0.0),
      product_out(products, 0.0);
  double class_ct[3] = {0, 0, 0}, class_count[3] = {0, 0, 0};
  double sum_ct = 0.0, sum_raw = 0.0, on_time = 0.0, wafers_window = 0.0, lots_window = 0.0;
  for (const fab::Completion& done : world->completions()) {
    const double finish_s = static_cast<double>(done.finish_ns) * 1e-9;
    if (finish_s >= warmup_s) {
      lots_window += 1;
      wafers_window += done.wafers;
      product_out[static_cast<size_t>(done.product)] += 1;
    }
    if (static_cast<double>(done.release_ns) * 1e-9 < warmup_s) continue;
    const double ct_s = static_cast<double>(done.finish_ns - done.release_ns) * 1e-9;
    cycle_h.push_back(ct_s / 3600.0);
    sum_ct += ct_s;
    sum_raw += config_->products[static_cast<size_t>(done.product)].raw_time_s;
    on_time += done.finish_ns <= done.due_ns ? 1.0 : 0.0;
    product_ct[static_cast<size_t>(done.product)] += ct_s / 3600.0;
    product_count[static_cast<size_t>(done.product)] += 1;
    const int lot_class = LotClass(done.priority);
    class_ct[lot_class] += ct_s / 3600.0;
    class_count[lot_class] += 1;
  }
  const double n = static_cast<double>(cycle_h.size());
  kpis[kKpiReleased] = static_cast<double>(counters.released_lots);
  kpis[kKpiFinished] = static_cast<double>(counters.finished_lots);
  kpis[kKpiWafersOut] = static_cast<double>(counters.finished_wafers);
  kpis[kKpiWipFinal] = static_cast<double>(counters.wip_lots);
  kpis[kKpiWipMean] = now_s > 0 ? world->wip_area_lot_s() / now_s : 0;
  kpis[kKpiThroughputLots] = lots_window / window_days;
  kpis[kKpiThroughputWafers] = wafers_window / window_days;
  kpis[kKpiCtMean] = n > 0 ? sum_ct / 3600.0 / n : 0.0;
  kpis[kKpiCtP50] = Percentile(cycle_h, 0.50);
  kpis[kKpiCtP90] = Percentile(cycle_h, 0.90);
  kpis[kKpiCtP99] = Percentile(cycle_h, 0.99);
  kpis[kKpiXFactor] = sum_raw > 0 ? sum_ct / sum_raw : 0.0;
  kpis[kKpiOnTime] = n > 0 ? on_time / n : 0.0;
  kpis[kKpiSetupsPerDay] =
      now_s > 0 ? static_cast<double>(counters.setups) / (now_s / fab::kDayS) : 0;
  kpis[kKpiCqtViolations] = static_cast<double>(counters.cqt_violations);
  kpis[kKpiReworks] = static_cast<double>(counters.reworks);
  kpis[kKpiEvents] = static_cast<double>(counters.events);
  kpis[kKpiEnergy] = world->energy_J() / 3.6e6;
  kpis[kKpiAiDecisions] = static_cast<double>(counters.ai_decisions);
  kpis[kKpiAiTimeouts] = static_cast<double>(counters.ai_timeouts);
  size_t k = kKpiFixedCount;
  for (size_t p = 0; p < products; ++p) {
    kpis[k++] = product_out[p] / window_days;
    kpis[k++] = product_count[p] > 0 ? product_ct[p] / product_count[p] : 0.0;
  }
  for (int c = 0; c < 3; ++c) kpis[k++] = class_count[c] > 0 ? class_ct[c] / class_count[c] : 0.0;
  for (const fab::MetrologyStats& stats : world->metrology()) {
    const double count = static_cast<double>(stats.count);
    const double mean = count > 0 ? stats.sum / count : 0.0;
    kpis[k++] = mean;
    kpis[k++] = count > 1
                    ? std::sqrt(std::max(0.0, (stats.sum_sq - count * mean * mean) / (count - 1)))
                    : 0.0;
    kpis[k++] = count > 0 ? static_cast<double>(stats.out_of_spec) / count : 0.0;
  }
  const size_t groups = config_->groups.size();
  std::vector<double> productive(groups, 0.0), up(groups, 0.0), total(groups, 0.0);
  for (const fab::Tool& tool : world->tools()) {
    const size_t g = static_cast<size_t>(config_->family_group[static_cast<size_t>(tool.family)]);
    double sum = 0.0;
    for (int64_t span : tool.e10_ns) sum += static_cast<double>(span);
    total[g] += sum;
    productive[g] += static_cast<double>(tool.e10_ns[fab::kProductive]);
    up[g] += static_cast<double>(tool.e10_ns[fab::kProductive] + tool.e10_ns[fab::kStandby] +
                                 tool.e10_ns[fab::kEngineering]);
  }
  for (size_t g = 0; g < groups; ++g) {
    kpis[k++] = total[g] > 0 ? productive[g] / total[g] : 0.0;
    kpis[k++] = total[g] > 0 ? up[g] / total[g] : 0.0;
  }
  if (!completion_log_.empty()) {
    std::string path = completion_log_;
    if (io.world() > 0) {
      const auto dot = path.rfind('.');
      const std::string suffix = "_w" + std::to_string(io.world());
      path = dot == std::string::npos ? path + suffix
                                      : path.substr(0, dot) + suffix + path.substr(dot);
    }
    WriteCompletionLog(*world, path);
  }
  (void)tick;
}

void FabLineBlock::WriteCompletionLog(const fab::FabWorld& world, const std::string& path) const {
  std::error_code error;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  std::ofstream out(path);
  if (!out) return;  // the KPI summary still reports; an unwritable path is not fatal here
  out << "lot,product,priority,wafers,release_h,finish_h,due_h,cycle_time_h,on_time,reworks\n";
  char line[256];
  for (const fab::Completion& done : world.completions()) {
    std::snprintf(line, sizeof line, "%lld,%s,%d,%d,%.6f,%.6f,%.6f,%.6f,%d,%d\n",
                  static_cast<long long>(done.lot_id),
                  config_->products[static_cast<size_t>(done.product)].name.c_str(), done.priority,
                  done.wafers, static_cast<double>(done.release_ns) / 3.6e12,
                  static_cast<double>(done.finish_ns) / 3.6e12,
                  static_cast<double>(done.due_ns) / 3.6e12,
                  static_cast<double>(done.finish_ns - done.release_ns) / 3.6e12,
                  done.finish_ns <= done.due_ns ? 1 : 0, done.reworks);
    out << line;
  }
}

}  // namespace ftwin
