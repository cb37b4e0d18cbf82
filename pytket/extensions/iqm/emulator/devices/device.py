"""An emulated device and its calibration sets: :class:`Device`, :class:`Calibration`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID


@dataclass(frozen=True)
class Calibration:
    """One calibration set of a device: what is calibrated and how good it is.

    Times are in seconds. Loci are tuples of component names; CZ loci are unordered pairs written
    once, MOVE loci are ``(qubit, resonator)``.
    """

    calibration_set_id: UUID
    qubits: tuple[str, ...]
    computational_resonators: tuple[str, ...]
    cz_loci: tuple[tuple[str, str], ...]
    move_loci: tuple[tuple[str, str], ...]
    supports_feedback: bool
    """Whether ``cc_prx`` (and hence ``reset``) is calibrated on every qubit."""
    durations: Mapping[str, float]
    """Gate name (``prx``, ``cz``, ``move``, ``measure``, ``cc_prx``, ``reset``) → seconds."""
    t1: Mapping[str, float]
    """Component (qubits and resonators) → T1 in seconds."""
    t2: Mapping[str, float]
    """Component → T2 in seconds."""
    prx_depolarizing: Mapping[str, float]
    """Qubit → depolarizing parameter p of the PRX channel, E(ρ) = (1-p)ρ + p I/2."""
    cz_depolarizing: Mapping[tuple[str, str], float]
    """CZ locus (as in ``cz_loci``) → two-qubit depolarizing parameter p."""
    move_depolarizing: Mapping[tuple[str, str], float]
    """MOVE locus → two-component depolarizing parameter p."""
    readout_p1_given_0: Mapping[str, float]
    """Qubit → P(read 1 | prepared 0)."""
    readout_p0_given_1: Mapping[str, float]
    """Qubit → P(read 0 | prepared 1)."""
    prx_fidelity: Mapping[str, float] = field(default_factory=dict)
    """Qubit → published average gate fidelity of PRX."""
    cz_fidelity: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """CZ locus → published average gate fidelity."""
    move_fidelity: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """MOVE locus → published average gate fidelity."""
    created_timestamp: str = "2026-01-01T00:00:00+00:00"

    @property
    def components(self) -> tuple[str, ...]:
        """Qubits then resonators."""
        return self.qubits + self.computational_resonators

    def cz_locus(self, a: str, b: str) -> tuple[str, str] | None:
        """The CZ locus on components ``a`` and ``b`` as written in :attr:`cz_loci`, if calibrated.

        CZ is symmetric, so either order finds it; the returned orientation is the key of
        :attr:`cz_depolarizing` and :attr:`cz_fidelity`.
        """
        if (a, b) in self.cz_loci:
            return (a, b)
        if (b, a) in self.cz_loci:
            return (b, a)
        return None


class UnknownCalibrationError(ValueError):
    """The device has no calibration set with that id."""


@dataclass(frozen=True)
class Device:
    """An emulated IQM device: its chip and its calibration sets.

    ``qubits``, ``computational_resonators`` and ``connectivity`` describe the chip (the static
    architecture); left empty, they are taken from the default calibration (qubits, resonators)
    and from the CZ and MOVE loci of all calibrations (connectivity).

    :raises ValueError: if ``calibrations`` is empty.
    """

    name: str
    """Catalogue name, lower case (``"garnet"``); the device segment of the server URL."""
    display_name: str
    """Human-readable name (``"Garnet"``)."""
    dut_label: str
    """Chip label reported in quality metrics and calibration sets."""
    calibrations: tuple[Calibration, ...]
    """Calibration sets, newest first: the first is the default."""
    qubits: tuple[str, ...] = ()
    """Qubits of the chip, in sorted order."""
    computational_resonators: tuple[str, ...] = ()
    """Computational resonators of the chip, in sorted order."""
    connectivity: tuple[tuple[str, ...], ...] = ()
    """Couplers of the chip (pairs of components), as the static architecture reports them."""
    description: str = ""
    """One line saying what the device is and where its figures come from."""

    def __post_init__(self) -> None:
        if not self.calibrations:
            raise ValueError(f"Device {self.name!r} needs at least one calibration set.")
        default = self.calibrations[0]
        # Frozen dataclass: fill the derived defaults through object.__setattr__.
        if not self.qubits:
            object.__setattr__(self, "qubits", default.qubits)
        if not self.computational_resonators:
            object.__setattr__(self, "computational_resonators", default.computational_resonators)
        if not self.connectivity:
            object.__setattr__(self, "connectivity", _couplers_of(self.calibrations))

    @property
    def default_calibration(self) -> Calibration:
        """The calibration set used when a request does not pin one (the first)."""
        return self.calibrations[0]

    def calibration(self, calibration_set_id: str | UUID) -> Calibration:
        """The calibration set with this id; ``"default"`` gives :attr:`default_calibration`.

        :param calibration_set_id: a UUID (or its string form) or ``"default"``.
        :raises UnknownCalibrationError: if the device has no calibration set with that id.
        """
        if calibration_set_id == "default":
            return self.default_calibration
        wanted: UUID | None
        if isinstance(calibration_set_id, UUID):
            wanted = calibration_set_id
        else:
            try:
                wanted = UUID(calibration_set_id)
            except ValueError:
                wanted = None
        for cal in self.calibrations:
            if cal.calibration_set_id == wanted:
                return cal
        known = ", ".join(str(cal.calibration_set_id) for cal in self.calibrations)
        raise UnknownCalibrationError(
            f"Device {self.name!r} has no calibration set {str(calibration_set_id)!r}; "
            f"use 'default' or one of: {known}."
        )


def _couplers_of(calibrations: tuple[Calibration, ...]) -> tuple[tuple[str, ...], ...]:
    """Union of the CZ and MOVE loci of all calibration sets, as unordered pairs, sorted."""
    pairs = {
        tuple(sorted(locus, key=component_sort_key))
        for cal in calibrations
        for locus in (*cal.cz_loci, *cal.move_loci)
    }
    return tuple(sorted(pairs, key=lambda p: tuple(map(component_sort_key, p))))


def component_sort_key(name: str) -> tuple[str, int, str]:
    """IQM's order of component names: letters first, then the number (``CR1, QB1, QB2, QB10``)."""
    number = re.search(r"\d+", name)
    return re.sub(r"[^a-zA-Z]", "", name), int(number.group()) if number else 0, name
