// Shared pieces of the energy plants: time series from CSV files, cell parameters from YAML,
// and the block factories (each block lives in its own .cpp; the scenario reference is
// docs/energy.md).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/block.h"
#include "engine/params.h"
#include "plants/energy/battery_math.h"
#include "plants/energy/plant_world.h"

namespace ftwin::energy {

/// A column of a CSV file against its first column (time [s]), linearly interpolated; held
/// at the ends, or repeated with the file's period when `periodic`.
class TimeSeries {
 public:
  /// Reads `column` (a header name) from `file`. Reports to `params` under `key` (file missing,
  /// column missing, non-numeric cell with its line, time not increasing) and returns false.
  bool Load(ParamReader& params, const std::string& key, const std::filesystem::path& file,
            const std::string& column, double scale, double offset, bool periodic);
  double At(double t) const { return View().At(t); }
  bool empty() const { return time_.empty(); }
  /// The series as plant steps read it (over this object's arrays).
  SeriesView View() const;
  double min() const;
  double max() const;

 private:
  std::vector<double> time_, value_;
  bool periodic_ = false;
};

/// A number that is a constant or a time series: `key: 5.0` or `key: {file: x.csv, column: c,
/// scale: 1, periodic: true}`.
struct Signal {
  double constant = 0.0;
  TimeSeries series;
  double At(double t) const { return View().At(t); }
  /// The signal as plant steps read it (the constant, or a view over the series' arrays).
  SeriesView View() const {
    if (series.empty()) return {nullptr, nullptr, 0, 0, constant};
    return series.View();
  }
};
bool ReadSignal(ParamReader& params, const std::string& key, double default_value,
                const NumberRange& range, Signal* out);

/// Cell parameters from a mapping (inline or a file named by `cell_file`); checks capacity > 0,
/// efficiency in (0, 1], a strictly increasing SoC grid from 0 to 1 and a strictly increasing
/// OCV table (a non-monotonic OCV makes SoC ambiguous).
bool ReadCellParams(ParamReader& params, CellParams* cell);

std::unique_ptr<Block> MakeBattery(const std::string& name, ParamReader& params);
std::unique_ptr<Block> MakeSiteBus(const std::string& name, ParamReader& params);
std::unique_ptr<Block> MakePv(const std::string& name, ParamReader& params);
std::unique_ptr<Block> MakeWind(const std::string& name, ParamReader& params);
std::unique_ptr<Block> MakeLoadProfile(const std::string& name, ParamReader& params);
std::unique_ptr<Block> MakeElectrolyzer(const std::string& name, ParamReader& params);
std::unique_ptr<Block> MakeMicroChp(const std::string& name, ParamReader& params);
std::unique_ptr<Block> MakeGasTurbine(const std::string& name, ParamReader& params);
std::unique_ptr<Block> MakeChiller(const std::string& name, ParamReader& params);
std::unique_ptr<Block> MakeEms(const std::string& name, ParamReader& params);

}  // namespace ftwin::energy
