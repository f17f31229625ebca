// Reading parameters from a YAML mapping with validation: every accessor checks type and
// range and records a Diagnostic (file, line, key path, value, expectation) instead of
// throwing, so all errors of a file are reported at once. Finish() reports unknown keys.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/diagnostics.h"

namespace ftwin {

/// The allowed range of a number; `unit` is shown in messages.
struct NumberRange {
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
  bool lower_open = false;  ///< lower bound excluded (e.g. strictly positive)
  std::string unit;
  static NumberRange Positive(std::string unit) {
    return {0.0, std::numeric_limits<double>::infinity(), true, std::move(unit)};
  }
  static NumberRange NonNegative(std::string unit) {
    return {0.0, std::numeric_limits<double>::infinity(), false, std::move(unit)};
  }
  static NumberRange Between(double lower, double upper, std::string unit) {
    return {lower, upper, false, std::move(unit)};
  }
  static NumberRange Fraction() { return {0.0, 1.0, false, "1"}; }
  static NumberRange Any(std::string unit) {
    return {-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
            false, std::move(unit)};
  }
};

class ParamReader {
 public:
  /// `node` must be a mapping (reported otherwise). `path` is the key path of the node
  /// ("blocks[2]"); `base_dir` resolves relative file names.
  ParamReader(YAML::Node node, std::string file, std::string path, Diagnostics* diagnostics,
              std::filesystem::path base_dir = {});

  bool Has(const std::string& key) const;
  /// Numbers. Missing key: the default (Required*: an error).
  double Number(const std::string& key, double default_value, const NumberRange& range);
  double RequiredNumber(const std::string& key, const NumberRange& range);
  int64_t Integer(const std::string& key, int64_t default_value, int64_t lower, int64_t upper);
  int64_t RequiredInteger(const std::string& key, int64_t lower, int64_t upper);
  bool Bool(const std::string& key, bool default_value);
  std::string String(const std::string& key, const std::string& default_value);
  std::string RequiredString(const std::string& key);
  /// One of `choices`.
  std::string Choice(const std::string& key, const std::string& default_value,
                     const std::vector<std::string>& choices);
  /// A duration with a unit ("15min") as integer nanoseconds; bare numbers are rejected.
  int64_t DurationNs(const std::string& key, int64_t default_value, int64_t lower_ns = 0);
  int64_t RequiredDurationNs(const std::string& key, int64_t lower_ns = 0);
  /// A list of numbers (each checked against range); `min_size`..`max_size` entries.
  std::vector<double> NumberList(const std::string& key, const NumberRange& range,
                                 size_t min_size = 0, size_t max_size = SIZE_MAX,
                                 bool required = true);
  /// A path to an existing file, resolved against base_dir.
  std::filesystem::path ExistingFile(const std::string& key, bool required = true);
  /// A nested mapping (empty reader when missing and !required).
  ParamReader Child(const std::string& key, bool required = false);
  /// A list of mappings.
  std::vector<ParamReader> ChildList(const std::string& key, bool required = false);
  /// Raw node access for special formats (marks the key as used).
  YAML::Node Raw(const std::string& key);

  /// Reports keys that no accessor asked for ("unknown key").
  void Finish();
  /// Records an error at `key` (or at the node itself when key is empty).
  void Error(const std::string& key, const std::string& value, const std::string& expected);

  SourceLocation LocationOf(const std::string& key) const;
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  const std::filesystem::path& base_dir() const { return base_dir_; }
  Diagnostics* diagnostics() const { return diagnostics_; }
  YAML::Node node() const { return node_; }
  /// Marks keys as handled elsewhere (so Finish does not report them).
  void MarkUsed(const std::string& key) { used_.insert(key); }

 private:
  std::string KeyPath(const std::string& key) const;
  YAML::Node Get(const std::string& key);
  YAML::Node node_;
  std::string file_;
  std::string path_;
  Diagnostics* diagnostics_;
  std::filesystem::path base_dir_;
  std::set<std::string> used_;
  bool valid_ = true;
};

/// Location of a YAML node.
SourceLocation NodeLocation(const YAML::Node& node, const std::string& file);
/// Scalar text of a node for messages (or "<mapping>", "<sequence>").
std::string NodeText(const YAML::Node& node);

}  // namespace ftwin
