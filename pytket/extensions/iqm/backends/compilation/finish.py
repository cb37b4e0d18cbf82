"""The single-qubit finish of levels 1–3: every run of single-qubit gates costs at most one
``PRX``.

It pushes every Z rotation through ``CZ`` (which commutes with it) and through ``PRX`` (which
absorbs it as a phase shift) to the end of the circuit, where it is dropped before a
measurement (it cannot change the counts)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pytket.circuit import Bit, Circuit, Command, Conditional, OpType, Qubit
from pytket.passes import AutoRebase, BasePass, CustomPass, RemoveRedundancies, SequencePass
from pytket.unit_id import UnitID

from pytket.extensions.iqm.backends.compilation.circuits import (
    add_command,
    copy_wire_permutation,
    empty_like,
)
from pytket.extensions.iqm.backends.compilation.target import rebase_pass

__all__ = ["finish_circuit", "finish_pass"]


# Angles (half-turns) closer than this to a multiple of the period are treated as exact.
_ANGLE_TOLERANCE = 1e-9


_NEGLIGIBLE_AMPLITUDE = 1e-12
"""A matrix entry smaller than this is zero when reading Euler angles: its phase is noise."""


_Matrix = npt.NDArray[np.complex128]


_IDENTITY: _Matrix = np.eye(2, dtype=np.complex128)


def _rz(angle: float) -> _Matrix:
    half = math.pi * angle / 2
    return np.array([[np.exp(-1j * half), 0], [0, np.exp(1j * half)]], dtype=np.complex128)


def _rx(angle: float) -> _Matrix:
    half = math.pi * angle / 2
    return np.array(
        [[math.cos(half), -1j * math.sin(half)], [-1j * math.sin(half), math.cos(half)]],
        dtype=np.complex128,
    )


def _phased_x(angle: float, phase: float) -> _Matrix:
    return _rz(phase) @ _rx(angle) @ _rz(-phase)


def _zxz_angles(unitary: _Matrix) -> tuple[float, float, float]:
    """Angles (α, β, γ) in half-turns with ``unitary`` ∝ Rz(α)·Rx(β)·Rz(γ) and β ∈ [0, 1]."""
    special = unitary / np.sqrt(np.linalg.det(unitary))
    cos_part = abs(special[0, 0])
    sin_part = abs(special[1, 0])
    beta = 2 * math.atan2(sin_part, cos_part) / math.pi
    # Rz(α)Rx(β)Rz(γ) = [[c·e^{-iπ(α+γ)/2}, -i·s·e^{-iπ(α-γ)/2}], [-i·s·e^{iπ(α-γ)/2}, …]].
    plus = (
        -2 * float(np.angle(special[0, 0])) / math.pi if cos_part > _NEGLIGIBLE_AMPLITUDE else 0.0
    )
    minus = (
        2 * float(np.angle(special[1, 0])) / math.pi + 1
        if sin_part > _NEGLIGIBLE_AMPLITUDE
        else 0.0
    )
    return (plus + minus) / 2, beta, (plus - minus) / 2


def _is_multiple(angle: float, period: float) -> bool:
    remainder = math.remainder(angle, period)
    return abs(remainder) < _ANGLE_TOLERANCE


def _phase_between(target: _Matrix, realised: _Matrix) -> float:
    """The global phase φ (half-turns) with target = e^{iπφ}·realised."""
    return float(np.angle(np.trace(realised.conj().T @ target))) / math.pi


@dataclass
class _QubitFrame:
    """What the finish still owes one qubit: a pending single-qubit run, then a Z rotation.

    The qubit's operator so far is ``pending_run · Rz(z)`` applied after everything emitted.
    """

    run: _Matrix
    z: float = 0.0

    def owed(self) -> _Matrix:
        return self.run @ _rz(self.z)


class _ZPusher:
    """Rewrite a circuit of single-qubit gates and CZ into PhasedX and CZ, Z rotations deferred."""

    def __init__(self, circuit: Circuit) -> None:
        self.source = circuit
        self.out = empty_like(circuit)
        self.frames: dict[Qubit, _QubitFrame] = {
            qubit: _QubitFrame(_IDENTITY.copy()) for qubit in circuit.qubits
        }
        self.measured: set[Qubit] = set()
        """Qubits whose last operation so far (barriers aside) is a measurement."""

    # -- emitting ----------------------------------------------------------------------------

    def _emit_phased_x(
        self, qubit: Qubit, angle: float, phase: float, condition: tuple[list[Bit], int] | None
    ) -> None:
        if _is_multiple(angle, 4):
            return
        params = [_normalise(angle, 4), _normalise(phase, 2)]
        if condition is None:
            self.out.add_gate(OpType.PhasedX, params, [qubit])
        else:
            self.out.add_gate(
                OpType.PhasedX,
                params,
                [qubit],
                condition_bits=condition[0],
                condition_value=condition[1],
            )

    def _emit_run_keep_z(self, qubit: Qubit) -> None:
        """Emit the pending run as at most one PhasedX; its Z part stays pending."""
        frame = self.frames[qubit]
        owed = frame.owed()
        alpha, beta, gamma = _zxz_angles(owed)
        # owed ∝ Rz(α+γ) · PhasedX(β, −γ)
        realised = _rz(alpha + gamma) @ _phased_x(beta, -gamma)
        self.out.add_phase(_phase_between(owed, realised))
        self._emit_phased_x(qubit, beta, -gamma, None)
        frame.run = _IDENTITY.copy()
        frame.z = math.remainder(alpha + gamma, 4)

    def _emit_exactly(
        self, qubit: Qubit, unitary: _Matrix, condition: tuple[list[Bit], int] | None = None
    ) -> None:
        """Emit ``unitary`` in full, as at most two PhasedX."""
        alpha, beta, gamma = _zxz_angles(unitary)
        if _is_multiple(alpha + gamma, 2):
            # Rz(α+γ) is ±identity: one PhasedX suffices.
            first: tuple[float, float] | None = None
            second = (beta, -gamma)
        else:
            # Rz(α)Rx(β)Rz(γ) ∝ PhasedX(1, (α−γ)/2) · PhasedX(β−1, −γ)
            first = (beta - 1, -gamma)
            second = (1.0, (alpha - gamma) / 2)
        realised = _phased_x(*second) @ (_phased_x(*first) if first else _IDENTITY)
        if condition is None:
            self.out.add_phase(_phase_between(unitary, realised))
        # A phase under a condition is a global phase of one branch: unobservable.
        if first is not None:
            self._emit_phased_x(qubit, *first, condition)
        self._emit_phased_x(qubit, *second, condition)

    def _settle(self, qubit: Qubit) -> None:
        """Emit everything owed on ``qubit``, Z rotation included."""
        frame = self.frames[qubit]
        self._emit_exactly(qubit, frame.owed())
        frame.run = _IDENTITY.copy()
        frame.z = 0.0

    # -- walking -----------------------------------------------------------------------------

    def run(self) -> Circuit:
        for command in self.source.get_commands():
            self._visit(command)
        for qubit in self.source.qubits:
            # A qubit that ends in a measurement owes nothing that could be observed.
            if qubit not in self.measured:
                self._settle(qubit)
        copy_wire_permutation(self.source, self.out)
        return self.out

    def _visit(self, command: Command) -> None:
        op = command.op
        optype = op.type
        qubits = command.qubits
        if isinstance(op, Conditional):
            self._visit_conditional(command, op)
            return
        if optype == OpType.Phase:
            self.out.add_phase(float(op.params[0]))
            return
        if len(qubits) == 1 and optype not in (OpType.Measure, OpType.Reset, OpType.Barrier):
            if not op.is_gate() or op.free_symbols():
                self._settle(qubits[0])
                self._pass_through(command)
                return
            frame = self.frames[qubits[0]]
            frame.run = np.asarray(op.get_unitary(), dtype=np.complex128) @ frame.run
            self.measured.discard(qubits[0])
            return
        if optype == OpType.Measure:
            qubit = qubits[0]
            self._emit_run_keep_z(qubit)
            # A Z rotation right before a measurement cannot change what is measured, and after
            # it the qubit is in a basis state, where a Z rotation is only a phase.
            self.frames[qubit].z = 0.0
            self.out.Measure(qubit, command.bits[0])
            self.measured.add(qubit)
            return
        if optype == OpType.Reset:
            # Anything applied to a qubit alone just before a reset is erased by it.
            frame = self.frames[qubits[0]]
            frame.run = _IDENTITY.copy()
            frame.z = 0.0
            self.out.Reset(qubits[0])
            self.measured.discard(qubits[0])
            return
        if optype == OpType.Barrier:
            # Z rotations are frame changes: they may cross a barrier, single-qubit pulses may not.
            for qubit in qubits:
                self._emit_run_keep_z(qubit)
            self.out.add_barrier(list(command.args))
            return
        if optype == OpType.CZ:
            for qubit in qubits:
                self._emit_run_keep_z(qubit)
                self.measured.discard(qubit)
            self._pass_through(command)
            return
        for qubit in qubits:
            self._settle(qubit)
            self.measured.discard(qubit)
        self._pass_through(command)

    def _visit_conditional(self, command: Command, op: Conditional) -> None:
        inner = op.op
        condition_bits = command.args[: op.width]
        condition = ([Bit(b.reg_name, b.index) for b in condition_bits], op.value)
        targets = [Qubit(q.reg_name, q.index) for q in command.args[op.width :] if _is_qubit(q)]
        if inner.type == OpType.Phase or (not targets and inner.is_gate()):
            # A phase applied in one branch only is a global phase of that branch.
            return
        if len(targets) == 1 and inner.is_gate() and not inner.free_symbols():
            qubit = targets[0]
            self._emit_run_keep_z(qubit)
            z = self.frames[qubit].z
            # U·Rz(z) = Rz(z)·(Rz(−z)·U·Rz(z)): the pending Z stays unconditional.
            conjugated = _rz(-z) @ np.asarray(inner.get_unitary(), dtype=np.complex128) @ _rz(z)
            self._emit_exactly(qubit, conjugated, condition)
            self.measured.discard(qubit)
            return
        if inner.type == OpType.CZ:
            for qubit in targets:
                self._emit_run_keep_z(qubit)
                self.measured.discard(qubit)
            self._pass_through(command)
            return
        for qubit in targets:
            self._settle(qubit)
            self.measured.discard(qubit)
        self._pass_through(command)

    def _pass_through(self, command: Command) -> None:
        add_command(self.out, command)


def _is_qubit(unit: UnitID) -> bool:
    return bool(unit.type.name == "qubit")


def _normalise(angle: float, period: float) -> float:
    """``angle`` mod ``period`` in [0, period), with values next to the ends snapped to 0."""
    value = math.fmod(angle, period)
    if value < 0:
        value += period
    if abs(value) < _ANGLE_TOLERANCE or abs(value - period) < _ANGLE_TOLERANCE:
        return 0.0
    return value


def finish_circuit(circuit: Circuit) -> Circuit:
    if circuit.free_symbols():
        # Symbolic angles cannot be merged numerically; a plain rebase keeps the circuit valid.
        result = circuit.copy()
        rebase_pass().apply(result)
        return result
    return _ZPusher(circuit).run()


def finish_pass() -> BasePass:
    """Single-qubit economy on a routed circuit of CZ (or CX) and single-qubit gates."""
    return SequencePass(
        [
            AutoRebase({OpType.CZ, OpType.TK1}),
            # Drops diagonal gates (CZ included) right before measurements and cancels pairs.
            RemoveRedundancies(),
            CustomPass(finish_circuit, label="IQMPushZToEnd"),
        ]
    )
