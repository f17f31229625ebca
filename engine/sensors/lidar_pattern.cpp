#include "engine/sensors/lidar_pattern.h"

#include <yaml-cpp/yaml.h>

#include <cmath>

#include "engine/params.h"

namespace ftwin {
namespace {

std::optional<double> NumberOf(const YAML::Node& node) {
  if (!node || !node.IsScalar()) return std::nullopt;
  try {
    const double value = node.as<double>();
    if (!std::isfinite(value)) return std::nullopt;
    return value;
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

Ray MakeRay(double x, double y, double z, double t_min, double t_max) {
  const double norm = std::sqrt(x * x + y * y + z * z);
  return {{0.0, 0.0, 0.0}, {x / norm, y / norm, z / norm}, t_min, t_max};
}

}  // namespace

std::optional<LidarChannelTable> LoadLidarChannelTable(const std::filesystem::path& file,
                                                       Diagnostics* diagnostics) {
  const std::string name = file.string();
  const size_t errors_before = diagnostics->size();
  YAML::Node root;
  try {
    root = YAML::LoadFile(name);
  } catch (const YAML::Exception& error) {
    diagnostics->Add({name, error.mark.line + 1, error.mark.column + 1}, "", "",
                     "expected a readable YAML lidar table: " + error.msg);
    return std::nullopt;
  }
  if (!root.IsMap()) {
    diagnostics->Add(NodeLocation(root, name), "", NodeText(root),
                     "expected a mapping with lasers, num_lasers, distance_resolution");
    return std::nullopt;
  }
  const YAML::Node lasers = root["lasers"];
  if (!lasers || !lasers.IsSequence() || lasers.size() == 0) {
    diagnostics->Add(NodeLocation(lasers ? lasers : root, name), "lasers", NodeText(lasers),
                     "expected a non-empty list of lasers");
    return std::nullopt;
  }
  const YAML::Node count_node = root["num_lasers"];
  const std::optional<double> count = NumberOf(count_node);
  if (!count || *count != static_cast<double>(lasers.size()))
    diagnostics->Add(
        NodeLocation(count_node ? count_node : root, name), "num_lasers", NodeText(count_node),
        "expected the number of entries in lasers (" + std::to_string(lasers.size()) + ")");
  LidarChannelTable table;
  const YAML::Node resolution_node = root["distance_resolution"];
  const std::optional<double> resolution = NumberOf(resolution_node);
  if (!resolution || *resolution <= 0)
    diagnostics->Add(NodeLocation(resolution_node ? resolution_node : root, name),
                     "distance_resolution", NodeText(resolution_node),
                     "expected a positive range resolution in metres");
  else
    table.distance_resolution_m = *resolution;
  const size_t n = lasers.size();
  table.vertical_angle_rad.assign(n, NAN);
  table.azimuth_offset_rad.assign(n, NAN);
  std::vector<bool> seen(n, false);
  for (size_t i = 0; i < n; ++i) {
    const YAML::Node laser = lasers[i];
    const std::string path = "lasers[" + std::to_string(i) + "]";
    if (!laser.IsMap()) {
      diagnostics->Add(NodeLocation(laser, name), path, NodeText(laser),
                       "expected a mapping with laser_id, vert_correction, rot_correction");
      continue;
    }
    const std::optional<double> id = NumberOf(laser["laser_id"]);
    const std::optional<double> vertical = NumberOf(laser["vert_correction"]);
    const std::optional<double> rotation = NumberOf(laser["rot_correction"]);
    const auto report = [&](const char* key, const std::string& expected) {
      const YAML::Node node = laser[key];
      diagnostics->Add(NodeLocation(node ? node : laser, name), path + "." + key, NodeText(node),
                       expected);
    };
    bool ok = true;
    if (!id || *id < 0 || *id >= static_cast<double>(n) || *id != std::floor(*id)) {
      report("laser_id", "expected an integer in [0, " + std::to_string(n - 1) + "]");
      ok = false;
    } else if (seen[static_cast<size_t>(*id)]) {
      report("laser_id", "expected each laser_id once (duplicate)");
      ok = false;
    }
    if (!vertical || std::fabs(*vertical) > M_PI / 2) {
      report("vert_correction", "expected an elevation angle in radians within [-pi/2, pi/2]");
      ok = false;
    }
    if (!rotation || std::fabs(*rotation) > M_PI) {
      report("rot_correction", "expected an azimuth offset in radians within [-pi, pi]");
      ok = false;
    }
    if (!ok) continue;
    const size_t laser_id = static_cast<size_t>(*id);
    seen[laser_id] = true;
    table.vertical_angle_rad[laser_id] = *vertical;
    table.azimuth_offset_rad[laser_id] = *rotation;
  }
  if (diagnostics->size() != errors_before) return std::nullopt;
  return table;
}

std::vector<Ray> LidarScanRays(const LidarChannelTable& table, int azimuth_count,
                               double range_min_m, double range_max_m) {
  const size_t channels = table.vertical_angle_rad.size();
  std::vector<Ray> rays;
  rays.reserve(channels * static_cast<size_t>(azimuth_count));
  for (int a = 0; a < azimuth_count; ++a) {
    const double azimuth = 2.0 * M_PI * a / azimuth_count;
    for (size_t laser = 0; laser < channels; ++laser) {
      const double elevation = table.vertical_angle_rad[laser];
      const double heading = azimuth + table.azimuth_offset_rad[laser];
      rays.push_back(MakeRay(std::cos(elevation) * std::cos(heading),
                             std::cos(elevation) * std::sin(heading), std::sin(elevation),
                             range_min_m, range_max_m));
    }
  }
  return rays;
}

std::vector<Ray> PlanarScanRays(double field_of_view_rad, int count, double range_min_m,
                                double range_max_m) {
  std::vector<Ray> rays;
  rays.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    const double angle =
        count == 1 ? 0.0 : -0.5 * field_of_view_rad + field_of_view_rad * i / (count - 1);
    rays.push_back(MakeRay(std::cos(angle), std::sin(angle), 0.0, range_min_m, range_max_m));
  }
  return rays;
}

std::vector<Ray> DepthCameraRays(const PinholeCamera& camera) {
  std::vector<Ray> rays;
  rays.reserve(static_cast<size_t>(camera.width) * camera.height);
  for (int v = 0; v < camera.height; ++v)
    for (int u = 0; u < camera.width; ++u)
      rays.push_back(MakeRay(1.0, -(u + 0.5 - camera.cx) / camera.fx,
                             -(v + 0.5 - camera.cy) / camera.fy, 0.0, INFINITY));
  return rays;
}

double DepthFromRange(const PinholeCamera& camera, int u, int v, double range_m) {
  const double y = (u + 0.5 - camera.cx) / camera.fx;
  const double z = (v + 0.5 - camera.cy) / camera.fy;
  return range_m / std::sqrt(1.0 + y * y + z * z);
}

void TransformRays(const double r[9], const double t[3], std::vector<Ray>* rays) {
  for (Ray& ray : *rays) {
    double origin[3], direction[3];
    for (int i = 0; i < 3; ++i) {
      origin[i] = r[3 * i] * ray.origin[0] + r[3 * i + 1] * ray.origin[1] +
                  r[3 * i + 2] * ray.origin[2] + t[i];
      direction[i] = r[3 * i] * ray.direction[0] + r[3 * i + 1] * ray.direction[1] +
                     r[3 * i + 2] * ray.direction[2];
    }
    for (int i = 0; i < 3; ++i) {
      ray.origin[i] = origin[i];
      ray.direction[i] = direction[i];
    }
  }
}

}  // namespace ftwin
