"""The backend under injected server faults, end to end: pytket → IQMBackend → iqm-client → HTTP
→ emulator with fault injection.

Every test checks the outcome (exact counts of a deterministic circuit) and what the server saw:
jobs in its store, requests and faults by kind, so that a retried submit that duplicated a job,
or a result fetched twice, would fail the test.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_line import only_rest_v1
from pytket.circuit import Circuit

from pytket.extensions.iqm import IQMBackend, IQMServerError, IQMTimeoutError
from pytket.extensions.iqm.backends.connection.retry import RetryPolicy
from pytket.extensions.iqm.emulator import IQMEmulator
from pytket.extensions.iqm.emulator.http.faults import parse_fault_script

# Fast pauses: the emulator answers in milliseconds.
FAST = RetryPolicy(initial_backoff=0.01, max_backoff=0.05, max_attempts=8, max_total=20.0)


@pytest.fixture(scope="module")
def faulty() -> Iterator[IQMEmulator]:
    """An ideal garnet whose faults each test scripts (and leaves consumed)."""
    with IQMEmulator("garnet", noise=False, seed=3, stage_delay=0.0) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def like_iqm() -> Iterator[IQMEmulator]:
    """An ideal garnet that ignores Idempotency-Key, as IQM's servers do."""
    with IQMEmulator(
        "garnet", noise=False, seed=3, stage_delay=0.0, idempotency_keys=False
    ) as emulator:
        yield emulator


@pytest.fixture
def backend(faulty: IQMEmulator) -> Iterator[IQMBackend]:
    faulty.faults.clear()
    with IQMBackend(
        faulty.root_url, device=faulty.devices[0], retry=FAST, poll_interval=0.05
    ) as backend:
        yield backend
    faulty.faults.clear()


def _x_circuit(backend: IQMBackend, qubits: int = 2) -> Circuit:
    """X on every qubit, measured: the only outcome is all ones."""
    circuit = Circuit(qubits, qubits)
    for qubit in range(qubits):
        circuit.X(qubit)
    return backend.get_compiled_circuit(circuit.measure_all())


def _requests(emulator: IQMEmulator, kind: str) -> int:
    return emulator.faults.requests[kind]


def _jobs(emulator: IQMEmulator) -> int:
    return int(emulator.app.state.emulator.store.count())


def _inject(emulator: IQMEmulator, script: str) -> None:
    emulator.faults.add(parse_fault_script(script))


def test_status_and_result_faults_are_survived(faulty: IQMEmulator, backend: IQMBackend) -> None:
    circuit = _x_circuit(backend)
    handle = backend.process_circuit(circuit, n_shots=20)
    _inject(
        faulty,
        "status:503:2,status:reset:1,status:504:1,status:429:1,status:502:3,"
        "result:503:1,result:reset:1,result:drop:1,result:502:2",
    )
    assert backend.get_result(handle, timeout=30).get_counts() == Counter({(1, 1): 20})
    assert faulty.faults.pending() == []  # every fault was met and survived
    injected = faulty.faults.snapshot()["injected"]
    assert injected["status:503"] == 2
    assert injected["result:drop"] == 1


def test_a_read_timeout_is_retried(faulty: IQMEmulator, faulty_backend_timeout: IQMBackend) -> None:
    backend = faulty_backend_timeout
    handle = backend.process_circuit(_x_circuit(backend), n_shots=5)
    before = _requests(faulty, "status")
    _inject(faulty, "status:delay1500:1")
    assert backend.get_result(handle, timeout=30).get_counts() == Counter({(1, 1): 5})
    assert _requests(faulty, "status") - before >= 2  # the slow one timed out, then a retry


@pytest.fixture
def faulty_backend_timeout(faulty: IQMEmulator) -> Iterator[IQMBackend]:
    policy = RetryPolicy(initial_backoff=0.01, max_backoff=0.05, request_timeout=0.5)
    with IQMBackend(
        faulty.root_url, device=faulty.devices[0], retry=policy, poll_interval=0.05
    ) as backend:
        yield backend
    faulty.faults.clear()


@pytest.mark.parametrize(
    ("fault", "jobs_created"),
    [
        ("submit:reset:1", 0),  # connection cut before the server handled it
        ("submit:drop:1", 1),  # the server created the job, the answer was lost
        ("submit:after504:1", 1),  # created, then a gateway timeout answered
    ],
)
def test_an_ambiguous_submit_failure_is_reported_not_resubmitted(
    like_iqm: IQMEmulator, fault: str, jobs_created: int
) -> None:
    # IQM's servers ignore Idempotency-Key: an unanswered submit cannot be resent safely.
    like_iqm.faults.clear()
    with IQMBackend(
        like_iqm.root_url, device=like_iqm.devices[0], retry=FAST, poll_interval=0.05
    ) as backend:
        assert not backend._connection.idempotency.honoured
        circuit = _x_circuit(backend)
        jobs, submits = _jobs(like_iqm), _requests(like_iqm, "submit")
        _inject(like_iqm, fault)
        message = "may or may not have created the job; it was not resubmitted"
        with pytest.raises(IQMServerError, match=message):
            backend.process_circuit(circuit, n_shots=5)
    assert _requests(like_iqm, "submit") - submits == 1  # one POST: no retry
    assert _jobs(like_iqm) - jobs == jobs_created  # never two


@pytest.mark.parametrize("fault", ["submit:reset:1", "submit:drop:1", "submit:after504:1"])
def test_an_unanswered_submit_is_resent_to_a_server_honouring_keys(
    faulty: IQMEmulator, backend: IQMBackend, fault: str
) -> None:
    # The emulator honours Idempotency-Key, which the backend learnt from the answers to its
    # own requests while it was built: the resend is answered with the job the first attempt
    # made (drop, after504), or makes it (reset, before handling). One job either way.
    assert backend._connection.idempotency.honoured
    circuit = _x_circuit(backend)
    jobs, submits = _jobs(faulty), _requests(faulty, "submit")
    _inject(faulty, fault)
    handle = backend.process_circuit(circuit, n_shots=5)
    assert _requests(faulty, "submit") - submits == 2
    assert _jobs(faulty) - jobs == 1
    assert backend.get_result(handle, timeout=30).get_counts() == Counter({(1, 1): 5})


def test_a_submit_answered_503_or_429_is_retried_and_creates_one_job(
    faulty: IQMEmulator, backend: IQMBackend
) -> None:
    # 503 and 429 mean the server did not take the request: repeating it cannot duplicate.
    circuit = _x_circuit(backend)
    jobs, submits = _jobs(faulty), _requests(faulty, "submit")
    _inject(faulty, "submit:503:2,submit:429:1")
    handle = backend.process_circuit(circuit, n_shots=5)
    assert _requests(faulty, "submit") - submits == 4
    assert _jobs(faulty) - jobs == 1
    assert backend.get_result(handle, timeout=30).get_counts() == Counter({(1, 1): 5})


@only_rest_v1  # iqm-client 36 never retries a 502 itself
def test_submit_502_is_retried_by_iqm_client_and_creates_one_job(
    faulty: IQMEmulator, backend: IQMBackend
) -> None:
    # iqm-client itself repeats a POST answered 502 (a gateway error: the job was not created).
    circuit = _x_circuit(backend)
    jobs, submits = _jobs(faulty), _requests(faulty, "submit")
    _inject(faulty, "submit:502:2")
    handle = backend.process_circuit(circuit, n_shots=5)
    assert _requests(faulty, "submit") - submits == 3
    assert _jobs(faulty) - jobs == 1
    assert backend.get_result(handle, timeout=30).get_counts() == Counter({(1, 1): 5})


def test_submit_is_retried_while_the_server_is_down(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite"
    first = IQMEmulator("garnet", noise=False, seed=1, db=db, stage_delay=0.0).start()
    port = first.port
    # Two attempts only: refused connections are retried for the connect window regardless.
    policy = RetryPolicy(initial_backoff=0.1, max_backoff=0.3, max_attempts=2)
    backend = IQMBackend(first.root_url, device=first.devices[0], retry=policy, poll_interval=0.05)
    circuit = _x_circuit(backend)
    first.stop()
    second = IQMEmulator("garnet", noise=False, seed=1, db=db, port=port, stage_delay=0.0)
    restart = threading.Timer(3.0, second.start)
    restart.start()
    try:
        handle = backend.process_circuit(circuit, n_shots=7)  # refused, refused, ..., accepted
        restart.join()
        assert backend.get_result(handle, timeout=30).get_counts() == Counter({(1, 1): 7})
        assert _jobs(second) == 1
        assert _requests(second, "submit") == 1
    finally:
        restart.join()
        second.stop()


def test_status_failures_until_the_timeout_raise_a_timeout_naming_the_job(
    faulty: IQMEmulator, backend: IQMBackend
) -> None:
    handle = backend.process_circuit(_x_circuit(backend), n_shots=5)
    job_id = str(handle[0])
    _inject(faulty, "status:503:10000")
    with pytest.raises(IQMTimeoutError) as raised:
        backend.get_result(handle, timeout=0.5)
    message = str(raised.value)
    assert f"Job {job_id} did not finish within 0.5 s" in message
    assert "its last known status is 'not yet known'" in message
    assert "503" in message
    assert "The handle stays valid" in message
    faulty.faults.clear()
    assert backend.get_result(handle, timeout=30).get_counts() == Counter({(1, 1): 5})


def test_retries_are_bounded_by_the_policy(faulty: IQMEmulator) -> None:
    policy = RetryPolicy(initial_backoff=0.01, max_backoff=0.02, max_attempts=3)
    with IQMBackend(faulty.root_url, device=faulty.devices[0], retry=policy) as backend:
        handle = backend.process_circuit(_x_circuit(backend), n_shots=5)
        before = _requests(faulty, "status")
        _inject(faulty, "status:503:10000")
        with pytest.raises(IQMServerError, match=r"gave up after 3 attempts"):
            backend.circuit_status(handle)
        assert _requests(faulty, "status") - before == 3
        faulty.faults.clear()


def test_a_result_is_fetched_from_the_server_once(faulty: IQMEmulator, backend: IQMBackend) -> None:
    circuits = [_x_circuit(backend, 2), _x_circuit(backend, 3)]
    handles = backend.process_circuits(circuits, n_shots=10)
    assert str(handles[0][0]) == str(handles[1][0])  # one job
    before = _requests(faulty, "result")
    threads = [
        threading.Thread(target=backend.get_result, args=(handle,), kwargs={"timeout": 30})
        for handle in handles * 3
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert backend.get_result(handles[1]).get_counts() == Counter({(1, 1, 1): 10})
    backend.get_metadata(handles[0])
    backend.circuit_status(handles[0])
    assert _requests(faulty, "result") - before == 1


def test_random_faults_on_reads_are_survived() -> None:
    with IQMEmulator(
        "garnet",
        noise=False,
        seed=8,
        stage_delay=0.0,
        fail_rate=0.4,
        fault_kinds=("status", "result", "counts", "calibration"),
        max_random_faults=1000,
    ) as emulator:
        with IQMBackend(
            emulator.root_url, device=emulator.devices[0], retry=FAST, poll_interval=0.02
        ) as backend:
            widths = [1, 2, 3, 4, 1, 2, 3, 4]
            circuits = [_x_circuit(backend, n) for n in widths]
            shots = list(range(3, 11))  # one job per circuit
            handles = backend.process_circuits(circuits, n_shots=shots)
            results = backend.get_results(handles, timeout=30)
        assert [r.get_counts() for r in results] == [
            Counter({(1,) * n: s}) for n, s in zip(widths, shots, strict=True)
        ]
        injected = sum(emulator.faults.snapshot()["injected"].values())
        # Seeded: at least 18 faultable requests are made, and the first 17 draws give 9 faults.
        assert injected >= 9
        assert _jobs(emulator) == 8


@only_rest_v1
def test_expired_access_tokens_are_refreshed() -> None:
    # 3 s: expiry is in whole seconds, so a token lives 2-3 s, enough for one request on a
    # loaded machine (with 1 s a login could return a token already expired).
    with (
        IQMEmulator(
            "garnet", noise=False, auth_users={"alice": "pw"}, access_token_lifetime=3
        ) as emulator,
        IQMBackend(
            emulator.url, auth_server_url=emulator.auth_server_url, username="alice", password="pw"
        ) as backend,
    ):
        circuit = _x_circuit(backend, 1)
        assert backend.run_circuit(circuit, n_shots=3).get_counts() == Counter({(1,): 3})
        time.sleep(3.1)  # every access token issued so far has expired
        assert backend.run_circuit(circuit, n_shots=3).get_counts() == Counter({(1,): 3})
