"""Starts `ftwin serve` for an example and stops it afterwards."""

import contextlib
import os
import pathlib
import signal
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[3]


def ftwin_binary() -> str:
    return os.environ.get("FTWIN_BIN", str(ROOT / "build" / "bridge" / "ftwin"))


@contextlib.contextmanager
def serve(scenario: str, *args: str):
    """Yields the control endpoint of a lockstep server on a free loopback port."""
    process = subprocess.Popen(
        [ftwin_binary(), "serve", str(ROOT / scenario), "--control", "tcp://127.0.0.1:*",
         "--stream", "tcp://127.0.0.1:*", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    control = None
    for line in process.stdout:
        if line.startswith("control "):
            control = line.split()[1]
            break
    if control is None:
        process.kill()
        raise RuntimeError("ftwin serve did not start:\n" + process.stdout.read())
    try:
        yield control
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)


def compare(title: str, names, baseline, controlled, better) -> None:
    """Prints the KPIs of the baseline and the controller side by side."""
    print(f"\n{title}")
    print(f"{'KPI':<40} {'baseline':>14} {'controller':>14}")
    for name in names:
        mark = ""
        if name in better:
            if controlled[name] == baseline[name]:
                mark = "  same"
            else:
                good = controlled[name] < baseline[name] if better[name] == "lower" else controlled[name] > baseline[name]
                mark = "  better" if good else "  worse"
        print(f"{name:<40} {baseline[name]:>14.6g} {controlled[name]:>14.6g}{mark}")
