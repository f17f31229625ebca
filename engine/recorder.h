// Recording a run to MCAP: the scenario (attachment), run metadata, every block's observable
// fields per world at a chosen period (one JSON-schema channel per block, so Foxglove opens the
// file as-is), the events (faults, world resets) and the command log including controllers'
// actions. A recording plus its scenario replays bit-exactly (ReplayRecording).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/mcap.h"
#include "engine/scenario.h"
#include "engine/simulator.h"

namespace ftwin {

struct RecordOptions {
  std::filesystem::path file;
  int64_t every_ticks = 1;  ///< record the state every this many ticks (>= 1)
  std::string version;
};

/// Observes a simulator and writes the recording; Close() (or destruction) finishes the file.
class Recorder {
 public:
  /// Writes the header, scenario, metadata, schemas and the initial state (tick 0).
  Recorder(const Spec& spec, const RunOverrides& overrides, Simulator& simulator,
           RecordOptions options);
  ~Recorder();
  /// Called at every tick boundary (registered as a Simulator observer by the constructor).
  void OnTick(const Simulator& simulator);
  void Close();

 private:
  struct Channels;
  RecordOptions options_;
  std::unique_ptr<mcap::McapWriter> writer_;
  std::unique_ptr<Channels> channels_;
  size_t commands_written_ = 0;
  size_t events_written_ = 0;
  bool closed_ = false;
};

/// The JSON message of one block's observable fields for one world at the current tick.
std::string EncodeBlockMessage(const Simulator& simulator, int block, int world);

/// Result of a replay check.
struct ReplayReport {
  bool identical = false;
  uint64_t messages_compared = 0;
  std::string first_difference;  ///< empty when identical
  std::vector<std::string> errors;
};

/// What a recording says about its run: the scenario (as recorded, with the recorded seed,
/// worlds, threads and duration), the command log, and the recording period.
struct RecordedRun {
  LoadedScenario loaded;
  RunOverrides overrides;
  std::vector<Command> commands;
  int64_t record_every_ticks = 1;
};
/// Reads a complete recording's run; returns nullopt and appends to `errors` when unusable.
std::optional<RecordedRun> ReadRecordedRun(const mcap::McapContents& contents,
                                           const BlockRegistry& registry,
                                           std::vector<std::string>* errors);

/// Re-runs the recorded scenario with the recorded seed, overrides and command log and compares
/// every recorded state message byte for byte.
ReplayReport ReplayRecording(const std::filesystem::path& file, const BlockRegistry& registry);

/// What a (possibly truncated) recording still holds; writes a repaired copy when `repaired`
/// is not empty.
struct RecoverReport {
  bool was_complete = false;
  uint64_t messages = 0;
  uint64_t chunks = 0;
  uint64_t lost_bytes = 0;
  double last_time_s = 0;
  std::vector<std::string> errors;
};
RecoverReport RecoverRecording(const std::filesystem::path& file,
                               const std::filesystem::path& repaired);

}  // namespace ftwin
