"""The simulator's compiled program: steps (gates and noise channels) on the active components.

:func:`compile_program` turns a circuit of native operations and a noise model into a
:class:`Program`, in an equivalent order that reaches components as late as possible
(:func:`late_first_use`), and marks the dephasing a later Z-basis step would hide."""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from pytket.extensions.iqm.emulator.devices.noise import (
    NoiseModel,
    Relaxation,
    twirled_relaxation,
)
from pytket.extensions.iqm.emulator.simulation.methods.statevector import (
    ComplexArray,
    FloatArray,
)
from pytket.extensions.iqm.emulator.simulation.program import Operation
from pytket.extensions.iqm.emulator.simulation.result import (
    SimulationCancelledError,
    SimulationError,
)

OPERATIONS_PER_CANCELLATION_CHECK = 1024
"""Operations (or steps) compiled between two checks for an abort: about 30 ms of work, so an
abort stops a circuit's compilation at once, however long the circuit."""

Condition = tuple[str, str] | None
"""``(feedback_key, feedback_qubit)`` whose bit must be 1 for a step to act, or None."""


@dataclass(frozen=True)
class Unitary1:
    axis: int
    matrix: ComplexArray
    condition: Condition = None


@dataclass(frozen=True)
class CZ:
    a: int
    b: int


@dataclass(frozen=True)
class Move:
    qubit: int
    resonator: int


@dataclass(frozen=True)
class Damp:
    axis: int
    damping: float
    condition: Condition = None


@dataclass(frozen=True)
class Dephase:
    axis: int
    probability: float
    condition: Condition = None
    z_hidden: frozenset[int] = frozenset()
    """Axes on which a Z error here cannot change any outcome (see :func:`_mark_hidden_z`)."""


@dataclass(frozen=True)
class ResetError:
    """With this probability, a reset to |0> (part of relaxation unravelled without a
    non-unitary no-jump factor, see :func:`compile_program`)."""

    axis: int
    probability: float
    condition: Condition = None


@dataclass(frozen=True)
class PauliChannel:
    """X, Y, Z on one axis with these probabilities (a Pauli-twirled relaxation)."""

    axis: int
    probabilities: tuple[float, float, float]
    condition: Condition = None
    z_hidden: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Depolarize:
    axes: tuple[int, ...]
    p: float
    condition: Condition = None
    z_hidden: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Measure:
    key: str
    axes: tuple[int, ...]
    qubits: tuple[str, ...]
    feedback_key: str | None
    p1_given_0: FloatArray
    p0_given_1: FloatArray


@dataclass(frozen=True)
class Reset:
    axis: int


@dataclass(frozen=True)
class Grow:
    """The circuit reaches components it has not touched: extend the state to ``n`` of them."""

    n: int


@dataclass(frozen=True)
class SplitOnFeedback:
    condition: tuple[str, str]


Step = (
    Unitary1
    | CZ
    | Move
    | Damp
    | Dephase
    | PauliChannel
    | ResetError
    | Depolarize
    | Measure
    | Reset
    | Grow
)
AnyStep = Step | SplitOnFeedback
NoiseStep = Damp | Dephase | PauliChannel | ResetError | Depolarize
PauliStep = Dephase | PauliChannel | Depolarize


@dataclass
class Program:
    components: tuple[str, ...]
    steps: list[AnyStep] = field(default_factory=list)
    terminal: list[Measure] = field(default_factory=list)
    measure_widths: dict[str, int] = field(default_factory=dict)
    feedback_slots: set[tuple[str, str]] = field(default_factory=set)

    @property
    def has_gate_noise(self) -> bool:
        return any(isinstance(step, NoiseStep) for step in self.steps)


def prx_matrix(angle: float, phase: float) -> ComplexArray:
    """PRX(θ, φ) = exp(−i θ/2 (cos φ X + sin φ Y)) = RZ(φ)·RX(θ)·RZ(−φ).

    :param angle: θ in radians.
    :param phase: φ in radians.
    :return: the 2×2 unitary.
    """
    c = math.cos(angle / 2.0)
    s = math.sin(angle / 2.0)
    return np.array(
        [[c, -1j * s * np.exp(-1j * phase)], [-1j * s * np.exp(1j * phase), c]],
        dtype=np.complex128,
    )


@functools.lru_cache(maxsize=4096)
def _shared_prx_matrix(angle: float, phase: float) -> ComplexArray:
    """:func:`prx_matrix`, cached and read-only (compiled circuits repeat their angles)."""
    matrix = prx_matrix(angle, phase)
    matrix.flags.writeable = False
    return matrix


_GATE_ARITY = {"prx": 1, "cc_prx": 1, "cz": 2, "move": 2}
_KNOWN_OPERATIONS = {"prx", "cc_prx", "cz", "move", "measure", "reset", "barrier", "delay"}
_SCHEDULING_ONLY = {"barrier", "delay"}


def _check_operation(index: int, op: Operation) -> None:
    where = f"operation {index} ({op.name} on {', '.join(op.qubits) or 'nothing'})"
    if op.name not in _KNOWN_OPERATIONS:
        raise SimulationError(
            f"Operation {index} is '{op.name}', which the emulator cannot simulate; use only "
            f"{', '.join(sorted(_KNOWN_OPERATIONS))}."
        )
    arity = _GATE_ARITY.get(op.name)
    if arity is not None and len(op.qubits) != arity:
        raise SimulationError(f"{where}: '{op.name}' acts on exactly {arity} component(s).")
    if op.name not in _SCHEDULING_ONLY and not op.qubits:
        raise SimulationError(f"{where}: '{op.name}' needs at least one component.")
    if len(set(op.qubits)) != len(op.qubits):
        raise SimulationError(f"{where}: a component appears twice.")
    if op.name in ("prx", "cc_prx") and not (math.isfinite(op.angle) and math.isfinite(op.phase)):
        raise SimulationError(f"{where}: angle and phase must be finite numbers.")
    if op.name == "measure" and not op.key:
        raise SimulationError(f"{where}: a measurement needs a key.")
    if op.name == "cc_prx" and (not op.feedback_key or not op.feedback_qubit):
        raise SimulationError(f"{where}: cc_prx needs a feedback_key and a feedback_qubit.")


def late_first_use(
    circuit: Sequence[Operation], cancelled: Callable[[], bool] | None = None
) -> list[int]:
    """An order of the operations, equivalent to the circuit's, that touches components late.

    Operations on disjoint components commute, so any order that keeps each component's own
    sequence is the same circuit (and the same noise, which is local to each gate). Greedily,
    an operation whose components are all in use already goes first; otherwise the one that
    brings in the fewest new components. Since the state grows as components are reached
    (:meth:`StateVector.grow`), a compiled circuit that starts with a layer of single-qubit gates
    on every qubit then runs most of its gates on a smaller state. Not used with ``cc_prx``,
    whose dependency on its measurement is not carried by the components.

    :return: indices into ``circuit`` in the new order.
    """
    waiting: dict[str, list[int]] = {}
    for index, op in enumerate(circuit):
        for qubit in op.qubits:
            waiting.setdefault(qubit, []).append(index)
    position = dict.fromkeys(waiting, 0)
    active: set[str] = set()
    done = [False] * len(circuit)
    order: list[int] = []

    def ready(index: int) -> bool:
        return all(waiting[q][position[q]] == index for q in circuit[index].qubits)

    def is_free(index: int) -> bool:
        op = circuit[index]
        return op.name in _SCHEDULING_ONLY or all(q in active for q in op.qubits)

    free: list[int] = []  # ready, and brings in no new component: a heap of indices
    blocked: set[int] = set()  # ready, but would bring in new components
    for index, op in enumerate(circuit):
        if not op.qubits or ready(index):
            if is_free(index):
                heapq.heappush(free, index)
            else:
                blocked.add(index)
    while free or blocked:
        if free:
            chosen = heapq.heappop(free)
        else:
            # At most once per component: each such choice brings in at least one.
            chosen = min(
                blocked, key=lambda i: (sum(q not in active for q in circuit[i].qubits), i)
            )
            blocked.remove(chosen)
        check_cancelled(cancelled, len(order))
        done[chosen] = True
        order.append(chosen)
        op = circuit[chosen]
        if op.name not in _SCHEDULING_ONLY and not all(q in active for q in op.qubits):
            active.update(op.qubits)
            for index in [i for i in blocked if is_free(i)]:
                blocked.remove(index)
                heapq.heappush(free, index)
        for qubit in op.qubits:
            position[qubit] += 1
            if position[qubit] < len(waiting[qubit]):
                following = waiting[qubit][position[qubit]]
                if not done[following] and ready(following):
                    if is_free(following):
                        heapq.heappush(free, following)
                    else:
                        blocked.add(following)
    return order


def check_cancelled(cancelled: Callable[[], bool] | None, index: int) -> None:
    """Raise :class:`SimulationCancelledError` if ``cancelled`` says so (asked at every
    :data:`OPERATIONS_PER_CANCELLATION_CHECK`-th index)."""
    if cancelled is not None and index % OPERATIONS_PER_CANCELLATION_CHECK == 0 and cancelled():
        raise SimulationCancelledError("The simulation was cancelled.")


def compile_program(
    circuit: Sequence[Operation],
    noise: NoiseModel | None,
    *,
    unitary_relaxation: bool = False,
    cancelled: Callable[[], bool] | None = None,
) -> Program:
    """Check the circuit and turn it into steps on axis numbers.

    ``unitary_relaxation``: where T2 ≤ T1, write relaxation as the mixture qiskit-aer uses, a
    reset to |0> with probability γ, else Z with probability (1 − γ)(1 − e^(t/T1 − t/T2))/2,
    else nothing. It is the same channel, but no-event trajectories stay unitary: the
    amplitude-damping unravelling's no-jump factor diag(1, √(1−γ)) entangles a little more at
    every gate, which a matrix-product state pays for in bond dimension.

    ``cancelled`` is checked every :data:`OPERATIONS_PER_CANCELLATION_CHECK` operations; when
    it returns ``True``, :class:`SimulationCancelledError` is raised.
    """
    for index, op in enumerate(circuit):
        _check_operation(index, op)
    origin = list(range(len(circuit)))
    if not any(op.name == "cc_prx" for op in circuit):
        origin = late_first_use(circuit, cancelled)
        circuit = [circuit[i] for i in origin]
    components: list[str] = []
    axis_of: dict[str, int] = {}
    for op in circuit:
        if op.name in _SCHEDULING_ONLY:
            continue
        for qubit in op.qubits:
            if qubit not in axis_of:
                axis_of[qubit] = len(components)
                components.append(qubit)
    program = Program(tuple(components))

    # A measurement is terminal when nothing acts on its qubits afterwards and no cc_prx reads it.
    last_touch: dict[str, int] = {}
    last_read: dict[tuple[str, str], int] = {}
    for index, op in enumerate(circuit):
        if op.name in _SCHEDULING_ONLY:
            continue
        for qubit in op.qubits:
            last_touch[qubit] = index
        if op.name == "cc_prx":
            assert op.feedback_key is not None
            assert op.feedback_qubit is not None
            last_read[(op.feedback_key, op.feedback_qubit)] = index

    stored: set[tuple[str, str]] = set()

    def relaxation_steps(axis: int, relaxation: Relaxation, condition: Condition) -> list[Step]:
        if relaxation.is_identity:
            return []
        if noise is not None and noise.pauli_twirled:
            return [PauliChannel(axis, twirled_relaxation(relaxation), condition)]
        steps: list[Step] = []
        # Coherence left after the damping: 1 − 2·dephasing = e^(−t/T2 + t/(2·T1)); the reset
        # mixture needs e^(−t/T2) ≤ 1 − γ = e^(−t/T1), i.e. T2 ≤ T1.
        coherence = (1.0 - 2.0 * relaxation.dephasing) * math.sqrt(1.0 - relaxation.damping)
        if unitary_relaxation and coherence <= 1.0 - relaxation.damping:
            if relaxation.damping > 0.0:
                steps.append(ResetError(axis, relaxation.damping, condition))
            flip = (1.0 - relaxation.damping - coherence) / 2.0
            if flip > 0.0:
                steps.append(Dephase(axis, flip, condition))
            return steps
        if relaxation.damping > 0.0:
            steps.append(Damp(axis, relaxation.damping, condition))
        if relaxation.dephasing > 0.0:
            steps.append(Dephase(axis, relaxation.dephasing, condition))
        return steps

    def noise_steps(gate: str, locus: tuple[str, ...], condition: Condition) -> list[Step]:
        if noise is None:
            return []
        steps: list[Step] = []
        for qubit, relaxation in zip(locus, noise.gate_relaxations(gate, locus), strict=True):
            steps.extend(relaxation_steps(axis_of[qubit], relaxation, condition))
        p = noise.depolarizing(gate, locus)
        if p > 0.0:
            steps.append(Depolarize(tuple(axis_of[q] for q in locus), p, condition))
        return steps

    grown = 0  # components the state holds at this point of the circuit
    for index, op in enumerate(circuit):
        check_cancelled(cancelled, index)
        name = op.name
        if name not in _SCHEDULING_ONLY:
            needed = 0
            for qubit in op.qubits:
                needed = max(needed, axis_of[qubit] + 1)
            if needed > grown:
                program.steps.append(Grow(needed))
                grown = needed
        if name == "prx":
            program.steps.append(
                Unitary1(axis_of[op.qubits[0]], _shared_prx_matrix(op.angle, op.phase))
            )
            program.steps.extend(noise_steps("prx", op.qubits, None))
        elif name == "cc_prx":
            assert op.feedback_key is not None
            assert op.feedback_qubit is not None
            condition = (op.feedback_key, op.feedback_qubit)
            if condition not in stored:
                raise SimulationError(
                    f"cc_prx on {op.qubits[0]} (operation {index}) is conditioned on feedback_key "
                    f"'{op.feedback_key}' of {op.feedback_qubit}, but no earlier measure of "
                    f"{op.feedback_qubit} stores an outcome under that feedback_key. Measure it "
                    f"first with feedback_key='{op.feedback_key}'."
                )
            program.steps.append(SplitOnFeedback(condition))
            program.steps.append(
                Unitary1(axis_of[op.qubits[0]], _shared_prx_matrix(op.angle, op.phase), condition)
            )
            program.steps.extend(noise_steps("cc_prx", op.qubits, condition))
        elif name == "cz":
            program.steps.append(CZ(axis_of[op.qubits[0]], axis_of[op.qubits[1]]))
            program.steps.extend(noise_steps("cz", op.qubits, None))
        elif name == "move":
            program.steps.append(Move(axis_of[op.qubits[0]], axis_of[op.qubits[1]]))
            program.steps.extend(noise_steps("move", op.qubits, None))
        elif name == "measure":
            assert op.key is not None
            if op.key in program.measure_widths:
                raise SimulationError(
                    f"Measurement key '{op.key}' is used twice (operation {origin[index]}); keys "
                    "must be unique within a circuit."
                )
            program.measure_widths[op.key] = len(op.qubits)
            readout = [noise.readout(q) if noise else (0.0, 0.0) for q in op.qubits]
            measure = Measure(
                op.key,
                tuple(axis_of[q] for q in op.qubits),
                op.qubits,
                op.feedback_key,
                np.array([r[0] for r in readout]),
                np.array([r[1] for r in readout]),
            )
            read_later = op.feedback_key is not None and any(
                last_read.get((op.feedback_key, q), -1) > index for q in op.qubits
            )
            if read_later or any(last_touch[q] > index for q in op.qubits):
                program.steps.append(measure)
            else:
                program.terminal.append(measure)
            if op.feedback_key is not None:
                for qubit in op.qubits:
                    stored.add((op.feedback_key, qubit))
                    program.feedback_slots.add((op.feedback_key, qubit))
        elif name == "reset":
            program.steps.extend(Reset(axis_of[q]) for q in op.qubits)
        elif name == "delay" and noise is not None and noise.idle_relaxation:
            for qubit in op.qubits:
                if qubit not in axis_of or axis_of[qubit] >= grown:
                    continue  # an idle |0> does not relax
                relaxation = noise.relaxation(qubit, op.duration)
                program.steps.extend(relaxation_steps(axis_of[qubit], relaxation, None))
    if any(isinstance(step, PauliStep) for step in program.steps):
        _mark_hidden_z(program, cancelled)
    return program


def _commutes_with_z(step: AnyStep, axis: int) -> bool:
    """Whether ``step`` commutes with Z on ``axis`` up to a sign (or does not touch it)."""
    if isinstance(step, Unitary1):
        return step.axis != axis or bool(step.matrix[0, 1] == 0 and step.matrix[1, 0] == 0)
    if isinstance(step, Move):
        return axis not in (step.qubit, step.resonator)
    # CZ and damping are diagonal; Pauli errors, projections and reset (X after a projection)
    # commute with Z up to a sign.
    return True


def _mark_hidden_z(program: Program, cancelled: Callable[[], bool] | None) -> None:
    """Record, on each Pauli-noise step, the axes where a Z error is invisible.

    A Z error on an axis that afterwards only meets operators commuting with Z (up to a sign)
    multiplies the final state by Z and a global sign, so no measurement, jump probability or
    feedback changes: the trajectory simulator need not branch for it. Exact, not approximate.
    """
    n = len(program.components)
    visible: set[int] = set()
    hidden: frozenset[int] = frozenset(range(n))  # kept in step with ``visible``
    for index in range(len(program.steps) - 1, -1, -1):
        check_cancelled(cancelled, index)
        step = program.steps[index]
        if isinstance(step, PauliStep) and hidden:
            program.steps[index] = replace(step, z_hidden=hidden)
        # Only the axes a step acts on can stop commuting with Z (see _commutes_with_z).
        if isinstance(step, Unitary1):
            touched: tuple[int, ...] = (step.axis,)
        elif isinstance(step, Move):
            touched = (step.qubit, step.resonator)
        else:
            continue
        for axis in touched:
            if axis not in visible and not _commutes_with_z(step, axis):
                visible.add(axis)
                hidden = hidden - {axis}


def first_partners(program: Program) -> dict[int, int]:
    """Axis → the earlier axis it first meets in a two-component gate (the chain neighbour a
    matrix-product state gives it, so that gate is local)."""
    partners: dict[int, int] = {}
    for step in program.steps:
        if isinstance(step, CZ | Move):
            a, b = (step.a, step.b) if isinstance(step, CZ) else (step.qubit, step.resonator)
            low, high = min(a, b), max(a, b)
            if high not in partners:
                partners[high] = low
    return partners
