// Micro-CHP block (chp_math.h): Annex 42 operating modes (stand-by, warm-up by time delay,
// normal, cool-down) around the two-node engine / heat-recovery thermal model.
// Scenario type "micro_chp"; `parameters_file` reads the Modelica-record fact file format of
// ../shared/data/chp/microchp_validation3_parameters.yaml (a list of {name, value}).
#include <algorithm>
#include <cmath>

#include "plants/energy/chp_math.h"
#include "plants/energy/energy_common.h"
#include "plants/energy/plant_slots.h"

namespace ftwin::energy {
namespace {

using enum ChpStep::Total;

class MicroChpBlock final : public Block {
 public:
  MicroChpBlock(std::string name, ChpParams p, bool demand_port, Signal demand, Signal flow,
                Signal water_in, Signal room, double engine0_K, bool cool_down_optional)
      : Block(std::move(name)),
        p_(p),
        demand_port_(demand_port),
        demand_(std::move(demand)),
        flow_(std::move(flow)),
        water_in_(std::move(water_in)),
        room_(std::move(room)),
        engine0_K_(engine0_K),
        cool_down_optional_(cool_down_optional) {
    step_ = {p_,
             demand_port_ ? 1 : 0,
             cool_down_optional_ ? 1 : 0,
             demand_.View(),
             flow_.View(),
             water_in_.View(),
             room_.View()};
  }
  std::string type_name() const override { return "micro_chp"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    if (demand_port_)
      in_demand_ = d.AddInput({.name = "demand_W", .unit = "W", .doc = "electric power demand"});
    out_power_ = d.AddOutput({.name = "power_W", .unit = "W", .doc = "bus power (- = generating)"});
    out_electric_ = d.AddOutput({.name = "electric_W", .unit = "W", .doc = "net electric output"});
    out_heat_ = d.AddOutput({.name = "heat_W", .unit = "W", .doc = "heat to the cooling water"});
    out_fuel_ = d.AddOutput({.name = "fuel_W", .unit = "W", .doc = "fuel heat input (LHV)"});
    out_water_ = d.AddOutput({.name = "water_out_K", .unit = "K"});
    out_engine_ = d.AddOutput({.name = "engine_K", .unit = "K"});
    out_mode_ = d.AddOutput({.name = "mode",
                             .unit = "1",
                             .doc = "0 off, 1 stand-by, 2 warm-up, 3 normal, 4 cool-down"});
    state_ = d.AddState(
        {.name = "x", .shape = {kChpSlots}, .unit = "mixed", .kind = FieldKind::kContinuous});
    totals_ = d.AddState(
        {.name = "totals", .shape = {kNumTotals}, .unit = "mixed", .kind = FieldKind::kDiscrete});
    tripped_ = d.AddState({.name = "tripped", .unit = "1", .kind = FieldKind::kDiscrete});
    d.AddFault({.name = "trip", .doc = "protection trip: the unit cools down and stays off"});
    d.AddKpi({.name = "electric_kWh", .unit = "kWh"});
    d.AddKpi({.name = "heat_kWh", .unit = "kWh", .doc = "heat delivered to the cooling water"});
    d.AddKpi({.name = "fuel_kWh", .unit = "kWh"});
    d.AddKpi({.name = "electrical_efficiency", .unit = "1"});
    d.AddKpi({.name = "thermal_efficiency", .unit = "1"});
    d.AddKpi({.name = "fuel_kg", .unit = "kg"});
    d.AddKpi({.name = "starts", .unit = "1"});
    d.AddKpi({.name = "co2_kg", .unit = "kg", .doc = "fuel kWh x co2_kg_per_kWh_fuel"});
    slots_.Reset(ChpStep::kNumIn, ChpStep::kNumOut);
    if (demand_port_) slots_.SetInput(ChpStep::kDemand, in_demand_);
    const int ports[] = {out_power_, out_electric_, out_heat_, out_fuel_,
                         out_water_, out_engine_,   out_mode_};
    for (int i = 0; i < 7; ++i) slots_.SetOutput(ChpStep::kPower + i, ports[i]);
    slots_.SetField(ChpStep::kState, state_);
    slots_.SetField(ChpStep::kTotals, totals_);
    slots_.SetField(ChpStep::kTripped, tripped_);
  }
  void InitWorld(const TickInfo& tick, BlockIo& io) const override {
    double* x = io.Field(state_);
    x[kChpEngine] = engine0_K_;
    x[kChpWater] = engine0_K_;
    io.Field(totals_)[kPrevMode] = static_cast<double>(ChpMode::kStandby);
    *io.Out(out_mode_) = static_cast<double>(ChpMode::kStandby);
    *io.Out(out_engine_) = engine0_K_;
    *io.Out(out_water_) = water_in_.At(tick.time_s);
  }
  void Update(const TickInfo& tick, BlockIo& io) const override {
    RunPlantStep<ChpStep>(step_, slots_, tick, io);
  }
  bool SupportsCuda() const override { return true; }
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor& executor) const override {
    auto data = std::make_unique<PlantDeviceData<ChpStepParams>>();
    data->params = step_;
    data->params.demand = data->Upload(executor, step_.demand);
    data->params.flow = data->Upload(executor, step_.flow);
    data->params.water_in = data->Upload(executor, step_.water_in);
    data->params.room = data->Upload(executor, step_.room);
    return data;
  }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override {
    RunPlantOnDevice<ChpStep>(data, slots_, tick, state, binding);
  }
  void ApplyFault(const TickInfo&, BlockIo& io, int, std::span<const double>,
                  bool active) const override {
    *io.Field(tripped_) = active ? 1.0 : 0.0;
  }
  void ComputeKpis(const TickInfo&, const BlockIo& io, std::span<double> k) const override {
    const double* t = io.Field(totals_);
    k[0] = t[kElectricJ] / 3.6e6;
    k[1] = t[kHeatJ] / 3.6e6;
    k[2] = t[kFuelJ] / 3.6e6;
    k[3] = t[kFuelJ] > 0.0 ? t[kElectricJ] / t[kFuelJ] : 0.0;
    k[4] = t[kFuelJ] > 0.0 ? t[kHeatJ] / t[kFuelJ] : 0.0;
    k[5] = t[kFuelJ] / p_.fuel_lhv_J_per_kg;
    k[6] = t[kStarts];
    k[7] = t[kFuelJ] / 3.6e6 * co2_;
  }

 public:
  double co2_ = 0.202;

 private:
  ChpParams p_;
  bool demand_port_;
  Signal demand_, flow_, water_in_, room_;
  double engine0_K_;
  bool cool_down_optional_;
  ChpStepParams step_;  ///< series viewed over the Signals above
  PlantSlots slots_;
  int in_demand_ = -1, out_power_ = -1, out_electric_ = -1, out_heat_ = -1, out_fuel_ = -1,
      out_water_ = -1, out_engine_ = -1, out_mode_ = -1;
  FieldId state_ = kInvalidField, totals_ = kInvalidField, tripped_ = kInvalidField;
};

}  // namespace

std::unique_ptr<Block> MakeMicroChp(const std::string& name, ParamReader& params) {
  ChpParams p;
  bool cool_down_optional = true;
  // Defaults from a parameter fact file, then keys in the scenario override them.
  if (params.Has("parameters_file")) {
    const std::filesystem::path file = params.ExistingFile("parameters_file");
    if (!file.empty()) {
      try {
        const YAML::Node root = YAML::LoadFile(file.string());
        for (const char* section : {"parameters", "inherited_defaults"}) {
          for (const auto& item : root[section]) {
            const std::string n = item["name"].as<std::string>("");
            const YAML::Node v = item["value"];
            auto num = [&]() { return v.as<double>(); };
            if (n == "coeEtaE" || n == "coeEtaQ") {
              if (!v.IsSequence() || v.size() != 27) {
                params.diagnostics()->Add(NodeLocation(v, file.string()), n, NodeText(v),
                                          "expected 27 polynomial coefficients");
                continue;
              }
              for (size_t k = 0; k < 27; ++k)
                (n == "coeEtaE" ? p.eta_e : p.eta_q)[k] = v[k].as<double>();
            } else if (n == "UAHex")
              p.ua_hex_W_per_K = num();
            else if (n == "UALos")
              p.ua_loss_W_per_K = num();
            else if (n == "capEng")
              p.cap_engine_J_per_K = num();
            else if (n == "capHeaRec")
              p.cap_recovery_J_per_K = num();
            else if (n == "timeDelayStart")
              p.warmup_delay_s = num();
            else if (n == "timeDelayCool")
              p.cooldown_delay_s = num();
            else if (n == "PEleMax")
              p.p_max_W = num();
            else if (n == "PEleMin")
              p.p_min_W = num();
            else if (n == "mWatMin_flow")
              p.min_water_flow_kg_per_s = num();
            else if (n == "TWatMax")
              p.water_max_K = num();
            else if (n == "PStaBy")
              p.standby_W = num();
            else if (n == "PCooDow")
              p.cooldown_W = num();
            else if (n == "LHVFue")
              p.fuel_lhv_J_per_kg = num();
            else if (n == "coolDownOptional")
              cool_down_optional = v.as<bool>();
          }
        }
      } catch (const YAML::Exception& e) {
        params.Error("parameters_file", file.string(),
                     std::string("expected a readable parameter file: ") + e.what());
      }
    }
  }
  p.ua_hex_W_per_K =
      params.Number("ua_hex_W_per_K", p.ua_hex_W_per_K, NumberRange::Positive("W/K"));
  p.ua_loss_W_per_K =
      params.Number("ua_loss_W_per_K", p.ua_loss_W_per_K, NumberRange::NonNegative("W/K"));
  p.cap_engine_J_per_K =
      params.Number("engine_capacity_J_per_K", p.cap_engine_J_per_K, NumberRange::Positive("J/K"));
  p.cap_recovery_J_per_K = params.Number("recovery_capacity_J_per_K", p.cap_recovery_J_per_K,
                                         NumberRange::Positive("J/K"));
  p.p_max_W = params.Number("p_max_W", p.p_max_W, NumberRange::Positive("W"));
  p.standby_W = params.Number("standby_W", p.standby_W, NumberRange::NonNegative("W"));
  p.cooldown_W = params.Number("cooldown_W", p.cooldown_W, NumberRange::NonNegative("W"));
  if (params.Has("electrical_efficiency")) {
    std::fill(p.eta_e, p.eta_e + 27, 0.0);
    p.eta_e[0] = params.Number("electrical_efficiency", 0.27, {0.0, 1.0, true, "1"});
  }
  if (params.Has("thermal_efficiency")) {
    std::fill(p.eta_q, p.eta_q + 27, 0.0);
    p.eta_q[0] = params.Number("thermal_efficiency", 0.66, {0.0, 1.0, true, "1"});
  }
  if (p.eta_e[0] > 1.0 || p.eta_q[0] > 1.0 || p.eta_e[0] + p.eta_q[0] > 1.0)
    params.Error(params.Has("thermal_efficiency") ? "thermal_efficiency" : "parameters_file",
                 std::to_string(p.eta_e[0]) + " + " + std::to_string(p.eta_q[0]),
                 "expected electrical + thermal efficiency <= 1 (energy conservation)");
  const bool port = !params.Has("demand_W");
  Signal demand, flow, water_in, room;
  bool ok = true;
  if (!port) ok = ReadSignal(params, "demand_W", 0.0, NumberRange::NonNegative("W"), &demand) && ok;
  ok =
      ReadSignal(params, "water_flow_kg_per_s", 0.4, NumberRange::NonNegative("kg/s"), &flow) && ok;
  ok = ReadSignal(params, "water_in_K", 333.15, NumberRange::Between(250, 400, "K"), &water_in) &&
       ok;
  ok = ReadSignal(params, "room_K", 293.15, NumberRange::Between(250, 350, "K"), &room) && ok;
  const double engine0 = params.Number("initial_engine_K", 342.70, NumberRange::Positive("K"));
  const double co2 =
      params.Number("co2_kg_per_kWh_fuel", 0.202, NumberRange::NonNegative("kg/kWh"));
  if (!ok) return nullptr;
  auto block = std::make_unique<MicroChpBlock>(name, p, port, std::move(demand), std::move(flow),
                                               std::move(water_in), std::move(room), engine0,
                                               cool_down_optional);
  block->co2_ = co2;
  return block;
}

}  // namespace ftwin::energy
