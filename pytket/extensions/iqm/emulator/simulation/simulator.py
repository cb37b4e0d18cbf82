"""Shot simulation of native IQM circuits (physical component names, radians).

:func:`simulate` runs a circuit for a number of shots and returns what every ``measure`` recorded.
Only the components the circuit acts on are simulated.

How it works: the circuit is compiled into a list of steps on the active components (gates and
noise channels), in an equivalent order that reaches components as late as possible
(:func:`_late_first_use`); the state starts with no component and grows as steps reach new ones.
Shots travel through the steps in *groups* that share one quantum state. A group splits where its
shots' histories differ: a mid-circuit measurement (by outcome), a ``cc_prx`` (by the feedback
bit), a ``reset`` and, in the state-vector method, a noise event (a Pauli error or a damping jump).
Groups are explored depth first, smallest branch first, so few states are alive at once.
Measurements that nothing acts after are sampled for all shots of a group at once at the end.

Methods:

* ``statevector``: exact. Without gate noise (no noise, or readout-only noise) and without
  mid-circuit measurements this is a single state-vector run whose final distribution is sampled
  for all shots at once. With gate noise it is an exact quantum-trajectory unravelling: every
  state-independent event (Pauli errors, candidate damping jumps) of every shot is drawn before
  the run (:class:`_Events`), groups run the event-free circuit between events without drawing
  anything, and a candidate jump becomes a jump with the excited population at that point.
* ``density_matrix``: exact, cost independent of shots. ``auto`` picks it for noisy circuits on
  at most :data:`DENSITY_MATRIX_MAX_COMPONENTS` components when a simple cost model
  (:func:`_density_matrix_is_cheaper`) expects it to be faster than trajectories, e.g. for deep
  circuits on few qubits or many shots.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from pytket.extensions.iqm.emulator.devices.noise import NoiseModel
from pytket.extensions.iqm.emulator.simulation.density_matrix import DensityMatrix
from pytket.extensions.iqm.emulator.simulation.program import Operation
from pytket.extensions.iqm.emulator.simulation.statevector import (
    ComplexArray,
    FloatArray,
    StateVector,
    Workspace,
)

Method = Literal["auto", "statevector", "density_matrix"]

#: ``auto`` considers the density matrix for noisy circuits on at most this many components.
DENSITY_MATRIX_MAX_COMPONENTS = 12
#: The density matrix refuses more components than this (4**13 amplitudes = 1 GiB).
DENSITY_MATRIX_HARD_LIMIT = 13

IntArray = npt.NDArray[np.int64]
BitArray = npt.NDArray[np.uint8]


class SimulationError(ValueError):
    """The circuit cannot be simulated; the message says why and becomes the job's error."""


class TooLargeError(SimulationError):
    """The circuit acts on more components than the simulator accepts."""


@dataclass(frozen=True)
class SimulationResult:
    """What the measurements recorded.

    ``measurements[key]`` is a uint8 array of shape ``(shots_kept, len(qubits))`` with the
    qubits in the order of the ``measure`` operation that has that key.
    """

    measurements: dict[str, BitArray]
    shots_kept: int
    """Number of shots returned (fewer than asked when heralding dropped some)."""
    method: str = "statevector"
    """Which method ran (``statevector`` or ``density_matrix``), for diagnostics."""


# ---------------------------------------------------------------------------------------------
# Compiled program
# ---------------------------------------------------------------------------------------------

Condition = tuple[str, str] | None
"""``(feedback_key, feedback_qubit)`` whose bit must be 1 for a step to act, or None."""


@dataclass(frozen=True)
class _Unitary1:
    axis: int
    matrix: ComplexArray
    condition: Condition = None


@dataclass(frozen=True)
class _CZ:
    a: int
    b: int


@dataclass(frozen=True)
class _Move:
    qubit: int
    resonator: int


@dataclass(frozen=True)
class _Damp:
    axis: int
    damping: float
    condition: Condition = None


@dataclass(frozen=True)
class _Dephase:
    axis: int
    probability: float
    condition: Condition = None
    z_hidden: frozenset[int] = frozenset()
    """Axes on which a Z error here cannot change any outcome (see :func:`_mark_hidden_z`)."""


@dataclass(frozen=True)
class _Depolarize:
    axes: tuple[int, ...]
    p: float
    condition: Condition = None
    z_hidden: frozenset[int] = frozenset()


@dataclass(frozen=True)
class _Measure:
    key: str
    axes: tuple[int, ...]
    qubits: tuple[str, ...]
    feedback_key: str | None
    p1_given_0: FloatArray
    p0_given_1: FloatArray


@dataclass(frozen=True)
class _Reset:
    axis: int


@dataclass(frozen=True)
class _Grow:
    """The circuit reaches components it has not touched: extend the state to ``n`` of them."""

    n: int


@dataclass(frozen=True)
class _SplitOnFeedback:
    condition: tuple[str, str]


_Step = _Unitary1 | _CZ | _Move | _Damp | _Dephase | _Depolarize | _Measure | _Reset | _Grow
_AnyStep = _Step | _SplitOnFeedback


@dataclass
class _Program:
    components: tuple[str, ...]
    steps: list[_AnyStep] = field(default_factory=list)
    terminal: list[_Measure] = field(default_factory=list)
    measure_widths: dict[str, int] = field(default_factory=dict)
    feedback_slots: set[tuple[str, str]] = field(default_factory=set)

    @property
    def has_gate_noise(self) -> bool:
        return any(isinstance(step, _Damp | _Dephase | _Depolarize) for step in self.steps)


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


def _late_first_use(circuit: Sequence[Operation]) -> list[int]:
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


def _compile(circuit: Sequence[Operation], noise: NoiseModel | None) -> _Program:
    """Check the circuit and turn it into steps on axis numbers."""
    for index, op in enumerate(circuit):
        _check_operation(index, op)
    origin = list(range(len(circuit)))
    if not any(op.name == "cc_prx" for op in circuit):
        origin = _late_first_use(circuit)
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
    program = _Program(tuple(components))

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

    def noise_steps(gate: str, locus: tuple[str, ...], condition: Condition) -> list[_Step]:
        if noise is None:
            return []
        steps: list[_Step] = []
        for qubit, relaxation in zip(locus, noise.gate_relaxations(gate, locus), strict=True):
            if relaxation.damping > 0.0:
                steps.append(_Damp(axis_of[qubit], relaxation.damping, condition))
            if relaxation.dephasing > 0.0:
                steps.append(_Dephase(axis_of[qubit], relaxation.dephasing, condition))
        p = noise.depolarizing(gate, locus)
        if p > 0.0:
            steps.append(_Depolarize(tuple(axis_of[q] for q in locus), p, condition))
        return steps

    grown = 0  # components the state holds at this point of the circuit
    for index, op in enumerate(circuit):
        name = op.name
        if name not in _SCHEDULING_ONLY:
            needed = 0
            for qubit in op.qubits:
                needed = max(needed, axis_of[qubit] + 1)
            if needed > grown:
                program.steps.append(_Grow(needed))
                grown = needed
        if name == "prx":
            program.steps.append(
                _Unitary1(axis_of[op.qubits[0]], _shared_prx_matrix(op.angle, op.phase))
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
            program.steps.append(_SplitOnFeedback(condition))
            program.steps.append(
                _Unitary1(axis_of[op.qubits[0]], _shared_prx_matrix(op.angle, op.phase), condition)
            )
            program.steps.extend(noise_steps("cc_prx", op.qubits, condition))
        elif name == "cz":
            program.steps.append(_CZ(axis_of[op.qubits[0]], axis_of[op.qubits[1]]))
            program.steps.extend(noise_steps("cz", op.qubits, None))
        elif name == "move":
            program.steps.append(_Move(axis_of[op.qubits[0]], axis_of[op.qubits[1]]))
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
            measure = _Measure(
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
            program.steps.extend(_Reset(axis_of[q]) for q in op.qubits)
        elif name == "delay" and noise is not None and noise.idle_relaxation:
            for qubit in op.qubits:
                if qubit not in axis_of or axis_of[qubit] >= grown:
                    continue  # an idle |0> does not relax
                relaxation = noise.relaxation(qubit, op.duration)
                if relaxation.damping > 0.0:
                    program.steps.append(_Damp(axis_of[qubit], relaxation.damping))
                if relaxation.dephasing > 0.0:
                    program.steps.append(_Dephase(axis_of[qubit], relaxation.dephasing))
    if any(isinstance(step, _Dephase | _Depolarize) for step in program.steps):
        _mark_hidden_z(program)
    return program


def _commutes_with_z(step: _AnyStep, axis: int) -> bool:
    """Whether ``step`` commutes with Z on ``axis`` up to a sign (or does not touch it)."""
    if isinstance(step, _Unitary1):
        return step.axis != axis or bool(step.matrix[0, 1] == 0 and step.matrix[1, 0] == 0)
    if isinstance(step, _Move):
        return axis not in (step.qubit, step.resonator)
    # CZ and damping are diagonal; Pauli errors, projections and reset (X after a projection)
    # commute with Z up to a sign.
    return True


def _mark_hidden_z(program: _Program) -> None:
    """Record, on each Pauli-noise step, the axes where a Z error is invisible.

    A Z error on an axis that afterwards only meets operators commuting with Z (up to a sign)
    multiplies the final state by Z and a global sign, so no measurement, jump probability or
    feedback changes: the trajectory simulator need not branch for it. Exact, not approximate.
    """
    n = len(program.components)
    visible: set[int] = set()
    for index in range(len(program.steps) - 1, -1, -1):
        step = program.steps[index]
        if isinstance(step, _Dephase | _Depolarize):
            hidden = frozenset(axis for axis in range(n) if axis not in visible)
            program.steps[index] = replace(step, z_hidden=hidden)
        for axis in range(n):
            if axis not in visible and not _commutes_with_z(step, axis):
                visible.add(axis)


# ---------------------------------------------------------------------------------------------
# Execution
# ---------------------------------------------------------------------------------------------


class _State(Protocol):
    n: int

    def copy(self) -> _State: ...

    def grow(self, n: int) -> None: ...

    def apply_1q(self, axis: int, matrix: ComplexArray) -> None: ...

    def apply_cz(self, a: int, b: int) -> None: ...

    def apply_move(self, qubit: int, resonator: int) -> None: ...

    def probabilities(self, axes: Sequence[int]) -> FloatArray: ...

    def weights(self) -> FloatArray: ...

    def project(self, axes: Sequence[int], bits: Sequence[int]) -> None: ...


Transform = Callable[[_State], None]


@dataclass
class _Snapshot:
    """A state shared by several pending branches; the last one takes it without copying."""

    state: _State
    users: int

    def take(self) -> _State:
        self.users -= 1
        if self.users > 0:
            return self.state.copy()
        return self.state


@dataclass
class _Pending:
    snapshot: _Snapshot
    shots: IntArray
    pc: int
    transform: Transform | None
    events: IntArray | None = None
    """State-vector runs: this group's presampled noise events still ahead (see _Events)."""


_NO_EVENTS: IntArray = np.zeros(0, dtype=np.int64)
# Codes of the event-free effect of a step (see _Executor._plain_effects).
_PLAIN_1Q, _PLAIN_CZ, _PLAIN_MOVE, _PLAIN_GROW = 0, 1, 2, 3
_PlainEffect = tuple[int, int, int, ComplexArray | None, Condition]
"""(code, axis or first axis, second axis, matrix, condition) of an event-free step."""
_DAMP_CANDIDATE = -1
_Z_ERROR = 3


@dataclass(frozen=True)
class _Events:
    """Every shot's noise events, drawn before the run (they do not depend on the state).

    Event ``j`` happens at step ``step[j]`` to shot ``shot[j]``: a Pauli error (``kind`` 1-15,
    base-4 digits, first axis high) or, for amplitude damping, a *candidate* jump (``kind``
    −1) that becomes a jump with the probability that the qubit is excited, decided when the
    run gets there. Sorted by step, then shot.
    """

    step: IntArray
    shot: IntArray
    kind: IntArray


_X = np.array([[0, 1], [1, 0]], dtype=np.complex128)


@functools.lru_cache(maxsize=4096)
def _no_jump(damping: float) -> ComplexArray:
    """The no-jump Kraus operator of amplitude damping, diag(1, √(1−γ))."""
    return np.array([[1.0, 0.0], [0.0, math.sqrt(1.0 - damping)]], dtype=np.complex128)


def _sample_indices(weights: FloatArray, count: int, rng: np.random.Generator) -> IntArray:
    """``count`` independent draws of an index with probability proportional to ``weights``."""
    size = len(weights)
    if size >= _TWO_LEVEL_MIN_SIZE and count * _TWO_LEVEL_BLOCK < size:
        # Few draws from a big distribution: pick a block of the index range by its total
        # weight, then the index inside it, instead of a cumulative sum over everything.
        blocks = weights.reshape(-1, _TWO_LEVEL_BLOCK)
        chosen = _sample_indices(blocks.sum(axis=1), count, rng)
        unique, row = np.unique(chosen, return_inverse=True)
        cdf = np.cumsum(blocks[unique], axis=1)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1.0
        # One search over all chosen blocks: row r's normalised cdf is shifted into (r, r + 1].
        shifted = (cdf + np.arange(len(unique))[:, None]).reshape(-1)
        found = np.searchsorted(shifted, row + rng.random(count), side="right")
        inside = np.clip(found - row * _TWO_LEVEL_BLOCK, 0, _TWO_LEVEL_BLOCK - 1)
        two_level: IntArray = (unique[row] * _TWO_LEVEL_BLOCK + inside).astype(np.int64)
        return two_level
    cdf = np.cumsum(weights)
    total = cdf[-1]
    if not total > 0.0:
        raise FloatingPointError("the simulated state has zero norm")
    found = np.searchsorted(cdf, rng.random(count) * total, side="right")
    drawn_flat: IntArray = np.minimum(found, size - 1).astype(np.int64)
    return drawn_flat


_TWO_LEVEL_MIN_SIZE = 1 << 14
_TWO_LEVEL_BLOCK = 1 << 10


def _sample_bits(
    state: _State, axes: Sequence[int], count: int, rng: np.random.Generator
) -> BitArray:
    """``count`` joint outcomes of measuring ``axes``: shape (count, len(axes)), axes' order."""
    n = state.n
    weights = state.weights()
    in_order = sorted(axes)
    if len(in_order) < n:
        others = tuple(axis for axis in range(n) if axis not in axes)
        weights = weights.reshape((2,) * n).sum(axis=others).reshape(-1)
    bits = _index_bits(_sample_indices(weights, count, rng), len(in_order))
    if list(axes) == in_order:
        return bits
    return np.ascontiguousarray(bits[:, [in_order.index(axis) for axis in axes]])


def _index_bits(indices: IntArray, width: int) -> BitArray:
    """Bits of each index, most significant first, shape (len(indices), width)."""
    shifts = np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((indices[:, None] >> shifts[None, :]) & 1).astype(np.uint8)


def _readout(
    bits: BitArray, p1_given_0: FloatArray, p0_given_1: FloatArray, rng: np.random.Generator
) -> BitArray:
    """Classical readout confusion applied to true outcomes."""
    if not (p1_given_0.any() or p0_given_1.any()):
        return bits
    flip_probability = np.where(bits == 1, p0_given_1[None, :], p1_given_0[None, :])
    flips = rng.random(bits.shape) < flip_probability
    return bits ^ flips.astype(np.uint8)


def _choose(count: int, total: int, rng: np.random.Generator) -> IntArray:
    """``count`` distinct positions out of ``total``, uniformly."""
    return np.sort(rng.choice(total, size=count, replace=False)).astype(np.int64)


class _Executor:
    """Runs a compiled program for a set of shots, splitting groups where histories differ."""

    def __init__(
        self,
        program: _Program,
        shots: int,
        rng: np.random.Generator,
        use_density_matrix: bool,
        memory_limit: int = 2 << 30,
    ) -> None:
        self.program = program
        self.memory_limit = memory_limit
        self.rng = rng
        self.use_density_matrix = use_density_matrix
        self.records: dict[str, BitArray] = {
            key: np.zeros((shots, width), dtype=np.uint8)
            for key, width in program.measure_widths.items()
        }
        self.feedback: dict[tuple[str, str], BitArray] = {
            slot: np.zeros(shots, dtype=np.uint8) for slot in program.feedback_slots
        }
        self.shots = shots
        self.workspace = Workspace()

    def _new_state(self) -> _State:
        # Start with no component; _Grow steps add them as the circuit reaches them.
        if self.use_density_matrix:
            return DensityMatrix(0, self.workspace)
        return StateVector(0, self.workspace)

    def run(self) -> None:
        if self.shots == 0:
            return
        if not self.use_density_matrix:
            self._run_trajectories()
            return
        all_shots = np.arange(self.shots, dtype=np.int64)
        stack = [_Pending(_Snapshot(self._new_state(), 1), all_shots, 0, None)]
        steps = self.program.steps
        while stack:
            pending = stack.pop()
            state = self._resume(pending, stack)
            shots, pc = pending.shots, pending.pc
            while pc < len(steps):
                branches = self._step(steps[pc], state, shots)
                pc += 1
                if branches:
                    state, shots, _ = self._follow(state, branches, pc, stack, _NO_EVENTS)
            self._finish(state, shots)

    # -- state-vector runs: presampled events, event-free segments applied without sampling -----

    def _presample(self) -> _Events:
        """Draw every state-independent noise event of every shot."""
        rng = self.rng
        shots = self.shots
        steps_out: list[IntArray] = []
        shots_out: list[IntArray] = []
        kinds_out: list[IntArray] = []
        for index, step in enumerate(self.program.steps):
            if isinstance(step, _Damp):
                count = int(rng.binomial(shots, step.damping))
                kinds = np.full(count, _DAMP_CANDIDATE, dtype=np.int64)
            elif isinstance(step, _Dephase):
                if step.axis in step.z_hidden:
                    continue
                count = int(rng.binomial(shots, step.probability))
                kinds = np.full(count, _Z_ERROR, dtype=np.int64)
            elif isinstance(step, _Depolarize):
                paulis = 4 ** len(step.axes)
                count = int(rng.binomial(shots, step.p * (paulis - 1) / paulis))
                kinds = rng.integers(1, paulis, size=count)
                for position, axis in enumerate(step.axes):
                    if axis in step.z_hidden:
                        # Drop the Z part of this axis's Pauli digit: Z→I, Y→X (up to phase).
                        shift = 2 * (len(step.axes) - 1 - position)
                        digit = (kinds >> shift) & 3
                        kinds = kinds - ((digit >= 2) * 2 << shift)
            else:
                continue
            if count == 0:
                continue
            chosen = _choose(count, shots, rng)
            keep = kinds != 0
            steps_out.append(np.full(int(keep.sum()), index, dtype=np.int64))
            shots_out.append(chosen[keep])
            kinds_out.append(kinds[keep].astype(np.int64))
        if not steps_out:
            return _Events(_NO_EVENTS, _NO_EVENTS, _NO_EVENTS)
        return _Events(
            np.concatenate(steps_out), np.concatenate(shots_out), np.concatenate(kinds_out)
        )

    def _plain_effects(
        self,
    ) -> tuple[list[int], list[_PlainEffect]]:
        """The steps that act when no event happens there, and what they do.

        Gates act; amplitude damping applies its no-jump Kraus operator diag(1, √(1−γ)) (the
        state is unnormalised, so this is exact); Pauli noise does nothing.
        """
        indices: list[int] = []
        effects: list[_PlainEffect] = []
        for index, step in enumerate(self.program.steps):
            effect: _PlainEffect
            if isinstance(step, _Unitary1):
                effect = (_PLAIN_1Q, step.axis, 0, step.matrix, step.condition)
            elif isinstance(step, _Damp):
                effect = (_PLAIN_1Q, step.axis, 0, _no_jump(step.damping), step.condition)
            elif isinstance(step, _CZ):
                effect = (_PLAIN_CZ, step.a, step.b, None, None)
            elif isinstance(step, _Move):
                effect = (_PLAIN_MOVE, step.qubit, step.resonator, None, None)
            elif isinstance(step, _Grow):
                effect = (_PLAIN_GROW, step.n, 0, None, None)
            else:
                continue
            indices.append(index)
            effects.append(effect)
        return indices, effects

    def _run_trajectories(self) -> None:
        steps = self.program.steps
        total = len(steps)
        events = self._presample()
        self.events = events
        plain_indices, plain_effects = self._plain_effects()
        # Consecutive single-axis effects on one axis (a PRX and its no-jump damping, say) are
        # also kept multiplied together: fused[i] is the product of effects i..run_end[i],
        # used when a segment covers all of them.
        run_end = list(range(len(plain_effects)))
        fused = list(plain_effects)
        for position in range(len(plain_effects) - 2, -1, -1):
            code, axis, _, matrix, condition = plain_effects[position]
            following = fused[position + 1]
            if (
                code == following[0] == _PLAIN_1Q
                and axis == following[1]
                and condition == following[4]
                and matrix is not None
                and following[3] is not None
            ):
                run_end[position] = run_end[position + 1]
                fused[position] = (code, axis, 0, following[3] @ matrix, condition)
        # next_special[pc]: the first step at or after pc that splits by state or feedback.
        next_special = np.full(total + 1, total, dtype=np.int64)
        for index in range(total - 1, -1, -1):
            special = isinstance(steps[index], _Measure | _Reset | _SplitOnFeedback)
            next_special[index] = index if special else next_special[index + 1]
        self._label = np.zeros(self.shots, dtype=np.int64)
        all_shots = np.arange(self.shots, dtype=np.int64)
        all_events = np.arange(len(events.step), dtype=np.int64)
        stack = [_Pending(_Snapshot(self._new_state(), 1), all_shots, 0, None, all_events)]
        while stack:
            pending = stack.pop()
            state = self._resume(pending, stack)
            shots, pc = pending.shots, pending.pc
            ahead = pending.events if pending.events is not None else _NO_EVENTS
            while pc < total:
                next_event = int(events.step[ahead[0]]) if len(ahead) else total
                stop = min(next_event, int(next_special[pc]))
                if stop > pc:
                    first = bisect.bisect_left(plain_indices, pc)
                    last = bisect.bisect_left(plain_indices, stop)
                    holds = self._holds_for(shots)
                    position = first
                    while position < last:
                        if run_end[position] < last:
                            code, a, b, matrix, condition = fused[position]
                            position = run_end[position] + 1
                        else:
                            code, a, b, matrix, condition = plain_effects[position]
                            position += 1
                        if condition is not None and not holds(condition):
                            continue
                        if code == _PLAIN_1Q:
                            state.apply_1q(a, matrix)  # type: ignore[arg-type]
                        elif code == _PLAIN_CZ:
                            state.apply_cz(a, b)
                        elif code == _PLAIN_GROW:
                            state.grow(a)
                        else:
                            state.apply_move(a, b)
                    pc = stop
                    continue
                if pc == next_event:
                    here = int(np.searchsorted(events.step[ahead], pc, side="right"))
                    assert isinstance(state, StateVector)
                    branches = self._event_branches(steps[pc], state, shots, ahead[:here])
                    ahead = ahead[here:]
                else:
                    branches = self._step(steps[pc], state, shots)
                pc += 1
                if branches:
                    state, shots, ahead = self._follow(state, branches, pc, stack, ahead)
            self._finish(state, shots)

    def _resume(self, pending: _Pending, stack: list[_Pending]) -> _State:
        """The state a waiting group of shots resumes from (its branch's transform applied)."""
        if pending.snapshot.users > 1:
            self._check_memory(stack)
        state = pending.snapshot.take()
        if pending.transform is not None:
            pending.transform(state)
        return state

    def _follow(
        self,
        state: _State,
        branches: list[tuple[IntArray, Transform | None]],
        pc: int,
        stack: list[_Pending],
        ahead: IntArray,
    ) -> tuple[_State, IntArray, IntArray]:
        """Go on after a step split the shots into ``branches``: returns the state, shots and
        pending noise events (state-vector runs; empty otherwise) of the branch that goes on
        now; the others wait on ``stack`` from step ``pc``."""
        if len(branches) == 1:
            shots, transform = branches[0]
            part = ahead
        else:
            # Largest branches wait on the stack, the smallest goes on: the path being run at
            # least halves its shots at every split, which bounds the states alive.
            branches.sort(key=lambda branch: len(branch[0]), reverse=True)
            parts = self._partition(ahead, [branch[0] for branch in branches])
            snapshot = _Snapshot(state, len(branches))
            for (branch_shots, transform), waiting in zip(branches[:-1], parts[:-1], strict=True):
                stack.append(_Pending(snapshot, branch_shots, pc, transform, waiting))
            self._check_memory(stack)
            state = snapshot.take()
            shots, transform = branches[-1]
            part = parts[-1]
        if transform is not None:
            transform(state)
        return state, shots, part

    def _holds_for(self, shots: IntArray) -> Callable[[tuple[str, str]], bool]:
        first = int(shots[0])  # after a _SplitOnFeedback every group agrees on the bit
        feedback = self.feedback
        return lambda condition: bool(feedback[condition][first])

    def _partition(self, ahead: IntArray, groups: list[IntArray]) -> list[IntArray]:
        """Split a group's pending events among its branches (by shot)."""
        if len(ahead) == 0:
            return [_NO_EVENTS] * len(groups)
        label = self._label
        for number, group in enumerate(groups):
            label[group] = number
        owner = label[self.events.shot[ahead]]
        return [ahead[owner == number] for number in range(len(groups))]

    def _event_branches(
        self, step: _AnyStep, state: StateVector, shots: IntArray, here: IntArray
    ) -> list[tuple[IntArray, Transform | None]] | None:
        """Apply a noise step where some shots of the group have an event."""
        condition = getattr(step, "condition", None)
        if condition is not None and not self._holds(condition, shots):
            return None
        hit = self.events.shot[here]
        kinds = self.events.kind[here]
        if isinstance(step, _Damp):
            axis, damping = step.axis, step.damping
            excited = state.excited_probability(axis)
            jumpers = hit[self.rng.random(len(hit)) < excited]

            def no_jump(s: _State) -> None:
                assert isinstance(s, StateVector)
                s.damp_no_jump(axis, damping)

            def jump(s: _State) -> None:
                assert isinstance(s, StateVector)
                s.damp_jump(axis)

            if len(jumpers) == 0:
                no_jump(state)
                return None
            if len(jumpers) == len(shots):
                jump(state)
                return None
            rest = shots[np.isin(shots, jumpers, assume_unique=True, invert=True)]
            return [(rest, no_jump), (jumpers, jump)]
        axes = [step.axis] if isinstance(step, _Dephase) else list(step.axes)  # type: ignore[union-attr]
        branches: list[tuple[IntArray, Transform | None]] = []
        if len(hit) < len(shots):
            branches.append((shots[np.isin(shots, hit, assume_unique=True, invert=True)], None))
        for kind in np.unique(kinds):
            members = hit[kinds == kind]
            digits = [(int(kind) >> (2 * (len(axes) - 1 - i))) & 3 for i in range(len(axes))]

            def apply(s: _State, digits: list[int] = digits) -> None:
                assert isinstance(s, StateVector)
                for axis, pauli in zip(axes, digits, strict=True):
                    s.apply_pauli(axis, pauli)

            branches.append((members, apply))
        if len(branches) == 1:
            branches[0][1](state)  # type: ignore[misc]
            return None
        return branches

    def _check_memory(self, stack: list[_Pending]) -> None:
        """Refuse to copy a state when the states alive would exceed the memory limit."""
        state_bytes = 16 << (len(self.program.components) * (2 if self.use_density_matrix else 1))
        # the waiting snapshots, the running state, its new copy and the spare buffer
        alive = len({id(pending.snapshot) for pending in stack}) + 3
        if alive * state_bytes > self.memory_limit:
            raise TooLargeError(
                f"Simulating this circuit needs {alive} copies of a "
                f"{state_bytes / 2**20:.0f} MiB state at once (noise or mid-circuit measurements "
                f"split the shots into many histories), more than the "
                f"{self.memory_limit / 2**30:.1f} GiB the emulator allows. Use fewer qubits, "
                "fewer shots or fewer mid-circuit measurements."
            )

    # One step for one group; returns None when applied in place, else the branches.
    def _step(
        self, step: _AnyStep, state: _State, shots: IntArray
    ) -> list[tuple[IntArray, Transform | None]] | None:
        if isinstance(step, _Unitary1):
            if self._holds(step.condition, shots):
                state.apply_1q(step.axis, step.matrix)
            return None
        if isinstance(step, _CZ):
            state.apply_cz(step.a, step.b)
            return None
        if isinstance(step, _Move):
            state.apply_move(step.qubit, step.resonator)
            return None
        if isinstance(step, _Grow):
            state.grow(step.n)
            return None
        if isinstance(step, _SplitOnFeedback):
            bits = self.feedback[step.condition][shots]
            ones = bits.astype(bool)
            if ones.all() or not ones.any():
                return None
            return [(shots[~ones], None), (shots[ones], None)]
        if isinstance(step, _Measure):
            return self._measure(step, state, shots)
        if isinstance(state, DensityMatrix):
            return self._channel(step, state, shots)
        # Noise steps of state-vector runs are handled as presampled events (_event_branches).
        assert isinstance(state, StateVector)
        return self._reset_branches(step, state, shots)

    def _holds(self, condition: Condition, shots: IntArray) -> bool:
        # After a _SplitOnFeedback every group agrees on the bit, so one shot decides.
        return condition is None or bool(self.feedback[condition][shots[0]])

    def _channel(
        self, step: _AnyStep, state: DensityMatrix, shots: IntArray
    ) -> list[tuple[IntArray, Transform | None]] | None:
        if isinstance(step, _Damp):
            if self._holds(step.condition, shots):
                state.amplitude_damp(step.axis, step.damping)
        elif isinstance(step, _Dephase):
            if self._holds(step.condition, shots):
                state.dephase(step.axis, step.probability)
        elif isinstance(step, _Depolarize):
            if self._holds(step.condition, shots):
                state.depolarize(step.axes, step.p)
        elif isinstance(step, _Reset):
            state.reset_to_zero(step.axis)
        return None

    def _reset_branches(
        self, step: _AnyStep, state: StateVector, shots: IntArray
    ) -> list[tuple[IntArray, Transform | None]] | None:
        """A reset on a pure state: measure (unrecorded), then flip the ones back to 0."""
        count = len(shots)
        if isinstance(step, _Reset):
            probability_one = state.excited_probability(step.axis)
            ones = self.rng.random(count) < probability_one
            axis = step.axis

            def to_zero(s: _State) -> None:
                s.project((axis,), (0,))

            def from_one(s: _State) -> None:
                s.project((axis,), (1,))
                s.apply_1q(axis, _X)

            if not ones.any():
                to_zero(state)
                return None
            if ones.all():
                from_one(state)
                return None
            return [(shots[~ones], to_zero), (shots[ones], from_one)]
        raise AssertionError(f"unexpected step {step!r}")

    def _record(self, step: _Measure, shots: IntArray, outcomes: IntArray) -> None:
        bits = _index_bits(outcomes, len(step.axes))
        read = _readout(bits, step.p1_given_0, step.p0_given_1, self.rng)
        self.records[step.key][shots] = read
        if step.feedback_key is not None:
            for column, qubit in enumerate(step.qubits):
                self.feedback[(step.feedback_key, qubit)][shots] = read[:, column]

    def _measure(
        self, step: _Measure, state: _State, shots: IntArray
    ) -> list[tuple[IntArray, Transform | None]]:
        probabilities = state.probabilities(step.axes)
        outcomes = _sample_indices(probabilities, len(shots), self.rng)
        self._record(step, shots, outcomes)
        branches: list[tuple[IntArray, Transform | None]] = []
        width = len(step.axes)
        for outcome in np.unique(outcomes):
            bits = tuple(int(b) for b in _index_bits(np.array([outcome]), width)[0])

            def project(s: _State, bits: tuple[int, ...] = bits) -> None:
                s.project(step.axes, bits)

            branches.append((shots[outcomes == outcome], project))
        return branches

    def _finish(self, state: _State, shots: IntArray) -> None:
        terminal = self.program.terminal
        if not terminal:
            return
        axes = [axis for measure in terminal for axis in measure.axes]
        bits = _sample_bits(state, axes, len(shots), self.rng)
        column = 0
        for measure in terminal:
            width = len(measure.axes)
            true_bits = np.ascontiguousarray(bits[:, column : column + width])
            column += width
            self.records[measure.key][shots] = _readout(
                true_bits, measure.p1_given_0, measure.p0_given_1, self.rng
            )


# Cost model of the two methods (seconds, measured on a 2-core VM): Python work per step per
# shot group, state-vector work per amplitude per gate (after fusion), density-matrix work per
# matrix element per gate.
_SECONDS_PER_STEP = 5e-6
_SECONDS_PER_AMPLITUDE = 1.5e-9
_SECONDS_PER_ELEMENT = 3e-9


def _density_matrix_is_cheaper(program: _Program, shots: int) -> bool:
    """Whether the density matrix is expected to beat trajectories for this noisy circuit.

    Trajectories simulate one state per distinct noise history: about
    shots·(1 − e^(−E)) histories for E expected noise events per shot, each running half the
    circuit on average. The density matrix runs the circuit once on 4ⁿ elements.
    """
    n = len(program.components)
    if not program.has_gate_noise or n > DENSITY_MATRIX_MAX_COMPONENTS:
        return False
    events = 0.0
    gates = 0
    for step in program.steps:
        if isinstance(step, _Damp):
            events += step.damping / 2.0  # a jump needs the excited state; assume half
        elif isinstance(step, _Dephase):
            events += 0.0 if step.axis in step.z_hidden else step.probability
        elif isinstance(step, _Depolarize):
            paulis = 4 ** len(step.axes)
            events += step.p * (paulis - 1) / paulis
        else:
            gates += 1
    histories = 1.0 + shots * -math.expm1(-events)
    run = len(program.steps) * _SECONDS_PER_STEP + gates * (1 << n) * _SECONDS_PER_AMPLITUDE
    trajectories = (1.0 + histories / 2.0) * run
    density_matrix = gates * (1 << (2 * n)) * _SECONDS_PER_ELEMENT
    return density_matrix < trajectories


def _heralded_shots(
    components: tuple[str, ...], shots: int, noise: NoiseModel | None, rng: np.random.Generator
) -> int:
    """Number of shots whose heralding readout of every component gave 0."""
    if noise is None or shots == 0:
        return shots
    p1_given_0 = np.array([noise.readout(component)[0] for component in components])
    if not p1_given_0.any():
        return shots
    false_ones = rng.random((shots, len(components))) < p1_given_0[None, :]
    return int(np.count_nonzero(~false_ones.any(axis=1)))


def simulate(
    circuit: Sequence[Operation],
    shots: int,
    *,
    noise: NoiseModel | None,
    rng: np.random.Generator,
    heralding_zeros: bool = False,
    max_active_qubits: int = 24,
    method: Method = "auto",
    max_memory_bytes: int = 2 << 30,
) -> SimulationResult:
    """Run a native circuit for ``shots`` shots.

    :param circuit: operations on physical component names (angles in radians).
    :param shots: number of shots (≥ 0).
    :param noise: the device's noise, or None for an ideal device.
    :param rng: source of randomness; the same seed gives the same result.
    :param heralding_zeros: drop the shots whose heralding readout (before the circuit, of every
        component the circuit uses) reads any 1; with readout noise fewer shots come back.
    :param max_active_qubits: refuse circuits acting on more components than this.
    :param method: ``auto`` (state vector, or the density matrix for a noisy circuit on few
        components where that is expected to be faster), or force ``statevector`` or
        ``density_matrix``.
    :param max_memory_bytes: refuse (with :class:`TooLargeError`) to hold more quantum states
        at once than fit in this many bytes.
    :return: the recorded bits per measurement key.
    :raises TooLargeError: if the circuit acts on more than ``max_active_qubits`` components
        (or, forced to the density matrix, more than :data:`DENSITY_MATRIX_HARD_LIMIT`), or the
        states alive at once would exceed ``max_memory_bytes``.
    :raises SimulationError: if the circuit is malformed (unknown operation, wrong arity,
        repeated measurement key, ``cc_prx`` without an earlier measurement storing its
        feedback) or ``shots`` is negative.
    """
    if shots < 0:
        raise SimulationError(f"shots must be a non-negative number, got {shots}.")
    program = _compile(circuit, noise)
    active = len(program.components)
    if active > max_active_qubits:
        raise TooLargeError(
            f"The circuit acts on {active} qubits and resonators, but the emulator simulates at "
            f"most {max_active_qubits} at once. Use fewer qubits."
        )
    if method == "auto":
        use_density_matrix = _density_matrix_is_cheaper(program, shots)
    elif method in ("statevector", "density_matrix"):
        use_density_matrix = method == "density_matrix"
    else:
        raise SimulationError(
            f"Unknown simulation method '{method}'; use 'auto', 'statevector' or 'density_matrix'."
        )
    if use_density_matrix and active > DENSITY_MATRIX_HARD_LIMIT:
        raise TooLargeError(
            f"The density-matrix method handles at most {DENSITY_MATRIX_HARD_LIMIT} qubits and "
            f"resonators, but the circuit acts on {active}. Use the state-vector method."
        )
    kept = _heralded_shots(program.components, shots, noise, rng) if heralding_zeros else shots
    executor = _Executor(program, kept, rng, use_density_matrix, max_memory_bytes)
    executor.run()
    return SimulationResult(
        executor.records, kept, "density_matrix" if use_density_matrix else "statevector"
    )


def final_state(circuit: Sequence[Operation]) -> tuple[tuple[str, ...], ComplexArray]:
    """The state vector after a noiseless circuit without measurements, feedback or reset.

    :param circuit: gates on physical component names.
    :return: the components in axis order (order of first use in the execution order of
        :func:`_late_first_use`; the first is the most significant bit of the index) and the
        2**n amplitudes.
    :raises SimulationError: if the circuit measures, resets, uses feedback or is malformed.
    :raises TooLargeError: if it acts on more than 24 components.
    """
    if any(op.name in ("measure", "reset", "cc_prx") for op in circuit):
        raise SimulationError("final_state needs a circuit without measure, reset and cc_prx.")
    program = _compile(circuit, None)
    if len(program.components) > 24:
        raise TooLargeError(
            f"final_state handles at most 24 components, the circuit acts on "
            f"{len(program.components)}."
        )
    state = StateVector(0)
    executor = _Executor(program, 1, np.random.default_rng(0), False)
    for step in program.steps:
        executor._step(step, state, np.zeros(1, dtype=np.int64))
    state.flush()
    return program.components, state.data


def exact_distribution(circuit: Sequence[Operation], noise: NoiseModel | None = None) -> FloatArray:
    """The exact joint distribution of every recorded bit, readout confusion included.

    Only for circuits whose measurements all come at the end (no ``cc_prx``, no ``reset``, nothing
    acting on a qubit after its measurement). Bits are ordered as the ``measure`` operations and
    their qubits appear; the first bit is the most significant bit of the outcome index.

    :param circuit: operations on physical component names.
    :param noise: the device's noise, or None.
    :return: flat array of 2**(number of measured qubits) probabilities.
    :raises SimulationError: if the circuit has mid-circuit measurements, ``reset`` or
        ``cc_prx``, or is malformed.
    :raises TooLargeError: if it acts on more than :data:`DENSITY_MATRIX_HARD_LIMIT` components
        with gate noise, or more than 24 without.
    """
    program = _compile(circuit, noise)
    if any(isinstance(step, _Measure | _Reset | _SplitOnFeedback) for step in program.steps):
        raise SimulationError(
            "exact_distribution needs all measurements at the end and no reset or cc_prx."
        )
    active = len(program.components)
    limit = DENSITY_MATRIX_HARD_LIMIT if program.has_gate_noise else 24
    if active > limit:
        raise TooLargeError(
            f"exact_distribution handles at most {limit} qubits and resonators here, but the "
            f"circuit acts on {active}."
        )
    state: _State = DensityMatrix(0) if program.has_gate_noise else StateVector(0)
    executor = _Executor(program, 1, np.random.default_rng(0), program.has_gate_noise)
    for step in program.steps:
        executor._step(step, state, np.zeros(1, dtype=np.int64))
    axes = [axis for measure in program.terminal for axis in measure.axes]
    if not axes:
        return np.ones(1)
    distribution = state.probabilities(axes).reshape((2,) * len(axes))
    p1_given_0 = np.concatenate([measure.p1_given_0 for measure in program.terminal])
    p0_given_1 = np.concatenate([measure.p0_given_1 for measure in program.terminal])
    for position, (e0, e1) in enumerate(zip(p1_given_0, p0_given_1, strict=True)):
        confusion = np.array([[1.0 - e0, e1], [e0, 1.0 - e1]])  # [read, true]
        distribution = np.moveaxis(
            np.tensordot(confusion, distribution, axes=([1], [position])), 0, position
        )
    flat: FloatArray = np.ascontiguousarray(distribution).reshape(-1)
    return flat


__all__ = [
    "DENSITY_MATRIX_HARD_LIMIT",
    "DENSITY_MATRIX_MAX_COMPONENTS",
    "SimulationError",
    "SimulationResult",
    "TooLargeError",
    "exact_distribution",
    "final_state",
    "prx_matrix",
    "simulate",
]
