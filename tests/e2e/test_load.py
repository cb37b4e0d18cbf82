"""Load: several client processes at once against an emulator process, with aborts mixed in,
and a restart in the middle of a run with a database. Nothing may be lost or duplicated.

The driver is ``benchmarks/load.py`` (the benchmark prints the same run's figures); here it runs
smaller and the checks are asserted: every job terminal, every result bit-exact for its own job,
a refused abort ends ``COMPLETED`` and an accepted one ``CANCELLED`` (on the IQM Server API,
which also accepts cancelling a finished job, ``CANCELLED`` or ``COMPLETED``), one POST per job,
and with a database every job in it exactly once with the status the client saw. It runs with
either iqm-client line.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytket.extensions.iqm.backends.connection.installed import installed_api_line
from pytket.extensions.iqm.backends.connection.types import ApiLine

# The driver speaks through whichever iqm-client line is installed (the emulator serves both).
REST_V1 = installed_api_line() is ApiLine.REST_V1

REPO = Path(__file__).resolve().parents[2]
# The client processes import the driver by name, from the path they inherit.
sys.path.insert(0, str(REPO / "benchmarks"))
load = importlib.import_module("load")


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[object]:
    process = load.EmulatorProcess(load.free_port(), log=tmp_path / "emulator.log")
    process.start()
    yield process
    process.stop()


def test_eight_clients_at_once_lose_and_duplicate_nothing(emulator: object) -> None:
    report = load.run_load(emulator, clients=8, jobs=40, abort_every=5)
    assert report.problems == []
    assert report.ambiguous == []
    assert len(report.jobs) == 320
    statuses = report.statuses
    assert sum(statuses.values()) == 320
    assert set(statuses) <= {"COMPLETED", "CANCELLED"}
    accepted = sum(accepted for r in report.reports for accepted in r.aborted.values())
    if REST_V1:
        assert statuses["CANCELLED"] == accepted
    else:
        # The IQM Server API also accepts cancelling a job that has just finished.
        assert 0 < statuses["CANCELLED"] <= accepted
    assert sum(len(r.aborted) for r in report.reports) == 64  # every 5th job
    requests = emulator.fault_state()["requests"]  # type: ignore[attr-defined]
    assert requests["submit"] == 320  # one POST per job: nothing resubmitted
    assert requests["result"] == statuses["COMPLETED"]  # each result fetched once


@pytest.mark.slow
def test_a_restart_mid_run_with_a_database_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite"
    emulator = load.EmulatorProcess(load.free_port(), db=db, log=tmp_path / "emulator.log")
    emulator.start()
    try:
        report = load.run_load(emulator, clients=4, jobs=25, abort_every=6, restart_after=0.4)
    finally:
        emulator.stop()
    assert emulator.starts == 2
    assert report.restarts == 1
    assert report.problems == []
    # A submit whose connection the stopping server closed is resent with its idempotency
    # key, which the emulator honours: every job exactly once, none ambiguous.
    assert report.ambiguous == []
    assert len(report.jobs) == 100
    assert report.retries > 0  # the clients did meet the restart
    assert load.check_database(db, report) == []


def test_eight_clients_under_random_503s_get_every_result_once(tmp_path: Path) -> None:
    # 503s before handling: the default retry policy repeats them (submits too); nothing is
    # duplicated, nothing orphaned.
    db = tmp_path / "jobs.sqlite"
    faults = ("--fail-rate", "0.2", "--max-faults", "100000")
    emulator = load.EmulatorProcess(
        load.free_port(), db=db, extra_args=faults, log=tmp_path / "emulator.log"
    )
    emulator.start()
    try:
        report = load.run_load(
            emulator, clients=8, jobs=10, abort_every=0, circuits_per_job=3, default_retry=True
        )
        injected = emulator.fault_state()["before_handling"]
    finally:
        emulator.stop()
    assert report.problems == []
    assert report.ambiguous == []
    assert (report.right, report.circuits) == (240, 240)
    assert report.retries > 0
    assert injected > 0
    assert load.check_database(db, report) == []  # every job once, none lost
    assert load.orphan_jobs(db, report) == 0


@pytest.mark.slow
def test_a_kill_9_and_a_10_s_restart_during_submits_lose_and_duplicate_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "jobs.sqlite"
    emulator = load.EmulatorProcess(load.free_port(), db=db, log=tmp_path / "emulator.log")
    emulator.start()
    try:
        report = load.run_load(
            emulator,
            clients=8,
            jobs=10,
            abort_every=0,
            circuits_per_job=3,
            default_retry=True,
            restart_after=1 / 3,
            kill_down_seconds=10.0,
        )
    finally:
        emulator.stop()
    assert report.restarts == 1
    assert report.problems == []  # no client error: refused connections were retried
    assert report.retries > 0
    assert load.check_database(db, report) == []
    # A submit in flight at the kill was cut off; resent with its idempotency key after the
    # restart, it found its job (or made it): no client error, nothing doubled or orphaned.
    assert report.ambiguous == []
    assert len(report.jobs) == 80
    assert load.orphan_jobs(db, report) == 0
