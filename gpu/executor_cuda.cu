// The CUDA executor: device memory and one non-blocking stream on device 0.
#include <cuda_runtime.h>

#include <map>
#include <stdexcept>
#include <string>

#include "gpu/cuda_device.h"
#include "gpu/executor.h"

namespace ftwin::gpu {
namespace {

void Check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

class CudaExecutor final : public Executor {
 public:
  explicit CudaExecutor(std::string name) : name_(std::move(name)) {
    Check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  }
  ~CudaExecutor() override {
    cudaStreamSynchronize(stream_);
    cudaStreamDestroy(stream_);
  }
  bool emulated() const override { return false; }
  std::string Describe() const override { return "cuda (" + name_ + ")"; }
  void* Allocate(size_t bytes) override {
    void* memory = nullptr;
    Check(cudaMalloc(&memory, bytes == 0 ? 1 : bytes), "cudaMalloc");
    Check(cudaMemsetAsync(memory, 0, bytes == 0 ? 1 : bytes, stream_), "cudaMemset");
    return memory;
  }
  void Free(void* device) noexcept override {
    cudaStreamSynchronize(stream_);
    cudaFree(device);
  }
  void Upload(void* device, const void* host, size_t bytes) override {
    if (bytes == 0) return;
    // Synchronous with respect to the host buffer: the caller may change it right after.
    Check(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream_), "upload");
    Check(cudaStreamSynchronize(stream_), "upload");
  }
  void Download(void* host, const void* device, size_t bytes) override {
    if (bytes == 0) return;
    Check(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream_), "download");
    Check(cudaStreamSynchronize(stream_), "download");
  }
  void CopyOnDevice(void* to, const void* from, size_t bytes) override {
    if (bytes == 0) return;
    Check(cudaMemcpyAsync(to, from, bytes, cudaMemcpyDeviceToDevice, stream_), "device copy");
  }
  void Zero(void* device, size_t bytes) override {
    if (bytes == 0) return;
    Check(cudaMemsetAsync(device, 0, bytes, stream_), "cudaMemset");
  }
  void Synchronize() override { Check(cudaStreamSynchronize(stream_), "synchronize"); }
  void* stream() const override { return stream_; }
  void CheckLaunch(const char* what) override { Check(cudaGetLastError(), what); }
  bool PinHost(void* host, size_t bytes) override {
    if (host == nullptr || bytes == 0 || pinned_.count(host) != 0) return false;
    if (cudaHostRegister(host, bytes, cudaHostRegisterDefault) != cudaSuccess) {
      cudaGetLastError();  // clear the (non-sticky) error: the range just stays pageable
      return false;
    }
    pinned_[host] = bytes;
    pinned_bytes_ += bytes;
    return true;
  }
  void UnpinHost(void* host) noexcept override {
    const auto it = pinned_.find(host);
    if (it == pinned_.end()) return;
    cudaStreamSynchronize(stream_);
    cudaHostUnregister(host);
    pinned_bytes_ -= it->second;
    pinned_.erase(it);
  }
  size_t pinned_bytes() const override { return pinned_bytes_; }

 private:
  std::string name_;
  cudaStream_t stream_ = nullptr;
  std::map<void*, size_t> pinned_;
  size_t pinned_bytes_ = 0;
};

}  // namespace

std::unique_ptr<Executor> Executor::CreateCuda(std::string* error) {
  const CudaStatus status = QueryCuda();
  if (!status.available) {
    *error = status.reason;
    return nullptr;
  }
  try {
    return std::make_unique<CudaExecutor>(status.device_name);
  } catch (const std::exception& failure) {
    *error = failure.what();
    return nullptr;
  }
}

}  // namespace ftwin::gpu
