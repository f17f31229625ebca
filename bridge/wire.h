// The ftwin wire protocol (docs/protocol.md), shared by the server and the C++ client.
//
// Every message is multipart: [topic] | header | array frames.
//   header: one UTF-8 JSON object, small and self-describing: protocol version "v", and for
//           messages that carry arrays an "arrays" list describing each following frame
//           (name, dtype, shape, unit) in order.
//   arrays: raw little-endian, C-contiguous bytes, one frame per array, batched worlds first:
//           a field of shape [n] over worlds [w0, w1) travels as one [w1 - w0, n] array.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/schema.h"

namespace ftwin::bridge {

/// Protocol version. A client's hello names the versions it speaks; the server answers with
/// the highest both know, or the error "version".
constexpr int kProtocolVersion = 1;

/// Error codes of error replies ({"ok": false, "error": CODE, "message": TEXT}).
enum class ErrorCode {
  kMalformed,        ///< not a valid request: bad frames, not JSON, missing or mistyped keys
  kVersion,          ///< no common protocol version
  kUnknownOp,        ///< "op" names no request
  kNeedHello,        ///< the request needs a hello from this client first
  kNotFound,         ///< a field, block, command or fault that the model does not have
  kBadValue,         ///< a value of the wrong dtype, shape or count, or outside its range
  kForbidden,        ///< a read-only client asked to change the simulation
  kWrongMode,        ///< not possible in this timing mode or state (e.g. step in real time)
  kInvalidScenario,  ///< reset overrides that the scenario rejects
  kInternal,         ///< the server failed; the simulation carries on
};
const char* ErrorCodeName(ErrorCode code);

/// One array of a message: its descriptor and its bytes.
struct ArrayDesc {
  std::string name;
  DType dtype = DType::kFloat64;
  std::vector<int64_t> shape;
  std::string unit;
  int64_t ElementCount() const;
  size_t ByteSize() const { return static_cast<size_t>(ElementCount()) * DTypeSize(dtype); }
};

nlohmann::json ArrayDescToJson(const ArrayDesc& desc);
/// Parses one entry of an "arrays" list; returns false and sets `error` when malformed.
bool ArrayDescFromJson(const nlohmann::json& json, ArrayDesc* desc, std::string* error);

/// Matches field names against patterns: an exact name, or "<prefix>*" for every field whose
/// name starts with the prefix (scratch fields and the engine's own fields are never matched
/// by a pattern, only by name). Returns false and names the first pattern that matches nothing.
bool MatchFields(const Schema& schema, const std::vector<std::string>& patterns,
                 std::vector<FieldId>* fields, std::string* error);

/// The schema as the hello reply carries it.
nlohmann::json SchemaToJson(const Schema& schema);
/// 16 lower-case hex digits of Schema::Hash().
std::string SchemaHashText(const Schema& schema);

/// Wall-clock nanoseconds since the Unix epoch (what clients stamp as "sent_ns").
int64_t WallClockNs();

}  // namespace ftwin::bridge
