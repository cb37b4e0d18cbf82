"""The emulator on a Dask cluster against the default (circuits simulated in the job's thread).

Usage (from the repository root)::

    python benchmarks/emulator_cluster.py [--circuits 64] [--qubits 14] [--shots 1000]
                                          [--dask-workers 2] [--overhead-repeats 20]

Two emulators with the same seed serve Garnet with noise: one simulates in its job thread (the
default), one on a ``distributed.LocalCluster`` of ``--dask-workers`` worker processes (one
thread each) on loopback. Both run, in the same process and alternately, the same job of
``--circuits`` noisy ``--qubits``-qubit circuits (layers of ``Ry`` rotations and CZ on a chain,
compiled at level 1) with ``--shots`` shots each, submitted through ``IQMBackend``; the table
shows the wall-clock time from submission to results, the speed-up and whether the counts are
identical. The second table is the overhead of the Dask path on a one-circuit job (a Bell
circuit with ``--shots`` shots, so that the simulation itself is negligible; median of
``--overhead-repeats`` jobs each). The machine's core count and load averages are printed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import distributed
from pytket.circuit import Circuit

# Run as a script from anywhere: the repository root holds the package and this folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytket.extensions.iqm import IQMBackend
from pytket.extensions.iqm.emulator import IQMEmulator

SEED = 2026
POLL_INTERVAL = 0.005
"""Seconds between status polls for the one-circuit jobs: well below the overhead measured."""
BATCH_POLL_INTERVAL = 0.1
"""Seconds between status polls for the big job: well below its run time, and rare enough
that answering the polls takes no noticeable CPU from a simulation in the server's process."""


def layered_circuit(n_qubits: int, variant: int, layers: int = 8) -> Circuit:
    """Rotation layers entangled by CZ on a chain; ``variant`` shifts every angle."""
    circuit = Circuit(n_qubits)
    for layer in range(layers):
        for qubit in range(n_qubits):
            circuit.Ry(0.1 + 0.07 * qubit + 0.13 * layer + 0.01 * variant, qubit)
        for qubit in range(layer % 2, n_qubits - 1, 2):
            circuit.CZ(qubit, qubit + 1)
    return circuit.measure_all()


def timed_job(
    backend: IQMBackend, circuits: list[Circuit], shots: int, poll_interval: float
) -> tuple[float, list[dict[tuple[int, ...], int]]]:
    start = time.perf_counter()
    handles = backend.process_circuits(circuits, n_shots=shots)
    results = backend.get_results(handles, timeout=3600, wait=poll_interval)
    elapsed = time.perf_counter() - start
    return elapsed, [dict(result.get_counts()) for result in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--circuits", type=int, default=64)
    parser.add_argument("--qubits", type=int, default=14)
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--dask-workers", type=int, default=2)
    parser.add_argument("--overhead-repeats", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    load = os.getloadavg()
    print(
        f"{args.circuits} circuits x {args.shots} shots, {args.qubits} qubits, noisy Garnet; "
        f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    with (
        distributed.LocalCluster(
            n_workers=args.dask_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        IQMEmulator("garnet", noise=True, seed=SEED, stage_delay=0) as local,
        IQMEmulator(
            "garnet",
            noise=True,
            seed=SEED,
            stage_delay=0,
            dask_scheduler=cluster.scheduler_address,
        ) as on_cluster,
    ):
        local_backend = IQMBackend(local.root_url, device="garnet")
        cluster_backend = IQMBackend(on_cluster.root_url, device="garnet")
        circuits = local_backend.get_compiled_circuits(
            [layered_circuit(args.qubits, variant) for variant in range(args.circuits)],
            optimisation_level=1,
        )
        # Warm-up: the workers import the simulator once.
        timed_job(cluster_backend, circuits[:2], 10, POLL_INTERVAL)
        timed_job(local_backend, circuits[:2], 10, POLL_INTERVAL)

        local_times, cluster_times = [], []
        identical = True
        for _ in range(args.repeats):
            # Fresh servers number jobs from the same sequence: same seeds per job.
            local_time, local_counts = timed_job(
                local_backend, circuits, args.shots, BATCH_POLL_INTERVAL
            )
            cluster_time, cluster_counts = timed_job(
                cluster_backend, circuits, args.shots, BATCH_POLL_INTERVAL
            )
            local_times.append(local_time)
            cluster_times.append(cluster_time)
            identical = identical and local_counts == cluster_counts
        local_best, cluster_best = min(local_times), min(cluster_times)
        print()
        print(f"{'configuration':<34} {'seconds':>8} {'speed-up':>9} {'identical':>10}")
        print(f"{'default (job thread)':<34} {local_best:>8.2f} {1.0:>8.2f}× {'—':>10}")
        label = f"Dask, {args.dask_workers} worker processes"
        print(
            f"{label:<34} {cluster_best:>8.2f} {local_best / cluster_best:>8.2f}× "
            f"{'yes' if identical else 'NO':>10}"
        )

        # A small circuit, so that the difference is the Dask path's own cost.
        one = local_backend.get_compiled_circuits([Circuit(2).H(0).CX(0, 1).measure_all()])
        local_one, cluster_one = [], []
        for _ in range(args.overhead_repeats):
            # Fast polling: the time measured is the emulator's, not the poll interval.
            local_one.append(timed_job(local_backend, one, args.shots, POLL_INTERVAL)[0])
            cluster_one.append(timed_job(cluster_backend, one, args.shots, POLL_INTERVAL)[0])
        local_median = statistics.median(local_one) * 1000
        cluster_median = statistics.median(cluster_one) * 1000
        print()
        print(f"{'1-circuit job (median)':<34} {'ms':>8}")
        print(f"{'default (job thread)':<34} {local_median:>8.1f}")
        print(f"{'Dask':<34} {cluster_median:>8.1f}")
        print(f"{'overhead of the Dask path':<34} {cluster_median - local_median:>8.1f}")
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
