// Small blocks used by the engine tests: each has a behaviour simple enough to check exactly.
#pragma once

#include <cmath>
#include <memory>
#include <string>

#include "engine/block.h"
#include "engine/graph.h"
#include "engine/simulator.h"

namespace ftwin::testing {

/// Counts how often it ran and remembers the ticks of its first runs; random walk output.
class CountingBlock final : public Block {
 public:
  CountingBlock(std::string name, int64_t period_ticks)
      : Block(std::move(name)), period_(period_ticks) {}
  std::string type_name() const override { return "counting"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    d.SetPeriodTicks(period_);
    runs_ = d.AddState(
        {.name = "runs", .dtype = DType::kInt64, .unit = "1", .kind = FieldKind::kDiscrete});
    last_tick_ = d.AddState(
        {.name = "last_tick", .dtype = DType::kInt64, .unit = "1", .kind = FieldKind::kDiscrete});
    bad_period_ = d.AddState(
        {.name = "bad_period", .dtype = DType::kInt64, .unit = "1", .kind = FieldKind::kDiscrete});
    walk_ = d.AddOutput({.name = "walk", .unit = "1"}, FieldKind::kContinuous);
    gain_ = d.AddState(
        {.name = "gain", .unit = "1", .kind = FieldKind::kInput, .lower = -10, .upper = 10});
    d.AddCommand(
        {.verb = "kick", .args = {{.name = "amount", .unit = "1", .lower = -100, .upper = 100}}});
    d.AddFault({.name = "freeze", .params = {}});
    frozen_ = d.AddState(
        {.name = "frozen", .dtype = DType::kUInt8, .unit = "1", .kind = FieldKind::kDiscrete});
    d.AddKpi({.name = "runs", .unit = "1", .across_worlds = KpiAggregation::kSum});
    d.AddKpi({.name = "walk", .unit = "1"});
  }
  void InitWorld(const TickInfo&, BlockIo& io) const override {
    io.Field<int64_t>(last_tick_)[0] = -1;
    io.Field<double>(gain_)[0] = 1.0;
  }
  void Update(const TickInfo& tick, BlockIo& io) const override {
    int64_t& last = io.Field<int64_t>(last_tick_)[0];
    if (last >= 0 && tick.tick - last != period_) ++io.Field<int64_t>(bad_period_)[0];
    if (tick.tick % period_ != 0) ++io.Field<int64_t>(bad_period_)[0];
    last = tick.tick;
    ++io.Field<int64_t>(runs_)[0];
    if (io.Field<uint8_t>(frozen_)[0]) return;
    const CounterRng rng = io.Rng(tick.seed, 0);
    io.Out(walk_)[0] += io.Field<double>(gain_)[0] * rng.Normal(static_cast<uint64_t>(tick.tick));
  }
  void ApplyCommand(const TickInfo&, BlockIo& io, int,
                    std::span<const double> args) const override {
    io.Out(walk_)[0] += args[0];
  }
  void ApplyFault(const TickInfo&, BlockIo& io, int, std::span<const double>,
                  bool active) const override {
    io.Field<uint8_t>(frozen_)[0] = active;
  }
  void ComputeKpis(const TickInfo&, const BlockIo& io, std::span<double> kpis) const override {
    kpis[0] = static_cast<double>(io.Field<int64_t>(runs_)[0]);
    kpis[1] = io.Out(walk_)[0];
  }
  FieldId runs_ = kInvalidField, last_tick_ = kInvalidField, bad_period_ = kInvalidField,
          gain_ = kInvalidField, frozen_ = kInvalidField;
  int walk_ = -1;

 private:
  int64_t period_;
};

/// y' = -y/tau + u, integrated exactly (zero-order hold on u). Input "u", output "y".
class FirstOrderBlock final : public Block {
 public:
  FirstOrderBlock(std::string name, double tau_s, bool delayed_input = false,
                  std::string unit = "1")
      : Block(std::move(name)), tau_s_(tau_s), delayed_(delayed_input), unit_(std::move(unit)) {}
  std::string type_name() const override { return "first_order"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    in_ = d.AddInput({.name = "u", .unit = unit_, .delayed = delayed_});
    out_ = d.AddOutput({.name = "y", .unit = unit_}, FieldKind::kContinuous);
  }
  void InitWorld(const TickInfo&, BlockIo& io) const override { io.Out(out_)[0] = 1.0; }
  void Update(const TickInfo& tick, BlockIo& io) const override {
    const double decay = std::exp(-tick.period_s / tau_s_);
    double& y = io.Out(out_)[0];
    y = y * decay + tau_s_ * (1.0 - decay) * io.In(in_)[0];
  }
  int in_ = -1, out_ = -1;

 private:
  double tau_s_;
  bool delayed_;
  std::string unit_;
};

/// A constant output of a chosen dtype, size and unit (for graph-checking tests).
class ConstantBlock final : public Block {
 public:
  ConstantBlock(std::string name, double value, std::string unit = "1", int size = 1,
                DType dtype = DType::kFloat64)
      : Block(std::move(name)), value_(value), unit_(std::move(unit)), size_(size), dtype_(dtype) {}
  std::string type_name() const override { return "constant"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    out_ = d.AddOutput({.name = "y", .dtype = dtype_, .size = size_, .unit = unit_});
  }
  void InitWorld(const TickInfo&, BlockIo& io) const override { Update({}, io); }
  void Update(const TickInfo&, BlockIo& io) const override {
    if (dtype_ != DType::kFloat64) return;
    for (int i = 0; i < size_; ++i) io.Out(out_)[i] = value_;
  }
  int out_ = -1;

 private:
  double value_;
  std::string unit_;
  int size_;
  DType dtype_;
};

/// Produces NaN in one chosen world at one chosen tick; otherwise integrates a ramp.
class NanBlock final : public Block {
 public:
  NanBlock(std::string name, int bad_world, int64_t bad_tick)
      : Block(std::move(name)), bad_world_(bad_world), bad_tick_(bad_tick) {}
  std::string type_name() const override { return "nan"; }
  void Declare(const DeclareContext&, BlockDeclaration& d) override {
    out_ = d.AddOutput({.name = "x", .unit = "1"}, FieldKind::kContinuous);
  }
  void Update(const TickInfo& tick, BlockIo& io) const override {
    double& x = io.Out(out_)[0];
    x += 1.0 + 0.001 * io.world();
    if (io.world() == bad_world_ && tick.tick == bad_tick_) x = std::nan("");
  }
  int out_ = -1;

 private:
  int bad_world_;
  int64_t bad_tick_;
};

}  // namespace ftwin::testing
