"""iqm-client 22.x wire format (CoCoS V1) → the emulator's :class:`CircuitSpec`.

Applies the request's ``qubit_mapping`` and converts angles from turns (``angle_t``,
``phase_t``) to radians. Problems are reported as :class:`JobValidationError`, whose message
becomes the failed job's message.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

from iqm.iqm_client import Instruction, RunRequest
from pytket.extensions.iqm.emulator.operations import CircuitSpec, Operation
from pytket.extensions.iqm.emulator.validation import JobValidationError

_UNCALIBRATED = frozenset({"barrier", "delay", "reset"})


def physical_mapping(request: RunRequest, components: Collection[str]) -> dict[str, str] | None:
    """The request's logical → physical qubit mapping, checked; ``None`` if it has none.

    :param components: the calibration's component names.
    :raises JobValidationError: if a logical name repeats, two logical names share a physical
        one, or a physical name is not a component of the device.
    """
    if request.qubit_mapping is None:
        return None
    mapping: dict[str, str] = {}
    owner: dict[str, str] = {}
    for item in request.qubit_mapping:
        logical, physical = item.logical_name, item.physical_name
        if logical in mapping:
            raise JobValidationError(f"qubit_mapping maps the logical qubit {logical!r} twice.")
        if physical in owner:
            raise JobValidationError(
                f"qubit_mapping maps both {owner[physical]!r} and {logical!r} to {physical!r}; "
                "the mapping must be injective."
            )
        if physical not in components:
            raise JobValidationError(
                f"qubit_mapping maps {logical!r} to {physical!r}, which is not a component of "
                f"this device (components: {', '.join(components)})."
            )
        mapping[logical] = physical
        owner[physical] = logical
    return mapping


def _operation(
    instruction: Instruction, qubits: tuple[str, ...], feedback_qubit: str | None
) -> Operation:
    args = instruction.args
    name = instruction.name
    if name in ("prx", "cc_prx"):
        return Operation(
            name,
            qubits,
            angle=2 * math.pi * float(args["angle_t"]),
            phase=2 * math.pi * float(args["phase_t"]),
            feedback_key=args.get("feedback_key"),
            feedback_qubit=feedback_qubit,
        )
    if name == "measure":
        return Operation(name, qubits, key=args["key"], feedback_key=args.get("feedback_key"))
    if name == "delay":
        return Operation(name, qubits, duration=float(args["duration"]))
    return Operation(name, qubits)


def circuits_from_request(
    request: RunRequest,
    components: Collection[str],
    implementations: Mapping[str, Collection[str]] | None = None,
) -> list[CircuitSpec]:
    """The request's circuits in physical names and radians.

    :param components: the calibration's component names (qubits and resonators).
    :param implementations: gate name → implementation names the calibration offers; an
        instruction asking for another implementation is refused. ``None`` skips that check.
    :raises JobValidationError: if the qubit mapping is invalid, misses a qubit a circuit uses,
        or an instruction asks for an implementation that is not calibrated.
    """
    mapping = physical_mapping(request, components)

    def physical(name: str, circuit: str, index: int) -> str:
        if mapping is None:
            return name
        if name not in mapping:
            raise JobValidationError(
                f"Circuit {circuit!r} (index {index}) uses qubit {name!r}, which is not in the "
                "qubit_mapping."
            )
        return mapping[name]

    specs: list[CircuitSpec] = []
    for index, circuit in enumerate(request.circuits):
        operations: list[Operation] = []
        for instruction in circuit.instructions:
            impl = instruction.implementation
            # Like iqm-client, ignore implementations of the uncalibrated meta-operations.
            if (
                impl is not None
                and implementations is not None
                and instruction.name not in _UNCALIBRATED
            ):
                offered = implementations.get(instruction.name, ())
                if impl not in offered:
                    raise JobValidationError(
                        f"Circuit {circuit.name!r} (index {index}): {instruction.name} "
                        f"implementation {impl!r} is not calibrated; available: "
                        f"{', '.join(sorted(offered)) or 'none'}."
                    )
            qubits = tuple(physical(q, circuit.name, index) for q in instruction.qubits)
            feedback_qubit = None
            if instruction.name == "cc_prx":
                raw = str(instruction.args["feedback_qubit"])
                feedback_qubit = mapping.get(raw, raw) if mapping is not None else raw
            operations.append(_operation(instruction, qubits, feedback_qubit))
        specs.append(CircuitSpec(circuit.name, tuple(operations)))
    return specs
