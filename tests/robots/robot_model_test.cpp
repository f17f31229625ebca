// URDF import: the shipped arms load with their published numbers; bad URDFs are rejected with
// errors that name the file, line and element.
#include "robots/robot_model.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

namespace ftwin {
namespace {

const std::filesystem::path kShared = std::filesystem::path(FTWIN_SHARED_DIR) / "data/robots";
const std::filesystem::path kData = FTWIN_ROBOTS_DATA_DIR;

// The error text of importing `urdf` (empty when it imports).
std::string ImportError(const std::string& urdf, const UrdfImportOptions& options = {}) {
  try {
    RobotModel::FromUrdfText(urdf, "/tmp/bad.urdf", options);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

const char* kLink =
    R"(<link name="%s"><inertial><mass value="1"/><inertia ixx="0.1" ixy="0" ixz="0" iyy="0.1" iyz="0" izz="0.1"/></inertial></link>)";

std::string Link(const std::string& name) {
  std::string text = kLink;
  text.replace(text.find("%s"), 2, name);
  return text;
}

std::string Joint(const std::string& name, const std::string& type, const std::string& parent,
                  const std::string& child) {
  return "<joint name=\"" + name + "\" type=\"" + type + "\"><parent link=\"" + parent +
         "\"/><child link=\"" + child +
         "\"/><axis xyz=\"0 0 1\"/><limit lower=\"-1\" upper=\"1\" velocity=\"1\" "
         "effort=\"1\"/></joint>\n";
}

}  // namespace

TEST_CASE("The shipped URDFs import with their published joints and masses", "[robots]") {
  UrdfImportOptions options;
  options.allow_missing_meshes = true;
  const RobotModel kr210 = RobotModel::FromUrdfFile(kShared / "kr210l150.urdf", options);
  CHECK(kr210.name() == "kuka_kr210");
  CHECK(kr210.arm().dof == 6);
  CHECK(kr210.links().size() == 9);
  CHECK(kr210.missing_meshes().size() == 14);  // 7 visual + 7 collision meshes not shipped
  // Moving mass = sum of link_1..link_6 inertials in the URDF.
  CHECK(kr210.moving_mass_kg() == Approx(1385.5 + 958.62 + 710.03 + 173.73 + 72.17 + 6.3154));
  CHECK(kr210.arm().upper[1] == Approx(1.483529905));
  CHECK(kr210.arm().max_velocity[5] == Approx(3.822271167));
  CHECK(std::isinf(kr210.arm().max_effort[0]));  // effort="0" means unknown

  const RobotModel ur5e = RobotModel::FromUrdfFile(kData / "ur5e.urdf");
  CHECK(ur5e.arm().dof == 6);
  CHECK(ur5e.moving_mass_kg() == Approx(3.761 + 8.058 + 2.846 + 1.37 + 1.3 + 0.365));
  CHECK(ur5e.arm().max_effort[0] == 150.0);
  CHECK(ur5e.arm().max_effort[3] == 28.0);
  REQUIRE(ur5e.links()[static_cast<size_t>(ur5e.FindLink("base_link_inertia"))].collision.size() ==
          1);

  const RobotModel panda = RobotModel::FromUrdfFile(kShared / "panda.urdf", options);
  CHECK(panda.arm().dof == 9);  // 7 arm joints + 2 prismatic fingers
  CHECK(panda.arm().type[8] == ArmJointType::kPrismatic);
  // The iiwa file has no <limit>: joints import as unlimited.
  const RobotModel iiwa = RobotModel::FromUrdfFile(kShared / "kuka_iiwa_robot.urdf", options);
  CHECK(iiwa.arm().dof == 7);
  CHECK(std::isinf(iiwa.arm().upper[0]));
}

TEST_CASE("A URDF with mesh references fails unless missing meshes are allowed", "[robots]") {
  const std::string error = ImportError("");
  CHECK(error.find("well-formed XML") != std::string::npos);
  try {
    RobotModel::FromUrdfFile(kShared / "ur5_robot.urdf");
    FAIL("missing meshes were accepted");
  } catch (const InputError& e) {
    const std::string text = e.what();
    CHECK(text.find("ur5_robot.urdf:") != std::string::npos);
    CHECK(text.find(
              "package://example-robot-data/robots/ur_description/meshes/ur5/collision/base.stl") !=
          std::string::npos);
    CHECK(text.find("expected an existing mesh file") != std::string::npos);
  }
}

TEST_CASE("Bad URDFs are rejected with file, line and reason", "[robots]") {
  const std::string head = "<robot name=\"bad\">\n";
  SECTION("missing parent link") {
    const std::string text = ImportError(head + Link("a") + "\n" + Link("b") + "\n" +
                                         Joint("j", "revolute", "nowhere", "b") + "</robot>");
    CHECK(text.find("/tmp/bad.urdf:4") != std::string::npos);
    CHECK(text.find("joint[j].parent") != std::string::npos);
    CHECK(text.find("nowhere") != std::string::npos);
  }
  SECTION("cycle") {
    const std::string text = ImportError(
        head + Link("a") + Link("b") + Link("c") + "\n" + Joint("j1", "revolute", "a", "b") +
        Joint("j2", "revolute", "b", "c") + Joint("j3", "revolute", "c", "a") + "</robot>");
    CHECK(text.find("cycle") != std::string::npos);
  }
  SECTION("negative mass") {
    const std::string text =
        ImportError(head + Link("a") +
                    "\n<link name=\"b\"><inertial><mass value=\"-2\"/><inertia ixx=\"1\" iyy=\"1\" "
                    "izz=\"1\" ixy=\"0\" ixz=\"0\" iyz=\"0\"/></inertial></link>\n" +
                    Joint("j", "revolute", "a", "b") + "</robot>");
    CHECK(text.find("/tmp/bad.urdf:3") != std::string::npos);
    CHECK(text.find("link[b].inertial.mass") != std::string::npos);
    CHECK(text.find("-2") != std::string::npos);
  }
  SECTION("inertia not positive definite") {
    const std::string text =
        ImportError(head + Link("a") +
                    "\n<link name=\"b\"><inertial><mass value=\"2\"/>\n<inertia ixx=\"1\" "
                    "iyy=\"1\" izz=\"1\" ixy=\"2\" ixz=\"0\" iyz=\"0\"/></inertial></link>\n" +
                    Joint("j", "revolute", "a", "b") + "</robot>");
    CHECK(text.find("/tmp/bad.urdf:4") != std::string::npos);
    CHECK(text.find("positive definite") != std::string::npos);
  }
  SECTION("principal moments violating the triangle inequality") {
    const std::string text =
        ImportError(head + Link("a") +
                    "<link name=\"b\"><inertial><mass value=\"2\"/><inertia ixx=\"1\" iyy=\"1\" "
                    "izz=\"5\" ixy=\"0\" ixz=\"0\" iyz=\"0\"/></inertial></link>" +
                    Joint("j", "revolute", "a", "b") + "</robot>");
    CHECK(text.find("triangle inequality") != std::string::npos);
  }
  SECTION("unknown joint type") {
    const std::string text = ImportError(head + Link("a") + Link("b") + "\n\n" +
                                         Joint("j", "hinge", "a", "b") + "</robot>");
    CHECK(text.find("/tmp/bad.urdf:4") != std::string::npos);
    CHECK(text.find("joint[j].type") != std::string::npos);
    CHECK(text.find("hinge") != std::string::npos);
  }
  SECTION("missing mesh file") {
    const std::string text =
        ImportError(head +
                    "<link name=\"a\"><collision><geometry><mesh "
                    "filename=\"meshes/nothing.stl\"/></geometry></collision></link>" +
                    Link("b") + Joint("j", "revolute", "a", "b") + "</robot>");
    CHECK(text.find("/tmp/meshes/nothing.stl") != std::string::npos);
  }
  SECTION("a valid two-link robot imports") {
    CHECK(ImportError(head + Link("a") + Link("b") + Joint("j", "revolute", "a", "b") +
                      "</robot>") == "");
  }
}

}  // namespace ftwin
