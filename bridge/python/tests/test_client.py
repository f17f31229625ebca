"""The Python client against a real `ftwin serve` on loopback."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import zmq

from conftest import ROOT, ftwin_binary
from ftwin import BridgeError, Client, FtwinEnv, FtwinVectorEnv, Subscriber


def test_lockstep_step_changes_the_plant(serve):
    server = serve()
    client = Client(server.control)
    hello = client.hello("py", obs=["building.temp_K", "heater.command"])
    assert hello.header["run"]["mode"] == "lockstep"
    assert "heater.setpoint" in client.schema
    baseline = client.step(ticks=30)
    assert baseline.tick == 30
    client.reset()
    cold = client.step({"heater.setpoint": 280.0}, ticks=30)
    # Setpoint below the room: the heater switches off and the room is colder.
    assert cold["heater.command"][0] == 0.0
    assert cold["building.temp_K"][0] < baseline["building.temp_K"][0] - 0.5
    client.close()


def test_arrays_are_zero_copy_views(serve):
    server = serve(worlds=4)
    client = Client(server.control)
    client.hello("py")
    reply = client.get("building.temp_K", "heater.setpoint")
    temps = reply["building.temp_K"]
    assert temps.shape == (4,)
    assert temps.dtype == np.float64
    assert not temps.flags.owndata  # a view of the received frame, not a copy
    assert np.all(reply["heater.setpoint"] == 294.15)


def test_batched_actions_reach_each_world(serve):
    server = serve(worlds=3)
    client = Client(server.control)
    client.hello("py", obs=["heater.setpoint"])
    setpoints = np.array([[280.0], [290.0], [300.0]])
    reply = client.step({"heater.setpoint": setpoints}, ticks=1)
    np.testing.assert_array_equal(reply["heater.setpoint"], setpoints[:, 0])


def test_errors_name_the_problem_and_the_run_continues(serve):
    server = serve()
    client = Client(server.control)
    client.socket.send(b"not json at all")
    with pytest.raises(BridgeError) as error:
        client.receive()
    assert error.value.code == "malformed"
    client.hello("py")
    with pytest.raises(BridgeError) as error:
        client.step({"heater.setpoint": 1e6})
    assert error.value.code == "bad_value"
    assert "heater.setpoint" in error.value.message
    with pytest.raises(BridgeError) as error:
        client.get("no.such_field")
    assert error.value.code == "not_found"
    assert client.step(ticks=2).tick == 2


def test_vector_env_reset_is_deterministic_and_steps_all_worlds(serve):
    server = serve(worlds=8)
    env = FtwinVectorEnv(server.control, obs_fields=["building.temp_K"], action_fields=["heater.setpoint"],
                         reward="-heater.command", ticks_per_step=6, episode_ticks=60)
    obs1, _ = env.reset(seed=3)
    obs2, _ = env.reset(seed=3)
    np.testing.assert_array_equal(obs1, obs2)
    assert obs1.shape == (8, 1)
    rng = np.random.default_rng(0)
    truncated = np.zeros(8, dtype=bool)
    steps = 0
    while not truncated.all():
        action = rng.uniform(280.0, 300.0, size=(8, 1))
        obs, reward, terminated, truncated, info = env.step(action)
        steps += 1
        assert obs.shape == (8, 1) and reward.shape == (8,)
        assert np.all(reward <= 0.0)
        assert not terminated.any()
    assert steps == 10
    env.close()


def test_single_env_signatures(serve):
    server = serve()
    env = FtwinEnv(server.control, obs_fields=["building.temp_K"], action_fields=["heater.setpoint"],
                   reward="-heater.command", episode_ticks=5)
    obs, info = env.reset(seed=1)
    assert obs.shape == (1,)
    assert env.observation_space.contains(obs)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
    env.close()


def test_gymnasium_env_checker(serve):
    gymnasium = pytest.importorskip("gymnasium")
    from gymnasium.utils.env_checker import check_env

    server = serve()
    env = FtwinEnv(server.control, obs_fields=["building.temp_K"], action_fields=["heater.setpoint"],
                   reward="-heater.command", episode_ticks=20)
    check_env(env, skip_render_check=True)


def test_watchdog_trips_when_the_controller_process_is_frozen(serve):
    server = serve(args=["--mode", "realtime", "--rtf", "2000"])
    events = Subscriber(server.stream, ["_events/", "heater/"])
    time.sleep(0.3)
    controller = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT / 'bridge' / 'python')!r})
        from ftwin import Client
        c = Client({server.control!r})
        c.hello("frozen", deadline_ms=200, safe="zero", drives=["heater.setpoint"])
        c.step({{"heater.setpoint": 300.0}}, ticks=0)
        print("ready", flush=True)
        while True:          # alive and healthy: a request every 20 ms
            c.get("heater.setpoint")
            time.sleep(0.02)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert controller.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        controller.send_signal(signal.SIGSTOP)  # alive but stuck
        trip = None
        deadline = time.time() + 5
        while time.time() < deadline and trip is None:
            message = events.recv(0.2)
            if message and message.topic == "_events/" and message.header["event"] == "watchdog_trip":
                trip = message
        assert trip is not None, "no watchdog trip within 5 s"
        assert trip.header["detail"]["client"] == "frozen"
        safe = None
        deadline = time.time() + 3
        while time.time() < deadline and safe is None:
            message = events.recv(0.2)
            if message and message.topic == "heater/" and message["heater.setpoint"][0] == 278.15:
                safe = message
        assert safe is not None, "the safe setpoint never reached the stream"
        controller.send_signal(signal.SIGCONT)
        recovered = False
        deadline = time.time() + 3
        while time.time() < deadline and not recovered:
            message = events.recv(0.2)
            recovered = bool(message and message.topic == "_events/"
                             and message.header["event"] == "watchdog_recovered")
        assert recovered
    finally:
        controller.send_signal(signal.SIGCONT)
        controller.kill()
        controller.wait()


def test_networked_run_replays_bit_exactly(serve, tmp_path):
    recording = tmp_path / "net.mcap"
    server = serve(worlds=2, args=["--record", str(recording)])
    client = Client(server.control)
    client.hello("py")
    for i in range(8):
        client.step({"heater.setpoint": np.array([[285.0 + i], [299.0 - i]])}, ticks=5)
    client.close()
    code, out = server.stop()
    assert code == 0, out
    result = subprocess.run([ftwin_binary(), "replay", str(recording)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bit-identical" in result.stdout


def test_recording_re_streams_read_only(serve, tmp_path):
    recording = tmp_path / "net.mcap"
    server = serve(args=["--record", str(recording)])
    client = Client(server.control)
    client.hello("py")
    client.step({"heater.setpoint": 300.0}, ticks=20)
    client.close()
    assert server.stop()[0] == 0
    result = subprocess.run([ftwin_binary(), "replay", str(recording), "--serve", "--rtf", "inf",
                             "--control", "tcp://127.0.0.1:*", "--stream", "tcp://127.0.0.1:*"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "re-streamed" in result.stdout
