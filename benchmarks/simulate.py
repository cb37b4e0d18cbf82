"""Speed and memory of the emulator's simulator (issue 5).

Run ``python benchmarks/simulate.py`` (``--quick`` for the small cases only, ``--cases`` to pick).
Each case runs in its own subprocess so its peak memory can be reported: "+peak MB" is the growth
of the process's max RSS during ``simulate`` (imports alone take about 180 MB). When
``qiskit_aer`` is importable the same circuits and noise also run on ``AerSimulator`` for a
side-by-side column; otherwise that column says ``-``.

Noise is "Garnet-like" (medians of the qiskit-iqm IQMFakeGarnet profile): T1 37.6 µs, T2 9.63 µs,
PRX 20 ns with depolarizing 1e-3, CZ 40 ns with depolarizing 5.8e-3, readout errors 2.5 %.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytket.extensions.iqm.emulator.noise import NoiseModel
from pytket.extensions.iqm.emulator.operations import Operation
from pytket.extensions.iqm.emulator.simulator import simulate

PI = math.pi


def ghz(n: int) -> list[Operation]:
    """GHZ on a chain: RY(π/2), then CNOT = RY(π/2)·CZ·RY(−π/2) down the chain."""
    qubits = [f"QB{i}" for i in range(1, n + 1)]
    ops = [Operation("prx", (qubits[0],), angle=PI / 2, phase=PI / 2)]
    for control, target in itertools.pairwise(qubits):
        ops += [
            Operation("prx", (target,), angle=-PI / 2, phase=PI / 2),
            Operation("cz", (control, target)),
            Operation("prx", (target,), angle=PI / 2, phase=PI / 2),
        ]
    ops.append(Operation("measure", tuple(qubits), key="m"))
    return ops


def random_grid(n: int, depth: int, seed: int = 1) -> list[Operation]:
    """``depth`` layers of random PRX on every qubit, then one of four CZ patterns (ABCD) on a
    4×(n/4) grid."""
    rng = np.random.default_rng(seed)
    rows, cols = 4, n // 4
    name = [[f"QB{r * cols + c + 1}" for c in range(cols)] for r in range(rows)]
    patterns: list[list[tuple[str, str]]] = [[], [], [], []]
    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols:
                patterns[c % 2].append((name[r][c], name[r][c + 1]))
            if r + 1 < rows:
                patterns[2 + r % 2].append((name[r][c], name[r + 1][c]))
    ops: list[Operation] = []
    for layer in range(depth):
        for row in name:
            for q in row:
                ops.append(
                    Operation("prx", (q,), angle=rng.uniform(0, PI), phase=rng.uniform(-PI, PI))
                )
        ops += [Operation("cz", pair) for pair in patterns[layer % 4]]
    ops.append(Operation("measure", tuple(q for row in name for q in row), key="m"))
    return ops


def garnet_like(n: int) -> NoiseModel:
    qubits = [f"QB{i}" for i in range(1, n + 1)]
    return NoiseModel(
        t1=dict.fromkeys(qubits, 37.6e-6),
        t2=dict.fromkeys(qubits, 9.63e-6),
        durations={"prx": 20e-9, "cz": 40e-9},
        prx_depolarizing=dict.fromkeys(qubits, 1e-3),
        cz_depolarizing={(a, b): 5.8e-3 for a in qubits for b in qubits if a != b},
        readout_p1_given_0=dict.fromkeys(qubits, 0.025),
        readout_p0_given_1=dict.fromkeys(qubits, 0.025),
    )


# name → (circuit factory, qubits, noisy, shots)
CASES: dict[str, tuple[Callable[[], list[Operation]], int, bool, int]] = {
    "ghz16": (lambda: ghz(16), 16, False, 1000),
    "ghz20": (lambda: ghz(20), 20, False, 1000),
    "ghz24": (lambda: ghz(24), 24, False, 1000),
    "rand16_d20": (lambda: random_grid(16, 20), 16, False, 1000),
    "rand20_d20": (lambda: random_grid(20, 20), 20, False, 1000),
    "rand20_d20_1e6shots": (lambda: random_grid(20, 20), 20, False, 1_000_000),
    "noisy_ghz5": (lambda: ghz(5), 5, True, 1000),
    "noisy_ghz8": (lambda: ghz(8), 8, True, 1000),
    "noisy_ghz10": (lambda: ghz(10), 10, True, 1000),
    "noisy_ghz16": (lambda: ghz(16), 16, True, 1000),
    "noisy_ghz20": (lambda: ghz(20), 20, True, 1000),
    "noisy_rand12_d10": (lambda: random_grid(12, 10), 12, True, 1000),
    "noisy_rand16_d20": (lambda: random_grid(16, 20), 16, True, 100),
    "noisy_ghz24": (lambda: ghz(24), 24, True, 100),
}
QUICK = ["ghz16", "ghz20", "rand16_d20", "noisy_ghz5", "noisy_ghz8", "noisy_ghz16", "noisy_ghz20"]


def run_ours(case: str) -> dict[str, object]:
    factory, n, noisy, shots = CASES[case]
    ops = factory()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    result = simulate(
        ops, shots, noise=garnet_like(n) if noisy else None, rng=np.random.default_rng(7)
    )
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "method": result.method,
        "gates": len(ops) - 1,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before,
    }


def run_aer(case: str) -> dict[str, object]:
    try:
        from qiskit import QuantumCircuit  # type: ignore[import-not-found]
        from qiskit.circuit.library import RGate  # type: ignore[import-not-found]
        from qiskit_aer import AerSimulator  # type: ignore[import-not-found]
        from qiskit_aer.noise import (  # type: ignore[import-not-found]
            NoiseModel as AerNoise,
        )
        from qiskit_aer.noise import (
            ReadoutError,
            depolarizing_error,
            thermal_relaxation_error,
        )
    except ImportError:
        return {"seconds": None}
    factory, n, noisy, shots = CASES[case]
    ops = factory()
    circuit = QuantumCircuit(n, n)
    index = {f"QB{i}": i - 1 for i in range(1, n + 1)}
    for op in ops:
        if op.name == "prx":
            circuit.append(RGate(op.angle, op.phase), [index[op.qubits[0]]])
        elif op.name == "cz":
            circuit.cz(index[op.qubits[0]], index[op.qubits[1]])
    circuit.measure(list(range(n)), list(range(n)))
    noise = None
    if noisy:
        noise = AerNoise(basis_gates=["r", "cz"])
        relax_1q = thermal_relaxation_error(37.6e-6, 9.63e-6, 20e-9)
        relax_2q = thermal_relaxation_error(37.6e-6, 9.63e-6, 40e-9)
        noise.add_all_qubit_quantum_error(relax_1q.compose(depolarizing_error(1e-3, 1)), ["r"])
        noise.add_all_qubit_quantum_error(
            relax_2q.tensor(relax_2q).compose(depolarizing_error(5.8e-3, 2)), ["cz"]
        )
        noise.add_all_qubit_readout_error(ReadoutError([[0.975, 0.025], [0.025, 0.975]]))
    simulator = AerSimulator(noise_model=noise)
    start = time.perf_counter()
    simulator.run(circuit, shots=shots, seed_simulator=7).result()
    return {"seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small cases only")
    parser.add_argument("--cases", nargs="*", choices=sorted(CASES), help="cases to run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="ours", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        runner = run_ours if args.engine == "ours" else run_aer
        print(json.dumps(runner(args.child)))
        return
    cases = args.cases or (QUICK if args.quick else list(CASES))
    header = f"{'case':<22}{'qubits':>7}{'gates':>7}{'shots':>9}  {'method':<15}"
    header += f"{'ours (s)':>10}{'+peak MB':>9}{'aer (s)':>9}"
    print(header)
    print("-" * len(header))
    for case in cases:
        _, n, _, shots = CASES[case]
        measured = {}
        for engine in ("ours", "aer"):
            output = subprocess.run(
                [sys.executable, __file__, "--child", case, "--engine", engine],
                capture_output=True,
                text=True,
                check=True,
            )
            measured[engine] = json.loads(output.stdout.strip().splitlines()[-1])
        ours, aer = measured["ours"], measured["aer"]
        aer_seconds = "-" if aer["seconds"] is None else f"{aer['seconds']:.3f}"
        print(
            f"{case:<22}{n:>7}{ours['gates']:>7}{shots:>9}  {ours['method']:<15}"
            f"{ours['seconds']:>10.3f}{ours['peak_mb']:>9.0f}{aer_seconds:>9}",
            flush=True,
        )


if __name__ == "__main__":
    main()
