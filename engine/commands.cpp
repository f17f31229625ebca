#include "engine/commands.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ftwin {
namespace {

std::string RangeText(double lower, double upper) {
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "[%.17g, %.17g]", lower, upper);
  return buffer;
}

bool CheckArgs(const std::vector<ArgDesc>& args, const std::vector<double>& values,
               const std::string& what, std::string* error) {
  for (size_t i = 0; i < args.size() && i < values.size(); ++i) {
    const double value = values[i];
    if (!std::isfinite(value) || value < args[i].lower || value > args[i].upper) {
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, "%.17g", value);
      *error = what + ": argument '" + args[i].name + "' = " + buffer + " is out of range " +
               RangeText(args[i].lower, args[i].upper) + " " + args[i].unit;
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<ResolvedCommand> ResolveCommand(const Model& model, const Command& command,
                                              std::string* error) {
  ResolvedCommand resolved;
  resolved.command = command;
  if (command.world < -1 || command.world >= model.run().num_worlds) {
    *error = "world " + std::to_string(command.world) +
             " does not exist (expected -1 for all, or 0.." +
             std::to_string(model.run().num_worlds - 1) + ")";
    return std::nullopt;
  }
  if (command.tick < 0) {
    *error = "tick must not be negative";
    return std::nullopt;
  }
  const std::string& target = command.target;
  const size_t slash = target.find('/');
  const size_t bang = target.find('!');
  if (slash != std::string::npos || bang != std::string::npos) {
    const bool is_fault = bang != std::string::npos && (slash == std::string::npos || bang < slash);
    const size_t split = is_fault ? bang : slash;
    const std::string block_name = target.substr(0, split);
    const std::string name = target.substr(split + 1);
    resolved.block = model.FindBlock(block_name);
    if (resolved.block < 0) {
      *error = "target '" + target + "': no block named '" + block_name + "'";
      return std::nullopt;
    }
    const BlockBinding& binding = model.binding(resolved.block);
    if (!is_fault) {
      resolved.kind = ResolvedCommand::Kind::kBlockCommand;
      for (size_t i = 0; i < binding.commands.size(); ++i)
        if (binding.commands[i].verb == name) resolved.index = static_cast<int>(i);
      if (resolved.index < 0) {
        std::string verbs;
        for (const CommandDesc& c : binding.commands) verbs += (verbs.empty() ? "" : ", ") + c.verb;
        *error = "target '" + target + "': block '" + block_name + "' has no command '" + name +
                 "' (" + (verbs.empty() ? "it accepts none" : "it accepts: " + verbs) + ")";
        return std::nullopt;
      }
      const CommandDesc& desc = binding.commands[static_cast<size_t>(resolved.index)];
      if (command.values.size() != desc.args.size()) {
        *error = "target '" + target + "': expected " + std::to_string(desc.args.size()) +
                 " values, got " + std::to_string(command.values.size());
        return std::nullopt;
      }
      if (!CheckArgs(desc.args, command.values, "target '" + target + "'", error))
        return std::nullopt;
      return resolved;
    }
    resolved.kind = ResolvedCommand::Kind::kFault;
    for (size_t i = 0; i < binding.faults.size(); ++i)
      if (binding.faults[i].name == name) resolved.index = static_cast<int>(i);
    if (resolved.index < 0) {
      std::string faults;
      for (const FaultDesc& f : binding.faults) faults += (faults.empty() ? "" : ", ") + f.name;
      *error = "target '" + target + "': block '" + block_name + "' has no fault '" + name + "' (" +
               (faults.empty() ? "it implements none" : "it implements: " + faults) + ")";
      return std::nullopt;
    }
    const FaultDesc& desc = binding.faults[static_cast<size_t>(resolved.index)];
    const size_t n = desc.params.size();
    if (command.values.size() != n && command.values.size() != n + 1) {
      *error = "target '" + target + "': expected " + std::to_string(n) + " fault parameters" +
               " (optionally followed by a duration in s), got " +
               std::to_string(command.values.size()) + " values";
      return std::nullopt;
    }
    if (!CheckArgs(desc.params, command.values, "target '" + target + "'", error))
      return std::nullopt;
    if (command.values.size() == n + 1) {
      const double duration_s = command.values[n];
      if (!std::isfinite(duration_s) || duration_s < 0 || duration_s > 1e10) {
        *error = "target '" + target + "': duration must be in [0, 1e10] s";
        return std::nullopt;
      }
      const double ticks = std::ceil(duration_s * 1e9 / static_cast<double>(model.run().dt_ns));
      resolved.duration_ticks = static_cast<int64_t>(ticks);
    }
    return resolved;
  }

  // A field, possibly with an element index.
  std::string field_name = target;
  if (!target.empty() && target.back() == ']') {
    const size_t open = target.rfind('[');
    if (open == std::string::npos) {
      *error = "target '" + target + "': malformed element index";
      return std::nullopt;
    }
    const std::string index_text = target.substr(open + 1, target.size() - open - 2);
    if (index_text.empty() ||
        !std::all_of(index_text.begin(), index_text.end(),
                     [](char c) { return c >= '0' && c <= '9'; }) ||
        index_text.size() > 12) {
      *error = "target '" + target + "': element index must be a non-negative integer";
      return std::nullopt;
    }
    resolved.element = std::stoll(index_text);
    field_name = target.substr(0, open);
  }
  resolved.kind = ResolvedCommand::Kind::kSetField;
  resolved.field = model.schema().Find(field_name);
  if (resolved.field == kInvalidField) {
    *error = "target '" + target + "': no field, block command or fault of that name";
    return std::nullopt;
  }
  const FieldDesc& field = model.schema().field(resolved.field);
  if (field.kind != FieldKind::kInput) {
    *error = "target '" + target + "': field is " + FieldKindName(field.kind) +
             ", only input fields can be set";
    return std::nullopt;
  }
  const int64_t count = field.ElementCount();
  if (resolved.element >= count) {
    *error = "target '" + target + "': element index out of range (field has " +
             std::to_string(count) + " elements)";
    return std::nullopt;
  }
  const size_t expected = resolved.element >= 0 ? 1 : static_cast<size_t>(count);
  if (command.values.size() != expected) {
    *error = "target '" + target + "': expected " + std::to_string(expected) + " values, got " +
             std::to_string(command.values.size());
    return std::nullopt;
  }
  for (double value : command.values) {
    const bool integral = !IsFloating(field.dtype);
    if (!std::isfinite(value) || value < field.lower || value > field.upper ||
        (integral && value != std::floor(value))) {
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, "%.17g", value);
      *error = "target '" + target + "': value " + buffer + " is out of range " +
               RangeText(field.lower, field.upper) + " " + field.unit +
               (integral ? " (integer field)" : "");
      return std::nullopt;
    }
  }
  return resolved;
}

void CommandQueue::Push(ResolvedCommand command) {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.push_back(std::move(command));
}

void CommandQueue::TakeDue(int64_t tick, std::vector<ResolvedCommand>* out) {
  out->clear();
  std::lock_guard<std::mutex> lock(mutex_);
  if (pending_.empty()) return;
  // Stable partition keeps submission order among due commands and among pending ones.
  auto split =
      std::stable_partition(pending_.begin(), pending_.end(),
                            [tick](const ResolvedCommand& c) { return c.command.tick <= tick; });
  std::move(pending_.begin(), split, std::back_inserter(*out));
  pending_.erase(pending_.begin(), split);
}

size_t CommandQueue::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pending_.size();
}

void CommandQueue::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.clear();
}

std::vector<Command> CommandLog::From(int64_t tick) const {
  std::vector<Command> result;
  for (const Command& entry : entries_)
    if (entry.tick >= tick) result.push_back(entry);
  return result;
}

std::string CommandLog::ToJsonLines() const {
  std::string text;
  for (const Command& entry : entries_) {
    nlohmann::json line;
    line["tick"] = entry.tick;
    line["world"] = entry.world;
    line["target"] = entry.target;
    line["values"] = entry.values;  // nlohmann writes doubles round-trip exactly
    line["origin"] = entry.origin;
    text += line.dump() + "\n";
  }
  return text;
}

std::vector<Command> CommandLog::ParseJsonLines(const std::string& text, const std::string& file) {
  std::vector<Command> commands;
  Diagnostics diagnostics;
  std::istringstream stream(text);
  std::string line;
  int line_number = 0;
  while (std::getline(stream, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const SourceLocation location{file, line_number, 0};
    try {
      const nlohmann::json json = nlohmann::json::parse(line);
      Command command;
      command.tick = json.at("tick").get<int64_t>();
      command.world = json.at("world").get<int32_t>();
      command.target = json.at("target").get<std::string>();
      command.values = json.at("values").get<std::vector<double>>();
      if (json.contains("origin")) command.origin = json.at("origin").get<std::string>();
      commands.push_back(std::move(command));
    } catch (const nlohmann::json::exception& error) {
      diagnostics.Add(location, "", "",
                      std::string("expected a command log entry: ") + error.what());
    }
  }
  if (!diagnostics.ok()) throw InputError(diagnostics);
  return commands;
}

}  // namespace ftwin
