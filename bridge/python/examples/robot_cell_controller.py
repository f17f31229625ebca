#!/usr/bin/python3
"""Robot-cell controller: energy-aware speed override for the 4-robot welding cell.

The weld cell's throughput is set by its conveyor, its shared-zone interlocks and the safety
stop when a person walks in, not only by how fast the robots move. This controller looks for the
lowest speed override that keeps the cell's throughput, episode by episode, through lockstep
resets (how a training loop uses the bridge): it runs the shipped scenario at full speed (the
built-in program alone: the baseline), then at lower overrides (`cell/speed_override`), keeps the
one with the least energy per body among those that lose no jobs per hour, and prints it
against the baseline.

Usage: /usr/bin/python3 bridge/python/examples/robot_cell_controller.py [minutes]
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from _serve import compare, serve  # noqa: E402
from ftwin import Client  # noqa: E402

TICKS_PER_S = 1000   # the cell's 1 ms tick
CANDIDATES = [0.95, 0.9, 0.8, 0.7]


def episode(client: Client, minutes: float, override: float):
    client.reset(seed=7)
    actions = {} if override == 1.0 else {"cell/speed_override": [override]}
    client.step(actions, ticks=int(minutes * 60 * TICKS_PER_S))
    return client.kpis()


def main():
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    with serve("scenarios/robots/weld_cell.yaml") as control:
        client = Client(control)
        client.hello("cell-controller")
        baseline = episode(client, minutes, 1.0)
        best, best_override = baseline, 1.0
        for override in CANDIDATES:
            kpis = episode(client, minutes, override)
            print(f"override {override:4.2f}: {kpis['cell.jobs_per_hour']:6.1f} jobs/h, "
                  f"{kpis['cell.energy_per_body_J'] / 1e3:7.1f} kJ per body")
            keeps_throughput = kpis["cell.jobs_per_hour"] >= baseline["cell.jobs_per_hour"] - 1e-9
            if keeps_throughput and kpis["cell.energy_per_body_J"] < best["cell.energy_per_body_J"]:
                best, best_override = kpis, override
        client.close()
    names = ["cell.jobs_per_hour", "cell.bodies_completed", "cell.cycle_time_s", "cell.energy_per_body_J",
             "cell.weld_quality_rate", "cell.utilization", "cell.interlock_wait_s", "cell.safety_stop_s",
             "cell.collisions"]
    compare(f"weld cell, {minutes:g} min: speed override {best_override:g} vs full speed",
            names, baseline, best, {"cell.jobs_per_hour": "higher", "cell.energy_per_body_J": "lower"})
    if best_override == 1.0:
        print("no lower override kept the throughput: full speed is the energy optimum here")


if __name__ == "__main__":
    main()
