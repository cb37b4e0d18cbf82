"""End-to-end throughput: this project's IQMBackend against the real pytket-iqm 0.18.

    python benchmarks/end_to_end.py [--circuits 100] [--shots 100] [--device garnet]

The same compiled circuits (random, 3 to 6 qubits, compiled once by this project's backend) run
through ``process_circuits`` + ``get_results`` of each backend against the same noiseless
emulator, twice: with no per-job overhead in the emulator, and with
``REALISTIC_JOB_OVERHEAD`` seconds per job (``--job-overhead`` of the emulator; see its
docstring for where the figure comes from). pytket-iqm 0.18.0 comes from PyPI into its own
virtual environment, ``benchmarks/.venv-0.18`` (made on first use, then reused), and each client
runs in a process of its own (``_end_to_end_client.py``), ours with this interpreter. Jobs and
HTTP requests are counted by the emulator (every request the run makes, from the first submit
to the last result). A second table times the conversion of 10^6 shots x 20 bits into a
BackendResult.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pytket.circuit import Bit, Circuit

from pytket.extensions.iqm import IQMBackend
from pytket.extensions.iqm.backends.results import measurements_to_result
from pytket.extensions.iqm.backends.translation import MeasurementLayout
from pytket.extensions.iqm.emulator import IQMEmulator
from pytket.extensions.iqm.emulator.config import REALISTIC_JOB_OVERHEAD

HERE = Path(__file__).resolve().parent
CLIENT_SCRIPT = HERE / "_end_to_end_client.py"
INCUMBENT_VENV = HERE / ".venv-0.18"
INCUMBENT_REQUIREMENT = "pytket-iqm==0.18.0"
INCUMBENT_VERSION = "0.18.0"
CIRCUIT_SEED = 7
"""Seed of the random circuits (the same for every run)."""
TARGET_RATIO = 20.0
"""Wanted wall-time ratio (0.18 / ours) at the realistic per-job overhead."""


def random_circuits(count: int, seed: int) -> list[Circuit]:
    """Different small circuits: random single-qubit gates and CX on 3 to 6 qubits."""
    rng = random.Random(seed)
    circuits = []
    for index in range(count):
        width = rng.randint(3, 6)
        circuit = Circuit(width, width, name=f"random_{index}")
        for _ in range(rng.randint(4, 12)):
            qubit = rng.randrange(width)
            choice = rng.random()
            if choice < 0.4:
                circuit.Rx(rng.uniform(0, 2), qubit)
            elif choice < 0.7:
                circuit.Ry(rng.uniform(0, 2), qubit)
            else:
                other = rng.choice([q for q in range(width) if q != qubit])
                circuit.CX(qubit, other)
        circuits.append(circuit.measure_all())
    return circuits


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = action()
    return time.perf_counter() - start, value


def _venv_python(root: Path) -> Path:
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _installed_version(python: Path) -> str | None:
    probe = "from importlib.metadata import version; print(version('pytket-iqm'))"
    # -I: isolated, so that this repository's own metadata (found from the working directory)
    # cannot answer for the environment's.
    done = subprocess.run(
        [str(python), "-I", "-c", probe], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def incumbent_python(where: Path = INCUMBENT_VENV) -> Path:
    """The interpreter of a virtual environment holding pytket-iqm 0.18.0, made if needed."""
    python = _venv_python(where)
    if not python.exists() or _installed_version(python) != INCUMBENT_VERSION:
        print(f"installing {INCUMBENT_REQUIREMENT} into {where} (once) ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(where)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", INCUMBENT_REQUIREMENT],
            capture_output=True,
            text=True,
            env=_clean_env(),
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pip could not install {INCUMBENT_REQUIREMENT}:\n{done.stderr}")
    return python


def _clean_env() -> dict[str, str]:
    """This environment without what would make 0.18 import this project or read credentials.

    ``PYTHONPATH`` could put this repository's package first; 0.18 refuses ``IQM_TOKENS_FILE``
    next to a token (bug B6) and iqm-client reads the other ``IQM_*`` variables itself.
    """
    return {
        key: value
        for key, value in os.environ.items()
        if key != "PYTHONPATH" and not key.startswith("IQM_")
    }


@dataclass(frozen=True)
class Run:
    """One client's run: wall time of process_circuits + get_results, and what it cost."""

    seconds: float
    jobs: int
    http_requests: int


def _request_counts(emulator: IQMEmulator) -> Mapping[str, int]:
    return dict(emulator.faults.requests)


def run_client(
    python: Path,
    client: str,
    *,
    emulator: IQMEmulator,
    device: str,
    circuits: list[Circuit],
    shots: int,
) -> Run:
    """Run one client in its own process against ``emulator``; jobs and requests counted there."""
    run = {
        "client": client,
        "root": emulator.root_url,
        "device": device,
        "shots": shots,
        "circuits": [circuit.to_dict() for circuit in circuits],
    }
    env = os.environ.copy() if client == "ours" else _clean_env()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.json"
        path.write_text(json.dumps(run), encoding="utf-8")
        isolated = [] if client == "ours" else ["-I"]  # 0.18: nothing of this repository
        process = subprocess.Popen(
            [str(python), *isolated, str(CLIENT_SCRIPT), str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        if process.stdin is None or process.stdout is None:  # cannot happen: both are pipes
            raise RuntimeError("no pipes to the client process")
        # The client builds its backend (its own requests), says so, and waits for "go": only
        # the requests of the timed part are counted.
        ready = process.stdout.readline().strip()
        before = _request_counts(emulator)
        if ready == "ready":
            process.stdin.write("go\n")
            process.stdin.flush()
        report_line = process.stdout.readline()
        after = _request_counts(emulator)
        _, errors = process.communicate(timeout=60)
    if ready != "ready" or process.returncode != 0:
        raise RuntimeError(f"the {client} client failed:\n{errors}")
    report = json.loads(report_line)
    if report["shots"] != [shots] * len(circuits):
        raise RuntimeError(f"the {client} client got wrong shot counts: {report['shots']}")
    delta = {kind: after.get(kind, 0) - before.get(kind, 0) for kind in after}
    return Run(
        seconds=float(report["seconds"]),
        jobs=delta.get("submit", 0),
        http_requests=sum(delta.values()),
    )


def time_conversion(*, as_lists: bool, shots: int = 1_000_000, bits: int = 20) -> float:
    """Seconds to turn raw measurements into a BackendResult.

    ``as_lists`` gives the data as iqm-client returns it (JSON lists of one-element lists);
    otherwise numpy arrays.
    """
    rng = np.random.default_rng(1)
    layout_bits = tuple(Bit("c", index) for index in range(bits))
    layout = MeasurementLayout(bits=layout_bits, keys=tuple(str(bit) for bit in layout_bits))
    # The server's order of keys need not be the bit order: shuffle it.
    keys = [str(bit) for bit in layout_bits]
    random.Random(2).shuffle(keys)
    arrays = {key: rng.integers(0, 2, size=(shots, 1), dtype=np.uint8) for key in keys}
    measurements: dict[str, Any] = (
        {key: array.tolist() for key, array in arrays.items()} if as_lists else arrays
    )
    elapsed, _ = timed(lambda: measurements_to_result(measurements, layout))
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--circuits", type=int, default=100)
    parser.add_argument("--shots", type=int, default=100)
    parser.add_argument("--device", default="garnet")
    parser.add_argument(
        "--job-overhead",
        type=float,
        default=REALISTIC_JOB_OVERHEAD,
        metavar="SECONDS",
        help=f"emulator per-job overhead of the second run (default {REALISTIC_JOB_OVERHEAD:g})",
    )
    parser.add_argument(
        "--incumbent-venv",
        type=Path,
        default=INCUMBENT_VENV,
        metavar="PATH",
        help=f"virtual environment for {INCUMBENT_REQUIREMENT} (made if missing)",
    )
    arguments = parser.parse_args()
    device, shots = arguments.device, arguments.shots
    incumbent = incumbent_python(arguments.incumbent_venv)

    with IQMEmulator(device=device, noise=False) as emulator:
        backend = IQMBackend(emulator.root_url, device=device)
        circuits = backend.get_compiled_circuits(random_circuits(arguments.circuits, CIRCUIT_SEED))

    runs: dict[float, dict[str, Run]] = {}
    for overhead in (0.0, arguments.job_overhead):
        with IQMEmulator(device=device, noise=False, seed=1, job_overhead=overhead) as emulator:
            runs[overhead] = {
                "pytket-iqm 0.18.0": run_client(
                    incumbent,
                    "0.18",
                    emulator=emulator,
                    device=device,
                    circuits=circuits,
                    shots=shots,
                ),
                "this pytket-iqm": run_client(
                    Path(sys.executable),
                    "ours",
                    emulator=emulator,
                    device=device,
                    circuits=circuits,
                    shots=shots,
                ),
            }

    row = "{:<22}{:<22}{:>14}{:>8}{:>16}"
    print(f"\n{arguments.circuits} compiled circuits x {shots} shots on {device}, noise off")
    print(row.format("emulator job overhead", "client", "wall time (s)", "jobs", "HTTP requests"))
    for overhead, by_client in runs.items():
        for label, run in by_client.items():
            print(row.format(f"{overhead:g} s", label, f"{run.seconds:.2f}", run.jobs,
                             run.http_requests))  # fmt: skip
        old, ours = by_client["pytket-iqm 0.18.0"], by_client["this pytket-iqm"]
        ratios = (f"{old.seconds / ours.seconds:.1f}x", f"{old.jobs / ours.jobs:.0f}x",
                  f"{old.http_requests / ours.http_requests:.1f}x")  # fmt: skip
        print(row.format("", "ratio 0.18 / ours", *ratios))
    print(f"target: >= {TARGET_RATIO:g}x less wall time at the realistic overhead")

    print("\nconvert 10^6 shots x 20 bits to a BackendResult (target <= 1 s):")
    print(f"  from iqm-client's JSON lists: {time_conversion(as_lists=True):.3f} s")
    print(f"  from numpy arrays:            {time_conversion(as_lists=False):.3f} s")


if __name__ == "__main__":
    main()
