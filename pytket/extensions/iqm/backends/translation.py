"""Translation of a compiled pytket circuit into IQM instructions (:class:`IQMCircuit`).

The result is independent of the iqm-client line: each connection turns it into its client's
circuit type (``qubits`` and angles in turns for 22.x, ``locus`` and radians for 36.x).

Instructions use physical qubit names directly (pytket ``node[n-1]`` is ``QBn``). Every
``Measure`` becomes a one-qubit ``measure`` whose key is ``str(bit)`` (``"c[0]"``); a bit
measured again gets ``"c[0]#1"``, ``"c[0]#2"`` … The returned :class:`MeasurementLayout`
records, for every bit of the circuit, the key of its *last* measurement, which is how results
are mapped back to bits (pytket semantics: a bit holds the last value written to it).

Classically controlled single-qubit gates become ``cc_prx`` (IQM's fast feedback).

On Star devices the compiled circuit also acts on resonator qubits ``Qubit("resonator", i)``
(the ``i``-th computational resonator, named by the ``resonators`` argument) and contains the
MOVE custom gate, which becomes ``move`` on ``[qubit, resonator]``; see
:mod:`pytket.extensions.iqm.backends.compilation.star_device`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pytket.circuit import Bit, Circuit, Command, Conditional, Op, OpType, Qubit
from pytket.unit_id import UnitID

from pytket.extensions.iqm.backends.architecture import qubit_for_node
from pytket.extensions.iqm.backends.compilation.star_device import is_move, is_resonator_qubit
from pytket.extensions.iqm.errors import IQMTranslationError


@dataclass(frozen=True)
class IQMInstruction:
    """One IQM instruction on physical components."""

    name: str
    """``prx``, ``cc_prx``, ``cz``, ``move``, ``measure``, ``reset`` or ``barrier``."""
    locus: tuple[str, ...]
    """Physical qubit (and resonator) names."""
    args: dict[str, Any]
    """Arguments as iqm-client 22 names them: angles ``angle_t``/``phase_t`` in turns, ``key``,
    ``feedback_key``, ``feedback_qubit``."""


@dataclass(frozen=True)
class IQMCircuit:
    """A named sequence of IQM instructions."""

    name: str
    instructions: tuple[IQMInstruction, ...]


_FEEDBACK_HINT = (
    "IQM feedback supports only single-qubit gates conditioned on a single bit being 1, "
    "where that bit was written by an earlier Measure."
)
_IDENTITY_TOLERANCE = 1e-10
"""Rotations closer than this (half-turns) to the identity are dropped from conditional gates."""

_COMPILE_HINT = (
    "Compile the circuit with backend.get_compiled_circuit (or rebase it to CZ and PhasedX) first."
)


@dataclass(frozen=True)
class MeasurementLayout:
    """Which measurement key holds the final value of each classical bit."""

    bits: tuple[Bit, ...]
    """All bits of the circuit, in ``circuit.bits`` order."""
    keys: tuple[str | None, ...]
    """Per bit: key of its last measurement, ``None`` if the bit is never measured."""
    qubit_mapping: tuple[tuple[str, str], ...] = ()
    """Every qubit of the circuit as ``(logical name, physical name)``, e.g.
    ``("node[0]", "QB1")``, for job metadata; empty in handles written before it was kept."""


def _turns(half_turns: float) -> float:
    """Half-turns to turns, reduced to [0, 1)."""
    t = (half_turns / 2.0) % 1.0
    return 0.0 if t >= 1.0 else t  # ``-1e-17 % 1.0 == 1.0``


def prx_args(alpha: float, beta: float) -> dict[str, Any]:
    """Arguments of ``prx`` equal (up to global phase) to pytket ``PhasedX(alpha, beta)``.

    ``PhasedX(a, b) = Rz(b) Rx(a) Rz(-b)`` in half-turns and ``PRX(θ, φ) = RZ(φ) RX(θ) RZ(-φ)``
    in turns, so ``θ = a/2`` and ``φ = b/2``. The rotation is normalised to ``θ ∈ [0, 1/2]``,
    ``φ ∈ [0, 1)`` using ``PRX(θ, φ) ≅ PRX(1 - θ, φ + 1/2)`` (same axis reversed), so the
    hardware never plays more than a π pulse.

    :param alpha: rotation angle, half-turns
    :param beta: phase, half-turns
    :return: ``{"angle_t": θ, "phase_t": φ}``
    """
    angle, phase = _turns(alpha), _turns(beta)
    if angle > 0.5:
        angle, phase = 1.0 - angle, (phase + 0.5) % 1.0
    return {"angle_t": angle, "phase_t": phase}


def _params(op: Op, where: str) -> list[float]:
    if op.free_symbols():
        raise IQMTranslationError(
            f"{op.type.name} on {where} has symbolic parameters "
            f"{sorted(str(s) for s in op.free_symbols())}: substitute values "
            "(circuit.symbol_substitution) before running it"
        )
    values = [float(p) for p in op.params]
    if not all(math.isfinite(v) for v in values):
        raise IQMTranslationError(f"{op.type.name} on {where} has non-finite parameters {values}")
    return values


def _is_identity_rotation(half_turns: float) -> bool:
    """True if a rotation by this many half-turns is the identity up to global phase."""
    r = half_turns % 2.0
    return min(r, 2.0 - r) < _IDENTITY_TOLERANCE


def one_qubit_as_phasedx(unitary: npt.NDArray[np.complex128]) -> list[tuple[float, float]]:
    """Write a one-qubit unitary as at most two PhasedX gates (up to global phase).

    With ``U ≅ Rz(a) Rx(b) Rz(c) = PhasedX(b, a) Rz(d)``, ``d = a + c``, and
    ``Rz(d) = PhasedX(1, a) PhasedX(1, a - d/2)``, the two PhasedX about the same axis ``a``
    merge: ``U ≅ PhasedX(b + 1, a) PhasedX(1, a - d/2)``. Rotations that are the identity are
    left out (so the result may be empty).

    :param unitary: 2×2 unitary matrix
    :return: ``(alpha, beta)`` pairs in half-turns, in time order
    """
    det = complex(np.linalg.det(unitary))
    # In SU(2), v = [[cos(b/2) e^{-i(a+c)/2}, …], [-i sin(b/2) e^{i(a-c)/2}, cos(b/2) e^{i(a+c)/2}]]
    # (angles in radians here); the sign choice of the square root only moves the global phase.
    v = unitary / np.sqrt(det)
    b = 2.0 * math.atan2(abs(v[1, 0]), abs(v[0, 0]))
    sum_ac = 2.0 * float(np.angle(v[1, 1])) if abs(v[1, 1]) > 1e-12 else 0.0
    diff_ac = 2.0 * float(np.angle(1j * v[1, 0])) if abs(v[1, 0]) > 1e-12 else 0.0
    a, b, d = (sum_ac + diff_ac) / (2 * math.pi), b / math.pi, sum_ac / math.pi
    if _is_identity_rotation(d):
        return [] if _is_identity_rotation(b) else [(b, a)]
    gates = [(1.0, a - d / 2), (b + 1.0, a)]
    return [(alpha, beta) for alpha, beta in gates if not _is_identity_rotation(alpha)]


def _qubit_list(cmd: Command) -> str:
    return ", ".join(str(q) for q in cmd.qubits)


def _unsupported(cmd: Command) -> IQMTranslationError:
    op = cmd.op
    if not cmd.qubits:
        return IQMTranslationError(
            f"Cannot translate classical operation {op.type.name} on "
            f"{', '.join(str(b) for b in cmd.bits) or 'no bits'}: IQM has no classical "
            f"processing. {_FEEDBACK_HINT}"
        )
    return IQMTranslationError(
        f"Cannot translate {op.type.name} on {_qubit_list(cmd)}: IQM runs "
        f"PhasedX, CZ, Measure, Barrier and Reset. {_COMPILE_HINT}"
    )


@dataclass
class _MeasureRecord:
    key: str
    qubit: str
    index: int
    """Position of the ``measure`` instruction in the instruction list."""


class _Translator:
    """Walks the commands once, producing instruction dicts and the measurement keys."""

    def __init__(self, resonators: Sequence[str]) -> None:
        self.resonators = tuple(resonators)
        self.instructions: list[dict[str, Any]] = []
        self.last_measure: dict[Bit, _MeasureRecord] = {}
        self.times_measured: dict[Bit, int] = {}

    def final_key(self, bit: Bit) -> str | None:
        """Key of the bit's last measurement, ``None`` if it is never measured."""
        record = self.last_measure.get(bit)
        return None if record is None else record.key

    def qubit_mapping(self, qubits: Sequence[Qubit]) -> tuple[tuple[str, str], ...]:
        """``(logical, physical)`` names of the qubits that are device components (an idle
        qubit outside the device, possible without ``valid_check``, has no physical name)."""
        pairs = []
        for qubit in qubits:
            try:
                pairs.append((str(qubit), self.component(qubit)))
            except IQMTranslationError:
                continue
        return tuple(pairs)

    def component(self, unit: UnitID) -> str:
        """Physical name of a device qubit or resonator qubit."""
        if is_resonator_qubit(unit):
            index = unit.index[0]
            if index >= len(self.resonators):
                known = ", ".join(self.resonators) or "none"
                raise IQMTranslationError(
                    f"{unit} stands for computational resonator number {index}, but the "
                    f"device's resonators are: {known}. Compile the circuit for this device "
                    "(and pass resonators=device.computational_resonators)."
                )
            return self.resonators[index]
        return qubit_for_node(unit)

    def two_component(self, cmd: Command, name: str) -> None:
        """A ``cz`` or ``move``; the qubit comes first when a resonator is involved."""
        units = list(cmd.qubits)
        if name == "move" and not (
            len(units) == 2 and not is_resonator_qubit(units[0]) and is_resonator_qubit(units[1])
        ):
            raise IQMTranslationError(
                f"MOVE on {_qubit_list(cmd)}: MOVE acts on (qubit, resonator), i.e. "
                "(node[i], resonator[j])."
            )
        if name == "cz" and is_resonator_qubit(units[0]):
            units.reverse()
        self.add(name, [self.component(u) for u in units])

    def add(self, name: str, qubits: list[str], args: dict[str, Any] | None = None) -> None:
        self.instructions.append({"name": name, "qubits": qubits, "args": args or {}})

    def measure(self, cmd: Command) -> None:
        qubit, bit = qubit_for_node(cmd.qubits[0]), cmd.bits[0]
        count = self.times_measured.get(bit, 0)
        key = str(bit) if count == 0 else f"{bit}#{count}"
        self.times_measured[bit] = count + 1
        self.last_measure[bit] = _MeasureRecord(key, qubit, len(self.instructions))
        self.add("measure", [qubit], {"key": key})

    def conditional(self, cmd: Command) -> None:
        cond = cmd.op
        if not isinstance(cond, Conditional):  # pytket always gives one for this OpType
            raise _unsupported(cmd)
        inner: Op = cond.op
        cond_bits = [arg for arg in cmd.args[: cond.width] if isinstance(arg, Bit)]
        targets = cmd.args[cond.width :]
        where = f"{inner.type.name} on {', '.join(map(str, targets))}"
        if cond.width != 1 or len(cond_bits) != 1:
            raise IQMTranslationError(
                f"Cannot translate {where} conditioned on bits "
                f"{', '.join(map(str, cmd.args[: cond.width]))} == {cond.value}: {_FEEDBACK_HINT}"
            )
        bit = cond_bits[0]
        if cond.value != 1:
            raise IQMTranslationError(
                f"Cannot translate {where} conditioned on {bit} == {cond.value}: {_FEEDBACK_HINT}"
            )
        source = self.last_measure.get(bit)
        if source is None:
            raise IQMTranslationError(
                f"Cannot translate {where} conditioned on {bit}: no earlier Measure writes "
                f"{bit}. {_FEEDBACK_HINT}"
            )
        if len(targets) != 1 or not isinstance(targets[0], Qubit):
            raise IQMTranslationError(f"Cannot translate conditional {where}: {_FEEDBACK_HINT}")
        if inner.type == OpType.PhasedX:
            alpha, beta = _params(inner, str(targets[0]))
            rotations = [(alpha, beta)]
        else:
            _params(inner, str(targets[0]))  # rejects symbols with the usual message
            try:
                unitary = inner.get_unitary()
            except RuntimeError:
                raise IQMTranslationError(
                    f"Cannot translate conditional {where}: {_FEEDBACK_HINT}"
                ) from None
            rotations = one_qubit_as_phasedx(unitary)
        qubit = qubit_for_node(cmd.qubits[0])
        for alpha, beta in rotations:
            args = prx_args(alpha, beta)
            args.update(feedback_key=source.key, feedback_qubit=source.qubit)
            self.add("cc_prx", [qubit], args)
        if rotations:
            self.instructions[source.index]["args"]["feedback_key"] = source.key

    def command(self, cmd: Command) -> None:
        op = cmd.op
        optype = op.type
        if optype == OpType.PhasedX:
            alpha, beta = _params(op, _qubit_list(cmd))
            self.add("prx", [qubit_for_node(cmd.qubits[0])], prx_args(alpha, beta))
        elif optype == OpType.CZ:
            self.two_component(cmd, "cz")
        elif is_move(op):
            self.two_component(cmd, "move")
        elif optype == OpType.Measure:
            self.measure(cmd)
        elif optype == OpType.Barrier:
            # IQM barriers act on qubits only; a barrier on bits alone has no effect there.
            if cmd.qubits:
                self.add("barrier", [self.component(q) for q in cmd.qubits])
        elif optype == OpType.Reset:
            self.add("reset", [qubit_for_node(cmd.qubits[0])])
        elif optype == OpType.Conditional:
            self.conditional(cmd)
        else:
            raise _unsupported(cmd)


def circuit_to_iqm(
    circuit: Circuit, name: str, *, resonators: Sequence[str] = ()
) -> tuple[IQMCircuit, MeasurementLayout]:
    """Translate a compiled pytket circuit into an IQM circuit and its measurement layout.

    A single-qubit gate conditioned on one bit being 1, where that bit was last written by a
    ``Measure``, becomes one or two ``cc_prx`` with ``feedback_key`` = that measurement's key and
    ``feedback_qubit`` = the measured qubit; the source ``measure`` gets the same
    ``feedback_key``.

    :param circuit: circuit on ``node`` qubits using only PhasedX, CZ, Measure, Barrier, Reset
        and such conditional single-qubit gates
    :param name: name of the IQM circuit (non-empty)
    :param resonators: the device's computational resonators, in DQA order: resonator qubit
        ``Qubit("resonator", i)`` becomes ``resonators[i]`` (Star devices; MOVE gates become
        ``move`` on ``[qubit, resonator]``)
    :raises IQMTranslationError: if the circuit is empty, acts on non-device qubits (or on a
        resonator qubit with no entry in ``resonators``), has
        symbolic parameters, contains an operation IQM cannot run, or a condition IQM cannot
        express (several bits, value 0, bit not written by an earlier measurement)
    :return: the IQM circuit and the layout mapping measurement keys back to bits
    """
    if not name:
        raise IQMTranslationError("The IQM circuit name must be a non-empty string")
    translator = _Translator(resonators)
    for cmd in circuit.get_commands():
        translator.command(cmd)
    if not translator.instructions:
        raise IQMTranslationError(
            f"Circuit {name!r} has no instructions; IQM cannot run an empty circuit. "
            "Add at least one gate or measurement."
        )
    instructions = tuple(
        IQMInstruction(name=spec["name"], locus=tuple(spec["qubits"]), args=spec["args"])
        for spec in translator.instructions
    )
    layout = MeasurementLayout(
        bits=tuple(circuit.bits),
        keys=tuple(translator.final_key(b) for b in circuit.bits),
        qubit_mapping=translator.qubit_mapping(circuit.qubits),
    )
    return IQMCircuit(name=name, instructions=instructions), layout


__all__ = [
    "IQMCircuit",
    "IQMInstruction",
    "MeasurementLayout",
    "circuit_to_iqm",
    "one_qubit_as_phasedx",
    "prx_args",
]
