// Signal source block: a value that is a known function of time (constant, step, ramp, sine,
// or a piecewise schedule), e.g. outdoor temperature or a price. Scenario type "signal_source".
#pragma once

#include <vector>

#include "engine/block.h"
#include "engine/blocks/signal_math.h"
#include "engine/params.h"

namespace ftwin {

class SignalSourceBlock final : public Block {
 public:
  enum class Shape { kConstant, kStep, kRamp, kSine, kSchedule };
  struct Config {
    Shape shape = Shape::kConstant;
    std::string unit = "1";
    double value = 0.0;           ///< constant; step: value before; ramp: value at start
    double final_value = 0.0;     ///< step: value after; ramp: value at end
    double start_s = 0.0;         ///< step time; ramp start
    double end_s = 0.0;           ///< ramp end
    double amplitude = 0.0;       ///< sine
    double period_s = 86400.0;    ///< sine period; schedule repeat period (0 = no repeat)
    double phase_s = 0.0;         ///< sine: time of the first maximum
    std::vector<double> times_s;  ///< schedule points (strictly increasing)
    std::vector<double> values;   ///< schedule values
    bool hold = false;            ///< schedule: zero-order hold instead of linear
  };
  SignalSourceBlock(std::string name, Config config)
      : Block(std::move(name)), config_(std::move(config)) {}
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);

  /// The signal at time t (seconds); pure.
  double ValueAt(double time_s) const;
  /// The shape for SignalValueAt, with host pointers to the schedule.
  SignalShape MakeShape() const;

  std::string type_name() const override { return "signal_source"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  bool SupportsCuda() const override { return true; }
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor& executor) const override;
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;

 private:
  Config config_;
  int out_value_ = -1;
};

}  // namespace ftwin
