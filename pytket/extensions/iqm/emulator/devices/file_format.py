"""The device file format (JSON, documented in ``docs/emulator_devices.rst``) and its reader.

The file's shape (types, required fields, ranges) is a set of pydantic models; what a model
cannot say (names that must refer to declared components, values for every component or locus,
T2 <= 2 T1, unique ids, couplers) is checked when the file becomes a :class:`Device`. Every
problem is an :class:`InvalidDeviceFileError` naming the file and the field
(``calibrations[0].t1_ns: no value for 'QB2'``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from pytket.extensions.iqm.emulator.devices.device import Calibration, Device

SCHEMA_VERSION = 1
"""Version of the device file schema this module reads."""

GATE_NAMES = ("prx", "cz", "move", "measure", "cc_prx", "reset")
"""Gates that may carry a duration in a calibration."""

_DEVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class InvalidDeviceFileError(ValueError):
    """A device file does not follow the schema; the message names the file and the field."""


Name = Annotated[str, StringConstraints(min_length=1)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Nanoseconds = Annotated[float, Field(gt=0.0)]
Pair = tuple[Name, Name]
LocusValue = tuple[Name, Name, Probability]
"""``[component, component, value]``."""


class _FileModel(BaseModel):
    # Strict: JSON true is not a number and "1" is not 1; unknown keys are ignored.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class ReadoutErrorFile(_FileModel):
    """A qubit's readout errors."""

    p1_given_0: Probability
    p0_given_1: Probability


class CalibrationFile(_FileModel):
    """One entry of ``calibrations``; times in nanoseconds."""

    calibration_set_id: Name
    created_timestamp: Name = "2026-01-01T00:00:00+00:00"
    supports_feedback: bool = False
    cz_loci: list[Pair] = []
    move_loci: list[Pair] = []
    durations_ns: dict[str, Nanoseconds]
    t1_ns: dict[str, Nanoseconds]
    t2_ns: dict[str, Nanoseconds]
    prx_depolarizing: dict[str, Probability]
    cz_depolarizing: list[LocusValue] = []
    move_depolarizing: list[LocusValue] = []
    readout_error: dict[str, ReadoutErrorFile]
    prx_fidelity: dict[str, Probability] = {}
    cz_fidelity: list[LocusValue] = []
    move_fidelity: list[LocusValue] = []


class DeviceFile(_FileModel):
    """A whole device file."""

    schema_version: float = SCHEMA_VERSION
    """Checked before the model (any other value is refused with the supported one)."""
    name: Name
    display_name: Name = ""
    """Empty (left out): the name."""
    dut_label: Name = "EMULATED"
    description: str = ""
    qubits: list[Name]
    computational_resonators: list[Name] = []
    calibrations: list[CalibrationFile]
    connectivity: list[Pair] = []
    """Left out: the union of the calibrations' CZ and MOVE loci."""


# --------------------------------------------------------------------------------------------
# Reading


def parse_device_text(text: str, source: str) -> Device:
    """The device in a device file's text; ``source`` names the file in messages.

    :raises InvalidDeviceFileError: if the text is not JSON or breaks the schema.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidDeviceFileError(
            f"Invalid device file {source}: not valid JSON: {err.msg} at line {err.lineno} "
            f"column {err.colno}"
        ) from None
    return _Reader(source).device(data, text)


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


_EXPECTED = {
    "float_type": "a number",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "string_type": "a non-empty string",
    "string_too_short": "a non-empty string",
    "dict_type": "an object",
    "model_type": "an object",
    "list_type": "a list",
    "tuple_type": "a list",
}
"""pydantic error type → what the file should have had there."""


def _where(loc: Iterable[int | str]) -> str:
    """``("calibrations", 0, "t1_ns")`` → ``calibrations[0].t1_ns``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "top level"


_LOCUS_TABLES = ("_depolarizing", "_fidelity")
_PAIR_LISTS = ("cz_loci", "move_loci", "connectivity")
_NAME_LISTS = ("qubits", "computational_resonators")


def _problem(error: Mapping[str, Any]) -> str:
    """What is wrong, in the words of the device file's schema."""
    kind, value, loc = error["type"], error.get("input"), tuple(error["loc"])
    field = str(loc[-1]) if loc else ""
    # The list (or entry of a list) an error is in, when it is in one.
    table = str(loc[-2]) if len(loc) >= 2 and isinstance(loc[-1], int) else field
    got = _json_type(value)
    if kind == "missing":
        return "missing required field"
    if kind in {"list_type", "tuple_type", "too_short", "too_long"}:
        if table.endswith(_LOCUS_TABLES):
            if table == field:
                return f"expected a list of [a, b, value], got {got}"
            return "expected [component, component, value]"
        if table in _PAIR_LISTS and table != field:
            return "expected a pair of component names"
        if field in _NAME_LISTS:
            return f"expected a list of names, got {got}"
    if kind == "string_type" and loc == ("description",):
        return f"expected a string, got {got}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {got}"
    if kind in {"greater_than_equal", "less_than_equal"}:
        return f"{float(str(value))!r} is out of range: must be between 0 and 1"
    if kind == "greater_than":
        if float(str(value)) < 0:
            return f"{float(str(value))!r} is out of range: must be at least 0"
        return "must be greater than 0"
    return str(error["msg"])


class _Reader:
    """Turns one file's data into a :class:`Device`, raising errors that name file and field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> InvalidDeviceFileError:
        return InvalidDeviceFileError(f"Invalid device file {self.source}: {where}: {problem}")

    def device(self, data: object, text: str) -> Device:
        """The device in ``text``, whose parsed JSON is ``data``."""
        if isinstance(data, dict) and "schema_version" in data:
            version = data["schema_version"]
            if version != SCHEMA_VERSION or isinstance(version, bool):
                raise self.fail(
                    "schema_version", f"unsupported version {version!r}; expected {SCHEMA_VERSION}"
                )
        try:
            # From the text: strict JSON validation reads arrays as tuples.
            file = DeviceFile.model_validate_json(text)
        except ValidationError as error:
            first: dict[str, Any] = dict(error.errors(include_url=False)[0])
            loc: tuple[int | str, ...] = tuple(first["loc"])
            if first["type"] == "missing" and loc and isinstance(loc[-1], int):
                # A short pair or [a, b, value] entry: say so at the entry, not at its end.
                loc = loc[:-1]
                first.update(loc=loc, type="too_short")
            raise self.fail(_where(loc), _problem(first)) from None
        return self._device(file)

    def _device(self, file: DeviceFile) -> Device:
        if not _DEVICE_NAME.match(file.name):
            raise self.fail("name", f"{file.name!r} may only use letters, digits, '_', '.' and '-'")
        qubits = self._names(file.qubits, "qubits")
        if not qubits:
            raise self.fail("qubits", "a device needs at least one qubit")
        resonators = self._names(file.computational_resonators, "computational_resonators")
        for name in resonators:
            if name in qubits:
                raise self.fail("computational_resonators", f"{name!r} is also a qubit")
        if not file.calibrations:
            raise self.fail("calibrations", "a device needs at least one calibration set")
        calibrations = tuple(
            self._calibration(cal, f"calibrations[{i}]", qubits, resonators)
            for i, cal in enumerate(file.calibrations)
        )
        seen: set[UUID] = set()
        for i, cal in enumerate(calibrations):
            if cal.calibration_set_id in seen:
                raise self.fail(
                    f"calibrations[{i}].calibration_set_id",
                    f"{cal.calibration_set_id} is used by an earlier calibration set",
                )
            seen.add(cal.calibration_set_id)
        connectivity: tuple[tuple[str, ...], ...] = ()
        if "connectivity" in file.model_fields_set:
            components = qubits + resonators
            connectivity = tuple(
                self._pair(pair, f"connectivity[{i}]", components)
                for i, pair in enumerate(file.connectivity)
            )
            self._check_couplers(calibrations, {frozenset(pair) for pair in connectivity})
        return Device(
            name=file.name,
            display_name=file.display_name or file.name,
            dut_label=file.dut_label,
            calibrations=calibrations,
            qubits=qubits,
            computational_resonators=resonators,
            connectivity=connectivity,
            description=file.description,
        )

    def _check_couplers(
        self, calibrations: tuple[Calibration, ...], couplers: set[frozenset[str]]
    ) -> None:
        for i, cal in enumerate(calibrations):
            for key, loci in (("cz_loci", cal.cz_loci), ("move_loci", cal.move_loci)):
                for j, locus in enumerate(loci):
                    if frozenset(locus) not in couplers:
                        raise self.fail(
                            f"calibrations[{i}].{key}[{j}]",
                            f"({locus[0]}, {locus[1]}) is not a coupler in 'connectivity'",
                        )

    def _names(self, names: list[str], where: str) -> tuple[str, ...]:
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise self.fail(where, f"duplicate name {duplicates[0]!r}")
        return tuple(names)

    def _pair(self, pair: tuple[str, str], where: str, known: tuple[str, ...]) -> tuple[str, str]:
        for i, name in enumerate(pair):
            if name not in known:
                raise self.fail(f"{where}[{i}]", f"unknown component {name!r}")
        if pair[0] == pair[1]:
            raise self.fail(where, f"a pair needs two different components, got {pair[0]!r} twice")
        return pair

    def _loci(
        self, pairs: list[tuple[str, str]], where: str, components: tuple[str, ...]
    ) -> list[tuple[str, str]]:
        loci: list[tuple[str, str]] = []
        for i, pair in enumerate(pairs):
            a, b = self._pair(pair, f"{where}[{i}]", components)
            if (a, b) in loci or (b, a) in loci:
                raise self.fail(f"{where}[{i}]", f"({a}, {b}) is listed twice")
            loci.append((a, b))
        return loci

    def _per_component(
        self,
        values: Mapping[str, float],
        where: str,
        components: tuple[str, ...],
        *,
        complete: bool = True,
        kind: str = "component",
    ) -> dict[str, float]:
        for name in values:
            if name not in components:
                raise self.fail(f"{where}.{name}", f"unknown {kind} {name!r}")
        if complete:
            for name in components:
                if name not in values:
                    raise self.fail(where, f"no value for {name!r}")
        return {name: values[name] for name in components if name in values}

    def _per_locus(
        self,
        items: list[tuple[str, str, float]],
        where: str,
        loci: list[tuple[str, str]],
        known: tuple[str, ...],
        *,
        symmetric: bool,
        complete: bool = True,
    ) -> dict[tuple[str, str], float]:
        """``[[a, b, value], ...]`` → {locus as written in ``loci``: value}."""
        out: dict[tuple[str, str], float] = {}
        for i, (first, second, value) in enumerate(items):
            here = f"{where}[{i}]"
            a, b = self._pair((first, second), here, known)
            locus = (a, b) if (a, b) in loci else None
            if locus is None and symmetric and (b, a) in loci:
                locus = (b, a)
            if locus is None:
                raise self.fail(here, f"({a}, {b}) is not a calibrated locus")
            if locus in out:
                raise self.fail(here, f"second value for ({a}, {b})")
            out[locus] = value
        if complete:
            for locus in loci:
                if locus not in out:
                    raise self.fail(where, f"no value for ({locus[0]}, {locus[1]})")
        return out

    def _calibration(
        self,
        cal: CalibrationFile,
        where: str,
        qubits: tuple[str, ...],
        resonators: tuple[str, ...],
    ) -> Calibration:
        p = f"{where}."
        components = qubits + resonators
        try:
            calibration_set_id = UUID(cal.calibration_set_id)
        except ValueError:
            raise self.fail(
                f"{p}calibration_set_id", f"{cal.calibration_set_id!r} is not a UUID"
            ) from None
        try:
            datetime.fromisoformat(cal.created_timestamp)
        except ValueError:
            raise self.fail(
                f"{p}created_timestamp", f"{cal.created_timestamp!r} is not an ISO 8601 time"
            ) from None

        cz_loci = self._loci(cal.cz_loci, f"{p}cz_loci", components)
        for i, (a, b) in enumerate(cz_loci):
            if a in resonators and b in resonators:
                raise self.fail(f"{p}cz_loci[{i}]", "a CZ needs at least one qubit")
        move_loci = self._loci(cal.move_loci, f"{p}move_loci", components)
        for i, (a, b) in enumerate(move_loci):
            if a not in qubits or b not in resonators:
                raise self.fail(
                    f"{p}move_loci[{i}]", "a MOVE locus is [qubit, computational resonator]"
                )

        durations = self._durations(cal, f"{p}durations_ns", bool(cz_loci), bool(move_loci))
        t1_ns = self._per_component(cal.t1_ns, f"{p}t1_ns", components)
        t2_ns = self._per_component(cal.t2_ns, f"{p}t2_ns", components)
        for name in components:
            # Thermal relaxation is only a physical channel when T2 <= 2 T1.
            if t2_ns[name] > 2 * t1_ns[name]:
                raise self.fail(
                    f"{p}t2_ns.{name}",
                    f"T2 = {t2_ns[name]:g} ns exceeds 2·T1 = {2 * t1_ns[name]:g} ns",
                )
        readout = self._per_component(
            dict.fromkeys(cal.readout_error, 0.0), f"{p}readout_error", qubits, kind="qubit"
        )

        def per_locus(
            key: str, loci: list[tuple[str, str]], *, symmetric: bool, complete: bool
        ) -> dict[tuple[str, str], float]:
            items: list[tuple[str, str, float]] = getattr(cal, key)
            return self._per_locus(
                items, f"{p}{key}", loci, components, symmetric=symmetric, complete=complete
            )

        return Calibration(
            calibration_set_id=calibration_set_id,
            qubits=qubits,
            computational_resonators=resonators,
            cz_loci=tuple(cz_loci),
            move_loci=tuple(move_loci),
            supports_feedback=cal.supports_feedback,
            durations=durations,
            t1={name: _seconds(t1_ns[name]) for name in components},
            t2={name: _seconds(t2_ns[name]) for name in components},
            prx_depolarizing=self._per_component(
                cal.prx_depolarizing, f"{p}prx_depolarizing", qubits
            ),
            cz_depolarizing=per_locus("cz_depolarizing", cz_loci, symmetric=True, complete=True),
            move_depolarizing=per_locus(
                "move_depolarizing", move_loci, symmetric=False, complete=True
            ),
            readout_p1_given_0={q: cal.readout_error[q].p1_given_0 for q in readout},
            readout_p0_given_1={q: cal.readout_error[q].p0_given_1 for q in readout},
            prx_fidelity=self._per_component(
                cal.prx_fidelity, f"{p}prx_fidelity", qubits, complete=False
            ),
            cz_fidelity=per_locus("cz_fidelity", cz_loci, symmetric=True, complete=False),
            move_fidelity=per_locus("move_fidelity", move_loci, symmetric=False, complete=False),
            created_timestamp=cal.created_timestamp,
        )

    def _durations(
        self, cal: CalibrationFile, where: str, has_cz: bool, has_move: bool
    ) -> dict[str, float]:
        for gate in cal.durations_ns:
            if gate not in GATE_NAMES:
                raise self.fail(
                    f"{where}.{gate}",
                    f"unknown gate {gate!r}; expected one of {', '.join(GATE_NAMES)}",
                )
        needed = ["prx", "measure"]
        needed += ["cz"] if has_cz else []
        needed += ["move"] if has_move else []
        needed += ["cc_prx", "reset"] if cal.supports_feedback else []
        for gate in needed:
            if gate not in cal.durations_ns:
                raise self.fail(where, f"no duration for {gate!r}")
        return {gate: _seconds(ns) for gate, ns in cal.durations_ns.items()}


def _seconds(nanoseconds: float) -> float:
    # Division (not * 1e-9) is correctly rounded: 20 ns gives exactly the double nearest 2e-8.
    return nanoseconds / 1e9
