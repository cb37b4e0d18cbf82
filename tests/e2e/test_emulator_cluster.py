"""The emulator on a Dask cluster: each job's circuits run as tasks on a local cluster's workers.

The cluster is a ``distributed.LocalCluster`` of two worker processes on loopback; jobs go
through ``IQMBackend`` and the installed iqm-client (the suite runs once per line).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator

import distributed
import pytest
from pytket.circuit import Circuit

from benchmarks.emulator_cluster import layered_circuit
from pytket.extensions.iqm import IQMBackend, IQMJobCancelledError
from pytket.extensions.iqm.emulator import IQMEmulator
from pytket.extensions.iqm.emulator.cli import main as emulator_main
from pytket.extensions.iqm.emulator.jobs import execution

SEED = 7
TASK_PREFIX = "iqm-emulator-"


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as local_cluster:
        yield local_cluster


@pytest.fixture(scope="module")
def dask_client(cluster: distributed.LocalCluster) -> Iterator[distributed.Client]:
    with distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.fixture(scope="module")
def noisy_on_cluster(cluster: distributed.LocalCluster) -> Iterator[IQMEmulator]:
    with IQMEmulator(
        "garnet", noise=True, seed=SEED, dask_scheduler=cluster.scheduler_address
    ) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def noisy_local() -> Iterator[IQMEmulator]:
    with IQMEmulator("garnet", noise=True, seed=SEED) as emulator:
        yield emulator


def backend_for(emulator: IQMEmulator) -> IQMBackend:
    return IQMBackend(emulator.root_url, device="garnet")


def counts_of(backend: IQMBackend, circuits: list[Circuit], shots: int) -> list[dict[str, int]]:
    compiled = backend.get_compiled_circuits(circuits, optimisation_level=1, workers=1)
    handles = backend.process_circuits(compiled, n_shots=shots)
    return [
        {"".join(map(str, key)): n for key, n in result.get_counts().items()}
        for result in backend.get_results(handles, timeout=300)
    ]


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def emulator_tasks(client: distributed.Client) -> list[str]:
    """Keys of the emulator's tasks the scheduler knows."""
    keys = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.tasks))
    return [str(key) for key in keys if str(key).startswith(TASK_PREFIX)]


def test_deterministic_circuits_give_exact_counts_on_the_cluster(
    cluster: distributed.LocalCluster,
) -> None:
    with IQMEmulator("garnet", noise=False, dask_scheduler=cluster.scheduler_address) as emulator:
        backend = backend_for(emulator)
        flips = [Circuit(3).X(0).X(2).measure_all(), Circuit(2).X(1).measure_all()]
        assert counts_of(backend, flips, 50) == [{"101": 50}, {"01": 50}]


def test_same_seed_gives_the_same_counts_on_both_paths(
    noisy_on_cluster: IQMEmulator, noisy_local: IQMEmulator
) -> None:
    circuits = [layered_circuit(4, variant, layers=3) for variant in range(4)]
    on_cluster = counts_of(backend_for(noisy_on_cluster), circuits, 300)
    local = counts_of(backend_for(noisy_local), circuits, 300)
    assert on_cluster == local
    assert all(len(counts) > 4 for counts in local)  # noisy superpositions, not a fixed answer


def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes(
    cluster: distributed.LocalCluster, dask_client: distributed.Client
) -> None:
    circuits = [layered_circuit(12, variant, layers=6) for variant in range(6)]
    with (
        IQMEmulator(
            "garnet", noise=True, seed=SEED, dask_scheduler=cluster.scheduler_address
        ) as on_cluster,
        IQMEmulator("garnet", noise=True, seed=SEED) as local,
    ):
        backend = backend_for(on_cluster)
        compiled = backend.get_compiled_circuits(circuits, optimisation_level=1, workers=1)
        handles = backend.process_circuits(compiled, n_shots=400)

        def busy_worker() -> str | None:
            for worker, keys in dask_client.processing().items():
                if any(str(key).startswith(TASK_PREFIX) for key in keys):
                    return str(worker)
            return None

        wait_for(lambda: busy_worker() is not None)
        worker = busy_worker()
        assert worker is not None
        pids = dask_client.run(os.getpid, workers=[worker])
        os.kill(pids[worker], signal.SIGKILL)

        results = backend.get_results(handles, timeout=300)
        assert all(sum(result.get_counts().values()) == 400 for result in results)
        # The rerun tasks drew the same random numbers: the counts are those of a local run.
        cluster_counts = [result.get_counts() for result in results]
        assert cluster_counts == [
            result.get_counts()
            for result in backend_for(local).get_results(
                backend_for(local).process_circuits(compiled, n_shots=400), timeout=300
            )
        ]
    wait_for(lambda: len(dask_client.scheduler_info()["workers"]) == 2)  # the nanny restarted it


def test_abort_of_a_running_job_cancels_its_tasks(
    cluster: distributed.LocalCluster, dask_client: distributed.Client
) -> None:
    circuits = [layered_circuit(12, variant, layers=6) for variant in range(8)]
    with IQMEmulator("garnet", noise=True, dask_scheduler=cluster.scheduler_address) as emulator:
        backend = backend_for(emulator)
        compiled = backend.get_compiled_circuits(circuits, optimisation_level=1, workers=1)
        [handle, *_] = backend.process_circuits(compiled, n_shots=400)
        wait_for(lambda: bool(emulator_tasks(dask_client)))
        backend.cancel(handle)
        with pytest.raises(IQMJobCancelledError, match="was aborted"):
            backend.get_result(handle, timeout=60)
        wait_for(lambda: not emulator_tasks(dask_client), timeout=10)


def test_unreachable_scheduler_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execution, "SCHEDULER_CONNECT_TIMEOUT", 1.0)
    emulator = IQMEmulator("garnet", dask_scheduler="tcp://127.0.0.1:9")
    with pytest.raises(
        ConnectionError, match=r"No Dask scheduler answered at 'tcp://127\.0\.0\.1:9'"
    ):
        emulator.start()
    assert not emulator.running


def test_malformed_scheduler_address_is_refused() -> None:
    with pytest.raises(ValueError, match="dask_scheduler must be a Dask scheduler address"):
        IQMEmulator("garnet", dask_scheduler="127.0.0.1:8786")


def test_command_line_refuses_an_unreachable_scheduler(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(execution, "SCHEDULER_CONNECT_TIMEOUT", 1.0)
    status = emulator_main(["--port", "0", "--dask-scheduler", "tcp://127.0.0.1:9"])
    assert status == 2
    assert "No Dask scheduler answered at 'tcp://127.0.0.1:9'" in capsys.readouterr().err


def test_without_dask_the_option_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    emulator = IQMEmulator("garnet", dask_scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ImportError, match=r'pip install "pytket-iqm\[cluster\]"'):
        emulator.start()
