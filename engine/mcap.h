// MCAP files (https://mcap.dev/spec, format version 0): a chunked, indexed, CRC-checked log
// format for robotics data that Foxglove opens directly. McapWriter writes uncompressed chunks,
// flushing each complete chunk to the file so that a killed process leaves every complete chunk
// readable. McapReader is an independent reader of the specification used to validate files
// and to recover truncated ones.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ftwin::mcap {

/// Standard CRC-32 (as in zlib, ISO-HDLC), continued from `crc`.
uint32_t Crc32(const void* data, size_t size, uint32_t crc = 0);

class McapWriter {
 public:
  /// Opens `path` for writing and writes the magic and Header record. Throws on I/O errors.
  McapWriter(const std::filesystem::path& path, const std::string& profile,
             const std::string& library, size_t chunk_size_bytes = 1 << 20);
  ~McapWriter();
  McapWriter(const McapWriter&) = delete;
  McapWriter& operator=(const McapWriter&) = delete;

  /// Registers a schema (e.g. encoding "jsonschema"); returns its id (>= 1).
  uint16_t AddSchema(const std::string& name, const std::string& encoding, const std::string& data);
  /// Registers a channel on a schema; returns its id.
  uint16_t AddChannel(uint16_t schema_id, const std::string& topic,
                      const std::string& message_encoding,
                      const std::map<std::string, std::string>& metadata = {});
  /// Appends a message to the current chunk (flushed when it reaches the chunk size).
  void WriteMessage(uint16_t channel_id, uint64_t log_time_ns, const std::string& data);
  /// An attachment (written outside chunks, immediately).
  void AddAttachment(const std::string& name, const std::string& media_type,
                     const std::string& data, uint64_t log_time_ns = 0);
  /// A metadata record (written immediately).
  void AddMetadata(const std::string& name, const std::map<std::string, std::string>& values);
  /// Writes the open chunk now (so everything so far survives a crash).
  void FlushChunk();
  /// Finishes the file: last chunk, Data End, summary section, Footer, magic.
  void Close();

 private:
  struct ChannelInfo {
    uint16_t schema_id;
    std::string topic, encoding;
    std::map<std::string, std::string> metadata;
  };
  struct SchemaInfo {
    std::string name, encoding, data;
  };
  struct ChunkIndexInfo {
    uint64_t start_time, end_time, offset, length, message_index_length;
    std::map<uint16_t, uint64_t> message_index_offsets;
    uint64_t uncompressed_size;
  };
  void WriteBytes(const std::string& bytes);
  std::string SchemaRecord(uint16_t id) const;
  std::string ChannelRecord(uint16_t id) const;

  std::FILE* file_ = nullptr;
  uint64_t offset_ = 0;
  uint32_t data_crc_ = 0;
  size_t chunk_size_;
  bool closed_ = false;
  std::map<uint16_t, SchemaInfo> schemas_;
  std::map<uint16_t, ChannelInfo> channels_;
  // Open chunk.
  std::string chunk_records_;
  uint64_t chunk_start_time_ = 0, chunk_end_time_ = 0;
  std::map<uint16_t, std::vector<std::pair<uint64_t, uint64_t>>> chunk_message_index_;
  std::vector<ChunkIndexInfo> chunk_indexes_;
  // Statistics.
  std::map<uint16_t, uint64_t> channel_message_counts_;
  std::map<uint16_t, uint32_t> sequence_;
  uint64_t message_count_ = 0, message_start_time_ = UINT64_MAX, message_end_time_ = 0;
  uint32_t attachment_count_ = 0, metadata_count_ = 0;
};

/// What a reader found in a file.
struct McapMessage {
  uint16_t channel_id;
  uint32_t sequence;
  uint64_t log_time, publish_time;
  std::string data;
};
struct McapChannel {
  uint16_t id, schema_id;
  std::string topic, message_encoding;
  std::map<std::string, std::string> metadata;
};
struct McapSchema {
  uint16_t id;
  std::string name, encoding, data;
};
struct McapAttachment {
  std::string name, media_type, data;
};
struct McapContents {
  std::string profile, library;
  std::map<uint16_t, McapSchema> schemas;
  std::map<uint16_t, McapChannel> channels;
  std::vector<McapMessage> messages;  ///< in file order
  std::vector<McapAttachment> attachments;
  std::map<std::string, std::map<std::string, std::string>> metadata;
  uint32_t chunk_count = 0;
  bool complete = false;  ///< Data End, summary and footer present and valid
  bool has_statistics = false;
  uint64_t statistics_message_count = 0;
  uint64_t valid_prefix_bytes = 0;  ///< bytes up to the end of the last complete record
  uint64_t file_bytes = 0;
  std::vector<std::string> errors;  ///< CRC mismatches, malformed records (empty = valid)
};

/// Reads and validates a file: magic, every record's framing, chunk CRCs, data-section CRC,
/// summary CRC, summary offsets and statistics. Never throws on malformed data: problems go to
/// `errors`, and reading stops at the first incomplete record (a truncated file).
McapContents ReadMcap(const std::filesystem::path& path);

}  // namespace ftwin::mcap
