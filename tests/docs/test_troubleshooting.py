"""Every message that ``docs/troubleshooting.rst`` quotes is exactly what the code raises.

A quoted message is a ``.. code-block:: text`` right after a ``.. message: <id>`` comment, of the
form ``<ErrorType>: <message>``, with ``<root>`` for the emulator's root URL. Each id has an
action here that makes the mistake against the emulator; ids ending in ``-22`` or ``-36`` are
mistakes of one iqm-client line and run only there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytket.backends.backend_exceptions import CircuitNotValidError
from pytket.backends.resulthandle import ResultHandle
from pytket.circuit import Circuit, Node, OpType
from sympy import Symbol

import pytket.extensions.iqm
from pytket.extensions.iqm import IQMBackend
from pytket.extensions.iqm.backends.connection.installed import installed_api_line
from pytket.extensions.iqm.backends.connection.types import ApiLine
from pytket.extensions.iqm.emulator import IQMEmulator

PAGE = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.rst"
LINE_SUFFIX = {ApiLine.REST_V1: "-22", ApiLine.SERVER_API: "-36"}[installed_api_line()]

_QUOTED = re.compile(
    r"^\.\. message: (?P<id>\S+)\n\n\.\. code-block:: text\n\n   (?P<text>.+)$", re.MULTILINE
)


def documented_messages() -> dict[str, str]:
    return {match["id"]: match["text"] for match in _QUOTED.finditer(PAGE.read_text())}


@pytest.fixture(scope="module")
def emulator() -> Iterator[IQMEmulator]:
    with IQMEmulator(device="garnet", noise=False) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def backend(emulator: IQMEmulator) -> IQMBackend:
    return IQMBackend(emulator.root_url, device="garnet")


def _compiled_x() -> Circuit:
    circuit = Circuit()
    circuit.add_qubit(Node(0))
    circuit.add_c_register("c", 1)
    return circuit.add_gate(OpType.PhasedX, [1.0, 0.0], [Node(0)]).Measure(Node(0), circuit.bits[0])


def _symbolic(backend: IQMBackend) -> Circuit:
    circuit = Circuit(2, 2).Rx(Symbol("alpha"), 0).Rx(Symbol("beta"), 1).CX(0, 1).measure_all()
    return backend.get_compiled_circuit(circuit)


Mistake = Callable[[IQMEmulator, IQMBackend], Any]

MISTAKES: dict[str, Mistake] = {
    "misspelt-device-22": lambda emulator, _: IQMBackend(f"{emulator.root_url}/garnett"),
    "root-without-device-22": lambda emulator, _: IQMBackend(emulator.root_url),
    "misspelt-device-36": lambda emulator, _: IQMBackend(emulator.root_url, device="garnett"),
    "no-device": lambda _, __: IQMBackend(),
    "token-and-api-token": lambda emulator, _: IQMBackend(
        emulator.root_url, device="garnet", token="a", api_token="b"
    ),
    "url-and-server-url": lambda emulator, _: IQMBackend(
        emulator.root_url, device="garnet", server_url=emulator.root_url
    ),
    "fractional-shots": lambda _, backend: backend.process_circuit(_compiled_x(), n_shots=1.5),
    "free-symbols": lambda _, backend: backend.process_circuit(_symbolic(backend), n_shots=10),
    "too-many-qubits": lambda _, backend: backend.get_compiled_circuit(
        Circuit(21, 21).measure_all()
    ),
    "handle-string": lambda _, backend: backend.get_result("garbage"),
    "foreign-handle": lambda _, backend: backend.get_result(ResultHandle("job-1", "HQS")),
}


def _error_type(name: str) -> type[BaseException]:
    """The documented type: pytket-iqm's own, or the standard ones the page names."""
    others: dict[str, type[BaseException]] = {
        "ValueError": ValueError,
        "CircuitNotValidError": CircuitNotValidError,
    }
    found = getattr(pytket.extensions.iqm, name, None) or others[name]
    assert isinstance(found, type)
    assert issubclass(found, BaseException)
    return found


def test_every_documented_message_has_a_mistake_here_and_back() -> None:
    assert set(documented_messages()) == set(MISTAKES)


@pytest.mark.parametrize(
    "message_id",
    [
        message_id
        for message_id in MISTAKES
        if not message_id.endswith(("-22", "-36")) or message_id.endswith(LINE_SUFFIX)
    ],
)
def test_documented_message_is_what_the_code_raises(
    message_id: str, emulator: IQMEmulator, backend: IQMBackend
) -> None:
    type_name, _, message = documented_messages()[message_id].partition(": ")
    with pytest.raises(_error_type(type_name)) as raised:
        MISTAKES[message_id](emulator, backend)
    assert str(raised.value) == message.replace("<root>", emulator.root_url)
