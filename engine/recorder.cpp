#include "engine/recorder.h"

#include "engine/scene.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/units.h"

namespace ftwin {
namespace {

using Json = nlohmann::ordered_json;

bool Observable(const FieldDesc& field) {
  return field.kind != FieldKind::kScratch && field.owner != "engine";
}

std::string JsonType(DType dtype) { return IsFloating(dtype) ? "number" : "integer"; }

// JSON schema of a block's message, listing each field with its unit.
std::string BlockJsonSchema(const Model& model, int block) {
  Json schema;
  schema["type"] = "object";
  Json properties;
  properties["tick"] = {{"type", "integer"}};
  properties["time_s"] = {{"type", "number"}};
  properties["world"] = {{"type", "integer"}};
  for (FieldId id : model.binding(block).state_fields) {
    const FieldDesc& field = model.schema().field(id);
    if (!Observable(field)) continue;
    const std::string local = field.name.substr(field.owner.size() + 1);
    Json property;
    if (field.shape.empty()) {
      property["type"] = JsonType(field.dtype);
    } else {
      property["type"] = "array";
      property["items"] = {{"type", JsonType(field.dtype)}};
    }
    property["description"] =
        field.doc + " [" + field.unit + "] (" + FieldKindName(field.kind) + ")";
    properties[local] = property;
  }
  schema["properties"] = properties;
  return schema.dump();
}

const char* kEventSchema =
    R"({"type":"object","properties":{"tick":{"type":"integer"},"world":{"type":"integer"},"kind":{"type":"string"},"text":{"type":"string"}}})";
const char* kCommandSchema =
    R"({"type":"object","properties":{"tick":{"type":"integer"},"world":{"type":"integer"},"target":{"type":"string"},"values":{"type":"array","items":{"type":"number"}},"origin":{"type":"string"}}})";

std::string CommandJson(const Command& command) {
  Json json;
  json["tick"] = command.tick;
  json["world"] = command.world;
  json["target"] = command.target;
  json["values"] = command.values;
  json["origin"] = command.origin;
  return json.dump();
}

}  // namespace

namespace {

// Appends the shortest text that reads back to exactly `value` (std::to_chars), or null for a
// non-finite value (JSON has no NaN).
void AppendNumber(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

template <class T>
void AppendInteger(std::string& out, T value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void AppendElement(std::string& out, const State& state, FieldId id, DType dtype, int world,
                   int64_t i) {
  switch (dtype) {
    case DType::kFloat64:
      AppendNumber(out, state.World<double>(id, world)[i]);
      break;
    case DType::kFloat32:
      AppendNumber(out, state.World<float>(id, world)[i]);
      break;
    case DType::kInt64:
      AppendInteger(out, state.World<int64_t>(id, world)[i]);
      break;
    case DType::kInt32:
      AppendInteger(out, state.World<int32_t>(id, world)[i]);
      break;
    case DType::kUInt8:
      AppendInteger(out, static_cast<int>(state.World<uint8_t>(id, world)[i]));
      break;
  }
}

}  // namespace

std::string EncodeBlockMessage(const Simulator& simulator, int block, int world) {
  // Hand-written rather than through a JSON library: this runs for every block, world and
  // recorded tick, and the text must be byte-identical on replay.
  const Model& model = simulator.model();
  const State& state = simulator.state();
  std::string out;
  out.reserve(256);
  out += "{\"tick\":";
  AppendInteger(out, simulator.tick());
  out += ",\"time_s\":";
  AppendNumber(out, simulator.time_s());
  out += ",\"world\":";
  AppendInteger(out, world);
  for (FieldId id : model.binding(block).state_fields) {
    const FieldDesc& field = model.schema().field(id);
    if (!Observable(field)) continue;
    out += ",\"";
    out.append(field.name, field.owner.size() + 1, std::string::npos);  // names are identifiers
    out += "\":";
    const int64_t count = state.ElementCount(id);
    if (field.shape.empty()) {
      AppendElement(out, state, id, field.dtype, world, 0);
    } else {
      out += '[';
      for (int64_t i = 0; i < count; ++i) {
        if (i > 0) out += ',';
        AppendElement(out, state, id, field.dtype, world, i);
      }
      out += ']';
    }
  }
  out += '}';
  return out;
}

struct Recorder::Channels {
  std::vector<uint16_t> block_channels;  // per block (0 = none)
  std::vector<uint16_t> scene_channels;  // per block with a scene (0 = none)
  uint16_t events = 0;
  uint16_t commands = 0;
};

Recorder::Recorder(const Spec& spec, const RunOverrides& overrides, Simulator& simulator,
                   RecordOptions options)
    : options_(std::move(options)), channels_(std::make_unique<Channels>()) {
  if (options_.every_ticks < 1) options_.every_ticks = 1;
  writer_ = std::make_unique<mcap::McapWriter>(options_.file, "ftwin", "ftwin " + options_.version);
  const Model& model = simulator.model();
  writer_->AddAttachment("scenario.yaml", "application/yaml", spec.text);
  std::map<std::string, std::string> metadata = {
      {"ftwin_version", options_.version},
      {"scenario_name", spec.name},
      {"scenario_file", spec.file.string()},
      {"seed", std::to_string(model.run().seed)},
      {"worlds", std::to_string(model.run().num_worlds)},
      {"threads", std::to_string(model.run().num_threads)},
      {"dt_ns", std::to_string(model.run().dt_ns)},
      {"duration_ns", std::to_string(model.run().duration_ns)},
      {"record_every_ticks", std::to_string(options_.every_ticks)},
      {"schema_hash", std::to_string(model.schema().Hash())}};
  if (overrides.duration_ns)
    metadata["override_duration_ns"] = std::to_string(*overrides.duration_ns);
  writer_->AddMetadata("ftwin.run", metadata);
  for (int b = 0; b < model.num_blocks(); ++b) {
    const uint16_t schema = writer_->AddSchema("ftwin." + model.block(b).type_name(), "jsonschema",
                                               BlockJsonSchema(model, b));
    channels_->block_channels.push_back(writer_->AddChannel(
        schema, "/" + model.binding(b).name, "json", {{"block_type", model.block(b).type_name()}}));
  }
  uint16_t scene_schema = 0;
  for (int b = 0; b < model.num_blocks(); ++b) {
    uint16_t channel = 0;
    if (model.block(b).HasScene()) {
      if (scene_schema == 0)
        scene_schema =
            writer_->AddSchema("foxglove.SceneUpdate", "jsonschema", kSceneUpdateJsonSchema);
      channel = writer_->AddChannel(scene_schema, "/" + model.binding(b).name + "/scene", "json",
                                    {{"block_type", model.block(b).type_name()}});
    }
    channels_->scene_channels.push_back(channel);
  }
  channels_->events = writer_->AddChannel(
      writer_->AddSchema("ftwin.Event", "jsonschema", kEventSchema), "/ftwin/events", "json");
  channels_->commands = writer_->AddChannel(
      writer_->AddSchema("ftwin.Command", "jsonschema", kCommandSchema), "/ftwin/commands", "json");
  // OnTick reads the State only at multiples of every_ticks (so the device path brings it back
  // only then).
  simulator.AddObserver([this](const Simulator& s) { OnTick(s); });
  OnTick(simulator);  // the initial state
}

Recorder::~Recorder() { Close(); }

void Recorder::OnTick(const Simulator& simulator) {
  if (closed_) return;
  const uint64_t time_ns = static_cast<uint64_t>(simulator.time_ns());
  // Commands and events since the last call, in the order they happened.
  const std::vector<Command>& commands = simulator.command_log().entries();
  for (; commands_written_ < commands.size(); ++commands_written_) {
    const Command& command = commands[commands_written_];
    writer_->WriteMessage(channels_->commands,
                          static_cast<uint64_t>(command.tick * simulator.model().run().dt_ns),
                          CommandJson(command));
  }
  const std::vector<SimEvent>& events = simulator.events();
  for (; events_written_ < events.size(); ++events_written_) {
    const SimEvent& event = events[events_written_];
    Json json;
    json["tick"] = event.tick;
    json["world"] = event.world;
    json["kind"] = event.kind;
    json["text"] = event.text;
    writer_->WriteMessage(channels_->events,
                          static_cast<uint64_t>(event.tick * simulator.model().run().dt_ns),
                          json.dump());
  }
  if (simulator.tick() % options_.every_ticks != 0) return;
  const Model& model = simulator.model();
  for (int b = 0; b < model.num_blocks(); ++b)
    for (int world = 0; world < simulator.num_worlds(); ++world)
      writer_->WriteMessage(channels_->block_channels[static_cast<size_t>(b)], time_ns,
                            EncodeBlockMessage(simulator, b, world));
  // 3D scenes: one message per world, in the frame "world<k>" (worlds side by side in Foxglove
  // by choosing the display frame).
  for (int b = 0; b < model.num_blocks(); ++b) {
    const uint16_t channel = channels_->scene_channels[static_cast<size_t>(b)];
    if (channel == 0) continue;
    const BlockBinding& binding = model.binding(b);
    const TickInfo info =
        model.MakeTickInfo(simulator.tick(), binding.period_ticks, model.run().seed);
    for (int world = 0; world < simulator.num_worlds(); ++world) {
      SceneBuilder scene;
      BlockIo io(const_cast<State*>(&simulator.state()), &binding, world);
      model.block(b).DescribeScene(info, io, scene);
      writer_->WriteMessage(channel, time_ns,
                            scene.ToJson(simulator.time_ns(), "world" + std::to_string(world)));
    }
  }
}

void Recorder::Close() {
  if (closed_) return;
  closed_ = true;
  writer_->Close();
}

std::optional<RecordedRun> ReadRecordedRun(const mcap::McapContents& contents,
                                           const BlockRegistry& registry,
                                           std::vector<std::string>* errors) {
  if (!contents.complete) {
    *errors = contents.errors;
    errors->push_back("replay needs a complete recording (run `ftwin recover` first)");
    return std::nullopt;
  }
  const auto run_metadata = contents.metadata.find("ftwin.run");
  const mcap::McapAttachment* scenario = nullptr;
  for (const mcap::McapAttachment& attachment : contents.attachments)
    if (attachment.name == "scenario.yaml") scenario = &attachment;
  if (run_metadata == contents.metadata.end() || scenario == nullptr) {
    errors->push_back("not an ftwin recording (no ftwin.run metadata or scenario attachment)");
    return std::nullopt;
  }
  const auto& meta = run_metadata->second;
  RecordedRun run;
  run.overrides.seed = std::stoull(meta.at("seed"));
  run.overrides.num_worlds = std::stoi(meta.at("worlds"));
  run.overrides.num_threads = std::stoi(meta.at("threads"));
  run.overrides.duration_ns = std::stoll(meta.at("duration_ns"));
  run.record_every_ticks = std::stoll(meta.at("record_every_ticks"));
  const std::filesystem::path scenario_path = meta.at("scenario_file");
  try {
    run.loaded = LoadScenarioText(scenario->data, scenario_path, registry, run.overrides);
  } catch (const InputError& error) {
    errors->push_back(std::string("the recorded scenario no longer loads: ") + error.what());
    return std::nullopt;
  }
  if (std::to_string(run.loaded.model->schema().Hash()) != meta.at("schema_hash")) {
    errors->push_back("the model's schema differs from the recording's (another ftwin version?)");
    return std::nullopt;
  }
  std::map<uint16_t, std::string> topics;
  for (const auto& [id, channel] : contents.channels) topics[id] = channel.topic;
  for (const mcap::McapMessage& message : contents.messages) {
    if (topics[message.channel_id] != "/ftwin/commands") continue;
    const Json json = Json::parse(message.data);
    Command command;
    command.tick = json["tick"].get<int64_t>();
    command.world = json["world"].get<int32_t>();
    command.target = json["target"].get<std::string>();
    command.values = json["values"].get<std::vector<double>>();
    command.origin = json["origin"].get<std::string>();
    run.commands.push_back(std::move(command));
  }
  return run;
}

ReplayReport ReplayRecording(const std::filesystem::path& file, const BlockRegistry& registry) {
  ReplayReport report;
  const mcap::McapContents contents = mcap::ReadMcap(file);
  std::optional<RecordedRun> run = ReadRecordedRun(contents, registry, &report.errors);
  if (!run) return report;
  const LoadedScenario& loaded = run->loaded;
  const int64_t every = run->record_every_ticks;
  // Recorded messages by channel topic.
  std::map<uint16_t, std::string> topics;
  for (const auto& [id, channel] : contents.channels) topics[id] = channel.topic;
  std::vector<const mcap::McapMessage*> state_messages;
  Simulator simulator(loaded.model);
  for (const Command& command : run->commands) {
    const std::string error = simulator.Submit(command);
    if (!error.empty()) report.errors.push_back("recorded command rejected: " + error);
  }
  for (const mcap::McapMessage& message : contents.messages) {
    const std::string& topic = topics[message.channel_id];
    // Scenes are derived from the state; the state messages are what replay compares.
    const bool scene = topic.size() > 6 && topic.compare(topic.size() - 6, 6, "/scene") == 0;
    if (topic != "/ftwin/commands" && topic != "/ftwin/events" && !scene)
      state_messages.push_back(&message);
  }
  // Block channel of each block index.
  std::map<std::string, int> block_of_topic;
  for (int b = 0; b < loaded.model->num_blocks(); ++b)
    block_of_topic["/" + loaded.model->binding(b).name] = b;
  size_t next = 0;
  auto compare_tick = [&]() -> bool {
    for (; next < state_messages.size(); ++next) {
      const mcap::McapMessage& message = *state_messages[next];
      if (message.log_time != static_cast<uint64_t>(simulator.time_ns())) return true;
      const Json header = Json::parse(message.data);
      const auto block = block_of_topic.find(topics[message.channel_id]);
      if (block == block_of_topic.end()) {
        report.first_difference =
            "recorded channel " + topics[message.channel_id] + " has no block";
        return false;
      }
      const std::string expected =
          EncodeBlockMessage(simulator, block->second, header["world"].get<int>());
      ++report.messages_compared;
      if (expected != message.data) {
        report.first_difference = "tick " + std::to_string(simulator.tick()) + ", " +
                                  topics[message.channel_id] + ", world " +
                                  std::to_string(header["world"].get<int>()) +
                                  ":\n  recorded: " + message.data.substr(0, 300) +
                                  "\n  replayed: " + expected.substr(0, 300);
        return false;
      }
    }
    return true;
  };
  if (!compare_tick()) return report;
  const int64_t total = loaded.model->run().duration_ns / loaded.model->run().dt_ns;
  while (simulator.tick() < total && next < state_messages.size()) {
    simulator.Step(every - simulator.tick() % every);
    if (!compare_tick()) return report;
  }
  if (next != state_messages.size()) {
    report.first_difference = "the recording has state messages beyond the replayed run";
    return report;
  }
  report.identical = report.errors.empty();
  return report;
}

RecoverReport RecoverRecording(const std::filesystem::path& file,
                               const std::filesystem::path& repaired) {
  RecoverReport report;
  const mcap::McapContents contents = mcap::ReadMcap(file);
  report.was_complete = contents.complete;
  report.messages = contents.messages.size();
  report.chunks = contents.chunk_count;
  report.lost_bytes = contents.file_bytes - contents.valid_prefix_bytes;
  for (const mcap::McapMessage& message : contents.messages)
    report.last_time_s =
        std::max(report.last_time_s, NsToSeconds(static_cast<int64_t>(message.log_time)));
  for (const std::string& error : contents.errors)
    if (error.rfind("file is incomplete", 0) != 0) report.errors.push_back(error);
  if (repaired.empty()) return report;
  // Rewrite everything readable into a complete file, ids preserved by creation order.
  mcap::McapWriter writer(repaired, contents.profile, contents.library);
  for (const mcap::McapAttachment& attachment : contents.attachments)
    writer.AddAttachment(attachment.name, attachment.media_type, attachment.data);
  for (const auto& [name, values] : contents.metadata) writer.AddMetadata(name, values);
  std::map<uint16_t, uint16_t> schema_ids, channel_ids;
  for (const auto& [id, schema] : contents.schemas)
    schema_ids[id] = writer.AddSchema(schema.name, schema.encoding, schema.data);
  for (const auto& [id, channel] : contents.channels)
    channel_ids[id] = writer.AddChannel(schema_ids[channel.schema_id], channel.topic,
                                        channel.message_encoding, channel.metadata);
  for (const mcap::McapMessage& message : contents.messages)
    writer.WriteMessage(channel_ids[message.channel_id], message.log_time, message.data);
  writer.Close();
  return report;
}

}  // namespace ftwin
