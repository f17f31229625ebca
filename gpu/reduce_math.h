// Deterministic reductions (host-device). Floating-point addition is not associative, so a sum
// whose order depends on threads or atomics differs from run to run. These sums fix the order:
// values are split into tiles of kReduceTile elements, each tile is summed by the same pairwise
// tree, and the tile sums are again summed pairwise. The CPU and the CUDA driver both follow this
// order, so they agree bit for bit, for any thread count or launch shape.
#pragma once

#include <cstdint>

#include "gpu/host_device.h"

namespace ftwin::gpu {

/// Elements per tile: one CUDA block of 256 threads reduces one tile.
constexpr int kReduceTile = 256;

/// Pairwise (cascade) sum of up to kReduceTile values, in the fixed tree order a 256-thread
/// shared-memory reduction uses: stride 128, 64, ..., 1 over a zero-padded tile.
FTWIN_HD inline double TileSum(const double* values, int count) {
  double tile[kReduceTile];
  for (int i = 0; i < kReduceTile; ++i) tile[i] = i < count ? values[i] : 0.0;
  for (int stride = kReduceTile / 2; stride > 0; stride /= 2)
    for (int i = 0; i < stride; ++i) tile[i] += tile[i + stride];
  return tile[0];
}

/// Deterministic sum of `count` values: tile sums, then the tile sums reduced the same way.
/// Host-only driver (the CUDA driver computes the tile sums on the device, then calls this on
/// them). `scratch` must hold ceil(count / kReduceTile) doubles.
inline double DeterministicSum(const double* values, int64_t count, double* scratch) {
  if (count <= 0) return 0.0;
  int64_t tiles = (count + kReduceTile - 1) / kReduceTile;
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t begin = t * kReduceTile;
    const int64_t remaining = count - begin;
    scratch[t] = TileSum(values + begin,
                         remaining < kReduceTile ? static_cast<int>(remaining) : kReduceTile);
  }
  // Reduce the tile sums level by level, in place.
  while (tiles > 1) {
    const int64_t next = (tiles + kReduceTile - 1) / kReduceTile;
    for (int64_t t = 0; t < next; ++t) {
      const int64_t begin = t * kReduceTile;
      const int64_t remaining = tiles - begin;
      scratch[t] = TileSum(scratch + begin,
                           remaining < kReduceTile ? static_cast<int>(remaining) : kReduceTile);
    }
    tiles = next;
  }
  return scratch[0];
}

}  // namespace ftwin::gpu
