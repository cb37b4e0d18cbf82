"""Tests of the compilation passes: validity, equivalence, levels, fallbacks, barriers."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pytest
from pytket.architecture import Architecture
from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Bit, Circuit, Conditional, OpType, Qubit
from pytket.passes import BasePass
from pytket.predicates import CompilationUnit
from pytket.qasm import circuit_from_qasm
from pytket.unit_id import Node

from pytket.extensions.iqm.backends.passes import (
    default_compilation_pass,
    estimated_success_probability,
    pass_from_info,
    rebase_pass,
    required_predicates,
)

# Garnet's 30 couplers, QBa-QBb written as (a, b).
GARNET_COUPLERS = [
    (1, 2), (1, 4), (2, 5), (3, 4), (3, 8), (4, 5), (4, 9), (5, 6), (5, 10), (6, 7),
    (6, 11), (7, 12), (8, 9), (8, 13), (9, 10), (9, 14), (10, 11), (10, 15), (11, 12),
    (11, 16), (12, 17), (13, 14), (14, 15), (14, 18), (15, 16), (15, 19), (16, 17),
    (16, 20), (18, 19), (19, 20),
]  # fmt: skip
ADONIS_COUPLERS = [(1, 3), (2, 3), (3, 4), (3, 5)]

BENCH_DIR = Path(__file__).resolve().parents[3] / "shared" / "bench-circuits"


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


def bit_distribution(circuit: Circuit) -> dict[tuple[tuple[str, tuple[int, ...]], ...], float]:
    """Exact probability of every final value of the circuit's bits, from |0…0⟩.

    Keys are sorted ((register, index), value) pairs so that circuits with different qubit
    names but the same bits compare directly.
    """
    qubits = circuit.qubits
    axis = {q: i for i, q in enumerate(qubits)}
    bits = circuit.bits
    start = np.zeros([2] * len(qubits), dtype=complex)
    start[(0,) * len(qubits)] = 1.0
    branches: list[tuple[float, np.ndarray, dict[Bit, int]]] = [
        (1.0, start, dict.fromkeys(bits, 0))
    ]
    for command in circuit.get_commands():
        op = command.op
        args = list(command.args)
        new_branches = []
        for prob, state, values in branches:
            inner = op
            targets = args
            if op.type == OpType.Conditional:
                assert isinstance(op, Conditional)
                condition_bits = args[: op.width]
                value = sum(values[b] << i for i, b in enumerate(condition_bits))
                if value != op.value:
                    new_branches.append((prob, state, values))
                    continue
                inner, targets = op.op, args[op.width :]
            kind = inner.type
            if kind == OpType.Barrier:
                new_branches.append((prob, state, values))
            elif kind == OpType.Measure:
                q, b = targets
                for outcome in (0, 1):
                    projected = np.take(state, [outcome], axis=axis[q])
                    weight = float(np.sum(np.abs(projected) ** 2))
                    if weight < 1e-14:
                        continue
                    collapsed = np.zeros_like(state)
                    index = [slice(None)] * state.ndim
                    index[axis[q]] = slice(outcome, outcome + 1)
                    collapsed[tuple(index)] = projected / math.sqrt(weight)
                    new_values = dict(values)
                    new_values[b] = outcome
                    new_branches.append((prob * weight, collapsed, new_values))
            elif kind == OpType.Reset:
                (q,) = targets
                for outcome in (0, 1):
                    projected = np.take(state, [outcome], axis=axis[q])
                    weight = float(np.sum(np.abs(projected) ** 2))
                    if weight < 1e-14:
                        continue
                    reset = np.zeros_like(state)
                    index = [slice(None)] * state.ndim
                    index[axis[q]] = slice(0, 1)
                    reset[tuple(index)] = projected / math.sqrt(weight)
                    new_branches.append((prob * weight, reset, values))
            elif kind == OpType.Phase:
                new_branches.append((prob, state, values))
            else:
                matrix = np.asarray(inner.get_unitary())
                new_branches.append((prob, _apply(state, matrix, [axis[q] for q in targets]), values))
        branches = new_branches
    distribution: dict[tuple[tuple[str, tuple[int, ...]], ...], float] = {}
    for prob, _, values in branches:
        key = tuple(sorted(((b.reg_name, tuple(b.index)), v) for b, v in values.items()))
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
            circuit.TK1(*(float(x) for x in rng.uniform(0, 2, 3)), q)
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
    path = BENCH_DIR / f"{stem}.qasm"
    if not path.exists():
        pytest.skip(f"shared benchmark circuit {path} not available")
    return circuit_from_qasm(path)


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


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("stem", SUITE_SMALL)
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
    psi: np.ndarray, order: list[Qubit], where: Mapping[Qubit, Qubit], qubits: list[Qubit]
) -> np.ndarray:
    """State over ``qubits`` (ILO) holding ``psi`` (over ``order``) at ``where``, others |0⟩."""
    tensor = psi.reshape([2] * len(order))
    positions = [qubits.index(where[q]) for q in order]
    rest = [i for i in range(len(qubits)) if i not in positions]
    full = np.zeros([2] * len(qubits), dtype=complex)
    index: list[object] = [0] * len(qubits)
    for i in positions:
        index[i] = slice(None)
    # Axes of full[tuple(index)] follow ``positions`` sorted: put psi's axes in that order.
    perm = sorted(range(len(positions)), key=lambda k: positions[k])
    full[tuple(index)] = np.transpose(tensor, perm)
    assert all(index[i] == 0 for i in rest)
    return full.reshape(-1)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", [1, 2])
def test_measurement_free_circuit_keeps_its_unitary(level: int, seed: int) -> None:
    """Without measurements nothing may be dropped: the compiled unitary matches, once the
    placement and the final qubit permutation are accounted for."""
    circuit = random_circuit(4, 5, seed=seed, measure=False)
    unit = compile_unit(circuit, GARNET, level)
    compiled = unit.circuit
    assert_valid(compiled, GARNET)
    rng = np.random.default_rng(seed)
    psi = rng.normal(size=16) + 1j * rng.normal(size=16)
    psi /= np.linalg.norm(psi)
    expected_out = circuit.get_unitary() @ psi
    order = circuit.qubits
    compiled_qubits = compiled.qubits
    initial = {q: unit.initial_map[q] for q in order}
    final = {q: unit.final_map[q] for q in order}
    state_in = _embedded_state(psi, order, initial, compiled_qubits)
    state_out = compiled.get_unitary() @ state_in
    target = _embedded_state(expected_out, order, final, compiled_qubits)
    assert abs(abs(np.vdot(target, state_out)) - 1) < 1e-8
