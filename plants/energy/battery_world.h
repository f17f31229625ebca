// One run of the battery pack block for one world (host-device): converter, BMS-limited
// PackStep (battery_math.h), running totals and the published outputs. The CPU driver
// (BatteryBlock::Update) and the device driver (UpdateDevice) both call BatteryWorldStep.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "gpu/host_device.h"
#include "plants/energy/battery_math.h"

namespace ftwin::energy {

/// Layout of the battery block's "totals" field.
enum BatteryTotal {
  kThroughputAh,  // cell Ah throughput x cells (pack Ah through all strings)
  kBusInJ,        // ∫ power_W dt (bus convention)
  kConverterLossJ,
  kLimitHits,  // ticks where the BMS reduced the request
  kMaxTempK,
  kMaxVoltageV,
  kMinVoltageV,
  kDcOutJ,  // pack DC energy delivered
  kHeatJ,   // pack heat (cells)
  kNumTotals
};

/// The constant part of a battery pack (trivially copyable: travels in kernel arguments).
struct BatteryPack {
  CellParams cell;
  BmsLimits limits;
  int series = 1, parallel = 1;
  double efficiency = 1.0;  ///< converter, each way
};

/// One world's fields of a battery block.
struct BatteryWorld {
  double* cell;    ///< kCellSlots
  double* totals;  ///< kNumTotals
  double* sign;    ///< hysteresis sign
  const double* strings;
  const double* inverter_ok;
  const double* manual;
  const double* setpoint;
  const double* request;  ///< input port
  const double* ambient;  ///< input port
  double* power_W;        ///< output ports from here on
  double* soc;
  double* voltage_V;
  double* current_A;
  double* temp_K;
};

/// Writes the output ports from the cell state.
FTWIN_HD inline void BatteryPublish(const BatteryPack& pack, const BatteryWorld& w,
                                    double current_cell_A, double power_W) {
  const double* x = w.cell;
  *w.power_W = power_W;
  *w.soc = x[kCellSoc];
  *w.voltage_V = pack.series * CellVoltage(pack.cell, x, current_cell_A, *w.sign);
  *w.current_A = current_cell_A * *w.strings;
  *w.temp_K = x[kCellTemp];
}

/// Advances one world by h seconds.
FTWIN_HD inline void BatteryWorldStep(const BatteryPack& pack, double h, const BatteryWorld& w) {
  const double eta = pack.efficiency;
  double* x = w.cell;
  double* t = w.totals;
  const double strings = *w.strings;
  const bool online = *w.inverter_ok > 0.5 && strings > 0.5;
  const double request = *w.manual > 0.5 ? *w.setpoint : *w.request;
  // Bus request -> DC power out of the pack (+ discharge) through the converter.
  const double dc_out = request < 0.0 ? -request / eta : -request * eta;
  const double cells = pack.series * strings;
  const double p_cell = online ? dc_out / cells : 0.0;
  const double e0 = x[kCellEnergyOut], heat0 = x[kCellHeat];
  double sign = *w.sign;
  const double i = PackStep(pack.cell, pack.limits, x, p_cell, &sign, *w.ambient, h);
  *w.sign = sign;
  const double wanted = online ? CellCurrentForPower(pack.cell, x, p_cell, sign) : 0.0;
  if (std::fabs(i) + 1e-9 < std::fabs(wanted) * 0.999) t[kLimitHits] += 1.0;
  const double dc_J = (x[kCellEnergyOut] - e0) * (online ? cells : pack.series * strings);
  const double dc_W = dc_J / h;
  const double bus_W = dc_W > 0.0 ? -dc_W * eta : -dc_W / eta;
  t[kThroughputAh] += std::fabs(i) * strings * h / 3600.0;
  t[kBusInJ] += bus_W * h;
  t[kConverterLossJ] += std::fabs(bus_W * h + dc_J);
  t[kDcOutJ] += dc_J;
  t[kHeatJ] += (x[kCellHeat] - heat0) * cells;
  t[kMaxTempK] = std::max(t[kMaxTempK], x[kCellTemp]);
  const double v = CellVoltage(pack.cell, x, i, sign);
  t[kMaxVoltageV] = std::max(t[kMaxVoltageV], v);
  t[kMinVoltageV] = std::min(t[kMinVoltageV], v);
  BatteryPublish(pack, w, i, bus_W);
}

}  // namespace ftwin::energy
