// Triangle meshes for ray-casting scenes: STL (ASCII and binary) and Wavefront OBJ (v/f lines;
// polygons fanned into triangles). A small reader, no dependency; every problem is reported
// with the mesh file, its line (ASCII) or byte offset (binary) and what was expected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "engine/diagnostics.h"

namespace ftwin {

struct TriangleMesh {
  std::vector<double> vertices_xyz;  ///< 3 per vertex, in the file's units
  std::vector<int32_t> indices;      ///< 3 per triangle
};

/// Reads `path` by its extension (.stl or .obj, case-insensitive); nullopt after reporting.
std::optional<TriangleMesh> LoadTriangleMesh(const std::filesystem::path& path,
                                             Diagnostics* diagnostics);

}  // namespace ftwin
