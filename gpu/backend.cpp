// Backend selection shared by the CUDA and the no-CUDA builds.
#include "gpu/cuda_device.h"

namespace ftwin::gpu {

bool ChooseBackend(const std::string& request, bool model_supports_cuda, Backend* backend,
                   std::string* message) {
  if (request != "auto" && request != "cpu" && request != "cuda") {
    *message = "--device: got '" + request + "', expected auto, cpu or cuda";
    return false;
  }
  if (request == "cpu") {
    *backend = Backend::kCpu;
    *message = "device: cpu (requested)";
    return true;
  }
  const CudaStatus cuda = QueryCuda();
  std::string why_not;
  if (!cuda.available)
    why_not = cuda.reason;
  else if (!model_supports_cuda)
    why_not = "CUDA device '" + cuda.device_name +
              "' found, but no block of this scenario has a device update";
  if (why_not.empty()) {
    *backend = Backend::kCuda;
    *message = "device: cuda (" + cuda.device_name + ")";
    return true;
  }
  if (request == "cuda") {
    *message = "--device cuda: CUDA cannot be used: " + why_not;
    return false;
  }
  *backend = Backend::kCpu;
  *message = "device: cpu (CUDA not used: " + why_not + ")";
  return true;
}

}  // namespace ftwin::gpu
