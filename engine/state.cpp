#include "engine/state.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace ftwin {

void State::FreeAligned::operator()(uint8_t* pointer) const { std::free(pointer); }

State::State(std::shared_ptr<const Schema> schema, int num_worlds, int num_aux_slots)
    : schema_(std::move(schema)), num_worlds_(num_worlds), num_aux_slots_(num_aux_slots) {
  constexpr size_t kAlignment = 64;  // one cache line: no false sharing between fields
  for (const FieldDesc& field : schema_->fields()) {
    element_counts_.push_back(field.ElementCount());
    size_t bytes = field.BytesPerWorld() * static_cast<size_t>(num_worlds_);
    bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    if (bytes == 0) bytes = kAlignment;
    auto* memory = static_cast<uint8_t*>(std::aligned_alloc(kAlignment, bytes));
    if (memory == nullptr) throw std::bad_alloc();
    std::memset(memory, 0, bytes);
    buffers_.emplace_back(memory);
  }
  aux_.resize(static_cast<size_t>(num_aux_slots_) * static_cast<size_t>(num_worlds_));
}

void State::SaveWorld(int world, std::vector<uint8_t>* out) const {
  ByteWriter writer(out);
  for (FieldId id = 0; id < schema_->size(); ++id) {
    const size_t bytes = schema_->field(id).BytesPerWorld();
    writer.Raw(Bytes(id) + bytes * static_cast<size_t>(world), bytes);
  }
  for (int slot = 0; slot < num_aux_slots_; ++slot) {
    const WorldAux* aux = Aux(slot, world);
    writer.Value<uint8_t>(aux != nullptr);
    if (aux != nullptr) aux->Save(writer);
  }
}

void State::LoadWorld(int world, ByteReader& reader) {
  for (FieldId id = 0; id < schema_->size(); ++id) {
    const size_t bytes = schema_->field(id).BytesPerWorld();
    reader.Raw(Bytes(id) + bytes * static_cast<size_t>(world), bytes);
  }
  for (int slot = 0; slot < num_aux_slots_; ++slot) {
    const bool present = reader.Value<uint8_t>() != 0;
    WorldAux* aux = Aux(slot, world);
    if (present != (aux != nullptr))
      throw std::runtime_error("snapshot does not match this model (auxiliary data differs)");
    if (aux != nullptr) aux->Load(reader);
  }
}

void State::CopyWorld(int from, int to) {
  if (from == to) return;
  for (FieldId id = 0; id < schema_->size(); ++id) {
    const size_t bytes = schema_->field(id).BytesPerWorld();
    std::memcpy(Bytes(id) + bytes * static_cast<size_t>(to),
                Bytes(id) + bytes * static_cast<size_t>(from), bytes);
  }
  std::vector<uint8_t> buffer;
  for (int slot = 0; slot < num_aux_slots_; ++slot) {
    const WorldAux* source = Aux(slot, from);
    WorldAux* target = Aux(slot, to);
    if (source == nullptr || target == nullptr) continue;
    buffer.clear();
    ByteWriter writer(&buffer);
    source->Save(writer);
    ByteReader reader(buffer.data(), buffer.size());
    target->Load(reader);
  }
}

uint64_t State::HashWorld(int world, std::span<const FieldId> fields, bool include_aux) const {
  uint64_t hash = HashBytes("world", 5);
  auto hash_field = [&](FieldId id) {
    const size_t bytes = schema_->field(id).BytesPerWorld();
    hash = HashBytes(Bytes(id) + bytes * static_cast<size_t>(world), bytes, hash);
  };
  if (fields.empty()) {
    for (FieldId id = 0; id < schema_->size(); ++id) hash_field(id);
  } else {
    for (FieldId id : fields) hash_field(id);
  }
  if (include_aux) {
    std::vector<uint8_t> buffer;
    for (int slot = 0; slot < num_aux_slots_; ++slot) {
      const WorldAux* aux = Aux(slot, world);
      if (aux == nullptr) continue;
      buffer.clear();
      ByteWriter writer(&buffer);
      aux->Save(writer);
      hash = HashBytes(buffer.data(), buffer.size(), hash);
    }
  }
  return hash;
}

uint64_t State::Hash(std::span<const FieldId> fields, bool include_aux) const {
  uint64_t hash = HashBytes("state", 5);
  for (int world = 0; world < num_worlds_; ++world) {
    const uint64_t world_hash = HashWorld(world, fields, include_aux);
    hash = HashBytes(&world_hash, sizeof world_hash, hash);
  }
  return hash;
}

}  // namespace ftwin
