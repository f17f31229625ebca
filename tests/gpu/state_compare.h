// Field-by-field comparison of two simulations of the same model, shared by the device-path
// parity tests (CPU driver vs emulated device exactly, vs CUDA within stated tolerances).
#pragma once

#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "engine/simulator.h"

namespace ftwin {

/// An allowed difference of one f64 field: |a - b| <= abs + rel |a|.
struct Tolerance {
  std::string field;  ///< full field name
  double abs = 0.0;
  double rel = 0.0;
};

/// Compares every field; f64 fields within the tolerance of their name (exact when none is
/// listed), all other dtypes exactly. Returns "" or a description of the first violation.
inline std::string CompareStates(const Simulator& reference, const Simulator& other,
                                 const std::vector<Tolerance>& tolerances) {
  const Schema& schema = reference.model().schema();
  for (FieldId id = 0; id < schema.size(); ++id) {
    const FieldDesc& field = schema.field(id);
    if (field.dtype != DType::kFloat64) {
      const size_t bytes = field.BytesPerWorld() * static_cast<size_t>(reference.num_worlds());
      if (std::memcmp(reference.state().Bytes(id), other.state().Bytes(id), bytes) != 0)
        return field.name + ": differs (compared exactly)";
      continue;
    }
    Tolerance tolerance{field.name};
    for (const Tolerance& t : tolerances)
      if (t.field == field.name) tolerance = t;
    const int64_t count = reference.state().ElementCount(id) * reference.num_worlds();
    const double* a = reference.state().Data<double>(id);
    const double* b = other.state().Data<double>(id);
    for (int64_t i = 0; i < count; ++i) {
      if (std::memcmp(&a[i], &b[i], sizeof(double)) == 0) continue;
      const double allowed = tolerance.abs + tolerance.rel * std::fabs(a[i]);
      if (!(std::fabs(a[i] - b[i]) <= allowed)) {
        std::ostringstream text;
        text.precision(17);
        text << field.name << "[" << i << "]: " << a[i] << " vs " << b[i] << " (allowed " << allowed
             << ")";
        return text.str();
      }
    }
  }
  return {};
}

}  // namespace ftwin
