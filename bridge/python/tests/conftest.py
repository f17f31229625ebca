"""Starts real `ftwin serve` processes on loopback for the Python client tests."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bridge" / "python"))

ROOM = """ftwin: 1
name: py-room
run: {{dt: 10s, duration: {duration}, seed: 7, worlds: {worlds}, threads: 1}}
blocks:
  - {{name: weather, type: signal_source, shape: sine, unit: K, mean: 278.15, amplitude: 5.0, wave_period: 1d}}
  - name: building
    type: thermal_network
    nodes:
      - {{name: air, capacitance_J_per_K: 2.0e6, ambient_conductance_W_per_K: 60.0, initial_temp_K: 288.15}}
    heat_inputs: [air]
  - {{name: heater, type: pid_controller, measurement_unit: K, output_unit: W, setpoint: 294.15,
     setpoint_min: 278.15, setpoint_max: 303.15, kp: 4000.0, ki: 2.0, output_min: 0.0,
     output_max: 15000.0, period: 10s}}
connections:
  - [weather.value, building.ambient_K]
  - ["building.temp_K[0]", heater.measurement, delayed]
  - [heater.command, building.heat_air_W]
"""


def ftwin_binary() -> str:
    binary = os.environ.get("FTWIN_BIN", str(ROOT / "build" / "bridge" / "ftwin"))
    if not os.path.exists(binary):
        pytest.skip(f"ftwin binary not built at {binary} (set FTWIN_BIN)")
    return binary


class Server:
    def __init__(self, tmp_path, worlds=1, duration="1d", args=()):
        scenario = tmp_path / "room.yaml"
        scenario.write_text(ROOM.format(worlds=worlds, duration=duration))
        self.scenario = scenario
        self.process = subprocess.Popen(
            [ftwin_binary(), "serve", str(scenario), "--control", "tcp://127.0.0.1:*",
             "--stream", "tcp://127.0.0.1:*", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.control = self.stream = None
        self.result = None
        deadline = time.time() + 20
        while time.time() < deadline and (self.control is None or self.stream is None):
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith("control "):
                self.control = line.split()[1]
            elif line.startswith("stream "):
                self.stream = line.split()[1]
        if self.control is None or self.stream is None:
            self.process.kill()
            raise RuntimeError("ftwin serve did not start: " + self.process.stdout.read())

    def stop(self):
        """Stops the server with SIGINT (once) and returns (exit code, output)."""
        if self.result is None:
            self.process.send_signal(signal.SIGINT)
            try:
                out, _ = self.process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                out, _ = self.process.communicate()
            self.result = (self.process.returncode, out)
        return self.result


@pytest.fixture
def serve(tmp_path):
    servers = []

    def start(**kwargs):
        server = Server(tmp_path, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
