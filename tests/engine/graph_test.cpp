// The graph builder rejects every malformed graph with a message naming the problem.
#include "engine/graph.h"

#include <catch2/catch.hpp>

#include "tests/engine/test_blocks.h"

namespace ftwin {
namespace {

using testing::ConstantBlock;
using testing::FirstOrderBlock;

RunConfig Run() {
  RunConfig run;
  run.dt_ns = 1'000'000;
  return run;
}

std::string BuildError(GraphBuilder& builder) {
  try {
    builder.Build();
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST_CASE("An unconnected input is rejected", "[graph]") {
  GraphBuilder builder(Run());
  builder.AddBlock(std::make_unique<FirstOrderBlock>("filter", 1.0));
  CHECK_THAT(BuildError(builder),
             Catch::Contains("filter.u") && Catch::Contains("input is not connected"));
}

TEST_CASE("Unknown blocks and ports are rejected", "[graph]") {
  GraphBuilder builder(Run());
  builder.AddBlock(std::make_unique<ConstantBlock>("source", 1.0));
  builder.AddBlock(std::make_unique<FirstOrderBlock>("filter", 1.0));
  builder.Connect("source.y", "filter.u");
  builder.Connect("nosuch.y", "filter.u", {"site.yaml", 12, 5});
  builder.Connect("source.z", "filter.u");
  builder.Connect("source.y", "filter.w");
  builder.Connect("sourcey", "filter.u");
  const std::string error = BuildError(builder);
  CHECK_THAT(error, Catch::Contains("site.yaml:12:5") && Catch::Contains("no block 'nosuch'"));
  CHECK_THAT(error,
             Catch::Contains("source.z") && Catch::Contains("output port of 'source' (one of: y)"));
  CHECK_THAT(error,
             Catch::Contains("filter.w") && Catch::Contains("input port of 'filter' (one of: u)"));
  CHECK_THAT(error, Catch::Contains("expected '<block>.<output port>'"));
}

TEST_CASE("Type and size mismatches are rejected", "[graph]") {
  GraphBuilder builder(Run());
  builder.AddBlock(std::make_unique<ConstantBlock>("ints", 1.0, "1", 1, DType::kInt32));
  builder.AddBlock(std::make_unique<ConstantBlock>("vector", 1.0, "1", 3));
  builder.AddBlock(std::make_unique<FirstOrderBlock>("a", 1.0));
  builder.AddBlock(std::make_unique<FirstOrderBlock>("b", 1.0));
  builder.Connect("ints.y", "a.u");
  builder.Connect("vector.y", "b.u");
  const std::string error = BuildError(builder);
  CHECK_THAT(error, Catch::Contains("ints.y -> a.u") &&
                        Catch::Contains("type mismatch: output is i32[1]"));
  CHECK_THAT(error, Catch::Contains("vector.y -> b.u") && Catch::Contains("output is f64[3]"));
}

TEST_CASE("An element of a vector output can feed a scalar input", "[graph]") {
  GraphBuilder builder(Run());
  builder.AddBlock(std::make_unique<ConstantBlock>("vector", 2.0, "1", 3));
  builder.AddBlock(std::make_unique<FirstOrderBlock>("b", 1.0));
  builder.Connect("vector.y[2]", "b.u");
  const auto model = builder.Build();
  CHECK(model->binding(1).input_offsets[0] == 2);
  GraphBuilder bad(Run());
  bad.AddBlock(std::make_unique<ConstantBlock>("vector", 2.0, "1", 3));
  bad.AddBlock(std::make_unique<FirstOrderBlock>("b", 1.0));
  bad.Connect("vector.y[3]", "b.u");
  CHECK_THAT(BuildError(bad), Catch::Contains("element index out of range"));
}

TEST_CASE("Unit mismatches are rejected", "[graph]") {
  GraphBuilder builder(Run());
  builder.AddBlock(std::make_unique<ConstantBlock>("power", 1.0, "W"));
  builder.AddBlock(std::make_unique<FirstOrderBlock>("temperature", 1.0, false, "K"));
  builder.Connect("power.y", "temperature.u");
  CHECK_THAT(BuildError(builder),
             Catch::Contains("unit mismatch: output is in 'W', input expects 'K'"));
}

TEST_CASE("An input connected twice is rejected", "[graph]") {
  GraphBuilder builder(Run());
  builder.AddBlock(std::make_unique<ConstantBlock>("one", 1.0));
  builder.AddBlock(std::make_unique<ConstantBlock>("two", 2.0));
  builder.AddBlock(std::make_unique<FirstOrderBlock>("filter", 1.0));
  builder.Connect("one.y", "filter.u");
  builder.Connect("two.y", "filter.u");
  CHECK_THAT(BuildError(builder), Catch::Contains("already has a source"));
}

TEST_CASE("Duplicate and malformed block names are rejected", "[graph]") {
  GraphBuilder builder(Run());
  builder.AddBlock(std::make_unique<ConstantBlock>("same", 1.0));
  builder.AddBlock(std::make_unique<ConstantBlock>("same", 2.0));
  builder.AddBlock(std::make_unique<ConstantBlock>("has space", 2.0));
  const std::string error = BuildError(builder);
  CHECK_THAT(error, Catch::Contains("unique block name"));
  CHECK_THAT(error, Catch::Contains("'has space'"));
}

TEST_CASE("An algebraic loop is rejected and named; a delayed input breaks it", "[graph]") {
  GraphBuilder builder(Run());
  builder.AddBlock(std::make_unique<FirstOrderBlock>("a", 1.0));
  builder.AddBlock(std::make_unique<FirstOrderBlock>("b", 1.0));
  builder.AddBlock(std::make_unique<FirstOrderBlock>("c", 1.0));
  builder.Connect("a.y", "b.u");
  builder.Connect("b.y", "c.u");
  builder.Connect("c.y", "a.u");
  const std::string error = BuildError(builder);
  CHECK_THAT(error, Catch::Contains("algebraic loop"));
  CHECK_THAT(error, Catch::Contains("a.y -> b.u") && Catch::Contains("b.y -> c.u") &&
                        Catch::Contains("c.y -> a.u"));

  GraphBuilder fixed(Run());
  fixed.AddBlock(std::make_unique<FirstOrderBlock>("a", 1.0));
  fixed.AddBlock(std::make_unique<FirstOrderBlock>("b", 1.0));
  fixed.AddBlock(std::make_unique<FirstOrderBlock>("c", 1.0));
  fixed.Connect("a.y", "b.u");
  fixed.Connect("b.y", "c.u");
  fixed.Connect("c.y", "a.u", {}, /*delayed=*/true);
  const auto model = fixed.Build();
  CHECK(model->update_order() == std::vector<int>{0, 1, 2});
  CHECK(model->delayed_copies().size() == 1);
}

TEST_CASE("Blocks are scheduled after the blocks they read", "[graph]") {
  GraphBuilder builder(Run());
  builder.AddBlock(std::make_unique<FirstOrderBlock>("last", 1.0));
  builder.AddBlock(std::make_unique<FirstOrderBlock>("middle", 1.0));
  builder.AddBlock(std::make_unique<ConstantBlock>("first", 1.0));
  builder.Connect("middle.y", "last.u");
  builder.Connect("first.y", "middle.u");
  const auto model = builder.Build();
  CHECK(model->update_order() == std::vector<int>{2, 1, 0});
}

TEST_CASE("Faults naming unknown blocks, faults or parameters are rejected", "[graph]") {
  GraphBuilder builder(Run());
  builder.AddBlock(std::make_unique<testing::CountingBlock>("counter", 1));
  builder.AddFault({.block = "ghost", .fault = "freeze", .at_ns = 0});
  builder.AddFault({.block = "counter", .fault = "melt", .at_ns = 0});
  builder.AddFault({.block = "counter", .fault = "freeze", .params = {{"speed", 1.0}}, .at_ns = 0});
  builder.AddFault({.block = "counter", .fault = "freeze", .at_ns = 1500});
  const std::string error = BuildError(builder);
  CHECK_THAT(error, Catch::Contains("faults.block: got 'ghost'"));
  CHECK_THAT(error, Catch::Contains("got 'melt'") && Catch::Contains("one of: freeze"));
  CHECK_THAT(error,
             Catch::Contains("faults.params.speed") && Catch::Contains("unknown fault parameter"));
  CHECK_THAT(error, Catch::Contains("multiple of the tick length"));
}

}  // namespace
}  // namespace ftwin
