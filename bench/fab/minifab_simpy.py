#!/usr/bin/python3
"""The Mini-Fab of scenarios/fab/minifab.yaml as a SimPy model, timed against ftwin.

Usage: /usr/bin/python3 bench/fab/minifab_simpy.py [--ftwin build/bridge/ftwin] [--reps 5]
Needs Debian's python3-simpy3 (SimPy 3.0.x). Prints SimPy events/s and KPIs per replication,
then runs `ftwin run scenarios/fab/minifab.yaml` and prints its wall time and KPIs next to them.

Same model as the YAML: 5 tools in 3 families, the 6-step re-entrant route for products A and
B, diffusion batches of 2-3 lots of the same step (FIFO, 10 + 10 min load/unload), implant with
least-setup dispatch, min run 3 and the setup matrix, exponential breakdowns (MTTF 3 d, MTTR
4 h, next failure drawn from the end of the repair, never preempting a job), litho with hot lot
first and a weekly PM (first at 3 d, 6 h +- 1 h, due times every 7 d from the first), two
exponential 200 min release streams, a daily hot lot from 6 h, the initial WIP, a 20 d warm-up
and a 120 d horizon. Simplifications: ties between events at the same instant are resolved in
SimPy's scheduling order rather than ftwin's (lot done < tool free < maintenance < arrival <
release); idle tools of a family are offered new lots in index order (as ftwin without
wake_least_setup). The random streams differ, so KPIs can only agree statistically.
"""
import argparse
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time

import simpy

MIN = 60.0
HOUR = 3600.0
DAY = 86400.0
HORIZON = 120 * DAY
WARMUP = 20 * DAY

# Route: (family, mean s, half width s, basis batch?, setup)
def route(setup):
    return [("diffusion", 150 * MIN, 0.0, True, None),
            ("implant", 30 * MIN, 3 * MIN, False, setup),
            ("litho", 55 * MIN, 5 * MIN, False, None),
            ("implant", 50 * MIN, 5 * MIN, False, setup),
            ("diffusion", 165 * MIN, 0.0, True, None),
            ("litho", 10 * MIN, 1 * MIN, False, None)]


ROUTES = {"A": route("A"), "B": route("B")}
SETUP_S = {("*", "A"): 20 * MIN, ("*", "B"): 20 * MIN, ("A", "B"): 25 * MIN}
BATCH_MIN, BATCH_MAX = 50, 75


def setup_time(current, needed):
    if needed is None or current == needed:
        return 0.0
    return SETUP_S.get((current, needed), SETUP_S.get(("*", needed), 0.0))


class Lot:
    __slots__ = ("id", "product", "step", "wafers", "priority", "release", "queued")

    def __init__(self, lot_id, product, step, priority, release):
        self.id, self.product, self.step = lot_id, product, step
        self.wafers, self.priority, self.release, self.queued = 25, priority, release, 0.0


class Tool:
    def __init__(self, family, index):
        self.family, self.index = family, index
        self.setup, self.runs = None, 0
        self.pending_down = self.pending_pm = 0
        self.wake = None  # event while idle
        self.repaired = None


class Fab:
    def __init__(self, env, seed):
        self.env = env
        self.rng = random.Random(seed)
        self.queues = {"diffusion": [], "implant": [], "litho": []}
        self.tools = {f: [Tool(f, i) for i in range(n)]
                      for f, n in (("diffusion", 2), ("implant", 2), ("litho", 1))}
        self.next_id = 0
        self.done = []  # (release, finish)
        for family, tools in self.tools.items():
            for tool in tools:
                env.process(self.run_tool(tool))
                if family == "implant":
                    env.process(self.breakdowns(tool))
                if family == "litho":
                    env.process(self.pms(tool))
        env.process(self.releases("A", lambda: self.rng.expovariate(1 / (200 * MIN)), 0.0, 10))
        env.process(self.releases("B", lambda: self.rng.expovariate(1 / (200 * MIN)), 0.0, 10))
        env.process(self.releases("A", lambda: DAY, 6 * HOUR, 20))
        for product, step, count in (("A", 0, 3), ("B", 2, 2)):
            for _ in range(count):
                self.arrive(self.new_lot(product, step, 10))

    def new_lot(self, product, step, priority):
        self.next_id += 1
        return Lot(self.next_id, product, step, priority, self.env.now)

    def releases(self, product, interval, start, priority):
        yield self.env.timeout(start)
        while True:
            self.arrive(self.new_lot(product, 0, priority))
            yield self.env.timeout(interval())

    def arrive(self, lot):
        family = ROUTES[lot.product][lot.step][0]
        lot.queued = self.env.now
        self.queues[family].append(lot)
        for tool in self.tools[family]:
            self.poke(tool)

    def poke(self, tool):
        if tool.wake is not None and not tool.wake.triggered:
            tool.wake.succeed()

    def breakdowns(self, tool):
        while True:
            yield self.env.timeout(self.rng.expovariate(1 / (3 * DAY)))
            tool.pending_down += 1
            tool.repaired = self.env.event()
            self.poke(tool)
            yield tool.repaired

    def pms(self, tool):
        yield self.env.timeout(3 * DAY)
        while True:
            tool.pending_pm += 1
            self.poke(tool)
            yield self.env.timeout(7 * DAY)

    def pick(self, tool):
        """Lots to start on the tool (a batch for diffusion), or None."""
        queue = self.queues[tool.family]
        if not queue:
            return None
        if tool.family == "diffusion":  # FIFO head, then same-step mates while <= max
            tried = set()
            for head in queue:
                key = (head.product, head.step)
                if key in tried:
                    continue
                tried.add(key)
                batch, wafers = [], 0
                for lot in queue:
                    if lot.product == head.product and lot.step == head.step and wafers + lot.wafers <= BATCH_MAX:
                        batch.append(lot)
                        wafers += lot.wafers
                if wafers >= BATCH_MIN:
                    return batch
            return None
        if tool.family == "implant":
            eligible = queue
            if tool.setup is not None and tool.runs < 3:  # minimum run after a setup
                same = [lot for lot in queue if ROUTES[lot.product][lot.step][4] == tool.setup]
                if same:
                    eligible = same
            best = min(eligible, key=lambda lot: (
                setup_time(tool.setup, ROUTES[lot.product][lot.step][4]), lot.queued, lot.id))
            return [best]
        best = min(queue, key=lambda lot: (-lot.priority, lot.queued, lot.id))  # hot lot first
        return [best]

    def run_tool(self, tool):
        env = self.env
        while True:
            if tool.pending_down:
                tool.pending_down -= 1
                yield env.timeout(self.rng.expovariate(1 / (4 * HOUR)))
                tool.repaired.succeed()
                continue
            if tool.pending_pm:
                tool.pending_pm -= 1
                yield env.timeout(self.rng.uniform(5 * HOUR, 7 * HOUR))
                continue
            batch = self.pick(tool)
            if batch is None:
                tool.wake = env.event()
                yield tool.wake
                tool.wake = None
                continue
            queue = self.queues[tool.family]
            for lot in batch:
                queue.remove(lot)
            family, mean, spread, _, needed = ROUTES[batch[0].product][batch[0].step]
            duration = setup_time(tool.setup, needed)
            if needed is not None:
                if tool.setup != needed:
                    tool.setup, tool.runs = needed, 0
                tool.runs += 1
            duration += mean if spread == 0 else self.rng.uniform(mean - spread, mean + spread)
            if family == "diffusion":
                duration += 20 * MIN  # load + unload
            yield env.timeout(duration)
            for lot in batch:
                lot.step += 1
                if lot.step == 6:
                    self.done.append((lot.release, env.now))
                else:
                    self.arrive(lot)


def run_simpy(seed, horizon=HORIZON):
    env = simpy.Environment()
    fab = Fab(env, seed)
    events = 0
    start = time.perf_counter()
    while env.peek() <= horizon:
        env.step()
        events += 1
    wall = time.perf_counter() - start
    after = [(r, f) for r, f in fab.done if f >= WARMUP]
    cycle = [(f - r) / HOUR for r, f in fab.done if r >= WARMUP]
    return {"events": events, "wall_s": wall, "lots_out": len(fab.done),
            "throughput_lots_per_day": len(after) / ((horizon - WARMUP) / DAY),
            "cycle_time_mean_h": sum(cycle) / len(cycle)}


def ftwin_scenario(path, dt):
    """The scenario with the given tick and without its completion log, in a temp folder."""
    text = open(path).read()
    text = re.sub(r"\n\s*completion_log:[^\n]*", "", text)
    text = re.sub(r"\bdt: *\S+", "dt: " + dt, text, count=1)
    folder = tempfile.mkdtemp(prefix="minifab_ftwin_")
    out = os.path.join(folder, "minifab.yaml")
    with open(out, "w") as f:
        f.write(text)
    return out


def run_ftwin(binary, scenario, seed, days=None):
    out = tempfile.mkdtemp(prefix="minifab_ftwin_out_")
    extra = ["--duration", f"{days}d"] if days else []
    start = time.perf_counter()
    proc = subprocess.run([binary, "run", scenario, "--out", out, "--quiet", "--seed", str(seed)] +
                          extra, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit("ftwin failed:\n" + proc.stdout + proc.stderr)
    kpis = {}
    with open(os.path.join(out, "kpis.csv")) as f:
        for line in f.read().splitlines()[1:]:
            block, name, _unit, world, value = line.split(",")
            if block == "fab" and world == "0":
                kpis[name] = float(value)
    return wall, kpis


def mean_sd(values):
    n = len(values)
    mean = sum(values) / n
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / max(1, n - 1))


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser()
    parser.add_argument("--ftwin", default=os.path.join(root, "build/bridge/ftwin"))
    parser.add_argument("--scenario", default=os.path.join(root, "scenarios/fab/minifab.yaml"))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--timing-days", type=int, default=3650,
                        help="horizon of the timing runs (the 120 d runs take milliseconds)")
    args = parser.parse_args()
    if not os.path.exists(args.ftwin):
        sys.exit(f"no ftwin binary at {args.ftwin} (build the ftwin target)")
    print(f"SimPy {simpy.__version__}, Mini-Fab, {HORIZON / DAY:.0f} d, warm-up {WARMUP / DAY:.0f} d")
    keys = ("throughput_lots_per_day", "cycle_time_mean_h")
    simpy_runs = []
    for rep in range(args.reps):
        r = run_simpy(1000 + rep)
        simpy_runs.append(r)
        print(f"  simpy seed {1000 + rep}: {r['events']} events in {r['wall_s']:.3f} s = "
              f"{r['events'] / r['wall_s']:.3g} events/s, throughput "
              f"{r['throughput_lots_per_day']:.2f} lots/d, cycle time {r['cycle_time_mean_h']:.2f} h")
    simpy_rate = sum(r["events"] for r in simpy_runs) / sum(r["wall_s"] for r in simpy_runs)
    simpy_wall = sum(r["wall_s"] for r in simpy_runs) / len(simpy_runs)
    results = {}
    for dt in ("1min", "1h"):  # the tick never changes event times, only port exchanges
        scenario = ftwin_scenario(args.scenario, dt)
        runs = []
        for rep in range(args.reps):
            wall, kpis = run_ftwin(args.ftwin, scenario, 7 + rep)
            runs.append((wall, kpis))
            print(f"  ftwin dt {dt} seed {7 + rep}: {kpis['events']:.0f} events in {wall:.3f} s "
                  f"(whole CLI process) = {kpis['events'] / wall:.3g} events/s, throughput "
                  f"{kpis[keys[0]]:.2f} lots/d, cycle time {kpis[keys[1]]:.2f} h")
        results[dt] = runs
    print("\nSummary (means over the seeds):")
    print(f"  SimPy: {simpy_rate:.3g} events/s, {simpy_wall:.3f} s per 120 d run")
    for dt, runs in results.items():
        rate = sum(k["events"] for _, k in runs) / sum(w for w, _ in runs)
        wall = sum(w for w, _ in runs) / len(runs)
        print(f"  ftwin dt {dt}: {rate:.3g} events/s ({rate / simpy_rate:.1f}x SimPy), "
              f"{wall:.3f} s per run ({simpy_wall / wall:.1f}x faster than SimPy)")
    days = args.timing_days
    print(f"\nTiming, one {days} d run each (best of 3 for ftwin, process start included):")
    r = run_simpy(1000, days * DAY)
    simpy_rate = r["events"] / r["wall_s"]
    print(f"  SimPy: {r['events']} events in {r['wall_s']:.2f} s = {simpy_rate:.3g} events/s")
    for dt in ("1min", "1h"):
        scenario = ftwin_scenario(args.scenario, dt)
        best = min((run_ftwin(args.ftwin, scenario, 7, days) for _ in range(3)),
                   key=lambda run: run[0])
        wall, kpis = best
        rate = kpis["events"] / wall
        print(f"  ftwin dt {dt}: {kpis['events']:.0f} events in {wall:.2f} s = {rate:.3g} events/s"
              f" = {rate / simpy_rate:.1f}x SimPy; same simulated time {r['wall_s'] / wall:.1f}x "
              f"faster")
    # KPIs: two-sample comparison, 99 % Welch-style bound (t ~ 3.36 for ~8 dof at n = 5).
    t99 = 3.36 if args.reps == 5 else 2.6
    for key in keys:
        a_mean, a_sd = mean_sd([r[key] for r in simpy_runs])
        b_mean, b_sd = mean_sd([k[key] for _, k in results["1min"]])
        bound = t99 * math.sqrt((a_sd ** 2 + b_sd ** 2) / args.reps)
        verdict = "within" if abs(a_mean - b_mean) <= bound else "OUTSIDE"
        print(f"  {key}: SimPy {a_mean:.2f} (sd {a_sd:.2f}), ftwin {b_mean:.2f} (sd {b_sd:.2f}); "
              f"difference {b_mean - a_mean:+.2f}, 99 % bound {bound:.2f} -> {verdict}")


if __name__ == "__main__":
    main()
