// CUDA build: device and pinned buffers, and the tile-sum kernel of the deterministic reduction.
// The kernel holds no formula of its own: each block calls TileSum's tree order on its tile.
#include <cuda_runtime.h>

#include <utility>
#include <vector>

#include "gpu/device_memory.h"
#include "gpu/reduce_math.h"

namespace ftwin::gpu {
namespace {

bool Check(cudaError_t status, const char* what, std::string* error) {
  if (status == cudaSuccess) return true;
  *error = std::string(what) + ": " + cudaGetErrorString(status);
  return false;
}

// One block of kReduceTile threads per tile; the shared-memory tree is the order of TileSum.
__global__ void TileSumKernel(const double* values, int64_t count, double* tile_sums) {
  __shared__ double tile[kReduceTile];
  const int64_t index = static_cast<int64_t>(blockIdx.x) * kReduceTile + threadIdx.x;
  tile[threadIdx.x] = index < count ? values[index] : 0.0;
  __syncthreads();
  for (int stride = kReduceTile / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) tile[threadIdx.x] += tile[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) tile_sums[blockIdx.x] = tile[0];
}

}  // namespace

DeviceBuffer::~DeviceBuffer() {
  if (data_ != nullptr) cudaFree(data_);
}
bool DeviceBuffer::Allocate(size_t bytes, std::string* error) {
  if (data_ != nullptr) cudaFree(data_);
  data_ = nullptr;
  size_ = 0;
  if (!Check(cudaMalloc(&data_, bytes), "cudaMalloc", error)) return false;
  size_ = bytes;
  return true;
}
bool DeviceBuffer::CopyFromHost(const void* host, size_t bytes, std::string* error) {
  if (bytes > size_) {
    *error = "copy larger than the device buffer";
    return false;
  }
  return Check(cudaMemcpy(data_, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device",
               error);
}
bool DeviceBuffer::CopyToHost(void* host, size_t bytes, std::string* error) const {
  if (bytes > size_) {
    *error = "copy larger than the device buffer";
    return false;
  }
  return Check(cudaMemcpy(host, data_, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host", error);
}
PinnedBuffer::~PinnedBuffer() {
  if (data_ != nullptr) cudaFreeHost(data_);
}
bool PinnedBuffer::Allocate(size_t bytes, std::string* error) {
  if (data_ != nullptr) cudaFreeHost(data_);
  data_ = nullptr;
  size_ = 0;
  if (!Check(cudaMallocHost(&data_, bytes), "cudaMallocHost", error)) return false;
  size_ = bytes;
  return true;
}

bool DeviceDeterministicSum(const DeviceBuffer& values, int64_t count, double* sum,
                            std::string* error) {
  if (count <= 0) {
    *sum = 0.0;
    return true;
  }
  if (static_cast<size_t>(count) * sizeof(double) > values.size()) {
    *error = "count exceeds the device buffer";
    return false;
  }
  const int64_t tiles = (count + kReduceTile - 1) / kReduceTile;
  DeviceBuffer tile_sums;
  if (!tile_sums.Allocate(static_cast<size_t>(tiles) * sizeof(double), error)) return false;
  TileSumKernel<<<static_cast<unsigned>(tiles), kReduceTile>>>(
      static_cast<const double*>(values.data()), count, static_cast<double*>(tile_sums.data()));
  if (!Check(cudaGetLastError(), "tile-sum kernel launch", error)) return false;
  std::vector<double> host(static_cast<size_t>(tiles));
  if (!tile_sums.CopyToHost(host.data(), host.size() * sizeof(double), error)) return false;
  // The remaining levels on the host, in the same order DeterministicSum uses after its tiles.
  std::vector<double> scratch(static_cast<size_t>((tiles + kReduceTile - 1) / kReduceTile) + 1);
  if (tiles == 1) {
    *sum = host[0];
    return true;
  }
  *sum = DeterministicSum(host.data(), tiles, scratch.data());
  return true;
}

}  // namespace ftwin::gpu
