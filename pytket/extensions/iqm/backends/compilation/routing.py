"""Routing a placed circuit on the device's couplers: LexiRoute (optionally reordering
commuting gates first, optionally on two-qubit blocks), and the passes that make a routed
circuit's two-qubit cost visible (SWAPs before final measurements absorbed, the others
decomposed to CX)."""

from __future__ import annotations

from dataclasses import dataclass

from pytket.architecture import Architecture
from pytket.circuit import Circuit, OpType, Qubit
from pytket.mapping import (
    LexiLabellingMethod,
    LexiRouteRoutingMethod,
    MultiGateReorderRoutingMethod,
    RoutingMethod,
)
from pytket.passes import (
    BasePass,
    CustomPass,
    CustomRoutingPass,
    DecomposeSwapsToCXs,
    DecomposeTK2,
    DelayMeasures,
    KAKDecomposition,
    NormaliseTK2,
    PlacementPass,
    SequencePass,
)
from pytket.placement import Placement

from pytket.extensions.iqm.backends.compilation.circuits import (
    add_command,
    copy_wire_permutation,
    empty_like,
)

__all__ = [
    "ROUTINGS_ALL",
    "ROUTINGS_FAST",
    "Routing",
    "absorb_final_swaps",
    "mapping_pass",
    "routed_preparation",
    "routing_pass",
]


def routing_pass(architecture: Architecture, reorder: bool) -> BasePass:
    """LexiRoute, optionally first commuting gates that already fit the device to the front."""
    methods: list[RoutingMethod] = [LexiLabellingMethod()]
    if reorder:
        methods.append(MultiGateReorderRoutingMethod())
    methods.append(LexiRouteRoutingMethod())
    return CustomRoutingPass(architecture, methods)


def mapping_pass(placement: Placement, architecture: Architecture) -> BasePass:
    return SequencePass([PlacementPass(placement), routing_pass(architecture, reorder=True)])


def absorb_final_swaps(circuit: Circuit) -> Circuit:
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
    result = empty_like(circuit)
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
            add_command(result, command)
    copy_wire_permutation(circuit, result)
    return result


def routed_preparation(architecture: Architecture) -> list[BasePass]:
    """Make a routed circuit's two-qubit cost visible: measurements last, SWAPs before them
    absorbed, the other SWAPs (and BRIDGEs) as CX, and gates on the same coupler merged."""
    return [
        DelayMeasures(),
        CustomPass(absorb_final_swaps, label="IQMAbsorbFinalSwaps"),
        # SWAPs left undecomposed would count as one gate and hide their real cost.
        DecomposeSwapsToCXs(architecture),
        KAKDecomposition(allow_swaps=False),
    ]


@dataclass(frozen=True)
class Routing:
    """One way of routing: with commuting gates reordered first or not, and on the CX circuit
    or on its two-qubit blocks (TK2), where a SWAP next to a block merges into it."""

    reorder: bool
    blocks: bool

    def passes(self, architecture: Architecture) -> list[BasePass]:
        """The routing, then the passes that make its two-qubit cost visible."""
        routing = routing_pass(architecture, self.reorder)
        if not self.blocks:
            return [routing, *routed_preparation(architecture)]
        return [
            KAKDecomposition(target_2qb_gate=OpType.TK2, allow_swaps=False),
            routing,
            DelayMeasures(),
            CustomPass(absorb_final_swaps, label="IQMAbsorbFinalSwaps"),
            KAKDecomposition(target_2qb_gate=OpType.TK2, allow_swaps=False),
            DecomposeSwapsToCXs(architecture),
            NormaliseTK2(),
            DecomposeTK2(allow_swaps=False),
            KAKDecomposition(allow_swaps=False),
        ]


ROUTINGS_FAST = (Routing(reorder=True, blocks=False), Routing(reorder=True, blocks=True))


ROUTINGS_ALL = (*ROUTINGS_FAST, Routing(reorder=False, blocks=False))
