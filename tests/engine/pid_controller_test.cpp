// PID controller math: proportional/integral action, anti-windup, rate limit.
#include "engine/blocks/pid_math.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace ftwin {
namespace {

TEST_CASE("PI control of a first-order plant removes the steady-state error", "[pid]") {
  // Plant: tau dy/dt = -y + u (exact ZOH step). PI with kp = 2, ki = 1/s.
  PidParams params;
  params.kp = 2.0;
  params.ki = 1.0;
  PidState state;
  double y = 0.0;
  const double dt = 0.01, tau = 1.0;
  for (int k = 0; k < 3000; ++k) {
    const double u = PidStep(params, 1.0, y, dt, &state);
    y = y * std::exp(-dt / tau) + (1.0 - std::exp(-dt / tau)) * u;
  }
  CHECK(y == Approx(1.0).margin(1e-6));
  // The integral carries the whole steady-state output (u = y = 1 for this plant).
  CHECK(state.integral == Approx(1.0).margin(1e-5));
}

TEST_CASE("Anti-windup keeps the integral bounded while saturated", "[pid]") {
  PidParams params;
  params.kp = 1.0;
  params.ki = 10.0;
  params.output_min = 0.0;
  params.output_max = 1.0;
  PidState state;
  // A large error the actuator cannot remove: the output saturates, the integral must not grow.
  for (int k = 0; k < 1000; ++k) CHECK(PidStep(params, 100.0, 0.0, 0.01, &state) <= 1.0);
  CHECK(state.integral < 1.0);
  // When the error reverses, the output leaves saturation at once (no wind-up delay).
  const double output = PidStep(params, -1.0, 0.0, 0.01, &state);
  CHECK(output < 1.0);
}

TEST_CASE("The output rate limit bounds each step's change", "[pid]") {
  PidParams params;
  params.kp = 100.0;
  params.rate_limit_per_s = 5.0;
  PidState state;
  double previous = 0.0;
  for (int k = 0; k < 100; ++k) {
    const double output = PidStep(params, 1.0, 0.0, 0.1, &state);
    CHECK(std::fabs(output - previous) <= 0.5 + 1e-12);
    previous = output;
  }
  // 100 steps of at most 0.5 each: still climbing towards kp * error = 100.
  CHECK(previous == Approx(50.0));
}

}  // namespace
}  // namespace ftwin
