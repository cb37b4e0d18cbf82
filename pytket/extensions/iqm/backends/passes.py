"""Compilation for IQM devices: predicates, rebase and the optimisation levels 0–3.

Everything here works from a :class:`~pytket.backends.backendinfo.BackendInfo` alone, so a
circuit can be compiled offline for any device whose info is known. IQM devices run ``prx``
(pytket ``PhasedX``), ``cz``, ``measure`` and ``barrier`` (plus ``reset`` and ``cc_prx``, a
``PhasedX`` conditioned on one bit, on devices with feedback). Physical qubit ``QBn`` is
``Node(n-1)``.

The levels (see ``docs/compilation.rst`` for what they do and measurements):

* 0 – decompose boxes, rebase, place, route, rebase. Nothing is optimised.
* 1 – light: ``SynthesiseTket``, noise-aware placement, routing, then the single-qubit
  economy finish (below).
* 2 – default: ``PeepholeOptimise2Q`` and, when it has clearly fewer CX, a ``GreedyPauliSimp``
  resynthesis as a second candidate; each is placed and routed with a choice among candidate
  placements (noise-aware, subgraph, ranked enumeration on small devices, long paths for wide
  circuits) and routings (on CX gates or on two-qubit blocks), the fewest CZ first and the
  estimated success probability second, a repeat-until-no-gain KAK/Clifford clean-up, then
  the finish.
* 3 – a portfolio: level 2 itself and pipelines with ``FullPeepholeOptimise`` or
  ``GreedyPauliSimp`` (one of them ignoring depth) and a wider placement search, where every
  candidate placement is also refined by routing the circuit forwards and backwards; the
  best result is kept. ``timeout`` bounds the time spent on alternatives.

On Star devices (computational resonator, MOVE gates) the candidates of levels 2 and 3 are
completed with MOVE insertion and scored by the estimated success probability MOVEs included
(:func:`_star_pass`).

The *finish* pushes every Z rotation through ``CZ`` (which commutes with it) and through
``PRX`` (which absorbs it as a phase shift) to the end of the circuit, where it is dropped
before a measurement (it cannot change the counts); each run of single-qubit gates then costs
at most one ``PRX``.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pytket.architecture import Architecture
from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Bit, Circuit, Command, Conditional, OpType, Qubit
from pytket.mapping import (
    LexiLabellingMethod,
    LexiRouteRoutingMethod,
    MultiGateReorderRoutingMethod,
    RoutingMethod,
)
from pytket.passes import (
    AutoRebase,
    BasePass,
    CliffordSimp,
    CustomPass,
    CustomPassMap,
    CustomRoutingPass,
    DecomposeBoxes,
    DecomposeSwapsToCXs,
    DecomposeTK2,
    DelayMeasures,
    FullPeepholeOptimise,
    GreedyPauliSimp,
    KAKDecomposition,
    NormaliseTK2,
    PeepholeOptimise2Q,
    PlacementPass,
    RemoveRedundancies,
    RenameQubitsPass,
    RepeatWithMetricPass,
    RoutingPass,
    SequencePass,
    SynthesiseTket,
)
from pytket.placement import GraphPlacement, LinePlacement, NoiseAwarePlacement, Placement
from pytket.predicates import (
    CompilationUnit,
    ConnectivityPredicate,
    GateSetPredicate,
    NoClassicalControlPredicate,
    NoMidMeasurePredicate,
    NoSymbolsPredicate,
    Predicate,
)
from pytket.unit_id import Node, UnitID

from pytket.extensions.iqm.backends.error_figures import (
    NoiseFigures,
    as_node,
    noise_figures,
)
from pytket.extensions.iqm.backends.resonator import (
    is_star_device,
    resonator_compilation_pass,
    resonator_predicates,
    star_success_probability,
)
from pytket.extensions.iqm.backends.wires import append_wire_permutation

__all__ = [
    "OPTIMISATION_LEVELS",
    "default_compilation_pass",
    "estimated_success_probability",
    "pass_from_info",
    "rebase_pass",
    "required_predicates",
]

OPTIMISATION_LEVELS: tuple[int, ...] = (0, 1, 2, 3)
"""The optimisation levels :func:`default_compilation_pass` accepts."""

# Angles (half-turns) closer than this to a multiple of the period are treated as exact.
_ANGLE_TOLERANCE = 1e-9


def _drop_conditional_phases(circuit: Circuit) -> Circuit:
    """Remove global phases applied under a condition (rebasing a conditional gate makes them).

    A phase applied in one classical branch only is a global phase of that branch: it cannot be
    observed, and IQM has no instruction for it.
    """
    if not any(
        command.op.type == OpType.Conditional
        and isinstance(command.op, Conditional)
        and command.op.op.type == OpType.Phase
        for command in circuit.get_commands()
    ):
        return circuit
    result = _empty_like(circuit)
    for command in circuit.get_commands():
        op = command.op
        if isinstance(op, Conditional) and op.op.type == OpType.Phase:
            continue
        _add_command(result, command)
    _copy_wire_permutation(circuit, result)
    return result


def _empty_like(circuit: Circuit) -> Circuit:
    """A circuit with the same qubits, bits and global phase, and no operations."""
    result = Circuit()
    for qubit in circuit.qubits:
        result.add_qubit(qubit)
    for bit in circuit.bits:
        result.add_bit(bit)
    result.add_phase(circuit.phase)
    return result


def _add_command(circuit: Circuit, command: Command) -> None:
    """Append ``command`` as it is (barriers need their own method)."""
    if command.op.type == OpType.Barrier:
        circuit.add_barrier(list(command.args))
    elif command.opgroup is not None:
        circuit.add_gate(command.op, list(command.args), opgroup=command.opgroup)
    else:
        circuit.add_gate(command.op, list(command.args))


def _copy_wire_permutation(source: Circuit, target: Circuit) -> None:
    """Give ``target`` the implicit output permutation of ``source``."""
    permutation = source.implicit_qubit_permutation()
    if any(a != b for a, b in permutation.items()):
        append_wire_permutation(target, permutation)


def rebase_pass() -> BasePass:
    """Rebase any circuit to IQM's native gates ``PhasedX`` (``prx``) and ``CZ``.

    :return: a pass converting every gate to ``PhasedX`` and ``CZ`` (measurements, resets,
        barriers and classical operations are left as they are; a phase that a rebased
        conditional gate leaves under its condition is dropped, as it is unobservable).
    """
    return SequencePass(
        [
            AutoRebase({OpType.CZ, OpType.PhasedX}),
            CustomPass(_drop_conditional_phases, label="IQMDropConditionalPhases"),
        ]
    )


def _native_gate_set(backend_info: BackendInfo) -> set[OpType]:
    gates = {OpType.PhasedX, OpType.CZ, OpType.Measure, OpType.Barrier}
    if backend_info.supports_reset:
        gates.add(OpType.Reset)
    return gates


def _device_architecture(backend_info: BackendInfo) -> Architecture:
    architecture = backend_info.architecture
    if not isinstance(architecture, Architecture):
        raise ValueError(
            "backend_info.architecture must be a pytket Architecture of the device's CZ "
            f"couplings, not {architecture!r}"
        )
    return architecture


def required_predicates(backend_info: BackendInfo) -> list[Predicate]:
    """The conditions a circuit must meet to run on the device described by ``backend_info``.

    Native gates (``PhasedX``, ``CZ``, ``Measure``, ``Barrier``; ``Reset`` if the device supports
    reset; a conditional ``PhasedX`` only if it supports fast feedforward), couplings of the
    device's architecture, no symbols, and no mid-circuit measurement or classical control
    unless the device supports them.

    :param backend_info: the device's description.
    :return: the predicates, in a fixed order.
    """
    if is_star_device(backend_info):
        # MOVE and resonator loci replace the plain gate-set and connectivity checks.
        predicates: list[Predicate] = [*resonator_predicates(backend_info), NoSymbolsPredicate()]
    else:
        predicates = [
            # GateSetPredicate checks the operation inside a Conditional, so a conditional
            # PhasedX passes it; whether conditions are allowed at all is
            # NoClassicalControlPredicate's job.
            GateSetPredicate(_native_gate_set(backend_info)),
            ConnectivityPredicate(_device_architecture(backend_info)),
            NoSymbolsPredicate(),
        ]
    if not backend_info.supports_midcircuit_measurement:
        predicates.append(NoMidMeasurePredicate())
    if not backend_info.supports_fast_feedforward:
        predicates.append(NoClassicalControlPredicate())
    return predicates


def _log_success(circuit: Circuit, noise: NoiseFigures, single_qubit: bool = True) -> float:
    """Natural log of the estimated success probability (see
    :func:`estimated_success_probability`); without single-qubit gates if not
    ``single_qubit``."""
    total = 0.0
    for command in circuit.get_commands():
        op = command.op
        optype = op.type
        if isinstance(op, Conditional):
            optype = op.op.type
        qubits = command.qubits
        if optype == OpType.Measure:
            total += math.log1p(-noise.readout_error(qubits[0]))
        elif optype in (OpType.Barrier, OpType.Reset, OpType.Phase) or not qubits:
            continue
        elif optype == OpType.SWAP:
            total += 3 * math.log1p(-noise.cz_error(qubits[0], qubits[1]))
        elif optype == OpType.BRIDGE:
            # A CX across a middle qubit: two CX on each of its two couplers.
            total += 2 * math.log1p(-noise.cz_error(qubits[0], qubits[1]))
            total += 2 * math.log1p(-noise.cz_error(qubits[1], qubits[2]))
        elif len(qubits) == 1:
            if single_qubit:
                total += math.log1p(-noise.prx_error(qubits[0]))
        elif len(qubits) == 2:
            total += math.log1p(-noise.cz_error(qubits[0], qubits[1]))
        else:
            # Not native: count a multi-qubit gate as a CZ per qubit pair it could need.
            total += (len(qubits) - 1) * 2 * math.log1p(-noise.default_cz)
    return total


def estimated_success_probability(circuit: Circuit, backend_info: BackendInfo) -> float:
    """Estimate the probability that no error occurs when ``circuit`` runs on the device.

    The estimate is ∏(1 − e) over every ``PhasedX`` (``prx``), ``CZ`` and measurement, using the
    device's per-qubit and per-coupler figures from ``backend_info`` (falling back to the
    averaged figures, then to the median of known figures for components without one, then to
    nominal IQM-like figures when the device publishes none). A conditional gate counts as its
    inner gate; barriers, resets and global phases are free. For circuits not yet compiled,
    other single-qubit gates count as a ``PhasedX``, other two-qubit gates as a ``CZ`` and a
    ``SWAP`` as three ``CZ``.

    :param circuit: a circuit, usually compiled for the device (qubits are ``Node`` s).
    :param backend_info: the device's description.
    :return: the estimate, between 0 and 1.
    """
    return math.exp(_log_success(circuit, noise_figures(backend_info)))


# ---------------------------------------------------------------------------------------------
# Single-qubit economy: push Z rotations to the end and give every single-qubit run one PRX

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
    plus = -2 * float(np.angle(special[0, 0])) / math.pi if cos_part > 1e-12 else 0.0
    minus = 2 * float(np.angle(special[1, 0])) / math.pi + 1 if sin_part > 1e-12 else 0.0
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
        self.out = _empty_like(circuit)
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
        _copy_wire_permutation(self.source, self.out)
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
        _add_command(self.out, command)


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


def _finish_circuit(circuit: Circuit) -> Circuit:
    if circuit.free_symbols():
        # Symbolic angles cannot be merged numerically; a plain rebase keeps the circuit valid.
        result = circuit.copy()
        rebase_pass().apply(result)
        return result
    return _ZPusher(circuit).run()


def _finish_pass() -> BasePass:
    """Single-qubit economy on a routed circuit of CZ (or CX) and single-qubit gates."""
    return SequencePass(
        [
            AutoRebase({OpType.CZ, OpType.TK1}),
            # Drops diagonal gates (CZ included) right before measurements and cancels pairs.
            RemoveRedundancies(),
            CustomPass(_finish_circuit, label="IQMPushZToEnd"),
        ]
    )


def _absorb_final_swaps(circuit: Circuit) -> Circuit:
    """Drop routing SWAPs followed only by measurements on both their qubits (both measured
    somewhere in the circuit), measuring each qubit into the other's bit instead; a BRIDGE in
    that position becomes SWAP·CX, whose SWAP can merge with an earlier gate on the same
    coupler.

    Measurement statistics are unchanged; the quantum state after the measurements is not
    observable.
    """
    commands = circuit.get_commands()
    # Only qubits that the circuit measures somewhere count: their final state is not an
    # output (a qubit never measured keeps its exact final state).
    measured = {c.qubits[0] for c in commands if c.op.type == OpType.Measure}
    # Walking backwards: which qubits have seen nothing but measurements so far.
    only_measured: dict[Qubit, bool] = {}
    absorbable: set[int] = set()
    for position in range(len(commands) - 1, -1, -1):
        command = commands[position]
        optype = command.op.type
        qubits = command.qubits
        if optype == OpType.Measure:
            continue
        if optype in (OpType.SWAP, OpType.BRIDGE) and all(
            q in measured and only_measured.get(q, True) for q in qubits[:2]
        ):
            absorbable.add(position)
            if optype == OpType.SWAP:
                continue
        for qubit in qubits:
            only_measured[qubit] = False
    if not absorbable:
        return circuit
    result = _empty_like(circuit)
    # holder[q]: the qubit now holding the state that the original circuit has on q.
    holder: dict[Qubit, Qubit] = {q: q for q in circuit.qubits}
    for position, command in enumerate(commands):
        qubits = command.qubits
        if position in absorbable:
            a, b = qubits[0], qubits[1]
            if command.op.type == OpType.BRIDGE:
                result.SWAP(a, b)
                result.CX(b, qubits[2])
                # The BRIDGE's closing SWAP(a, b) is the one absorbed.
            holder[a], holder[b] = holder[b], holder[a]
        elif command.op.type == OpType.Measure:
            result.Measure(holder[qubits[0]], command.bits[0])
        else:
            _add_command(result, command)
    _copy_wire_permutation(circuit, result)
    return result


# ---------------------------------------------------------------------------------------------
# Placement and routing


# Subgraph-matching placements: the match limit (scaled by effort) normally ends the search;
# the timeout only bounds pathological cases (dense interaction graphs on large devices, where
# the search fails and the other candidates take over).
_PLACEMENT_TIMEOUT_MS = 2000
_PATTERN_GATES = 100


def _placement_matches(effort: float) -> int:
    return max(10, int(1000 * effort))


def _primary_placement(architecture: Architecture, noise: NoiseFigures, effort: float) -> Placement:
    """Noise-aware placement when the device publishes errors, else graph placement."""
    if noise.has_data:
        return NoiseAwarePlacement(
            architecture,
            node_errors=dict(noise.prx),
            link_errors=dict(noise.cz),
            readout_errors=dict(noise.readout),
            maximum_matches=_placement_matches(effort),
            timeout=_PLACEMENT_TIMEOUT_MS,
            maximum_pattern_gates=_PATTERN_GATES,
        )
    return _graph_placement(architecture, effort)


def _graph_placement(architecture: Architecture, effort: float) -> Placement:
    return GraphPlacement(
        architecture,
        maximum_matches=_placement_matches(effort),
        timeout=_PLACEMENT_TIMEOUT_MS,
        maximum_pattern_gates=_PATTERN_GATES,
    )


def _routing_pass(architecture: Architecture, reorder: bool) -> BasePass:
    """LexiRoute, optionally first commuting gates that already fit the device to the front."""
    methods: list[RoutingMethod] = [LexiLabellingMethod()]
    if reorder:
        methods.append(MultiGateReorderRoutingMethod())
    methods.append(LexiRouteRoutingMethod())
    return CustomRoutingPass(architecture, methods)


def _mapping_pass(placement: Placement, architecture: Architecture) -> BasePass:
    return SequencePass([PlacementPass(placement), _routing_pass(architecture, reorder=True)])


_MapPair = tuple[dict[UnitID, UnitID], dict[UnitID, UnitID]]


def _run_unit(circuit: Circuit, compilation: BasePass) -> tuple[Circuit, _MapPair]:
    unit = CompilationUnit(circuit.copy())
    compilation.apply(unit)
    return unit.circuit, (dict(unit.initial_map), dict(unit.final_map))


# -- long paths -------------------------------------------------------------------------------

_PATH_SEARCH_STEPS = 30_000
_PATHS_KEPT = 4


@functools.lru_cache(maxsize=16)
def _long_paths(edges: tuple[tuple[Node, Node], ...]) -> tuple[tuple[Node, ...], ...]:
    """Some of the longest simple paths of the coupling graph (a bounded depth-first search
    that tries the neighbour with the fewest free neighbours first, which finds Hamiltonian
    paths of grid-like graphs quickly). Cached per coupling graph."""
    adjacency: dict[Node, set[Node]] = {}
    for a, b in edges:
        adjacency.setdefault(a, set()).add(b)
        adjacency.setdefault(b, set()).add(a)
    n_nodes = len(adjacency)
    found: dict[frozenset[Node], tuple[Node, ...]] = {}
    longest = 0
    steps = 0

    def extend(path: list[Node], on_path: set[Node]) -> bool:
        """Depth-first extension; True once the search should stop."""
        nonlocal longest, steps
        steps += 1
        if len(path) >= longest:
            if len(path) > longest:
                longest = len(path)
                found.clear()
            if len(found) < _PATHS_KEPT:
                found.setdefault(frozenset(path), tuple(path))
        if steps >= _PATH_SEARCH_STEPS or (longest == n_nodes and len(found) >= _PATHS_KEPT):
            return True
        free = [n for n in adjacency[path[-1]] if n not in on_path]
        free.sort(key=lambda n: (sum(m not in on_path for m in adjacency[n]), n))
        for n in free:
            path.append(n)
            on_path.add(n)
            stop = extend(path, on_path)
            path.pop()
            on_path.discard(n)
            if stop:
                return True
        return False

    for start in sorted(adjacency, key=lambda n: (len(adjacency[n]), n)):
        if extend([start], {start}):
            break
    return tuple(found.values())


def _interaction_order(circuit: Circuit) -> list[Qubit]:
    """Circuit qubits in an order where strongly interacting qubits are neighbours: a greedy
    maximum-weight cover of the interaction graph by paths, paths concatenated."""
    weights = _two_qubit_pairs(circuit)
    parent = {q: q for q in circuit.qubits}

    def root(q: Qubit) -> Qubit:
        while parent[q] != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    neighbours: dict[Qubit, list[Qubit]] = {q: [] for q in circuit.qubits}
    for (a, b), _ in sorted(weights.items(), key=lambda kv: -kv[1]):
        if len(neighbours[a]) < 2 and len(neighbours[b]) < 2 and root(a) != root(b):
            neighbours[a].append(b)
            neighbours[b].append(a)
            parent[root(a)] = root(b)
    order: list[Qubit] = []
    placed: set[Qubit] = set()
    chains: list[list[Qubit]] = []
    for q in circuit.qubits:
        if q in placed or len(neighbours[q]) == 2:
            continue
        chain = [q]
        placed.add(q)
        while True:
            nxt = [n for n in neighbours[chain[-1]] if n not in placed]
            if not nxt:
                break
            chain.append(nxt[0])
            placed.add(nxt[0])
        chains.append(chain)
    chains.sort(key=len, reverse=True)
    for chain in chains:
        order.extend(chain)
    return order


def _two_qubit_pairs(circuit: Circuit) -> dict[tuple[Qubit, Qubit], int]:
    """How many two-qubit gates act on each pair of circuit qubits."""
    pairs: dict[tuple[Qubit, Qubit], int] = {}
    for command in circuit.get_commands():
        qubits = command.qubits
        if len(qubits) == 2 and command.op.type != OpType.Barrier:
            a, b = sorted(qubits)
            pairs[(a, b)] = pairs.get((a, b), 0) + 1
    return pairs


def _first_two_qubit_use(circuit: Circuit) -> dict[Qubit, int]:
    """Position of each qubit's first two-qubit gate (qubits without one: after the end)."""
    first: dict[Qubit, int] = {}
    commands = circuit.get_commands()
    for position, command in enumerate(commands):
        if len(command.qubits) == 2 and command.op.type != OpType.Barrier:
            for qubit in command.qubits:
                first.setdefault(qubit, position)
    return {q: first.get(q, len(commands)) for q in circuit.qubits}


@functools.lru_cache(maxsize=16)
def _distances(edges: tuple[tuple[Node, Node], ...]) -> dict[Node, dict[Node, int]]:
    """All-pairs shortest path lengths of the coupling graph (breadth-first searches)."""
    adjacency: dict[Node, list[Node]] = {}
    for a, b in edges:
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)
    table: dict[Node, dict[Node, int]] = {}
    for source in adjacency:
        seen = {source: 0}
        frontier = [source]
        while frontier:
            following = []
            for node in frontier:
                for other in adjacency[node]:
                    if other not in seen:
                        seen[other] = seen[node] + 1
                        following.append(other)
            frontier = following
        table[source] = seen
    return table


def _edges_of(architecture: Architecture) -> tuple[tuple[Node, Node], ...]:
    return tuple(sorted({(min(a, b), max(a, b)) for a, b in architecture.coupling}))


def _map_estimate(
    mapping: Mapping[Qubit, Node],
    pairs: Mapping[tuple[Qubit, Qubit], int],
    distances: Mapping[Node, Mapping[Node, int]],
    noise: NoiseFigures,
) -> float:
    """Rough log success of a placement: each gate on a coupler costs its CZ error, a gate
    between nodes d apart costs about 3(d−1)+1 average CZ; every placed qubit one readout."""
    total = sum(math.log1p(-noise.readout_error(node)) for node in mapping.values())
    for (a, b), count in pairs.items():
        node_a, node_b = mapping[a], mapping[b]
        distance = distances[node_a].get(node_b, len(distances))
        if distance == 1:
            total += count * math.log1p(-noise.cz_error(node_a, node_b))
        else:
            total += count * (3 * (distance - 1) + 1) * math.log1p(-noise.default_cz)
    return total


def _path_maps(
    circuit: Circuit, architecture: Architecture, noise: NoiseFigures, n_maps: int
) -> list[dict[Qubit, Node]]:
    """Placements laying the circuit's interaction order along long paths of the device (on
    the stretch with the best error figures); when the circuit is longer than a path, the
    remaining qubits go to the free nodes nearest their partners. Best estimates first."""
    edges = _edges_of(architecture)
    distances = _distances(edges)
    pairs = _two_qubit_pairs(circuit)
    order = _interaction_order(circuit)
    n = len(order)
    first_use = _first_two_qubit_use(circuit)
    scored: list[tuple[float, dict[Qubit, Node]]] = []
    for path in _long_paths(edges):
        # Qubits that do not fit on the path are best those needed last: routing them late
        # costs SWAPs that the end of the circuit can absorb.
        sequences = [order, order[::-1]]
        if n > len(path):
            latest = max(min(first_use[q] for q in seq[len(path) :]) for seq in sequences)
            sequences = [
                seq for seq in sequences if min(first_use[q] for q in seq[len(path) :]) == latest
            ]
        for nodes in (path, path[::-1]):
            for sequence in sequences:
                if n <= len(nodes):
                    for start in range(len(nodes) - n + 1):
                        mapping = dict(zip(sequence, nodes[start : start + n], strict=True))
                        scored.append((_map_estimate(mapping, pairs, distances, noise), mapping))
                else:
                    mapping = dict(zip(sequence, nodes, strict=False))
                    _place_rest(circuit, architecture, mapping, distances)
                    scored.append((_map_estimate(mapping, pairs, distances, noise), mapping))
    scored.sort(key=lambda item: -item[0])
    unique: list[dict[Qubit, Node]] = []
    for _, mapping in scored:
        if mapping not in unique:
            unique.append(mapping)
        if len(unique) == n_maps:
            break
    return unique


_EXHAUSTIVE_LIMIT = 2000
"""Largest number of injective qubit-to-node maps that is enumerated outright."""


def _injective_map_count(n_qubits: int, n_nodes: int) -> int:
    count = 1
    for k in range(n_qubits):
        count *= n_nodes - k
        if count > _EXHAUSTIVE_LIMIT:
            break
    return count


def _exhaustive_maps(
    circuit: Circuit, architecture: Architecture, noise: NoiseFigures, n_maps: int
) -> list[dict[Qubit, Node]]:
    """On small devices: every placement of the circuit's interacting qubits, ranked by
    :func:`_map_estimate`; the best ``n_maps`` (qubits without two-qubit gates are left to
    the router)."""
    pairs = _two_qubit_pairs(circuit)
    qubits = sorted({q for pair in pairs for q in pair})
    nodes = sorted(architecture.nodes)
    if not qubits or _injective_map_count(len(qubits), len(nodes)) > _EXHAUSTIVE_LIMIT:
        return []
    distances = _distances(_edges_of(architecture))
    scored = [
        (_map_estimate(mapping, pairs, distances, noise), index, mapping)
        for index, mapping in enumerate(
            dict(zip(qubits, chosen, strict=True))
            for chosen in itertools.permutations(nodes, len(qubits))
        )
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [mapping for _, _, mapping in scored[:n_maps]]


def _place_rest(
    circuit: Circuit,
    architecture: Architecture,
    mapping: dict[Qubit, Node],
    distances: Mapping[Node, Mapping[Node, int]],
) -> None:
    """Put each unplaced qubit on the free node closest to the nodes of its partners."""
    partners: dict[Qubit, list[Qubit]] = {q: [] for q in circuit.qubits}
    for a, b in _two_qubit_pairs(circuit):
        partners[a].append(b)
        partners[b].append(a)
    used = set(mapping.values())
    free = [node for node in architecture.nodes if node not in used]
    for qubit in circuit.qubits:
        if qubit in mapping:
            continue
        placed = [mapping[p] for p in partners[qubit] if p in mapping]
        chosen = min(
            free,
            key=lambda node: (sum(distances[node].get(p, len(distances)) for p in placed), node),
        )
        mapping[qubit] = chosen
        free.remove(chosen)


# -- choosing among candidates ----------------------------------------------------------------


def _candidate_placement_passes(
    circuit: Circuit, architecture: Architecture, noise: NoiseFigures, effort: float
) -> list[BasePass]:
    """Placements worth trying for ``circuit``: noise-aware (or graph) placement, a quick
    graph placement, and for wide circuits, long-path placements. Each is computed once and
    returned as a renaming, so trying it with several routings costs no new search."""
    placements: list[Placement] = [_primary_placement(architecture, noise, effort)]
    small = _injective_map_count(circuit.n_qubits, len(architecture.nodes)) <= _EXHAUSTIVE_LIMIT
    if noise.has_data and (effort >= 1 or not small):
        # On small devices the ranked enumeration below already covers what a noise-blind
        # placement would add.
        placements.append(_graph_placement(architecture, effort))
    if _uses_node_names(circuit):
        # Renaming to nodes would clash with qubits that already carry node names.
        return [PlacementPass(placement) for placement in placements]
    maps: list[dict[Qubit, Node]] = []
    # On small devices the ranked enumeration below supplies the variety.
    per_placement = (1 if small else 2) if effort < 1 else 6
    for placement in placements:
        try:
            # Several of the best matches: their routing costs differ more than their
            # estimates do.
            found = placement.get_placement_maps(circuit, matches=per_placement)
            maps.extend(dict(mapping) for mapping in found[:per_placement])
        except RuntimeError:
            # The subgraph search ran out of time (dense interaction graphs on large devices):
            # the other candidates, or the line placement below, take over.
            continue
    if not maps:
        maps.append(dict(LinePlacement(architecture).get_placement_map(circuit)))
    n_nodes = len(architecture.nodes)
    n_maps = 2 if effort < 1 else _PATHS_KEPT
    maps.extend(_exhaustive_maps(circuit, architecture, noise, n_maps))
    if circuit.n_qubits >= max(6, n_nodes // 2):
        maps.extend(_path_maps(circuit, architecture, noise, n_maps))
    if effort >= 1:
        # Level 3 only: the refinement routes the circuit twice per placement.
        maps.extend(_bidirectional_maps(circuit, architecture, maps))
    # Maps that agree on the interacting qubits route alike: keep the first of them (the
    # primary placement's, which also places the other qubits by readout quality).
    interacting = {q for pair in _two_qubit_pairs(circuit) for q in pair}
    unique: list[dict[Qubit, Node]] = []
    seen: list[dict[Qubit, Node]] = []
    for mapping in maps:
        key = {q: n for q, n in mapping.items() if q in interacting}
        if key not in seen:
            seen.append(key)
            unique.append(mapping)
    return [RenameQubitsPass(dict(mapping)) for mapping in unique]


def _two_qubit_skeleton(circuit: Circuit, reverse: bool) -> Circuit:
    """The circuit's two-qubit gates as CX on the same qubits, optionally in reverse order:
    all that routing looks at."""
    skeleton = Circuit()
    for qubit in circuit.qubits:
        skeleton.add_qubit(qubit)
    pairs = [
        command.qubits
        for command in circuit.get_commands()
        if len(command.qubits) == 2 and command.op.type != OpType.Barrier
    ]
    for a, b in reversed(pairs) if reverse else pairs:
        skeleton.CX(a, b)
    return skeleton


def _bidirectional_maps(
    circuit: Circuit, architecture: Architecture, maps: list[dict[Qubit, Node]]
) -> list[dict[Qubit, Node]]:
    """Refine each placement by routing the circuit forwards from it and then backwards (the
    idea of SABRE): where the backward routing ends is a placement fitted to the circuit's
    first gates that still reaches its later ones cheaply. (A second round measured worse on
    qftentangled_n10 and qft_n16.)"""
    forward = _two_qubit_skeleton(circuit, reverse=False)
    if not forward.n_gates:
        return []
    backward = _two_qubit_skeleton(circuit, reverse=True)
    refined: list[dict[Qubit, Node]] = []
    for mapping in maps:
        current = dict(mapping)
        try:
            for skeleton in (forward, backward):
                unit = CompilationUnit(skeleton.copy())
                SequencePass(
                    [RenameQubitsPass(current), _routing_pass(architecture, reorder=False)]
                ).apply(unit)
                final = unit.final_map
                current = {q: as_node(final[q]) for q in circuit.qubits}
        except RuntimeError:
            # Routing a variant can fail on unusual circuits: the unrefined placement stays.
            continue
        refined.append(current)
    return refined


def _uses_node_names(circuit: Circuit) -> bool:
    return any(qubit.reg_name == "node" for qubit in circuit.qubits)


@dataclass(frozen=True)
class _Routing:
    """One way of routing: with commuting gates reordered first or not, and on the CX circuit
    or on its two-qubit blocks (TK2), where a SWAP next to a block merges into it."""

    reorder: bool
    blocks: bool

    def passes(self, architecture: Architecture) -> list[BasePass]:
        """The routing, then the passes that make its two-qubit cost visible."""
        routing = _routing_pass(architecture, self.reorder)
        if not self.blocks:
            return [routing, *_routed_preparation(architecture)]
        return [
            KAKDecomposition(target_2qb_gate=OpType.TK2, allow_swaps=False),
            routing,
            DelayMeasures(),
            CustomPass(_absorb_final_swaps, label="IQMAbsorbFinalSwaps"),
            KAKDecomposition(target_2qb_gate=OpType.TK2, allow_swaps=False),
            DecomposeSwapsToCXs(architecture),
            NormaliseTK2(),
            DecomposeTK2(allow_swaps=False),
            KAKDecomposition(allow_swaps=False),
        ]


_L2_FINALISTS = 1
_COUNT_BAND = 1.05
_L2_EFFORT = 0.2
_ROUTINGS_FAST = (_Routing(reorder=True, blocks=False), _Routing(reorder=True, blocks=True))
_ROUTINGS_ALL = (*_ROUTINGS_FAST, _Routing(reorder=False, blocks=False))


def _routed_preparation(architecture: Architecture) -> list[BasePass]:
    """Make a routed circuit's two-qubit cost visible: measurements last, SWAPs before them
    absorbed, the other SWAPs (and BRIDGEs) as CX, and gates on the same coupler merged."""
    return [
        DelayMeasures(),
        CustomPass(_absorb_final_swaps, label="IQMAbsorbFinalSwaps"),
        # SWAPs left undecomposed would count as one gate and hide their real cost.
        DecomposeSwapsToCXs(architecture),
        KAKDecomposition(allow_swaps=False),
    ]


def _best_mapping_pass(
    architecture: Architecture,
    noise: NoiseFigures,
    effort: float,
    routings: tuple[_Routing, ...],
    finalists: int,
) -> BasePass:
    """Place and route with each candidate placement and routing; rank the routed circuits by
    how likely their two-qubit gates and readouts are to succeed, clean up the best
    ``finalists`` (:func:`_routed_cleanup`) and keep the one most likely to succeed."""
    n_nodes = len(architecture.nodes)

    def transform(circuit: Circuit) -> tuple[Circuit, _MapPair]:
        if circuit.n_qubits > n_nodes:
            # Let pytket's own pass raise its usual error for oversized circuits.
            return _run_unit(circuit, RoutingPass(architecture))
        routed: list[tuple[float, int, Circuit, _MapPair]] = []
        for placement in _candidate_placement_passes(circuit, architecture, noise, effort):
            for routing in routings:
                try:
                    result, maps = _run_unit(
                        circuit,
                        SequencePass([placement, *routing.passes(architecture)], strict=False),
                    )
                except RuntimeError:
                    # A variant can fail on unusual circuits; the others (or the fallback
                    # below) still compile it.
                    continue
                score = _log_success(result, noise, single_qubit=False)
                routed.append((score, len(routed), result, maps))
        if not routed:
            fallback = SequencePass(
                [
                    _mapping_pass(GraphPlacement(architecture), architecture),
                    *_routed_preparation(architecture),
                ],
                strict=False,
            )
            result, maps = _run_unit(circuit, fallback)
            routed.append((0.0, 0, result, maps))
        # Fewer two-qubit gates first, error figures second: calibrations drift, gate counts do
        # not. Among circuits within a few percent of the fewest gates, the most likely to
        # succeed wins.
        fewest = min(_cx_count(item[2]) for item in routed)
        routed = [item for item in routed if _cx_count(item[2]) <= _COUNT_BAND * fewest + 1]
        routed.sort(key=lambda item: (-item[0], item[1]))
        finished: list[tuple[float, Circuit, _MapPair]] = []
        for _, _, result, maps in routed[:finalists]:
            for cleanup in _routed_cleanup():
                cleanup.apply(result)
            finished.append((_log_success(result, noise), result, maps))
        _, result, maps = max(finished, key=lambda item: item[0])
        return result, maps

    return CustomPassMap(transform, label="IQMBestPlacement")


# ---------------------------------------------------------------------------------------------
# Levels


def _cx_count(circuit: Circuit) -> int:
    return int(circuit.n_gates_of_type(OpType.CX) + circuit.n_gates_of_type(OpType.CZ))


def _routed_cleanup() -> list[BasePass]:
    """Resynthesise the routed circuit in place (no wire swaps, so connectivity is kept), then
    the single-qubit economy finish."""
    return [
        RepeatWithMetricPass(
            SequencePass(
                [
                    KAKDecomposition(allow_swaps=False),
                    CliffordSimp(allow_swaps=False),
                    SynthesiseTket(),
                ]
            ),
            _cx_count,
        ),
        _finish_pass(),
    ]


def _level_passes(backend_info: BackendInfo, optimisation_level: int) -> list[BasePass]:
    architecture = _device_architecture(backend_info)
    noise = noise_figures(backend_info)
    if optimisation_level == 0:
        return [
            DecomposeBoxes(),
            AutoRebase({OpType.CZ, OpType.PhasedX}),
            _mapping_pass(_primary_placement(architecture, noise, 0.2), architecture),
            DelayMeasures(),
            rebase_pass(),
        ]
    if optimisation_level == 1:
        return [
            DecomposeBoxes(),
            # Diagonal gates right before measurements (a graph state's CZs) cost nothing.
            RemoveRedundancies(),
            SynthesiseTket(),
            _mapping_pass(_primary_placement(architecture, noise, 0.2), architecture),
            DelayMeasures(),
            DecomposeSwapsToCXs(architecture),
            SynthesiseTket(),
            _finish_pass(),
        ]
    return [
        DecomposeBoxes(),
        # Diagonal gates right before measurements go first, while they are still CZ / Rz.
        RemoveRedundancies(),
        _level2_pass(architecture, noise),
    ]


_L2_GPS_THREAD_TIMEOUT_MS = 1000
_SMALL_DEVICE = 8
"""Devices of at most this many qubits are small: level 2 routes on two-qubit blocks only."""
_L2_GPS_TRIALS = 1
_GPS_GAIN = 0.9
"""Level 2 routes the Pauli resynthesis too only if it has at most this fraction of the CX of
the peephole-optimised circuit: smaller gains rarely survive routing."""
_GPS_MIN_CX = 16
"""Level 2 tries the Pauli resynthesis only on circuits with at least this many CX after the
peephole: on smaller ones it saved at most one CX on the shared suite (never enough to be
routed) and costs as much time as the peephole itself."""


def _peephole_2q() -> BasePass:
    # As good as FullPeepholeOptimise on typical circuits at a fifth of the time (its
    # three-qubit squash rarely pays); the time goes to trying placements and routings.
    return SequencePass([PeepholeOptimise2Q(), RemoveRedundancies()])


_L2_GPS_DEPTH_WEIGHTS = (0.3, 0.0)
"""Level 2 resynthesises with GreedyPauliSimp's default depth weight and with none (fewest
CX): each wins on some circuits (QFT-8/16, QAOA-12, random-5 without; QFT-entangled-10 and
phase estimation-8 with), and the one with fewer CX before routing is routed."""


def _pauli_resynthesis(depth_weight: float) -> BasePass:
    """GreedyPauliSimp resynthesis (Pauli gadgets) then the two-qubit peephole."""
    return SequencePass(
        [
            AutoRebase({OpType.CX, OpType.TK1}),
            GreedyPauliSimp(
                thread_timeout=_L2_GPS_THREAD_TIMEOUT_MS,
                trials=_L2_GPS_TRIALS,
                depth_weight=depth_weight,
            ),
            PeepholeOptimise2Q(),
            RemoveRedundancies(),
        ],
        # GreedyPauliSimp states a gate set the rebase meets but cannot prove.
        strict=False,
    )


def _level2_pass(architecture: Architecture, noise: NoiseFigures) -> BasePass:
    """Level 2's optimisation and mapping: the two-qubit peephole, and when the circuit is a
    plain unitary circuit, also a Pauli-gadget resynthesis (which shortens QAOA, QFT-like and
    phase-estimation circuits by 10–30 % of their CX); the resynthesised circuit is placed and
    routed too only if it has fewer CX before routing, and the routed circuit with the fewest
    CZ (then the best estimated success probability) is kept."""
    # On small devices routing on two-qubit blocks is never worse than on CX (measured on the
    # 5-qubit star), and the time saved pays for the resynthesis.
    small = len(architecture.nodes) <= _SMALL_DEVICE
    routings = _ROUTINGS_FAST[1:] if small else _ROUTINGS_FAST
    mapping = _best_mapping_pass(architecture, noise, _L2_EFFORT, routings, _L2_FINALISTS)

    def transform(circuit: Circuit) -> tuple[Circuit, _MapPair]:
        peephole = circuit.copy()
        _peephole_2q().apply(peephole)
        variants = [peephole]
        peephole_cx = _cx_count(peephole)
        if _greedy_pauli_applies(circuit) and peephole_cx >= _GPS_MIN_CX:
            resynthesised = _fewest_cx_resynthesis(circuit, peephole_cx)
            if resynthesised is not None and _cx_count(resynthesised) < _GPS_GAIN * peephole_cx:
                variants.append(resynthesised)
        results = [_run_unit(variant, mapping) for variant in variants]
        return _fewest_cz_then_success(results, noise)

    return CustomPassMap(transform, label="IQMLevel2")


def _fewest_cx_resynthesis(circuit: Circuit, reference_cx: int) -> Circuit | None:
    """The Pauli resynthesis of ``circuit`` with the fewest CX over the depth weights tried
    (the first among equals); ``None`` if the synthesis does not take the circuit. The other
    weights are tried only if the first saves CX against ``reference_cx``: circuits without
    Pauli-gadget structure (GHZ, W states, hardware-efficient ansätze) gain from none."""
    found: list[Circuit] = []
    for depth_weight in _L2_GPS_DEPTH_WEIGHTS:
        resynthesised = circuit.copy()
        try:
            _pauli_resynthesis(depth_weight).apply(resynthesised)
        except RuntimeError:
            return None  # e.g. an operation the synthesis does not take: the peephole stays
        found.append(resynthesised)
        if _cx_count(found[0]) >= reference_cx:
            break
    return min(found, key=_cx_count)


def _fewest_cz_then_success(
    results: list[tuple[Circuit, _MapPair]], noise: NoiseFigures
) -> tuple[Circuit, _MapPair]:
    """The result with the fewest CZ; among equals, the most likely to succeed."""
    return min(results, key=lambda r: (_cx_count(r[0]), -_log_success(r[0], noise)))


_GPS_THREAD_TIMEOUT_S = 10.0
"""Longest a single GreedyPauliSimp search may run at level 3 (seconds)."""


def _portfolio_pipelines(
    backend_info: BackendInfo, circuit: Circuit, timeout: float
) -> list[BasePass]:
    """Level 3's pipelines for ``circuit``, the level-2 one first."""
    architecture = _device_architecture(backend_info)
    noise = noise_figures(backend_info)
    mapping = _best_mapping_pass(architecture, noise, 1.0, _ROUTINGS_ALL, finalists=3)
    gps_timeout_ms = max(1, int(1000 * min(timeout / 4, _GPS_THREAD_TIMEOUT_S)))
    found: list[BasePass] = [
        # Level 2 itself, so that level 3 is never worse than level 2.
        SequencePass(_level_passes(backend_info, 2)),
        SequencePass(
            [
                DecomposeBoxes(),
                RemoveRedundancies(),
                PeepholeOptimise2Q(),
                RemoveRedundancies(),
                mapping,
            ]
        ),
        SequencePass([DecomposeBoxes(), FullPeepholeOptimise(), mapping]),
        SequencePass([DecomposeBoxes(), FullPeepholeOptimise(allow_swaps=False), mapping]),
    ]
    if _greedy_pauli_applies(circuit):
        found.append(_greedy_pauli_pipeline(gps_timeout_ms, mapping))
        # Fewest CX regardless of depth: depth is not what the ranking counts, and this
        # synthesis saved 10–25 % of the CZ of small QFT-like, QAOA and random circuits.
        found.append(
            SequencePass(
                [
                    DecomposeBoxes(),
                    RemoveRedundancies(),
                    AutoRebase({OpType.CX, OpType.TK1}),
                    GreedyPauliSimp(thread_timeout=gps_timeout_ms, trials=5, depth_weight=0.0),
                    _peephole_2q(),
                    mapping,
                ],
                strict=False,
            )
        )
    return found


def _greedy_pauli_applies(circuit: Circuit) -> bool:
    return (
        not _has_classical_control(circuit)
        and not circuit.n_gates_of_type(OpType.Barrier)
        and not circuit.n_gates_of_type(OpType.Reset)
        and not circuit.free_symbols()
    )


def _greedy_pauli_pipeline(thread_timeout_ms: int, mapping: BasePass) -> BasePass:
    return SequencePass(
        [
            DecomposeBoxes(),
            AutoRebase({OpType.CX, OpType.TK1}),
            GreedyPauliSimp(thread_timeout=thread_timeout_ms, trials=5),
            FullPeepholeOptimise(),
            mapping,
        ],
        # GreedyPauliSimp states a gate set the rebase meets but cannot prove.
        strict=False,
    )


def _run_pipelines(
    circuit: Circuit, pipelines: list[BasePass], deadline: float
) -> list[tuple[Circuit, _MapPair]]:
    """Run ``pipelines`` on copies of ``circuit`` until ``deadline`` (the first always runs);
    a pipeline that fails is skipped."""
    results: list[tuple[Circuit, _MapPair]] = []
    for pipeline in pipelines:
        if results and time.monotonic() > deadline:
            break
        try:
            results.append(_run_unit(circuit, pipeline))
        except RuntimeError:
            # An alternative failed (e.g. a synthesis that rejects some operation); the
            # caller's fallback decides whether the circuit can be compiled at all.
            continue
    return results


def _portfolio_pass(backend_info: BackendInfo, timeout: float) -> BasePass:
    """Level 3: run several pipelines (the level-2 one first) and keep the best result: among
    those within a few percent of the fewest CZ, the most likely to succeed."""
    noise = noise_figures(backend_info)

    def transform(circuit: Circuit) -> tuple[Circuit, _MapPair]:
        deadline = time.monotonic() + timeout
        pipelines = _portfolio_pipelines(backend_info, circuit, timeout)
        results = _run_pipelines(circuit, pipelines, deadline)
        if not results:
            return _run_unit(circuit, SequencePass(_level_passes(backend_info, 2)))
        return _fewest_cz_then_success(results, noise)

    return CustomPassMap(transform, label="IQMPortfolio")


_STAR_L2_BUDGET_S = 2.0
"""Time a level-2 compilation for a Star device may spend on alternatives (seconds)."""


def _star_pass(backend_info: BackendInfo, optimisation_level: int, timeout: float) -> BasePass:
    """Compilation for a Star device: each candidate pipeline is completed with MOVE insertion
    and scored by the estimated success probability of the result, MOVEs included, because the
    circuit with the fewest CZ is not always the one that needs the fewest MOVEs (a CZ ladder
    needs a MOVE sandwich per CZ, a fan-out from one qubit a single sandwich)."""
    moves = resonator_compilation_pass(backend_info, optimisation_level)
    if optimisation_level == 0:
        return SequencePass([*_level_passes(backend_info, 0), moves])
    if optimisation_level == 1:
        return SequencePass([*_level_passes(backend_info, 1), moves])
    architecture = _device_architecture(backend_info)
    noise = noise_figures(backend_info)
    budget = timeout if optimisation_level == 3 else min(timeout, _STAR_L2_BUDGET_S)

    def pipelines(circuit: Circuit) -> list[BasePass]:
        if optimisation_level == 3:
            found = _portfolio_pipelines(backend_info, circuit, timeout)
        else:
            mapping = _best_mapping_pass(
                architecture, noise, _L2_EFFORT, _ROUTINGS_FAST, finalists=_L2_FINALISTS
            )
            found = [
                SequencePass(_level_passes(backend_info, 2)),
                SequencePass([DecomposeBoxes(), FullPeepholeOptimise(), mapping]),
            ]
            if _greedy_pauli_applies(circuit):
                found.append(_greedy_pauli_pipeline(1000, mapping))
        found.append(SequencePass(_level_passes(backend_info, 1)))
        return [SequencePass([pipeline, moves]) for pipeline in found]

    def transform(circuit: Circuit) -> tuple[Circuit, _MapPair]:
        deadline = time.monotonic() + budget
        results = _run_pipelines(circuit, pipelines(circuit), deadline)
        if not results:
            fallback = SequencePass([*_level_passes(backend_info, 2), moves])
            return _run_unit(circuit, fallback)
        return max(results, key=lambda r: star_success_probability(r[0], backend_info))

    return CustomPassMap(transform, label="IQMStarPortfolio")


def _has_classical_control(circuit: Circuit) -> bool:
    return any(
        command.op.type == OpType.Conditional or not command.qubits
        for command in circuit.get_commands()
    ) or _has_mid_measure(circuit)


def _has_mid_measure(circuit: Circuit) -> bool:
    measured: set[Qubit] = set()
    for command in circuit.get_commands():
        if command.op.type == OpType.Measure:
            measured.add(command.qubits[0])
        elif any(qubit in measured for qubit in command.qubits) and command.op.type != (
            OpType.Barrier
        ):
            return True
    return False


def default_compilation_pass(
    backend_info: BackendInfo, optimisation_level: int = 2, *, timeout: float = 300
) -> BasePass:
    """The pass that compiles any circuit for the device described by ``backend_info``.

    The result satisfies :func:`required_predicates` (for inputs the device can run at all:
    no more qubits than the device, no mid-circuit measurement or classical control unless it
    supports them) and keeps the user's register names and barriers.

    :param backend_info: the device's description (architecture, gate set, error figures).
    :param optimisation_level: 0 (place and route only), 1 (light), 2 (default: strong within
        a fraction of a second for typical circuits) or 3 (portfolio, slowest).
    :param timeout: at level 3, a bound in seconds on the time spent trying alternative
        pipelines for one circuit (at least one pipeline always completes).
    :return: the compilation pass.
    :raises ValueError: if ``optimisation_level`` is not 0, 1, 2 or 3, or ``timeout`` is not
        positive, or ``backend_info`` has no (non fully connected) architecture.
    """
    if optimisation_level not in OPTIMISATION_LEVELS:
        raise ValueError(f"optimisation_level must be 0, 1, 2 or 3, not {optimisation_level}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout}")
    _device_architecture(backend_info)
    if is_star_device(backend_info):
        # Qubit-qubit CZs are realised through the resonator last: nothing may rebase MOVE
        # after that.
        return _star_pass(backend_info, optimisation_level, timeout)
    if optimisation_level == 3:
        return _portfolio_pass(backend_info, timeout)
    return SequencePass(_level_passes(backend_info, optimisation_level))


pass_from_info = default_compilation_pass
"""Alias used by ``IQMBackend.pass_from_info``: compile offline from a ``BackendInfo``."""
