"""Parallel compilation benchmark: ``get_compiled_circuits`` on all cores against ``workers=1``.

Usage (from the repository root)::

    python benchmarks/parallel_compile.py [--circuits 200] [--level 2] [--device garnet]
                                          [--workers N] [--repeats 1]

The batch is made of the suite's circuits (``tests/data/bench-circuits``) that fit the device,
each in several variants that differ by a first layer of ``Ry`` rotations (angle
``π·(k+1)/(m+1) + 0.1·q`` on qubit ``q`` for variant ``k`` of ``m``), so no two circuits of the
batch are the same. Both configurations compile the same batch in the same run, alternating,
through :func:`compile_circuits` (what ``IQMBackend.get_compiled_circuits`` calls); the
parallel time includes starting the worker processes (a fresh pool per run). The table shows
the wall-clock seconds, the speed-up, and whether every compiled circuit's ``to_dict()`` equals
the sequential one's. The machine's core count and load averages are printed with it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from pytket.circuit import Circuit
from pytket.qasm.qasm import circuit_from_qasm

# Run as a script from anywhere: the repository root holds the package and this folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._suite import SUITE_DIR
from pytket.extensions.iqm.backends.parallel_compile import (
    compile_circuits,
    default_workers,
    shutdown_worker_pools,
)
from pytket.extensions.iqm.devices import backend_info as device_info

DEFAULT_CIRCUITS = 200
"""The issue's batch size."""


def suite_variants(n_circuits: int, max_qubits: int) -> list[Circuit]:
    """``n_circuits`` different circuits: the suite's circuits (at most ``max_qubits``) in
    variants with a first layer of ``Ry`` rotations, round-robin over the suite."""
    manifest = json.loads((SUITE_DIR / "manifest.json").read_text())
    base = [
        circuit_from_qasm(SUITE_DIR / entry["file"])
        for entry in manifest["circuits"]
        if entry["n_qubits"] <= max_qubits
    ]
    per_circuit = math.ceil(n_circuits / len(base))
    batch = []
    for number in range(n_circuits):
        original = base[number % len(base)]
        variant = number // len(base)
        circuit = Circuit()
        for q_register in original.q_registers:
            circuit.add_q_register(q_register)
        for c_register in original.c_registers:
            circuit.add_c_register(c_register)
        for position, qubit in enumerate(original.qubits):
            angle = (variant + 1) / (per_circuit + 1) + 0.1 * position  # half-turns
            circuit.Ry(angle, qubit)
        circuit.append(original)
        circuit.name = f"{SUITE_DIR.name}-{number}"
        batch.append(circuit)
    return batch


def _timed(run: object) -> tuple[float, list[Circuit]]:
    start = time.perf_counter()
    compiled = run()  # type: ignore[operator]
    return time.perf_counter() - start, compiled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--circuits", type=int, default=DEFAULT_CIRCUITS)
    parser.add_argument("--level", type=int, default=2)
    parser.add_argument("--device", default="garnet")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    info = device_info(args.device)
    assert info.architecture is not None
    batch = suite_variants(args.circuits, len(info.architecture.nodes))
    workers = args.workers or default_workers()
    load = os.getloadavg()
    print(
        f"{len(batch)} circuits, level {args.level}, {args.device}; {os.cpu_count()} cores "
        f"({default_workers()} usable), load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    sequential_times, parallel_times = [], []
    identical = True
    for _ in range(args.repeats):
        seq_time, sequential = _timed(lambda: compile_circuits(info, batch, args.level, workers=1))
        shutdown_worker_pools()  # each parallel run pays the worker start-up
        par_time, parallel = _timed(
            lambda: compile_circuits(info, batch, args.level, workers=workers)
        )
        sequential_times.append(seq_time)
        parallel_times.append(par_time)
        identical = identical and [c.to_dict() for c in sequential] == [
            c.to_dict() for c in parallel
        ]
    seq_best, par_best = min(sequential_times), min(parallel_times)
    print()
    print(f"{'configuration':<28} {'seconds':>8} {'speed-up':>9} {'identical':>10}")
    print(f"{'workers=1 (sequential)':<28} {seq_best:>8.2f} {1.0:>8.2f}× {'—':>10}")
    print(
        f"{f'workers={workers} (parallel)':<28} {par_best:>8.2f} {seq_best / par_best:>8.2f}× "
        f"{'yes' if identical else 'NO':>10}"
    )
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
