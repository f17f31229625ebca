// No-CUDA build: device memory is never available; the message says why.
#include "gpu/device_memory.h"

namespace ftwin::gpu {
namespace {
constexpr const char* kNoCuda =
    "this ftwin was built without CUDA (nvcc was not found at configure time)";
}

DeviceBuffer::~DeviceBuffer() = default;
bool DeviceBuffer::Allocate(size_t, std::string* error) {
  *error = kNoCuda;
  return false;
}
bool DeviceBuffer::CopyFromHost(const void*, size_t, std::string* error) {
  *error = kNoCuda;
  return false;
}
bool DeviceBuffer::CopyToHost(void*, size_t, std::string* error) const {
  *error = kNoCuda;
  return false;
}
PinnedBuffer::~PinnedBuffer() = default;
bool PinnedBuffer::Allocate(size_t, std::string* error) {
  *error = kNoCuda;
  return false;
}
bool DeviceDeterministicSum(const DeviceBuffer&, int64_t, double*, std::string* error) {
  *error = kNoCuda;
  return false;
}

}  // namespace ftwin::gpu
