"""Parallel compilation: local worker processes and a Dask cluster give the sequential circuits."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import distributed
import pytest
from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Circuit, Conditional, Op, OpType
from pytket.qasm.qasm import circuit_from_qasm

from pytket.extensions.iqm import IQMBackend
from pytket.extensions.iqm.backends import parallel_compile
from pytket.extensions.iqm.backends.parallel_compile import (
    SEQUENTIAL_BELOW,
    canonical_circuit,
    compile_circuits,
)

SUITE_DIR = Path(__file__).resolve().parents[1] / "data" / "bench-circuits"
# Suite circuits that compile in well under a second each at level 2.
FAST_SUITE = (
    "ghz_n03",
    "ghz_n10",
    "dj_n05",
    "graphstate_n08",
    "qft_n04",
    "vqe_real_amp_n04",
    "vqe_real_amp_n10",
    "wstate_n05",
    "wstate_n10",
    "qpeexact_n05",
)
LEVEL = 2


def suite_circuits() -> list[Circuit]:
    # A missing file fails the test: the suite is part of the repository.
    return [circuit_from_qasm(SUITE_DIR / f"{stem}.qasm") for stem in FAST_SUITE]


def as_dicts(circuits: list[Circuit]) -> list[dict[str, object]]:
    return [circuit.to_dict() for circuit in circuits]


@pytest.fixture(scope="module")
def garnet_info(garnet_backend: IQMBackend) -> BackendInfo:
    return garnet_backend.backend_info


@pytest.fixture(scope="module")
def sequential(garnet_info: BackendInfo) -> list[Circuit]:
    return compile_circuits(garnet_info, suite_circuits(), LEVEL, workers=1)


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    """Two worker processes on loopback, one thread each."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as local_cluster:
        yield local_cluster


def test_batch_is_large_enough_for_worker_processes() -> None:
    assert len(FAST_SUITE) >= SEQUENTIAL_BELOW[LEVEL]


def test_local_workers_give_the_sequential_circuits_in_order(
    garnet_backend: IQMBackend, sequential: list[Circuit]
) -> None:
    circuits = suite_circuits()
    originals = as_dicts(circuits)
    compiled = garnet_backend.get_compiled_circuits(circuits, LEVEL, workers=2)
    assert as_dicts(compiled) == as_dicts(sequential)
    assert as_dicts(circuits) == originals  # inputs unchanged
    workers = [p for p in multiprocessing.active_children() if p.name.startswith("pytket-iqm")]
    assert len(workers) == 2


def test_workers_1_compiles_like_get_compiled_circuit(garnet_backend: IQMBackend) -> None:
    # Float angles cross the process boundary exactly: one circuit at a time gives the same.
    circuit = Circuit(3).Ry(1 / 3, 0).Rz(0.1 + 0.2, 1).CX(0, 2).CX(1, 2).Rx(2 / 7, 2).measure_all()
    single = garnet_backend.get_compiled_circuit(circuit, LEVEL)
    [batched] = garnet_backend.get_compiled_circuits([circuit], LEVEL, workers=1)
    assert batched.to_dict() == single.to_dict()
    assert canonical_circuit(circuit).get_commands() == circuit.get_commands()


def test_dask_client_gives_the_sequential_circuits(
    garnet_backend: IQMBackend, sequential: list[Circuit], cluster: distributed.LocalCluster
) -> None:
    with distributed.Client(cluster) as client:
        compiled = garnet_backend.get_compiled_circuits(suite_circuits(), LEVEL, executor=client)
    assert as_dicts(compiled) == as_dicts(sequential)
    assert _passes_built_on(cluster) > 0


def test_scheduler_address_setting_compiles_on_the_cluster(
    garnet_info: BackendInfo,
    sequential: list[Circuit],
    cluster: distributed.LocalCluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(parallel_compile.SCHEDULER_ENVIRONMENT_VARIABLE, cluster.scheduler_address)
    compiled = compile_circuits(garnet_info, suite_circuits(), LEVEL)
    assert as_dicts(compiled) == as_dicts(sequential)
    assert _passes_built_on(cluster) > 0  # the cluster's workers compiled


def _passes_built_on(cluster: distributed.LocalCluster) -> int:
    """How many compilation passes the cluster's workers have built."""
    with distributed.Client(cluster) as client:
        sizes = client.run(lambda: parallel_compile._worker_pass.cache_info().currsize)
    return sum(sizes.values())


def test_progress_bar_counts_compiled_circuits(
    garnet_info: BackendInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    compile_circuits(garnet_info, suite_circuits(), LEVEL, workers=2, progress=True)
    err = capsys.readouterr().err
    assert "Compiling: 100%" in err
    assert f"{len(FAST_SUITE)}/{len(FAST_SUITE)}" in err


def test_an_error_in_a_worker_is_raised_as_in_sequential(garnet_info: BackendInfo) -> None:
    too_big = [Circuit(21).CX(0, 20).measure_all(), *suite_circuits()]
    with pytest.raises(RuntimeError, match="MaxNQubitsPredicate") as sequential_error:
        compile_circuits(garnet_info, too_big, LEVEL, workers=1)
    with pytest.raises(RuntimeError) as parallel_error:
        compile_circuits(garnet_info, too_big, LEVEL, workers=2)
    assert str(parallel_error.value) == str(sequential_error.value)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"workers": 0}, ValueError, "workers must be at least 1"),
        ({"workers": -2}, ValueError, "workers must be at least 1"),
        ({"workers": "2"}, TypeError, "workers must be a whole number"),
        ({"workers": True}, TypeError, "workers must be a whole number"),
        ({"executor": 42}, TypeError, "executor must be a Dask distributed.Client"),
        (
            {"workers": 2, "executor": "tcp://127.0.0.1:1"},
            ValueError,
            "Give either workers",
        ),
        ({"progress": "yes"}, ValueError, "progress must be True, False or None"),
        ({"optimisation_level": 4}, ValueError, "optimisation_level must be 0, 1, 2 or 3"),
    ],
)
def test_bad_arguments_are_refused_naming_the_fix(
    garnet_backend: IQMBackend,
    kwargs: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        garnet_backend.get_compiled_circuits(suite_circuits(), **kwargs)  # type: ignore[arg-type]


def test_dask_without_the_extra_names_it(
    garnet_info: BackendInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r'pip install "pytket-iqm\[cluster\]"'):
        compile_circuits(garnet_info, suite_circuits(), executor="tcp://127.0.0.1:8786")


def test_unreachable_scheduler_is_a_connection_error(
    garnet_info: BackendInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel_compile, "SCHEDULER_CONNECT_TIMEOUT", 1.0)
    with pytest.raises(
        ConnectionError, match=r"No Dask scheduler answered at 'tcp://127\.0\.0\.1:9'"
    ):
        compile_circuits(garnet_info, suite_circuits(), executor="tcp://127.0.0.1:9")


def test_script_without_main_guard_is_refused_not_rerun(
    garnet_info: BackendInfo, tmp_path: Path
) -> None:
    # Worker processes import the script again; they must not run on past the compilation.
    marker = tmp_path / "compiled.txt"
    device = tmp_path / "garnet.json"
    device.write_text(json.dumps(garnet_info.to_dict()))
    script = tmp_path / "unguarded.py"
    lines = [
        "import json",
        "from pytket.backends.backendinfo import BackendInfo",
        "from pytket.circuit import Circuit",
        "from pytket.extensions.iqm.backends.parallel_compile import compile_circuits",
        f"info = BackendInfo.from_dict(json.loads(open({str(device)!r}).read()))",
        "circuits = [Circuit(2).CX(0, 1).Rz(0.1 * i, 1).measure_all() for i in range(64)]",
        "compile_circuits(info, circuits, 0, workers=2)",
        f"open({str(marker)!r}, 'a').write('compiled')",
    ]
    script.write_text("\n".join(lines) + "\n")
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode != 0
    assert run.stderr.splitlines()[-1].startswith("RuntimeError: The compile worker processes")
    assert 'if __name__ == "__main__":' in run.stderr.splitlines()[-1]
    assert not marker.exists()  # neither the script nor a worker got past the compilation


def test_exact_dict_keeps_plain_angles_of_gates_boxes_conditions_and_phase() -> None:
    circuit = Circuit(2, 1).Ry(1 / 3, 0).Rz(0.1 + 0.2, 1).add_phase(1 / 7)
    circuit.Rx(2 / 3, 0, condition_bits=[0], condition_value=1)
    qasm_gate = circuit_from_qasm(SUITE_DIR / "qft_n04.qasm")  # cp(...) custom gates
    for original in (circuit, qasm_gate):
        again = canonical_circuit(original)
        assert again.phase == original.phase
        assert [_angles(c.op) for c in again.get_commands()] == [
            _angles(c.op) for c in original.get_commands()
        ]
        assert [str(c) for c in again.get_commands()] == [str(c) for c in original.get_commands()]


def _angles(op: Op) -> list[object]:
    if op.type == OpType.Conditional:
        return _angles(cast("Conditional", op).op)
    return list(op.params)


def test_tasks_share_the_work_evenly() -> None:
    """Every circuit in exactly one task, and no task holds the largest circuits together."""
    sizes = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181]
    circuits = []
    for size in sizes:
        circuit = Circuit(1)
        for _ in range(size):
            circuit.H(0)
        circuits.append(circuit)
    tasks = parallel_compile._chunks(circuits, n_workers=1)
    assert len(tasks) == parallel_compile.CHUNKS_PER_WORKER
    assert sorted(index for task in tasks for index in task) == list(range(len(sizes)))
    work = [sum(sizes[index] for index in task) for task in tasks]
    # Dealt back and forth, largest first: a task is at most the largest circuit above another.
    assert max(work) - min(work) <= max(sizes)
    assert tasks[0][0] == len(sizes) - 1  # the largest circuit is dealt first
    assert parallel_compile._chunks(circuits[:3], n_workers=4) == [[2], [1], [0]]
