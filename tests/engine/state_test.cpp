// State: layout, byte-exact world snapshots, hashes that see every byte.
#include "engine/state.h"

#include <catch2/catch.hpp>

namespace ftwin {
namespace {

std::shared_ptr<Schema> MakeSchema() {
  auto schema = std::make_shared<Schema>();
  schema->Add({.name = "a.x", .owner = "a", .dtype = DType::kFloat64, .shape = {3}, .unit = "m"});
  schema->Add({.name = "a.n",
               .owner = "a",
               .dtype = DType::kInt32,
               .unit = "1",
               .kind = FieldKind::kDiscrete});
  schema->Add(
      {.name = "b.flags", .owner = "b", .dtype = DType::kUInt8, .shape = {2, 5}, .unit = "1"});
  return schema;
}

class VectorAux final : public WorldAux {
 public:
  std::vector<int> values;
  void Save(ByteWriter& writer) const override { writer.Vector(values); }
  void Load(ByteReader& reader) override { reader.Vector(&values); }
};

TEST_CASE("Fields are laid out world-major and aligned", "[state]") {
  State state(MakeSchema(), 4);
  CHECK(state.ElementCount(0) == 3);
  CHECK(state.ElementCount(2) == 10);
  CHECK(reinterpret_cast<uintptr_t>(state.Bytes(1)) % 64 == 0);
  CHECK(state.World<double>(0, 2) == state.Data<double>(0) + 6);
  CHECK(state.schema().BytesPerWorld() == 3 * 8 + 4 + 10);
  CHECK(state.schema().Find("b.flags") == 2);
  CHECK(state.schema().Find("nope") == kInvalidField);
}

TEST_CASE("A world saves and loads byte-exactly, auxiliary data included", "[state]") {
  State state(MakeSchema(), 3, 1);
  for (int w = 0; w < 3; ++w) state.SetAux(0, w, std::make_unique<VectorAux>());
  state.World<double>(0, 1)[2] = 3.25;
  state.World<int32_t>(1, 1)[0] = -7;
  state.World<uint8_t>(2, 1)[9] = 200;
  static_cast<VectorAux*>(state.Aux(0, 1))->values = {1, 2, 3};
  std::vector<uint8_t> bytes;
  state.SaveWorld(1, &bytes);
  const uint64_t hash = state.HashWorld(1);
  CHECK(state.HashWorld(0) != hash);
  ByteReader reader(bytes.data(), bytes.size());
  state.LoadWorld(2, reader);
  CHECK(reader.remaining() == 0);
  CHECK(state.HashWorld(2) == hash);
  CHECK(static_cast<VectorAux*>(state.Aux(0, 2))->values == std::vector<int>{1, 2, 3});
  // The hash sees a single changed bit, in fields and in aux data.
  state.World<uint8_t>(2, 2)[9] ^= 1;
  CHECK(state.HashWorld(2) != hash);
  state.World<uint8_t>(2, 2)[9] ^= 1;
  static_cast<VectorAux*>(state.Aux(0, 2))->values[1] = 5;
  CHECK(state.HashWorld(2) != hash);
  CHECK(state.HashWorld(2, {}, /*include_aux=*/false) == state.HashWorld(1, {}, false));
  // Copying a world copies everything.
  state.CopyWorld(1, 0);
  CHECK(state.HashWorld(0) == hash);
}

TEST_CASE("The schema hash changes with names, types, shapes and units", "[state]") {
  const uint64_t base = MakeSchema()->Hash();
  auto renamed = MakeSchema();
  renamed->Add({.name = "c.y", .unit = "m"});
  CHECK(renamed->Hash() != base);
  Schema other;
  other.Add({.name = "a.x", .owner = "a", .dtype = DType::kFloat64, .shape = {3}, .unit = "mm"});
  Schema same_name;
  same_name.Add({.name = "a.x", .owner = "a", .dtype = DType::kFloat64, .shape = {3}, .unit = "m"});
  CHECK(other.Hash() != same_name.Hash());
  CHECK(same_name.Add({.name = "a.x"}) == kInvalidField);  // duplicate names refused
}

}  // namespace
}  // namespace ftwin
