#include "engine/scenario.h"

#include <fstream>
#include <sstream>

#include "engine/units.h"

namespace ftwin {

void BlockRegistry::Register(const std::string& type, std::string doc, BlockFactory factory) {
  entries_[type] = Entry{std::move(doc), std::move(factory)};
}

const BlockFactory* BlockRegistry::Find(const std::string& type) const {
  const auto it = entries_.find(type);
  return it == entries_.end() ? nullptr : &it->second.factory;
}

std::vector<std::string> BlockRegistry::TypeNames() const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_) names.push_back(name);
  return names;
}

const std::string& BlockRegistry::Doc(const std::string& type) const {
  static const std::string empty;
  const auto it = entries_.find(type);
  return it == entries_.end() ? empty : it->second.doc;
}

namespace {

std::string ReadScenarioFile(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream || std::filesystem::is_directory(file)) {
    Diagnostics diagnostics;
    diagnostics.Add({file.string(), 0, 0}, "", "",
                    "cannot open the scenario file (does it exist?)");
    throw InputError(diagnostics);
  }
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

// Parses a scenario, recording problems in `diagnostics`; throws only when the text cannot be
// read as YAML at all.
Spec ParseSpecInto(const std::string& text, const std::filesystem::path& file,
                   const RunOverrides& overrides, Diagnostics& diagnostics) {
  const std::string file_name = file.string();
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    diagnostics.Add({file_name, error.mark.line + 1, error.mark.column + 1}, "", "",
                    "YAML syntax error: " + error.msg);
    throw InputError(diagnostics);
  }
  Spec spec;
  spec.file = file;
  spec.text = text;
  const std::filesystem::path base_dir = file.has_parent_path() ? file.parent_path() : ".";
  if (!root.IsMap()) {
    diagnostics.Add({file_name, 1, 1}, "", "",
                    "expected a scenario mapping with keys ftwin, name, run, blocks");
    throw InputError(diagnostics);
  }
  ParamReader top(root, file_name, "", &diagnostics, base_dir);
  top.RequiredInteger("ftwin", 1, 1);
  spec.name = top.RequiredString("name");
  spec.description = top.String("description", "");

  // run:
  ParamReader run = top.Child("run", true);
  spec.run.dt_ns = run.RequiredDurationNs("dt", 1);
  spec.run.duration_ns = run.RequiredDurationNs("duration", 0);
  spec.run.seed = static_cast<uint64_t>(run.Integer("seed", 1, 0, INT64_MAX));
  spec.run.num_worlds = static_cast<int>(run.Integer("worlds", 1, 1, 1 << 24));
  spec.run.num_threads = static_cast<int>(run.Integer("threads", 1, 1, 1024));
  run.Finish();
  if (overrides.seed) spec.run.seed = *overrides.seed;
  if (overrides.duration_ns) spec.run.duration_ns = *overrides.duration_ns;
  if (overrides.num_worlds) spec.run.num_worlds = *overrides.num_worlds;
  if (overrides.num_threads) spec.run.num_threads = *overrides.num_threads;
  if (spec.run.dt_ns > 0 && spec.run.duration_ns % spec.run.dt_ns != 0)
    run.Error("duration", FormatDuration(spec.run.duration_ns),
              "expected a whole number of ticks (a multiple of dt = " +
                  FormatDuration(spec.run.dt_ns) + ")");

  // blocks:
  std::map<std::string, SourceLocation> names;
  for (ParamReader& block : top.ChildList("blocks", true)) {
    BlockSpec block_spec;
    block_spec.name = block.RequiredString("name");
    block_spec.type = block.RequiredString("type");
    block_spec.params = block.node();
    block_spec.location = NodeLocation(block.node(), file_name);
    if (!block_spec.name.empty()) {
      if (names.count(block_spec.name) != 0)
        block.Error("name", block_spec.name,
                    "expected a unique block name (also used at line " +
                        std::to_string(names[block_spec.name].line) + ")");
      names[block_spec.name] = block_spec.location;
    }
    spec.blocks.push_back(std::move(block_spec));
  }

  // connections: [from, to] pairs or {from:, to:} mappings.
  const YAML::Node connections = top.Raw("connections");
  if (connections.IsDefined() && !connections.IsNull()) {
    if (!connections.IsSequence()) {
      top.Error("connections", NodeText(connections), "expected a list of [from, to] pairs");
    } else {
      for (size_t i = 0; i < connections.size(); ++i) {
        const YAML::Node item = connections[i];
        const std::string path = "connections[" + std::to_string(i) + "]";
        ConnectionSpec connection;
        connection.location = NodeLocation(item, file_name);
        if (item.IsSequence() && (item.size() == 2 || item.size() == 3) && item[0].IsScalar() &&
            item[1].IsScalar()) {
          connection.from = item[0].Scalar();
          connection.to = item[1].Scalar();
          if (item.size() == 3) {
            if (item[2].IsScalar() && item[2].Scalar() == "delayed") {
              connection.delayed = true;
            } else {
              diagnostics.Add(NodeLocation(item[2], file_name), path + "[2]", NodeText(item[2]),
                              "expected 'delayed' (the only connection option)");
              continue;
            }
          }
        } else if (item.IsMap()) {
          ParamReader reader(item, file_name, path, &diagnostics, base_dir);
          connection.from = reader.RequiredString("from");
          connection.to = reader.RequiredString("to");
          connection.delayed = reader.Bool("delayed", false);
          reader.Finish();
        } else {
          diagnostics.Add(connection.location, path, NodeText(item),
                          "expected [<block>.<output>, <block>.<input>] (optionally followed by "
                          "'delayed') or {from: .., to: .., delayed: true}");
          continue;
        }
        spec.connections.push_back(std::move(connection));
      }
    }
  }

  // faults:
  for (ParamReader& fault : top.ChildList("faults")) {
    FaultSpec fault_spec;
    fault_spec.location = NodeLocation(fault.node(), file_name);
    fault_spec.block = fault.RequiredString("block");
    fault_spec.fault = fault.RequiredString("fault");
    const bool fixed = fault.Has("at");
    const bool random = fault.Has("mean_interval");
    if (fixed == random)
      fault.Error(
          "", "",
          "expected exactly one of 'at' (a fixed onset time) or 'mean_interval' (random onsets)");
    fault_spec.at_ns = fixed ? fault.DurationNs("at", 0) : -1;
    fault_spec.mean_interval_ns = random ? fault.DurationNs("mean_interval", 1, 1) : 0;
    if (!fixed) fault.MarkUsed("at");
    if (!random) fault.MarkUsed("mean_interval");
    fault_spec.duration_ns = fault.DurationNs("duration", 0);
    for (double world :
         fault.NumberList("worlds", NumberRange::Between(0, 1 << 24, ""), 0, SIZE_MAX, false))
      fault_spec.worlds.push_back(static_cast<int>(world));
    ParamReader params = fault.Child("params");
    if (params.node().IsMap())
      for (const auto& entry : params.node())
        fault_spec.params.emplace_back(
            entry.first.Scalar(), params.Number(entry.first.Scalar(), 0.0, NumberRange::Any("")));
    fault.Finish();
    spec.faults.push_back(std::move(fault_spec));
  }

  // outputs:
  ParamReader outputs = top.Child("outputs");
  const std::string dir = outputs.String("dir", "");
  if (!dir.empty()) spec.outputs.dir = dir;
  if (outputs.Has("kpis")) {
    const YAML::Node formats = outputs.Raw("kpis");
    spec.outputs.kpi_json = spec.outputs.kpi_csv = false;
    if (!formats.IsSequence()) {
      outputs.Error("kpis", NodeText(formats), "expected a list of formats: [json, csv]");
    } else {
      for (const auto& format : formats) {
        if (format.IsScalar() && format.Scalar() == "json")
          spec.outputs.kpi_json = true;
        else if (format.IsScalar() && format.Scalar() == "csv")
          spec.outputs.kpi_csv = true;
        else
          diagnostics.Add(NodeLocation(format, file_name), "outputs.kpis", NodeText(format),
                          "expected json or csv");
      }
    }
  }
  outputs.Finish();

  // exports: what the bridge streams (field names are checked against the model when served).
  for (ParamReader& item : top.ChildList("exports")) {
    ExportSpec export_spec;
    export_spec.location = NodeLocation(item.node(), file_name);
    export_spec.topic = item.RequiredString("topic");
    if (export_spec.topic.empty() || export_spec.topic[0] == '_')
      item.Error("topic", export_spec.topic,
                 "expected a non-empty topic not starting with '_' (reserved for the server)");
    const YAML::Node fields = item.Raw("fields");
    if (!fields.IsSequence() || fields.size() == 0) {
      item.Error("fields", NodeText(fields),
                 "expected a non-empty list of field names or '<prefix>*' patterns");
    } else {
      for (const YAML::Node& field : fields) {
        if (field.IsScalar() && !field.Scalar().empty())
          export_spec.fields.push_back(field.Scalar());
        else
          diagnostics.Add(NodeLocation(field, file_name), item.path() + ".fields", NodeText(field),
                          "expected a field name or '<prefix>*' pattern");
      }
    }
    export_spec.every_ns = item.DurationNs("every", 0);
    if (spec.run.dt_ns > 0 && export_spec.every_ns % spec.run.dt_ns != 0)
      item.Error("every", FormatDuration(export_spec.every_ns),
                 "expected a multiple of run.dt (" + FormatDuration(spec.run.dt_ns) + ")");
    item.Finish();
    spec.exports.push_back(std::move(export_spec));
  }
  top.Finish();
  return spec;
}

// Creates and declares the blocks into `builder`, recording parameter errors.
void AddBlocks(const Spec& spec, const BlockRegistry& registry, GraphBuilder& builder,
               Diagnostics& diagnostics) {
  const std::string file_name = spec.file.string();
  const std::filesystem::path base_dir =
      spec.file.has_parent_path() ? spec.file.parent_path() : ".";
  const std::vector<std::string> types = registry.TypeNames();
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    const BlockSpec& block = spec.blocks[i];
    const std::string path = "blocks[" + std::to_string(i) + "]";
    ParamReader params(block.params, file_name, path, &diagnostics, base_dir);
    params.MarkUsed("name");
    params.MarkUsed("type");
    if (block.type.empty()) continue;  // already reported
    const BlockFactory* factory = registry.Find(block.type);
    if (factory == nullptr) {
      std::string list;
      for (const std::string& type : types) list += (list.empty() ? "" : ", ") + type;
      params.Error("type", block.type, "expected a known block type (" + list + ")");
      continue;
    }
    const size_t errors_before = diagnostics.size();
    // Every block may run at a multiple of the tick (`period`); blocks that read the key
    // themselves (controllers, sensors) see the same value.
    int64_t period_ticks = 0;
    if (params.Has("period")) {
      const int64_t period_ns = params.DurationNs("period", spec.run.dt_ns, 1);
      if (spec.run.dt_ns > 0 && period_ns % spec.run.dt_ns == 0)
        period_ticks = period_ns / spec.run.dt_ns;
      else if (spec.run.dt_ns > 0)
        params.Error("period", FormatDuration(period_ns),
                     "expected a multiple of run.dt (" + FormatDuration(spec.run.dt_ns) + ")");
    }
    std::unique_ptr<Block> instance = (*factory)(block.name, params);
    params.Finish();
    if (instance == nullptr || diagnostics.size() != errors_before) continue;
    builder.AddBlock(std::move(instance), block.location, period_ticks);
  }
}

}  // namespace

Spec LoadSpec(const std::filesystem::path& file, const RunOverrides& overrides) {
  return ParseSpec(ReadScenarioFile(file), file, overrides);
}

Spec ParseSpec(const std::string& text, const std::filesystem::path& file,
               const RunOverrides& overrides) {
  Diagnostics diagnostics;
  Spec spec = ParseSpecInto(text, file, overrides, diagnostics);
  if (!diagnostics.ok()) throw InputError(diagnostics);
  return spec;
}

LoadedScenario LoadScenario(const std::filesystem::path& file, const BlockRegistry& registry,
                            const RunOverrides& overrides) {
  return LoadScenarioText(ReadScenarioFile(file), file, registry, overrides);
}

LoadedScenario LoadScenarioText(const std::string& text, const std::filesystem::path& file,
                                const BlockRegistry& registry, const RunOverrides& overrides) {
  Diagnostics diagnostics;
  LoadedScenario loaded;
  loaded.spec = ParseSpecInto(text, file, overrides, diagnostics);
  const bool run_valid = diagnostics.ok();
  // Block parameters are checked even when the rest has errors, so that one pass reports all.
  RunConfig run = loaded.spec.run;
  if (run.dt_ns <= 0) run.dt_ns = 1;
  GraphBuilder builder(run);
  AddBlocks(loaded.spec, registry, builder, diagnostics);
  if (!diagnostics.ok() || !run_valid) throw InputError(diagnostics);
  for (const ConnectionSpec& connection : loaded.spec.connections)
    builder.Connect(connection.from, connection.to, connection.location, connection.delayed);
  for (const FaultSpec& fault : loaded.spec.faults) builder.AddFault(fault);
  loaded.model = builder.Build();
  return loaded;
}

std::string DurationText(int64_t nanoseconds) {
  static const std::pair<const char*, int64_t> kUnits[] = {{"d", 86400 * kNanosecondsPerSecond},
                                                           {"h", 3600 * kNanosecondsPerSecond},
                                                           {"min", 60 * kNanosecondsPerSecond},
                                                           {"s", kNanosecondsPerSecond},
                                                           {"ms", 1'000'000},
                                                           {"us", 1'000}};
  if (nanoseconds == 0) return "0s";
  for (const auto& [unit, scale] : kUnits)
    if (nanoseconds % scale == 0) return std::to_string(nanoseconds / scale) + unit;
  return std::to_string(nanoseconds) + "ns";
}

std::string SpecToYaml(const Spec& spec) {
  YAML::Emitter out;
  out.SetDoublePrecision(17);  // numbers read back bit-exactly
  out << YAML::BeginMap;
  out << YAML::Key << "ftwin" << YAML::Value << 1;
  out << YAML::Key << "name" << YAML::Value << spec.name;
  if (!spec.description.empty())
    out << YAML::Key << "description" << YAML::Value << spec.description;
  out << YAML::Key << "run" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "dt" << YAML::Value << DurationText(spec.run.dt_ns);
  out << YAML::Key << "duration" << YAML::Value << DurationText(spec.run.duration_ns);
  out << YAML::Key << "seed" << YAML::Value << spec.run.seed;
  out << YAML::Key << "worlds" << YAML::Value << spec.run.num_worlds;
  out << YAML::Key << "threads" << YAML::Value << spec.run.num_threads;
  out << YAML::EndMap;
  out << YAML::Key << "blocks" << YAML::Value << YAML::BeginSeq;
  for (const BlockSpec& block : spec.blocks) out << block.params;
  out << YAML::EndSeq;
  if (!spec.connections.empty()) {
    out << YAML::Key << "connections" << YAML::Value << YAML::BeginSeq;
    for (const ConnectionSpec& connection : spec.connections) {
      out << YAML::Flow << YAML::BeginSeq << connection.from << connection.to;
      if (connection.delayed) out << "delayed";
      out << YAML::EndSeq;
    }
    out << YAML::EndSeq;
  }
  if (!spec.faults.empty()) {
    out << YAML::Key << "faults" << YAML::Value << YAML::BeginSeq;
    for (const FaultSpec& fault : spec.faults) {
      out << YAML::BeginMap;
      out << YAML::Key << "block" << YAML::Value << fault.block;
      out << YAML::Key << "fault" << YAML::Value << fault.fault;
      if (fault.at_ns >= 0)
        out << YAML::Key << "at" << YAML::Value << DurationText(fault.at_ns);
      else
        out << YAML::Key << "mean_interval" << YAML::Value << DurationText(fault.mean_interval_ns);
      if (fault.duration_ns > 0)
        out << YAML::Key << "duration" << YAML::Value << DurationText(fault.duration_ns);
      if (!fault.worlds.empty())
        out << YAML::Key << "worlds" << YAML::Value << YAML::Flow << fault.worlds;
      if (!fault.params.empty()) {
        out << YAML::Key << "params" << YAML::Value << YAML::BeginMap;
        for (const auto& [name, value] : fault.params)
          out << YAML::Key << name << YAML::Value << value;
        out << YAML::EndMap;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (!spec.outputs.dir.empty() || !spec.outputs.kpi_json || !spec.outputs.kpi_csv) {
    out << YAML::Key << "outputs" << YAML::Value << YAML::BeginMap;
    if (!spec.outputs.dir.empty())
      out << YAML::Key << "dir" << YAML::Value << spec.outputs.dir.string();
    out << YAML::Key << "kpis" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    if (spec.outputs.kpi_json) out << "json";
    if (spec.outputs.kpi_csv) out << "csv";
    out << YAML::EndSeq << YAML::EndMap;
  }
  if (!spec.exports.empty()) {
    out << YAML::Key << "exports" << YAML::Value << YAML::BeginSeq;
    for (const ExportSpec& item : spec.exports) {
      out << YAML::BeginMap << YAML::Key << "topic" << YAML::Value << item.topic;
      out << YAML::Key << "fields" << YAML::Value << YAML::Flow << item.fields;
      if (item.every_ns != 0)
        out << YAML::Key << "every" << YAML::Value << DurationText(item.every_ns);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::shared_ptr<const Model> CompileSpec(const Spec& spec, const BlockRegistry& registry) {
  Diagnostics diagnostics;
  GraphBuilder builder(spec.run);
  AddBlocks(spec, registry, builder, diagnostics);
  if (!diagnostics.ok()) throw InputError(diagnostics);
  for (const ConnectionSpec& connection : spec.connections)
    builder.Connect(connection.from, connection.to, connection.location, connection.delayed);
  for (const FaultSpec& fault : spec.faults) builder.AddFault(fault);
  return builder.Build();
}

}  // namespace ftwin
