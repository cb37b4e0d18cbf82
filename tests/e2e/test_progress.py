"""The opt-in progress bar of ``get_results``, against the emulator."""

from __future__ import annotations

import io
import re
import sys
from collections import Counter
from collections.abc import Iterator

import pytest
from pytket.backends.resulthandle import ResultHandle
from pytket.circuit import Circuit

from pytket.extensions.iqm import IQMBackend
from pytket.extensions.iqm.backends import iqm as iqm_module
from pytket.extensions.iqm.backends.connection.types import ApiLine
from pytket.extensions.iqm.backends.progress import (
    ResultsProgress,
    collect_with_progress,
    progress_enabled,
)
from pytket.extensions.iqm.emulator import IQMEmulator

pytest.importorskip("tqdm", reason="the progress bar needs the 'progress' extra (tqdm)")


def _x_circuits(backend: IQMBackend, count: int) -> list[Circuit]:
    """Circuit ``i`` flips qubit 0 when ``i`` is odd: each result is known exactly."""
    circuits = []
    for index in range(count):
        circuit = Circuit(1, 1)
        if index % 2:
            circuit.X(0)
        circuits.append(backend.get_compiled_circuit(circuit.measure_all()))
    return circuits


def _final_line(output: str) -> str:
    """The bar as last drawn (tqdm redraws with carriage returns)."""
    return re.split(r"[\r\n]+", output.strip())[-1]


def test_bar_counts_results_and_shows_jobs(
    garnet_backend: IQMBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    circuits = _x_circuits(garnet_backend, 3)
    # Two shot counts: two jobs.
    handles = garnet_backend.process_circuits(circuits, n_shots=[5, 5, 7])
    capsys.readouterr()
    results = garnet_backend.get_results(handles, progress=True)
    assert [result.get_counts() for result in results] == [
        Counter({(0,): 5}),
        Counter({(1,): 5}),
        Counter({(0,): 7}),
    ]
    bar = _final_line(capsys.readouterr().err)
    assert bar.startswith("IQM results: 100%")
    assert "3/3" in bar
    last_job = str(handles[2][0])[:8]
    assert bar.endswith(f"job {last_job}: done]")


def test_no_bar_unless_asked(
    garnet_backend: IQMBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    handles = garnet_backend.process_circuits(_x_circuits(garnet_backend, 2), n_shots=3)
    capsys.readouterr()
    garnet_backend.get_results(handles)
    garnet_backend.get_results(handles, progress=False)
    garnet_backend.get_results(handles, progress=None)
    assert capsys.readouterr().err == ""


def test_run_circuits_takes_progress(
    garnet_backend: IQMBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    if "progress" not in iqm_module._RESULT_KWARGS:
        pytest.skip("process_circuits does not accept 'progress' yet (add it to _RESULT_KWARGS)")
    results = garnet_backend.run_circuits(_x_circuits(garnet_backend, 2), n_shots=4, progress=True)
    assert [result.get_counts() for result in results] == [Counter({(0,): 4}), Counter({(1,): 4})]
    assert "2/2" in _final_line(capsys.readouterr().err)


def test_status_is_shown_while_waiting() -> None:
    # Each queue stage lasts 0.3 s: the status is asked for several times before the result is in.
    with IQMEmulator(device="garnet", noise=False, stage_delay=0.3) as emulator:
        backend = IQMBackend(emulator.root_url, device=emulator.devices[0])
        handles = backend.process_circuits(_x_circuits(backend, 2), n_shots=2)
        output = io.StringIO()
        results = collect_with_progress(
            handles,
            backend.get_result,
            job_of=lambda handle: str(handle[0])[:8],
            status_of=lambda handle: backend.circuit_status(handle).message,
            file=output,
            refresh=0.05,
        )
    assert [result.get_counts() for result in results] == [Counter({(0,): 2}), Counter({(1,): 2})]
    job = str(handles[0][0])[:8]
    shown = re.findall(rf"job {job}: ([a-z ]+)\]", output.getvalue())
    # The job was queued when the wait began, then done; both were on the bar, in that order.
    # Each API line names the statuses in its own words.
    if backend.api == ApiLine.REST_V1.value:
        assert shown[0] in {"received", "pending compilation", "pending execution"}
    else:
        assert shown[0] in {"waiting", "processing"}
    assert shown[-1] == "done"
    assert "2/2" in _final_line(output.getvalue())


def test_failing_status_request_does_not_break_the_wait() -> None:
    def broken_status() -> str:
        raise OSError("connection refused")

    output = io.StringIO()
    with ResultsProgress(1, file=output, refresh=0.01) as bar:
        with bar.waiting_for("abcd1234", broken_status):
            pass
        assert bar.postfix == "job abcd1234: status unavailable"
        bar.advance()
        assert (bar.n, bar.total) == (1, 1)


def test_bad_progress_value(garnet_backend: IQMBackend) -> None:
    handles = garnet_backend.process_circuits(_x_circuits(garnet_backend, 1), n_shots=1)
    with pytest.raises(ValueError, match=r"^progress must be True, False or None, not 'yes'"):
        garnet_backend.get_results(handles, progress="yes")
    assert progress_enabled(None) is False
    assert progress_enabled(True) is True


def test_missing_tqdm_names_the_extra(
    garnet_backend: IQMBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    handles = garnet_backend.process_circuits(_x_circuits(garnet_backend, 1), n_shots=1)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes "import tqdm" fail
    with pytest.raises(ImportError, match=r'pip install "pytket-iqm\[progress\]"'):
        garnet_backend.get_results(handles, progress=True)


def test_single_handle_is_refused_as_without_a_bar(garnet_backend: IQMBackend) -> None:
    (handle,) = garnet_backend.process_circuits(_x_circuits(garnet_backend, 1), n_shots=1)
    assert isinstance(handle, ResultHandle)
    with pytest.raises(Exception, match="Possible use of single ResultHandle"):
        garnet_backend.get_results(handle, progress=True)


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    import threading

    yield
    assert not [thread for thread in threading.enumerate() if thread.name == "iqm-progress"]
