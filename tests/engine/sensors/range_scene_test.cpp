// Range-sensor scenes from files and moving bodies: STL (binary, ASCII) and OBJ meshes against
// the analytic distance to their faces, bodies posed from input ports against analytic shapes
// every tick, and mesh-file errors with the file and line.
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/scenario.h"
#include "engine/sensors/mesh_file.h"
#include "engine/simulator.h"

namespace ftwin {
namespace {

namespace fs = std::filesystem;

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  return registry;
}

fs::path TempDir() {
  const fs::path dir =
      fs::temp_directory_path() / ("ftwin_range_scene_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

// The 12 triangles of the unit cube [0, 1]^3.
std::vector<std::array<std::array<float, 3>, 3>> CubeTriangles() {
  const float v[8][3] = {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0},
                         {0, 0, 1}, {1, 0, 1}, {1, 1, 1}, {0, 1, 1}};
  const int faces[12][3] = {{0, 2, 1}, {0, 3, 2}, {4, 5, 6}, {4, 6, 7}, {0, 1, 5}, {0, 5, 4},
                            {1, 2, 6}, {1, 6, 5}, {2, 3, 7}, {2, 7, 6}, {3, 0, 4}, {3, 4, 7}};
  std::vector<std::array<std::array<float, 3>, 3>> out;
  for (const auto& f : faces) {
    std::array<std::array<float, 3>, 3> t;
    for (int c = 0; c < 3; ++c)
      for (int a = 0; a < 3; ++a) t[c][a] = v[f[c]][a];
    out.push_back(t);
  }
  return out;
}

void WriteBinaryStl(const fs::path& path) {
  std::ofstream out(path, std::ios::binary);
  char header[80] = "solid but binary: the size decides";
  out.write(header, 80);
  const auto triangles = CubeTriangles();
  const uint32_t count = static_cast<uint32_t>(triangles.size());
  out.write(reinterpret_cast<const char*>(&count), 4);
  for (const auto& t : triangles) {
    const float normal[3] = {0, 0, 0};
    out.write(reinterpret_cast<const char*>(normal), 12);
    for (const auto& corner : t) out.write(reinterpret_cast<const char*>(corner.data()), 12);
    const uint16_t attribute = 0;
    out.write(reinterpret_cast<const char*>(&attribute), 2);
  }
}

void WriteAsciiStl(const fs::path& path) {
  std::ofstream out(path);
  out << "solid cube\n";
  for (const auto& t : CubeTriangles()) {
    out << " facet normal 0 0 0\n  outer loop\n";
    for (const auto& c : t) out << "   vertex " << c[0] << " " << c[1] << " " << c[2] << "\n";
    out << "  endloop\n endfacet\n";
  }
  out << "endsolid cube\n";
}

void WriteObj(const fs::path& path) {
  std::ofstream out(path);
  out << "# unit cube, quads\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\nv 1 1 1\n"
         "v 0 1 1\nf 1 3 2\nf 1 4 3\nf 5/1 6/1 7/1 8/1\nf 1//1 2//1 6//1 5//1\nf 2 3 7 6\n"
         "f 3 4 8 7\nf -4 -8 -5 -1\n";
}

std::string Scanner(const std::string& scene, int beams = 11) {
  return "ftwin: 1\nname: scene\nrun: {dt: 10ms, duration: 1s, seed: 1, worlds: 2}\nblocks:\n"
         "  - name: scanner\n    type: range_sensor\n    pattern: planar\n    field_of_view: 20\n"
         "    beams: " +
         std::to_string(beams) + "\n    range_max: 50\n    scene:\n" + scene;
}

TEST_CASE("Mesh files (binary STL, ASCII STL, OBJ) are hit at the analytic face distance",
          "[sensors]") {
  const fs::path dir = TempDir();
  WriteBinaryStl(dir / "cube_bin.stl");
  WriteAsciiStl(dir / "cube_ascii.STL");
  WriteObj(dir / "cube.obj");
  for (const char* file : {"cube_bin.stl", "cube_ascii.STL", "cube.obj"}) {
    CAPTURE(file);
    Diagnostics diagnostics;
    const auto mesh = LoadTriangleMesh(dir / file, &diagnostics);
    REQUIRE(mesh);
    CHECK(mesh->indices.size() == 36);
    // Scaled x2 and placed so that the cube spans x 5..7, y -1..1, z -1..1.
    const std::string scene = "      - {type: mesh, file: " + (dir / file).string() +
                              ", scale: 2, position: [5, -1, -1]}\n";
    const LoadedScenario loaded = LoadScenarioText(Scanner(scene), "site.yaml", Registry());
    Simulator simulator(loaded.model);
    simulator.Step(1);
    const FieldId truth = simulator.state().schema().Find("scanner.true_range_m");
    for (int i = 0; i < 11; ++i) {
      const double angle = -10.0 * M_PI / 180 + 20.0 * M_PI / 180 * i / 10;
      CHECK(simulator.state().World<double>(truth, 0)[i] ==
            Approx(5.0 / std::cos(angle)).margin(1e-9));
    }
  }
  fs::remove_all(dir);
}

TEST_CASE("Moving bodies: poses from ports every tick, ranges equal the analytic shapes",
          "[sensors]") {
  // A sphere (r = 0.5) riding a ramp x = 3 -> 8 m, and a 1 m cube body (yawed 45 deg, so the
  // beam at 0 deg meets its edge at x_c - sqrt(2)/2) at y = 0 behind a static wall at x = 20.
  const std::string scene =
      "      - {type: plane, normal: [1, 0, 0], offset: 20}\n"
      "      - {type: sphere, body: ball, center: [0, 0, 0], radius: 0.5}\n"
      "      - {type: box, body: crate, center: [0, 0, 0], size: [1, 1, 1]}\n";
  std::string text =
      Scanner(scene, 1) +
      "  - {name: ball_x, type: signal_source, unit: m, shape: ramp, from: 3, to: 8, "
      "start: 0s, end: 1s}\n"
      "  - {name: crate_x, type: signal_source, unit: m, value: 12}\n"
      "  - {name: zero, type: signal_source, unit: m, value: 0}\n"
      "  - {name: far, type: signal_source, unit: m, value: 30}\n"
      "  - {name: yaw, type: signal_source, unit: rad, value: 0.7853981633974483}\n"
      "connections:\n  - [ball_x.value, scanner.ball_x]\n"
      "  - [zero.value, scanner.ball_y]\n  - [zero.value, scanner.ball_z]\n"
      "  - [yaw.value, scanner.ball_yaw]\n  - [crate_x.value, scanner.crate_x]\n"
      "  - [zero.value, scanner.crate_y]\n  - [zero.value, scanner.crate_z]\n"
      "  - [yaw.value, scanner.crate_yaw]\n";
  const LoadedScenario loaded = LoadScenarioText(text, "site.yaml", Registry());
  Simulator simulator(loaded.model);
  const Schema& schema = simulator.state().schema();
  const FieldId truth = schema.Find("scanner.true_range_m"), ball = schema.Find("ball_x.value");
  for (int k = 0; k < 100; ++k) {
    simulator.Step(1);
    const double x = simulator.state().World<double>(ball, 1)[0];
    CHECK(simulator.state().World<double>(truth, 1)[0] == Approx(x - 0.5).margin(1e-9));
  }
  // Move the ball out of the beam (y = 30): the crate's edge, then nothing but the wall.
  Simulator second(LoadScenarioText(
                       [&] {
                         std::string t = text;
                         t.replace(t.find("[zero.value, scanner.ball_y]"),
                                   std::strlen("[zero.value, scanner.ball_y]"),
                                   "[far.value, scanner.ball_y]");
                         return t;
                       }(),
                       "site.yaml", Registry())
                       .model);
  second.Step(1);
  CHECK(second.state().World<double>(truth, 0)[0] == Approx(12.0 - std::sqrt(0.5)).margin(1e-9));
}

TEST_CASE("Bad mesh files and scene objects are rejected with file, line and expectation",
          "[sensors]") {
  const fs::path dir = TempDir();
  {
    std::ofstream out(dir / "bad.stl");
    out << "solid x\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 zero\n";
  }
  {
    std::ofstream out(dir / "short.stl", std::ios::binary);
    std::string header(80, ' ');
    out << header;
    const uint32_t count = 5;
    out.write(reinterpret_cast<const char*>(&count), 4);
  }
  {
    std::ofstream out(dir / "bad.obj");
    out << "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n";
  }
  auto errors = [&](const std::string& scene) {
    try {
      LoadScenarioText(Scanner(scene), "site.yaml", Registry());
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  std::string e = errors("      - {type: mesh, file: " + (dir / "bad.stl").string() + "}\n");
  CHECK(e.find("bad.stl:4") != std::string::npos);
  CHECK(e.find("vertex") != std::string::npos);
  e = errors("      - {type: mesh, file: " + (dir / "short.stl").string() + "}\n");
  CHECK(e.find("short.stl") != std::string::npos);
  CHECK(e.find("334 bytes") != std::string::npos);
  e = errors("      - {type: mesh, file: " + (dir / "bad.obj").string() + "}\n");
  CHECK(e.find("bad.obj:4") != std::string::npos);
  CHECK(e.find("1..3") != std::string::npos);
  e = errors("      - {type: mesh, file: " + (dir / "none.stl").string() + "}\n");
  CHECK(e.find("file") != std::string::npos);
  e = errors("      - {type: plane, body: door, normal: [1, 0, 0], offset: 2}\n");
  CHECK(e.find("static") != std::string::npos);
  e = errors("      - {type: torus, radius: 1}\n");
  CHECK(e.find("mesh") != std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ftwin
