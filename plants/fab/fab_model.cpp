#include "plants/fab/fab_model.h"

#include <algorithm>
#include <cmath>

namespace ftwin::fab {

double Dist::Sample(double u) const {
  switch (kind) {
    case DistKind::kConstant:
      return mean_s;
    case DistKind::kUniform:
      return mean_s + half_width_s * (2.0 * u - 1.0);
    case DistKind::kExponential:
      return -mean_s * std::log1p(-u);  // u in [0, 1): 1 - u in (0, 1]
  }
  return mean_s;
}

namespace {
constexpr const char* kRuleNames[] = {
    "fifo",        "edd",           "critical_ratio", "spt",
    "least_setup", "hot_lot_first", "step_priority",  "hot_lot_first_cr"};
}

const char* DispatchRuleName(DispatchRule rule) { return kRuleNames[static_cast<int>(rule)]; }

bool ParseDispatchRule(const std::string& text, DispatchRule* rule) {
  for (int i = 0; i < 8; ++i)
    if (text == kRuleNames[i]) {
      *rule = static_cast<DispatchRule>(i);
      return true;
    }
  return false;
}

double StepMeanTime(const Step& step, int32_t wafers) {
  return step.basis == TimeBasis::kPerPiece ? step.time.mean_s * wafers : step.time.mean_s;
}

double FabConfig::SetupTime(int32_t from, int32_t to, const Step& step) const {
  const size_t n = setup_names.size();
  if (to >= 0 && !setup_matrix.empty()) {
    const double exact = setup_matrix[static_cast<size_t>(from + 1) * n + static_cast<size_t>(to)];
    if (exact >= 0) return exact;
    const double any = setup_matrix[static_cast<size_t>(to)];
    if (any >= 0) return any;
  }
  return step.setup_time_s;
}

int32_t FabConfig::SetupIndex(const std::string& name) {
  for (size_t i = 0; i < setup_names.size(); ++i)
    if (setup_names[i] == name) return static_cast<int32_t>(i);
  setup_names.push_back(name);
  return static_cast<int32_t>(setup_names.size() - 1);
}

void FabConfig::Finalise() {
  tool_family.clear();
  family_first_tool.clear();
  for (size_t f = 0; f < families.size(); ++f) {
    family_first_tool.push_back(static_cast<int32_t>(tool_family.size()));
    for (int32_t t = 0; t < families[f].num_tools; ++t)
      tool_family.push_back(static_cast<int32_t>(f));
  }
  family_first_tool.push_back(static_cast<int32_t>(tool_family.size()));
  family_metrology.assign(families.size(), -1);
  for (size_t m = 0; m < metrology.size(); ++m)
    family_metrology[static_cast<size_t>(metrology[m].family)] = static_cast<int32_t>(m);
  max_batch_lots = 1;
  int32_t min_lot_wafers = 1 << 30;
  for (const ReleaseStream& stream : releases)
    min_lot_wafers = std::min(min_lot_wafers, stream.wafers);
  for (const InitialLot& lot : initial_wip) min_lot_wafers = std::min(min_lot_wafers, lot.wafers);
  if (min_lot_wafers == 1 << 30) min_lot_wafers = 1;
  for (Product& product : products) {
    const size_t n = product.route.size();
    product.remaining_s.assign(n + 1, 0.0);
    for (size_t p = n; p-- > 0;) {
      Step& step = product.route[p];
      step.mean_time_s = StepMeanTime(step, product.nominal_wafers);
      product.remaining_s[p] = product.remaining_s[p + 1] + step.sampling * step.mean_time_s;
      if (step.batch_max_wafers > 0)
        max_batch_lots =
            std::max(max_batch_lots, step.batch_max_wafers / std::max(1, min_lot_wafers));
    }
    product.raw_time_s = product.remaining_s[0];
  }
  const size_t n = setup_names.size();
  setup_matrix.assign((n + 1) * n, -1.0);
  for (const SetupEntry& entry : setup_entries)
    setup_matrix[static_cast<size_t>(entry.from + 1) * n + static_cast<size_t>(entry.to)] =
        entry.time_s;
  family_group.resize(families.size());
  groups.clear();
  for (size_t f = 0; f < families.size(); ++f) {
    const std::string& group = families[f].group.empty() ? families[f].name : families[f].group;
    auto found = std::find(groups.begin(), groups.end(), group);
    if (found == groups.end()) {
      groups.push_back(group);
      found = groups.end() - 1;
    }
    family_group[f] = static_cast<int32_t>(found - groups.begin());
  }
}

}  // namespace ftwin::fab
