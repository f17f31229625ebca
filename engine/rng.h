// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11 "Parallel random numbers:
// as easy as 1, 2, 3"). A draw is a pure function of (seed, world, stream, counter), so results
// do not depend on thread count, call order or device (DESIGN.md §2.7). Host-device code.
#pragma once

#include <cmath>
#include <cstdint>

#include "gpu/host_device.h"

namespace ftwin {

/// Four 32-bit words: a Philox counter block or its output.
struct Philox4x32Block {
  uint32_t word[4];
};

/// One Philox4x32 evaluation with 10 rounds: bijective in the counter for a fixed key.
FTWIN_HD inline Philox4x32Block Philox4x32(Philox4x32Block counter, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kMultiplier0 = 0xD2511F53u;
  constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u;  // golden ratio
  constexpr uint32_t kWeyl1 = 0xBB67AE85u;  // sqrt(3) - 1
  for (int round = 0; round < 10; ++round) {
    const uint64_t product0 = static_cast<uint64_t>(kMultiplier0) * counter.word[0];
    const uint64_t product1 = static_cast<uint64_t>(kMultiplier1) * counter.word[2];
    const uint32_t high0 = static_cast<uint32_t>(product0 >> 32);
    const uint32_t low0 = static_cast<uint32_t>(product0);
    const uint32_t high1 = static_cast<uint32_t>(product1 >> 32);
    const uint32_t low1 = static_cast<uint32_t>(product1);
    counter = {{high1 ^ counter.word[1] ^ key0, low1, high0 ^ counter.word[3] ^ key1, low0}};
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return counter;
}

/// Maps 64 random bits to a double uniform in [0, 1) with 53 bits of resolution.
FTWIN_HD inline double BitsToUnitDouble(uint32_t high, uint32_t low) {
  const uint64_t bits = (static_cast<uint64_t>(high) << 32 | low) >> 11;
  return static_cast<double>(bits) * (1.0 / 9007199254740992.0);  // 2^-53
}

/// A stream of random numbers keyed by (seed, world, stream), advanced by a 64-bit counter.
/// Each counter value yields one Philox block (two doubles or one normal pair); the counter is
/// the caller's (usually a tick, an event index or a sample index), so any element can be
/// recomputed independently of all others.
struct CounterRng {
  uint64_t seed = 0;
  uint32_t world = 0;
  uint32_t stream = 0;

  /// The raw block for counter value `counter`.
  FTWIN_HD Philox4x32Block Block(uint64_t counter) const {
    const Philox4x32Block input = {
        {static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), stream, world}};
    return Philox4x32(input, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  }

  /// Uniform in [0, 1); `lane` 0 or 1 selects one of the two doubles of the block.
  FTWIN_HD double Uniform(uint64_t counter, int lane = 0) const {
    const Philox4x32Block block = Block(counter);
    return lane == 0 ? BitsToUnitDouble(block.word[0], block.word[1])
                     : BitsToUnitDouble(block.word[2], block.word[3]);
  }

  /// Uniform in (0, 1]: safe to take the logarithm of.
  FTWIN_HD double UniformOpenZero(uint64_t counter, int lane = 0) const {
    return 1.0 - Uniform(counter, lane);
  }

  /// Standard normal by Box-Muller from one block; `lane` selects the cosine or sine branch.
  FTWIN_HD double Normal(uint64_t counter, int lane = 0) const {
    const Philox4x32Block block = Block(counter);
    const double u1 = 1.0 - BitsToUnitDouble(block.word[0], block.word[1]);  // (0, 1]
    const double u2 = BitsToUnitDouble(block.word[2], block.word[3]);
    const double radius = sqrt(-2.0 * log(u1));
    const double angle = 6.283185307179586476925286766559 * u2;
    return lane == 0 ? radius * cos(angle) : radius * sin(angle);
  }

  /// Exponential with the given mean.
  FTWIN_HD double Exponential(uint64_t counter, double mean, int lane = 0) const {
    return -mean * log(UniformOpenZero(counter, lane));
  }
};

/// Well-known stream numbers, so that no two users of the RNG share a stream by accident.
/// Blocks take streams from `kBlockStreamBase + 4096 * block_index + local_stream`.
enum RngStream : uint32_t {
  kStreamFaults = 1,            ///< random fault arrivals: + fault index
  kStreamBlockBase = 1u << 20,  ///< first stream handed to blocks
  kStreamsPerBlock = 4096,
};

}  // namespace ftwin
