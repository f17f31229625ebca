// The per-world loop drivers (DESIGN.md rule 6, "math once, two loop drivers"): ForEachWorld
// calls a host-device functor f(world) once per world. With the emulated executor it is a plain
// loop on the calling thread; with the CUDA executor it is one kernel launch, one thread per
// world (so a world's work is never split: no atomics, results do not depend on launch shape).
// A CUDA launch needs nvcc: include this header only from files that nvcc compiles in CUDA
// builds (the thin *_kernels.cu files); compiled by a plain C++ compiler it only emulates.
// ForEachWorldItem is the variant for blocks with many independent items per world (the beams
// of a range sensor): f(world, item) once per pair, one CUDA thread each.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "gpu/executor.h"
#include "gpu/host_device.h"

#if defined(__CUDACC__)
#include <cuda_runtime.h>
#endif

namespace ftwin::gpu {

/// Threads per CUDA block of the per-world kernels.
constexpr int kWorldsPerCudaBlock = 128;

#if defined(__CUDACC__)
template <class F>
__global__ void ForEachWorldKernel(F f, int num_worlds) {
  const int world = static_cast<int>(blockIdx.x) * blockDim.x + static_cast<int>(threadIdx.x);
  if (world < num_worlds) f(world);
}

template <class F>
__global__ void ForEachWorldItemKernel(F f, int num_worlds, int items_per_world) {
  const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= static_cast<int64_t>(num_worlds) * items_per_world) return;
  f(static_cast<int>(index / items_per_world), static_cast<int>(index % items_per_world));
}
#endif

template <class F>
void ForEachWorld(Executor& executor, int num_worlds, const F& f, const char* what) {
  if (num_worlds <= 0) return;
  if (executor.emulated()) {
    for (int world = 0; world < num_worlds; ++world) f(world);
    return;
  }
#if defined(__CUDACC__)
  const int blocks = (num_worlds + kWorldsPerCudaBlock - 1) / kWorldsPerCudaBlock;
  ForEachWorldKernel<<<blocks, kWorldsPerCudaBlock, 0,
                       static_cast<cudaStream_t>(executor.stream())>>>(f, num_worlds);
  executor.CheckLaunch(what);
#else
  throw std::logic_error(std::string(what) +
                         ": CUDA executor used from code not compiled by nvcc (a build error)");
#endif
}

/// Calls f(world, item) for every world and every item of it. Emulated: worlds in order, items
/// in order within a world. CUDA: one thread per pair, consecutive threads on consecutive items
/// of one world. Each call must write only its own item's outputs (no order between them).
template <class F>
void ForEachWorldItem(Executor& executor, int num_worlds, int items_per_world, const F& f,
                      const char* what) {
  if (num_worlds <= 0 || items_per_world <= 0) return;
  if (executor.emulated()) {
    for (int world = 0; world < num_worlds; ++world)
      for (int item = 0; item < items_per_world; ++item) f(world, item);
    return;
  }
#if defined(__CUDACC__)
  const int64_t total = static_cast<int64_t>(num_worlds) * items_per_world;
  const int64_t blocks = (total + kWorldsPerCudaBlock - 1) / kWorldsPerCudaBlock;
  if (blocks > 0x7fffffff)
    throw std::runtime_error(std::string(what) + ": " + std::to_string(total) +
                             " world items exceed one CUDA grid");
  ForEachWorldItemKernel<<<static_cast<unsigned>(blocks), kWorldsPerCudaBlock, 0,
                           static_cast<cudaStream_t>(executor.stream())>>>(f, num_worlds,
                                                                           items_per_world);
  executor.CheckLaunch(what);
#else
  throw std::logic_error(std::string(what) +
                         ": CUDA executor used from code not compiled by nvcc (a build error)");
#endif
}

}  // namespace ftwin::gpu
