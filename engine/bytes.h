// Little helpers to write and read plain bytes for snapshots and logs.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace ftwin {

/// Appends trivially copyable values to a byte vector (host byte order: little-endian on
/// every platform we build for).
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>* out) : out_(out) {}
  void Raw(const void* data, size_t size) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    out_->insert(out_->end(), bytes, bytes + size);
  }
  template <class T>
  void Value(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    Raw(&value, sizeof value);
  }
  template <class T>
  void Vector(const std::vector<T>& values) {
    Value<uint64_t>(values.size());
    if (!values.empty()) Raw(values.data(), values.size() * sizeof(T));
  }
  void String(const std::string& text) {
    Value<uint64_t>(text.size());
    Raw(text.data(), text.size());
  }

 private:
  std::vector<uint8_t>* out_;
};

/// Reads what ByteWriter wrote; throws std::runtime_error on truncated input.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  void Raw(void* out, size_t size) {
    if (size > size_ - position_) throw std::runtime_error("snapshot data is truncated");
    std::memcpy(out, data_ + position_, size);
    position_ += size;
  }
  template <class T>
  T Value() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    Raw(&value, sizeof value);
    return value;
  }
  template <class T>
  void Vector(std::vector<T>* values) {
    const uint64_t count = Value<uint64_t>();
    if (count > (size_ - position_) / sizeof(T))
      throw std::runtime_error("snapshot data is truncated");
    values->resize(count);
    if (count > 0) Raw(values->data(), count * sizeof(T));
  }
  std::string String() {
    const uint64_t count = Value<uint64_t>();
    if (count > size_ - position_) throw std::runtime_error("snapshot data is truncated");
    std::string text(count, '\0');
    Raw(text.data(), count);
    return text;
  }
  size_t remaining() const { return size_ - position_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
};

}  // namespace ftwin
