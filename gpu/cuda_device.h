// What the CUDA backend can do on this machine. The CUDA part of gpu/ is built when nvcc is
// found at configure time; otherwise a stub is linked that reports why CUDA is not used.
#pragma once

#include <string>

namespace ftwin::gpu {

/// Facts about the CUDA backend, gathered once at start-up.
struct CudaStatus {
  bool compiled = false;    ///< this binary contains CUDA kernels (nvcc was found at build time)
  bool available = false;   ///< a usable CUDA device was found at run time
  int device_count = 0;     ///< number of visible CUDA devices
  std::string device_name;  ///< name of device 0 when available
  std::string reason;       ///< why CUDA is not used, when !available
};

/// Queries the CUDA runtime (or the stub). Never throws.
CudaStatus QueryCuda();

/// Where a run's batched blocks execute.
enum class Backend { kCpu, kCuda };

/// Resolves a `--device` request ("auto", "cpu" or "cuda") against what this build and machine
/// offer and what the model's blocks support (`model_supports_cuda`). On success sets `backend`
/// and a one-line `message` saying what is used and why; returns false with `message` as the
/// error when the request cannot be met (e.g. "cuda" without a device).
bool ChooseBackend(const std::string& request, bool model_supports_cuda, Backend* backend,
                   std::string* message);

/// One-line description for `ftwin --version`, e.g. "CUDA: built (sm_80, sm_90), no device found".
std::string DescribeCudaBuild();

}  // namespace ftwin::gpu
