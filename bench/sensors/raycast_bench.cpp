// Rays per second per core for a 32-channel x 2048-azimuth lidar scan (HDL-32E table) over a
// robot-cell scene of ~1000 primitives plus a ~20k-triangle mesh: ftwin's BVH against Bullet
// rayTest and Intel Embree 3 (rtcIntersect1, one thread), the same scene and the same rays,
// interleaved rounds, the ratios measured per round (usage: bench_sensors_raycast [rounds]).
#include <btBulletCollisionCommon.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "engine/sensors/lidar_pattern.h"
#include "engine/sensors/raycast_batch.h"
#include "engine/sensors/raycast_scene.h"
#include "engine/thread_pool.h"

#if FTWIN_HAVE_EMBREE
#include <embree3/rtcore.h>
#endif

namespace {

using ftwin::Primitive;
using ftwin::PrimitiveKind;
using ftwin::Ray;
using ftwin::RayHit;

struct Scene {
  std::vector<Primitive> primitives;  // analytic
  std::vector<double> vertices;       // triangle mesh + ground square
  std::vector<int32_t> indices;
};

Scene MakeScene() {
  Scene scene;
  const ftwin::CounterRng rng{2026, 0, 0};
  for (int i = 0; i < 1000; ++i) {
    const uint64_t k = 4 * static_cast<uint64_t>(i);
    double x = 40 * rng.Uniform(k) - 20, y = 40 * rng.Uniform(k, 1) - 20;
    if (std::hypot(x, y) < 2) x += 4;  // keep the sensor outside every object
    const double size = 0.1 + 0.4 * rng.Uniform(k + 1);
    const double z = size + 2.5 * rng.Uniform(k + 1, 1);
    Primitive p{};
    p.body = -1;
    switch (i % 4) {
      case 0:
        p.kind = PrimitiveKind::kSphere;
        p.data[0] = x, p.data[1] = y, p.data[2] = z, p.data[3] = size;
        break;
      case 1: {
        p.kind = PrimitiveKind::kBox;
        const double angle = 3 * rng.Uniform(k + 2), c = std::cos(angle), s = std::sin(angle);
        const double data[15] = {x, y, z, c, -s, 0, s, c, 0, 0, 0, 1, size, 0.6 * size, 0.8 * size};
        std::copy(data, data + 15, p.data);
        break;
      }
      default: {
        // Vertical capsules and cylinders (Bullet's Z shapes need no rotation).
        p.kind = i % 4 == 2 ? PrimitiveKind::kCapsule : PrimitiveKind::kCylinder;
        const double data[7] = {x, y, z - size, x, y, z + size, 0.5 * size};
        std::copy(data, data + 7, p.data);
      }
    }
    scene.primitives.push_back(p);
  }
  // A UV sphere of 100 x 100 segments (19,800 triangles) standing for a scanned machine.
  const int rings = 100, segments = 100;
  const double center[3] = {6, 4, 2}, radius = 2.0;
  for (int r = 0; r <= rings; ++r)
    for (int s = 0; s < segments; ++s) {
      const double theta = M_PI * r / rings, phi = 2 * M_PI * s / segments;
      scene.vertices.insert(scene.vertices.end(),
                            {center[0] + radius * std::sin(theta) * std::cos(phi),
                             center[1] + radius * std::sin(theta) * std::sin(phi),
                             center[2] + radius * std::cos(theta)});
    }
  for (int r = 0; r < rings; ++r)
    for (int s = 0; s < segments; ++s) {
      const int a = r * segments + s, b = r * segments + (s + 1) % segments;
      const int c = a + segments, d = b + segments;
      if (r > 0) scene.indices.insert(scene.indices.end(), {a, b, c});
      if (r < rings - 1) scene.indices.insert(scene.indices.end(), {b, d, c});
    }
  // Floor: a 60 m square of two triangles at z = 0.
  const int base = static_cast<int>(scene.vertices.size() / 3);
  scene.vertices.insert(scene.vertices.end(), {-30, -30, 0, 30, -30, 0, 30, 30, 0, -30, 30, 0});
  scene.indices.insert(scene.indices.end(), {base, base + 1, base + 2, base, base + 2, base + 3});
  return scene;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

#if FTWIN_HAVE_EMBREE
void EmbreeBounds(const RTCBoundsFunctionArguments* args) {
  const auto* primitives = static_cast<const Primitive*>(args->geometryUserPtr);
  const ftwin::Aabb box = ftwin::PrimitiveBounds(primitives[args->primID]);
  // Round outwards to float.
  args->bounds_o->lower_x = std::nextafter(static_cast<float>(box.lower[0]), -INFINITY);
  args->bounds_o->lower_y = std::nextafter(static_cast<float>(box.lower[1]), -INFINITY);
  args->bounds_o->lower_z = std::nextafter(static_cast<float>(box.lower[2]), -INFINITY);
  args->bounds_o->upper_x = std::nextafter(static_cast<float>(box.upper[0]), INFINITY);
  args->bounds_o->upper_y = std::nextafter(static_cast<float>(box.upper[1]), INFINITY);
  args->bounds_o->upper_z = std::nextafter(static_cast<float>(box.upper[2]), INFINITY);
}

void EmbreeIntersect(const RTCIntersectFunctionNArguments* args) {
  if (!args->valid[0]) return;
  const auto* primitives = static_cast<const Primitive*>(args->geometryUserPtr);
  auto* rayhit = reinterpret_cast<RTCRayHit*>(args->rayhit);
  const Ray ray{{rayhit->ray.org_x, rayhit->ray.org_y, rayhit->ray.org_z},
                {rayhit->ray.dir_x, rayhit->ray.dir_y, rayhit->ray.dir_z},
                rayhit->ray.tnear,
                rayhit->ray.tfar};
  const double t = ftwin::IntersectPrimitive(ray, primitives[args->primID]);
  if (t < rayhit->ray.tfar) {
    rayhit->ray.tfar = static_cast<float>(t);
    rayhit->hit.geomID = args->geomID;
    rayhit->hit.primID = args->primID;
  }
}
#endif

}  // namespace

// Batched scans (raycast_batch.h): the same HDL-32E pattern from a different pose in each world,
// CPU driver on 1 and 2 threads, and the CUDA driver when a GPU is present (its time includes
// copying the poses up and both range arrays down, once per call).
void BatchedScans(const ftwin::LidarChannelTable& table, const ftwin::RaycastScene& scene) {
  const std::vector<Ray> pattern = ftwin::LidarScanRays(table, 2048, 0.1, 100.0);
  auto poses_for = [](int worlds) {
    std::vector<ftwin::SensorPose> poses;
    for (int w = 0; w < worlds; ++w) {
      const double at[3] = {0.5 * std::cos(w * 0.7), 0.5 * std::sin(w * 0.7), 1.5};
      poses.push_back(ftwin::SensorPoseFromYawPitchRoll(at, 0.01 * w, 0.0, 0.0));
    }
    return poses;
  };
  auto run = [&](int worlds, auto&& cast) {
    const std::vector<ftwin::SensorPose> poses = poses_for(worlds);
    std::vector<double> truth(pattern.size() * poses.size()), range(truth.size());
    ftwin::RaycastBatch batch;
    batch.scene = scene.View();
    batch.pattern = pattern.data();
    batch.num_beams = static_cast<int32_t>(pattern.size());
    batch.poses = poses.data();
    batch.num_worlds = worlds;
    batch.returns = {0.1, 100.0, 0.02, 0.003, 0.1, 0.002};
    batch.true_range_m = truth.data();
    batch.range_m = range.data();
    const auto start = std::chrono::steady_clock::now();
    if (!cast(batch)) return -1.0;
    return static_cast<double>(truth.size()) / Seconds(start);
  };
  const int cpu_worlds = 8;
  const double one = run(cpu_worlds, [](const ftwin::RaycastBatch& b) {
    ftwin::CastBatchCpu(b, nullptr);
    return true;
  });
  ftwin::ThreadPool pool(2);
  const double two = run(cpu_worlds, [&](const ftwin::RaycastBatch& b) {
    ftwin::CastBatchCpu(b, &pool);
    return true;
  });
  std::printf("batched scans, %d worlds x %zu rays (noise, dropouts, quantization):\n", cpu_worlds,
              pattern.size());
  std::printf("  CPU driver, 1 thread        %8.3f M rays/s\n", one / 1e6);
  std::printf("  CPU driver, 2 threads       %8.3f M rays/s  (%.0f%% parallel efficiency)\n",
              two / 1e6, 50.0 * two / one);
  ftwin::DeviceRaycastScene device;
  std::string error;
  if (!device.Upload(scene.View(), &error)) {
    std::printf("  CUDA driver: %s\n", error.c_str());
    return;
  }
  for (int worlds : {64, 1024}) {
    run(worlds,
        [&](const ftwin::RaycastBatch& b) { return ftwin::CastBatchCuda(device, b, &error); });
    const double rate = run(worlds, [&](const ftwin::RaycastBatch& b) {
      return ftwin::CastBatchCuda(device, b, &error);
    });
    if (rate < 0) {
      std::printf("  CUDA driver: %s\n", error.c_str());
      return;
    }
    std::printf("  CUDA driver, %5d worlds   %8.1f M rays/s (incl. copies)\n", worlds, rate / 1e6);
  }
}

int main(int argc, char** argv) {
  ftwin::Diagnostics diagnostics;
  const auto table = ftwin::LoadLidarChannelTable(
      std::filesystem::path(FTWIN_SHARED_DIR) / "data/lidar/32db.yaml", &diagnostics);
  if (!table) {
    std::fprintf(stderr, "%s\n", diagnostics.ToString().c_str());
    return 1;
  }
  std::vector<Ray> rays = ftwin::LidarScanRays(*table, 2048, 0.1, 100.0);
  const double rotation[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, sensor_at[3] = {0, 0, 1.5};
  ftwin::TransformRays(rotation, sensor_at, &rays);
  const Scene scene = MakeScene();
  const size_t triangles = scene.indices.size() / 3;

  // ftwin
  ftwin::RaycastScene ours;
  for (const Primitive& p : scene.primitives) ours.Add(p);
  ours.AddMesh(scene.vertices, scene.indices);
  auto start = std::chrono::steady_clock::now();
  ours.Build();
  const double build_s = Seconds(start);
  std::vector<RayHit> hits(rays.size());

  // Bullet
  btDefaultCollisionConfiguration configuration;
  btCollisionDispatcher dispatcher(&configuration);
  btDbvtBroadphase broadphase;
  btCollisionWorld world(&dispatcher, &broadphase, &configuration);
  std::vector<std::unique_ptr<btCollisionShape>> shapes;
  std::vector<std::unique_ptr<btCollisionObject>> objects;
  auto add_object = [&](btCollisionShape* shape, const btTransform& transform) {
    shapes.emplace_back(shape);
    objects.push_back(std::make_unique<btCollisionObject>());
    objects.back()->setCollisionShape(shape);
    objects.back()->setWorldTransform(transform);
    world.addCollisionObject(objects.back().get());
  };
  for (const Primitive& p : scene.primitives) {
    const double* d = p.data;
    btTransform transform;
    transform.setIdentity();
    switch (p.kind) {
      case PrimitiveKind::kSphere:
        transform.setOrigin({d[0], d[1], d[2]});
        add_object(new btSphereShape(d[3]), transform);
        break;
      case PrimitiveKind::kBox:
        transform.setOrigin({d[0], d[1], d[2]});
        transform.setBasis(btMatrix3x3(d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11]));
        add_object(new btBoxShape({d[12], d[13], d[14]}), transform);
        break;
      case PrimitiveKind::kCapsule:
        transform.setOrigin({d[0], d[1], 0.5 * (d[2] + d[5])});
        add_object(new btCapsuleShapeZ(d[6], d[5] - d[2]), transform);
        break;
      default:
        transform.setOrigin({d[0], d[1], 0.5 * (d[2] + d[5])});
        add_object(new btCylinderShapeZ({d[6], d[6], 0.5 * (d[5] - d[2])}), transform);
    }
  }
  btTriangleIndexVertexArray mesh(static_cast<int>(triangles),
                                  const_cast<int32_t*>(scene.indices.data()), 3 * sizeof(int32_t),
                                  static_cast<int>(scene.vertices.size() / 3),
                                  const_cast<double*>(scene.vertices.data()), 3 * sizeof(double));
  {
    btTransform identity;
    identity.setIdentity();
    shapes.emplace_back(nullptr);
    auto* mesh_shape = new btBvhTriangleMeshShape(&mesh, true);
    shapes.back().reset(mesh_shape);
    objects.push_back(std::make_unique<btCollisionObject>());
    objects.back()->setCollisionShape(mesh_shape);
    objects.back()->setWorldTransform(identity);
    world.addCollisionObject(objects.back().get());
  }
  world.updateAabbs();

#if FTWIN_HAVE_EMBREE
  RTCDevice device = rtcNewDevice("threads=1");
  RTCScene embree_scene = rtcNewScene(device);
  {
    RTCGeometry geometry = rtcNewGeometry(device, RTC_GEOMETRY_TYPE_TRIANGLE);
    auto* vertex = static_cast<float*>(rtcSetNewGeometryBuffer(geometry, RTC_BUFFER_TYPE_VERTEX, 0,
                                                               RTC_FORMAT_FLOAT3, 3 * sizeof(float),
                                                               scene.vertices.size() / 3));
    for (size_t i = 0; i < scene.vertices.size(); ++i)
      vertex[i] = static_cast<float>(scene.vertices[i]);
    auto* index = static_cast<unsigned*>(rtcSetNewGeometryBuffer(
        geometry, RTC_BUFFER_TYPE_INDEX, 0, RTC_FORMAT_UINT3, 3 * sizeof(unsigned), triangles));
    for (size_t i = 0; i < scene.indices.size(); ++i)
      index[i] = static_cast<unsigned>(scene.indices[i]);
    rtcCommitGeometry(geometry);
    rtcAttachGeometry(embree_scene, geometry);
    rtcReleaseGeometry(geometry);
    // The analytic primitives as user geometry running the same exact intersection code.
    RTCGeometry user = rtcNewGeometry(device, RTC_GEOMETRY_TYPE_USER);
    rtcSetGeometryUserPrimitiveCount(user, static_cast<unsigned>(scene.primitives.size()));
    rtcSetGeometryUserData(user, const_cast<Primitive*>(scene.primitives.data()));
    rtcSetGeometryBoundsFunction(user, EmbreeBounds, nullptr);
    rtcSetGeometryIntersectFunction(user, EmbreeIntersect);
    rtcCommitGeometry(user);
    rtcAttachGeometry(embree_scene, user);
    rtcReleaseGeometry(user);
    rtcCommitScene(embree_scene);
  }
#endif

  // Rounds of: ftwin and Embree alternately, kRepeats scans each, then one Bullet scan (Bullet
  // is ~15x slower, so one scan takes as long as all the others). Each round gives one rate per
  // engine (the median of its scans) and so one ratio measured under the same machine load; the
  // ratios are summarized over the rounds (median and range).
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  constexpr int kRepeats = 5;
  std::vector<double> ours_rate, bullet_rate, embree_rate, bullet_ratio, embree_ratio;
  size_t ours_hits = 0, bullet_hits = 0, embree_hits = 0, distance_disagreements = 0;
#if FTWIN_HAVE_EMBREE
  auto embree_scan = [&] {
    size_t count = 0;
    RTCIntersectContext context;
    rtcInitIntersectContext(&context);
    for (const Ray& r : rays) {
      RTCRayHit rayhit{};
      rayhit.ray.org_x = static_cast<float>(r.origin[0]);
      rayhit.ray.org_y = static_cast<float>(r.origin[1]);
      rayhit.ray.org_z = static_cast<float>(r.origin[2]);
      rayhit.ray.dir_x = static_cast<float>(r.direction[0]);
      rayhit.ray.dir_y = static_cast<float>(r.direction[1]);
      rayhit.ray.dir_z = static_cast<float>(r.direction[2]);
      rayhit.ray.tnear = static_cast<float>(r.t_min);
      rayhit.ray.tfar = static_cast<float>(r.t_max);
      rayhit.ray.mask = 0xFFFFFFFFu;
      rayhit.hit.geomID = RTC_INVALID_GEOMETRY_ID;
      rtcIntersect1(embree_scene, &context, &rayhit);
      count += rayhit.hit.geomID != RTC_INVALID_GEOMETRY_ID;
    }
    return count;
  };
#endif
  for (int round = 0; round < rounds; ++round) {
    std::vector<double> ours_scans, embree_scans;
    for (int repeat = 0; repeat < kRepeats; ++repeat) {
      start = std::chrono::steady_clock::now();
      ours.Cast(rays, hits);
      ours_scans.push_back(rays.size() / Seconds(start));
#if FTWIN_HAVE_EMBREE
      start = std::chrono::steady_clock::now();
      embree_hits = embree_scan();
      embree_scans.push_back(rays.size() / Seconds(start));
#endif
    }
    ours_rate.push_back(Median(ours_scans));
    ours_hits = 0;
    for (const RayHit& hit : hits) ours_hits += hit.primitive >= 0;
#if FTWIN_HAVE_EMBREE
    embree_rate.push_back(Median(embree_scans));
    embree_ratio.push_back(ours_rate.back() / embree_rate.back());
#endif

    start = std::chrono::steady_clock::now();
    bullet_hits = 0;
    distance_disagreements = 0;
    for (size_t i = 0; i < rays.size(); ++i) {
      const Ray& r = rays[i];
      const btVector3 from(r.origin[0], r.origin[1], r.origin[2]);
      const btVector3 to =
          from + r.t_max * btVector3(r.direction[0], r.direction[1], r.direction[2]);
      btCollisionWorld::ClosestRayResultCallback callback(from, to);
      world.rayTest(from, to, callback);
      if (callback.hasHit()) {
        ++bullet_hits;
        // Bullet's convex primitives carry collision margins: compare loosely (PEERS.md).
        if (std::fabs(callback.m_closestHitFraction * r.t_max - hits[i].t) > 0.25)
          ++distance_disagreements;
      }
    }
    bullet_rate.push_back(rays.size() / Seconds(start));
    bullet_ratio.push_back(ours_rate.back() / bullet_rate.back());
  }
  std::printf(
      "scene: %zu primitives + %zu triangles; scan %zu rays (HDL-32E 32 x 2048); "
      "BVH build %.1f ms, %d nodes, depth %d\n",
      scene.primitives.size(), triangles, rays.size(), build_s * 1e3, ours.num_nodes(),
      ours.depth());
  std::printf("hits: ftwin %zu, Bullet %zu (%zu differ by > 0.25 m), Embree %zu\n", ours_hits,
              bullet_hits, distance_disagreements, embree_hits);
  auto range = [](const std::vector<double>& v) {
    return std::pair(*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
  };
  std::printf("%d rounds; rates are medians over rounds, ratios per round: median [min, max]\n",
              rounds);
  std::printf("ftwin  BVH (double)           %8.3f M rays/s\n", Median(ours_rate) / 1e6);
  std::printf(
      "Bullet rayTest                %8.3f M rays/s  -> ftwin / Bullet = %.1fx [%.1f, %.1f]\n",
      Median(bullet_rate) / 1e6, Median(bullet_ratio), range(bullet_ratio).first,
      range(bullet_ratio).second);
#if FTWIN_HAVE_EMBREE
  std::printf(
      "Embree 3 rtcIntersect1 (1 t)  %8.3f M rays/s  -> ftwin / Embree = %.0f%% [%.0f, %.0f]\n",
      Median(embree_rate) / 1e6, 100 * Median(embree_ratio), 100 * range(embree_ratio).first,
      100 * range(embree_ratio).second);
  rtcReleaseScene(embree_scene);
  rtcReleaseDevice(device);
#else
  std::printf("Embree 3: not built (install libembree-dev)\n");
#endif
  BatchedScans(*table, ours);
  return 0;
}
