// State: every value that changes during a run, as flat arrays with a leading world axis
// (DESIGN.md §2.1-2.3). Field f of world w starts at Data(f) + w * ElementCount(f).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/bytes.h"
#include "engine/schema.h"

namespace ftwin {

/// Per-world data of a block that does not fit fixed-shape arrays (a Bullet world, an event
/// calendar with a variable number of entries). It must save and load itself exactly, so
/// snapshots, hashes and resets cover it like any field.
class WorldAux {
 public:
  virtual ~WorldAux() = default;
  /// Appends the complete state of this object.
  virtual void Save(ByteWriter& writer) const = 0;
  /// Restores what Save wrote; afterwards the object behaves exactly as when it was saved.
  virtual void Load(ByteReader& reader) = 0;
};

/// The batched State of `num_worlds` worlds under one schema.
class State {
 public:
  State(std::shared_ptr<const Schema> schema, int num_worlds, int num_aux_slots = 0);
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  const Schema& schema() const { return *schema_; }
  std::shared_ptr<const Schema> schema_ptr() const { return schema_; }
  int num_worlds() const { return num_worlds_; }

  /// The whole field (all worlds), as raw bytes.
  uint8_t* Bytes(FieldId id) { return buffers_[static_cast<size_t>(id)].get(); }
  const uint8_t* Bytes(FieldId id) const { return buffers_[static_cast<size_t>(id)].get(); }

  /// The whole field as T; T must match the field's dtype (checked in debug builds).
  template <class T>
  T* Data(FieldId id) {
    return reinterpret_cast<T*>(Bytes(id));
  }
  template <class T>
  const T* Data(FieldId id) const {
    return reinterpret_cast<const T*>(Bytes(id));
  }
  /// World w's slice of a field.
  template <class T>
  T* World(FieldId id, int world) {
    return Data<T>(id) + static_cast<size_t>(world) * element_counts_[static_cast<size_t>(id)];
  }
  template <class T>
  const T* World(FieldId id, int world) const {
    return Data<T>(id) + static_cast<size_t>(world) * element_counts_[static_cast<size_t>(id)];
  }
  int64_t ElementCount(FieldId id) const { return element_counts_[static_cast<size_t>(id)]; }

  /// Per-world auxiliary objects (one slot per block that asked for one).
  int num_aux_slots() const { return num_aux_slots_; }
  WorldAux* Aux(int slot, int world) const {
    return aux_[static_cast<size_t>(slot) * num_worlds_ + world].get();
  }
  void SetAux(int slot, int world, std::unique_ptr<WorldAux> aux) {
    aux_[static_cast<size_t>(slot) * num_worlds_ + world] = std::move(aux);
  }

  /// Appends world w (every field, then every aux object) to `out`. Byte-exact.
  void SaveWorld(int world, std::vector<uint8_t>* out) const;
  /// Restores world w from bytes written by SaveWorld under the same schema.
  void LoadWorld(int world, ByteReader& reader);
  /// Copies world `from` onto world `to` (fields and aux).
  void CopyWorld(int from, int to);

  /// Hash of world w over the given fields (all fields when empty), plus aux objects when
  /// `include_aux`. Equal hashes across runs prove bit-identical state.
  uint64_t HashWorld(int world, std::span<const FieldId> fields = {},
                     bool include_aux = true) const;
  /// Hash over all worlds (HashWorld of each, combined in world order).
  uint64_t Hash(std::span<const FieldId> fields = {}, bool include_aux = true) const;

 private:
  struct FreeAligned {
    void operator()(uint8_t* pointer) const;
  };
  std::shared_ptr<const Schema> schema_;
  int num_worlds_;
  int num_aux_slots_;
  std::vector<int64_t> element_counts_;
  std::vector<std::unique_ptr<uint8_t[], FreeAligned>> buffers_;
  std::vector<std::unique_ptr<WorldAux>> aux_;  // [slot * num_worlds + world]
};

}  // namespace ftwin
