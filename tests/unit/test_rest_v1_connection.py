"""The iqm-client 22.x connection's pure conversions (connection/rest_v1.py)."""

from __future__ import annotations

from uuid import UUID

import pytest
from pytket.backends.status import StatusEnum

from pytket.extensions.iqm.backends.connection.installed import installed_api_line
from pytket.extensions.iqm.backends.connection.types import ApiLine, JobState, RunOptions

if installed_api_line() is not ApiLine.REST_V1:
    pytest.skip("needs iqm-client 22.x", allow_module_level=True)

from iqm.iqm_client import (
    Circuit,
    CircuitCompilationOptions,
    DynamicQuantumArchitecture,
    HeraldingMode,
    Instruction,
    MoveGateFrameTrackingMode,
    MoveGateValidationMode,
    Status,
)

from pytket.extensions.iqm.backends.architecture import DynamicArchitecture, GateInfo
from pytket.extensions.iqm.backends.connection.rest_v1 import (
    _client_circuit,
    _client_options,
    _device_name,
    _device_url,
    _job_state,
)
from pytket.extensions.iqm.backends.translation import IQMCircuit, IQMInstruction
from pytket.extensions.iqm.errors import IQMTranslationError

CAL = UUID("26c5e70f-bea0-43af-bd37-6212ec7d04cb")

# --- device URL and name --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "device", "device_url"),
    [
        ("https://host/garnet", None, "https://host/garnet"),
        ("https://host", "garnet", "https://host/garnet"),
        ("http://127.0.0.1:8000", "deneb", "http://127.0.0.1:8000/deneb"),
        ("https://host/station/garnet", "garnet", "https://host/station/garnet"),
        ("https://host/garnet:timeslot", "garnet", "https://host/garnet:timeslot"),
        ("https://host", None, "https://host"),
    ],
)
def test_device_url(url: str, device: str | None, device_url: str) -> None:
    assert _device_url(url, device) == device_url


def test_device_url_refuses_two_different_devices() -> None:
    with pytest.raises(ValueError, match="already names a device") as info:
        _device_url("https://host/garnet", "emerald")
    assert str(info.value) == (
        "url 'https://host/garnet' already names a device ('garnet') and device='emerald' "
        "names another; give either the device URL, or the server root and device=."
    )


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://host/garnet", "garnet"),
        ("https://host/station/emerald:timeslot", "emerald"),
        ("http://127.0.0.1:8000/deneb/", "deneb"),
        ("https://qc.example.org", "qc.example.org"),
        ("https://qc.example.org:8443/", "qc.example.org"),
    ],
)
def test_device_name(url: str, name: str) -> None:
    assert _device_name(url) == name


# --- circuits and options -------------------------------------------------------------------------


def test_client_circuit_keeps_turns_and_uses_qubits_for_the_locus() -> None:
    circuit = IQMCircuit(
        name="c",
        instructions=(
            IQMInstruction("prx", ("QB1",), {"angle_t": 0.25, "phase_t": 0.75}),
            IQMInstruction("cz", ("QB1", "QB2"), {}),
            IQMInstruction("measure", ("QB1",), {"key": "c[0]"}),
            IQMInstruction(
                "cc_prx",
                ("QB2",),
                {"angle_t": 0.5, "phase_t": 0.125, "feedback_key": "c[0]", "feedback_qubit": "QB1"},
            ),
            IQMInstruction("move", ("QB3", "CR1"), {}),
            IQMInstruction("reset", ("QB1", "QB2"), {}),
            IQMInstruction("barrier", ("QB1", "QB2"), {}),
        ),
    )
    assert _client_circuit(circuit) == Circuit(
        name="c",
        instructions=(
            Instruction(name="prx", qubits=("QB1",), args={"angle_t": 0.25, "phase_t": 0.75}),
            Instruction(name="cz", qubits=("QB1", "QB2"), args={}),
            Instruction(name="measure", qubits=("QB1",), args={"key": "c[0]"}),
            Instruction(
                name="cc_prx",
                qubits=("QB2",),
                args={
                    "angle_t": 0.5,
                    "phase_t": 0.125,
                    "feedback_key": "c[0]",
                    "feedback_qubit": "QB1",
                },
            ),
            Instruction(name="move", qubits=("QB3", "CR1"), args={}),
            Instruction(name="reset", qubits=("QB1", "QB2"), args={}),
            Instruction(name="barrier", qubits=("QB1", "QB2"), args={}),
        ),
        metadata=None,
    )


@pytest.mark.parametrize(
    ("instruction", "details"),
    [
        (IQMInstruction("bogus", ("QB1",), {}), ('Unknown operation "bogus"',)),
        (
            IQMInstruction("prx", ("QB1",), {"angle_t": 0.1}),
            # iqm-client lists the required arguments in set order.
            ('The operation "prx" requires (', "argument(s), but ('angle_t',) were given"),
        ),
    ],
    ids=["unknown", "missing-argument"],
)
def test_client_circuit_refusal_is_a_translation_error(
    instruction: IQMInstruction, details: tuple[str, ...]
) -> None:
    with pytest.raises(IQMTranslationError) as info:
        _client_circuit(IQMCircuit(name="bad", instructions=(instruction,)))
    message = str(info.value)
    assert message.startswith("Circuit 'bad' has an instruction iqm-client refuses (")
    assert all(detail in message for detail in details)
    assert "errors.pydantic.dev" not in message  # one line, not pydantic's whole report


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            RunOptions(),
            CircuitCompilationOptions(
                max_circuit_duration_over_t2=None,
                heralding_mode=HeraldingMode.NONE,
                move_gate_validation=MoveGateValidationMode.STRICT,
                move_gate_frame_tracking=MoveGateFrameTrackingMode.FULL,
            ),
        ),
        (
            RunOptions(
                max_circuit_duration_over_t2=0.0,
                heralding_mode="zeros",
                move_validation_mode="none",
                move_gate_frame_tracking_mode="no_detuning_correction",
            ),
            CircuitCompilationOptions(
                max_circuit_duration_over_t2=0.0,
                heralding_mode=HeraldingMode.ZEROS,
                move_gate_validation=MoveGateValidationMode.NONE,
                move_gate_frame_tracking=MoveGateFrameTrackingMode.NO_DETUNING_CORRECTION,
            ),
        ),
        (
            RunOptions(
                max_circuit_duration_over_t2=2.5,
                move_validation_mode="allow_prx",
                move_gate_frame_tracking_mode="none",
            ),
            CircuitCompilationOptions(
                max_circuit_duration_over_t2=2.5,
                heralding_mode=HeraldingMode.NONE,
                move_gate_validation=MoveGateValidationMode.ALLOW_PRX,
                move_gate_frame_tracking=MoveGateFrameTrackingMode.NONE,
            ),
        ),
    ],
    ids=["defaults", "zeros-none", "allow-prx"],
)
def test_client_options(options: RunOptions, expected: CircuitCompilationOptions) -> None:
    assert _client_options(options) == expected


# --- job states -----------------------------------------------------------------------------------

STATES = {
    "received": StatusEnum.SUBMITTED,
    "accepted": StatusEnum.SUBMITTED,
    "processing": StatusEnum.SUBMITTED,
    "pending compilation": StatusEnum.QUEUED,
    "compiled": StatusEnum.QUEUED,
    "pending execution": StatusEnum.QUEUED,
    "ready": StatusEnum.COMPLETED,
    "failed": StatusEnum.ERROR,
    "aborted": StatusEnum.CANCELLED,
    "pending deletion": StatusEnum.ERROR,
    "deletion failed": StatusEnum.ERROR,
    "deleted": StatusEnum.ERROR,
    "unknown": StatusEnum.SUBMITTED,
}


def test_every_status_is_mapped() -> None:
    assert {status.value for status in Status} == set(STATES)


@pytest.mark.parametrize(("server_status", "status"), STATES.items())
def test_job_state_of_each_status(server_status: str, status: StatusEnum) -> None:
    assert _job_state(Status(server_status), None) == JobState(
        status=status, server_status=server_status, message=None
    )


def test_job_state_keeps_the_server_message() -> None:
    state = _job_state(Status.FAILED, "Circuit 0 is too long for T2")
    assert state == JobState(
        status=StatusEnum.ERROR, server_status="failed", message="Circuit 0 is too long for T2"
    )
    assert state.terminal


# --- architecture ---------------------------------------------------------------------------------


def test_dqa_of_rest_v1_reads_as_the_neutral_architecture() -> None:
    # What dynamic_architecture does with the server's answer: dump iqm-client's model to JSON.
    model = DynamicQuantumArchitecture(
        calibration_set_id=CAL,
        qubits=["QB1", "QB2"],
        computational_resonators=["CR1"],
        gates={
            "cz": {
                "implementations": {"tgss": {"loci": [["QB1", "CR1"], ["QB2", "CR1"]]}},
                "default_implementation": "tgss",
                "override_default_implementation": {("QB2", "CR1"): "crf"},
            }
        },
    )
    assert DynamicArchitecture.from_json(model.model_dump(mode="json")) == DynamicArchitecture(
        calibration_set_id=CAL,
        qubits=("QB1", "QB2"),
        computational_resonators=("CR1",),
        gates={
            "cz": GateInfo(
                implementations={"tgss": (("QB1", "CR1"), ("QB2", "CR1"))},
                default_implementation="tgss",
                override_default_implementation={("QB2", "CR1"): "crf"},
            )
        },
    )
