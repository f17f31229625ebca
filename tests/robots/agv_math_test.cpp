// Differential-drive AGV kinematics against the closed-form circle, and its go-to-goal
// controller against its limits.
#include "robots/agv_math.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace ftwin {

TEST_CASE("AGV wheel speeds trace the analytic circle", "[robots]") {
  const AgvModel model;
  const double left = 4.0, right = 6.0, dt = 0.01;
  double v, w;
  AgvBodyVelocity(model, left, right, &v, &w);
  const double radius = v / w;  // = track/2 (right + left) / (right - left)
  CHECK(radius == Approx(0.5 * model.track_m * (right + left) / (right - left)));
  AgvPose pose;
  for (int k = 1; k <= 1000; ++k) {
    AgvStep(model, left, right, dt, &pose);
    const double t = k * dt, theta = w * t;
    // Start at the origin heading +x: centre at (0, R).
    CHECK(pose.x_m == Approx(radius * std::sin(theta)).margin(1e-12));
    CHECK(pose.y_m == Approx(radius * (1 - std::cos(theta))).margin(1e-12));
  }
  // Straight driving: equal wheels.
  AgvPose straight;
  AgvStep(model, 5.0, 5.0, 2.0, &straight);
  CHECK(straight.x_m == Approx(5.0 * model.wheel_radius_m * 2.0));
  CHECK(straight.y_m == 0.0);
}

TEST_CASE("The AGV reaches its goals within tolerance and wheel limits", "[robots]") {
  const AgvModel model;
  const double goals[][2] = {{3.0, 1.0}, {-2.0, 4.0}, {0.0, 0.0}, {5.0, -3.0}};
  AgvPose pose;
  for (const auto& goal : goals) {
    double left = 0, right = 0;
    bool reached = false;
    for (int k = 0; k < 20000 && !reached; ++k) {
      reached = AgvGoToGoal(model, pose, goal[0], goal[1], &left, &right);
      CHECK(std::abs(left) <= model.max_wheel_speed_rad_per_s * (1 + 1e-12));
      CHECK(std::abs(right) <= model.max_wheel_speed_rad_per_s * (1 + 1e-12));
      AgvStep(model, left, right, 0.01, &pose);
    }
    CHECK(reached);
    CHECK(std::hypot(pose.x_m - goal[0], pose.y_m - goal[1]) <= model.goal_tolerance_m);
  }
}

}  // namespace ftwin
