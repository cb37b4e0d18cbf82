"""Setting a circuit's implicit wire permutation, which pytket offers no setter for."""

from __future__ import annotations

from collections.abc import Mapping

from pytket.circuit import Circuit, Qubit


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
