// Gas turbine + HRSG/steam block (turbine_math.h) with a supervisor: start-up sequence
// (purge/ignition/acceleration at no-load fuel for start_time, then synchronised at minimum
// load), ramp limit on the load reference, minimum load, trip. Scenario type "gas_turbine".
#include <algorithm>
#include <cmath>

#include "plants/energy/energy_common.h"
#include "plants/energy/plant_slots.h"
#include "plants/energy/turbine_math.h"

namespace ftwin::energy {
namespace {

using enum TurbineBlockStep::Mode;
using enum TurbineBlockStep::Total;

class TurbineBlock final : public Block {
 public:
  TurbineBlock(std::string name, TurbineParams p, double min_load, double ramp_pu_per_s,
               double start_s, double aux_W, bool start_online, double initial_pu, bool freq_input,
               double nominal_Hz, int substeps)
      : Block(std::move(name)),
        p_(p),
        min_load_(min_load),
        ramp_(ramp_pu_per_s),
        start_s_(start_s),
        aux_W_(aux_W),
        start_online_(start_online),
        initial_pu_(initial_pu),
        freq_input_(freq_input),
        nominal_Hz_(nominal_Hz),
        substeps_(substeps) {
    step_ = {p_, min_load_, ramp_, start_s_, aux_W_, freq_input_ ? 1 : 0, nominal_Hz_, substeps_};
  }
  std::string type_name() const override { return "gas_turbine"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    in_request_ = d.AddInput(
        {.name = "power_request_W", .unit = "W", .doc = "requested electric output (GT + steam)"});
    if (freq_input_)
      in_freq_ = d.AddInput(
          {.name = "frequency_Hz", .unit = "Hz", .doc = "bus frequency (speed)", .delayed = true});
    out_power_ = d.AddOutput({.name = "power_W", .unit = "W", .doc = "bus power (- = generating)"});
    out_gt_ = d.AddOutput({.name = "gt_W", .unit = "W"});
    out_st_ = d.AddOutput({.name = "steam_W", .unit = "W"});
    out_fuel_ = d.AddOutput({.name = "fuel_W", .unit = "W"});
    out_exh_ =
        d.AddOutput({.name = "exhaust_F", .unit = "degF", .doc = "measured exhaust temperature"});
    out_mode_ =
        d.AddOutput({.name = "mode", .unit = "1", .doc = "0 off, 1 starting, 2 online, 3 tripped"});
    state_ = d.AddState(
        {.name = "x", .shape = {kGtSlots}, .unit = "mixed", .kind = FieldKind::kContinuous});
    totals_ = d.AddState(
        {.name = "totals", .shape = {kNumTotals}, .unit = "mixed", .kind = FieldKind::kDiscrete});
    command_on_ = d.AddState({.name = "on",
                              .unit = "1",
                              .kind = FieldKind::kInput,
                              .doc = "1 = run (start if off), 0 = shut down",
                              .lower = 0,
                              .upper = 1});
    d.AddFault({.name = "trip",
                .doc = "protection trip: fuel cut at once; restart after the fault clears"});
    d.AddKpi({.name = "electric_kWh", .unit = "kWh"});
    d.AddKpi({.name = "fuel_kWh", .unit = "kWh"});
    d.AddKpi({.name = "fuel_efficiency", .unit = "1", .doc = "(GT + steam) electric / fuel"});
    d.AddKpi({.name = "steam_share", .unit = "1"});
    d.AddKpi({.name = "starts", .unit = "1"});
    d.AddKpi({.name = "trips", .unit = "1"});
    d.AddKpi({.name = "co2_kg", .unit = "kg", .doc = "fuel kWh x co2_kg_per_kWh_fuel"});
    using S = TurbineBlockStep;
    slots_.Reset(S::kNumIn, S::kNumOut);
    slots_.SetInput(S::kRequest, in_request_);
    if (freq_input_) slots_.SetInput(S::kFrequency, in_freq_);
    const int ports[] = {out_power_, out_gt_, out_st_, out_fuel_, out_exh_, out_mode_};
    for (int i = 0; i < 6; ++i) slots_.SetOutput(S::kPower + i, ports[i]);
    slots_.SetField(S::kState, state_);
    slots_.SetField(S::kTotals, totals_);
    slots_.SetField(S::kOn, command_on_);
  }
  void InitWorld(const TickInfo&, BlockIo& io) const override {
    double* x = io.Field(state_);
    double* t = io.Field(totals_);
    *io.Field(command_on_) = start_online_ ? 1.0 : 0.0;
    if (start_online_) {
      TurbineSteadyState(p_, initial_pu_, x);
      t[kModeF] = kOnline;
      t[kPrefPu] = initial_pu_;
    } else {
      for (int i = 0; i < kGtSlots; ++i) x[i] = 0.0;
      x[kGtShield] = x[kGtThermo] = 80.0;  // cold exhaust [°F]
      x[kGtTempInt] = p_.fuel_max;
      t[kModeF] = kOffMode;
    }
    *io.Out(out_mode_) = t[kModeF];
  }
  void Update(const TickInfo& tick, BlockIo& io) const override {
    RunPlantStep<TurbineBlockStep>(step_, slots_, tick, io);
  }
  bool SupportsCuda() const override { return true; }
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor&) const override {
    auto data = std::make_unique<PlantDeviceData<TurbineStepParams>>();
    data->params = step_;
    return data;
  }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override {
    RunPlantOnDevice<TurbineBlockStep>(data, slots_, tick, state, binding);
  }
  void ApplyFault(const TickInfo&, BlockIo& io, int, std::span<const double>,
                  bool active) const override {
    double* t = io.Field(totals_);
    if (active) {
      t[kModeF] = kTripped;
      t[kTripsN] += 1.0;
    } else {
      t[kModeF] = kOffMode;  // restarts through the start-up sequence if still commanded on
    }
  }
  void ComputeKpis(const TickInfo&, const BlockIo& io, std::span<double> k) const override {
    const double* x = io.Field(state_);
    const double* t = io.Field(totals_);
    k[0] = t[kElectricJ] / 3.6e6;
    k[1] = x[kGtFuelJ] / 3.6e6;
    k[2] = x[kGtFuelJ] > 0.0 ? t[kElectricJ] / x[kGtFuelJ] : 0.0;
    k[3] = t[kElectricJ] > 0.0 ? x[kGtSteamJ] / t[kElectricJ] : 0.0;
    k[4] = t[kStartsN];
    k[5] = t[kTripsN];
    k[6] = x[kGtFuelJ] / 3.6e6 * co2_;
  }

 public:
  TurbineParams p_;
  double min_load_, ramp_, start_s_, aux_W_;
  bool start_online_;
  double initial_pu_;
  bool freq_input_;
  double nominal_Hz_;
  int substeps_;
  TurbineStepParams step_;
  PlantSlots slots_;
  double co2_ = 0.202;
  int in_request_ = -1, in_freq_ = -1, out_power_ = -1, out_gt_ = -1, out_st_ = -1, out_fuel_ = -1,
      out_exh_ = -1, out_mode_ = -1;
  FieldId state_ = kInvalidField, totals_ = kInvalidField, command_on_ = kInvalidField;
};

}  // namespace

std::unique_ptr<Block> MakeGasTurbine(const std::string& name, ParamReader& params) {
  TurbineParams p;
  p.rated_W = params.RequiredNumber("rated_W", NumberRange::Positive("W"));
  p.efficiency_rated = params.Number("efficiency_rated", 0.33, {0.0, 1.0, true, "1"});
  p.governor_gain = 1.0 / params.Number("droop", 0.04, {0.0, 1.0, true, "1"});
  p.fuel_tau_s = params.Number("fuel_tau_s", 0.4, NumberRange::Positive("s"));
  p.hrsg_efficiency = params.Number("hrsg_efficiency", 0.85, NumberRange::Fraction());
  p.hrsg_tau_s = params.Number("hrsg_tau_s", 120.0, NumberRange::Positive("s"));
  p.steam_efficiency = params.Number("steam_efficiency", 0.32, NumberRange::Fraction());
  p.steam_tau_s = params.Number("steam_tau_s", 20.0, NumberRange::Positive("s"));
  p.stack_loss = params.Number("stack_loss", 0.15, NumberRange::Fraction());
  const double min_load = params.Number("min_load_fraction", 0.3, NumberRange::Fraction());
  const double ramp =
      params.Number("ramp_fraction_per_min", 0.1, NumberRange::Positive("1/min")) / 60.0;
  const double start_s = params.Number("start_time_s", 600.0, NumberRange::NonNegative("s"));
  const double aux = params.Number("start_aux_W", 0.02 * p.rated_W, NumberRange::NonNegative("W"));
  const bool online = params.Bool("start_online", true);
  const double initial = params.Number("initial_load_fraction", 0.5, NumberRange::Fraction());
  const bool freq = params.Bool("frequency_input", false);
  const double nominal = params.Number("nominal_Hz", 50.0, NumberRange::Positive("Hz"));
  const int substeps = static_cast<int>(params.Integer("substeps", 4, 1, 1000));
  const double co2 =
      params.Number("co2_kg_per_kWh_fuel", 0.202, NumberRange::NonNegative("kg/kWh"));
  auto block = std::make_unique<TurbineBlock>(name, p, min_load, ramp, start_s, aux, online,
                                              std::max(initial, min_load), freq, nominal, substeps);
  block->co2_ = co2;
  return block;
}

}  // namespace ftwin::energy
