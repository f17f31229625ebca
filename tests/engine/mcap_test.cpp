// MCAP recordings: the writer's output validated by the independent reader (magic, records,
// CRCs, summary), truncation and kill -9 recovery, and bit-exact replay of a recorded run.
#include "engine/mcap.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/recorder.h"
#include "plants/register.h"

namespace ftwin {
namespace {

namespace fs = std::filesystem;
using mcap::McapContents;
using mcap::McapWriter;
using mcap::ReadMcap;

fs::path TempFile(const std::string& name) {
  return fs::temp_directory_path() / ("ftwin_mcap_test_" + std::to_string(getpid()) + "_" + name);
}

std::string ReadBytes(const fs::path& file) {
  std::ifstream stream(file, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

void WriteBytes(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

// 300 messages on two channels, 4 KiB chunks.
void WriteSample(const fs::path& file) {
  McapWriter writer(file, "ftwin", "test", 4096);
  writer.AddAttachment("scenario.yaml", "application/yaml", "name: x\n");
  writer.AddMetadata("ftwin.run", {{"seed", "3"}});
  const uint16_t schema = writer.AddSchema("s", "jsonschema", R"({"type":"object"})");
  const uint16_t a = writer.AddChannel(schema, "/a", "json");
  const uint16_t b = writer.AddChannel(schema, "/b", "json", {{"k", "v"}});
  for (int i = 0; i < 300; ++i)
    writer.WriteMessage(i % 3 == 0 ? b : a, static_cast<uint64_t>(i) * 1000,
                        "{\"i\":" + std::to_string(i) + "}");
  writer.Close();
}

TEST_CASE("The MCAP writer's files pass the independent reader", "[mcap]") {
  const fs::path file = TempFile("sample.mcap");
  WriteSample(file);
  const McapContents contents = ReadMcap(file);
  CHECK(contents.errors.empty());
  CHECK(contents.complete);
  CHECK(contents.profile == "ftwin");
  REQUIRE(contents.messages.size() == 300);
  CHECK(contents.messages[7].data == "{\"i\":7}");
  CHECK(contents.messages[7].log_time == 7000);
  CHECK(contents.messages[3].sequence == 1);  // second message on /b
  CHECK(contents.chunk_count > 1);
  CHECK(contents.statistics_message_count == 300);
  CHECK(contents.channels.at(2).metadata.at("k") == "v");
  CHECK(contents.attachments.at(0).data == "name: x\n");
  CHECK(contents.metadata.at("ftwin.run").at("seed") == "3");
  // Magic at both ends, as the specification requires.
  const std::string bytes = ReadBytes(file);
  CHECK(bytes.substr(0, 8) == std::string("\x89MCAP0\r\n", 8));
  CHECK(bytes.substr(bytes.size() - 8) == std::string("\x89MCAP0\r\n", 8));
  fs::remove(file);
}

TEST_CASE("Corrupted bytes are caught by the CRCs", "[mcap]") {
  const fs::path file = TempFile("corrupt.mcap");
  WriteSample(file);
  std::string bytes = ReadBytes(file);
  const size_t payload = bytes.find("{\"i\":42}");
  REQUIRE(payload != std::string::npos);
  bytes[payload + 5] = '7';  // same length, different content
  WriteBytes(file, bytes);
  const McapContents contents = ReadMcap(file);
  bool chunk_crc = false, data_crc = false;
  for (const std::string& error : contents.errors) {
    chunk_crc = chunk_crc || error.find("CRC mismatch") != std::string::npos &&
                                 error.find("chunk") != std::string::npos;
    data_crc = data_crc || error.find("data section CRC") != std::string::npos;
  }
  CHECK(chunk_crc);
  CHECK(data_crc);
  fs::remove(file);
}

TEST_CASE("A truncated file keeps every complete chunk readable and can be repaired", "[mcap]") {
  const fs::path file = TempFile("truncated.mcap");
  WriteSample(file);
  const std::string bytes = ReadBytes(file);
  const McapContents whole = ReadMcap(file);
  for (size_t cut : {bytes.size() - 3, bytes.size() / 2, bytes.size() / 3, size_t{20}}) {
    WriteBytes(file, bytes.substr(0, cut));
    const McapContents contents = ReadMcap(file);
    CHECK_FALSE(contents.complete);
    CHECK(contents.valid_prefix_bytes <= cut);
    // Messages that were read are exactly a prefix of the full file's messages.
    REQUIRE(contents.messages.size() <= whole.messages.size());
    for (size_t i = 0; i < contents.messages.size(); ++i)
      CHECK(contents.messages[i].data == whole.messages[i].data);
    if (cut > bytes.size() / 3) CHECK(contents.messages.size() > 0);
    const fs::path repaired = TempFile("repaired.mcap");
    const RecoverReport report = RecoverRecording(file, repaired);
    CHECK_FALSE(report.was_complete);
    CHECK(report.lost_bytes == cut - contents.valid_prefix_bytes);
    const McapContents fixed = ReadMcap(repaired);
    CHECK(fixed.complete);
    CHECK(fixed.errors.empty());
    CHECK(fixed.messages.size() == contents.messages.size());
    fs::remove(repaired);
  }
  fs::remove(file);
}

TEST_CASE("kill -9 while recording leaves every flushed chunk readable", "[mcap]") {
  const fs::path file = TempFile("killed.mcap");
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    McapWriter writer(file, "ftwin", "test", 2048);
    const uint16_t channel =
        writer.AddChannel(writer.AddSchema("s", "jsonschema", "{}"), "/x", "json");
    for (int i = 0;; ++i) {
      writer.WriteMessage(channel, static_cast<uint64_t>(i), "{\"i\":" + std::to_string(i) + "}");
      if (i == 1000) kill(getpid(), SIGKILL);  // mid-chunk, no destructor, no Close()
    }
  }
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  const McapContents contents = ReadMcap(file);
  CHECK_FALSE(contents.complete);
  // Every message of the flushed chunks, in order, and none of the torn one.
  REQUIRE(contents.messages.size() > 500);
  CHECK(contents.messages.size() < 1001);
  for (size_t i = 0; i < contents.messages.size(); ++i)
    CHECK(contents.messages[i].data == "{\"i\":" + std::to_string(i) + "}");
  for (const std::string& error : contents.errors)
    CHECK_THAT(error, Catch::StartsWith("file is incomplete"));
  fs::remove(file);
}

TEST_CASE("A recorded run with commands replays bit-exactly; a tampered one does not",
          "[mcap][determinism]") {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  RunOverrides overrides;
  overrides.duration_ns = 2LL * 86400 * 1'000'000'000;
  overrides.num_worlds = 3;
  overrides.num_threads = 2;
  LoadedScenario loaded =
      LoadScenario(FTWIN_SOURCE_DIR "/scenarios/building.yaml", registry, overrides);
  const fs::path file = TempFile("run.mcap");
  {
    Simulator simulator(loaded.model);
    RecordOptions options;
    options.file = file;
    options.every_ticks = 30;
    options.version = "test";
    Recorder recorder(loaded.spec, overrides, simulator, options);
    REQUIRE(simulator.Submit({1000, 1, "heater.setpoint", {297.0}, "controller"}).empty());
    REQUIRE(simulator.Submit({5000, -1, "building!heat_leak", {1, 2500.0, 3600.0}, "operator"})
                .empty());
    simulator.Step(loaded.model->run().duration_ns / loaded.model->run().dt_ns);
    recorder.Close();
  }
  const McapContents contents = ReadMcap(file);
  CHECK(contents.errors.empty());
  const ReplayReport report = ReplayRecording(file, registry);
  CHECK(report.errors.empty());
  CHECK(report.identical);
  CHECK(report.messages_compared ==
        static_cast<uint64_t>(loaded.model->num_blocks()) * 3 * (17280 / 30 + 1));
  // A valid file whose one recorded temperature differs in the last digit: replay must notice.
  const fs::path tampered = TempFile("tampered.mcap");
  {
    McapWriter writer(tampered, contents.profile, contents.library);
    for (const auto& attachment : contents.attachments)
      writer.AddAttachment(attachment.name, attachment.media_type, attachment.data);
    for (const auto& [name, values] : contents.metadata) writer.AddMetadata(name, values);
    for (const auto& [id, schema] : contents.schemas)
      writer.AddSchema(schema.name, schema.encoding, schema.data);
    for (const auto& [id, channel] : contents.channels)
      writer.AddChannel(channel.schema_id, channel.topic, channel.message_encoding,
                        channel.metadata);
    bool changed = false;
    for (const auto& message : contents.messages) {
      std::string data = message.data;
      const size_t at = data.find("\"temp_K\":[");
      if (!changed && message.log_time > 86400ull * 1'000'000'000 && at != std::string::npos) {
        const size_t end = data.find(',', at);
        data[end - 1] = data[end - 1] == '1' ? '2' : '1';
        changed = true;
      }
      writer.WriteMessage(message.channel_id, message.log_time, data);
    }
    REQUIRE(changed);
    writer.Close();
  }
  CHECK(ReadMcap(tampered).errors.empty());
  const ReplayReport differs = ReplayRecording(tampered, registry);
  CHECK_FALSE(differs.identical);
  CHECK_THAT(differs.first_difference,
             Catch::Contains("/building") && Catch::Contains("recorded:"));
  fs::remove(file);
  fs::remove(tampered);
}

}  // namespace
}  // namespace ftwin
