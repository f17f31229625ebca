// Errors in user input (scenario files, data files, wire messages): each names the file, line,
// key path, the value found and what was expected (DESIGN.md §2.11). Collected, so that all
// errors of a file are reported at once.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace ftwin {

/// Where a value came from: a file position (line and column are 1-based; 0 = unknown).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

/// One error in user input.
struct Diagnostic {
  SourceLocation location;
  std::string key_path;  ///< e.g. "blocks[2].capacity_J"
  std::string value;     ///< the offending value as written (may be empty)
  std::string expected;  ///< what was expected, or what is wrong
  /// "file:line:col: key_path: got 'value', expected ..."
  std::string ToString() const;
};

/// An ordered list of diagnostics.
class Diagnostics {
 public:
  /// Adds a diagnostic unless the same one (place, key, value, expectation) is already there:
  /// a key read by two layers (e.g. a block's `period`) is reported once.
  void Add(Diagnostic diagnostic) {
    for (const Diagnostic& item : items_)
      if (item.location.file == diagnostic.location.file &&
          item.location.line == diagnostic.location.line &&
          item.location.column == diagnostic.location.column &&
          item.key_path == diagnostic.key_path && item.value == diagnostic.value &&
          item.expected == diagnostic.expected)
        return;
    items_.push_back(std::move(diagnostic));
  }
  void Add(const SourceLocation& location, std::string key_path, std::string value,
           std::string expected) {
    Add(Diagnostic{location, std::move(key_path), std::move(value), std::move(expected)});
  }
  void Append(const Diagnostics& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
  }
  bool ok() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  /// All diagnostics, one per line.
  std::string ToString() const;

 private:
  std::vector<Diagnostic> items_;
};

/// Thrown when input is invalid; carries every diagnostic found.
class InputError : public std::runtime_error {
 public:
  explicit InputError(Diagnostics diagnostics)
      : std::runtime_error(diagnostics.ToString()), diagnostics_(std::move(diagnostics)) {}
  const Diagnostics& diagnostics() const { return diagnostics_; }

 private:
  Diagnostics diagnostics_;
};

}  // namespace ftwin
