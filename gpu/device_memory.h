// Device and pinned host memory. In a build without CUDA, or on a machine without a GPU, every
// allocation fails with a message saying why; callers fall back to the CPU path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace ftwin::gpu {

/// Bytes on the CUDA device. Move-only; freed on destruction.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  /// Allocates `bytes`; false (and `error`) when CUDA is not available or memory is short.
  bool Allocate(size_t bytes, std::string* error);
  bool CopyFromHost(const void* host, size_t bytes, std::string* error);
  bool CopyToHost(void* host, size_t bytes, std::string* error) const;
  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

/// Page-locked host memory for fast, asynchronous copies (staging of exports to the bridge).
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  bool Allocate(size_t bytes, std::string* error);
  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

/// Deterministic sum of `count` doubles that live on the device (gpu/reduce_math.h order):
/// equal bit for bit to DeterministicSum over the same values on the host.
bool DeviceDeterministicSum(const DeviceBuffer& values, int64_t count, double* sum,
                            std::string* error);

}  // namespace ftwin::gpu
