// Joint trajectories (host-device): synchronised trapezoidal point-to-point moves, a speed
// override applied as a time scaling, and the stop categories of IEC 60204-1.
//
// A move from q0 to q1 follows the straight joint-space line q = q0 + s (q1 - q0) with one
// trapezoidal profile s(t) in [0, 1] whose velocity and acceleration bounds are the tightest of
// all joints (V = min vmax_i / |d_i|, A = min amax_i / |d_i|), so every joint stays within its
// own limits and all joints start and stop together.
//
// Optionally the profile is jerk-limited (a double-S / seven-segment "S-curve", Biagiotti and
// Melchiorri, Trajectory Planning for Automatic Machines and Robots, 2008, §3.4, with zero
// boundary velocities and accelerations): the acceleration ramps at J = min jmax_i / |d_i|, so
// every joint also respects its own jerk limit.
#pragma once

#include <cmath>

#include "gpu/host_device.h"
#include "robots/arm_math.h"

namespace ftwin {

/// A trapezoidal profile for the path parameter s from 0 to 1.
struct PathProfile {
  double duration_s = 0;    ///< total time (0 for an empty move)
  double accel_time_s = 0;  ///< time of the acceleration (and deceleration) phase
  double peak_rate = 0;     ///< ds/dt at cruise [1/s]
  double accel = 0;         ///< d2s/dt2 during acceleration [1/s^2] (S-curve: its peak)
  double jerk = 0;          ///< S-curve: d3s/dt3 of the ramps [1/s^3]; 0 = trapezoid
  double jerk_time_s = 0;   ///< S-curve: duration of each jerk ramp
};

/// Plans the synchronised move of `dof` joints from q0 to q1 under per-joint velocity and
/// acceleration limits (> 0).
FTWIN_HD inline PathProfile PlanJointMove(const ArmVector& q0, const ArmVector& q1,
                                          const double* max_velocity, const double* max_accel,
                                          int dof) {
  double V = 1e300, A = 1e300;
  bool moves = false;
  for (int i = 0; i < dof; ++i) {
    const double d = fabs(q1(i) - q0(i));
    if (d <= 0) continue;
    moves = true;
    V = fmin(V, max_velocity[i] / d);
    A = fmin(A, max_accel[i] / d);
  }
  PathProfile profile;
  if (!moves) return profile;
  if (V * V / A <= 1.0) {  // trapezoid: accelerate to V, cruise, decelerate
    profile.accel_time_s = V / A;
    profile.duration_s = 1.0 / V + V / A;
    profile.peak_rate = V;
  } else {  // triangle: V is never reached
    profile.accel_time_s = sqrt(1.0 / A);
    profile.duration_s = 2.0 * profile.accel_time_s;
    profile.peak_rate = A * profile.accel_time_s;
  }
  profile.accel = A;
  return profile;
}

/// Plans the synchronised jerk-limited move (S-curve) of `dof` joints from q0 to q1 under
/// per-joint velocity, acceleration and jerk limits (> 0). With all limits reached the
/// duration is 1/V + V/A + A/J in path units; when V cannot be reached the acceleration phase
/// is shortened (and, for short moves, A is not reached either: T = 4 (1 / (2 J))^(1/3)).
FTWIN_HD inline PathProfile PlanJointMoveSCurve(const ArmVector& q0, const ArmVector& q1,
                                                const double* max_velocity, const double* max_accel,
                                                const double* max_jerk, int dof) {
  double V = 1e300, A = 1e300, J = 1e300;
  bool moves = false;
  for (int i = 0; i < dof; ++i) {
    const double d = fabs(q1(i) - q0(i));
    if (d <= 0) continue;
    moves = true;
    V = fmin(V, max_velocity[i] / d);
    A = fmin(A, max_accel[i] / d);
    J = fmin(J, max_jerk[i] / d);
  }
  PathProfile profile;
  if (!moves) return profile;
  // Acceleration phase that reaches V (B&M eq. 3.19 with h = 1, v0 = v1 = 0).
  double Tj, Ta, Tv;
  if (V * J >= A * A) {
    Tj = A / J;
    Ta = Tj + V / A;
  } else {
    Tj = sqrt(V / J);
    Ta = 2.0 * Tj;
  }
  Tv = 1.0 / V - Ta;
  if (Tv < 0.0) {  // V is not reached: no cruise (eq. 3.26-3.27)
    Tv = 0.0;
    Tj = A / J;
    Ta = 0.5 * Tj + sqrt(0.25 * Tj * Tj + 1.0 / A);
    if (Ta < 2.0 * Tj) {  // nor is A: pure jerk ramps
      Tj = cbrt(0.5 / J);
      Ta = 2.0 * Tj;
    }
  }
  profile.jerk = J;
  profile.jerk_time_s = Tj;
  profile.accel_time_s = Ta;
  profile.accel = J * Tj;                  // peak acceleration reached
  profile.peak_rate = (Ta - Tj) * J * Tj;  // peak velocity reached
  profile.duration_s = 2.0 * Ta + Tv;
  return profile;
}

/// Acceleration phase of an S-curve (and the cruise after it) at time t in [0, duration / 2].
FTWIN_HD inline void SampleSCurveHalf(const PathProfile& profile, double t, double* s, double* rate,
                                      double* accel) {
  const double J = profile.jerk, Tj = profile.jerk_time_s, Ta = profile.accel_time_s;
  const double a = profile.accel, v = profile.peak_rate;
  if (t < Tj) {
    *s = J * t * t * t / 6.0, *rate = 0.5 * J * t * t, *accel = J * t;
  } else if (t < Ta - Tj) {
    *s = a / 6.0 * (3.0 * t * t - 3.0 * Tj * t + Tj * Tj), *rate = a * (t - 0.5 * Tj), *accel = a;
  } else if (t < Ta) {
    const double r = Ta - t;
    *s = 0.5 * v * Ta - v * r + J * r * r * r / 6.0, *rate = v - 0.5 * J * r * r, *accel = J * r;
  } else {
    *s = 0.5 * v * Ta + v * (t - Ta), *rate = v, *accel = 0.0;
  }
}

/// s, ds/dt and d2s/dt2 of `profile` at time t (clamped to [0, duration]).
FTWIN_HD inline void SamplePath(const PathProfile& profile, double t, double* s, double* rate,
                                double* accel) {
  const double T = profile.duration_s, ta = profile.accel_time_s, A = profile.accel;
  if (profile.jerk > 0 && t > 0 && t < T) {
    // The S-curve is point-symmetric about (T/2, 1/2): the deceleration mirrors the start.
    if (t <= 0.5 * T) {
      SampleSCurveHalf(profile, t, s, rate, accel);
    } else {
      SampleSCurveHalf(profile, T - t, s, rate, accel);
      *s = 1.0 - *s;
      *accel = -*accel;
    }
    return;
  }
  if (T <= 0 || t >= T) {
    *s = 1.0, *rate = 0.0, *accel = 0.0;
    return;
  }
  if (t <= 0) {
    *s = 0.0, *rate = 0.0, *accel = 0.0;
    return;
  }
  if (t < ta) {
    *s = 0.5 * A * t * t, *rate = A * t, *accel = A;
  } else if (t <= T - ta) {
    *s = 0.5 * A * ta * ta + profile.peak_rate * (t - ta), *rate = profile.peak_rate, *accel = 0;
  } else {
    const double r = T - t;
    *s = 1.0 - 0.5 * A * r * r, *rate = A * r, *accel = -A;
  }
}

/// Joint reference on the move q0 -> q1 at path time t, with the speed override `override`
/// (the path time advances at `override` seconds per second): velocities scale with override
/// and accelerations with its square.
FTWIN_HD inline void SampleJointMove(const PathProfile& profile, const ArmVector& q0,
                                     const ArmVector& q1, double t, double override_factor,
                                     ArmVector* q, ArmVector* qd, ArmVector* qdd) {
  double s, rate, accel;
  SamplePath(profile, t, &s, &rate, &accel);
  const ArmVector d = q1 - q0;
  *q = q0 + s * d;
  *qd = (rate * override_factor) * d;
  *qdd = (accel * override_factor * override_factor) * d;
}

/// A Cartesian straight-line move of the tool: the position follows the segment start -> goal
/// and the orientation the geodesic (constant-axis rotation) between them, both on one
/// trapezoidal profile in s bounded by linear and angular speed and acceleration.
struct CartesianMove {
  ArmPose start, goal;
  Eigen::Vector3d rotation = Eigen::Vector3d::Zero();  ///< log(start.R^T goal.R), start frame
  PathProfile profile;
};

FTWIN_HD inline CartesianMove PlanCartesianMove(const ArmPose& start, const ArmPose& goal,
                                                double max_speed_m_per_s, double max_accel_m_per_s2,
                                                double max_rate_rad_per_s,
                                                double max_angular_accel_rad_per_s2) {
  CartesianMove move;
  move.start = start;
  move.goal = goal;
  move.rotation = ArmRotationLog(start.R.transpose() * goal.R);
  const double length = (goal.p - start.p).norm(), angle = move.rotation.norm();
  ArmVector q0 = ArmVector::Zero(), q1 = ArmVector::Zero();
  q1(0) = length;
  q1(1) = angle;
  const double vmax[2] = {max_speed_m_per_s, max_rate_rad_per_s};
  const double amax[2] = {max_accel_m_per_s2, max_angular_accel_rad_per_s2};
  move.profile = PlanJointMove(q0, q1, vmax, amax, 2);
  return move;
}

/// Tool pose on `move` at time t.
FTWIN_HD inline ArmPose SampleCartesianMove(const CartesianMove& move, double t) {
  double s, rate, accel;
  SamplePath(move.profile, t, &s, &rate, &accel);
  ArmPose pose;
  pose.p = move.start.p + s * (move.goal.p - move.start.p);
  const double angle = move.rotation.norm();
  pose.R =
      angle > 0 ? move.start.R * ArmAxisRotation(move.rotation / angle, s * angle) : move.start.R;
  return pose;
}

/// Stop categories of IEC 60204-1 (§9.2.2).
enum class StopCategory : int {
  kNone = -1,
  kCategory0 = 0,  ///< immediate removal of power; the brakes stop the axes
  kCategory1 = 1,  ///< controlled stop with power, then power removed (brakes hold)
  kCategory2 = 2,  ///< controlled stop, power stays on (servo holds position)
};

/// Moves the override towards `target` at no more than `ramp_per_s` per second.
FTWIN_HD inline double RampOverride(double current, double target, double ramp_per_s, double dt) {
  const double step = ramp_per_s * dt;
  if (target > current) return fmin(target, current + step);
  return fmax(target, current - step);
}

/// Torque of holding brakes (category 0 and 1): they oppose motion with up to `max_brake`
/// and, at rest, hold the static load `hold` (gravity) as long as it is within `max_brake`.
FTWIN_HD inline double BrakeTorque(double qd, double hold, double max_brake, double stiffness) {
  const double wanted = hold - stiffness * qd;
  return fmax(-max_brake, fmin(max_brake, wanted));
}

}  // namespace ftwin
