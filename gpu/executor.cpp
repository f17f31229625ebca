// The emulated executor (host memory, plain loops) and, in builds without CUDA, the CUDA
// factory that says why there is none.
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <stdexcept>

#include "gpu/executor.h"

namespace ftwin::gpu {
namespace {

class EmulatedExecutor final : public Executor {
 public:
  bool emulated() const override { return true; }
  std::string Describe() const override { return "emulated (host memory, one thread)"; }
  void* Allocate(size_t bytes) override {
    constexpr size_t kAlignment = 64;
    const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void* memory = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
    if (memory == nullptr) throw std::runtime_error("emulated device: out of host memory");
    std::memset(memory, 0, rounded == 0 ? kAlignment : rounded);
    return memory;
  }
  void Free(void* device) noexcept override { std::free(device); }
  void Upload(void* device, const void* host, size_t bytes) override {
    if (bytes > 0) std::memcpy(device, host, bytes);
  }
  void Download(void* host, const void* device, size_t bytes) override {
    if (bytes > 0) std::memcpy(host, device, bytes);
  }
  void CopyOnDevice(void* to, const void* from, size_t bytes) override {
    if (bytes > 0) std::memmove(to, from, bytes);
  }
  void Zero(void* device, size_t bytes) override {
    if (bytes > 0) std::memset(device, 0, bytes);
  }
  void Synchronize() override {}
  void* stream() const override { return nullptr; }
  void CheckLaunch(const char*) override {}
  bool PinHost(void* host, size_t bytes) override {
    if (host == nullptr || bytes == 0 || pinned_.count(host) != 0) return false;
    pinned_[host] = bytes;
    pinned_bytes_ += bytes;
    return true;
  }
  void UnpinHost(void* host) noexcept override {
    const auto it = pinned_.find(host);
    if (it == pinned_.end()) return;
    pinned_bytes_ -= it->second;
    pinned_.erase(it);
  }
  size_t pinned_bytes() const override { return pinned_bytes_; }

 private:
  std::map<void*, size_t> pinned_;
  size_t pinned_bytes_ = 0;
};

}  // namespace

std::unique_ptr<Executor> Executor::CreateEmulated() {
  return std::make_unique<EmulatedExecutor>();
}

#if !FTWIN_HAVE_CUDA
std::unique_ptr<Executor> Executor::CreateCuda(std::string* error) {
  *error = "this ftwin was built without CUDA (nvcc was not found at configure time)";
  return nullptr;
}
#endif

}  // namespace ftwin::gpu
