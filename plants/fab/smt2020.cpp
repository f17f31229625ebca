#include "plants/fab/smt2020.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "engine/units.h"

namespace ftwin::fab {
namespace {

// One tab-separated file: a header line of column names, then rows. Fields keep their line
// and column so that every error can point at the exact cell.
class TsvFile {
 public:
  struct Row {
    int line = 0;
    std::vector<std::string> fields;
    std::vector<int> columns;  // 1-based character column of each field
  };

  TsvFile(const std::filesystem::path& path, Diagnostics* diagnostics)
      : name_(path.string()), diagnostics_(diagnostics) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      diagnostics_->Add({name_, 0, 0}, path.filename().string(), "",
                        "expected a readable SMT2020 file (not found or unreadable)");
      return;
    }
    std::string text;
    int line = 0;
    while (std::getline(in, text)) {
      ++line;
      if (!text.empty() && text.back() == '\r') text.pop_back();
      Row row;
      row.line = line;
      size_t start = 0;
      for (;;) {
        const size_t tab = text.find('\t', start);
        row.fields.push_back(text.substr(start, tab == std::string::npos ? tab : tab - start));
        row.columns.push_back(static_cast<int>(start) + 1);
        if (tab == std::string::npos) break;
        start = tab + 1;
      }
      if (line == 1) {
        header_ = row.fields;
        continue;
      }
      bool blank = true;
      for (const std::string& field : row.fields) blank = blank && field.empty();
      if (!blank) rows_.push_back(std::move(row));
    }
    if (line == 0) diagnostics_->Add({name_, 1, 1}, Key(""), "", "expected a header line");
  }

  bool ok() const { return !header_.empty(); }
  const std::vector<Row>& rows() const { return rows_; }
  const std::string& name() const { return name_; }

  /// Index of a column; reports a missing one once.
  int Column(const std::string& column) {
    for (size_t i = 0; i < header_.size(); ++i)
      if (header_[i] == column) return static_cast<int>(i);
    if (ok() && reported_.insert(column).second)
      diagnostics_->Add({name_, 1, 1}, Key(column), "", "expected a column named " + column);
    return -1;
  }
  std::string Text(const Row& row, const std::string& column) {
    const int index = Column(column);
    if (index < 0 || static_cast<size_t>(index) >= row.fields.size()) return "";
    return row.fields[static_cast<size_t>(index)];
  }
  void Error(const Row& row, const std::string& column, const std::string& value,
             const std::string& expected) {
    const int index = Column(column);
    int col = 1;
    if (index >= 0 && static_cast<size_t>(index) < row.columns.size())
      col = row.columns[static_cast<size_t>(index)];
    else if (!row.columns.empty())
      col = row.columns.back();
    diagnostics_->Add({name_, row.line, col}, Key(column), value, expected);
  }
  /// A number; empty -> `fallback` when allowed, else an error.
  double Number(const Row& row, const std::string& column, bool required, double fallback = 0.0,
                double lower = 0.0) {
    const std::string text = Text(row, column);
    if (text.empty()) {
      if (required) Error(row, column, "", "expected a number (the cell is empty)");
      return fallback;
    }
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !std::isfinite(value)) {
      Error(row, column, text, "expected a number");
      return fallback;
    }
    if (value < lower) {
      Error(row, column, text, "expected a number >= " + FormatNumber(lower));
      return fallback;
    }
    return value;
  }
  /// Seconds per unit of a *UNITS column.
  double UnitSeconds(const Row& row, const std::string& column, bool required = true) {
    const std::string unit = Text(row, column);
    if (unit == "sec" || unit == "s") return 1.0;
    if (unit == "min") return 60.0;
    if (unit == "hr" || unit == "h") return 3600.0;
    if (unit == "day") return 86400.0;
    if (unit.empty() && !required) return 60.0;
    Error(row, column, unit, "expected a time unit: sec, min, hr or day");
    return 60.0;
  }
  DistKind Distribution(const Row& row, const std::string& column) {
    const std::string text = Text(row, column);
    if (text == "uniform") return DistKind::kUniform;
    if (text == "exponential") return DistKind::kExponential;
    if (text == "constant" || text.empty()) return DistKind::kConstant;
    Error(row, column, text, "expected a distribution: constant, uniform or exponential");
    return DistKind::kConstant;
  }
  /// "MM/DD/YY hh:mm:ss" as seconds since 2000-01-01 00:00:00.
  double Date(const Row& row, const std::string& column) {
    const std::string text = Text(row, column);
    int month = 0, day = 0, year = 0, hour = 0, minute = 0, second = 0;
    char tail = 0;
    const int parsed = std::sscanf(text.c_str(), "%2d/%2d/%2d %2d:%2d:%2d%c", &month, &day, &year,
                                   &hour, &minute, &second, &tail);
    if (parsed != 6 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
        second > 59 || hour < 0 || minute < 0 || second < 0 || year < 0) {
      Error(row, column, text, "expected a date MM/DD/YY hh:mm:ss");
      return 0.0;
    }
    // Days from civil (Howard Hinnant's algorithm), relative to 2000-01-01.
    const int y = 2000 + year - (month <= 2 ? 1 : 0);
    const int era = y / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const int64_t days = int64_t{era} * 146097 + doe - 730425;  // 730425 = days to 2000-01-01
    return static_cast<double>(days) * 86400.0 + hour * 3600.0 + minute * 60.0 + second;
  }

 private:
  std::string Key(const std::string& column) const {
    return std::filesystem::path(name_).filename().string() + (column.empty() ? "" : ":" + column);
  }
  static std::string FormatNumber(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
  }
  std::string name_;
  Diagnostics* diagnostics_;
  std::vector<std::string> header_;
  std::vector<Row> rows_;
  std::set<std::string> reported_;
};

int32_t Find(const std::vector<std::string>& names, const std::string& name) {
  const auto found = std::find(names.begin(), names.end(), name);
  return found == names.end() ? -1 : static_cast<int32_t>(found - names.begin());
}

}  // namespace

void LoadSmt2020(const std::filesystem::path& dir, Diagnostics* diagnostics, FabConfig* config) {
  const size_t errors_before = diagnostics->size();
  // Tools: one family per STNFAM row.
  TsvFile tools(dir / "tool.txt.1l", diagnostics);
  std::vector<std::string> family_names, family_setup_group;
  for (const auto& row : tools.rows()) {
    Family family;
    family.name = tools.Text(row, "STNFAM");
    if (family.name.empty()) {
      tools.Error(row, "STNFAM", "", "expected a tool family name");
      continue;
    }
    if (Find(family_names, family.name) >= 0)
      tools.Error(row, "STNFAM", family.name, "expected a unique tool family name");
    family.group = tools.Text(row, "STNGRP");
    const double quantity = tools.Number(row, "STNQTY", true, 1.0, 1.0);
    family.num_tools = static_cast<int32_t>(std::lround(quantity));
    if (quantity != std::floor(quantity))
      tools.Error(row, "STNQTY", tools.Text(row, "STNQTY"), "expected a whole number of tools");
    const std::string rule = tools.Text(row, "RULE");
    if (rule == "rule_HotLotFIRST") {
      family.rule = DispatchRule::kHotLotFirst;
      const std::string rank = tools.Text(row, "FWLRANK");
      if (rank == "rank_HP;rank_RSETUP;rank_CR") {
        family.rule = DispatchRule::kHotLotFirstCr;
      } else if (!rank.empty() && rank != "rank_HP;rank_RSETUP;rank_FIFO") {
        tools.Error(row, "FWLRANK", rank,
                    "expected rank_HP;rank_RSETUP;rank_FIFO or rank_HP;rank_RSETUP;rank_CR");
      }

    } else if (rule == "rule_LSSU") {
      family.rule = DispatchRule::kLeastSetup;
    } else {
      tools.Error(row, "RULE", rule, "expected rule_HotLotFIRST or rule_LSSU");
    }
    family.load_s =
        tools.Number(row, "LTIME", false, 0.0) * tools.UnitSeconds(row, "LTUNITS", false);
    family.unload_s =
        tools.Number(row, "ULTIME", false, 0.0) * tools.UnitSeconds(row, "ULTUNITS", false);
    const std::string wake = tools.Text(row, "WAKERESRANK");
    if (wake == "wake_LeastSetupTime")
      family.wake_least_setup = true;
    else if (!wake.empty())
      tools.Error(row, "WAKERESRANK", wake, "expected wake_LeastSetupTime or empty");
    const std::string capacity = tools.Text(row, "STNCAP");
    if (!capacity.empty()) {
      const double value = tools.Number(row, "STNCAP", true, 1.0, 1.0);
      if (value != 1.0 && value != 2.0)
        tools.Error(row, "STNCAP", capacity, "expected 2 (cascading tool), 1 or empty");
      family.cascading = value == 2.0;
    }
    const std::string location = tools.Text(row, "STNFAMLOC");
    int32_t loc = Find(config->locations, location);
    if (loc < 0) {
      config->locations.push_back(location);
      loc = static_cast<int32_t>(config->locations.size() - 1);
    }
    family.location = loc;
    family_setup_group.push_back(tools.Text(row, "SETUPGRP"));
    family_names.push_back(family.name);
    config->families.push_back(family);
  }
  // Setup groups: minimum run length after a setup (SETUPGRP is carried down blank rows).
  TsvFile groups(dir / "setupgrp.txt", diagnostics);
  std::map<std::string, int32_t> group_min_run;
  std::string current_group;
  for (const auto& row : groups.rows()) {
    const std::string group = groups.Text(row, "SETUPGRP");
    if (!group.empty()) current_group = group;
    if (current_group.empty()) {
      groups.Error(row, "SETUPGRP", "", "expected a setup group name (first row)");
      continue;
    }
    config->SetupIndex(groups.Text(row, "SETUP"));
    const auto min_run = static_cast<int32_t>(groups.Number(row, "MINRUN", false, 0.0));
    group_min_run[current_group] = std::max(group_min_run[current_group], min_run);
  }
  for (size_t f = 0; f < config->families.size(); ++f) {
    const std::string& group = family_setup_group[f];
    if (group.empty()) continue;
    const auto found = group_min_run.find(group);
    if (found == group_min_run.end()) {
      const auto& row = tools.rows()[f];
      tools.Error(row, "SETUPGRP", group, "expected a setup group listed in setupgrp.txt");
      continue;
    }
    config->families[f].min_run = found->second;
  }
  // Sequence-dependent setup times (an empty CURSETUP means "from any setup").
  TsvFile setups(dir / "setup.txt", diagnostics);
  for (const auto& row : setups.rows()) {
    FabConfig::SetupEntry entry;
    const std::string from = setups.Text(row, "CURSETUP");
    const std::string to = setups.Text(row, "NEWSETUP");
    if (to.empty()) setups.Error(row, "NEWSETUP", "", "expected a setup name");
    entry.from = from.empty() ? -1 : config->SetupIndex(from);
    entry.to = config->SetupIndex(to);
    entry.time_s = setups.Number(row, "STIME", true) * setups.UnitSeconds(row, "STUNITS");
    config->setup_entries.push_back(entry);
  }
  // Epoch: the earliest START of the orders; all dates are relative to it.
  TsvFile orders(dir / "order.txt", diagnostics);
  double epoch = 1e300;
  for (const auto& row : orders.rows()) epoch = std::min(epoch, orders.Date(row, "START"));
  if (orders.rows().empty()) epoch = 0;
  // Products and their routes.
  TsvFile parts(dir / "part.txt", diagnostics);
  std::vector<std::string> product_names;
  for (const auto& part_row : parts.rows()) {
    Product product;
    product.name = parts.Text(part_row, "PART");
    const std::string route_file = parts.Text(part_row, "ROUTEFILE");
    const std::string route_name = parts.Text(part_row, "ROUTE");
    if (route_file.empty() || route_file.find('/') != std::string::npos) {
      parts.Error(part_row, "ROUTEFILE", route_file, "expected a route file name in this folder");
      continue;
    }
    TsvFile route(dir / route_file, diagnostics);
    std::map<int64_t, int32_t> position_of_step;
    for (const auto& row : route.rows()) {
      const std::string name = route.Text(row, "ROUTE");
      if (!route_name.empty() && name != route_name)
        route.Error(row, "ROUTE", name, "expected the route " + route_name + " named in part.txt");
      const auto number = static_cast<int64_t>(route.Number(row, "STEP", true));
      if (position_of_step.count(number) != 0)
        route.Error(row, "STEP", route.Text(row, "STEP"), "expected a unique step number");
      position_of_step[number] = static_cast<int32_t>(position_of_step.size());
    }
    auto position = [&](const TsvFile::Row& row, const std::string& column) -> int32_t {
      const std::string text = route.Text(row, column);
      if (text.empty()) return -1;
      const auto number = static_cast<int64_t>(route.Number(row, column, true));
      const auto found = position_of_step.find(number);
      if (found == position_of_step.end()) {
        route.Error(row, column, text, "expected a step number of this route");
        return -1;
      }
      return found->second;
    };
    for (const auto& row : route.rows()) {
      Step step;
      step.name = route.Text(row, "DESC");
      const std::string family = route.Text(row, "STNFAM");
      step.family = Find(family_names, family);
      if (step.family < 0) {
        route.Error(row, "STNFAM", family, "expected a tool family listed in tool.txt.1l");
        step.family = 0;
      }
      const double unit = route.UnitSeconds(row, "PTUNITS");
      step.time.kind = route.Distribution(row, "PDIST");
      step.time.mean_s = route.Number(row, "PTIME", true) * unit;
      step.time.half_width_s = route.Number(row, "PTIME2", false, 0.0) * unit;
      if (step.time.kind == DistKind::kUniform && step.time.half_width_s > step.time.mean_s)
        route.Error(row, "PTIME2", route.Text(row, "PTIME2"),
                    "expected a half width no larger than PTIME");
      const std::string basis = route.Text(row, "PTPER");
      if (basis == "per_piece") {
        step.basis = TimeBasis::kPerPiece;
      } else if (basis == "per_lot") {
        step.basis = TimeBasis::kPerLot;
      } else if (basis == "per_batch") {
        step.basis = TimeBasis::kPerBatch;
      } else {
        route.Error(row, "PTPER", basis, "expected per_piece, per_lot or per_batch");
      }
      if (step.basis == TimeBasis::kPerBatch) {
        step.batch_min_wafers = static_cast<int32_t>(route.Number(row, "BATCHMN", true, 1, 1));
        step.batch_max_wafers = static_cast<int32_t>(route.Number(row, "BATCHMX", true, 1, 1));
        if (step.batch_max_wafers < step.batch_min_wafers)
          route.Error(row, "BATCHMX", route.Text(row, "BATCHMX"), "expected BATCHMX >= BATCHMN");
      }
      const std::string setup = route.Text(row, "SETUP");
      if (!setup.empty()) {
        step.setup = config->SetupIndex(setup);
        step.setup_time_s =
            route.Number(row, "STIME", false, 0.0) * route.UnitSeconds(row, "STUNITS", false);
      }
      // Cascading: the tool takes the next lot (piece) after this interval.
      if (!route.Text(row, "PartInterval").empty())
        step.cascade_s =
            route.Number(row, "PartInterval", true) * route.UnitSeconds(row, "PartIntUnits");
      if (!route.Text(row, "BatchInterval").empty())
        step.cascade_s =
            route.Number(row, "BatchInterval", true) * route.UnitSeconds(row, "BatchIntUnits");
      if (route.Text(row, "SVESTN") == "yes") step.pin_to = position(row, "FORSTEP");
      if (!route.Text(row, "REWORK").empty()) {
        step.rework_probability = route.Number(row, "REWORK", true) / 100.0;
        step.rework_to = position(row, "RWKSTEP");
        if (step.rework_to < 0)
          route.Error(row, "RWKSTEP", "", "expected the step a reworked lot returns to");
        const std::string type = route.Text(row, "RWKTYPE");
        if (!type.empty() && type != "lot")
          route.Error(row, "RWKTYPE", type, "expected lot (whole-lot rework)");
      }
      const double percent = route.Number(row, "StepPercent", false, 100.0);
      if (percent > 100.0)
        route.Error(row, "StepPercent", route.Text(row, "StepPercent"), "expected 0..100");
      step.sampling = std::min(1.0, percent / 100.0);
      if (!route.Text(row, "STEP_CQT").empty()) {
        step.cqt_to = position(row, "STEP_CQT");
        step.cqt_limit_s = route.Number(row, "CQT", true) * route.UnitSeconds(row, "CQTUNITS");
      }
      product.route.push_back(step);
    }
    if (product.route.empty())
      parts.Error(part_row, "ROUTEFILE", route_file, "expected a route with at least one step");
    product_names.push_back(product.name);
    config->products.push_back(std::move(product));
  }
  auto product_of = [&](TsvFile& file, const TsvFile::Row& row) {
    const std::string name = file.Text(row, "PART");
    const int32_t index = Find(product_names, name);
    if (index < 0) file.Error(row, "PART", name, "expected a part listed in part.txt");
    return index;
  };
  // Release streams.
  for (const auto& row : orders.rows()) {
    ReleaseStream stream;
    stream.name = orders.Text(row, "LOT");
    stream.product = product_of(orders, row);
    stream.priority = static_cast<int32_t>(orders.Number(row, "PRIOR", true));
    stream.wafers = static_cast<int32_t>(orders.Number(row, "PIECES", true, 25, 1));
    const double start = orders.Date(row, "START");
    stream.start_s = start - epoch;
    stream.interval.kind = orders.Distribution(row, "RDIST");
    stream.interval.mean_s = orders.Number(row, "REPEAT", true) * orders.UnitSeconds(row, "RUNITS");
    if (stream.interval.mean_s <= 0)
      orders.Error(row, "REPEAT", orders.Text(row, "REPEAT"), "expected a positive interval");
    stream.count = static_cast<int64_t>(orders.Number(row, "RPT#", true, 1, 1));
    stream.lots_per_release = static_cast<int32_t>(orders.Number(row, "LOTSPERRPT", true, 1, 1));
    stream.due_after_s = orders.Date(row, "DUE") - start;
    if (stream.due_after_s < 0)
      orders.Error(row, "DUE", orders.Text(row, "DUE"), "expected a due date after START");
    if (stream.product >= 0) config->releases.push_back(stream);
  }
  // Initial WIP: lots waiting at CURSTEP.
  TsvFile wip(dir / "WIP.txt", diagnostics);
  for (const auto& row : wip.rows()) {
    InitialLot lot;
    lot.product = product_of(wip, row);
    lot.priority = static_cast<int32_t>(wip.Number(row, "PRIOR", true));
    lot.wafers = static_cast<int32_t>(wip.Number(row, "PIECES", true, 25, 1));
    lot.release_s = wip.Date(row, "START") - epoch;
    lot.due_s = wip.Date(row, "DUE") - epoch;
    const auto step = static_cast<int64_t>(wip.Number(row, "CURSTEP", true, 1, 1));
    if (lot.product < 0) continue;
    // Route steps are numbered 1..n in SMT2020; look the number up like route references.
    const Product& product = config->products[static_cast<size_t>(lot.product)];
    if (step < 1 || step > static_cast<int64_t>(product.route.size())) {
      wip.Error(row, "CURSTEP", wip.Text(row, "CURSTEP"),
                "expected a step number of the part's route");
      continue;
    }
    lot.position = static_cast<int32_t>(step - 1);
    config->initial_wip.push_back(lot);
  }
  // Breakdown and PM calendars, attached to tool groups (stngrp) or families (stnfam).
  TsvFile downs(dir / "downcal.txt", diagnostics);
  std::vector<std::string> down_names, pm_names;
  for (const auto& row : downs.rows()) {
    DownCalendar calendar;
    calendar.name = downs.Text(row, "DOWNCALNAME");
    const std::string type = downs.Text(row, "DOWNCALTYPE");
    if (type != "mttf_by_cal")
      downs.Error(row, "DOWNCALTYPE", type, "expected mttf_by_cal (failures in calendar time)");
    calendar.mttf.kind = downs.Distribution(row, "MTTFDIST");
    calendar.mttf.mean_s = downs.Number(row, "MTTF", true) * downs.UnitSeconds(row, "MTTFUNITS");
    calendar.mttr.kind = downs.Distribution(row, "MTTRDIST");
    calendar.mttr.mean_s = downs.Number(row, "MTTR", true) * downs.UnitSeconds(row, "MTTRUNITS");
    if (calendar.mttf.mean_s <= 0)
      downs.Error(row, "MTTF", downs.Text(row, "MTTF"), "expected > 0");
    down_names.push_back(calendar.name);
    config->down_calendars.push_back(calendar);
  }
  TsvFile pms(dir / "pmcal.txt", diagnostics);
  for (const auto& row : pms.rows()) {
    PmCalendar calendar;
    calendar.name = pms.Text(row, "PMCALNAME");
    const std::string type = pms.Text(row, "PMCALTYPE");
    if (type == "mtbpm_by_pieces") {
      calendar.by_pieces = true;
      calendar.interval = pms.Number(row, "MTBPM", true, 1, 1);
    } else if (type == "mtbpm_by_cal") {
      calendar.interval =
          pms.Number(row, "MTBPM", true, 1, 1e-9) * pms.UnitSeconds(row, "MTBPMUNITS");
    } else {
      pms.Error(row, "PMCALTYPE", type, "expected mtbpm_by_cal or mtbpm_by_pieces");
    }
    const double unit = pms.UnitSeconds(row, "MTTRUNITS");
    calendar.duration.kind = pms.Distribution(row, "MTTRDIST");
    calendar.duration.mean_s = pms.Number(row, "MTTR", true) * unit;
    calendar.duration.half_width_s = pms.Number(row, "MTTR2", false, 0.0) * unit;
    pm_names.push_back(calendar.name);
    config->pm_calendars.push_back(calendar);
  }
  TsvFile attach(dir / "attach.txt", diagnostics);
  for (const auto& row : attach.rows()) {
    const std::string name = attach.Text(row, "CALNAME");
    const std::string type = attach.Text(row, "CALTYPE");
    const std::string resource_type = attach.Text(row, "RESTYPE");
    const std::string resource = attach.Text(row, "RESNAME");
    const bool is_pm = type == "pm";
    if (!is_pm && type != "down") {
      attach.Error(row, "CALTYPE", type, "expected down or pm");
      continue;
    }
    const int32_t calendar = Find(is_pm ? pm_names : down_names, name);
    if (calendar < 0) {
      attach.Error(
          row, "CALNAME", name,
          std::string("expected a calendar listed in ") + (is_pm ? "pmcal.txt" : "downcal.txt"));
      continue;
    }
    if (resource_type != "stngrp" && resource_type != "stnfam") {
      attach.Error(row, "RESTYPE", resource_type, "expected stngrp or stnfam");
      continue;
    }
    // First occurrence: calendar time for time-based calendars, pieces for piece-based PMs.
    const bool pieces = is_pm && config->pm_calendars[static_cast<size_t>(calendar)].by_pieces;
    const DistKind first_kind = attach.Distribution(row, "FOADIST");
    const double first_value = attach.Number(row, "FOA", false, -1.0);
    const double first_unit = pieces ? 1.0 : attach.UnitSeconds(row, "FOAUNITS", first_value >= 0);
    bool matched = false;
    for (Family& family : config->families) {
      if ((resource_type == "stngrp" ? family.group : family.name) != resource) continue;
      matched = true;
      if (is_pm) {
        PmCalendar& pm = config->pm_calendars[static_cast<size_t>(calendar)];
        pm.first = first_value >= 0 ? first_value * first_unit : -1.0;
        pm.stagger_first = first_value >= 0 && first_kind == DistKind::kConstant;
        family.pm_calendars.push_back(calendar);
      } else {
        DownCalendar& down = config->down_calendars[static_cast<size_t>(calendar)];
        if (first_value >= 0) down.first = {first_kind, first_value * first_unit, 0.0};
        family.down_calendars.push_back(calendar);
      }
    }
    if (!matched)
      attach.Error(row, "RESNAME", resource,
                   "expected a tool " +
                       std::string(resource_type == "stngrp" ? "group" : "family") +
                       " of tool.txt.1l");
  }
  for (const Family& family : config->families)
    if (family.pm_calendars.size() + family.down_calendars.size() > 32)
      diagnostics->Add({attach.name(), 0, 0}, "attach.txt", family.name,
                       "expected at most 32 calendars per tool family");
  // Transport between locations.
  TsvFile fromto(dir / "fromto.txt", diagnostics);
  const size_t n = config->locations.size();
  config->transport_matrix.assign(n * n, Dist{});
  for (const auto& row : fromto.rows()) {
    Dist dist;
    const double unit = fromto.UnitSeconds(row, "DUNITS");
    dist.kind = fromto.Distribution(row, "DDIST");
    dist.mean_s = fromto.Number(row, "DTIME", true) * unit;
    dist.half_width_s = fromto.Number(row, "DTIME2", false, 0.0) * unit;
    const int32_t from = Find(config->locations, fromto.Text(row, "FROMLOC"));
    const int32_t to = Find(config->locations, fromto.Text(row, "TOLOC"));
    if (from < 0 || to < 0) continue;  // a location no tool family uses
    config->transport_matrix[static_cast<size_t>(from) * n + static_cast<size_t>(to)] = dist;
  }
  (void)errors_before;
}

}  // namespace ftwin::fab
