"""The circuit-copy toolkit compilation passes share: an empty copy of a circuit, appending a
command as it is, carrying the implicit wire permutation over (pytket has no setter for it),
running a pass on a copy, and the two-qubit gate count that candidates are ranked by."""

from __future__ import annotations

from collections.abc import Mapping

from pytket.circuit import Circuit, Command, OpType, Qubit
from pytket.passes import BasePass
from pytket.predicates import CompilationUnit
from pytket.unit_id import UnitID

MapPair = tuple[dict[UnitID, UnitID], dict[UnitID, UnitID]]
"""A compilation's initial and final qubit maps, as ``CustomPassMap`` returns them."""


def empty_like(circuit: Circuit, *, keep_name: bool = False) -> Circuit:
    """A circuit with the same qubits, bits and global phase, and no operations (and the same
    name if ``keep_name``)."""
    result = Circuit(circuit.name) if keep_name and circuit.name else Circuit()
    for qubit in circuit.qubits:
        result.add_qubit(qubit)
    for bit in circuit.bits:
        result.add_bit(bit)
    result.add_phase(circuit.phase)
    return result


def add_command(circuit: Circuit, command: Command) -> None:
    """Append ``command`` as it is (barriers need their own method)."""
    if command.op.type == OpType.Barrier:
        circuit.add_barrier(list(command.args))
    elif command.opgroup is not None:
        circuit.add_gate(command.op, list(command.args), opgroup=command.opgroup)
    else:
        circuit.add_gate(command.op, list(command.args))


def copy_wire_permutation(source: Circuit, target: Circuit) -> None:
    """Give ``target`` the implicit output permutation of ``source``."""
    permutation = source.implicit_qubit_permutation()
    if any(a != b for a, b in permutation.items()):
        append_wire_permutation(target, permutation)


def append_wire_permutation(circuit: Circuit, permutation: Mapping[Qubit, Qubit]) -> None:
    """Give ``circuit`` the implicit output permutation ``permutation`` (input → output wire).

    pytket has no setter for it: build it as SWAP gates turned into wire swaps in a circuit
    of its own (``replace_SWAPs`` would also turn ``circuit``'s real SWAPs into wire swaps),
    then append that.
    """
    crossing = Circuit()
    for qubit in circuit.qubits:
        crossing.add_qubit(qubit)
    # Current position of each logical wire; apply transpositions until every wire is placed.
    where = {qubit: qubit for qubit in permutation}
    holder = {qubit: qubit for qubit in permutation}
    for source, target in permutation.items():
        current = where[source]
        if current == target:
            continue
        other = holder[target]
        crossing.SWAP(current, target)
        where[source], where[other] = target, current
        holder[target], holder[current] = source, other
    crossing.replace_SWAPs()
    circuit.append(crossing)


def run_unit(circuit: Circuit, compilation: BasePass) -> tuple[Circuit, MapPair]:
    """Apply ``compilation`` to a copy of ``circuit``; the result and its qubit maps."""
    unit = CompilationUnit(circuit.copy())
    compilation.apply(unit)
    return unit.circuit, (dict(unit.initial_map), dict(unit.final_map))


def cx_and_cz_count(circuit: Circuit) -> int:
    """Number of CX and CZ gates: the two-qubit cost candidates are ranked by."""
    return int(circuit.n_gates_of_type(OpType.CX) + circuit.n_gates_of_type(OpType.CZ))


__all__ = [
    "MapPair",
    "add_command",
    "append_wire_permutation",
    "copy_wire_permutation",
    "cx_and_cz_count",
    "empty_like",
    "run_unit",
]
