"""The stabilizer (stim) method against the exact methods, and the Pauli-twirled noise model."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]
from simulator_operations import cz, measure, prx

from pytket.extensions.iqm.emulator.devices.catalogue import get_device
from pytket.extensions.iqm.emulator.devices.noise import (
    NoiseModel,
    Relaxation,
    twirled_relaxation,
)
from pytket.extensions.iqm.emulator.simulation.methods.stabilizer import (
    clifford_gate,
    shots_per_batch,
)
from pytket.extensions.iqm.emulator.simulation.program import Operation
from pytket.extensions.iqm.emulator.simulation.simulator import (
    SimulationCancelledError,
    SimulationError,
    exact_distribution,
    simulate,
)

PI = math.pi
EMERALD = get_device("emerald").default_calibration


def random_clifford(
    rng: np.random.Generator, qubits: Sequence[str], layers: int
) -> list[Operation]:
    """PRX with angle and phase multiples of π/2 on every qubit, then CZ on random pairs."""
    ops: list[Operation] = []
    for _ in range(layers):
        ops += [
            prx(q, PI / 2 * int(rng.integers(-2, 4)), PI / 2 * int(rng.integers(-2, 4)))
            for q in qubits
        ]
        order = rng.permutation(len(qubits))
        ops += [cz(qubits[order[i]], qubits[order[i + 1]]) for i in range(0, len(order) - 1, 2)]
    return ops


def counts_of(bits: np.ndarray) -> np.ndarray:
    width = bits.shape[1]
    weights = 1 << np.arange(width - 1, -1, -1)
    return np.bincount(bits.astype(np.int64) @ weights, minlength=1 << width)


def chi_square_p(counts: np.ndarray, probabilities: np.ndarray) -> float:
    """p-value of the counts under the distribution, pooling bins expected below 5."""
    expected = probabilities * counts.sum()
    assert counts[expected < 1e-12].sum() == 0, "an impossible outcome occurred"
    big = expected >= 5
    observed = [*counts[big], counts[~big].sum()]
    wanted = [*expected[big], expected[~big].sum()]
    if wanted[-1] < 1e-9:
        observed, wanted = observed[:-1], wanted[:-1]
    if len(observed) < 2:
        return 1.0
    scaled = np.array(wanted) * sum(observed) / sum(wanted)
    return float(stats.chisquare(observed, scaled).pvalue)


PAULI_NOISE = NoiseModel.from_calibration(EMERALD, pauli_twirled=True)


@pytest.mark.parametrize(("seed", "noisy"), [(1, False), (2, False), (3, True), (4, True)])
def test_stabilizer_matches_the_exact_distribution_on_random_clifford_circuits(
    seed: int, noisy: bool
) -> None:
    qubits = list(EMERALD.qubits[:6])
    ops = [*random_clifford(np.random.default_rng(seed), qubits, 5), measure("m", *qubits)]
    noise = PAULI_NOISE if noisy else None
    result = simulate(ops, 4000, noise=noise, rng=np.random.default_rng(seed), method="stabilizer")
    assert result.method == "stabilizer"
    assert chi_square_p(counts_of(result.measurements["m"]), exact_distribution(ops, noise)) > 1e-3


def test_stabilizer_mid_circuit_measurement_and_reset_agree_with_the_state_vector() -> None:
    ops = [
        prx("QB1", PI / 2, PI / 2),
        cz("QB1", "QB2"),
        prx("QB2", PI / 2, 0.0),
        measure("mid", "QB1", "QB2"),
        Operation("reset", ("QB1",)),
        prx("QB1", PI / 2, -PI / 2),
        cz("QB1", "QB3"),
        prx("QB3", PI, PI / 2),
        measure("end", "QB1", "QB3"),
    ]
    shots = 6000
    ours = simulate(ops, shots, noise=PAULI_NOISE, rng=np.random.default_rng(1))
    assert ours.method == "stabilizer"
    exact = simulate(
        ops, shots, noise=PAULI_NOISE, rng=np.random.default_rng(2), method="statevector"
    )
    for key in ("mid", "end"):
        table = np.array([counts_of(ours.measurements[key]), counts_of(exact.measurements[key])])
        table = table[:, table.sum(axis=0) > 0]
        assert stats.chi2_contingency(table).pvalue > 1e-3


def test_noiseless_ghz_54_is_half_zeros_half_ones() -> None:
    qubits = list(EMERALD.qubits)
    ops = [prx(qubits[0], PI / 2, PI / 2)]
    for control, target in itertools.pairwise(qubits):
        ops += [prx(target, -PI / 2, PI / 2), cz(control, target), prx(target, PI / 2, PI / 2)]
    ops.append(measure("m", *qubits))
    shots = 10000
    result = simulate(ops, shots, noise=None, rng=np.random.default_rng(7))
    assert result.method == "stabilizer"
    weights = result.measurements["m"].sum(axis=1)
    assert set(np.unique(weights)) == {0, 54}
    zeros = int(np.count_nonzero(weights == 0))
    assert abs(zeros - shots / 2) <= 4 * math.sqrt(shots / 4)  # 4 standard deviations


def test_an_abort_stops_the_stabilizer_between_batches_of_shots() -> None:
    qubits = list(EMERALD.qubits)
    ops = [*random_clifford(np.random.default_rng(3), qubits, 2), measure("m", *qubits)]
    checks: list[int] = []

    def cancelled() -> bool:  # says stop at its third check
        checks.append(1)
        return len(checks) == 3

    shots = 10 * shots_per_batch(len(ops))  # at least one stim line per operation
    with pytest.raises(SimulationCancelledError, match=r"^The simulation was cancelled\.$"):
        simulate(ops, shots, noise=None, rng=np.random.default_rng(0), cancelled=cancelled)
    assert len(checks) == 3  # it stopped at once, not after the remaining batches
    # Without an abort the batches add up to every shot (a partial last batch included).
    done = simulate(ops, shots + 5, noise=None, rng=np.random.default_rng(0))
    assert done.method == "stabilizer"
    assert done.measurements["m"].shape == (shots + 5, len(qubits))


def test_auto_uses_the_stabilizer_only_where_it_applies() -> None:
    qubits = list(EMERALD.qubits[:26])  # beyond the exact methods' 24
    clifford = [*random_clifford(np.random.default_rng(5), qubits, 1), measure("m", *qubits)]
    physical = NoiseModel.from_calibration(EMERALD)
    assert simulate(clifford, 10, noise=PAULI_NOISE, rng=np.random.default_rng(0)).method == (
        "stabilizer"
    )
    # Amplitude damping is not Pauli noise: the physical model needs the matrix-product state.
    assert simulate(clifford, 10, noise=physical, rng=np.random.default_rng(0)).method == "mps"
    small = [prx("QB1", 0.3, 0.1), measure("m", "QB1")]
    assert simulate(small, 10, noise=None, rng=np.random.default_rng(0)).method == "statevector"


def test_forcing_the_stabilizer_on_a_non_clifford_circuit_says_why() -> None:
    ops = [prx("QB1", 0.3, 0.0), measure("m", "QB1")]
    with pytest.raises(SimulationError) as error:
        simulate(ops, 10, noise=None, rng=np.random.default_rng(0), method="stabilizer")
    assert str(error.value) == (
        "The stabilizer method cannot run this circuit: it has a prx whose angle or phase is "
        "not a multiple of π/2. Use another method."
    )
    physical = NoiseModel.from_calibration(EMERALD)
    with pytest.raises(SimulationError, match="amplitude damping, which is not Pauli noise"):
        simulate(
            [prx("QB1", PI, 0.0), measure("m", "QB1")],
            10,
            noise=physical,
            rng=np.random.default_rng(0),
            method="stabilizer",
        )


@pytest.mark.parametrize(
    ("angle", "phase"), [(PI / 2, 0.0), (PI, PI / 2), (-PI / 2, PI), (PI / 2, 3 * PI / 2)]
)
def test_clifford_prx_angles_are_recognised(angle: float, phase: float) -> None:
    from pytket.extensions.iqm.emulator.simulation.simulator import prx_matrix

    assert clifford_gate(prx_matrix(angle, phase)) is not None
    assert clifford_gate(prx_matrix(angle + 0.1, phase)) is None


def test_twirled_relaxation_is_the_pauli_diagonal_of_the_channel() -> None:
    relaxation = Relaxation(damping=0.2, dephasing=0.05)
    gamma, flip = relaxation.damping, relaxation.dephasing
    kraus = [
        np.array([[1, 0], [0, math.sqrt(1 - gamma)]]),
        np.array([[0, math.sqrt(gamma)], [0, 0]]),
    ]
    kraus = [
        k2 @ k
        for k in kraus
        for k2 in (math.sqrt(1 - flip) * np.eye(2), math.sqrt(flip) * np.diag([1, -1]))
    ]
    paulis = [
        np.eye(2),
        np.array([[0, 1], [1, 0]]),
        np.array([[0, -1j], [1j, 0]]),
        np.diag([1, -1]),
    ]
    # χ-matrix diagonal: p_P = Σ_k |Tr(P K_k)|² / 4.
    diagonal = [sum(abs(np.trace(p @ k)) ** 2 for k in kraus) / 4 for p in paulis]
    np.testing.assert_allclose(twirled_relaxation(relaxation), diagonal[1:], atol=1e-12)
