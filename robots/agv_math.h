// A differential-drive AGV (host-device): exact pose integration for wheel speeds held over a
// step (the path is a circular arc or a line) and a go-to-goal controller with wheel-speed
// saturation that keeps the commanded curvature.
#pragma once

#include <cmath>

#include "gpu/host_device.h"

namespace ftwin {

struct AgvModel {
  double wheel_radius_m = 0.1;
  double track_m = 0.6;  ///< distance between the drive wheels
  double max_wheel_speed_rad_per_s = 15.0;
  double goal_tolerance_m = 0.01;
  double heading_gain_per_s = 2.0;   ///< turn rate per radian of heading error
  double approach_gain_per_s = 0.8;  ///< forward speed per metre of distance
};

struct AgvPose {
  double x_m = 0, y_m = 0, heading_rad = 0;
};

/// Body velocities from wheel speeds: forward speed [m/s] and turn rate [rad/s].
FTWIN_HD inline void AgvBodyVelocity(const AgvModel& model, double left_rad_per_s,
                                     double right_rad_per_s, double* v, double* w) {
  *v = 0.5 * model.wheel_radius_m * (left_rad_per_s + right_rad_per_s);
  *w = model.wheel_radius_m * (right_rad_per_s - left_rad_per_s) / model.track_m;
}

/// Advances the pose by dt with constant wheel speeds (exact: an arc, or a line).
FTWIN_HD inline void AgvStep(const AgvModel& model, double left_rad_per_s, double right_rad_per_s,
                             double dt, AgvPose* pose) {
  double v, w;
  AgvBodyVelocity(model, left_rad_per_s, right_rad_per_s, &v, &w);
  const double theta = pose->heading_rad, turn = w * dt;
  if (fabs(turn) < 1e-9) {
    // Second-order expansion of the arc for tiny turns (avoids v/w cancellation).
    pose->x_m += v * dt * (cos(theta) - 0.5 * turn * sin(theta));
    pose->y_m += v * dt * (sin(theta) + 0.5 * turn * cos(theta));
  } else {
    pose->x_m += v / w * (sin(theta + turn) - sin(theta));
    pose->y_m -= v / w * (cos(theta + turn) - cos(theta));
  }
  pose->heading_rad = remainder(theta + turn, 2.0 * 3.14159265358979323846);
}

/// Wheel speeds that drive towards (goal_x, goal_y); returns true when within tolerance
/// (wheels then zero). Turning on the spot first when the goal is behind.
FTWIN_HD inline bool AgvGoToGoal(const AgvModel& model, const AgvPose& pose, double goal_x,
                                 double goal_y, double* left_rad_per_s, double* right_rad_per_s) {
  const double dx = goal_x - pose.x_m, dy = goal_y - pose.y_m;
  const double distance = sqrt(dx * dx + dy * dy);
  if (distance <= model.goal_tolerance_m) {
    *left_rad_per_s = *right_rad_per_s = 0.0;
    return true;
  }
  const double error = remainder(atan2(dy, dx) - pose.heading_rad, 2.0 * 3.14159265358979323846);
  const double v = fabs(error) > 1.2 ? 0.0 : model.approach_gain_per_s * distance * cos(error);
  const double w = model.heading_gain_per_s * error;
  double right = (v + 0.5 * w * model.track_m) / model.wheel_radius_m;
  double left = (v - 0.5 * w * model.track_m) / model.wheel_radius_m;
  // Scale both wheels together: the curvature (the path shape) is kept.
  const double largest = fmax(fabs(left), fabs(right));
  if (largest > model.max_wheel_speed_rad_per_s) {
    const double scale = model.max_wheel_speed_rad_per_s / largest;
    left *= scale, right *= scale;
  }
  *left_rad_per_s = left;
  *right_rad_per_s = right;
  return false;
}

}  // namespace ftwin
