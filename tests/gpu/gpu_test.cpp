// gpu/ runtime: backend selection, deterministic reductions on the CPU, and CPU-vs-CUDA parity
// where a GPU exists (skipped with a message otherwise).
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "engine/rng.h"
#include "gpu/cuda_device.h"
#include "gpu/device_memory.h"
#include "gpu/reduce_math.h"

namespace ftwin::gpu {
namespace {

std::vector<double> Values(int64_t count, uint64_t seed) {
  std::vector<double> values(static_cast<size_t>(count));
  const CounterRng rng{seed, 0, 0};
  // Magnitudes spread over 12 decades so that summation order visibly matters.
  for (int64_t i = 0; i < count; ++i)
    values[static_cast<size_t>(i)] =
        (rng.Uniform(static_cast<uint64_t>(i)) - 0.5) *
        std::pow(10.0, 12.0 * rng.Uniform(static_cast<uint64_t>(i), 1) - 6.0);
  return values;
}

TEST_CASE("The tile sum follows the fixed pairwise tree", "[gpu_runtime]") {
  std::vector<double> values(kReduceTile);
  for (int i = 0; i < kReduceTile; ++i) values[static_cast<size_t>(i)] = 1.0 / (i + 1);
  // Explicit recursive halving of [0, 256): ((a0+a128)+(a64+a192))+... is the same tree.
  std::vector<double> level = values;
  for (size_t half = level.size() / 2; half > 0; half /= 2)
    for (size_t i = 0; i < half; ++i) level[i] += level[i + half];
  CHECK(TileSum(values.data(), kReduceTile) == level[0]);
  // A partial tile is padded with zeros.
  CHECK(TileSum(values.data(), 3) == (values[0] + values[2]) + values[1]);
}

TEST_CASE("Deterministic sums are accurate and do not depend on how they are computed",
          "[gpu_runtime]") {
  for (int64_t count : {int64_t{1}, int64_t{255}, int64_t{256}, int64_t{257}, int64_t{100'000},
                        int64_t{1'000'003}}) {
    const std::vector<double> values = Values(count, static_cast<uint64_t>(count));
    std::vector<double> scratch(static_cast<size_t>(count / kReduceTile + 2));
    const double sum = DeterministicSum(values.data(), count, scratch.data());
    long double exact = 0.0L;
    double magnitude = 0.0;
    for (double v : values) {
      exact += v;
      magnitude += std::fabs(v);
    }
    // Pairwise summation error bound: about log2(n) * eps * sum |x|.
    CHECK(std::fabs(sum - static_cast<double>(exact)) <= 25 * 2.2e-16 * magnitude);
    // Recomputing gives the same bits.
    CHECK(DeterministicSum(values.data(), count, scratch.data()) == sum);
  }
}

TEST_CASE("Backend selection explains itself", "[gpu_runtime]") {
  Backend backend;
  std::string message;
  CHECK(ChooseBackend("cpu", true, &backend, &message));
  CHECK(backend == Backend::kCpu);
  CHECK_FALSE(ChooseBackend("tpu", true, &backend, &message));
  CHECK_THAT(message, Catch::Contains("expected auto, cpu or cuda"));
  CHECK_FALSE(ChooseBackend("cuda", false, &backend, &message));
  CHECK_THAT(message, Catch::Contains("CUDA cannot be used"));
  CHECK(ChooseBackend("auto", false, &backend, &message));
  CHECK(backend == Backend::kCpu);
  CHECK_THAT(message, Catch::StartsWith("device: cpu (CUDA not used: "));
}

TEST_CASE("CUDA deterministic sums equal the CPU ones bit for bit", "[gpu]") {
  const CudaStatus cuda = QueryCuda();
  if (!cuda.available) {
    WARN("skipped: CUDA parity needs a GPU; " << cuda.reason);
    return;
  }
  for (int64_t count : {int64_t{1}, int64_t{256}, int64_t{70'001}, int64_t{4'000'000}}) {
    const std::vector<double> values = Values(count, 99);
    std::vector<double> scratch(static_cast<size_t>(count / kReduceTile + 2));
    const double cpu = DeterministicSum(values.data(), count, scratch.data());
    DeviceBuffer buffer;
    std::string error;
    REQUIRE(buffer.Allocate(values.size() * sizeof(double), &error));
    REQUIRE(buffer.CopyFromHost(values.data(), values.size() * sizeof(double), &error));
    double device = 0.0;
    REQUIRE(DeviceDeterministicSum(buffer, count, &device, &error));
    CHECK(device == cpu);
  }
}

TEST_CASE("Without a GPU, device memory fails with the reason", "[gpu_runtime]") {
  if (QueryCuda().available) return;  // covered by the parity test
  DeviceBuffer buffer;
  std::string error;
  CHECK_FALSE(buffer.Allocate(1024, &error));
  CHECK_FALSE(error.empty());
}

}  // namespace
}  // namespace ftwin::gpu
