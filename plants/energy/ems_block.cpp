// Rule-based energy management baseline ("energy_manager"): runs the site alone. Reads the
// site's uncontrolled net load, the battery SoC, the price and the tank pressure (delayed
// connections: last tick's values) and sets the battery, electrolyzer and CHP setpoints.
// An external controller overrides any channel through the input fields override_* (value
// >= 0 for electrolyzer/CHP; NaN is not used so the numeric check stays meaningful) with the
// matching manual flag; the plants' own protection (BMS, tank, CHP modes) always stays in force.
#include <algorithm>
#include <cmath>

#include "plants/energy/energy_common.h"
#include "plants/energy/plant_slots.h"

namespace ftwin::energy {
namespace {

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
                    .shape = {EmsStep::kChannels},
                    .unit = "1",
                    .kind = FieldKind::kInput,
                    .doc = "per channel (battery, electrolyzer, chp, turbine): 1 = use override",
                    .lower = 0,
                    .upper = 1});
    override_ = d.AddState({.name = "override_W",
                            .shape = {EmsStep::kChannels},
                            .unit = "W",
                            .kind = FieldKind::kInput,
                            .doc = "setpoints used where manual = 1",
                            .lower = -1e10,
                            .upper = 1e10});
    slots_.Reset(EmsStep::kNumIn, EmsStep::kNumOut);
    const int inputs[] = {in_net_, in_soc_, in_price_, in_tank_, in_gt_, in_chp_};
    for (int i = 0; i < EmsStep::kNumIn; ++i) slots_.SetInput(i, inputs[i]);
    slots_.SetOutput(EmsStep::kBattery, out_batt_);
    slots_.SetOutput(EmsStep::kElectrolyzer, out_ely_);
    slots_.SetOutput(EmsStep::kChp, out_chp_);
    slots_.SetOutput(EmsStep::kTurbine, out_gt_);
    slots_.SetField(EmsStep::kManual, manual_);
    slots_.SetField(EmsStep::kOverride, override_);
  }
  void Update(const TickInfo& tick, BlockIo& io) const override {
    RunPlantStep<EmsStep>(c_, slots_, tick, io);
  }
  bool SupportsCuda() const override { return true; }
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor&) const override {
    auto data = std::make_unique<PlantDeviceData<EmsConfig>>();
    data->params = c_;
    return data;
  }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override {
    RunPlantOnDevice<EmsStep>(data, slots_, tick, state, binding);
  }

 private:
  EmsConfig c_;
  PlantSlots slots_;
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
