// Rigid-body kinematics and dynamics of a fixed-base articulated arm (host-device).
// Fixed-size Eigen types and plain arrays only: no heap, no exceptions, so the CPU blocks and
// the GPU batch drivers run the same code (DESIGN.md §2.6).
//
// Conventions. Bodies are numbered 0..n-1 in topological order (parent[i] < i, -1 = the fixed
// base); body i is moved by joint i. Each body frame is the URDF link frame of its child link
// (fixed-jointed links are merged into it). Joint i's frame relative to its parent body at
// q = 0 is (tree_R[i], tree_p[i]); the joint turns (revolute) or slides (prismatic) along the
// unit axis[i] expressed in the body frame. Inertias are about the body's centre of mass in
// body axes. Gravity is a world vector; the base frame is the world frame of the arm.
// Jacobians are [linear; angular] (6 x n) in base coordinates.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <cmath>

#include "gpu/host_device.h"

namespace ftwin {

/// Largest number of moving joints an arm may have (Panda with fingers has 9).
constexpr int kArmMaxDof = 10;

using ArmVector = Eigen::Matrix<double, kArmMaxDof, 1>;
using ArmMatrix = Eigen::Matrix<double, kArmMaxDof, kArmMaxDof>;
using ArmJacobian = Eigen::Matrix<double, 6, kArmMaxDof>;

enum class ArmJointType : int { kRevolute = 0, kPrismatic = 1 };

/// A rigid transform (rotation R, translation p): x_parent = R x_child + p.
struct ArmPose {
  Eigen::Matrix3d R = Eigen::Matrix3d::Identity();
  Eigen::Vector3d p = Eigen::Vector3d::Zero();
  FTWIN_HD ArmPose operator*(const ArmPose& other) const {
    ArmPose out;
    out.R = R * other.R;
    out.p = R * other.p + p;
    return out;
  }
  FTWIN_HD Eigen::Vector3d Apply(const Eigen::Vector3d& x) const { return R * x + p; }
  FTWIN_HD ArmPose Inverse() const {
    ArmPose out;
    out.R = R.transpose();
    out.p = -(out.R * p);
    return out;
  }
};

/// The immutable, flat description of an arm used by all the math below.
struct ArmModel {
  int dof = 0;
  int parent[kArmMaxDof] = {};
  ArmJointType type[kArmMaxDof] = {};
  Eigen::Matrix3d tree_R[kArmMaxDof];
  Eigen::Vector3d tree_p[kArmMaxDof];
  Eigen::Vector3d axis[kArmMaxDof];
  double mass_kg[kArmMaxDof] = {};
  Eigen::Vector3d com[kArmMaxDof];      ///< centre of mass in body frame [m]
  Eigen::Matrix3d inertia[kArmMaxDof];  ///< about the COM, body axes [kg m^2]
  double lower[kArmMaxDof] = {};        ///< position limits [rad or m] (-inf/inf: none)
  double upper[kArmMaxDof] = {};
  double max_velocity[kArmMaxDof] = {};  ///< [rad/s or m/s]
  double max_effort[kArmMaxDof] = {};    ///< [N m or N]
  double viscous[kArmMaxDof] = {};       ///< viscous friction [N m s/rad]
  double coulomb[kArmMaxDof] = {};       ///< Coulomb friction [N m]
  int tool_body = 0;                     ///< body carrying the tool frame
  ArmPose tool;                          ///< tool frame (TCP) in that body's frame
  Eigen::Vector3d gravity = Eigen::Vector3d(0.0, 0.0, -9.80665);
};

// ---------------------------------------------------------------------------------------------
// Small helpers

FTWIN_HD inline Eigen::Matrix3d ArmAxisRotation(const Eigen::Vector3d& axis, double angle) {
  // Rodrigues' formula; axis is a unit vector.
  const double c = cos(angle), s = sin(angle), v = 1.0 - c;
  const double x = axis.x(), y = axis.y(), z = axis.z();
  Eigen::Matrix3d R;
  R << c + x * x * v, x * y * v - z * s, x * z * v + y * s,  //
      y * x * v + z * s, c + y * y * v, y * z * v - x * s,   //
      z * x * v - y * s, z * y * v + x * s, c + z * z * v;
  return R;
}

/// Joint i's transform from its parent body frame to body i at position q.
FTWIN_HD inline ArmPose ArmJointTransform(const ArmModel& model, int i, double q) {
  ArmPose out;
  if (model.type[i] == ArmJointType::kRevolute) {
    out.R = model.tree_R[i] * ArmAxisRotation(model.axis[i], q);
    out.p = model.tree_p[i];
  } else {
    out.R = model.tree_R[i];
    out.p = model.tree_p[i] + model.tree_R[i] * (model.axis[i] * q);
  }
  return out;
}

/// Rotation vector (axis * angle) of R, robust near 0 and pi.
FTWIN_HD inline Eigen::Vector3d ArmRotationLog(const Eigen::Matrix3d& R) {
  const Eigen::Vector3d w(R(2, 1) - R(1, 2), R(0, 2) - R(2, 0), R(1, 0) - R(0, 1));
  const double cos_angle = fmin(1.0, fmax(-1.0, 0.5 * (R.trace() - 1.0)));
  const double sin2 = w.norm();  // 2 sin(angle)
  const double angle = atan2(0.5 * sin2, cos_angle);
  if (angle < 1e-6) return 0.5 * w;  // first order: angle/sin(angle) ~ 1
  if (angle < 3.14159265358979323846 - 1e-4) return w * (angle / sin2);
  // Near pi: the axis from the symmetric part, sign from w.
  Eigen::Vector3d axis;
  const Eigen::Matrix3d B = 0.5 * (R + R.transpose()) - cos_angle * Eigen::Matrix3d::Identity();
  int k = 0;
  if (B(1, 1) > B(k, k)) k = 1;
  if (B(2, 2) > B(k, k)) k = 2;
  axis = B.col(k) / sqrt(fmax(B(k, k), 1e-300));
  if (axis.dot(w) < 0) axis = -axis;
  return axis.normalized() * angle;
}

/// Solves A x = b for a symmetric positive definite n x n block of A (Cholesky, in place on
/// copies). Returns false when A is not positive definite.
template <int N>
FTWIN_HD inline bool ArmCholeskySolve(const Eigen::Matrix<double, N, N>& A,
                                      const Eigen::Matrix<double, N, 1>& b, int n,
                                      Eigen::Matrix<double, N, 1>* x) {
  Eigen::Matrix<double, N, N> L = Eigen::Matrix<double, N, N>::Zero();
  for (int j = 0; j < n; ++j) {
    double d = A(j, j);
    for (int k = 0; k < j; ++k) d -= L(j, k) * L(j, k);
    if (!(d > 0.0)) return false;
    L(j, j) = sqrt(d);
    for (int i = j + 1; i < n; ++i) {
      double s = A(i, j);
      for (int k = 0; k < j; ++k) s -= L(i, k) * L(j, k);
      L(i, j) = s / L(j, j);
    }
  }
  Eigen::Matrix<double, N, 1> y = Eigen::Matrix<double, N, 1>::Zero();
  for (int i = 0; i < n; ++i) {
    double s = b(i);
    for (int k = 0; k < i; ++k) s -= L(i, k) * y(k);
    y(i) = s / L(i, i);
  }
  for (int i = n; i < N; ++i) (*x)(i) = 0.0;
  for (int i = n - 1; i >= 0; --i) {
    double s = y(i);
    for (int k = i + 1; k < n; ++k) s -= L(k, i) * (*x)(k);
    (*x)(i) = s / L(i, i);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Kinematics

/// World (base) poses of every body at q.
FTWIN_HD inline void ArmForwardKinematics(const ArmModel& model, const ArmVector& q,
                                          ArmPose* body_poses) {
  for (int i = 0; i < model.dof; ++i) {
    const ArmPose local = ArmJointTransform(model, i, q(i));
    body_poses[i] = model.parent[i] < 0 ? local : body_poses[model.parent[i]] * local;
  }
}

/// Tool (TCP) pose in the base frame at q.
FTWIN_HD inline ArmPose ArmToolPose(const ArmModel& model, const ArmVector& q) {
  ArmPose poses[kArmMaxDof];
  ArmForwardKinematics(model, q, poses);
  return poses[model.tool_body] * model.tool;
}

/// True when joint j moves body `body` (j is `body` or one of its ancestors).
FTWIN_HD inline bool ArmJointMovesBody(const ArmModel& model, int j, int body) {
  for (int b = body; b >= 0; b = model.parent[b])
    if (b == j) return true;
  return false;
}

/// Geometric Jacobian of the tool point: [v; w] = J qd, base coordinates. Columns of joints
/// that do not move the tool are zero.
FTWIN_HD inline ArmJacobian ArmToolJacobian(const ArmModel& model, const ArmVector& q,
                                            ArmPose* tool_pose = nullptr) {
  ArmPose poses[kArmMaxDof];
  ArmForwardKinematics(model, q, poses);
  const ArmPose tool = poses[model.tool_body] * model.tool;
  if (tool_pose != nullptr) *tool_pose = tool;
  ArmJacobian J = ArmJacobian::Zero();
  for (int j = 0; j < model.dof; ++j) {
    if (!ArmJointMovesBody(model, j, model.tool_body)) continue;
    const Eigen::Vector3d z = poses[j].R * model.axis[j];
    if (model.type[j] == ArmJointType::kRevolute) {
      J.block<3, 1>(0, j) = z.cross(tool.p - poses[j].p);
      J.block<3, 1>(3, j) = z;
    } else {
      J.block<3, 1>(0, j) = z;
    }
  }
  return J;
}

/// Settings of the damped-least-squares inverse kinematics.
struct ArmIkOptions {
  double damping = 0.05;  ///< lambda [m] in J^T (J J^T + lambda^2 I)^-1 while far from the target
  double max_task_step_m = 0.2;   ///< task error clamped to this per iteration
  double orientation_weight = 1;  ///< metres per radian of orientation error
  double posture_gain = 0.05;     ///< null-space pull towards the posture per iteration
  double tolerance_m = 1e-9;      ///< stop when position and weighted angle error are below
  int max_iterations = 200;
  double max_step = 0.3;  ///< largest joint change per iteration [rad or m]
  bool position_only = false;
};

struct ArmIkResult {
  bool converged = false;
  int iterations = 0;
  double position_error_m = 0;
  double orientation_error_rad = 0;
};

/// Damped least squares IK for the tool pose `target`, starting from q (in/out), keeping
/// joints within limits and pulling towards `posture` in the null space of the task.
/// Unreachable targets end with converged == false and the residual errors.
FTWIN_HD inline ArmIkResult ArmInverseKinematics(const ArmModel& model, const ArmPose& target,
                                                 const ArmVector& posture, ArmVector* q,
                                                 const ArmIkOptions& options = {}) {
  ArmIkResult result;
  const int n = model.dof;
  for (int iteration = 0; iteration <= options.max_iterations; ++iteration) {
    ArmPose pose;
    const ArmJacobian J = ArmToolJacobian(model, *q, &pose);
    Eigen::Matrix<double, 6, 1> e;
    e.head<3>() = target.p - pose.p;
    e.tail<3>() = ArmRotationLog(target.R * pose.R.transpose());
    result.position_error_m = e.head<3>().norm();
    result.orientation_error_rad = options.position_only ? 0.0 : e.tail<3>().norm();
    result.iterations = iteration;
    if (result.position_error_m <= options.tolerance_m &&
        result.orientation_error_rad * options.orientation_weight <= options.tolerance_m) {
      result.converged = true;
      return result;
    }
    if (iteration == options.max_iterations) break;
    // Weighted task: rows scaled so both errors are in metres.
    Eigen::Matrix<double, 6, kArmMaxDof> Jw = J;
    Eigen::Matrix<double, 6, 1> ew = e;
    const int rows = options.position_only ? 3 : 6;
    Jw.block<3, kArmMaxDof>(3, 0) *= options.orientation_weight;
    ew.tail<3>() *= options.orientation_weight;
    if (options.position_only) {
      Jw.block<3, kArmMaxDof>(3, 0).setZero();
      ew.tail<3>().setZero();
    }
    // Large errors are approached in bounded steps; the damping fades as the error shrinks so
    // the final iterations converge quadratically.
    const double error_norm = ew.norm();
    if (error_norm > options.max_task_step_m) ew *= options.max_task_step_m / error_norm;
    const double lambda = options.damping * fmin(1.0, error_norm / 0.1);
    Eigen::Matrix<double, 6, 6> A = Jw * Jw.transpose();
    for (int r = 0; r < 6; ++r) A(r, r) += lambda * lambda + (r >= rows ? 1.0 : 0.0);
    Eigen::Matrix<double, 6, 1> y;
    if (!ArmCholeskySolve<6>(A, ew, 6, &y)) break;
    ArmVector dq = Jw.transpose() * y;
    // Null-space posture term: (I - J+ J) k (posture - q), with J+ = Jw^T A^-1.
    ArmVector pull = options.posture_gain * (posture - *q);
    for (int j = n; j < kArmMaxDof; ++j) pull(j) = 0.0;
    Eigen::Matrix<double, 6, 1> Jpull = Jw * pull, z;
    if (ArmCholeskySolve<6>(A, Jpull, 6, &z)) dq += pull - Jw.transpose() * z;
    double largest = 0;
    for (int j = 0; j < n; ++j) largest = fmax(largest, fabs(dq(j)));
    if (largest > options.max_step) dq *= options.max_step / largest;
    for (int j = 0; j < n; ++j)
      (*q)(j) = fmin(model.upper[j], fmax(model.lower[j], (*q)(j) + dq(j)));
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Dynamics

/// Friction torque of joint i at velocity qd: viscous + Coulomb (zero at rest).
FTWIN_HD inline double ArmFriction(const ArmModel& model, int i, double qd) {
  const double sign = qd > 0 ? 1.0 : (qd < 0 ? -1.0 : 0.0);
  return model.viscous[i] * qd + model.coulomb[i] * sign;
}

/// Recursive Newton-Euler inverse dynamics: joint forces for (q, qd, qdd) under `gravity`,
/// plus joint friction when `with_friction`.
FTWIN_HD inline ArmVector ArmInverseDynamics(const ArmModel& model, const ArmVector& q,
                                             const ArmVector& qd, const ArmVector& qdd,
                                             const Eigen::Vector3d& gravity,
                                             bool with_friction = true) {
  const int n = model.dof;
  Eigen::Matrix3d R[kArmMaxDof];  // body i -> parent
  Eigen::Vector3d p[kArmMaxDof];  // body i origin in parent
  Eigen::Vector3d w[kArmMaxDof], wd[kArmMaxDof], a[kArmMaxDof], f[kArmMaxDof], t[kArmMaxDof];
  for (int i = 0; i < n; ++i) {
    const ArmPose X = ArmJointTransform(model, i, q(i));
    R[i] = X.R;
    p[i] = X.p;
    const Eigen::Matrix3d Rt = X.R.transpose();
    const int parent = model.parent[i];
    // Base: at rest, accelerating upwards against gravity (the usual RNEA trick).
    const Eigen::Vector3d wp = parent < 0 ? Eigen::Vector3d::Zero() : w[parent];
    const Eigen::Vector3d wdp = parent < 0 ? Eigen::Vector3d::Zero() : wd[parent];
    const Eigen::Vector3d ap = parent < 0 ? Eigen::Vector3d(-gravity) : a[parent];
    const Eigen::Vector3d ww = Rt * wp;
    const Eigen::Vector3d& z = model.axis[i];
    a[i] = Rt * (ap + wdp.cross(X.p) + wp.cross(wp.cross(X.p)));
    if (model.type[i] == ArmJointType::kRevolute) {
      w[i] = ww + z * qd(i);
      wd[i] = Rt * wdp + z * qdd(i) + ww.cross(z * qd(i));
    } else {
      w[i] = ww;
      wd[i] = Rt * wdp;
      a[i] += 2.0 * ww.cross(z * qd(i)) + z * qdd(i);
    }
    const Eigen::Vector3d& c = model.com[i];
    const Eigen::Vector3d ac = a[i] + wd[i].cross(c) + w[i].cross(w[i].cross(c));
    f[i] = model.mass_kg[i] * ac;
    const Eigen::Vector3d Iw = model.inertia[i] * w[i];
    t[i] = model.inertia[i] * wd[i] + w[i].cross(Iw) + c.cross(f[i]);  // about body origin
  }
  ArmVector tau = ArmVector::Zero();
  for (int i = n - 1; i >= 0; --i) {
    tau(i) = model.type[i] == ArmJointType::kRevolute ? model.axis[i].dot(t[i])
                                                      : model.axis[i].dot(f[i]);
    if (with_friction) tau(i) += ArmFriction(model, i, qd(i));
    const int parent = model.parent[i];
    if (parent >= 0) {
      const Eigen::Vector3d fp = R[i] * f[i];
      f[parent] += fp;
      t[parent] += R[i] * t[i] + p[i].cross(fp);
    }
  }
  return tau;
}

/// Joint-space mass matrix H(q), column by column from unit accelerations through the RNEA
/// without gravity and velocity (Walker and Orin 1982, method 1): O(n^2) and slower than the
/// CRBA below; kept as the independent check of ArmMassMatrix.
FTWIN_HD inline ArmMatrix ArmMassMatrixRnea(const ArmModel& model, const ArmVector& q) {
  ArmMatrix H = ArmMatrix::Zero();
  const ArmVector zero = ArmVector::Zero();
  for (int j = 0; j < model.dof; ++j) {
    ArmVector unit = zero;
    unit(j) = 1.0;
    H.col(j) = ArmInverseDynamics(model, q, zero, unit, Eigen::Vector3d::Zero(), false);
  }
  for (int i = 0; i < model.dof; ++i)
    for (int j = 0; j < i; ++j) H(i, j) = H(j, i) = 0.5 * (H(i, j) + H(j, i));
  return H;
}

/// Joint-space mass matrix H(q) by the composite-rigid-body algorithm (Walker and Orin 1982,
/// method 3; Featherstone, Rigid Body Dynamics Algorithms, 6.2). Composite bodies are kept as
/// (mass m, first moment h = m c, rotational inertia Io about the body origin) in body axes.
FTWIN_HD inline ArmMatrix ArmMassMatrix(const ArmModel& model, const ArmVector& q) {
  const int n = model.dof;
  Eigen::Matrix3d R[kArmMaxDof];  // body i -> parent
  Eigen::Vector3d p[kArmMaxDof];  // body i origin in parent
  double m[kArmMaxDof];
  Eigen::Vector3d h[kArmMaxDof];
  Eigen::Matrix3d Io[kArmMaxDof];
  for (int i = 0; i < n; ++i) {
    const ArmPose X = ArmJointTransform(model, i, q(i));
    R[i] = X.R;
    p[i] = X.p;
    const Eigen::Vector3d& c = model.com[i];
    m[i] = model.mass_kg[i];
    h[i] = m[i] * c;
    // Parallel axis: Io = Ic + m (|c|^2 I - c c^T).
    Io[i] = model.inertia[i] +
            m[i] * (c.squaredNorm() * Eigen::Matrix3d::Identity() - c * c.transpose());
  }
  auto skew = [](const Eigen::Vector3d& v) {
    Eigen::Matrix3d S;
    S << 0, -v.z(), v.y(), v.z(), 0, -v.x(), -v.y(), v.x(), 0;
    return S;
  };
  // Accumulate composites leaf to root: Io' = R Io R^T - S(Rh) S(p) - S(p) S(Rh) - m S(p)^2.
  for (int i = n - 1; i >= 0; --i) {
    const int parent = model.parent[i];
    if (parent < 0) continue;
    const Eigen::Vector3d Rh = R[i] * h[i];
    const Eigen::Matrix3d Sp = skew(p[i]), Sh = skew(Rh);
    Io[parent] += R[i] * Io[i] * R[i].transpose() - Sh * Sp - Sp * Sh - m[i] * Sp * Sp;
    h[parent] += Rh + m[i] * p[i];
    m[parent] += m[i];
  }
  ArmMatrix H = ArmMatrix::Zero();
  for (int i = 0; i < n; ++i) {
    // Spatial force (force f, moment t about the body origin) of composite i under a unit
    // motion of joint i, carried up the chain and projected on every ancestor's axis.
    const Eigen::Vector3d& z = model.axis[i];
    Eigen::Vector3d f, t;
    if (model.type[i] == ArmJointType::kRevolute) {
      f = z.cross(h[i]);  // m v + w x h with v = 0
      t = Io[i] * z;      // Io w + h x v
    } else {
      f = m[i] * z;
      t = h[i].cross(z);
    }
    H(i, i) = model.type[i] == ArmJointType::kRevolute ? z.dot(t) : z.dot(f);
    int j = i;
    while (model.parent[j] >= 0) {
      const Eigen::Vector3d fp = R[j] * f;
      t = R[j] * t + p[j].cross(fp);
      f = fp;
      j = model.parent[j];
      const double value =
          model.type[j] == ArmJointType::kRevolute ? model.axis[j].dot(t) : model.axis[j].dot(f);
      H(i, j) = H(j, i) = value;
    }
  }
  return H;
}

/// Forward dynamics qdd = H^-1 (tau - C(q, qd) - g(q) - friction). Returns false if H is
/// singular (a model error).
FTWIN_HD inline bool ArmForwardDynamics(const ArmModel& model, const ArmVector& q,
                                        const ArmVector& qd, const ArmVector& tau,
                                        const Eigen::Vector3d& gravity, ArmVector* qdd,
                                        bool with_friction = true) {
  const ArmVector bias =
      ArmInverseDynamics(model, q, qd, ArmVector::Zero(), gravity, with_friction);
  const ArmMatrix H = ArmMassMatrix(model, q);
  const ArmVector rhs = tau - bias;
  return ArmCholeskySolve<kArmMaxDof>(H, rhs, model.dof, qdd);
}

/// Kinetic energy 0.5 qd^T H qd and potential energy -sum m g.c of the arm [J].
FTWIN_HD inline void ArmEnergy(const ArmModel& model, const ArmVector& q, const ArmVector& qd,
                               const Eigen::Vector3d& gravity, double* kinetic_J,
                               double* potential_J) {
  const ArmMatrix H = ArmMassMatrix(model, q);
  *kinetic_J = 0.5 * qd.dot(H * qd);
  ArmPose poses[kArmMaxDof];
  ArmForwardKinematics(model, q, poses);
  double potential = 0;
  for (int i = 0; i < model.dof; ++i)
    potential -= model.mass_kg[i] * gravity.dot(poses[i].Apply(model.com[i]));
  *potential_J = potential;
}

/// One classical Runge-Kutta 4 step of the free dynamics under constant tau.
FTWIN_HD inline bool ArmRk4Step(const ArmModel& model, const ArmVector& tau,
                                const Eigen::Vector3d& gravity, double h, ArmVector* q,
                                ArmVector* qd, bool with_friction = true) {
  ArmVector k1q = *qd, k1v, k2v, k3v, k4v;
  bool ok = ArmForwardDynamics(model, *q, *qd, tau, gravity, &k1v, with_friction);
  const ArmVector k2q = *qd + 0.5 * h * k1v;
  ok = ok && ArmForwardDynamics(model, *q + 0.5 * h * k1q, k2q, tau, gravity, &k2v, with_friction);
  const ArmVector k3q = *qd + 0.5 * h * k2v;
  ok = ok && ArmForwardDynamics(model, *q + 0.5 * h * k2q, k3q, tau, gravity, &k3v, with_friction);
  const ArmVector k4q = *qd + h * k3v;
  ok = ok && ArmForwardDynamics(model, *q + h * k3q, k4q, tau, gravity, &k4v, with_friction);
  *q += h / 6.0 * (k1q + 2.0 * k2q + 2.0 * k3q + k4q);
  *qd += h / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v);
  return ok;
}

}  // namespace ftwin
