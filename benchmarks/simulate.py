"""Simulation speed: the emulator's simulator against qiskit-aer, side by side (issue 5).

    python benchmarks/simulate.py [--quick] [--shots 1000] [--aer-limit 120] [--cases NAME ...]
    python benchmarks/simulate.py --full-scale [--aer-limit 120] [--cases NAME ...]

``--full-scale`` runs the full-device cases (Emerald, 54 qubits: the matrix-product-state and
stabilizer methods against Aer's) instead; see ``benchmarks/_full_scale.py``.

Both simulators run the same native circuits on IQM Garnet's active qubits with the same number
of shots, in this process, single-threaded (BLAS/OpenMP thread counts are fixed to 1 before numpy
is imported; Aer gets ``max_parallel_threads=1``). Ours is called directly (``simulate``, no HTTP).
"Noisy" is the qiskit-iqm fake backends' noise model built from Garnet's calibration: ours in
compatibility mode (``NoiseModel.from_calibration(..., qiskit_fake_compat=True)``), Aer's built
as ``IQMFakeBackend`` does (``benchmarks/_aer.py``).

Cases: GHZ-20 (a Hamiltonian path of Garnet), random PRX/CZ circuits on 16 and 20 qubits of depth
20 (every layer a random PRX on each qubit, then one matching of Garnet's couplings, cycling),
QFT-12 on a random product state, and the shared compile suite (``tests/data/bench-circuits``)
compiled for Garnet by ``pass_from_info`` at level 2; each noiseless and noisy.

Aer runs in its automatic mode, as a state vector with shot branching and (noisy, ≤ 12 qubits)
as a density matrix; the fastest is kept per case. An Aer configuration whose 1000-shot time
would exceed ``--aer-limit`` seconds (estimated from a run with a tenth of the shots) is not run
in full: its time is the tenth's time ×10, marked ``~``. Fast cases are timed as the best of
three runs. The ratio is Aer's best time ÷ ours (above 1: ours is faster); the summary gives the
geometric means against the issue's targets, and the peak memory of a noisy 24-active-qubit job
(GHZ-24 on Emerald, in a subprocess, ``ru_maxrss``).
"""

from __future__ import annotations

import os

# Single thread for both sides: set before numpy, OpenBLAS or Aer's OpenMP runtime is loaded.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._suite import SUITE_DIR as SUITE  # noqa: E402
from pytket.extensions.iqm.emulator.devices.catalogue import get_device  # noqa: E402
from pytket.extensions.iqm.emulator.devices.device import Calibration  # noqa: E402
from pytket.extensions.iqm.emulator.devices.noise import NoiseModel  # noqa: E402
from pytket.extensions.iqm.emulator.simulation.program import Operation  # noqa: E402
from pytket.extensions.iqm.emulator.simulation.simulator import simulate  # noqa: E402

PI = math.pi
QUICK_SUITE = ("ghz_n10", "qft_n08", "randomcircuit_n05", "graphstate_n16", "qaoa_n12")
AER_DENSITY_MATRIX_MAX = 12
NOISELESS_TARGET, NOISY_TARGET, WORST_TARGET = 1.5, 5.0, 1 / 1.5
MEMORY_TARGET_MB = 2048


# ---------------------------------------------------------------------------------------------
# Circuits
# ---------------------------------------------------------------------------------------------


def prx(qubit: str, angle: float, phase: float) -> Operation:
    """A native PRX (radians)."""
    return Operation("prx", (qubit,), angle=angle, phase=phase)


def ghz_tree(calibration: Calibration, size: int) -> list[Operation]:
    """GHZ on ``size`` qubits grown breadth first over the device's CZ couplings from its
    best-connected qubit: RY(π/2) on the root, then CNOT = RY(π/2)·CZ·RY(−π/2) from each
    qubit's parent, in breadth-first order."""
    neighbours: dict[str, list[str]] = {q: [] for q in calibration.qubits}
    for a, b in calibration.cz_loci:
        neighbours[a].append(b)
        neighbours[b].append(a)
    root = max(calibration.qubits, key=lambda q: len(neighbours[q]))
    parent: dict[str, str | None] = {root: None}
    queue = [root]
    while queue and len(parent) < size:
        current = queue.pop(0)
        for nxt in neighbours[current]:
            if nxt not in parent and len(parent) < size:
                parent[nxt] = current
                queue.append(nxt)
    ops = [prx(root, PI / 2, PI / 2)]
    for target, control in parent.items():
        if control is not None:
            ops += [
                prx(target, -PI / 2, PI / 2),
                Operation("cz", (control, target)),
                prx(target, PI / 2, PI / 2),
            ]
    ops.append(Operation("measure", tuple(parent), key="m"))
    return ops


def random_layers(calibration: Calibration, qubits: Sequence[str], depth: int) -> list[Operation]:
    """``depth`` layers: a random PRX on every qubit, then one matching of the couplings among
    ``qubits`` (a greedy edge colouring, used in turn)."""
    rng = np.random.default_rng(1)
    chosen = set(qubits)
    matchings: list[list[tuple[str, str]]] = []
    for a, b in calibration.cz_loci:
        if a in chosen and b in chosen:
            for matching in matchings:
                if all(a not in pair and b not in pair for pair in matching):
                    matching.append((a, b))
                    break
            else:
                matchings.append([(a, b)])
    ops: list[Operation] = []
    for layer in range(depth):
        ops += [prx(q, rng.uniform(0, PI), rng.uniform(-PI, PI)) for q in qubits]
        ops += [Operation("cz", pair) for pair in matchings[layer % len(matchings)]]
    ops.append(Operation("measure", tuple(qubits), key="m"))
    return ops


def from_pytket(circuit: Any) -> list[Operation]:
    """A circuit compiled for the device (PhasedX, CZ, Measure, Barrier) as native operations."""
    from pytket.circuit import OpType

    from pytket.extensions.iqm.backends.architecture import qubit_for_node

    ops: list[Operation] = []
    measured: list[str] = []
    for command in circuit.get_commands():
        kind = command.op.type
        names = [qubit_for_node(q) for q in command.qubits]
        if kind == OpType.PhasedX:
            alpha, beta = (float(p) for p in command.op.params)
            ops.append(prx(names[0], PI * alpha, PI * beta))
        elif kind == OpType.CZ:
            ops.append(Operation("cz", (names[0], names[1])))
        elif kind == OpType.Measure:
            measured.append(names[0])
        elif kind != OpType.Barrier:
            raise ValueError(f"unexpected {kind} in a compiled circuit")
    ops.append(Operation("measure", tuple(measured), key="m"))
    return ops


def compile_for(circuit: Any, info: Any) -> list[Operation]:
    """Compile with the project's default pass for the device, level 2."""
    from pytket.extensions.iqm.backends.compilation.levels import pass_from_info

    compiled = circuit.copy()
    pass_from_info(info, 2).apply(compiled)
    return from_pytket(compiled)


def qft12(info: Any) -> list[Operation]:
    """QFT on 12 qubits after random RY rotations (a non-trivial input), compiled."""
    from pytket.circuit import Circuit

    rng = np.random.default_rng(3)
    circuit = Circuit(12)
    for q in range(12):
        circuit.Ry(float(rng.uniform(0, 1)), q)
    for target in range(12):
        circuit.H(target)
        for control in range(target + 1, 12):
            circuit.CU1(1 / 2 ** (control - target), control, target)
    for q in range(6):
        circuit.SWAP(q, 11 - q)
    circuit.measure_all()
    return compile_for(circuit, info)


def build_cases(quick: bool) -> dict[str, list[Operation]]:
    """Every benchmark circuit by name."""
    from pytket.qasm.qasm import circuit_from_qasm

    from pytket.extensions.iqm.devices import backend_info

    calibration = get_device("garnet").default_calibration
    info = backend_info("garnet")
    cases = {
        "ghz20": ghz_tree(calibration, 20),
        "rand16_d20": random_layers(calibration, [f"QB{i}" for i in range(1, 17)], 20),
        "rand20_d20": random_layers(calibration, calibration.qubits, 20),
        "qft12": qft12(info),
    }
    manifest = json.loads((SUITE / "manifest.json").read_text())
    for entry in manifest["circuits"]:
        stem = entry["file"].removesuffix(".qasm")
        if quick and stem not in QUICK_SUITE:
            continue
        cases[f"suite/{stem}"] = compile_for(circuit_from_qasm(SUITE / entry["file"]), info)
    if quick:
        del cases["rand20_d20"]
    return cases


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


def best_time(run: Callable[[], object], budget: float = 1.0) -> float:
    """Best of up to three runs; one run when the first takes longer than ``budget`` seconds."""
    times: list[float] = []
    for _ in range(3):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
        if times[0] > budget:
            break
    return min(times)


def time_ours(ops: list[Operation], shots: int, noise: NoiseModel | None) -> tuple[float, str]:
    """Seconds of ``simulate`` and the method it chose."""
    methods: list[str] = []

    def run() -> None:
        methods.append(simulate(ops, shots, noise=noise, rng=np.random.default_rng(7)).method)

    return best_time(run), methods[0]


@dataclass
class AerTime:
    """Aer's time in one configuration; ``estimated`` when extrapolated from fewer shots."""

    seconds: float
    estimated: bool = False

    def __str__(self) -> str:
        return f"{'~' if self.estimated else ''}{self.seconds:.3f}"


def aer_configurations(noisy: bool, width: int) -> dict[str, dict[str, Any]]:
    """The Aer options tried for a case, by label."""
    configurations: dict[str, dict[str, Any]] = {
        "auto": {},
        "sv-branch" if noisy else "sv": {
            "method": "statevector",
            "shot_branching_enable": noisy,
        },
    }
    if noisy and width <= AER_DENSITY_MATRIX_MAX:
        configurations["dm"] = {"method": "density_matrix"}
    return configurations


def time_aer(
    ops: list[Operation],
    shots: int,
    calibration: Calibration | None,
    options: dict[str, Any],
    limit: float,
) -> AerTime:
    """Aer's time for ``shots`` shots in one configuration (extrapolated when too slow)."""
    from qiskit_aer import AerSimulator  # type: ignore[import-untyped]

    from benchmarks._aer import active_components, aer_circuit, fake_backend_noise_model

    circuit, _ = aer_circuit(ops)
    noise = None
    if calibration is not None:
        noise = fake_backend_noise_model(calibration, active_components(ops))
    simulator = AerSimulator(
        noise_model=noise,
        max_parallel_threads=1,
        max_parallel_experiments=1,
        max_parallel_shots=1,
        **options,
    )

    def run(count: int) -> None:
        simulator.run(circuit, shots=count, seed_simulator=7).result()

    trajectories = calibration is not None and options.get("method") != "density_matrix"
    if trajectories and shots >= 100:
        tenth = shots // 10
        start = time.perf_counter()
        run(tenth)
        probe = time.perf_counter() - start
        if probe * shots / tenth > limit:
            return AerTime(probe * shots / tenth, estimated=True)
    return AerTime(best_time(lambda: run(shots)))


def geometric_mean(values: Sequence[float]) -> float:
    """exp(mean(log(values)))."""
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else math.nan


# ---------------------------------------------------------------------------------------------
# Peak memory of a 24-active-qubit noisy job (run in a child process)
# ---------------------------------------------------------------------------------------------


def memory_child(shots: int) -> None:
    """Run noisy GHZ-24 on Emerald and print the process's peak RSS in MB (JSON)."""
    calibration = get_device("emerald").default_calibration
    ops = ghz_tree(calibration, 24)
    noise = NoiseModel.from_calibration(calibration, qiskit_fake_compat=True)
    start = time.perf_counter()
    result = simulate(ops, shots, noise=noise, rng=np.random.default_rng(7))
    seconds = time.perf_counter() - start
    # VmHWM belongs to this process's memory map; ru_maxrss would survive the exec and could
    # report the parent's peak instead.
    status = Path("/proc/self/status").read_text().splitlines()
    hwm = [line.split()[1] for line in status if line.startswith("VmHWM:")]
    peak_mb = (
        int(hwm[0]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    print(json.dumps({"peak_mb": peak_mb, "seconds": seconds, "method": result.method}))


def measure_memory(shots: int) -> dict[str, Any]:
    """Peak RSS (MB) of a fresh process running the 24-qubit noisy job."""
    output = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(shots)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def main() -> None:
    """Run the cases and print the table and the summary."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short subset")
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument(
        "--aer-limit",
        type=float,
        default=120.0,
        help="extrapolate an Aer configuration expected to take longer than this (s)",
    )
    parser.add_argument("--cases", nargs="*", help="only these case names (noiseless and noisy)")
    parser.add_argument("--no-noisy", action="store_true", help="skip the noisy cases")
    parser.add_argument("--memory-shots", type=int, default=100)
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--full-scale",
        action="store_true",
        help="instead: the full-device cases of issue 19 on Emerald (benchmarks/_full_scale.py)",
    )
    parser.add_argument("--full-scale-memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        memory_child(args.memory_child)
        return
    if args.full_scale or args.full_scale_memory_child:
        from benchmarks import _full_scale

        if args.full_scale_memory_child:
            _full_scale.memory_child(args.cases)
        else:
            _full_scale.run(args.aer_limit, __file__, args.cases)
        return

    import qiskit_aer

    calibration = get_device("garnet").default_calibration
    compat_noise = NoiseModel.from_calibration(calibration, qiskit_fake_compat=True)
    cases = build_cases(args.quick)
    if args.cases:
        cases = {name: ops for name, ops in cases.items() if name in args.cases}
    print(
        f"numpy {np.__version__}, qiskit-aer {qiskit_aer.__version__}, {args.shots} shots, "
        "single thread; times in seconds (best of 3 under 1 s); ~ = extrapolated from "
        f"{args.shots // 10} shots"
    )
    header = (
        f"{'case':<28}{'noise':<6}{'qb':>3}{'gates':>6}  {'ours':>8} {'method':<5}"
        f"{'aer auto':>10}{'sv(+br)':>10}{'aer dm':>9}  {'best':<10}{'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    ratios: dict[bool, list[float]] = {False: [], True: []}
    worst: tuple[float, str] = (math.inf, "")
    for noisy in (False, True):
        if noisy and args.no_noisy:
            continue
        for name, ops in cases.items():
            width = len({q for op in ops for q in op.qubits})
            ours, method = time_ours(ops, args.shots, compat_noise if noisy else None)
            aer = {
                label: time_aer(
                    ops, args.shots, calibration if noisy else None, options, args.aer_limit
                )
                for label, options in aer_configurations(noisy, width).items()
            }
            best_label = min(aer, key=lambda label: aer[label].seconds)
            ratio = aer[best_label].seconds / ours
            ratios[noisy].append(ratio)
            worst = min(worst, (ratio, f"{name} ({'noisy' if noisy else 'ideal'})"))
            cells = [str(aer.get(label, "-")) for label in ("auto",)]
            cells.append(str(aer.get("sv-branch" if noisy else "sv", "-")))
            cells.append(str(aer.get("dm", "-")))
            print(
                f"{name:<28}{'noisy' if noisy else 'ideal':<6}{width:>3}{len(ops) - 1:>6}  "
                f"{ours:>8.3f} {'dm' if method == 'density_matrix' else 'sv':<5}"
                f"{cells[0]:>10}{cells[1]:>10}{cells[2]:>9}  {best_label:<10}{ratio:>7.2f}x",
                flush=True,
            )
    print()
    for noisy, target in ((False, NOISELESS_TARGET), (True, NOISY_TARGET)):
        if ratios[noisy]:
            mean = geometric_mean(ratios[noisy])
            print(
                f"geometric mean, {'noisy' if noisy else 'noiseless':<9} (Aer best ÷ ours): "
                f"{mean:6.2f}x  target ≥ {target}x  {'met' if mean >= target else 'MISSED'}"
            )
    if math.isfinite(worst[0]):
        print(
            f"slowest case against Aer: {worst[1]} at {worst[0]:.2f}x  target ≥ "
            f"{WORST_TARGET:.2f}x  {'met' if worst[0] >= WORST_TARGET else 'MISSED'}"
        )
    memory = measure_memory(args.memory_shots)
    print(
        f"peak memory, noisy GHZ-24 on Emerald ({args.memory_shots} shots, {memory['method']}, "
        f"{memory['seconds']:.1f} s): {memory['peak_mb']:.0f} MB (whole process)  target ≤ "
        f"{MEMORY_TARGET_MB} MB  {'met' if memory['peak_mb'] <= MEMORY_TARGET_MB else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
