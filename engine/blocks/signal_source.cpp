#include "engine/blocks/signal_source.h"

#include <algorithm>
#include <cmath>

#include "engine/device_kernels.h"
#include "engine/device_state.h"
#include "engine/units.h"

namespace ftwin {

std::unique_ptr<Block> SignalSourceBlock::FromParams(const std::string& name, ParamReader& params) {
  Config config;
  const std::string shape =
      params.Choice("shape", "constant", {"constant", "step", "ramp", "sine", "schedule"});
  config.unit = params.String("unit", "1");
  const NumberRange any = NumberRange::Any(config.unit);
  auto seconds = [&](const std::string& key, int64_t default_ns) {
    return NsToSeconds(params.DurationNs(key, default_ns));
  };
  if (shape == "constant") {
    config.shape = Shape::kConstant;
    config.value = params.RequiredNumber("value", any);
  } else if (shape == "step") {
    config.shape = Shape::kStep;
    config.value = params.RequiredNumber("before", any);
    config.final_value = params.RequiredNumber("after", any);
    config.start_s = NsToSeconds(params.RequiredDurationNs("at"));
  } else if (shape == "ramp") {
    config.shape = Shape::kRamp;
    config.value = params.RequiredNumber("from", any);
    config.final_value = params.RequiredNumber("to", any);
    config.start_s = NsToSeconds(params.RequiredDurationNs("start"));
    config.end_s = NsToSeconds(params.RequiredDurationNs("end"));
    if (config.end_s <= config.start_s) params.Error("end", "", "expected end after start");
  } else if (shape == "sine") {
    config.shape = Shape::kSine;
    config.value = params.RequiredNumber("mean", any);
    config.amplitude = params.RequiredNumber("amplitude", NumberRange::NonNegative(config.unit));
    config.period_s = NsToSeconds(params.RequiredDurationNs("wave_period", 1));
    config.phase_s = seconds("peak_at", 0);
  } else {
    config.shape = Shape::kSchedule;
    config.hold = params.Choice("interpolation", "linear", {"linear", "hold"}) == "hold";
    config.period_s = seconds("repeat", 0);
    const YAML::Node points = params.Raw("points");
    if (!points.IsSequence() || points.size() == 0) {
      params.Error("points", NodeText(points),
                   "expected a list of [time, value] pairs, e.g. [[0s, 1.0], [6h, 2.0]]");
    } else {
      for (size_t i = 0; i < points.size(); ++i) {
        const YAML::Node point = points[i];
        const std::string key = "points[" + std::to_string(i) + "]";
        std::optional<int64_t> time;
        double value = 0;
        bool ok =
            point.IsSequence() && point.size() == 2 && point[0].IsScalar() && point[1].IsScalar();
        if (ok) time = ParseDurationNs(point[0].Scalar());
        if (ok) {
          char* end = nullptr;
          value = std::strtod(point[1].Scalar().c_str(), &end);
          ok = time.has_value() && end == point[1].Scalar().c_str() + point[1].Scalar().size() &&
               std::isfinite(value);
        }
        if (!ok) {
          params.diagnostics()->Add(NodeLocation(point, params.file()), params.path() + "." + key,
                                    NodeText(point), "expected [duration, number], e.g. [6h, 2.5]");
          continue;
        }
        const double t = NsToSeconds(*time);
        if (!config.times_s.empty() && t <= config.times_s.back())
          params.diagnostics()->Add(NodeLocation(point, params.file()), params.path() + "." + key,
                                    point[0].Scalar(), "expected strictly increasing times");
        config.times_s.push_back(t);
        config.values.push_back(value);
      }
      if (config.period_s > 0 && !config.times_s.empty() &&
          config.times_s.back() >= config.period_s)
        params.Error("repeat", "",
                     "expected the repeat period to be longer than the last point's time");
    }
  }
  return std::make_unique<SignalSourceBlock>(name, std::move(config));
}

SignalShape SignalSourceBlock::MakeShape() const {
  SignalShape shape;
  shape.kind = static_cast<int32_t>(config_.shape);
  shape.value = config_.value;
  shape.final_value = config_.final_value;
  shape.start_s = config_.start_s;
  shape.end_s = config_.end_s;
  shape.amplitude = config_.amplitude;
  shape.period_s = config_.period_s;
  shape.phase_s = config_.phase_s;
  shape.times_s = config_.times_s.data();
  shape.values = config_.values.data();
  shape.num_points = static_cast<int32_t>(config_.times_s.size());
  shape.hold = config_.hold ? 1 : 0;
  return shape;
}

double SignalSourceBlock::ValueAt(double time_s) const {
  return SignalValueAt(MakeShape(), time_s);
}

namespace {
// The schedule arrays in device memory.
struct SignalDeviceData final : DeviceBlockData {
  gpu::DeviceArray<double> times_s, values;
};
}  // namespace

std::unique_ptr<DeviceBlockData> SignalSourceBlock::CreateDeviceData(
    gpu::Executor& executor) const {
  auto data = std::make_unique<SignalDeviceData>();
  data->times_s =
      gpu::DeviceArray<double>::FromHost(executor, config_.times_s.data(), config_.times_s.size());
  data->values =
      gpu::DeviceArray<double>::FromHost(executor, config_.values.data(), config_.values.size());
  return data;
}

void SignalSourceBlock::UpdateDevice(const TickInfo& tick, const DeviceState& state,
                                     const BlockBinding& binding,
                                     const DeviceBlockData* data) const {
  const auto* device = static_cast<const SignalDeviceData*>(data);
  SignalSourceArgs args;
  args.shape = MakeShape();
  args.shape.times_s = device->times_s.data();
  args.shape.values = device->values.data();
  args.time_s = tick.time_s;
  args.out = state.Output(binding, out_value_);
  SignalSourceOnDevice(state.executor(), state.num_worlds(), args);
}

void SignalSourceBlock::Declare(const DeclareContext&, BlockDeclaration& declaration) {
  out_value_ =
      declaration.AddOutput({.name = "value", .unit = config_.unit, .doc = "signal value"});
}

void SignalSourceBlock::InitWorld(const TickInfo& tick, BlockIo& io) const {
  io.Out(out_value_)[0] = ValueAt(tick.time_s);
}

void SignalSourceBlock::Update(const TickInfo& tick, BlockIo& io) const {
  // The value over the coming step [t, t + period): sampled at its start (zero-order hold).
  io.Out(out_value_)[0] = ValueAt(tick.time_s);
}

}  // namespace ftwin
