// Native articulated-arm plant step (host-device): the robot cell's `physics: native` path and
// the step a GPU batch would run per world. No heap, no exceptions, fixed-size Eigen.
//
// One step of dt under a zero-order-hold motor torque (the servo updates once per tick):
//   1. motor torques clamped to the rated torque (max_effort),
//   2. free velocity v* = qd + dt H^-1 (tau - C(q, qd) - g(q) - viscous qd)  (CRBA + Cholesky),
//   3. joint-space impulses for Coulomb friction (|p_i| <= coulomb_i dt, opposing the motion;
//      a joint whose driving torque stays below its Coulomb level sticks (velocity 0 to the solver
//      tolerance)) and for joint
//      limits (p_i >= 0 pushing away from a bound, speculative: the step ends at most on the
//      bound), solved together by projected Gauss-Seidel on H^-1 (Delassus operator),
//   4. semi-implicit (symplectic) Euler: qd = v, q += dt v.
// Semi-implicit Euler rather than RK4: it is the scheme of Bullet's multibody world (the physics
// of record, so the two paths can be compared step for step), it costs one forward dynamics per
// tick instead of four, and the servo torque, the friction and the limits are non-smooth in
// time anyway, which takes RK4's fourth order away in the closed loop.
#pragma once

#include "robots/arm_math.h"

namespace ftwin {

struct ArmNativeStepStats {
  bool ok = true;          ///< false: the mass matrix was not positive definite
  int limit_contacts = 0;  ///< joints held at a limit in this step
  int stuck_joints = 0;    ///< joints held by Coulomb friction (sticking)
  int solver_sweeps = 0;   ///< Gauss-Seidel sweeps used
};

/// Cholesky factor L (lower) of the leading n x n block of A; false when not positive definite.
FTWIN_HD inline bool ArmCholeskyFactor(const ArmMatrix& A, int n, ArmMatrix* L) {
  L->setZero();
  for (int j = 0; j < n; ++j) {
    double d = A(j, j);
    for (int k = 0; k < j; ++k) d -= (*L)(j, k) * (*L)(j, k);
    if (!(d > 0.0)) return false;
    (*L)(j, j) = sqrt(d);
    for (int i = j + 1; i < n; ++i) {
      double s = A(i, j);
      for (int k = 0; k < j; ++k) s -= (*L)(i, k) * (*L)(j, k);
      (*L)(i, j) = s / (*L)(j, j);
    }
  }
  return true;
}

/// Solves L L^T x = b (n x n block).
FTWIN_HD inline ArmVector ArmCholeskyBackSolve(const ArmMatrix& L, const ArmVector& b, int n) {
  ArmVector y = ArmVector::Zero(), x = ArmVector::Zero();
  for (int i = 0; i < n; ++i) {
    double s = b(i);
    for (int k = 0; k < i; ++k) s -= L(i, k) * y(k);
    y(i) = s / L(i, i);
  }
  for (int i = n - 1; i >= 0; --i) {
    double s = y(i);
    for (int k = i + 1; k < n; ++k) s -= L(k, i) * x(k);
    x(i) = s / L(i, i);
  }
  return x;
}

/// One plant step (see the file comment). `tau_motor` is the drive torque (friction is the
/// plant's, not included in it); gravity is in the arm's base frame.
FTWIN_HD inline ArmNativeStepStats ArmNativeStep(const ArmModel& model, const ArmVector& tau_motor,
                                                 const Eigen::Vector3d& gravity, double dt,
                                                 ArmVector* q, ArmVector* qd, int max_sweeps = 50) {
  ArmNativeStepStats stats;
  const int n = model.dof;
  ArmVector tau = ArmVector::Zero();
  for (int i = 0; i < n; ++i) {
    const double limit = model.max_effort[i];
    tau(i) = limit < 1e300 ? fmin(limit, fmax(-limit, tau_motor(i))) : tau_motor(i);
    tau(i) -= model.viscous[i] * (*qd)(i);
  }
  const ArmVector bias = ArmInverseDynamics(model, *q, *qd, ArmVector::Zero(), gravity, false);
  const ArmMatrix H = ArmMassMatrix(model, *q);
  ArmMatrix L;
  if (!ArmCholeskyFactor(H, n, &L)) {
    stats.ok = false;
    return stats;
  }
  ArmVector v = *qd + dt * ArmCholeskyBackSolve(L, tau - bias, n);

  // Constraint rows: one per joint with Coulomb friction, one per joint whose step would cross
  // a limit. Row i acts on joint i only, so the Delassus operator is H^-1 itself.
  bool friction[kArmMaxDof], limit[kArmMaxDof];
  double bound_velocity[kArmMaxDof];  // limit rows: v_i >= bound (lower) or v_i <= bound (upper)
  bool lower_side[kArmMaxDof];
  bool any = false;
  for (int i = 0; i < n; ++i) {
    friction[i] = model.coulomb[i] > 0.0;
    limit[i] = false;
    lower_side[i] = false;
    bound_velocity[i] = 0.0;
    const double next = (*q)(i) + dt * v(i);
    if (next < model.lower[i]) {
      limit[i] = lower_side[i] = true;
      bound_velocity[i] = (model.lower[i] - (*q)(i)) / dt;
    } else if (next > model.upper[i]) {
      limit[i] = true;
      bound_velocity[i] = (model.upper[i] - (*q)(i)) / dt;
    }
    any = any || friction[i] || limit[i];
  }
  if (any) {
    ArmMatrix Minv = ArmMatrix::Zero();
    for (int j = 0; j < n; ++j) {
      ArmVector unit = ArmVector::Zero();
      unit(j) = 1.0;
      Minv.col(j) = ArmCholeskyBackSolve(L, unit, n);
    }
    double p_friction[kArmMaxDof] = {}, p_limit[kArmMaxDof] = {};
    const ArmVector v_free = v;
    for (int sweep = 0; sweep < max_sweeps; ++sweep) {
      double largest_change = 0.0;
      for (int i = 0; i < n; ++i) {
        const double k = Minv(i, i);
        if (limit[i]) {
          // Impulse that puts v_i on its bound, accumulated and kept pushing away from it.
          const double wanted = p_limit[i] + (bound_velocity[i] - v(i)) / k;
          const double clamped = lower_side[i] ? fmax(0.0, wanted) : fmin(0.0, wanted);
          const double change = clamped - p_limit[i];
          if (change != 0.0) {
            v += Minv.col(i) * change;
            p_limit[i] = clamped;
            largest_change = fmax(largest_change, fabs(change) * k);
          }
        }
        if (friction[i]) {
          // Impulse that stops joint i, clamped to the Coulomb impulse bound.
          const double bound = model.coulomb[i] * dt;
          const double wanted = p_friction[i] - v(i) / k;
          const double clamped = fmin(bound, fmax(-bound, wanted));
          const double change = clamped - p_friction[i];
          if (change != 0.0) {
            v += Minv.col(i) * change;
            p_friction[i] = clamped;
            largest_change = fmax(largest_change, fabs(change) * k);
          }
        }
      }
      stats.solver_sweeps = sweep + 1;
      // Converged when no impulse changes any joint velocity by more than 1e-12 rad/s.
      if (largest_change <= 1e-12) break;
    }
    // Recompute v from the final impulses in one pass, so the result does not carry the
    // rounding of the incremental updates (it is what the impulses imply).
    v = v_free;
    for (int i = 0; i < n; ++i) {
      const double p = p_friction[i] + p_limit[i];
      if (p != 0.0) v += Minv.col(i) * p;
      if (limit[i] && p_limit[i] != 0.0) ++stats.limit_contacts;
      if (friction[i] && fabs(p_friction[i]) < model.coulomb[i] * dt) ++stats.stuck_joints;
    }
  }
  for (int i = 0; i < n; ++i) {
    (*qd)(i) = v(i);
    (*q)(i) += dt * v(i);
  }
  return stats;
}

}  // namespace ftwin
