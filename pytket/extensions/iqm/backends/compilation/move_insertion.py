"""MOVE insertion for IQM Star devices: the last step of their compilation.

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
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Circuit, Command, OpType
from pytket.passes import BasePass, CustomPass
from pytket.unit_id import UnitID

from pytket.extensions.iqm.backends.architecture import node_for_qubit, qubit_for_node
from pytket.extensions.iqm.backends.compilation.circuits import (
    add_command,
    copy_wire_permutation,
    empty_like,
)
from pytket.extensions.iqm.backends.compilation.star_device import (
    MOVE_GATE,
    StarLayout,
    is_node,
    is_resonator_qubit,
    resonator_qubit,
)
from pytket.extensions.iqm.errors import IQMTranslationError

__all__ = ["insert_moves", "naive_insert_moves", "resonator_compilation_pass"]


# The look-ahead that picks which qubit to move simulates at most this many emitted operations,
# which bounds compile time on long circuits.
_LOOKAHEAD_LIMIT = 400


# Up to this many resonator CZs, each new sandwich is chosen by completing the whole schedule
# for every candidate (quadratic time: about 0.5 s at this size); beyond, by the look-ahead alone.
_ROLLOUT_LIMIT = 250


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
        a, b = (qubit_for_node(q) for q in command.qubits)
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
            is_node(q) and qubit_for_node(q) in residents for q in command.qubits
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
                if held
                in {qubit_for_node(q) for q in self.graph.commands[index].qubits if is_node(q)}
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


def _rebuild(circuit: Circuit, scheduler: _Scheduler) -> Circuit:
    out = empty_like(circuit, keep_name=True)
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
            add_command(out, commands[first])
    copy_wire_permutation(circuit, out)
    return out


def _needs_moves(circuit: Circuit, layout: StarLayout) -> bool:
    if not layout.resonators or any(is_resonator_qubit(q) for q in circuit.qubits):
        return False  # no resonator, or MOVEs already inserted: leave the circuit alone
    return any(
        command.op.type == OpType.CZ
        and frozenset(qubit_for_node(q) for q in command.qubits) not in layout.cz_loci
        for command in circuit.get_commands()
    )


def _check_placed(circuit: Circuit) -> None:
    for qubit in circuit.qubits:
        if not is_node(qubit):
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
    return _with_moves(circuit, backend_info, reorder=reorder, keep_resident=True)


def naive_insert_moves(circuit: Circuit, backend_info: BackendInfo) -> Circuit:
    """The naive baseline: each resonator CZ becomes its own MOVE · CZ · MOVE, in circuit order.

    This is what a pass that moves the state back after every gate produces (the moved qubit
    is still chosen by fidelity); it is the reference of the Deneb benchmark.

    :param circuit: as for :func:`insert_moves`
    :param backend_info: the Star device's description
    :raises IQMTranslationError: as for :func:`insert_moves`
    :return: the circuit with one MOVE sandwich per resonator CZ
    """
    return _with_moves(circuit, backend_info, reorder=False, keep_resident=False)


def _with_moves(
    circuit: Circuit, backend_info: BackendInfo, *, reorder: bool, keep_resident: bool
) -> Circuit:
    """Schedule ``circuit`` with MOVE sandwiches (see :class:`_Scheduler` for the flags); each
    new sandwich is chosen by completing the schedule for every candidate when the circuit is
    reordered, keeps states resident and is small enough."""
    layout = StarLayout.from_backend_info(backend_info)
    if not _needs_moves(circuit, layout):
        return circuit.copy()
    _check_placed(circuit)
    scheduler = _Scheduler(circuit, layout, reorder=reorder, keep_resident=keep_resident)
    resonator_czs = sum(pair is not None for pair in scheduler.graph.resonator_cz)
    scheduler.run(rollout=reorder and keep_resident and resonator_czs <= _ROLLOUT_LIMIT)
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
