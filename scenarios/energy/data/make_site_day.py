#!/usr/bin/python3
"""Writes site_day.csv: a synthetic, deterministic day (1 min resolution) for the energy
scenario: a clear-sky irradiance bell (peak 850 W/m2, sunrise 6 h, sunset 20 h), the PV cell
temperature from the NOCT model (T_cell = T_air + G (NOCT - 20 degC)/800), a fab-like load
(base 220 kW, day shift +80 kW, a 30-min 60 kW batch every 3 h) and wind speed (mean 7 m/s,
two harmonics). Synthetic on purpose: no measured site data ships with the project."""
import math

with open("site_day.csv", "w") as f:
    f.write("time_s,ghi_W_per_m2,cell_temp_K,load_W,wind_m_per_s\n")
    for k in range(0, 1441):
        t = 60.0 * k
        h = t / 3600.0
        ghi = 850.0 * math.sin(math.pi * (h - 6.0) / 14.0) ** 1.5 if 6.0 < h < 20.0 else 0.0
        air = 288.15 + 6.0 * math.sin(2 * math.pi * (h - 9.0) / 24.0)
        cell = air + ghi * (45.0 - 20.0) / 800.0
        load = 220e3 + (80e3 if 6.0 <= h < 22.0 else 0.0) + (60e3 if (h % 3.0) < 0.5 else 0.0)
        wind = 7.0 + 2.5 * math.sin(2 * math.pi * h / 24.0 + 1.0) + 1.0 * math.sin(2 * math.pi * h / 5.0)
        f.write("%.0f,%.3f,%.3f,%.1f,%.3f\n" % (t, ghi, cell, load, wind))
