"""The full-device cases of ``benchmarks/simulate.py --full-scale`` (issue 19), on Emerald.

Each case runs our simulator (``simulate``, the method it picks) and qiskit-aer's best method for
it in the same process, single-threaded, and checks the issue's target:

* GHZ-54, noisy (physical model): ours ≤ 1× Aer's matrix-product state; P(all 0) + P(all 1)
  within 0.02 of the product of the gate and readout fidelities.
* GHZ-54, noiseless: half all-0, half all-1 within binomial error (4σ); ≤ 0.5 s.
* Random Clifford, 54 qubits, depth 20, Pauli noise (the ``pauli`` model), 10⁴ shots: ≤ 1 s and
  ≥ 10× faster than Aer's stabilizer with the same Pauli channels.
* 1-D brickwork (a 40-qubit path of Emerald's couplers), depth 10, random non-Clifford PRX,
  noisy: runs, with its discarded weight reported; on a 20-qubit instance of the same family the
  matrix-product state is within TVD 0.05 of the exact state vector.
* Peak memory of our side of every case (a child process): ≤ 2 GB.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._aer import active_components, aer_circuit, fake_backend_noise_model
from benchmarks.simulate import ghz_tree, prx
from pytket.extensions.iqm.emulator.devices.catalogue import Calibration, get_device
from pytket.extensions.iqm.emulator.devices.noise import NoiseModel, twirled_relaxation
from pytket.extensions.iqm.emulator.simulation.program import Operation
from pytket.extensions.iqm.emulator.simulation.simulator import (
    SimulationResult,
    final_state,
    simulate,
)

PI = math.pi
SHOTS = 1000
CLIFFORD_SHOTS = 10_000
NOISY_GHZ_TOLERANCE = 0.02
NOISELESS_GHZ_SECONDS = 0.5
CLIFFORD_SECONDS, CLIFFORD_SPEEDUP = 1.0, 10.0
BRICKWORK_WIDTH, BRICKWORK_SMALL, BRICKWORK_DEPTH, BRICKWORK_TVD = 40, 20, 10, 0.05
MEMORY_TARGET_MB = 2048
BEST_OF_BELOW = 2.0  # seconds; shared machine: fast cases are timed as the best of three


def neighbours_of(calibration: Calibration) -> dict[str, list[str]]:
    neighbours: dict[str, list[str]] = {q: [] for q in calibration.qubits}
    for a, b in calibration.cz_loci:
        neighbours[a].append(b)
        neighbours[b].append(a)
    return neighbours


def path_of(calibration: Calibration, length: int) -> list[str]:
    """A simple path of ``length`` qubits along the couplers (depth-first search)."""
    neighbours = neighbours_of(calibration)

    def extend(path: list[str]) -> list[str] | None:
        if len(path) == length:
            return path
        # Fewest onward neighbours first (Warnsdorff's rule) finds long paths quickly.
        options = [q for q in neighbours[path[-1]] if q not in path]
        options.sort(key=lambda q: sum(n not in path for n in neighbours[q]))
        for nxt in options:
            found = extend([*path, nxt])
            if found is not None:
                return found
        return None

    for start in calibration.qubits:
        found = extend([start])
        if found is not None:
            return found
    raise ValueError(f"no path of {length} qubits")


def brickwork(path: Sequence[str], depth: int, seed: int = 1) -> list[Operation]:
    """``depth`` layers: random PRX on every qubit, then CZ on alternate neighbour pairs."""
    rng = np.random.default_rng(seed)
    ops: list[Operation] = []
    for layer in range(depth):
        ops += [prx(q, rng.uniform(0, PI), rng.uniform(-PI, PI)) for q in path]
        pairs = zip(path[layer % 2 :: 2], path[layer % 2 + 1 :: 2], strict=False)
        ops += [Operation("cz", pair) for pair in pairs]
    ops.append(Operation("measure", tuple(path), key="m"))
    return ops


def random_clifford(calibration: Calibration, depth: int, seed: int = 2) -> list[Operation]:
    """``depth`` layers on every qubit: a PRX with angle and phase multiples of π/2, then one
    matching of the couplers (greedy edge colouring, used in turn)."""
    rng = np.random.default_rng(seed)
    matchings: list[list[tuple[str, str]]] = []
    for a, b in calibration.cz_loci:
        for matching in matchings:
            if all(a not in pair and b not in pair for pair in matching):
                matching.append((a, b))
                break
        else:
            matchings.append([(a, b)])
    ops: list[Operation] = []
    for layer in range(depth):
        ops += [
            prx(q, PI / 2 * int(rng.integers(1, 4)), PI / 2 * int(rng.integers(0, 4)))
            for q in calibration.qubits
        ]
        ops += [Operation("cz", pair) for pair in matchings[layer % len(matchings)]]
    ops.append(Operation("measure", tuple(calibration.qubits), key="m"))
    return ops


def ghz_prediction(ops: Sequence[Operation], calibration: Calibration) -> float:
    """Product of the average gate fidelities of every gate and of every qubit's readout
    fidelity 1 − (P(1|0) + P(0|1))/2."""
    product = 1.0
    for op in ops:
        if op.name == "prx":
            product *= calibration.prx_fidelity[op.qubits[0]]
        elif op.name == "cz":
            a, b = op.qubits
            product *= calibration.cz_fidelity.get((a, b), calibration.cz_fidelity.get((b, a), 1))
        elif op.name == "measure":
            for q in op.qubits:
                product *= (
                    1 - (calibration.readout_p1_given_0[q] + calibration.readout_p0_given_1[q]) / 2
                )
    return product


# ---------------------------------------------------------------------------------------------
# Aer
# ---------------------------------------------------------------------------------------------


def pauli_noise_model(
    calibration: Calibration, components: Sequence[str], single_qubit_gates: Sequence[str]
) -> Any:
    """Aer's version of our ``pauli`` model: after each gate, each component's twirled
    relaxation, then depolarizing; readout confusion."""
    from qiskit_aer.noise import (  # type: ignore[import-untyped]
        NoiseModel as AerNoiseModel,
    )
    from qiskit_aer.noise import ReadoutError, depolarizing_error, pauli_error

    ours = NoiseModel.from_calibration(calibration, pauli_twirled=True)
    index = {name: i for i, name in enumerate(components)}
    model = AerNoiseModel(basis_gates=[*single_qubit_gates, "cz"])

    def relaxation(gate: str, locus: tuple[str, ...]) -> Any:
        errors = []
        for channel in ours.gate_relaxations(gate, locus):
            p_x, p_y, p_z = twirled_relaxation(channel)
            errors.append(
                pauli_error([("X", p_x), ("Y", p_y), ("Z", p_z), ("I", 1 - p_x - p_y - p_z)])
            )
        combined = errors[0]
        for error in errors[1:]:
            combined = error.tensor(combined)  # qiskit: the first locus qubit is the low one
        return combined

    for qubit in components:
        error = relaxation("prx", (qubit,)).compose(
            depolarizing_error(ours.depolarizing("prx", (qubit,)), 1)
        )
        model.add_quantum_error(error, list(single_qubit_gates), [index[qubit]])
        p0, p1 = ours.readout(qubit)
        model.add_readout_error(ReadoutError([[1 - p0, p0], [p1, 1 - p1]]), [index[qubit]])
    for a, b in calibration.cz_loci:
        if a in index and b in index:
            error = relaxation("cz", (a, b)).compose(
                depolarizing_error(ours.depolarizing("cz", (a, b)), 2)
            )
            model.add_quantum_error(error, "cz", [index[a], index[b]])
    return model


_RZ_CLIFFORD = ((), ("s",), ("z",), ("sdg",))
_RX_CLIFFORD = ((), ("sx",), ("x",), ("sxdg",))


def aer_clifford_circuit(ops: Sequence[Operation]) -> Any:
    """A Clifford circuit in gates Aer's stabilizer method takes: PRX(θ, φ) as RZ(−φ), RX(θ),
    RZ(φ) in time order, each a multiple of π/2 written as S/Z/S† or SX/X/SX†, then ``id``."""
    from qiskit import QuantumCircuit  # type: ignore[import-untyped]

    components = active_components(ops)
    index = {name: i for i, name in enumerate(components)}
    measured = [q for op in ops if op.name == "measure" for q in op.qubits]
    circuit = QuantumCircuit(len(components), len(measured))
    clbit = 0
    for op in ops:
        targets = [index[q] for q in op.qubits]
        if op.name == "prx":
            quarter_phase = round(op.phase / (PI / 2)) % 4
            for gates, turn in (
                (_RZ_CLIFFORD, -quarter_phase % 4),
                (_RX_CLIFFORD, round(op.angle / (PI / 2)) % 4),
                (_RZ_CLIFFORD, quarter_phase),
            ):
                for gate in gates[turn]:
                    getattr(circuit, gate)(targets[0])
            circuit.id(targets[0])  # carries the PRX's noise
        elif op.name == "cz":
            circuit.cz(*targets)
        elif op.name == "measure":
            for target in targets:
                circuit.measure(target, clbit)
                clbit += 1
    return circuit


def pauli_gate_noise_model(calibration: Calibration, components: Sequence[str]) -> Any:
    """:func:`pauli_noise_model` for :func:`aer_clifford_circuit`, whose ``id`` after each PRX
    carries the PRX's noise."""
    return pauli_noise_model(calibration, components, ["id"])


def time_aer(
    ops: Sequence[Operation], shots: int, method: str, noise: Any, limit: float
) -> tuple[float, bool]:
    """Aer's seconds (and whether extrapolated from a tenth of the shots, when slow)."""
    from qiskit_aer import AerSimulator  # type: ignore[import-untyped]

    circuit = aer_clifford_circuit(ops) if method == "stabilizer" else aer_circuit(ops)[0]
    simulator = AerSimulator(
        method=method,
        noise_model=noise,
        max_parallel_threads=1,
        max_parallel_experiments=1,
        max_parallel_shots=1,
    )

    def run(count: int) -> float:
        start = time.perf_counter()
        simulator.run(circuit, shots=count, seed_simulator=7).result()
        return time.perf_counter() - start

    if noise is not None and shots >= 100:
        probe = run(shots // 10)
        if probe * 10 > limit:
            return probe * 10, True
    times = [run(shots)]
    while times[0] < BEST_OF_BELOW and len(times) < 3:
        times.append(run(shots))
    return min(times), False


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------


def ours(
    ops: Sequence[Operation], shots: int, noise: NoiseModel | None
) -> tuple[float, SimulationResult]:
    """Seconds of ``simulate`` (best of three when a run takes under :data:`BEST_OF_BELOW`, as
    the other benchmark times fast cases) and its result."""
    times: list[float] = []
    for _ in range(3):
        start = time.perf_counter()
        result = simulate(ops, shots, noise=noise, rng=np.random.default_rng(7))
        times.append(time.perf_counter() - start)
        if times[0] >= BEST_OF_BELOW:
            break
    return min(times), result


def accuracy(result: SimulationResult) -> str:
    if result.discarded_weight is None:
        return "exact"
    return f"disc {result.discarded_weight:.1e}, χ {result.bond_dimension}"


def cases(calibration: Calibration) -> dict[str, tuple[list[Operation], int, str]]:
    """Name → (circuit, shots, noise: none / physical / pauli)."""
    return {
        "GHZ-54 noisy": (ghz_tree(calibration, 54), SHOTS, "physical"),
        "GHZ-54 noiseless": (ghz_tree(calibration, 54), SHOTS, "none"),
        "Clifford-54 d20 pauli": (random_clifford(calibration, 20), CLIFFORD_SHOTS, "pauli"),
        f"brickwork-{BRICKWORK_WIDTH} d{BRICKWORK_DEPTH} noisy": (
            brickwork(path_of(calibration, BRICKWORK_WIDTH), BRICKWORK_DEPTH),
            SHOTS,
            "physical",
        ),
    }


def noise_of(kind: str, calibration: Calibration) -> NoiseModel | None:
    if kind == "none":
        return None
    return NoiseModel.from_calibration(calibration, pauli_twirled=kind == "pauli")


def memory_child(only: Sequence[str] | None = None) -> None:
    """Run our side of every case (or of ``only``); print the peak RSS in MB (JSON)."""
    calibration = get_device("emerald").default_calibration
    for name, (ops, shots, kind) in cases(calibration).items():
        if only and name not in only:
            continue
        ours(ops, shots, noise_of(kind, calibration))
    status = Path("/proc/self/status").read_text().splitlines()
    peak = [int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")]
    print(json.dumps({"peak_mb": peak[0] if peak else math.nan}))


def run(aer_limit: float, script: str, only: Sequence[str] | None = None) -> None:
    """Print the full-device table and the checks against the issue's targets (of every case,
    or of the cases named in ``only``)."""
    calibration = get_device("emerald").default_calibration
    load = os.getloadavg()
    print(
        f"Full device (Emerald, 54 qubits), single thread; load average {load[0]:.1f} "
        f"{load[1]:.1f} {load[2]:.1f} (2 cores, shared); ~ = Aer extrapolated from a tenth of "
        "the shots"
    )
    header = (
        f"{'case':<26}{'shots':>6}  {'ours':>8} {'method':<11}{'accuracy':<20}{'aer':>9} "
        f"{'aer method':<12}{'ratio':>7}"
    )
    print(header)
    print("-" * len(header))
    checks: list[tuple[str, bool]] = []
    for name, (ops, shots, kind) in cases(calibration).items():
        if only and name not in only:
            continue
        noise = noise_of(kind, calibration)
        seconds, result = ours(ops, shots, noise)
        components = active_components(ops)
        if kind == "physical":
            aer_noise, aer_method = (
                fake_backend_noise_model(calibration, components),
                "matrix_product_state",
            )
        elif kind == "pauli":
            aer_noise, aer_method = pauli_gate_noise_model(calibration, components), "stabilizer"
        else:
            aer_noise, aer_method = None, "stabilizer"
        aer_seconds, estimated = time_aer(ops, shots, aer_method, aer_noise, aer_limit)
        ratio = aer_seconds / seconds
        aer_text = f"{'~' if estimated else ''}{aer_seconds:.3f}"
        print(
            f"{name:<26}{shots:>6}  {seconds:>8.3f} {result.method:<11}{accuracy(result):<20}"
            f"{aer_text:>9} {aer_method[:11]:<12}{ratio:>6.1f}x",
            flush=True,
        )
        bits = result.measurements["m"]
        weights = bits.sum(axis=1)
        if name == "GHZ-54 noisy":
            measured = float(np.mean((weights == 0) | (weights == bits.shape[1])))
            predicted = ghz_prediction(ops, calibration)
            checks.append((f"{name}: ours ≤ 1× Aer MPS ({ratio:.1f}x)", ratio >= 1.0))
            checks.append(
                (
                    f"{name}: P(all 0)+P(all 1) = {measured:.3f}, prediction {predicted:.3f}, "
                    f"within {NOISY_GHZ_TOLERANCE}",
                    abs(measured - predicted) <= NOISY_GHZ_TOLERANCE,
                )
            )
        elif name == "GHZ-54 noiseless":
            zeros = int(np.count_nonzero(weights == 0))
            ones = int(np.count_nonzero(weights == bits.shape[1]))
            within = zeros + ones == shots and abs(zeros - shots / 2) <= 4 * math.sqrt(shots / 4)
            checks.append((f"{name}: {zeros} all-0, {ones} all-1 (binomial, 4σ)", within))
            checks.append(
                (
                    f"{name}: {seconds:.3f} s ≤ {NOISELESS_GHZ_SECONDS} s",
                    seconds <= NOISELESS_GHZ_SECONDS,
                )
            )
        elif name.startswith("Clifford"):
            checks.append(
                (f"{name}: {seconds:.3f} s ≤ {CLIFFORD_SECONDS} s", seconds <= CLIFFORD_SECONDS)
            )
            checks.append(
                (
                    f"{name}: {ratio:.1f}x ≥ {CLIFFORD_SPEEDUP}x Aer stabilizer",
                    ratio >= CLIFFORD_SPEEDUP,
                )
            )
        else:
            checks.append(
                (f"{name}: runs on {result.method}, {accuracy(result)}", result.method == "mps")
            )
    path = path_of(calibration, BRICKWORK_SMALL)
    small = brickwork(path, BRICKWORK_DEPTH)[:-1]
    _, exact = final_state(small)
    _, approximate = final_state(small, max_bond=64)
    p, q = np.abs(exact) ** 2, np.abs(approximate) ** 2
    tvd = 0.5 * float(np.abs(p - q / q.sum()).sum())
    checks.append(
        (
            f"brickwork-{BRICKWORK_SMALL} d{BRICKWORK_DEPTH}: MPS vs exact state vector TVD "
            f"{tvd:.1e} ≤ {BRICKWORK_TVD}",
            tvd <= BRICKWORK_TVD,
        )
    )
    output = subprocess.run(
        [
            sys.executable,
            script,
            "--full-scale-memory-child",
            *(["--cases", *only] if only else []),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    peak = json.loads(output.stdout.strip().splitlines()[-1])["peak_mb"]
    checks.append(
        (
            f"peak memory, our side of every case: {peak:.0f} MB ≤ {MEMORY_TARGET_MB} MB",
            peak <= MEMORY_TARGET_MB,
        )
    )
    print()
    for text, met in checks:
        print(f"{'met   ' if met else 'MISSED'} {text}")


__all__ = ["memory_child", "run"]
