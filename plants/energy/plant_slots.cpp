#include "plants/energy/plant_slots.h"

namespace ftwin::energy {

void PlantSlots::Reset(int num_in, int num_out) {
  in_.assign(static_cast<size_t>(num_in), -1);
  out_.assign(static_cast<size_t>(num_out), Out{});
}

void PlantSlots::Gather(const BlockIo& io, const double** in, double** out) const {
  for (size_t i = 0; i < in_.size(); ++i) in[i] = in_[i] < 0 ? nullptr : io.In(in_[i]);
  for (size_t i = 0; i < out_.size(); ++i) {
    const Out& o = out_[i];
    if (o.is_port)
      out[i] = io.Out(o.port);
    else
      out[i] = o.field == kInvalidField ? nullptr : io.Field(o.field);
  }
}

PlantViews PlantSlots::Views(const DeviceState& state, const BlockBinding& binding) const {
  PlantViews v;
  v.num_in = static_cast<int>(in_.size());
  v.num_out = static_cast<int>(out_.size());
  for (size_t i = 0; i < in_.size(); ++i)
    if (in_[i] >= 0) v.in[i] = state.Input(binding, in_[i]);
  for (size_t i = 0; i < out_.size(); ++i) {
    const Out& o = out_[i];
    if (o.is_port)
      v.out[i] = state.Output(binding, o.port);
    else if (o.field != kInvalidField)
      v.out[i] = state.Field<double>(o.field);
  }
  return v;
}

}  // namespace ftwin::energy
