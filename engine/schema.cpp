#include "engine/schema.h"

namespace ftwin {

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kFloat64:
    case DType::kInt64:
      return 8;
    case DType::kFloat32:
    case DType::kInt32:
      return 4;
    case DType::kUInt8:
      return 1;
  }
  return 0;
}

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat64:
      return "f64";
    case DType::kFloat32:
      return "f32";
    case DType::kInt64:
      return "i64";
    case DType::kInt32:
      return "i32";
    case DType::kUInt8:
      return "u8";
  }
  return "?";
}

std::optional<DType> DTypeFromName(std::string_view name) {
  for (DType dtype :
       {DType::kFloat64, DType::kFloat32, DType::kInt64, DType::kInt32, DType::kUInt8})
    if (name == DTypeName(dtype)) return dtype;
  return std::nullopt;
}

const char* FieldKindName(FieldKind kind) {
  switch (kind) {
    case FieldKind::kContinuous:
      return "continuous";
    case FieldKind::kDiscrete:
      return "discrete";
    case FieldKind::kInput:
      return "input";
    case FieldKind::kSensor:
      return "sensor";
    case FieldKind::kOutput:
      return "output";
    case FieldKind::kScratch:
      return "scratch";
  }
  return "?";
}

int64_t FieldDesc::ElementCount() const {
  int64_t count = 1;
  for (int32_t extent : shape) count *= extent;
  return count;
}

FieldId Schema::Add(FieldDesc field) {
  if (index_.count(field.name) != 0) return kInvalidField;
  const FieldId id = static_cast<FieldId>(fields_.size());
  index_.emplace(field.name, id);
  fields_.push_back(std::move(field));
  return id;
}

FieldId Schema::Find(std::string_view name) const {
  const auto it = index_.find(std::string(name));
  return it == index_.end() ? kInvalidField : it->second;
}

size_t Schema::BytesPerWorld() const {
  size_t total = 0;
  for (const FieldDesc& field : fields_) total += field.BytesPerWorld();
  return total;
}

uint64_t HashBytes(const void* data, size_t size, uint64_t hash) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

uint64_t Schema::Hash() const {
  uint64_t hash = HashBytes("ftwin-schema-v1", 15);
  for (const FieldDesc& field : fields_) {
    hash = HashBytes(field.name.data(), field.name.size(), hash);
    const uint8_t dtype = static_cast<uint8_t>(field.dtype);
    hash = HashBytes(&dtype, 1, hash);
    for (int32_t extent : field.shape) hash = HashBytes(&extent, sizeof extent, hash);
    hash = HashBytes(field.unit.data(), field.unit.size(), hash);
    hash = HashBytes("|", 1, hash);
  }
  return hash;
}

}  // namespace ftwin
