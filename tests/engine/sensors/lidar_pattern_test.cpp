// Lidar channel tables from the Velodyne calibration files, scan patterns and depth cameras.
#include "engine/sensors/lidar_pattern.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "engine/sensors/raycast_scene.h"

namespace ftwin {
namespace {

const std::filesystem::path kLidarDir = std::filesystem::path(FTWIN_SHARED_DIR) / "data/lidar";

TEST_CASE("VLP-16 and HDL-32E tables are reproduced exactly", "[lidar]") {
  Diagnostics diagnostics;
  const auto vlp16 = LoadLidarChannelTable(kLidarDir / "VLP16db.yaml", &diagnostics);
  const auto hdl32 = LoadLidarChannelTable(kLidarDir / "32db.yaml", &diagnostics);
  INFO(diagnostics.ToString());
  REQUIRE(vlp16.has_value());
  REQUIRE(hdl32.has_value());
  REQUIRE(vlp16->vertical_angle_rad.size() == 16);
  REQUIRE(hdl32->vertical_angle_rad.size() == 32);
  CHECK(vlp16->distance_resolution_m == 0.002);
  // Independent truth: the values as written in the files, read back with a plain YAML load.
  for (const auto& [file, table] :
       {std::pair{"VLP16db.yaml", &*vlp16}, std::pair{"32db.yaml", &*hdl32}}) {
    const YAML::Node root = YAML::LoadFile((kLidarDir / file).string());
    for (const YAML::Node& laser : root["lasers"]) {
      const size_t id = laser["laser_id"].as<size_t>();
      CHECK(table->vertical_angle_rad[id] == laser["vert_correction"].as<double>());
    }
  }
  // VLP-16: -15..15 degrees in 2-degree steps, interleaved.
  std::multiset<long> degrees;
  for (double a : vlp16->vertical_angle_rad) degrees.insert(std::lround(a * 180 / M_PI));
  for (int d = -15; d <= 15; d += 2) CHECK(degrees.count(d) == 1);
  CHECK(vlp16->vertical_angle_rad[0] == Approx(-15 * M_PI / 180).margin(1e-15));
  CHECK(vlp16->vertical_angle_rad[1] == Approx(1 * M_PI / 180).margin(1e-15));
  // HDL-32E: -30.67 .. +10.67 in 4/3-degree steps.
  std::vector<double> sorted = hdl32->vertical_angle_rad;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 1; i < sorted.size(); ++i)
    CHECK((sorted[i] - sorted[i - 1]) * 180 / M_PI == Approx(4.0 / 3.0).margin(0.01));

  // The scan pattern: 2048 azimuths x 32 lasers, each ray at the table's elevation.
  const std::vector<Ray> rays = LidarScanRays(*hdl32, 2048, 0.5, 100.0);
  REQUIRE(rays.size() == 2048u * 32u);
  for (size_t a = 0; a < 2048; a += 97)
    for (size_t laser = 0; laser < 32; ++laser) {
      const Ray& ray = rays[a * 32 + laser];
      CHECK(std::asin(ray.direction[2]) == Approx(hdl32->vertical_angle_rad[laser]).margin(1e-12));
      CHECK(std::atan2(ray.direction[1], ray.direction[0]) ==
            Approx(std::remainder(2 * M_PI * a / 2048, 2 * M_PI)).margin(1e-12));
    }
}

TEST_CASE("Bad channel tables are rejected with file, line and key", "[lidar]") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "ftwin_lidar_test";
  std::filesystem::create_directories(dir);
  auto errors_of = [&](const std::string& text) {
    const std::filesystem::path file = dir / "table.yaml";
    std::ofstream(file) << text;
    Diagnostics diagnostics;
    CHECK(!LoadLidarChannelTable(file, &diagnostics).has_value());
    return diagnostics.ToString();
  };
  std::string e = errors_of(
      "lasers:\n- {laser_id: 0, vert_correction: 0.1, rot_correction: 0}\n"
      "- {laser_id: 1, rot_correction: 0}\nnum_lasers: 2\ndistance_resolution: 0.002\n");
  CHECK(e.find("table.yaml:3:") != std::string::npos);
  CHECK(e.find("lasers[1].vert_correction") != std::string::npos);
  e = errors_of(
      "lasers:\n- {laser_id: 0, vert_correction: 0.1, rot_correction: 0}\n"
      "num_lasers: 16\ndistance_resolution: 0.002\n");
  CHECK(e.find("num_lasers") != std::string::npos);
  CHECK(e.find("'16'") != std::string::npos);
  e = errors_of(
      "lasers:\n- {laser_id: 0, vert_correction: abc, rot_correction: 0}\n"
      "- {laser_id: 0, vert_correction: 0.1, rot_correction: 0}\n"
      "num_lasers: 2\ndistance_resolution: -1\n");
  CHECK(e.find("abc") != std::string::npos);
  CHECK(e.find("distance_resolution") != std::string::npos);
  CHECK(errors_of("just text\n").find("mapping") != std::string::npos);
}

TEST_CASE("A depth camera sees a plane at the analytic depth for every pixel", "[lidar]") {
  PinholeCamera camera{.width = 64, .height = 48, .fx = 50, .fy = 50, .cx = 32, .cy = 24};
  RaycastScene scene;
  // Plane x = 3 (perpendicular to the optical axis) and, separately, a tilted plane.
  const double normal[3] = {1, 0, 0};
  scene.AddPlane(normal, 3.0);
  scene.Build();
  std::vector<Ray> rays = DepthCameraRays(camera);
  std::vector<RayHit> hits(rays.size());
  scene.Cast(rays, hits);
  for (int v = 0; v < camera.height; ++v)
    for (int u = 0; u < camera.width; ++u)
      CHECK(DepthFromRange(camera, u, v, hits[v * camera.width + u].t) ==
            Approx(3.0).margin(1e-12));
  // Tilted plane x + 0.5 y = 4: along pixel ray (1, -yu, -zv) depth = 4 / (1 - 0.5 yu).
  RaycastScene tilted;
  const double tilted_normal[3] = {1, 0.5, 0};
  tilted.AddPlane(tilted_normal, 4.0);
  tilted.Build();
  tilted.Cast(rays, hits);
  for (int v = 0; v < camera.height; v += 5)
    for (int u = 0; u < camera.width; ++u) {
      const double y = -(u + 0.5 - camera.cx) / camera.fx;
      CHECK(DepthFromRange(camera, u, v, hits[v * camera.width + u].t) ==
            Approx(4.0 / (1 + 0.5 * y)).margin(1e-12));
    }
}

TEST_CASE("2D scanner in a circular room and the range return model", "[lidar]") {
  // Inside a cylinder of radius 4 m every beam returns 4 m.
  RaycastScene scene;
  const double a[3] = {0, 0, -1}, b[3] = {0, 0, 1};
  scene.AddCylinder(a, b, 4.0);
  scene.Build();
  const std::vector<Ray> rays = PlanarScanRays(270 * M_PI / 180, 541, 0.05, 30.0);
  std::vector<RayHit> hits(rays.size());
  scene.Cast(rays, hits);
  for (const RayHit& hit : hits) CHECK(hit.t == Approx(4.0).margin(1e-12));
  CHECK(std::atan2(rays.front().direction[1], rays.front().direction[0]) ==
        Approx(-135 * M_PI / 180).margin(1e-12));

  RangeReturnParams p;
  p.range_max_m = 30.0;
  p.range_noise_sigma_m = 0.01;
  p.resolution_m = 0.002;
  double sum = 0, sum_sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double r = MeasuredRange(p, 10.0, CounterRng{4, 0, 0}, i);
    CHECK(std::fabs(std::remainder(r, 0.002)) < 1e-12);
    sum += r;
    sum_sq += (r - 10.0) * (r - 10.0);
  }
  CHECK(sum / n == Approx(10.0).margin(5 * 0.01 / std::sqrt(n)));
  // Variance = sigma^2 + resolution^2 / 12 (quantization noise).
  CHECK(sum_sq / n == Approx(1e-4 + 4e-6 / 12).epsilon(0.05));
  CHECK(MeasuredRange(p, 45.0, CounterRng{}, 0) == 30.0);  // beyond range: max-range return
  // Divergence dropouts: p_return = exp(-(r * div / limit)^2) = exp(-1) at 10 m.
  p.beam_divergence_rad = 0.003;
  p.footprint_limit_m = 0.03;
  int returned = 0;
  for (int i = 0; i < n; ++i) returned += MeasuredRange(p, 10.0, CounterRng{4, 0, 0}, i) < 30.0;
  CHECK(returned == Approx(n * std::exp(-1.0)).margin(5 * std::sqrt(n * 0.25)));
}

}  // namespace
}  // namespace ftwin
