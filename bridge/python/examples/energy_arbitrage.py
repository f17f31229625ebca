#!/usr/bin/python3
"""Energy dispatcher: battery arbitrage against the grid's time-of-use price.

Runs scenarios/energy/site.yaml in lockstep twice for the same days and seed: once with the
built-in rule-based energy manager alone (the baseline), once with this controller taking over
the battery channel of the energy manager (`ems.manual[0]`, `ems.override_W[0]`) every 15
minutes. The battery management system and the rest of the plant's protection stay in force.
Policy: charge at full power while the price is off-peak (state of charge below 85 %),
discharge at full power at the peak price (down to 20 %). On this site the gas turbine already
covers the peak, so the discharged energy is exported at the export price: the comparison shows
whether plain arbitrage pays here (it does not beat the manager, which keeps the battery for the
site's own balance), which is the kind of answer the example exists to give.
The comparison values the difference in the final state of charge at the off-peak price, so a
controller cannot look better by emptying the battery at the end.

Usage: /usr/bin/python3 bridge/python/examples/energy_arbitrage.py [days]
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from _serve import compare, serve  # noqa: E402
from ftwin import Client  # noqa: E402

STEP_TICKS = 900          # 15 min at the scenario's 1 s tick
BATTERY_MAX_W = 8.0e5     # the energy manager's battery channel limit in the scenario
PRICE_THRESHOLD = 0.20   # between the site's off-peak (0.12) and peak (0.28) rates per kWh


def run(control: str, days: float, controlled: bool):
    client = Client(control)
    client.hello("energy-arbitrage", obs=["site.price_per_kWh", "battery.soc", "site.net_uncontrolled_W"])
    reply = client.reset(seed=42)
    steps = int(days * 86400 / STEP_TICKS)
    for _ in range(steps):
        actions = {}
        if controlled:
            price = float(reply["site.price_per_kWh"][0])
            soc = float(reply["battery.soc"][0])
            net_W = float(reply["site.net_uncontrolled_W"][0])
            off_peak = price < PRICE_THRESHOLD
            if off_peak and soc < 0.85:
                battery_W = BATTERY_MAX_W  # + = charge (bus convention)
            elif not off_peak and soc > 0.20:
                battery_W = -BATTERY_MAX_W  # discharge: the site imports less or exports more
            else:
                battery_W = 0.0
            actions = {"ems.manual[0]": 1.0, "ems.override_W[0]": battery_W}
        reply = client.step(actions, ticks=STEP_TICKS)
    kpis = client.kpis()
    client.close()
    return kpis


def adjusted_cost(kpis, capacity_kWh, reference_soc, price):
    """Energy cost plus the value of the energy missing from the battery at the end."""
    return kpis["site.energy_cost"] + (reference_soc - kpis["battery.final_soc"]) * capacity_kWh * price


def main():
    days = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    with serve("scenarios/energy/site.yaml") as control:
        baseline = run(control, days, controlled=False)
        controlled = run(control, days, controlled=True)
    # Usable capacity from the baseline's own KPIs: cycles = throughput / (2 x capacity).
    capacity_kWh = baseline["battery.throughput_kWh"] / (2.0 * baseline["battery.equivalent_full_cycles"])
    for kpis in (baseline, controlled):
        kpis["site.energy_cost_soc_adjusted"] = adjusted_cost(kpis, capacity_kWh, baseline["battery.final_soc"], 0.12)
    names = ["site.energy_cost_soc_adjusted", "site.energy_cost", "site.co2_kg", "site.grid_import_kWh", "site.unmet_load_kWh",
             "battery.throughput_kWh", "battery.equivalent_full_cycles", "battery.final_soc",
             "electrolyzer.h2_produced_kg", "electrolyzer.specific_energy_kWh_per_kg"]
    compare(f"energy site, {days:g} day(s), battery arbitrage vs the rule-based manager alone",
            names, baseline, controlled, {"site.energy_cost_soc_adjusted": "lower", "site.co2_kg": "lower"})


if __name__ == "__main__":
    main()
