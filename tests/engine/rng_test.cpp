// Counter-based RNG: known-answer vectors, key independence, statistics.
#include "engine/rng.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

namespace ftwin {
namespace {

// Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors).
TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors", "[rng]") {
  const Philox4x32Block zero = Philox4x32({{0, 0, 0, 0}}, 0, 0);
  CHECK(zero.word[0] == 0x6627e8d5u);
  CHECK(zero.word[1] == 0xe169c58du);
  CHECK(zero.word[2] == 0xbc57ac4cu);
  CHECK(zero.word[3] == 0x9b00dbd8u);
  const Philox4x32Block ones =
      Philox4x32({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
  CHECK(ones.word[0] == 0x408f276du);
  CHECK(ones.word[1] == 0x41c83b0eu);
  CHECK(ones.word[2] == 0xa20bc7c6u);
  CHECK(ones.word[3] == 0x6d5451fdu);
  const Philox4x32Block pi =
      Philox4x32({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
  CHECK(pi.word[0] == 0xd16cfe09u);
  CHECK(pi.word[1] == 0x94fdccebu);
  CHECK(pi.word[2] == 0x5001e420u);
  CHECK(pi.word[3] == 0x24126ea1u);
}

}  // namespace
}  // namespace ftwin

namespace ftwin {
namespace {

TEST_CASE("Same key gives the same numbers on every call path", "[rng][determinism]") {
  const CounterRng a{42, 3, 7};
  const CounterRng b{42, 3, 7};
  for (uint64_t counter = 0; counter < 1000; counter += 37) {
    CHECK(a.Uniform(counter) == b.Uniform(counter));
    CHECK(a.Normal(counter, 1) == b.Normal(counter, 1));
    // Direct Philox evaluation equals the stream's block.
    const Philox4x32Block direct = Philox4x32(
        {{static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 7u, 3u}}, 42u, 0u);
    const Philox4x32Block block = a.Block(counter);
    for (int i = 0; i < 4; ++i) CHECK(direct.word[i] == block.word[i]);
  }
}

// Pearson correlation of two streams' uniforms.
double Correlation(const CounterRng& a, const CounterRng& b, int n) {
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (int i = 0; i < n; ++i) {
    const double x = a.Uniform(static_cast<uint64_t>(i)), y = b.Uniform(static_cast<uint64_t>(i));
    sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
  }
  const double cov = sab / n - sa / n * sb / n;
  return cov / std::sqrt((saa / n - sa / n * sa / n) * (sbb / n - sb / n * sb / n));
}

TEST_CASE("Distinct keys give independent streams", "[rng]") {
  const int n = 200000;
  // 4 sigma of the correlation estimate of independent samples: 4 / sqrt(n) ≈ 0.009.
  const double bound = 4.0 / std::sqrt(static_cast<double>(n));
  CHECK(std::fabs(Correlation({1, 0, 0}, {2, 0, 0}, n)) < bound);  // seed
  CHECK(std::fabs(Correlation({1, 0, 0}, {1, 1, 0}, n)) < bound);  // world
  CHECK(std::fabs(Correlation({1, 0, 0}, {1, 0, 1}, n)) < bound);  // stream
  // Adjacent counters of one stream are uncorrelated too.
  const CounterRng rng{9, 9, 9};
  double s = 0, sl = 0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.Uniform(static_cast<uint64_t>(i)) - 0.5;
    const double y = rng.Uniform(static_cast<uint64_t>(i + 1)) - 0.5;
    s += x * y;
    sl += x * x;
  }
  CHECK(std::fabs(s / sl) < bound);
}

TEST_CASE("Uniform and normal draws have the right moments and distribution", "[rng]") {
  const CounterRng rng{12345, 0, 0};
  const int n = 400000;
  // Uniform: mean 1/2 (sd of mean 0.2887/sqrt(n)), variance 1/12; chi-square over 100 bins.
  std::vector<int> bins(100, 0);
  double sum = 0, sum_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.Uniform(static_cast<uint64_t>(i), i & 1);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    sum_sq += u * u;
    ++bins[static_cast<size_t>(u * 100)];
  }
  const double mean = sum / n;
  CHECK(std::fabs(mean - 0.5) < 5 * 0.2887 / std::sqrt(n));
  CHECK(std::fabs(sum_sq / n - mean * mean - 1.0 / 12.0) < 1e-3);
  double chi2 = 0;
  const double expected = n / 100.0;
  for (int count : bins) chi2 += (count - expected) * (count - expected) / expected;
  // 99.9% quantile of chi-square with 99 degrees of freedom is 148.2.
  CHECK(chi2 < 148.2);

  // Normal: mean 0, variance 1, fraction beyond 2 sigma = 4.55%.
  double nsum = 0, nsq = 0;
  int beyond = 0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.Normal(static_cast<uint64_t>(i) + 10'000'000, i & 1);
    nsum += z;
    nsq += z * z;
    beyond += std::fabs(z) > 2.0;
  }
  CHECK(std::fabs(nsum / n) < 5 / std::sqrt(n));
  CHECK(std::fabs(nsq / n - 1.0) < 5 * std::sqrt(2.0 / n));
  CHECK(std::fabs(beyond / static_cast<double>(n) - 0.0455) < 5 * std::sqrt(0.0455 * 0.9545 / n));

  // Exponential with mean 3.
  double esum = 0;
  for (int i = 0; i < n; ++i) esum += rng.Exponential(static_cast<uint64_t>(i) + 99'000'000, 3.0);
  CHECK(std::fabs(esum / n - 3.0) < 5 * 3.0 / std::sqrt(n));
}

}  // namespace
}  // namespace ftwin
