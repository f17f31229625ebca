#include "engine/params.h"

#include <cmath>
#include <cstdio>

#include "engine/units.h"

namespace ftwin {
namespace {

std::string FormatNumber(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

std::string DescribeRange(const NumberRange& range) {
  std::string text;
  const bool has_lower = std::isfinite(range.lower);
  const bool has_upper = std::isfinite(range.upper);
  if (has_lower && has_upper)
    text = std::string("a number in ") + (range.lower_open ? "(" : "[") +
           FormatNumber(range.lower) + ", " + FormatNumber(range.upper) + "]";
  else if (has_lower)
    text = std::string("a number ") + (range.lower_open ? "> " : ">= ") + FormatNumber(range.lower);
  else if (has_upper)
    text = "a number <= " + FormatNumber(range.upper);
  else
    text = "a number";
  if (!range.unit.empty() && range.unit != "1") text += " [" + range.unit + "]";
  return text;
}

bool ParseDouble(const std::string& text, double* value) {
  if (text.empty()) return false;
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

}  // namespace

SourceLocation NodeLocation(const YAML::Node& node, const std::string& file) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

std::string NodeText(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "";
  if (node.IsScalar()) return node.Scalar();
  if (node.IsMap()) return "<mapping>";
  if (node.IsSequence()) return "<list>";
  return "";
}

ParamReader::ParamReader(YAML::Node node, std::string file, std::string path,
                         Diagnostics* diagnostics, std::filesystem::path base_dir)
    // A missing key yields an invalid node on which yaml-cpp throws; use an empty one instead.
    : node_(node.IsDefined() ? node : YAML::Node()),
      file_(std::move(file)),
      path_(std::move(path)),
      diagnostics_(diagnostics),
      base_dir_(std::move(base_dir)) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    diagnostics_->Add(NodeLocation(node_, file_), path_, NodeText(node_),
                      "expected a mapping (key: value)");
    valid_ = false;
  }
}

std::string ParamReader::KeyPath(const std::string& key) const {
  if (key.empty()) return path_;
  return path_.empty() ? key : path_ + "." + key;
}

bool ParamReader::Has(const std::string& key) const {
  return valid_ && node_.IsMap() && node_[key].IsDefined() && !node_[key].IsNull();
}

YAML::Node ParamReader::Get(const std::string& key) {
  used_.insert(key);
  if (!valid_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& const_node = node_;
  return const_node[key];
}

SourceLocation ParamReader::LocationOf(const std::string& key) const {
  if (valid_ && node_.IsMap()) {
    const YAML::Node& const_node = node_;
    const YAML::Node child = const_node[key];
    if (child.IsDefined()) return NodeLocation(child, file_);
  }
  return NodeLocation(node_, file_);
}

void ParamReader::Error(const std::string& key, const std::string& value,
                        const std::string& expected) {
  diagnostics_->Add(LocationOf(key), KeyPath(key), value, expected);
}

double ParamReader::Number(const std::string& key, double default_value, const NumberRange& range) {
  const YAML::Node child = Get(key);
  if (!child.IsDefined() || child.IsNull()) return default_value;
  double value = 0;
  if (!child.IsScalar() || !ParseDouble(child.Scalar(), &value) || !std::isfinite(value)) {
    Error(key, NodeText(child), "expected " + DescribeRange(range));
    return default_value;
  }
  const bool below = range.lower_open ? !(value > range.lower) : !(value >= range.lower);
  if (below || value > range.upper) {
    Error(key, NodeText(child), "expected " + DescribeRange(range));
    return default_value;
  }
  return value;
}

double ParamReader::RequiredNumber(const std::string& key, const NumberRange& range) {
  if (!Has(key)) {
    used_.insert(key);
    Error(key, "", "missing required key: expected " + DescribeRange(range));
    return std::isfinite(range.lower) ? range.lower : 0.0;
  }
  return Number(key, 0.0, range);
}

int64_t ParamReader::Integer(const std::string& key, int64_t default_value, int64_t lower,
                             int64_t upper) {
  const YAML::Node child = Get(key);
  if (!child.IsDefined() || child.IsNull()) return default_value;
  const std::string expected =
      "an integer in [" + std::to_string(lower) + ", " + std::to_string(upper) + "]";
  if (!child.IsScalar()) {
    Error(key, NodeText(child), "expected " + expected);
    return default_value;
  }
  const std::string& text = child.Scalar();
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || value < lower ||
      value > upper) {
    Error(key, text, "expected " + expected);
    return default_value;
  }
  return value;
}

int64_t ParamReader::RequiredInteger(const std::string& key, int64_t lower, int64_t upper) {
  if (!Has(key)) {
    used_.insert(key);
    Error(key, "",
          "missing required key: expected an integer in [" + std::to_string(lower) + ", " +
              std::to_string(upper) + "]");
    return lower;
  }
  return Integer(key, lower, lower, upper);
}

bool ParamReader::Bool(const std::string& key, bool default_value) {
  const YAML::Node child = Get(key);
  if (!child.IsDefined() || child.IsNull()) return default_value;
  if (child.IsScalar()) {
    const std::string& text = child.Scalar();
    if (text == "true" || text == "yes" || text == "on") return true;
    if (text == "false" || text == "no" || text == "off") return false;
  }
  Error(key, NodeText(child), "expected true or false");
  return default_value;
}

std::string ParamReader::String(const std::string& key, const std::string& default_value) {
  const YAML::Node child = Get(key);
  if (!child.IsDefined() || child.IsNull()) return default_value;
  if (!child.IsScalar()) {
    Error(key, NodeText(child), "expected a text value");
    return default_value;
  }
  return child.Scalar();
}

std::string ParamReader::RequiredString(const std::string& key) {
  if (!Has(key)) {
    used_.insert(key);
    Error(key, "", "missing required key: expected a text value");
    return {};
  }
  return String(key, {});
}

std::string ParamReader::Choice(const std::string& key, const std::string& default_value,
                                const std::vector<std::string>& choices) {
  const YAML::Node child = Get(key);
  if (!child.IsDefined() || child.IsNull()) return default_value;
  std::string list;
  for (const std::string& choice : choices) list += (list.empty() ? "" : ", ") + choice;
  if (child.IsScalar())
    for (const std::string& choice : choices)
      if (child.Scalar() == choice) return choice;
  Error(key, NodeText(child), "expected one of: " + list);
  return default_value;
}

int64_t ParamReader::DurationNs(const std::string& key, int64_t default_value, int64_t lower_ns) {
  const YAML::Node child = Get(key);
  if (!child.IsDefined() || child.IsNull()) return default_value;
  std::optional<int64_t> value;
  if (child.IsScalar()) value = ParseDurationNs(child.Scalar());
  if (!value) {
    Error(key, NodeText(child), std::string("expected ") + kDurationUnitsHelp);
    return default_value;
  }
  if (*value < lower_ns) {
    Error(key, NodeText(child), "expected a duration of at least " + FormatDuration(lower_ns));
    return default_value;
  }
  return *value;
}

int64_t ParamReader::RequiredDurationNs(const std::string& key, int64_t lower_ns) {
  if (!Has(key)) {
    used_.insert(key);
    Error(key, "", std::string("missing required key: expected ") + kDurationUnitsHelp);
    return lower_ns;
  }
  return DurationNs(key, lower_ns, lower_ns);
}

std::vector<double> ParamReader::NumberList(const std::string& key, const NumberRange& range,
                                            size_t min_size, size_t max_size, bool required) {
  const YAML::Node child = Get(key);
  std::vector<double> values;
  if (!child.IsDefined() || child.IsNull()) {
    if (required)
      Error(key, "", "missing required key: expected a list of " + DescribeRange(range));
    return values;
  }
  if (!child.IsSequence()) {
    Error(key, NodeText(child), "expected a list of " + DescribeRange(range));
    return values;
  }
  for (size_t i = 0; i < child.size(); ++i) {
    const YAML::Node item = child[i];
    double value = 0;
    const std::string item_path = KeyPath(key) + "[" + std::to_string(i) + "]";
    const bool parsed =
        item.IsScalar() && ParseDouble(item.Scalar(), &value) && std::isfinite(value);
    const bool below = range.lower_open ? !(value > range.lower) : !(value >= range.lower);
    if (!parsed || below || value > range.upper) {
      diagnostics_->Add(NodeLocation(item, file_), item_path, NodeText(item),
                        "expected " + DescribeRange(range));
      continue;
    }
    values.push_back(value);
  }
  if (child.size() < min_size || child.size() > max_size) {
    std::string count = max_size == SIZE_MAX
                            ? "at least " + std::to_string(min_size)
                            : std::to_string(min_size) + " to " + std::to_string(max_size);
    if (min_size == max_size) count = std::to_string(min_size);
    Error(key, std::to_string(child.size()) + " entries", "expected " + count + " entries");
  }
  return values;
}

std::filesystem::path ParamReader::ExistingFile(const std::string& key, bool required) {
  const YAML::Node child = Get(key);
  if (!child.IsDefined() || child.IsNull()) {
    if (required) Error(key, "", "missing required key: expected a file path");
    return {};
  }
  if (!child.IsScalar()) {
    Error(key, NodeText(child), "expected a file path");
    return {};
  }
  std::filesystem::path path = child.Scalar();
  if (path.is_relative()) path = base_dir_ / path;
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    Error(key, child.Scalar(),
          "expected an existing file or folder (not found: " + path.string() + ")");
    return {};
  }
  return path;
}

ParamReader ParamReader::Child(const std::string& key, bool required) {
  YAML::Node child = Get(key);
  if ((!child.IsDefined() || child.IsNull()) && required)
    Error(key, "", "missing required key: expected a mapping");
  return ParamReader(child, file_, KeyPath(key), diagnostics_, base_dir_);
}

std::vector<ParamReader> ParamReader::ChildList(const std::string& key, bool required) {
  YAML::Node child = Get(key);
  std::vector<ParamReader> list;
  if (!child.IsDefined() || child.IsNull()) {
    if (required) Error(key, "", "missing required key: expected a list");
    return list;
  }
  if (!child.IsSequence()) {
    Error(key, NodeText(child), "expected a list");
    return list;
  }
  for (size_t i = 0; i < child.size(); ++i)
    list.emplace_back(child[i], file_, KeyPath(key) + "[" + std::to_string(i) + "]", diagnostics_,
                      base_dir_);
  return list;
}

YAML::Node ParamReader::Raw(const std::string& key) { return Get(key); }

void ParamReader::Finish() {
  if (!valid_ || !node_.IsMap()) return;
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    if (used_.count(key) == 0) {
      std::string known;
      for (const std::string& k : used_) known += (known.empty() ? "" : ", ") + k;
      diagnostics_->Add(NodeLocation(entry.first, file_), KeyPath(key), "",
                        "unknown key (known keys here: " + known + ")");
    }
  }
}

}  // namespace ftwin
