"""Every bad input the backend can detect gets a typed error before anything is sent.

The ONE list of bad inputs: each case calls the backend (or its constructor) against a running
emulator and expects an exact error type and message; the emulator's request counter then
proves that not a single HTTP request reached the server. A circuit without measurements is a
warning rather than an error; turned into an error, it too stops the call before any request.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pytket.backends.backend import ResultHandleTypeError
from pytket.backends.backend_exceptions import CircuitNotValidError
from pytket.backends.resulthandle import ResultHandle
from pytket.circuit import Circuit, Node, OpType
from sympy import Symbol

from pytket.extensions.iqm import (
    IQMBackend,
    IQMCredentialsError,
    IQMDeviceError,
    IQMHandleError,
    IQMTranslationError,
)
from pytket.extensions.iqm.backends.connection.installed import installed_api_line
from pytket.extensions.iqm.backends.connection.types import ApiLine
from pytket.extensions.iqm.backends.handles import LAYOUT_FORMATS
from pytket.extensions.iqm.emulator import IQMEmulator

LINE = installed_api_line()
OTHER_LINE = next(line for line in ApiLine if line is not LINE)

if LINE is ApiLine.SERVER_API and not hasattr(IQMEmulator, "root_url"):
    pytest.skip(
        "the emulator of this tree does not serve the IQM Server API", allow_module_level=True
    )

JOB = "3c3fcda3-e860-46bf-92a4-bcc59fa76ce9"


def _layout(line: ApiLine) -> str:
    return json.dumps({"format": LAYOUT_FORMATS[line], "bits": [], "keys": []})


LAYOUT = _layout(LINE)
NOT_OURS = re.escape("it is not a pytket-iqm result handle")
COMPILE_FIRST = "try compiling with backend.get_compiled_circuits first"


@pytest.fixture(scope="module")
def emulator() -> Iterator[IQMEmulator]:
    with IQMEmulator("garnet", noise=False, max_shots=1000) as emulator:
        yield emulator


def _connect(emulator: IQMEmulator, **kwargs: Any) -> IQMBackend:
    """A backend on the emulator's garnet, addressed as the installed line addresses devices."""
    if LINE is ApiLine.REST_V1:
        return IQMBackend(emulator.url, **kwargs)
    return IQMBackend(emulator.root_url, device="garnet", **kwargs)


@pytest.fixture(scope="module")
def backend(emulator: IQMEmulator) -> IQMBackend:
    return _connect(emulator)


def _on(*nodes: int, bits: int = 0) -> Circuit:
    """A circuit on device qubits ``node[i]`` (QB<i+1>) with ``bits`` classical bits."""
    circuit = Circuit()
    for node in nodes:
        circuit.add_qubit(Node(node))
    if bits:
        circuit.add_c_register("c", bits)
    return circuit


def _measured(circuit: Circuit) -> Circuit:
    for index, qubit in enumerate(circuit.qubits[: len(circuit.bits)]):
        circuit.Measure(qubit, circuit.bits[index])
    return circuit


def _x() -> Circuit:
    """A valid, compiled circuit: PhasedX on QB1, measured."""
    return _measured(_on(0, bits=1).add_gate(OpType.PhasedX, [1.0, 0.0], [Node(0)]))


def _symbolic() -> Circuit:
    return _measured(_on(0, bits=1).add_gate(OpType.PhasedX, [Symbol("a"), 0.0], [Node(0)]))


def _uncoupled() -> Circuit:
    return _measured(_on(0, 19, bits=2).CZ(Node(0), Node(19)))  # QB1 and QB20


def _unknown_qubit() -> Circuit:
    return _measured(_on(99, bits=1).add_gate(OpType.PhasedX, [1.0, 0.0], [Node(99)]))


def _ccx() -> Circuit:
    return _measured(_on(0, 1, 3, bits=3).CCX(Node(0), Node(1), Node(3)))


Action = Callable[[IQMBackend, IQMEmulator], Any]


@dataclass(frozen=True)
class BadInput:
    """One bad input: what is called, the error expected and (a regex of) its message."""

    name: str
    action: Action
    error: type[BaseException]
    message: str

    def __str__(self) -> str:
        return self.name


def _process(circuits: list[Circuit], n_shots: Any = 10, **kwargs: Any) -> Action:
    return lambda backend, _: backend.process_circuits(circuits, n_shots, **kwargs)


def _construct(url: Callable[[IQMEmulator], str], **kwargs: Any) -> Action:
    return lambda _, emulator: IQMBackend(url(emulator), **kwargs)


def _construct_on_emulator(**kwargs: Any) -> Action:
    return lambda _, emulator: _connect(emulator, **kwargs)


def _with_handle(method: str, handle: ResultHandle, **kwargs: Any) -> Action:
    return lambda backend, _: getattr(backend, method)(handle, **kwargs)


def _host_port(emulator: IQMEmulator) -> str:
    return emulator.url.split("://", 1)[1]


CASES = [
    # -- circuits -----------------------------------------------------------------------------
    BadInput(
        "unsupported gate",
        _process([_ccx()]),
        CircuitNotValidError,
        rf"does not satisfy GateSetPredicate.*\({COMPILE_FIRST}\)",
    ),
    BadInput(
        "unsupported gate, unchecked",
        _process([_ccx()], valid_check=False),
        IQMTranslationError,
        "Cannot translate CCX on node.*IQM runs PhasedX, CZ, Measure, Barrier and Reset",
    ),
    BadInput(
        "symbolic parameter",
        _process([_symbolic()]),
        CircuitNotValidError,
        re.escape(
            "Circuit 0 has free symbols a: give them values before running it, e.g. "
            "circuit.symbol_substitution({Symbol('a'): 0.5}) with sympy's Symbol (compiling a "
            "symbolic circuit is fine)."
        ),
    ),
    BadInput(
        "more qubits than the device (compiling)",
        lambda backend, _: backend.get_compiled_circuit(Circuit(21, 21).measure_all()),
        IQMDeviceError,
        re.escape(
            "Circuit 0 has 21 qubits, but device 'garnet' has 20: use a device with more "
            "qubits, or split the circuit."
        ),
    ),
    BadInput(
        "more qubits than the device (running)",
        _process([_x(), Circuit(25, 1).measure_all()]),
        IQMDeviceError,
        "Circuit 1 has 25 qubits, but device 'garnet' has 20",
    ),
    BadInput(
        "symbolic parameter, unchecked",
        _process([_symbolic()], valid_check=False),
        IQMTranslationError,
        r"PhasedX on node\[0\] has symbolic parameters \['a'\]: substitute values",
    ),
    BadInput(
        "wrong connectivity",
        _process([_uncoupled()]),
        CircuitNotValidError,
        "does not satisfy ConnectivityPredicate",
    ),
    BadInput(
        "unknown qubit",
        _process([_unknown_qubit()]),
        CircuitNotValidError,
        "does not satisfy ConnectivityPredicate",
    ),
    BadInput(
        "unknown qubit, unchecked",
        _process([_unknown_qubit()], valid_check=False),
        IQMDeviceError,
        r"Circuit 0 acts on node\[99\], which device 'garnet' does not have \(it has node\[0\] "
        r"to node\[19\]\)",
    ),
    BadInput(
        "logical qubits (not compiled)",
        _process([Circuit(2, 2).H(0).CX(0, 1).measure_all()]),
        CircuitNotValidError,
        COMPILE_FIRST,
    ),
    BadInput(
        "empty circuit",
        _process([Circuit(0)]),
        IQMTranslationError,
        "Circuit 'circuit_0' has no instructions; IQM cannot run an empty circuit",
    ),
    BadInput(
        "empty circuit on device qubits",
        _process([_on(0, 1)], valid_check=False),
        IQMTranslationError,
        "has no instructions; IQM cannot run an empty circuit",
    ),
    BadInput(
        "one bad circuit among good ones",
        _process([_x(), _x(), _ccx()]),
        CircuitNotValidError,
        "Circuit with index 2 in submitted does not satisfy GateSetPredicate",
    ),
    BadInput(
        "no measurements (a warning)",
        _process([_on(0).add_gate(OpType.PhasedX, [1.0, 0.0], [Node(0)])]),
        UserWarning,
        "Circuit with index 0 in submitted does not contain a measure operation",
    ),
    # -- shots and options --------------------------------------------------------------------
    BadInput(
        "too many shots for the server",
        _process([_x()], 100_001),
        ValueError,
        r"n_shots 100001 is more than the server accepts \(100000\).*max_shots",
    ),
    BadInput("zero shots", _process([_x()], 0), ValueError, "n_shots must be at least 1, not 0"),
    BadInput(
        "fractional shots",
        _process([_x()], 1.5),
        ValueError,
        re.escape("n_shots must be a positive integer (a whole number of shots), not 1.5."),
    ),
    BadInput(
        "True as shots",
        _process([_x()], True),
        ValueError,
        re.escape("n_shots must be a positive integer (a whole number of shots), not True."),
    ),
    BadInput(
        "float shots in a list",
        _process([_x(), _x()], [10, 2.0]),
        ValueError,
        re.escape("n_shots must be a positive integer (a whole number of shots), not 2.0."),
    ),
    BadInput(
        "negative shots in a list",
        _process([_x(), _x()], [10, -1]),
        ValueError,
        "n_shots must be at least 1, not -1",
    ),
    BadInput(
        "no shots", _process([_x()], None), ValueError, "n_shots is required for this backend"
    ),
    BadInput(
        "shot list of the wrong length",
        _process([_x()], [1, 2]),
        ValueError,
        "The length of n_shots and circuits must match",
    ),
    BadInput(
        "unknown keyword",
        _process([_x()], shots_per_second=3),
        ValueError,
        r"Unknown keyword argument\(s\) shots_per_second; IQMBackend accepts",
    ),
    BadInput(
        "bad heralding mode",
        _process([_x()], heralding_mode="ones"),
        ValueError,
        "heralding_mode must be one of 'none', 'zeros', not 'ones'",
    ),
    BadInput(
        "calibration set id not a UUID",
        _process([_x()], calibration_set_id="latest"),
        ValueError,
        "calibration_set_id must be a UUID, got 'latest'",
    ),
    BadInput(
        "negative duration limit",
        _process([_x()], max_circuit_duration_over_t2=-1.0),
        ValueError,
        "max_circuit_duration_over_t2 must be 0 \\(off\\) or positive, not -1.0",
    ),
    BadInput(
        "batch size zero",
        _process([_x()], max_batch_size=0),
        ValueError,
        "max_batch_size must be at least 1, not 0",
    ),
    # -- handles ------------------------------------------------------------------------------
    BadInput(
        "handle from another backend (get_result)",
        _with_handle("get_result", ResultHandle("job-1", "HQS")),
        ResultHandleTypeError,
        re.escape(
            "ResultHandle('job-1', 'HQS') is not a handle of an IQM backend (those are (job_id, "
            "index, layout, ppcirc), from IQMBackend.process_circuits): fetch it from the "
            "backend that made it, or pass a handle an IQMBackend returned."
        ),
    ),
    BadInput(
        "handle from another backend (circuit_status)",
        _with_handle("circuit_status", ResultHandle(JOB, 0)),
        IQMHandleError,
        "is not a handle of an IQM backend",
    ),
    BadInput(
        "handle from another backend (cancel)",
        _with_handle("cancel", ResultHandle(3)),
        IQMHandleError,
        "is not a handle of an IQM backend",
    ),
    BadInput(
        "handle string without ResultHandle.from_str (get_result)",
        _with_handle("get_result", f"('{JOB}', 0, '{{}}', '')"),  # type: ignore[arg-type]
        IQMHandleError,
        re.escape(
            f"Got the string \"('{JOB}', 0, '{{}}', '')\" where a ResultHandle is needed: read a "
            "handle "
            "saved with str(handle) back with ResultHandle.from_str(text) (from "
            "pytket.backends.resulthandle), e.g. backend.get_result(ResultHandle.from_str(text))."
        ),
    ),
    BadInput(
        "handle string without ResultHandle.from_str (get_metadata)",
        _with_handle("get_metadata", "garbage"),  # type: ignore[arg-type]
        ResultHandleTypeError,
        re.escape("Got the string 'garbage' where a ResultHandle is needed"),
    ),
    BadInput(
        "handle job id not a UUID",
        _with_handle("get_result", ResultHandle("job-1", 0, LAYOUT, "")),
        IQMHandleError,
        f"Handle job id 'job-1' is not a UUID: {NOT_OURS}",
    ),
    BadInput(
        "handle with a negative index",
        _with_handle("get_metadata", ResultHandle(JOB, -1, LAYOUT, "")),
        IQMHandleError,
        f"Handle circuit index -1 is negative: {NOT_OURS}",
    ),
    BadInput(
        "handle of a job of the other API line",
        _with_handle("get_result", ResultHandle(JOB, 0, _layout(OTHER_LINE), "")),
        IQMHandleError,
        re.escape(
            f"The job was submitted through {OTHER_LINE.description}, but this backend uses "
            f"{LINE.description}; fetch its results with pytket-iqm on the iqm-client line "
            "that submitted it"
        ),
    ),
    BadInput(
        "handle with a foreign layout",
        _with_handle("circuit_status", ResultHandle(JOB, 0, "{}", "")),
        IQMHandleError,
        "Measurement layout has format None",
    ),
    BadInput(
        "handle with a malformed post-processing circuit",
        _with_handle("get_result", ResultHandle(JOB, 0, LAYOUT, "{not json")),
        IQMHandleError,
        f"Handle post-processing circuit is malformed .*: {NOT_OURS}",
    ),
    BadInput(
        "get_result polling interval of zero",
        _with_handle("get_result", ResultHandle(JOB, 0, LAYOUT, ""), wait=0),
        ValueError,
        re.escape(
            "wait is the longest pause between status polls, in seconds, and must be a "
            "positive number, not 0."
        ),
    ),
    BadInput(
        "get_result polling interval that is not a number",
        _with_handle("get_result", ResultHandle(JOB, 0, LAYOUT, ""), wait="1"),
        ValueError,
        re.escape("must be a positive number, not '1'."),
    ),
    BadInput(
        "malformed handle string",
        lambda backend, _: backend.get_result(ResultHandle.from_str("garbage")),
        ValueError,
        "ResultHandle string format invalid",
    ),
    BadInput(
        "malformed handle string of the right shape",
        lambda backend, _: backend.get_result(ResultHandle.from_str(f"('{JOB}', 0, 'x', '')")),
        IQMHandleError,
        "Measurement layout is not valid JSON",
    ),
    # -- construction -------------------------------------------------------------------------
    BadInput(
        "URL of another scheme",
        _construct(lambda e: "ftp://" + _host_port(e)),
        ValueError,
        "url must be an http:// or https:// URL of an IQM server, got 'ftp://127.0.0.1:",
    ),
    BadInput(
        "URL without a scheme",
        _construct(_host_port),
        ValueError,
        "url must be an http:// or https:// URL of an IQM server, got '127.0.0.1:",
    ),
    BadInput(
        "URL without a host",
        _construct(lambda _: "http:///garnet"),
        ValueError,
        "url 'http:///garnet' has no host",
    ),
    BadInput(
        "empty URL",
        _construct(lambda _: ""),
        ValueError,
        "url must be an http:// or https:// URL of an IQM server, got ''",
    ),
    BadInput(
        "username without password",
        _construct_on_emulator(username="alice"),
        IQMCredentialsError,
        "Incomplete auth server login: username .* auth_server_url and password missing",
    ),
    BadInput(
        "password without username",
        _construct_on_emulator(password="pw", auth_server_url="http://127.0.0.1:1"),
        IQMCredentialsError,
        "Incomplete auth server login: .* username missing",
    ),
    BadInput(
        "token and login together",
        _construct_on_emulator(token="t", username="u", password="p", auth_server_url="http://a"),
        IQMCredentialsError,
        "Conflicting credentials given as arguments: token and username/password",
    ),
    BadInput(
        "max_shots zero",
        _construct_on_emulator(max_shots=0),
        ValueError,
        "max_shots must be at least 1, not 0",
    ),
    BadInput(
        "poll interval zero",
        _construct_on_emulator(poll_interval=0),
        ValueError,
        "poll_interval must be positive, not 0",
    ),
]


def _requests_seen(emulator: IQMEmulator) -> int:
    return sum(emulator.faults.requests.values())


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input_fails_before_anything_is_sent(
    case: BadInput, backend: IQMBackend, emulator: IQMEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("IQM_TOKEN", "IQM_TOKENS_FILE", "IQM_AUTH_SERVER", "IQM_AUTH_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    seen, jobs = _requests_seen(emulator), emulator.app.state.emulator.store.count()
    with warnings.catch_warnings():
        # An expected warning is raised as an error: it, too, must come before sending.
        warnings.simplefilter("error" if issubclass(case.error, Warning) else "ignore")
        with pytest.raises(case.error, match=case.message):
            case.action(backend, emulator)
    assert _requests_seen(emulator) == seen
    assert emulator.app.state.emulator.store.count() == jobs


def test_the_list_covers_every_kind_of_bad_input_named_in_the_issue() -> None:
    names = " | ".join(case.name for case in CASES)
    for topic in (
        "unsupported gate",
        "symbolic parameter",
        "wrong connectivity",
        "unknown qubit",
        "too many shots",
        "empty circuit",
        "no measurements",
        "handle from another backend",
        "malformed handle string",
        "URL",
        "username without password",
    ):
        assert topic in names


def test_a_good_circuit_is_sent_once(backend: IQMBackend, emulator: IQMEmulator) -> None:
    # The control for the cases above: a valid call does reach the server.
    jobs = emulator.app.state.emulator.store.count()
    handle = backend.process_circuit(_x(), n_shots=4)
    assert backend.get_result(handle, timeout=30).get_counts() == {(1,): 4}
    assert emulator.app.state.emulator.store.count() == jobs + 1


def test_available_devices_without_url_says_what_to_give() -> None:
    with pytest.raises(ValueError, match="available_devices needs url") as caught:
        IQMBackend.available_devices(device="garnet")
    assert str(caught.value) == (
        "available_devices needs url=... (the IQM server's URL, with device=... naming the "
        "device; with iqm-client 22.x the device URL alone also works)."
    )
