// Loader for the SMT2020 semiconductor testbed (Kopp et al., IEEE TSM 2020) in its original
// AutoSched-style tab-separated files: tool.txt.1l, part.txt, route_*.txt, order.txt, WIP.txt,
// setup.txt, setupgrp.txt, downcal.txt, pmcal.txt, attach.txt, fromto.txt. Every column and how
// it is used is listed in docs/fab.md. Errors name the file, line, column and the header name.
#pragma once

#include <filesystem>

#include "engine/diagnostics.h"
#include "plants/fab/fab_model.h"

namespace ftwin::fab {

/// Reads the data set in `dir` into `config` (not finalised). Reports every problem found.
void LoadSmt2020(const std::filesystem::path& dir, Diagnostics* diagnostics, FabConfig* config);

}  // namespace ftwin::fab
