// 1. Simulated seconds per wall second of scenarios/energy/site.yaml on one core.
// 2. Per-step cost (one 1 s tick) of our fixed-step integrators against CVODE (BDF, dense) on the
//    same right-hand sides, in the same run: the battery cell (RK4), the micro-CHP thermal model
//    (ROS2) and the Rowen gas turbine + HRSG (ROS2, 4 sub-steps), with the max error of each
//    over the run against CVODE at rtol 1e-10.
// Usage: bench_energy [days=7]
#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "engine/scenario.h"
#include "engine/simulator.h"
#include "plants/energy/battery_math.h"
#include "plants/energy/chp_math.h"
#include "plants/energy/turbine_math.h"
#include "plants/register.h"

using namespace ftwin;
using namespace ftwin::energy;
using Clock = std::chrono::steady_clock;

namespace {

/// CVODE advancing one system tick by tick (inputs change per tick → re-init at each tick,
/// as a solver inside a block would have to).
class Cvode {
 public:
  using Rhs = std::function<void(const double*, double*)>;
  Cvode(int n, double rtol, double atol) : n_(n), rtol_(rtol), atol_(atol) {
    SUNContext_Create(nullptr, &ctx_);
    y_ = N_VNew_Serial(n, ctx_);
    mem_ = CVodeCreate(CV_BDF, ctx_);
    a_ = SUNDenseMatrix(n, n, ctx_);
    ls_ = SUNLinSol_Dense(y_, a_, ctx_);
  }
  ~Cvode() {
    CVodeFree(&mem_);
    SUNLinSolFree(ls_);
    SUNMatDestroy(a_);
    N_VDestroy(y_);
    SUNContext_Free(&ctx_);
  }
  void Step(const Rhs& f, double* x, double h) {
    for (int i = 0; i < n_; ++i) NV_Ith_S(y_, i) = x[i];
    rhs_ = &f;
    if (!initialised_) {
      CVodeInit(mem_, Callback, 0.0, y_);
      CVodeSStolerances(mem_, rtol_, atol_);
      CVodeSetUserData(mem_, this);
      CVodeSetLinearSolver(mem_, ls_, a_);
      CVodeSetMaxNumSteps(mem_, 100000);
      initialised_ = true;
    } else {
      CVodeReInit(mem_, 0.0, y_);
    }
    double t = 0.0;
    CVode(mem_, h, y_, &t, CV_NORMAL);
    for (int i = 0; i < n_; ++i) x[i] = NV_Ith_S(y_, i);
  }

 private:
  static int Callback(sunrealtype, N_Vector y, N_Vector dy, void* user) {
    (*static_cast<Cvode*>(user)->rhs_)(N_VGetArrayPointer(y), N_VGetArrayPointer(dy));
    return 0;
  }
  int n_;
  double rtol_, atol_;
  SUNContext ctx_;
  N_Vector y_;
  void* mem_;
  SUNMatrix a_;
  SUNLinearSolver ls_;
  const Rhs* rhs_ = nullptr;
  bool initialised_ = false;
};

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Runs `ticks` 1 s steps with input(k) → (ours, cvode at rtol, cvode reference); prints ns/step
/// and the max abs error of `slot` against the reference.
template <int N, class MakeRhs, class Ours>
void Compare(const char* name, const double* x0, int ticks, MakeRhs make_rhs, Ours ours, int slot) {
  double a[N], b[N], r[N];
  for (int i = 0; i < N; ++i) a[i] = b[i] = r[i] = x0[i];
  Cvode practical(N, 1e-6, 1e-8), reference(N, 1e-10, 1e-12);
  double t_ours = 0, t_cvode = 0, err_ours = 0, err_cvode = 0;
  for (int k = 0; k < ticks; ++k) {
    const auto rhs = make_rhs(k);
    const Cvode::Rhs f = [&](const double* x, double* dx) { rhs(x, dx); };
    auto t0 = Clock::now();
    ours(rhs, a);
    auto t1 = Clock::now();
    practical.Step(f, b, 1.0);
    auto t2 = Clock::now();
    reference.Step(f, r, 1.0);
    t_ours += Seconds(t0, t1);
    t_cvode += Seconds(t1, t2);
    err_ours = std::fmax(err_ours, std::fabs(a[slot] - r[slot]));
    err_cvode = std::fmax(err_cvode, std::fabs(b[slot] - r[slot]));
  }
  std::printf(
      "%-28s ours %9.0f ns/step (max err %.2e)   CVODE rtol 1e-6 %9.0f ns/step (max err %.2e)   "
      "speed-up %.0fx\n",
      name, 1e9 * t_ours / ticks, err_ours, 1e9 * t_cvode / ticks, err_cvode, t_cvode / t_ours);
}

}  // namespace

int main(int argc, char** argv) {
  const int days = argc > 1 ? std::atoi(argv[1]) : 7;
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  RunOverrides overrides;
  overrides.duration_ns = int64_t{86400} * days * 1000000000;
  overrides.num_threads = 1;
  const LoadedScenario scenario = LoadScenario(
      std::string(FTWIN_SOURCE_DIR) + "/scenarios/energy/site.yaml", registry, overrides);
  Simulator sim(scenario.model);
  const auto t0 = Clock::now();
  sim.Step(int64_t{86400} * days);
  const double wall = Seconds(t0, Clock::now());
  std::printf(
      "site.yaml: %d d at 1 s ticks in %.2f s wall on one core: %.0f simulated s per wall s (%.0f "
      "us per tick)\n",
      days, wall, 86400.0 * days / wall, 1e6 * wall / (86400.0 * days));

  const int ticks = 3600;
  {  // battery cell, a pulsed current profile
    CellParams c;
    c.num_ocv = 3;
    c.ocv_soc[1] = 0.5, c.ocv_soc[2] = 1.0;
    c.ocv_V[0] = 3.0, c.ocv_V[1] = 3.3, c.ocv_V[2] = 3.5;
    c.num_rc = 2;
    c.rc_r_ohm[0] = 0.017, c.rc_tau_s[0] = 32.6, c.rc_r_ohm[1] = 0.13, c.rc_tau_s[1] = 7900.0;
    c.hysteresis_V = 0.02, c.hysteresis_rate = 5.0;
    double x0[kCellSlots] = {0.9, 0, 0, 0, 0, 298.15, 0, 0, 0};
    Compare<kCellSlots>(
        "battery cell (RK4)", x0, ticks,
        [&](int k) {
          return CellRhs{&c, (k / 60) % 2 ? 4.0 : -2.0, (k / 60) % 2 ? -1.0 : 1.0, 298.15};
        },
        [&](const CellRhs& f, double* x) {
          Integrate<kCellSlots>(Method::kRk4, f, x, 1.0, Rk4Substeps(1.0, CellLambdaMax(c)));
        },
        kCellV1);
  }
  {  // micro-CHP thermal model, electric-following steps
    ChpParams p;
    double x0[kChpSlots] = {342.7, 335.0, 0, 0, 0};
    Compare<kChpSlots>(
        "micro-CHP thermal (ROS2x4)", x0, ticks,
        [&](int k) {
          const double pe = (k / 600) % 2 ? 5500.0 : 2000.0;
          return ChpRhs{&p, 0.66 * pe / 0.27, pe / 0.27, 0.4, 330.0, 294.0};
        },
        [&](const ChpRhs& f, double* x) { Integrate<kChpSlots>(Method::kRos2, f, x, 1.0, 4); },
        kChpWater);
  }
  {  // Rowen gas turbine + HRSG, load reference ramps
    TurbineParams p;
    double x0[kGtSlots];
    TurbineSteadyState(p, 0.5, x0);
    Compare<kGtSlots>(
        "gas turbine + HRSG (ROS2x4)", x0, ticks,
        [&](int k) {
          return TurbineRhs{&p, 0.5 + 0.3 * std::sin(k / 300.0), 1.0, true};
        },
        [&](const TurbineRhs& f, double* x) { Integrate<kGtSlots>(Method::kRos2, f, x, 1.0, 4); },
        kGtSteamPower);
  }
  return 0;
}
