"""Fair, abortable execution: queued jobs reach the workers round-robin by owner, and an abort
(or a shutdown) stops a running simulation between gates, freeing its worker.

Raw HTTP (httpx) with users of the emulated auth server; runs with either iqm-client line. The
long job is a 22-qubit circuit of many gates that would run for minutes: the tests pass only
because the abort stops it (speed figures are in ``benchmarks/sharing.py``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from auth_support import bearer_headers
from pytket.architecture import Architecture

from pytket.extensions.iqm.backends.architecture import qubit_for_node
from pytket.extensions.iqm.devices import backend_info
from pytket.extensions.iqm.emulator import IQMEmulator
from pytket.extensions.iqm.emulator.jobs.queue_policy import FairQueue
from pytket.extensions.iqm.emulator.simulation.program import Operation
from pytket.extensions.iqm.emulator.simulation.simulator import SimulationCancelledError, simulate

USERS = {"alice": "alice-password", "bob": "bob-password"}
LONG_QUBITS = [f"QB{i}" for i in range(1, 23)]
LONG_LAYERS = 1000
"""Layers of PRX and CZ on 22 qubits: 43 000 gates on a 2^22 state, minutes of work."""


def test_the_queue_serves_owners_in_turn() -> None:
    queue = FairQueue()
    jobs = {name: uuid.uuid4() for name in ("a1", "a2", "a3", "b1", "c1", "b2")}
    queue.put(jobs["a1"], "alice")
    assert queue.get() == jobs["a1"]  # alice is served; her next jobs wait behind others
    for name in ("a2", "a3", "b1", "c1", "b2"):
        queue.put(jobs[name], {"a": "alice", "b": "bob", "c": "carol"}[name[0]])
    order = [queue.get() for _ in range(5)]
    assert order == [jobs[name] for name in ("b1", "c1", "a2", "b2", "a3")]
    queue.close()
    assert queue.get() is None


def test_a_cancelled_simulation_stops() -> None:
    circuit = [Operation("prx", ("QB1",), angle=1.0)] * 10 + [
        Operation("measure", ("QB1",), key="m")
    ]
    with pytest.raises(SimulationCancelledError):
        simulate(circuit, 10, noise=None, rng=np.random.default_rng(1), cancelled=lambda: True)


@pytest.fixture(scope="module")
def emulator() -> Iterator[IQMEmulator]:
    with IQMEmulator("emerald", noise=False, auth_users=USERS, workers=1, stage_delay=0.0) as emu:
        yield emu


def _spanning_czs() -> list[tuple[str, str]]:
    """A spanning tree of emerald's couplers over :data:`LONG_QUBITS`."""
    architecture = backend_info("emerald").architecture
    assert isinstance(architecture, Architecture)
    pairs = [(qubit_for_node(a), qubit_for_node(b)) for a, b in architecture.coupling]
    reached, tree, grown = {LONG_QUBITS[0]}, [], True
    while grown:
        grown = False
        for a, b in pairs:
            if a in LONG_QUBITS and b in LONG_QUBITS and (a in reached) != (b in reached):
                tree.append((a, b))
                reached |= {a, b}
                grown = True
    assert reached == set(LONG_QUBITS), "the long circuit's qubits must be connected"
    return tree


def _instruction(name: str, qubits: list[str], **args: Any) -> dict[str, Any]:
    return {"name": name, "qubits": qubits, "args": args}


def _submit(emulator: IQMEmulator, headers: dict[str, str], *, long: bool) -> str:
    if long:
        # Each layer's PRXs are followed by CZs that tie the qubits into one state, so the
        # simulator can neither run qubits on their own nor merge one qubit's rotations.
        czs = [_instruction("cz", [a, b]) for a, b in _spanning_czs()]
        instructions = []
        for layer in range(LONG_LAYERS):
            instructions += [
                _instruction("prx", [qubit], angle_t=0.1 * (layer + 1), phase_t=0.0)
                for qubit in LONG_QUBITS
            ]
            instructions += czs
        instructions.append(_instruction("measure", LONG_QUBITS, key="m"))
    else:
        instructions = [
            _instruction("prx", ["QB1"], angle_t=0.5, phase_t=0.0),
            _instruction("measure", ["QB1"], key="m"),
        ]
    # The long circuit is far over the duration limit of a real device: switch the check off.
    body = {
        "circuits": [{"name": "c", "instructions": instructions}],
        "shots": 5,
        "max_circuit_duration_over_t2": 0.0,
    }
    answer = httpx.post(f"{emulator.url}/jobs", json=body, headers=headers, timeout=30)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _status(emulator: IQMEmulator, headers: dict[str, str], job_id: str) -> str:
    answer = httpx.get(f"{emulator.url}/jobs/{job_id}/status", headers=headers, timeout=30)
    return str(answer.json()["status"])


def _wait_for(emulator: IQMEmulator, headers: dict[str, str], job_id: str, statuses: set[str],
              timeout: float) -> str:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _status(emulator, headers, job_id)
        if status in statuses:
            return status
        time.sleep(0.05)
    pytest.fail(f"job {job_id} still {_status(emulator, headers, job_id)!r} after {timeout} s")


def _running(emulator: IQMEmulator, job_id: str) -> bool:
    job = emulator.app.state.emulator.store.get(uuid.UUID(job_id))
    return job is not None and "execution_start" in job.timestamps and not job.terminal


def _abort(emulator: IQMEmulator, headers: dict[str, str], job_id: str) -> None:
    answer = httpx.post(f"{emulator.url}/jobs/{job_id}/abort", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text


def test_an_abort_frees_the_worker_of_a_running_job(emulator: IQMEmulator) -> None:
    alice = bearer_headers(emulator, "alice", USERS["alice"])
    long = _submit(emulator, alice, long=True)
    deadline = time.monotonic() + 60
    while not _running(emulator, long) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running(emulator, long)
    _abort(emulator, alice, long)
    # The only worker is free again: a short job runs (it would wait minutes otherwise).
    short = _submit(emulator, alice, long=False)
    assert _wait_for(emulator, alice, short, {"ready"}, timeout=30) == "ready"
    assert _status(emulator, alice, long) == "aborted"


def test_another_users_job_is_served_before_the_next_long_one(emulator: IQMEmulator) -> None:
    alice = bearer_headers(emulator, "alice", USERS["alice"])
    bob = bearer_headers(emulator, "bob", USERS["bob"])
    first = _submit(emulator, alice, long=True)
    second = _submit(emulator, alice, long=True)
    deadline = time.monotonic() + 60
    while not _running(emulator, first) and time.monotonic() < deadline:
        time.sleep(0.05)
    mine = _submit(emulator, bob, long=False)
    _abort(emulator, alice, first)
    # First in, first out would run alice's second long job next, for minutes.
    assert _wait_for(emulator, bob, mine, {"ready"}, timeout=30) == "ready"
    _abort(emulator, alice, second)
