// Chilled-water loop block (chiller_math.h) with a local PID (engine/blocks/pid_math.h: anti-
// windup, rate limit) holding the tank temperature at its setpoint. Faults: pump failure, sensor
// drift of the tank temperature the PID sees. Scenario type "chilled_water".
#include <algorithm>
#include <cmath>

#include "engine/blocks/pid_math.h"
#include "plants/energy/chiller_math.h"
#include "plants/energy/energy_common.h"
#include "plants/energy/plant_slots.h"

namespace ftwin::energy {
namespace {

using enum ChillerBlockStep::Total;
using enum ChillerBlockStep::PidSlot;

class ChillerBlock final : public Block {
 public:
  ChillerBlock(std::string name, ChillerParams p, PidParams pid, bool load_port, Signal load,
               Signal cond, double setpoint, double limit_K, double initial_K)
      : Block(std::move(name)),
        p_(p),
        pid_(pid),
        load_port_(load_port),
        load_(std::move(load)),
        cond_(std::move(cond)),
        setpoint0_(setpoint),
        limit_K_(limit_K),
        initial_K_(initial_K) {
    step_ = {p_, pid_, load_port_ ? 1 : 0, limit_K_, load_.View(), cond_.View()};
  }
  std::string type_name() const override { return "chilled_water"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    if (load_port_)
      in_load_ =
          d.AddInput({.name = "heat_load_W", .unit = "W", .doc = "process heat into the loop"});
    out_power_ =
        d.AddOutput({.name = "power_W", .unit = "W", .doc = "chiller + pump electric power"});
    out_process_ = d.AddOutput({.name = "process_K", .unit = "K"});
    out_tank_ = d.AddOutput({.name = "tank_K", .unit = "K"});
    out_cooling_ = d.AddOutput({.name = "cooling_W", .unit = "W"});
    out_cop_ = d.AddOutput({.name = "cop", .unit = "1"});
    state_ = d.AddState(
        {.name = "x", .shape = {kChSlots}, .unit = "mixed", .kind = FieldKind::kContinuous});
    pid_state_ = d.AddState(
        {.name = "pid", .shape = {kPidSlots}, .unit = "mixed", .kind = FieldKind::kDiscrete});
    totals_ = d.AddState(
        {.name = "totals", .shape = {kNumTotals}, .unit = "mixed", .kind = FieldKind::kDiscrete});
    setpoint_ = d.AddState({.name = "setpoint_K",
                            .unit = "K",
                            .kind = FieldKind::kInput,
                            .doc = "tank temperature setpoint",
                            .lower = 275.15,
                            .upper = 293.15});
    d.AddFault({.name = "pump_failure", .doc = "the circulation pump stops"});
    d.AddFault(
        {.name = "sensor_drift",
         .params = {{.name = "rate_K_per_h",
                     .unit = "K/h",
                     .lower = -10,
                     .upper = 10,
                     .default_value = 0.5}},
         .doc = "the tank temperature sensor drifts; the PID controls on the drifted value"});
    d.AddKpi({.name = "electric_kWh", .unit = "kWh"});
    d.AddKpi({.name = "cooling_kWh", .unit = "kWh"});
    d.AddKpi({.name = "seasonal_cop", .unit = "1", .doc = "cooling / chiller electricity"});
    d.AddKpi({.name = "max_process_K", .unit = "K"});
    d.AddKpi({.name = "time_above_limit_s", .unit = "s"});
    using S = ChillerBlockStep;
    slots_.Reset(S::kNumIn, S::kNumOut);
    if (load_port_) slots_.SetInput(S::kLoad, in_load_);
    slots_.SetOutput(S::kPower, out_power_);
    slots_.SetOutput(S::kProcess, out_process_);
    slots_.SetOutput(S::kTank, out_tank_);
    slots_.SetOutput(S::kCooling, out_cooling_);
    slots_.SetOutput(S::kCop, out_cop_);
    slots_.SetField(S::kState, state_);
    slots_.SetField(S::kPid, pid_state_);
    slots_.SetField(S::kTotals, totals_);
    slots_.SetField(S::kSetpoint, setpoint_);
  }
  void InitWorld(const TickInfo&, BlockIo& io) const override {
    double* x = io.Field(state_);
    x[kChProcess] = x[kChTank] = initial_K_;
    *io.Field(setpoint_) = setpoint0_;
    double* t = io.Field(totals_);
    t[kPumpOk] = 1.0;
    t[kMaxProcessK] = initial_K_;
    *io.Out(out_process_) = *io.Out(out_tank_) = initial_K_;
  }
  void Update(const TickInfo& tick, BlockIo& io) const override {
    RunPlantStep<ChillerBlockStep>(step_, slots_, tick, io);
  }
  bool SupportsCuda() const override { return true; }
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor& executor) const override {
    auto data = std::make_unique<PlantDeviceData<ChillerStepParams>>();
    data->params = step_;
    data->params.load = data->Upload(executor, step_.load);
    data->params.condenser = data->Upload(executor, step_.condenser);
    return data;
  }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override {
    RunPlantOnDevice<ChillerBlockStep>(data, slots_, tick, state, binding);
  }
  void ApplyFault(const TickInfo&, BlockIo& io, int fault, std::span<const double> params,
                  bool active) const override {
    double* t = io.Field(totals_);
    if (fault == 0)
      t[kPumpOk] = active ? 0.0 : 1.0;
    else
      t[kDriftRate] = active ? params[0] : 0.0;  // the accumulated offset stays (a drifted sensor)
  }
  void ComputeKpis(const TickInfo&, const BlockIo& io, std::span<double> k) const override {
    const double* t = io.Field(totals_);
    const double* x = io.Field(state_);
    k[0] = (t[kElectricJ] + t[kPumpJ]) / 3.6e6;
    k[1] = x[kChCoolJ] / 3.6e6;
    k[2] = t[kElectricJ] > 0.0 ? x[kChCoolJ] / t[kElectricJ] : 0.0;
    k[3] = t[kMaxProcessK];
    k[4] = t[kAboveS];
  }

 private:
  ChillerParams p_;
  PidParams pid_;
  bool load_port_;
  Signal load_, cond_;
  double setpoint0_, limit_K_, initial_K_;
  ChillerStepParams step_;  ///< series viewed over the Signals above
  PlantSlots slots_;
  int in_load_ = -1, out_power_ = -1, out_process_ = -1, out_tank_ = -1, out_cooling_ = -1,
      out_cop_ = -1;
  FieldId state_ = kInvalidField, pid_state_ = kInvalidField, totals_ = kInvalidField,
          setpoint_ = kInvalidField;
};

}  // namespace

std::unique_ptr<Block> MakeChiller(const std::string& name, ParamReader& params) {
  ChillerParams p;
  p.capacity_W = params.RequiredNumber("capacity_W", NumberRange::Positive("W"));
  p.cop_nominal = params.Number("cop_nominal", 5.0, NumberRange::Positive("1"));
  const std::vector<double> plr =
      params.NumberList("plr_coeffs", NumberRange::Any("1"), 3, 3, false);
  if (plr.size() == 3) std::copy(plr.begin(), plr.end(), p.plr_coeffs);
  p.cond_coeff_per_K = params.Number("cond_coeff_per_K", 0.02, NumberRange::Between(0, 0.1, "1/K"));
  p.tank_capacity_J_per_K =
      4186.0 * 1000.0 * params.Number("tank_volume_m3", 10.0, NumberRange::Positive("m3"));
  p.process_capacity_J_per_K =
      4186.0 * 1000.0 * params.Number("process_volume_m3", 1.0, NumberRange::Positive("m3"));
  p.flow_kg_per_s = params.Number("flow_kg_per_s", 20.0, NumberRange::Positive("kg/s"));
  p.pump_head_Pa = params.Number("pump_head_Pa", 2e5, NumberRange::Positive("Pa"));
  p.pump_efficiency = params.Number("pump_efficiency", 0.7, {0.0, 1.0, true, "1"});
  PidParams pid;
  pid.kp = params.Number("kp_W_per_K", 2e5, NumberRange::NonNegative("W/K"));
  pid.ki = params.Number("ki_W_per_K_s", 500.0, NumberRange::NonNegative("W/(K s)"));
  pid.output_min = 0.0;
  pid.output_max = p.capacity_W;
  pid.rate_limit_per_s =
      params.Number("rate_limit_W_per_s", p.capacity_W / 60.0, NumberRange::Positive("W/s"));
  pid.reverse_acting = true;
  const bool port = !params.Has("heat_load_W");
  Signal load, cond;
  bool ok = true;
  if (!port) ok = ReadSignal(params, "heat_load_W", 0.0, NumberRange::NonNegative("W"), &load);
  ok = ReadSignal(params, "condenser_K", 303.15, NumberRange::Between(250, 350, "K"), &cond) && ok;
  const double setpoint =
      params.Number("setpoint_K", 280.15, NumberRange::Between(275.15, 293.15, "K"));
  const double limit = params.Number("process_limit_K", 291.15, NumberRange::Positive("K"));
  const double initial = params.Number("initial_K", setpoint, NumberRange::Positive("K"));
  if (!ok) return nullptr;
  return std::make_unique<ChillerBlock>(name, p, pid, port, std::move(load), std::move(cond),
                                        setpoint, limit, initial);
}

}  // namespace ftwin::energy
