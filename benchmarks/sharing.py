"""A server a team shares (issue 18): fairness, abort, and memory, on an emulator process.

    python benchmarks/sharing.py [--shots 1000] [--skip-memory]

Starts ``pytket-iqm-emulator`` (Emerald, noisy, two users, default worker count) as a separate
process and measures, over HTTP (the IQM Server API, with each user's access token):

* **fairness**: user B submits a 1-qubit job while user A's noisy GHZ-24 runs; B's wait from
  submit to ``completed``, next to how long A's job runs (what B waited behind a single
  first-in-first-out worker);
* **abort**: A cancels a running noisy GHZ-24; the time until the server's CPU use (from
  ``/proc``) falls below a tenth of a core, next to how long the job had been running;
* **memory** (a second process, Garnet, noiseless): the server's peak RSS (``VmHWM``) idle, after
  a maximal job at the default limits (a result of ``max_result_bits`` bits: 100 000 shots of 25
  circuits measuring all 20 qubits, fetched once) and after one 24-qubit job per worker
  (Emerald), next to the documented bound (``memory_budget.memory_bound_bytes``); and the stored
  size of the maximal result (compressed) next to its JSON text.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.simulate import ghz_tree  # noqa: E402
from pytket.extensions.iqm.emulator.devices.catalogue import get_device  # noqa: E402
from pytket.extensions.iqm.emulator.memory_budget import (  # noqa: E402
    DEFAULT_MAX_RESULT_BITS,
    default_workers,
    memory_bound_bytes,
)
from pytket.extensions.iqm.emulator.simulation.program import Operation  # noqa: E402

USERS = {"alice": "alice-password", "bob": "bob-password"}
IDLE_CPU_SHARE = 0.1
"""The server is idle when it uses less than this share of one core over a sampling window."""
CPU_WINDOW = 0.1
"""Seconds per CPU sample."""
MIB = 1 << 20


class Emulator:
    """``pytket-iqm-emulator`` as a process on a free port, with two users."""

    def __init__(self, tmp: Path, *arguments: str) -> None:
        users = tmp / "users.json"
        users.write_text(json.dumps(USERS))
        command = [sys.executable, "-m", "pytket.extensions.iqm.emulator", "--port", "0",
                   "--auth-users", str(users), "--stage-delay", "0", "--log-level", "warning",
                   "--db", str(tmp / f"jobs-{time.monotonic_ns()}.sqlite"), *arguments]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        self.root = first.split()[-1]
        while "Press Ctrl+C" not in self.process.stdout.readline():
            pass
        self.db = Path(command[command.index("--db") + 1])

    def token(self, user: str) -> dict[str, str]:
        answer = httpx.post(
            f"{self.root}/realms/cortex/protocol/openid-connect/token",
            data={"client_id": "iqm_client", "grant_type": "password",
                  "username": user, "password": USERS[user]},
        )  # fmt: skip
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def emulator(tmp: Path, *arguments: str) -> Iterator[Emulator]:
    server = Emulator(tmp, *arguments)
    try:
        yield server
    finally:
        server.stop()


def wire(operation: Operation) -> dict[str, Any]:
    """An operation as the IQM Server API takes it (radians, locus)."""
    args: dict[str, Any] = {}
    if operation.name == "prx":
        args = {"angle": operation.angle, "phase": operation.phase}
    elif operation.name == "measure":
        args = {"key": operation.key}
    return {"name": operation.name, "locus": list(operation.qubits), "args": args}


def submit(server: Emulator, headers: dict[str, str], device: str,
           circuits: list[list[Operation]], shots: int) -> str:  # fmt: skip
    body = {
        "circuits": [
            {"name": f"c{i}", "instructions": [wire(op) for op in ops]}
            for i, ops in enumerate(circuits)
        ],
        "shots": shots,
        "max_circuit_duration_over_t2": 0.0,
    }
    answer = httpx.post(
        f"{server.root}/api/v1/jobs/{device}/circuit", json=body, headers=headers, timeout=300
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def job(server: Emulator, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.root}/api/v1/jobs/{job_id}", headers=headers, timeout=300)
    answer.raise_for_status()
    data: dict[str, Any] = answer.json()
    return data


TERMINAL = ("completed", "failed", "cancelled")


def wait(server: Emulator, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    while True:
        data = job(server, headers, job_id)
        if data["status"] in TERMINAL:
            return data
        time.sleep(0.02)


def wait_running(server: Emulator, headers: dict[str, str], job_id: str) -> None:
    while True:
        data = job(server, headers, job_id)
        stages = {entry["status"] for entry in data.get("timeline", [])}
        if "execution_started" in stages:
            return
        if data["status"] in ("completed", "failed", "cancelled"):
            raise RuntimeError(f"job {job_id} ended {data['status']} before it was seen running")
        time.sleep(0.02)


def one_qubit() -> list[Operation]:
    return [Operation("prx", ("QB1",), angle=math.pi), Operation("measure", ("QB1",), key="m")]


def sharing(tmp: Path, shots: int) -> list[str]:
    emerald = get_device("emerald").default_calibration
    ghz = ghz_tree(emerald, 24)
    lines = []
    with emulator(tmp, "--device", "emerald") as server:
        alice, bob = server.token("alice"), server.token("bob")
        # Fairness: bob's 1-qubit job while alice's noisy GHZ-24 runs.
        long = submit(server, alice, "emerald", [ghz], shots)
        wait_running(server, alice, long)
        started = time.monotonic()
        short = submit(server, bob, "emerald", [one_qubit()], 10)
        wait(server, bob, short)
        bob_wait = time.monotonic() - started
        wait(server, alice, long)
        long_seconds = time.monotonic() - started
        lines.append(
            f"fairness: bob's 1-qubit job done {bob_wait:.2f} s after submit; alice's noisy "
            f"GHZ-24 ({shots} shots) ran {long_seconds:.1f} s more from then (what bob would "
            "have waited behind one first-in-first-out worker)"
        )
        # Abort: CPU back to idle.
        long = submit(server, alice, "emerald", [ghz], shots)
        wait_running(server, alice, long)
        time.sleep(1.0)
        httpx.post(f"{server.root}/api/v1/jobs/{long}/cancel", headers=alice, timeout=60)
        cancelled = time.monotonic()
        idle_after = math.nan
        while time.monotonic() - cancelled < 30:
            before, at = server.cpu_seconds(), time.monotonic()
            time.sleep(CPU_WINDOW)
            share = (server.cpu_seconds() - before) / (time.monotonic() - at)
            if share < IDLE_CPU_SHARE:
                idle_after = at - cancelled
                break
        lines.append(
            f"abort: a running noisy GHZ-24 cancelled; server CPU below {IDLE_CPU_SHARE:.0%} of "
            f"a core {idle_after:.2f} s later (first {CPU_WINDOW:.1f} s window below it)"
        )
    return lines


def memory(tmp: Path) -> list[str]:
    workers = default_workers()
    bound = memory_bound_bytes(workers)
    garnet = [f"QB{i}" for i in range(1, 21)]
    flips = [Operation("prx", (q,), angle=math.pi) for q in garnet[::2]]
    maximal = [*flips, Operation("measure", tuple(garnet), key="m")]
    circuits = DEFAULT_MAX_RESULT_BITS // (100_000 * len(garnet))
    lines = [f"memory: {workers} worker(s) by default; documented bound {bound / MIB:,.0f} MiB"]
    with emulator(tmp, "--device", "garnet", "--no-noise") as server:
        alice = server.token("alice")
        lines.append(f"  idle: peak RSS {server.peak_rss() / MIB:,.0f} MiB")
        job_id = submit(server, alice, "garnet", [maximal] * circuits, 100_000)
        wait(server, alice, job_id)
        answer = httpx.get(
            f"{server.root}/api/v1/jobs/{job_id}/artifacts/measurements", headers=alice,
            timeout=600,
        )  # fmt: skip
        answer.raise_for_status()
        text_bytes = len(answer.content)
        with sqlite3.connect(server.db) as connection:
            (stored,) = connection.execute(
                "SELECT length(measurements) FROM results WHERE job_id = ?", (job_id,)
            ).fetchone()
        lines.append(
            f"  maximal job ({circuits} circuits x 100,000 shots x 20 qubits = "
            f"{circuits * 100_000 * 20:,} bits): peak RSS {server.peak_rss() / MIB:,.0f} MiB; "
            f"measurements {text_bytes / MIB:,.0f} MiB of JSON stored as {stored / MIB:,.1f} MiB"
        )
    with emulator(tmp, "--device", "emerald", "--no-noise") as server:
        alice = server.token("alice")
        emerald = get_device("emerald").default_calibration
        jobs = [submit(server, alice, "emerald", [ghz_tree(emerald, 24)], 1000)
                for _ in range(workers)]  # fmt: skip
        for job_id in jobs:
            wait(server, alice, job_id)
        lines.append(
            f"  {workers} GHZ-24 jobs (one per worker): peak RSS {server.peak_rss() / MIB:,.0f} MiB"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", type=int, default=1000, help="shots of the GHZ-24 jobs")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lines = sharing(Path(tmp), args.shots)
        if not args.skip_memory:
            lines += memory(Path(tmp))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
