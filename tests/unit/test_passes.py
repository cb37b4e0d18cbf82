"""Tests of the compilation passes: validity, equivalence, levels, fallbacks, barriers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pytest
from pytket.architecture import Architecture
from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Bit, Circuit, Conditional, OpType, Qubit
from pytket.predicates import CompilationUnit
from pytket.qasm.qasm import circuit_from_qasm
from pytket.unit_id import Node, UnitID

from pytket.extensions.iqm.backends.compilation.finish import finish_circuit
from pytket.extensions.iqm.backends.compilation.levels import (
    default_compilation_pass,
    pass_from_info,
)
from pytket.extensions.iqm.backends.compilation.placement import bidirectional_maps
from pytket.extensions.iqm.backends.compilation.routing import absorb_final_swaps
from pytket.extensions.iqm.backends.compilation.success import estimated_success_probability
from pytket.extensions.iqm.backends.compilation.target import rebase_pass, required_predicates

# Garnet's 30 couplers, QBa-QBb written as (a, b).
GARNET_COUPLERS = [
    (1, 2), (1, 4), (2, 5), (3, 4), (3, 8), (4, 5), (4, 9), (5, 6), (5, 10), (6, 7),
    (6, 11), (7, 12), (8, 9), (8, 13), (9, 10), (9, 14), (10, 11), (10, 15), (11, 12),
    (11, 16), (12, 17), (13, 14), (14, 15), (14, 18), (15, 16), (15, 19), (16, 17),
    (16, 20), (18, 19), (19, 20),
]  # fmt: skip
ADONIS_COUPLERS = [(1, 3), (2, 3), (3, 4), (3, 5)]

# The 25 MQT Bench circuits of the compile benchmark, kept in the repository (tests/data).
BENCH_DIR = Path(__file__).resolve().parents[1] / "data" / "bench-circuits"


def node(n: int) -> Node:
    """The node of physical qubit QBn."""
    return Node(n - 1)


def make_info(
    couplers: list[tuple[int, int]],
    *,
    with_errors: bool = True,
    feedback: bool = False,
    name: str = "test",
) -> BackendInfo:
    """A BackendInfo shaped like the backend's, with deterministic, uneven error figures."""
    architecture = Architecture([(node(a), node(b)) for a, b in couplers])
    n_qubits = len(architecture.nodes)
    gate_set = {OpType.PhasedX, OpType.CZ, OpType.Measure, OpType.Barrier}
    if feedback:
        gate_set.add(OpType.Reset)
    kwargs: dict[str, object] = {}
    if with_errors:
        node_errors = {
            node(q): {OpType.PhasedX: 5e-4 + 2e-4 * (q % 5)} for q in range(1, n_qubits + 1)
        }
        edge_errors: dict[tuple[Node, Node], dict[OpType, float]] = {}
        for i, (a, b) in enumerate(couplers):
            error = {OpType.CZ: 0.004 + 0.003 * (i % 4)}
            edge_errors[(node(a), node(b))] = error
            edge_errors[(node(b), node(a))] = error
        readout = {
            node(q): [[1 - 0.02 - 0.002 * (q % 3), 0.02 + 0.002 * (q % 3)], [0.03, 0.97]]
            for q in range(1, n_qubits + 1)
        }
        kwargs = {
            "all_node_gate_errors": node_errors,
            "all_edge_gate_errors": edge_errors,
            "all_readout_errors": readout,
        }
    return BackendInfo(
        name="IQMBackend",
        device_name=name,
        version="0",
        architecture=architecture,
        gate_set=gate_set,
        supports_fast_feedforward=feedback,
        supports_reset=feedback,
        supports_midcircuit_measurement=feedback,
        **kwargs,  # type: ignore[arg-type]
    )


GARNET = make_info(GARNET_COUPLERS, name="garnet")
ADONIS = make_info(ADONIS_COUPLERS, name="adonis")
GARNET_FEEDBACK = make_info(GARNET_COUPLERS, feedback=True, name="garnet-feedback")
GARNET_NO_DATA = make_info(GARNET_COUPLERS, with_errors=False, name="garnet-no-data")
ADONIS_NO_DATA = make_info(ADONIS_COUPLERS, with_errors=False, name="adonis-no-data")


# -- an exact simulator of measurement statistics (branching over mid-circuit outcomes) -------


def _apply(state: np.ndarray, matrix: np.ndarray, axes: list[int]) -> np.ndarray:
    """Apply ``matrix`` (pytket's big-endian convention over ``axes``) to a tensor state."""
    k = len(axes)
    gate = matrix.reshape([2] * (2 * k))
    moved = np.tensordot(gate, state, axes=(list(range(k, 2 * k)), axes))
    return np.moveaxis(moved, list(range(k)), axes)


def _project(state: np.ndarray, axis: int, outcome: int, into: int) -> tuple[float, np.ndarray]:
    """Probability of reading ``outcome`` on ``axis``, and the normalised state after it with
    that qubit set to ``into`` (``into = outcome`` for a measurement, 0 for a reset)."""
    projected = np.take(state, [outcome], axis=axis)
    weight = float(np.sum(np.abs(projected) ** 2))
    result = np.zeros_like(state)
    if weight > 1e-14:
        index = [slice(None)] * state.ndim
        index[axis] = slice(into, into + 1)
        result[tuple(index)] = projected / math.sqrt(weight)
    return weight, result


Distribution = dict[tuple[tuple[str, int], ...], float]


def bit_distribution(circuit: Circuit) -> Distribution:
    """Exact probability of every final value of the circuit's bits, from |0…0⟩.

    Branches over mid-circuit measurement outcomes, so classical control and resets are exact.
    Keys are sorted (bit name, value) pairs, so circuits with different qubits but the same
    bits compare directly.
    """
    axis = {str(q): i for i, q in enumerate(circuit.qubits)}
    start = np.zeros([2] * len(axis), dtype=complex)
    start[(0,) * len(axis)] = 1.0
    branches: list[tuple[float, np.ndarray, dict[str, int]]] = [
        (1.0, start, {str(b): 0 for b in circuit.bits})
    ]
    for command in circuit.get_commands():
        op = command.op
        names = [str(unit) for unit in command.args]
        new_branches = []
        for prob, state, values in branches:
            inner, targets = op, names
            if isinstance(op, Conditional):
                value = sum(values[b] << i for i, b in enumerate(names[: op.width]))
                if value != op.value:
                    new_branches.append((prob, state, values))
                    continue
                inner, targets = op.op, names[op.width :]
            if inner.type in (OpType.Barrier, OpType.Phase):
                new_branches.append((prob, state, values))
            elif inner.type in (OpType.Measure, OpType.Reset):
                for outcome in (0, 1):
                    into = outcome if inner.type == OpType.Measure else 0
                    weight, after = _project(state, axis[targets[0]], outcome, into)
                    if weight > 1e-14:
                        new_values = dict(values)
                        if inner.type == OpType.Measure:
                            new_values[targets[1]] = outcome
                        new_branches.append((prob * weight, after, new_values))
            else:
                matrix = np.asarray(inner.get_unitary())
                after = _apply(state, matrix, [axis[q] for q in targets])
                new_branches.append((prob, after, values))
        branches = new_branches
    distribution: Distribution = {}
    for prob, _, values in branches:
        key = tuple(sorted(values.items()))
        distribution[key] = distribution.get(key, 0.0) + prob
    return distribution


def assert_same_distribution(original: Circuit, compiled: Circuit) -> None:
    """The compiled circuit gives exactly the original's bit statistics (to 1e-9)."""
    expected = bit_distribution(original)
    actual = bit_distribution(compiled)
    keys = set(expected) | set(actual)
    worst = max(abs(expected.get(k, 0.0) - actual.get(k, 0.0)) for k in keys)
    assert worst < 1e-9, f"distributions differ by {worst}"


def compile_unit(circuit: Circuit, info: BackendInfo, level: int) -> CompilationUnit:
    unit = CompilationUnit(circuit.copy())
    default_compilation_pass(info, level).apply(unit)
    return unit


def assert_valid(circuit: Circuit, info: BackendInfo) -> None:
    failed = [str(p) for p in required_predicates(info) if not p.verify(circuit)]
    assert not failed, f"compiled circuit violates {failed}"


# -- circuits ----------------------------------------------------------------------------------


def bell() -> Circuit:
    return Circuit(2, 2).H(0).CX(0, 1).Measure(0, 0).Measure(1, 1)


def ghz(n: int) -> Circuit:
    circuit = Circuit(n, n).H(0)
    for i in range(n - 1):
        circuit.CX(i, i + 1)
    for i in range(n):
        circuit.Measure(i, i)
    return circuit


def random_circuit(n_qubits: int, depth: int, seed: int, measure: bool = True) -> Circuit:
    """Random layers of TK1 rotations and CX/CZ/SWAP on random pairs, then measure all."""
    rng = np.random.default_rng(seed)
    circuit = Circuit(n_qubits)
    for _ in range(depth):
        for q in range(n_qubits):
            alpha, beta, gamma = (float(x) for x in rng.uniform(0, 2, 3))
            circuit.TK1(alpha, beta, gamma, q)
        a, b = (int(x) for x in rng.choice(n_qubits, 2, replace=False))
        gate = [OpType.CX, OpType.CZ, OpType.SWAP][int(rng.integers(3))]
        circuit.add_gate(gate, [a, b])
        circuit.Rz(float(rng.uniform(0, 2)), b)
    if measure:
        circuit.measure_all()
    return circuit


def named_registers() -> Circuit:
    """Qubits and bits in user-named registers, with a bit left unmeasured."""
    circuit = Circuit()
    alice = circuit.add_q_register("alice", 2)
    bob = circuit.add_q_register("bob", 1)
    out = circuit.add_c_register("out", 2)
    flag = circuit.add_c_register("flag", 2)
    circuit.H(alice[0]).CX(alice[0], alice[1]).CX(alice[1], bob[0]).Ry(0.3, bob[0])
    circuit.Measure(alice[0], out[1]).Measure(alice[1], out[0]).Measure(bob[0], flag[1])
    return circuit


SUITE_SMALL = [
    "ae_n04",
    "dj_n05",
    "ghz_n03",
    "grover_n04",
    "qaoa_n05",
    "qft_n04",
    "qftentangled_n05",
    "qpeexact_n05",
    "randomcircuit_n05",
    "vqe_real_amp_n04",
    "wstate_n05",
]


def suite_circuit(stem: str) -> Circuit:
    # A missing file fails the test (FileNotFoundError): the data is part of the repository.
    return circuit_from_qasm(BENCH_DIR / f"{stem}.qasm")


LEVELS = [0, 1, 2, 3]
DEVICES = {"garnet": GARNET, "adonis": ADONIS}
SMALL_CIRCUITS = {
    "bell": bell,
    "ghz5": lambda: ghz(5),
    "random4": lambda: random_circuit(4, 6, seed=7),
    "registers": named_registers,
}


# -- tests: validity and equivalence ------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("device", sorted(DEVICES))
@pytest.mark.parametrize("name", sorted(SMALL_CIRCUITS))
def test_small_circuits_compile_valid_and_equivalent(name: str, device: str, level: int) -> None:
    circuit = SMALL_CIRCUITS[name]()
    info = DEVICES[device]
    compiled = compile_unit(circuit, info, level).circuit
    assert_valid(compiled, info)
    assert_same_distribution(circuit, compiled)
    # User register names survive compilation.
    assert set(compiled.bits) == set(circuit.bits)


# Level 3 is a portfolio of level-2-like pipelines: a few circuits suffice (and keep this fast).
SUITE_CASES = [(stem, level) for stem in SUITE_SMALL for level in (0, 1, 2)] + [
    (stem, 3) for stem in ("ghz_n03", "qft_n04", "vqe_real_amp_n04", "wstate_n05")
]


@pytest.mark.parametrize(("stem", "level"), SUITE_CASES)
def test_suite_circuits_on_garnet(stem: str, level: int) -> None:
    circuit = suite_circuit(stem)
    compiled = compile_unit(circuit, GARNET, level).circuit
    assert_valid(compiled, GARNET)
    assert_same_distribution(circuit, compiled)


@pytest.mark.parametrize("level", [0, 2])
@pytest.mark.parametrize("stem", ["qft_n04", "qpeexact_n05", "wstate_n05"])
def test_suite_circuits_on_adonis(stem: str, level: int) -> None:
    circuit = suite_circuit(stem)
    compiled = compile_unit(circuit, ADONIS, level).circuit
    assert_valid(compiled, ADONIS)
    assert_same_distribution(circuit, compiled)


def _embedded_state(
    psi: np.ndarray, order: list[Qubit], where: Mapping[UnitID, UnitID], qubits: list[Qubit]
) -> np.ndarray:
    """State over ``qubits`` (pytket's order) holding ``psi`` (over ``order``) on the qubits
    ``where`` maps them to, every other qubit in |0⟩."""
    names = [str(q) for q in qubits]
    positions = [names.index(str(where[q])) for q in order]
    full = np.zeros([2] * len(qubits), dtype=complex)
    # full[index] with the listed positions sliced has their axes in increasing position order.
    index = tuple(slice(None) if i in positions else 0 for i in range(len(qubits)))
    by_position = sorted(range(len(order)), key=lambda k: positions[k])
    full[index] = np.transpose(psi.reshape([2] * len(order)), by_position)
    return full.reshape(-1)


def assert_same_action(circuit: Circuit, unit: CompilationUnit, seed: int) -> None:
    """On random input states (placed by the unit's initial map, ancillas in |0⟩) the compiled
    circuit outputs the original's output state, at the final map, up to a global phase."""
    compiled = unit.circuit
    order = circuit.qubits
    rng = np.random.default_rng(seed)
    dimension = 2 ** len(order)
    for _ in range(3):
        psi = rng.normal(size=dimension) + 1j * rng.normal(size=dimension)
        psi /= np.linalg.norm(psi)
        placed = _embedded_state(psi, order, unit.initial_map, compiled.qubits)
        state_out = compiled.get_unitary() @ placed
        target = _embedded_state(
            circuit.get_unitary() @ psi, order, unit.final_map, compiled.qubits
        )
        assert abs(abs(np.vdot(target, state_out)) - 1) < 1e-8


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", [1, 2])
def test_measurement_free_circuit_keeps_its_unitary(level: int, seed: int) -> None:
    """Without measurements nothing may be dropped: the compiled unitary matches, once the
    placement and the final qubit permutation are accounted for."""
    circuit = random_circuit(4, 5, seed=seed, measure=False)
    unit = compile_unit(circuit, GARNET, level)
    assert_valid(unit.circuit, GARNET)
    assert_same_action(circuit, unit, seed)


def test_feedforward_and_mid_circuit_measurement_survive_every_level() -> None:
    """On a device with feedback: a mid-circuit measurement, a PhasedX conditioned on it, a reset
    and reuse of the qubit compile at every level into a circuit with the same statistics."""
    circuit = Circuit(3, 3)
    circuit.H(0).Ry(0.3, 1).Measure(0, 0)
    circuit.X(1, condition_bits=[0], condition_value=1)
    circuit.Rz(0.25, 1).H(1).CX(1, 2).Rx(0.7, 2)
    circuit.Reset(0).H(0).CX(0, 2)
    circuit.Measure(0, 1).Measure(1, 2).Measure(2, 0)
    for level in LEVELS:
        compiled = compile_unit(circuit, GARNET_FEEDBACK, level).circuit
        assert_valid(compiled, GARNET_FEEDBACK)
        assert_same_distribution(circuit, compiled)
        conditional = [c for c in compiled.get_commands() if c.op.type == OpType.Conditional]
        assert conditional, f"level {level} lost the classically controlled gate"
        assert all(
            isinstance(c.op, Conditional) and c.op.op.type == OpType.PhasedX for c in conditional
        )


def test_mid_circuit_measurement_is_rejected_without_device_support() -> None:
    circuit = Circuit(2, 2).H(0).Measure(0, 0).H(0).CX(0, 1).Measure(1, 1)
    compiled = compile_unit(circuit, GARNET, 2).circuit
    failed = [type(p).__name__ for p in required_predicates(GARNET) if not p.verify(compiled)]
    assert failed == ["NoMidMeasurePredicate"]
    assert all(p.verify(compiled) for p in required_predicates(GARNET_FEEDBACK))


# -- tests: levels, fallbacks, barriers ---------------------------------------------------------


@pytest.mark.parametrize("level", [-1, 4, 7])
def test_out_of_range_level_is_a_value_error(level: int) -> None:
    with pytest.raises(ValueError, match=r"^optimisation_level must be 0, 1, 2 or 3, not ") as e:
        default_compilation_pass(GARNET, level)
    assert str(e.value) == f"optimisation_level must be 0, 1, 2 or 3, not {level}"


def test_non_positive_timeout_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds, not 0"):
        default_compilation_pass(GARNET, 3, timeout=0)


def test_missing_architecture_is_a_value_error() -> None:
    info = BackendInfo("IQMBackend", "nothing", "0", None, {OpType.PhasedX})
    with pytest.raises(ValueError, match="must be a pytket Architecture"):
        default_compilation_pass(info, 2)


def test_pass_from_info_is_the_default_pass() -> None:
    circuit = ghz(4)
    by_alias = circuit.copy()
    pass_from_info(GARNET, 1).apply(by_alias)
    direct = circuit.copy()
    default_compilation_pass(GARNET, 1).apply(direct)
    assert by_alias == direct


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("info", [GARNET_NO_DATA, ADONIS_NO_DATA], ids=["garnet", "adonis"])
def test_compiles_without_error_data(info: BackendInfo, level: int) -> None:
    for circuit in (ghz(5), random_circuit(4, 5, seed=3)):
        compiled = compile_unit(circuit, info, level).circuit
        assert_valid(compiled, info)
        assert_same_distribution(circuit, compiled)


@pytest.mark.parametrize("level", LEVELS)
def test_barriers_are_kept(level: int) -> None:
    circuit = Circuit(3, 3).H(0).CX(0, 1)
    circuit.add_barrier([0, 1, 2])
    circuit.CX(1, 2).Rz(0.5, 2).H(2)
    circuit.add_barrier([1, 2])
    circuit.measure_all()
    compiled = compile_unit(circuit, GARNET, level).circuit
    assert_valid(compiled, GARNET)
    assert_same_distribution(circuit, compiled)
    barriers = [c for c in compiled.get_commands() if c.op.type == OpType.Barrier]
    assert sorted(len(c.qubits) for c in barriers) == [2, 3]


# -- tests: gate economy ------------------------------------------------------------------------


def test_rebase_pass_gives_native_gates_only() -> None:
    circuit = random_circuit(3, 4, seed=5, measure=False)
    rebased = circuit.copy()
    rebase_pass().apply(rebased)
    assert {c.op.type for c in rebased.get_commands()} <= {OpType.PhasedX, OpType.CZ}
    assert np.allclose(rebased.get_unitary(), circuit.get_unitary())


@pytest.mark.parametrize("level", [1, 2, 3])
def test_single_qubit_runs_cost_at_most_one_prx_and_z_before_measure_is_dropped(
    level: int,
) -> None:
    circuit = Circuit(2, 2)
    circuit.H(0).Rz(0.3, 0).Rx(0.2, 0).Ry(0.9, 0).T(0).S(0)
    circuit.Rz(0.77, 1)
    circuit.Measure(0, 0).Measure(1, 1)
    compiled = compile_unit(circuit, GARNET, level).circuit
    assert compiled.n_gates_of_type(OpType.PhasedX) == 1
    assert compiled.n_gates == 3
    assert_same_distribution(circuit, compiled)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_bell_pair_needs_one_cz_and_three_prx(level: int) -> None:
    compiled = compile_unit(bell(), GARNET, level).circuit
    assert compiled.n_gates_of_type(OpType.CZ) == 1
    assert compiled.n_gates_of_type(OpType.PhasedX) == 3


def test_trailing_z_rotation_is_kept_on_unmeasured_qubits() -> None:
    """Nothing measured: the final Z rotations must be applied, not dropped."""
    circuit = Circuit(2).H(0).CX(0, 1).Rz(0.3, 0).Rz(0.6, 1).Rx(0.1, 1).Rz(0.2, 1)
    for level in (1, 2):
        unit = compile_unit(circuit, GARNET, level)
        assert_valid(unit.circuit, GARNET)
        assert_same_action(circuit, unit, seed=level)


def test_estimated_success_probability_multiplies_the_figures() -> None:
    a, b = node(1), node(2)
    circuit = Circuit()
    for n in (a, b):
        circuit.add_qubit(n)
    circuit.add_c_register("c", 2)
    circuit.add_gate(OpType.PhasedX, [0.5, 0.0], [a])
    circuit.CZ(a, b)
    circuit.add_barrier([a, b])
    circuit.Measure(a, Bit(0)).Measure(b, Bit(1))
    prx_a = 5e-4 + 2e-4 * 1
    cz_ab = 0.004
    readout_a = (0.02 + 0.002 * 1 + 0.03) / 2
    readout_b = (0.02 + 0.002 * 2 + 0.03) / 2
    expected = (1 - prx_a) * (1 - cz_ab) * (1 - readout_a) * (1 - readout_b)
    assert estimated_success_probability(circuit, GARNET) == pytest.approx(expected, rel=1e-12)
    # Without data, nominal figures: PRX 1e-3, CZ 1e-2, readout 2e-2.
    nominal = (1 - 1e-3) * (1 - 1e-2) * (1 - 2e-2) ** 2
    assert estimated_success_probability(circuit, GARNET_NO_DATA) == pytest.approx(nominal)


# -- tests: the rewriting helpers on circuits with implicit wire permutations -------------------


def _with_wire_swaps(circuit: Circuit, pairs: Iterable[tuple[int, int]]) -> Circuit:
    """``circuit`` followed by SWAPs on ``pairs`` turned into implicit wire swaps."""
    crossing = Circuit(circuit.n_qubits)
    for a, b in pairs:
        crossing.SWAP(a, b)
    crossing.replace_SWAPs()
    result = circuit.copy()
    result.append(crossing)
    return result


def test_finish_keeps_unitary_and_implicit_permutation() -> None:
    """The Z-pushing finish rebuilds the circuit: global phase, real SWAP-free gates and the
    implicit permutation must all survive (exact unitary, phase included)."""
    body = random_circuit(3, 4, seed=11, measure=False)
    circuit = _with_wire_swaps(body, [(0, 2), (1, 2)])
    assert circuit.implicit_qubit_permutation() != {q: q for q in circuit.qubits}
    finished = finish_circuit(circuit.copy())
    assert {c.op.type for c in finished.get_commands()} <= {OpType.PhasedX, OpType.CZ}
    assert finished.implicit_qubit_permutation() == circuit.implicit_qubit_permutation()
    assert np.allclose(finished.get_unitary(), circuit.get_unitary(), atol=1e-9)


def test_absorbing_final_swaps_keeps_other_swaps_and_the_permutation() -> None:
    circuit = Circuit(4, 4).H(0).CX(0, 1).SWAP(1, 2).CX(2, 3).Ry(0.4, 3)
    circuit = _with_wire_swaps(circuit, [(0, 3)])
    circuit.SWAP(2, 3)  # followed only by measurements: absorbed
    circuit.measure_all()
    absorbed = absorb_final_swaps(circuit)
    swaps = [c.qubits for c in absorbed.get_commands() if c.op.type == OpType.SWAP]
    assert swaps == [[Qubit(1), Qubit(2)]]
    assert absorbed.implicit_qubit_permutation() == circuit.implicit_qubit_permutation()
    assert_same_distribution(circuit, absorbed)


def test_final_bridge_becomes_swap_and_cx() -> None:
    circuit = Circuit(3, 3).H(0).Ry(0.3, 1).CX(0, 1)
    circuit.add_gate(OpType.BRIDGE, [0, 1, 2])
    circuit.measure_all()
    absorbed = absorb_final_swaps(circuit)
    kinds = [c.op.type for c in absorbed.get_commands() if len(c.qubits) > 1]
    assert kinds == [OpType.CX, OpType.SWAP, OpType.CX]
    assert_same_distribution(circuit, absorbed)


def test_swaps_before_unmeasured_qubits_are_kept() -> None:
    circuit = Circuit(2, 1).H(0).SWAP(0, 1).Measure(1, 0)
    assert absorb_final_swaps(circuit) == circuit


@pytest.mark.parametrize("level", LEVELS)
def test_circuit_wider_than_the_device_is_refused(level: int) -> None:
    with pytest.raises(RuntimeError, match=r"MaxNQubitsPredicate\(5\)"):
        default_compilation_pass(ADONIS, level).apply(ghz(6))


def test_error_figures_outside_zero_one_are_clamped() -> None:
    """A fidelity above 1 (negative error) or an error of 1 must not break the estimate."""
    architecture = Architecture([(node(1), node(2))])
    info = BackendInfo(
        "IQMBackend",
        "odd",
        "0",
        architecture,
        {OpType.PhasedX, OpType.CZ, OpType.Measure},
        all_node_gate_errors={node(1): {OpType.PhasedX: -0.01}, node(2): {OpType.PhasedX: 1.0}},
    )
    circuit = bell()
    for level in LEVELS:
        compiled = compile_unit(circuit, info, level).circuit
        assert_same_distribution(circuit, compiled)
        assert 0.0 <= estimated_success_probability(compiled, info) <= 1.0


def test_bidirectional_refinement_brings_interacting_qubits_together() -> None:
    # A line 0-1-2-3 and a circuit whose only interaction is q0-q3, placed at both ends: routing
    # forwards then backwards ends on a placement where the pair is adjacent, and the refined
    # placement is still one qubit per node.
    line = Architecture([(Node(0), Node(1)), (Node(1), Node(2)), (Node(2), Node(3))])
    circuit = Circuit(4)
    for _ in range(5):
        circuit.CX(0, 3).Rz(0.3, 3)
    far_apart = {Qubit(i): Node(i) for i in range(4)}
    (refined,) = bidirectional_maps(circuit, line, [far_apart])
    assert sorted(refined) == sorted(circuit.qubits)
    assert len(set(refined.values())) == 4
    assert abs(refined[Qubit(0)].index[0] - refined[Qubit(3)].index[0]) == 1


def test_bidirectional_refinement_of_a_circuit_without_interactions_is_empty() -> None:
    line = Architecture([(Node(0), Node(1))])
    circuit = Circuit(2).H(0).H(1)
    assert bidirectional_maps(circuit, line, [{Qubit(0): Node(0), Qubit(1): Node(1)}]) == []
