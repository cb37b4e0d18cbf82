"""Fixtures for the emulator server tests: running emulators, clients and native circuits.

The ``client``, ``client_for`` and ``native`` fixtures build iqm-client 22.x objects; under
another iqm-client line they skip the test that asks for them (see ``iqm_client_line.py``).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from iqm_client_line import IQM_CLIENT_22, REASON_22

from pytket.extensions.iqm.emulator import IQMEmulator

if IQM_CLIENT_22 or TYPE_CHECKING:
    from iqm.iqm_client import Circuit, Instruction, IQMClient, RunRequest


def instruction(**fields: Any) -> Instruction:
    """An ``Instruction`` from its wire fields (validated like the client does)."""
    return Instruction.model_validate(fields)


def circuit(**fields: Any) -> Circuit:
    """A ``Circuit`` from its wire fields."""
    return Circuit.model_validate(fields)


def run_request(**fields: Any) -> RunRequest:
    """A ``RunRequest`` from its fields, bypassing the client's calibration checks."""
    return RunRequest.model_validate(fields)


_WARNINGS_LOCK = threading.Lock()
"""``catch_warnings`` swaps process-wide state: threads building clients take turns."""


def make_client(url: str, **kwargs: Any) -> IQMClient:
    """An ``IQMClient`` for ``url`` without the V1-deprecation warning."""
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The V1 API is deprecated", DeprecationWarning)
        return IQMClient(url, **kwargs)


def prx(qubit: str, angle_t: float, phase_t: float) -> Instruction:
    """PRX with angles in turns."""
    return instruction(name="prx", qubits=(qubit,), args={"angle_t": angle_t, "phase_t": phase_t})


def cz(a: str, b: str) -> Instruction:
    """CZ on ``(a, b)``."""
    return instruction(name="cz", qubits=(a, b), args={})


def measure(*qubits: str, key: str, feedback_key: str | None = None) -> Instruction:
    """Measurement of ``qubits`` under ``key``."""
    args: dict[str, Any] = {"key": key}
    if feedback_key is not None:
        args["feedback_key"] = feedback_key
    return instruction(name="measure", qubits=qubits, args=args)


def bell(a: str = "QB1", b: str = "QB2", name: str = "bell") -> Circuit:
    """(|00> + |11>)/√2 from RY(π/2) on ``a`` and CNOT(a→b) = RY(π/2)_b·CZ·RY(-π/2)_b,
    measured under keys ``c0`` (``a``) and ``c1`` (``b``)."""
    return circuit(
        name=name,
        instructions=(
            prx(a, 0.25, 0.25),
            prx(b, -0.25, 0.25),
            cz(a, b),
            prx(b, 0.25, 0.25),
            measure(a, key="c0"),
            measure(b, key="c1"),
        ),
    )


def x_then_measure(qubit: str = "QB1", key: str = "m", name: str = "x") -> Circuit:
    """|1> on ``qubit``, measured."""
    return circuit(name=name, instructions=(prx(qubit, 0.5, 0.0), measure(qubit, key=key)))


@pytest.fixture(scope="module")
def emulator() -> Iterator[IQMEmulator]:
    """An ideal (noise-free), seeded Garnet emulator with small limits, shared by a module."""
    with IQMEmulator(
        "garnet", noise=False, seed=11, max_shots=1000, max_circuits=3, workers=2
    ) as emu:
        yield emu


def _require_iqm_client_22() -> None:
    if not IQM_CLIENT_22:
        pytest.skip(REASON_22)


@pytest.fixture
def client(emulator: IQMEmulator) -> IQMClient:
    """A client of the module's emulator."""
    _require_iqm_client_22()
    return make_client(emulator.url)


@pytest.fixture
def client_for() -> Callable[..., IQMClient]:
    """Factory of clients without the deprecation warning: ``client_for(url, **kwargs)``."""
    _require_iqm_client_22()
    return make_client


@pytest.fixture
def native() -> SimpleNamespace:
    """Builders of native 22.x instructions, circuits and requests (``native.bell()``)."""
    _require_iqm_client_22()
    return SimpleNamespace(
        prx=prx,
        cz=cz,
        measure=measure,
        bell=bell,
        x_then_measure=x_then_measure,
        instruction=instruction,
        circuit=circuit,
        run_request=run_request,
    )
