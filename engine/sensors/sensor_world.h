// One run of the generic sensor block for one world (host-device): unpacks the fault field,
// runs SensorStep (noise_math.h) and updates the KPI counters. The CPU driver
// (SensorBlock::Update) and the device driver (UpdateDevice) both call SensorWorldStep.
#pragma once

#include <cstdint>
#include <cstring>

#include "engine/rng.h"
#include "engine/sensors/noise_math.h"
#include "gpu/host_device.h"

namespace ftwin {

/// Layout of the sensor block's fault field (doubles, so it snapshots with the rest of the
/// State).
enum SensorFaultSlot {
  kSensorSlotStuck,
  kSensorSlotStuckValue,
  kSensorSlotDrift,
  kSensorSlotDriftRate,
  kSensorSlotDriftStart,
  kSensorSlotIntermittent,
  kSensorSlotDead,
  kSensorSlotDeadValue,
  kSensorSlotBurstSigma,
  kSensorFaultSlots,
};

/// Running statistics for the KPIs.
enum SensorCounterSlot {
  kSensorRuns,
  kSensorValidRuns,
  kSensorSquaredErrorSum,
  kSensorCounterSlots
};

/// One world's fields of a sensor block.
struct SensorWorld {
  const double* truth;   ///< input port
  const double* faults;  ///< kSensorFaultSlots
  double* model_state;   ///< kSensorModelStateSize
  double* ring;          ///< latency ring (nullptr without latency)
  double* value;         ///< output port
  uint8_t* valid;        ///< output port
  double* truth_copy;
  double* counters;  ///< kSensorCounterSlots
};

/// Runs the sensor chain for one world. `rng` is the block's stream base for this world;
/// `time_s` is the end of the step the run advances over.
FTWIN_HD inline void SensorWorldStep(const SensorModelParams& params, CounterRng rng, int64_t tick,
                                     double time_s, double period_s, const SensorWorld& w) {
  const double truth = w.truth[0];
  const double* f = w.faults;
  SensorFaultState fault;
  fault.stuck = f[kSensorSlotStuck] != 0.0;
  fault.stuck_value = f[kSensorSlotStuckValue];
  fault.drift = f[kSensorSlotDrift] != 0.0;
  fault.drift_rate_per_s = f[kSensorSlotDriftRate];
  fault.drift_start_s = f[kSensorSlotDriftStart];
  fault.intermittent_probability = f[kSensorSlotIntermittent];
  fault.dead = f[kSensorSlotDead] != 0.0;
  fault.dead_value = f[kSensorSlotDeadValue];
  fault.burst_sigma = f[kSensorSlotBurstSigma];
  SensorModelState state;
  memcpy(static_cast<void*>(&state), w.model_state, sizeof(state));
  const SensorReading reading =
      SensorStep(params, fault, &state, w.ring, rng, tick, time_s, period_s, truth);
  memcpy(w.model_state, &state, sizeof(state));
  w.value[0] = reading.value;
  w.valid[0] = static_cast<uint8_t>(reading.valid);
  w.truth_copy[0] = truth;
  double* counters = w.counters;
  counters[kSensorRuns] += 1.0;
  if (reading.valid) {
    counters[kSensorValidRuns] += 1.0;
    counters[kSensorSquaredErrorSum] += (reading.value - truth) * (reading.value - truth);
  }
}

}  // namespace ftwin
