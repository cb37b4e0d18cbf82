"""The emulator's device catalogue: IQM-like devices and their calibration sets.

Devices ship as JSON package data in ``data/`` (one file per device; the schema is documented in
``docs/emulator_devices.rst``) and users may load their own file with :func:`load_device_file`.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import UUID

SCHEMA_VERSION = 1
"""Version of the device file schema this module reads."""

GATE_NAMES = ("prx", "cz", "move", "measure", "cc_prx", "reset")
"""Gates that may carry a duration in a calibration."""

_DEVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


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


class UnknownDeviceError(ValueError):
    """No device of that name is in the catalogue."""


class UnknownCalibrationError(ValueError):
    """The device has no calibration set with that id."""


class InvalidDeviceFileError(ValueError):
    """A device file does not follow the schema; the message names the file and the field."""


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


# --------------------------------------------------------------------------------------------
# Device file parsing


class _FileReader:
    """Reads one device file, raising :class:`InvalidDeviceFileError` that names file and field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> InvalidDeviceFileError:
        return InvalidDeviceFileError(f"Invalid device file {self.source}: {where}: {problem}")

    def obj(self, value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {_json_type(value)}")
        return value

    def required(self, data: dict[str, Any], key: str, where: str) -> object:
        if key not in data:
            raise self.fail(f"{where}{key}", "missing required field")
        return data[key]

    def string(self, value: object, where: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"expected a non-empty string, got {_json_type(value)}")
        return value

    def boolean(self, value: object, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"expected true or false, got {_json_type(value)}")
        return value

    def number(self, value: object, where: str, low: float, high: float = math.inf) -> float:
        # bool is an int subclass in Python but not a number in JSON.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(where, f"expected a number, got {_json_type(value)}")
        x = float(value)
        if not low <= x <= high:
            bounds = f"at least {low:g}" if high == math.inf else f"between {low:g} and {high:g}"
            raise self.fail(where, f"{x!r} is out of range: must be {bounds}")
        return x

    def positive(self, value: object, where: str) -> float:
        x = self.number(value, where, 0.0)
        if x == 0.0:
            raise self.fail(where, "must be greater than 0")
        return x

    def names(self, value: object, where: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list of names, got {_json_type(value)}")
        names = tuple(self.string(v, f"{where}[{i}]") for i, v in enumerate(value))
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise self.fail(where, f"duplicate name {duplicates[0]!r}")
        return names

    def pair(self, value: object, where: str, known: tuple[str, ...]) -> tuple[str, str]:
        if not isinstance(value, list) or len(value) != 2:
            raise self.fail(where, "expected a pair of component names")
        a = self.string(value[0], f"{where}[0]")
        b = self.string(value[1], f"{where}[1]")
        for i, name in enumerate((a, b)):
            if name not in known:
                raise self.fail(f"{where}[{i}]", f"unknown component {name!r}")
        if a == b:
            raise self.fail(where, f"a pair needs two different components, got {a!r} twice")
        return a, b

    def per_component(
        self,
        value: object,
        where: str,
        components: tuple[str, ...],
        read: Callable[[object, str], float],
        *,
        complete: bool = True,
    ) -> dict[str, float]:
        data = self.obj(value, where)
        for name in data:
            if name not in components:
                raise self.fail(f"{where}.{name}", f"unknown component {name!r}")
        if complete:
            for name in components:
                if name not in data:
                    raise self.fail(where, f"no value for {name!r}")
        return {name: read(data[name], f"{where}.{name}") for name in components if name in data}

    def per_locus(
        self,
        value: object,
        where: str,
        loci: tuple[tuple[str, str], ...],
        known: tuple[str, ...],
        read: Callable[[object, str], float],
        *,
        symmetric: bool,
        complete: bool = True,
    ) -> dict[tuple[str, str], float]:
        """``[[a, b, value], ...]`` → {locus as written in ``loci``: value}."""
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list of [a, b, value], got {_json_type(value)}")
        out: dict[tuple[str, str], float] = {}
        for i, item in enumerate(value):
            here = f"{where}[{i}]"
            if not isinstance(item, list) or len(item) != 3:
                raise self.fail(here, "expected [component, component, value]")
            a, b = self.pair(item[:2], here, known)
            locus = (a, b) if (a, b) in loci else None
            if locus is None and symmetric and (b, a) in loci:
                locus = (b, a)
            if locus is None:
                raise self.fail(here, f"({a}, {b}) is not a calibrated locus")
            if locus in out:
                raise self.fail(here, f"second value for ({a}, {b})")
            out[locus] = read(item[2], f"{here}[2]")
        if complete:
            for locus in loci:
                if locus not in out:
                    raise self.fail(where, f"no value for ({locus[0]}, {locus[1]})")
        return out


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _seconds(nanoseconds: float) -> float:
    # Division (not * 1e-9) is correctly rounded: 20 ns gives exactly the double nearest 2e-8.
    return nanoseconds / 1e9


def _parse_calibration(
    r: _FileReader,
    value: object,
    where: str,
    qubits: tuple[str, ...],
    resonators: tuple[str, ...],
) -> Calibration:
    data = r.obj(value, where)
    p = f"{where}."
    components = qubits + resonators

    raw_id = r.string(r.required(data, "calibration_set_id", p), f"{p}calibration_set_id")
    try:
        calibration_set_id = UUID(raw_id)
    except ValueError:
        raise r.fail(f"{p}calibration_set_id", f"{raw_id!r} is not a UUID") from None

    created = data.get("created_timestamp", "2026-01-01T00:00:00+00:00")
    created = r.string(created, f"{p}created_timestamp")
    try:
        datetime.fromisoformat(created)
    except ValueError:
        raise r.fail(f"{p}created_timestamp", f"{created!r} is not an ISO 8601 time") from None

    feedback = r.boolean(data.get("supports_feedback", False), f"{p}supports_feedback")

    cz_loci: list[tuple[str, str]] = []
    for i, item in enumerate(_list(r, data.get("cz_loci", []), f"{p}cz_loci")):
        a, b = r.pair(item, f"{p}cz_loci[{i}]", components)
        if a in resonators and b in resonators:
            raise r.fail(f"{p}cz_loci[{i}]", "a CZ needs at least one qubit")
        if (a, b) in cz_loci or (b, a) in cz_loci:
            raise r.fail(f"{p}cz_loci[{i}]", f"({a}, {b}) is listed twice")
        cz_loci.append((a, b))
    move_loci: list[tuple[str, str]] = []
    for i, item in enumerate(_list(r, data.get("move_loci", []), f"{p}move_loci")):
        a, b = r.pair(item, f"{p}move_loci[{i}]", components)
        if a not in qubits or b not in resonators:
            raise r.fail(f"{p}move_loci[{i}]", "a MOVE locus is [qubit, computational resonator]")
        if (a, b) in move_loci:
            raise r.fail(f"{p}move_loci[{i}]", f"({a}, {b}) is listed twice")
        move_loci.append((a, b))

    durations_where = f"{p}durations_ns"
    raw_durations = r.obj(r.required(data, "durations_ns", p), durations_where)
    for gate in raw_durations:
        if gate not in GATE_NAMES:
            raise r.fail(
                f"{durations_where}.{gate}",
                f"unknown gate {gate!r}; expected one of {', '.join(GATE_NAMES)}",
            )
    needed = ["prx", "measure"]
    needed += ["cz"] if cz_loci else []
    needed += ["move"] if move_loci else []
    needed += ["cc_prx", "reset"] if feedback else []
    for gate in needed:
        if gate not in raw_durations:
            raise r.fail(durations_where, f"no duration for {gate!r}")
    durations = {
        gate: _seconds(r.positive(ns, f"{durations_where}.{gate}"))
        for gate, ns in raw_durations.items()
    }

    t1_ns = r.per_component(r.required(data, "t1_ns", p), f"{p}t1_ns", components, r.positive)
    t2_ns = r.per_component(r.required(data, "t2_ns", p), f"{p}t2_ns", components, r.positive)
    for name in components:
        # Thermal relaxation is only a physical channel when T2 <= 2 T1.
        if t2_ns[name] > 2 * t1_ns[name]:
            raise r.fail(
                f"{p}t2_ns.{name}",
                f"T2 = {t2_ns[name]:g} ns exceeds 2·T1 = {2 * t1_ns[name]:g} ns",
            )

    def probability(value: object, here: str) -> float:
        return r.number(value, here, 0.0, 1.0)

    prx_depolarizing = r.per_component(
        r.required(data, "prx_depolarizing", p), f"{p}prx_depolarizing", qubits, probability
    )
    locus_tables = {
        "cz_depolarizing": (tuple(cz_loci), True),
        "move_depolarizing": (tuple(move_loci), False),
    }
    depolarizing = {
        key: r.per_locus(
            data.get(key, []), f"{p}{key}", loci, components, probability, symmetric=symmetric
        )
        for key, (loci, symmetric) in locus_tables.items()
    }

    readout_where = f"{p}readout_error"
    readout = r.obj(r.required(data, "readout_error", p), readout_where)
    p1_given_0: dict[str, float] = {}
    p0_given_1: dict[str, float] = {}
    for name in readout:
        if name not in qubits:
            raise r.fail(f"{readout_where}.{name}", f"unknown qubit {name!r}")
    for q in qubits:
        if q not in readout:
            raise r.fail(readout_where, f"no value for {q!r}")
        entry = r.obj(readout[q], f"{readout_where}.{q}")
        prefix = f"{readout_where}.{q}."
        p1_given_0[q] = probability(r.required(entry, "p1_given_0", prefix), f"{prefix}p1_given_0")
        p0_given_1[q] = probability(r.required(entry, "p0_given_1", prefix), f"{prefix}p0_given_1")

    prx_fidelity = r.per_component(
        data.get("prx_fidelity", {}), f"{p}prx_fidelity", qubits, probability, complete=False
    )
    cz_fidelity, move_fidelity = (
        r.per_locus(
            data.get(key, []),
            f"{p}{key}",
            loci,
            components,
            probability,
            symmetric=symmetric,
            complete=False,
        )
        for key, (loci, symmetric) in (
            ("cz_fidelity", (tuple(cz_loci), True)),
            ("move_fidelity", (tuple(move_loci), False)),
        )
    )

    return Calibration(
        calibration_set_id=calibration_set_id,
        qubits=qubits,
        computational_resonators=resonators,
        cz_loci=tuple(cz_loci),
        move_loci=tuple(move_loci),
        supports_feedback=feedback,
        durations=durations,
        t1={name: _seconds(t1_ns[name]) for name in components},
        t2={name: _seconds(t2_ns[name]) for name in components},
        prx_depolarizing=prx_depolarizing,
        cz_depolarizing=depolarizing["cz_depolarizing"],
        move_depolarizing=depolarizing["move_depolarizing"],
        readout_p1_given_0=p1_given_0,
        readout_p0_given_1=p0_given_1,
        prx_fidelity=prx_fidelity,
        cz_fidelity=cz_fidelity,
        move_fidelity=move_fidelity,
        created_timestamp=created,
    )


def _list(r: _FileReader, value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise r.fail(where, f"expected a list, got {_json_type(value)}")
    return value


def _parse_device(value: object, source: str) -> Device:
    r = _FileReader(source)
    data = r.obj(value, "top level")

    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise r.fail(
            "schema_version", f"unsupported version {version!r}; expected {SCHEMA_VERSION}"
        )
    name = r.string(r.required(data, "name", ""), "name")
    if not _DEVICE_NAME.match(name):
        raise r.fail("name", f"{name!r} may only use letters, digits, '_', '.' and '-'")
    display_name = r.string(data.get("display_name", name), "display_name")
    dut_label = r.string(data.get("dut_label", "EMULATED"), "dut_label")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise r.fail("description", f"expected a string, got {_json_type(description)}")

    qubits = r.names(r.required(data, "qubits", ""), "qubits")
    if not qubits:
        raise r.fail("qubits", "a device needs at least one qubit")
    resonators = r.names(data.get("computational_resonators", []), "computational_resonators")
    for name_ in resonators:
        if name_ in qubits:
            raise r.fail("computational_resonators", f"{name_!r} is also a qubit")
    components = qubits + resonators

    raw_calibrations = _list(r, r.required(data, "calibrations", ""), "calibrations")
    if not raw_calibrations:
        raise r.fail("calibrations", "a device needs at least one calibration set")
    calibrations = tuple(
        _parse_calibration(r, item, f"calibrations[{i}]", qubits, resonators)
        for i, item in enumerate(raw_calibrations)
    )
    seen: set[UUID] = set()
    for i, cal in enumerate(calibrations):
        if cal.calibration_set_id in seen:
            raise r.fail(
                f"calibrations[{i}].calibration_set_id",
                f"{cal.calibration_set_id} is used by an earlier calibration set",
            )
        seen.add(cal.calibration_set_id)

    connectivity: tuple[tuple[str, ...], ...] = ()
    if "connectivity" in data:
        connectivity = tuple(
            r.pair(item, f"connectivity[{i}]", components)
            for i, item in enumerate(_list(r, data["connectivity"], "connectivity"))
        )
        couplers = {frozenset(pair) for pair in connectivity}
        for i, cal in enumerate(calibrations):
            for key, loci in (("cz_loci", cal.cz_loci), ("move_loci", cal.move_loci)):
                for j, locus in enumerate(loci):
                    if frozenset(locus) not in couplers:
                        raise r.fail(
                            f"calibrations[{i}].{key}[{j}]",
                            f"({locus[0]}, {locus[1]}) is not a coupler in 'connectivity'",
                        )

    return Device(
        name=name,
        display_name=display_name,
        dut_label=dut_label,
        calibrations=calibrations,
        qubits=qubits,
        computational_resonators=resonators,
        connectivity=connectivity,
        description=description,
    )


def _parse_json_text(text: str, source: str) -> Device:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidDeviceFileError(
            f"Invalid device file {source}: not valid JSON: {err.msg} at line {err.lineno} "
            f"column {err.colno}"
        ) from None
    return _parse_device(data, source)


def load_device_file(path: str | Path) -> Device:
    """Read a device from a JSON file in the schema of the packaged device files.

    :param path: the file to read.
    :return: the device, its first calibration set being the default.
    :raises InvalidDeviceFileError: (a ``ValueError``) if the file is not valid JSON or breaks the
        schema; the message names the file and the offending field.
    :raises OSError: if the file cannot be read.
    """
    path = Path(path)
    return _parse_json_text(path.read_text(encoding="utf-8"), repr(str(path)))


@functools.cache
def _packaged_devices() -> tuple[Device, ...]:
    data_dir = resources.files(__package__) / "data"
    devices = []
    for entry in sorted(data_dir.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            device = _parse_json_text(entry.read_text(encoding="utf-8"), f"(package) {entry.name}")
            devices.append(device)
    return tuple(devices)


def catalogue() -> dict[str, Device]:
    """The packaged devices by name (``adonis``, ``apollo``, ``deneb``, ``emerald``, ``garnet``).

    The files are read once; each call returns a new dict of the same :class:`Device` objects.
    """
    return {device.name: device for device in _packaged_devices()}


def get_device(name: str) -> Device:
    """The packaged device called ``name`` (case-insensitive).

    :raises UnknownDeviceError: if no packaged device has that name; the message lists them.
    """
    devices = catalogue()
    device = devices.get(name.lower()) if isinstance(name, str) else None
    if device is None:
        raise UnknownDeviceError(
            f"Unknown device {name!r}; known devices: {', '.join(sorted(devices))}."
        )
    return device


__all__ = [
    "GATE_NAMES",
    "SCHEMA_VERSION",
    "Calibration",
    "Device",
    "InvalidDeviceFileError",
    "UnknownCalibrationError",
    "UnknownDeviceError",
    "catalogue",
    "component_sort_key",
    "get_device",
    "load_device_file",
]
