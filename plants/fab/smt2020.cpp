#include "plants/fab/smt2020.h"

namespace ftwin::fab {

void LoadSmt2020(const std::filesystem::path& dir, Diagnostics* diagnostics, FabConfig*) {
  diagnostics->Add({dir.string(), 0, 0}, "smt2020", dir.string(), "loader under construction");
}

}  // namespace ftwin::fab
