#include "robots/robot_model.h"

#include <tinyxml2.h>
#include <urdf_parser/urdf_parser.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

namespace ftwin {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

ArmPose PoseFromUrdf(const urdf::Pose& pose) {
  ArmPose out;
  const Eigen::Quaterniond rotation(pose.rotation.w, pose.rotation.x, pose.rotation.y,
                                    pose.rotation.z);
  out.R = rotation.normalized().toRotationMatrix();
  out.p = Eigen::Vector3d(pose.position.x, pose.position.y, pose.position.z);
  return out;
}

// The XML facts the validation pass needs, with line numbers.
struct XmlJoint {
  std::string name, type, parent, child;
  int line = 0;
};

double Attribute(const tinyxml2::XMLElement* element, const char* name, double fallback) {
  double value = fallback;
  if (element != nullptr) element->QueryDoubleAttribute(name, &value);
  return value;
}

std::string Text(const char* text) { return text == nullptr ? std::string() : std::string(text); }

std::string NumberText(double value) {
  std::ostringstream out;
  out.precision(10);
  out << value;
  return out.str();
}

// Resolves a URDF mesh reference to a file path.
std::filesystem::path ResolveMesh(const std::string& uri, const std::filesystem::path& urdf_dir,
                                  const UrdfImportOptions& options,
                                  std::vector<std::filesystem::path>* tried) {
  const std::string package = "package://", file = "file://";
  std::vector<std::filesystem::path> candidates;
  if (uri.rfind(package, 0) == 0) {
    const std::string rest = uri.substr(package.size());
    const size_t slash = rest.find('/');
    const std::string name = rest.substr(0, slash);
    const std::string inside = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
    for (const auto& dir : options.package_dirs) candidates.push_back(dir / name / inside);
    candidates.push_back(urdf_dir / name / inside);
    candidates.push_back(urdf_dir / inside);
  } else if (uri.rfind(file, 0) == 0) {
    candidates.push_back(uri.substr(file.size()));
  } else {
    const std::filesystem::path path(uri);
    candidates.push_back(path.is_absolute() ? path : urdf_dir / path);
  }
  for (const auto& candidate : candidates)
    if (std::filesystem::is_regular_file(candidate)) return candidate;
  *tried = candidates;
  return candidates.front();
}

// Validation pass: everything that would make the model wrong, reported with file:line.
void ValidateXml(const tinyxml2::XMLElement* robot, const std::string& file,
                 const std::filesystem::path& urdf_dir, const UrdfImportOptions& options,
                 Diagnostics* diagnostics, std::vector<std::string>* missing_meshes) {
  auto error = [&](int line, const std::string& key, const std::string& value,
                   const std::string& expected) {
    diagnostics->Add({file, line, 0}, key, value, expected);
  };
  std::map<std::string, int> link_lines;
  for (const auto* link = robot->FirstChildElement("link"); link != nullptr;
       link = link->NextSiblingElement("link")) {
    const std::string name = Text(link->Attribute("name"));
    const std::string key = "link[" + name + "]";
    if (name.empty()) error(link->GetLineNum(), "link", "", "expected a name attribute");
    if (!link_lines.emplace(name, link->GetLineNum()).second)
      error(link->GetLineNum(), key, name, "expected a unique link name");
    if (const auto* inertial = link->FirstChildElement("inertial")) {
      const auto* mass = inertial->FirstChildElement("mass");
      const double m = Attribute(mass, "value", 0.0);
      if (!(m >= 0.0) || !std::isfinite(m))
        error(mass ? mass->GetLineNum() : inertial->GetLineNum(), key + ".inertial.mass",
              NumberText(m), "expected a mass >= 0 kg");
      const auto* inertia = inertial->FirstChildElement("inertia");
      Eigen::Matrix3d I;
      I << Attribute(inertia, "ixx", 0), Attribute(inertia, "ixy", 0), Attribute(inertia, "ixz", 0),
          Attribute(inertia, "ixy", 0), Attribute(inertia, "iyy", 0), Attribute(inertia, "iyz", 0),
          Attribute(inertia, "ixz", 0), Attribute(inertia, "iyz", 0), Attribute(inertia, "izz", 0);
      if (m > 0.0) {
        const Eigen::Vector3d eigen =
            Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d>(I).eigenvalues();
        // A physical inertia is positive definite and its principal moments obey the triangle
        // inequality (each <= the sum of the other two).
        const bool triangle = eigen(2) <= eigen(0) + eigen(1) + 1e-9 * eigen(2);
        if (!(eigen(0) > 0.0) || !triangle)
          error(inertia ? inertia->GetLineNum() : inertial->GetLineNum(), key + ".inertial.inertia",
                "principal moments " + NumberText(eigen(0)) + ", " + NumberText(eigen(1)) + ", " +
                    NumberText(eigen(2)),
                "expected a positive definite inertia tensor whose principal moments satisfy "
                "the triangle inequality");
      }
    }
    for (const char* kind : {"collision", "visual"}) {
      for (const auto* element = link->FirstChildElement(kind); element != nullptr;
           element = element->NextSiblingElement(kind)) {
        const auto* geometry = element->FirstChildElement("geometry");
        const auto* mesh = geometry ? geometry->FirstChildElement("mesh") : nullptr;
        if (mesh == nullptr) continue;
        const std::string uri = Text(mesh->Attribute("filename"));
        std::vector<std::filesystem::path> tried;
        const auto path = ResolveMesh(uri, urdf_dir, options, &tried);
        const std::string mesh_key = key + "." + kind + ".geometry.mesh";
        if (const char* scale = mesh->Attribute("scale")) {
          std::istringstream in(scale);
          double value[3];
          bool good = static_cast<bool>(in >> value[0] >> value[1] >> value[2]);
          std::string rest;
          good = good && !(in >> rest);
          for (int k = 0; k < 3 && good; ++k) good = std::isfinite(value[k]) && value[k] > 0.0;
          if (!good)
            error(mesh->GetLineNum(), mesh_key + ".scale", scale,
                  "expected three positive scale factors \"sx sy sz\"");
        }
        if (tried.empty() && std::string(kind) == "collision") {
          // Collision meshes are loaded: a corrupt file is an error at this line, with the
          // reader's own file:line (or byte offset) diagnostics after it.
          Diagnostics mesh_diagnostics;
          const std::optional<TriangleMesh> loaded = LoadTriangleMesh(path, &mesh_diagnostics);
          if (!loaded || loaded->indices.empty()) {
            error(mesh->GetLineNum(), mesh_key + ".filename", uri,
                  "expected a readable STL or OBJ collision mesh with triangles (" + path.string() +
                      ")");
            diagnostics->Append(mesh_diagnostics);
          }
        }
        if (!tried.empty()) {
          if (options.allow_missing_meshes) {
            missing_meshes->push_back(uri);
          } else {
            std::string list;
            for (const auto& candidate : tried)
              list += (list.empty() ? "" : ", ") + candidate.string();
            error(mesh->GetLineNum(), key + "." + kind + ".geometry.mesh.filename", uri,
                  "expected an existing mesh file (looked for " + list + ")");
          }
        }
        (void)path;
      }
    }
  }
  std::vector<XmlJoint> joints;
  std::set<std::string> joint_names;
  std::map<std::string, std::string> parent_of;  // child link -> parent link
  for (const auto* joint = robot->FirstChildElement("joint"); joint != nullptr;
       joint = joint->NextSiblingElement("joint")) {
    XmlJoint entry;
    entry.name = Text(joint->Attribute("name"));
    entry.type = Text(joint->Attribute("type"));
    entry.line = joint->GetLineNum();
    const std::string key = "joint[" + entry.name + "]";
    if (!joint_names.insert(entry.name).second)
      error(entry.line, key, entry.name, "expected a unique joint name");
    static const std::set<std::string> kSupported = {"revolute", "continuous", "prismatic",
                                                     "fixed"};
    if (kSupported.count(entry.type) == 0)
      error(entry.line, key + ".type", entry.type,
            "expected one of revolute, continuous, prismatic, fixed");
    const auto* parent = joint->FirstChildElement("parent");
    const auto* child = joint->FirstChildElement("child");
    entry.parent = parent ? Text(parent->Attribute("link")) : "";
    entry.child = child ? Text(child->Attribute("link")) : "";
    if (link_lines.count(entry.parent) == 0)
      error(parent ? parent->GetLineNum() : entry.line, key + ".parent", entry.parent,
            "expected the name of a link of this robot");
    if (link_lines.count(entry.child) == 0)
      error(child ? child->GetLineNum() : entry.line, key + ".child", entry.child,
            "expected the name of a link of this robot");
    if (!parent_of.emplace(entry.child, entry.parent).second)
      error(entry.line, key + ".child", entry.child,
            "expected each link to be the child of one joint only (a kinematic tree)");
    if (entry.type == "revolute" || entry.type == "prismatic") {
      if (const auto* limit = joint->FirstChildElement("limit")) {
        const double lower = Attribute(limit, "lower", 0), upper = Attribute(limit, "upper", 0);
        if (lower > upper)
          error(limit->GetLineNum(), key + ".limit",
                "lower " + NumberText(lower) + " > upper " + NumberText(upper),
                "expected lower <= upper");
        if (Attribute(limit, "velocity", 0) < 0 || Attribute(limit, "effort", 0) < 0)
          error(limit->GetLineNum(), key + ".limit", "", "expected velocity and effort >= 0");
      }
    }
    joints.push_back(entry);
  }
  // Cycles: following parents from any link must end at a root.
  for (const auto& [link, line] : link_lines) {
    std::set<std::string> seen{link};
    std::string current = link;
    while (parent_of.count(current) != 0) {
      current = parent_of[current];
      if (!seen.insert(current).second) {
        error(line, "link[" + link + "]", link,
              "expected a kinematic tree, but the joints form a cycle through '" + current + "'");
        break;
      }
    }
  }
  int roots = 0;
  std::string root_names;
  for (const auto& [link, line] : link_lines)
    if (parent_of.count(link) == 0) {
      ++roots;
      root_names += (root_names.empty() ? "" : ", ") + link;
    }
  if (diagnostics->ok() && roots != 1)
    error(robot->GetLineNum(), "robot", root_names.empty() ? "no root link" : root_names,
          "expected exactly one root link (every other link the child of a joint)");
  if (link_lines.empty()) error(robot->GetLineNum(), "robot", "", "expected at least one link");
}

}  // namespace

int RobotModel::FindLink(const std::string& name) const {
  for (size_t i = 0; i < links_.size(); ++i)
    if (links_[i].name == name) return static_cast<int>(i);
  return -1;
}

int RobotModel::FindJoint(const std::string& name) const {
  for (size_t i = 0; i < joints_.size(); ++i)
    if (joints_[i].name == name) return static_cast<int>(i);
  return -1;
}

double RobotModel::moving_mass_kg() const {
  double total = 0;
  for (int i = 0; i < arm_.dof; ++i) total += arm_.mass_kg[i];
  return total;
}

RobotModel RobotModel::FromUrdfFile(const std::filesystem::path& file,
                                    const UrdfImportOptions& options) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    Diagnostics diagnostics;
    diagnostics.Add({file.string(), 0, 0}, "urdf", file.string(), "expected a readable URDF file");
    throw InputError(diagnostics);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return FromUrdfText(text.str(), file, options);
}

RobotModel RobotModel::FromUrdfText(const std::string& text, const std::filesystem::path& file,
                                    const UrdfImportOptions& options) {
  Diagnostics diagnostics;
  const std::string file_name = file.string();
  tinyxml2::XMLDocument document;
  if (document.Parse(text.c_str(), text.size()) != tinyxml2::XML_SUCCESS) {
    diagnostics.Add({file_name, document.ErrorLineNum(), 0}, "urdf", document.ErrorStr(),
                    "expected well-formed XML");
    throw InputError(diagnostics);
  }
  const auto* robot = document.FirstChildElement("robot");
  if (robot == nullptr) {
    diagnostics.Add({file_name, 1, 0}, "urdf", "", "expected a <robot> root element");
    throw InputError(diagnostics);
  }
  RobotModel model;
  ValidateXml(robot, file_name, file.parent_path(), options, &diagnostics, &model.missing_meshes_);
  if (!diagnostics.ok()) throw InputError(diagnostics);

  // liburdfdom insists on <limit> for revolute and prismatic joints; URDFs without one (the
  // iiwa benchmark model) mean "unlimited", so a neutral element is added for the parser.
  std::set<std::string> unlimited;
  for (auto* joint = document.FirstChildElement("robot")->FirstChildElement("joint");
       joint != nullptr; joint = joint->NextSiblingElement("joint")) {
    const std::string type = Text(joint->Attribute("type"));
    if ((type == "revolute" || type == "prismatic") &&
        joint->FirstChildElement("limit") == nullptr) {
      unlimited.insert(Text(joint->Attribute("name")));
      auto* limit = document.NewElement("limit");
      for (const char* attribute : {"lower", "upper", "effort", "velocity"})
        limit->SetAttribute(attribute, 0.0);
      joint->InsertEndChild(limit);
    }
  }
  tinyxml2::XMLPrinter printer;
  document.Print(&printer);
  const urdf::ModelInterfaceSharedPtr parsed = urdf::parseURDF(printer.CStr());
  if (!parsed) {
    diagnostics.Add({file_name, 0, 0}, "urdf", "", "liburdfdom could not build the model");
    throw InputError(diagnostics);
  }
  model.name_ = parsed->getName();
  // Links and joints in document order (stable indices).
  for (const auto* link = robot->FirstChildElement("link"); link != nullptr;
       link = link->NextSiblingElement("link")) {
    const auto& source = parsed->links_.at(link->Attribute("name"));
    RobotLink entry;
    entry.name = source->name;
    if (source->inertial) {
      const ArmPose frame = PoseFromUrdf(source->inertial->origin);
      const auto& in = *source->inertial;
      Eigen::Matrix3d I;
      I << in.ixx, in.ixy, in.ixz, in.ixy, in.iyy, in.iyz, in.ixz, in.iyz, in.izz;
      entry.mass_kg = in.mass;
      entry.com = frame.p;
      entry.inertia = frame.R * I * frame.R.transpose();
    }
    for (const auto& collision : source->collision_array) {
      if (!collision || !collision->geometry) continue;
      RobotGeometry geometry;
      geometry.origin = PoseFromUrdf(collision->origin);
      switch (collision->geometry->type) {
        case urdf::Geometry::BOX: {
          const auto& box = static_cast<const urdf::Box&>(*collision->geometry);
          geometry.type = RobotGeometryType::kBox;
          geometry.size = {box.dim.x, box.dim.y, box.dim.z};
          break;
        }
        case urdf::Geometry::CYLINDER: {
          const auto& cylinder = static_cast<const urdf::Cylinder&>(*collision->geometry);
          geometry.type = RobotGeometryType::kCylinder;
          geometry.radius_m = cylinder.radius;
          geometry.length_m = cylinder.length;
          break;
        }
        case urdf::Geometry::SPHERE:
          geometry.type = RobotGeometryType::kSphere;
          geometry.radius_m = static_cast<const urdf::Sphere&>(*collision->geometry).radius;
          break;
        case urdf::Geometry::MESH: {
          const auto& mesh = static_cast<const urdf::Mesh&>(*collision->geometry);
          std::vector<std::filesystem::path> tried;
          geometry.type = RobotGeometryType::kMesh;
          geometry.mesh_file = ResolveMesh(mesh.filename, file.parent_path(), options, &tried);
          geometry.mesh_scale = {mesh.scale.x, mesh.scale.y, mesh.scale.z};
          if (!tried.empty()) continue;  // allowed missing mesh: no geometry
          Diagnostics mesh_diagnostics;  // validated above: this load succeeds
          std::optional<TriangleMesh> loaded =
              LoadTriangleMesh(geometry.mesh_file, &mesh_diagnostics);
          if (!loaded) {
            diagnostics.Append(mesh_diagnostics);
            continue;
          }
          for (size_t v = 0; v < loaded->vertices_xyz.size(); ++v)
            loaded->vertices_xyz[v] *= geometry.mesh_scale(static_cast<int>(v % 3));
          geometry.mesh = std::make_shared<const TriangleMesh>(std::move(*loaded));
          break;
        }
      }
      entry.collision.push_back(geometry);
    }
    for (const RobotGeometry& geometry : entry.collision) {
      const ArmPose& X = geometry.origin;
      auto extend_box = [&](const Eigen::Vector3d& half) {
        for (int corner = 0; corner < 8; ++corner) {
          const Eigen::Vector3d local((corner & 1) ? half.x() : -half.x(),
                                      (corner & 2) ? half.y() : -half.y(),
                                      (corner & 4) ? half.z() : -half.z());
          entry.collision_bounds.extend(X.Apply(local));
        }
      };
      switch (geometry.type) {
        case RobotGeometryType::kBox:
          extend_box(0.5 * geometry.size);
          break;
        case RobotGeometryType::kCylinder:
          extend_box(
              Eigen::Vector3d(geometry.radius_m, geometry.radius_m, 0.5 * geometry.length_m));
          break;
        case RobotGeometryType::kSphere:
          entry.collision_bounds.extend(X.p - Eigen::Vector3d::Constant(geometry.radius_m));
          entry.collision_bounds.extend(X.p + Eigen::Vector3d::Constant(geometry.radius_m));
          break;
        case RobotGeometryType::kMesh:
          if (!geometry.mesh) break;
          entry.collision_triangles += static_cast<int64_t>(geometry.mesh->indices.size() / 3);
          for (size_t v = 0; v + 2 < geometry.mesh->vertices_xyz.size(); v += 3)
            entry.collision_bounds.extend(X.Apply(
                Eigen::Vector3d(geometry.mesh->vertices_xyz[v], geometry.mesh->vertices_xyz[v + 1],
                                geometry.mesh->vertices_xyz[v + 2])));
          break;
      }
    }
    model.links_.push_back(std::move(entry));
  }
  for (const auto* joint = robot->FirstChildElement("joint"); joint != nullptr;
       joint = joint->NextSiblingElement("joint")) {
    const auto& source = parsed->joints_.at(joint->Attribute("name"));
    RobotJoint entry;
    entry.name = source->name;
    switch (source->type) {
      case urdf::Joint::REVOLUTE:
        entry.type = RobotJointType::kRevolute;
        break;
      case urdf::Joint::CONTINUOUS:
        entry.type = RobotJointType::kContinuous;
        break;
      case urdf::Joint::PRISMATIC:
        entry.type = RobotJointType::kPrismatic;
        break;
      default:
        entry.type = RobotJointType::kFixed;
        break;
    }
    entry.parent_link = model.FindLink(source->parent_link_name);
    entry.child_link = model.FindLink(source->child_link_name);
    entry.origin = PoseFromUrdf(source->parent_to_joint_origin_transform);
    entry.axis = Eigen::Vector3d(source->axis.x, source->axis.y, source->axis.z);
    if (entry.type != RobotJointType::kFixed && !(entry.axis.norm() > 0)) {
      diagnostics.Add({file_name, joint->GetLineNum(), 0}, "joint[" + entry.name + "].axis",
                      "0 0 0", "expected a non-zero joint axis");
    } else if (entry.type != RobotJointType::kFixed) {
      entry.axis.normalize();
    }
    entry.lower = -kInf;
    entry.upper = kInf;
    entry.max_velocity = kInf;
    entry.max_effort = kInf;
    if (source->limits && entry.type != RobotJointType::kFixed &&
        unlimited.count(entry.name) == 0) {
      if (entry.type != RobotJointType::kContinuous) {
        entry.lower = source->limits->lower;
        entry.upper = source->limits->upper;
        entry.has_limits = true;
      }
      // URDF writes 0 where a value is unknown (the KUKA file has effort="0").
      if (source->limits->velocity > 0) entry.max_velocity = source->limits->velocity;
      if (source->limits->effort > 0) entry.max_effort = source->limits->effort;
    }
    if (source->dynamics) {
      entry.damping = source->dynamics->damping;
      entry.friction = source->dynamics->friction;
    }
    model.links_[static_cast<size_t>(entry.child_link)].parent_joint =
        static_cast<int>(model.joints_.size());
    model.joints_.push_back(entry);
  }
  for (size_t i = 0; i < model.links_.size(); ++i)
    if (model.links_[i].parent_joint < 0) model.root_link_ = static_cast<int>(i);
  model.BuildArm(options, &diagnostics, file_name);
  if (!diagnostics.ok()) throw InputError(diagnostics);
  return model;
}

void AddArmPayload(ArmModel* model, int body, double mass_kg, const Eigen::Vector3d& com,
                   const Eigen::Matrix3d& inertia) {
  if (mass_kg <= 0) return;
  const double m1 = model->mass_kg[body], m = m1 + mass_kg;
  const Eigen::Vector3d c = (m1 * model->com[body] + mass_kg * com) / m;
  auto shift = [](double mass, const Eigen::Vector3d& d) {
    return mass * (d.squaredNorm() * Eigen::Matrix3d::Identity() - d * d.transpose());
  };
  model->inertia[body] =
      model->inertia[body] + shift(m1, model->com[body] - c) + inertia + shift(mass_kg, com - c);
  model->com[body] = c;
  model->mass_kg[body] = m;
}

void RobotModel::BuildArm(const UrdfImportOptions& options, Diagnostics* diagnostics,
                          const std::string& file) {
  link_body_.assign(links_.size(), -1);
  link_in_body_.assign(links_.size(), ArmPose{});
  arm_ = ArmModel{};
  for (int i = 0; i < kArmMaxDof; ++i) {
    arm_.tree_R[i].setIdentity();
    arm_.tree_p[i].setZero();
    arm_.axis[i] = Eigen::Vector3d::UnitZ();
    arm_.com[i].setZero();
    arm_.inertia[i].setZero();
  }
  int depth_best = -1, deepest = root_link_;
  // Depth-first from the root in document order of joints: parents before children.
  std::function<void(int, int)> visit = [&](int link, int depth) {
    if (depth > depth_best) depth_best = depth, deepest = link;
    for (size_t j = 0; j < joints_.size(); ++j) {
      const RobotJoint& joint = joints_[j];
      if (joint.parent_link != link) continue;
      const int parent_body = link_body_[static_cast<size_t>(link)];
      const ArmPose at_joint = link_in_body_[static_cast<size_t>(link)] * joint.origin;
      const size_t child = static_cast<size_t>(joint.child_link);
      if (joint.type == RobotJointType::kFixed) {
        link_body_[child] = parent_body;
        link_in_body_[child] = at_joint;
      } else {
        if (arm_.dof >= kArmMaxDof) {
          diagnostics->Add({file, 0, 0}, "joint[" + joint.name + "]", "",
                           "expected at most " + std::to_string(kArmMaxDof) + " moving joints");
          return;
        }
        const int b = arm_.dof++;
        arm_joints_.push_back(static_cast<int>(j));
        arm_.parent[b] = parent_body;
        arm_.type[b] = joint.type == RobotJointType::kPrismatic ? ArmJointType::kPrismatic
                                                                : ArmJointType::kRevolute;
        arm_.tree_R[b] = at_joint.R;
        arm_.tree_p[b] = at_joint.p;
        arm_.axis[b] = joint.axis;
        arm_.lower[b] = joint.lower;
        arm_.upper[b] = joint.upper;
        arm_.max_velocity[b] = joint.max_velocity;
        arm_.max_effort[b] = joint.max_effort;
        arm_.viscous[b] = joint.damping;
        arm_.coulomb[b] = joint.friction;
        link_body_[child] = b;
        link_in_body_[child] = ArmPose{};
      }
      visit(joint.child_link, depth + 1);
    }
  };
  visit(root_link_, 0);
  // Inertias of every link into its body.
  for (size_t l = 0; l < links_.size(); ++l) {
    const int body = link_body_[l];
    if (body < 0 || links_[l].mass_kg <= 0) continue;
    const ArmPose& pose = link_in_body_[l];
    AddArmPayload(&arm_, body, links_[l].mass_kg, pose.Apply(links_[l].com),
                  pose.R * links_[l].inertia * pose.R.transpose());
  }
  for (int b = 0; b < arm_.dof; ++b)
    if (!(arm_.mass_kg[b] > 0))
      diagnostics->Add({file, 0, 0},
                       "joint[" + joints_[static_cast<size_t>(arm_joints_[b])].name + "]", "",
                       "expected the moving body to have a positive mass");
  int tool = -1;
  if (!options.tool_link.empty()) {
    tool = FindLink(options.tool_link);
    if (tool < 0)
      diagnostics->Add({file, 0, 0}, "tool_link", options.tool_link,
                       "expected the name of a link of this robot");
  } else {
    tool = FindLink("tool0");
    if (tool < 0) tool = deepest;
  }
  if (tool >= 0 && arm_.dof > 0) {
    arm_.tool_body = link_body_[static_cast<size_t>(tool)];
    arm_.tool = link_in_body_[static_cast<size_t>(tool)];
    if (arm_.tool_body < 0)
      diagnostics->Add({file, 0, 0}, "tool_link", links_[static_cast<size_t>(tool)].name,
                       "expected a link moved by at least one joint");
  }
  if (arm_.dof == 0) diagnostics->Add({file, 0, 0}, "robot", name_, "expected a moving joint");
}

}  // namespace ftwin
