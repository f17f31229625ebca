#!/usr/bin/python3
"""Steps per second of the Python vectorised environment (FtwinVectorEnv) against a lockstep
`ftwin serve` on loopback, for 1 and 1024 worlds, next to the bare protocol round trip of the
same process (Client.step without actions) as the peer.

Usage: /usr/bin/python3 bench/bridge/python_env_bench.py [path/to/ftwin] [steps]
"""

import pathlib
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bridge" / "python"))
sys.path.insert(0, str(ROOT / "bridge" / "python" / "tests"))

from conftest import ROOM  # noqa: E402  (the same room scenario as the tests)
from ftwin import Client, FtwinVectorEnv  # noqa: E402


def start(binary, worlds, tmp):
    scenario = pathlib.Path(tmp) / f"room{worlds}.yaml"
    scenario.write_text(ROOM.format(worlds=worlds, duration="3650d"))
    process = subprocess.Popen([binary, "serve", str(scenario), "--control", "tcp://127.0.0.1:*",
                                "--stream", "tcp://127.0.0.1:*"], stdout=subprocess.PIPE, text=True)
    control = None
    while control is None:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("ftwin serve did not start")
        if line.startswith("control "):
            control = line.split()[1]
    return process, control


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "build" / "bridge" / "ftwin")
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    print(f"{'worlds':>7} {'env steps/s':>12} {'world-steps/s':>14} {'bare step/s':>12} {'env/bare':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for worlds in (1, 1024):
            process, control = start(binary, worlds, tmp)
            try:
                env = FtwinVectorEnv(control, obs_fields=["building.temp_K", "heater.command"],
                                     action_fields=["heater.setpoint"], reward="-heater.command",
                                     name="bench")
                env.reset(seed=1)
                action = np.full((worlds, 1), 294.0)
                start_time = time.perf_counter()
                for _ in range(steps):
                    env.step(action)
                env_rate = steps / (time.perf_counter() - start_time)
                env.close()
                bare = Client(control)
                bare.hello("bare", obs=["building.temp_K", "heater.command"])
                start_time = time.perf_counter()
                for _ in range(steps):
                    bare.step(ticks=1)
                bare_rate = steps / (time.perf_counter() - start_time)
                bare.close()
                print(f"{worlds:>7} {env_rate:>12.0f} {env_rate * worlds:>14.0f} {bare_rate:>12.0f} "
                      f"{env_rate / bare_rate:>8.2f}x")
            finally:
                process.send_signal(signal.SIGINT)
                process.communicate(timeout=30)


if __name__ == "__main__":
    main()
