"""What both wire formats share: the qubit mapping, the implementation check, and turning a
request's circuits into the emulator's :class:`CircuitSpec`."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

from pytket.extensions.iqm.emulator.http.models import SingleQubitMapping
from pytket.extensions.iqm.emulator.jobs.validation import JobValidationError
from pytket.extensions.iqm.emulator.simulation.program import CircuitSpec, Operation


class WireInstruction(Protocol):
    """An instruction of either wire format."""

    @property
    def name(self) -> str: ...
    @property
    def locus(self) -> tuple[str, ...]: ...
    @property
    def args(self) -> dict[str, Any]: ...
    @property
    def implementation(self) -> str | None: ...


class WireCircuit(Protocol):
    """A circuit of either wire format."""

    @property
    def name(self) -> str: ...
    @property
    def instructions(self) -> Sequence[WireInstruction]: ...


UNCALIBRATED = frozenset({"barrier", "delay", "reset"})
"""Meta-operations whose ``implementation`` is ignored, as iqm-client ignores it."""


def checked_mapping(
    qubit_mapping: Iterable[SingleQubitMapping] | None, components: Collection[str]
) -> dict[str, str] | None:
    """A request's logical → physical qubit mapping, checked; ``None`` if it has none.

    :param components: the calibration's component names.
    :raises JobValidationError: if a logical name repeats, two logical names share a physical
        one, or a physical name is not a component of the device.
    """
    if qubit_mapping is None:
        return None
    mapping: dict[str, str] = {}
    owner: dict[str, str] = {}
    for item in qubit_mapping:
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


def to_physical(mapping: Mapping[str, str] | None, name: str, circuit: str, index: int) -> str:
    """The physical name of ``name`` under ``mapping`` (itself without a mapping).

    :raises JobValidationError: if the mapping does not map ``name``.
    """
    if mapping is None:
        return name
    if name not in mapping:
        raise JobValidationError(
            f"Circuit {circuit!r} (index {index}) uses qubit {name!r}, which is not in the "
            "qubit_mapping."
        )
    return mapping[name]


def check_implementation(
    gate: str,
    implementation: str | None,
    implementations: Mapping[str, Collection[str]] | None,
    circuit: str,
    index: int,
) -> None:
    """Refuse an instruction that asks for an implementation the calibration does not offer.

    :param implementations: gate → offered implementation names; ``None`` skips the check.
    :raises JobValidationError: if ``implementation`` is not offered for ``gate``.
    """
    if implementation is None or implementations is None or gate in UNCALIBRATED:
        return
    offered = implementations.get(gate, ())
    if implementation not in offered:
        raise JobValidationError(
            f"Circuit {circuit!r} (index {index}): {gate} implementation {implementation!r} is "
            f"not calibrated; available: {', '.join(sorted(offered)) or 'none'}."
        )


def physical_circuits(
    circuits: Iterable[WireCircuit],
    mapping: Mapping[str, str] | None,
    implementations: Mapping[str, Collection[str]] | None,
    *,
    angle_names: tuple[str, str],
    radians_per_unit: float,
) -> list[CircuitSpec]:
    """The circuits in physical names and radians.

    :param mapping: the checked logical → physical mapping (:func:`checked_mapping`), if any.
    :param implementations: gate → offered implementation names; ``None`` skips that check.
    :param angle_names: the names of the rotation angle and phase arguments of ``prx``.
    :param radians_per_unit: what one unit of those arguments is in radians.
    :raises JobValidationError: if the mapping misses a qubit a circuit uses, or an instruction
        asks for an implementation that is not calibrated.
    """
    angle_name, phase_name = angle_names
    specs: list[CircuitSpec] = []
    for index, circuit in enumerate(circuits):
        operations: list[Operation] = []
        for instruction in circuit.instructions:
            name, args = instruction.name, instruction.args
            check_implementation(
                name, instruction.implementation, implementations, circuit.name, index
            )
            locus = tuple(to_physical(mapping, q, circuit.name, index) for q in instruction.locus)
            if name in ("prx", "cc_prx"):
                feedback_qubit = None
                if name == "cc_prx":
                    raw = str(args["feedback_qubit"])
                    feedback_qubit = mapping.get(raw, raw) if mapping is not None else raw
                operation = Operation(
                    name,
                    locus,
                    angle=radians_per_unit * float(args[angle_name]),
                    phase=radians_per_unit * float(args[phase_name]),
                    feedback_key=args.get("feedback_key"),
                    feedback_qubit=feedback_qubit,
                )
            elif name == "measure":
                operation = Operation(
                    name, locus, key=args["key"], feedback_key=args.get("feedback_key")
                )
            elif name == "delay":
                operation = Operation(name, locus, duration=float(args["duration"]))
            else:
                operation = Operation(name, locus)
            operations.append(operation)
        specs.append(CircuitSpec(circuit.name, tuple(operations)))
    return specs
