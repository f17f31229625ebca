// Executor: where the device path of the Simulator keeps its buffers and runs its per-world
// kernels. Two implementations share this interface:
//   - CUDA: device memory, one stream, kernels launched by ForEachWorld (gpu/for_each_world.h);
//   - emulated: "device" buffers in host memory and ForEachWorld a plain loop over worlds.
// The emulated executor runs the whole device orchestration (uploads, downloads, device-to-device
// copies, per-world flags) on machines without a GPU, so tests can check it bit for bit against
// the CPU driver. Lowest layer: includes nothing of ours.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace ftwin::gpu {

class Executor {
 public:
  virtual ~Executor() = default;

  /// A CUDA executor on device 0, or nullptr with `error` saying why (no CUDA build, no device).
  static std::unique_ptr<Executor> CreateCuda(std::string* error);
  /// The host-memory emulation (always available).
  static std::unique_ptr<Executor> CreateEmulated();

  /// True for the host-memory emulation: ForEachWorld loops on the calling thread.
  virtual bool emulated() const = 0;
  /// "cuda (NVIDIA H200)" or "emulated (host memory)".
  virtual std::string Describe() const = 0;

  /// Device memory; throws std::runtime_error when it cannot be allocated. Zero-filled.
  virtual void* Allocate(size_t bytes) = 0;
  virtual void Free(void* device) noexcept = 0;
  /// Host -> device, device -> host and device -> device copies. Copies to the host return once
  /// the data is there (they wait for the kernels queued before them); the others are ordered
  /// with the kernels on the executor's stream. Throw std::runtime_error on failure.
  virtual void Upload(void* device, const void* host, size_t bytes) = 0;
  virtual void Download(void* host, const void* device, size_t bytes) = 0;
  virtual void CopyOnDevice(void* device_to, const void* device_from, size_t bytes) = 0;
  virtual void Zero(void* device, size_t bytes) = 0;
  /// Waits until every queued operation has finished.
  virtual void Synchronize() = 0;
  /// The cudaStream_t kernels are queued on (nullptr for the emulation).
  virtual void* stream() const = 0;
  /// Throws std::runtime_error naming `what` when the last kernel launch failed (CUDA only).
  virtual void CheckLaunch(const char* what) = 0;
  /// Page-locks a host range so copies to and from it run as DMA at full bus speed, without a
  /// driver bounce buffer (cudaHostRegister; the emulation only records it). Returns false,
  /// leaving the range pageable, when the driver refuses. Unpin before the memory is freed.
  virtual bool PinHost(void* host, size_t bytes) = 0;
  virtual void UnpinHost(void* host) noexcept = 0;
  /// Host bytes pinned now.
  virtual size_t pinned_bytes() const = 0;
};

/// Device memory owned by an executor: typed, move-only, freed on destruction.
template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(Executor& executor, size_t count)
      : executor_(&executor),
        data_(static_cast<T*>(executor.Allocate(count * sizeof(T) > 0 ? count * sizeof(T) : 1))),
        count_(count) {}
  ~DeviceArray() { Reset(); }
  DeviceArray(DeviceArray&& other) noexcept { Swap(other); }
  DeviceArray& operator=(DeviceArray&& other) noexcept {
    Swap(other);
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  /// A device copy of `count` host values.
  static DeviceArray FromHost(Executor& executor, const T* host, size_t count) {
    DeviceArray array(executor, count);
    if (count > 0) executor.Upload(array.data_, host, count * sizeof(T));
    return array;
  }
  T* data() const { return data_; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }

 private:
  void Reset() noexcept {
    if (executor_ != nullptr && data_ != nullptr) executor_->Free(data_);
    data_ = nullptr;
    count_ = 0;
  }
  void Swap(DeviceArray& other) noexcept {
    std::swap(executor_, other.executor_);
    std::swap(data_, other.data_);
    std::swap(count_, other.count_);
  }
  Executor* executor_ = nullptr;
  T* data_ = nullptr;
  size_t count_ = 0;
};

}  // namespace ftwin::gpu
