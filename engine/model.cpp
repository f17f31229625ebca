#include "engine/model.h"

#include "engine/units.h"

namespace ftwin {

int Model::FindBlock(std::string_view name) const {
  for (size_t i = 0; i < bindings_.size(); ++i)
    if (bindings_[i].name == name) return static_cast<int>(i);
  return -1;
}

TickInfo Model::MakeTickInfo(int64_t tick, int64_t period_ticks, uint64_t seed) const {
  TickInfo info;
  info.tick = tick;
  info.dt_ns = run_.dt_ns;
  info.time_ns = tick * run_.dt_ns;  // exact: the clock is an integer
  info.time_s = NsToSeconds(info.time_ns);
  info.dt_s = NsToSeconds(run_.dt_ns);
  info.period_ticks = period_ticks;
  info.period_s = NsToSeconds(period_ticks * run_.dt_ns);
  info.seed = seed;
  return info;
}

}  // namespace ftwin
