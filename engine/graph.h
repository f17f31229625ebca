// GraphBuilder: collects blocks, connections and faults, checks the graph and compiles the
// immutable Model (DESIGN.md §2.4, after Drake's DiagramBuilder::Build()). Rejected:
// unconnected inputs, unknown ports, dtype/size/unit mismatches, inputs connected twice and
// algebraic loops (a cycle with no delayed input on it).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/block.h"
#include "engine/diagnostics.h"
#include "engine/model.h"

namespace ftwin {

/// A fault as written in a scenario, before resolution.
struct FaultSpec {
  std::string block;
  std::string fault;
  std::vector<std::pair<std::string, double>> params;  ///< by name; missing ones take defaults
  int64_t at_ns = -1;            ///< fixed onset time, or -1 for a random fault
  int64_t mean_interval_ns = 0;  ///< random faults: mean time between onsets
  int64_t duration_ns = 0;       ///< 0 = permanent
  std::vector<int> worlds;       ///< empty = all
  SourceLocation location;
};

class GraphBuilder {
 public:
  explicit GraphBuilder(RunConfig run);
  ~GraphBuilder();

  /// Adds a block; its name must be unique. Returns the block index. `period_ticks` > 0 makes
  /// the block run every that many ticks (the scenario's generic `period` key) unless the block
  /// chose another period itself, which is an error.
  int AddBlock(std::unique_ptr<Block> block, SourceLocation location = {},
               int64_t period_ticks = 0);
  /// Connects output "a.port" (or one element of it, "a.port[i]") to input "b.port".
  /// `delayed`: the input reads the value the output had at the start of the tick (a copy
  /// refreshed at the end of each tick), which breaks algebraic loops.
  void Connect(const std::string& from, const std::string& to, SourceLocation location = {},
               bool delayed = false);
  /// Adds a scheduled or random fault.
  void AddFault(FaultSpec fault);
  /// Checks everything and returns the model; throws InputError with every problem found.
  std::shared_ptr<const Model> Build();

 private:
  friend class BlockDeclaration;
  struct Connection {
    std::string from;
    std::string to;
    SourceLocation location;
    bool delayed = false;
  };
  void AddError(SourceLocation location, std::string key, std::string value, std::string expected) {
    diagnostics_.Add(std::move(location), std::move(key), std::move(value), std::move(expected));
  }
  std::shared_ptr<Model> model_;
  std::vector<Connection> connections_;
  std::vector<FaultSpec> fault_specs_;
  Diagnostics diagnostics_;
  bool built_ = false;
};

}  // namespace ftwin
