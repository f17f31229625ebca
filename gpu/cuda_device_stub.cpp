// Built when nvcc is not available: the CPU path runs and this says why CUDA is not used.
#include "gpu/cuda_device.h"

namespace ftwin::gpu {

CudaStatus QueryCuda() {
  CudaStatus status;
  status.reason = "this ftwin was built without CUDA (nvcc was not found at configure time)";
  return status;
}

std::string DescribeCudaBuild() { return "CUDA: not built (no nvcc at configure time); CPU only"; }

}  // namespace ftwin::gpu
