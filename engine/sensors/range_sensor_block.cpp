#include "engine/sensors/range_sensor_block.h"

#include <cmath>

#include "engine/scenario.h"

namespace ftwin {
namespace {

// Reads `count` numbers of a list key into out.
bool Vector(ParamReader& params, const std::string& key, size_t count, double* out,
            const NumberRange& range) {
  const std::vector<double> values = params.NumberList(key, range, count, count);
  if (values.size() != count) return false;
  for (size_t i = 0; i < count; ++i) out[i] = values[i];
  return true;
}

// Adds one scene object, or reports what is wrong with it.
void AddObject(ParamReader& object, RaycastScene* scene) {
  const std::string kind = object.String("type", "box");
  if (kind != "box" && kind != "sphere" && kind != "capsule" && kind != "cylinder" &&
      kind != "plane") {
    object.Error("type", kind, "expected one of: box, sphere, capsule, cylinder, plane");
    return;  // its other keys depend on the type: no follow-on errors
  }
  const NumberRange metres = NumberRange::Any("m");
  if (kind == "sphere") {
    double center[3] = {};
    const double radius = object.RequiredNumber("radius", NumberRange::Positive("m"));
    if (Vector(object, "center", 3, center, metres)) scene->AddSphere(center, radius);
  } else if (kind == "box") {
    double center[3] = {}, size[3] = {};
    const double yaw = object.Number("yaw", 0.0, NumberRange::Any("rad"));
    const bool ok = Vector(object, "center", 3, center, metres) &&
                    Vector(object, "size", 3, size, NumberRange::Positive("m"));
    const double c = std::cos(yaw), s = std::sin(yaw);
    const double rotation[9] = {c, -s, 0, s, c, 0, 0, 0, 1};
    const double half[3] = {0.5 * size[0], 0.5 * size[1], 0.5 * size[2]};
    if (ok) scene->AddBox(center, rotation, half);
  } else if (kind == "capsule" || kind == "cylinder") {
    double a[3] = {}, b[3] = {};
    const double radius = object.RequiredNumber("radius", NumberRange::Positive("m"));
    const bool ok = Vector(object, "from", 3, a, metres) && Vector(object, "to", 3, b, metres);
    if (ok && kind == "capsule") scene->AddCapsule(a, b, radius);
    if (ok && kind == "cylinder") scene->AddCylinder(a, b, radius);
  } else {
    double normal[3] = {};
    const double offset = object.RequiredNumber("offset", metres);
    if (Vector(object, "normal", 3, normal, NumberRange::Any("1"))) {
      if (normal[0] == 0 && normal[1] == 0 && normal[2] == 0)
        object.Error("normal", "[0, 0, 0]", "expected a non-zero normal");
      else
        scene->AddPlane(normal, offset);
    }
  }
  object.Finish();
}

}  // namespace

std::unique_ptr<Block> RangeSensorBlock::FromParams(const std::string& name, ParamReader& params) {
  RangeReturnParams returns;
  returns.range_min_m = params.Number("range_min", 0.0, NumberRange::NonNegative("m"));
  returns.range_max_m = params.RequiredNumber("range_max", NumberRange::Positive("m"));
  if (returns.range_min_m >= returns.range_max_m)
    params.Error("range_min", std::to_string(returns.range_min_m),
                 "expected range_min < range_max");
  returns.range_noise_sigma_m =
      params.Number("range_noise_sigma", 0.0, NumberRange::NonNegative("m"));
  returns.beam_divergence_rad =
      params.Number("beam_divergence", 0.0, NumberRange::NonNegative("rad"));
  returns.footprint_limit_m =
      params.Number("footprint_limit", INFINITY, NumberRange::Positive("m"));
  const std::string pattern =
      params.Choice("pattern", "lidar", {"lidar", "planar", "depth_camera"});
  std::vector<Ray> rays;
  if (pattern == "lidar") {
    const std::filesystem::path table_file = params.ExistingFile("channel_table");
    const int64_t azimuths = params.Integer("azimuth_count", 1024, 1, 1 << 16);
    if (!table_file.empty()) {
      const auto table = LoadLidarChannelTable(table_file, params.diagnostics());
      if (table) {
        rays = LidarScanRays(*table, static_cast<int>(azimuths), returns.range_min_m,
                             returns.range_max_m);
        returns.resolution_m = table->distance_resolution_m;
      }
    }
  } else if (pattern == "planar") {
    const double fov =
        params.Number("field_of_view", 270.0, NumberRange::Between(0.0, 360.0, "deg"));
    const int64_t beams = params.Integer("beams", 541, 1, 1 << 16);
    rays = PlanarScanRays(fov * M_PI / 180.0, static_cast<int>(beams), returns.range_min_m,
                          returns.range_max_m);
  } else {
    PinholeCamera camera;
    camera.width = static_cast<int>(params.RequiredInteger("width", 1, 4096));
    camera.height = static_cast<int>(params.RequiredInteger("height", 1, 4096));
    camera.fx = params.RequiredNumber("fx", NumberRange::Positive("px"));
    camera.fy = params.RequiredNumber("fy", NumberRange::Positive("px"));
    camera.cx = params.Number("cx", 0.5 * camera.width, NumberRange::Any("px"));
    camera.cy = params.Number("cy", 0.5 * camera.height, NumberRange::Any("px"));
    rays = DepthCameraRays(camera);
    for (Ray& ray : rays) ray.t_max = returns.range_max_m;
  }
  returns.resolution_m =
      params.Number("resolution", returns.resolution_m, NumberRange::NonNegative("m"));
  // Mount pose: position and yaw/pitch/roll (Z-Y-X) of the sensor in the world.
  double position[3] = {0, 0, 0};
  if (params.Has("position")) Vector(params, "position", 3, position, NumberRange::Any("m"));
  const double yaw = params.Number("yaw", 0.0, NumberRange::Any("rad"));
  const double pitch = params.Number("pitch", 0.0, NumberRange::Any("rad"));
  const double roll = params.Number("roll", 0.0, NumberRange::Any("rad"));
  const double cy = std::cos(yaw), sy = std::sin(yaw), cp = std::cos(pitch), sp = std::sin(pitch);
  const double cr = std::cos(roll), sr = std::sin(roll);
  const double rotation[9] = {cy * cp,
                              cy * sp * sr - sy * cr,
                              cy * sp * cr + sy * sr,
                              sy * cp,
                              sy * sp * sr + cy * cr,
                              sy * sp * cr - cy * sr,
                              -sp,
                              cp * sr,
                              cp * cr};
  TransformRays(rotation, position, &rays);
  RaycastScene scene;
  for (ParamReader& object : params.ChildList("scene", true)) AddObject(object, &scene);
  scene.Build();
  const int64_t period_ns = params.DurationNs("period", 0);
  params.Finish();
  return std::make_unique<RangeSensorBlock>(name, std::move(scene), std::move(rays), returns,
                                            period_ns);
}

void RangeSensorBlock::Declare(const DeclareContext& context, BlockDeclaration& declaration) {
  declaration.SetPhase(BlockPhase::kPostUpdate);
  if (period_ns_ > 0) {
    if (period_ns_ % context.dt_ns != 0)
      declaration.Error("period", DurationText(period_ns_),
                        "expected a multiple of the tick " + DurationText(context.dt_ns));
    declaration.SetPeriodTicks(std::max<int64_t>(1, period_ns_ / context.dt_ns));
  }
  const int32_t beams = static_cast<int32_t>(rays_.size());
  out_range_ = declaration.AddOutput(
      {.name = "range_m", .size = beams, .unit = "m", .doc = "measured range per beam"},
      FieldKind::kSensor);
  true_range_ = declaration.AddState({.name = "true_range_m",
                                      .shape = {beams},
                                      .unit = "m",
                                      .kind = FieldKind::kOutput,
                                      .doc = "exact range per beam (inf = no hit)",
                                      .checked = false});
}

void RangeSensorBlock::Update(const TickInfo& tick, BlockIo& io) const {
  double* range = io.Out(out_range_);
  double* truth = io.Field<double>(true_range_);
  const SceneView view = scene_.View();
  const CounterRng rng = io.Rng(tick.seed, 0);
  const uint64_t beams = rays_.size();
  for (size_t i = 0; i < rays_.size(); ++i) {
    const RayHit hit = CastRay(view, rays_[i]);
    truth[i] = hit.t;
    range[i] = MeasuredRange(returns_, hit.t, rng, static_cast<uint64_t>(tick.tick) * beams + i);
  }
}

}  // namespace ftwin
