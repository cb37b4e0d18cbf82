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
