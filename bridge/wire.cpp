#include "bridge/wire.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>

namespace ftwin::bridge {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformed:
      return "malformed";
    case ErrorCode::kVersion:
      return "version";
    case ErrorCode::kUnknownOp:
      return "unknown_op";
    case ErrorCode::kNeedHello:
      return "need_hello";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kBadValue:
      return "bad_value";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kWrongMode:
      return "wrong_mode";
    case ErrorCode::kInvalidScenario:
      return "invalid_scenario";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

int64_t ArrayDesc::ElementCount() const {
  int64_t count = 1;
  for (int64_t extent : shape) count *= extent;
  return count;
}

nlohmann::json ArrayDescToJson(const ArrayDesc& desc) {
  return {{"name", desc.name},
          {"dtype", DTypeName(desc.dtype)},
          {"shape", desc.shape},
          {"unit", desc.unit}};
}

bool ArrayDescFromJson(const nlohmann::json& json, ArrayDesc* desc, std::string* error) {
  if (!json.is_object()) {
    *error = "an array descriptor must be an object {name, dtype, shape}";
    return false;
  }
  if (json.contains("name")) {
    if (!json["name"].is_string()) {
      *error = "array 'name' must be a string";
      return false;
    }
    desc->name = json["name"].get<std::string>();
  }
  const auto dtype_it = json.find("dtype");
  if (dtype_it == json.end() || !dtype_it->is_string()) {
    *error = "array 'dtype' must be one of f64, f32, i64, i32, u8";
    return false;
  }
  const std::optional<DType> dtype = DTypeFromName(dtype_it->get<std::string>());
  if (!dtype) {
    *error = "array 'dtype' is '" + dtype_it->get<std::string>() +
             "', expected one of f64, f32, i64, i32, u8";
    return false;
  }
  desc->dtype = *dtype;
  const auto shape_it = json.find("shape");
  if (shape_it == json.end() || !shape_it->is_array() || shape_it->size() > 8) {
    *error = "array 'shape' must be a list of at most 8 non-negative integers";
    return false;
  }
  desc->shape.clear();
  int64_t count = 1;
  for (const nlohmann::json& extent : *shape_it) {
    if (!extent.is_number_integer() || extent.get<int64_t>() < 0 ||
        extent.get<int64_t>() > (int64_t{1} << 40)) {
      *error = "array 'shape' must be a list of at most 8 non-negative integers";
      return false;
    }
    desc->shape.push_back(extent.get<int64_t>());
    count *= desc->shape.back();
    if (count > (int64_t{1} << 40)) {
      *error = "array 'shape' describes more than 2^40 elements";
      return false;
    }
  }
  if (json.contains("unit") && json["unit"].is_string())
    desc->unit = json["unit"].get<std::string>();
  return true;
}

bool MatchFields(const Schema& schema, const std::vector<std::string>& patterns,
                 std::vector<FieldId>* fields, std::string* error) {
  fields->clear();
  std::vector<uint8_t> taken(static_cast<size_t>(schema.size()), 0);
  for (const std::string& pattern : patterns) {
    size_t matched = 0;
    if (!pattern.empty() && pattern.back() == '*') {
      const std::string_view prefix(pattern.data(), pattern.size() - 1);
      for (FieldId id = 0; id < schema.size(); ++id) {
        const FieldDesc& field = schema.field(id);
        if (field.kind == FieldKind::kScratch || field.owner == "engine") continue;
        if (field.name.compare(0, prefix.size(), prefix) != 0) continue;
        ++matched;
        if (!taken[static_cast<size_t>(id)]) fields->push_back(id);
        taken[static_cast<size_t>(id)] = 1;
      }
    } else {
      const FieldId id = schema.Find(pattern);
      if (id != kInvalidField) {
        ++matched;
        if (!taken[static_cast<size_t>(id)]) fields->push_back(id);
        taken[static_cast<size_t>(id)] = 1;
      }
    }
    if (matched == 0) {
      *error = "'" + pattern + "' matches no field of the model (a name, or '<prefix>*')";
      return false;
    }
  }
  return true;
}

nlohmann::json SchemaToJson(const Schema& schema) {
  nlohmann::json fields = nlohmann::json::array();
  for (const FieldDesc& field : schema.fields()) {
    if (field.kind == FieldKind::kScratch) continue;
    nlohmann::json entry = {
        {"name", field.name},   {"owner", field.owner}, {"dtype", DTypeName(field.dtype)},
        {"shape", field.shape}, {"unit", field.unit},   {"kind", FieldKindName(field.kind)},
        {"doc", field.doc}};
    // JSON has no infinity: an open bound is null.
    entry["lower"] = std::isfinite(field.lower) ? nlohmann::json(field.lower) : nlohmann::json();
    entry["upper"] = std::isfinite(field.upper) ? nlohmann::json(field.upper) : nlohmann::json();
    fields.push_back(std::move(entry));
  }
  return fields;
}

std::string SchemaHashText(const Schema& schema) {
  char text[24];
  std::snprintf(text, sizeof text, "%016" PRIx64, schema.Hash());
  return text;
}

int64_t WallClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace ftwin::bridge
