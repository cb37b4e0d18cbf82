"""Compilation for IQM Star devices: qubits that interact only through a computational resonator.

**Representation.** A resonator is a pytket qubit of the dedicated register ``resonator``:
``Qubit("resonator", i)`` is the ``i``-th computational resonator of the DQA (its name, e.g.
``"CR1"``, is ``backend_info.misc["computational_resonators"][i]``). IQM's MOVE is the pytket
``CustomGate`` :data:`MOVE_GATE` named ``"move"``, always written on ``(qubit, resonator)``.
Its definition is an exact ``SWAP``: the hardware MOVE is a SWAP up to a phase that is undefined
but cancels within every MOVE sandwich, so with the SWAP definition every valid compiled circuit
has exactly the unitary of its input (resonators start and end in ``|0>``), and unitary
equivalence checks work unchanged. A ``CustomGate`` rather than ``OpType.SWAP`` because pytket's
optimisation and routing passes treat ``SWAP`` as a routing artefact (decomposed into CX,
turned into wire permutations); a custom gate is left alone by them, cannot be confused with a
user's SWAP, and is unambiguous for ``circuit_to_iqm``.

**Compilation.** The device's user-facing architecture is the simplified one (see
:attr:`~pytket.extensions.iqm.backends.architecture.IQMDevice.placement_architecture`):
placement and routing produce CZ between qubits. :func:`resonator_compilation_pass`, run
*last*, realises each such CZ(a, b) as ``MOVE(b, R) · CZ(a, R) · MOVE(b, R)`` while keeping a
moved state in the resonator across consecutive CZs with it: it schedules the circuit's
dependency graph so that, while ``b`` sits in ``R``, every gate that does not need ``b`` or the
resonator runs first, and every CZ with ``b`` runs as ``CZ(x, R)``; only when nothing else can
run is the sandwich closed. When a new sandwich opens, the qubit to move (and the CZ to start
with) is chosen by a look-ahead that counts how many CZs the sandwich would serve, ties going
to the better MOVE/CZ fidelities. The output obeys IQM's strict MOVE validation: a sandwich
opens on an empty resonator and closes with the same qubit, nothing but barriers touches a moved
qubit, and every sandwich is closed at the end.

**Wiring into** ``passes.py`` (for the lead): on a device where :func:`is_star_device` is true,

* ``default_compilation_pass(info, level)`` must end with ``resonator_compilation_pass(info,
  level)`` (after the finish pass; nothing that rebases may run after it, since a rebase would
  decompose MOVE);
* ``required_predicates(info)`` must use :func:`resonator_predicates` in place of its
  ``GateSetPredicate`` and ``ConnectivityPredicate`` (the resonator is no node of the
  architecture, and MOVE is a ``CustomGate``);
* ``circuit_to_iqm`` needs ``resonators=device.computational_resonators``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import (
    Circuit,
    Command,
    Conditional,
    CustomGate,
    CustomGateDef,
    Op,
    OpType,
    Qubit,
)
from pytket.passes import BasePass, CustomPass
from pytket.predicates import GateSetPredicate, Predicate, UserDefinedPredicate
from pytket.unit_id import UnitID

from pytket.extensions.iqm.backends.architecture import node_for_qubit, qubit_for_node
from pytket.extensions.iqm.backends.error_figures import (
    NOMINAL_CZ_ERROR,
    median_or,
    noise_figures,
)
from pytket.extensions.iqm.backends.wires import append_wire_permutation
from pytket.extensions.iqm.errors import IQMTranslationError

__all__ = [
    "MOVE_GATE",
    "MOVE_GATE_NAME",
    "RESONATOR_REGISTER",
    "StarLayout",
    "check_resonator_loci",
    "count_moves",
    "insert_moves",
    "is_move",
    "is_resonator_qubit",
    "is_star_device",
    "naive_insert_moves",
    "resonator_compilation_pass",
    "resonator_predicates",
    "resonator_qubit",
    "star_success_probability",
]

RESONATOR_REGISTER = "resonator"
"""Register of the resonator qubits: ``Qubit("resonator", i)`` is the DQA's ``i``-th resonator."""

MOVE_GATE_NAME = "move"
"""Name of the pytket custom gate standing for IQM's ``move`` (and of the IQM instruction)."""


def _move_definition() -> CustomGateDef:
    swap = Circuit(2)
    swap.SWAP(0, 1)
    return CustomGateDef.define(MOVE_GATE_NAME, swap, [])


MOVE_GATE: CustomGateDef = _move_definition()
"""The MOVE gate: a custom gate on ``(qubit, resonator)`` defined as SWAP (see module doc)."""

# Nominal MOVE error, used only to rank choices and estimate ESP when the device publishes
# none (a MOVE about as good as a tenth of a CZ's error is not typical, so it is set close to
# Deneb's); the other nominal figures are error_figures'.
_NOMINAL_MOVE_ERROR = 1e-2

# The look-ahead that picks which qubit to move simulates at most this many emitted operations,
# which bounds compile time on long circuits.
_LOOKAHEAD_LIMIT = 400

# Up to this many resonator CZs, each new sandwich is chosen by completing the whole schedule
# for every candidate (quadratic time: about 0.5 s at this size); beyond, by the look-ahead alone.
_ROLLOUT_LIMIT = 250


def resonator_qubit(index: int) -> Qubit:
    """The pytket qubit standing for the DQA's ``index``-th computational resonator.

    :param index: position of the resonator in ``computational_resonators`` (0-based)
    :raises ValueError: if ``index`` is negative
    :return: ``Qubit("resonator", index)``
    """
    if index < 0:
        raise ValueError(f"resonator index must be at least 0, not {index}")
    return Qubit(RESONATOR_REGISTER, index)


def is_resonator_qubit(unit: UnitID) -> bool:
    """Whether ``unit`` is a resonator qubit (register ``resonator``, one index).

    :param unit: any unit of a circuit
    :return: ``True`` for ``Qubit("resonator", i)``
    """
    return (
        unit.type.name == "qubit" and unit.reg_name == RESONATOR_REGISTER and len(unit.index) == 1
    )


def is_move(op: Op) -> bool:
    """Whether ``op`` is the MOVE custom gate.

    :param op: a pytket operation
    :return: ``True`` for a ``CustomGate`` named ``"move"``
    """
    return (
        op.type == OpType.CustomGate
        and isinstance(op, CustomGate)
        and (op.gate.name == MOVE_GATE_NAME)
    )


def count_moves(circuit: Circuit) -> int:
    """Number of MOVE gates in ``circuit``.

    :param circuit: any circuit
    :return: the count
    """
    return sum(1 for command in circuit.get_commands() if is_move(command.op))


def is_star_device(backend_info: BackendInfo) -> bool:
    """Whether the device has computational resonators and a calibrated MOVE.

    :param backend_info: info built by ``IQMDevice.backend_info``
    :return: ``True`` on Star devices (e.g. Deneb), where :func:`resonator_compilation_pass`
        is needed
    """
    misc = backend_info.misc
    return bool(misc.get("computational_resonators")) and bool(misc.get("move_loci"))


# ---------------------------------------------------------------------------------------------
# Device facts


def _triples(raw: Any) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for entry in raw or ():
        a, b, e = entry
        found[(str(a), str(b))] = float(e)
    return found


@dataclass(frozen=True)
class StarLayout:
    """What resonator compilation needs to know about a device, read from its ``BackendInfo``."""

    resonators: tuple[str, ...]
    """Resonator names; ``Qubit("resonator", i)`` is ``resonators[i]``."""
    cz_loci: frozenset[frozenset[str]]
    """CZ loci (qubit–qubit and qubit–resonator), unordered."""
    move_loci: frozenset[tuple[str, str]]
    """MOVE loci ``(qubit, resonator)``."""
    cz_errors: Mapping[frozenset[str], float] = field(default_factory=dict)
    """Error per CZ locus where known."""
    move_errors: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """Error per MOVE locus where known."""

    @classmethod
    def from_backend_info(cls, backend_info: BackendInfo) -> StarLayout:
        """Read the layout from ``backend_info.misc`` (as written by ``IQMDevice.backend_info``).

        :param backend_info: the device's description
        :return: the layout (with no resonators on devices without them)
        """
        misc = backend_info.misc
        cz_errors = {frozenset(k): e for k, e in _triples(misc.get("resonator_cz_errors")).items()}
        for (a, b), errors in (backend_info.all_edge_gate_errors or {}).items():
            if OpType.CZ in errors:
                cz_errors.setdefault(
                    frozenset((qubit_for_node(a), qubit_for_node(b))), float(errors[OpType.CZ])
                )
        return cls(
            resonators=tuple(str(r) for r in misc.get("computational_resonators", ())),
            cz_loci=frozenset(frozenset(map(str, e)) for e in misc.get("cz_loci", ())),
            move_loci=frozenset((str(q), str(r)) for q, r in misc.get("move_loci", ())),
            cz_errors=cz_errors,
            move_errors=_triples(misc.get("move_errors")),
        )

    def cz_error(self, a: str, b: str) -> float:
        """Error of CZ on ``{a, b}`` (median of known CZ errors, or nominal, if unknown)."""
        known = self.cz_errors.get(frozenset((a, b)))
        if known is not None:
            return known
        return median_or(self.cz_errors.values(), NOMINAL_CZ_ERROR)

    def move_error(self, qubit: str, resonator: str) -> float:
        """Error of MOVE on ``(qubit, resonator)`` (median or nominal if unknown)."""
        known = self.move_errors.get((qubit, resonator))
        if known is not None:
            return known
        return median_or(self.move_errors.values(), _NOMINAL_MOVE_ERROR)

    def realisations(self, a: str, b: str) -> list[tuple[str, str, int]]:
        """Ways to run CZ(a, b) through a resonator: ``(moved, other, resonator index)``."""
        found = []
        for index, resonator in enumerate(self.resonators):
            for moved, other in ((b, a), (a, b)):
                if (moved, resonator) in self.move_loci and (
                    frozenset((other, resonator)) in self.cz_loci
                ):
                    found.append((moved, other, index))
        return found

    def realisation_cost(self, moved: str, other: str, index: int) -> float:
        """−log of the success probability of MOVE · CZ · MOVE for this realisation."""
        resonator = self.resonators[index]
        return -2 * math.log1p(-self.move_error(moved, resonator)) - math.log1p(
            -self.cz_error(other, resonator)
        )


# ---------------------------------------------------------------------------------------------
# Scheduling


def _name(unit: UnitID) -> str:
    return qubit_for_node(unit)


@dataclass
class _Graph:
    """Dependency graph of a circuit's commands: one wire per qubit and bit."""

    commands: list[Command]
    successors: list[list[int]]
    predecessors: list[int]
    """Number of distinct predecessors of each command."""
    resonator_cz: list[tuple[str, str] | None]
    """For a CZ that needs the resonator: its qubit names; ``None`` for everything else."""

    @classmethod
    def build(cls, circuit: Circuit, layout: StarLayout) -> _Graph:
        commands = circuit.get_commands()
        successors: list[list[int]] = [[] for _ in commands]
        predecessors = [0] * len(commands)
        last: dict[UnitID, int] = {}
        resonator_cz: list[tuple[str, str] | None] = []
        for index, command in enumerate(commands):
            before = {last[u] for u in command.args if u in last}
            for p in before:
                successors[p].append(index)
            predecessors[index] = len(before)
            for unit in command.args:
                last[unit] = index
            resonator_cz.append(cls._classify(command, layout))
        return cls(commands, successors, predecessors, resonator_cz)

    @staticmethod
    def _classify(command: Command, layout: StarLayout) -> tuple[str, str] | None:
        if command.op.type != OpType.CZ:
            return None
        a, b = (_name(q) for q in command.qubits)
        if frozenset((a, b)) in layout.cz_loci:
            return None  # a direct qubit–qubit coupler: no resonator needed
        if not layout.realisations(a, b):
            raise IQMTranslationError(
                f"CZ on {command.qubits[0]}, {command.qubits[1]} ({a}, {b}) has no coupler and "
                "no route through a resonator on this device (no MOVE locus for either qubit "
                "with a CZ locus for the other). Compile the circuit with the backend's "
                "default_compilation_pass, which places on the device's architecture."
            )
        return (a, b)


@dataclass
class _State:
    """Where the scheduler is: which commands are ready, which states sit in resonators."""

    ready: list[int]
    """Commands whose predecessors have all been emitted, in circuit order."""
    remaining: dict[int, int]
    """Overlay of predecessor counts still to be emitted (base: :attr:`_Graph.predecessors`)."""
    resident: dict[int, str]
    """Resonator index → qubit name whose state it holds."""

    def copy(self) -> _State:
        return _State(list(self.ready), dict(self.remaining), dict(self.resident))


class _Scheduler:
    """Emit the commands of a circuit, inserting MOVEs, in an order that needs few of them."""

    def __init__(
        self, circuit: Circuit, layout: StarLayout, *, reorder: bool, keep_resident: bool
    ) -> None:
        self.layout = layout
        self.graph = _Graph.build(circuit, layout)
        self.reorder = reorder
        self.keep_resident = keep_resident
        # Each event: ("command", index) | ("cz", qubit, resonator) | ("move", qubit, resonator)
        self.events: list[tuple[str, Any, Any]] = []

    # -- state transitions ------------------------------------------------------------------

    def _ready_now(self, state: _State) -> list[int]:
        if self.reorder:
            return list(state.ready)
        return state.ready[:1]  # strictly in circuit order

    def _complete(self, state: _State, index: int) -> None:
        state.ready.remove(index)
        for succ in self.graph.successors[index]:
            left = state.remaining.get(succ, self.graph.predecessors[succ]) - 1
            state.remaining[succ] = left
            if left == 0:
                bisect.insort(state.ready, succ)

    def _try(self, state: _State, index: int, record: bool) -> bool:
        """Emit command ``index`` if it can run now without closing a sandwich."""
        pair = self.graph.resonator_cz[index]
        residents = set(state.resident.values())
        if pair is not None:
            for resonator, held in state.resident.items():
                if held in pair:
                    other = pair[1] if held == pair[0] else pair[0]
                    if (
                        other in residents
                        or frozenset((other, self.layout.resonators[resonator]))
                        not in self.layout.cz_loci
                    ):
                        continue
                    if record:
                        self.events.append(("cz", index, (other, resonator)))
                    self._complete(state, index)
                    if not self.keep_resident:
                        self._close(state, resonator, record)
                    return True
            return False
        command = self.graph.commands[index]
        # Barriers may touch a moved qubit (strict validation allows them).
        if command.op.type != OpType.Barrier and any(
            _is_node(q) and _name(q) in residents for q in command.qubits
        ):
            return False
        if record:
            self.events.append(("command", index, None))
        self._complete(state, index)
        return True

    def _run_free(self, state: _State, record: bool, limit: int | None = None) -> int:
        """Emit everything that needs no sandwich change; return how many resonator CZs ran."""
        served = 0
        emitted = 0
        progress = True
        while progress:
            progress = False
            for index in self._ready_now(state):
                if self._try(state, index, record):
                    progress = True
                    emitted += 1
                    if self.graph.resonator_cz[index] is not None:
                        served += 1
                    if not self.reorder:
                        break
            if limit is not None and emitted >= limit:
                break
        return served

    def _close(self, state: _State, resonator: int, record: bool) -> None:
        qubit = state.resident.pop(resonator)
        if record:
            self.events.append(("move", qubit, resonator))

    def _open(self, state: _State, qubit: str, resonator: int, record: bool) -> None:
        state.resident[resonator] = qubit
        if record:
            self.events.append(("move", qubit, resonator))

    def _candidates(self, state: _State) -> list[tuple[int, str, str, int]]:
        residents = set(state.resident.values())
        found = []
        for index in self._ready_now(state):
            pair = self.graph.resonator_cz[index]
            if pair is None or residents & set(pair):
                continue
            for moved, other, resonator in self.layout.realisations(*pair):
                if resonator not in state.resident:
                    found.append((index, moved, other, resonator))
        return found

    def _window_score(self, state: _State, candidate: tuple[int, str, str, int]) -> int:
        """Resonator CZs the sandwich opened by ``candidate`` would serve before it must close."""
        _, moved, _, resonator = candidate
        trial = state.copy()
        trial.resident[resonator] = moved
        return self._run_free(trial, record=False, limit=_LOOKAHEAD_LIMIT)

    def _best_opening(
        self, state: _State, candidates: list[tuple[int, str, str, int]], rollout: bool
    ) -> tuple[str, int]:
        if len(candidates) == 1 or not self.keep_resident:
            scored = [(0, 0, c) for c in candidates]
        else:
            scored = []
            for candidate in candidates:
                served = self._window_score(state, candidate)
                total = 0
                if rollout:
                    # Finish the whole schedule with window-score choices: total MOVEs.
                    trial = state.copy()
                    self._open(trial, candidate[1], candidate[3], record=False)
                    total = self._schedule(trial, record=False, rollout=False)
                scored.append((total, -served, candidate))

        def key(entry: tuple[int, int, tuple[int, str, str, int]]) -> tuple[int, int, float, int]:
            total, served, (index, moved, other, resonator) = entry
            # Fewest MOVEs overall (rollout), most CZs in this sandwich, best fidelity, order.
            cost = self.layout.realisation_cost(moved, other, resonator)
            return (total, served, cost, index)

        _, _, (_, moved, _, resonator) = min(scored, key=key)
        return moved, resonator

    def _schedule(self, state: _State, record: bool, rollout: bool) -> int:
        """Emit everything from ``state`` on; return the number of MOVEs it took."""
        moves = 0
        while True:
            self._run_free(state, record)
            if not state.ready:
                break
            ready = self._ready_now(state)
            residents = set(state.resident.values())
            blocked_by = {
                resonator
                for index in ready
                if self.graph.resonator_cz[index] is None
                for resonator, held in state.resident.items()
                if held in {_name(q) for q in self.graph.commands[index].qubits if _is_node(q)}
            }
            if blocked_by:
                for resonator in sorted(blocked_by):
                    self._close(state, resonator, record)
                    moves += 1
                continue
            candidates = self._candidates(state)
            if not candidates:
                if not residents:  # pragma: no cover - _Graph.build rejects unrealisable CZs
                    raise IQMTranslationError("A CZ cannot be routed through any resonator")
                for resonator in sorted(state.resident):
                    self._close(state, resonator, record)
                    moves += 1
                continue
            moved, resonator = self._best_opening(state, candidates, rollout)
            self._open(state, moved, resonator, record)
            moves += 1
        for resonator in sorted(state.resident):
            self._close(state, resonator, record)
            moves += 1
        return moves

    def run(self, rollout: bool) -> None:
        """Schedule the whole circuit, recording events.

        :param rollout: choose each new sandwich by completing the schedule for every candidate
            (quadratic time); otherwise by the CZs the sandwich itself serves
        """
        state = _State(
            ready=[i for i, n in enumerate(self.graph.predecessors) if n == 0],
            remaining={},
            resident={},
        )
        self._schedule(state, record=True, rollout=rollout)


def _is_node(unit: UnitID) -> bool:
    return unit.type.name == "qubit" and unit.reg_name == "node" and len(unit.index) == 1


def _rebuild(circuit: Circuit, scheduler: _Scheduler) -> Circuit:
    out = Circuit(circuit.name) if circuit.name else Circuit()
    for qubit in circuit.qubits:
        out.add_qubit(qubit)
    for bit in circuit.bits:
        out.add_bit(bit)
    out.add_phase(circuit.phase)
    used = sorted({r for kind, _, r in scheduler.events if kind == "move"})
    resonators = {r: resonator_qubit(r) for r in used}
    for qubit in resonators.values():
        out.add_qubit(qubit)
    commands = scheduler.graph.commands
    for kind, first, second in scheduler.events:
        if kind == "move":
            out.add_custom_gate(MOVE_GATE, [], [node_for_qubit(first), resonators[second]])
        elif kind == "cz":
            other, resonator = second
            out.CZ(node_for_qubit(other), resonators[resonator])
        else:
            command = commands[first]
            args = list(command.args)
            if command.op.type == OpType.Barrier:
                out.add_barrier(args)
            elif command.opgroup is not None:
                out.add_gate(command.op, args, opgroup=command.opgroup)
            else:
                out.add_gate(command.op, args)
    permutation = {
        Qubit(a.reg_name, a.index): Qubit(b.reg_name, b.index)
        for a, b in circuit.implicit_qubit_permutation().items()
        if a != b
    }
    if permutation:
        append_wire_permutation(out, permutation)
    return out


def _needs_moves(circuit: Circuit, layout: StarLayout) -> bool:
    if not layout.resonators or any(is_resonator_qubit(q) for q in circuit.qubits):
        return False  # no resonator, or MOVEs already inserted: leave the circuit alone
    return any(
        command.op.type == OpType.CZ
        and frozenset(_name(q) for q in command.qubits) not in layout.cz_loci
        for command in circuit.get_commands()
    )


def _check_placed(circuit: Circuit) -> None:
    for qubit in circuit.qubits:
        if not _is_node(qubit):
            raise IQMTranslationError(
                f"Qubit {qubit} is not a device qubit: resonator compilation needs a placed "
                "circuit (node qubits only). Run it after placement and routing, as the last "
                "step of the backend's default_compilation_pass."
            )


def insert_moves(circuit: Circuit, backend_info: BackendInfo, *, reorder: bool = True) -> Circuit:
    """Realise every CZ that has no direct coupler through a resonator, with few MOVEs.

    A circuit without such CZ, or one that already acts on resonator qubits, is returned as a
    copy, unchanged.

    :param circuit: a placed circuit (``node`` qubits) whose CZs are on the device's
        :attr:`~pytket.backends.backendinfo.BackendInfo.architecture` edges
    :param backend_info: the Star device's description
    :param reorder: reorder commuting operations (along the dependency graph) to keep moved
        states in the resonator longer; with ``False`` the circuit order is kept
    :raises IQMTranslationError: if the circuit is not placed, or a CZ cannot be realised
    :return: the circuit with MOVE sandwiches, valid under strict MOVE validation
    """
    layout = StarLayout.from_backend_info(backend_info)
    if not _needs_moves(circuit, layout):
        return circuit.copy()
    _check_placed(circuit)
    scheduler = _Scheduler(circuit, layout, reorder=reorder, keep_resident=True)
    resonator_czs = sum(pair is not None for pair in scheduler.graph.resonator_cz)
    scheduler.run(rollout=reorder and resonator_czs <= _ROLLOUT_LIMIT)
    return _rebuild(circuit, scheduler)


def naive_insert_moves(circuit: Circuit, backend_info: BackendInfo) -> Circuit:
    """The naive baseline: each resonator CZ becomes its own MOVE · CZ · MOVE, in circuit order.

    This is what a pass that moves the state back after every gate produces (the moved qubit
    is still chosen by fidelity); it is the reference of the Deneb benchmark.

    :param circuit: as for :func:`insert_moves`
    :param backend_info: the Star device's description
    :raises IQMTranslationError: as for :func:`insert_moves`
    :return: the circuit with one MOVE sandwich per resonator CZ
    """
    layout = StarLayout.from_backend_info(backend_info)
    if not _needs_moves(circuit, layout):
        return circuit.copy()
    _check_placed(circuit)
    scheduler = _Scheduler(circuit, layout, reorder=False, keep_resident=False)
    scheduler.run(rollout=False)
    return _rebuild(circuit, scheduler)


def resonator_compilation_pass(backend_info: BackendInfo, optimisation_level: int = 2) -> BasePass:
    """The last step of compilation for a Star device: insert MOVEs (see module doc).

    On a device without resonators the pass leaves circuits unchanged, so it can be appended
    unconditionally.

    :param backend_info: the device's description
    :param optimisation_level: 0 keeps the compiled circuit's order (still keeping states in
        the resonator across consecutive CZs); 1–3 also reorder commuting operations
    :raises ValueError: if ``optimisation_level`` is not 0, 1, 2 or 3
    :return: a pass on placed circuits
    """
    if optimisation_level not in (0, 1, 2, 3):
        raise ValueError(f"optimisation_level must be 0, 1, 2 or 3, not {optimisation_level}")
    reorder = optimisation_level > 0

    def transform(circuit: Circuit) -> Circuit:
        return insert_moves(circuit, backend_info, reorder=reorder)

    return CustomPass(transform, label="IQMResonatorMoves")


# ---------------------------------------------------------------------------------------------
# Predicates


def _loci_problem(circuit: Circuit, layout: StarLayout, qubits: set[str]) -> str | None:
    """What in ``circuit`` is not on a calibrated locus, or ``None``."""
    for command in circuit.get_commands():
        op = command.op
        units = [u for u in command.args if u.type.name == "qubit"]
        for unit in units:
            if is_resonator_qubit(unit):
                if unit.index[0] >= len(layout.resonators):
                    return f"{unit} is not a resonator of the device"
            elif not _is_node(unit) or _name(unit) not in qubits:
                return f"{unit} is not a qubit of the device"
        on_resonator = [u for u in units if is_resonator_qubit(u)]
        if is_move(op):
            qubit, resonator = units
            if not _is_node(qubit) or not is_resonator_qubit(resonator):
                return f"MOVE on {qubit}, {resonator}: MOVE acts on (qubit, resonator)"
            locus = (_name(qubit), layout.resonators[resonator.index[0]])
            if locus not in layout.move_loci:
                return f"MOVE on {locus} is not a calibrated MOVE locus"
        elif op.type == OpType.CZ:
            names = frozenset(
                layout.resonators[u.index[0]] if is_resonator_qubit(u) else _name(u) for u in units
            )
            if names not in layout.cz_loci:
                return f"CZ on {', '.join(sorted(names))} is not a calibrated CZ locus"
        elif on_resonator and op.type != OpType.Barrier:
            return f"{op.type.name} acts on resonator {on_resonator[0]}: only MOVE and CZ may"
    return None


def check_resonator_loci(circuit: Circuit, backend_info: BackendInfo) -> None:
    """Check that every MOVE and CZ of ``circuit`` is on a calibrated locus of the device.

    MOVE must act on ``(node, resonator)`` with a MOVE locus, CZ on a CZ locus (qubit–qubit or
    qubit–resonator), and nothing else may act on a resonator (barriers aside).

    :param circuit: a compiled circuit
    :param backend_info: the Star device's description
    :raises IQMTranslationError: naming the first offending operation
    """
    layout = StarLayout.from_backend_info(backend_info)
    problem = _loci_problem(circuit, layout, set(backend_info.misc.get("qubits", ())))
    if problem is not None:
        raise IQMTranslationError(
            f"{problem}. Compile the circuit with the backend's default_compilation_pass."
        )


def resonator_predicates(backend_info: BackendInfo) -> list[Predicate]:
    """Gate-set and locus predicates for a Star device, replacing ``GateSetPredicate`` and
    ``ConnectivityPredicate`` in ``required_predicates``.

    :param backend_info: the Star device's description
    :return: a ``GateSetPredicate`` (native gates plus the MOVE custom gate) and a
        ``UserDefinedPredicate`` running :func:`check_resonator_loci`
    """
    gates = {OpType.PhasedX, OpType.CZ, OpType.Measure, OpType.Barrier, OpType.CustomGate}
    if backend_info.supports_reset:
        gates.add(OpType.Reset)
    layout = StarLayout.from_backend_info(backend_info)
    qubits = set(backend_info.misc.get("qubits", ()))

    def on_loci(circuit: Circuit) -> bool:
        return _loci_problem(circuit, layout, qubits) is None

    return [GateSetPredicate(gates), UserDefinedPredicate(on_loci)]


# ---------------------------------------------------------------------------------------------
# Estimated success probability


def star_success_probability(circuit: Circuit, backend_info: BackendInfo) -> float:
    """Estimated success probability ∏(1 − e) over PRX, CZ (qubit–qubit and qubit–resonator),
    MOVE and readouts, from the device's figures (median of the known ones, else nominal, for
    components without one). Barriers, resets and phases are free.

    :param circuit: a compiled circuit (after :func:`insert_moves`)
    :param backend_info: the device's description
    :return: the estimate, between 0 and 1
    """
    layout = StarLayout.from_backend_info(backend_info)
    noise = noise_figures(backend_info)

    def component(unit: UnitID) -> str:
        if is_resonator_qubit(unit):
            return layout.resonators[unit.index[0]]
        return _name(unit)

    total = 0.0
    for command in circuit.get_commands():
        op = command.op
        optype = op.type
        qubits = command.qubits
        if isinstance(op, Conditional):
            optype = op.op.type
        if optype == OpType.Measure:
            total += math.log1p(-noise.readout_error(qubits[0]))
        elif is_move(op):
            total += math.log1p(-layout.move_error(component(qubits[0]), component(qubits[1])))
        elif optype == OpType.CZ:
            total += math.log1p(-layout.cz_error(component(qubits[0]), component(qubits[1])))
        elif optype in (OpType.Barrier, OpType.Reset, OpType.Phase) or not qubits:
            continue
        elif len(qubits) == 1:
            total += math.log1p(-noise.prx_error(qubits[0]))
        else:
            total += (len(qubits) - 1) * 2 * math.log1p(-layout.cz_error("", ""))
    return math.exp(total)
