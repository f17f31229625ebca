// Scenario files (YAML) -> Spec -> Model. The format is documented field by field in
// docs/scenario.md. Loading validates everything before anything runs; every error names the
// file, line, key path, value and expectation, and all errors of a file are reported at once.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/block.h"
#include "engine/graph.h"
#include "engine/model.h"
#include "engine/params.h"

namespace ftwin {

/// Creates a block of one type from its scenario mapping (name and type already consumed).
/// Reads and validates its parameters through `params`; may return nullptr after reporting.
using BlockFactory =
    std::function<std::unique_ptr<Block>(const std::string& name, ParamReader& params)>;

/// Block types by scenario name. Filled explicitly by each layer's Register*Blocks function
/// (no static-initialisation tricks).
class BlockRegistry {
 public:
  void Register(const std::string& type, std::string doc, BlockFactory factory);
  const BlockFactory* Find(const std::string& type) const;
  std::vector<std::string> TypeNames() const;
  const std::string& Doc(const std::string& type) const;

 private:
  struct Entry {
    std::string doc;
    BlockFactory factory;
  };
  std::map<std::string, Entry> entries_;
};

/// Output settings of a scenario.
struct OutputSpec {
  std::filesystem::path dir;  ///< empty = no files
  bool kpi_json = true;
  bool kpi_csv = true;
};

/// A set of State fields the bridge publishes together on one stream topic (docs/protocol.md).
struct ExportSpec {
  std::string topic;                ///< e.g. "building/"; subscribers filter on its prefix
  std::vector<std::string> fields;  ///< full field names, or "<prefix>*" patterns
  int64_t every_ns = 0;             ///< publish period; 0 = every tick
  SourceLocation location;
};

/// A block as written in the scenario.
struct BlockSpec {
  std::string name;
  std::string type;
  YAML::Node params;  ///< the whole mapping of the block
  SourceLocation location;
};

struct ConnectionSpec {
  std::string from;
  std::string to;
  bool delayed = false;
  SourceLocation location;
};

/// The editable description of a scenario, validated structurally.
struct Spec {
  std::filesystem::path file;
  std::string name;
  std::string description;
  RunConfig run;
  std::vector<BlockSpec> blocks;
  std::vector<ConnectionSpec> connections;
  std::vector<FaultSpec> faults;
  OutputSpec outputs;
  std::vector<ExportSpec> exports;  ///< empty = one topic per block ("<block>/", every tick)
  std::string text;                 ///< the scenario file as read (recorded with runs)
};

/// Overrides from the command line, applied before validation of dependent values.
struct RunOverrides {
  std::optional<uint64_t> seed;
  std::optional<int64_t> duration_ns;
  std::optional<int> num_worlds;
  std::optional<int> num_threads;
};

/// Reads and checks a scenario file; throws InputError listing every problem.
Spec LoadSpec(const std::filesystem::path& file, const RunOverrides& overrides = {});
/// Same, from text (`file` is used in messages and to resolve relative paths).
Spec ParseSpec(const std::string& text, const std::filesystem::path& file,
               const RunOverrides& overrides = {});
/// Writes a Spec back as scenario YAML; ParseSpec(SpecToYaml(spec)) gives the same Spec.
std::string SpecToYaml(const Spec& spec);
/// A duration as the shortest exact text with a unit ("90s", "15min", "250ms").
std::string DurationText(int64_t nanoseconds);
/// Creates the blocks, checks the graph and compiles the Model; throws InputError.
std::shared_ptr<const Model> CompileSpec(const Spec& spec, const BlockRegistry& registry);

/// A loaded scenario: its Spec and compiled Model.
struct LoadedScenario {
  Spec spec;
  std::shared_ptr<const Model> model;
};
/// Parses and compiles in one pass, reporting the structural errors and every block's
/// parameter errors together (what `ftwin validate` and `ftwin run` use). Throws InputError.
LoadedScenario LoadScenario(const std::filesystem::path& file, const BlockRegistry& registry,
                            const RunOverrides& overrides = {});
LoadedScenario LoadScenarioText(const std::string& text, const std::filesystem::path& file,
                                const BlockRegistry& registry, const RunOverrides& overrides = {});

/// Blocks the engine itself provides (signal sources, PID controller, thermal network).
void RegisterEngineBlocks(BlockRegistry& registry);

}  // namespace ftwin
