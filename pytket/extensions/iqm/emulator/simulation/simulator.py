"""Shot simulation of native IQM circuits (physical component names, radians).

:func:`simulate` runs a circuit for a number of shots and returns what every ``measure`` recorded.
Only the components the circuit acts on are simulated.

How it works: the circuit is compiled into a list of steps on the active components (gates and
noise channels), in an equivalent order that reaches components as late as possible
(:func:`late_first_use`); the state starts with no component and grows as steps reach new ones.
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
  the run (:class:`NoiseEvents`), groups run the event-free circuit between events without drawing
  anything, and a candidate jump becomes a jump with the excited population at that point.
* ``density_matrix``: exact, cost independent of shots. ``auto`` picks it for noisy circuits on
  at most :data:`DENSITY_MATRIX_MAX_COMPONENTS` components when a simple cost model
  (:func:`_density_matrix_is_cheaper`) expects it to be faster than trajectories, e.g. for deep
  circuits on few qubits or many shots.
* ``stabilizer``: Clifford circuits without gate noise or with Pauli noise only, and without
  ``cc_prx``, sampled all at once by stim (:mod:`.stabilizer`); exact. ``auto`` prefers it.
* ``mps``: the state-vector trajectories on a matrix-product state (:mod:`.mps`), for circuits
  beyond :data:`EXACT_MAX_COMPONENTS`; relaxation is unravelled without a non-unitary no-jump
  factor (see :func:`.steps.compile_program`), and a trajectory that discards more than
  :data:`.executor.MPS_MAX_DISCARDED_WEIGHT` fails the run (:class:`.result.TruncationError`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from pytket.extensions.iqm.emulator.devices.noise import NoiseModel
from pytket.extensions.iqm.emulator.limits import (
    DEFAULT_MAX_ACTIVE_QUBITS,
    EXACT_MAX_COMPONENTS,
)
from pytket.extensions.iqm.emulator.simulation.executor import (
    MPS_MAX_DISCARDED_WEIGHT,
    Executor,
)
from pytket.extensions.iqm.emulator.simulation.methods.density_matrix import DensityMatrix
from pytket.extensions.iqm.emulator.simulation.methods.mps import (
    DEFAULT_MAX_BOND,
    MatrixProductState,
    TruncationLimitError,
)
from pytket.extensions.iqm.emulator.simulation.methods.stabilizer import (
    NotCliffordError,
    StabilizerCircuit,
)
from pytket.extensions.iqm.emulator.simulation.methods.statevector import (
    ComplexArray,
    FloatArray,
    StateVector,
)
from pytket.extensions.iqm.emulator.simulation.program import Operation
from pytket.extensions.iqm.emulator.simulation.quantum_state import SimulatedState
from pytket.extensions.iqm.emulator.simulation.result import (
    BitArray,
    SimulationCancelledError,
    SimulationError,
    SimulationResult,
    TooLargeError,
    TruncationError,
)
from pytket.extensions.iqm.emulator.simulation.sampling import apply_readout_errors
from pytket.extensions.iqm.emulator.simulation.steps import (
    CZ,
    Damp,
    Dephase,
    Depolarize,
    Grow,
    Measure,
    Move,
    PauliChannel,
    Program,
    Reset,
    SplitOnFeedback,
    Unitary1,
    check_cancelled,
    compile_program,
    first_partners,
    prx_matrix,
)

Method = Literal["auto", "statevector", "density_matrix", "mps", "stabilizer"]
METHODS: tuple[Method, ...] = ("auto", "statevector", "density_matrix", "mps", "stabilizer")


#: ``auto`` considers the density matrix for noisy circuits on at most this many components.
DENSITY_MATRIX_MAX_COMPONENTS = 12
#: The density matrix refuses more components than this (4**13 amplitudes = 1 GiB).
DENSITY_MATRIX_HARD_LIMIT = 13


# Cost model of the two methods (seconds, measured on a 2-core VM): Python work per step per
# shot group, state-vector work per amplitude per gate (after fusion), density-matrix work per
# matrix element per gate.
_SECONDS_PER_STEP = 5e-6
_SECONDS_PER_AMPLITUDE = 1.5e-9
_SECONDS_PER_ELEMENT = 3e-9


def _density_matrix_is_cheaper(program: Program, shots: int) -> bool:
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
        if isinstance(step, Damp):
            events += step.damping / 2.0  # a jump needs the excited state; assume half
        elif isinstance(step, Dephase):
            events += 0.0 if step.axis in step.z_hidden else step.probability
        elif isinstance(step, PauliChannel):
            events += sum(step.probabilities)
        elif isinstance(step, Depolarize):
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


def _stabilizer_circuit(
    program: Program, cancelled: Callable[[], bool] | None
) -> tuple[StabilizerCircuit, dict[str, int]] | str:
    """The program as a stim circuit and each measurement key's first result column, or why
    the stabilizer method cannot run it."""
    circuit = StabilizerCircuit()
    columns: dict[str, int] = {}
    for index, step in enumerate(program.steps):
        check_cancelled(cancelled, index)
        if isinstance(step, Grow):
            continue
        if isinstance(step, SplitOnFeedback) or getattr(step, "condition", None) is not None:
            return "it uses cc_prx (classically controlled gates)"
        if isinstance(step, Unitary1):
            try:
                circuit.gate_1q(step.axis, step.matrix)
            except NotCliffordError:
                return "it has a prx whose angle or phase is not a multiple of π/2"
        elif isinstance(step, CZ):
            circuit.cz(step.a, step.b)
        elif isinstance(step, Move):
            circuit.swap(step.qubit, step.resonator)
        elif isinstance(step, Damp):
            return (
                "the noise model has amplitude damping, which is not Pauli noise (the 'pauli' "
                "noise model is its Pauli-twirled approximation)"
            )
        elif isinstance(step, Dephase):
            circuit.dephase(step.axis, step.probability)
        elif isinstance(step, PauliChannel):
            circuit.pauli_channel(step.axis, step.probabilities)
        elif isinstance(step, Depolarize):
            circuit.depolarize(step.axes, step.p)
        elif isinstance(step, Measure):
            columns[step.key] = circuit.measure(step.axes)
        elif isinstance(step, Reset):
            circuit.reset(step.axis)
    for measure in program.terminal:
        columns[measure.key] = circuit.measure(measure.axes)
    return circuit, columns


def _run_stabilizer(
    program: Program,
    circuit: StabilizerCircuit,
    columns: dict[str, int],
    shots: int,
    rng: np.random.Generator,
    *,
    cancelled: Callable[[], bool] | None,
) -> dict[str, BitArray]:
    bits = circuit.sample(shots, rng, cancelled)
    measures = [s for s in program.steps if isinstance(s, Measure)] + program.terminal
    records: dict[str, BitArray] = {}
    for measure in measures:
        first = columns[measure.key]
        true_bits = np.ascontiguousarray(bits[:, first : first + len(measure.axes)])
        records[measure.key] = apply_readout_errors(
            true_bits, measure.p1_given_0, measure.p0_given_1, rng
        )
    return records


def _choose_method(
    program: Program,
    shots: int,
    method: Method,
    max_active_qubits: int,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[str, tuple[StabilizerCircuit, dict[str, int]] | None]:
    """The method to run (and the stim circuit when that is the stabilizer)."""
    if method not in METHODS:
        raise SimulationError(
            f"Unknown simulation method '{method}'; use one of {', '.join(METHODS)}."
        )
    active = len(program.components)
    if active > max_active_qubits:
        raise TooLargeError(
            f"The circuit acts on {active} qubits and resonators, but the emulator simulates at "
            f"most {max_active_qubits} at once. Use fewer qubits."
        )
    exact_limit = min(max_active_qubits, EXACT_MAX_COMPONENTS)
    if method in ("auto", "stabilizer"):
        built = _stabilizer_circuit(program, cancelled)
        if method == "stabilizer":
            if isinstance(built, str):
                raise SimulationError(
                    f"The stabilizer method cannot run this circuit: {built}. Use another method."
                )
            return "stabilizer", built
        # The stabilizer is exact too; with MOVE it drops MOVE's phase, which only cancels in
        # sandwiches, so the exact methods keep MOVE circuits they can hold.
        has_move = any(isinstance(step, Move) for step in program.steps)
        if not isinstance(built, str) and (active > exact_limit or not has_move):
            return "stabilizer", built
        if active > exact_limit:
            return "mps", None
        return (
            "density_matrix" if _density_matrix_is_cheaper(program, shots) else "statevector"
        ), None
    if method in ("statevector", "density_matrix") and active > exact_limit:
        raise TooLargeError(
            f"The circuit acts on {active} qubits and resonators, but the {method} method "
            f"simulates at most {exact_limit} at once. Use fewer qubits, or the 'auto' or "
            "'mps' method."
        )
    if method == "density_matrix" and active > DENSITY_MATRIX_HARD_LIMIT:
        raise TooLargeError(
            f"The density-matrix method handles at most {DENSITY_MATRIX_HARD_LIMIT} qubits and "
            f"resonators, but the circuit acts on {active}. Use the state-vector method."
        )
    return method, None


def simulate(
    circuit: Sequence[Operation],
    shots: int,
    *,
    noise: NoiseModel | None,
    rng: np.random.Generator,
    heralding_zeros: bool = False,
    max_active_qubits: int = DEFAULT_MAX_ACTIVE_QUBITS,
    method: Method = "auto",
    max_memory_bytes: int = 2 << 30,
    cancelled: Callable[[], bool] | None = None,
    max_bond: int = DEFAULT_MAX_BOND,
) -> SimulationResult:
    """Run a native circuit for ``shots`` shots.

    :param circuit: operations on physical component names (angles in radians).
    :param shots: number of shots (≥ 0).
    :param noise: the device's noise, or None for an ideal device.
    :param rng: source of randomness; the same seed gives the same result.
    :param heralding_zeros: drop the shots whose heralding readout (before the circuit, of every
        component the circuit uses) reads any 1; with readout noise fewer shots come back.
    :param max_active_qubits: refuse circuits acting on more components than this; the exact
        methods (state vector, density matrix) take at most :data:`EXACT_MAX_COMPONENTS`.
    :param method: ``auto`` picks the stabilizer for Clifford circuits with Pauli noise (or
        none), else the state vector (or the density matrix for a noisy circuit on few
        components where that is expected to be faster), else, beyond
        :data:`EXACT_MAX_COMPONENTS`, the matrix-product state. Or force one of
        ``statevector``, ``density_matrix``, ``mps``, ``stabilizer``.
    :param max_memory_bytes: refuse (with :class:`TooLargeError`) to hold more quantum states
        at once than fit in this many bytes.
    :param cancelled: checked between gates (between batches of shots on the stabilizer);
        when it returns ``True`` the run stops with :class:`SimulationCancelledError` (cheap:
        called once per gate).
    :param max_bond: bond-dimension cap of the matrix-product-state method.
    :return: the recorded bits per measurement key, the method used and its accuracy.
    :raises TooLargeError: if the circuit acts on more than ``max_active_qubits`` components,
        an exact method is forced on more than :data:`EXACT_MAX_COMPONENTS` (the density
        matrix on more than :data:`DENSITY_MATRIX_HARD_LIMIT`), or
        the states alive at once would exceed ``max_memory_bytes``.
    :raises TruncationError: if the matrix-product state would discard more weight than
        :data:`MPS_MAX_DISCARDED_WEIGHT`.
    :raises SimulationError: if the circuit is malformed (unknown operation, wrong arity,
        repeated measurement key, ``cc_prx`` without an earlier measurement storing its
        feedback), the stabilizer method is forced on a circuit it cannot run, or ``shots`` is
        negative.
    """
    if shots < 0:
        raise SimulationError(f"shots must be a non-negative number, got {shots}.")
    program = compile_program(circuit, noise, cancelled=cancelled)
    chosen, stabilizer = _choose_method(program, shots, method, max_active_qubits, cancelled)
    kept = _heralded_shots(program.components, shots, noise, rng) if heralding_zeros else shots
    if stabilizer is not None:
        records = _run_stabilizer(program, *stabilizer, kept, rng, cancelled=cancelled)
        return SimulationResult(records, kept, "stabilizer")
    mps = chosen == "mps"
    if mps and program.has_gate_noise:
        program = compile_program(circuit, noise, unitary_relaxation=True, cancelled=cancelled)
    executor = Executor(
        program,
        kept,
        rng,
        chosen == "density_matrix",
        memory_limit=max_memory_bytes,
        cancelled=cancelled,
        max_bond=max_bond if mps else None,
    )
    try:
        executor.run()
    except TruncationLimitError as error:
        raise TruncationError(
            f"The matrix-product-state simulation of this circuit would discard more than "
            f"{MPS_MAX_DISCARDED_WEIGHT:g} of the state's weight (bond dimension capped at "
            f"{error.max_bond}), so its results could be wrong by more than the emulator "
            "allows. Use fewer qubits, fewer or shallower layers of two-qubit gates, or a "
            "Clifford circuit (stabilizer method)."
        ) from None
    if not mps:
        return SimulationResult(executor.records, kept, chosen)
    return SimulationResult(
        executor.records, kept, chosen, executor.discarded, executor.largest_bond
    )


def final_state(
    circuit: Sequence[Operation], *, max_bond: int | None = None
) -> tuple[tuple[str, ...], ComplexArray]:
    """The state vector after a noiseless circuit without measurements, feedback or reset.

    :param circuit: gates on physical component names.
    :param max_bond: compute it as a matrix-product state with this bond cap (truncation
        included, without the bound on the discarded weight) instead of a state vector.
    :return: the components in axis order (order of first use in the execution order of
        :func:`_late_first_use`; the first is the most significant bit of the index) and the
        2**n amplitudes.
    :raises SimulationError: if the circuit measures, resets, uses feedback or is malformed.
    :raises TooLargeError: if it acts on more than 24 components.
    """
    if any(op.name in ("measure", "reset", "cc_prx") for op in circuit):
        raise SimulationError("final_state needs a circuit without measure, reset and cc_prx.")
    program = compile_program(circuit, None)
    if len(program.components) > 24:
        raise TooLargeError(
            f"final_state handles at most 24 components, the circuit acts on "
            f"{len(program.components)}."
        )
    executor = Executor(program, 1, np.random.default_rng(0), False)
    if max_bond is not None:
        mps = MatrixProductState(0, max_bond, neighbours=first_partners(program))
        for step in program.steps:
            executor._step(step, mps, np.zeros(1, dtype=np.int64))
        return program.components, mps.amplitudes()
    state = StateVector(0)
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
    program = compile_program(circuit, noise)
    if any(isinstance(step, Measure | Reset | SplitOnFeedback) for step in program.steps):
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
    state: SimulatedState = DensityMatrix(0) if program.has_gate_noise else StateVector(0)
    executor = Executor(program, 1, np.random.default_rng(0), program.has_gate_noise)
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
    "DEFAULT_MAX_ACTIVE_QUBITS",
    "DENSITY_MATRIX_HARD_LIMIT",
    "DENSITY_MATRIX_MAX_COMPONENTS",
    "EXACT_MAX_COMPONENTS",
    "METHODS",
    "MPS_MAX_DISCARDED_WEIGHT",
    "SimulationCancelledError",
    "SimulationError",
    "SimulationResult",
    "TooLargeError",
    "TruncationError",
    "exact_distribution",
    "final_state",
    "prx_matrix",
    "simulate",
]
