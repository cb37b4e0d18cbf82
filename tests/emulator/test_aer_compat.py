"""Compatibility mode against qiskit-aer with the qiskit-iqm fake backends' noise model.

The Aer side is built as ``IQMFakeBackend`` builds it (``benchmarks/_aer.py``, from the same
calibration figures; qiskit-iqm itself is not needed). Aer samples each circuit with its density
matrix method; the samples must fit our exact distribution in compatibility mode, and our own
samples must be indistinguishable from Aer's. On Deneb the physical (non-compat) model must be
rejected by the same samples, which shows the check can fail.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]

from pytket.extensions.iqm.emulator.devices.catalogue import get_device
from pytket.extensions.iqm.emulator.devices.noise import NoiseModel
from pytket.extensions.iqm.emulator.simulation.program import Operation
from pytket.extensions.iqm.emulator.simulation.simulator import exact_distribution, simulate

pytest.importorskip("qiskit_aer")

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks._aer import (
    active_components,
    aer_circuit,
    aer_counts_to_bits,
    fake_backend_noise_model,
)

PI = math.pi
SHOTS = 20_000


def prx(qubit: str, angle: float, phase: float) -> Operation:
    return Operation("prx", (qubit,), angle=angle, phase=phase)


def cnot(control: str, target: str) -> list[Operation]:
    return [
        prx(target, -PI / 2, PI / 2),
        Operation("cz", (control, target)),
        prx(target, PI / 2, PI / 2),
    ]


def garnet_ghz5() -> list[Operation]:
    ops = [prx("QB1", PI / 2, PI / 2)]
    for control, target in (("QB1", "QB2"), ("QB1", "QB4"), ("QB2", "QB5"), ("QB4", "QB3")):
        ops += cnot(control, target)
    return [*ops, Operation("measure", ("QB1", "QB2", "QB3", "QB4", "QB5"), key="m")]


def adonis_random() -> list[Operation]:
    rng = np.random.default_rng(4)
    ops: list[Operation] = []
    for _ in range(4):
        ops += [
            prx(q, rng.uniform(0, PI), rng.uniform(-PI, PI)) for q in ("QB1", "QB2", "QB3", "QB4")
        ]
        ops += [Operation("cz", ("QB3", "QB1")), Operation("cz", ("QB2", "QB3"))]
        ops += [Operation("cz", ("QB4", "QB3"))]
    return [
        *ops,
        Operation("measure", ("QB4", "QB3"), key="a"),
        Operation("measure", ("QB2", "QB1"), key="b"),
    ]


def deneb_ghz_via_move() -> list[Operation]:
    """GHZ on QB1..QB4 through the resonator: QB1's state parks in CR1 while CZs hit it."""
    ops = [prx("QB1", PI / 2, PI / 2), Operation("move", ("QB1", "CR1"))]
    for target in ("QB2", "QB3", "QB4"):
        ops += cnot("CR1", target)
    ops.append(Operation("move", ("QB1", "CR1")))
    return [*ops, Operation("measure", ("QB1", "QB2", "QB3", "QB4"), key="m")]


CASES = {
    "garnet": garnet_ghz5,
    "adonis": adonis_random,
    "deneb": deneb_ghz_via_move,
}


def aer_counts(device: str, ops: Sequence[Operation]) -> np.ndarray:
    from qiskit_aer import AerSimulator  # type: ignore[import-untyped]

    calibration = get_device(device).default_calibration
    circuit, bits = aer_circuit(ops)
    noise = fake_backend_noise_model(calibration, active_components(ops))
    simulator = AerSimulator(method="density_matrix", noise_model=noise, max_parallel_threads=1)
    counts = simulator.run(circuit, shots=SHOTS, seed_simulator=11).result().get_counts()
    histogram = np.zeros(2 ** len(bits), dtype=np.int64)
    for key, value in aer_counts_to_bits(counts).items():
        histogram[int(key, 2)] += value
    return histogram


def our_counts(ops: Sequence[Operation], noise: NoiseModel) -> np.ndarray:
    result = simulate(ops, SHOTS, noise=noise, rng=np.random.default_rng(11))
    bits = np.hstack([result.measurements[op.key] for op in ops if op.name == "measure" and op.key])
    weights = 1 << np.arange(bits.shape[1] - 1, -1, -1)
    return np.bincount(bits.astype(np.int64) @ weights, minlength=2 ** bits.shape[1])


def fit_p_value(counts: np.ndarray, expected: np.ndarray) -> float:
    """χ² goodness of fit, outcomes with expected count < 5 pooled."""
    expected_counts = expected * counts.sum()
    rare = expected_counts < 5
    observed = np.append(counts[~rare], counts[rare].sum())
    wanted = np.append(expected_counts[~rare], expected_counts[rare].sum())
    if wanted[-1] == 0:
        observed, wanted = observed[:-1], wanted[:-1]
    return float(stats.chisquare(observed, wanted * observed.sum() / wanted.sum()).pvalue)


def tvd(counts: np.ndarray, expected: np.ndarray) -> float:
    return float(np.abs(counts / counts.sum() - expected).sum() / 2)


@pytest.mark.parametrize("device", sorted(CASES))
def test_compat_mode_matches_aer_with_the_fake_backend_noise(device: str) -> None:
    ops = CASES[device]()
    noise = NoiseModel.from_calibration(
        get_device(device).default_calibration, qiskit_fake_compat=True
    )
    expected = exact_distribution(ops, noise)
    aer = aer_counts(device, ops)
    ours = our_counts(ops, noise)
    # Sampling error of a 2^k-outcome histogram: E[TVD] ≲ √(2^k / (2π·shots)); 2× that bounds it.
    bound = 2 * math.sqrt(len(expected) / (2 * PI * SHOTS))
    assert tvd(aer, expected) < bound
    assert tvd(ours, expected) < bound
    assert fit_p_value(aer, expected) > 1e-3
    table = np.vstack([aer, ours])
    table = table[:, table.sum(axis=0) > 0]
    assert stats.chi2_contingency(table).pvalue > 1e-3


def test_physical_model_differs_from_the_fake_backends_on_deneb() -> None:
    ops = deneb_ghz_via_move()
    calibration = get_device("deneb").default_calibration
    physical = exact_distribution(ops, NoiseModel.from_calibration(calibration))
    compat = exact_distribution(
        ops, NoiseModel.from_calibration(calibration, qiskit_fake_compat=True)
    )
    assert np.abs(compat - physical).sum() / 2 > 0.01  # the quirks matter here
    assert fit_p_value(aer_counts("deneb", ops), physical) < 1e-6
