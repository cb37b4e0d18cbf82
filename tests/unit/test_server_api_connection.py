"""The IQM Server API connection's pure conversions (connection/server_api.py), with iqm-client
36.x."""

from __future__ import annotations

import math
from uuid import UUID

import pytest
from pytket.backends.status import StatusEnum
from pytket.circuit import Bit, Circuit, Node

from pytket.extensions.iqm.backends.connection.installed import installed_api_line
from pytket.extensions.iqm.backends.connection.types import ApiLine, JobState, RunOptions

if installed_api_line() is not ApiLine.SERVER_API:
    pytest.skip("needs iqm-client 36.x (the IQM Server API line)", allow_module_level=True)

from iqm.iqm_client import CircuitCompilationOptions, DynamicQuantumArchitecture
from iqm.iqm_client.models import validate_circuit
from iqm.pulse.builder import CircuitOperation
from iqm.pulse.circuit_operations import Circuit as ClientCircuit
from iqm.station_control.interface.models.circuit import (
    HeraldingMode,
    MoveGateFrameTrackingMode,
    MoveGateValidationMode,
)
from iqm.station_control.interface.models.jobs_new import JobData, JobStatus

from pytket.extensions.iqm.backends.architecture import DynamicArchitecture, GateInfo
from pytket.extensions.iqm.backends.connection.server_api import (
    RESONANCE_URL,
    _client_circuit,
    _client_options,
    _job_state,
    _server_root,
)
from pytket.extensions.iqm.backends.translation import IQMCircuit, IQMInstruction, circuit_to_iqm

JOB = "3c3fcda3-e860-46bf-92a4-bcc59fa76ce9"
CAL = UUID("26c5e70f-bea0-43af-bd37-6212ec7d04cb")

# --- server root ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "device", "root"),
    [
        ("https://host", None, "https://host"),
        ("https://host", "garnet", "https://host"),
        ("https://host:8443", "emerald", "https://host:8443"),
        (RESONANCE_URL, "garnet", "https://resonance.iqm.tech"),
        ("http://localhost:8000", None, "http://localhost:8000"),
        ("http://127.0.0.1:8000", "garnet", "http://127.0.0.1:8000"),
    ],
)
def test_server_root_accepts_roots(url: str, device: str | None, root: str) -> None:
    assert _server_root(url, device) == root


@pytest.mark.parametrize(
    ("url", "device", "message"),
    [
        (
            "https://host/garnet",
            None,
            "With iqm-client 36 (the IQM Server API) the URL is the server's root and the "
            "device is its own argument: use IQMBackend('https://host', device='garnet') "
            "instead of IQMBackend('https://host/garnet').",
        ),
        (
            "https://host:8443/garnet:timeslot",
            None,
            "With iqm-client 36 (the IQM Server API) the URL is the server's root and the "
            "device is its own argument: use IQMBackend('https://host:8443', device='garnet') "
            "instead of IQMBackend('https://host:8443/garnet:timeslot').",
        ),
        (
            "https://host/station/garnet",
            "emerald",
            "With iqm-client 36 (the IQM Server API) the URL is the server's root and the "
            "device is its own argument: use IQMBackend('https://host', device='emerald') "
            "instead of IQMBackend('https://host/station/garnet').",
        ),
        (
            "http://127.0.0.1:8000/garnet",
            None,
            "With iqm-client 36 (the IQM Server API) the URL is the server's root and the "
            "device is its own argument: use IQMBackend('http://127.0.0.1:8000', "
            "device='garnet') instead of IQMBackend('http://127.0.0.1:8000/garnet').",
        ),
    ],
    ids=["device-url", "timeslot", "named-device", "emulator-device-url"],
)
def test_server_root_refuses_a_path_and_shows_the_call(
    url: str, device: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match="the URL is the server's root") as info:
        _server_root(url, device)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("url", "device", "message"),
    [
        (
            "https://cocos.resonance.meetiqm.com/garnet",
            None,
            "'https://cocos.resonance.meetiqm.com/garnet' is a URL of IQM's obsolete CoCoS "
            "API; the installed iqm-client 36 speaks the IQM Server API: use "
            "IQMBackend('https://resonance.iqm.tech', device='garnet').",
        ),
        (
            "https://cocos.resonance.meetiqm.com/emerald:timeslot",
            None,
            "'https://cocos.resonance.meetiqm.com/emerald:timeslot' is a URL of IQM's obsolete "
            "CoCoS API; the installed iqm-client 36 speaks the IQM Server API: use "
            "IQMBackend('https://resonance.iqm.tech', device='emerald').",
        ),
        (
            "https://cocos.qc.example.org:8443/deneb",
            None,
            "'https://cocos.qc.example.org:8443/deneb' is a URL of IQM's obsolete CoCoS API; "
            "the installed iqm-client 36 speaks the IQM Server API: use "
            "IQMBackend('https://qc.example.org:8443', device='deneb').",
        ),
    ],
    ids=["resonance", "resonance-timeslot", "on-premises"],
)
def test_server_root_refuses_cocos_hosts(url: str, device: str | None, message: str) -> None:
    with pytest.raises(ValueError, match="obsolete CoCoS API") as info:
        _server_root(url, device)
    assert str(info.value) == message


def test_server_root_refuses_http_to_a_remote_host() -> None:
    with pytest.raises(ValueError, match="only to localhost") as info:
        _server_root("http://qc.example.org", "garnet")
    assert str(info.value) == (
        "iqm-client 36 sends plain http requests only to localhost and 127.0.0.1; use "
        "'https://qc.example.org' instead of 'http://qc.example.org'."
    )


def test_server_root_refuses_ipv6_loopback_over_http_with_the_local_form() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1") as info:
        _server_root("http://[::1]:8000", None)
    assert str(info.value).endswith("(for this machine, use http://127.0.0.1:<port>).")


def test_server_root_refuses_a_query() -> None:
    with pytest.raises(ValueError, match="query or fragment"):
        _server_root("https://resonance.iqm.tech?x=1", "garnet")


# --- circuits and options -------------------------------------------------------------------------


def test_client_circuit_turns_to_radians_locus_and_keys_kept() -> None:
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
    client = _client_circuit(circuit)
    assert client == ClientCircuit(
        name="c",
        instructions=(
            CircuitOperation("prx", ("QB1",), {"angle": math.pi / 2, "phase": 3 * math.pi / 2}),
            CircuitOperation("cz", ("QB1", "QB2"), {}),
            CircuitOperation("measure", ("QB1",), {"key": "c[0]"}),
            CircuitOperation(
                "cc_prx",
                ("QB2",),
                {
                    "angle": math.pi,
                    "phase": math.pi / 4,
                    "feedback_key": "c[0]",
                    "feedback_qubit": "QB1",
                },
            ),
            CircuitOperation("move", ("QB3", "CR1"), {}),
            CircuitOperation("reset", ("QB1", "QB2"), {}),
            CircuitOperation("barrier", ("QB1", "QB2"), {}),
        ),
    )
    # iqm-client's own check of operation names, arities and argument names.
    validate_circuit(client)


def test_translated_circuit_passes_iqm_client_validation() -> None:
    circuit = Circuit()
    for index in range(3):
        circuit.add_qubit(Node(index))
    circuit.add_c_register("c", 2)
    circuit.PhasedX(0.5, -0.5, Node(0)).CZ(Node(0), Node(1)).Measure(Node(0), Bit(0))
    circuit.X(Node(2), condition_bits=[Bit(0)], condition_value=1)
    circuit.Reset(Node(0))
    circuit.add_barrier([Node(0), Node(1)])
    circuit.Measure(Node(1), Bit(1))
    neutral, _ = circuit_to_iqm(circuit, "feedback")
    client = _client_circuit(neutral)
    validate_circuit(client)
    assert [(op.name, op.locus) for op in client.instructions] == [
        (op.name, op.locus) for op in neutral.instructions
    ]
    assert [op.args.get("key") for op in client.instructions if op.name == "measure"] == [
        "c[0]",
        "c[1]",
    ]
    feedback = [op for op in client.instructions if op.name == "cc_prx"]
    assert [(op.args["feedback_key"], op.args["feedback_qubit"]) for op in feedback] == [
        ("c[0]", "QB1")
    ]
    assert all("angle_t" not in op.args and "phase_t" not in op.args for op in client.instructions)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            RunOptions(),
            {
                "max_circuit_duration_over_t2": None,
                "heralding_mode": "none",
                "move_gate_validation": "strict",
                "move_gate_frame_tracking": "full",
            },
        ),
        (
            RunOptions(
                max_circuit_duration_over_t2=0.0,
                heralding_mode="zeros",
                move_validation_mode="none",
                move_gate_frame_tracking_mode="no_detuning_correction",
            ),
            {
                "max_circuit_duration_over_t2": 0.0,
                "heralding_mode": "zeros",
                "move_gate_validation": "none",
                "move_gate_frame_tracking": "no_detuning_correction",
            },
        ),
        (
            RunOptions(
                max_circuit_duration_over_t2=2.5,
                move_validation_mode="allow_prx",
                move_gate_frame_tracking_mode="none",
            ),
            {
                "max_circuit_duration_over_t2": 2.5,
                "heralding_mode": "none",
                "move_gate_validation": "allow_prx",
                "move_gate_frame_tracking": "none",
            },
        ),
    ],
    ids=["defaults", "zeros-none", "allow-prx"],
)
def test_client_options(options: RunOptions, expected: dict[str, object]) -> None:
    assert _client_options(options) == CircuitCompilationOptions(
        max_circuit_duration_over_t2=expected["max_circuit_duration_over_t2"],  # type: ignore[arg-type]
        heralding_mode=HeraldingMode(expected["heralding_mode"]),
        move_gate_validation=MoveGateValidationMode(expected["move_gate_validation"]),
        move_gate_frame_tracking=MoveGateFrameTrackingMode(expected["move_gate_frame_tracking"]),
    )


# --- job states -----------------------------------------------------------------------------------

STATES = {
    "waiting": StatusEnum.QUEUED,
    "processing": StatusEnum.RUNNING,
    "completed": StatusEnum.COMPLETED,
    "failed": StatusEnum.ERROR,
    "cancelled": StatusEnum.CANCELLED,
}


def _job_data(status: str, errors: list[dict[str, str]] | None = None) -> JobData:
    return JobData.model_validate(
        {"id": JOB, "type": "circuit", "status": status, "errors": errors or []}
    )


def test_every_job_status_is_mapped() -> None:
    assert {status.value for status in JobStatus} == set(STATES)


@pytest.mark.parametrize(("server_status", "status"), STATES.items())
def test_job_state_of_each_status(server_status: str, status: StatusEnum) -> None:
    state = _job_state(_job_data(server_status))
    assert state == JobState(status=status, server_status=server_status, message=None)
    assert state.terminal is (server_status in ("completed", "failed", "cancelled"))


def test_job_state_of_a_failed_job_carries_every_error_message() -> None:
    errors = [
        {"message": "Circuit 0 is too long for T2", "error_code": "duration"},
        {"message": "Calibration expired", "source": "station-control"},
    ]
    assert _job_state(_job_data("failed", errors)) == JobState(
        status=StatusEnum.ERROR,
        server_status="failed",
        message="Circuit 0 is too long for T2; Calibration expired",
    )


# --- architecture ---------------------------------------------------------------------------------


def test_dqa_of_server_api_reads_as_the_neutral_architecture() -> None:
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
