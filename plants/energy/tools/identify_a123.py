#!/usr/bin/python3
"""Identifies the equivalent-circuit cell model of plants/energy/battery_math.h from the A123
25 degC test data (../shared/data/battery/a123, see PROVENANCE.md there).

Procedure (docs/energy.md, "Battery identification"):
 1. Coulombic efficiency and capacity from the Ah totals of the four OCV scripts (Plett 2015,
    Vol. I, ch. 2): eta = total discharged / total charged; Q = S1.dis + S2.dis - eta (S1.chg + S2.chg).
 2. OCV(SoC): the C/30 discharge (S1) and charge (S3) voltage traces, corrected for the ohmic
    drop seen at the start and end of each step (blended linearly through the step), mapped to
    SoC with eta and Q; the lower half of the charge curve and the upper half of the discharge
    curve are shifted by the half-gap at 50 % SoC and joined (Plett's processOCV), then sampled
    on a uniform SoC grid and forced monotone.
 3. Dynamics: with SoC from coulomb counting (start fully charged), the dynamic profile's
    voltage error v - OCV(z) is linear in (R0, R1, R2, M, M0) for fixed RC time constants and
    hysteresis rate gamma: least squares for the linear ones, grid + golden refinement for the
    nonlinear ones. The recurrences are the exact zero-order-hold solutions of the continuous
    model in battery_math.h, so the identified parameters carry over unchanged.
Writes a YAML parameter file (default plants/energy/data/a123_cell.yaml).
Usage: identify_a123.py [DATA_DIR] [OUTPUT]
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../../shared/data/battery/a123")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "../data/a123_cell.yaml")
NUM_OCV_POINTS = 101


def load_ocv(script):
    # Test_Time, Step_Index, Current, Voltage, Charge_Ah, Discharge_Ah
    return np.genfromtxt(os.path.join(DATA, "A123_OCV_P25_%s.csv" % script), delimiter=",",
                         skip_header=1, usecols=(1, 4, 6, 7, 8, 9))


def identify_ocv():
    s = {k: load_ocv(k) for k in ("S1", "S2", "S3", "S4")}
    tot_dis = sum(d[-1, 5] for d in s.values())
    tot_chg = sum(d[-1, 4] for d in s.values())
    eta = tot_dis / tot_chg
    q_ah = s["S1"][-1, 5] + s["S2"][-1, 5] - eta * (s["S1"][-1, 4] + s["S2"][-1, 4])

    def step_curve(d):
        ind = np.where(d[:, 1] == 2)[0]
        before, first, last, after = ind[0] - 1, ind[0], ind[-1], ind[-1] + 1
        return d, ind, abs(d[before, 3] - d[first, 3]), abs(d[after, 3] - d[last, 3])

    d1, i1, ir1d, ir2d = step_curve(s["S1"])
    d3, i3, ir1c, ir2c = step_curve(s["S3"])
    ir1d, ir2d = min(ir1d, 2 * ir2c), min(ir2d, 2 * ir1c)
    ir1c, ir2c = min(ir1c, 2 * ir2d), min(ir2c, 2 * ir1d)
    blend = np.linspace(0, 1, len(i1))
    dis_v = d1[i1, 3] + ir1d + (ir2d - ir1d) * blend
    dis_z = 1 - d1[i1, 5] / q_ah
    dis_z = dis_z + (1 - dis_z[0])
    blend = np.linspace(0, 1, len(i3))
    chg_v = d3[i3, 3] - (ir1c + (ir2c - ir1c) * blend)
    chg_z = d3[i3, 4] * eta / q_ah
    chg_z = chg_z - chg_z[0]
    dv50 = np.interp(0.5, chg_z, chg_v) - np.interp(0.5, dis_z[::-1], dis_v[::-1])
    m = chg_z < 0.5
    v_lo, z_lo = chg_v[m] - chg_z[m] * dv50, chg_z[m]
    m = dis_z > 0.5
    v_hi, z_hi = (dis_v[m] + (1 - dis_z[m]) * dv50)[::-1], dis_z[m][::-1]
    z = np.concatenate([z_lo, z_hi])
    v = np.concatenate([v_lo, v_hi])
    order = np.argsort(z, kind="stable")
    z, v = z[order], v[order]
    grid = np.linspace(0, 1, NUM_OCV_POINTS)
    # Least-squares piecewise-linear fit on the grid (hat basis), not point sampling: the raw
    # curve is noisy at the 0.1 mV level and the table should be its best linear spline.
    inside = (z >= 0) & (z <= 1)
    zi, vi = z[inside], v[inside]
    h = grid[1] - grid[0]
    k = np.minimum((zi / h).astype(int), NUM_OCV_POINTS - 2)
    w = (zi - grid[k]) / h
    a = np.zeros((len(zi), NUM_OCV_POINTS))
    a[np.arange(len(zi)), k] = 1 - w
    a[np.arange(len(zi)), k + 1] = w
    ocv = np.linalg.lstsq(a, vi, rcond=None)[0]
    for j in range(1, NUM_OCV_POINTS):  # strictly increasing, as the model requires
        ocv[j] = max(ocv[j], ocv[j - 1] + 1e-5)
    rms = np.sqrt(np.mean((np.interp(zi, grid, ocv) - vi) ** 2))
    return eta, q_ah, grid, ocv, rms, (ir1d, ir2d, ir1c, ir2c)


def simulate(params, t, cur, z, ocv_grid, ocv):
    """Exact ZOH recurrences of the cell model; current positive = discharge."""
    r0, r1, tau1, r2, tau2, m_h, m0, gamma, q_ah = params
    regressors = basis(t, cur, z, tau1, tau2, gamma, q_ah)
    return np.interp(z, ocv_grid, ocv) + regressors @ np.array([r0, r1, r2, m_h, m0])


def basis(t, cur, z, tau1, tau2, gamma, q_ah):
    n = len(t)
    dt = np.diff(t, prepend=t[0])
    i1 = np.zeros(n)
    i2 = np.zeros(n)
    h = np.zeros(n)
    s = np.zeros(n)
    x1 = x2 = hh = ss = 0.0
    for k in range(1, n):
        i_prev = cur[k - 1]
        a1 = np.exp(-dt[k] / tau1)
        a2 = np.exp(-dt[k] / tau2)
        x1 = a1 * x1 + (1 - a1) * i_prev
        x2 = a2 * x2 + (1 - a2) * i_prev
        ah = np.exp(-gamma * abs(i_prev) * dt[k] / (3600.0 * q_ah))
        if i_prev != 0:
            ss = -np.sign(i_prev)
            hh = ah * hh + (1 - ah) * ss
        i1[k], i2[k], h[k], s[k] = x1, x2, hh, ss
    # voltage = OCV - R0 i - R1 i1 - R2 i2 + M h + M0 s
    return np.column_stack([-cur, -i1, -i2, h, s])


def identify_dynamic(eta, q_ah, grid, ocv):
    d = np.genfromtxt(os.path.join(DATA, "A123_DYN_50_P25_s1.csv"), delimiter=",", skip_header=1)
    t, cur, volt = d[:, 0], d[:, 2], d[:, 3]
    dt = np.diff(t, prepend=t[0])
    # current held over the previous sample interval; charge counted with efficiency eta
    i_prev = np.concatenate([[0.0], cur[:-1]])
    eff = np.where(i_prev < 0, eta, 1.0)
    throughput_ah = np.cumsum(eff * i_prev * dt) / 3600.0

    # The capacity seen at the dynamic profile's rates is identified with the dynamics (as in
    # Plett's processDynamic); the OCV-test capacity is only the starting guess.
    def fit(tau1, tau2, gamma, q):
        z = 1.0 - throughput_ah / q
        target = volt - np.interp(z, grid, ocv)
        a = basis(t, cur, z, tau1, tau2, gamma, q)
        coef, *_ = np.linalg.lstsq(a, target, rcond=None)
        rms = np.sqrt(np.mean((a @ coef - target) ** 2))
        return rms, coef

    best = None
    for tau1 in (5.0, 15.0, 40.0):
        for tau2 in (200.0, 600.0, 2000.0):
            for gamma in (20.0, 80.0, 250.0):
                r, c = fit(tau1, tau2, gamma, q_ah)
                if best is None or r < best[0]:
                    best = (r, c, [tau1, tau2, gamma, q_ah])
    x = np.log(best[2])
    step = np.log(2.0)
    for _ in range(7):  # coordinate search in log space (capacity in smaller steps)
        for j in range(4):
            for sgn in (-1, 1):
                y = x.copy()
                y[j] += sgn * step * (0.05 if j == 3 else 1.0)
                r, c = fit(*np.exp(y))
                if r < best[0]:
                    best, x = (r, c, list(np.exp(y))), y
        step *= 0.5
    rms, coef, (tau1, tau2, gamma, q) = best
    return dict(r0=coef[0], r1=coef[1], tau1=tau1, r2=coef[2], tau2=tau2, m=coef[3], m0=coef[4],
                gamma=gamma, rms=rms, q=q, z_end=1.0 - throughput_ah[-1] / q)


def main():
    eta, q_ah, grid, ocv, ocv_rms, irs = identify_ocv()
    dyn = identify_dynamic(eta, q_ah, grid, ocv)
    print("eta=%.5f Q=%.5f Ah OCV fit rms=%.3f mV IR=%s" % (eta, q_ah, ocv_rms * 1e3, irs))
    print("dynamic: %s" % {k: round(float(v), 6) for k, v in dyn.items()})
    with open(OUT, "w") as f:
        f.write("# A123 LiFePO4 cell (about 2.3 Ah nominal), equivalent-circuit parameters at 25 degC.\n")
        f.write("# Produced by plants/energy/tools/identify_a123.py from ../shared/data/battery/a123\n")
        f.write("# (Plett's ESCtoolbox test data, MIT): see docs/energy.md. Do not edit by hand;\n")
        f.write("# rerun the tool. Fit: OCV rms %.3f mV vs the reconstructed curve; dynamic profile\n"
                % (ocv_rms * 1e3))
        f.write("# terminal-voltage rms %.3f mV.\n" % (dyn["rms"] * 1e3))
        f.write("capacity_Ah: %.6f   # at the dynamic profile's rates (OCV tests: %.6f)\n"
                % (dyn["q"], q_ah))
        f.write("coulombic_efficiency: %.6f\n" % eta)
        f.write("r0_ohm: %.7f\n" % dyn["r0"])
        f.write("rc_pairs:\n")
        f.write("  - {r_ohm: %.7f, tau_s: %.4f}\n" % (dyn["r1"], dyn["tau1"]))
        f.write("  - {r_ohm: %.7f, tau_s: %.4f}\n" % (dyn["r2"], dyn["tau2"]))
        f.write("hysteresis_V: %.7f\n" % dyn["m"])
        f.write("instant_hysteresis_V: %.7f\n" % dyn["m0"])
        f.write("hysteresis_rate: %.4f\n" % dyn["gamma"])
        f.write("ocv_soc: [%s]\n" % ", ".join("%.2f" % g for g in grid))
        f.write("ocv_V: [%s]\n" % ", ".join("%.6f" % v for v in ocv))


if __name__ == "__main__":
    main()
