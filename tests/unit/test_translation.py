"""pytket Circuit → IQM instructions and measurement layouts (translation.py)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from pytket.circuit import Bit, Circuit, Node, OpType, Qubit

from pytket.extensions.iqm.backends.translation import (
    IQMCircuit,
    IQMInstruction,
    MeasurementLayout,
    circuit_to_iqm,
    prx_args,
)
from pytket.extensions.iqm.errors import IQMTranslationError

COMPILE_HINT = (
    "Compile the circuit with backend.get_compiled_circuit (or rebase it to CZ and PhasedX) first."
)


def _device_circuit(n_qubits: int, n_bits: int = 0) -> Circuit:
    circuit = Circuit()
    circuit.add_q_register("node", n_qubits)
    if n_bits:
        circuit.add_c_register("c", n_bits)
    return circuit


def _instructions(circuit: Circuit) -> list[tuple[str, list[str], dict[str, object]]]:
    iqm, _ = circuit_to_iqm(circuit, "t")
    return [(i.name, list(i.locus), dict(i.args)) for i in iqm.instructions]


def test_bell_circuit_exact_instructions() -> None:
    circuit = _device_circuit(2, 2)
    circuit.PhasedX(0.5, -0.5, Node(0)).PhasedX(0.5, -0.5, Node(1))
    circuit.CZ(Node(0), Node(1)).PhasedX(0.5, 0.5, Node(1))
    circuit.Measure(Node(0), Bit(0)).Measure(Node(1), Bit(1))
    iqm, layout = circuit_to_iqm(circuit, "bell")
    assert iqm == IQMCircuit(
        name="bell",
        instructions=(
            IQMInstruction("prx", ("QB1",), {"angle_t": 0.25, "phase_t": 0.75}),
            IQMInstruction("prx", ("QB2",), {"angle_t": 0.25, "phase_t": 0.75}),
            IQMInstruction("cz", ("QB1", "QB2"), {}),
            IQMInstruction("measure", ("QB1",), {"key": "c[0]"}),
            IQMInstruction("prx", ("QB2",), {"angle_t": 0.25, "phase_t": 0.25}),
            IQMInstruction("measure", ("QB2",), {"key": "c[1]"}),
        ),
    )
    assert all(type(i.locus) is tuple for i in iqm.instructions)
    assert layout == MeasurementLayout(
        bits=(Bit(0), Bit(1)),
        keys=("c[0]", "c[1]"),
        qubit_mapping=(("node[0]", "QB1"), ("node[1]", "QB2")),
    )


def _prx_unitary(angle_t: float, phase_t: float) -> np.ndarray:
    """PRX(θ, φ) = exp(-i (X cos 2πφ + Y sin 2πφ) πθ), from IQM's definition (turns)."""
    x = np.array([[0, 1], [1, 0]], dtype=complex)
    y = np.array([[0, -1j], [1j, 0]], dtype=complex)
    generator = np.cos(2 * np.pi * phase_t) * x + np.sin(2 * np.pi * phase_t) * y
    angle = np.pi * angle_t
    unitary: np.ndarray = np.cos(angle) * np.eye(2) - 1j * np.sin(angle) * generator
    return unitary


def _equal_up_to_phase(u: np.ndarray, v: np.ndarray) -> bool:
    overlap = abs(np.trace(u.conj().T @ v)) / 2
    return bool(np.isclose(overlap, 1.0, atol=1e-9))


@pytest.mark.parametrize(
    ("alpha", "beta"),
    [(0.5, 0.0), (1.0, 0.25), (-0.5, 0.3), (1.5, -0.7), (3.7, 2.2), (-2.9, -5.1), (0.0, 0.4)]
    + [tuple(v) for v in np.random.default_rng(7).uniform(-4, 4, size=(20, 2))],
)
def test_prx_matches_phasedx_unitary(alpha: float, beta: float) -> None:
    args = prx_args(alpha, beta)
    assert 0.0 <= args["angle_t"] <= 0.5
    assert 0.0 <= args["phase_t"] < 1.0
    phased_x = Circuit(1).PhasedX(alpha, beta, 0).get_unitary()
    assert _equal_up_to_phase(phased_x, _prx_unitary(args["angle_t"], args["phase_t"]))


def test_prx_args_are_floats_and_normalised() -> None:
    assert prx_args(1.0, 0.5) == {"angle_t": 0.5, "phase_t": 0.25}
    assert prx_args(-1e-17, -1e-17) == {"angle_t": 0.0, "phase_t": 0.0}
    assert prx_args(1.5, 0.0) == {"angle_t": 0.25, "phase_t": 0.5}
    args = prx_args(2, 1)
    assert all(type(v) is float for v in args.values())


def test_layout_permuted_measures_gaps_and_registers() -> None:
    circuit = Circuit()
    circuit.add_q_register("node", 3)
    m = circuit.add_c_register("m", 2)
    a = circuit.add_c_register("a", 3)
    circuit.Measure(Node(2), a[2]).Measure(Node(0), m[1]).Measure(Node(1), a[0])
    iqm, layout = circuit_to_iqm(circuit, "layout")
    assert {(i.locus, i.args["key"]) for i in iqm.instructions} == {
        (("QB3",), "a[2]"),
        (("QB1",), "m[1]"),
        (("QB2",), "a[0]"),
    }
    assert layout.bits == tuple(circuit.bits)
    assert dict(zip(layout.bits, layout.keys, strict=True)) == {
        a[0]: "a[0]",
        a[1]: None,
        a[2]: "a[2]",
        m[0]: None,
        m[1]: "m[1]",
    }


def test_repeated_measurement_of_a_bit_gets_unique_keys_last_wins() -> None:
    circuit = _device_circuit(2, 2)
    circuit.Measure(Node(0), Bit(0)).PhasedX(1, 0, Node(0))
    circuit.Measure(Node(0), Bit(0)).Measure(Node(1), Bit(0))
    iqm, layout = circuit_to_iqm(circuit, "repeat")
    assert [(i.locus, i.args["key"]) for i in iqm.instructions if i.name == "measure"] == [
        (("QB1",), "c[0]"),
        (("QB1",), "c[0]#1"),
        (("QB2",), "c[0]#2"),
    ]
    assert layout.keys == ("c[0]#2", None)


def test_barrier_reset_and_bits_only_barrier() -> None:
    circuit = _device_circuit(3, 1)
    circuit.add_barrier([Node(0), Node(2), Bit(0)])
    circuit.add_barrier([Bit(0)])
    circuit.Reset(Node(1))
    assert _instructions(circuit) == [
        ("barrier", ["QB1", "QB3"], {}),
        ("reset", ["QB2"], {}),
    ]


# --- errors -----------------------------------------------------------------------------------


def test_unsupported_op_names_op_and_hint() -> None:
    circuit = _device_circuit(2)
    circuit.H(Node(1))
    with pytest.raises(IQMTranslationError) as info:
        circuit_to_iqm(circuit, "h")
    assert str(info.value) == (
        "Cannot translate H on node[1]: IQM runs PhasedX, CZ, Measure, Barrier and Reset. "
        + COMPILE_HINT
    )


def test_two_qubit_unsupported_op() -> None:
    circuit = _device_circuit(2)
    circuit.CX(Node(0), Node(1))
    with pytest.raises(IQMTranslationError) as info:
        circuit_to_iqm(circuit, "cx")
    assert str(info.value) == (
        "Cannot translate CX on node[0], node[1]: IQM runs PhasedX, CZ, Measure, Barrier and "
        "Reset. " + COMPILE_HINT
    )


def test_symbolic_parameter_rejected() -> None:
    circuit = _device_circuit(1)
    circuit.PhasedX(sympy.Symbol("a"), 0.5, Node(0))
    with pytest.raises(IQMTranslationError) as info:
        circuit_to_iqm(circuit, "sym")
    assert str(info.value) == (
        "PhasedX on node[0] has symbolic parameters ['a']: substitute values "
        "(circuit.symbol_substitution) before running it"
    )


def test_empty_circuit_rejected() -> None:
    circuit = _device_circuit(2, 1)
    circuit.add_barrier([Bit(0)])  # bits-only barrier gives no IQM instruction
    for empty in (_device_circuit(2, 1), circuit):
        with pytest.raises(IQMTranslationError) as info:
            circuit_to_iqm(empty, "nothing")
        assert str(info.value) == (
            "Circuit 'nothing' has no instructions; IQM cannot run an empty circuit. "
            "Add at least one gate or measurement."
        )


def test_empty_name_rejected() -> None:
    circuit = _device_circuit(1)
    circuit.PhasedX(1, 0, Node(0))
    with pytest.raises(IQMTranslationError, match="non-empty string"):
        circuit_to_iqm(circuit, "")


def test_uncompiled_qubits_rejected_with_hint() -> None:
    # Regression: pytket-iqm 0.18 raised a bare AssertionError for non-node qubits.
    circuit = Circuit(2, 2)
    circuit.CZ(0, 1).Measure(0, 0)
    with pytest.raises(IQMTranslationError) as info:
        circuit_to_iqm(circuit, "q")
    assert str(info.value) == (
        "Qubit q[0] is not a device qubit: IQM circuits must act on qubits node[0], node[1], "
        "… (node[n-1] is QB<n>). Compile the circuit with backend.get_compiled_circuit first."
    )


def test_large_qubit_indices() -> None:
    circuit = Circuit()
    circuit.add_qubit(Node(53))
    circuit.add_qubit(Qubit("node", 9))
    circuit.CZ(Node(53), Node(9))
    assert _instructions(circuit) == [("cz", ["QB54", "QB10"], {})]
    assert circuit.n_gates_of_type(OpType.CZ) == 1


# --- phase 2: classically controlled gates → cc_prx -------------------------------------------

FEEDBACK_HINT = (
    "IQM feedback supports only single-qubit gates conditioned on a single bit being 1, "
    "where that bit was written by an earlier Measure."
)


def _feedback_circuit() -> Circuit:
    circuit = _device_circuit(3, 2)
    circuit.PhasedX(0.5, 0, Node(0)).Measure(Node(0), Bit(0))
    return circuit


def test_conditional_phasedx_becomes_cc_prx() -> None:
    circuit = _feedback_circuit()
    circuit.add_gate(
        OpType.PhasedX, [1, 0.5], [Node(2)], condition_bits=[Bit(0)], condition_value=1
    )
    circuit.Measure(Node(2), Bit(1))
    assert _instructions(circuit) == [
        ("prx", ["QB1"], {"angle_t": 0.25, "phase_t": 0.0}),
        ("measure", ["QB1"], {"key": "c[0]", "feedback_key": "c[0]"}),
        (
            "cc_prx",
            ["QB3"],
            {"angle_t": 0.5, "phase_t": 0.25, "feedback_key": "c[0]", "feedback_qubit": "QB1"},
        ),
        ("measure", ["QB3"], {"key": "c[1]"}),
    ]


def test_if_bit_condition_accepted() -> None:
    from pytket.circuit import if_bit

    circuit = _feedback_circuit()
    circuit.X(Node(1), condition=if_bit(Bit(0)))
    names = [(name, args.get("feedback_key")) for name, _, args in _instructions(circuit)]
    assert names == [("prx", None), ("measure", "c[0]"), ("cc_prx", "c[0]")]


def _product(rotations: list[tuple[float, float]]) -> np.ndarray:
    unitary = np.eye(2, dtype=complex)
    for alpha, beta in rotations:
        args = prx_args(alpha, beta)
        unitary = _prx_unitary(args["angle_t"], args["phase_t"]) @ unitary
    return unitary


_RNG = np.random.default_rng(11)
ONE_QUBIT_GATES = (
    [
        (OpType.X, []),
        (OpType.Y, []),
        (OpType.Z, []),
        (OpType.H, []),
        (OpType.S, []),
        (OpType.T, []),
        (OpType.SX, []),
        (OpType.Rz, [0.5]),
        (OpType.Rz, [-1.3]),
        (OpType.Rx, [0.7]),
        (OpType.Ry, [1.9]),
        (OpType.Rz, [2.0]),
        (OpType.noop, []),
    ]
    + [(OpType.U3, list(_RNG.uniform(-4, 4, 3))) for _ in range(6)]
    + [(OpType.TK1, list(_RNG.uniform(-4, 4, 3))) for _ in range(6)]
)


@pytest.mark.parametrize(("optype", "params"), ONE_QUBIT_GATES)
def test_conditional_one_qubit_gate_unitary(optype: OpType, params: list[float]) -> None:
    circuit = _feedback_circuit()
    circuit.add_gate(optype, params, [Node(1)], condition_bits=[Bit(0)], condition_value=1)
    instructions = _instructions(circuit)[2:]
    assert len(instructions) <= 2
    assert all(name == "cc_prx" and qubits == ["QB2"] for name, qubits, _ in instructions)
    rotations = [
        (2 * float(args["angle_t"]), 2 * float(args["phase_t"]))  # type: ignore[arg-type]
        for _, _, args in instructions
    ]
    reference = Circuit(1)
    reference.add_gate(optype, params, [0])
    assert _equal_up_to_phase(_product(rotations), reference.get_unitary())


def test_conditional_identity_emits_nothing() -> None:
    circuit = _feedback_circuit()
    circuit.Rz(2.0, Node(1), condition_bits=[Bit(0)], condition_value=1)
    assert _instructions(circuit) == [
        ("prx", ["QB1"], {"angle_t": 0.25, "phase_t": 0.0}),
        ("measure", ["QB1"], {"key": "c[0]"}),
    ]


def test_feedback_uses_latest_measurement_of_the_bit() -> None:
    circuit = _feedback_circuit()
    circuit.X(Node(2), condition_bits=[Bit(0)], condition_value=1)
    circuit.Measure(Node(1), Bit(0))
    circuit.X(Node(2), condition_bits=[Bit(0)], condition_value=1)
    feedback = [
        (name, qubits, args.get("feedback_key"), args.get("feedback_qubit"))
        for name, qubits, args in _instructions(circuit)
        if name != "prx"
    ]
    assert feedback == [
        ("measure", ["QB1"], "c[0]", None),
        ("cc_prx", ["QB3"], "c[0]", "QB1"),
        ("measure", ["QB2"], "c[0]#1", None),
        ("cc_prx", ["QB3"], "c[0]#1", "QB2"),
    ]


def _conditional_error(circuit: Circuit) -> str:
    with pytest.raises(IQMTranslationError) as info:
        circuit_to_iqm(circuit, "ff")
    return str(info.value)


def test_condition_on_several_bits_rejected() -> None:
    circuit = _feedback_circuit()
    circuit.Measure(Node(1), Bit(1))
    circuit.X(Node(2), condition_bits=[Bit(0), Bit(1)], condition_value=3)
    assert _conditional_error(circuit) == (
        f"Cannot translate X on node[2] conditioned on bits c[0], c[1] == 3: {FEEDBACK_HINT}"
    )


def test_condition_value_zero_rejected() -> None:
    circuit = _feedback_circuit()
    circuit.X(Node(2), condition_bits=[Bit(0)], condition_value=0)
    assert _conditional_error(circuit) == (
        f"Cannot translate X on node[2] conditioned on c[0] == 0: {FEEDBACK_HINT}"
    )


def test_condition_on_unmeasured_bit_rejected() -> None:
    circuit = _feedback_circuit()
    circuit.X(Node(2), condition_bits=[Bit(1)], condition_value=1)
    circuit.Measure(Node(1), Bit(1))  # measured only after the condition
    assert _conditional_error(circuit) == (
        "Cannot translate X on node[2] conditioned on c[1]: no earlier Measure writes c[1]. "
        + FEEDBACK_HINT
    )


def test_conditional_two_qubit_gate_rejected() -> None:
    circuit = _feedback_circuit()
    circuit.CZ(Node(1), Node(2), condition_bits=[Bit(0)], condition_value=1)
    assert _conditional_error(circuit) == (
        f"Cannot translate conditional CZ on node[1], node[2]: {FEEDBACK_HINT}"
    )


def test_conditional_reset_rejected() -> None:
    circuit = _feedback_circuit()
    circuit.add_gate(OpType.Reset, [Node(1)], condition_bits=[Bit(0)], condition_value=1)
    assert _conditional_error(circuit) == (
        f"Cannot translate conditional Reset on node[1]: {FEEDBACK_HINT}"
    )


def test_conditional_symbolic_rejected() -> None:
    circuit = _feedback_circuit()
    circuit.Rz(sympy.Symbol("t"), Node(1), condition_bits=[Bit(0)], condition_value=1)
    assert _conditional_error(circuit) == (
        "Rz on node[1] has symbolic parameters ['t']: substitute values "
        "(circuit.symbol_substitution) before running it"
    )


def test_classical_operation_rejected() -> None:
    circuit = _feedback_circuit()
    circuit.add_c_setbits([True], [Bit(1)])
    assert _conditional_error(circuit) == (
        "Cannot translate classical operation SetBits on c[1]: IQM has no classical "
        f"processing. {FEEDBACK_HINT}"
    )
