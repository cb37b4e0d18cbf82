"""Running a compiled program for many shots: groups of shots that share one state.

A group splits where its shots' histories differ (a mid-circuit measurement, a ``cc_prx``, a
``reset`` and, in the state-vector method, a noise event drawn beforehand, see
:class:`NoiseEvents`); groups are explored depth first, smallest branch first. The same executor
drives both methods through the :class:`SimulatedState` protocol."""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pytket.extensions.iqm.emulator.simulation.methods.density_matrix import DensityMatrix
from pytket.extensions.iqm.emulator.simulation.methods.mps import MatrixProductState
from pytket.extensions.iqm.emulator.simulation.methods.statevector import (
    ComplexArray,
    StateVector,
    Workspace,
)
from pytket.extensions.iqm.emulator.simulation.quantum_state import SimulatedState
from pytket.extensions.iqm.emulator.simulation.result import (
    BitArray,
    IntArray,
    SimulationCancelledError,
    TooLargeError,
)
from pytket.extensions.iqm.emulator.simulation.sampling import (
    apply_readout_errors,
    choose_positions,
    index_bits,
    sample_bits,
    sample_indices,
)
from pytket.extensions.iqm.emulator.simulation.steps import (
    CZ,
    AnyStep,
    Condition,
    Damp,
    Dephase,
    Depolarize,
    Grow,
    Measure,
    Move,
    PauliChannel,
    Program,
    Reset,
    ResetError,
    SplitOnFeedback,
    Unitary1,
    first_partners,
)

#: A matrix-product-state run fails (:class:`TruncationLimitError`) once a trajectory has
#: discarded more than this relative weight. For a normalised state ‖ψ − ψ̃‖² ≤ 2·(discarded
#: weight), so the trace distance to the exact state, which bounds the total-variation distance
#: of any measured distribution, stays below √(2·0.001) ≈ 0.045.
MPS_MAX_DISCARDED_WEIGHT = 1e-3

Transform = Callable[[SimulatedState], None]


@dataclass
class _Snapshot:
    """A state shared by several pending branches; the last one takes it without copying."""

    state: SimulatedState
    users: int

    def take(self) -> SimulatedState:
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
    """State-vector runs: this group's presampled noise events still ahead (see NoiseEvents)."""


_NO_EVENTS: IntArray = np.zeros(0, dtype=np.int64)
# Codes of the event-free effect of a step (see Executor._plain_effects).
_PLAIN_1Q, _PLAIN_CZ, _PLAIN_MOVE, _PLAIN_GROW = 0, 1, 2, 3
_PlainEffect = tuple[int, int, int, ComplexArray | None, Condition]
"""(code, axis or first axis, second axis, matrix, condition) of an event-free step."""
_DAMP_CANDIDATE = -1
_RESET_EVENT = -2
_Z_ERROR = 3


@dataclass(frozen=True)
class NoiseEvents:
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


def _reset_transforms(
    axis: int,
) -> tuple[Callable[[SimulatedState], None], Callable[[SimulatedState], None]]:
    """What a reset does to a pure state after its (unrecorded) outcome 0, and after 1."""

    def to_zero(s: SimulatedState) -> None:
        s.project((axis,), (0,))

    def from_one(s: SimulatedState) -> None:
        s.project((axis,), (1,))
        s.apply_1q(axis, _X)

    return to_zero, from_one


class Executor:
    """Runs a compiled program for a set of shots, splitting groups where histories differ."""

    def __init__(
        self,
        program: Program,
        shots: int,
        rng: np.random.Generator,
        use_density_matrix: bool,
        *,
        memory_limit: int = 2 << 30,
        cancelled: Callable[[], bool] | None = None,
        max_bond: int | None = None,
    ) -> None:
        """``max_bond``: run trajectories on matrix-product states with this bond cap (and
        :data:`MPS_MAX_DISCARDED_WEIGHT`) instead of state vectors."""
        self.program = program
        self.cancelled = cancelled
        self.max_bond = max_bond
        self.discarded = 0.0
        """Largest discarded weight of a finished MPS trajectory."""
        self.largest_bond = 0
        """Largest bond dimension an MPS trajectory reached."""
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

    def _new_state(self) -> SimulatedState:
        # Start with no component; Grow steps add them as the circuit reaches them.
        if self.use_density_matrix:
            return DensityMatrix(0, self.workspace)
        if self.max_bond is not None:
            return MatrixProductState(
                0, self.max_bond, MPS_MAX_DISCARDED_WEIGHT, first_partners(self.program)
            )
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
                self._stop_if_cancelled()
                branches = self._step(steps[pc], state, shots)
                pc += 1
                if branches:
                    state, shots, _ = self._follow(state, branches, pc, stack, _NO_EVENTS)
            self._finish(state, shots)

    # -- state-vector runs: presampled events, event-free segments applied without sampling -----

    def _presample(self) -> NoiseEvents:
        """Draw every state-independent noise event of every shot."""
        rng = self.rng
        shots = self.shots
        steps_out: list[IntArray] = []
        shots_out: list[IntArray] = []
        kinds_out: list[IntArray] = []
        for index, step in enumerate(self.program.steps):
            if isinstance(step, Damp):
                count = int(rng.binomial(shots, step.damping))
                kinds = np.full(count, _DAMP_CANDIDATE, dtype=np.int64)
            elif isinstance(step, Dephase):
                if step.axis in step.z_hidden:
                    continue
                count = int(rng.binomial(shots, step.probability))
                kinds = np.full(count, _Z_ERROR, dtype=np.int64)
            elif isinstance(step, ResetError):
                count = int(rng.binomial(shots, step.probability))
                kinds = np.full(count, _RESET_EVENT, dtype=np.int64)
            elif isinstance(step, PauliChannel):
                total = sum(step.probabilities)
                count = int(rng.binomial(shots, total))
                kinds = rng.choice(3, size=count, p=np.array(step.probabilities) / total) + 1
                if step.axis in step.z_hidden:
                    kinds = kinds - (kinds >= 2) * 2  # Z→I, Y→X (up to phase)
            elif isinstance(step, Depolarize):
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
            chosen = choose_positions(count, shots, rng)
            keep = kinds != 0
            steps_out.append(np.full(int(keep.sum()), index, dtype=np.int64))
            shots_out.append(chosen[keep])
            kinds_out.append(kinds[keep].astype(np.int64))
        if not steps_out:
            return NoiseEvents(_NO_EVENTS, _NO_EVENTS, _NO_EVENTS)
        return NoiseEvents(
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
            if isinstance(step, Unitary1):
                effect = (_PLAIN_1Q, step.axis, 0, step.matrix, step.condition)
            elif isinstance(step, Damp):
                effect = (_PLAIN_1Q, step.axis, 0, _no_jump(step.damping), step.condition)
            elif isinstance(step, CZ):
                effect = (_PLAIN_CZ, step.a, step.b, None, None)
            elif isinstance(step, Move):
                effect = (_PLAIN_MOVE, step.qubit, step.resonator, None, None)
            elif isinstance(step, Grow):
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
            special = isinstance(steps[index], Measure | Reset | SplitOnFeedback)
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
                self._stop_if_cancelled()
                next_event = int(events.step[ahead[0]]) if len(ahead) else total
                stop = min(next_event, int(next_special[pc]))
                if stop > pc:
                    first = bisect.bisect_left(plain_indices, pc)
                    last = bisect.bisect_left(plain_indices, stop)
                    holds = self._holds_for(shots)
                    position = first
                    while position < last:
                        self._stop_if_cancelled()
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
                    assert isinstance(state, StateVector | MatrixProductState)
                    branches = self._event_branches(steps[pc], state, shots, ahead[:here])
                    ahead = ahead[here:]
                else:
                    branches = self._step(steps[pc], state, shots)
                pc += 1
                if branches:
                    state, shots, ahead = self._follow(state, branches, pc, stack, ahead)
            self._finish(state, shots)

    def _stop_if_cancelled(self) -> None:
        """Checked between gates: the longest a cancelled run goes on is one gate."""
        if self.cancelled is not None and self.cancelled():
            raise SimulationCancelledError("The simulation was cancelled.")

    def _resume(self, pending: _Pending, stack: list[_Pending]) -> SimulatedState:
        """The state a waiting group of shots resumes from (its branch's transform applied)."""
        if pending.snapshot.users > 1:
            self._check_memory(stack)
        state = pending.snapshot.take()
        if pending.transform is not None:
            pending.transform(state)
        return state

    def _follow(
        self,
        state: SimulatedState,
        branches: list[tuple[IntArray, Transform | None]],
        pc: int,
        stack: list[_Pending],
        ahead: IntArray,
    ) -> tuple[SimulatedState, IntArray, IntArray]:
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
        first = int(shots[0])  # after a SplitOnFeedback every group agrees on the bit
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
        self,
        step: AnyStep,
        state: StateVector | MatrixProductState,
        shots: IntArray,
        here: IntArray,
    ) -> list[tuple[IntArray, Transform | None]] | None:
        """Apply a noise step where some shots of the group have an event."""
        condition = getattr(step, "condition", None)
        if condition is not None and not self._holds(condition, shots):
            return None
        hit = self.events.shot[here]
        kinds = self.events.kind[here]
        if isinstance(step, ResetError):
            to_zero, from_one = _reset_transforms(step.axis)
            ones = self.rng.random(len(hit)) < state.excited_probability(step.axis)
            untouched = shots[np.isin(shots, hit, assume_unique=True, invert=True)]
            candidates: list[tuple[IntArray, Transform | None]] = [
                (untouched, None),
                (hit[~ones], to_zero),
                (hit[ones], from_one),
            ]
            reset = [branch for branch in candidates if len(branch[0])]
            if len(reset) == 1:
                if reset[0][1] is not None:
                    reset[0][1](state)
                return None
            return reset
        if isinstance(step, Damp):
            axis, damping = step.axis, step.damping
            excited = state.excited_probability(axis)
            jumpers = hit[self.rng.random(len(hit)) < excited]

            def no_jump(s: SimulatedState) -> None:
                assert isinstance(s, StateVector | MatrixProductState)
                s.damp_no_jump(axis, damping)

            def jump(s: SimulatedState) -> None:
                assert isinstance(s, StateVector | MatrixProductState)
                s.damp_jump(axis)

            if len(jumpers) == 0:
                no_jump(state)
                return None
            if len(jumpers) == len(shots):
                jump(state)
                return None
            rest = shots[np.isin(shots, jumpers, assume_unique=True, invert=True)]
            return [(rest, no_jump), (jumpers, jump)]
        axes = [step.axis] if isinstance(step, Dephase | PauliChannel) else list(step.axes)  # type: ignore[union-attr]
        branches: list[tuple[IntArray, Transform | None]] = []
        if len(hit) < len(shots):
            branches.append((shots[np.isin(shots, hit, assume_unique=True, invert=True)], None))
        for kind in np.unique(kinds):
            members = hit[kinds == kind]
            digits = [(int(kind) >> (2 * (len(axes) - 1 - i))) & 3 for i in range(len(axes))]

            def apply(s: SimulatedState, digits: list[int] = digits) -> None:
                assert isinstance(s, StateVector | MatrixProductState)
                for axis, pauli in zip(axes, digits, strict=True):
                    s.apply_pauli(axis, pauli)

            branches.append((members, apply))
        if len(branches) == 1:
            branches[0][1](state)  # type: ignore[misc]
            return None
        return branches

    def _check_memory(self, stack: list[_Pending]) -> None:
        """Refuse to copy a state when the states alive would exceed the memory limit."""
        n = len(self.program.components)
        if self.max_bond is not None:
            state_bytes = MatrixProductState.bytes_bound(n, self.max_bond)
        else:
            state_bytes = 16 << (n * (2 if self.use_density_matrix else 1))
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
        self, step: AnyStep, state: SimulatedState, shots: IntArray
    ) -> list[tuple[IntArray, Transform | None]] | None:
        if isinstance(step, Unitary1):
            if self._holds(step.condition, shots):
                state.apply_1q(step.axis, step.matrix)
            return None
        if isinstance(step, CZ):
            state.apply_cz(step.a, step.b)
            return None
        if isinstance(step, Move):
            state.apply_move(step.qubit, step.resonator)
            return None
        if isinstance(step, Grow):
            state.grow(step.n)
            return None
        if isinstance(step, SplitOnFeedback):
            bits = self.feedback[step.condition][shots]
            ones = bits.astype(bool)
            if ones.all() or not ones.any():
                return None
            return [(shots[~ones], None), (shots[ones], None)]
        if isinstance(step, Measure):
            return self._measure(step, state, shots)
        if isinstance(state, DensityMatrix):
            return self._channel(step, state, shots)
        # Noise steps of state-vector runs are handled as presampled events (_event_branches).
        assert isinstance(state, StateVector | MatrixProductState)
        return self._reset_branches(step, state, shots)

    def _holds(self, condition: Condition, shots: IntArray) -> bool:
        # After a SplitOnFeedback every group agrees on the bit, so one shot decides.
        return condition is None or bool(self.feedback[condition][shots[0]])

    def _channel(
        self, step: AnyStep, state: DensityMatrix, shots: IntArray
    ) -> list[tuple[IntArray, Transform | None]] | None:
        if isinstance(step, Damp):
            if self._holds(step.condition, shots):
                state.amplitude_damp(step.axis, step.damping)
        elif isinstance(step, Dephase):
            if self._holds(step.condition, shots):
                state.dephase(step.axis, step.probability)
        elif isinstance(step, PauliChannel):
            if self._holds(step.condition, shots):
                state.pauli_channel(step.axis, step.probabilities)
        elif isinstance(step, Depolarize):
            if self._holds(step.condition, shots):
                state.depolarize(step.axes, step.p)
        elif isinstance(step, Reset):
            state.reset_to_zero(step.axis)
        return None

    def _reset_branches(
        self, step: AnyStep, state: StateVector | MatrixProductState, shots: IntArray
    ) -> list[tuple[IntArray, Transform | None]] | None:
        """A reset on a pure state: measure (unrecorded), then flip the ones back to 0."""
        count = len(shots)
        if isinstance(step, Reset):
            probability_one = state.excited_probability(step.axis)
            ones = self.rng.random(count) < probability_one
            to_zero, from_one = _reset_transforms(step.axis)
            if not ones.any():
                to_zero(state)
                return None
            if ones.all():
                from_one(state)
                return None
            return [(shots[~ones], to_zero), (shots[ones], from_one)]
        raise AssertionError(f"unexpected step {step!r}")

    def _record(self, step: Measure, shots: IntArray, outcomes: IntArray) -> None:
        bits = index_bits(outcomes, len(step.axes))
        read = apply_readout_errors(bits, step.p1_given_0, step.p0_given_1, self.rng)
        self.records[step.key][shots] = read
        if step.feedback_key is not None:
            for column, qubit in enumerate(step.qubits):
                self.feedback[(step.feedback_key, qubit)][shots] = read[:, column]

    def _measure(
        self, step: Measure, state: SimulatedState, shots: IntArray
    ) -> list[tuple[IntArray, Transform | None]]:
        if isinstance(state, MatrixProductState):
            weights = 1 << np.arange(len(step.axes) - 1, -1, -1, dtype=np.int64)
            drawn = state.sample_bits(step.axes, len(shots), self.rng)
            outcomes: IntArray = drawn.astype(np.int64) @ weights
        else:
            probabilities = state.probabilities(step.axes)
            outcomes = sample_indices(probabilities, len(shots), self.rng)
        self._record(step, shots, outcomes)
        branches: list[tuple[IntArray, Transform | None]] = []
        width = len(step.axes)
        for outcome in np.unique(outcomes):
            bits = tuple(int(b) for b in index_bits(np.array([outcome]), width)[0])

            def project(s: SimulatedState, bits: tuple[int, ...] = bits) -> None:
                s.project(step.axes, bits)

            branches.append((shots[outcomes == outcome], project))
        return branches

    def _finish(self, state: SimulatedState, shots: IntArray) -> None:
        if isinstance(state, MatrixProductState):
            self.discarded = max(self.discarded, state.discarded)
            self.largest_bond = max(self.largest_bond, state.largest_bond)
        terminal = self.program.terminal
        if not terminal:
            return
        axes = [axis for measure in terminal for axis in measure.axes]
        if isinstance(state, StateVector):
            # The state's pending single-qubit windows, applied one at a time: all at once they
            # take most of a second on 24 qubits, too long to stay deaf to an abort.
            for axis in list(state.windows):
                self._stop_if_cancelled()
                state.flush([axis])
        self._stop_if_cancelled()
        if isinstance(state, MatrixProductState):
            bits = state.sample_bits(axes, len(shots), self.rng)
        else:
            bits = sample_bits(state, axes, len(shots), self.rng)
        column = 0
        for measure in terminal:
            width = len(measure.axes)
            true_bits = np.ascontiguousarray(bits[:, column : column + width])
            column += width
            self.records[measure.key][shots] = apply_readout_errors(
                true_bits, measure.p1_given_0, measure.p0_given_1, self.rng
            )
