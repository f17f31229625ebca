#include "engine/blocks/signal_source.h"

#include <algorithm>
#include <cmath>

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

double SignalSourceBlock::ValueAt(double time_s) const {
  switch (config_.shape) {
    case Shape::kConstant:
      return config_.value;
    case Shape::kStep:
      return time_s < config_.start_s ? config_.value : config_.final_value;
    case Shape::kRamp: {
      if (time_s <= config_.start_s) return config_.value;
      if (time_s >= config_.end_s) return config_.final_value;
      const double fraction = (time_s - config_.start_s) / (config_.end_s - config_.start_s);
      return config_.value + fraction * (config_.final_value - config_.value);
    }
    case Shape::kSine:
      return config_.value + config_.amplitude * std::cos(2.0 * M_PI * (time_s - config_.phase_s) /
                                                          config_.period_s);
    case Shape::kSchedule: {
      double t = time_s;
      if (config_.period_s > 0) t = std::fmod(t, config_.period_s);
      const auto& times = config_.times_s;
      if (t <= times.front()) return config_.values.front();
      if (t >= times.back()) return config_.values.back();
      const size_t upper =
          static_cast<size_t>(std::upper_bound(times.begin(), times.end(), t) - times.begin());
      const size_t lower = upper - 1;
      if (config_.hold) return config_.values[lower];
      const double fraction = (t - times[lower]) / (times[upper] - times[lower]);
      return config_.values[lower] + fraction * (config_.values[upper] - config_.values[lower]);
    }
  }
  return 0.0;
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
