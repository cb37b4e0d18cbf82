"""The IQM Server API route set (``/api/v1``, iqm-client 33+) of the emulator.

Raw HTTP tests (httpx) run whichever iqm-client is installed; the tests at the end drive the
real iqm-client 36 and are skipped under another line.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from iqm_client_line import IQM_CLIENT_36, REASON_36

from pytket.extensions.iqm.emulator import IQMEmulator
from pytket.extensions.iqm.emulator.devices.catalogue import get_device

TOKEN = "server-api-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GARNET = get_device("garnet")
DENEB = get_device("deneb")
GARNET_CAL = GARNET.default_calibration.calibration_set_id
SERVER_ERROR_KEYS = ["message", "error_code", "source"]
TIMELINE = [
    "created",
    "compilation_started",
    "compilation_ended",
    "execution_started",
    "execution_ended",
]


@pytest.fixture(scope="module")
def emulator() -> Iterator[IQMEmulator]:
    """Ideal Garnet and Deneb with a token, small limits and at most 3 simulated qubits."""
    with IQMEmulator(
        ["garnet", "deneb"],
        noise=False,
        seed=5,
        token=TOKEN,
        max_shots=1000,
        max_circuits=3,
        max_active_qubits=3,
        workers=2,
    ) as emu:
        yield emu


@pytest.fixture(scope="module")
def http(emulator: IQMEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{emulator.root_url}/api/v1", headers=AUTH, timeout=10) as c:
        yield c


def op(name: str, *locus: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "locus": list(locus), "args": args, "implementation": None}


def x_circuit(qubit: str = "QB1", key: str = "m", name: str = "x") -> dict[str, Any]:
    """|1> on ``qubit`` (PRX(π, 0), radians), measured."""
    return {
        "name": name,
        "instructions": [op("prx", qubit, angle=math.pi, phase=0.0), op("measure", qubit, key=key)],
        "metadata": None,
    }


def bell_circuit() -> dict[str, Any]:
    """(|00> + |11>)/√2 on QB1, QB2, measured under one key."""
    return {
        "name": "bell",
        "instructions": [
            op("prx", "QB1", angle=math.pi / 2, phase=math.pi / 2),
            op("prx", "QB2", angle=-math.pi / 2, phase=math.pi / 2),
            op("cz", "QB1", "QB2"),
            op("prx", "QB2", angle=math.pi / 2, phase=math.pi / 2),
            op("measure", "QB1", "QB2", key="m"),
        ],
    }


def definition(*circuits: dict[str, Any], shots: int = 10, **options: Any) -> dict[str, Any]:
    return {"circuits": list(circuits), "shots": shots, **options}


def submit(http: httpx.Client, body: Any, qc: str = "garnet") -> httpx.Response:
    return http.post(f"/jobs/{qc}/circuit", params={"use_timeslot": "false"}, json=body)


def wait(http: httpx.Client, job_id: str) -> dict[str, Any]:
    for _ in range(2000):
        data: dict[str, Any] = http.get(f"/jobs/{job_id}").json()
        if data["status"] in ("completed", "failed", "cancelled"):
            return data
    pytest.fail(f"job {job_id} did not finish")


def run(http: httpx.Client, body: dict[str, Any], qc: str = "garnet") -> dict[str, Any]:
    answer = submit(http, body, qc)
    assert answer.status_code == 201, answer.text
    return wait(http, answer.json()["id"])


def assert_error(answer: httpx.Response, status: int, code: str, message: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert list(body) == SERVER_ERROR_KEYS
    assert body["error_code"] == code
    assert body["source"] == "iqm-server"
    assert message in body["message"]


# --- catalogue ------------------------------------------------------------------------------


def test_quantum_computers_list_every_device_with_stable_ids(http: httpx.Client) -> None:
    listing = http.get("/quantum-computers").json()["quantum_computers"]
    assert [(qc["alias"], qc["display_name"], qc["proxy_path"]) for qc in listing] == [
        ("garnet", GARNET.display_name, None),
        ("deneb", DENEB.display_name, None),
    ]
    ids = [uuid.UUID(qc["id"]) for qc in listing]
    assert len(set(ids)) == 2
    with IQMEmulator("deneb") as other:
        [again] = httpx.get(f"{other.root_url}/api/v1/quantum-computers").json()[
            "quantum_computers"
        ]
    assert uuid.UUID(again["id"]) == ids[1]


def test_the_token_is_required_except_for_about_and_health(emulator: IQMEmulator) -> None:
    base = f"{emulator.root_url}/api/v1"
    assert_error(
        httpx.get(f"{base}/quantum-computers"), 401, "authentication_failed", "Authentication"
    )
    wrong = {"Authorization": "Bearer nope"}
    assert_error(
        httpx.post(f"{base}/jobs/garnet/circuit", json={}, headers=wrong),
        401,
        "authentication_failed",
        "Authentication failed",
    )
    assert httpx.get(f"{base}/about").json()["quantum_computers"] == ["garnet", "deneb"]
    assert httpx.get(f"{base}/quantum-computers/deneb/health").json() == {
        "status": "healthy",
        "quantum_computer": "deneb",
    }


def test_dqa_is_the_22x_dqa_by_default_and_by_id(emulator: IQMEmulator, http: httpx.Client) -> None:
    legacy = httpx.get(
        f"{emulator.url_for('garnet')}/api/v1/calibration/default/gates", headers=AUTH
    ).json()
    assert http.get("/calibration-sets/garnet/default/dynamic-quantum-architecture").json() == (
        legacy
    )
    by_id = http.get(f"/calibration-sets/garnet/{GARNET_CAL}/dynamic-quantum-architecture")
    assert by_id.json() == legacy
    assert legacy["calibration_set_id"] == str(GARNET_CAL)
    deneb = http.get("/calibration-sets/deneb/default/dynamic-quantum-architecture").json()
    assert deneb["computational_resonators"] == ["CR1"]
    assert ["QB1", "CR1"] in deneb["gates"]["move"]["implementations"]["tgss_crf"]["loci"]


def test_unknown_quantum_computer_and_calibration_set_are_404(http: httpx.Client) -> None:
    assert_error(
        http.get("/calibration-sets/falcon/default/dynamic-quantum-architecture"),
        404,
        "quantum_computer_not_found",
        "Quantum computer 'falcon' not found; this emulator serves: garnet, deneb.",
    )
    missing = uuid.UUID(int=7)
    assert_error(
        http.get(f"/calibration-sets/garnet/{missing}/metrics"),
        404,
        "calibration_set_not_found",
        f"no calibration set '{missing}'",
    )
    assert_error(http.get("/no-such-thing"), 404, "not_found", "not found on this emulator")


def test_quality_metrics_carry_iqm_named_observations(http: httpx.Client) -> None:
    cal = GARNET.default_calibration
    metrics = http.get("/calibration-sets/garnet/default/metrics").json()
    assert metrics["observation_set_type"] == "quality-metric-set"
    assert metrics["describes_id"] == str(GARNET_CAL)
    assert metrics["dut_label"] == GARNET.dut_label
    values = {o["dut_field"]: o["value"] for o in metrics["observations"]}
    assert values["characterization.model.QB1.t1_time"] == cal.t1["QB1"]
    assert values["characterization.model.QB3.t2_time"] == cal.t2["QB3"]
    assert values["metrics.irb.cz.tgss.QB1__QB2.fidelity"] == cal.cz_fidelity[("QB1", "QB2")]
    assert (
        values["metrics.ssro.measure.constant.QB2.error_0_to_1"] == (cal.readout_p1_given_0["QB2"])
    )
    assert not [name for name in values if name.startswith("gates.")]
    assert metrics["observation_ids"] == [o["observation_id"] for o in metrics["observations"]]
    calset = http.get("/calibration-sets/garnet/default").json()
    assert calset["observation_set_type"] == "calibration-set"
    assert calset["observation_set_id"] == str(GARNET_CAL)
    durations = {o["dut_field"]: o["value"] for o in calset["observations"]}
    assert durations["gates.cz.tgss.QB1__QB2.duration"] == cal.durations["cz"]
    assert set(calset["observation_ids"]).isdisjoint(metrics["observation_ids"])


def test_static_architecture_is_a_list_of_one_with_the_chip_label(
    emulator: IQMEmulator, http: httpx.Client
) -> None:
    legacy = httpx.get(f"{emulator.url_for('deneb')}/api/v1/quantum-architecture", headers=AUTH)
    [sqa] = http.get("/quantum-computers/deneb/artifacts/static-quantum-architectures").json()
    assert sqa == {"dut_label": DENEB.dut_label, **legacy.json()}
    about = http.get("/quantum-computers/garnet/artifacts/about").json()
    assert set(about) == {"version", "software_versions"}


# --- jobs -----------------------------------------------------------------------------------


def test_a_job_runs_to_completion_with_timeline_artifacts_and_payload(
    http: httpx.Client,
) -> None:
    body = definition(x_circuit(), x_circuit("QB2", key="k", name="x2"), shots=7)
    answer = submit(http, body)
    assert answer.status_code == 201
    first = answer.json()
    assert first["type"] == "circuit"
    assert first["status"] in ("waiting", "processing", "completed")
    assert first["compilation"] == {"calibration_set_id": str(GARNET_CAL)}
    data = wait(http, first["id"])
    assert data["status"] == "completed"
    assert data["errors"] == []
    assert data["messages"] == []
    assert data["queue_position"] is None
    assert [e["status"] for e in data["timeline"]] == [*TIMELINE, "completed"]
    assert [e["source"] for e in data["timeline"]] == ["iqm-server"] + [
        "iqm-station-control"
    ] * 4 + ["iqm-server"]
    assert data["artifacts"] == [{"type": "measurements"}, {"type": "measurement_counts"}]
    job = first["id"]
    assert http.get(f"/jobs/{job}/artifacts/measurements").json() == [
        {"m": [[1]] * 7},
        {"k": [[1]] * 7},
    ]
    assert http.get(f"/jobs/{job}/artifacts/measurement_counts").json() == [
        {"measurement_keys": ["m"], "counts": {"1": 7}},
        {"measurement_keys": ["k"], "counts": {"1": 7}},
    ]
    payload = http.get(f"/jobs/{job}/payload").json()
    assert payload["circuits"] == body["circuits"]
    assert payload["shots"] == 7
    assert payload["move_gate_validation"] == payload["move_validation_mode"] == "strict"
    assert payload["move_gate_frame_tracking"] == payload["move_gate_frame_tracking_mode"] == "full"


@pytest.mark.parametrize(
    "mapping",
    [
        [
            {"logical_name": "a", "physical_name": "QB2"},
            {"logical_name": "b", "physical_name": "QB3"},
        ],
        {"a": "QB2", "b": "QB3"},
    ],
    ids=["pairs", "object"],
)
def test_qubit_mapping_in_both_wire_forms(http: httpx.Client, mapping: Any) -> None:
    circuit = {
        "name": "mapped",
        "instructions": [
            op("prx", "a", angle=math.pi, phase=math.pi / 2),
            op("measure", "a", "b", key="ab"),
        ],
    }
    data = run(http, definition(circuit, shots=3, qubit_mapping=mapping))
    assert data["status"] == "completed", data
    counts = http.get(f"/jobs/{data['id']}/artifacts/measurement_counts").json()
    assert counts == [{"measurement_keys": ["ab"], "counts": {"10": 3}}]
    payload = http.get(f"/jobs/{data['id']}/payload").json()
    assert payload["qubit_mapping"] == [
        {"logical_name": "a", "physical_name": "QB2"},
        {"logical_name": "b", "physical_name": "QB3"},
    ]


def test_bell_pairs_are_correlated_and_timeslot_jobs_are_served(http: httpx.Client) -> None:
    answer = http.post(
        "/jobs/garnet/circuit", params={"use_timeslot": "true"}, json=definition(bell_circuit())
    )
    assert answer.status_code == 201
    wait(http, answer.json()["id"])
    [counts] = http.get(f"/jobs/{answer.json()['id']}/artifacts/measurement_counts").json()
    assert set(counts["counts"]) <= {"00", "11"}
    assert sum(counts["counts"].values()) == 10


def test_a_job_the_simulator_refuses_fails_with_an_error(http: httpx.Client) -> None:
    wide = {
        "name": "wide",
        "instructions": [op("measure", "QB1", "QB2", "QB3", "QB4", key="m")],
    }
    data = run(http, definition(wide))
    assert data["status"] == "failed"
    [error] = data["errors"]
    assert error["error_code"] == "job_failed"
    assert error["source"] == "iqm-server"
    assert "acts on 4 qubits and resonators" in error["message"]
    assert data["timeline"][-1]["status"] == "failed"
    assert data["artifacts"] == []
    assert_error(
        http.get(f"/jobs/{data['id']}/artifacts/measurements"),
        404,
        "artifact_not_found",
        "its status is 'failed'",
    )


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ("{oops", 400, "invalid_json", "The request body is not valid JSON"),
        ("[1]", 422, "invalid_job", "the body must be a JSON object"),
        ('{"shots": 3}', 422, "invalid_job", "circuits: Field required"),
        (definition(shots=2), 422, "invalid_job", "circuits must not be empty"),
        (definition(x_circuit(), shots=0), 422, "invalid_job", "shots: Input should be greater"),
        (definition(x_circuit(), shots=1001), 422, "too_many_shots", "the maximum is 1000"),
        (
            definition(x_circuit(), x_circuit(), x_circuit(), x_circuit()),
            422,
            "too_many_circuits",
            "4 circuits; the maximum is 3",
        ),
        (
            definition(x_circuit(), calibration_set_id=str(uuid.UUID(int=3))),
            404,
            "calibration_set_not_found",
            "has no calibration set",
        ),
        (
            definition({"name": "c", "instructions": [op("swap", "QB1", "QB2")]}),
            422,
            "invalid_job",
            "Unknown operation 'swap'",
        ),
        (
            definition({"name": "c", "instructions": [op("prx", "QB1", angle_t=0.5, phase_t=0)]}),
            422,
            "invalid_job",
            "prx needs the argument(s) angle, phase",
        ),
        (definition("OPENQASM 3;"), 422, "invalid_job", "circuit 0 is a QIR program"),
        (
            definition(x_circuit("QB99")),
            422,
            "circuit_validation_failed",
            "prx acts on 'QB99', which is not a component of the device",
        ),
        (
            definition(x_circuit("a"), qubit_mapping={"a": "QB1", "b": "QB1"}),
            422,
            "circuit_validation_failed",
            "the mapping must be injective",
        ),
        (
            definition({"name": "c", "instructions": [op("cz", "QB1", "QB3")]}),
            422,
            "circuit_validation_failed",
            "cz is not calibrated on (QB1, QB3)",
        ),
    ],
    ids=lambda value: None if isinstance(value, (dict, str)) else str(value),
)
def test_bad_submissions_get_server_api_errors(
    http: httpx.Client, body: Any, status: int, code: str, message: str
) -> None:
    if isinstance(body, str):
        answer = http.post(
            "/jobs/garnet/circuit", content=body, headers={"Content-Type": "application/json"}
        )
    else:
        answer = submit(http, body)
    assert_error(answer, status, code, message)


def _open_move() -> dict[str, Any]:
    return {
        "name": "open",
        "instructions": [op("move", "QB1", "CR1"), op("measure", "QB2", key="m")],
    }


def test_move_validation_on_deneb_and_its_modes(http: httpx.Client) -> None:
    assert_error(
        submit(http, definition(_open_move()), qc="deneb"),
        422,
        "circuit_validation_failed",
        "ends inside a MOVE sandwich",
    )
    inside = {
        "name": "prx-inside",
        "instructions": [
            op("move", "QB1", "CR1"),
            op("prx", "QB1", angle=math.pi, phase=0.0),
            op("move", "QB1", "CR1"),
            op("measure", "QB1", key="m"),
        ],
    }
    assert_error(
        submit(http, definition(inside), qc="deneb"),
        422,
        "circuit_validation_failed",
        "move_validation_mode='strict' allows only barrier",
    )
    for field in ("move_gate_validation", "move_validation_mode"):
        data = run(http, definition(inside, **{field: "allow_prx"}), qc="deneb")
        assert data["status"] == "completed", data
        payload = http.get(f"/jobs/{data['id']}/payload").json()
        assert payload["move_gate_validation"] == payload["move_validation_mode"] == "allow_prx"
    assert run(http, definition(_open_move(), move_gate_validation="none"), qc="deneb")[
        "status"
    ] == ("completed")


def test_job_ids_are_visible_only_on_their_route_set(
    emulator: IQMEmulator, http: httpx.Client
) -> None:
    legacy_body = {
        "circuits": [
            {
                "name": "x",
                "instructions": [
                    {"name": "prx", "qubits": ["QB1"], "args": {"angle_t": 0.5, "phase_t": 0}},
                    {"name": "measure", "qubits": ["QB1"], "args": {"key": "m"}},
                ],
            }
        ],
        "shots": 2,
    }
    legacy = httpx.post(f"{emulator.url}/jobs", json=legacy_body, headers=AUTH).json()["id"]
    assert_error(http.get(f"/jobs/{legacy}"), 404, "job_not_found", f"No job with id {legacy}")
    new = submit(http, definition(x_circuit(), shots=2)).json()["id"]
    answer = httpx.get(f"{emulator.url}/jobs/{new}", headers=AUTH)
    assert answer.status_code == 404
    assert answer.json() == {"message": f"No job with id {new} on device 'garnet'."}
    assert_error(http.get("/jobs/not-a-uuid"), 404, "job_not_found", "job ids are UUIDs")


@pytest.fixture
def slow() -> Iterator[IQMEmulator]:
    """One worker resting a minute per stage: jobs stay waiting until cancelled."""
    with IQMEmulator("garnet", token=TOKEN, stage_delay=60.0, workers=1) as emu:
        yield emu


def test_cancel_queue_position_and_delete(slow: IQMEmulator) -> None:
    with httpx.Client(base_url=f"{slow.root_url}/api/v1", headers=AUTH, timeout=10) as http:
        first = submit(http, definition(x_circuit())).json()
        second = submit(http, definition(x_circuit())).json()
        assert (first["status"], first["queue_position"]) == ("waiting", 0)
        assert (second["status"], second["queue_position"]) == ("waiting", 1)
        cancelled = http.post(f"/jobs/{first['id']}/cancel")
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled"
        data = http.get(f"/jobs/{first['id']}").json()
        assert data["status"] == "cancelled"
        assert data["messages"] == [
            {"source": "iqm-server", "message": "The job was cancelled by the user."}
        ]
        assert [e["status"] for e in data["timeline"]] == ["created", "cancelled"]
        assert http.get(f"/jobs/{second['id']}").json()["queue_position"] == 0
        # Cancelling a finished job leaves it as it is.
        assert http.post(f"/jobs/{first['id']}/cancel").json()["status"] == "cancelled"
        assert_error(
            http.get(f"/jobs/{first['id']}/artifacts/measurement_counts"),
            404,
            "artifact_not_found",
            "its status is 'cancelled'",
        )
        assert http.delete(f"/jobs/{second['id']}").status_code == 204
        assert_error(http.get(f"/jobs/{second['id']}"), 404, "job_not_found", "No job with id")
        assert_error(http.delete(f"/jobs/{second['id']}"), 404, "job_not_found", "No job")
        assert slow.app.state.emulator.store.count() == 1


def test_same_seed_gives_the_same_counts_on_both_route_sets() -> None:
    """A noisy job is the first job of each server: same seed, same sequence number."""
    legacy_bell = {
        "circuits": [
            {
                "name": "bell",
                "instructions": [
                    {"name": "prx", "qubits": ["QB1"], "args": {"angle_t": 0.25, "phase_t": 0.25}},
                    {"name": "prx", "qubits": ["QB2"], "args": {"angle_t": -0.25, "phase_t": 0.25}},
                    {"name": "cz", "qubits": ["QB1", "QB2"], "args": {}},
                    {"name": "prx", "qubits": ["QB2"], "args": {"angle_t": 0.25, "phase_t": 0.25}},
                    {"name": "measure", "qubits": ["QB1", "QB2"], "args": {"key": "m"}},
                ],
            }
        ],
        "shots": 500,
    }
    with IQMEmulator("garnet", seed=42) as legacy_server:
        job = httpx.post(f"{legacy_server.url}/jobs", json=legacy_bell).json()["id"]
        for _ in range(2000):
            legacy = httpx.get(f"{legacy_server.url}/jobs/{job}/counts").json()
            if legacy["status"] == "ready":
                break
    with (
        IQMEmulator("garnet", seed=42) as server,
        httpx.Client(base_url=f"{server.root_url}/api/v1") as http,
    ):
        data = run(http, definition(bell_circuit(), shots=500))
        counts = http.get(f"/jobs/{data['id']}/artifacts/measurement_counts").json()
    assert counts == legacy["counts_batch"]
    assert len(counts[0]["counts"]) == 4  # noisy: the odd outcomes occur too


# --- iqm-client 36 --------------------------------------------------------------------------

needs_36 = pytest.mark.skipif(not IQM_CLIENT_36, reason=REASON_36)


@pytest.fixture
def client(emulator: IQMEmulator) -> Any:
    from iqm.iqm_client import IQMClient

    return IQMClient.from_url(emulator.root_url, quantum_computer="garnet", token=TOKEN)


def _pulse_circuit(name: str, *operations: tuple[str, tuple[str, ...], dict[str, Any]]) -> Any:
    from iqm.pulse import Circuit, CircuitOperation

    return Circuit(name, tuple(CircuitOperation(n, locus, args) for n, locus, args in operations))


@needs_36
# iqm-client's own parsing of the payload tries its deprecated circuit model too.
@pytest.mark.filterwarnings("ignore:.*_Instruction|.*_Circuit:DeprecationWarning")
def test_iqm_client_36_runs_a_batch(client: Any) -> None:
    circuits = [
        _pulse_circuit(
            "x",
            ("prx", ("QB1",), {"angle": math.pi, "phase": 0.0}),
            ("measure", ("QB1",), {"key": "m"}),
        ),
        _pulse_circuit("zero", ("measure", ("QB2", "QB3"), {"key": "z"})),
    ]
    tracker = client.submit_circuits(circuits, shots=5)
    assert tracker.wait_for_completion(polling_interval=0.01).value == "completed"
    assert tracker.result() == [{"m": [[1]] * 5}, {"z": [[0, 0]] * 5}]
    counts = tracker.result_counts()
    assert [(c.measurement_keys, c.counts) for c in counts] == [
        (["m"], {"1": 5}),
        (["z"], {"00": 5}),
    ]
    again = client.get_job(tracker.job_id)
    assert again.status.value == "completed"
    assert again.payload().shots == 5
    assert tracker.find_timeline_entry("completed", "iqm-server") is not None


@needs_36
def test_iqm_client_36_reads_architecture_and_metrics(client: Any) -> None:
    from iqm.station_control.client.qon import ObservationFinder

    cal = GARNET.default_calibration
    dqa = client.get_dynamic_quantum_architecture()
    assert dqa.calibration_set_id == GARNET_CAL
    assert ("QB1", "QB2") in dqa.gates["cz"].loci
    sqa = client.get_static_quantum_architecture()
    assert (sqa.dut_label, len(sqa.qubits)) == (GARNET.dut_label, 20)
    finder = ObservationFinder(
        client.get_calibration_set().observations + client.get_quality_metric_set().observations
    )
    assert finder.get_gate_fidelity("cz", "tgss", ("QB1", "QB2")) == cal.cz_fidelity[("QB1", "QB2")]
    assert finder.get_gate_duration("prx", "drag_gaussian", ("QB4",)) == cal.durations["prx"]
    assert finder.get_coherence_times(["QB5"])[0] == {"QB5": cal.t1["QB5"]}
    assert finder.get_measure_errors("measure", "constant", ("QB1",)) == (
        cal.readout_p1_given_0["QB1"],
        cal.readout_p0_given_1["QB1"],
    )
    assert client.get_health() == {"status": "healthy", "quantum_computer": "garnet"}
    assert client.get_about()["about_station"]["software_versions"] == {
        "iqm-emulator": client.get_about()["version"]
    }


@needs_36
def test_iqm_client_36_gets_typed_errors(emulator: IQMEmulator, client: Any) -> None:
    from exa.common.errors.iqm_error import (
        AuthenticationError,
        NotFoundError,
        ValidationError,
    )
    from iqm.iqm_client import IQMClient
    from iqm.station_control.client.authentication import (
        ClientConfigurationError,
    )

    x = _pulse_circuit(
        "x",
        ("prx", ("QB1",), {"angle": math.pi, "phase": 0.0}),
        ("measure", ("QB1",), {"key": "m"}),
    )
    with pytest.raises(ValidationError, match="1001 shots; the maximum is 1000"):
        client.submit_circuits([x], shots=1001)
    with pytest.raises(NotFoundError, match="has no calibration set"):
        client.submit_circuits([x], calibration_set_id=uuid.UUID(int=9))
    with pytest.raises(AuthenticationError, match="Authentication failed"):
        IQMClient.from_url(emulator.root_url, quantum_computer="garnet", token="wrong")
    with pytest.raises(ClientConfigurationError, match='"falcon" does not exist'):
        IQMClient.from_url(emulator.root_url, quantum_computer="falcon", token=TOKEN)


@needs_36
def test_iqm_client_36_cancels_a_job(slow: IQMEmulator) -> None:
    from iqm.iqm_client import IQMClient

    client = IQMClient.from_url(slow.root_url, quantum_computer="garnet", token=TOKEN)
    x = _pulse_circuit("x", ("measure", ("QB1",), {"key": "m"}))
    tracker = client.submit_circuits([x], shots=3)
    assert tracker.status.value == "waiting"
    client.cancel_job(tracker.job_id)
    assert tracker.update().value == "cancelled"
    assert tracker.result() is None
