// URDF collision meshes (robots/robot_model.cpp with engine/sensors/mesh_file.h): small STL
// (ASCII and binary) and OBJ files written here, whose triangle counts and bounding boxes are
// known by construction; scale and origin applied; corrupt files rejected with file and line.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "robots/robot_model.h"

namespace ftwin {
namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("ftwin_urdf_mesh_" + std::to_string(::getpid()) + "_" +
            std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  void Write(const std::string& name, const std::string& bytes) const {
    std::ofstream out(path / name, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
};

// Unit tetrahedron: 4 triangles, bounds [0,1]^3.
const char* kTetrahedronStl = R"(solid tet
facet normal 0 0 -1
 outer loop
  vertex 0 0 0
  vertex 0 1 0
  vertex 1 0 0
 endloop
endfacet
facet normal 0 -1 0
 outer loop
  vertex 0 0 0
  vertex 1 0 0
  vertex 0 0 1
 endloop
endfacet
facet normal -1 0 0
 outer loop
  vertex 0 0 0
  vertex 0 0 1
  vertex 0 1 0
 endloop
endfacet
facet normal 1 1 1
 outer loop
  vertex 1 0 0
  vertex 0 1 0
  vertex 0 0 1
 endloop
endfacet
endsolid tet
)";

// Binary STL of the cube [-0.5, 0.5]^3: 12 triangles.
std::string CubeBinaryStl(int declared_triangles = 12, int written_triangles = 12) {
  std::string bytes(80, ' ');
  const uint32_t count = static_cast<uint32_t>(declared_triangles);
  bytes.append(reinterpret_cast<const char*>(&count), 4);
  const float c[8][3] = {{-0.5f, -0.5f, -0.5f}, {0.5f, -0.5f, -0.5f}, {0.5f, 0.5f, -0.5f},
                         {-0.5f, 0.5f, -0.5f},  {-0.5f, -0.5f, 0.5f}, {0.5f, -0.5f, 0.5f},
                         {0.5f, 0.5f, 0.5f},    {-0.5f, 0.5f, 0.5f}};
  const int faces[12][3] = {{0, 2, 1}, {0, 3, 2}, {4, 5, 6}, {4, 6, 7}, {0, 1, 5}, {0, 5, 4},
                            {1, 2, 6}, {1, 6, 5}, {2, 3, 7}, {2, 7, 6}, {3, 0, 4}, {3, 4, 7}};
  for (int t = 0; t < written_triangles; ++t) {
    const float normal[3] = {0, 0, 0};
    bytes.append(reinterpret_cast<const char*>(normal), 12);
    for (int v = 0; v < 3; ++v) bytes.append(reinterpret_cast<const char*>(c[faces[t][v]]), 12);
    bytes.append(2, '\0');
  }
  return bytes;
}

// A 2 x 1 rectangle in z = 0 as one quad: fanned into 2 triangles.
const char* kRectangleObj = "# rectangle\nv 0 0 0\nv 2 0 0\nv 2 1 0\nv 0 1 0\nf 1 2 3 4\n";

std::string Inertial() {
  return "<inertial><mass value=\"1\"/><inertia ixx=\"0.01\" iyy=\"0.01\" izz=\"0.01\" ixy=\"0\" "
         "ixz=\"0\" iyz=\"0\"/></inertial>";
}

// Base link with the tetrahedron (scaled, offset), a moving link with the cube and the
// rectangle (turned 90 degrees about z).
std::string TwoLinkUrdf(const std::string& tet_mesh, const std::string& tet_scale) {
  return "<robot name=\"meshes\">\n"
         "<link name=\"base\">" +
         Inertial() +
         "\n<collision><origin xyz=\"1 0 0\"/><geometry>"
         "<mesh filename=\"" +
         tet_mesh + "\" scale=\"" + tet_scale +
         "\"/></geometry></collision></link>\n"
         "<link name=\"arm\">" +
         Inertial() +
         "\n<collision><geometry><mesh filename=\"cube.stl\" scale=\"2 2 2\"/></geometry>"
         "</collision>\n<collision><origin rpy=\"0 0 1.5707963267948966\"/><geometry>"
         "<mesh filename=\"rect.obj\"/></geometry></collision></link>\n"
         "<joint name=\"j\" type=\"revolute\"><parent link=\"base\"/><child link=\"arm\"/>"
         "<axis xyz=\"0 0 1\"/><limit lower=\"-1\" upper=\"1\" effort=\"10\" velocity=\"1\"/>"
         "</joint>\n</robot>\n";
}

std::string ImportError(const TempDir& dir, const std::string& urdf) {
  dir.Write("robot.urdf", urdf);
  try {
    RobotModel::FromUrdfFile(dir.path / "robot.urdf");
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("URDF collision meshes load with scale and origin; triangle counts and bounds",
          "[robots]") {
  TempDir dir;
  dir.Write("tet.stl", kTetrahedronStl);
  dir.Write("cube.stl", CubeBinaryStl());
  dir.Write("rect.obj", kRectangleObj);
  dir.Write("robot.urdf", TwoLinkUrdf("tet.stl", "0.1 0.2 0.3"));
  const RobotModel model = RobotModel::FromUrdfFile(dir.path / "robot.urdf");
  const RobotLink& base = model.links()[static_cast<size_t>(model.FindLink("base"))];
  const RobotLink& arm = model.links()[static_cast<size_t>(model.FindLink("arm"))];
  REQUIRE(base.collision.size() == 1);
  REQUIRE(base.collision[0].mesh);
  CHECK(base.collision_triangles == 4);
  // Tetrahedron [0,1]^3 scaled by (0.1, 0.2, 0.3), then moved by (1, 0, 0).
  CHECK((base.collision_bounds.min() - Eigen::Vector3d(1.0, 0.0, 0.0)).norm() < 1e-12);
  CHECK((base.collision_bounds.max() - Eigen::Vector3d(1.1, 0.2, 0.3)).norm() < 1e-12);
  // Cube of edge 1 scaled by 2: [-1, 1]^3, 12 triangles; the rectangle [0,2]x[0,1] turned by
  // 90 degrees about z lies in [-1, 0] x [0, 2]: 2 triangles, inside the cube's x/z range.
  CHECK(arm.collision_triangles == 14);
  CHECK((arm.collision_bounds.min() - Eigen::Vector3d(-1.0, -1.0, -1.0)).norm() < 1e-12);
  CHECK((arm.collision_bounds.max() - Eigen::Vector3d(1.0, 2.0, 1.0)).norm() < 1e-12);
  REQUIRE(arm.collision.size() == 2);
  const TriangleMesh& rect = *arm.collision[1].mesh;
  CHECK(rect.indices.size() == 6);
  CHECK(arm.collision[0].mesh_scale == Eigen::Vector3d(2, 2, 2));
  // Mesh vertices are stored scaled, in the geometry frame.
  double largest = 0;
  for (double v : arm.collision[0].mesh->vertices_xyz) largest = std::max(largest, std::abs(v));
  CHECK(largest == 1.0);
}

TEST_CASE("Corrupt or badly scaled URDF collision meshes are rejected with file and line",
          "[robots]") {
  TempDir dir;
  dir.Write("cube.stl", CubeBinaryStl());
  dir.Write("rect.obj", kRectangleObj);
  SECTION("truncated binary STL") {
    dir.Write("bad.stl", CubeBinaryStl(12, 7));
    const std::string text = ImportError(dir, TwoLinkUrdf("bad.stl", "1 1 1"));
    INFO(text);
    CHECK(text.find("robot.urdf:3") != std::string::npos);  // the <mesh> element's line
    CHECK(text.find("link[base].collision.geometry.mesh.filename") != std::string::npos);
    CHECK(text.find("bad.stl") != std::string::npos);
    CHECK(text.find("434 bytes") != std::string::npos);  // 84 + 7 * 50, the reader's detail
  }
  SECTION("ASCII STL with a broken vertex") {
    std::string broken = kTetrahedronStl;
    broken.replace(broken.find("vertex 0 1 0"), 12, "vertex 0 x 0");
    dir.Write("broken.stl", broken);
    const std::string text = ImportError(dir, TwoLinkUrdf("broken.stl", "1 1 1"));
    INFO(text);
    CHECK(text.find("robot.urdf:3") != std::string::npos);
    CHECK(text.find("broken.stl:5") != std::string::npos);  // the mesh file's own line
  }
  SECTION("OBJ face referring to a vertex that does not exist") {
    dir.Write("bad.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 7\n");
    const std::string text = ImportError(dir, TwoLinkUrdf("bad.obj", "1 1 1"));
    INFO(text);
    CHECK(text.find("robot.urdf:3") != std::string::npos);
    CHECK(text.find("bad.obj:4") != std::string::npos);
  }
  SECTION("non-positive scale") {
    dir.Write("tet.stl", kTetrahedronStl);
    const std::string text = ImportError(dir, TwoLinkUrdf("tet.stl", "1 0 1"));
    INFO(text);
    CHECK(text.find("robot.urdf:3") != std::string::npos);
    CHECK(text.find("mesh.scale") != std::string::npos);
    CHECK(text.find("positive scale") != std::string::npos);
  }
  SECTION("missing mesh") {
    const std::string text = ImportError(dir, TwoLinkUrdf("nothing.stl", "1 1 1"));
    INFO(text);
    CHECK(text.find("robot.urdf:3") != std::string::npos);
    CHECK(text.find("expected an existing mesh file") != std::string::npos);
  }
}

}  // namespace ftwin
