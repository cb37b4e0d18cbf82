"""Persistent result handles: everything needed to fetch and decode a result, in four strings/ints.

A handle is ``(job_id, index, layout_json, ppcirc_json)``: the IQM job UUID, the circuit's index
in the job's batch, the :class:`~.translation.MeasurementLayout` as JSON with a format marker
naming the API line (:func:`layout_to_json`) and the post-processing circuit as pytket JSON
(``""`` if none). It survives ``str(handle)`` →
``ResultHandle.from_str(...)``, so results can be retrieved from another process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from uuid import UUID

from pytket.backends.backend import ResultHandleTypeError
from pytket.backends.resulthandle import ResultHandle
from pytket.circuit import Bit, Circuit

from pytket.extensions.iqm.backends.connection.types import ApiLine
from pytket.extensions.iqm.backends.translation import MeasurementLayout
from pytket.extensions.iqm.errors import IQMHandleError

HANDLE_TYPE: tuple[type, ...] = (str, int, str, str)
"""Types of the handle's fields; what ``IQMBackend._result_id_type`` returns."""

_NOT_OURS = "it is not a pytket-iqm result handle"

LAYOUT_FORMATS = {line: f"pytket-iqm/{line.value}/measurement-layout/1" for line in ApiLine}
"""Format marker written into every serialised layout, per API line (a job id means nothing to
a server of the other line); other markers are rejected."""


class ForeignApiLineError(IQMHandleError):
    """A layout (and so a handle) belongs to a job of the other API line."""


def layout_to_json(layout: MeasurementLayout, api_line: ApiLine) -> str:
    """Serialise a layout (compactly, with a format marker) for storage in a result handle.

    :param layout: the layout
    :param api_line: the API line of the job the layout belongs to
    :return: a JSON string
    """
    return json.dumps(
        {
            "format": LAYOUT_FORMATS[api_line],
            "bits": [b.to_list() for b in layout.bits],
            "keys": list(layout.keys),
            "qubits": [list(pair) for pair in layout.qubit_mapping],
        },
        separators=(",", ":"),
    )


def layout_from_json(s: str, api_line: ApiLine) -> MeasurementLayout:
    """Inverse of :func:`layout_to_json`.

    :param s: JSON produced by :func:`layout_to_json`
    :param api_line: the API line the reader speaks
    :raises IQMHandleError: if ``s`` is not a layout of this format, or belongs to a job of
        the other API line
    :return: the layout
    """
    try:
        data = json.loads(s)
    except (TypeError, ValueError) as err:
        raise IQMHandleError(f"Measurement layout is not valid JSON: {err}") from None
    found = data.get("format") if isinstance(data, dict) else None
    if found != LAYOUT_FORMATS[api_line]:
        for other in ApiLine:
            if found == LAYOUT_FORMATS[other]:
                raise ForeignApiLineError(
                    f"The job was submitted through {other.description}, but this backend "
                    f"uses {api_line.description}; fetch its results with pytket-iqm on the "
                    "iqm-client line that submitted it"
                )
        raise IQMHandleError(
            f"Measurement layout has format {found!r}, expected "
            f"{LAYOUT_FORMATS[api_line]!r}: it was not written by pytket-iqm"
        )
    bits_raw, keys_raw = data.get("bits"), data.get("keys")
    if (
        not isinstance(bits_raw, list)
        or not isinstance(keys_raw, list)
        or len(bits_raw) != len(keys_raw)
        or not all(k is None or isinstance(k, str) for k in keys_raw)
    ):
        raise IQMHandleError("Measurement layout is malformed: bits and keys do not match")
    try:
        bits = tuple(Bit.from_list(b) for b in bits_raw)
    except Exception as err:  # pytket raises assorted types for malformed unit lists
        raise IQMHandleError(f"Measurement layout has a malformed bit: {err}") from None
    # Handles written before the qubit mapping was kept have none.
    qubits_raw = data.get("qubits", [])
    if not isinstance(qubits_raw, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(n, str) for n in pair)
        for pair in qubits_raw
    ):
        raise IQMHandleError("Measurement layout is malformed: qubits are not name pairs")
    return MeasurementLayout(
        bits=bits,
        keys=tuple(keys_raw),
        qubit_mapping=tuple((logical, physical) for logical, physical in qubits_raw),
    )


_SHORT_REPR = 60
"""Characters of a wrong handle shown in a message (a saved handle is long)."""


class ForeignHandleError(IQMHandleError, ResultHandleTypeError):
    """Not a result handle of an IQM backend (also pytket's ``ResultHandleTypeError``, which
    other backends raise for the same mistake)."""


def check_handle_type(handle: object) -> None:
    """Refuse what is not a pytket-iqm handle, saying what to pass instead.

    :raises ForeignHandleError: ``handle`` is a string (a handle saved with ``str(handle)``
        and not read back), or not of the form ``(job_id, index, layout, ppcirc)``.
    """
    shown = repr(handle)
    if len(shown) > _SHORT_REPR:
        shown = shown[: _SHORT_REPR - 3] + "..."
    if isinstance(handle, str):
        raise ForeignHandleError(
            f"Got the string {shown} where a ResultHandle is needed: read a handle saved with "
            "str(handle) back with ResultHandle.from_str(text) (from "
            "pytket.backends.resulthandle), e.g. backend.get_result(ResultHandle.from_str(text))."
        )
    fields = tuple(handle) if isinstance(handle, ResultHandle) else ()
    if len(fields) != len(HANDLE_TYPE) or not all(
        isinstance(value, kind) for value, kind in zip(fields, HANDLE_TYPE, strict=True)
    ):
        raise ForeignHandleError(
            f"{shown} is not a handle of an IQM backend (those are (job_id, index, layout, "
            "ppcirc), from IQMBackend.process_circuits): fetch it from the backend that made "
            "it, or pass a handle an IQMBackend returned."
        )


@dataclass(frozen=True)
class HandleContents:
    """The decoded fields of a handle."""

    job_id: str
    """IQM job id (a UUID string)."""
    index: int
    """Index of the circuit within the job's batch."""
    layout: MeasurementLayout
    """Which measurement key holds each bit."""
    ppcirc: Circuit | None
    """Post-processing circuit to attach to the result, if any."""


def make_handle(
    job_id: str,
    index: int,
    layout: MeasurementLayout,
    ppcirc: Circuit | None,
    api_line: ApiLine,
) -> ResultHandle:
    """Encode one circuit of a job as a persistent result handle.

    :param job_id: IQM job id (UUID string)
    :param index: index of the circuit within the job
    :param layout: the circuit's measurement layout
    :param ppcirc: post-processing circuit, or ``None``
    :param api_line: the API line the job was submitted through (recorded in the layout)
    :return: the handle
    """
    ppcirc_json = "" if ppcirc is None else json.dumps(ppcirc.to_dict(), separators=(",", ":"))
    return ResultHandle(str(job_id), int(index), layout_to_json(layout, api_line), ppcirc_json)


def parse_handle(handle: ResultHandle, api_line: ApiLine) -> HandleContents:
    """Decode a handle made by :func:`make_handle`.

    :param handle: the handle
    :param api_line: the API line of the backend reading it
    :raises IQMHandleError: if the handle has the wrong length or field types, its job id is
        not a UUID, or its layout or post-processing circuit is malformed or of another format
        or API line
    :return: the decoded contents
    """
    fields = tuple(handle)
    wrong_form = IQMHandleError(
        f"Handle {handle!r} is not of the form (job_id: str, index: int, layout: str, "
        f"ppcirc: str): {_NOT_OURS}"
    )
    if len(fields) != len(HANDLE_TYPE):
        raise wrong_form
    job_id, index, layout_json, ppcirc_json = fields
    if not (
        isinstance(job_id, str)
        and isinstance(index, int)
        and not isinstance(index, bool)
        and isinstance(layout_json, str)
        and isinstance(ppcirc_json, str)
    ):
        raise wrong_form
    try:
        UUID(job_id)
    except ValueError:
        raise IQMHandleError(f"Handle job id {job_id!r} is not a UUID: {_NOT_OURS}") from None
    if index < 0:
        raise IQMHandleError(f"Handle circuit index {index} is negative: {_NOT_OURS}")
    try:
        layout = layout_from_json(layout_json, api_line)
    except ForeignApiLineError:
        raise
    except IQMHandleError as err:
        raise IQMHandleError(f"{err}; {_NOT_OURS}") from None
    ppcirc: Circuit | None = None
    if ppcirc_json:
        try:
            ppcirc = Circuit.from_dict(json.loads(ppcirc_json))
        except Exception as err:  # json and pytket raise assorted types for bad input
            raise IQMHandleError(
                f"Handle post-processing circuit is malformed ({err}): {_NOT_OURS}"
            ) from None
    return HandleContents(job_id=job_id, index=index, layout=layout, ppcirc=ppcirc)


__all__ = [
    "HANDLE_TYPE",
    "LAYOUT_FORMATS",
    "ForeignApiLineError",
    "ForeignHandleError",
    "HandleContents",
    "check_handle_type",
    "layout_from_json",
    "layout_to_json",
    "make_handle",
    "parse_handle",
]
