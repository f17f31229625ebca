// SUNDIALS CVODE (BDF, dense Newton, tight tolerances) as the reference solution for the
// energy components' fixed-step integrators.
#pragma once

#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>

#include <functional>
#include <stdexcept>
#include <vector>

namespace ftwin::energy::testing {

using Rhs = std::function<void(const double* x, double* dx)>;

/// Integrates x' = f(x) from 0 to t_end with CVODE (BDF, rtol/atol as given).
inline std::vector<double> CvodeSolve(const Rhs& f, std::vector<double> x0, double t_end,
                                      double rtol = 1e-12, double atol = 1e-12) {
  SUNContext ctx;
  if (SUNContext_Create(nullptr, &ctx) != 0) throw std::runtime_error("SUNContext_Create");
  const sunindextype n = static_cast<sunindextype>(x0.size());
  N_Vector y = N_VNew_Serial(n, ctx);
  for (sunindextype i = 0; i < n; ++i) NV_Ith_S(y, i) = x0[static_cast<size_t>(i)];
  void* mem = CVodeCreate(CV_BDF, ctx);
  auto rhs = [](sunrealtype, N_Vector yv, N_Vector dy, void* user) -> int {
    (*static_cast<const Rhs*>(user))(N_VGetArrayPointer(yv), N_VGetArrayPointer(dy));
    return 0;
  };
  CVodeInit(mem, rhs, 0.0, y);
  CVodeSStolerances(mem, rtol, atol);
  CVodeSetUserData(mem, const_cast<Rhs*>(&f));
  CVodeSetMaxNumSteps(mem, 1000000);
  SUNMatrix a = SUNDenseMatrix(n, n, ctx);
  SUNLinearSolver ls = SUNLinSol_Dense(y, a, ctx);
  CVodeSetLinearSolver(mem, ls, a);
  sunrealtype t = 0.0;
  const int flag = CVode(mem, t_end, y, &t, CV_NORMAL);
  std::vector<double> out(x0.size());
  for (sunindextype i = 0; i < n; ++i) out[static_cast<size_t>(i)] = NV_Ith_S(y, i);
  CVodeFree(&mem);
  SUNLinSolFree(ls);
  SUNMatDestroy(a);
  N_VDestroy(y);
  SUNContext_Free(&ctx);
  if (flag < 0) throw std::runtime_error("CVode failed");
  return out;
}

}  // namespace ftwin::energy::testing
