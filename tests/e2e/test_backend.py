"""IQMBackend end to end: pytket → IQMBackend → iqm-client → HTTP → emulator, and back.

The emulator is noiseless here unless a test says otherwise, so deterministic circuits give exact
counts and random ones are checked against their exact distributions with fixed seeds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections import Counter

import pytest
from api_line import only_server_api
from pytket.architecture import Architecture
from pytket.backends.backend_exceptions import CircuitNotValidError
from pytket.backends.resulthandle import ResultHandle
from pytket.backends.status import StatusEnum
from pytket.circuit import Bit, Circuit, OpType, Qubit

from pytket.extensions.iqm import (
    IQMBackend,
    IQMDeviceError,
    IQMHandleError,
    IQMJobCancelledError,
    IQMJobFailedError,
    IQMTimeoutError,
)
from pytket.extensions.iqm.backends.connection.types import ApiLine
from pytket.extensions.iqm.backends.handles import LAYOUT_FORMATS
from pytket.extensions.iqm.emulator import IQMEmulator


def _job_id(handle: ResultHandle) -> str:
    return str(handle[0])


def _shots_by_bit(result_counts: Counter[tuple[int, ...]]) -> tuple[int, ...]:
    """The one outcome of a deterministic circuit."""
    assert len(result_counts) == 1, result_counts
    return next(iter(result_counts))


def test_bell_distribution(garnet_backend: IQMBackend) -> None:
    bell = Circuit(2, 2).H(0).CX(0, 1).measure_all()
    result = garnet_backend.run_circuit(garnet_backend.get_compiled_circuit(bell), n_shots=2000)
    counts = result.get_counts()
    assert set(counts) == {(0, 0), (1, 1)}
    # Binomial(2000, 1/2) has standard deviation 22; 5 standard deviations either side.
    assert abs(counts[(0, 0)] - 1000) < 110
    assert sum(counts.values()) == 2000


def test_ghz_distribution_on_many_qubits(garnet_backend: IQMBackend) -> None:
    ghz = Circuit(8, 8).H(0)
    for qubit in range(7):
        ghz.CX(qubit, qubit + 1)
    ghz.measure_all()
    counts = garnet_backend.run_circuit(
        garnet_backend.get_compiled_circuit(ghz), n_shots=1000
    ).get_counts()
    assert set(counts) == {(0,) * 8, (1,) * 8}
    assert abs(counts[(0,) * 8] - 500) < 80


def test_results_follow_bit_identity_not_server_key_order(garnet_backend: IQMBackend) -> None:
    # Measures in an order unlike the bit order, an unmeasured bit and a second register.
    circuit = Circuit(3)
    c = circuit.add_c_register("c", 4)
    m = circuit.add_c_register("m", 1)
    circuit.X(0).X(2)
    circuit.Measure(Qubit(0), c[2]).Measure(Qubit(1), c[0]).Measure(Qubit(2), m[0])
    compiled = garnet_backend.get_compiled_circuit(circuit)
    result = garnet_backend.run_circuit(compiled, n_shots=50)
    assert result.c_bits == {c[0]: 0, c[1]: 1, c[2]: 2, c[3]: 3, m[0]: 4}
    assert _shots_by_bit(result.get_counts()) == (0, 0, 1, 0, 1)
    assert result.get_counts(cbits=[m[0], c[2]]) == Counter({(1, 1): 50})


def test_twelve_bits_land_on_the_right_bits(garnet_backend: IQMBackend) -> None:
    # The incumbent scrambled >= 11 bits when the server sorted keys as strings (c[10] < c[2]).
    flipped = {2, 3, 10, 11}
    circuit = Circuit(12, 12)
    for qubit in flipped:
        circuit.X(qubit)
    circuit.measure_all()
    result = garnet_backend.run_circuit(garnet_backend.get_compiled_circuit(circuit), n_shots=10)
    expected = tuple(1 if bit in flipped else 0 for bit in range(12))
    assert _shots_by_bit(result.get_counts()) == expected


def test_batch_of_many_circuits_is_one_job(garnet_backend: IQMBackend) -> None:
    circuits = []
    for index in range(40):
        circuit = Circuit(4, 4)
        for qubit in range(4):
            if index >> qubit & 1:
                circuit.X(qubit)
        circuits.append(garnet_backend.get_compiled_circuit(circuit.measure_all()))
    handles = garnet_backend.process_circuits(circuits, n_shots=20)
    assert len({_job_id(handle) for handle in handles}) == 1
    results = garnet_backend.get_results(handles)
    for index, result in enumerate(results):
        expected = tuple(index >> qubit & 1 for qubit in range(4))
        assert result.get_counts() == Counter({expected: 20})


def test_shot_counts_split_jobs_and_batch_limit(ideal_garnet: IQMEmulator) -> None:
    backend = IQMBackend(ideal_garnet.root_url, device=ideal_garnet.devices[0], max_batch_size=2)
    circuit = backend.get_compiled_circuit(Circuit(1, 1).X(0).measure_all())
    handles = backend.process_circuits([circuit] * 5, n_shots=[10, 20, 10, 10, 20])
    jobs = [_job_id(handle) for handle in handles]
    # Shots 10: circuits 0, 2, 3 in batches of two; shots 20: circuits 1, 4.
    assert jobs[0] == jobs[2] != jobs[3]
    assert jobs[1] == jobs[4]
    assert len(set(jobs)) == 3
    totals = [sum(result.get_counts().values()) for result in backend.get_results(handles)]
    assert totals == [10, 20, 10, 10, 20]


_FRESH_PROCESS = """
import json, sys
from pytket.backends import ResultHandle
from pytket.extensions.iqm import IQMBackend
url, device, handle_string = sys.argv[1], sys.argv[2], sys.argv[3]
backend = IQMBackend(url, device=device)
handle = ResultHandle.from_str(handle_string)
result = backend.get_result(handle)
metadata = backend.get_metadata(handle)
print(json.dumps({
    "status": backend.circuit_status(handle).status.name,
    "bits": [str(bit) for bit in result.c_bits],
    "counts": {"".join(map(str, k)): v for k, v in result.get_counts().items()},
    "calibration_set_id": str(metadata.calibration_set_id),
    "shots": metadata.request.shots,
}))
"""


def test_persistent_handle_in_a_fresh_process(
    ideal_garnet: IQMEmulator, garnet_backend: IQMBackend
) -> None:
    circuit = Circuit(2)
    reg = circuit.add_c_register("out", 3)
    circuit.X(1).Measure(Qubit(1), reg[0]).Measure(Qubit(0), reg[2])
    handle = garnet_backend.process_circuit(garnet_backend.get_compiled_circuit(circuit), n_shots=7)
    completed = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS, ideal_garnet.root_url, "garnet", str(handle)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    answer = json.loads(completed.stdout)
    assert answer == {
        "status": "COMPLETED",
        "bits": ["out[0]", "out[1]", "out[2]"],
        "counts": {"100": 7},
        "calibration_set_id": str(garnet_backend.calibration_set_id),
        "shots": 7,
    }


def test_metadata_of_a_job(garnet_backend: IQMBackend) -> None:
    circuit = garnet_backend.get_compiled_circuit(Circuit(1, 1).measure_all())
    handle = garnet_backend.process_circuit(circuit, n_shots=3)
    garnet_backend.get_result(handle)
    metadata = garnet_backend.get_metadata(handle)
    assert metadata.job_id == _job_id(handle)
    assert metadata.calibration_set_id == garnet_backend.calibration_set_id
    assert metadata.request.shots == metadata.shots == 3
    assert metadata.api == garnet_backend.api
    # Each API line reports the job's history in its own words.
    if garnet_backend.api == ApiLine.REST_V1.value:
        assert metadata.status == "ready"
        assert {"job_start", "job_end"} <= set(metadata.timestamps)
    else:
        assert metadata.status == "completed"
        steps = [entry["status"] for entry in metadata.timeline]
        assert steps[0] == "created"
        assert steps[-1] == "completed"


def test_failed_job_is_reported_not_raised_by_status(garnet_backend: IQMBackend) -> None:
    circuit = garnet_backend.get_compiled_circuit(Circuit(2, 2).H(0).CX(0, 1).measure_all())
    # A duration limit no circuit can meet: the server fails the job with its reason.
    handle = garnet_backend.process_circuit(circuit, n_shots=10, max_circuit_duration_over_t2=1e-9)
    with pytest.raises(IQMJobFailedError, match=f"Job {_job_id(handle)} ended as 'failed': .*T2"):
        garnet_backend.get_result(handle)
    status = garnet_backend.circuit_status(handle)
    assert status.status == StatusEnum.ERROR
    assert "T2" in status.message


def test_cancel_a_queued_job(slow_garnet: IQMEmulator) -> None:
    backend = IQMBackend(slow_garnet.root_url, device=slow_garnet.devices[0])
    circuit = backend.get_compiled_circuit(Circuit(1, 1).X(0).measure_all())
    handle = backend.process_circuit(circuit, n_shots=10)
    assert backend.circuit_status(handle).status in (StatusEnum.SUBMITTED, StatusEnum.QUEUED)
    backend.cancel(handle)
    assert backend.circuit_status(handle).status == StatusEnum.CANCELLED
    with pytest.raises(IQMJobCancelledError, match=f"Job {_job_id(handle)} was aborted"):
        backend.get_result(handle)


def test_timeout_names_the_job_and_keeps_the_handle(slow_garnet: IQMEmulator) -> None:
    backend = IQMBackend(slow_garnet.root_url, device=slow_garnet.devices[0])
    circuit = backend.get_compiled_circuit(Circuit(1, 1).X(0).measure_all())
    handle = backend.process_circuit(circuit, n_shots=10)
    with pytest.raises(IQMTimeoutError, match=f"Job {_job_id(handle)} was still '"):
        backend.get_result(handle, timeout=0.2)
    assert backend.get_result(handle, timeout=60).get_counts() == Counter({(1,): 10})


def test_simplify_initial_works_on_a_copy(garnet_backend: IQMBackend) -> None:
    circuit = garnet_backend.get_compiled_circuit(Circuit(2, 2).CZ(0, 1).X(0).measure_all())
    before = circuit.get_commands()
    result = garnet_backend.run_circuit(circuit, n_shots=5, simplify_initial=True)
    assert circuit.get_commands() == before
    assert result.get_counts() == Counter({(1, 0): 5})


def test_postprocess_gives_the_same_answer(garnet_backend: IQMBackend) -> None:
    circuit = garnet_backend.get_compiled_circuit(
        Circuit(3, 3).X(0).CX(0, 1).CX(1, 2).measure_all()
    )
    result = garnet_backend.run_circuit(circuit, n_shots=5, postprocess=True)
    assert result.get_counts() == Counter({(1, 1, 1): 5})


def test_barriers_pass_through(garnet_backend: IQMBackend) -> None:
    circuit = Circuit(2, 2).X(0).add_barrier([0, 1]).CX(0, 1).measure_all()
    compiled = garnet_backend.get_compiled_circuit(circuit)
    assert compiled.n_gates_of_type(OpType.Barrier) == 1
    assert garnet_backend.run_circuit(compiled, n_shots=5).get_counts() == Counter({(1, 1): 5})


def test_uncompiled_circuit_is_refused_before_sending(garnet_backend: IQMBackend) -> None:
    with pytest.raises(CircuitNotValidError):
        garnet_backend.process_circuit(Circuit(2, 2).H(0).CX(0, 1).measure_all(), n_shots=5)


def test_heralding_returns_fewer_shots_with_noise(noisy_garnet: IQMEmulator) -> None:
    backend = IQMBackend(noisy_garnet.root_url, device=noisy_garnet.devices[0])
    circuit = backend.get_compiled_circuit(Circuit(5, 5).measure_all())
    result = backend.run_circuit(circuit, n_shots=2000, heralding_mode="zeros")
    kept = sum(result.get_counts().values())
    # Five heralding readouts with P(1|0) near 2.5 % each keep about 88 % of the shots.
    assert 1500 < kept < 2000
    assert result.get_shots().shape == (kept, 5)


def test_noise_lowers_bell_fidelity_by_a_device_like_amount(noisy_garnet: IQMEmulator) -> None:
    backend = IQMBackend(noisy_garnet.root_url, device=noisy_garnet.devices[0])
    bell = backend.get_compiled_circuit(Circuit(2, 2).H(0).CX(0, 1).measure_all())
    counts = backend.run_circuit(bell, n_shots=4000).get_counts()
    correlated = (counts[(0, 0)] + counts[(1, 1)]) / 4000
    # Two readouts at ~97.5 % and a CZ at ~99 %: well above 0.9, clearly below 1.
    assert 0.90 < correlated < 0.995


def test_backend_info_describes_the_device(garnet_backend: IQMBackend) -> None:
    info = garnet_backend.backend_info
    assert info.device_name == "garnet"
    assert isinstance(info.architecture, Architecture)
    assert len(info.architecture.nodes) == 20
    assert len(info.architecture.coupling) == 30
    assert info.misc["calibration_set_id"] == str(garnet_backend.calibration_set_id)
    assert info.supports_midcircuit_measurement
    assert info.averaged_readout_errors is not None
    assert len(info.averaged_readout_errors) == 20
    assert info.all_edge_gate_errors is not None


def test_calibration_pinning(ideal_garnet: IQMEmulator) -> None:
    default = IQMBackend(ideal_garnet.root_url, device=ideal_garnet.devices[0])
    from pytket.extensions.iqm.emulator.devices.catalogue import get_device

    older = get_device("garnet").calibrations[1].calibration_set_id
    pinned = IQMBackend(
        ideal_garnet.root_url, device=ideal_garnet.devices[0], calibration_set_id=str(older)
    )
    assert pinned.calibration_set_id == older != default.calibration_set_id
    circuit = pinned.get_compiled_circuit(Circuit(1, 1).X(0).measure_all())
    handle = pinned.process_circuit(circuit, n_shots=2)
    pinned.get_result(handle)
    assert pinned.get_metadata(handle).calibration_set_id == older


def test_unknown_calibration_set_is_a_clear_error(ideal_garnet: IQMEmulator) -> None:
    with pytest.raises(IQMDeviceError, match="has no calibration set 00000000-"):
        IQMBackend(
            ideal_garnet.root_url,
            device=ideal_garnet.devices[0],
            calibration_set_id="00000000-0000-0000-0000-000000000000",
        )


def test_arch_override_is_checked_against_the_server(ideal_garnet: IQMEmulator) -> None:
    backend = IQMBackend(
        ideal_garnet.root_url, device=ideal_garnet.devices[0], arch=[["QB1", "QB2"], ["QB2", "QB5"]]
    )
    assert isinstance(backend.backend_info.architecture, Architecture)
    assert len(backend.backend_info.architecture.coupling) == 2
    with pytest.raises(IQMDeviceError, match=r"QB1.*QB20"):
        IQMBackend(ideal_garnet.root_url, device=ideal_garnet.devices[0], arch=[["QB1", "QB20"]])


def test_no_deprecation_warning_reaches_users(ideal_garnet: IQMEmulator) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        IQMBackend(ideal_garnet.root_url, device=ideal_garnet.devices[0])
    assert [str(warning.message) for warning in caught] == []


# A bare "garnet" is not here: it is pytket-iqm 0.18's IQMBackend(device) (see test_compat).
@pytest.mark.parametrize(
    "url", ["ftp://example.com/garnet", "http://", "", "127.0.0.1:8000/garnet"]
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="url"):
        IQMBackend(url)


def test_optimisation_level_out_of_range(garnet_backend: IQMBackend) -> None:
    with pytest.raises(ValueError, match="optimisation_level must be 0, 1, 2 or 3, not 4"):
        garnet_backend.default_compilation_pass(4)


def test_unknown_keyword_is_refused(garnet_backend: IQMBackend) -> None:
    circuit = garnet_backend.get_compiled_circuit(Circuit(1, 1).measure_all())
    with pytest.raises(ValueError, match="Unknown keyword argument"):
        garnet_backend.process_circuit(circuit, n_shots=1, simplify_intial=True)


def test_bits_of_registers_other_than_c(garnet_backend: IQMBackend) -> None:
    circuit = Circuit()
    a = circuit.add_q_register("a", 2)
    out = circuit.add_c_register("result", 2)
    circuit.X(a[1]).Measure(a[0], out[0]).Measure(a[1], out[1])
    result = garnet_backend.run_circuit(garnet_backend.get_compiled_circuit(circuit), n_shots=4)
    assert result.get_counts(cbits=[Bit("result", 0), Bit("result", 1)]) == Counter({(0, 1): 4})


def test_a_handle_of_the_other_api_line_is_refused(garnet_backend: IQMBackend) -> None:
    handle = garnet_backend.process_circuit(
        garnet_backend.get_compiled_circuit(Circuit(1, 1).X(0).measure_all()), n_shots=3
    )
    ours, theirs = (
        (line, other)
        for line in ApiLine
        for other in ApiLine
        if line.value == garnet_backend.api and other is not line
    ).__next__()
    foreign = ResultHandle(
        handle[0],
        handle[1],
        str(handle[2]).replace(LAYOUT_FORMATS[ours], LAYOUT_FORMATS[theirs]),
        handle[3],
    )
    with pytest.raises(IQMHandleError) as info:
        garnet_backend.get_result(foreign)
    assert str(info.value) == (
        f"The job was submitted through {theirs.description}, but this backend uses "
        f"{ours.description}; fetch its results with pytket-iqm on the iqm-client line that "
        "submitted it"
    )
    assert garnet_backend.get_result(handle).get_counts() == Counter({(1,): 3})


@only_server_api
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://resonance.iqm.tech/garnet",
            "With iqm-client 36 (the IQM Server API) the URL is the server's root and the device "
            "is its own argument: use IQMBackend('https://resonance.iqm.tech', device='garnet') "
            "instead of IQMBackend('https://resonance.iqm.tech/garnet').",
        ),
        (
            "https://cocos.resonance.meetiqm.com/garnet",
            "'https://cocos.resonance.meetiqm.com/garnet' is a URL of IQM's obsolete CoCoS API; "
            "the installed iqm-client 36 speaks the IQM Server API: use "
            "IQMBackend('https://resonance.iqm.tech', device='garnet').",
        ),
    ],
)
def test_old_urls_get_the_new_form_before_any_request(url: str, expected: str) -> None:
    with pytest.raises(ValueError, match="IQMBackend") as info:
        IQMBackend(url, token="t")
    assert str(info.value) == expected


@only_server_api
def test_unknown_device_names_the_served_ones(ideal_garnet: IQMEmulator) -> None:
    with pytest.raises(IQMDeviceError, match="garnet"):
        IQMBackend(ideal_garnet.root_url, device="nonexistent")
