"""Jobs end to end through the real IQMClient: results, statuses, abort, limits, restart,
reproducibility and concurrency."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from iqm_client_line import require_iqm_client_22

require_iqm_client_22()

from iqm.iqm_client import (  # noqa: E402
    CircuitCompilationOptions,
    CircuitExecutionError,
    ClientConfigurationError,
    HeraldingMode,
    IQMClient,
    JobAbortionError,
    Status,
)

import pytket.extensions.iqm.emulator.jobs.execution as execution_module  # noqa: E402
import pytket.extensions.iqm.emulator.jobs.results as results_module  # noqa: E402
from pytket.extensions.iqm.emulator import IQMEmulator  # noqa: E402
from pytket.extensions.iqm.emulator.devices.catalogue import get_device  # noqa: E402
from pytket.extensions.iqm.emulator.simulation import simulator  # noqa: E402

ClientFactory = Callable[..., IQMClient]


def history(emulator: IQMEmulator, job_id: uuid.UUID) -> list[Status]:
    return [status for status, _ in emulator.app.state.emulator.store.history(job_id)]


def test_bell_job_ideal_results_and_metadata(
    emulator: IQMEmulator, client: IQMClient, native: SimpleNamespace
) -> None:
    job_id = client.submit_circuits([native.bell()], shots=200)
    result = client.wait_for_results(job_id)
    assert result.status == Status.READY
    assert result.measurements is not None
    shots = result.measurements[0]
    assert set(shots) == {"c0", "c1"}
    assert len(shots["c0"]) == len(shots["c1"]) == 200
    assert all(len(s) == 1 for s in shots["c0"])
    pairs = {(a[0], b[0]) for a, b in zip(shots["c0"], shots["c1"], strict=True)}
    assert pairs == {(0, 0), (1, 1)}  # ideal Bell state, both outcomes seen in 200 shots
    meta = result.metadata
    garnet = get_device("garnet")
    assert meta.calibration_set_id == garnet.default_calibration.calibration_set_id
    assert meta.request is not None
    assert meta.request.shots == 200
    assert meta.request.circuits[0].name == "bell"
    assert meta.cocos_version
    assert meta.timestamps is not None
    stages = [
        "job_start",
        "compile_start",
        "compile_end",
        "execution_start",
        "execution_end",
        "job_end",
    ]
    assert set(stages) <= set(meta.timestamps)
    times = [meta.timestamps[s] for s in stages]
    assert times == sorted(times)  # same-format ISO strings sort chronologically
    assert history(emulator, job_id) == [
        Status.RECEIVED,
        Status.PENDING_COMPILATION,
        Status.PENDING_EXECUTION,
        Status.READY,
    ]


def test_counts_match_measurements(client: IQMClient, native: SimpleNamespace) -> None:
    circuits = [native.bell(), native.x_then_measure("QB3", key="z")]
    job_id = client.submit_circuits(circuits, shots=100)
    result = client.wait_for_results(job_id)
    counts = client.get_run_counts(job_id)
    assert counts.status == Status.READY
    assert counts.counts_batch is not None
    first, second = counts.counts_batch
    assert first.measurement_keys == ["c0", "c1"]
    assert set(first.counts) <= {"00", "11"}
    assert sum(first.counts.values()) == 100
    assert result.measurements is not None
    ones = sum(s[0] for s in result.measurements[0]["c0"])
    assert first.counts.get("11", 0) == ones
    assert second.measurement_keys == ["z"]
    assert second.counts == {"1": 100}
    assert client.get_run_status(job_id).status == Status.READY


def test_multi_qubit_measure_keeps_qubit_order(client: IQMClient, native: SimpleNamespace) -> None:
    circuit = native.circuit(
        name="order",
        instructions=(native.prx("QB2", 0.5, 0.0), native.measure("QB1", "QB2", "QB3", key="m")),
    )
    job_id = client.submit_circuits([circuit], shots=5)
    result = client.wait_for_results(job_id)
    assert result.measurements is not None
    assert result.measurements[0]["m"] == [[0, 1, 0]] * 5
    counts = client.get_run_counts(job_id).counts_batch
    assert counts is not None
    assert counts[0].counts == {"010": 5}


def test_qubit_mapping_applies_logical_names(client: IQMClient, native: SimpleNamespace) -> None:
    circuit = native.bell("a", "b")
    job_id = client.submit_circuits([circuit], qubit_mapping={"a": "QB5", "b": "QB6"}, shots=50)
    result = client.wait_for_results(job_id)
    assert result.measurements is not None
    assert {(x[0], y[0]) for x, y in zip(*result.measurements[0].values(), strict=True)} <= {
        (0, 0),
        (1, 1),
    }


def test_pinned_calibration_set_is_used(client: IQMClient, native: SimpleNamespace) -> None:
    second = get_device("garnet").calibrations[1].calibration_set_id
    job_id = client.submit_circuits([native.x_then_measure()], calibration_set_id=second, shots=3)
    result = client.wait_for_results(job_id)
    assert result.metadata.calibration_set_id == second


def test_same_seed_reproduces_and_other_seed_differs(
    native: SimpleNamespace, client_for: ClientFactory
) -> None:
    outcomes = []
    for seed in (5, 5, 6):
        with IQMEmulator("garnet", seed=seed, stage_delay=0) as emu:
            client = client_for(emu.url)
            first = client.wait_for_results(client.submit_circuits([native.bell()], shots=300))
            second = client.wait_for_results(client.submit_circuits([native.bell()], shots=300))
            assert first.measurements is not None
            assert second.measurements is not None
            # Noise is on: jobs of one server differ from each other (different sequence numbers).
            assert first.measurements != second.measurements
            outcomes.append((first.measurements, second.measurements))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0] != outcomes[2]


def test_noisy_bell_is_mostly_correlated(
    native: SimpleNamespace, client_for: ClientFactory
) -> None:
    with IQMEmulator("garnet", seed=3, stage_delay=0) as emu:
        client = client_for(emu.url)
        job_id = client.submit_circuits([native.bell()], shots=2000)
        client.wait_for_results(job_id)
        counts = client.get_run_counts(job_id).counts_batch
    assert counts is not None
    histogram = counts[0].counts
    assert sum(histogram.values()) == 2000
    wrong = histogram.get("01", 0) + histogram.get("10", 0)
    # Readout error ~2.5 % per qubit plus gate noise: some, but few, anti-correlated outcomes.
    assert 0 < wrong < 0.15 * 2000


def test_heralding_zeros_keeps_all_shots_without_noise(
    client: IQMClient, native: SimpleNamespace
) -> None:
    options = CircuitCompilationOptions(heralding_mode=HeraldingMode.ZEROS)
    job_id = client.submit_circuits([native.x_then_measure()], shots=40, options=options)
    result = client.wait_for_results(job_id)
    assert result.metadata.request is not None
    assert result.metadata.request.heralding_mode == HeraldingMode.ZEROS
    assert result.measurements is not None
    assert result.measurements[0]["m"] == [[1]] * 40


def test_heralding_zeros_drops_shots_with_readout_noise(
    native: SimpleNamespace, client_for: ClientFactory
) -> None:
    with IQMEmulator("garnet", seed=8, stage_delay=0) as emu:
        client = client_for(emu.url)
        options = CircuitCompilationOptions(heralding_mode=HeraldingMode.ZEROS)
        job_id = client.submit_circuits([native.bell()], shots=1000, options=options)
        result = client.wait_for_results(job_id)
    assert result.measurements is not None
    kept = len(result.measurements[0]["c0"])
    assert len(result.measurements[0]["c1"]) == kept
    assert 800 < kept < 1000  # two qubits with a few % readout error each


def test_shots_over_limit_is_refused_naming_the_limit(
    client: IQMClient, native: SimpleNamespace
) -> None:
    with pytest.raises(
        ClientConfigurationError, match="Cannot submit job with 1001 shots, the maximum is 1000"
    ):
        client.submit_circuits([native.x_then_measure()], shots=1001)


def test_batch_over_limit_is_refused_naming_the_limit(
    client: IQMClient, native: SimpleNamespace
) -> None:
    circuits = [native.x_then_measure(name=f"c{i}") for i in range(4)]
    with pytest.raises(
        ClientConfigurationError, match="Cannot submit job with 4 circuits, the maximum is 3"
    ):
        client.submit_circuits(circuits, shots=1)


def test_unknown_calibration_in_request_is_refused(
    client: IQMClient, native: SimpleNamespace
) -> None:
    unknown = uuid.uuid4()
    request = native.run_request(
        circuits=[native.x_then_measure()], shots=1, calibration_set_id=unknown
    )
    with pytest.raises(ClientConfigurationError, match=f"no calibration set '{unknown}'"):
        client.submit_run_request(request)


def test_unknown_job_is_404(emulator: IQMEmulator, client: IQMClient) -> None:
    missing = uuid.uuid4()
    with pytest.raises(requests.HTTPError, match="not found"):
        client.get_run(missing)
    with pytest.raises(requests.HTTPError, match="not found"):
        client.get_run_status(missing)
    with pytest.raises(requests.HTTPError, match="not found"):
        client.get_run_counts(missing)
    with pytest.raises(JobAbortionError, match=f"No job with id {missing}"):
        client.abort_job(missing)
    answer = requests.get(f"{emulator.url}/jobs/not-a-uuid", timeout=5)
    assert answer.status_code == 404
    assert answer.json() == {"message": "No job with id 'not-a-uuid': job ids are UUIDs."}


def test_job_of_another_device_is_not_visible(
    native: SimpleNamespace, client_for: ClientFactory
) -> None:
    with IQMEmulator(["garnet", "adonis"], stage_delay=0, noise=False) as emu:
        garnet = client_for(emu.url)
        adonis = client_for(emu.url_for("adonis"))
        job_id = garnet.submit_circuits([native.x_then_measure()], shots=2)
        garnet.wait_for_results(job_id)
        with pytest.raises(requests.HTTPError, match="not found"):
            adonis.get_run(job_id)
        result = adonis.wait_for_results(adonis.submit_circuits([native.x_then_measure()], shots=2))
        assert (
            result.metadata.calibration_set_id
            == get_device("adonis").default_calibration.calibration_set_id
        )


@pytest.fixture(scope="module")
def slow_emulator() -> Any:
    """Jobs rest 60 s per stage: they stay unfinished for as long as a test needs."""
    with IQMEmulator("garnet", noise=False, stage_delay=60.0) as emu:
        yield emu


@pytest.mark.parametrize(
    "status", [Status.RECEIVED, Status.PENDING_COMPILATION, Status.PENDING_EXECUTION]
)
def test_abort_in_every_unfinished_status(
    slow_emulator: IQMEmulator, native: SimpleNamespace, status: Status, client_for: ClientFactory
) -> None:
    client = client_for(slow_emulator.url)
    job_id = client.submit_circuits([native.x_then_measure()], shots=1)
    store = slow_emulator.app.state.emulator.store
    if status != Status.RECEIVED:
        assert store.advance(job_id, status)
    assert client.get_run_status(job_id).status == status
    client.abort_job(job_id)  # raises unless HTTP 200
    assert client.get_run_status(job_id).status == Status.ABORTED
    result = client.get_run(job_id)
    assert result.status == Status.ABORTED
    assert result.measurements is None
    assert client.get_run_counts(job_id).counts_batch is None
    # Aborting again: the job has finished, so the server refuses (409 → JobAbortionError).
    with pytest.raises(JobAbortionError, match="already finished with status 'aborted'"):
        client.abort_job(job_id)


def test_abort_of_ready_job_is_refused(client: IQMClient, native: SimpleNamespace) -> None:
    job_id = client.submit_circuits([native.x_then_measure()], shots=1)
    client.wait_for_results(job_id)
    with pytest.raises(JobAbortionError, match="already finished with status 'ready'"):
        client.abort_job(job_id)
    assert client.get_run_status(job_id).status == Status.READY


def test_abort_while_simulating_discards_results(
    monkeypatch: pytest.MonkeyPatch, native: SimpleNamespace, client_for: ClientFactory
) -> None:
    real_simulate = simulator.simulate
    with IQMEmulator("garnet", noise=False, stage_delay=0) as emu:
        client = client_for(emu.url)
        job: dict[str, uuid.UUID] = {}
        submitted = threading.Event()

        def aborting_simulate(*args: Any, **kwargs: Any) -> Any:
            submitted.wait(10)
            client.abort_job(job["id"])  # the user aborts while the circuit runs
            return real_simulate(*args, **kwargs)

        monkeypatch.setattr(execution_module, "simulate", aborting_simulate)
        job["id"] = client.submit_circuits([native.x_then_measure()], shots=10)
        submitted.set()
        result = client.wait_for_results(job["id"])
        assert result.status == Status.ABORTED
        assert result.measurements is None
        assert emu.app.state.emulator.store.results(job["id"]) is None
        assert history(emu, job["id"])[-1] == Status.ABORTED


def test_failed_job_reports_message(client: IQMClient, native: SimpleNamespace) -> None:
    # The client checks loci itself; a hand-made request reaches the server's own check.
    request = native.run_request(circuits=[native.bell("QB1", "QB3")], shots=1)
    job_id = client.submit_run_request(request)
    message = "Circuit 'bell' (index 0): cz is not calibrated on (QB1, QB3)."
    with pytest.raises(
        CircuitExecutionError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        client.wait_for_results(job_id)
    status = client.get_run_status(job_id)
    assert status.status == Status.FAILED
    assert status.message == message
    assert client.get_run_counts(job_id).counts_batch is None


def test_concurrent_submissions_are_all_served(
    emulator: IQMEmulator, native: SimpleNamespace, client_for: ClientFactory
) -> None:
    results: dict[int, list[Any]] = {}
    errors: list[BaseException] = []

    def user(index: int) -> None:
        try:
            client = client_for(emulator.url)
            ids = [
                client.submit_circuits([native.x_then_measure(f"QB{index + 1}")], shots=10 + index)
                for _ in range(3)
            ]
            results[index] = [client.wait_for_results(i) for i in ids]
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(results) == list(range(8))
    ids = set()
    for index, runs in results.items():
        for run in runs:
            assert run.status == Status.READY
            assert run.measurements is not None
            assert run.measurements[0]["m"] == [[1]] * (10 + index)
            assert run.metadata.request is not None
            ids.add(run.metadata.request.circuits[0].instructions[0].qubits)
    assert len(ids) == 8


def test_restart_on_same_db_serves_finished_jobs(
    tmp_path: Path, native: SimpleNamespace, client_for: ClientFactory
) -> None:
    db = tmp_path / "jobs.sqlite"
    with IQMEmulator("garnet", db=db, seed=2, stage_delay=0) as emu:
        client = client_for(emu.url)
        job_id = client.submit_circuits([native.bell()], shots=64)
        before = client.wait_for_results(job_id)
        counts_before = client.get_run_counts(job_id)
    with IQMEmulator("garnet", db=db, seed=2, stage_delay=0) as emu:
        client = client_for(emu.url)
        after = client.get_run(job_id)
        assert after.status == Status.READY
        assert after.measurements == before.measurements
        assert after.metadata.timestamps == before.metadata.timestamps
        assert client.get_run_counts(job_id) == counts_before
        # Sequence numbers continue, so the next job is not a replay of the first.
        again = client.wait_for_results(client.submit_circuits([native.bell()], shots=64))
        assert again.measurements != before.measurements


def test_restart_resumes_jobs_left_unfinished(
    tmp_path: Path, native: SimpleNamespace, client_for: ClientFactory
) -> None:
    db = tmp_path / "jobs.sqlite"
    with IQMEmulator("garnet", db=db, noise=False, stage_delay=60.0) as emu:
        client = client_for(emu.url)
        waiting = client.submit_circuits([native.x_then_measure()], shots=7)
        running = client.submit_circuits([native.x_then_measure("QB2")], shots=8)
        assert emu.app.state.emulator.store.advance(running, Status.PENDING_EXECUTION)
    with IQMEmulator("garnet", db=db, noise=False, stage_delay=0) as emu:
        client = client_for(emu.url)
        first = client.wait_for_results(waiting)
        second = client.wait_for_results(running)
        assert first.measurements is not None
        assert second.measurements is not None
        assert first.measurements[0]["m"] == [[1]] * 7
        assert second.measurements[0]["m"] == [[1]] * 8
        assert history(emu, running) == [
            Status.RECEIVED,
            Status.PENDING_EXECUTION,
            Status.RECEIVED,  # re-queued on restart
            Status.PENDING_COMPILATION,
            Status.PENDING_EXECUTION,
            Status.READY,
        ]


def test_restart_plans_jobs_stored_without_a_plan(
    tmp_path: Path, native: SimpleNamespace, client_for: ClientFactory
) -> None:
    # Databases of versions that planned jobs in the worker hold no plan: it is read from the
    # stored request when the server starts again.
    import sqlite3

    db = tmp_path / "jobs.sqlite"
    with IQMEmulator("garnet", db=db, noise=False, stage_delay=60.0) as emu:
        client = client_for(emu.url)
        intact = client.submit_circuits([native.x_then_measure()], shots=5)
        damaged = client.submit_circuits([native.x_then_measure()], shots=5)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE jobs SET plan = NULL")
        conn.execute("UPDATE jobs SET request = '{}' WHERE id = ?", (str(damaged),))
    with IQMEmulator("garnet", db=db, noise=False, stage_delay=0) as emu:
        result = client_for(emu.url).wait_for_results(intact)
        assert result.measurements is not None
        assert result.measurements[0]["m"] == [[1]] * 5
        store = emu.app.state.emulator.store
        deadline = time.monotonic() + 10
        while not (record := store.get(damaged)).terminal and time.monotonic() < deadline:
            time.sleep(0.01)
    assert record.status == Status.FAILED
    assert record.message is not None
    assert record.message.startswith("The stored request is not valid: ")


def test_restart_fails_jobs_of_devices_no_longer_served(
    tmp_path: Path, native: SimpleNamespace, client_for: ClientFactory
) -> None:
    db = tmp_path / "jobs.sqlite"
    with IQMEmulator("adonis", db=db, noise=False, stage_delay=60.0) as emu:
        job_id = client_for(emu.url).submit_circuits([native.x_then_measure()], shots=1)
    with IQMEmulator(["garnet", "adonis"], db=db, noise=False, stage_delay=60.0) as emu:
        # Still served: resumed (and left waiting again).
        assert client_for(emu.url_for("adonis")).get_run_status(job_id).status == Status.RECEIVED
        lost = client_for(emu.url_for("adonis")).submit_circuits([native.x_then_measure()], shots=1)
    with IQMEmulator("garnet", db=db, stage_delay=0) as emu:
        store = emu.app.state.emulator.store
        deadline = time.monotonic() + 10
        while not (record := store.get(lost)).terminal and time.monotonic() < deadline:
            time.sleep(0.01)
    assert record.status == Status.FAILED
    assert record.message == (
        "Device 'adonis' is not served by this emulator any more; resubmit the job to a "
        "served device."
    )


@pytest.mark.parametrize("shape", [(0, 3), (5, 1), (7, 0), (2000, 20), (50, 70)])
def test_result_encoding_matches_json_of_lists(shape: tuple[int, int]) -> None:
    import json

    import numpy as np

    bits = np.random.default_rng(0).integers(0, 2, size=shape, dtype=np.uint8)
    assert json.loads(results_module.bits_json(bits)) == bits.tolist()
    expected: dict[str, int] = {}
    for row in bits.tolist():
        key = "".join(map(str, row))
        expected[key] = expected.get(key, 0) + 1
    assert results_module.bitstring_counts(bits) == expected
