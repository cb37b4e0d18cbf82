"""A server a team shares (issue 18): fairness, abort, and memory, on an emulator process.

    python benchmarks/sharing.py [--shots 1000] [--skip-memory]

Starts ``pytket-iqm-emulator`` (Emerald, noisy, two users, default worker count) as a separate
process and measures, over HTTP (the IQM Server API, with each user's access token):

* **fairness**: user B submits a 1-qubit job while user A's noisy GHZ-24 runs; B's wait from
  submit to ``completed`` (before issue 18, B waited for A's whole job: over 150 s);
* **abort**: A cancels the GHZ-24 five seconds into its simulation; the time until the server's
  CPU use (from ``/proc``) falls below a tenth of a core;
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
ABORT_AFTER = 5.0
"""Seconds the GHZ-24 simulation runs before it is cancelled."""
MIB = 1 << 20
TOKEN_REUSE_SECONDS = 240.0
"""An access token is used this long, then the user logs in again (tokens live 300 s)."""


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
        self._tokens: dict[str, tuple[float, dict[str, str]]] = {}

    def token(self, user: str) -> dict[str, str]:
        """Bearer headers of ``user``, logging in again before the access token's 300 s end."""
        cached = self._tokens.get(user)
        if cached is not None and time.monotonic() - cached[0] < TOKEN_REUSE_SECONDS:
            return cached[1]
        answer = httpx.post(
            f"{self.root}/realms/cortex/protocol/openid-connect/token",
            data={"client_id": "iqm_client", "grant_type": "password",
                  "username": user, "password": USERS[user]},
        )  # fmt: skip
        answer.raise_for_status()
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        self._tokens[user] = (time.monotonic(), headers)
        return headers

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


def submit(server: Emulator, user: str, device: str,
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
        f"{server.root}/api/v1/jobs/{device}/circuit",
        json=body,
        headers=server.token(user),
        timeout=300,
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def job(server: Emulator, user: str, job_id: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{server.root}/api/v1/jobs/{job_id}", headers=server.token(user), timeout=300
    )
    answer.raise_for_status()
    data: dict[str, Any] = answer.json()
    return data


TERMINAL = ("completed", "failed", "cancelled")


def wait(server: Emulator, user: str, job_id: str) -> dict[str, Any]:
    while True:
        data = job(server, user, job_id)
        if data["status"] in TERMINAL:
            return data
        time.sleep(0.02)


def wait_running(server: Emulator, user: str, job_id: str) -> None:
    while True:
        data = job(server, user, job_id)
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
        alice, bob = "alice", "bob"
        # Fairness: bob's 1-qubit job while alice's noisy GHZ-24 runs.
        submitted = time.monotonic()
        long = submit(server, alice, "emerald", [ghz], shots)
        wait_running(server, alice, long)
        running_since = time.monotonic()
        short = submit(server, bob, "emerald", [one_qubit()], 10)
        wait(server, bob, short)
        bob_wait = time.monotonic() - running_since
        lines.append(
            f"fairness: bob's 1-qubit job done {bob_wait:.2f} s after submit, while alice's "
            f"noisy GHZ-24 ({shots} shots, running {running_since - submitted:.1f} s after its "
            "submit) went on"
        )
        # Abort: the same GHZ-24, after it has run a while more; CPU back to idle.
        time.sleep(max(0.0, ABORT_AFTER - (time.monotonic() - running_since)))
        still = job(server, alice, long)["status"]
        httpx.post(
            f"{server.root}/api/v1/jobs/{long}/cancel", headers=server.token(alice), timeout=60
        )
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
            f"abort: alice's GHZ-24 ({still}, {cancelled - running_since:.1f} s into its "
            f"simulation) cancelled; server CPU below {IDLE_CPU_SHARE:.0%} of a core "
            f"{idle_after:.2f} s later (first {CPU_WINDOW:.1f} s window below it)"
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
        alice = "alice"
        lines.append(f"  idle: peak RSS {server.peak_rss() / MIB:,.0f} MiB")
        job_id = submit(server, alice, "garnet", [maximal] * circuits, 100_000)
        wait(server, alice, job_id)
        answer = httpx.get(
            f"{server.root}/api/v1/jobs/{job_id}/artifacts/measurements",
            headers=server.token(alice),
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
        alice = "alice"
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
