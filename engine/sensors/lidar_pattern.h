// Scan patterns of range sensors: multi-channel lidars from per-beam calibration tables
// (Velodyne db.yaml format, ../shared/data/lidar/), 2D safety scanners and pinhole depth
// cameras. They produce rays for raycast_math.h in the sensor frame (x forward, z up).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/sensors/raycast_math.h"

namespace ftwin {

/// Per-laser geometry of a multi-channel lidar, indexed by laser_id.
struct LidarChannelTable {
  std::vector<double> vertical_angle_rad;  ///< elevation of each laser (vert_correction)
  std::vector<double> azimuth_offset_rad;  ///< rot_correction
  double distance_resolution_m = 0.0;
};

/// Reads a Velodyne calibration table. Every problem (missing key, wrong type, duplicate or
/// missing laser_id, num_lasers disagreeing with the list) is added to `diagnostics` with file,
/// line and key; returns nullopt then.
std::optional<LidarChannelTable> LoadLidarChannelTable(const std::filesystem::path& file,
                                                       Diagnostics* diagnostics);

/// Rays of one full revolution: azimuth step 2*pi / azimuth_count, ray index
/// = azimuth_index * channels + laser_id. Origin at the sensor.
std::vector<Ray> LidarScanRays(const LidarChannelTable& table, int azimuth_count,
                               double range_min_m, double range_max_m);

/// Rays of a planar scanner: `count` beams evenly from -fov/2 to +fov/2 (inclusive) around x.
std::vector<Ray> PlanarScanRays(double field_of_view_rad, int count, double range_min_m,
                                double range_max_m);

/// Pinhole camera intrinsics; the optical axis is +x, image u to -y, v to -z.
struct PinholeCamera {
  int width = 0;
  int height = 0;
  double fx = 0, fy = 0, cx = 0, cy = 0;  ///< pixels
  double depth_max_m = INFINITY;
};

/// One ray per pixel (row-major) through the pixel centre.
std::vector<Ray> DepthCameraRays(const PinholeCamera& camera);
/// Depth (distance along the optical axis) from the range along the pixel's ray.
double DepthFromRange(const PinholeCamera& camera, int u, int v, double range_m);

/// Moves sensor-frame rays to the world: origin + R * direction (R row-major).
void TransformRays(const double rotation[9], const double translation[3], std::vector<Ray>* rays);

}  // namespace ftwin
