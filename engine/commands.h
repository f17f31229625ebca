// Commands: tick-stamped inputs from controllers, scripts and operators, validated on entry,
// applied in PreUpdate, and logged so that a snapshot plus the log replays a run exactly
// (DESIGN.md §2.10).
//
// A command's target is one of
//   "<field>"          set an input field (kind kInput): one value per element
//   "<field>[i]"       set element i of an input field: one value
//   "<block>/<verb>"   a block command: one value per declared argument
//   "<block>!<fault>"  inject a fault: one value per fault parameter, optionally followed by a
//                      duration [s] (0 = clear the fault now; omitted = until cleared)
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.h"

namespace ftwin {

/// A command as submitted.
struct Command {
  int64_t tick = 0;    ///< apply before computing this tick (a past tick means "now")
  int32_t world = -1;  ///< target world, -1 = every world
  std::string target;
  std::vector<double> values;
  std::string origin;  ///< who sent it (for logs), e.g. "scenario", "bridge:ctrl1"
};

/// A command checked against the model.
struct ResolvedCommand {
  enum class Kind : uint8_t { kSetField, kBlockCommand, kFault };
  Kind kind = Kind::kSetField;
  Command command;                ///< as submitted (tick possibly moved to the applied tick)
  FieldId field = kInvalidField;  ///< kSetField
  int64_t element = -1;           ///< kSetField: one element, or -1 for the whole field
  int block = -1;                 ///< kBlockCommand, kFault
  int index = -1;                 ///< command or fault index within the block
  int64_t duration_ticks = -1;    ///< kFault: -1 = until cleared, 0 = clear now
};

/// Validates a command against the model. On error returns nullopt and sets `error` to a
/// message naming the field and what was expected.
std::optional<ResolvedCommand> ResolveCommand(const Model& model, const Command& command,
                                              std::string* error);

/// Thread-safe queue of validated commands waiting for their tick.
class CommandQueue {
 public:
  void Push(ResolvedCommand command);
  /// Moves every command with tick <= `tick` into `out` (cleared first), in submission order.
  void TakeDue(int64_t tick, std::vector<ResolvedCommand>* out);
  size_t size() const;
  void Clear();

 private:
  mutable std::mutex mutex_;
  std::vector<ResolvedCommand> pending_;
};

/// The commands applied in a run, in the order applied, with the tick they applied at.
class CommandLog {
 public:
  void Append(const ResolvedCommand& command) { entries_.push_back(command.command); }
  const std::vector<Command>& entries() const { return entries_; }
  void Clear() { entries_.clear(); }
  /// The entries with tick >= `tick` (for replay from a snapshot taken at `tick`).
  std::vector<Command> From(int64_t tick) const;
  /// JSON lines, one command per line: {"tick":..,"world":..,"target":..,"values":[..],"origin":..}
  /// Values are written with 17 significant digits so they read back bit-exactly.
  std::string ToJsonLines() const;
  /// Parses ToJsonLines output; throws InputError naming the line on malformed input.
  static std::vector<Command> ParseJsonLines(const std::string& text, const std::string& file);

 private:
  std::vector<Command> entries_;
};

}  // namespace ftwin
