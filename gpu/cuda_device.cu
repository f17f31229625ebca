// Built when nvcc is found: asks the CUDA runtime which devices are present.
#include <cuda_runtime.h>

#include <string>

#include "gpu/cuda_device.h"

namespace ftwin::gpu {

CudaStatus QueryCuda() {
  CudaStatus status;
  status.compiled = true;
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    status.reason = std::string("CUDA runtime reports: ") + cudaGetErrorString(error);
    return status;
  }
  status.device_count = count;
  if (count == 0) {
    status.reason = "no CUDA device found";
    return status;
  }
  cudaDeviceProp properties{};
  if (cudaGetDeviceProperties(&properties, 0) == cudaSuccess) status.device_name = properties.name;
  status.available = true;
  return status;
}

std::string DescribeCudaBuild() {
  const CudaStatus status = QueryCuda();
  std::string text = "CUDA: built (" FTWIN_CUDA_ARCHITECTURES ")";
  if (status.available) return text + ", device: " + status.device_name;
  return text + ", not used: " + status.reason;
}

}  // namespace ftwin::gpu
