"""Persistent result handles (handles.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from pytket.backends.resulthandle import ResultHandle
from pytket.circuit import Bit, Circuit, Node
from pytket.utils.prepare import prepare_circuit

from pytket.extensions.iqm.backends.connection.types import ApiLine
from pytket.extensions.iqm.backends.handles import (
    HANDLE_TYPE,
    LAYOUT_FORMATS,
    ForeignApiLineError,
    HandleContents,
    layout_from_json,
    layout_to_json,
    make_handle,
    parse_handle,
)
from pytket.extensions.iqm.backends.translation import MeasurementLayout, circuit_to_iqm
from pytket.extensions.iqm.errors import IQMHandleError

JOB_ID = "3c3fcda3-e860-46bf-92a4-bcc59fa76ce9"
FOREIGN_FORMAT = "pytket-iqm/iqm-client-36/measurement-layout/1"
NOT_OURS = "it is not a pytket-iqm result handle"
LINE = ApiLine.REST_V1
LAYOUT_FORMAT = LAYOUT_FORMATS[LINE]


def _layout() -> MeasurementLayout:
    return MeasurementLayout(
        bits=(Bit("a", 0), Bit("c", 0), Bit("c", 1), Bit("m", 3), Bit("x", [1, 2])),
        keys=("a[0]", None, "c[1]#1", "m[3]", "x[1, 2]"),
    )


def _ppcirc() -> Circuit:
    original = Circuit(3, 3)
    original.X(2).Measure(2, 2).Measure(0, 0)
    return prepare_circuit(original)[1]


@pytest.mark.parametrize("line", list(ApiLine))
def test_handle_fields_have_declared_types(line: ApiLine) -> None:
    handle = make_handle(JOB_ID, 2, _layout(), None, line)
    assert tuple(type(field) for field in handle) == HANDLE_TYPE
    assert parse_handle(handle, line) == HandleContents(JOB_ID, 2, _layout(), None)


@pytest.mark.parametrize("line", list(ApiLine))
def test_round_trip_through_str_with_ppcirc(line: ApiLine) -> None:
    handle = make_handle(JOB_ID, 7, _layout(), _ppcirc(), line)
    restored = ResultHandle.from_str(str(handle))
    assert restored == handle
    contents = parse_handle(restored, line)
    assert contents.job_id == JOB_ID
    assert contents.index == 7
    assert contents.layout == _layout()
    assert contents.ppcirc == _ppcirc()


_CHILD = """
import json, sys
from pytket.backends.resulthandle import ResultHandle
from pytket.extensions.iqm.backends.connection.types import ApiLine
from pytket.extensions.iqm.backends.handles import parse_handle
contents = parse_handle(ResultHandle.from_str(sys.stdin.read()), ApiLine.REST_V1)
print(json.dumps({
    "job_id": contents.job_id,
    "index": contents.index,
    "bits": [b.to_list() for b in contents.layout.bits],
    "keys": list(contents.layout.keys),
    "ppcirc": None if contents.ppcirc is None else contents.ppcirc.to_dict(),
}))
"""


def test_round_trip_in_another_process() -> None:
    handle = make_handle(JOB_ID, 1, _layout(), _ppcirc(), LINE)
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=str(handle),
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
        timeout=120,
    )
    decoded = json.loads(completed.stdout)
    assert decoded["job_id"] == JOB_ID
    assert decoded["index"] == 1
    assert [Bit.from_list(b) for b in decoded["bits"]] == list(_layout().bits)
    assert decoded["keys"] == list(_layout().keys)
    assert Circuit.from_dict(decoded["ppcirc"]) == _ppcirc()


@pytest.mark.parametrize(
    ("handle", "message"),
    [
        (
            ResultHandle(JOB_ID, 0),
            f"Handle ResultHandle('{JOB_ID}', 0) is not of the form (job_id: str, index: int, "
            f"layout: str, ppcirc: str): {NOT_OURS}",
        ),
        (
            ResultHandle(JOB_ID, "0", "{}", ""),
            f"Handle ResultHandle('{JOB_ID}', '0', '{{}}', '') is not of the form (job_id: str, "
            f"index: int, layout: str, ppcirc: str): {NOT_OURS}",
        ),
        (
            ResultHandle(JOB_ID, True, "{}", ""),
            f"Handle ResultHandle('{JOB_ID}', True, '{{}}', '') is not of the form (job_id: "
            f"str, index: int, layout: str, ppcirc: str): {NOT_OURS}",
        ),
        (
            ResultHandle("job-1", 0, layout_to_json(_layout(), LINE), ""),
            f"Handle job id 'job-1' is not a UUID: {NOT_OURS}",
        ),
        (
            ResultHandle(JOB_ID, -1, layout_to_json(_layout(), LINE), ""),
            f"Handle circuit index -1 is negative: {NOT_OURS}",
        ),
        (
            ResultHandle(JOB_ID, 0, "not json", ""),
            "Measurement layout is not valid JSON: Expecting value: line 1 column 1 (char 0); "
            + NOT_OURS,
        ),
        (
            ResultHandle(JOB_ID, 0, json.dumps({"format": FOREIGN_FORMAT}), ""),
            f"Measurement layout has format '{FOREIGN_FORMAT}', "
            f"expected '{LAYOUT_FORMAT}': it was not written by pytket-iqm; {NOT_OURS}",
        ),
        (
            ResultHandle(JOB_ID, 0, layout_to_json(_layout(), LINE), "{bad"),
            "Handle post-processing circuit is malformed (Expecting property name enclosed in "
            f"double quotes: line 1 column 2 (char 1)): {NOT_OURS}",
        ),
    ],
    ids=["short", "index-str", "index-bool", "job-id", "negative", "json", "format", "ppcirc"],
)
def test_malformed_handles(handle: ResultHandle, message: str) -> None:
    with pytest.raises(IQMHandleError) as info:
        parse_handle(handle, LINE)
    assert str(info.value) == message


def test_handle_of_another_backend_rejected() -> None:
    # A pytket-qiskit style handle (job_id, index, n_bits, ppcirc) has the same length.
    foreign = ResultHandle("cv1x2y3", 0, 3, "null")
    with pytest.raises(IQMHandleError, match="not a pytket-iqm"):
        parse_handle(foreign, LINE)


@pytest.mark.parametrize(
    ("made", "read", "message"),
    [
        (
            ApiLine.REST_V1,
            ApiLine.SERVER_API,
            "The job was submitted through the IQM REST API of iqm-client 22.x, but this "
            "backend uses the IQM Server API of iqm-client 36.x; fetch its results with "
            "pytket-iqm on the iqm-client line that submitted it",
        ),
        (
            ApiLine.SERVER_API,
            ApiLine.REST_V1,
            "The job was submitted through the IQM Server API of iqm-client 36.x, but this "
            "backend uses the IQM REST API of iqm-client 22.x; fetch its results with "
            "pytket-iqm on the iqm-client line that submitted it",
        ),
    ],
)
def test_handle_of_the_other_api_line_rejected(made: ApiLine, read: ApiLine, message: str) -> None:
    # A job id means nothing to a server of the other line: say which line to use instead.
    handle = make_handle(JOB_ID, 0, _layout(), _ppcirc(), made)
    restored = ResultHandle.from_str(str(handle))
    with pytest.raises(IQMHandleError) as info:
        parse_handle(restored, read)
    assert str(info.value) == message


# --- the layout's JSON -------------------------------------------------------------------


def test_layout_json_round_trip_and_format_marker() -> None:
    circuit = Circuit()
    circuit.add_q_register("node", 1)
    bits = [Bit("m", 1), Bit("c", 0), Bit("x", [1, 2])]
    for bit in bits:
        circuit.add_bit(bit)
    circuit.Measure(Node(0), Bit("x", [1, 2]))
    _, layout = circuit_to_iqm(circuit, "j")
    for line in ApiLine:
        text = layout_to_json(layout, line)
        assert f'"format":"{LAYOUT_FORMATS[line]}"' in text
        assert layout_from_json(text, line) == layout
    assert layout.keys[layout.bits.index(Bit("x", [1, 2]))] == "x[1, 2]"


def test_layout_format_markers_per_api_line() -> None:
    # The 22.x marker is the one written before the IQM Server API line existed, so handles
    # saved then stay readable.
    assert LAYOUT_FORMATS == {
        ApiLine.REST_V1: "pytket-iqm/iqm-client-22/measurement-layout/1",
        ApiLine.SERVER_API: "pytket-iqm/iqm-server-api/measurement-layout/1",
    }


@pytest.mark.parametrize(
    ("written", "read", "message"),
    [
        (
            ApiLine.REST_V1,
            ApiLine.SERVER_API,
            "The job was submitted through the IQM REST API of iqm-client 22.x, but this "
            "backend uses the IQM Server API of iqm-client 36.x; fetch its results with "
            "pytket-iqm on the iqm-client line that submitted it",
        ),
        (
            ApiLine.SERVER_API,
            ApiLine.REST_V1,
            "The job was submitted through the IQM Server API of iqm-client 36.x, but this "
            "backend uses the IQM REST API of iqm-client 22.x; fetch its results with "
            "pytket-iqm on the iqm-client line that submitted it",
        ),
    ],
)
def test_layout_of_the_other_api_line_rejected(
    written: ApiLine, read: ApiLine, message: str
) -> None:
    layout = MeasurementLayout(bits=(Bit(0),), keys=("c[0]",))
    with pytest.raises(ForeignApiLineError) as info:
        layout_from_json(layout_to_json(layout, written), read)
    assert isinstance(info.value, IQMHandleError)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{",
            "Measurement layout is not valid JSON: Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1)",
        ),
        (
            json.dumps({"format": FOREIGN_FORMAT, "bits": [], "keys": []}),
            f"Measurement layout has format '{FOREIGN_FORMAT}', expected "
            f"'{LAYOUT_FORMAT}': it was not written by pytket-iqm",
        ),
        (
            "[1, 2]",
            f"Measurement layout has format None, expected '{LAYOUT_FORMAT}': it was not "
            "written by pytket-iqm",
        ),
        (
            f'{{"format": "{LAYOUT_FORMAT}", "bits": [["c", [0]]], "keys": []}}',
            "Measurement layout is malformed: bits and keys do not match",
        ),
    ],
)
def test_layout_from_bad_json(text: str, message: str) -> None:
    with pytest.raises(IQMHandleError) as info:
        layout_from_json(text, ApiLine.REST_V1)
    assert str(info.value) == message
