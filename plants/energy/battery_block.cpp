// Battery pack block: `series` x `parallel` identical cells (lumped: one cell state stands for
// all), converter, BMS. Scenario type "battery" (docs/energy.md).
#include <algorithm>
#include <cmath>

#include "engine/device_state.h"
#include "plants/energy/battery_kernels.h"
#include "plants/energy/energy_common.h"

namespace ftwin::energy {
namespace {

class BatteryBlock final : public Block {
 public:
  BatteryBlock(std::string name, CellParams cell, BmsLimits limits, int series, int parallel,
               double efficiency, double soc0, double temp0)
      : Block(std::move(name)),
        cell_(cell),
        lim_(limits),
        series_(series),
        parallel_(parallel),
        eta_(efficiency),
        soc0_(soc0),
        temp0_(temp0) {}
  std::string type_name() const override { return "battery"; }

  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    in_request_ = d.AddInput({.name = "power_request_W",
                              .unit = "W",
                              .doc = "requested bus power (+ charge, - discharge)"});
    in_ambient_ = d.AddInput({.name = "ambient_K", .unit = "K", .doc = "ambient temperature"});
    out_power_ = d.AddOutput(
        {.name = "power_W", .unit = "W", .doc = "power drawn from the site bus (+ charging)"});
    out_soc_ = d.AddOutput({.name = "soc", .unit = "1", .doc = "state of charge"});
    out_voltage_ = d.AddOutput({.name = "voltage_V", .unit = "V", .doc = "pack terminal voltage"});
    out_current_ =
        d.AddOutput({.name = "current_A", .unit = "A", .doc = "pack current (+ discharge)"});
    out_temp_ = d.AddOutput({.name = "temp_K", .unit = "K", .doc = "cell temperature"});
    cell_state_ =
        d.AddState({.name = "cell",
                    .shape = {kCellSlots},
                    .unit = "mixed",
                    .kind = FieldKind::kContinuous,
                    .doc = "soc, RC voltages[3], hysteresis, temp_K, fade, E_out_J, heat_J"});
    sign_ = d.AddState({.name = "hysteresis_sign", .unit = "1", .kind = FieldKind::kDiscrete});
    strings_ = d.AddState({.name = "strings_ok",
                           .unit = "1",
                           .kind = FieldKind::kDiscrete,
                           .doc = "parallel strings in service"});
    inverter_ok_ = d.AddState({.name = "inverter_ok", .unit = "1", .kind = FieldKind::kDiscrete});
    manual_ = d.AddState({.name = "manual",
                          .unit = "1",
                          .kind = FieldKind::kInput,
                          .doc = "1: follow setpoint_W instead of the input port",
                          .lower = 0,
                          .upper = 1});
    setpoint_ = d.AddState({.name = "setpoint_W",
                            .unit = "W",
                            .kind = FieldKind::kInput,
                            .doc = "manual bus-power setpoint (+ charge); the BMS still applies",
                            .lower = -1e10,
                            .upper = 1e10});
    totals_ = d.AddState(
        {.name = "totals", .shape = {kNumTotals}, .unit = "mixed", .kind = FieldKind::kDiscrete});
    d.AddFault({.name = "string_fault",
                .params = {{.name = "strings",
                            .unit = "1",
                            .lower = 1,
                            .upper = static_cast<double>(parallel_),
                            .default_value = 1,
                            .doc = "parallel strings lost"}},
                .doc = "strings open (a blown fuse, a failed module): capacity and power drop"});
    d.AddFault({.name = "inverter_trip", .doc = "the converter trips: no power flows"});
    d.AddKpi({.name = "throughput_kWh",
              .unit = "kWh",
              .across_worlds = KpiAggregation::kMean,
              .doc = "DC energy throughput (charge + discharge)"});
    d.AddKpi({.name = "equivalent_full_cycles", .unit = "1"});
    d.AddKpi({.name = "capacity_fade_percent", .unit = "%"});
    d.AddKpi({.name = "final_soc", .unit = "1"});
    d.AddKpi({.name = "max_temp_K", .unit = "K"});
    d.AddKpi({.name = "bus_energy_in_kWh", .unit = "kWh", .doc = "net energy drawn from the bus"});
    d.AddKpi({.name = "losses_kWh", .unit = "kWh", .doc = "cell heat + converter losses"});
    d.AddKpi({.name = "bms_limited_ticks", .unit = "1"});
  }

  void InitWorld(const TickInfo&, BlockIo& io) const override {
    double* x = io.Field(cell_state_);
    x[kCellSoc] = soc0_;
    x[kCellTemp] = temp0_;
    *io.Field(sign_) = -1.0;
    *io.Field(strings_) = parallel_;
    *io.Field(inverter_ok_) = 1.0;
    double* t = io.Field(totals_);
    t[kMaxTempK] = temp0_;
    const double v = CellVoltage(cell_, x, 0.0, -1.0);
    t[kMaxVoltageV] = t[kMinVoltageV] = v;
    Publish(io, 0.0, 0.0);
  }

  BatteryPack Pack() const { return {cell_, lim_, series_, parallel_, eta_}; }

  BatteryWorld World(BlockIo& io) const {
    return {io.Field(cell_state_),  io.Field(totals_),  io.Field(sign_),     io.Field(strings_),
            io.Field(inverter_ok_), io.Field(manual_),  io.Field(setpoint_), io.In(in_request_),
            io.In(in_ambient_),     io.Out(out_power_), io.Out(out_soc_),    io.Out(out_voltage_),
            io.Out(out_current_),   io.Out(out_temp_)};
  }

  void Publish(BlockIo& io, double current_cell_A, double power_W) const {
    BatteryPublish(Pack(), World(io), current_cell_A, power_W);
  }

  void Update(const TickInfo& tick, BlockIo& io) const override {
    BatteryWorldStep(Pack(), tick.period_s, World(io));
  }

  bool SupportsCuda() const override { return true; }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData*) const override {
    BatteryDeviceArgs a;
    a.pack = Pack();
    a.period_s = tick.period_s;
    a.cell = state.Field<double>(cell_state_);
    a.totals = state.Field<double>(totals_);
    a.sign = state.Field<double>(sign_);
    a.strings = state.Field<double>(strings_).Const();
    a.inverter_ok = state.Field<double>(inverter_ok_).Const();
    a.manual = state.Field<double>(manual_).Const();
    a.setpoint = state.Field<double>(setpoint_).Const();
    a.request = state.Input(binding, in_request_);
    a.ambient = state.Input(binding, in_ambient_);
    a.power_W = state.Output(binding, out_power_);
    a.soc = state.Output(binding, out_soc_);
    a.voltage_V = state.Output(binding, out_voltage_);
    a.current_A = state.Output(binding, out_current_);
    a.temp_K = state.Output(binding, out_temp_);
    BatteryOnDevice(state.executor(), state.num_worlds(), a);
  }

  void ApplyFault(const TickInfo&, BlockIo& io, int fault, std::span<const double> params,
                  bool active) const override {
    if (fault == 0)
      *io.Field(strings_) = active ? std::max(0.0, parallel_ - std::round(params[0])) : parallel_;
    else
      *io.Field(inverter_ok_) = active ? 0.0 : 1.0;
  }

  void ComputeKpis(const TickInfo&, const BlockIo& io, std::span<double> k) const override {
    const double* t = io.Field(totals_);
    const double* x = io.Field(cell_state_);
    const double pack_V_nominal = series_ * cell_.ocv_V[cell_.num_ocv / 2];
    k[0] = t[kThroughputAh] * pack_V_nominal / 1000.0;
    k[1] = t[kThroughputAh] / (2.0 * cell_.capacity_Ah * parallel_);
    k[2] = 100.0 * x[kCellFade];
    k[3] = x[kCellSoc];
    k[4] = t[kMaxTempK];
    k[5] = t[kBusInJ] / 3.6e6;
    k[6] = (t[kHeatJ] + t[kConverterLossJ]) / 3.6e6;
    k[7] = t[kLimitHits];
  }

  CellParams cell_;
  BmsLimits lim_;
  int series_, parallel_;
  double eta_, soc0_, temp0_;
  int in_request_ = -1, in_ambient_ = -1;
  int out_power_ = -1, out_soc_ = -1, out_voltage_ = -1, out_current_ = -1, out_temp_ = -1;
  FieldId cell_state_ = kInvalidField, sign_ = kInvalidField, strings_ = kInvalidField;
  FieldId inverter_ok_ = kInvalidField, manual_ = kInvalidField, setpoint_ = kInvalidField;
  FieldId totals_ = kInvalidField;
};

}  // namespace

std::unique_ptr<Block> MakeBattery(const std::string& name, ParamReader& params) {
  CellParams cell;
  const bool cell_ok = ReadCellParams(params, &cell);
  cell.t_ref_K = params.Number("reference_temp_K", 298.15, NumberRange::Positive("K"));
  cell.ocv_temp_coeff_V_per_K =
      params.Number("ocv_temp_coeff_V_per_K", 0.0, NumberRange::Between(-0.01, 0.01, "V/K"));
  cell.resistance_activation_K =
      params.Number("resistance_activation_K", 2000.0, NumberRange::NonNegative("K"));
  ParamReader thermal = params.Child("thermal");
  cell.heat_capacity_J_per_K =
      thermal.Number("cell_heat_capacity_J_per_K", 76.0, NumberRange::Positive("J/K"));
  cell.cooling_W_per_K = thermal.Number("cell_cooling_W_per_K", 0.05, NumberRange::Positive("W/K"));
  thermal.Finish();
  ParamReader fade = params.Child("fade");
  cell.fade_per_Ah = fade.Number("per_Ah", 2.0e-5, NumberRange::NonNegative("1/Ah"));
  cell.fade_per_s = fade.Number("per_s", 1.0e-10, NumberRange::NonNegative("1/s"));
  cell.fade_activation_K = fade.Number("activation_K", 3500.0, NumberRange::NonNegative("K"));
  fade.Finish();
  BmsLimits lim;
  ParamReader l = params.Child("limits");
  lim.v_min = l.Number("cell_v_min", 2.5, NumberRange::Positive("V"));
  lim.v_max = l.Number("cell_v_max", 3.6, NumberRange::Positive("V"));
  lim.i_discharge_max_A = l.Number("cell_discharge_max_A", 10.0, NumberRange::NonNegative("A"));
  lim.i_charge_max_A = l.Number("cell_charge_max_A", 10.0, NumberRange::NonNegative("A"));
  lim.soc_min = l.Number("soc_min", 0.05, NumberRange::Fraction());
  lim.soc_max = l.Number("soc_max", 0.95, NumberRange::Fraction());
  lim.t_max_K = l.Number("temp_max_K", 318.15, NumberRange::Positive("K"));
  lim.t_derate_K = l.Number("temp_derate_K", 313.15, NumberRange::Positive("K"));
  lim.t_min_charge_K = l.Number("temp_min_charge_K", 273.15, NumberRange::Positive("K"));
  if (lim.soc_min >= lim.soc_max)
    l.Error("soc_max", std::to_string(lim.soc_max), "expected soc_max > soc_min");
  if (lim.v_min >= lim.v_max)
    l.Error("cell_v_max", std::to_string(lim.v_max), "expected cell_v_max > cell_v_min");
  if (lim.t_derate_K >= lim.t_max_K)
    l.Error("temp_derate_K", std::to_string(lim.t_derate_K), "expected temp_derate_K < temp_max_K");
  l.Finish();
  const int series = static_cast<int>(params.RequiredInteger("series", 1, 10000));
  const int parallel = static_cast<int>(params.RequiredInteger("parallel", 1, 100000));
  const double eta = params.Number("converter_efficiency", 0.97, {0.0, 1.0, true, "1"});
  const double soc0 = params.Number("initial_soc", 0.5, NumberRange::Fraction());
  const double temp0 = params.Number("initial_temp_K", 298.15, NumberRange::Positive("K"));
  if (soc0 < lim.soc_min || soc0 > lim.soc_max)
    params.Error("initial_soc", std::to_string(soc0), "expected a value within [soc_min, soc_max]");
  if (!cell_ok) return nullptr;
  return std::make_unique<BatteryBlock>(name, cell, lim, series, parallel, eta, soc0, temp0);
}

}  // namespace ftwin::energy
