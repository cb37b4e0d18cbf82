"""SQLite job store: jobs, their requests, plans and idempotency keys, results and status
history.

One connection guarded by a lock serves every thread (HTTP handlers and workers); all writes
are short transactions. In memory by default; with a file path, jobs survive a restart, and one
emulator at a time may use the file: a second one would take over the first one's in-flight
jobs and run them with its own settings. An exclusive ``flock`` on ``<file>.lock`` says which;
the kernel releases it when its holder exits, however it exits (``kill -9`` included). Status
changes are conditional, so an abort and a finishing worker cannot both win: whichever writes
first makes the job terminal and the other's write is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from pytket.extensions.iqm.emulator.jobs.spec import JobPlan, plan_from_json, plan_to_json
from pytket.extensions.iqm.emulator.jobs.status import TERMINAL, TERMINAL_VALUES, Status

# The stored values predate the project's names for the two lines; they stay as they are so
# databases written by earlier versions read the same (and the column's default stays right).
API_REST_V1 = "cocos-v1"
"""A job submitted on the REST v1 line (iqm-client 22.x, ``/{device}/jobs``); request:
``RunRequest``."""
API_SERVER_API = "server-v1"
"""A job submitted on the IQM Server API line (iqm-client 36.x, ``/api/v1/jobs/{qc}/circuit``);
request: ``CircuitJobDefinition``."""
API_LINES = (API_REST_V1, API_SERVER_API)

SHARED_OWNER = "shared"
"""The owner of every job when the server has no users (open mode, or a fixed token): all
clients share one identity."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    device TEXT NOT NULL,
    calibration_set_id TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    warnings TEXT,
    request TEXT NOT NULL,
    api TEXT NOT NULL DEFAULT 'cocos-v1',
    plan TEXT,
    owner TEXT NOT NULL DEFAULT 'shared',
    idempotency_key TEXT,
    request_sha256 TEXT
);
CREATE TABLE IF NOT EXISTS results (
    job_id TEXT PRIMARY KEY REFERENCES jobs(id),
    measurements TEXT NOT NULL,
    counts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS simulations (
    job_id TEXT PRIMARY KEY REFERENCES jobs(id),
    report TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS status_history (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    status TEXT NOT NULL,
    timestamp TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS timestamps (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    stage TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    PRIMARY KEY (job_id, stage)
);
CREATE INDEX IF NOT EXISTS status_history_job ON status_history(job_id);
"""

# Created after the columns are added to an older database (the schema script cannot name them
# before). One job per owner and key: two concurrent submissions with one key create one job.
_IDEMPOTENCY_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS jobs_owner_idempotency_key"
    " ON jobs(owner, idempotency_key) WHERE idempotency_key IS NOT NULL"
)


def now_iso() -> str:
    """The current UTC time as ISO 8601 with offset, as IQM servers write timestamps."""
    return datetime.now(timezone.utc).isoformat()


@dataclass(frozen=True)
class JobRecord:
    """A job as stored (without its results, which may be large)."""

    id: UUID
    seq: int
    """Submission sequence number, 1-based and unique in the store; seeds the job's RNG."""
    device: str
    calibration_set_id: UUID
    status: Status
    message: str | None
    warnings: tuple[str, ...] | None
    request_json: str
    """The request as accepted, JSON, in its line's wire format (the HTTP layer echoes it; the
    worker runs the job's plan instead)."""
    timestamps: Mapping[str, str]
    """Stage (``job_start``, ``compile_start``, …) → ISO time."""
    api: str = API_REST_V1
    """The route set the job was submitted on (:data:`API_REST_V1` or :data:`API_SERVER_API`),
    which says how :attr:`request_json` reads."""
    owner: str = SHARED_OWNER
    """Who submitted it: the authenticated subject (a user of the auth server), or
    :data:`SHARED_OWNER`. Only the owner sees the job."""
    idempotency_key: str | None = None
    """The key its submission carried, if any: the owner's later submissions with this key
    find this job instead of creating one (see :meth:`JobStore.create`)."""
    request_sha256: str | None = None
    """Hex SHA-256 of the submission's body as received, stored with :attr:`idempotency_key`
    to tell a repeated submission from a different one with the same key."""

    @property
    def terminal(self) -> bool:
        """Whether the job has finished (ready, failed or aborted)."""
        return self.status in TERMINAL


class JobStoreInUseError(RuntimeError):
    """Another process (another emulator) is using the job store's database file."""


class IdempotencyKeyTakenError(Exception):
    """The owner already has a job created with this idempotency key: :attr:`job`."""

    def __init__(self, job: JobRecord) -> None:
        super().__init__(f"Job {job.id} was created with this idempotency key.")
        self.job = job


def _lock_file(path: Path) -> int:
    """Hold an exclusive ``flock`` on ``<path>.lock``; returns its descriptor.

    :raises JobStoreInUseError: another process holds it.
    """
    lock_path = path.with_name(path.name + ".lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise JobStoreInUseError(
            f"Another emulator is using the job store {path} (it holds {lock_path}). Stop it, "
            "or give this one a different --db; two emulators on one file would run each "
            "other's jobs."
        ) from None
    return descriptor


class JobStore:
    """Thread-safe job store on SQLite.

    :param path: database file, created if missing; ``None`` keeps everything in memory.
    :raises JobStoreInUseError: another process is using the file.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self._path = str(path) if path is not None else ":memory:"
        self._lock = threading.Lock()
        self._file_lock = _lock_file(Path(path)) if path is not None else None
        self._conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        with self._lock:
            if path is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SCHEMA)
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(jobs)")}
            if "api" not in columns:  # a database written before the IQM Server API existed
                self._conn.execute(
                    "ALTER TABLE jobs ADD COLUMN api TEXT NOT NULL DEFAULT 'cocos-v1'"
                )
            if "plan" not in columns:  # written before jobs were planned at submission
                self._conn.execute("ALTER TABLE jobs ADD COLUMN plan TEXT")
            if "owner" not in columns:  # a database written before jobs had owners
                self._conn.execute(
                    f"ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '{SHARED_OWNER}'"
                )
            if "idempotency_key" not in columns:  # written before idempotent submissions
                self._conn.execute("ALTER TABLE jobs ADD COLUMN idempotency_key TEXT")
                self._conn.execute("ALTER TABLE jobs ADD COLUMN request_sha256 TEXT")
            self._conn.execute(_IDEMPOTENCY_INDEX)

    def close(self) -> None:
        """Close the database and let another process use it; the store is unusable
        afterwards."""
        with self._lock:
            self._conn.close()
            if self._file_lock is not None:
                with contextlib.suppress(OSError):
                    os.close(self._file_lock)  # closing the descriptor releases the flock
                self._file_lock = None

    def create(
        self,
        job_id: UUID,
        device: str,
        calibration_set_id: UUID,
        request_json: str,
        *,
        api: str = API_REST_V1,
        plan: JobPlan | None = None,
        owner: str = SHARED_OWNER,
        idempotency_key: str | None = None,
        request_sha256: str | None = None,
    ) -> JobRecord:
        """Store a new job in status ``received`` and return it with its sequence number.

        :param api: the route set it was submitted on, one of :data:`API_LINES`.
        :param plan: what the worker runs (see :meth:`plan`); ``None`` leaves it to
            :meth:`set_plan`.
        :param owner: who submitted it (see :attr:`JobRecord.owner`).
        :param idempotency_key: the submission's key, unique per owner (see
            :attr:`JobRecord.idempotency_key`), stored in the transaction that creates the job.
        :param request_sha256: the submission body's hash, kept with the key.
        :raises ValueError: if ``api`` is unknown.
        :raises IdempotencyKeyTakenError: ``owner`` already has a job with ``idempotency_key``
            (nothing is stored); the error holds that job.
        """
        if api not in API_LINES:
            raise ValueError(f"Unknown API line {api!r}; use one of {', '.join(API_LINES)}.")
        stamp = now_iso()
        with self._lock:
            try:
                with self._conn:
                    self._conn.execute("BEGIN")
                    cursor = self._conn.execute(
                        "INSERT INTO jobs (id, device, calibration_set_id, status, request, api,"
                        " plan, owner, idempotency_key, request_sha256)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            str(job_id),
                            device,
                            str(calibration_set_id),
                            Status.RECEIVED.value,
                            request_json,
                            api,
                            None if plan is None else plan_to_json(plan),
                            owner,
                            idempotency_key,
                            request_sha256,
                        ),
                    )
                    seq = cursor.lastrowid
                    self._conn.execute(
                        "INSERT INTO status_history VALUES (?, ?, ?)",
                        (str(job_id), Status.RECEIVED.value, stamp),
                    )
                    self._conn.execute(
                        "INSERT INTO timestamps VALUES (?, 'job_start', ?)", (str(job_id), stamp)
                    )
            except sqlite3.IntegrityError:
                # The uniqueness of (owner, key) decides between concurrent submissions.
                earlier = None if idempotency_key is None else self._keyed(owner, idempotency_key)
                if earlier is None:
                    raise
                raise IdempotencyKeyTakenError(earlier) from None
        if seq is None:  # pragma: no cover - sqlite always reports the rowid of an insert
            raise RuntimeError("SQLite did not report the new job's sequence number.")
        return JobRecord(
            job_id,
            seq,
            device,
            calibration_set_id,
            Status.RECEIVED,
            None,
            None,
            request_json,
            {"job_start": stamp},
            api,
            owner,
            idempotency_key,
            request_sha256,
        )

    def keyed(self, owner: str, idempotency_key: str) -> JobRecord | None:
        """The job ``owner`` created with ``idempotency_key``, or ``None``."""
        with self._lock:
            return self._keyed(owner, idempotency_key)

    def _keyed(self, owner: str, idempotency_key: str) -> JobRecord | None:
        row = self._conn.execute(
            "SELECT id FROM jobs WHERE owner = ? AND idempotency_key = ?",
            (owner, idempotency_key),
        ).fetchone()
        return None if row is None else self._get(UUID(str(row[0])))

    def get(self, job_id: UUID) -> JobRecord | None:
        """The job with this id, or ``None``."""
        with self._lock:
            return self._get(job_id)

    def _get(self, job_id: UUID) -> JobRecord | None:
        row = self._conn.execute(
            "SELECT id, seq, device, calibration_set_id, status, message, warnings, request,"
            " api, owner, idempotency_key, request_sha256 FROM jobs WHERE id = ?",
            (str(job_id),),
        ).fetchone()
        if row is None:
            return None
        stamps = self._conn.execute(
            "SELECT stage, timestamp FROM timestamps WHERE job_id = ?", (str(job_id),)
        ).fetchall()
        return _record(row, dict(stamps))

    def plan(self, job_id: UUID) -> JobPlan | None:
        """What the worker runs for the job; ``None`` if it has none (a job stored by a version
        that did not plan at submission, or an unknown job).

        :raises ValueError: if the stored plan is unreadable (a hand-edited database).
        """
        with self._lock:
            row = self._conn.execute(
                "SELECT plan FROM jobs WHERE id = ?", (str(job_id),)
            ).fetchone()
        if row is None or row[0] is None:
            return None
        return plan_from_json(str(row[0]))

    def set_plan(self, job_id: UUID, plan: JobPlan) -> None:
        """Store the plan of a job that has none (see :meth:`plan`)."""
        with self._lock, self._conn:
            self._conn.execute(
                "UPDATE jobs SET plan = ? WHERE id = ?", (plan_to_json(plan), str(job_id))
            )

    def history(self, job_id: UUID) -> list[tuple[Status, str]]:
        """The job's statuses with the times they were entered, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT status, timestamp FROM status_history WHERE job_id = ? ORDER BY rowid",
                (str(job_id),),
            ).fetchall()
        return [(Status(status), stamp) for status, stamp in rows]

    def _transition(
        self,
        job_id: UUID,
        status: Status,
        *,
        message: str | None = None,
        stages: Iterable[str] = (),
        results: tuple[str, str] | None = None,
        warnings: Iterable[str] | None = None,
        simulation_json: str | None = None,
    ) -> bool:
        stamp = now_iso()
        with self._lock, self._conn:
            self._conn.execute("BEGIN")
            cursor = self._conn.execute(
                "UPDATE jobs SET status = ?, message = COALESCE(?, message),"
                " warnings = COALESCE(?, warnings)"
                " WHERE id = ? AND status NOT IN (?, ?, ?)",
                (
                    status.value,
                    message,
                    json.dumps(list(warnings)) if warnings is not None else None,
                    str(job_id),
                    *TERMINAL_VALUES,
                ),
            )
            if cursor.rowcount == 0:
                return False
            self._conn.execute(
                "INSERT INTO status_history VALUES (?, ?, ?)", (str(job_id), status.value, stamp)
            )
            for stage in stages:
                self._conn.execute(
                    "INSERT OR REPLACE INTO timestamps VALUES (?, ?, ?)",
                    (str(job_id), stage, stamp),
                )
            if results is not None:
                self._conn.execute(
                    "INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                    (str(job_id), *(_packed(text) for text in results)),
                )
            if simulation_json is not None:
                self._conn.execute(
                    "INSERT OR REPLACE INTO simulations VALUES (?, ?)",
                    (str(job_id), simulation_json),
                )
        return True

    def advance(self, job_id: UUID, status: Status, stages: Iterable[str] = ()) -> bool:
        """Move a non-terminal job to a non-terminal ``status``, stamping ``stages`` now.

        :return: ``False`` if the job is unknown or already terminal (e.g. aborted).
        :raises ValueError: if ``status`` is terminal (use :meth:`finish`, :meth:`fail`,
            :meth:`abort`).
        """
        if status in TERMINAL:
            raise ValueError(f"advance() cannot set the terminal status {status.value!r}.")
        return self._transition(job_id, status, stages=stages)

    def stamp(self, job_id: UUID, *stages: str) -> None:
        """Record the current time for ``stages`` of the job, without changing its status.

        Nothing is recorded for a job that does not exist (e.g. deleted meanwhile).
        """
        stamp = now_iso()
        with self._lock, self._conn:
            for stage in stages:
                self._conn.execute(
                    "INSERT OR REPLACE INTO timestamps SELECT ?, ?, ?"
                    " WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ?)",
                    (str(job_id), stage, stamp, str(job_id)),
                )

    def finish(
        self,
        job_id: UUID,
        measurements_json: str,
        counts_json: str,
        warnings: Iterable[str] | None = None,
        simulation_json: str | None = None,
    ) -> bool:
        """Make the job ``ready`` with its results (JSON texts of the wire format).

        ``simulation_json``: how each circuit was simulated (JSON list, see
        :meth:`simulation`).

        :return: ``False`` if the job was already terminal (e.g. aborted); results are dropped.
        """
        return self._transition(
            job_id,
            Status.READY,
            stages=("job_end",),
            results=(measurements_json, counts_json),
            warnings=warnings,
            simulation_json=simulation_json,
        )

    def fail(self, job_id: UUID, message: str) -> bool:
        """Make the job ``failed`` with ``message``; ``False`` if it was already terminal."""
        return self._transition(job_id, Status.FAILED, message=message, stages=("job_end",))

    def abort(self, job_id: UUID) -> bool:
        """Make the job ``aborted``; ``False`` if it is unknown or already terminal."""
        return self._transition(
            job_id, Status.ABORTED, message="The job was aborted by the user.", stages=("job_end",)
        )

    def simulation(self, job_id: UUID) -> list[dict[str, Any]] | None:
        """How each circuit of a ready job was simulated (method and accuracy), or ``None``."""
        with self._lock:
            row = self._conn.execute(
                "SELECT report FROM simulations WHERE job_id = ?", (str(job_id),)
            ).fetchone()
        if row is None:
            return None
        report: list[dict[str, Any]] = json.loads(row[0])
        return report

    def results(self, job_id: UUID) -> tuple[str, str] | None:
        """``(measurements_json, counts_json)`` of a ready job, or ``None``."""
        with self._lock:
            row = self._conn.execute(
                "SELECT measurements, counts FROM results WHERE job_id = ?", (str(job_id),)
            ).fetchone()
        return None if row is None else (_unpacked(row[0]), _unpacked(row[1]))

    def unfinished(self) -> list[JobRecord]:
        """Jobs not yet terminal, in submission order (to resume them after a restart)."""
        with self._lock:
            ids = self._conn.execute(
                "SELECT id FROM jobs WHERE status NOT IN (?, ?, ?) ORDER BY seq",
                TERMINAL_VALUES,
            ).fetchall()
        records = [self.get(UUID(job_id)) for (job_id,) in ids]
        return [r for r in records if r is not None]

    def count(self) -> int:
        """How many jobs the store holds."""
        with self._lock:
            (number,) = self._conn.execute("SELECT COUNT(*) FROM jobs").fetchone()
        return int(number)

    def delete(self, job_id: UUID) -> bool:
        """Remove the job, its results and history; ``False`` if it is unknown.

        A worker running the job finds it gone and stops (its status changes are refused). Its
        idempotency key goes with it: the owner's next submission with that key creates a job.
        """
        key = (str(job_id),)
        with self._lock, self._conn:
            self._conn.execute("BEGIN")
            for table in ("results", "simulations", "status_history", "timestamps"):
                self._conn.execute(f"DELETE FROM {table} WHERE job_id = ?", key)  # noqa: S608
            cursor = self._conn.execute("DELETE FROM jobs WHERE id = ?", key)
        return cursor.rowcount > 0

    def jobs_ahead(self, job: JobRecord) -> int:
        """How many jobs submitted before ``job`` are still waiting (status ``received``)."""
        with self._lock:
            (number,) = self._conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE seq < ? AND status = ?",
                (job.seq, Status.RECEIVED.value),
            ).fetchone()
        return int(number)

    def requeue(self, job_id: UUID) -> bool:
        """Put an unfinished job back to ``received`` (after a restart); ``False`` if terminal."""
        return self._transition(job_id, Status.RECEIVED)


RESULT_COMPRESSION_LEVEL = 1
"""zlib level of stored results: measurement JSON spends two characters on each bit, so even
the fastest level shrinks it over five times for uniformly random bits (100 000 shots × 20:
4.0 MB to 0.75 MB) and far more for the usual skewed ones; with ``max_result_bits`` bounding
the text, a stored row stays far below SQLite's 1 GB blob limit (docs: reliability,
measured)."""


def _packed(text: str) -> bytes:
    """A result's JSON text as stored: zlib-compressed UTF-8."""
    return zlib.compress(text.encode("utf-8"), RESULT_COMPRESSION_LEVEL)


def _unpacked(value: object) -> str:
    """A stored result as JSON text (databases written before compression hold the text)."""
    if isinstance(value, bytes):
        return zlib.decompress(value).decode("utf-8")
    return str(value)


def _record(row: tuple[object, ...], stamps: dict[str, str]) -> JobRecord:
    job_id, seq, device, cal_id, status, message, warnings, request, api, owner, key, sha = row
    return JobRecord(
        id=UUID(str(job_id)),
        seq=int(str(seq)),
        device=str(device),
        calibration_set_id=UUID(str(cal_id)),
        status=Status(str(status)),
        message=None if message is None else str(message),
        warnings=None if warnings is None else tuple(json.loads(str(warnings))),
        request_json=str(request),
        timestamps=stamps,
        api=str(api),
        owner=str(owner),
        idempotency_key=None if key is None else str(key),
        request_sha256=None if sha is None else str(sha),
    )
