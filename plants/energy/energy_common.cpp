#include "plants/energy/energy_common.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace ftwin::energy {
namespace {

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\"");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r\"");
  return s.substr(a, b - a + 1);
}

std::vector<std::string> SplitComma(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream stream(line);
  std::string cell;
  while (std::getline(stream, cell, ',')) out.push_back(Trim(cell));
  return out;
}

}  // namespace

bool TimeSeries::Load(ParamReader& params, const std::string& key,
                      const std::filesystem::path& file, const std::string& column, double scale,
                      double offset, bool periodic) {
  periodic_ = periodic;
  time_.clear();
  value_.clear();
  Diagnostics* diag = params.diagnostics();
  const std::string file_text = file.string();
  std::ifstream in(file);
  if (!in) {
    params.Error(key, file_text, "expected a readable CSV time-series file");
    return false;
  }
  std::string line;
  int line_number = 1;
  if (!std::getline(in, line)) {
    diag->Add({file_text, 1, 0}, params.path() + "." + key, "", "expected a header row");
    return false;
  }
  const std::vector<std::string> header = SplitComma(line);
  int col = -1;
  for (size_t i = 1; i < header.size(); ++i)
    if (header[i] == column) col = static_cast<int>(i);
  if (col < 0) {
    std::string names;
    for (size_t i = 1; i < header.size(); ++i) names += (i > 1 ? ", " : "") + header[i];
    diag->Add({file_text, 1, 0}, params.path() + "." + key, column,
              "expected a column name of the file (" + names + ")");
    return false;
  }
  while (std::getline(in, line)) {
    ++line_number;
    if (Trim(line).empty() || line[0] == '#') continue;
    const std::vector<std::string> cells = SplitComma(line);
    double t = 0.0, v = 0.0;
    bool ok = cells.size() > static_cast<size_t>(col);
    if (ok) {
      char* end = nullptr;
      t = std::strtod(cells[0].c_str(), &end);
      ok = end != cells[0].c_str() && *end == '\0';
      v = std::strtod(cells[static_cast<size_t>(col)].c_str(), &end);
      ok = ok && end != cells[static_cast<size_t>(col)].c_str() && *end == '\0' &&
           std::isfinite(t) && std::isfinite(v);
    }
    if (!ok) {
      diag->Add({file_text, line_number, 0}, params.path() + "." + key, Trim(line),
                "expected numbers in the time column and column '" + column + "'");
      return false;
    }
    if (!time_.empty() && t <= time_.back()) {
      diag->Add({file_text, line_number, 0}, params.path() + "." + key, cells[0],
                "expected strictly increasing time");
      return false;
    }
    time_.push_back(t);
    value_.push_back(v * scale + offset);
  }
  if (time_.size() < 2) {
    diag->Add({file_text, line_number, 0}, params.path() + "." + key, "",
              "expected at least two data rows");
    return false;
  }
  return true;
}

SeriesView TimeSeries::View() const {
  return {time_.data(), value_.data(), static_cast<int>(time_.size()), periodic_ ? 1 : 0, 0.0};
}

double TimeSeries::min() const {
  double m = value_.empty() ? 0.0 : value_[0];
  for (double v : value_) m = std::fmin(m, v);
  return m;
}
double TimeSeries::max() const {
  double m = value_.empty() ? 0.0 : value_[0];
  for (double v : value_) m = std::fmax(m, v);
  return m;
}

bool ReadSignal(ParamReader& params, const std::string& key, double default_value,
                const NumberRange& range, Signal* out) {
  const YAML::Node node = params.node()[key];
  if (node.IsDefined() && node.IsMap()) {
    ParamReader sub = params.Child(key);
    const std::filesystem::path file = sub.ExistingFile("file");
    const std::string column = sub.RequiredString("column");
    const double scale = sub.Number("scale", 1.0, NumberRange::Any("1"));
    const double offset = sub.Number("offset", 0.0, NumberRange::Any(range.unit));
    const bool periodic = sub.Bool("periodic", true);
    sub.Finish();
    if (file.empty() || column.empty()) return false;
    if (!out->series.Load(sub, "file", file, column, scale, offset, periodic)) return false;
    if (out->series.min() < range.lower || out->series.max() > range.upper)
      sub.Error("column", column,
                "expected values in [" + std::to_string(range.lower) + ", " +
                    std::to_string(range.upper) + "] " + range.unit + " after scaling");
    return true;
  }
  out->constant = params.Number(key, default_value, range);
  return true;
}

bool ReadCellParams(ParamReader& params, CellParams* cell) {
  auto read = [&](ParamReader& p) {
    cell->capacity_Ah = p.RequiredNumber("capacity_Ah", NumberRange::Positive("Ah"));
    cell->coulombic_efficiency = p.Number("coulombic_efficiency", 1.0, {0.0, 1.0, true, "1"});
    cell->r0_ohm = p.RequiredNumber("r0_ohm", NumberRange::Positive("ohm"));
    std::vector<ParamReader> rc = p.ChildList("rc_pairs");
    if (rc.size() > static_cast<size_t>(kCellMaxRc))
      p.Error("rc_pairs", std::to_string(rc.size()), "expected at most 3 RC pairs");
    cell->num_rc = 0;
    for (ParamReader& pair : rc) {
      const double r = pair.RequiredNumber("r_ohm", NumberRange::Positive("ohm"));
      const double tau = pair.RequiredNumber("tau_s", NumberRange::Positive("s"));
      pair.Finish();
      if (cell->num_rc < kCellMaxRc) {
        cell->rc_r_ohm[cell->num_rc] = r;
        cell->rc_tau_s[cell->num_rc] = tau;
        ++cell->num_rc;
      }
    }
    cell->hysteresis_V = p.Number("hysteresis_V", 0.0, NumberRange::Between(-1, 1, "V"));
    cell->instant_hysteresis_V =
        p.Number("instant_hysteresis_V", 0.0, NumberRange::Between(-1, 1, "V"));
    cell->hysteresis_rate = p.Number("hysteresis_rate", 0.0, NumberRange::NonNegative("1"));
    const std::vector<double> soc =
        p.NumberList("ocv_soc", NumberRange::Fraction(), 2, kCellMaxOcvPoints);
    const std::vector<double> ocv =
        p.NumberList("ocv_V", NumberRange::Positive("V"), 2, kCellMaxOcvPoints);
    if (soc.size() != ocv.size())
      p.Error("ocv_V", std::to_string(ocv.size()) + " values",
              "expected as many values as ocv_soc (" + std::to_string(soc.size()) + ")");
    for (size_t i = 1; i < soc.size(); ++i)
      if (!(soc[i] > soc[i - 1])) {
        p.Error("ocv_soc", std::to_string(soc[i]), "expected strictly increasing SoC values");
        break;
      }
    if (!soc.empty() && (soc.front() != 0.0 || soc.back() != 1.0))
      p.Error("ocv_soc", "", "expected the SoC grid to start at 0 and end at 1");
    for (size_t i = 1; i < ocv.size(); ++i)
      if (!(ocv[i] > ocv[i - 1])) {
        p.Error("ocv_V", std::to_string(ocv[i]) + " at index " + std::to_string(i),
                "expected an OCV table strictly increasing with SoC (a non-monotonic OCV makes "
                "the state of charge ambiguous)");
        break;
      }
    cell->num_ocv = static_cast<int>(std::min(soc.size(), ocv.size()));
    for (int i = 0; i < cell->num_ocv; ++i) {
      cell->ocv_soc[i] = soc[static_cast<size_t>(i)];
      cell->ocv_V[i] = ocv[static_cast<size_t>(i)];
    }
  };
  const size_t errors_before = params.diagnostics()->items().size();
  if (params.Has("cell_file")) {
    const std::filesystem::path file = params.ExistingFile("cell_file");
    if (file.empty()) return false;
    YAML::Node root;
    try {
      root = YAML::LoadFile(file.string());
    } catch (const YAML::Exception& e) {
      params.Error("cell_file", file.string(), std::string("expected valid YAML: ") + e.what());
      return false;
    }
    ParamReader sub(root, file.string(), "cell", params.diagnostics(), file.parent_path());
    read(sub);
    sub.Finish();
  } else {
    ParamReader sub = params.Child("cell", true);
    read(sub);
    sub.Finish();
  }
  return params.diagnostics()->items().size() == errors_before;
}

}  // namespace ftwin::energy
