"""What both wire formats share: the qubit mapping and the implementation check."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from pytket.extensions.iqm.emulator.models import SingleQubitMapping
from pytket.extensions.iqm.emulator.validation import JobValidationError

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
