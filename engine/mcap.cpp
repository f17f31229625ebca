#include "engine/mcap.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ftwin::mcap {
namespace {

constexpr char kMagic[8] = {'\x89', 'M', 'C', 'A', 'P', '0', '\r', '\n'};
enum Opcode : uint8_t {
  kHeader = 0x01,
  kFooter = 0x02,
  kSchema = 0x03,
  kChannel = 0x04,
  kMessage = 0x05,
  kChunk = 0x06,
  kMessageIndex = 0x07,
  kChunkIndex = 0x08,
  kAttachment = 0x09,
  kAttachmentIndex = 0x0A,
  kStatistics = 0x0B,
  kMetadata = 0x0C,
  kMetadataIndex = 0x0D,
  kSummaryOffset = 0x0E,
  kDataEnd = 0x0F,
};

// Little-endian field encoder for record contents.
class Encoder {
 public:
  Encoder& U8(uint8_t v) { return Raw(&v, 1); }
  Encoder& U16(uint16_t v) { return Raw(&v, 2); }
  Encoder& U32(uint32_t v) { return Raw(&v, 4); }
  Encoder& U64(uint64_t v) { return Raw(&v, 8); }
  Encoder& Str(const std::string& s) {
    U32(static_cast<uint32_t>(s.size()));
    bytes_ += s;
    return *this;
  }
  Encoder& Bytes32(const std::string& s) { return Str(s); }
  Encoder& Bytes64(const std::string& s) {
    U64(s.size());
    bytes_ += s;
    return *this;
  }
  Encoder& StringMap(const std::map<std::string, std::string>& map) {
    Encoder inner;
    for (const auto& [key, value] : map) inner.Str(key).Str(value);
    return Str(inner.bytes_);
  }
  Encoder& U16U64Map(const std::map<uint16_t, uint64_t>& map) {
    Encoder inner;
    for (const auto& [key, value] : map) inner.U16(key).U64(value);
    return Str(inner.bytes_);
  }
  Encoder& Raw(const void* data, size_t size) {
    bytes_.append(static_cast<const char*>(data), size);
    return *this;
  }
  Encoder& Append(const std::string& bytes) {
    bytes_ += bytes;
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

std::string Record(uint8_t opcode, const std::string& content) {
  Encoder record;
  record.U8(opcode).U64(content.size()).Append(content);
  return record.bytes();
}

}  // namespace

uint32_t Crc32(const void* data, size_t size, uint32_t crc) {
  return static_cast<uint32_t>(
      ::crc32(crc, static_cast<const Bytef*>(data), static_cast<uInt>(size)));
}

// ---------------------------------------------------------------- writer

McapWriter::McapWriter(const std::filesystem::path& path, const std::string& profile,
                       const std::string& library, size_t chunk_size_bytes)
    : chunk_size_(chunk_size_bytes) {
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) throw std::runtime_error("cannot create recording " + path.string());
  WriteBytes(std::string(kMagic, 8));
  Encoder header;
  header.Str(profile).Str(library);
  WriteBytes(Record(kHeader, header.bytes()));
  std::fflush(file_);
}

McapWriter::~McapWriter() {
  if (!closed_ && file_ != nullptr) {
    try {
      Close();
    } catch (...) {
      std::fclose(file_);
    }
  }
}

void McapWriter::WriteBytes(const std::string& bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
    throw std::runtime_error("write to recording failed");
  data_crc_ = Crc32(bytes.data(), bytes.size(), data_crc_);
  offset_ += bytes.size();
}

std::string McapWriter::SchemaRecord(uint16_t id) const {
  const SchemaInfo& schema = schemas_.at(id);
  Encoder content;
  content.U16(id).Str(schema.name).Str(schema.encoding).Bytes32(schema.data);
  return Record(kSchema, content.bytes());
}

std::string McapWriter::ChannelRecord(uint16_t id) const {
  const ChannelInfo& channel = channels_.at(id);
  Encoder content;
  content.U16(id)
      .U16(channel.schema_id)
      .Str(channel.topic)
      .Str(channel.encoding)
      .StringMap(channel.metadata);
  return Record(kChannel, content.bytes());
}

uint16_t McapWriter::AddSchema(const std::string& name, const std::string& encoding,
                               const std::string& data) {
  const uint16_t id = static_cast<uint16_t>(schemas_.size() + 1);
  schemas_[id] = {name, encoding, data};
  chunk_records_ += SchemaRecord(id);  // inside the chunk stream, before any message using it
  return id;
}

uint16_t McapWriter::AddChannel(uint16_t schema_id, const std::string& topic,
                                const std::string& message_encoding,
                                const std::map<std::string, std::string>& metadata) {
  const uint16_t id = static_cast<uint16_t>(channels_.size() + 1);
  channels_[id] = {schema_id, topic, message_encoding, metadata};
  chunk_records_ += ChannelRecord(id);
  return id;
}

void McapWriter::WriteMessage(uint16_t channel_id, uint64_t log_time_ns, const std::string& data) {
  if (chunk_message_index_.empty())
    chunk_start_time_ = chunk_end_time_ = log_time_ns;  // first in chunk
  chunk_start_time_ = std::min(chunk_start_time_, log_time_ns);
  chunk_end_time_ = std::max(chunk_end_time_, log_time_ns);
  chunk_message_index_[channel_id].emplace_back(log_time_ns, chunk_records_.size());
  Encoder content;
  content.U16(channel_id)
      .U32(sequence_[channel_id]++)
      .U64(log_time_ns)
      .U64(log_time_ns)
      .Append(data);
  chunk_records_ += Record(kMessage, content.bytes());
  ++message_count_;
  ++channel_message_counts_[channel_id];
  message_start_time_ = std::min(message_start_time_, log_time_ns);
  message_end_time_ = std::max(message_end_time_, log_time_ns);
  if (chunk_records_.size() >= chunk_size_) FlushChunk();
}

void McapWriter::FlushChunk() {
  if (chunk_records_.empty()) return;
  ChunkIndexInfo index;
  index.start_time = chunk_message_index_.empty() ? 0 : chunk_start_time_;
  index.end_time = chunk_message_index_.empty() ? 0 : chunk_end_time_;
  index.offset = offset_;
  index.uncompressed_size = chunk_records_.size();
  Encoder chunk;
  chunk.U64(index.start_time).U64(index.end_time).U64(chunk_records_.size());
  chunk.U32(Crc32(chunk_records_.data(), chunk_records_.size())).Str("").Bytes64(chunk_records_);
  const std::string chunk_record = Record(kChunk, chunk.bytes());
  index.length = chunk_record.size();
  WriteBytes(chunk_record);
  const uint64_t index_start = offset_;
  for (const auto& [channel, entries] : chunk_message_index_) {
    index.message_index_offsets[channel] = offset_;
    Encoder pairs;
    for (const auto& [time, position] : entries) pairs.U64(time).U64(position);
    Encoder content;
    content.U16(channel).Str(pairs.bytes());
    WriteBytes(Record(kMessageIndex, content.bytes()));
  }
  index.message_index_length = offset_ - index_start;
  chunk_indexes_.push_back(std::move(index));
  chunk_records_.clear();
  chunk_message_index_.clear();
  std::fflush(file_);  // a complete chunk is in the file even if the process is killed now
}

void McapWriter::AddAttachment(const std::string& name, const std::string& media_type,
                               const std::string& data, uint64_t log_time_ns) {
  FlushChunk();
  Encoder content;
  content.U64(log_time_ns).U64(log_time_ns).Str(name).Str(media_type).Bytes64(data);
  content.U32(Crc32(content.bytes().data(), content.bytes().size()));
  WriteBytes(Record(kAttachment, content.bytes()));
  ++attachment_count_;
  std::fflush(file_);
}

void McapWriter::AddMetadata(const std::string& name,
                             const std::map<std::string, std::string>& values) {
  FlushChunk();
  Encoder content;
  content.Str(name).StringMap(values);
  WriteBytes(Record(kMetadata, content.bytes()));
  ++metadata_count_;
  std::fflush(file_);
}

void McapWriter::Close() {
  if (closed_) return;
  FlushChunk();
  Encoder data_end;
  data_end.U32(data_crc_);
  WriteBytes(Record(kDataEnd, data_end.bytes()));
  // Summary section: schemas, channels, chunk indexes, statistics; then summary offsets.
  const uint64_t summary_start = offset_;
  uint32_t summary_crc = 0;
  auto write_summary = [&](const std::string& bytes) {
    summary_crc = Crc32(bytes.data(), bytes.size(), summary_crc);
    WriteBytes(bytes);
  };
  struct Group {
    uint8_t opcode;
    uint64_t start, length;
  };
  std::vector<Group> groups;
  auto group = [&](uint8_t opcode, const std::vector<std::string>& records) {
    if (records.empty()) return;
    const uint64_t start = offset_;
    for (const std::string& record : records) write_summary(record);
    groups.push_back({opcode, start, offset_ - start});
  };
  std::vector<std::string> records;
  for (const auto& [id, schema] : schemas_) records.push_back(SchemaRecord(id));
  group(kSchema, records);
  records.clear();
  for (const auto& [id, channel] : channels_) records.push_back(ChannelRecord(id));
  group(kChannel, records);
  records.clear();
  for (const ChunkIndexInfo& index : chunk_indexes_) {
    Encoder content;
    content.U64(index.start_time).U64(index.end_time).U64(index.offset).U64(index.length);
    content.U16U64Map(index.message_index_offsets).U64(index.message_index_length).Str("");
    content.U64(index.uncompressed_size).U64(index.uncompressed_size);
    records.push_back(Record(kChunkIndex, content.bytes()));
  }
  group(kChunkIndex, records);
  Encoder statistics;
  statistics.U64(message_count_).U16(static_cast<uint16_t>(schemas_.size()));
  statistics.U32(static_cast<uint32_t>(channels_.size()))
      .U32(attachment_count_)
      .U32(metadata_count_);
  statistics.U32(static_cast<uint32_t>(chunk_indexes_.size()));
  statistics.U64(message_count_ == 0 ? 0 : message_start_time_).U64(message_end_time_);
  statistics.U16U64Map(channel_message_counts_);
  group(kStatistics, {Record(kStatistics, statistics.bytes())});
  const uint64_t summary_offset_start = offset_;
  for (const Group& g : groups) {
    Encoder content;
    content.U8(g.opcode).U64(g.start).U64(g.length);
    write_summary(Record(kSummaryOffset, content.bytes()));
  }
  // Footer: the summary CRC covers the footer's opcode, length and first two fields too.
  Encoder footer_head;
  footer_head.U8(kFooter).U64(8 + 8 + 4).U64(summary_start).U64(summary_offset_start);
  summary_crc = Crc32(footer_head.bytes().data(), footer_head.bytes().size(), summary_crc);
  Encoder footer_tail;
  footer_tail.U32(summary_crc);
  WriteBytes(footer_head.bytes() + footer_tail.bytes());
  WriteBytes(std::string(kMagic, 8));
  std::fclose(file_);
  file_ = nullptr;
  closed_ = true;
}

// ---------------------------------------------------------------- reader

namespace {

// Bounds-checked decoder over a byte range; any overrun sets `failed`.
class Decoder {
 public:
  Decoder(const char* data, size_t size) : data_(data), size_(size) {}
  template <class T>
  T Get() {
    T value{};
    if (sizeof(T) > size_ - position_) {
      failed = true;
      position_ = size_;
      return value;
    }
    std::memcpy(&value, data_ + position_, sizeof(T));
    position_ += sizeof(T);
    return value;
  }
  std::string Take(uint64_t count) {
    if (count > size_ - position_) {
      failed = true;
      position_ = size_;
      return {};
    }
    std::string bytes(data_ + position_, count);
    position_ += count;
    return bytes;
  }
  std::string Str() { return Take(Get<uint32_t>()); }
  std::map<std::string, std::string> StringMap() {
    const std::string bytes = Str();
    Decoder inner(bytes.data(), bytes.size());
    std::map<std::string, std::string> map;
    while (!inner.done() && !inner.failed) {
      std::string key = inner.Str();
      map[key] = inner.Str();
    }
    failed = failed || inner.failed;
    return map;
  }
  std::map<uint16_t, uint64_t> U16U64Map() {
    const std::string bytes = Str();
    Decoder inner(bytes.data(), bytes.size());
    std::map<uint16_t, uint64_t> map;
    while (!inner.done() && !inner.failed) {
      const uint16_t key = inner.Get<uint16_t>();
      map[key] = inner.Get<uint64_t>();
    }
    failed = failed || inner.failed;
    return map;
  }
  std::string Rest() { return Take(size_ - position_); }
  bool done() const { return position_ >= size_; }
  size_t position() const { return position_; }
  bool failed = false;

 private:
  const char* data_;
  size_t size_;
  size_t position_ = 0;
};

// Decodes the records of a data section or chunk body into `out`. Returns false on a record
// that does not fit (truncation); `end_of_last` is the offset after the last complete record.
void ReadSchemaOrChannel(uint8_t opcode, Decoder& record, McapContents& out) {
  if (opcode == kSchema) {
    McapSchema schema;
    schema.id = record.Get<uint16_t>();
    schema.name = record.Str();
    schema.encoding = record.Str();
    schema.data = record.Str();
    if (!record.failed) out.schemas[schema.id] = schema;
  } else {
    McapChannel channel;
    channel.id = record.Get<uint16_t>();
    channel.schema_id = record.Get<uint16_t>();
    channel.topic = record.Str();
    channel.message_encoding = record.Str();
    channel.metadata = record.StringMap();
    if (!record.failed) out.channels[channel.id] = channel;
  }
}

void ReadChunkBody(const std::string& body, McapContents& out) {
  Decoder records(body.data(), body.size());
  while (!records.done()) {
    const uint8_t opcode = records.Get<uint8_t>();
    const uint64_t length = records.Get<uint64_t>();
    const std::string content = records.Take(length);
    if (records.failed) {
      out.errors.push_back("chunk body: record framing overruns the chunk");
      return;
    }
    Decoder record(content.data(), content.size());
    if (opcode == kSchema || opcode == kChannel) {
      ReadSchemaOrChannel(opcode, record, out);
    } else if (opcode == kMessage) {
      McapMessage message;
      message.channel_id = record.Get<uint16_t>();
      message.sequence = record.Get<uint32_t>();
      message.log_time = record.Get<uint64_t>();
      message.publish_time = record.Get<uint64_t>();
      message.data = record.Rest();
      if (out.channels.count(message.channel_id) == 0)
        out.errors.push_back("message on channel " + std::to_string(message.channel_id) +
                             " before its Channel record");
      out.messages.push_back(std::move(message));
    } else {
      out.errors.push_back("unexpected record opcode " + std::to_string(opcode) +
                           " inside a chunk");
    }
    if (record.failed)
      out.errors.push_back("malformed record (opcode " + std::to_string(opcode) + ") in a chunk");
  }
}

}  // namespace

McapContents ReadMcap(const std::filesystem::path& path) {
  McapContents out;
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    out.errors.push_back("cannot open " + path.string());
    return out;
  }
  std::ostringstream buffer;
  buffer << stream.rdbuf();
  const std::string file = buffer.str();
  out.file_bytes = file.size();
  if (file.size() < 8 || std::memcmp(file.data(), kMagic, 8) != 0) {
    out.errors.push_back("not an MCAP file (bad leading magic)");
    return out;
  }
  size_t position = 8;
  out.valid_prefix_bytes = 8;
  bool in_summary = false;
  uint64_t summary_start = 0;
  std::vector<std::pair<uint64_t, uint64_t>> chunk_offsets;  // offset, length of each Chunk record
  while (position < file.size()) {
    if (file.size() - position < 9) break;  // truncated record header
    const uint8_t opcode = static_cast<uint8_t>(file[position]);
    uint64_t length;
    std::memcpy(&length, file.data() + position + 1, 8);
    if (length > file.size() - position - 9) break;  // truncated record
    const size_t record_start = position;
    Decoder record(file.data() + position + 9, length);
    position += 9 + length;
    switch (opcode) {
      case kHeader:
        out.profile = record.Str();
        out.library = record.Str();
        break;
      case kSchema:
      case kChannel:
        ReadSchemaOrChannel(opcode, record, out);
        break;
      case kChunk: {
        const uint64_t start_time = record.Get<uint64_t>();
        const uint64_t end_time = record.Get<uint64_t>();
        const uint64_t uncompressed_size = record.Get<uint64_t>();
        const uint32_t crc = record.Get<uint32_t>();
        const std::string compression = record.Str();
        const uint64_t records_length = record.Get<uint64_t>();
        const std::string body = record.Take(records_length);
        (void)start_time, (void)end_time;
        if (record.failed) {
          out.errors.push_back("chunk at offset " + std::to_string(record_start) + " is malformed");
          break;
        }
        if (!compression.empty()) {
          out.errors.push_back("chunk compression '" + compression +
                               "' is not supported by this reader");
          break;
        }
        if (body.size() != uncompressed_size)
          out.errors.push_back("chunk at offset " + std::to_string(record_start) +
                               ": size mismatch");
        if (crc != 0 && Crc32(body.data(), body.size()) != crc)
          out.errors.push_back("chunk at offset " + std::to_string(record_start) +
                               ": CRC mismatch");
        ReadChunkBody(body, out);
        chunk_offsets.emplace_back(record_start, 9 + length);
        ++out.chunk_count;
        break;
      }
      case kMessageIndex:
      case kAttachmentIndex:
      case kMetadataIndex:
      case kSummaryOffset:
        break;
      case kAttachment: {
        McapAttachment attachment;
        record.Get<uint64_t>();
        record.Get<uint64_t>();
        attachment.name = record.Str();
        attachment.media_type = record.Str();
        attachment.data = record.Take(record.Get<uint64_t>());
        const size_t crc_position = record.position();
        const uint32_t crc = record.Get<uint32_t>();
        if (!record.failed && crc != 0 &&
            Crc32(file.data() + record_start + 9, crc_position) != crc)
          out.errors.push_back("attachment '" + attachment.name + "': CRC mismatch");
        out.attachments.push_back(std::move(attachment));
        break;
      }
      case kMetadata: {
        std::string name = record.Str();
        out.metadata[name] = record.StringMap();
        break;
      }
      case kDataEnd: {
        const uint32_t crc = record.Get<uint32_t>();
        if (crc != 0 && Crc32(file.data(), record_start) != crc)
          out.errors.push_back("data section CRC mismatch");
        in_summary = true;
        summary_start = position;
        break;
      }
      case kChunkIndex: {
        record.Get<uint64_t>();
        record.Get<uint64_t>();
        const uint64_t offset = record.Get<uint64_t>();
        const uint64_t chunk_length = record.Get<uint64_t>();
        bool found = false;
        for (const auto& [chunk_offset, chunk_size] : chunk_offsets)
          found = found || (chunk_offset == offset && chunk_size == chunk_length);
        if (!found)
          out.errors.push_back("chunk index points at no chunk (offset " + std::to_string(offset) +
                               ")");
        break;
      }
      case kStatistics:
        out.has_statistics = true;
        out.statistics_message_count = record.Get<uint64_t>();
        break;
      case kFooter: {
        const uint64_t footer_summary_start = record.Get<uint64_t>();
        record.Get<uint64_t>();
        const uint32_t crc = record.Get<uint32_t>();
        if (footer_summary_start != 0 && footer_summary_start != summary_start)
          out.errors.push_back("footer summary_start does not match the summary section");
        if (crc != 0 && footer_summary_start != 0 &&
            Crc32(file.data() + footer_summary_start,
                  record_start + 9 + 16 - footer_summary_start) != crc)
          out.errors.push_back("summary CRC mismatch");
        if (file.size() - position != 8 || std::memcmp(file.data() + position, kMagic, 8) != 0)
          out.errors.push_back("missing trailing magic after the footer");
        else
          out.complete = in_summary;
        position = file.size();
        break;
      }
      default:
        break;  // unknown opcodes are skipped, as the specification requires
    }
    if (record.failed)
      out.errors.push_back("record with opcode " + std::to_string(opcode) + " is malformed");
    out.valid_prefix_bytes = position;
  }
  if (!out.complete)
    out.errors.push_back("file is incomplete: no valid footer (truncated at byte " +
                         std::to_string(out.valid_prefix_bytes) + " of " +
                         std::to_string(file.size()) + ")");
  if (out.has_statistics && out.statistics_message_count != out.messages.size())
    out.errors.push_back("statistics count " + std::to_string(out.statistics_message_count) +
                         " messages, found " + std::to_string(out.messages.size()));
  return out;
}

}  // namespace ftwin::mcap
