// Discrete-event simulation of one world of a wafer fab: lots, tools, queues and the event
// calendar, advanced to each tick boundary by the fab_line block (fab_line.h). Everything that
// changes lives in FabWorld, which saves and loads itself exactly (snapshots, state hash).
//
// Event semantics (all times integer ns):
//   release     a release stream creates lots_per_release lots (held while WIP >= CONWIP level)
//   arrive      a lot reaches the queue of its step's tool family (after transport)
//   setup_end   the tool's setup ends and processing starts (E10 scheduled down -> productive)
//   tool_free   the tool may start the next job (cascading tools free before the lot is done)
//   lot_done    a lot finishes its step: rework / sampling decide the next step
//   down, repair, pm_due, pm_end: breakdowns and PMs; they never preempt a job: a tool that is
//               busy goes down when its current job frees it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/event_calendar.h"
#include "engine/rng.h"
#include "engine/state.h"
#include "plants/fab/fab_model.h"

namespace ftwin::fab {

enum EventKind : int32_t {
  kEvRelease,
  kEvArrive,
  kEvSetupEnd,
  kEvToolFree,
  kEvLotDone,
  kEvDown,
  kEvRepair,
  kEvPmDue,
  kEvPmEnd,
  kEvDecisionTimeout,
};

struct Event {
  int32_t kind;
  int32_t a;     ///< lot slot, tool or stream
  int32_t b;     ///< calendar instance, ...
  uint32_t tag;  ///< tool job version or lot id check
};

/// SEMI E10 equipment states.
enum E10State : int32_t {
  kProductive,
  kStandby,
  kEngineering,
  kScheduledDown,    ///< PM and setups
  kUnscheduledDown,  ///< breakdowns
  kNonScheduled,     ///< switched off by command
  kE10Count,
};
const char* E10Name(int state);

struct Lot {
  int64_t id;
  int64_t release_ns;
  int64_t due_ns;
  int64_t queue_since_ns;
  int64_t cqt_deadline_ns;
  int32_t product;
  int32_t position;
  int32_t wafers;
  int32_t priority;
  int32_t pin_position;  ///< route position pinned to pin_tool (-1 = none)
  int32_t pin_tool;
  int32_t cqt_position;  ///< position that must start before cqt_deadline_ns (-1 = none)
  int32_t last_tool;
  int32_t stream;  ///< release stream (-1 = initial WIP)
  int32_t reworks;
  int32_t metrology_spec;    ///< spec measured when the running step ends (-1 = none)
  int32_t unused_padding;    ///< keeps the struct free of padding bytes (it is hashed raw)
  int64_t metrology_wafers;  ///< the tool's wafers since its PM when the job started
  uint64_t metrology_draw;   ///< RNG counter of the lot-to-lot variation draw
};

struct Tool {
  int64_t state_since_ns;
  int64_t pm_hold_until_ns;  ///< PMs due earlier wait until this time (pm_postpone)
  std::array<int64_t, kE10Count> e10_ns;
  int32_t family;
  int32_t e10_state;
  int32_t busy;   ///< 1 while occupied by a job (setup or processing)
  int32_t down;   ///< 1 while down / in PM / switched off
  int32_t setup;  ///< current setup (-1 = none)
  int32_t runs_since_setup;
  uint32_t pending_down_mask;  ///< calendar instances (local index) waiting for the job end
  uint32_t pending_pm_mask;
  int32_t pending_off;
  int32_t off;
  uint32_t version;           ///< bumped when a job is started (tool_free tag)
  int32_t active_calendar;    ///< local instance of the running down/PM, -1 = none
  int32_t idle;               ///< 1 while in the family's idle list
  int32_t awaiting;           ///< 1 while an external (AI) dispatch decision is awaited
  uint32_t decision_version;  ///< bumped per decision request (timeout event tag)
  int32_t fallback;           ///< 1 while the family rule decides after a timeout
  int64_t wafers_since_pm;    ///< wafers processed since the last PM ended (metrology drift)
  int64_t track_ins;          ///< lots started on the tool since the start (MES track-in)
  int64_t track_outs;         ///< lots that finished their step on it (MES track-out)
};

/// A tool's chamber trace (Family::chamber): value(t) = target + (value0 - target) *
/// exp(-(t - since) / tau), re-anchored whenever the target changes.
struct ChamberTrace {
  int64_t since_ns;
  double pressure0_Pa, temperature0_K;
  double target_pressure_Pa, target_temperature_K;
};

/// Measurements of one metrology spec in a world (FabConfig::metrology).
struct MetrologyStats {
  int64_t count;           ///< lots measured since the start
  int64_t out_of_spec;     ///< of which outside [lower_spec, upper_spec]
  double sum, sum_sq;      ///< of the measured values
  double last;             ///< mean of the lots measured in the last drained interval
  int64_t interval_count;  ///< lots measured since the last DrainMetrology
  double interval_sum;
};

/// One completed lot (the completion log).
struct Completion {
  int64_t lot_id;
  int64_t release_ns;
  int64_t finish_ns;
  int64_t due_ns;
  int32_t product;
  int32_t priority;
  int32_t wafers;
  int32_t reworks;
};

/// Counters of a world, updated by events.
struct FabCounters {
  int64_t released_lots;
  int64_t finished_lots;
  int64_t finished_wafers;
  int64_t setups;
  int64_t cqt_violations;
  int64_t reworks;
  int64_t events;
  int64_t wip_lots;
  int64_t last_wip_change_ns;
  int64_t next_lot_id;
  int64_t time_ns;  ///< the simulated time this world has been advanced to
  int64_t held_releases;
  int64_t ai_decisions;      ///< dispatch decisions taken by command
  int64_t ai_timeouts;       ///< decisions that fell back to the family rule
  uint64_t metrology_draws;  ///< lot-to-lot variation draws so far (their RNG counters)
};

/// Controls an operator or AI may change during the run (block commands).
struct FabControls {
  double release_rate_factor;  ///< interarrival times are divided by this
  int64_t conwip_level;        ///< 0 = no CONWIP
};

/// Per-calendar-instance state (one per tool and attached calendar).
struct CalendarInstance {
  int32_t calendar;  ///< index into down_calendars or pm_calendars
  int32_t is_pm;
  double pieces_left;       ///< by-pieces PMs: pieces until due
  int64_t pm_due_ns = -1;   ///< time-based PMs: when the scheduled pm_due event falls
  uint32_t pm_version = 0;  ///< pm_due events with another tag are stale (pm_advance)
};

/// Random stream numbers inside a fab world (each has its own counter).
enum FabStream : int {
  kStreamRelease,
  kStreamProcess,
  kStreamDown,
  kStreamPm,
  kStreamTransport,
  kStreamRouting,  ///< sampling and rework
  kFabStreamCount,
};

struct DispatchKey;  // fab_sim.cpp

class FabWorld final : public WorldAux {
 public:
  explicit FabWorld(const FabConfig* config);

  /// Sets the random streams (one per FabStream); call before Start.
  void SetRngs(const std::array<CounterRng, kFabStreamCount>& rngs) { rngs_ = rngs; }

  /// Schedules the first releases, breakdowns and PMs and puts the initial WIP in its queues.
  void Start(int64_t now_ns = 0);
  /// Runs every event with time <= end_ns, then closes E10 and WIP accounting at end_ns.
  void AdvanceTo(int64_t end_ns);

  // Controls.
  void SetReleaseRate(double factor);
  void SetConwip(int64_t level);
  void SetToolOff(int32_t tool, bool off);
  void PostponePm(int32_t tool, int64_t until_ns);
  /// Pulls the tool's time-based PMs due within (now, now + window_ns] forward to now (the PM
  /// cycle restarts from now); cancels a postponement. Returns the number advanced.
  int AdvancePm(int32_t tool, int64_t window_ns);
  /// Product-mix control: releases of `product` run at `factor` x their rate (on top of the
  /// global release_rate factor); applies from each stream's next interarrival draw.
  void SetProductRate(int32_t product, double factor);
  double product_rate(int32_t product) const { return product_rate_[static_cast<size_t>(product)]; }
  void SetRule(int32_t family, DispatchRule rule);
  /// External dispatch: starts the lot at `queue_index` of the tool's family queue (arrival
  /// order) on `tool`, which must be awaiting a decision. False when not possible (the
  /// decision then times out to the family rule).
  bool DispatchByCommand(int32_t tool, int32_t queue_index);
  /// Minimum-batch-size policy: batching steps on `family` start once `wafers` wafers wait
  /// (instead of the data's batch_min_wafers); wafers < 0 restores the data's minimum. Idle
  /// tools of the family are re-dispatched at once (a lower minimum may start a batch now).
  void SetBatchMin(int32_t family, int32_t wafers);
  int32_t batch_min_override(int32_t family) const {
    return batch_min_override_[static_cast<size_t>(family)];
  }
  /// Batch start decision: the idle tool starts its best lot now with the batch mates that fit,
  /// even below the minimum batch. False when the tool is busy, down or its queue is empty.
  bool StartBatchNow(int32_t tool);

  const FabCounters& counters() const { return counters_; }
  const std::vector<MetrologyStats>& metrology() const { return metrology_; }
  /// Ends a reporting interval: `last` becomes the mean of the lots measured since the previous
  /// call (unchanged when none was).
  void DrainMetrology();
  const FabControls& controls() const { return controls_; }
  const std::vector<Completion>& completions() const { return completions_; }
  const std::vector<Tool>& tools() const { return tools_; }
  /// Chamber pressure [Pa] and temperature [K] of a tool at `now` (>= its last state change);
  /// 0 for tools of families without a chamber.
  double ChamberPressure(int32_t tool, int64_t now) const;
  double ChamberTemperature(int32_t tool, int64_t now) const;
  const std::vector<int32_t>& queue(int32_t family) const {
    return queues_[static_cast<size_t>(family)];
  }
  const Lot& lot(int32_t slot) const { return lots_[static_cast<size_t>(slot)]; }
  /// Energy drawn by all tools since the start [J] (idle or busy power per E10 state).
  double energy_J() const { return energy_J_; }
  /// ∫ WIP dt since the start [lot s] (time-average WIP = this / elapsed time).
  double wip_area_lot_s() const { return wip_area_lot_s_; }
  const EventCalendar<Event>& calendar() const { return calendar_; }
  DispatchRule rule(int32_t family) const { return static_cast<DispatchRule>(rules_[family]); }
  /// Lots currently in the fab (queues, transport, tools).
  int64_t wip() const { return counters_.wip_lots; }

  void Save(ByteWriter& writer) const override;
  void Load(ByteReader& reader) override;

 private:
  int64_t SampleNs(const Dist& dist, int stream);
  double Uniform(int stream);
  void Handle(const CalendarEntry<Event>& entry);
  void Release(int32_t stream, int64_t now);
  void CreateLot(int32_t product, int32_t position, int32_t wafers, int32_t priority,
                 int64_t release_ns, int64_t due_ns, int32_t stream, int64_t now);
  void Enqueue(int32_t slot, int64_t now);
  void Dispatch(int32_t family, int64_t now);
  /// ignore_min: a batch may start below its minimum (a batch start decision).
  bool TryStart(int32_t tool, int64_t now, bool ignore_min = false);
  /// Starts `head` on `tool` (with its batch mates for a batching step); false if a batch
  /// would stay below its minimum.
  bool StartWithHead(int32_t tool, int32_t head, int64_t now, bool ignore_min = false);
  bool Eligible(const Lot& lot, int32_t tool, bool restrict_setup) const;
  void StartJob(int32_t tool, int64_t now);  // starts the lots in scratch_
  void LotDone(int32_t slot, int64_t now);
  void ToolFree(int32_t tool, int64_t now);
  /// After a job or a down period: start pending downs/PMs, or go idle and dispatch.
  void ToolNext(int32_t tool, int64_t now);
  void SetE10(int32_t tool, int32_t state, int64_t now);
  void ChangeWip(int64_t delta, int64_t now);
  void ReleaseHeld(int64_t now);
  void ScheduleNextDown(int32_t instance, int64_t now, bool first);
  void ScheduleNextPm(int32_t instance, int64_t due_ns);
  double ToolPower(const Tool& tool) const;
  void AccountUntil(int64_t now);
  void SetIdle(int32_t tool, bool idle);
  /// Dispatch keys of a lot for a tool: smaller runs first.
  void Key(const Lot& lot, int32_t tool, int64_t now, double* primary, double* secondary,
           double* tertiary) const;
  bool Better(int32_t a, int32_t b, int32_t tool, int64_t now) const;
  /// The full dispatch key of a lot on a tool (CQT-first, the rule's keys, arrival, id).
  DispatchKey KeyOf(const Lot& lot, int32_t tool, int64_t now) const;

  const FabConfig* config_;
  std::array<CounterRng, kFabStreamCount> rngs_{};
  std::array<uint64_t, kFabStreamCount> rng_counters_{};  ///< next counter per stream
  EventCalendar<Event> calendar_;
  std::vector<Lot> lots_;  ///< slots; free ones are listed in free_lots_
  std::vector<int32_t> free_lots_;
  std::vector<std::vector<int32_t>> queues_;  ///< per family, lot slots in arrival order
  std::vector<Tool> tools_;
  std::vector<std::vector<int32_t>> idle_;    ///< per family, idle tools in index order
  std::vector<int32_t> tool_instance_begin_;  ///< calendar instances of tool t
  std::vector<CalendarInstance> instances_;
  std::vector<int64_t> stream_releases_;     ///< releases done per stream
  std::vector<int64_t> stream_held_;         ///< releases held by CONWIP per stream
  std::vector<int32_t> rules_;               ///< dispatch rule per family (changeable)
  std::vector<double> product_rate_;         ///< release rate factor per product (product mix)
  std::vector<int32_t> batch_min_override_;  ///< per family, wafers; -1 = the data's minimum
  std::vector<MetrologyStats> metrology_;
  std::vector<ChamberTrace> chamber_;  ///< per tool (empty entries for chamberless families)
  /// Moves a chamber trace to the targets of the tool's current state (call after a change).
  void RetargetChamber(int32_t tool, int64_t now);
  std::vector<Completion> completions_;
  FabCounters counters_{};
  FabControls controls_{};
  double energy_J_ = 0.0;
  double wip_area_lot_s_ = 0.0;
  int32_t last_created_ = -1;  ///< slot of the lot CreateLot made last
  // Scratch for batch formation (not state; rebuilt on each use).
  std::vector<int32_t> scratch_;
  std::vector<int32_t> tried_steps_;
};

}  // namespace ftwin::fab
