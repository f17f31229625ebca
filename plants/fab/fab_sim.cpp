#include "plants/fab/fab_sim.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ftwin::fab {
namespace {

constexpr int64_t kNsPerS = 1'000'000'000;

int64_t ToNs(double seconds) {
  return seconds <= 0 ? 0 : static_cast<int64_t>(std::llround(seconds * 1e9));
}

// Same-time order: finishing work frees resources before new work asks for them.
enum EventPriority : int32_t {
  kPrioLotDone = 0,
  kPrioSetupEnd = 1,
  kPrioToolFree = 2,
  kPrioMaintenance = 3,
  kPrioArrive = 4,
  kPrioRelease = 5,
  kPrioDecision = 6,  // after the arrivals of the same instant: the rule sees them all
};

static_assert(std::has_unique_object_representations_v<Lot>);
static_assert(std::has_unique_object_representations_v<Tool>);
static_assert(std::has_unique_object_representations_v<Completion>);
static_assert(std::has_unique_object_representations_v<FabCounters>);

template <class T>
void SaveVectors(ByteWriter& writer, const std::vector<std::vector<T>>& vectors) {
  writer.Value<uint64_t>(vectors.size());
  for (const auto& vector : vectors) writer.Vector(vector);
}
template <class T>
void LoadVectors(ByteReader& reader, std::vector<std::vector<T>>* vectors) {
  const uint64_t count = reader.Value<uint64_t>();
  if (count != vectors->size()) throw std::runtime_error("fab snapshot does not match the model");
  for (auto& vector : *vectors) {
    const size_t capacity = vector.capacity();
    reader.Vector(&vector);
    vector.reserve(capacity);
  }
}

}  // namespace

// The order in which a tool takes lots: smaller first.
struct DispatchKey {
  int64_t cqt_deadline;  ///< families with cqt_first: running CQT deadline, else INT64_MAX
  double primary, secondary, tertiary;
  int64_t since, id;
  bool operator<(const DispatchKey& other) const {
    if (cqt_deadline != other.cqt_deadline) return cqt_deadline < other.cqt_deadline;
    if (primary != other.primary) return primary < other.primary;
    if (secondary != other.secondary) return secondary < other.secondary;
    if (tertiary != other.tertiary) return tertiary < other.tertiary;
    if (since != other.since) return since < other.since;
    return id < other.id;
  }
};

const char* E10Name(int state) {
  static constexpr const char* kNames[] = {"productive",     "standby",          "engineering",
                                           "scheduled_down", "unscheduled_down", "non_scheduled"};
  return kNames[state];
}

FabWorld::FabWorld(const FabConfig* config) : config_(config), calendar_(4096) {
  const size_t families = config->families.size();
  queues_.resize(families);
  idle_.resize(families);
  rules_.resize(families);
  for (size_t f = 0; f < families; ++f) {
    rules_[f] = static_cast<int32_t>(config->families[f].rule);
    queues_[f].reserve(256);
    idle_[f].reserve(static_cast<size_t>(config->families[f].num_tools));
  }
  tools_.resize(static_cast<size_t>(config->num_tools()));
  for (int32_t t = 0; t < config->num_tools(); ++t) {
    Tool& tool = tools_[static_cast<size_t>(t)];
    tool = Tool{};
    tool.family = config->tool_family[static_cast<size_t>(t)];
    tool.e10_state = kStandby;
    tool.setup = -1;
    tool.active_calendar = -1;
    tool.pm_hold_until_ns = INT64_MIN;
    tool_instance_begin_.push_back(static_cast<int32_t>(instances_.size()));
    const Family& family = config->families[static_cast<size_t>(tool.family)];
    for (int32_t calendar : family.down_calendars) instances_.push_back({calendar, 0, 0.0, -1, 0});
    for (int32_t calendar : family.pm_calendars) instances_.push_back({calendar, 1, 0.0, -1, 0});
  }
  tool_instance_begin_.push_back(static_cast<int32_t>(instances_.size()));
  stream_releases_.assign(config->releases.size(), 0);
  stream_held_.assign(config->releases.size(), 0);
  lots_.reserve(1024);
  free_lots_.reserve(1024);
  completions_.reserve(4096);
  scratch_.reserve(static_cast<size_t>(config->max_batch_lots) + 8);
  tried_steps_.reserve(16);
  controls_.release_rate_factor = 1.0;
  controls_.conwip_level = 0;
  product_rate_.assign(config->products.size(), 1.0);
  batch_min_override_.assign(config->families.size(), -1);
  chamber_.assign(tools_.size(), ChamberTrace{});
  for (size_t t = 0; t < tools_.size(); ++t) {
    // Tools start in standby, settled at the idle values.
    const ChamberSpec& chamber = config->families[static_cast<size_t>(tools_[t].family)].chamber;
    chamber_[t] = {0, chamber.idle_pressure_Pa, chamber.idle_temperature_K,
                   chamber.idle_pressure_Pa, chamber.idle_temperature_K};
  }
  metrology_.assign(config->metrology.size(), MetrologyStats{});
  for (size_t m = 0; m < metrology_.size(); ++m) metrology_[m].last = config->metrology[m].nominal;
}

double FabWorld::Uniform(int stream) {
  return rngs_[static_cast<size_t>(stream)].Uniform(rng_counters_[static_cast<size_t>(stream)]++);
}

int64_t FabWorld::SampleNs(const Dist& dist, int stream) {
  if (dist.kind == DistKind::kConstant) return ToNs(dist.mean_s);
  return ToNs(dist.Sample(Uniform(stream)));
}

void FabWorld::Start(int64_t now) {
  counters_.time_ns = now;
  counters_.last_wip_change_ns = now;
  for (Tool& tool : tools_) tool.state_since_ns = now;
  for (ChamberTrace& trace : chamber_) trace.since_ns = now;
  for (size_t s = 0; s < config_->releases.size(); ++s)
    calendar_.Push(now + ToNs(config_->releases[s].start_s), kPrioRelease,
                   {kEvRelease, static_cast<int32_t>(s), 0, 0});
  for (const InitialLot& lot : config_->initial_wip) {
    CreateLot(lot.product, lot.position, lot.wafers, lot.priority,
              static_cast<int64_t>(std::llround(lot.release_s * 1e9)),
              static_cast<int64_t>(std::llround(lot.due_s * 1e9)), -1, now);
    calendar_.Push(now, kPrioArrive, {kEvArrive, last_created_, 0, 0});
  }
  for (int32_t t = 0; t < config_->num_tools(); ++t) {
    for (int32_t i = tool_instance_begin_[static_cast<size_t>(t)];
         i < tool_instance_begin_[static_cast<size_t>(t) + 1]; ++i) {
      CalendarInstance& instance = instances_[static_cast<size_t>(i)];
      if (!instance.is_pm) {
        ScheduleNextDown(i, now, true);
      } else {
        const PmCalendar& pm = config_->pm_calendars[static_cast<size_t>(instance.calendar)];
        double first = pm.first >= 0 ? pm.first : pm.interval;
        if (pm.stagger_first) {
          // Tool k of n in the family gets (k + 1) / n of the first occurrence, so that the
          // tools of a family do not all go to PM at once (SMT2020 constant FOA).
          const Tool& tool = tools_[static_cast<size_t>(t)];
          const int32_t k = t - config_->family_first_tool[static_cast<size_t>(tool.family)];
          const int32_t n = config_->families[static_cast<size_t>(tool.family)].num_tools;
          first = first * (k + 1) / n;
        }
        if (pm.by_pieces)
          instance.pieces_left = first;
        else
          ScheduleNextPm(i, now + ToNs(first));
      }
    }
    SetIdle(t, true);
  }
}

void FabWorld::ScheduleNextDown(int32_t instance, int64_t now, bool first) {
  const DownCalendar& down =
      config_
          ->down_calendars[static_cast<size_t>(instances_[static_cast<size_t>(instance)].calendar)];
  const Dist& dist = first && down.first.mean_s > 0 ? down.first : down.mttf;
  const int32_t tool = static_cast<int32_t>(
      std::upper_bound(tool_instance_begin_.begin(), tool_instance_begin_.end(), instance) -
      tool_instance_begin_.begin() - 1);
  calendar_.Push(now + SampleNs(dist, kStreamDown), kPrioMaintenance, {kEvDown, tool, instance, 0});
}

void FabWorld::ScheduleNextPm(int32_t instance, int64_t due_ns) {
  const int32_t tool = static_cast<int32_t>(
      std::upper_bound(tool_instance_begin_.begin(), tool_instance_begin_.end(), instance) -
      tool_instance_begin_.begin() - 1);
  CalendarInstance& entry = instances_[static_cast<size_t>(instance)];
  entry.pm_due_ns = due_ns;
  calendar_.Push(due_ns, kPrioMaintenance, {kEvPmDue, tool, instance, entry.pm_version});
}

void FabWorld::AdvanceTo(int64_t end_ns) {
  const int64_t handled =
      calendar_.RunUntil(end_ns, [this](const CalendarEntry<Event>& entry) { Handle(entry); });
  counters_.events += handled;
  AccountUntil(end_ns);
  counters_.time_ns = end_ns;
}

void FabWorld::Handle(const CalendarEntry<Event>& entry) {
  const int64_t now = entry.time_ns;
  const Event& event = entry.payload;
  switch (event.kind) {
    case kEvRelease:
      Release(event.a, now);
      break;
    case kEvArrive:
      Enqueue(event.a, now);
      break;
    case kEvSetupEnd:
      if (tools_[static_cast<size_t>(event.a)].version == event.tag)
        SetE10(event.a, kProductive, now);
      break;
    case kEvToolFree:
      if (tools_[static_cast<size_t>(event.a)].version == event.tag) ToolFree(event.a, now);
      break;
    case kEvLotDone:
      LotDone(event.a, now);
      break;
    case kEvDown: {
      Tool& tool = tools_[static_cast<size_t>(event.a)];
      tool.pending_down_mask |= 1u
                                << (event.b - tool_instance_begin_[static_cast<size_t>(event.a)]);
      if (!tool.busy && !tool.down) ToolNext(event.a, now);
      break;
    }
    case kEvRepair:
    case kEvPmEnd: {
      Tool& tool = tools_[static_cast<size_t>(event.a)];
      if (event.kind == kEvPmEnd) tool.wafers_since_pm = 0;  // the PM restores the process
      tool.down = 0;
      tool.active_calendar = -1;
      if (event.kind == kEvRepair) ScheduleNextDown(event.b, now, false);
      ToolNext(event.a, now);
      break;
    }
    case kEvPmDue: {
      Tool& tool = tools_[static_cast<size_t>(event.a)];
      CalendarInstance& instance = instances_[static_cast<size_t>(event.b)];
      if (event.tag != instance.pm_version) break;  // superseded by pm_advance
      if (now < tool.pm_hold_until_ns) {            // postponed by command
        instance.pm_due_ns = tool.pm_hold_until_ns;
        calendar_.Push(tool.pm_hold_until_ns, kPrioMaintenance, event);
        break;
      }
      tool.pending_pm_mask |= 1u << (event.b - tool_instance_begin_[static_cast<size_t>(event.a)]);
      const PmCalendar& pm = config_->pm_calendars[static_cast<size_t>(
          instances_[static_cast<size_t>(event.b)].calendar)];
      ScheduleNextPm(event.b, now + ToNs(pm.interval));
      if (!tool.busy && !tool.down) ToolNext(event.a, now);
      break;
    }
    case kEvDecisionTimeout: {
      Tool& tool = tools_[static_cast<size_t>(event.a)];
      if (!tool.awaiting || tool.decision_version != event.tag) break;
      tool.awaiting = 0;
      ++counters_.ai_timeouts;
      tool.fallback = 1;
      TryStart(event.a, now);
      tool.fallback = 0;
      break;
    }
    default:
      break;
  }
}

void FabWorld::Release(int32_t stream, int64_t now) {
  const ReleaseStream& release = config_->releases[static_cast<size_t>(stream)];
  ++stream_releases_[static_cast<size_t>(stream)];
  for (int32_t k = 0; k < release.lots_per_release; ++k) {
    if (controls_.conwip_level > 0 && counters_.wip_lots >= controls_.conwip_level) {
      ++stream_held_[static_cast<size_t>(stream)];
      ++counters_.held_releases;
      continue;
    }
    CreateLot(release.product, 0, release.wafers, release.priority, now,
              now + ToNs(release.due_after_s), stream, now);
    Enqueue(last_created_, now);
  }
  if (release.count == 0 || stream_releases_[static_cast<size_t>(stream)] < release.count) {
    const double interval_s = release.interval.kind == DistKind::kConstant
                                  ? release.interval.mean_s
                                  : release.interval.Sample(Uniform(kStreamRelease));
    const double factor =
        controls_.release_rate_factor * product_rate_[static_cast<size_t>(release.product)];
    calendar_.Push(now + ToNs(interval_s / factor), kPrioRelease, {kEvRelease, stream, 0, 0});
  }
}

void FabWorld::ReleaseHeld(int64_t now) {
  while (counters_.held_releases > 0 &&
         (controls_.conwip_level <= 0 || counters_.wip_lots < controls_.conwip_level)) {
    size_t stream = 0;
    while (stream_held_[stream] == 0) ++stream;
    --stream_held_[stream];
    --counters_.held_releases;
    const ReleaseStream& release = config_->releases[stream];
    CreateLot(release.product, 0, release.wafers, release.priority, now,
              now + ToNs(release.due_after_s), static_cast<int32_t>(stream), now);
    Enqueue(last_created_, now);
  }
}

void FabWorld::CreateLot(int32_t product, int32_t position, int32_t wafers, int32_t priority,
                         int64_t release_ns, int64_t due_ns, int32_t stream, int64_t now) {
  int32_t slot;
  if (!free_lots_.empty()) {
    slot = free_lots_.back();
    free_lots_.pop_back();
  } else {
    slot = static_cast<int32_t>(lots_.size());
    lots_.emplace_back();
  }
  Lot& lot = lots_[static_cast<size_t>(slot)];
  lot = Lot{};
  lot.id = counters_.next_lot_id++;
  lot.release_ns = release_ns;
  lot.due_ns = due_ns;
  lot.queue_since_ns = now;
  lot.cqt_deadline_ns = 0;
  lot.product = product;
  lot.position = position;
  lot.wafers = wafers;
  lot.priority = priority;
  lot.pin_position = -1;
  lot.pin_tool = -1;
  lot.cqt_position = -1;
  lot.last_tool = -1;
  lot.stream = stream;
  lot.metrology_spec = -1;
  last_created_ = slot;
  ++counters_.released_lots;
  ChangeWip(+1, now);
}

void FabWorld::Enqueue(int32_t slot, int64_t now) {
  Lot& lot = lots_[static_cast<size_t>(slot)];
  lot.queue_since_ns = now;
  const Step& step =
      config_->products[static_cast<size_t>(lot.product)].route[static_cast<size_t>(lot.position)];
  queues_[static_cast<size_t>(step.family)].push_back(slot);
  const std::vector<int32_t>& idle = idle_[static_cast<size_t>(step.family)];
  if (idle.empty()) return;
  if (step.setup >= 0 && config_->families[static_cast<size_t>(step.family)].wake_least_setup) {
    // Wake the idle tool that needs the least setup for this lot (ties: lowest index) first.
    int32_t best = -1;
    double best_setup = 0.0;
    for (int32_t tool : idle) {
      const int32_t current = tools_[static_cast<size_t>(tool)].setup;
      const double setup =
          current == step.setup ? 0.0 : config_->SetupTime(current, step.setup, step);
      if (best < 0 || setup < best_setup) {
        best = tool;
        best_setup = setup;
      }
    }
    TryStart(best, now);
  }
  Dispatch(step.family, now);
}

void FabWorld::Dispatch(int32_t family, int64_t now) {
  std::vector<int32_t>& idle = idle_[static_cast<size_t>(family)];
  const std::vector<int32_t>& queue = queues_[static_cast<size_t>(family)];
  size_t i = 0;
  while (i < idle.size() && !queue.empty()) {
    if (!TryStart(idle[i], now)) ++i;  // a started tool leaves the list; the next one slides in
  }
}

DispatchKey FabWorld::KeyOf(const Lot& lot, int32_t tool, int64_t now) const {
  DispatchKey key{};
  // CQT-first families start lots whose critical queue time runs at this step first, earliest
  // deadline first; the family's rule orders the rest (and breaks ties).
  const int32_t family = tools_[static_cast<size_t>(tool)].family;
  key.cqt_deadline =
      config_->families[static_cast<size_t>(family)].cqt_first && lot.cqt_position == lot.position
          ? lot.cqt_deadline_ns
          : INT64_MAX;
  Key(lot, tool, now, &key.primary, &key.secondary, &key.tertiary);
  key.since = lot.queue_since_ns;
  key.id = lot.id;
  return key;
}

void FabWorld::Key(const Lot& lot, int32_t tool, int64_t now, double* primary, double* secondary,
                   double* tertiary) const {
  const Product& product = config_->products[static_cast<size_t>(lot.product)];
  const Step& step = product.route[static_cast<size_t>(lot.position)];
  const Tool& state = tools_[static_cast<size_t>(tool)];
  auto setup_time = [&] {
    return step.setup >= 0 && step.setup != state.setup
               ? config_->SetupTime(state.setup, step.setup, step)
               : 0.0;
  };
  auto critical_ratio = [&] {
    return static_cast<double>(lot.due_ns - now) * 1e-9 /
           std::max(1.0, product.remaining_s[static_cast<size_t>(lot.position)]);
  };
  *secondary = 0.0;
  *tertiary = 0.0;
  switch (static_cast<DispatchRule>(rules_[static_cast<size_t>(state.family)])) {
    case DispatchRule::kFifo:
      *primary = 0.0;
      break;
    case DispatchRule::kEdd:
      *primary = static_cast<double>(lot.due_ns);
      break;
    case DispatchRule::kCriticalRatio:
      *primary = critical_ratio();
      break;
    case DispatchRule::kSpt:
      *primary = step.mean_time_s;
      break;
    case DispatchRule::kLeastSetup:
      *primary = setup_time();
      break;
    case DispatchRule::kHotLotFirst:
      *primary = -static_cast<double>(lot.priority);
      *secondary = setup_time();
      break;
    case DispatchRule::kStepPriority:
      *primary = -static_cast<double>(step.rank);
      break;
    case DispatchRule::kHotLotFirstCr:
      *primary = -static_cast<double>(lot.priority);
      *secondary = setup_time();
      *tertiary = critical_ratio();
      break;
  }
}

bool FabWorld::Eligible(const Lot& lot, int32_t tool, bool restrict_setup) const {
  if (lot.pin_position == lot.position && lot.pin_tool != tool) return false;
  if (restrict_setup && config_->products[static_cast<size_t>(lot.product)]
                                .route[static_cast<size_t>(lot.position)]
                                .setup != tools_[static_cast<size_t>(tool)].setup)
    return false;
  return true;
}

bool FabWorld::TryStart(int32_t tool, int64_t now, bool ignore_min) {
  Tool& state = tools_[static_cast<size_t>(tool)];
  const Family& family = config_->families[static_cast<size_t>(state.family)];
  const std::vector<int32_t>& queue = queues_[static_cast<size_t>(state.family)];
  if (queue.empty()) return false;
  if (family.delegate_timeout_s > 0 && !state.fallback && !ignore_min) {
    // Delegated family: ask once (the awaiting_decision port), then wait for fab/dispatch or
    // the timeout, which hands the decision back to the family rule.
    if (!state.awaiting) {
      state.awaiting = 1;
      ++state.decision_version;
      calendar_.Push(now + ToNs(family.delegate_timeout_s), kPrioDecision,
                     {kEvDecisionTimeout, tool, 0, state.decision_version});
    }
    return false;
  }
  // Minimum run length: right after a setup, lots of the current setup go first.
  bool restrict_setup = false;
  if (family.min_run > 0 && state.setup >= 0 && state.runs_since_setup < family.min_run) {
    for (int32_t slot : queue) {
      const Lot& lot = lots_[static_cast<size_t>(slot)];
      if (config_->products[static_cast<size_t>(lot.product)]
              .route[static_cast<size_t>(lot.position)]
              .setup == state.setup) {
        restrict_setup = true;
        break;
      }
    }
  }
  tried_steps_.clear();
  for (;;) {
    // Best eligible lot whose (product, position) has not been ruled out for batching.
    int32_t best = -1;
    DispatchKey best_key{};
    for (int32_t slot : queue) {
      const Lot& lot = lots_[static_cast<size_t>(slot)];
      if (!Eligible(lot, tool, restrict_setup)) continue;
      if (!tried_steps_.empty()) {
        const int32_t code = lot.product * 65536 + lot.position;
        if (std::find(tried_steps_.begin(), tried_steps_.end(), code) != tried_steps_.end())
          continue;
      }
      const DispatchKey key = KeyOf(lot, tool, now);
      if (best < 0 || key < best_key) {
        best = slot;
        best_key = key;
      }
    }
    if (best < 0) return false;
    if (StartWithHead(tool, best, now, ignore_min)) return true;
    const Lot& head = lots_[static_cast<size_t>(best)];
    tried_steps_.push_back(head.product * 65536 + head.position);
  }
}

bool FabWorld::StartWithHead(int32_t tool, int32_t best, int64_t now, bool ignore_min) {
  const int32_t family = tools_[static_cast<size_t>(tool)].family;
  const std::vector<int32_t>& queue = queues_[static_cast<size_t>(family)];
  const Lot& head = lots_[static_cast<size_t>(best)];
  const Step& step = config_->products[static_cast<size_t>(head.product)]
                         .route[static_cast<size_t>(head.position)];
  scratch_.clear();
  if (step.batch_max_wafers <= 0) {
    scratch_.push_back(best);
    StartJob(tool, now);
    return true;
  }
  // Batch: the head first, then lots at the same route step in rule order while they fit.
  auto key_of = [&](int32_t slot) {
    const Lot& lot = lots_[static_cast<size_t>(slot)];
    return KeyOf(lot, tool, now);
  };
  for (int32_t slot : queue) {
    const Lot& lot = lots_[static_cast<size_t>(slot)];
    if (slot != best && lot.product == head.product && lot.position == head.position &&
        Eligible(lot, tool, false))
      scratch_.push_back(slot);
  }
  std::sort(scratch_.begin(), scratch_.end(),
            [&](int32_t a, int32_t b) { return key_of(a) < key_of(b); });
  scratch_.insert(scratch_.begin(), best);
  int32_t wafers = 0;
  size_t taken = 0;
  for (int32_t slot : scratch_) {
    const int32_t lot_wafers = lots_[static_cast<size_t>(slot)].wafers;
    if (wafers + lot_wafers > step.batch_max_wafers) continue;
    wafers += lot_wafers;
    scratch_[taken++] = slot;
  }
  scratch_.resize(taken);
  const int32_t override_min = batch_min_override_[static_cast<size_t>(family)];
  const int32_t min_wafers =
      ignore_min ? 1 : (override_min >= 0 ? override_min : step.batch_min_wafers);
  if (wafers < min_wafers || taken == 0) return false;
  StartJob(tool, now);
  return true;
}

bool FabWorld::DispatchByCommand(int32_t tool_index, int32_t queue_index) {
  Tool& tool = tools_[static_cast<size_t>(tool_index)];
  const std::vector<int32_t>& queue = queues_[static_cast<size_t>(tool.family)];
  if (!tool.awaiting || !tool.idle || queue_index < 0 ||
      static_cast<size_t>(queue_index) >= queue.size())
    return false;
  const int32_t slot = queue[static_cast<size_t>(queue_index)];
  if (!Eligible(lots_[static_cast<size_t>(slot)], tool_index, false)) return false;
  if (!StartWithHead(tool_index, slot, counters_.time_ns)) return false;
  tool.awaiting = 0;
  ++tool.decision_version;  // the pending timeout no longer applies
  ++counters_.ai_decisions;
  return true;
}

void FabWorld::StartJob(int32_t tool_index, int64_t now) {
  Tool& tool = tools_[static_cast<size_t>(tool_index)];
  const Family& family = config_->families[static_cast<size_t>(tool.family)];
  std::vector<int32_t>& queue = queues_[static_cast<size_t>(tool.family)];
  // Remove the chosen lots from the queue, keeping the others in arrival order.
  if (scratch_.size() == 1) {
    queue.erase(std::find(queue.begin(), queue.end(), scratch_[0]));
  } else {
    queue.erase(std::remove_if(queue.begin(), queue.end(),
                               [&](int32_t slot) {
                                 return std::find(scratch_.begin(), scratch_.end(), slot) !=
                                        scratch_.end();
                               }),
                queue.end());
  }
  const Lot& head = lots_[static_cast<size_t>(scratch_[0])];
  const Step& step = config_->products[static_cast<size_t>(head.product)]
                         .route[static_cast<size_t>(head.position)];
  int32_t wafers = 0;
  for (int32_t slot : scratch_) wafers += lots_[static_cast<size_t>(slot)].wafers;
  double setup_s = 0.0;
  if (step.setup >= 0 && tool.setup != step.setup) {
    setup_s = config_->SetupTime(tool.setup, step.setup, step);
    tool.setup = step.setup;
    tool.runs_since_setup = 0;
    ++counters_.setups;
  }
  ++tool.runs_since_setup;
  double process_s = step.time.kind == DistKind::kConstant
                         ? step.time.mean_s
                         : step.time.Sample(Uniform(kStreamProcess));
  double occupy_s = process_s;
  if (step.basis == TimeBasis::kPerPiece) {
    if (step.cascade_s > 0) {
      // Piece cascade: the first wafer takes the processing time, each further one the
      // interval; the tool takes the next lot after interval x wafers.
      process_s += step.cascade_s * (wafers - 1);
      occupy_s = step.cascade_s * wafers;
    } else {
      process_s *= wafers;
      occupy_s = process_s;
    }
  } else if (step.cascade_s > 0) {
    occupy_s = step.cascade_s;  // lot cascade: the next job may start after the interval
  }
  const int64_t setup_end = now + ToNs(setup_s);
  const int64_t handling = ToNs(family.load_s) + ToNs(family.unload_s);
  const int64_t lot_done = setup_end + handling + ToNs(process_s);
  // Cascading tools (SMT2020 STNCAP 2) load and unload while processing the next lot.
  const int64_t tool_free = setup_end + (family.cascading ? 0 : handling) + ToNs(occupy_s);
  SetIdle(tool_index, false);
  tool.busy = 1;
  ++tool.version;
  if (setup_end > now) {
    SetE10(tool_index, kScheduledDown, now);
    calendar_.Push(setup_end, kPrioSetupEnd, {kEvSetupEnd, tool_index, 0, tool.version});
  } else {
    SetE10(tool_index, kProductive, now);
  }
  calendar_.Push(tool_free, kPrioToolFree, {kEvToolFree, tool_index, 0, tool.version});
  const int32_t spec_index = config_->family_metrology[static_cast<size_t>(tool.family)];
  for (int32_t slot : scratch_) {
    Lot& lot = lots_[static_cast<size_t>(slot)];
    lot.last_tool = tool_index;
    ++tool.track_ins;
    if (spec_index >= 0) {
      // The process result is fixed now (the tool's drift at the job start); its lot-to-lot
      // variation is a stateless draw from a counter range of its own, so that adding
      // metrology shifts no other random sequence of the fab.
      lot.metrology_spec = spec_index;
      lot.metrology_wafers = tool.wafers_since_pm;
      lot.metrology_draw = (uint64_t{1} << 62) + counters_.metrology_draws++;
    }
    if (lot.cqt_position == lot.position) {
      if (now > lot.cqt_deadline_ns) ++counters_.cqt_violations;
      lot.cqt_position = -1;
    }
    calendar_.Push(lot_done, kPrioLotDone, {kEvLotDone, slot, 0, static_cast<uint32_t>(lot.id)});
  }
  tool.wafers_since_pm += wafers;
  // Piece-counted PMs come due after this job.
  for (int32_t i = tool_instance_begin_[static_cast<size_t>(tool_index)];
       i < tool_instance_begin_[static_cast<size_t>(tool_index) + 1]; ++i) {
    CalendarInstance& instance = instances_[static_cast<size_t>(i)];
    if (!instance.is_pm) continue;
    const PmCalendar& pm = config_->pm_calendars[static_cast<size_t>(instance.calendar)];
    if (!pm.by_pieces) continue;
    instance.pieces_left -= wafers;
    if (instance.pieces_left <= 0) {
      instance.pieces_left += pm.interval;
      tool.pending_pm_mask |= 1u << (i - tool_instance_begin_[static_cast<size_t>(tool_index)]);
    }
  }
}

void FabWorld::ToolFree(int32_t tool, int64_t now) {
  tools_[static_cast<size_t>(tool)].busy = 0;
  ToolNext(tool, now);
}

void FabWorld::ToolNext(int32_t tool_index, int64_t now) {
  Tool& tool = tools_[static_cast<size_t>(tool_index)];
  const int32_t begin = tool_instance_begin_[static_cast<size_t>(tool_index)];
  if (tool.pending_off) {
    tool.pending_off = 0;
    tool.off = 1;
  }
  if (tool.off) {
    SetIdle(tool_index, false);
    tool.down = 1;
    SetE10(tool_index, kNonScheduled, now);
    return;
  }
  if (tool.pending_down_mask != 0) {
    const int local = std::countr_zero(tool.pending_down_mask);
    tool.pending_down_mask &= ~(1u << local);
    const DownCalendar& down = config_->down_calendars[static_cast<size_t>(
        instances_[static_cast<size_t>(begin + local)].calendar)];
    SetIdle(tool_index, false);
    tool.down = 1;
    tool.active_calendar = local;
    SetE10(tool_index, kUnscheduledDown, now);
    calendar_.Push(now + SampleNs(down.mttr, kStreamDown), kPrioMaintenance,
                   {kEvRepair, tool_index, begin + local, 0});
    return;
  }
  if (tool.pending_pm_mask != 0 && now >= tool.pm_hold_until_ns) {
    const int local = std::countr_zero(tool.pending_pm_mask);
    tool.pending_pm_mask &= ~(1u << local);
    const PmCalendar& pm = config_->pm_calendars[static_cast<size_t>(
        instances_[static_cast<size_t>(begin + local)].calendar)];
    SetIdle(tool_index, false);
    tool.down = 1;
    tool.active_calendar = local;
    SetE10(tool_index, kScheduledDown, now);
    calendar_.Push(now + SampleNs(pm.duration, kStreamPm), kPrioMaintenance,
                   {kEvPmEnd, tool_index, begin + local, 0});
    return;
  }
  SetE10(tool_index, kStandby, now);
  SetIdle(tool_index, true);
  TryStart(tool_index, now);
}

void FabWorld::LotDone(int32_t slot, int64_t now) {
  Lot& lot = lots_[static_cast<size_t>(slot)];
  ++tools_[static_cast<size_t>(lot.last_tool)].track_outs;
  const Product& product = config_->products[static_cast<size_t>(lot.product)];
  const Step& step = product.route[static_cast<size_t>(lot.position)];
  if (step.cqt_to >= 0) {
    lot.cqt_position = step.cqt_to;
    lot.cqt_deadline_ns = now + ToNs(step.cqt_limit_s);
  }
  if (step.pin_to >= 0) {
    lot.pin_position = step.pin_to;
    lot.pin_tool = lot.last_tool;
  }
  if (lot.metrology_spec >= 0) {
    const MetrologySpec& spec = config_->metrology[static_cast<size_t>(lot.metrology_spec)];
    MetrologyStats& stats = metrology_[static_cast<size_t>(lot.metrology_spec)];
    const double value = spec.nominal +
                         spec.drift_per_wafer * static_cast<double>(lot.metrology_wafers) +
                         spec.lot_sigma * rngs_[kStreamProcess].Normal(lot.metrology_draw);
    ++stats.count;
    if (value < spec.lower_spec || value > spec.upper_spec) ++stats.out_of_spec;
    stats.sum += value;
    stats.sum_sq += value * value;
    ++stats.interval_count;
    stats.interval_sum += value;
    lot.metrology_spec = -1;
  }
  const int32_t n = static_cast<int32_t>(product.route.size());
  int32_t next = lot.position + 1;
  if (step.rework_probability > 0 && Uniform(kStreamRouting) < step.rework_probability) {
    next = step.rework_to;
    ++lot.reworks;
    ++counters_.reworks;
  } else {
    while (next < n && product.route[static_cast<size_t>(next)].sampling < 1.0 &&
           Uniform(kStreamRouting) >= product.route[static_cast<size_t>(next)].sampling)
      ++next;
  }
  if (lot.cqt_position >= 0 && next > lot.cqt_position) lot.cqt_position = -1;  // skipped
  if (next >= n) {
    completions_.push_back({lot.id, lot.release_ns, now, lot.due_ns, lot.product, lot.priority,
                            lot.wafers, lot.reworks});
    ++counters_.finished_lots;
    counters_.finished_wafers += lot.wafers;
    free_lots_.push_back(slot);
    ChangeWip(-1, now);
    ReleaseHeld(now);
    return;
  }
  lot.position = next;
  const Dist& move =
      config_->Transport(step.family, product.route[static_cast<size_t>(next)].family);
  if (move.mean_s > 0) {
    calendar_.Push(now + SampleNs(move, kStreamTransport), kPrioArrive,
                   {kEvArrive, slot, 0, static_cast<uint32_t>(lot.id)});
  } else {
    Enqueue(slot, now);
  }
}

void FabWorld::SetIdle(int32_t tool_index, bool idle) {
  Tool& tool = tools_[static_cast<size_t>(tool_index)];
  if ((tool.idle != 0) == idle) return;
  tool.idle = idle ? 1 : 0;
  if (!idle && tool.awaiting) {  // busy, down or off: the open decision request lapses
    tool.awaiting = 0;
    ++tool.decision_version;
  }
  std::vector<int32_t>& list = idle_[static_cast<size_t>(tool.family)];
  if (idle)
    list.insert(std::lower_bound(list.begin(), list.end(), tool_index), tool_index);
  else
    list.erase(std::lower_bound(list.begin(), list.end(), tool_index));
}

double FabWorld::ToolPower(const Tool& tool) const {
  const Family& family = config_->families[static_cast<size_t>(tool.family)];
  // Processing draws busy power; standby, setups, downs and PMs idle power; off draws nothing.
  if (tool.e10_state == kNonScheduled) return 0.0;
  return tool.e10_state == kProductive ? family.busy_power_W : family.idle_power_W;
}

void FabWorld::SetE10(int32_t tool_index, int32_t state, int64_t now) {
  Tool& tool = tools_[static_cast<size_t>(tool_index)];
  const int64_t span = now - tool.state_since_ns;
  if (span > 0) {
    tool.e10_ns[static_cast<size_t>(tool.e10_state)] += span;
    energy_J_ += ToolPower(tool) * static_cast<double>(span) * 1e-9;
  }
  tool.state_since_ns = now;
  const bool changed = tool.e10_state != state;
  tool.e10_state = state;
  if (changed) RetargetChamber(tool_index, now);
}

namespace {
double FirstOrder(double value0, double target, double elapsed_s, double tau_s) {
  return target + (value0 - target) * std::exp(-elapsed_s / tau_s);
}
}  // namespace

double FabWorld::ChamberPressure(int32_t tool, int64_t now) const {
  const ChamberTrace& trace = chamber_[static_cast<size_t>(tool)];
  const ChamberSpec& spec =
      config_->families[static_cast<size_t>(tools_[static_cast<size_t>(tool)].family)].chamber;
  return FirstOrder(trace.pressure0_Pa, trace.target_pressure_Pa,
                    static_cast<double>(now - trace.since_ns) * 1e-9, spec.pressure_tau_s);
}

double FabWorld::ChamberTemperature(int32_t tool, int64_t now) const {
  const ChamberTrace& trace = chamber_[static_cast<size_t>(tool)];
  const ChamberSpec& spec =
      config_->families[static_cast<size_t>(tools_[static_cast<size_t>(tool)].family)].chamber;
  return FirstOrder(trace.temperature0_K, trace.target_temperature_K,
                    static_cast<double>(now - trace.since_ns) * 1e-9, spec.temperature_tau_s);
}

void FabWorld::RetargetChamber(int32_t tool_index, int64_t now) {
  const Tool& tool = tools_[static_cast<size_t>(tool_index)];
  const ChamberSpec& spec = config_->families[static_cast<size_t>(tool.family)].chamber;
  if (!spec.enabled) return;
  // PM and repair open the chamber; a setup (scheduled down while not down) keeps it pumped.
  const bool vented = tool.e10_state == kUnscheduledDown ||
                      (tool.e10_state == kScheduledDown && tool.down != 0 && tool.off == 0);
  const bool processing = tool.e10_state == kProductive;
  const double pressure = processing ? spec.process_pressure_Pa
                          : vented   ? spec.vent_pressure_Pa
                                     : spec.idle_pressure_Pa;
  const double temperature = processing ? spec.process_temperature_K
                             : vented   ? spec.vent_temperature_K
                                        : spec.idle_temperature_K;
  ChamberTrace& trace = chamber_[static_cast<size_t>(tool_index)];
  if (pressure == trace.target_pressure_Pa && temperature == trace.target_temperature_K) return;
  trace.pressure0_Pa = ChamberPressure(tool_index, now);
  trace.temperature0_K = ChamberTemperature(tool_index, now);
  trace.since_ns = now;
  trace.target_pressure_Pa = pressure;
  trace.target_temperature_K = temperature;
}

void FabWorld::AccountUntil(int64_t now) {
  for (size_t t = 0; t < tools_.size(); ++t)
    SetE10(static_cast<int32_t>(t), tools_[t].e10_state, now);
  ChangeWip(0, now);
}

void FabWorld::ChangeWip(int64_t delta, int64_t now) {
  wip_area_lot_s_ += static_cast<double>(counters_.wip_lots) *
                     static_cast<double>(now - counters_.last_wip_change_ns) * 1e-9;
  counters_.last_wip_change_ns = now;
  counters_.wip_lots += delta;
}

void FabWorld::SetReleaseRate(double factor) { controls_.release_rate_factor = factor; }

void FabWorld::SetConwip(int64_t level) {
  controls_.conwip_level = level;
  ReleaseHeld(counters_.time_ns);
}

void FabWorld::SetToolOff(int32_t tool_index, bool off) {
  Tool& tool = tools_[static_cast<size_t>(tool_index)];
  const int64_t now = counters_.time_ns;
  if (off) {
    if (tool.off) return;
    if (tool.busy || tool.down) {
      tool.pending_off = 1;  // after the job, repair or PM
    } else {
      tool.off = 1;
      ToolNext(tool_index, now);
    }
    return;
  }
  tool.pending_off = 0;
  if (!tool.off) return;
  tool.off = 0;
  if (tool.e10_state == kNonScheduled) {
    tool.down = 0;
    ToolNext(tool_index, now);
  }
}

void FabWorld::PostponePm(int32_t tool, int64_t until_ns) {
  tools_[static_cast<size_t>(tool)].pm_hold_until_ns = until_ns;
}

int FabWorld::AdvancePm(int32_t tool_index, int64_t window_ns) {
  const int64_t now = counters_.time_ns;
  Tool& tool = tools_[static_cast<size_t>(tool_index)];
  int advanced = 0;
  for (int32_t i = tool_instance_begin_[static_cast<size_t>(tool_index)];
       i < tool_instance_begin_[static_cast<size_t>(tool_index) + 1]; ++i) {
    CalendarInstance& instance = instances_[static_cast<size_t>(i)];
    if (!instance.is_pm || instance.pm_due_ns <= now || instance.pm_due_ns > now + window_ns)
      continue;
    ++instance.pm_version;  // the pending pm_due event becomes stale
    ScheduleNextPm(i, now);
    ++advanced;
  }
  if (advanced > 0) tool.pm_hold_until_ns = INT64_MIN;
  return advanced;
}

void FabWorld::DrainMetrology() {
  for (MetrologyStats& stats : metrology_) {
    if (stats.interval_count > 0)
      stats.last = stats.interval_sum / static_cast<double>(stats.interval_count);
    stats.interval_count = 0;
    stats.interval_sum = 0.0;
  }
}

void FabWorld::SetBatchMin(int32_t family, int32_t wafers) {
  batch_min_override_[static_cast<size_t>(family)] = wafers < 0 ? -1 : wafers;
  Dispatch(family, counters_.time_ns);
}

bool FabWorld::StartBatchNow(int32_t tool_index) {
  Tool& tool = tools_[static_cast<size_t>(tool_index)];
  if (!tool.idle || tool.busy || tool.down) return false;
  if (!TryStart(tool_index, counters_.time_ns, /*ignore_min=*/true)) return false;
  if (tool.awaiting) {
    tool.awaiting = 0;
    ++tool.decision_version;  // the pending AI-dispatch timeout no longer applies
  }
  return true;
}

void FabWorld::SetProductRate(int32_t product, double factor) {
  product_rate_[static_cast<size_t>(product)] = factor;
}

void FabWorld::SetRule(int32_t family, DispatchRule rule) {
  rules_[static_cast<size_t>(family)] = static_cast<int32_t>(rule);
}

void FabWorld::Save(ByteWriter& writer) const {
  writer.Raw(rngs_.data(), sizeof rngs_);
  writer.Raw(rng_counters_.data(), sizeof rng_counters_);
  calendar_.Save(writer);
  writer.Vector(lots_);
  writer.Vector(free_lots_);
  SaveVectors(writer, queues_);
  SaveVectors(writer, idle_);
  writer.Vector(tools_);
  writer.Value<uint64_t>(instances_.size());
  for (const CalendarInstance& instance : instances_) {
    writer.Value(instance.pieces_left);
    writer.Value(instance.pm_due_ns);
    writer.Value(instance.pm_version);
  }
  writer.Vector(stream_releases_);
  writer.Vector(stream_held_);
  writer.Vector(rules_);
  writer.Vector(product_rate_);
  writer.Vector(batch_min_override_);
  writer.Vector(metrology_);
  writer.Vector(chamber_);
  writer.Vector(completions_);
  writer.Value(counters_);
  writer.Value(controls_.release_rate_factor);
  writer.Value(controls_.conwip_level);
  writer.Value(energy_J_);
  writer.Value(wip_area_lot_s_);
  writer.Value(last_created_);
}

void FabWorld::Load(ByteReader& reader) {
  reader.Raw(rngs_.data(), sizeof rngs_);
  reader.Raw(rng_counters_.data(), sizeof rng_counters_);
  calendar_.Load(reader);
  reader.Vector(&lots_);
  reader.Vector(&free_lots_);
  LoadVectors(reader, &queues_);
  LoadVectors(reader, &idle_);
  reader.Vector(&tools_);
  if (reader.Value<uint64_t>() != instances_.size())
    throw std::runtime_error("fab snapshot does not match the model");
  for (CalendarInstance& instance : instances_) {
    instance.pieces_left = reader.Value<double>();
    instance.pm_due_ns = reader.Value<int64_t>();
    instance.pm_version = reader.Value<uint32_t>();
  }
  reader.Vector(&stream_releases_);
  reader.Vector(&stream_held_);
  reader.Vector(&rules_);
  reader.Vector(&product_rate_);
  reader.Vector(&batch_min_override_);
  reader.Vector(&metrology_);
  reader.Vector(&chamber_);
  reader.Vector(&completions_);
  counters_ = reader.Value<FabCounters>();
  controls_.release_rate_factor = reader.Value<double>();
  controls_.conwip_level = reader.Value<int64_t>();
  energy_J_ = reader.Value<double>();
  wip_area_lot_s_ = reader.Value<double>();
  last_created_ = reader.Value<int32_t>();
}

}  // namespace ftwin::fab
