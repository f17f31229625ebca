// Renewable generation and loads from time series: PV (irradiance and cell temperature ->
// DC -> inverter), wind (power curve), and a load profile. All report `power_W` on the bus
// convention (+ consumption, - generation).
#include <algorithm>
#include <cmath>

#include "plants/energy/energy_common.h"
#include "plants/energy/plant_slots.h"

namespace ftwin::energy {
namespace {

/// Shared shape: a signal-driven power with an inverter that can trip and a total; the
/// formulas are the steps of plant_world.h (PvStep, WindStep, LoadStep).
template <class Step>
class ProfileBlock : public Block {
 public:
  using Params = typename Step::Params;
  ProfileBlock(std::string name, Params params) : Block(std::move(name)), params_(params) {}
  void DeclareCommon(BlockDeclaration& d, bool inverter) {
    const int out_power =
        d.AddOutput({.name = "power_W",
                     .unit = "W",
                     .doc = "power drawn from the site bus (+ consumption, - generation)"});
    energy_ = d.AddState(
        {.name = "energy_J", .unit = "J", .kind = FieldKind::kDiscrete, .doc = "∫ power_W dt"});
    tripped_ = d.AddState({.name = "tripped", .unit = "1", .kind = FieldKind::kDiscrete});
    if (inverter) d.AddFault({.name = "inverter_trip", .doc = "the inverter trips: no output"});
    d.AddKpi({.name = "energy_kWh", .unit = "kWh", .doc = "∫ power_W dt (negative = generated)"});
    slots_.Reset(0, kProfileOutSlots);
    slots_.SetOutput(kProfilePower, out_power);
    slots_.SetField(kProfileEnergy, energy_);
    slots_.SetField(kProfileTripped, tripped_);
  }
  void Update(const TickInfo& tick, BlockIo& io) const override {
    RunPlantStep<Step>(params_, slots_, tick, io);
  }
  bool SupportsCuda() const override { return true; }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override {
    RunPlantOnDevice<Step>(data, slots_, tick, state, binding);
  }
  void ApplyFault(const TickInfo&, BlockIo& io, int, std::span<const double>,
                  bool active) const override {
    *io.Field(tripped_) = active ? 1.0 : 0.0;
  }
  void ComputeKpis(const TickInfo&, const BlockIo& io, std::span<double> k) const override {
    k[0] = *io.Field(energy_) / 3.6e6;
  }

 protected:
  Params params_;  ///< series and tables viewed over this block's host arrays
  PlantSlots slots_;
  FieldId energy_ = kInvalidField, tripped_ = kInvalidField;
};

class PvBlock final : public ProfileBlock<PvStep> {
 public:
  PvBlock(std::string name, double peak_W, double gamma, double inv_eta, double inv_max_W,
          Signal irradiance, Signal cell_temp)
      : ProfileBlock(std::move(name), {}),
        irradiance_(std::move(irradiance)),
        temp_(std::move(cell_temp)) {
    params_ = {peak_W, gamma, inv_eta, inv_max_W, irradiance_.View(), temp_.View()};
  }
  std::string type_name() const override { return "pv"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    DeclareCommon(d, true);
    slots_.SetOutput(kPvDc, d.AddOutput({.name = "dc_W", .unit = "W", .doc = "array DC power"}));
  }
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor& executor) const override {
    auto data = std::make_unique<PlantDeviceData<PvParams>>();
    data->params = params_;
    data->params.irradiance = data->Upload(executor, params_.irradiance);
    data->params.cell_temp = data->Upload(executor, params_.cell_temp);
    return data;
  }

 private:
  Signal irradiance_, temp_;
};

class WindBlock final : public ProfileBlock<WindStep> {
 public:
  WindBlock(std::string name, std::vector<double> v, std::vector<double> p, Signal speed)
      : ProfileBlock(std::move(name), {}),
        v_(std::move(v)),
        p_(std::move(p)),
        speed_(std::move(speed)) {
    params_ = {{v_.data(), p_.data(), static_cast<int>(v_.size())}, speed_.View()};
  }
  std::string type_name() const override { return "wind_turbine"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override { DeclareCommon(d, true); }
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor& executor) const override {
    auto data = std::make_unique<PlantDeviceData<WindParams>>();
    data->params = params_;
    data->params.curve.x = data->Upload(executor, v_.data(), params_.curve.n);
    data->params.curve.y = data->Upload(executor, p_.data(), params_.curve.n);
    data->params.speed = data->Upload(executor, params_.speed);
    return data;
  }

 private:
  std::vector<double> v_, p_;
  Signal speed_;
};

class LoadBlock final : public ProfileBlock<LoadStep> {
 public:
  LoadBlock(std::string name, Signal power)
      : ProfileBlock(std::move(name), {}), power_(std::move(power)) {
    params_ = {power_.View()};
  }
  std::string type_name() const override { return "load_profile"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override { DeclareCommon(d, false); }
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor& executor) const override {
    auto data = std::make_unique<PlantDeviceData<LoadParams>>();
    data->params.power = data->Upload(executor, params_.power);
    return data;
  }

 private:
  Signal power_;
};

}  // namespace

std::unique_ptr<Block> MakePv(const std::string& name, ParamReader& params) {
  const double peak = params.RequiredNumber("peak_W", NumberRange::Positive("W"));
  const double gamma =
      params.Number("temp_coeff_per_K", -0.004, NumberRange::Between(-0.02, 0.0, "1/K"));
  const double eta = params.Number("inverter_efficiency", 0.97, {0.0, 1.0, true, "1"});
  const double inv = params.Number("inverter_max_W", peak, NumberRange::Positive("W"));
  Signal g, t;
  bool ok =
      ReadSignal(params, "irradiance_W_per_m2", 0.0, NumberRange::Between(-1, 1500, "W/m2"), &g);
  ok = ReadSignal(params, "cell_temp_K", 298.15, NumberRange::Between(200, 400, "K"), &t) && ok;
  if (!ok) return nullptr;
  return std::make_unique<PvBlock>(name, peak, gamma, eta, inv, std::move(g), std::move(t));
}

std::unique_ptr<Block> MakeWind(const std::string& name, ParamReader& params) {
  const std::vector<double> v =
      params.NumberList("curve_speed_m_per_s", NumberRange::NonNegative("m/s"), 2, 200);
  const std::vector<double> p =
      params.NumberList("curve_power_W", NumberRange::NonNegative("W"), 2, 200);
  if (v.size() != p.size())
    params.Error("curve_power_W", "", "expected as many values as curve_speed_m_per_s");
  for (size_t i = 1; i < v.size(); ++i)
    if (!(v[i] > v[i - 1])) {
      params.Error("curve_speed_m_per_s", std::to_string(v[i]),
                   "expected strictly increasing speeds");
      break;
    }
  Signal speed;
  const bool ok =
      ReadSignal(params, "wind_speed_m_per_s", 0.0, NumberRange::Between(0, 100, "m/s"), &speed);
  if (!ok || v.size() != p.size() || v.size() < 2) return nullptr;
  return std::make_unique<WindBlock>(name, v, p, std::move(speed));
}

std::unique_ptr<Block> MakeLoadProfile(const std::string& name, ParamReader& params) {
  Signal power;
  if (!ReadSignal(params, "power_W", 0.0, NumberRange::Any("W"), &power)) return nullptr;
  return std::make_unique<LoadBlock>(name, std::move(power));
}

}  // namespace ftwin::energy
