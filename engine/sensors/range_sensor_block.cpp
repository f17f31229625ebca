#include "engine/sensors/range_sensor_block.h"

#include <algorithm>
#include <cmath>

#include "engine/device_state.h"
#include "engine/scenario.h"
#include "engine/sensors/mesh_file.h"
#include "engine/sensors/range_sensor_kernels.h"
#include "engine/sensors/raycast_batch.h"

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

// Adds one scene object (to the static scene or to its moving body's), or reports what is
// wrong with it.
void AddObject(ParamReader& object, RaycastScene* static_scene, std::vector<MovingBody>* bodies) {
  RaycastScene* scene = static_scene;
  if (object.Has("body")) {
    const std::string body = object.String("body", "");
    if (body.empty() || body.find_first_of(". []") != std::string::npos)
      object.Error("body", body, "expected a body name (letters, digits, _)");
    auto it = std::find_if(bodies->begin(), bodies->end(),
                           [&](const MovingBody& b) { return b.name == body; });
    if (it == bodies->end()) it = bodies->insert(bodies->end(), MovingBody{body, {}});
    scene = &it->scene;
  }
  const std::string kind = object.String("type", "box");
  if (kind != "box" && kind != "sphere" && kind != "capsule" && kind != "cylinder" &&
      kind != "plane" && kind != "mesh") {
    object.Error("type", kind, "expected one of: box, sphere, capsule, cylinder, plane, mesh");
    return;  // its other keys depend on the type: no follow-on errors
  }
  if (kind == "plane" && scene != static_scene) {
    object.Error("body", object.String("body", ""),
                 "expected no body on a plane (planes are static)");
    return;
  }
  if (kind == "mesh") {
    const std::filesystem::path file = object.ExistingFile("file");
    const double scale = object.Number("scale", 1.0, NumberRange::Positive("m per file unit"));
    double position[3] = {0, 0, 0};
    if (object.Has("position")) Vector(object, "position", 3, position, NumberRange::Any("m"));
    const double yaw = object.Number("yaw", 0.0, NumberRange::Any("rad"));
    object.Finish();
    if (file.empty()) return;
    std::optional<TriangleMesh> mesh = LoadTriangleMesh(file, object.diagnostics());
    if (!mesh) return;
    const double c = std::cos(yaw), s = std::sin(yaw);
    for (size_t i = 0; i + 2 < mesh->vertices_xyz.size(); i += 3) {
      const double x = scale * mesh->vertices_xyz[i], y = scale * mesh->vertices_xyz[i + 1];
      const double z = scale * mesh->vertices_xyz[i + 2];
      mesh->vertices_xyz[i] = c * x - s * y + position[0];
      mesh->vertices_xyz[i + 1] = s * x + c * y + position[1];
      mesh->vertices_xyz[i + 2] = z + position[2];
    }
    scene->AddMesh(mesh->vertices_xyz, mesh->indices);
    return;
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
  const SensorPose mount = SensorPoseFromYawPitchRoll(position, yaw, pitch, roll);
  TransformRays(mount.rotation, position, &rays);
  RaycastScene scene;
  std::vector<MovingBody> bodies;
  for (ParamReader& object : params.ChildList("scene", true)) AddObject(object, &scene, &bodies);
  scene.Build();
  for (MovingBody& body : bodies) body.scene.Build();
  if (bodies.size() > static_cast<size_t>(kRangeMaxBodies))
    params.Error("scene", std::to_string(bodies.size()) + " bodies",
                 "expected at most " + std::to_string(kRangeMaxBodies) + " bodies");
  const int64_t period_ns = params.DurationNs("period", 0);
  params.Finish();
  return std::make_unique<RangeSensorBlock>(name, std::move(scene), std::move(rays), returns,
                                            period_ns, std::move(bodies));
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
  in_pose_.clear();
  for (const MovingBody& body : bodies_) {
    for (const char* axis : {"_x", "_y", "_z"})
      in_pose_.push_back(declaration.AddInput(
          {.name = body.name + axis, .unit = "m", .doc = "body position in the world"}));
    in_pose_.push_back(declaration.AddInput(
        {.name = body.name + "_yaw", .unit = "rad", .doc = "body rotation about world z"}));
  }
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

RangeSensorScenes RangeSensorBlock::HostScenes() const {
  RangeSensorScenes s;
  s.scene = scene_.View();
  s.num_bodies = static_cast<int32_t>(std::min<size_t>(bodies_.size(), kRangeMaxBodies));
  for (int32_t b = 0; b < s.num_bodies; ++b)
    s.bodies[b] = bodies_[static_cast<size_t>(b)].scene.View();
  s.rays = rays_.data();
  s.num_beams = static_cast<int32_t>(rays_.size());
  s.returns = returns_;
  return s;
}

void RangeSensorBlock::Update(const TickInfo& tick, BlockIo& io) const {
  const RangeSensorScenes scenes = HostScenes();
  // Body poses of this world, once (the device driver computes them per beam: same values).
  BodyFrame frames[kRangeMaxBodies];
  for (int32_t b = 0; b < scenes.num_bodies; ++b)
    frames[b] = BodyFrameFromPose(io.In(in_pose_[4 * b])[0], io.In(in_pose_[4 * b + 1])[0],
                                  io.In(in_pose_[4 * b + 2])[0], io.In(in_pose_[4 * b + 3])[0]);
  const auto frame = [&frames](int32_t b) { return frames[b]; };
  const CounterRng rng = io.Rng(tick.seed, 0);
  double* range = io.Out(out_range_);
  double* truth = io.Field<double>(true_range_);
  for (int32_t i = 0; i < scenes.num_beams; ++i)
    RangeSensorBeam(scenes, frame, rng, tick.tick, i, range, truth);
}

namespace {

// One scene in executor memory: its arrays and the view with their device pointers.
struct DeviceScene {
  gpu::DeviceArray<Primitive> primitives, planes;
  gpu::DeviceArray<BvhNode> nodes;
  SceneView view{};
};

DeviceScene UploadScene(gpu::Executor& executor, const SceneView& host) {
  DeviceScene d;
  d.primitives = gpu::DeviceArray<Primitive>::FromHost(executor, host.primitives,
                                                       static_cast<size_t>(host.num_primitives));
  d.nodes = gpu::DeviceArray<BvhNode>::FromHost(executor, host.nodes,
                                                static_cast<size_t>(host.num_nodes));
  d.planes = gpu::DeviceArray<Primitive>::FromHost(executor, host.planes,
                                                   static_cast<size_t>(host.num_planes));
  d.view = {d.primitives.data(), host.num_primitives, d.nodes.data(),
            host.num_nodes,      d.planes.data(),     host.num_planes};
  return d;
}

struct RangeSensorDeviceData final : DeviceBlockData {
  DeviceScene scene;
  std::vector<DeviceScene> bodies;
  gpu::DeviceArray<Ray> rays;
  RangeSensorScenes scenes{};  ///< the views of the copies above
};

}  // namespace

std::unique_ptr<DeviceBlockData> RangeSensorBlock::CreateDeviceData(gpu::Executor& executor) const {
  auto data = std::make_unique<RangeSensorDeviceData>();
  data->scenes = HostScenes();
  data->scene = UploadScene(executor, data->scenes.scene);
  data->scenes.scene = data->scene.view;
  for (int32_t b = 0; b < data->scenes.num_bodies; ++b) {
    data->bodies.push_back(UploadScene(executor, data->scenes.bodies[b]));
    data->scenes.bodies[b] = data->bodies.back().view;
  }
  data->rays = gpu::DeviceArray<Ray>::FromHost(executor, rays_.data(), rays_.size());
  data->scenes.rays = data->rays.data();
  return data;
}

void RangeSensorBlock::UpdateDevice(const TickInfo& tick, const DeviceState& state,
                                    const BlockBinding& binding,
                                    const DeviceBlockData* data) const {
  RangeSensorArgs a;
  a.scenes = static_cast<const RangeSensorDeviceData*>(data)->scenes;
  a.seed = tick.seed;
  a.stream = binding.stream_base;  // BlockIo::Rng(seed, 0)
  a.tick = tick.tick;
  for (int32_t b = 0; b < a.scenes.num_bodies; ++b)
    for (int k = 0; k < 4; ++k) a.pose[4 * b + k] = state.Input(binding, in_pose_[4 * b + k]);
  a.range = state.Output(binding, out_range_);
  a.truth = state.Field<double>(true_range_);
  RangeSensorOnDevice(state.executor(), state.num_worlds(), a);
}

}  // namespace ftwin
