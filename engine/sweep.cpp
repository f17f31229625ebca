#include "engine/sweep.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "engine/params.h"
#include "engine/rng.h"
#include "engine/schema.h"

namespace ftwin {
namespace {

std::string FormatValue(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

std::vector<std::string> ScalarList(const YAML::Node& node, const std::string& file,
                                    const std::string& path, Diagnostics* diagnostics) {
  std::vector<std::string> values;
  if (!node.IsSequence() || node.size() == 0) {
    diagnostics->Add(NodeLocation(node, file), path, NodeText(node),
                     "expected a non-empty list of values");
    return values;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    if (!node[i].IsScalar()) {
      diagnostics->Add(NodeLocation(node[i], file), path + "[" + std::to_string(i) + "]",
                       NodeText(node[i]), "expected a single value (number, duration or text)");
      continue;
    }
    values.push_back(node[i].Scalar());
  }
  return values;
}

// Splits "blocks.heater.nodes[0].capacitance" into ["blocks", "heater", "nodes", "[0]", ...].
std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::string current;
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '.') {
      if (!current.empty()) parts.push_back(current);
      current.clear();
    } else if (c == '[') {
      if (!current.empty()) parts.push_back(current);
      current = "[";
    } else if (c == ']') {
      current += ']';
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) parts.push_back(current);
  return parts;
}

}  // namespace

SweepSpec LoadSweep(const std::filesystem::path& file) {
  Diagnostics diagnostics;
  const std::string file_name = file.string();
  std::ifstream stream(file, std::ios::binary);
  if (!stream) {
    diagnostics.Add({file_name, 0, 0}, "", "", "cannot open the sweep file (does it exist?)");
    throw InputError(diagnostics);
  }
  std::ostringstream text;
  text << stream.rdbuf();
  SweepSpec spec;
  spec.file = file;
  spec.text = text.str();
  YAML::Node root;
  try {
    root = YAML::Load(spec.text);
  } catch (const YAML::Exception& error) {
    diagnostics.Add({file_name, error.mark.line + 1, error.mark.column + 1}, "", "",
                    "YAML syntax error: " + error.msg);
    throw InputError(diagnostics);
  }
  const std::filesystem::path base_dir = file.has_parent_path() ? file.parent_path() : ".";
  ParamReader top(root, file_name, "", &diagnostics, base_dir);
  top.RequiredInteger("ftwin_sweep", 1, 1);
  spec.name = top.RequiredString("name");
  spec.scenario = top.ExistingFile("scenario");
  // seeds: a list, or {start, count}.
  const YAML::Node seeds = top.Raw("seeds");
  if (!seeds.IsDefined() || seeds.IsNull()) {
    spec.seeds = {1};
  } else if (seeds.IsSequence()) {
    for (const std::string& value : ScalarList(seeds, file_name, "seeds", &diagnostics)) {
      char* end = nullptr;
      const unsigned long long seed = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || value[0] == '-' || end != value.c_str() + value.size())
        diagnostics.Add(NodeLocation(seeds, file_name), "seeds", value,
                        "expected non-negative integer seeds");
      else
        spec.seeds.push_back(seed);
    }
  } else {
    ParamReader seed_range(seeds, file_name, "seeds", &diagnostics, base_dir);
    const int64_t start = seed_range.Integer("start", 1, 0, INT64_MAX);
    const int64_t count = seed_range.RequiredInteger("count", 1, 1'000'000);
    seed_range.Finish();
    for (int64_t i = 0; i < count; ++i) spec.seeds.push_back(static_cast<uint64_t>(start + i));
  }
  // grid: mapping path -> list of values (cartesian product, in file order).
  const YAML::Node grid = top.Raw("grid");
  if (grid.IsDefined() && !grid.IsNull()) {
    if (!grid.IsMap()) {
      top.Error("grid", NodeText(grid), "expected a mapping: <scenario path>: [values...]");
    } else {
      for (const auto& entry : grid) {
        SweepAxis axis;
        axis.path = entry.first.Scalar();
        axis.values = ScalarList(entry.second, file_name, "grid." + axis.path, &diagnostics);
        spec.grid.push_back(std::move(axis));
      }
    }
  }
  // random: {count, seed, params: {path: {uniform: [a, b]} | {loguniform: [a, b]} |
  //                                        {normal: [mean, std]} | {choice: [...]}}}
  ParamReader random = top.Child("random");
  if (random.node().IsMap()) {
    spec.random_count = static_cast<int>(random.RequiredInteger("count", 1, 1'000'000));
    spec.random_seed = static_cast<uint64_t>(random.Integer("seed", 1, 0, INT64_MAX));
    const YAML::Node params = random.Raw("params");
    if (!params.IsMap() || params.size() == 0) {
      random.Error("params", NodeText(params),
                   "expected a mapping: <scenario path>: {uniform: [a, b]}");
    } else {
      for (const auto& entry : params) {
        RandomParameter parameter;
        parameter.path = entry.first.Scalar();
        const std::string key_path = "random.params." + parameter.path;
        const YAML::Node& spec_node = entry.second;
        if (!spec_node.IsMap() || spec_node.size() != 1) {
          diagnostics.Add(NodeLocation(spec_node, file_name), key_path, NodeText(spec_node),
                          "expected one of {uniform: [a, b]}, {loguniform: [a, b]}, {normal: "
                          "[mean, std]}, {choice: [...]}");
          continue;
        }
        const std::string kind = spec_node.begin()->first.Scalar();
        const YAML::Node arguments = spec_node.begin()->second;
        if (kind == "choice") {
          parameter.distribution = RandomParameter::Distribution::kChoice;
          parameter.choices = ScalarList(arguments, file_name, key_path + ".choice", &diagnostics);
        } else if (kind == "uniform" || kind == "loguniform" || kind == "normal") {
          parameter.distribution = kind == "uniform" ? RandomParameter::Distribution::kUniform
                                   : kind == "loguniform"
                                       ? RandomParameter::Distribution::kLogUniform
                                       : RandomParameter::Distribution::kNormal;
          bool ok = arguments.IsSequence() && arguments.size() == 2;
          if (ok) {
            try {
              parameter.a = arguments[0].as<double>();
              parameter.b = arguments[1].as<double>();
            } catch (const YAML::Exception&) {
              ok = false;
            }
          }
          if (ok && kind != "normal" && !(parameter.a < parameter.b)) ok = false;
          if (ok && kind == "loguniform" && !(parameter.a > 0)) ok = false;
          if (ok && kind == "normal" && !(parameter.b > 0)) ok = false;
          if (!ok) {
            diagnostics.Add(
                NodeLocation(arguments, file_name), key_path + "." + kind, NodeText(arguments),
                kind == "normal" ? "expected [mean, std] with std > 0"
                                 : "expected [low, high] with low < high" +
                                       std::string(kind == "loguniform" ? " and low > 0" : ""));
            continue;
          }
        } else {
          diagnostics.Add(NodeLocation(spec_node, file_name), key_path, kind,
                          "expected a distribution: uniform, loguniform, normal or choice");
          continue;
        }
        spec.random.push_back(std::move(parameter));
      }
    }
    random.Finish();
  }
  // controllers: {name: {path: value, ...}, ...} in file order.
  const YAML::Node controllers = top.Raw("controllers");
  if (controllers.IsDefined() && !controllers.IsNull()) {
    if (!controllers.IsMap() || controllers.size() == 0) {
      top.Error("controllers", NodeText(controllers),
                "expected a mapping: <name>: {<scenario path>: value, ...}");
    } else {
      for (const auto& entry : controllers) {
        ControllerChoice choice;
        choice.name = entry.first.Scalar();
        const YAML::Node& overrides = entry.second;
        if (overrides.IsNull()) {
          spec.controllers.push_back(std::move(choice));  // the scenario as it is
          continue;
        }
        if (!overrides.IsMap()) {
          diagnostics.Add(
              NodeLocation(overrides, file_name), "controllers." + choice.name, NodeText(overrides),
              "expected a mapping of scenario paths to values (or {} for the scenario as is)");
          continue;
        }
        for (const auto& item : overrides) {
          if (!item.second.IsScalar()) {
            diagnostics.Add(NodeLocation(item.second, file_name),
                            "controllers." + choice.name + "." + item.first.Scalar(),
                            NodeText(item.second), "expected a single value");
            continue;
          }
          choice.params.emplace_back(item.first.Scalar(), item.second.Scalar());
        }
        spec.controllers.push_back(std::move(choice));
      }
    }
  }
  top.Finish();
  if (spec.seeds.empty() && diagnostics.ok()) top.Error("seeds", "", "expected at least one seed");
  if (!diagnostics.ok()) throw InputError(diagnostics);

  // Every varied path must exist in the scenario: check against the scenario text once.
  std::ifstream scenario_stream(spec.scenario, std::ios::binary);
  std::ostringstream scenario_text;
  scenario_text << scenario_stream.rdbuf();
  for (const SweepAxis& axis : spec.grid)
    ApplyScenarioOverrides(scenario_text.str(), {{axis.path, axis.values.front()}},
                           file_name + ": grid." + axis.path, &diagnostics);
  for (const RandomParameter& parameter : spec.random)
    ApplyScenarioOverrides(scenario_text.str(), {{parameter.path, "0"}},
                           file_name + ": random.params." + parameter.path, &diagnostics);
  for (const ControllerChoice& choice : spec.controllers)
    ApplyScenarioOverrides(scenario_text.str(), choice.params,
                           file_name + ": controllers." + choice.name, &diagnostics);
  if (!diagnostics.ok()) throw InputError(diagnostics);
  return spec;
}

std::vector<SweepRun> ExpandSweep(const SweepSpec& spec) {
  // Grid points: cartesian product, the first axis varying slowest.
  std::vector<std::vector<std::pair<std::string, std::string>>> points(1);
  for (const SweepAxis& axis : spec.grid) {
    std::vector<std::vector<std::pair<std::string, std::string>>> next;
    for (const auto& point : points)
      for (const std::string& value : axis.values) {
        auto extended = point;
        extended.emplace_back(axis.path, value);
        next.push_back(std::move(extended));
      }
    points = std::move(next);
  }
  // Random samples: each grid point gets random_count samples drawn from the sweep's own seed,
  // keyed by (sample, parameter), so adding a parameter does not reshuffle the others.
  if (spec.random_count > 0) {
    std::vector<std::vector<std::pair<std::string, std::string>>> sampled;
    int sample_index = 0;
    for (const auto& point : points)
      for (int sample = 0; sample < spec.random_count; ++sample, ++sample_index) {
        auto extended = point;
        for (size_t p = 0; p < spec.random.size(); ++p) {
          const RandomParameter& parameter = spec.random[p];
          const CounterRng rng{spec.random_seed, static_cast<uint32_t>(sample_index),
                               static_cast<uint32_t>(p)};
          const double u = rng.Uniform(0);
          std::string value;
          switch (parameter.distribution) {
            case RandomParameter::Distribution::kUniform:
              value = FormatValue(parameter.a + u * (parameter.b - parameter.a));
              break;
            case RandomParameter::Distribution::kLogUniform:
              value = FormatValue(std::exp(std::log(parameter.a) +
                                           u * (std::log(parameter.b) - std::log(parameter.a))));
              break;
            case RandomParameter::Distribution::kNormal:
              value = FormatValue(parameter.a + parameter.b * rng.Normal(1));
              break;
            case RandomParameter::Distribution::kChoice:
              value = parameter.choices[static_cast<size_t>(
                  u * static_cast<double>(parameter.choices.size()))];
              break;
          }
          extended.emplace_back(parameter.path, value);
        }
        sampled.push_back(std::move(extended));
      }
    points = std::move(sampled);
  }
  // Controller choices multiply the points; their overrides come last (they win).
  std::vector<std::string> point_controllers(points.size());
  if (!spec.controllers.empty()) {
    std::vector<std::vector<std::pair<std::string, std::string>>> with_controllers;
    point_controllers.clear();
    for (const auto& point : points)
      for (const ControllerChoice& choice : spec.controllers) {
        auto extended = point;
        extended.insert(extended.end(), choice.params.begin(), choice.params.end());
        with_controllers.push_back(std::move(extended));
        point_controllers.push_back(choice.name);
      }
    points = std::move(with_controllers);
  }
  std::vector<SweepRun> runs;
  for (size_t point = 0; point < points.size(); ++point)
    for (uint64_t seed : spec.seeds) {
      SweepRun run;
      run.index = static_cast<int>(runs.size());
      char id[32];
      std::snprintf(id, sizeof id, "r%06d", run.index);
      run.id = id;
      run.point = static_cast<int>(point);
      run.seed = seed;
      run.controller = point_controllers[point];
      run.params = points[point];
      runs.push_back(std::move(run));
    }
  return runs;
}

uint64_t SweepHash(const SweepSpec& spec, const std::string& scenario_text) {
  uint64_t hash = HashBytes(spec.text.data(), spec.text.size());
  return HashBytes(scenario_text.data(), scenario_text.size(), hash);
}

std::string ApplyScenarioOverrides(const std::string& scenario_text,
                                   const std::vector<std::pair<std::string, std::string>>& params,
                                   const std::string& origin, Diagnostics* diagnostics) {
  YAML::Node root;
  try {
    root = YAML::Load(scenario_text);
  } catch (const YAML::Exception& error) {
    diagnostics->Add({origin, 0, 0}, "", "", "the scenario is not valid YAML: " + error.msg);
    return scenario_text;
  }
  for (const auto& [path, value] : params) {
    const std::vector<std::string> parts = SplitPath(path);
    YAML::Node node;
    node.reset(root);
    bool ok = !parts.empty() && root.IsMap();
    std::string walked;
    for (size_t i = 0; ok && i + 1 < parts.size(); ++i) {
      const std::string& part = parts[i];
      walked += (walked.empty() || part[0] == '[' ? "" : ".") + part;
      if (i == 0 && part == "blocks" && parts.size() >= 3) {
        // "blocks.<name>": find the block by name.
        const YAML::Node blocks = node["blocks"];
        const std::string& block_name = parts[++i];
        walked += "." + block_name;
        ok = false;
        if (blocks.IsSequence())
          for (size_t b = 0; b < blocks.size(); ++b)
            if (blocks[b].IsMap() && blocks[b]["name"] &&
                blocks[b]["name"].Scalar() == block_name) {
              node.reset(blocks[b]);  // rebinds; operator= would overwrite the tree
              ok = true;
            }
        if (!ok)
          diagnostics->Add({origin, 0, 0}, path, "",
                           "expected a block name after 'blocks.' (no block '" + block_name + "')");
        continue;
      }
      if (part[0] == '[') {
        const size_t index = static_cast<size_t>(std::strtoul(part.c_str() + 1, nullptr, 10));
        ok = node.IsSequence() && index < node.size();
        if (ok) node.reset(node[index]);
      } else {
        ok = node.IsMap() && node[part].IsDefined();
        if (ok) node.reset(node[part]);
      }
      if (!ok)
        diagnostics->Add({origin, 0, 0}, path, "",
                         "expected an existing key of the scenario (nothing at '" + walked + "')");
    }
    if (!ok) continue;
    const std::string& last = parts.back();
    if (last[0] == '[') {
      const size_t index = static_cast<size_t>(std::strtoul(last.c_str() + 1, nullptr, 10));
      if (!node.IsSequence() || index >= node.size() || !node[index].IsScalar()) {
        diagnostics->Add({origin, 0, 0}, path, "",
                         "expected an existing scalar list element of the scenario");
        continue;
      }
      node[index] = value;
    } else {
      if (!node.IsMap() ||
          (node[last].IsDefined() && !node[last].IsNull() && !node[last].IsScalar())) {
        diagnostics->Add({origin, 0, 0}, path, "", "expected a key holding a single value");
        continue;
      }
      node[last] = value;  // a missing key is added: optional parameters may be varied too
    }
  }
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace ftwin
