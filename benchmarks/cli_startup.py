"""Start-up time of ``pytket-iqm-emulator --help`` and ``devices`` against ``import fastapi``.

    python benchmarks/cli_startup.py [--repeat 7]

Each command runs ``--repeat`` times as a fresh process, interleaved so that load on a shared
machine hits every command alike; the table gives the median wall time of each and its ratio
to ``python -c "import fastapi"`` (the web stack the command line must not load). Target: both
commands at most 2x ``import fastapi``. ``tests/emulator/test_cli_imports.py`` checks which
modules they load; this measures the time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_RATIO = 2.0
"""Largest accepted ratio of a command's start-up time to ``import fastapi``'s."""
BASELINE = "python -c 'import fastapi'"


def _emulator_command() -> list[str]:
    """The installed console script, or the module when running from a source tree."""
    script = Path(sys.executable).with_name("pytket-iqm-emulator")
    return (
        [str(script)]
        if script.exists()
        else [sys.executable, "-m", "pytket.extensions.iqm.emulator"]
    )


def commands() -> dict[str, list[str]]:
    """Label → command line, the baseline first."""
    emulator = _emulator_command()
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        BASELINE: [sys.executable, "-c", "import fastapi"],
        "pytket-iqm-emulator --help": [*emulator, "--help"],
        "pytket-iqm-emulator devices": [*emulator, "devices"],
    }


def _seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(repeat: int) -> dict[str, list[float]]:
    """Wall times of every command, ``repeat`` rounds, commands interleaved within a round."""
    timings: dict[str, list[float]] = {label: [] for label in commands()}
    for _ in range(repeat):
        for label, command in commands().items():
            timings[label].append(_seconds(command))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each command (default 7)")
    arguments = parser.parse_args()
    timings = measure(arguments.repeat)
    baseline = statistics.median(timings[BASELINE])
    row = "{:<30}{:>12}{:>10}{:>10}{:>20}"
    print(f"\nmedian of {arguments.repeat} runs each, fresh processes")
    print(row.format("command", "median (s)", "min (s)", "max (s)", "/ import fastapi"))
    for label, seconds in timings.items():
        median = statistics.median(seconds)
        print(
            row.format(
                label, f"{median:.3f}", f"{min(seconds):.3f}", f"{max(seconds):.3f}",
                f"{median / baseline:.2f}x",
            )
        )  # fmt: skip
    print(f"target: pytket-iqm-emulator --help and devices <= {TARGET_RATIO:g}x import fastapi")


if __name__ == "__main__":
    main()
