"""How soon an abort stops a running simulation, on each method, at the largest sizes admitted.

    python benchmarks/abort_latency.py [--moments 0.5 2 4 6 8]

The emulator promises that an abort (or a server stop) ends a running simulation within a
second (issue 18). This runs :func:`simulate` in a thread, the way a worker does, sets the
cancellation flag a worker's abort sets after each of ``--moments`` seconds, and reports the
longest time from the flag to the simulation's end, per case:

* **stabilizer**: the deepest circuit a request admits, a Clifford circuit of 200 000
  operations on Emerald's 54 qubits (10 MiB of REST v1 JSON is about that many), 100 000
  shots, Pauli-twirled noise: its compilation and its sampling each take seconds;
* **state vector**: noisy GHZ-24 on Emerald, 1000 shots (the issue's case);
* **matrix-product state**: noisy GHZ-54 on Emerald, 1000 shots.

A moment later than the simulation's own length measures nothing and is shown as "finished".
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# Run as a script from anywhere: the repository root holds the package and this folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.simulate import ghz_tree
from pytket.extensions.iqm.emulator.devices.catalogue import get_device
from pytket.extensions.iqm.emulator.devices.device import Calibration
from pytket.extensions.iqm.emulator.devices.noise import NoiseModel
from pytket.extensions.iqm.emulator.simulation.program import Operation
from pytket.extensions.iqm.emulator.simulation.simulator import (
    SimulationCancelledError,
    simulate,
)

TARGET_SECONDS = 1.0
"""Issue 18: an abort stops a running simulation within a second."""
DEEPEST_CLIFFORD_OPERATIONS = 200_000
"""About the most operations 10 MiB (the default request body limit) of REST v1 JSON holds."""


def deepest_clifford(calibration: Calibration) -> list[Operation]:
    """PRX(π/2) and CZ on random couplers, then every qubit measured."""
    pairs = list(calibration.cz_loci)
    rng = np.random.default_rng(1)
    ops: list[Operation] = []
    while len(ops) < DEEPEST_CLIFFORD_OPERATIONS:
        a, b = pairs[rng.integers(len(pairs))]
        ops += [Operation("prx", (a,), angle=math.pi / 2, phase=0.0), Operation("cz", (a, b))]
    ops.append(Operation("measure", tuple(calibration.qubits), key="m"))
    return ops


def stop_latency(
    ops: Sequence[Operation], shots: int, noise: NoiseModel, moment: float
) -> float | None:
    """Seconds from the flag, set ``moment`` seconds in, to the simulation's end (``None``: it
    finished before the flag took effect)."""
    flag = threading.Event()
    stopped: list[float] = []

    def run() -> None:
        try:
            simulate(ops, shots, noise=noise, rng=np.random.default_rng(0), cancelled=flag.is_set)
        except SimulationCancelledError:
            stopped.append(time.perf_counter())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(moment)
    if not thread.is_alive():
        return None
    flag.set()
    flagged = time.perf_counter()
    thread.join()
    return stopped[0] - flagged if stopped else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--moments", type=float, nargs="+", default=[0.5, 2.0, 4.0, 6.0, 8.0])
    args = parser.parse_args()

    calibration = get_device("emerald").default_calibration
    physical = NoiseModel.from_calibration(calibration)
    twirled = NoiseModel.from_calibration(calibration, pauli_twirled=True)
    cases = [
        ("stabilizer: Clifford 200 000 ops, 54 qubits, 10⁵ shots", deepest_clifford(calibration),
         100_000, twirled),
        ("state vector: noisy GHZ-24, 1000 shots", ghz_tree(calibration, 24), 1000, physical),
        ("matrix-product state: noisy GHZ-54, 1000 shots", ghz_tree(calibration, 54), 1000,
         physical),
    ]  # fmt: skip
    print(f"target: stopped within {TARGET_SECONDS:g} s of the abort")
    print(f"{'case':<58} " + " ".join(f"{f'at {m:g} s':>10}" for m in args.moments) + "  worst")
    for label, ops, shots, noise in cases:
        cells, worst = [], 0.0
        for moment in args.moments:
            latency = stop_latency(ops, shots, noise, moment)
            if latency is None:
                cells.append(f"{'finished':>10}")
                continue
            worst = max(worst, latency)
            cells.append(f"{latency * 1000:>8.0f}ms")
        verdict = "✓" if worst <= TARGET_SECONDS else "✗"
        print(f"{label:<58} " + " ".join(cells) + f"  {worst * 1000:.0f} ms {verdict}")


if __name__ == "__main__":
    main()
