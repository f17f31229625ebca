// Rule-based energy management baseline ("energy_manager"): runs the site alone. Reads the
// site's uncontrolled net load, the battery SoC, the price and the tank pressure (delayed
// connections: last tick's values) and sets the battery, electrolyzer and CHP setpoints.
// An external controller overrides any channel through the input fields override_* (value
// >= 0 for electrolyzer/CHP; NaN is not used so the numeric check stays meaningful) with the
// matching manual flag; the plants' own protection (BMS, tank, CHP modes) always stays in force.
#include <algorithm>
#include <cmath>

#include "plants/energy/energy_common.h"

namespace ftwin::energy {
namespace {

struct EmsConfig {
  double battery_max_W = 1e6, electrolyzer_max_W = 1e6, electrolyzer_min_W = 0.0, chp_max_W = 0.0;
  double chp_threshold_W = 0.0;
  double soc_low = 0.2, soc_high = 0.9, soc_target = 0.6;
  double price_low = 0.1, price_high = 0.25;
  double grid_import_target_W = 1e30;  // peak shaving: discharge above this import
  double tank_max_bar = 300.0;
  double turbine_max_W = 0.0;
  double turbine_price =
      0.0;  // run the turbine above its minimum load when the grid price is at least this
};

class EmsBlock final : public Block {
 public:
  EmsBlock(std::string name, EmsConfig c) : Block(std::move(name)), c_(c) {}
  std::string type_name() const override { return "energy_manager"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    in_net_ = d.AddInput({.name = "net_W",
                          .unit = "W",
                          .doc = "uncontrolled net site load (+ import need)",
                          .delayed = true});
    in_soc_ = d.AddInput({.name = "battery_soc", .unit = "1", .delayed = true});
    in_price_ = d.AddInput({.name = "price_per_kWh", .unit = "1/kWh", .delayed = true});
    in_tank_ = d.AddInput({.name = "tank_bar", .unit = "bar", .delayed = true});
    if (c_.turbine_max_W > 0.0)
      in_gt_ = d.AddInput({.name = "turbine_power_W",
                           .unit = "W",
                           .doc = "the turbine's bus power (last tick)",
                           .delayed = true});
    if (c_.chp_max_W > 0.0)
      in_chp_ = d.AddInput({.name = "chp_power_W",
                            .unit = "W",
                            .doc = "the CHP's bus power (last tick)",
                            .delayed = true});
    out_batt_ =
        d.AddOutput({.name = "battery_W", .unit = "W", .doc = "battery request (+ charge)"});
    out_ely_ = d.AddOutput({.name = "electrolyzer_W", .unit = "W"});
    out_chp_ = d.AddOutput({.name = "chp_W", .unit = "W"});
    out_gt_ = d.AddOutput({.name = "turbine_W", .unit = "W"});
    manual_ =
        d.AddState({.name = "manual",
                    .shape = {3},
                    .unit = "1",
                    .kind = FieldKind::kInput,
                    .doc = "per channel (battery, electrolyzer, chp, turbine): 1 = use override",
                    .lower = 0,
                    .upper = 1});
    override_ = d.AddState({.name = "override_W",
                            .shape = {3},
                            .unit = "W",
                            .kind = FieldKind::kInput,
                            .doc = "setpoints used where manual = 1",
                            .lower = -1e10,
                            .upper = 1e10});
  }
  void Update(const TickInfo&, BlockIo& io) const override {
    const double net = *io.In(in_net_), soc = *io.In(in_soc_), price = *io.In(in_price_);
    const bool tank_full = *io.In(in_tank_) >= c_.tank_max_bar;
    double battery = 0.0, ely = 0.0, chp = 0.0, gt = 0.0;
    // Gas turbine: covers the deficit when the grid price is above its dispatch price; the
    // other rules then act on what is left.
    // `net` includes what the turbine and CHP delivered last tick; the demand they should cover
    // is the net without them.
    const double gt_now = in_gt_ >= 0 ? *io.In(in_gt_) : 0.0;
    const double chp_now = in_chp_ >= 0 ? *io.In(in_chp_) : 0.0;
    const double base = net - gt_now - chp_now;
    if (c_.turbine_max_W > 0.0 && price >= c_.turbine_price && base > 0.0)
      gt = std::min(base, c_.turbine_max_W);
    // CHP with hysteresis: starts above the threshold, keeps running down to half of it (a
    // start costs a warm-up; chp_now < 0 means it is generating).
    const double chp_need = base - gt;
    const double chp_on_level = chp_now < 0.0 ? 0.5 * c_.chp_threshold_W : c_.chp_threshold_W;
    if (c_.chp_max_W > 0.0 && chp_need > chp_on_level) chp = std::min(chp_need, c_.chp_max_W);
    // Battery and electrolyzer act on the real net (turbine at minimum load included).
    const double net_left = net;
    if (net_left < 0.0) {  // surplus: hydrogen first, then the battery
      const double surplus = -net_left;
      if (!tank_full && surplus >= c_.electrolyzer_min_W)
        ely = std::min(surplus, c_.electrolyzer_max_W);
      if (soc < c_.soc_high) battery = std::min(surplus - ely, c_.battery_max_W);
    } else {
      const double rest = net_left;
      const double shave = rest - c_.grid_import_target_W;
      if (soc > c_.soc_low && (price >= c_.price_high || shave > 0.0))
        battery = -std::min(price >= c_.price_high ? rest : shave, c_.battery_max_W);
      else if (price <= c_.price_low && soc < c_.soc_target)
        battery = c_.battery_max_W;  // cheap energy: charge towards the target
    }
    const double* manual = io.Field(manual_);
    const double* over = io.Field(override_);
    *io.Out(out_batt_) = manual[0] > 0.5 ? over[0] : battery;
    *io.Out(out_ely_) = manual[1] > 0.5 ? std::max(0.0, over[1]) : ely;
    *io.Out(out_chp_) = manual[2] > 0.5 ? std::max(0.0, over[2]) : chp;
    *io.Out(out_gt_) = manual[3] > 0.5 ? std::max(0.0, over[3]) : gt;
  }

 private:
  EmsConfig c_;
  int in_gt_ = -1, in_chp_ = -1, in_net_ = -1, in_soc_ = -1, in_price_ = -1, in_tank_ = -1,
      out_batt_ = -1, out_ely_ = -1, out_chp_ = -1, out_gt_ = -1;
  FieldId manual_ = kInvalidField, override_ = kInvalidField;
};

}  // namespace

std::unique_ptr<Block> MakeEms(const std::string& name, ParamReader& params) {
  EmsConfig c;
  c.battery_max_W = params.Number("battery_max_W", 1e6, NumberRange::NonNegative("W"));
  c.electrolyzer_max_W = params.Number("electrolyzer_max_W", 0.0, NumberRange::NonNegative("W"));
  c.electrolyzer_min_W = params.Number("electrolyzer_min_W", 0.0, NumberRange::NonNegative("W"));
  c.chp_max_W = params.Number("chp_max_W", 0.0, NumberRange::NonNegative("W"));
  c.chp_threshold_W = params.Number("chp_threshold_W", 0.0, NumberRange::NonNegative("W"));
  c.soc_low = params.Number("soc_low", 0.2, NumberRange::Fraction());
  c.soc_high = params.Number("soc_high", 0.9, NumberRange::Fraction());
  c.soc_target = params.Number("soc_target", 0.6, NumberRange::Fraction());
  c.price_low = params.Number("price_low_per_kWh", 0.1, NumberRange::Any("1/kWh"));
  c.price_high = params.Number("price_high_per_kWh", 0.25, NumberRange::Any("1/kWh"));
  c.grid_import_target_W =
      params.Number("grid_import_target_W", 1e30, NumberRange::NonNegative("W"));
  c.tank_max_bar = params.Number("tank_max_bar", 300.0, NumberRange::Positive("bar"));
  c.turbine_max_W = params.Number("turbine_max_W", 0.0, NumberRange::NonNegative("W"));
  c.turbine_price = params.Number("turbine_dispatch_price_per_kWh", 0.0, NumberRange::Any("1/kWh"));
  if (c.soc_low >= c.soc_high)
    params.Error("soc_high", std::to_string(c.soc_high), "expected soc_high > soc_low");
  return std::make_unique<EmsBlock>(name, c);
}

}  // namespace ftwin::energy
