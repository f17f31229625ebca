// Dedicated instrument blocks (docs/scenario-sensors.md): energy meter, particle counter,
// tool-state signal (SEMI E10), light curtain / zone scanner, vibration channel and the
// multi-axis vector sensor (wrist force-torque, IMU, TCP tracker). All run in PostUpdate.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/block.h"
#include "engine/params.h"
#include "engine/sensors/instrument_math.h"
#include "engine/sensors/instrument_world.h"
#include "engine/sensors/noise_math.h"

namespace ftwin {

/// kWh meter: integrates a power truth into a register with a resolution and a rollover.
class EnergyMeterBlock final : public Block {
 public:
  enum class Mode { kImport, kExport, kNet };
  struct Config {
    Mode mode = Mode::kImport;
    double resolution_kWh = 0.01;
    double rollover_kWh = 1.0e6;
    double initial_reading_kWh = 0.0;
    double scale_factor_error = 0.0;
  };
  EnergyMeterBlock(std::string name, Config config) : Block(std::move(name)), config_(config) {}
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);
  std::string type_name() const override { return "energy_meter"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  bool SupportsCuda() const override { return true; }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;
  void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const override;

 private:
  EnergyMeterParams StepParams() const;
  Config config_;
  int in_power_ = -1, out_register_ = -1, out_true_ = -1;
  FieldId energy_ = kInvalidField;  // [measured J, true J]
};

/// Optical particle counter: Poisson counts of the particles in the sampled air volume.
class ParticleCounterBlock final : public Block {
 public:
  struct Config {
    double flow_rate_m3_per_s = 4.719474e-4;  // 1 ft^3/min
    int64_t sample_time_ns = 60'000'000'000;
    double counting_efficiency = 1.0;
    double background_counts = 0.0;  // false counts per sample (zero-count level)
  };
  ParticleCounterBlock(std::string name, Config config) : Block(std::move(name)), config_(config) {}
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);
  std::string type_name() const override { return "particle_counter"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  bool SupportsCuda() const override { return true; }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;
  void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const override;

 private:
  ParticleCounterParams StepParams() const;
  Config config_;
  int64_t window_ticks_ = 1;
  int in_conc_ = -1, out_counts_ = -1, out_conc_ = -1, out_valid_ = -1, out_expected_ = -1;
  FieldId acc_ = kInvalidField;  // [lambda so far, ticks in window, samples, total counts]
};

/// Discrete state signal (SEMI E10 tool state) with reporting latency and lost events.
class StateSignalBlock final : public Block {
 public:
  struct Config {
    DType truth_dtype = DType::kUInt8;
    int64_t latency_ns = 0;
    double lost_event_probability = 0.0;
  };
  StateSignalBlock(std::string name, Config config) : Block(std::move(name)), config_(config) {}
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);
  std::string type_name() const override { return "state_signal"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  bool SupportsCuda() const override { return true; }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;
  void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const override;

 private:
  StateSignalParams StepParams() const;
  double ReadTruth(const BlockIo& io) const;
  const uint8_t* TruthBytes(const BlockIo& io) const;  ///< the truth port, of truth_dtype
  Config config_;
  int64_t latency_ticks_ = 0;
  int in_state_ = -1, out_state_ = -1, out_true_ = -1;
  FieldId ring_ = kInvalidField;
  FieldId stats_ = kInvalidField;  // [pushed, delayed truth, events, lost, ticks, mismatches]
};

/// Light curtain / safety zone scanner: intrusion from a distance truth, OSSD stop signal
/// after the response time, restart after the field has been clear for the restart delay.
class LightCurtainBlock final : public Block {
 public:
  struct Config {
    double protective_field_m = 0.0;
    double warning_field_m = 0.0;  // 0: none
    int64_t response_time_ns = 0;
    int64_t restart_delay_ns = 0;
  };
  LightCurtainBlock(std::string name, Config config) : Block(std::move(name)), config_(config) {}
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);
  std::string type_name() const override { return "light_curtain"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  bool SupportsCuda() const override { return true; }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;
  void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const override;

 private:
  LightCurtainParams StepParams() const;
  Config config_;
  int in_distance_ = -1, out_ossd_ = -1, out_warning_ = -1, out_intrusion_ = -1;
  FieldId timers_ = kInvalidField;  // [trip at ns, last intrusion ns, trips, stopped ticks]
};

/// Vibration channel of a rotating machine: 1x/2x harmonics of the shaft speed + band-limited
/// noise, one sample per tick.
class VibrationSensorBlock final : public Block {
 public:
  VibrationSensorBlock(std::string name, VibrationParams params)
      : Block(std::move(name)), params_(params) {}
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);
  std::string type_name() const override { return "vibration_sensor"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  bool SupportsCuda() const override { return true; }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;
  void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const override;

 private:
  VibrationParams params_;
  int in_speed_ = -1, out_accel_ = -1, out_harmonics_ = -1;
  FieldId state_ = kInvalidField;  // [angle, previous speed, noise, runs, sum a^2]
};

/// One axis of a vector sensor.
struct VectorAxis {
  std::string name;
  std::string unit;
  SensorModelParams params;
};

/// A named multi-axis preset (wrist F/T, IMU, TCP tracker).
struct VectorSensorPreset {
  std::string name;
  std::string doc;
  std::vector<VectorAxis> axes;
  std::vector<double> cross_talk;  // row-major N x N, empty = none
};
const std::vector<VectorSensorPreset>& VectorSensorPresets();

/// N scalar truths -> N readings, each through the noise_math.h chain with its own parameters
/// and RNG streams, after a cross-talk matrix: x_i' = x_i + sum_j C_ij x_j.
class VectorSensorBlock final : public Block {
 public:
  struct Config {
    std::vector<VectorAxis> axes;
    std::vector<double> cross_talk;
    int64_t period_ns = 0;
  };
  VectorSensorBlock(std::string name, Config config)
      : Block(std::move(name)), config_(std::move(config)) {}
  static std::unique_ptr<Block> FromParams(const std::string& name, ParamReader& params);
  std::string type_name() const override { return "vector_sensor"; }
  void Declare(const DeclareContext& context, BlockDeclaration& declaration) override;
  void InitWorld(const TickInfo& tick, BlockIo& io) const override;
  void Update(const TickInfo& tick, BlockIo& io) const override;
  bool SupportsCuda() const override { return true; }
  void UpdateDevice(const TickInfo& tick, const DeviceState& state, const BlockBinding& binding,
                    const DeviceBlockData* data) const override;
  std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor& executor) const override;
  void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const override;
  const Config& config() const { return config_; }

 private:
  VectorSensorParams StepParams() const;
  Config config_;
  std::vector<SensorModelParams> runtime_;  // with latency rings sized (Declare)
  int ring_stride_ = 0;
  std::vector<int> in_, out_;
  std::vector<FieldId> truth_;
  int out_valid_ = -1;
  FieldId model_state_ = kInvalidField, ring_ = kInvalidField, stats_ = kInvalidField;
};

}  // namespace ftwin
