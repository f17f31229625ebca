// Generic sensor block (scenario type "sensor"): reads a ground-truth f64 port, runs the
// imperfection chain of noise_math.h and writes a sensor field. Runs in PostUpdate, so it sees
// the state the plants have just computed; the truth stays readable beside the reading (for
// training labels and tests).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/block.h"
#include "engine/params.h"
#include "engine/sensors/noise_math.h"
#include "engine/sensors/sensor_world.h"

namespace ftwin {

/// A named datasheet preset: the imperfection chain of a typical instrument.
struct SensorPreset {
  std::string name;
  std::string unit;  ///< unit of the measured quantity (the truth port's unit)
  std::string doc;   ///< instrument and datasheet figures the values come from
  SensorModelParams params;
};

/// Every built-in preset (docs/scenario-sensors.md lists them).
const std::vector<SensorPreset>& SensorPresets();
/// A preset by name, or nullptr.
const SensorPreset* FindSensorPreset(const std::string& name);

/// Reads the imperfection-chain keys of docs/scenario-sensors.md (`preset`, `unit`, every model
/// key; not `period`) into `unit` and `model`; bad values are reported through `params`. `unit`
/// may come in preset by the caller (it is then the default).
void ReadSensorModel(ParamReader& params, std::string* unit, SensorModelParams* model);

class SensorBlock final : public Block {
 public:
  /// What the block was configured with.
  struct Config {
    std::string unit;
    SensorModelParams params;
    int64_t period_ns = 0;  ///< 0 = every tick
  };
  SensorBlock(std::string name, Config config)
      : Block(std::move(name)), config_(std::move(config)) {}
  /// Reads `preset` (optional) and the overrides; reports bad values with file/line/key.
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);

  const Config& config() const { return config_; }
  std::string type_name() const override { return "sensor"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  bool SupportsCuda() const override { return true; }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;
  void ApplyFault(const TickInfo& tick, BlockIo& io, int fault, std::span<const double> params,
                  bool active) const override;
  void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const override;

  /// Fault indices, in declaration order.
  enum FaultIndex { kFaultStuck, kFaultDrift, kFaultIntermittent, kFaultDead, kFaultNoiseBurst };

 private:
  Config config_;
  SensorModelParams runtime_params_;  // config_.params with the latency ring sized (Declare)
  int in_truth_ = -1;
  int out_value_ = -1;
  int out_valid_ = -1;
  FieldId truth_copy_ = kInvalidField;
  FieldId model_state_ = kInvalidField;
  FieldId fault_state_ = kInvalidField;
  FieldId ring_ = kInvalidField;
  FieldId counters_ = kInvalidField;
};

}  // namespace ftwin
