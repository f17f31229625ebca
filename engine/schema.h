// The State schema: every field the simulation keeps, described once (DESIGN.md §2.2).
// The schema drives allocation, snapshot/restore, hashing, field-by-field comparison in
// tests and the wire format of the bridge.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ftwin {

/// Element types a State field may hold.
enum class DType : uint8_t { kFloat64, kFloat32, kInt64, kInt32, kUInt8 };

/// Size of one element in bytes.
size_t DTypeSize(DType dtype);
/// Wire name: "f64", "f32", "i64", "i32", "u8".
const char* DTypeName(DType dtype);
/// Inverse of DTypeName.
std::optional<DType> DTypeFromName(std::string_view name);
/// True for f64 and f32.
inline bool IsFloating(DType dtype) { return dtype == DType::kFloat64 || dtype == DType::kFloat32; }

/// What a field is for; decides checking, commanding and export defaults.
enum class FieldKind : uint8_t {
  kContinuous,  ///< integrated physical state (temperatures, positions, charge)
  kDiscrete,    ///< counters, modes, event-driven values
  kInput,       ///< control input: may be set by commands within [lower, upper]
  kSensor,      ///< sensor reading written in PostUpdate
  kOutput,      ///< algebraic output of a block (recomputed every period)
  kScratch,     ///< working memory, not part of the observable state
};
const char* FieldKindName(FieldKind kind);

/// Index of a field in its schema.
using FieldId = int32_t;
constexpr FieldId kInvalidField = -1;

/// Description of one State field. The field holds `ElementCount()` elements per world.
struct FieldDesc {
  std::string name;   ///< unique, "<owner>.<local>", e.g. "room.temp_K"
  std::string owner;  ///< the block (or "engine") that writes it
  DType dtype = DType::kFloat64;
  std::vector<int32_t> shape;  ///< per-world shape; empty = scalar
  std::string unit;            ///< SI unit ("K", "W", "1" for dimensionless)
  FieldKind kind = FieldKind::kContinuous;
  std::string doc;
  /// Valid range. Commands outside it are rejected; for checked fields a value outside
  /// [lower, upper] after a tick counts as a numeric blow-up and resets the world.
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
  /// Whether the per-world numeric check looks at this field (floating types only).
  bool checked = true;

  /// Number of elements per world (product of shape; 1 for a scalar).
  int64_t ElementCount() const;
  /// Bytes per world.
  size_t BytesPerWorld() const { return static_cast<size_t>(ElementCount()) * DTypeSize(dtype); }
};

/// An append-only list of fields with lookup by name.
class Schema {
 public:
  /// Adds a field; returns its id, or kInvalidField when the name is already taken.
  FieldId Add(FieldDesc field);
  /// Number of fields.
  int size() const { return static_cast<int>(fields_.size()); }
  const FieldDesc& field(FieldId id) const { return fields_[static_cast<size_t>(id)]; }
  const std::vector<FieldDesc>& fields() const { return fields_; }
  /// Field id by full name, or kInvalidField.
  FieldId Find(std::string_view name) const;
  /// Total bytes of one world's fields.
  size_t BytesPerWorld() const;
  /// Hash of names, dtypes, shapes and units: two processes agree on the layout of a State
  /// exactly when their schema hashes agree (used by snapshots and the bridge).
  uint64_t Hash() const;

 private:
  std::vector<FieldDesc> fields_;
  std::unordered_map<std::string, FieldId> index_;
};

/// 64-bit FNV-1a over bytes, continued from `hash`.
uint64_t HashBytes(const void* data, size_t size, uint64_t hash = 0xcbf29ce484222325ull);

}  // namespace ftwin
