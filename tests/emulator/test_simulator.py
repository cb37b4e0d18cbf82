"""Tests of the emulator's shot simulator against independently computed distributions."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from uuid import UUID

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]
from simulator_operations import cz, measure, prx

from pytket import Circuit, OpType
from pytket.extensions.iqm.emulator.devices.device import Calibration
from pytket.extensions.iqm.emulator.devices.noise import NoiseModel
from pytket.extensions.iqm.emulator.simulation.program import Operation
from pytket.extensions.iqm.emulator.simulation.simulator import (
    Method,
    SimulationError,
    TooLargeError,
    exact_distribution,
    final_state,
    prx_matrix,
    simulate,
)

PI = math.pi


def cc_prx(qubit: str, angle: float, phase: float, key: str, source: str) -> Operation:
    return Operation(
        "cc_prx", (qubit,), angle=angle, phase=phase, feedback_key=key, feedback_qubit=source
    )


def ghz(qubits: Sequence[str]) -> list[Operation]:
    """GHZ with native gates: RY(π/2) on the first qubit, then CNOT = RY(π/2)·CZ·RY(−π/2)."""
    ops = [prx(qubits[0], PI / 2, PI / 2)]
    for control, target in itertools.pairwise(qubits):
        ops += [prx(target, -PI / 2, PI / 2), cz(control, target), prx(target, PI / 2, PI / 2)]
    ops.append(measure("m", *qubits))
    return ops


def random_native(rng: np.random.Generator, qubits: Sequence[str], layers: int) -> list[Operation]:
    ops: list[Operation] = []
    for _ in range(layers):
        for qubit in qubits:
            ops.append(prx(qubit, rng.uniform(-PI, PI), rng.uniform(-PI, PI)))
        order = rng.permutation(len(qubits))
        for i in range(0, len(order) - 1, 2):
            ops.append(cz(qubits[order[i]], qubits[order[i + 1]]))
    return ops


def to_pytket(ops: Sequence[Operation], qubits: Sequence[str]) -> Circuit:
    """The unitary part in pytket (PhasedX in half-turns), qubit i = qubits[i]."""
    index = {q: i for i, q in enumerate(qubits)}
    circuit = Circuit(len(qubits))
    for op in ops:
        if op.name == "prx":
            circuit.add_gate(OpType.PhasedX, [op.angle / PI, op.phase / PI], [index[op.qubits[0]]])
        elif op.name == "cz":
            circuit.CZ(index[op.qubits[0]], index[op.qubits[1]])
    return circuit


def pytket_distribution(circuit: Circuit) -> np.ndarray:
    """|amplitudes|² in ILO-BE order (qubit 0 most significant), as our bit order."""
    return np.abs(circuit.get_statevector()) ** 2


def counts_of(bits: np.ndarray) -> np.ndarray:
    width = bits.shape[1]
    index = bits.astype(np.int64) @ (1 << np.arange(width - 1, -1, -1))
    return np.bincount(index, minlength=1 << width)


def chi_square_p(counts: np.ndarray, probabilities: np.ndarray) -> float:
    """p-value of the counts under the distribution, pooling bins expected below 5."""
    total = counts.sum()
    expected = probabilities * total
    assert counts[expected == 0].sum() == 0, "an impossible outcome occurred"
    big = expected >= 5
    observed = list(counts[big])
    wanted = list(expected[big])
    if (~big).any() and expected[~big].sum() > 0:
        observed.append(counts[~big].sum())
        wanted.append(expected[~big].sum())
    wanted_array = np.array(wanted) * sum(observed) / sum(wanted)
    return float(stats.chisquare(observed, wanted_array).pvalue)


# ---------------------------------------------------------------------------------------------
# Noiseless
# ---------------------------------------------------------------------------------------------


def test_bell_and_ghz_outcomes_are_all_equal_bits() -> None:
    qubits = [f"QB{i}" for i in range(1, 8)]
    result = simulate(ghz(qubits), 2000, noise=None, rng=np.random.default_rng(5))
    bits = result.measurements["m"]
    assert bits.shape == (2000, 7)
    assert bits.dtype == np.uint8
    assert result.shots_kept == 2000
    sums = bits.sum(axis=1)
    assert set(np.unique(sums)) == {0, 7}
    assert abs(np.mean(sums == 7) - 0.5) < 5 * math.sqrt(0.25 / 2000)


def test_measured_qubit_order_is_the_measure_operations_order() -> None:
    ops = [prx("QB3", PI, 0.0), measure("m", "QB3", "QB1"), measure("n", "QB1")]
    # QB1 measured twice: the first measure is mid-circuit, the second terminal.
    result = simulate(ops, 10, noise=None, rng=np.random.default_rng(0))
    assert result.measurements["m"].tolist() == [[1, 0]] * 10
    assert result.measurements["n"].tolist() == [[0]] * 10


@pytest.mark.parametrize("method", ["statevector", "density_matrix"])
def test_random_circuit_matches_pytket_statevector(method: Method) -> None:
    rng = np.random.default_rng(11)
    qubits = [f"QB{i}" for i in (4, 9, 1, 7, 2)]
    ops = random_native(rng, qubits, 4)
    expected = pytket_distribution(to_pytket(ops, qubits))
    ops.append(measure("m", *qubits))
    result = simulate(ops, 40_000, noise=None, rng=np.random.default_rng(1), method=method)
    assert chi_square_p(counts_of(result.measurements["m"]), expected) > 1e-3


def test_exact_distribution_matches_pytket_on_eleven_qubits() -> None:
    # 11 axes exercise every fused-window kernel (wide, short and bottom windows, single axes).
    rng = np.random.default_rng(3)
    qubits = [f"QB{i}" for i in range(1, 12)]
    ops = random_native(rng, qubits, 5)
    ops += [cz("QB1", "QB2"), cz("QB3", "QB11"), cz("QB9", "QB10"), prx("QB10", 0.3, 0.1)]
    expected = pytket_distribution(to_pytket(ops, qubits))
    ops.append(measure("m", *reversed(qubits)))
    reversed_order = exact_distribution(ops).reshape((2,) * 11)
    ours = np.transpose(reversed_order, list(reversed(range(11)))).reshape(-1)
    np.testing.assert_allclose(ours, expected, atol=1e-12)


@pytest.mark.parametrize(
    ("angle", "phase"), [(0.3, 0.0), (PI / 2, PI / 2), (-1.2, 2.5), (PI, -0.4)]
)
def test_prx_matrix_is_the_documented_rotation(angle: float, phase: float) -> None:
    x = np.array([[0, 1], [1, 0]])
    y = np.array([[0, -1j], [1j, 0]])
    generator = math.cos(phase) * x + math.sin(phase) * y  # squares to I
    expected = math.cos(angle / 2) * np.eye(2) - 1j * math.sin(angle / 2) * generator
    np.testing.assert_allclose(prx_matrix(angle, phase), expected, atol=1e-15)

    def rz(t: float) -> np.ndarray:
        return np.diag([np.exp(-1j * t / 2), np.exp(1j * t / 2)])

    rx = math.cos(angle / 2) * np.eye(2) - 1j * math.sin(angle / 2) * x
    np.testing.assert_allclose(prx_matrix(angle, phase), rz(phase) @ rx @ rz(-phase), atol=1e-15)


def test_final_amplitudes_match_pytket_up_to_global_phase() -> None:
    # Amplitudes, not just probabilities: a conjugated PRX convention gives the same
    # distributions but different amplitudes.
    rng = np.random.default_rng(23)
    qubits = [f"QB{i}" for i in range(1, 12)]
    ops = [prx(q, PI / 2, 0.0) for q in qubits] + random_native(rng, qubits, 4)
    components, amplitudes = final_state(ops)
    assert components == tuple(qubits)
    expected = to_pytket(ops, qubits).get_statevector()
    overlap = np.vdot(expected, amplitudes)
    assert abs(abs(overlap) - 1) < 1e-12
    np.testing.assert_allclose(amplitudes, expected * overlap, atol=1e-12)


def test_move_uses_the_qiskit_iqm_phases() -> None:
    # qiskit-iqm's MOVE_GATE_UNITARY: moving the excitation into the resonator multiplies it by
    # e^(−0.7i); moving it back by e^(+0.7i).
    ops = [prx("QB1", PI / 2, 0.0), Operation("move", ("QB1", "CR1"))]
    components, amplitudes = final_state(ops)
    assert components == ("QB1", "CR1")
    moved = -1j * np.exp(-0.7j) / math.sqrt(2)  # index 1 = |QB1=0, CR1=1>
    np.testing.assert_allclose(amplitudes, [1 / math.sqrt(2), moved, 0, 0], atol=1e-15)
    _, back = final_state([*ops, Operation("move", ("QB1", "CR1"))])
    np.testing.assert_allclose(back, [1 / math.sqrt(2), 0, -1j / math.sqrt(2), 0], atol=1e-15)


@pytest.mark.parametrize("method", ["statevector", "density_matrix"])
def test_final_depolarizing_flips_bits_at_the_expected_rate(method: Method) -> None:
    # After the last gates only the X part of a Pauli error matters; Z parts are skipped by the
    # trajectory method, X parts must not be.
    noise = NoiseModel(prx_depolarizing={"QB1": 0.6}, cz_depolarizing={("QB2", "QB3"): 0.8})
    ops = [prx("QB1", 0.0, 0.0), cz("QB2", "QB3"), measure("m", "QB1", "QB2", "QB3")]
    shots = 20_000
    bits = simulate(ops, shots, noise=noise, rng=np.random.default_rng(4), method=method)
    one = 1 - 0.6 / 2  # P(no bit flip) of 1q depolarizing: I or Z
    two = 1 - 0.8 + 0.8 / 4  # P(both bits kept): II, IZ, ZI, ZZ
    expected = np.zeros(8)
    for index in range(8):
        b1, b2, b3 = (index >> 2) & 1, (index >> 1) & 1, index & 1
        p1 = one if b1 == 0 else 1 - one
        p23 = two if (b2, b3) == (0, 0) else (1 - two) / 3
        expected[index] = p1 * p23
    assert chi_square_p(counts_of(bits.measurements["m"]), expected) > 1e-3


def test_few_draws_from_a_large_distribution_follow_it() -> None:
    # Few shots from ≥ 2**14 outcomes take the two-level (block, then index) sampling path.
    from pytket.extensions.iqm.emulator.simulation.sampling import sample_indices

    weights = np.random.default_rng(99).random(1 << 16) ** 4
    weights[::7] = 0.0
    rng = np.random.default_rng(1)
    draws = np.concatenate([sample_indices(weights, 50, rng) for _ in range(2000)])
    assert not np.any(draws % 7 == 0)
    probabilities = weights / weights.sum()
    high = np.bincount(draws >> 10, minlength=64)
    low = np.bincount(draws & 1023, minlength=1024)
    assert chi_square_p(high, probabilities.reshape(64, -1).sum(axis=1)) > 1e-3
    assert chi_square_p(low, probabilities.reshape(64, -1).sum(axis=0)) > 1e-3


def test_move_sandwich_acts_like_cz_between_the_qubits() -> None:
    rng = np.random.default_rng(8)
    qubits = ["QB1", "QB2", "QB3"]
    prep = [prx(q, rng.uniform(0, PI), rng.uniform(0, PI)) for q in qubits]
    tail = [prx(q, rng.uniform(0, PI), rng.uniform(0, PI)) for q in qubits]
    via_resonator = [
        *prep,
        Operation("move", ("QB2", "CR1")),
        cz("QB1", "CR1"),
        Operation("move", ("QB2", "CR1")),
        *tail,
        measure("m", *qubits),
    ]
    direct = [*prep, cz("QB1", "QB2"), *tail]
    expected = pytket_distribution(to_pytket(direct, qubits))
    np.testing.assert_allclose(exact_distribution(via_resonator), expected, atol=1e-12)


def test_move_transfers_the_excitation_to_the_resonator() -> None:
    ops = [prx("QB1", PI, 0.0), Operation("move", ("QB1", "CR1")), measure("m", "QB1", "CR1")]
    np.testing.assert_allclose(exact_distribution(ops), [0, 1, 0, 0], atol=1e-15)


def test_only_touched_components_are_simulated_on_a_54_qubit_device() -> None:
    qubits = [f"QB{i}" for i in range(31, 55)]  # 24 active out of 54
    ops = [prx(q, PI, 0.0) for q in qubits] + [measure("m", *qubits)]
    result = simulate(ops, 3, noise=None, rng=np.random.default_rng(0))
    assert result.measurements["m"].tolist() == [[1] * 24] * 3


def test_too_many_active_components_is_refused_with_count_and_limit() -> None:
    ops = ghz([f"QB{i}" for i in range(1, 6)])
    with pytest.raises(TooLargeError) as error:
        simulate(ops, 10, noise=None, rng=np.random.default_rng(0), max_active_qubits=4)
    assert str(error.value) == (
        "The circuit acts on 5 qubits and resonators, but the emulator simulates at most 4 at "
        "once. Use fewer qubits."
    )


def test_cc_prx_without_stored_feedback_names_the_key() -> None:
    ops = [measure("m", "QB1"), cc_prx("QB2", PI, 0.0, "fb", "QB1"), measure("n", "QB2")]
    with pytest.raises(SimulationError) as error:
        simulate(ops, 10, noise=None, rng=np.random.default_rng(0))
    assert "feedback_key 'fb' of QB1" in str(error.value)
    assert "Measure it first with feedback_key='fb'" in str(error.value)


def test_malformed_circuits_raise_simulation_error() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(SimulationError, match="'rz', which the emulator cannot simulate"):
        simulate([Operation("rz", ("QB1",))], 1, noise=None, rng=rng)
    with pytest.raises(SimulationError, match="key 'm' is used twice"):
        simulate([measure("m", "QB1"), measure("m", "QB2")], 1, noise=None, rng=rng)
    with pytest.raises(SimulationError, match="acts on exactly 2"):
        simulate([Operation("cz", ("QB1",))], 1, noise=None, rng=rng)
    with pytest.raises(SimulationError, match="non-negative"):
        simulate([measure("m", "QB1")], -1, noise=None, rng=rng)


# ---------------------------------------------------------------------------------------------
# Mid-circuit measurement, feedback, reset (checked against the deferred-measurement circuit)
# ---------------------------------------------------------------------------------------------


def feedback_circuit() -> tuple[list[Operation], Circuit]:
    """A circuit with a mid-circuit measurement, cc_prx, reuse and reset, and its deferred twin.

    Deferred form: the mid-circuit measurement of QB1 is a CX onto a fresh ancilla a; cc_prx is a
    controlled PRX from a; the reset of QB2 is a SWAP with a fresh, unmeasured ancilla r.
    pytket qubits: 0=QB1, 1=QB2, 2=QB3, 3=a, 4=r.
    """
    t1, f1, t2, f2, t3, f3 = 1.1, 0.3, 2.0, -0.7, 0.9, 1.3
    ops = [
        prx("QB1", t1, f1),
        prx("QB2", t2, f2),
        cz("QB1", "QB2"),
        prx("QB2", 1.2, 0.4),
        measure("mid", "QB1", feedback_key="fb"),
        cc_prx("QB2", t3, f3, "fb", "QB1"),
        prx("QB1", 0.8, 2.1),
        cz("QB1", "QB3"),
        Operation("reset", ("QB2",)),
        prx("QB2", 0.5, 0.2),
        cz("QB2", "QB3"),
        prx("QB3", 1.7, -0.4),
        measure("final", "QB1", "QB2", "QB3"),
    ]
    twin = Circuit(5)
    twin.add_gate(OpType.PhasedX, [t1 / PI, f1 / PI], [0])
    twin.add_gate(OpType.PhasedX, [t2 / PI, f2 / PI], [1])
    twin.CZ(0, 1)
    twin.add_gate(OpType.PhasedX, [1.2 / PI, 0.4 / PI], [1])
    twin.CX(0, 3)
    twin.add_gate(OpType.CRz, [-f3 / PI], [3, 1])
    twin.add_gate(OpType.CRx, [t3 / PI], [3, 1])
    twin.add_gate(OpType.CRz, [f3 / PI], [3, 1])
    twin.add_gate(OpType.PhasedX, [0.8 / PI, 2.1 / PI], [0])
    twin.CZ(0, 2)
    twin.SWAP(1, 4)
    twin.add_gate(OpType.PhasedX, [0.5 / PI, 0.2 / PI], [1])
    twin.CZ(1, 2)
    twin.add_gate(OpType.PhasedX, [1.7 / PI, -0.4 / PI], [2])
    return ops, twin


@pytest.mark.parametrize("method", ["statevector", "density_matrix"])
def test_mid_circuit_measure_feedback_and_reset_match_deferred_circuit(method: Method) -> None:
    ops, twin = feedback_circuit()
    full = pytket_distribution(twin).reshape((2,) * 5)
    # our bit order: mid (QB1 then), final QB1, QB2, QB3 → pytket axes 3, 0, 1, 2; r traced out
    expected = np.transpose(full.sum(axis=4), (3, 0, 1, 2)).reshape(-1)
    result = simulate(ops, 30_000, noise=None, rng=np.random.default_rng(4), method=method)
    bits = np.hstack([result.measurements["mid"], result.measurements["final"]])
    assert chi_square_p(counts_of(bits), expected) > 1e-3


def test_cc_prx_copies_a_random_bit() -> None:
    ops = [
        prx("QB1", PI / 2, 0.0),
        measure("a", "QB1", feedback_key="k"),
        cc_prx("QB2", PI, 0.0, "k", "QB1"),
        measure("b", "QB2"),
    ]
    result = simulate(ops, 1000, noise=None, rng=np.random.default_rng(2))
    a, b = result.measurements["a"][:, 0], result.measurements["b"][:, 0]
    assert np.array_equal(a, b)
    assert 400 < a.sum() < 600


def test_feedback_uses_the_recorded_bit_including_readout_error() -> None:
    # QB1 is |0>; with P(1|0) = 0.3 the recorded bit is wrong in 30 % of shots, and the cc_prx
    # follows what was recorded, as the control electronics do.
    noise = NoiseModel(readout_p1_given_0={"QB1": 0.3})
    ops = [
        measure("a", "QB1", feedback_key="k"),
        cc_prx("QB2", PI, 0.0, "k", "QB1"),
        measure("b", "QB2"),
    ]
    result = simulate(ops, 20_000, noise=noise, rng=np.random.default_rng(3))
    a, b = result.measurements["a"][:, 0], result.measurements["b"][:, 0]
    assert np.array_equal(a, b)
    assert abs(a.mean() - 0.3) < 5 * math.sqrt(0.21 / 20_000)


def test_reset_returns_qubit_to_zero() -> None:
    ops = [
        prx("QB1", PI / 2, 0.0),
        cz("QB1", "QB2"),
        Operation("reset", ("QB1", "QB2")),
        measure("m", "QB1", "QB2"),
    ]
    methods: list[Method] = ["statevector", "density_matrix"]
    for method in methods:
        result = simulate(ops, 200, noise=None, rng=np.random.default_rng(1), method=method)
        assert not result.measurements["m"].any()


# ---------------------------------------------------------------------------------------------
# Noise
# ---------------------------------------------------------------------------------------------

PAULIS = [
    np.eye(2),
    np.array([[0, 1], [1, 0]]),
    np.array([[0, -1j], [1j, 0]]),
    np.diag([1.0, -1.0]),
]


def relaxation_kraus(t1: float, t2: float, time: float) -> list[np.ndarray]:
    """Kraus operators of thermal relaxation; checked below against its defining action."""
    gamma = 1 - math.exp(-time / t1)
    q = (1 - math.exp(-time / t2) / math.sqrt(1 - gamma)) / 2
    k0 = np.diag([1.0, math.sqrt(1 - gamma)])
    k1 = np.array([[0.0, math.sqrt(gamma)], [0.0, 0.0]])
    kraus = [math.sqrt(1 - q) * k0, k1, math.sqrt(q) * PAULIS[3] @ k0]
    np.testing.assert_allclose(sum(k.conj().T @ k for k in kraus), np.eye(2), atol=1e-15)
    rho = np.array([[0.3, 0.2 + 0.1j], [0.2 - 0.1j, 0.7]])
    out = sum(k @ rho @ k.conj().T for k in kraus)
    assert abs(out[0, 1] - rho[0, 1] * math.exp(-time / t2)) < 1e-14
    assert abs(out[1, 1] - 0.7 * math.exp(-time / t1)) < 1e-14
    assert abs(out[0, 0] - (0.3 + 0.7 * gamma)) < 1e-14
    return kraus


def depolarizing_kraus(p: float, k: int) -> list[np.ndarray]:
    ops = [np.eye(1)]
    for _ in range(k):
        ops = [np.kron(a, b) for a in ops for b in PAULIS]
    return [math.sqrt(1 - p + p / 4**k) * ops[0]] + [math.sqrt(p / 4**k) * o for o in ops[1:]]


class DenseReference:
    """A brute-force density matrix with full-size Kraus operators (independent of the package)."""

    def __init__(self, components: Sequence[str]) -> None:
        self.index = {c: i for i, c in enumerate(components)}
        self.n = len(components)
        self.rho = np.zeros((2**self.n, 2**self.n), dtype=complex)
        self.rho[0, 0] = 1

    def embed(self, matrix: np.ndarray, targets: Sequence[str]) -> np.ndarray:
        positions = [self.index[t] for t in targets]
        k = len(positions)
        full = np.zeros((2**self.n, 2**self.n), dtype=complex)
        for row in range(2**self.n):
            for col in range(2**self.n):
                rbits = [(row >> (self.n - 1 - i)) & 1 for i in range(self.n)]
                cbits = [(col >> (self.n - 1 - i)) & 1 for i in range(self.n)]
                if any(rbits[i] != cbits[i] for i in range(self.n) if i not in positions):
                    continue
                r = sum(rbits[p] << (k - 1 - j) for j, p in enumerate(positions))
                c = sum(cbits[p] << (k - 1 - j) for j, p in enumerate(positions))
                full[row, col] = matrix[r, c]
        return full

    def channel(self, kraus: Sequence[np.ndarray], targets: Sequence[str]) -> None:
        full = [self.embed(k, targets) for k in kraus]
        self.rho = np.sum([k @ self.rho @ k.conj().T for k in full], axis=0)

    def distribution(self, readout: Sequence[tuple[float, float]]) -> np.ndarray:
        dist: np.ndarray = np.real(np.diag(self.rho)).reshape((2,) * self.n)
        for position, (e0, e1) in enumerate(readout):
            confusion = np.array([[1 - e0, e1], [e0, 1 - e1]])
            dist = np.moveaxis(np.tensordot(confusion, dist, axes=([1], [position])), 0, position)
        return dist.reshape(-1)


STRONG_NOISE = NoiseModel(
    t1={"QB1": 2e-6, "QB2": 3e-6, "QB3": 1.5e-6, "CR1": 1e-6},
    t2={"QB1": 1.5e-6, "QB2": 4e-6, "QB3": 1e-6, "CR1": 2e-6},
    durations={"prx": 100e-9, "cz": 200e-9, "move": 150e-9},
    prx_depolarizing={"QB1": 0.02, "QB2": 0.05, "QB3": 0.01},
    cz_depolarizing={
        ("QB1", "QB2"): 0.08,
        ("QB3", "QB2"): 0.05,
        ("QB1", "QB3"): 0.03,
        ("QB1", "CR1"): 0.04,
    },
    move_depolarizing={("QB3", "CR1"): 0.06},
    readout_p1_given_0={"QB1": 0.03, "QB2": 0.05, "QB3": 0.02},
    readout_p0_given_1={"QB1": 0.06, "QB2": 0.04, "QB3": 0.08},
)


def noisy_circuit() -> list[Operation]:
    rng = np.random.default_rng(21)
    ops = random_native(rng, ["QB1", "QB2", "QB3"], 1)
    ops += [
        cz("QB1", "QB2"),
        cz("QB2", "QB3"),
        Operation("move", ("QB3", "CR1")),
        cz("QB1", "CR1"),
        Operation("move", ("QB3", "CR1")),
        *random_native(rng, ["QB1", "QB2", "QB3"], 1),
        measure("m", "QB1", "QB2", "QB3"),
    ]
    return ops


def reference_distribution(ops: Sequence[Operation], noise: NoiseModel) -> np.ndarray:
    components = ["QB1", "QB2", "QB3", "CR1"]
    ref = DenseReference(components)
    move = np.array(
        [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=complex
    )  # phases cancel in the sandwich
    for op in ops:
        if op.name == "prx":
            (q,) = op.qubits
            c, s = math.cos(op.angle / 2), math.sin(op.angle / 2)
            u = np.array(
                [[c, -1j * s * np.exp(-1j * op.phase)], [-1j * s * np.exp(1j * op.phase), c]]
            )
            ref.channel([u], [q])
            ref.channel(relaxation_kraus(noise.t1[q], noise.t2[q], 100e-9), [q])
            ref.channel(depolarizing_kraus(noise.prx_depolarizing[q], 1), [q])
        elif op.name in ("cz", "move"):
            a, b = op.qubits
            gate = np.diag([1, 1, 1, -1]).astype(complex) if op.name == "cz" else move
            time = 200e-9 if op.name == "cz" else 150e-9
            table = noise.cz_depolarizing if op.name == "cz" else noise.move_depolarizing
            p = table.get((a, b), table.get((b, a)))
            assert p is not None
            ref.channel([gate], [a, b])
            ref.channel(relaxation_kraus(noise.t1[a], noise.t2[a], time), [a])
            ref.channel(relaxation_kraus(noise.t1[b], noise.t2[b], time), [b])
            ref.channel(depolarizing_kraus(p, 2), [a, b])
    full = ref.distribution([noise.readout(q) for q in ("QB1", "QB2", "QB3")] + [(0.0, 0.0)])
    measured: np.ndarray = full.reshape(8, 2).sum(axis=1)  # CR1 unmeasured
    return measured


def test_density_matrix_is_exact_against_dense_kraus_reference() -> None:
    ops = noisy_circuit()
    expected = reference_distribution(ops, STRONG_NOISE)
    np.testing.assert_allclose(exact_distribution(ops, STRONG_NOISE), expected, atol=1e-12)


@pytest.mark.parametrize(
    ("method", "shots"), [("density_matrix", 100_000), ("statevector", 20_000)]
)
def test_sampled_noisy_distribution_agrees_with_reference(method: Method, shots: int) -> None:
    ops = noisy_circuit()
    expected = reference_distribution(ops, STRONG_NOISE)
    result = simulate(ops, shots, noise=STRONG_NOISE, rng=np.random.default_rng(9), method=method)
    assert result.method == method
    assert chi_square_p(counts_of(result.measurements["m"]), expected) > 1e-3


def test_trajectories_agree_with_density_matrix_with_feedback_and_noise() -> None:
    ops, _ = feedback_circuit()
    assert _mid_and_final_agree_across_methods(ops, seed=6) > 1e-3


def _mid_and_final_agree_across_methods(ops: list[Operation], *, seed: int) -> float:
    """The χ² p-value that noisy trajectories and the exact density matrix give the same
    distribution of the ``mid`` and ``final`` measurements (20 000 shots each)."""
    bits = {}
    methods: list[Method] = ["density_matrix", "statevector"]
    for method in methods:
        result = simulate(
            ops, 20_000, noise=STRONG_NOISE, rng=np.random.default_rng(seed), method=method
        )
        bits[method] = np.hstack([result.measurements["mid"], result.measurements["final"]])
    table = np.vstack([counts_of(bits["density_matrix"]), counts_of(bits["statevector"])])
    table = table[:, table.sum(axis=0) > 0]
    return float(stats.chi2_contingency(table).pvalue)


def test_trajectories_agree_with_density_matrix_on_nine_qubits() -> None:
    qubits = [f"QB{i}" for i in range(1, 10)]
    rng = np.random.default_rng(17)
    ops = random_native(rng, qubits, 2)
    ops += [cz("QB1", "QB2"), cz("QB4", "QB9"), cz("QB7", "QB8")]  # Z errors here are invisible
    ops.append(measure("m", *qubits))
    noise = NoiseModel(
        t1=dict.fromkeys(qubits, 4e-6),
        t2=dict.fromkeys(qubits, 3e-6),
        durations={"prx": 40e-9, "cz": 80e-9},
        prx_depolarizing=dict.fromkeys(qubits, 0.01),
        cz_depolarizing={(a, b): 0.03 for a in qubits for b in qubits},
        readout_p1_given_0=dict.fromkeys(qubits, 0.02),
        readout_p0_given_1=dict.fromkeys(qubits, 0.04),
    )
    expected = exact_distribution(ops, noise)
    result = simulate(ops, 4000, noise=noise, rng=np.random.default_rng(5), method="statevector")
    assert chi_square_p(counts_of(result.measurements["m"]), expected) > 1e-3


def test_auto_method_choice() -> None:
    deep = random_native(np.random.default_rng(2), ["QB1", "QB2", "QB3"], 30)
    deep.append(measure("m", "QB1", "QB2", "QB3"))
    rng = np.random.default_rng(0)
    assert simulate(deep, 10, noise=None, rng=rng).method == "statevector"
    assert simulate(deep, 10, noise=STRONG_NOISE, rng=rng).method == "density_matrix"
    readout = NoiseModel.readout_only(GARNET)
    assert simulate(deep, 10, noise=readout, rng=rng).method == "statevector"


def test_memory_limit_refuses_instead_of_exhausting_memory() -> None:
    ops = noisy_circuit()
    with pytest.raises(TooLargeError, match=r"needs 4 copies of a 0 MiB state at once"):
        simulate(
            ops,
            1000,
            noise=STRONG_NOISE,
            rng=np.random.default_rng(0),
            method="statevector",
            max_memory_bytes=3 * 16 * 16,
        )


def test_readout_confusion_rates() -> None:
    noise = NoiseModel(
        readout_p1_given_0={"QB1": 0.1, "QB2": 0.01},
        readout_p0_given_1={"QB1": 0.01, "QB2": 0.2},
    )
    ops = [prx("QB2", PI, 0.0), measure("m", "QB1", "QB2")]
    shots = 50_000
    bits = simulate(ops, shots, noise=noise, rng=np.random.default_rng(7)).measurements["m"]
    rate_qb1_reads_1 = bits[:, 0].mean()
    rate_qb2_reads_0 = 1 - bits[:, 1].mean()
    assert abs(rate_qb1_reads_1 - 0.1) < 5 * math.sqrt(0.09 / shots)
    assert abs(rate_qb2_reads_0 - 0.2) < 5 * math.sqrt(0.16 / shots)


def test_heralding_drops_shots_with_a_false_one() -> None:
    noise = NoiseModel(readout_p1_given_0={"QB1": 0.1, "QB2": 0.2, "QB3": 0.0})
    ops = [prx("QB1", PI, 0.0), cz("QB1", "QB2"), measure("m", "QB1", "QB2", "QB3")]
    shots = 40_000
    result = simulate(ops, shots, noise=noise, rng=np.random.default_rng(3), heralding_zeros=True)
    kept = 0.9 * 0.8
    assert abs(result.shots_kept / shots - kept) < 5 * math.sqrt(kept * (1 - kept) / shots)
    assert result.measurements["m"].shape == (result.shots_kept, 3)
    # the shots that survive are still read with the same confusion
    assert abs(result.measurements["m"][:, 1].mean() - 0.2) < 5 * math.sqrt(0.16 / shots)


def test_heralding_without_noise_keeps_every_shot() -> None:
    result = simulate(
        ghz(["QB1", "QB2"]), 500, noise=None, rng=np.random.default_rng(3), heralding_zeros=True
    )
    assert result.shots_kept == 500
    assert result.measurements["m"].shape == (500, 2)


@pytest.mark.parametrize("method", ["statevector", "density_matrix"])
def test_same_seed_same_result(method: Method) -> None:
    ops, _ = feedback_circuit()

    def run(seed: int) -> dict[str, np.ndarray]:
        return simulate(
            ops,
            500,
            noise=STRONG_NOISE,
            rng=np.random.default_rng(seed),
            method=method,
        ).measurements

    first, again, other = run(42), run(42), run(43)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not all(np.array_equal(first[k], other[k]) for k in first)


# ---------------------------------------------------------------------------------------------
# Garnet-like GHZ: success ≈ product of gate and readout fidelities
# ---------------------------------------------------------------------------------------------

# QB1..QB5 of qiskit-iqm's IQMFakeGarnet profile (iqm-devices.json), seconds.
GARNET_QUBITS = ("QB1", "QB2", "QB3", "QB4", "QB5")
GARNET_CZ = {
    ("QB1", "QB2"): 0.00578,
    ("QB1", "QB4"): 0.00804,
    ("QB2", "QB5"): 0.00749,
    ("QB3", "QB4"): 0.00809,
    ("QB4", "QB5"): 0.00431,
}
GARNET_CZ_FIDELITY = {
    ("QB1", "QB2"): 0.991905,
    ("QB1", "QB4"): 0.989717,
    ("QB2", "QB5"): 0.990565,
    ("QB3", "QB4"): 0.989844,
    ("QB4", "QB5"): 0.992435,
}
GARNET_PRX_FIDELITY = {
    "QB1": 0.998762,
    "QB2": 0.998321,
    "QB3": 0.998432,
    "QB4": 0.998469,
    "QB5": 0.99859,
}
GARNET = Calibration(
    calibration_set_id=UUID(int=1),
    qubits=GARNET_QUBITS,
    computational_resonators=(),
    cz_loci=tuple(GARNET_CZ),
    move_loci=(),
    supports_feedback=False,
    durations={"prx": 20e-9, "cz": 40e-9},
    t1={"QB1": 37741e-9, "QB2": 32584e-9, "QB3": 24468e-9, "QB4": 11555e-9, "QB5": 34257e-9},
    t2={"QB1": 9180e-9, "QB2": 10040e-9, "QB3": 10950e-9, "QB4": 9670e-9, "QB5": 8960e-9},
    prx_depolarizing={
        "QB1": 0.00085,
        "QB2": 0.00183,
        "QB3": 0.00165,
        "QB4": 0.00111,
        "QB5": 0.00114,
    },
    cz_depolarizing=GARNET_CZ,
    move_depolarizing={},
    readout_p1_given_0={"QB1": 0.0255, "QB2": 0.0245, "QB3": 0.0285, "QB4": 0.0245, "QB5": 0.025},
    readout_p0_given_1={"QB1": 0.026, "QB2": 0.024, "QB3": 0.0245, "QB4": 0.024, "QB5": 0.0255},
    prx_fidelity=GARNET_PRX_FIDELITY,
    cz_fidelity=GARNET_CZ_FIDELITY,
)


def test_noisy_ghz_on_garnet_matches_product_of_fidelities() -> None:
    chain = ["QB3", "QB4", "QB1", "QB2", "QB5"]
    ops = ghz(chain)
    noise = NoiseModel.from_calibration(GARNET)

    def process_fidelity(average: float, dim: int) -> float:
        return ((dim + 1) * average - 1) / dim

    average_product = process_product = 1.0
    for op in ops:
        if op.name == "prx":
            fidelity, dim = GARNET_PRX_FIDELITY[op.qubits[0]], 2
        elif op.name == "cz":
            a, b = op.qubits
            found = GARNET_CZ_FIDELITY.get((a, b), GARNET_CZ_FIDELITY.get((b, a)))
            assert found is not None
            fidelity, dim = found, 4
        else:
            continue
        average_product *= fidelity
        process_product *= process_fidelity(fidelity, dim)
    readout_product = 1.0
    for q in chain:
        readout_product *= 1 - (GARNET.readout_p1_given_0[q] + GARNET.readout_p0_given_1[q]) / 2
    readout_only = exact_distribution(ops, NoiseModel.readout_only(GARNET))
    assert abs(readout_only[0] + readout_only[-1] - readout_product) < 1e-6
    exact = exact_distribution(ops, noise)
    success = exact[0] + exact[-1]
    # The GHZ population success lies above the product of process fidelities (phase errors do
    # not change populations) and within 1.5 % of the product of average gate fidelities.
    assert process_product * readout_product < success
    assert abs(success - average_product * readout_product) < 0.015
    result = simulate(ops, 20_000, noise=noise, rng=np.random.default_rng(12))
    sums = result.measurements["m"].sum(axis=1)
    sampled = np.mean((sums == 0) | (sums == 5))
    assert abs(sampled - success) < 5 * math.sqrt(success * (1 - success) / 20_000)


# ---------------------------------------------------------------------------------------------
# Execution order and state growth
# ---------------------------------------------------------------------------------------------


def test_reordering_keeps_each_components_sequence_and_reaches_components_late() -> None:
    from pytket.extensions.iqm.emulator.simulation.steps import late_first_use

    qubits = ["QB1", "QB2", "QB3", "QB4"]
    # A compiled-looking circuit: a layer of PRX on every qubit first, then a CZ chain.
    ops = [prx(q, 0.3, 0.1) for q in qubits]
    ops += [cz("QB1", "QB2"), Operation("barrier", ("QB2", "QB3")), cz("QB2", "QB3")]
    ops += [measure("mid", "QB1"), Operation("reset", ("QB1",)), cz("QB3", "QB4")]
    ops += [measure("m", *qubits)]
    order = late_first_use(ops)
    assert sorted(order) == list(range(len(ops)))
    for qubit in qubits:
        original = [i for i, op in enumerate(ops) if qubit in op.qubits]
        assert [i for i in order if qubit in ops[i].qubits] == original
    # QB3's and QB4's first PRX wait until the circuit has done all it can without them.
    assert order == [0, 1, 4, 7, 8, 2, 5, 6, 3, 9, 10]


def test_noisy_mid_circuit_measure_and_reset_trajectories_agree_with_density_matrix() -> None:
    # No cc_prx: the reordered, growing execution path with measurement and reset branching.
    ops = [prx("QB1", 1.1, 0.2), prx("QB2", 0.4, 1.0), prx("QB3", 2.0, -0.5)]
    ops += [cz("QB1", "QB2"), measure("mid", "QB1", "QB2"), Operation("reset", ("QB2",))]
    ops += [prx("QB2", 1.3, 0.3), cz("QB2", "QB3"), cz("QB1", "QB3"), prx("QB1", 0.7, 0.9)]
    ops += [measure("final", "QB1", "QB2", "QB3")]
    assert _mid_and_final_agree_across_methods(ops, seed=8) > 1e-3


def test_grown_density_matrix_has_unit_trace_after_two_qubit_depolarizing() -> None:
    from pytket.extensions.iqm.emulator.simulation.methods.density_matrix import DensityMatrix

    rho = DensityMatrix(0)
    rho.grow(3)
    rho.apply_1q(0, prx_matrix(1.0, 0.2))
    rho.depolarize([0, 2], 0.3)  # components that are not neighbours in the layout
    matrix = rho.data.reshape((2, 2) * 3).transpose(0, 2, 4, 1, 3, 5).reshape(8, 8)
    assert abs(np.trace(matrix) - 1.0) < 1e-12
    # Depolarizing QB1 with p = 0.3 scales its Bloch vector by 0.7; QB3 was |0> (z = 1).
    z = np.diag([1.0, -1.0])
    reduced_0 = np.einsum("aibi->ab", matrix.reshape(2, 4, 2, 4))
    reduced_2 = np.einsum("iaib->ab", matrix.reshape(4, 2, 4, 2))
    assert abs(np.trace(z @ reduced_0) - 0.7 * math.cos(1.0)) < 1e-12
    assert abs(np.trace(z @ reduced_2) - 0.7) < 1e-12
