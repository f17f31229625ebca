// Batched range sensing without CUDA: the device scene cannot be made and the CUDA driver says
// why; callers use CastBatchCpu.
#include "engine/sensors/raycast_batch.h"
#include "gpu/cuda_device.h"

namespace ftwin {

struct DeviceRaycastScene::Buffers {};

DeviceRaycastScene::DeviceRaycastScene() = default;
DeviceRaycastScene::~DeviceRaycastScene() = default;

bool DeviceRaycastScene::Upload(const SceneView&, std::string* error) {
  *error = "CUDA not used: " + gpu::QueryCuda().reason;
  return false;
}

SceneView DeviceRaycastScene::view() const { return view_; }

bool CastBatchCuda(const DeviceRaycastScene&, const RaycastBatch&, std::string* error) {
  *error = "CUDA not used: " + gpu::QueryCuda().reason;
  return false;
}

}  // namespace ftwin
