// Battery cell: identification against the A123 data (OCV and dynamic profile), coulomb
// counting, energy balance against the OCV table's integral.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "plants/energy/battery_math.h"
#include "plants/energy/energy_common.h"

namespace ftwin::energy {
namespace {

const std::string kA123 = std::string(FTWIN_SHARED_DIR) + "/data/battery/a123/";

CellParams LoadA123() {
  Diagnostics diag;
  ParamReader reader(YAML::Load("cell_file: plants/energy/data/a123_cell.yaml"), "test.yaml",
                     "battery", &diag, FTWIN_SOURCE_DIR);
  CellParams cell;
  REQUIRE(ReadCellParams(reader, &cell));
  REQUIRE(diag.ok());
  return cell;
}

std::vector<std::vector<double>> ReadCsv(const std::string& path, const std::vector<int>& columns) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> all;
    std::stringstream s(line);
    std::string cell;
    while (std::getline(s, cell, ',')) all.push_back(std::strtod(cell.c_str(), nullptr));
    std::vector<double> row;
    for (int c : columns) row.push_back(all[static_cast<size_t>(c)]);
    rows.push_back(row);
  }
  return rows;
}

double Lerp(const std::vector<double>& xs, const std::vector<double>& ys, double x) {
  return Interp(xs.data(), ys.data(), static_cast<int>(xs.size()), x);
}

TEST_CASE("Identified A123 cell reproduces the 25 degC OCV curve within 5 mV RMS",
          "[energy][battery]") {
  const CellParams cell = LoadA123();
  // Reference: Plett's OCV reconstruction (BMS Vol. I, processOCV), implemented here
  // independently of the Python tool: Step_Index 4, Current 6, Voltage 7, Chg 8, Dis 9.
  std::vector<std::vector<std::vector<double>>> s;
  for (const char* n : {"S1", "S2", "S3", "S4"})
    s.push_back(ReadCsv(kA123 + "A123_OCV_P25_" + n + ".csv", {4, 6, 7, 8, 9}));
  double dis = 0, chg = 0;
  for (const auto& d : s) {
    dis += d.back()[4];
    chg += d.back()[3];
  }
  const double eta = dis / chg;
  const double q = s[0].back()[4] + s[1].back()[4] - eta * (s[0].back()[3] + s[1].back()[3]);
  CHECK(eta == Approx(cell.coulombic_efficiency).epsilon(1e-5));
  auto step2 = [](const std::vector<std::vector<double>>& d, size_t* first, size_t* last) {
    *first = d.size();
    for (size_t i = 0; i < d.size(); ++i)
      if (d[i][0] == 2.0) {
        if (*first == d.size()) *first = i;
        *last = i;
      }
  };
  size_t f1 = 0, l1 = 0, f3 = 0, l3 = 0;
  step2(s[0], &f1, &l1);
  step2(s[2], &f3, &l3);
  double ir1d = std::fabs(s[0][f1 - 1][2] - s[0][f1][2]),
         ir2d = std::fabs(s[0][l1 + 1][2] - s[0][l1][2]);
  double ir1c = std::fabs(s[2][f3 - 1][2] - s[2][f3][2]),
         ir2c = std::fabs(s[2][l3 + 1][2] - s[2][l3][2]);
  const double a = std::min(ir1d, 2 * ir2c), b = std::min(ir2d, 2 * ir1c);
  const double c = std::min(ir1c, 2 * b), e = std::min(ir2c, 2 * a);
  std::vector<double> dz, dv, cz, cv;
  for (size_t i = f1; i <= l1; ++i) {
    const double w = double(i - f1) / double(l1 - f1);
    dz.push_back(1.0 - s[0][i][4] / q);
    dv.push_back(s[0][i][2] + a + (b - a) * w);
  }
  const double shift = 1.0 - dz.front();
  for (double& z : dz) z += shift;
  for (size_t i = f3; i <= l3; ++i) {
    const double w = double(i - f3) / double(l3 - f3);
    cz.push_back(s[2][i][3] * eta / q);
    cv.push_back(s[2][i][2] - (c + (e - c) * w));
  }
  const double z0 = cz.front();
  for (double& z : cz) z -= z0;
  std::vector<double> dz_rev(dz.rbegin(), dz.rend()), dv_rev(dv.rbegin(), dv.rend());
  const double dv50 = Lerp(cz, cv, 0.5) - Lerp(dz_rev, dv_rev, 0.5);
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < cz.size(); ++i)
    if (cz[i] < 0.5 && cz[i] >= 0.0) {
      const double err = CellOcv(cell, cz[i], cell.t_ref_K) - (cv[i] - cz[i] * dv50);
      sum += err * err;
      ++n;
    }
  for (size_t i = 0; i < dz.size(); ++i)
    if (dz[i] > 0.5 && dz[i] <= 1.0) {
      const double err = CellOcv(cell, dz[i], cell.t_ref_K) - (dv[i] + (1.0 - dz[i]) * dv50);
      sum += err * err;
      ++n;
    }
  const double rms = std::sqrt(sum / n);
  INFO("OCV rms " << rms * 1e3 << " mV over " << n << " points");
  CHECK(n > 9000);
  CHECK(rms <= 5e-3);
}

TEST_CASE("Identified A123 cell reproduces the dynamic profile within 15 mV RMS",
          "[energy][battery]") {
  CellParams cell = LoadA123();
  // time, step, current (+ discharge), voltage
  const auto d = ReadCsv(kA123 + "A123_DYN_50_P25_s1.csv", {0, 1, 2, 3});
  double x[kCellSlots] = {};
  x[kCellSoc] = 1.0;
  x[kCellTemp] = cell.t_ref_K;
  double sign = 0.0, sum = 0.0;
  for (size_t k = 0; k < d.size(); ++k) {
    if (k > 0) {
      const double i = d[k - 1][2];
      if (i != 0.0) sign = i > 0.0 ? -1.0 : 1.0;
      CellStep(cell, x, i, sign, cell.t_ref_K, d[k][0] - d[k - 1][0]);
    }
    const double err = CellVoltage(cell, x, d[k][2], sign) - d[k][3];
    sum += err * err;
  }
  const double rms = std::sqrt(sum / double(d.size()));
  INFO("dynamic rms " << rms * 1e3 << " mV over " << d.size() << " samples");
  CHECK(d.size() == 36880);
  CHECK(rms <= 15e-3);
}

TEST_CASE("Coulomb counting: SoC falls by I t / Q, charge counts with the coulombic efficiency",
          "[energy][battery]") {
  CellParams cell = LoadA123();
  double x[kCellSlots] = {};
  x[kCellSoc] = 0.8;
  x[kCellTemp] = 298.15;
  CellStep(cell, x, 1.5, -1.0, 298.15, 1200.0);  // 1.5 A for 20 min, fade off by default
  CHECK(x[kCellSoc] == Approx(0.8 - 1.5 * 1200.0 / (3600.0 * cell.capacity_Ah)).epsilon(1e-13));
  const double z = x[kCellSoc];
  CellStep(cell, x, -2.0, 1.0, 298.15, 600.0);
  CHECK(x[kCellSoc] ==
        Approx(z + cell.coulombic_efficiency * 2.0 * 600.0 / (3600.0 * cell.capacity_Ah))
            .epsilon(1e-13));
}

TEST_CASE("Cell energy balance: DC energy + heat + RC energy = OCV-table integral",
          "[energy][battery]") {
  CellParams cell = LoadA123();
  double x[kCellSlots] = {};
  x[kCellSoc] = 0.9;
  x[kCellTemp] = 298.15;
  const double z0 = x[kCellSoc];
  for (int k = 0; k < 3600; ++k) CellStep(cell, x, k % 600 < 300 ? 3.0 : 0.5, -1.0, 298.15, 1.0);
  // Q ∫_{z1}^{z0} OCV(z) dz exactly for the piecewise-linear table (trapezoids per segment).
  auto integral = [&](double z) {
    double acc = 0.0;
    for (int i = 0; i + 1 < cell.num_ocv; ++i) {
      const double lo = cell.ocv_soc[i], hi = std::min(cell.ocv_soc[i + 1], z);
      if (hi <= lo) break;
      acc += 0.5 * (cell.ocv_V[i] + CellOcv(cell, hi, cell.t_ref_K)) * (hi - lo);
    }
    return acc;
  };
  const double chemical = 3600.0 * cell.capacity_Ah * (integral(z0) - integral(x[kCellSoc]));
  double rc = 0.0;
  for (int j = 0; j < cell.num_rc; ++j) {
    const double cap = cell.rc_tau_s[j] / cell.rc_r_ohm[j];
    rc += 0.5 * cap * x[kCellV1 + j] * x[kCellV1 + j];
  }
  INFO("chemical " << chemical << " J, out " << x[kCellEnergyOut] << " J, heat " << x[kCellHeat]
                   << " J");
  CHECK(x[kCellEnergyOut] + x[kCellHeat] + rc == Approx(chemical).epsilon(1e-6));
}

}  // namespace
}  // namespace ftwin::energy
