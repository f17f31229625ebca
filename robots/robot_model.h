// Robot models imported from URDF: the immutable description of an arm (links, joints,
// limits, inertias, collision geometry) and its flat ArmModel for the kinematics and dynamics
// math (robots/arm_math.h).
//
// Import runs in two passes: a validation pass over the XML (tinyxml2, so every error carries
// the file and line) and the model pass through liburdfdom. Rejected: missing parent/child
// links, cycles and several roots, negative masses, inertia tensors that are not positive
// definite, unknown joint types, mesh files that do not exist (unless allowed).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/sensors/mesh_file.h"
#include "robots/arm_math.h"

namespace ftwin {

enum class RobotGeometryType { kBox, kCylinder, kSphere, kMesh };

/// One collision primitive of a link, in the link frame.
struct RobotGeometry {
  RobotGeometryType type = RobotGeometryType::kBox;
  ArmPose origin;
  Eigen::Vector3d size = Eigen::Vector3d::Zero();  ///< box edges [m]
  double radius_m = 0, length_m = 0;               ///< cylinder / sphere
  std::filesystem::path mesh_file;                 ///< resolved path (may be missing if allowed)
  Eigen::Vector3d mesh_scale = Eigen::Vector3d::Ones();
  /// Collision mesh contents (kMesh): vertices already scaled by mesh_scale, in the geometry
  /// frame (apply `origin` for the link frame). Shared: copies of a model share the mesh.
  std::shared_ptr<const TriangleMesh> mesh;
};

struct RobotLink {
  std::string name;
  double mass_kg = 0;
  Eigen::Vector3d com = Eigen::Vector3d::Zero();      ///< in the link frame [m]
  Eigen::Matrix3d inertia = Eigen::Matrix3d::Zero();  ///< about the COM, link axes [kg m^2]
  std::vector<RobotGeometry> collision;
  int parent_joint = -1;  ///< -1 for the root
  /// Triangles of the link's collision meshes (primitives count none).
  int64_t collision_triangles = 0;
  /// Axis-aligned box around all collision geometry in the link frame [m]: exact for meshes
  /// (their transformed vertices) and spheres, the transformed corners of the local box for
  /// boxes and cylinders. Empty when the link has no collision geometry.
  Eigen::AlignedBox3d collision_bounds;
};

enum class RobotJointType { kRevolute, kContinuous, kPrismatic, kFixed };

struct RobotJoint {
  std::string name;
  RobotJointType type = RobotJointType::kFixed;
  int parent_link = -1, child_link = -1;
  ArmPose origin;  ///< child link frame in the parent link frame at q = 0
  Eigen::Vector3d axis = Eigen::Vector3d::UnitX();
  double lower = 0, upper = 0, max_velocity = 0, max_effort = 0;
  bool has_limits = false;
  double damping = 0, friction = 0;  ///< URDF <dynamics>
};

struct UrdfImportOptions {
  /// Accept mesh files that do not exist (the shared URDFs ship without meshes); they are
  /// listed in RobotModel::missing_meshes and carry no geometry.
  bool allow_missing_meshes = false;
  /// Directories searched for "package://<name>/..." (the package's own folder is looked up as
  /// <dir>/<name>); the URDF's directory is always searched.
  std::vector<std::filesystem::path> package_dirs;
  /// Link whose frame is the tool (TCP); empty: "tool0" if present, else the deepest link.
  std::string tool_link;
};

class RobotModel {
 public:
  const std::string& name() const { return name_; }
  const std::vector<RobotLink>& links() const { return links_; }
  const std::vector<RobotJoint>& joints() const { return joints_; }
  int root_link() const { return root_link_; }
  int FindLink(const std::string& name) const;
  int FindJoint(const std::string& name) const;
  const std::vector<std::string>& missing_meshes() const { return missing_meshes_; }

  /// The flat model for the math: moving joints in topological order (fixed links merged).
  const ArmModel& arm() const { return arm_; }
  /// URDF joint index of arm body i.
  const std::vector<int>& arm_joints() const { return arm_joints_; }
  /// For every link: the arm body it is rigidly attached to (-1: the base) and its pose there.
  const std::vector<int>& link_body() const { return link_body_; }
  const std::vector<ArmPose>& link_in_body() const { return link_in_body_; }
  /// Total mass of the moving bodies [kg].
  double moving_mass_kg() const;

  /// Imports a URDF document. Throws InputError listing every problem found.
  static RobotModel FromUrdfFile(const std::filesystem::path& file,
                                 const UrdfImportOptions& options = {});
  /// Same from text; `file` names the source in messages and resolves relative mesh paths.
  static RobotModel FromUrdfText(const std::string& text, const std::filesystem::path& file,
                                 const UrdfImportOptions& options = {});

 private:
  void BuildArm(const UrdfImportOptions& options, Diagnostics* diagnostics,
                const std::string& file);
  std::string name_;
  std::vector<RobotLink> links_;
  std::vector<RobotJoint> joints_;
  int root_link_ = -1;
  std::vector<std::string> missing_meshes_;
  ArmModel arm_;
  std::vector<int> arm_joints_, link_body_;
  std::vector<ArmPose> link_in_body_;
};

/// Adds a rigid payload (a tool, a part) to body `body` of `model`: mass at `com` (body frame)
/// with inertia `inertia` about its own COM (body axes). Combines by the parallel-axis theorem.
void AddArmPayload(ArmModel* model, int body, double mass_kg, const Eigen::Vector3d& com,
                   const Eigen::Matrix3d& inertia);

}  // namespace ftwin
