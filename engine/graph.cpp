#include "engine/graph.h"

#include "engine/units.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

namespace ftwin {
namespace {

// Splits "block.port" at the first dot.
bool SplitEndpoint(const std::string& text, std::string* block, std::string* port) {
  const size_t dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) return false;
  *block = text.substr(0, dot);
  *port = text.substr(dot + 1);
  return true;
}

std::string DescribePort(const PortDesc& port) {
  return std::string(DTypeName(port.dtype)) + "[" + std::to_string(port.size) + "] in '" +
         port.unit + "'";
}

}  // namespace

const char* KpiAggregationName(KpiAggregation aggregation) {
  switch (aggregation) {
    case KpiAggregation::kMean:
      return "mean";
    case KpiAggregation::kSum:
      return "sum";
    case KpiAggregation::kMin:
      return "min";
    case KpiAggregation::kMax:
      return "max";
  }
  return "?";
}

// ---- BlockDeclaration ----

int BlockDeclaration::AddInput(PortDesc port) {
  BlockBinding& binding = builder_->model_->bindings_[static_cast<size_t>(block_)];
  for (const PortDesc& existing : binding.input_ports)
    if (existing.name == port.name)
      builder_->AddError(binding.location, binding.name + "." + port.name, "",
                         "input port declared twice");
  binding.input_ports.push_back(std::move(port));
  binding.input_fields.push_back(kInvalidField);
  binding.input_offsets.push_back(0);
  return static_cast<int>(binding.input_ports.size()) - 1;
}

int BlockDeclaration::AddOutput(PortDesc port, FieldKind kind, double lower, double upper) {
  BlockBinding& binding = builder_->model_->bindings_[static_cast<size_t>(block_)];
  FieldDesc field;
  field.name = port.name;
  field.dtype = port.dtype;
  if (port.size != 1) field.shape = {port.size};
  field.unit = port.unit;
  field.kind = kind;
  field.doc = port.doc;
  field.lower = lower;
  field.upper = upper;
  const FieldId id = AddState(std::move(field));
  binding.output_ports.push_back(std::move(port));
  binding.output_fields.push_back(id);
  return static_cast<int>(binding.output_ports.size()) - 1;
}

FieldId BlockDeclaration::AddState(FieldDesc field) {
  BlockBinding& binding = builder_->model_->bindings_[static_cast<size_t>(block_)];
  field.owner = binding.name;
  field.name = binding.name + "." + field.name;
  if (field.ElementCount() < 0) {
    builder_->AddError(binding.location, field.name, "", "field shape must not be negative");
    return kInvalidField;
  }
  const std::string name = field.name;
  const FieldId id = builder_->model_->schema_->Add(std::move(field));
  if (id == kInvalidField) {
    builder_->AddError(binding.location, name, "", "state field declared twice");
    return kInvalidField;
  }
  binding.state_fields.push_back(id);
  return id;
}

int BlockDeclaration::AddCommand(CommandDesc command) {
  BlockBinding& binding = builder_->model_->bindings_[static_cast<size_t>(block_)];
  binding.commands.push_back(std::move(command));
  return static_cast<int>(binding.commands.size()) - 1;
}

int BlockDeclaration::AddFault(FaultDesc fault) {
  BlockBinding& binding = builder_->model_->bindings_[static_cast<size_t>(block_)];
  binding.faults.push_back(std::move(fault));
  return static_cast<int>(binding.faults.size()) - 1;
}

int BlockDeclaration::AddKpi(KpiDesc kpi) {
  BlockBinding& binding = builder_->model_->bindings_[static_cast<size_t>(block_)];
  binding.kpis.push_back(std::move(kpi));
  return static_cast<int>(binding.kpis.size()) - 1;
}

void BlockDeclaration::SetPeriodTicks(int64_t ticks) {
  BlockBinding& binding = builder_->model_->bindings_[static_cast<size_t>(block_)];
  if (ticks < 1) {
    builder_->AddError(binding.location, binding.name + ".period", std::to_string(ticks),
                       "expected a period of at least one tick");
    return;
  }
  binding.period_ticks = ticks;
}

void BlockDeclaration::SetPhase(BlockPhase phase) {
  builder_->model_->bindings_[static_cast<size_t>(block_)].phase = phase;
}

void BlockDeclaration::UseAux() {
  BlockBinding& binding = builder_->model_->bindings_[static_cast<size_t>(block_)];
  if (binding.aux_slot < 0) binding.aux_slot = builder_->model_->num_aux_slots_++;
}

void BlockDeclaration::Error(const std::string& key, const std::string& value,
                             const std::string& expected) {
  const BlockBinding& binding = builder_->model_->bindings_[static_cast<size_t>(block_)];
  builder_->AddError(binding.location, binding.name + (key.empty() ? "" : "." + key), value,
                     expected);
}

// ---- GraphBuilder ----

GraphBuilder::GraphBuilder(RunConfig run) : model_(std::make_shared<Model>()) {
  model_->run_ = run;
  model_->schema_ = std::make_shared<Schema>();
}

GraphBuilder::~GraphBuilder() = default;

int GraphBuilder::AddBlock(std::unique_ptr<Block> block, SourceLocation location,
                           int64_t period_ticks) {
  const int index = static_cast<int>(model_->blocks_.size());
  const std::string& name = block->name();
  bool valid_name = !name.empty();
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) valid_name = false;
  if (!valid_name)
    AddError(location, "name", name, "expected a block name of letters, digits, '_' or '-'");
  if (model_->FindBlock(name) >= 0)
    AddError(location, "name", name, "expected a unique block name (this one is already used)");
  BlockBinding binding;
  binding.index = index;
  binding.name = name;
  binding.location = location;
  binding.stream_base = kStreamBlockBase + static_cast<uint32_t>(index) * kStreamsPerBlock;
  model_->bindings_.push_back(std::move(binding));
  model_->blocks_.push_back(std::move(block));
  DeclareContext context;
  context.dt_ns = model_->run_.dt_ns;
  context.dt_s = NsToSeconds(model_->run_.dt_ns);
  context.period_ticks = std::max<int64_t>(1, period_ticks);
  context.period_s = context.dt_s * static_cast<double>(context.period_ticks);
  model_->bindings_.back().period_ticks = context.period_ticks;
  context.num_worlds = model_->run_.num_worlds;
  BlockDeclaration declaration(this, index);
  model_->blocks_.back()->Declare(context, declaration);
  const BlockBinding& declared = model_->bindings_.back();
  if (period_ticks > 0 && declared.period_ticks != period_ticks)
    AddError(declared.location, name + ".period", std::to_string(period_ticks) + " ticks",
             "expected the period the block chose itself (" +
                 std::to_string(declared.period_ticks) + " ticks)");
  return index;
}

void GraphBuilder::Connect(const std::string& from, const std::string& to, SourceLocation location,
                           bool delayed) {
  connections_.push_back({from, to, std::move(location), delayed});
}

void GraphBuilder::AddFault(FaultSpec fault) { fault_specs_.push_back(std::move(fault)); }

std::shared_ptr<const Model> GraphBuilder::Build() {
  if (built_) throw std::logic_error("GraphBuilder::Build called twice");
  built_ = true;
  Model& model = *model_;
  const int num_blocks = model.num_blocks();
  std::vector<std::vector<int>> successors(static_cast<size_t>(num_blocks));
  // For loop reports: which connection makes the edge a -> b.
  std::map<std::pair<int, int>, std::string> edge_label;

  // 1. Resolve connections.
  for (const Connection& connection : connections_) {
    std::string from_block, from_port, to_block, to_port;
    // An element selector "port[i]" reads one element of a vector output.
    int64_t element = -1;
    std::string from_text = connection.from;
    if (!from_text.empty() && from_text.back() == ']') {
      const size_t open = from_text.rfind('[');
      const std::string digits =
          open == std::string::npos ? "" : from_text.substr(open + 1, from_text.size() - open - 2);
      if (digits.empty() || digits.size() > 9 ||
          !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        AddError(connection.location, "connections.from", connection.from,
                 "expected '<block>.<output port>' or '<block>.<output port>[index]'");
        continue;
      }
      element = std::stoll(digits);
      from_text = from_text.substr(0, open);
    }
    if (!SplitEndpoint(from_text, &from_block, &from_port)) {
      AddError(connection.location, "connections.from", connection.from,
               "expected '<block>.<output port>'");
      continue;
    }
    if (!SplitEndpoint(connection.to, &to_block, &to_port)) {
      AddError(connection.location, "connections.to", connection.to,
               "expected '<block>.<input port>'");
      continue;
    }
    const int source = model.FindBlock(from_block);
    const int target = model.FindBlock(to_block);
    if (source < 0) {
      AddError(connection.location, "connections.from", connection.from,
               "expected the name of a block (no block '" + from_block + "')");
      continue;
    }
    if (target < 0) {
      AddError(connection.location, "connections.to", connection.to,
               "expected the name of a block (no block '" + to_block + "')");
      continue;
    }
    BlockBinding& source_binding = model.bindings_[static_cast<size_t>(source)];
    BlockBinding& target_binding = model.bindings_[static_cast<size_t>(target)];
    int output = -1;
    for (size_t i = 0; i < source_binding.output_ports.size(); ++i)
      if (source_binding.output_ports[i].name == from_port) output = static_cast<int>(i);
    int input = -1;
    for (size_t i = 0; i < target_binding.input_ports.size(); ++i)
      if (target_binding.input_ports[i].name == to_port) input = static_cast<int>(i);
    if (output < 0) {
      std::string names;
      for (const PortDesc& port : source_binding.output_ports)
        names += (names.empty() ? "" : ", ") + port.name;
      AddError(connection.location, "connections.from", connection.from,
               "expected an output port of '" + from_block + "' (" +
                   (names.empty() ? "it has none" : "one of: " + names) + ")");
      continue;
    }
    if (input < 0) {
      std::string names;
      for (const PortDesc& port : target_binding.input_ports)
        names += (names.empty() ? "" : ", ") + port.name;
      AddError(connection.location, "connections.to", connection.to,
               "expected an input port of '" + to_block + "' (" +
                   (names.empty() ? "it has none" : "one of: " + names) + ")");
      continue;
    }
    PortDesc out_port = source_binding.output_ports[static_cast<size_t>(output)];
    const PortDesc& in_port = target_binding.input_ports[static_cast<size_t>(input)];
    if (element >= 0) {
      if (element >= out_port.size) {
        AddError(connection.location, "connections.from", connection.from,
                 "element index out of range: output '" + from_text + "' has " +
                     std::to_string(out_port.size) + " elements");
        continue;
      }
      out_port.size = 1;
    }
    if (out_port.dtype != in_port.dtype || out_port.size != in_port.size) {
      AddError(connection.location, "connections", connection.from + " -> " + connection.to,
               "type mismatch: output is " + DescribePort(out_port) + ", input expects " +
                   DescribePort(in_port));
      continue;
    }
    if (out_port.unit != in_port.unit) {
      AddError(connection.location, "connections", connection.from + " -> " + connection.to,
               "unit mismatch: output is in '" + out_port.unit + "', input expects '" +
                   in_port.unit + "'");
      continue;
    }
    if (target_binding.input_fields[static_cast<size_t>(input)] != kInvalidField) {
      AddError(connection.location, "connections.to", connection.to,
               "expected each input to be connected once (this input already has a source)");
      continue;
    }
    const FieldId source_field = source_binding.output_fields[static_cast<size_t>(output)];
    target_binding.input_offsets[static_cast<size_t>(input)] = element < 0 ? 0 : element;
    if (in_port.delayed || connection.delayed) {
      // The input reads a copy refreshed at the end of each tick: last tick's value.
      FieldDesc copy = model.schema_->field(source_field);
      copy.name = target_binding.name + "." + in_port.name + "@previous";
      copy.owner = target_binding.name;
      copy.kind = FieldKind::kScratch;
      copy.checked = false;
      copy.doc = "previous-tick copy of " + connection.from + " for delayed input";
      const FieldId copy_id = model.schema_->Add(std::move(copy));
      model.delayed_copies_.push_back({source_field, copy_id});
      target_binding.input_fields[static_cast<size_t>(input)] = copy_id;
    } else {
      target_binding.input_fields[static_cast<size_t>(input)] = source_field;
      // Only same-phase edges order blocks: a kUpdate block reading a sensor sees the value
      // the sensor wrote at the end of the previous tick.
      if (source_binding.phase == target_binding.phase) {
        successors[static_cast<size_t>(source)].push_back(target);
        edge_label[{source, target}] = connection.from + " -> " + connection.to;
      } else if (source_binding.phase == BlockPhase::kUpdate &&
                 target_binding.phase == BlockPhase::kPostUpdate) {
        // Already ordered by phase.
      }
    }
  }

  // 2. Every input must be connected.
  for (const BlockBinding& binding : model.bindings_)
    for (size_t i = 0; i < binding.input_ports.size(); ++i)
      if (binding.input_fields[i] == kInvalidField)
        AddError(binding.location, binding.name + "." + binding.input_ports[i].name, "",
                 "input is not connected: add a connection to it (" +
                     DescribePort(binding.input_ports[i]) + ")");

  // 3. Schedule each phase: Kahn's algorithm, lowest block index first (deterministic).
  for (BlockPhase phase : {BlockPhase::kUpdate, BlockPhase::kPostUpdate}) {
    std::vector<int> in_degree(static_cast<size_t>(num_blocks), 0);
    std::set<int> members;
    for (int b = 0; b < num_blocks; ++b)
      if (model.bindings_[static_cast<size_t>(b)].phase == phase) members.insert(b);
    for (int b : members)
      for (int next : successors[static_cast<size_t>(b)]) ++in_degree[static_cast<size_t>(next)];
    std::set<int> ready;
    for (int b : members)
      if (in_degree[static_cast<size_t>(b)] == 0) ready.insert(b);
    std::vector<int>& order =
        phase == BlockPhase::kUpdate ? model.update_order_ : model.post_update_order_;
    while (!ready.empty()) {
      const int b = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(b);
      for (int next : successors[static_cast<size_t>(b)])
        if (--in_degree[static_cast<size_t>(next)] == 0) ready.insert(next);
    }
    if (order.size() != members.size()) {
      // Walk the remaining graph to name one cycle.
      std::set<int> remaining;
      for (int b : members)
        if (std::find(order.begin(), order.end(), b) == order.end()) remaining.insert(b);
      int current = *remaining.begin();
      std::vector<int> path;
      std::map<int, size_t> seen;
      while (seen.count(current) == 0) {
        seen[current] = path.size();
        path.push_back(current);
        for (int next : successors[static_cast<size_t>(current)])
          if (remaining.count(next) != 0) {
            current = next;
            break;
          }
      }
      std::string cycle;
      for (size_t i = seen[current]; i < path.size(); ++i) {
        const int a = path[i];
        const int b = i + 1 < path.size() ? path[i + 1] : current;
        cycle += (cycle.empty() ? "" : ", ") + edge_label[{a, b}];
      }
      AddError(model.bindings_[static_cast<size_t>(current)].location, "connections", cycle,
               "algebraic loop: declare one input on this cycle delayed (or add a delay block)");
    }
  }

  // 4. Engine fields and faults.
  FieldDesc resets{.name = "engine.resets",
                   .owner = "engine",
                   .dtype = DType::kInt64,
                   .shape = {},
                   .unit = "1",
                   .kind = FieldKind::kDiscrete,
                   .doc = "numeric resets of this world (NaN/Inf/out-of-range after a tick)"};
  model.resets_field_ = model.schema_->Add(resets);
  const int num_faults = static_cast<int>(fault_specs_.size());
  auto add_fault_field = [&](const char* name, const char* doc) {
    FieldDesc field{.name = name,
                    .owner = "engine",
                    .dtype = DType::kInt64,
                    .shape = {num_faults},
                    .unit = "1",
                    .kind = FieldKind::kDiscrete,
                    .doc = doc};
    return model.schema_->Add(field);
  };
  model.fault_next_tick_field_ =
      add_fault_field("engine.fault_next_tick", "tick of each fault's next onset (-1 = none)");
  model.fault_end_tick_field_ =
      add_fault_field("engine.fault_end_tick", "tick each active fault ends (-1 = inactive)");
  model.fault_count_field_ = add_fault_field("engine.fault_count", "onsets of each fault so far");
  int declared_faults = 0;
  for (BlockBinding& binding : model.bindings_) {
    binding.fault_offset = declared_faults;
    declared_faults += static_cast<int>(binding.faults.size());
  }
  model.fault_command_end_field_ = model.schema_->Add(
      FieldDesc{.name = "engine.fault_command_end",
                .owner = "engine",
                .dtype = DType::kInt64,
                .shape = {declared_faults},
                .unit = "1",
                .kind = FieldKind::kDiscrete,
                .doc = "end tick of each commanded fault (-1 = none or until cleared)"});

  const double dt_ns = static_cast<double>(model.run_.dt_ns);
  for (const FaultSpec& spec : fault_specs_) {
    ScheduledFault fault;
    fault.location = spec.location;
    fault.block = model.FindBlock(spec.block);
    if (fault.block < 0) {
      AddError(spec.location, "faults.block", spec.block, "expected the name of a block");
      continue;
    }
    const BlockBinding& binding = model.bindings_[static_cast<size_t>(fault.block)];
    fault.fault = -1;
    std::string known;
    for (size_t i = 0; i < binding.faults.size(); ++i) {
      if (binding.faults[i].name == spec.fault) fault.fault = static_cast<int>(i);
      known += (known.empty() ? "" : ", ") + binding.faults[i].name;
    }
    if (fault.fault < 0) {
      AddError(spec.location, "faults.fault", spec.fault,
               "expected a fault of block '" + spec.block + "' (" +
                   (known.empty() ? "it implements none" : "one of: " + known) + ")");
      continue;
    }
    const FaultDesc& desc = binding.faults[static_cast<size_t>(fault.fault)];
    for (const ArgDesc& param : desc.params) fault.params.push_back(param.default_value);
    for (const auto& [name, value] : spec.params) {
      bool found = false;
      for (size_t i = 0; i < desc.params.size(); ++i) {
        if (desc.params[i].name != name) continue;
        found = true;
        if (!(value >= desc.params[i].lower && value <= desc.params[i].upper))
          AddError(spec.location, "faults.params." + name, std::to_string(value),
                   "expected a value in [" + std::to_string(desc.params[i].lower) + ", " +
                       std::to_string(desc.params[i].upper) + "] " + desc.params[i].unit);
        fault.params[i] = value;
      }
      if (!found) AddError(spec.location, "faults.params." + name, "", "unknown fault parameter");
    }
    if (spec.at_ns >= 0) {
      if (spec.at_ns % model.run_.dt_ns != 0)
        AddError(spec.location, "faults.at", std::to_string(spec.at_ns) + " ns",
                 "expected a multiple of the tick length dt");
      fault.start_tick = spec.at_ns / model.run_.dt_ns;
    } else {
      fault.random = true;
      if (spec.mean_interval_ns <= 0)
        AddError(spec.location, "faults", "",
                 "expected either 'at' (a fixed time) or 'mean_interval' (a random fault)");
      fault.mean_interval_ticks = static_cast<double>(spec.mean_interval_ns) / dt_ns;
    }
    fault.duration_ticks = (spec.duration_ns + model.run_.dt_ns - 1) / model.run_.dt_ns;
    for (int world : spec.worlds)
      if (world < 0 || world >= model.run_.num_worlds)
        AddError(spec.location, "faults.worlds", std::to_string(world),
                 "expected world indices in [0, " + std::to_string(model.run_.num_worlds) + ")");
    fault.worlds = spec.worlds;
    model.faults_.push_back(std::move(fault));
  }

  for (FieldId id = 0; id < model.schema_->size(); ++id) {
    const FieldDesc& field = model.schema_->field(id);
    if (IsFloating(field.dtype) && field.checked && field.kind != FieldKind::kScratch)
      model.checked_fields_.push_back(id);
  }

  if (!diagnostics_.ok()) throw InputError(diagnostics_);
  return model_;
}

}  // namespace ftwin
