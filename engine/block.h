// Blocks: the units of simulation (a thermal network, a fab line, a robot cell, a sensor).
// A block declares its ports, state fields, period, commands, faults and KPIs once; after
// the model is built it is const and keeps no mutable members: everything that changes
// lives in the State (DESIGN.md §2.1, §2.4).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/rng.h"
#include "engine/schema.h"
#include "engine/state.h"

namespace ftwin::gpu {
class Executor;
}

namespace ftwin {

class DeviceState;  // engine/device_state.h

/// Constants a block keeps in device memory for its UpdateDevice (matrices, tables), created
/// once per Simulator by Block::CreateDeviceData and owned by the Simulator.
class DeviceBlockData {
 public:
  virtual ~DeviceBlockData() = default;
};

/// Where in the tick a block runs.
enum class BlockPhase : uint8_t {
  kUpdate,      ///< phase 2: plants and controllers, in graph order
  kPostUpdate,  ///< phase 3: sensors, reading the updated state
};

/// A typed port. Inputs read another block's output field; outputs are State fields
/// named "<block>.<port>".
struct PortDesc {
  std::string name;
  DType dtype = DType::kFloat64;
  int32_t size = 1;  ///< elements per world
  std::string unit;  ///< SI unit; connected ports must agree exactly
  std::string doc;
  /// Inputs only: reads the value of the previous tick, which breaks algebraic loops.
  bool delayed = false;
};

/// A numeric argument of a command or fault, with its valid range.
struct ArgDesc {
  std::string name;
  std::string unit;
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
  double default_value = 0.0;
  std::string doc;
};

/// A command a block accepts ("<block>/<verb>" on the wire and in the command log).
struct CommandDesc {
  std::string verb;
  std::vector<ArgDesc> args;
  std::string doc;
};

/// A fault a block implements ("<block>!<fault>"), scheduled from the scenario or commanded.
struct FaultDesc {
  std::string name;
  std::vector<ArgDesc> params;
  std::string doc;
};

/// How a KPI combines across the worlds of a batch in the run summary.
enum class KpiAggregation : uint8_t { kMean, kSum, kMin, kMax };
const char* KpiAggregationName(KpiAggregation aggregation);

/// A key performance indicator a block reports at the end of a run (or on demand).
struct KpiDesc {
  std::string name;
  std::string unit;
  KpiAggregation across_worlds = KpiAggregation::kMean;
  std::string doc;
};

/// Facts a block may use while declaring itself.
struct DeclareContext {
  int64_t dt_ns = 0;  ///< engine tick length
  double dt_s = 0.0;
  /// The period the scenario asked for (its generic `period` key; 1 when absent). A block that
  /// precomputes its discretisation must use period_s, not dt_s.
  int64_t period_ticks = 1;
  double period_s = 0.0;
  int num_worlds = 1;
};

class GraphBuilder;
class SceneBuilder;

/// Filled by Block::Declare. Field names passed here are local ("temp_K"); the declaration
/// prefixes them with the block name ("room.temp_K").
class BlockDeclaration {
 public:
  BlockDeclaration(GraphBuilder* builder, int block_index)
      : builder_(builder), block_(block_index) {}

  /// Declares an input port; returns its index for BlockIo::In.
  int AddInput(PortDesc port);
  /// Declares an output port backed by the State field "<block>.<port>"; returns its index for
  /// BlockIo::Out. `kind` is usually kOutput (recomputed) or kContinuous (integrated state).
  int AddOutput(PortDesc port, FieldKind kind = FieldKind::kOutput,
                double lower = -std::numeric_limits<double>::infinity(),
                double upper = std::numeric_limits<double>::infinity());
  /// Declares a State field owned by the block; returns its id for BlockIo::Field.
  FieldId AddState(FieldDesc field);
  /// Declares a command; returns its index passed to Block::ApplyCommand.
  int AddCommand(CommandDesc command);
  /// Declares a fault; returns its index passed to Block::ApplyFault.
  int AddFault(FaultDesc fault);
  /// Declares a KPI; returns its index in the span of Block::ComputeKpis.
  int AddKpi(KpiDesc kpi);
  /// The block runs every `ticks` ticks (default 1); each run advances it by ticks * dt.
  void SetPeriodTicks(int64_t ticks);
  void SetPhase(BlockPhase phase);
  /// The block keeps a per-world WorldAux object (created by Block::CreateAux).
  void UseAux();
  /// Reports an error found while declaring (e.g. a period that is not a multiple of dt).
  void Error(const std::string& key, const std::string& value, const std::string& expected);

 private:
  GraphBuilder* builder_;
  int block_;
};

/// Timing facts handed to every block call.
struct TickInfo {
  int64_t tick = 0;     ///< the tick being computed (state goes from tick to tick + period)
  int64_t time_ns = 0;  ///< tick * dt_ns, exact
  int64_t dt_ns = 0;
  double time_s = 0.0;
  double dt_s = 0.0;
  double period_s = 0.0;  ///< period_ticks * dt: the step this call advances the block by
  int64_t period_ticks = 1;
  uint64_t seed = 0;
};

struct BlockBinding;

/// Everything one block may read or write for one world in one call.
class BlockIo {
 public:
  BlockIo(State* state, const BlockBinding* binding, int world) noexcept
      : state_(state), binding_(binding), world_(world) {}

  int world() const { return world_; }
  /// Input port `port` of this world (the connected output, or its previous-tick copy).
  template <class T = double>
  const T* In(int port) const;
  /// Output port `port` of this world.
  template <class T = double>
  T* Out(int port) const;
  /// A State field of this world (any field; normally the block's own).
  template <class T = double>
  T* Field(FieldId id) const {
    return state_->World<T>(id, world_);
  }
  /// This world's auxiliary object (nullptr unless the block called UseAux).
  WorldAux* Aux() const;
  /// A random stream private to this block and world: stream `local_stream` < 4096.
  CounterRng Rng(uint64_t seed, uint32_t local_stream) const;
  State* state() const { return state_; }

 private:
  State* state_;
  const BlockBinding* binding_;
  int world_;
};

/// Base class of every block.
class Block {
 public:
  explicit Block(std::string name) : name_(std::move(name)) {}
  virtual ~Block() = default;
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  const std::string& name() const { return name_; }
  /// The scenario type name ("thermal_network").
  virtual std::string type_name() const = 0;

  /// Declares ports, fields, period, commands, faults and KPIs. Called once when the model is
  /// built; the only place a block may change its own members (to remember field ids).
  virtual void Declare(const DeclareContext& context, BlockDeclaration& declaration) = 0;

  /// Writes the initial state of one world (its fields are zero before). Also used to reset a
  /// world after a numeric failure, so it must depend only on (model, seed, world).
  virtual void InitWorld(const TickInfo& tick, BlockIo& io) const {
    (void)tick;
    (void)io;
  }
  /// Creates the per-world auxiliary object (only called after UseAux()).
  virtual std::unique_ptr<WorldAux> CreateAux(int world) const {
    (void)world;
    return nullptr;
  }
  /// Advances one world by tick.period_s. Must not allocate on the hot path, never throw.
  virtual void Update(const TickInfo& tick, BlockIo& io) const = 0;
  /// Advances worlds [world_begin, world_end). Override for a vectorised implementation.
  virtual void UpdateRange(const TickInfo& tick, State* state, const BlockBinding& binding,
                           int world_begin, int world_end) const;
  /// Applies a validated command (args are within their declared ranges). Like ApplyFault it
  /// may read the block's inputs and read/write its own fields only: on the device path just
  /// those fields are brought to the host for it and sent back (docs/gpu.md).
  virtual void ApplyCommand(const TickInfo& tick, BlockIo& io, int command,
                            std::span<const double> args) const {
    (void)tick, (void)io, (void)command, (void)args;
  }
  /// Starts (active) or ends (!active) a fault with validated parameters.
  virtual void ApplyFault(const TickInfo& tick, BlockIo& io, int fault,
                          std::span<const double> params, bool active) const {
    (void)tick, (void)io, (void)fault, (void)params, (void)active;
  }
  /// True when the block describes 3D geometry (DescribeScene) for recordings.
  virtual bool HasScene() const { return false; }
  /// Adds this world's geometry (in the site frame) to `scene`; called at recorded ticks.
  virtual void DescribeScene(const TickInfo& tick, const BlockIo& io, SceneBuilder& scene) const {
    (void)tick, (void)io, (void)scene;
  }
  /// True when the block has a device update (UpdateDevice), so the device path of the
  /// Simulator (CUDA, or its host emulation) can run it (docs/gpu.md).
  virtual bool SupportsCuda() const { return false; }
  /// Uploads the block's constants for UpdateDevice; nullptr when it needs none.
  virtual std::unique_ptr<DeviceBlockData> CreateDeviceData(gpu::Executor& executor) const {
    (void)executor;
    return nullptr;
  }
  /// Advances every world of the device-resident `state` by tick.period_s: the same per-world
  /// formula as Update, looped by gpu::ForEachWorld. Only called when SupportsCuda().
  virtual void UpdateDevice(const TickInfo& tick, const DeviceState& state,
                            const BlockBinding& binding, const DeviceBlockData* data) const;
  /// Computes this world's KPIs (one value per declared KPI) from its State.
  virtual void ComputeKpis(const TickInfo& tick, const BlockIo& io, std::span<double> kpis) const {
    (void)tick, (void)io, (void)kpis;
  }

 private:
  std::string name_;
};

/// What the graph builder resolved for one block; owned by the Model.
struct BlockBinding {
  int index = 0;
  std::string name;
  std::vector<PortDesc> input_ports;
  std::vector<PortDesc> output_ports;
  std::vector<FieldId> input_fields;   ///< field each input reads (the delayed copy if delayed)
  std::vector<int64_t> input_offsets;  ///< first element read within that field ("port[i]")
  std::vector<FieldId> output_fields;  ///< "<block>.<port>"
  std::vector<FieldId> state_fields;   ///< every field the block declared (outputs included)
  std::vector<CommandDesc> commands;
  std::vector<FaultDesc> faults;
  std::vector<KpiDesc> kpis;
  int64_t period_ticks = 1;
  BlockPhase phase = BlockPhase::kUpdate;
  int aux_slot = -1;
  uint32_t stream_base = 0;  ///< first RNG stream of this block
  int fault_offset = 0;      ///< index of this block's first fault in engine.fault_command_end
  SourceLocation location;   ///< where the block was defined
};

template <class T>
const T* BlockIo::In(int port) const {
  return state_->World<T>(binding_->input_fields[static_cast<size_t>(port)], world_) +
         binding_->input_offsets[static_cast<size_t>(port)];
}
template <class T>
T* BlockIo::Out(int port) const {
  return state_->World<T>(binding_->output_fields[static_cast<size_t>(port)], world_);
}

}  // namespace ftwin
