"""``job_overhead`` / ``--job-overhead``: a fixed cost per job, spent holding the job's worker
between ``execution_start`` and ``execution_end``. Real HTTP, the 22.x route set (line-free)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from pytket.extensions.iqm.emulator import IQMEmulator, cli
from pytket.extensions.iqm.emulator.config import (
    MAX_JOB_OVERHEAD,
    REALISTIC_JOB_OVERHEAD,
    EmulatorConfig,
)

OVERHEAD = 0.3

_RUN_REQUEST = {
    "circuits": [
        {
            "name": "c",
            "instructions": [{"name": "measure", "qubits": ["QB1"], "args": {"key": "m"}}],
        }
    ],
    "shots": 2,
}


def _finished_job(emulator: IQMEmulator) -> dict[str, Any]:
    submitted = httpx.post(f"{emulator.url}/jobs", json=_RUN_REQUEST)
    assert submitted.status_code == 201
    job_url = f"{emulator.url}/jobs/{submitted.json()['id']}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job: dict[str, Any] = httpx.get(job_url).json()
        if job["status"] == "ready":
            return job
        time.sleep(0.02)
    raise AssertionError("the job did not finish within 30 s")


def _seconds(timestamps: dict[str, str], start: str, end: str) -> float:
    return (
        datetime.fromisoformat(timestamps[end]) - datetime.fromisoformat(timestamps[start])
    ).total_seconds()


def test_each_job_holds_its_worker_for_the_overhead() -> None:
    with IQMEmulator("garnet", noise=False, job_overhead=OVERHEAD) as emulator:
        first, second = _finished_job(emulator), _finished_job(emulator)
    for job in (first, second):
        timestamps = job["metadata"]["timestamps"]
        assert _seconds(timestamps, "execution_start", "execution_end") >= OVERHEAD
        assert job["measurements"] == [{"m": [[0], [0]]}]


def test_no_overhead_by_default() -> None:
    assert EmulatorConfig().job_overhead == 0.0
    assert cli.config_from_args(cli.build_parser().parse_args([])).job_overhead == 0.0


def test_command_line_flag() -> None:
    args = cli.build_parser().parse_args(["--job-overhead", "0.5"])
    assert cli.config_from_args(args).job_overhead == 0.5


def test_realistic_figure_is_a_valid_overhead() -> None:
    assert EmulatorConfig(job_overhead=REALISTIC_JOB_OVERHEAD).job_overhead == 0.5


@pytest.mark.parametrize("value", [-0.1, MAX_JOB_OVERHEAD + 1, float("nan")])
def test_bad_overhead_says_what_to_give(value: float) -> None:
    with pytest.raises(ValueError, match=r"^EmulatorConfig\.job_overhead must be") as raised:
        IQMEmulator("garnet", job_overhead=value)
    assert str(raised.value) == (
        f"EmulatorConfig.job_overhead must be between 0 and 600 seconds, got {value!r}; give "
        "the seconds each job takes on top of the simulation (0: none)."
    )


def test_bad_overhead_on_the_command_line_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--job-overhead", "-1"]) == 2
    assert capsys.readouterr().err == (
        "pytket-iqm-emulator: EmulatorConfig.job_overhead must be between 0 and 600 seconds, "
        "got -1.0; give the seconds each job takes on top of the simulation (0: none).\n"
    )


def _submit_and_wait_for_execution(emulator: IQMEmulator, within: float) -> str:
    """Submit a job; return its URL once its execution has started."""
    job_url = (
        f"{emulator.url}/jobs/{httpx.post(f'{emulator.url}/jobs', json=_RUN_REQUEST).json()['id']}"
    )
    deadline = time.monotonic() + within
    while "execution_start" not in httpx.get(job_url).json()["metadata"].get("timestamps", {}):
        assert time.monotonic() < deadline, f"the job did not start executing within {within} s"
        time.sleep(0.02)
    return job_url


def test_abort_frees_the_worker_during_the_overhead() -> None:
    """An aborted job stops waiting out its overhead: the next job starts at once."""
    long_overhead = 60.0
    with IQMEmulator("garnet", noise=False, job_overhead=long_overhead, workers=1) as emulator:
        first = _submit_and_wait_for_execution(emulator, within=30)
        assert httpx.post(f"{first}/abort").status_code == 200
        # With the single worker held for the overhead, this would wait 60 s.
        second = _submit_and_wait_for_execution(emulator, within=long_overhead / 4)
        assert httpx.get(first).json()["status"] == "aborted"
        assert httpx.post(f"{second}/abort").status_code == 200
