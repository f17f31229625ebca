#include "engine/sensors/mesh_file.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace ftwin {
namespace {

void Report(Diagnostics* d, const std::filesystem::path& path, int line, const std::string& value,
            const std::string& expected) {
  d->Add({path.string(), line, 0}, "", value, expected);
}

std::optional<TriangleMesh> ReadBinaryStl(const std::string& bytes,
                                          const std::filesystem::path& path, Diagnostics* d) {
  uint32_t count = 0;
  std::memcpy(&count, bytes.data() + 80, 4);  // little-endian, as every STL writer emits
  const size_t expected = 84 + static_cast<size_t>(count) * 50;
  if (bytes.size() < expected) {
    Report(d, path, 0, std::to_string(bytes.size()) + " bytes",
           "a binary STL of " + std::to_string(expected) + " bytes (" + std::to_string(count) +
               " triangles of 50 bytes after the 84-byte header)");
    return std::nullopt;
  }
  TriangleMesh mesh;
  for (uint32_t t = 0; t < count; ++t) {
    const char* record = bytes.data() + 84 + static_cast<size_t>(t) * 50 + 12;  // skip normal
    for (int v = 0; v < 9; ++v) {
      float x = 0;
      std::memcpy(&x, record + 4 * v, 4);
      if (!std::isfinite(x)) {
        Report(d, path, 0, "byte " + std::to_string(84 + t * 50 + 12 + 4 * v),
               "finite vertex coordinates");
        return std::nullopt;
      }
      mesh.vertices_xyz.push_back(static_cast<double>(x));
    }
    for (int v = 0; v < 3; ++v) mesh.indices.push_back(static_cast<int32_t>(3 * t + v));
  }
  return mesh;
}

std::optional<TriangleMesh> ReadAsciiStl(const std::string& text, const std::filesystem::path& path,
                                         Diagnostics* d) {
  TriangleMesh mesh;
  std::istringstream in(text);
  std::string line;
  int number = 0, in_facet = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream words(line);
    std::string word;
    if (!(words >> word)) continue;
    if (word == "vertex") {
      double x, y, z;
      if (!(words >> x >> y >> z) || !std::isfinite(x) || !std::isfinite(y) || !std::isfinite(z)) {
        Report(d, path, number, line, "'vertex x y z' with three finite numbers");
        return std::nullopt;
      }
      mesh.vertices_xyz.insert(mesh.vertices_xyz.end(), {x, y, z});
      ++in_facet;
    } else if (word == "endfacet") {
      if (in_facet != 3) {
        Report(d, path, number, std::to_string(in_facet) + " vertices",
               "3 vertices per facet (triangles)");
        return std::nullopt;
      }
      const int32_t first = static_cast<int32_t>(mesh.vertices_xyz.size() / 3) - 3;
      mesh.indices.insert(mesh.indices.end(), {first, first + 1, first + 2});
      in_facet = 0;
    } else if (word != "solid" && word != "facet" && word != "outer" && word != "endloop" &&
               word != "endsolid") {
      Report(d, path, number, word,
             "an ASCII STL keyword (solid, facet, outer loop, vertex, endloop, endfacet)");
      return std::nullopt;
    }
  }
  return mesh;
}

std::optional<TriangleMesh> ReadObj(const std::string& text, const std::filesystem::path& path,
                                    Diagnostics* d) {
  TriangleMesh mesh;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream words(line);
    std::string word;
    if (!(words >> word) || word[0] == '#') continue;
    if (word == "v") {
      double x, y, z;
      if (!(words >> x >> y >> z)) {
        Report(d, path, number, line, "'v x y z'");
        return std::nullopt;
      }
      mesh.vertices_xyz.insert(mesh.vertices_xyz.end(), {x, y, z});
    } else if (word == "f") {
      std::vector<int32_t> corners;
      std::string corner;
      const auto vertices = static_cast<int64_t>(mesh.vertices_xyz.size() / 3);
      while (words >> corner) {
        // "i", "i/t", "i//n" or "i/t/n"; negative indices count from the end.
        char* end = nullptr;
        const long index = std::strtol(corner.c_str(), &end, 10);
        const int64_t resolved = index < 0 ? vertices + index : index - 1;
        if (end == corner.c_str() || index == 0 || resolved < 0 || resolved >= vertices) {
          Report(d, path, number, corner,
                 "a vertex index in 1.." + std::to_string(vertices) + " (or -1..-" +
                     std::to_string(vertices) + ")");
          return std::nullopt;
        }
        corners.push_back(static_cast<int32_t>(resolved));
      }
      if (corners.size() < 3) {
        Report(d, path, number, line, "a face with at least 3 vertices");
        return std::nullopt;
      }
      for (size_t i = 1; i + 1 < corners.size(); ++i)
        mesh.indices.insert(mesh.indices.end(), {corners[0], corners[i], corners[i + 1]});
    }
    // Other statements (vn, vt, o, g, s, usemtl, mtllib) do not change the geometry.
  }
  return mesh;
}

}  // namespace

std::optional<TriangleMesh> LoadTriangleMesh(const std::filesystem::path& path,
                                             Diagnostics* diagnostics) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    Report(diagnostics, path, 0, "", "a readable mesh file");
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  const std::string bytes = buffer.str();
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::optional<TriangleMesh> mesh;
  if (extension == ".obj") {
    mesh = ReadObj(bytes, path, diagnostics);
  } else if (extension == ".stl") {
    // Binary files may also start with "solid": decide by the size the header announces.
    bool binary = bytes.size() >= 84;
    if (binary) {
      uint32_t count = 0;
      std::memcpy(&count, bytes.data() + 80, 4);
      binary =
          bytes.compare(0, 5, "solid") != 0 || bytes.size() == 84 + static_cast<size_t>(count) * 50;
    }
    mesh =
        binary ? ReadBinaryStl(bytes, path, diagnostics) : ReadAsciiStl(bytes, path, diagnostics);
  } else {
    Report(diagnostics, path, 0, extension, "a mesh file ending in .stl or .obj");
    return std::nullopt;
  }
  if (mesh && mesh->indices.empty()) {
    Report(diagnostics, path, 0, "no triangles", "a mesh with at least one triangle");
    return std::nullopt;
  }
  return mesh;
}

}  // namespace ftwin
