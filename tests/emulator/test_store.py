"""The SQLite job store: records, conditional transitions, persistence, thread safety."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from pytket.extensions.iqm.emulator.jobs.spec import JobSpec, RejectedJob
from pytket.extensions.iqm.emulator.jobs.status import Status
from pytket.extensions.iqm.emulator.jobs.store import (
    API_REST_V1,
    API_SERVER_API,
    JobStore,
    JobStoreInUseError,
)
from pytket.extensions.iqm.emulator.simulation.program import CircuitSpec, Operation

CAL = uuid.UUID("66ee0a15-843b-549b-b70e-153278ff0eca")


def _new(store: JobStore, device: str = "garnet") -> uuid.UUID:
    job_id = uuid.uuid4()
    store.create(job_id, device, CAL, '{"shots": 1}')
    return job_id


def test_create_and_get() -> None:
    store = JobStore()
    job_id = uuid.uuid4()
    created = store.create(job_id, "garnet", CAL, '{"shots": 1}')
    assert created.seq == 1
    record = store.get(job_id)
    assert record is not None
    assert record.id == job_id
    assert record.seq == 1
    assert record.device == "garnet"
    assert record.calibration_set_id == CAL
    assert record.status == Status.RECEIVED
    assert record.message is None
    assert record.warnings is None
    assert record.request_json == '{"shots": 1}'
    assert set(record.timestamps) == {"job_start"}
    assert not record.terminal
    assert store.get(uuid.uuid4()) is None
    assert _new(store) != job_id
    assert store.get(_new(store)).seq == 3  # type: ignore[union-attr]


def test_lifecycle_to_ready_records_history_timestamps_and_results() -> None:
    store = JobStore()
    job_id = _new(store)
    assert store.advance(job_id, Status.PENDING_COMPILATION, ("compile_start",))
    store.stamp(job_id, "compile_end")
    assert store.advance(job_id, Status.PENDING_EXECUTION)
    assert store.finish(
        job_id, '[{"m": [[1]]}]', '[{"measurement_keys": ["m"], "counts": {"1": 1}}]'
    )
    record = store.get(job_id)
    assert record is not None
    assert record.status == Status.READY
    assert record.terminal
    assert set(record.timestamps) == {"job_start", "compile_start", "compile_end", "job_end"}
    assert [s for s, _ in store.history(job_id)] == [
        Status.RECEIVED,
        Status.PENDING_COMPILATION,
        Status.PENDING_EXECUTION,
        Status.READY,
    ]
    assert store.results(job_id) == (
        '[{"m": [[1]]}]',
        '[{"measurement_keys": ["m"], "counts": {"1": 1}}]',
    )


def test_terminal_jobs_never_change() -> None:
    store = JobStore()
    job_id = _new(store)
    assert store.abort(job_id)
    assert not store.finish(job_id, "[]", "[]")  # a worker finishing late loses
    assert not store.fail(job_id, "late")
    assert not store.advance(job_id, Status.PENDING_EXECUTION)
    assert not store.abort(job_id)
    assert not store.requeue(job_id)
    record = store.get(job_id)
    assert record is not None
    assert record.status == Status.ABORTED
    assert record.message == "The job was aborted by the user."
    assert store.results(job_id) is None
    failed = _new(store)
    assert store.fail(failed, "Circuit 'c' (index 0): bad.")
    assert not store.abort(failed)
    record = store.get(failed)
    assert record is not None
    assert record.message == "Circuit 'c' (index 0): bad."
    assert not store.abort(uuid.uuid4())  # unknown


def test_advance_refuses_terminal_status() -> None:
    store = JobStore()
    with pytest.raises(ValueError, match="advance\\(\\) cannot set the terminal status 'ready'"):
        store.advance(_new(store), Status.READY)


def test_file_store_persists_and_lists_unfinished(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    store = JobStore(path)
    done, waiting, running = _new(store), _new(store, "deneb"), _new(store)
    store.finish(done, "[]", "[]")
    store.advance(running, Status.PENDING_EXECUTION)
    store.close()
    reopened = JobStore(path)
    assert [r.id for r in reopened.unfinished()] == [waiting, running]
    assert reopened.results(done) == ("[]", "[]")
    assert reopened.requeue(running)
    assert reopened.get(running).status == Status.RECEIVED  # type: ignore[union-attr]
    # Sequence numbers continue after a restart.
    assert reopened.create(uuid.uuid4(), "garnet", CAL, "{}").seq == 4
    reopened.close()


def test_concurrent_writers_lose_nothing() -> None:
    store = JobStore()
    created: list[list[uuid.UUID]] = [[] for _ in range(8)]

    def writer(index: int) -> None:
        for _ in range(40):
            job_id = _new(store)
            created[index].append(job_id)
            store.advance(job_id, Status.PENDING_COMPILATION)
            store.finish(job_id, "[]", "[]")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [job_id for batch in created for job_id in batch]
    assert len(set(ids)) == 320
    records = [store.get(job_id) for job_id in ids]
    assert sorted(r.seq for r in records if r is not None) == list(range(1, 321))
    assert all(r is not None and r.status == Status.READY for r in records)
    assert store.unfinished() == []


def test_api_line_is_stored_and_checked() -> None:
    store = JobStore()
    legacy = _new(store)
    server = uuid.uuid4()
    store.create(server, "garnet", CAL, "{}", api=API_SERVER_API)
    records = [store.get(j) for j in (legacy, server)]
    assert [r.api if r else None for r in records] == [API_REST_V1, API_SERVER_API]
    with pytest.raises(ValueError, match="Unknown API line 'v3'; use one of cocos-v1, server-v1"):
        store.create(uuid.uuid4(), "garnet", CAL, "{}", api="v3")


def test_delete_removes_the_job_and_refuses_later_changes() -> None:
    store = JobStore()
    first, second, third = _new(store), _new(store), _new(store)
    assert store.jobs_ahead(store.get(third)) == 2  # type: ignore[arg-type]
    assert store.delete(second)
    assert not store.delete(second)
    assert store.get(second) is None
    assert store.history(second) == []
    assert not store.advance(second, Status.PENDING_COMPILATION)
    store.stamp(second, "compile_start")  # a worker that did not notice: nothing is recorded
    assert store.count() == 2
    assert store.jobs_ahead(store.get(third)) == 1  # type: ignore[arg-type]
    assert store.abort(first)
    assert store.jobs_ahead(store.get(third)) == 0  # type: ignore[arg-type]


def test_a_database_from_before_the_api_column_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
            " device TEXT NOT NULL, calibration_set_id TEXT NOT NULL, status TEXT NOT NULL,"
            " message TEXT, warnings TEXT, request TEXT NOT NULL)"
        )
        old = uuid.uuid4()
        conn.execute(
            "INSERT INTO jobs (id, device, calibration_set_id, status, request)"
            " VALUES (?, 'garnet', ?, 'ready', '{}')",
            (str(old), str(CAL)),
        )
    store = JobStore(path)
    record = store.get(old)
    assert record is not None
    assert (record.api, record.status) == (API_REST_V1, Status.READY)
    store.close()


def test_plans_survive_a_restart_and_old_jobs_get_one(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    spec = JobSpec(
        circuits=(
            CircuitSpec(
                "bell",
                (
                    Operation("prx", ("QB1",), angle=0.5, phase=0.25),
                    Operation("cz", ("QB1", "QB2")),
                    Operation("measure", ("QB1", "QB2"), key="m", feedback_key="f"),
                    Operation(
                        "cc_prx", ("QB3",), angle=1.0, feedback_key="f", feedback_qubit="QB1"
                    ),
                    Operation("delay", ("QB3",), duration=1e-7),
                ),
            ),
        ),
        shots=10,
        heralding_zeros=True,
        move_validation_mode="allow_prx",
        max_circuit_duration_over_t2=None,
    )
    store = JobStore(path)
    planned, rejected, old = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    store.create(planned, "garnet", CAL, "{}", plan=spec)
    store.create(rejected, "garnet", CAL, "{}", plan=RejectedJob("QB9 is not a qubit"))
    store.create(old, "garnet", CAL, "{}")
    store.close()
    reopened = JobStore(path)
    assert reopened.plan(planned) == spec
    assert reopened.plan(rejected) == RejectedJob("QB9 is not a qubit")
    assert reopened.plan(old) is None
    assert reopened.plan(uuid.uuid4()) is None
    reopened.set_plan(old, spec)
    assert reopened.plan(old) == spec
    reopened.close()


def test_one_store_per_database_file(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite"
    first = JobStore(db)
    with pytest.raises(JobStoreInUseError, match=r"Another emulator is using the job store"):
        JobStore(db)
    first.close()
    JobStore(db).close()  # free again once the first has closed


def test_the_store_lock_is_released_when_its_process_is_killed(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pytket.extensions.iqm.emulator.jobs.store import JobStore; "
            f"JobStore({str(db)!r}); print('held', flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(JobStoreInUseError):
            JobStore(db)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    JobStore(db).close()  # kill -9 released it


def test_results_are_stored_compressed_and_read_back(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite"
    store = JobStore(db)
    job_id = _new(store)
    measurements = "[" + ",".join(['{"m":[[0,1],[1,0]]}'] * 1000) + "]"
    assert store.finish(job_id, measurements, '[{"counts": {}}]')
    assert store.results(job_id) == (measurements, '[{"counts": {}}]')
    store.close()
    with sqlite3.connect(db) as connection:
        (stored,) = connection.execute("SELECT measurements FROM results").fetchone()
        assert isinstance(stored, bytes)
        assert len(stored) < len(measurements) / 10
        # A database written before compression holds the JSON text: still readable.
        connection.execute("UPDATE results SET measurements = ?", (measurements,))
    reopened = JobStore(db)
    assert reopened.results(job_id) == (measurements, '[{"counts": {}}]')
    reopened.close()
