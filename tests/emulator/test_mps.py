"""The matrix-product-state method against the exact methods, and its truncation bound."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]
from simulator_operations import cz, measure, prx

from pytket.extensions.iqm.emulator.devices.catalogue import get_device
from pytket.extensions.iqm.emulator.devices.noise import NoiseModel
from pytket.extensions.iqm.emulator.simulation.methods.mps import MatrixProductState
from pytket.extensions.iqm.emulator.simulation.program import Operation
from pytket.extensions.iqm.emulator.simulation.simulator import (
    MPS_MAX_DISCARDED_WEIGHT,
    TruncationError,
    exact_distribution,
    final_state,
    simulate,
)

PI = math.pi
EMERALD = get_device("emerald").default_calibration


def random_circuit(
    rng: np.random.Generator, qubits: Sequence[str], layers: int, *, brickwork: bool = False
) -> list[Operation]:
    """Random PRX on every qubit, then CZ on random pairs (far apart in the chain, too) or,
    for ``brickwork``, on neighbours in a line, alternating."""
    ops: list[Operation] = []
    for layer in range(layers):
        ops += [prx(q, rng.uniform(-PI, PI), rng.uniform(-PI, PI)) for q in qubits]
        if brickwork:
            ops += [
                cz(a, b)
                for a, b in zip(qubits[layer % 2 :: 2], qubits[layer % 2 + 1 :: 2], strict=False)
            ]
            continue
        order = rng.permutation(len(qubits))
        ops += [cz(qubits[order[i]], qubits[order[i + 1]]) for i in range(0, len(order) - 1, 2)]
    return ops


def ghz(qubits: Sequence[str]) -> list[Operation]:
    ops = [prx(qubits[0], PI / 2, PI / 2)]
    for control, target in itertools.pairwise(qubits):
        ops += [prx(target, -PI / 2, PI / 2), cz(control, target), prx(target, PI / 2, PI / 2)]
    return [*ops, measure("m", *qubits)]


def counts_of(bits: np.ndarray) -> np.ndarray:
    width = bits.shape[1]
    return np.bincount(
        bits.astype(np.int64) @ (1 << np.arange(width - 1, -1, -1)), minlength=1 << width
    )


def chi_square_p(counts: np.ndarray, probabilities: np.ndarray) -> float:
    """p-value of the counts under the distribution, pooling bins expected below 5."""
    expected = probabilities * counts.sum()
    assert counts[expected == 0].sum() == 0, "an impossible outcome occurred"
    big = expected >= 5
    observed = [*counts[big], counts[~big].sum()]
    wanted = [*expected[big], expected[~big].sum()]
    if wanted[-1] == 0:
        observed, wanted = observed[:-1], wanted[:-1]
    scaled = np.array(wanted) * sum(observed) / sum(wanted)
    return float(stats.chisquare(observed, scaled).pvalue)


@pytest.mark.parametrize(
    ("seed", "width", "layers", "brickwork", "max_bond"),
    # exact (bond as large as the circuit can need), and truncated brickworks
    [(1, 8, 6, False, 16), (2, 10, 6, False, 32), (3, 16, 8, True, 12), (3, 16, 10, True, 16)],
)
def test_mps_state_matches_state_vector_on_random_circuits(
    seed: int, width: int, layers: int, brickwork: bool, max_bond: int
) -> None:
    qubits = [f"QB{i}" for i in range(1, width + 1)]
    ops = random_circuit(np.random.default_rng(seed), qubits, layers, brickwork=brickwork)
    _, exact = final_state(ops)
    _, approximate = final_state(ops, max_bond=max_bond)
    p, q = np.abs(exact) ** 2, np.abs(approximate) ** 2
    assert 0.5 * np.abs(p - q / q.sum()).sum() <= 0.01


def test_mps_samples_follow_the_exact_distribution() -> None:
    qubits = [f"QB{i}" for i in range(1, 8)]
    ops = [*random_circuit(np.random.default_rng(4), qubits, 5), measure("m", *qubits[::-1])]
    result = simulate(ops, 20000, noise=None, rng=np.random.default_rng(5), method="mps")
    assert result.method == "mps"
    assert result.discarded_weight == 0.0
    assert chi_square_p(counts_of(result.measurements["m"]), exact_distribution(ops)) > 1e-3


STRONG = NoiseModel(
    t1=dict.fromkeys([f"QB{i}" for i in range(1, 7)], 20e-6),
    t2={f"QB{i}": (12e-6 if i % 2 else 30e-6) for i in range(1, 7)},  # T2 below and above T1
    durations={"prx": 50e-9, "cz": 400e-9},
    prx_depolarizing=dict.fromkeys([f"QB{i}" for i in range(1, 7)], 0.02),
    cz_depolarizing={(f"QB{i}", f"QB{j}"): 0.05 for i in range(1, 7) for j in range(1, 7)},
    readout_p1_given_0=dict.fromkeys([f"QB{i}" for i in range(1, 7)], 0.03),
    readout_p0_given_1=dict.fromkeys([f"QB{i}" for i in range(1, 7)], 0.05),
)


@pytest.mark.parametrize("seed", [11, 12])
def test_noisy_mps_trajectories_follow_the_density_matrix(seed: int) -> None:
    qubits = [f"QB{i}" for i in range(1, 6)]
    ops = [*random_circuit(np.random.default_rng(seed), qubits, 3), measure("m", *qubits)]
    expected = exact_distribution(ops, STRONG)
    result = simulate(ops, 3000, noise=STRONG, rng=np.random.default_rng(seed), method="mps")
    assert chi_square_p(counts_of(result.measurements["m"]), expected) > 1e-3


def test_mps_mid_circuit_measurement_feedback_and_reset_follow_the_exact_method() -> None:
    ops = [
        prx("QB1", PI / 3, 0.2),
        cz("QB1", "QB4"),
        prx("QB4", PI / 2, PI / 2),
        measure("mid", "QB1", "QB4", feedback_key="fb"),
        Operation("cc_prx", ("QB2",), angle=PI, phase=0.0, feedback_key="fb", feedback_qubit="QB4"),
        Operation("reset", ("QB1",)),
        prx("QB1", PI / 4, 0.0),
        cz("QB1", "QB2"),
        measure("end", "QB1", "QB2", "QB4"),
    ]
    shots = 8000
    mps = simulate(ops, shots, noise=STRONG, rng=np.random.default_rng(1), method="mps")
    exact = simulate(
        ops, shots, noise=STRONG, rng=np.random.default_rng(2), method="density_matrix"
    )
    for key in ("mid", "end"):
        ours, reference = counts_of(mps.measurements[key]), counts_of(exact.measurements[key])
        table = np.array([ours, reference])
        table = table[:, table.sum(axis=0) > 0]
        assert stats.chi2_contingency(table).pvalue > 1e-3


def test_large_noisy_ghz_runs_on_the_mps_with_its_accuracy() -> None:
    qubits = list(EMERALD.qubits[:30])
    noise = NoiseModel.from_calibration(EMERALD)
    result = simulate(ghz(qubits), 200, noise=noise, rng=np.random.default_rng(3))
    assert result.method == "mps"
    assert result.discarded_weight == 0.0
    assert result.bond_dimension is not None
    assert 2 <= result.bond_dimension <= 8
    assert result.measurements["m"].shape == (200, 30)


def test_truncation_beyond_the_bound_fails_with_the_message() -> None:
    qubits = [f"QB{i}" for i in range(1, 13)]
    ops = [*random_circuit(np.random.default_rng(6), qubits, 10), measure("m", *qubits)]
    with pytest.raises(TruncationError) as error:
        simulate(ops, 10, noise=None, rng=np.random.default_rng(0), method="mps", max_bond=2)
    assert str(error.value) == (
        f"The matrix-product-state simulation of this circuit would discard more than "
        f"{MPS_MAX_DISCARDED_WEIGHT:g} of the state's weight (bond dimension capped at 2), so "
        "its results could be wrong by more than the emulator allows. Use fewer qubits, fewer "
        "or shallower layers of two-qubit gates, or a Clifford circuit (stabilizer method)."
    )


def test_inserting_a_site_next_to_its_partner_keeps_the_state() -> None:
    state = MatrixProductState(0, neighbours={2: 0})
    state.grow(2)
    state.apply_1q(0, np.array([[1, 1], [1, -1]], dtype=np.complex128) / math.sqrt(2))
    state.apply_cz(0, 1)
    state.grow(3)
    assert state.axis_at == [0, 2, 1]
    amplitudes = state.amplitudes()
    expected = np.zeros(8, dtype=np.complex128)
    expected[0b000] = expected[0b100] = 1 / math.sqrt(2)
    np.testing.assert_allclose(amplitudes, expected, atol=1e-12)


def test_non_unitary_factors_away_from_the_centre_truncate_like_a_canonical_state() -> None:
    """Damping off the centre is applied lazily (the canonical form is restored only when a
    truncation or a probability needs it); the state must equal one restored at every step."""
    from pytket.extensions.iqm.emulator.simulation.simulator import prx_matrix

    rng = np.random.default_rng(9)
    lazy, eager = MatrixProductState(8, max_bond=3), MatrixProductState(8, max_bond=3)
    for _ in range(120):
        if rng.random() < 0.5:
            axis = int(rng.integers(8))
            matrix = prx_matrix(rng.uniform(-PI, PI), rng.uniform(-PI, PI))
            for state in (lazy, eager):
                state.apply_1q(axis, matrix)
                state.damp_no_jump(axis, 0.2)
            eager._restore()
        else:
            a, b = (int(x) for x in rng.choice(8, 2, replace=False))
            for state in (lazy, eager):
                state.apply_cz(a, b)
    assert lazy.discarded > 0.0
    assert lazy.discarded == pytest.approx(eager.discarded, rel=1e-9)
    first, second = lazy.amplitudes(), eager.amplitudes()
    overlap = abs(np.vdot(first, second)) / (np.linalg.norm(first) * np.linalg.norm(second))
    assert overlap == pytest.approx(1.0, abs=1e-9)
    assert lazy.excited_probability(3) == pytest.approx(eager.excited_probability(3), abs=1e-9)
