// The CUDA executor: device memory and one non-blocking stream on device 0.
#include <cuda_runtime.h>

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

 private:
  std::string name_;
  cudaStream_t stream_ = nullptr;
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
