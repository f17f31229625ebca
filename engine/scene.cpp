#include "engine/scene.h"

#include <nlohmann/json.hpp>

namespace ftwin {

SceneEntity& SceneBuilder::Entity(const std::string& id) {
  for (SceneEntity& entity : entities_)
    if (entity.id == id) return entity;
  entities_.push_back({id, {}});
  return entities_.back();
}

std::string SceneBuilder::ToJson(int64_t time_ns, const std::string& frame_id) const {
  using Json = nlohmann::json;
  const Json stamp = {{"sec", time_ns / 1'000'000'000}, {"nsec", time_ns % 1'000'000'000}};
  Json entities = Json::array();
  for (const SceneEntity& entity : entities_) {
    Json cubes = Json::array(), spheres = Json::array(), cylinders = Json::array();
    for (const ScenePrimitive& p : entity.primitives) {
      Json pose = {{"position", {{"x", p.position[0]}, {"y", p.position[1]}, {"z", p.position[2]}}},
                   {"orientation",
                    {{"x", p.orientation[0]},
                     {"y", p.orientation[1]},
                     {"z", p.orientation[2]},
                     {"w", p.orientation[3]}}}};
      Json size = {{"x", p.size[0]}, {"y", p.size[1]}, {"z", p.size[2]}};
      Json color = {{"r", p.color[0]}, {"g", p.color[1]}, {"b", p.color[2]}, {"a", p.color[3]}};
      Json item = {{"pose", pose}, {"size", size}, {"color", color}};
      if (p.kind == ScenePrimitive::Kind::kCube) {
        cubes.push_back(item);
      } else if (p.kind == ScenePrimitive::Kind::kSphere) {
        spheres.push_back(item);
      } else {
        item["bottom_scale"] = 1.0;
        item["top_scale"] = 1.0;
        cylinders.push_back(item);
      }
    }
    entities.push_back({{"timestamp", stamp},
                        {"frame_id", frame_id},
                        {"id", entity.id},
                        {"lifetime", {{"sec", 0}, {"nsec", 0}}},
                        {"frame_locked", false},
                        {"metadata", Json::array()},
                        {"arrows", Json::array()},
                        {"cubes", cubes},
                        {"spheres", spheres},
                        {"cylinders", cylinders},
                        {"lines", Json::array()},
                        {"triangles", Json::array()},
                        {"texts", Json::array()},
                        {"models", Json::array()}});
  }
  return Json{{"deletions", Json::array()}, {"entities", entities}}.dump();
}

const char* const kSceneUpdateJsonSchema = R"({
  "title": "foxglove.SceneUpdate",
  "type": "object",
  "properties": {
    "deletions": {"type": "array", "items": {"type": "object"}},
    "entities": {"type": "array", "items": {"type": "object", "properties": {
      "timestamp": {"type": "object", "properties": {"sec": {"type": "integer"}, "nsec": {"type": "integer"}}},
      "frame_id": {"type": "string"},
      "id": {"type": "string"},
      "lifetime": {"type": "object", "properties": {"sec": {"type": "integer"}, "nsec": {"type": "integer"}}},
      "frame_locked": {"type": "boolean"},
      "metadata": {"type": "array", "items": {"type": "object"}},
      "arrows": {"type": "array", "items": {"type": "object"}},
      "cubes": {"type": "array", "items": {"$ref": "#/$defs/primitive"}},
      "spheres": {"type": "array", "items": {"$ref": "#/$defs/primitive"}},
      "cylinders": {"type": "array", "items": {"$ref": "#/$defs/primitive"}},
      "lines": {"type": "array", "items": {"type": "object"}},
      "triangles": {"type": "array", "items": {"type": "object"}},
      "texts": {"type": "array", "items": {"type": "object"}},
      "models": {"type": "array", "items": {"type": "object"}}
    }}}
  },
  "$defs": {"primitive": {"type": "object", "properties": {
    "pose": {"type": "object"}, "size": {"type": "object"}, "color": {"type": "object"},
    "bottom_scale": {"type": "number"}, "top_scale": {"type": "number"}}}}
})";

}  // namespace ftwin
