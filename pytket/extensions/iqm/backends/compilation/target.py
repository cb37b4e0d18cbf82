"""What an IQM device accepts: its native gates, its architecture, the predicates a compiled
circuit must meet, and the rebase to ``PhasedX`` (``prx``) and ``CZ``.

Physical qubit ``QBn`` is ``Node(n-1)``; IQM devices run ``prx``, ``cz``, ``measure`` and
``barrier`` (plus ``reset`` and ``cc_prx``, a ``PhasedX`` conditioned on one bit, on devices
with feedback)."""

from __future__ import annotations

from pytket.architecture import Architecture
from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Circuit, Conditional, OpType
from pytket.passes import AutoRebase, BasePass, CustomPass, SequencePass
from pytket.predicates import (
    ConnectivityPredicate,
    GateSetPredicate,
    NoClassicalControlPredicate,
    NoMidMeasurePredicate,
    NoSymbolsPredicate,
    Predicate,
)

from pytket.extensions.iqm.backends.compilation.circuits import (
    add_command,
    copy_wire_permutation,
    empty_like,
)
from pytket.extensions.iqm.backends.compilation.star_device import (
    is_star_device,
    resonator_predicates,
)

__all__ = ["device_architecture", "rebase_pass", "required_predicates"]


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
    result = empty_like(circuit)
    for command in circuit.get_commands():
        op = command.op
        if isinstance(op, Conditional) and op.op.type == OpType.Phase:
            continue
        add_command(result, command)
    copy_wire_permutation(circuit, result)
    return result


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


def device_architecture(backend_info: BackendInfo) -> Architecture:
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
            ConnectivityPredicate(device_architecture(backend_info)),
            NoSymbolsPredicate(),
        ]
    if not backend_info.supports_midcircuit_measurement:
        predicates.append(NoMidMeasurePredicate())
    if not backend_info.supports_fast_feedforward:
        predicates.append(NoClassicalControlPredicate())
    return predicates
