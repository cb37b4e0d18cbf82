"""Load on the emulator from several client processes: throughput, latency, and nothing lost.

    python benchmarks/load.py [--clients 8] [--jobs 50] [--abort-every 7] [--restart] [--workers 2]
    python benchmarks/load.py --jobs 10 --circuits 3 --abort-every 0 --fail-rate 0.2
    python benchmarks/load.py --jobs 10 --circuits 3 --abort-every 0 --kill 10

Starts ``pytket-iqm-emulator`` (noiseless garnet) as a separate process, then runs ``--clients``
processes at once; each submits ``--jobs`` jobs of mixed sizes (1 to 3 circuits of 1 to 6
qubits, 10 to 200 shots) through pytket-iqm's server connection (the backend's retry layer),
aborts every ``--abort-every``-th job right after submitting it, then polls every job to a
terminal status and fetches each ready job's result once. Every circuit flips a pattern of
qubits and measures them under keys naming the job, so a result is checked bit for bit against
the job it belongs to. With ``--restart`` the emulator keeps its jobs in a SQLite file and is
stopped and started again once a third of the jobs are submitted; afterwards the file is read
to check that every job is there exactly once, terminal.

``--fail-rate P`` has the emulator answer that fraction of job-API requests 503 without handling
them (fault injection), and ``--kill SECONDS`` kills it with ``SIGKILL`` once a third of the jobs
are submitted and starts it again that many seconds later. Both keep the jobs in a SQLite file
and check it afterwards (no job lost, none twice, no orphan: a job no client knows), and both
run the clients with the backend's default :class:`RetryPolicy` (``--circuits`` fixes the
circuits per job).

Prints jobs per second and p50/p95/p99 latencies of submit, status and result calls. The
functions are also used by ``tests/e2e/test_load.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

REPO = Path(__file__).resolve().parents[1]
QUBITS = [f"QB{i}" for i in range(1, 21)]
DEVICE = "garnet"
TERMINAL = ("COMPLETED", "ERROR", "CANCELLED")
"""Final statuses as pytket names them, the same with either iqm-client line."""
_STORED_STATUS = {"ready": "COMPLETED", "failed": "ERROR", "aborted": "CANCELLED"}
"""The emulator's job-store statuses (terminal ones) by their pytket names."""
AMBIGUOUS_SUBMIT = "may or may not have created the job"
"""What pytket-iqm says when a submit reached the server but its answer was lost."""


# -- the emulator as a process ---------------------------------------------------------------


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmulatorProcess:
    """``pytket-iqm-emulator`` run with ``python -m`` on a fixed port (restartable)."""

    port: int
    db: Path | None = None
    workers: int = 2
    extra_args: tuple[str, ...] = ()
    """More command-line options (fault injection)."""
    log: Path | None = None
    process: subprocess.Popen[str] | None = None
    starts: int = 0

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        command = [
            sys.executable, "-m", "pytket.extensions.iqm.emulator", "--port", str(self.port),
            "--no-noise", "--seed", "1", "--stage-delay", "0.002", "--log-level", "warning",
            "--workers", str(self.workers), "--fault-endpoint",
        ]  # fmt: skip
        if self.db is not None:
            command += ["--db", str(self.db)]
        command += self.extra_args
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        stderr = open(self.log, "a") if self.log is not None else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the emulator exited early (status {self.process.poll()})")
            if "Press Ctrl+C" in line:
                self.starts += 1
                return
        raise RuntimeError("the emulator did not start in time")

    def stop(self) -> None:
        """Stop gracefully (Ctrl+C): unfinished jobs stay in the database to resume."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill_and_restart(self, down_seconds: float) -> None:
        """``kill -9``, stay down ``down_seconds``, start again."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None
        time.sleep(down_seconds)
        self.start()

    def fault_state(self) -> dict[str, Any]:
        import httpx

        answer = httpx.get(f"http://127.0.0.1:{self.port}/_faults", timeout=10)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result


# -- one client process ----------------------------------------------------------------------


@dataclass(frozen=True)
class JobPlan:
    """One job: its tag (unique over the run), circuits as (qubits, flipped), shots, abort."""

    tag: str
    circuits: tuple[tuple[tuple[str, ...], tuple[bool, ...]], ...]
    shots: int
    abort: bool


def plan_jobs(
    client: int, jobs: int, abort_every: int, seed: int = 0, circuits_per_job: int | None = None
) -> list[JobPlan]:
    """Mixed sizes: 1-3 circuits (or ``circuits_per_job``) of 1-6 qubits, 10-200 shots, every
    ``abort_every``-th aborted."""
    rng = random.Random(seed * 1000 + client)
    plans = []
    for index in range(jobs):
        circuits = []
        for _ in range(circuits_per_job or rng.randint(1, 3)):
            qubits = tuple(rng.sample(QUBITS, rng.randint(1, 6)))
            circuits.append((qubits, tuple(rng.random() < 0.5 for _ in qubits)))
        plans.append(
            JobPlan(
                tag=f"c{client}j{index}",
                circuits=tuple(circuits),
                shots=rng.choice((10, 50, 200)),
                abort=abort_every > 0 and index % abort_every == abort_every - 1,
            )
        )
    return plans


def _native_circuits(plan: JobPlan) -> list[Any]:
    from pytket.extensions.iqm.backends.translation import IQMCircuit, IQMInstruction

    circuits = []
    for number, (qubits, flipped) in enumerate(plan.circuits):
        instructions = [
            IQMInstruction("prx", (qubit,), {"angle_t": 0.5, "phase_t": 0.0})
            for qubit, flip in zip(qubits, flipped, strict=True)
            if flip
        ]
        key = f"{plan.tag}_m{number}"
        instructions.append(IQMInstruction("measure", tuple(qubits), {"key": key}))
        circuits.append(IQMCircuit(f"{plan.tag}_{number}", tuple(instructions)))
    return circuits


def check_result(plan: JobPlan, measurements: Sequence[dict[str, Any]] | None) -> str | None:
    """``None`` if the measurements are exactly what the job's circuits must give."""
    if measurements is None or len(measurements) != len(plan.circuits):
        return f"{plan.tag}: expected {len(plan.circuits)} circuits of results"
    for number, ((_, flipped), result) in enumerate(zip(plan.circuits, measurements, strict=True)):
        key = f"{plan.tag}_m{number}"
        if set(result) != {key}:
            return f"{plan.tag}: result keys {sorted(result)} are not [{key}]"
        expected = [int(flip) for flip in flipped]
        shots = result[key]
        if len(shots) != plan.shots or any(list(shot) != expected for shot in shots):
            return f"{plan.tag}: wrong bits for circuit {number}"
    return None


@dataclass
class ClientReport:
    """What one client saw."""

    client: int
    api_line: str = ""
    """The iqm-client line the client spoke (``ApiLine`` value)."""
    jobs: dict[str, str] = field(default_factory=dict)
    """Tag → job id."""
    final: dict[str, str] = field(default_factory=dict)
    """Tag → final status."""
    aborted: dict[str, bool] = field(default_factory=dict)
    """Tag → whether the abort was accepted (aborted jobs only)."""
    errors: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    retries: int = 0
    """Calls repeated after a transient failure (connection refused during a restart, ...)."""
    started: float = 0.0
    """Wall-clock time of the first submit (``time.time()``, comparable across processes)."""
    finished: float = 0.0
    """Wall-clock time the last job was done with."""
    ambiguous: list[str] = field(default_factory=list)
    """Tags of submits that failed after reaching the server (e.g. a connection reset while it
    shut down): the job may or may not exist, and was rightly not resubmitted."""


class _RetryCounter(logging.Handler):
    """Counts the retry layer's "retrying" log records."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def run_client(  # noqa: PLR0917 - the arguments of a multiprocessing target
    root_url: str,
    client: int,
    jobs: int,
    abort_every: int,
    results: Any,
    submitted: Any,
    deadline_seconds: float = 120.0,
    circuits_per_job: int | None = None,
    default_retry: bool = False,
) -> None:
    """One client process: submit, abort some, poll to terminal, fetch and check results."""
    from pytket.backends.status import StatusEnum

    from pytket.extensions.iqm.backends.connection.connect import connect
    from pytket.extensions.iqm.backends.connection.credentials import Credentials
    from pytket.extensions.iqm.backends.connection.retry import RetryPolicy
    from pytket.extensions.iqm.backends.connection.types import RunOptions
    from pytket.extensions.iqm.errors import IQMBackendError

    report = ClientReport(client)
    retry_log = logging.getLogger("pytket.extensions.iqm.backends.connection.retry")
    counter = _RetryCounter()
    retry_log.addHandler(counter)
    retry_log.setLevel(logging.INFO)
    retry_log.propagate = False
    latencies: dict[str, list[float]] = {"submit": [], "status": [], "result": []}
    report.latencies = latencies
    policy = (
        RetryPolicy()
        if default_retry
        else RetryPolicy(
            max_attempts=10_000,
            initial_backoff=0.05,
            max_backoff=0.5,
            max_total=90.0,
            connect_window=90.0,
        )
    )
    try:
        # Server root and device name: the form both iqm-client lines take.
        connection = connect(root_url, DEVICE, Credentials("none", "no credentials"), retry=policy)
        report.api_line = connection.api_line.value
        dqa = connection.dynamic_architecture(None)
        options = RunOptions()
        plans = plan_jobs(client, jobs, abort_every, circuits_per_job=circuits_per_job)
        by_tag = {plan.tag: plan for plan in plans}
        report.started = time.time()
        for plan in plans:
            start = time.perf_counter()
            try:
                job_id = connection.submit(
                    _native_circuits(plan),
                    shots=plan.shots,
                    calibration_set_id=dqa.calibration_set_id,
                    options=options,
                )
            except IQMBackendError as error:
                if AMBIGUOUS_SUBMIT in str(error):
                    report.ambiguous.append(plan.tag)
                else:
                    report.errors.append(f"{plan.tag}: submit failed: {error}")
                continue
            latencies["submit"].append(time.perf_counter() - start)
            report.jobs[plan.tag] = str(job_id)
            with submitted.get_lock():
                submitted.value += 1
            if plan.abort:
                try:
                    connection.abort(job_id)
                    report.aborted[plan.tag] = True
                except IQMBackendError:
                    report.aborted[plan.tag] = False  # it had finished already
        pending = dict(report.jobs)
        deadline = time.monotonic() + deadline_seconds
        while pending and time.monotonic() < deadline:
            for tag, job_text in list(pending.items()):
                job_id = UUID(job_text)
                start = time.perf_counter()
                # As get_result polls: transient failures retried until the wait's deadline.
                state = connection.state(job_id, deadline=deadline)
                latencies["status"].append(time.perf_counter() - start)
                if not state.terminal:
                    continue
                del pending[tag]
                report.final[tag] = state.status.name
                if state.status == StatusEnum.COMPLETED:
                    start = time.perf_counter()
                    record = connection.record(job_id)
                    latencies["result"].append(time.perf_counter() - start)
                    problem = check_result(by_tag[tag], record.measurements)
                    if problem:
                        report.errors.append(problem)
            time.sleep(0.01)
        report.finished = time.time()
        for tag in pending:
            report.errors.append(f"{tag}: not terminal after {deadline_seconds} s")
    except Exception as error:  # report, do not hang the parent
        report.errors.append(f"client {client} crashed: {type(error).__name__}: {error}")
    report.retries = counter.count
    results.put(report)


# -- the whole run ---------------------------------------------------------------------------


@dataclass
class LoadReport:
    """Everything measured over one run."""

    clients: int
    jobs_per_client: int
    seconds: float
    reports: list[ClientReport]
    restarts: int = 0
    problems: list[str] = field(default_factory=list)
    circuits: int = 0
    """Circuits over all jobs the clients know."""
    right: int = 0
    """Circuits whose result was checked bit for bit and right."""

    @property
    def jobs(self) -> dict[str, str]:
        return {tag: job for r in self.reports for tag, job in r.jobs.items()}

    @property
    def statuses(self) -> Counter[str]:
        return Counter(status for r in self.reports for status in r.final.values())

    @property
    def busy_seconds(self) -> float:
        """From the first submit of any client to the last job done (client start-up left
        out)."""
        started = [r.started for r in self.reports if r.started]
        finished = [r.finished for r in self.reports if r.finished]
        return max(finished) - min(started) if started and finished else float("nan")

    @property
    def retries(self) -> int:
        return sum(r.retries for r in self.reports)

    @property
    def ambiguous(self) -> list[str]:
        return [tag for r in self.reports for tag in r.ambiguous]

    def latencies(self, kind: str) -> list[float]:
        return sorted(x for r in self.reports for x in r.latencies.get(kind, []))


def run_load(
    emulator: EmulatorProcess,
    clients: int,
    jobs: int,
    abort_every: int = 7,
    *,
    restart_after: float | None = None,
    kill_down_seconds: float | None = None,
    circuits_per_job: int | None = None,
    default_retry: bool = False,
) -> LoadReport:
    """Run ``clients`` processes against ``emulator``; restart it once ``restart_after`` of
    all jobs are submitted (``None``: no restart), by ``kill -9`` and ``kill_down_seconds``
    down when given. Checks the answers; see :class:`LoadReport`.
    """
    # Clients are forked from a fresh server process, not from this one: forking a process with
    # threads (a test session's emulators) can copy a held lock into the child.
    # The server imports the client stack once, so that each client starts at once.
    context = multiprocessing.get_context("forkserver")
    preload = ["pytket.extensions.iqm.backends.connection.interface", "iqm.iqm_client"]
    if run_client.__module__ != "__main__":
        preload.append(run_client.__module__)
    context.set_forkserver_preload(preload)
    results = context.Queue()
    submitted = context.Value("i", 0)
    start = time.perf_counter()
    processes = [
        context.Process(
            target=run_client,
            args=(emulator.root_url, client, jobs, abort_every, results, submitted),
            kwargs={"circuits_per_job": circuits_per_job, "default_retry": default_retry},
            daemon=True,
        )
        for client in range(clients)
    ]
    for process in processes:
        process.start()
    restarts = 0
    if restart_after is not None:
        target = int(clients * jobs * restart_after)
        while submitted.value < target and any(p.is_alive() for p in processes):
            time.sleep(0.01)
        if kill_down_seconds is None:
            emulator.restart()
        else:
            emulator.kill_and_restart(kill_down_seconds)
        restarts = 1
    reports = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    seconds = time.perf_counter() - start
    report = LoadReport(clients, jobs, seconds, sorted(reports, key=lambda r: r.client), restarts)
    report.problems = check_reports(report)
    plans = {
        plan.tag: plan
        for client in range(clients)
        for plan in plan_jobs(client, jobs, abort_every, circuits_per_job=circuits_per_job)
    }
    report.circuits = sum(len(plans[tag].circuits) for tag in report.jobs)
    wrong = {error.split(":", 1)[0] for r in report.reports for error in r.errors}
    report.right = sum(
        len(plans[tag].circuits)
        for r in report.reports
        for tag, status in r.final.items()
        if status == "COMPLETED" and tag not in wrong
    )
    return report


def check_reports(report: LoadReport) -> list[str]:
    """What the clients saw that is wrong: errors, missing, non-terminal or duplicate jobs."""
    problems = [error for r in report.reports for error in r.errors]
    expected = report.clients * report.jobs_per_client
    jobs = report.jobs
    if len(jobs) + len(report.ambiguous) != expected:
        problems.append(
            f"{len(jobs)} jobs submitted and {len(report.ambiguous)} ambiguous, "
            f"expected {expected} in all"
        )
    if len(set(jobs.values())) != len(jobs):
        problems.append("two submits got the same job id")
    for r in report.reports:
        for tag in r.jobs:
            if r.final.get(tag) not in TERMINAL:
                problems.append(f"{tag}: final status {r.final.get(tag)}")
        for tag, accepted in r.aborted.items():
            # The IQM Server API also accepts cancelling a finished job (22.x refuses it).
            if not accepted:
                want = {"COMPLETED"}
            elif r.api_line == "iqm-client-22":
                want = {"CANCELLED"}
            else:
                want = {"CANCELLED", "COMPLETED"}
            if r.final.get(tag) not in want:
                problems.append(f"{tag}: abort {'accepted' if accepted else 'refused'}, "
                                f"but it ended {r.final.get(tag)}")  # fmt: skip
    return problems


def check_database(db: Path, report: LoadReport) -> list[str]:
    """Every job the clients know is in the database exactly once, with the status they saw;
    an ambiguous submit is there at most once, terminal; and there is no other job."""
    problems = []
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT id, status, request FROM jobs").fetchall()
    by_tag: dict[str, list[tuple[str, str]]] = {}
    for job_id, status, request in rows:
        names = {circuit["name"].rsplit("_", 1)[0] for circuit in json.loads(request)["circuits"]}
        for tag in names:
            by_tag.setdefault(tag, []).append((job_id, _STORED_STATUS.get(status, status)))
    final = {tag: status for r in report.reports for tag, status in r.final.items()}
    for tag, job_id in report.jobs.items():
        found = by_tag.get(tag, [])
        if len(found) != 1:
            problems.append(f"{tag}: {len(found)} jobs in the database")
        elif found[0] != (job_id, final.get(tag)):
            problems.append(f"{tag}: database has {found[0]}, client saw {job_id} {final.get(tag)}")
    created = 0
    for tag in report.ambiguous:
        found = by_tag.get(tag, [])
        if len(found) > 1:
            problems.append(f"{tag}: {len(found)} jobs in the database for one submit")
        elif found and found[0][1] not in TERMINAL:
            problems.append(f"{tag}: the job of an ambiguous submit ended {found[0][1]}")
        created += len(found)
    if len(rows) != len(report.jobs) + created:
        problems.append(
            f"the database has {len(rows)} jobs, the clients know {len(report.jobs)} and "
            f"{created} ambiguous submits created one"
        )
    return problems


def orphan_jobs(db: Path, report: LoadReport) -> int:
    """Jobs in the database that no client got an id for (created by a submit whose answer was
    lost)."""
    with sqlite3.connect(db) as connection:
        ids = {row[0] for row in connection.execute("SELECT id FROM jobs")}
    return len(ids - set(report.jobs.values()))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return float("nan")
    rank = max(0, min(len(values) - 1, round(fraction * len(values) + 0.5) - 1))
    return values[rank]


def summary(report: LoadReport) -> str:
    """The printed table."""
    total = len(report.jobs)
    lines = [
        f"{report.clients} clients x {report.jobs_per_client} jobs = {total} jobs "
        f"({dict(report.statuses)}), {report.restarts} restart(s), {report.retries} retried "
        f"call(s), {len(report.ambiguous)} ambiguous submit(s)",
        f"{report.right}/{report.circuits} circuits' results right, "
        f"{sum(len(r.errors) for r in report.reports)} client error(s)",
        f"{report.busy_seconds:.1f} s from first submit to last result: "
        f"{total / report.busy_seconds:.1f} jobs/s ({report.seconds:.1f} s with client start-up)",
        f"{'call':<8}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}",
    ]
    for kind in ("submit", "status", "result"):
        values = report.latencies(kind)
        cells = [percentile(values, f) * 1000 for f in (0.5, 0.95, 0.99)]
        peak = values[-1] * 1000 if values else float("nan")
        lines.append(
            f"{kind:<8}{len(values):>8}{cells[0]:>10.1f}{cells[1]:>10.1f}{cells[2]:>10.1f}"
            f"{peak:>10.1f}"
        )
    lines.append("problems: " + ("none" if not report.problems else "; ".join(report.problems)))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=50, help="jobs per client")
    parser.add_argument("--abort-every", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="emulator job threads")
    parser.add_argument("--restart", action="store_true", help="restart the emulator mid-run")
    parser.add_argument("--circuits", type=int, help="circuits per job (default 1-3, mixed)")
    parser.add_argument(
        "--fail-rate", type=float, default=0.0, help="fraction of job requests answered 503"
    )
    parser.add_argument(
        "--kill", type=float, metavar="SECONDS", help="kill -9 mid-run, restart SECONDS later"
    )
    args = parser.parse_args(argv)
    import tempfile

    faulty = bool(args.fail_rate) or args.kill is not None
    extra = ("--fail-rate", str(args.fail_rate), "--max-faults", "100000") if args.fail_rate else ()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "jobs.sqlite" if args.restart or faulty else None
        emulator = EmulatorProcess(free_port(), db=db, workers=args.workers, extra_args=extra)
        emulator.start()
        try:
            report = run_load(
                emulator,
                args.clients,
                args.jobs,
                args.abort_every,
                restart_after=1 / 3 if args.restart or args.kill is not None else None,
                kill_down_seconds=args.kill,
                circuits_per_job=args.circuits,
                default_retry=faulty,
            )
        finally:
            emulator.stop()
        if db is not None:
            report.problems += check_database(db, report)
            out(
                f"orphan jobs (in the database, unknown to every client): {orphan_jobs(db, report)}"
            )
    out(summary(report))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
