"""All 54 qubits of Emerald end to end: a GHZ through IQMBackend, the emulator picking the
stabilizer (noiseless) or the matrix-product state (noisy) and reporting it in the job data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_line import API_LINE

from pytket import Circuit
from pytket.extensions.iqm import IQMBackend
from pytket.extensions.iqm.backends.connection.types import ApiLine
from pytket.extensions.iqm.emulator import IQMEmulator

WIDTH = 54
# A linear GHZ on 54 qubits lasts about twice the shortest T2 of Emerald: lift the duration limit.
NO_DURATION_LIMIT = 0.0


def ghz(width: int) -> Circuit:
    circuit = Circuit(width)
    circuit.H(0)
    for qubit in range(width - 1):
        circuit.CX(qubit, qubit + 1)
    return circuit.measure_all()


@pytest.fixture(scope="module")
def compiled() -> Iterator[Circuit]:
    with IQMEmulator("emerald", noise=False, seed=3) as emulator:
        backend = IQMBackend(emulator.root_url, device="emerald")
        yield backend.get_compiled_circuit(ghz(WIDTH), optimisation_level=1)


def job_json(emulator: IQMEmulator, job_id: str) -> dict[str, Any]:
    """The job as the server answers it, with the emulator's own fields iqm-client drops."""
    if API_LINE is ApiLine.SERVER_API:
        url = f"{emulator.root_url}/api/v1/jobs/{job_id}"
    else:
        url = f"{emulator.url}/jobs/{job_id}"
    answer: dict[str, Any] = httpx.get(url, timeout=10).json()
    return answer


def simulation_of(emulator: IQMEmulator, job_id: str) -> list[dict[str, Any]]:
    data = job_json(emulator, job_id)
    report: list[dict[str, Any]] = (
        data["simulation"] if API_LINE is ApiLine.SERVER_API else data["metadata"]["simulation"]
    )
    return report


@pytest.mark.slow
def test_noiseless_ghz_54_runs_on_the_stabilizer(compiled: Circuit) -> None:
    shots = 2000
    with IQMEmulator(
        "emerald", noise=False, seed=3, default_max_duration_over_t2=NO_DURATION_LIMIT
    ) as emulator:
        backend = IQMBackend(emulator.root_url, device="emerald")
        handle = backend.process_circuit(compiled, n_shots=shots)
        counts = backend.get_result(handle, timeout=120).get_counts()
        job_id = backend.get_metadata(handle).job_id
        report = simulation_of(emulator, job_id)
    assert set(counts) == {(0,) * WIDTH, (1,) * WIDTH}
    assert abs(counts[(0,) * WIDTH] - shots / 2) <= 4 * (shots / 4) ** 0.5
    assert [entry["method"] for entry in report] == ["stabilizer"]


@pytest.mark.slow
def test_noisy_ghz_54_runs_on_the_mps_and_reports_its_truncation(compiled: Circuit) -> None:
    shots = 40
    with IQMEmulator(
        "emerald", noise=True, seed=3, default_max_duration_over_t2=NO_DURATION_LIMIT
    ) as emulator:
        backend = IQMBackend(emulator.root_url, device="emerald")
        handle = backend.process_circuit(compiled, n_shots=shots)
        counts = backend.get_result(handle, timeout=300).get_counts()
        job_id = backend.get_metadata(handle).job_id
        [entry] = simulation_of(emulator, job_id)
    assert sum(counts.values()) == shots
    assert all(len(bits) == WIDTH for bits in counts)
    assert entry["method"] == "mps"
    assert entry["discarded_weight"] == 0.0
    assert 2 <= entry["bond_dimension"] <= 64
