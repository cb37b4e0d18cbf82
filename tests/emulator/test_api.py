"""Every endpoint of the emulator through the real IQMClient, plus what a client cannot send
(malformed bodies, unknown routes) through raw HTTP."""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Callable
from types import SimpleNamespace

import httpx
import pytest
import requests
from iqm_client_line import require_iqm_client_22

require_iqm_client_22()

from iqm.iqm_client import APIVariant, IQMClient  # noqa: E402

from pytket.extensions.iqm.emulator import IQMEmulator  # noqa: E402
from pytket.extensions.iqm.emulator.devices.catalogue import get_device  # noqa: E402

ClientFactory = Callable[..., IQMClient]
GARNET = get_device("garnet")


def test_dynamic_architecture_default_and_by_id(client: IQMClient) -> None:
    dqa = client.get_dynamic_quantum_architecture()
    assert dqa.calibration_set_id == GARNET.default_calibration.calibration_set_id
    assert dqa.qubits == list(GARNET.default_calibration.qubits)
    assert set(dqa.gates) >= {"prx", "cz", "measure"}
    second = GARNET.calibrations[1].calibration_set_id
    assert client.get_dynamic_quantum_architecture(second).calibration_set_id == second


def test_unknown_calibration_is_404_with_message(emulator: IQMEmulator, client: IQMClient) -> None:
    unknown = uuid.uuid4()
    with pytest.raises(requests.HTTPError, match="not found"):
        client.get_dynamic_quantum_architecture(unknown)
    with pytest.raises(requests.HTTPError, match="not found"):
        client.get_quality_metric_set(unknown)
    with pytest.raises(requests.HTTPError, match="not found"):
        client.get_calibration_set(unknown)
    answer = requests.get(f"{emulator.url}/api/v1/calibration/{unknown}/gates", timeout=5)
    assert answer.status_code == 404
    assert answer.json()["message"].startswith(
        f"Device 'garnet' has no calibration set '{unknown}'"
    )


def test_static_and_legacy_architecture(client: IQMClient) -> None:
    sqa = client.get_static_quantum_architecture()
    assert sqa.qubits == list(GARNET.qubits)
    assert sqa.computational_resonators == []
    assert len(sqa.connectivity) == len(GARNET.connectivity) == 30
    qa = client.get_quantum_architecture()
    assert qa.name == "garnet"
    assert qa.qubits == list(GARNET.qubits)


def test_quality_metrics_and_calibration_set(client: IQMClient) -> None:
    default_id = GARNET.default_calibration.calibration_set_id
    metrics = client.get_quality_metric_set()
    assert metrics.calibration_set_id == default_id
    assert metrics.calibration_set_dut_label == GARNET.dut_label
    calset = client.get_calibration_set()
    assert calset.calibration_set_id == default_id
    second = GARNET.calibrations[1].calibration_set_id
    assert client.get_calibration_set(second).calibration_set_id == second
    assert client.get_quality_metric_set(second).calibration_set_id == second


def test_client_libraries_default_range_gives_no_warning(emulator: IQMEmulator) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = IQMClient(emulator.url, api_variant=APIVariant.RESONANCE_COCOS_V1)
    assert [str(w.message) for w in caught] == []
    libraries = client.get_supported_client_libraries()
    assert libraries["iqm-client"].min == "22.0"
    assert libraries["iqm-client"].max == "23.0"


def test_client_libraries_range_excluding_the_client_warns() -> None:
    with (
        IQMEmulator("adonis", client_library_range=("36.0", "37.0")) as emu,
        pytest.warns(UserWarning, match=r"satisfies 36\.0 <= iqm-client < 37\.0"),
    ):
        IQMClient(emu.url, api_variant=APIVariant.RESONANCE_COCOS_V1)


def test_timeslot_path_serves_the_same_device(
    emulator: IQMEmulator, client_for: ClientFactory, native: SimpleNamespace
) -> None:
    client = client_for(emulator.url_for("garnet:timeslot"))
    assert client.get_dynamic_quantum_architecture().qubits == list(GARNET.qubits)
    result = client.wait_for_results(client.submit_circuits([native.x_then_measure()], shots=2))
    assert result.measurements == [{"m": [[1], [1]]}]


def test_root_pages(emulator: IQMEmulator) -> None:
    listing = httpx.get(emulator.base_url + "/").json()
    assert listing["auth"] == "open"
    [garnet] = listing["devices"]
    assert garnet["name"] == "garnet"
    assert garnet["path"] == "/garnet"
    assert garnet["qubits"] == 20
    assert garnet["default_calibration_set_id"] == str(
        GARNET.default_calibration.calibration_set_id
    )
    assert httpx.get(emulator.base_url + "/health").json() == {"status": "ok"}
    about = httpx.get(emulator.base_url + "/about").json()
    assert about["devices"] == ["garnet"]
    assert "22" in about["api"]


def test_openapi_documents_the_api(emulator: IQMEmulator) -> None:
    spec = httpx.get(emulator.base_url + "/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/{device}/jobs",
        "/{device}/jobs/{job_id}",
        "/{device}/jobs/{job_id}/status",
        "/{device}/jobs/{job_id}/counts",
        "/{device}/jobs/{job_id}/abort",
        "/{device}/info/client-libraries",
        "/{device}/api/v1/calibration/{calibration_set_id}/gates",
        "/{device}/quantum-architecture",
        "/realms/cortex/protocol/openid-connect/token",
    ):
        assert path in paths, path
    body = paths["/{device}/jobs"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/RunRequest"}
    schemas = spec["components"]["schemas"]
    assert set(schemas["RunRequest"]["required"]) == {"circuits", "shots"}
    assert "Instruction" in schemas


def test_unknown_device_is_404_json_and_client_does_not_recurse(emulator: IQMEmulator) -> None:
    answer = httpx.get(emulator.base_url + "/nowhere/api/v1/quantum-architecture")
    assert answer.status_code == 404
    assert answer.json() == {"message": "Unknown device 'nowhere'; this emulator serves: garnet."}
    # client-libraries answers for any device, so the client's version check never recurses.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = IQMClient(
            emulator.base_url + "/nowhere", api_variant=APIVariant.RESONANCE_COCOS_V1
        )
    assert caught == []
    with pytest.raises(requests.HTTPError, match="not found"):
        client.get_dynamic_quantum_architecture()


def test_unknown_route_and_method_answer_json(emulator: IQMEmulator) -> None:
    answer = httpx.get(emulator.url + "/no/such/thing")
    assert answer.status_code == 404
    assert answer.json() == {
        "message": "/garnet/no/such/thing not found on this emulator; see / for the served devices."
    }
    answer = httpx.get(emulator.url + "/jobs")
    assert answer.status_code == 405
    assert answer.json() == {"message": "GET is not allowed on /garnet/jobs."}


def _post_jobs(emulator: IQMEmulator, content: bytes | str) -> httpx.Response:
    return httpx.post(
        emulator.url + "/jobs", content=content, headers={"Content-Type": "application/json"}
    )


def _good_body() -> dict[str, object]:
    return {
        "circuits": [
            {
                "name": "c",
                "instructions": [{"name": "measure", "qubits": ["QB1"], "args": {"key": "m"}}],
            }
        ],
        "shots": 3,
    }


def test_raw_submission_of_a_valid_body_is_201(emulator: IQMEmulator) -> None:
    answer = _post_jobs(emulator, json.dumps(_good_body()))
    assert answer.status_code == 201
    assert uuid.UUID(answer.json()["id"])


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("{not json", 400, "The request body is not valid JSON: Expecting property name"),
        (b"\xff\xfe", 400, "The request body is not valid JSON"),
        ("", 400, "The request body is not valid JSON"),
        ("[1, 2]", 422, "Invalid run request: the body must be a JSON object."),
        ('{"shots": 3}', 422, "Invalid run request: circuits: Field required"),
        (
            json.dumps({**_good_body(), "shots": 0}),
            422,
            "Invalid run request: shots: Input should be greater than 0",
        ),
        (
            json.dumps({**_good_body(), "shots": "many"}),
            422,
            "Invalid run request: shots: Input should be a valid integer",
        ),
        (
            json.dumps({**_good_body(), "heralding_mode": "sometimes"}),
            422,
            "Invalid run request: heralding_mode: Input should be 'none' or 'zeros'",
        ),
        (
            json.dumps(
                {
                    "circuits": [
                        {"name": "c", "instructions": [{"name": "swap", "qubits": ["QB1"]}]}
                    ],
                    "shots": 1,
                }
            ),
            422,
            'Unknown operation "swap"',
        ),
        (
            json.dumps(
                {
                    "circuits": [
                        {
                            "name": "c",
                            "instructions": [
                                {"name": "delay", "qubits": ["QB1"], "args": {"duration": 100}}
                            ],
                        }
                    ],
                    "shots": 1,
                }
            ),
            422,
            'Invalid run request: The argument "duration" should be of one of the following',
        ),
        (
            json.dumps({"circuits": [{"name": "c", "instructions": []}], "shots": 1}),
            422,
            "Each circuit should have at least one instruction.",
        ),
        (json.dumps({"circuits": [], "shots": 1}), 422, "circuits must not be empty"),
    ],
)
def test_bad_bodies_get_4xx_json_messages(
    emulator: IQMEmulator, body: bytes | str, status: int, message: str
) -> None:
    answer = _post_jobs(emulator, body)
    assert answer.status_code == status
    assert list(answer.json()) == ["message"]
    assert message in answer.json()["message"]


def test_client_maps_bad_body_to_configuration_error(
    client: IQMClient, native: SimpleNamespace
) -> None:
    from iqm.iqm_client import ClientConfigurationError

    request = native.run_request(circuits=[native.x_then_measure()], shots=1)
    request.shots = 0  # bypass the client's own check, as a buggy client would
    with pytest.raises(ClientConfigurationError, match="shots: Input should be greater than 0"):
        client.submit_run_request(request)


# --- the IQMEmulator object ----------------------------------------------------------------------


def test_emulator_serves_all_devices_and_names_urls() -> None:
    from pytket.extensions.iqm.emulator.devices.catalogue import catalogue

    emulator = IQMEmulator("all")
    assert emulator.devices == tuple(catalogue())
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.url
    with emulator:
        assert emulator.running
        assert emulator.url == f"http://127.0.0.1:{emulator.port}/{emulator.devices[0]}"
        assert emulator.url_for("deneb:timeslot") == f"{emulator.base_url}/deneb:timeslot"
        with pytest.raises(ValueError, match="Device 'nowhere' is not served by this emulator"):
            emulator.url_for("nowhere")
        with pytest.raises(RuntimeError, match="already running"):
            emulator.start()
        names = [d["name"] for d in httpx.get(emulator.base_url + "/").json()["devices"]]
        assert names == list(catalogue())
    assert not emulator.running
    emulator.stop()  # idempotent


def test_emulator_rejects_bad_arguments() -> None:
    from pytket.extensions.iqm.emulator.devices.catalogue import UnknownDeviceError

    with pytest.raises(UnknownDeviceError, match="nowhere"):
        IQMEmulator("nowhere")
    with pytest.raises(ValueError, match="max_shots must be a positive integer"):
        IQMEmulator(max_shots=0)
    with pytest.raises(ValueError, match="client_library_range must be two version numbers"):
        IQMEmulator(client_library_range=("23.0", "22.0"))
    with pytest.raises(ValueError, match="client_library_range must be two version numbers"):
        IQMEmulator(client_library_range=("x", "y"))
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        IQMEmulator(colour="red")


def test_port_in_use_raises(emulator: IQMEmulator) -> None:
    with pytest.raises(OSError, match="in use"):
        IQMEmulator("adonis", port=emulator.port).start()


def test_too_large_circuit_fails_the_job(
    client_for: ClientFactory, native: SimpleNamespace
) -> None:
    from iqm.iqm_client import CircuitExecutionError

    with IQMEmulator("garnet", max_active_qubits=2, stage_delay=0) as emu:
        client = client_for(emu.url)
        circuit = native.circuit(
            name="three",
            instructions=[native.prx(q, 0.5, 0.0) for q in ("QB1", "QB2", "QB3")]
            + [native.measure("QB1", "QB2", "QB3", key="m")],
        )
        job_id = client.submit_circuits([circuit], shots=1)
        with pytest.raises(CircuitExecutionError, match=r"^Circuit 'three' \(index 0\): .*3.*2"):
            client.wait_for_results(job_id)
