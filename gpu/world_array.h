// A field as seen by a per-world kernel: a base pointer and the number of elements per world
// (engine/state.h layout: world w's slice starts at base + w * stride). Host-device, trivially
// copyable, so it travels in kernel arguments.
#pragma once

#include <cstdint>

#include "gpu/host_device.h"

namespace ftwin::gpu {

template <class T>
struct WorldArray {
  T* base = nullptr;
  int64_t stride = 0;  ///< elements per world
  FTWIN_HD T* World(int world) const { return base + stride * static_cast<int64_t>(world); }
  /// The same field as read-only.
  FTWIN_HD WorldArray<const T> Const() const { return {base, stride}; }
};

}  // namespace ftwin::gpu
