// CUDA driver of batched range sensing: one thread per (world, beam) calls CastBatchBeam, the
// function the CPU driver loops over (no formula here).
#include <cuda_runtime.h>

#include "engine/sensors/raycast_batch.h"
#include "gpu/device_memory.h"

namespace ftwin {
namespace {

__global__ void CastBatchKernel(RaycastBatch batch) {
  const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t total = static_cast<int64_t>(batch.num_worlds) * batch.num_beams;
  if (index >= total) return;
  CastBatchBeam(batch, static_cast<int32_t>(index / batch.num_beams),
                static_cast<int32_t>(index % batch.num_beams));
}

template <class T>
bool UploadArray(const T* host, int64_t count, gpu::DeviceBuffer* buffer, std::string* error) {
  const size_t bytes = static_cast<size_t>(count > 0 ? count : 1) * sizeof(T);
  if (!buffer->Allocate(bytes, error)) return false;
  return count <= 0 || buffer->CopyFromHost(host, static_cast<size_t>(count) * sizeof(T), error);
}

}  // namespace

struct DeviceRaycastScene::Buffers {
  gpu::DeviceBuffer primitives, nodes, planes;
};

DeviceRaycastScene::DeviceRaycastScene() = default;
DeviceRaycastScene::~DeviceRaycastScene() = default;

bool DeviceRaycastScene::Upload(const SceneView& host, std::string* error) {
  auto buffers = std::make_unique<Buffers>();
  if (!UploadArray(host.primitives, host.num_primitives, &buffers->primitives, error) ||
      !UploadArray(host.nodes, host.num_nodes, &buffers->nodes, error) ||
      !UploadArray(host.planes, host.num_planes, &buffers->planes, error))
    return false;
  view_ = {static_cast<const Primitive*>(buffers->primitives.data()), host.num_primitives,
           static_cast<const BvhNode*>(buffers->nodes.data()),        host.num_nodes,
           static_cast<const Primitive*>(buffers->planes.data()),     host.num_planes};
  buffers_ = std::move(buffers);
  return true;
}

SceneView DeviceRaycastScene::view() const { return view_; }

bool CastBatchCuda(const DeviceRaycastScene& scene, const RaycastBatch& batch, std::string* error) {
  if (scene.view().nodes == nullptr && scene.view().planes == nullptr) {
    *error = "CastBatchCuda: the scene was not uploaded";
    return false;
  }
  const int64_t outputs = static_cast<int64_t>(batch.num_worlds) * batch.num_beams;
  gpu::DeviceBuffer pattern, poses, true_range, range;
  if (!UploadArray(batch.pattern, batch.num_beams, &pattern, error) ||
      !UploadArray(batch.poses, batch.num_worlds, &poses, error) ||
      !true_range.Allocate(static_cast<size_t>(outputs) * sizeof(double), error) ||
      !range.Allocate(static_cast<size_t>(outputs) * sizeof(double), error))
    return false;
  RaycastBatch device = batch;
  device.scene = scene.view();
  device.pattern = static_cast<const Ray*>(pattern.data());
  device.poses = static_cast<const SensorPose*>(poses.data());
  device.true_range_m = static_cast<double*>(true_range.data());
  device.range_m = static_cast<double*>(range.data());
  const int threads = 128;
  const int64_t blocks = (outputs + threads - 1) / threads;
  if (outputs > 0) CastBatchKernel<<<static_cast<unsigned>(blocks), threads>>>(device);
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) {
    *error = std::string("ray casting kernel launch: ") + cudaGetErrorString(status);
    return false;
  }
  return true_range.CopyToHost(batch.true_range_m, static_cast<size_t>(outputs) * sizeof(double),
                               error) &&
         range.CopyToHost(batch.range_m, static_cast<size_t>(outputs) * sizeof(double), error);
}

}  // namespace ftwin
