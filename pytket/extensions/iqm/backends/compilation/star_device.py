"""IQM Star devices: qubits that interact only through a computational resonator.

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

This module holds what a Star device is to compilation: the MOVE gate and resonator qubits,
:func:`is_star_device`, the device's :class:`StarLayout` (resonators, CZ and MOVE loci and
their errors) and the predicates a compiled circuit must meet. Inserting the MOVEs is
:mod:`.move_insertion`'s job.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Circuit, CustomGate, CustomGateDef, Op, OpType, Qubit
from pytket.predicates import GateSetPredicate, Predicate, UserDefinedPredicate
from pytket.unit_id import UnitID

from pytket.extensions.iqm.backends.architecture import qubit_for_node
from pytket.extensions.iqm.backends.compilation.error_figures import NOMINAL_CZ_ERROR, median_or
from pytket.extensions.iqm.errors import IQMTranslationError

__all__ = [
    "MOVE_GATE",
    "MOVE_GATE_NAME",
    "NOMINAL_MOVE_ERROR",
    "RESONATOR_REGISTER",
    "StarLayout",
    "check_resonator_loci",
    "count_moves",
    "is_move",
    "is_node",
    "is_resonator_qubit",
    "is_star_device",
    "resonator_predicates",
    "resonator_qubit",
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
NOMINAL_MOVE_ERROR = 1e-2


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
        return median_or(self.move_errors.values(), NOMINAL_MOVE_ERROR)

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


def is_node(unit: UnitID) -> bool:
    """Whether ``unit`` is a device qubit (``node[i]``), as placement names them."""
    return unit.type.name == "qubit" and unit.reg_name == "node" and len(unit.index) == 1


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
            elif not is_node(unit) or qubit_for_node(unit) not in qubits:
                return f"{unit} is not a qubit of the device"
        on_resonator = [u for u in units if is_resonator_qubit(u)]
        if is_move(op):
            qubit, resonator = units
            if not is_node(qubit) or not is_resonator_qubit(resonator):
                return f"MOVE on {qubit}, {resonator}: MOVE acts on (qubit, resonator)"
            locus = (qubit_for_node(qubit), layout.resonators[resonator.index[0]])
            if locus not in layout.move_loci:
                return f"MOVE on {locus} is not a calibrated MOVE locus"
        elif op.type == OpType.CZ:
            names = frozenset(
                layout.resonators[u.index[0]] if is_resonator_qubit(u) else qubit_for_node(u)
                for u in units
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
