// PEM electrolyzer block (electrolyzer_math.h): power request -> stack current -> hydrogen by
// Faraday's law, stack temperature, compressor into a tank. Scenario type "pem_electrolyzer".
#include <algorithm>
#include <cmath>

#include "plants/energy/electrolyzer_math.h"
#include "plants/energy/energy_common.h"
#include "plants/energy/plant_slots.h"

namespace ftwin::energy {
namespace {

class ElectrolyzerBlock final : public Block {
 public:
  ElectrolyzerBlock(std::string name, ElectrolyzerParams p, double rated_W, double min_fraction,
                    double ambient_K, double tank0_bar)
      : Block(std::move(name)),
        p_(p),
        rated_W_(rated_W),
        min_fraction_(min_fraction),
        ambient_K_(ambient_K),
        tank0_bar_(tank0_bar),
        step_{p, rated_W, min_fraction, ambient_K} {}
  std::string type_name() const override { return "pem_electrolyzer"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    in_request_ =
        d.AddInput({.name = "power_request_W", .unit = "W", .doc = "requested stack power"});
    out_power_ =
        d.AddOutput({.name = "power_W", .unit = "W", .doc = "stack + compressor power drawn"});
    out_h2_ = d.AddOutput({.name = "h2_kg_per_s", .unit = "kg/s"});
    out_current_ = d.AddOutput({.name = "current_A", .unit = "A"});
    out_voltage_ = d.AddOutput({.name = "cell_voltage_V", .unit = "V"});
    out_tank_ = d.AddOutput({.name = "tank_bar", .unit = "bar"});
    out_temp_ = d.AddOutput({.name = "temp_K", .unit = "K"});
    state_ = d.AddState({.name = "x",
                         .shape = {kElySlots},
                         .unit = "mixed",
                         .kind = FieldKind::kContinuous,
                         .doc = "temp_K, tank mol, produced mol, stack J, compressor J, heat J"});
    manual_ = d.AddState(
        {.name = "manual", .unit = "1", .kind = FieldKind::kInput, .lower = 0, .upper = 1});
    setpoint_ = d.AddState({.name = "setpoint_W",
                            .unit = "W",
                            .kind = FieldKind::kInput,
                            .lower = 0,
                            .upper = rated_W_});
    d.AddKpi({.name = "h2_produced_kg", .unit = "kg"});
    d.AddKpi({.name = "specific_energy_kWh_per_kg",
              .unit = "kWh/kg",
              .doc = "stack + compressor electricity per kg H2"});
    d.AddKpi({.name = "electricity_kWh", .unit = "kWh"});
    d.AddKpi({.name = "final_tank_bar", .unit = "bar"});
    using S = ElectrolyzerBlockStep;
    slots_.Reset(S::kNumIn, S::kNumOut);
    slots_.SetInput(S::kRequest, in_request_);
    const int ports[] = {out_power_, out_h2_, out_current_, out_voltage_, out_tank_, out_temp_};
    for (int i = 0; i < 6; ++i) slots_.SetOutput(S::kPower + i, ports[i]);
    slots_.SetField(S::kState, state_);
    slots_.SetField(S::kManual, manual_);
    slots_.SetField(S::kSetpoint, setpoint_);
  }
  void InitWorld(const TickInfo&, BlockIo& io) const override {
    double* x = io.Field(state_);
    x[kElyTemp] = ambient_K_;
    x[kElyTankMol] = tank0_bar_ * 1e5 * p_.tank_volume_m3 / (kGasConstant * p_.tank_temp_K);
    *io.Out(out_tank_) = tank0_bar_;
    *io.Out(out_temp_) = ambient_K_;
  }
  void Update(const TickInfo& tick, BlockIo& io) const override {
    RunPlantStep<ElectrolyzerBlockStep>(step_, slots_, tick, io);
  }
  bool SupportsCuda() const override { return true; }
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor&) const override {
    auto data = std::make_unique<PlantDeviceData<ElectrolyzerStepParams>>();
    data->params = step_;
    return data;
  }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override {
    RunPlantOnDevice<ElectrolyzerBlockStep>(data, slots_, tick, state, binding);
  }
  void ComputeKpis(const TickInfo&, const BlockIo& io, std::span<double> k) const override {
    const double* x = io.Field(state_);
    const double kg = x[kElyProducedMol] * kH2MolarMass;
    const double kwh = (x[kElyStackJ] + x[kElyCompressorJ]) / 3.6e6;
    k[0] = kg;
    k[1] = kg > 0.0 ? kwh / kg : 0.0;
    k[2] = kwh;
    k[3] = TankPressureBar(p_, x[kElyTankMol]);
  }

 private:
  ElectrolyzerParams p_;
  double rated_W_, min_fraction_, ambient_K_, tank0_bar_;
  ElectrolyzerStepParams step_;
  PlantSlots slots_;
  int in_request_ = -1, out_power_ = -1, out_h2_ = -1, out_current_ = -1, out_voltage_ = -1,
      out_tank_ = -1, out_temp_ = -1;
  FieldId state_ = kInvalidField, manual_ = kInvalidField, setpoint_ = kInvalidField;
};

}  // namespace

std::unique_ptr<Block> MakeElectrolyzer(const std::string& name, ParamReader& params) {
  ElectrolyzerParams p;
  p.cells = static_cast<int>(params.Integer("cells", 100, 1, 100000));
  p.area_m2 = params.Number("cell_area_m2", 0.03, NumberRange::Positive("m2"));
  p.exchange_current_A_per_m2 =
      params.Number("exchange_current_A_per_m2", 0.01, NumberRange::Positive("A/m2"));
  p.transfer_coefficient = params.Number("transfer_coefficient", 0.5, {0.0, 1.0, true, "1"});
  p.area_resistance_ohm_m2 =
      params.Number("area_resistance_ohm_m2", 1.5e-5, NumberRange::Positive("ohm m2"));
  p.limiting_current_A_per_m2 =
      params.Number("limiting_current_A_per_m2", 2.5e4, NumberRange::Positive("A/m2"));
  p.faraday_efficiency = params.Number("faraday_efficiency", 0.99, {0.0, 1.0, true, "1"});
  p.p_h2_bar = params.Number("outlet_pressure_bar", 30.0, NumberRange::Positive("bar"));
  p.heat_capacity_J_per_K =
      params.Number("heat_capacity_J_per_K", 2e5, NumberRange::Positive("J/K"));
  p.cooling_W_per_K = params.Number("cooling_W_per_K", 50.0, NumberRange::NonNegative("W/K"));
  p.operating_temp_K = params.Number("operating_temp_K", 333.15, NumberRange::Positive("K"));
  p.cooler_gain_W_per_K =
      params.Number("cooler_gain_W_per_K", 2e4, NumberRange::NonNegative("W/K"));
  p.compressor_efficiency = params.Number("compressor_efficiency", 0.7, {0.0, 1.0, true, "1"});
  p.tank_volume_m3 = params.Number("tank_volume_m3", 10.0, NumberRange::Positive("m3"));
  p.tank_max_bar = params.Number("tank_max_bar", 350.0, NumberRange::Positive("bar"));
  p.demand_mol_per_s =
      params.Number("h2_demand_kg_per_s", 0.0, NumberRange::NonNegative("kg/s")) / kH2MolarMass;
  const double rated = params.RequiredNumber("rated_W", NumberRange::Positive("W"));
  const double min_fraction = params.Number("min_load_fraction", 0.05, NumberRange::Fraction());
  const double ambient = params.Number("ambient_K", 293.15, NumberRange::Positive("K"));
  const double tank0 = params.Number("initial_tank_bar", 30.0, NumberRange::NonNegative("bar"));
  const double max_stack =
      p.cells * ElectrolyzerCellVoltage(p, 0.98 * p.limiting_current_A_per_m2, p.operating_temp_K) *
      0.98 * p.limiting_current_A_per_m2 * p.area_m2;
  if (rated > max_stack)
    params.Error("rated_W", std::to_string(rated),
                 "expected at most the stack's power at 98 % of the limiting current (" +
                     std::to_string(max_stack) + " W)");
  return std::make_unique<ElectrolyzerBlock>(name, p, rated, min_fraction, ambient, tank0);
}

}  // namespace ftwin::energy
