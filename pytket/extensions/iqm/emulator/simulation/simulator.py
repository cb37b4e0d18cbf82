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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from pytket.extensions.iqm.emulator.devices.noise import NoiseModel
from pytket.extensions.iqm.emulator.simulation.executor import (
    Executor,
)
from pytket.extensions.iqm.emulator.simulation.methods.density_matrix import DensityMatrix
from pytket.extensions.iqm.emulator.simulation.methods.statevector import (
    ComplexArray,
    FloatArray,
    StateVector,
)
from pytket.extensions.iqm.emulator.simulation.program import Operation
from pytket.extensions.iqm.emulator.simulation.quantum_state import SimulatedState
from pytket.extensions.iqm.emulator.simulation.result import (
    SimulationCancelledError,
    SimulationError,
    SimulationResult,
    TooLargeError,
)
from pytket.extensions.iqm.emulator.simulation.steps import (
    Damp,
    Dephase,
    Depolarize,
    Measure,
    Program,
    Reset,
    SplitOnFeedback,
    compile_program,
    prx_matrix,
)

Method = Literal["auto", "statevector", "density_matrix"]

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
    cancelled: Callable[[], bool] | None = None,
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
    :param cancelled: checked between gates; when it returns ``True`` the run stops with
        :class:`SimulationCancelledError` (cheap: called once per gate).
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
    program = compile_program(circuit, noise)
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
    executor = Executor(
        program, kept, rng, use_density_matrix, max_memory_bytes, cancelled=cancelled
    )
    executor.run()
    return SimulationResult(
        executor.records, kept, "density_matrix" if use_density_matrix else "statevector"
    )


def final_state(circuit: Sequence[Operation]) -> tuple[tuple[str, ...], ComplexArray]:
    """The state vector after a noiseless circuit without measurements, feedback or reset.

    :param circuit: gates on physical component names.
    :return: the components in axis order (order of first use in the execution order of
        :func:`late_first_use`; the first is the most significant bit of the index) and the
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
    state = StateVector(0)
    executor = Executor(program, 1, np.random.default_rng(0), False)
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
    "DENSITY_MATRIX_HARD_LIMIT",
    "DENSITY_MATRIX_MAX_COMPONENTS",
    "SimulationCancelledError",
    "SimulationError",
    "SimulationResult",
    "TooLargeError",
    "exact_distribution",
    "final_state",
    "prx_matrix",
    "simulate",
]
