// Site power bus: sums every consumer/producer's `power_W` (+ consumption, - generation),
// exchanges the rest with the grid within its limits, or, islanded, lets the mismatch drive
// the aggregated swing equation with governor droop (swing_math.h) and under-frequency load
// shedding. Keeps the site energy balance (docs/energy.md, "Energy balance").
#include <algorithm>
#include <cmath>

#include "plants/energy/energy_common.h"
#include "plants/energy/plant_slots.h"
#include "plants/energy/swing_math.h"

namespace ftwin::energy {
namespace {

using enum SiteBusStep::Total;

struct Stage {
  double below_Hz;
  double fraction;
};

class SiteBus final : public Block {
 public:
  struct Config {
    std::vector<std::string> loads;
    std::vector<uint8_t> renewable, controllable, sheddable;
    double import_limit_W = 1e30, export_limit_W = 1e30;
    Signal price, export_price, co2;
    double peak_price = -1.0, peak_from_h = 7.0, peak_to_h = 22.0;
    SwingParams swing;
    double nominal_Hz = 50.0, band_Hz = 0.2, restore_Hz = 49.9, restore_delay_s = 60.0;
    std::vector<Stage> stages;
    double over_start_Hz = 50.2, over_droop_per_Hz = 0.4;  // renewable P(f) curtailment
    bool islanded = false;
  };
  SiteBus(std::string name, Config config) : Block(std::move(name)), c_(std::move(config)) {
    // MakeSiteBus admits at most kPlantMaxIn loads and kSiteMaxStages stages.
    step_.num_loads = static_cast<int>(c_.loads.size());
    for (size_t k = 0; k < c_.loads.size(); ++k) {
      step_.renewable[k] = c_.renewable[k];
      step_.controllable[k] = c_.controllable[k];
      step_.sheddable[k] = c_.sheddable[k];
    }
    step_.import_limit_W = c_.import_limit_W;
    step_.export_limit_W = c_.export_limit_W;
    step_.price = c_.price.View();
    step_.export_price = c_.export_price.View();
    step_.co2 = c_.co2.View();
    step_.peak_price = c_.peak_price;
    step_.peak_from_h = c_.peak_from_h;
    step_.peak_to_h = c_.peak_to_h;
    step_.swing = c_.swing;
    step_.nominal_Hz = c_.nominal_Hz;
    step_.band_Hz = c_.band_Hz;
    step_.restore_Hz = c_.restore_Hz;
    step_.restore_delay_s = c_.restore_delay_s;
    step_.num_stages = static_cast<int>(c_.stages.size());
    for (size_t i = 0; i < c_.stages.size(); ++i) {
      step_.stage_below_Hz[i] = c_.stages[i].below_Hz;
      step_.stage_fraction[i] = c_.stages[i].fraction;
    }
    step_.over_start_Hz = c_.over_start_Hz;
    step_.over_droop_per_Hz = c_.over_droop_per_Hz;
  }
  std::string type_name() const override { return "site_bus"; }

  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    for (const std::string& load : c_.loads)
      in_.push_back(d.AddInput({.name = load + "_W",
                                .unit = "W",
                                .doc = "power drawn by '" + load + "' (+ consumption)"}));
    out_grid_ = d.AddOutput({.name = "grid_W", .unit = "W", .doc = "grid import (+) / export (-)"});
    out_freq_ =
        d.AddOutput({.name = "frequency_Hz", .unit = "Hz"}, FieldKind::kOutput, 0.0, 1000.0);
    out_net_ = d.AddOutput({.name = "net_W", .unit = "W", .doc = "sum of all loads"});
    out_net_unc_ = d.AddOutput({.name = "net_uncontrolled_W",
                                .unit = "W",
                                .doc = "sum of the loads not listed as controllable"});
    out_unmet_ = d.AddOutput({.name = "unmet_W", .unit = "W"});
    out_shed_ = d.AddOutput({.name = "shed_fraction",
                             .unit = "1",
                             .doc = "fraction of sheddable load disconnected by UFLS"});
    out_price_ = d.AddOutput({.name = "price_per_kWh", .unit = "1/kWh"});
    out_co2_ = d.AddOutput({.name = "co2_kg_per_kWh", .unit = "kg/kWh"});
    swing_ = d.AddState({.name = "swing",
                         .shape = {kSwingSlots},
                         .unit = "mixed",
                         .kind = FieldKind::kContinuous,
                         .doc = "dω [pu], P_gov [W], energies [J]"});
    breaker_ = d.AddState({.name = "breaker_closed",
                           .unit = "1",
                           .kind = FieldKind::kInput,
                           .doc = "grid breaker (0 = islanded)",
                           .lower = 0,
                           .upper = 1});
    outage_ = d.AddState({.name = "grid_outage", .unit = "1", .kind = FieldKind::kDiscrete});
    totals_ = d.AddState(
        {.name = "totals", .shape = {kNumTotals}, .unit = "mixed", .kind = FieldKind::kDiscrete});
    d.AddFault({.name = "grid_outage", .doc = "the grid is lost: the site runs islanded"});
    for (const char* k : {"energy_cost", "co2_kg", "unmet_load_kWh", "renewable_share",
                          "grid_import_kWh", "grid_export_kWh", "consumption_kWh", "generation_kWh",
                          "curtailed_kWh", "frequency_nadir_Hz", "frequency_max_Hz",
                          "time_outside_band_s", "balance_residual_J", "balance_relative"}) {
      const std::string n = k;
      std::string unit = "1";
      if (n.ends_with("kWh")) unit = "kWh";
      if (n.ends_with("Hz")) unit = "Hz";
      if (n.ends_with("_s")) unit = "s";
      if (n.ends_with("_J")) unit = "J";
      if (n == "co2_kg") unit = "kg";
      d.AddKpi({.name = n, .unit = unit});
    }
    slots_.Reset(static_cast<int>(in_.size()), SiteBusStep::kNumOut);
    for (size_t k = 0; k < in_.size(); ++k) slots_.SetInput(static_cast<int>(k), in_[k]);
    const int ports[] = {out_grid_,  out_freq_, out_net_,   out_net_unc_,
                         out_unmet_, out_shed_, out_price_, out_co2_};
    for (int i = 0; i < 8; ++i) slots_.SetOutput(SiteBusStep::kGrid + i, ports[i]);
    slots_.SetField(SiteBusStep::kSwing, swing_);
    slots_.SetField(SiteBusStep::kBreaker, breaker_);
    slots_.SetField(SiteBusStep::kOutage, outage_);
    slots_.SetField(SiteBusStep::kTotals, totals_);
  }

  void InitWorld(const TickInfo&, BlockIo& io) const override {
    *io.Field(breaker_) = c_.islanded ? 0.0 : 1.0;
    double* t = io.Field(totals_);
    t[kNadirHz] = t[kMaxHz] = c_.nominal_Hz;
    *io.Out(out_freq_) = c_.nominal_Hz;
  }

  void Update(const TickInfo& tick, BlockIo& io) const override {
    RunPlantStep<SiteBusStep>(step_, slots_, tick, io);
  }
  bool SupportsCuda() const override { return true; }
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor& executor) const override {
    auto data = std::make_unique<PlantDeviceData<SiteBusParams>>();
    data->params = step_;
    data->params.price = data->Upload(executor, step_.price);
    data->params.export_price = data->Upload(executor, step_.export_price);
    data->params.co2 = data->Upload(executor, step_.co2);
    return data;
  }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override {
    RunPlantOnDevice<SiteBusStep>(data, slots_, tick, state, binding);
  }

  void ApplyFault(const TickInfo&, BlockIo& io, int, std::span<const double>,
                  bool active) const override {
    *io.Field(outage_) = active ? 1.0 : 0.0;
  }

  /// consumption - generation = import - export + unmet - curtailed + E_gov - E_damp - ΔE_kin.
  static double Residual(const double* t) {
    return (t[kConsumptionJ] - t[kGenerationJ]) -
           (t[kImportJ] - t[kExportJ] + t[kUnmetJ] - t[kCurtailedJ] + t[kGovernorJ] - t[kDampingJ] -
            t[kKineticJ]);
  }

  void ComputeKpis(const TickInfo&, const BlockIo& io, std::span<double> k) const override {
    const double* t = io.Field(totals_);
    k[0] = t[kCostCurrency];
    k[1] = t[kCo2Kg];
    k[2] = t[kUnmetJ] / 3.6e6;
    const double used_renewable = std::max(0.0, t[kRenewableJ] - t[kCurtailedJ]);
    k[3] = t[kConsumptionJ] > 0.0 ? std::min(1.0, used_renewable / t[kConsumptionJ]) : 0.0;
    k[4] = t[kImportJ] / 3.6e6;
    k[5] = t[kExportJ] / 3.6e6;
    k[6] = t[kConsumptionJ] / 3.6e6;
    k[7] = t[kGenerationJ] / 3.6e6;
    k[8] = t[kCurtailedJ] / 3.6e6;
    k[9] = t[kNadirHz];
    k[10] = t[kMaxHz];
    k[11] = t[kOutsideBandS];
    k[12] = Residual(t);
    k[13] = t[kConsumptionJ] > 0.0 ? std::fabs(k[12]) / t[kConsumptionJ] : 0.0;
  }

  Config c_;
  SiteBusParams step_;  ///< series viewed over the Signals of c_
  PlantSlots slots_;
  std::vector<int> in_;
  int out_grid_ = -1, out_freq_ = -1, out_net_ = -1, out_net_unc_ = -1, out_unmet_ = -1,
      out_shed_ = -1, out_price_ = -1, out_co2_ = -1;
  FieldId swing_ = kInvalidField, breaker_ = kInvalidField, outage_ = kInvalidField,
          totals_ = kInvalidField;
};

std::vector<std::string> NameList(ParamReader& params, const std::string& key, bool required) {
  std::vector<std::string> out;
  const YAML::Node node = params.Raw(key);
  if (!node.IsDefined() || node.IsNull()) {
    if (required) params.Error(key, "", "expected a list of names");
    return out;
  }
  if (!node.IsSequence()) {
    params.Error(key, NodeText(node), "expected a list of names");
    return out;
  }
  for (const auto& item : node) {
    if (!item.IsScalar() || item.Scalar().empty())
      params.diagnostics()->Add(NodeLocation(item, params.file()), params.path() + "." + key,
                                NodeText(item), "expected a name");
    else
      out.push_back(item.Scalar());
  }
  return out;
}

}  // namespace

std::unique_ptr<Block> MakeSiteBus(const std::string& name, ParamReader& params) {
  SiteBus::Config c;
  c.loads = NameList(params, "loads", true);
  if (c.loads.size() > static_cast<size_t>(kPlantMaxIn)) {
    params.Error("loads", std::to_string(c.loads.size()) + " names",
                 "expected at most " + std::to_string(kPlantMaxIn) + " loads");
    c.loads.resize(static_cast<size_t>(kPlantMaxIn));
  }
  auto flags = [&](const std::string& key) {
    std::vector<uint8_t> f(c.loads.size(), 0);
    for (const std::string& n : NameList(params, key, false)) {
      const auto it = std::find(c.loads.begin(), c.loads.end(), n);
      if (it == c.loads.end())
        params.Error(key, n, "expected a name listed in 'loads'");
      else
        f[static_cast<size_t>(it - c.loads.begin())] = 1;
    }
    return f;
  };
  c.renewable = flags("renewables");
  c.controllable = flags("controllable");
  c.sheddable = flags("sheddable");
  if (std::find(c.sheddable.begin(), c.sheddable.end(), 1) == c.sheddable.end())
    for (auto& f : c.sheddable) f = 1;  // no list: every consumer may be shed
  for (size_t i = 0; i < c.loads.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (c.loads[i] == c.loads[j]) params.Error("loads", c.loads[i], "expected unique names");
  ParamReader grid = params.Child("grid");
  c.import_limit_W = grid.Number("import_limit_W", 1e30, NumberRange::NonNegative("W"));
  c.export_limit_W = grid.Number("export_limit_W", 1e30, NumberRange::NonNegative("W"));
  ReadSignal(grid, "price_per_kWh", 0.15, NumberRange::Any("1/kWh"), &c.price);
  ReadSignal(grid, "export_price_per_kWh", 0.05, NumberRange::Any("1/kWh"), &c.export_price);
  ReadSignal(grid, "co2_kg_per_kWh", 0.4, NumberRange::NonNegative("kg/kWh"), &c.co2);
  if (grid.Has("peak_price_per_kWh")) {
    c.peak_price = grid.Number("peak_price_per_kWh", 0.3, NumberRange::NonNegative("1/kWh"));
    c.peak_from_h = grid.Number("peak_from_h", 7.0, NumberRange::Between(0, 24, "h"));
    c.peak_to_h = grid.Number("peak_to_h", 22.0, NumberRange::Between(0, 24, "h"));
  }
  grid.Finish();
  ParamReader island = params.Child("island");
  c.islanded = island.Bool("start_islanded", false);
  c.nominal_Hz = island.Number("nominal_Hz", 50.0, NumberRange::Positive("Hz"));
  c.swing.base_W = island.Number("base_W", 1e6, NumberRange::Positive("W"));
  c.swing.inertia_s = island.Number("inertia_s", 5.0, NumberRange::Positive("s"));
  c.swing.damping = island.Number("damping", 1.0, NumberRange::NonNegative("1"));
  c.swing.droop = island.Number("droop", 0.05, NumberRange::Positive("1"));
  c.swing.governor_base_W =
      island.Number("governor_base_W", c.swing.base_W, NumberRange::NonNegative("W"));
  c.swing.governor_tau_s = island.Number("governor_tau_s", 0.5, NumberRange::NonNegative("s"));
  c.swing.reserve_up_W = island.Number("reserve_up_W", 1e30, NumberRange::NonNegative("W"));
  c.swing.reserve_down_W = island.Number("reserve_down_W", 1e30, NumberRange::NonNegative("W"));
  island.Finish();
  ParamReader prot = params.Child("protection");
  c.band_Hz = prot.Number("band_Hz", 0.2, NumberRange::Positive("Hz"));
  c.restore_Hz = prot.Number("restore_above_Hz", c.nominal_Hz - 0.1, NumberRange::Positive("Hz"));
  c.over_start_Hz =
      prot.Number("over_frequency_start_Hz", c.nominal_Hz + 0.2, NumberRange::Positive("Hz"));
  c.over_droop_per_Hz =
      prot.Number("over_frequency_curtail_per_Hz", 0.4, NumberRange::NonNegative("1/Hz"));
  c.restore_delay_s = prot.Number("restore_delay_s", 60.0, NumberRange::NonNegative("s"));
  for (ParamReader& stage : prot.ChildList("shed_stages")) {
    Stage s{};
    s.below_Hz = stage.RequiredNumber("below_Hz", NumberRange::Positive("Hz"));
    s.fraction = stage.RequiredNumber("fraction", NumberRange::Fraction());
    stage.Finish();
    c.stages.push_back(s);
  }
  if (c.stages.size() > static_cast<size_t>(kSiteMaxStages))
    prot.Error("shed_stages", std::to_string(c.stages.size()) + " stages",
               "expected at most " + std::to_string(kSiteMaxStages) + " stages");
  prot.Finish();
  if (c.loads.empty() || c.stages.size() > static_cast<size_t>(kSiteMaxStages)) return nullptr;
  return std::make_unique<SiteBus>(name, std::move(c));
}

}  // namespace ftwin::energy
