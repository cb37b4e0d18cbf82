"""Server-side job validation: the job is accepted (201) and then fails with a precise message,
as on a real server. Unit tests of the checks, and failures seen through the real IQMClient."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from iqm_client_line import require_iqm_client_22

require_iqm_client_22()

from iqm.iqm_client import (  # noqa: E402
    Circuit,
    CircuitExecutionError,
    Instruction,
    IQMClient,
    MoveGateValidationMode,
    RunRequest,
    Status,
)

from pytket.extensions.iqm.emulator import IQMEmulator  # noqa: E402
from pytket.extensions.iqm.emulator.devices.catalogue import get_device  # noqa: E402
from pytket.extensions.iqm.emulator.http.rest_v1.models import RunRequest as WireRunRequest  # noqa: E402
from pytket.extensions.iqm.emulator.http.rest_v1.wire import circuits_from_request  # noqa: E402
from pytket.extensions.iqm.emulator.jobs.validation import (  # noqa: E402
    JobValidationError,
    circuit_duration,
    validate_circuits,
)
from pytket.extensions.iqm.emulator.simulation.program import CircuitSpec, Operation  # noqa: E402

ClientFactory = Callable[..., IQMClient]
GARNET = get_device("garnet").default_calibration
DENEB = get_device("deneb").default_calibration
ADONIS = get_device("adonis").default_calibration


def instruction(**fields: Any) -> Instruction:
    return Instruction.model_validate(fields)


def spec(*ops: Operation, name: str = "c") -> list[CircuitSpec]:
    return [CircuitSpec(name, ops)]


def op(name: str, *qubits: str, **kwargs: Any) -> Operation:
    return Operation(name, qubits, **kwargs)


def fails(message: str, circuits: list[CircuitSpec], cal: Any = GARNET, **kwargs: Any) -> None:
    with pytest.raises(JobValidationError) as info:
        validate_circuits(circuits, cal, **kwargs)
    assert str(info.value) == message


# --- loci ----------------------------------------------------------------------------------------


def test_valid_circuit_passes_and_cz_either_order() -> None:
    validate_circuits(
        spec(
            op("prx", "QB1"),
            op("cz", "QB2", "QB1"),
            op("cz", "QB1", "QB2"),
            op("measure", "QB1", "QB2", key="m"),
        ),
        GARNET,
    )


def test_unknown_component() -> None:
    fails(
        "Circuit 'c' (index 0): prx acts on 'QB99', which is not a component of the device.",
        spec(op("prx", "QB99")),
    )


def test_uncalibrated_cz_locus() -> None:
    fails(
        "Circuit 'c' (index 0): cz is not calibrated on (QB1, QB3).", spec(op("cz", "QB1", "QB3"))
    )


def test_measure_needs_qubits() -> None:
    fails(
        "Circuit 'c' (index 0): measure is not calibrated on 'CR1'.",
        spec(op("measure", "QB1", "CR1", key="m")),
        DENEB,
    )


def test_move_locus_is_ordered_qubit_resonator() -> None:
    validate_circuits(spec(op("move", "QB3", "CR1"), op("move", "QB3", "CR1")), DENEB)
    fails(
        "Circuit 'c' (index 0): move is not calibrated on (CR1, QB3); MOVE loci are (qubit, "
        "resonator): " + ", ".join(f"({q}, {r})" for q, r in DENEB.move_loci) + ".",
        spec(op("move", "CR1", "QB3")),
        DENEB,
    )


def test_second_circuit_is_named() -> None:
    circuits = [*spec(op("prx", "QB1"), name="ok"), *spec(op("cz", "QB1", "QB20"), name="far")]
    fails("Circuit 'far' (index 1): cz is not calibrated on (QB1, QB20).", circuits)


# --- keys and feedback ---------------------------------------------------------------------------


def test_duplicate_measurement_key() -> None:
    fails(
        "Circuit 'c' (index 0): measurement key 'm' is used more than once.",
        spec(op("measure", "QB1", key="m"), op("measure", "QB2", key="m")),
    )


def test_duplicate_feedback_key() -> None:
    fails(
        "Circuit 'c' (index 0): feedback key 'f' is used more than once.",
        spec(
            op("measure", "QB1", key="a", feedback_key="f"),
            op("measure", "QB2", key="b", feedback_key="f"),
        ),
    )


def test_cc_prx_needs_an_earlier_measure_with_that_feedback_key_on_that_qubit() -> None:
    cc = op("cc_prx", "QB2", angle=math.pi, feedback_key="f", feedback_qubit="QB1")
    good = spec(op("measure", "QB1", key="a", feedback_key="f"), cc)
    validate_circuits(good, GARNET)
    message = (
        "Circuit 'c' (index 0): cc_prx on 'QB2' is conditioned on feedback key 'f' of qubit "
        "'QB1', but no earlier measure of 'QB1' has that feedback_key."
    )
    fails(message, spec(cc, op("measure", "QB1", key="a", feedback_key="f")))  # later
    fails(message, spec(op("measure", "QB1", key="a"), cc))  # no feedback_key
    fails(message, spec(op("measure", "QB3", key="a", feedback_key="f"), cc))  # other qubit
    fails(message, spec(op("measure", "QB1", key="a", feedback_key="g"), cc))  # other key


def test_feedback_operations_need_feedback_support() -> None:
    fails(
        "Circuit 'c' (index 0): reset needs real-time feedback, which this device's calibration "
        "does not support.",
        spec(op("reset", "QB1")),
        ADONIS,
    )
    fails(
        "Circuit 'c' (index 0): cc_prx needs real-time feedback, which this device's calibration "
        "does not support.",
        spec(
            op("measure", "QB1", key="a", feedback_key="f"),
            op("cc_prx", "QB2", feedback_key="f", feedback_qubit="QB1"),
        ),
        ADONIS,
    )
    validate_circuits(spec(op("reset", "QB1"), op("barrier", "QB1", "QB2")), GARNET)


# --- MOVE sandwiches -----------------------------------------------------------------------------


def test_strict_move_sandwich_rules() -> None:
    inside_prx = spec(op("move", "QB3", "CR1"), op("prx", "QB3"), op("move", "QB3", "CR1"))
    fails(
        "Circuit 'c' (index 0): prx acts on QB3 while its state is moved to a resonator "
        "(move_validation_mode='strict' allows only barrier inside a MOVE sandwich).",
        inside_prx,
        DENEB,
    )
    validate_circuits(inside_prx, DENEB, move_validation_mode="allow_prx")
    validate_circuits(inside_prx, DENEB, move_validation_mode="none")
    with_barrier = spec(
        op("move", "QB3", "CR1"), op("barrier", "QB3", "CR1"), op("move", "QB3", "CR1")
    )
    validate_circuits(with_barrier, DENEB)
    # Gates on other qubits and on the resonator are fine inside the sandwich.
    validate_circuits(
        spec(
            op("move", "QB3", "CR1"),
            op("cz", "QB1", "CR1"),
            op("prx", "QB1"),
            op("move", "QB3", "CR1"),
        ),
        DENEB,
    )


def test_allow_prx_still_refuses_other_gates_on_moved_qubit() -> None:
    fails(
        "Circuit 'c' (index 0): measure acts on QB3 while its state is moved to a resonator "
        "(move_validation_mode='allow_prx' allows only barrier and prx inside a MOVE sandwich).",
        spec(op("move", "QB3", "CR1"), op("measure", "QB3", key="m"), op("move", "QB3", "CR1")),
        DENEB,
        move_validation_mode="allow_prx",
    )


def test_resonator_occupancy() -> None:
    fails(
        "Circuit 'c' (index 0): move (QB1, CR1): 'CR1' already holds the state of 'QB3'.",
        spec(op("move", "QB3", "CR1"), op("move", "QB1", "CR1")),
        DENEB,
    )


def test_unclosed_sandwich_fails() -> None:
    fails(
        "Circuit 'c' (index 0): the circuit ends inside a MOVE sandwich (QB3 in CR1); move the "
        "state back before the circuit ends.",
        spec(op("prx", "QB3"), op("move", "QB3", "CR1")),
        DENEB,
    )
    validate_circuits(spec(op("move", "QB3", "CR1")), DENEB, move_validation_mode="none")


def test_unknown_move_validation_mode() -> None:
    with pytest.raises(ValueError, match="Unknown move_validation_mode 'loose'"):
        validate_circuits(spec(op("prx", "QB1")), GARNET, move_validation_mode="loose")


# --- duration / T2 -------------------------------------------------------------------------------


def test_duration_is_asap_schedule_length() -> None:
    d = GARNET.durations
    # QB1: prx, then cz with QB2 (QB2 idle until then), then measure both.
    estimate = circuit_duration(
        CircuitSpec(
            "c", (op("prx", "QB1"), op("cz", "QB1", "QB2"), op("measure", "QB1", "QB2", key="m"))
        ),
        GARNET,
    )
    assert estimate.duration == pytest.approx(d["prx"] + d["cz"] + d["measure"])
    assert estimate.min_t2 == min(GARNET.t2["QB1"], GARNET.t2["QB2"])
    # Parallel prx on different qubits overlap; a barrier aligns them; delay adds its duration.
    parallel = circuit_duration(
        CircuitSpec(
            "p",
            (
                op("prx", "QB1"),
                op("prx", "QB2"),
                op("prx", "QB2"),
                op("barrier", "QB1", "QB2"),
                op("delay", "QB1", duration=1e-6),
                op("prx", "QB2"),
            ),
        ),
        GARNET,
    )
    assert parallel.duration == pytest.approx(max(2 * d["prx"] + 1e-6, 3 * d["prx"]))


def test_cc_prx_waits_for_its_measurement() -> None:
    d = GARNET.durations
    estimate = circuit_duration(
        CircuitSpec(
            "f",
            (
                op("measure", "QB1", key="a", feedback_key="f"),
                op("cc_prx", "QB2", feedback_key="f", feedback_qubit="QB1"),
            ),
        ),
        GARNET,
    )
    assert estimate.duration == pytest.approx(d["measure"] + d["cc_prx"])


def test_duration_over_t2_limit() -> None:
    t2 = GARNET.t2["QB1"]
    long = spec(op("delay", "QB1", duration=2 * t2), op("measure", "QB1", key="m"), name="slow")
    total = 2 * t2 + GARNET.durations["measure"]
    fails(
        f"Circuit 'slow' (index 0) lasts {total * 1e6:.3f} µs, {total / t2:.3g} times the shortest "
        f"T2 of its components ({t2 * 1e6:.3f} µs, QB1); the limit "
        "max_circuit_duration_over_t2 is 1.",
        long,
        max_duration_over_t2=1.0,
    )
    validate_circuits(long, GARNET, max_duration_over_t2=0.0)  # disabled
    validate_circuits(long, GARNET, max_duration_over_t2=3.0)


# --- wire conversion -----------------------------------------------------------------------------


def _request(
    *instructions: Instruction, mapping: dict[str, str] | None = None, **kw: Any
) -> WireRunRequest:
    """The request as iqm-client builds it, read back as the emulator reads it off the wire."""
    circuit = Circuit.model_validate({"name": "w", "instructions": instructions})
    qubit_mapping = (
        [{"logical_name": k, "physical_name": v} for k, v in mapping.items()]
        if mapping is not None
        else None
    )
    sent = RunRequest.model_validate(
        {"circuits": [circuit], "shots": 1, "qubit_mapping": qubit_mapping, **kw}
    )
    return WireRunRequest.model_validate_json(sent.model_dump_json())


def test_turns_become_radians_and_mapping_applies(native: SimpleNamespace) -> None:
    request = _request(
        native.prx("a", 0.25, -0.5),
        native.measure("a", key="m", feedback_key="f"),
        instruction(
            name="cc_prx",
            qubits=("b",),
            args={"angle_t": 0.5, "phase_t": 0.0, "feedback_key": "f", "feedback_qubit": "a"},
        ),
        instruction(name="delay", qubits=("a",), args={"duration": 1e-7}),
        mapping={"a": "QB4", "b": "QB5"},
    )
    [circuit] = circuits_from_request(request, GARNET.components)
    assert circuit.operations == (
        Operation("prx", ("QB4",), angle=math.pi / 2, phase=-math.pi),
        Operation("measure", ("QB4",), key="m", feedback_key="f"),
        Operation(
            "cc_prx", ("QB5",), angle=math.pi, phase=0.0, feedback_key="f", feedback_qubit="QB4"
        ),
        Operation("delay", ("QB4",), duration=1e-7),
    )


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {"a": "QB99"},
            "qubit_mapping maps 'a' to 'QB99', which is not a component of this device",
        ),
        (
            {"a": "QB1", "b": "QB1"},
            "qubit_mapping maps both 'a' and 'b' to 'QB1'; the mapping must be injective.",
        ),
        ({"b": "QB1"}, "Circuit 'w' (index 0) uses qubit 'a', which is not in the qubit_mapping."),
    ],
)
def test_bad_qubit_mappings(native: SimpleNamespace, mapping: dict[str, str], message: str) -> None:
    with pytest.raises(JobValidationError) as info:
        circuits_from_request(_request(native.prx("a", 0.5, 0), mapping=mapping), GARNET.components)
    assert str(info.value).startswith(message)


def test_unknown_implementation(native: SimpleNamespace) -> None:
    prx_crf = instruction(
        name="prx",
        implementation="drag_crf",
        qubits=("QB1",),
        args={"angle_t": 0.5, "phase_t": 0.0},
    )
    with pytest.raises(
        JobValidationError,
        match="prx implementation 'drag_crf' is not calibrated; available: drag_gaussian",
    ):
        circuits_from_request(_request(prx_crf), GARNET.components, {"prx": {"drag_gaussian"}})
    barrier = instruction(name="barrier", implementation="any", qubits=("QB1",), args={})
    circuits_from_request(_request(barrier), GARNET.components, {"prx": {"drag_gaussian"}})


# --- through the real client ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[IQMEmulator]:
    with IQMEmulator(["garnet", "deneb", "adonis"], noise=False, stage_delay=0) as emu:
        yield emu


def _fails_on_server(client: IQMClient, request: RunRequest, message: str) -> None:
    job_id = client.submit_run_request(request)  # accepted: 201
    with pytest.raises(CircuitExecutionError) as info:
        client.wait_for_results(job_id)
    assert str(info.value) == message
    status = client.get_run_status(job_id)
    assert status.status == Status.FAILED
    assert status.message == message


def test_server_fails_uncalibrated_locus(
    server: IQMEmulator, client_for: ClientFactory, native: SimpleNamespace
) -> None:
    client = client_for(server.url_for("garnet"))
    _fails_on_server(
        client,
        native.run_request(circuits=[native.bell("QB1", "QB3")], shots=1),
        "Circuit 'bell' (index 0): cz is not calibrated on (QB1, QB3).",
    )


def test_server_fails_unknown_physical_qubit(
    server: IQMEmulator, client_for: ClientFactory, native: SimpleNamespace
) -> None:
    client = client_for(server.url_for("adonis"))
    request = _request(native.prx("a", 0.5, 0), mapping={"a": "QB6"})
    with pytest.raises(JobValidationError):
        circuits_from_request(request, ADONIS.components)
    _fails_on_server(
        client,
        request,
        "qubit_mapping maps 'a' to 'QB6', which is not a component of this device "
        "(components: QB1, QB2, QB3, QB4, QB5).",
    )


def test_server_fails_feedback_on_adonis(
    server: IQMEmulator, client_for: ClientFactory, native: SimpleNamespace
) -> None:
    client = client_for(server.url_for("adonis"))
    request = _request(
        instruction(name="reset", qubits=("QB1",), args={}), native.measure("QB1", key="m")
    )
    _fails_on_server(
        client,
        request,
        "Circuit 'w' (index 0): reset needs real-time feedback, which this device's calibration "
        "does not support.",
    )


def test_server_fails_cc_prx_without_earlier_feedback(
    server: IQMEmulator, client_for: ClientFactory
) -> None:
    client = client_for(server.url_for("garnet"))
    cc = instruction(
        name="cc_prx",
        qubits=("QB2",),
        args={"angle_t": 0.5, "phase_t": 0.0, "feedback_key": "f", "feedback_qubit": "QB1"},
    )
    late = instruction(name="measure", qubits=("QB1",), args={"key": "a", "feedback_key": "f"})
    _fails_on_server(
        client,
        _request(cc, late),
        "Circuit 'w' (index 0): cc_prx on 'QB2' is conditioned on feedback key 'f' of qubit "
        "'QB1', but no earlier measure of 'QB1' has that feedback_key.",
    )


def test_server_feedback_circuit_runs(
    server: IQMEmulator, client_for: ClientFactory, native: SimpleNamespace
) -> None:
    client = client_for(server.url_for("garnet"))
    cc = instruction(
        name="cc_prx",
        qubits=("QB2",),
        args={"angle_t": 0.5, "phase_t": 0.0, "feedback_key": "f", "feedback_qubit": "QB1"},
    )
    request = _request(
        native.prx("QB1", 0.5, 0.0),
        native.measure("QB1", key="a", feedback_key="f"),
        cc,
        native.measure("QB2", key="b"),
    )
    result = client.wait_for_results(client.submit_run_request(request))
    assert result.measurements == [{"a": [[1]], "b": [[1]]}]


def test_server_default_duration_limit_and_request_override(
    server: IQMEmulator, client_for: ClientFactory, native: SimpleNamespace
) -> None:
    client = client_for(server.url_for("garnet"))
    t2 = GARNET.t2["QB1"]
    delay = instruction(name="delay", qubits=("QB1",), args={"duration": 1.5 * t2})
    total = 1.5 * t2 + GARNET.durations["measure"]
    _fails_on_server(
        client,
        _request(delay, native.measure("QB1", key="m")),  # no ratio given: server default 1.0
        f"Circuit 'w' (index 0) lasts {total * 1e6:.3f} µs, {total / t2:.3g} times the shortest "
        f"T2 of its components ({t2 * 1e6:.3f} µs, QB1); the limit "
        "max_circuit_duration_over_t2 is 1.",
    )
    for ratio in (0.0, 5.0):
        request = _request(
            delay, native.measure("QB1", key="m"), max_circuit_duration_over_t2=ratio
        )
        assert client.wait_for_results(client.submit_run_request(request)).status == Status.READY


def test_server_move_validation_modes(
    server: IQMEmulator, client_for: ClientFactory, native: SimpleNamespace
) -> None:
    client = client_for(server.url_for("deneb"))
    move = instruction(name="move", qubits=("QB3", "CR1"), args={})
    sandwich = (
        native.prx("QB3", 0.5, 0.0),
        move,
        native.prx("QB3", 0.5, 0.0),
        move,
        native.measure("QB3", key="m"),
    )
    _fails_on_server(
        client,
        _request(*sandwich),
        "Circuit 'w' (index 0): prx acts on QB3 while its state is moved to a resonator "
        "(move_validation_mode='strict' allows only barrier inside a MOVE sandwich).",
    )
    allowed = _request(*sandwich, move_validation_mode=MoveGateValidationMode.ALLOW_PRX)
    result = client.wait_for_results(client.submit_run_request(allowed))
    assert result.status == Status.READY
    _fails_on_server(
        client,
        _request(native.prx("QB3", 0.5, 0.0), move),
        "Circuit 'w' (index 0): the circuit ends inside a MOVE sandwich (QB3 in CR1); move the "
        "state back before the circuit ends.",
    )
