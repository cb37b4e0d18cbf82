"""The end-to-end checks against a real IQM server.

Runs only when ``PYTKET_IQM_LIVE_URL`` names a device URL (e.g. ``https://<server>/garnet``);
credentials come from ``PYTKET_IQM_LIVE_TOKEN`` or the usual sources (``IQM_TOKEN``,
``IQM_TOKENS_FILE``, the stored ``IQMConfig``). Real hardware is noisy, so the checks allow for
device-level error rates; they cost a few thousand shots.
"""

from __future__ import annotations

import os

import pytest
from pytket.backends.resulthandle import ResultHandle
from pytket.backends.status import StatusEnum
from pytket.circuit import Circuit

from pytket.extensions.iqm import IQMBackend

LIVE_URL = os.environ.get("PYTKET_IQM_LIVE_URL")

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not LIVE_URL, reason="PYTKET_IQM_LIVE_URL is not set"),
]


@pytest.fixture(scope="module")
def backend() -> IQMBackend:
    assert LIVE_URL is not None
    return IQMBackend(LIVE_URL, token=os.environ.get("PYTKET_IQM_LIVE_TOKEN"))


def test_bell(backend: IQMBackend) -> None:
    bell = backend.get_compiled_circuit(Circuit(2, 2).H(0).CX(0, 1).measure_all())
    counts = backend.run_circuit(bell, n_shots=1000).get_counts()
    correlated = counts[(0, 0)] + counts[(1, 1)]
    assert correlated > 800
    assert 300 < counts[(0, 0)] < 700


def test_ghz(backend: IQMBackend) -> None:
    ghz = Circuit(5, 5).H(0)
    for qubit in range(4):
        ghz.CX(qubit, qubit + 1)
    counts = backend.run_circuit(
        backend.get_compiled_circuit(ghz.measure_all()), n_shots=1000
    ).get_counts()
    assert counts[(0,) * 5] + counts[(1,) * 5] > 600


def test_batch_is_one_job_and_bits_are_right(backend: IQMBackend) -> None:
    circuits = [
        backend.get_compiled_circuit(Circuit(3, 3).X(index).measure_all()) for index in range(3)
    ]
    handles = backend.process_circuits(circuits, n_shots=200)
    assert len({str(handle[0]) for handle in handles}) == 1
    for index, result in enumerate(backend.get_results(handles)):
        expected = tuple(1 if bit == index else 0 for bit in range(3))
        assert result.get_counts()[expected] > 150


def test_persistent_handle_and_metadata(backend: IQMBackend) -> None:
    assert LIVE_URL is not None
    circuit = backend.get_compiled_circuit(Circuit(1, 1).X(0).measure_all())
    handle = backend.process_circuit(circuit, n_shots=100)
    fresh = IQMBackend(LIVE_URL, token=os.environ.get("PYTKET_IQM_LIVE_TOKEN"))
    reloaded = ResultHandle.from_str(str(handle))
    assert fresh.get_result(reloaded).get_counts()[(1,)] > 80
    assert fresh.circuit_status(reloaded).status == StatusEnum.COMPLETED
    assert fresh.get_metadata(reloaded).calibration_set_id == backend.calibration_set_id
