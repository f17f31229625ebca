// Discrete PID controller math (host-device): parallel form, derivative on measurement with a
// first-order filter, output limits with conditional-integration anti-windup, and an output
// rate limit. Åström & Hägglund, "Advanced PID Control" (2006), ch. 3.
#pragma once

#include <cmath>
#include <cstdint>

#include "gpu/host_device.h"

namespace ftwin {

struct PidParams {
  double kp = 1.0;                   ///< proportional gain [output unit / measurement unit]
  double ki = 0.0;                   ///< integral gain [output unit / (measurement unit * s)]
  double kd = 0.0;                   ///< derivative gain [output unit * s / measurement unit]
  double derivative_filter_s = 0.0;  ///< time constant of the derivative low-pass [s]
  double output_min = -INFINITY;
  double output_max = INFINITY;
  double rate_limit_per_s = INFINITY;  ///< max |d output / dt| [output unit / s]
  bool reverse_acting = false;         ///< error = measurement - setpoint (e.g. cooling)
};

struct PidState {
  double integral = 0.0;    ///< ki * ∫e dt, kept in output units
  double derivative = 0.0;  ///< filtered derivative term
  double previous_measurement = 0.0;
  double output = 0.0;
  bool initialised = false;
};

/// One controller step of length dt_s; returns the new output (also in state->output).
FTWIN_HD inline double PidStep(const PidParams& p, double setpoint, double measurement, double dt_s,
                               PidState* state) {
  const double error = p.reverse_acting ? measurement - setpoint : setpoint - measurement;
  const double sign = p.reverse_acting ? -1.0 : 1.0;
  if (!state->initialised) {
    state->previous_measurement = measurement;
    state->initialised = true;
  }
  // Derivative on measurement (no kick on setpoint steps), filtered: Tf dD/dt + D = -kd dy/dt,
  // discretised with backward Euler so it is stable for any dt.
  const double measurement_rate = (measurement - state->previous_measurement) / dt_s;
  const double alpha = p.derivative_filter_s / (p.derivative_filter_s + dt_s);
  state->derivative = alpha * state->derivative - (1.0 - alpha) * sign * p.kd * measurement_rate;
  state->previous_measurement = measurement;

  const double proportional = p.kp * error;
  const double candidate_integral = state->integral + p.ki * error * dt_s;
  double unclamped = proportional + candidate_integral + state->derivative;
  double output = fmin(fmax(unclamped, p.output_min), p.output_max);
  // Conditional integration: integrate only if that does not push further into saturation.
  const bool saturated_high = unclamped > p.output_max && error * (p.ki >= 0 ? 1 : -1) > 0;
  const bool saturated_low = unclamped < p.output_min && error * (p.ki >= 0 ? 1 : -1) < 0;
  if (!saturated_high && !saturated_low) state->integral = candidate_integral;
  // Rate limit.
  const double max_change = p.rate_limit_per_s * dt_s;
  output = fmin(fmax(output, state->output - max_change), state->output + max_change);
  state->output = output;
  return output;
}

/// Layout of the pid_controller block's per-world fields (State field "<block>.pid_state", f64 x
/// kPidSlots, and "<block>.stats", f64 x kPidStatsSlots).
enum PidSlot {
  kPidIntegral,
  kPidDerivative,
  kPidPreviousMeasurement,
  kPidOutput,
  kPidInitialised,
  kPidSlots
};
enum PidStatsSlot { kPidSumSquaredErrorTime, kPidOutputIntegral, kPidElapsed, kPidStatsSlots };

/// One world's fields of a pid_controller block.
struct PidWorld {
  double* slots;              ///< kPidSlots
  const double* setpoint;     ///< 1
  const double* measurement;  ///< 1
  const uint8_t* stuck;       ///< 1: the output_stuck fault
  double* command;            ///< 1: output port
  double* stats;              ///< kPidStatsSlots
};

/// One run of the pid_controller block for one world (the CPU driver, Update, and the device
/// driver, UpdateDevice, both call this): a PidStep unless the output is stuck, plus the KPI sums.
FTWIN_HD inline void PidWorldStep(const PidParams& p, double period_s, const PidWorld& w) {
  double* slots = w.slots;
  PidState state{slots[kPidIntegral], slots[kPidDerivative], slots[kPidPreviousMeasurement],
                 slots[kPidOutput], slots[kPidInitialised] != 0.0};
  const double setpoint = w.setpoint[0];
  const double measurement = w.measurement[0];
  double output = state.output;
  if (w.stuck[0] == 0) output = PidStep(p, setpoint, measurement, period_s, &state);
  slots[kPidIntegral] = state.integral;
  slots[kPidDerivative] = state.derivative;
  slots[kPidPreviousMeasurement] = state.previous_measurement;
  slots[kPidOutput] = output;
  slots[kPidInitialised] = state.initialised ? 1.0 : 0.0;
  w.command[0] = output;
  double* stats = w.stats;
  const double error = setpoint - measurement;
  stats[kPidSumSquaredErrorTime] += error * error * period_s;
  stats[kPidOutputIntegral] += fabs(output) * period_s;
  stats[kPidElapsed] += period_s;
}

}  // namespace ftwin
