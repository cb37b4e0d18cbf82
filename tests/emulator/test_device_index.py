"""What a newcomer meets: the device URL the emulator prints, ``/about``, and a client given the
server root instead of a device URL. Real HTTP against a running emulator."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import httpx
import pytest
import requests
from iqm_client_line import IQM_CLIENT_22, IQM_CLIENT_36, REASON_22, REASON_36

from pytket.extensions.iqm.emulator import IQMEmulator
from pytket.extensions.iqm.emulator.devices.catalogue import get_device

GARNET = get_device("garnet")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def two_devices() -> Iterator[IQMEmulator]:
    with IQMEmulator(["garnet", "deneb"], noise=False, seed=3, token="T") as emulator:
        yield emulator


def test_device_url_answers_its_index(two_devices: IQMEmulator) -> None:
    root = two_devices.root_url
    answer = httpx.get(two_devices.url)
    assert answer.status_code == 200
    index = answer.json()
    assert index["device"] == "garnet"
    assert index["qubits"] == 20
    assert index["default_calibration_set_id"] == str(GARNET.default_calibration.calibration_set_id)
    assert index["auth"] == "token"
    assert index["lines"] == {
        "rest_v1": {
            "iqm_client": "22.x",
            "api": "IQM REST API v1 (CoCoS)",
            "url": f"{root}/garnet",
            "device": None,
            "iqm_client_call": f'IQMClient("{root}/garnet")',
            "pytket_call": f'IQMBackend("{root}", device="garnet")',
        },
        "server_api": {
            "iqm_client": "33 and later (36.x)",
            "api": "IQM Server API v1, under /api/v1",
            "url": root,
            "device": "garnet",
            "iqm_client_call": f'IQMClient.from_url("{root}", quantum_computer="garnet")',
            "pytket_call": f'IQMBackend("{root}", device="garnet")',
        },
    }
    rest_v1 = {(e["method"], e["path"]): e["summary"] for e in index["endpoints"]["rest_v1"]}
    assert rest_v1[("POST", "/garnet/jobs")] == (
        "Submit a RunRequest; the job runs in the background. Answers 201 with its id."
    )
    assert ("GET", "/garnet/jobs/{job_id}/counts") in rest_v1
    assert ("GET", "/garnet/api/v1/calibration/{calibration_set_id}/gates") in rest_v1
    server_api = {(e["method"], e["path"]) for e in index["endpoints"]["server_api"]}
    assert ("POST", "/api/v1/jobs/garnet/circuit") in server_api
    assert ("GET", "/api/v1/calibration-sets/garnet/{calibration_set_id}/metrics") in server_api
    assert not any("{device}" in path or "{qc}" in path for _, path in set(rest_v1) | server_api)


def test_every_listed_endpoint_exists(two_devices: IQMEmulator) -> None:
    """The listed 22.x paths are routes: a GET without placeholders answers, not 404s."""
    index = httpx.get(two_devices.url_for("deneb")).json()
    headers = {"Authorization": "Bearer T"}
    plain = [
        e["path"]
        for e in index["endpoints"]["rest_v1"]
        if e["method"] == "GET" and "{" not in e["path"]
    ]
    assert plain == ["/deneb/info/client-libraries", "/deneb/api/v1/quantum-architecture",
                     "/deneb/quantum-architecture"]  # fmt: skip
    for path in plain:
        assert httpx.get(two_devices.root_url + path, headers=headers).status_code == 200


def test_timeslot_url_has_an_index_too(two_devices: IQMEmulator) -> None:
    index = httpx.get(two_devices.url_for("garnet:timeslot")).json()
    assert index["device"] == "garnet"
    assert index["lines"]["rest_v1"]["url"] == f"{two_devices.root_url}/garnet:timeslot"
    assert index["lines"]["server_api"]["device"] == "garnet"
    assert ("POST", "/garnet:timeslot/jobs") in {
        (e["method"], e["path"]) for e in index["endpoints"]["rest_v1"]
    }


def test_a_browser_gets_html(two_devices: IQMEmulator) -> None:
    answer = httpx.get(two_devices.url, headers={"Accept": BROWSER_ACCEPT})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    page = answer.text
    assert "<h1>Garnet (garnet)</h1>" in page
    assert f"IQMClient(&quot;{two_devices.root_url}/garnet&quot;)" in page
    assert "<code>POST /garnet/jobs</code>" in page


def test_unknown_device_url_lists_the_served_ones(two_devices: IQMEmulator) -> None:
    answer = httpx.get(f"{two_devices.root_url}/garnett")
    assert answer.status_code == 404
    assert answer.json() == {
        "message": "Unknown device 'garnett'; this emulator serves: garnet, deneb."
    }


def test_root_pages_are_not_shadowed_by_the_device_index(two_devices: IQMEmulator) -> None:
    root = two_devices.root_url
    assert httpx.get(f"{root}/health").json() == {"status": "ok"}
    assert httpx.get(f"{root}/about").json()["devices"] == ["garnet", "deneb"]
    assert httpx.get(f"{root}/openapi.json").json()["info"]["title"] == (
        "pytket-iqm IQM server emulator"
    )
    assert httpx.get(f"{root}/docs").status_code == 200


def test_fault_endpoint_is_not_shadowed() -> None:
    with IQMEmulator("adonis", fault_endpoint=True) as emulator:
        answer = httpx.get(f"{emulator.root_url}/_faults")
    assert answer.status_code == 200
    assert answer.json()["fail_rate"] == 0.0


def test_about_describes_both_lines(two_devices: IQMEmulator) -> None:
    root = two_devices.root_url
    about = httpx.get(f"{root}/about").json()
    assert about["api"] == (
        "IQM REST API v1 (iqm-client 22.x) at each device URL <root>/<device>, and the IQM "
        "Server API (iqm-client 33 and later) under <root>/api/v1 with the device named "
        "separately"
    )
    assert about["lines"]["rest_v1"]["url"] == f"{root}/<device>"
    assert about["lines"]["rest_v1"]["iqm_client_call"] == f'IQMClient("{root}/<device>")'
    assert about["lines"]["server_api"]["url"] == root
    assert about["lines"]["server_api"]["device"] == "<device>"
    assert about["lines"]["server_api"]["iqm_client_call"] == (
        f'IQMClient.from_url("{root}", quantum_computer="<device>")'
    )


def test_client_libraries_at_the_root(two_devices: IQMEmulator) -> None:
    answer = httpx.get(f"{two_devices.root_url}/info/client-libraries")
    assert answer.status_code == 200
    assert answer.json()["iqm-client"]["min"] == "22.0"
    assert answer.json()["iqm-client"]["max"] == "23.0"


@pytest.mark.skipif(not IQM_CLIENT_22, reason=REASON_22)
def test_iqm_client_22_given_the_root_says_not_found() -> None:
    """Without ``/info/client-libraries`` at the root, iqm-client 22.x's 404 handler asked for
    it, got a 404, asked again... until ``RecursionError``. Now it names the missing URL."""
    from iqm.iqm_client import IQMClient

    with IQMEmulator("garnet", noise=False) as emulator:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The V1 API is deprecated", DeprecationWarning)
            client = IQMClient(emulator.root_url)
        with pytest.raises(requests.HTTPError) as raised:
            client.get_dynamic_quantum_architecture()
        assert str(raised.value) == (
            f"{emulator.root_url}/api/v1/calibration/default/gates not found."
        )


@pytest.mark.skipif(not IQM_CLIENT_36, reason=REASON_36)
def test_the_printed_server_api_call_works() -> None:
    """The IQM Server API guidance of the index, run as printed."""
    from iqm.iqm_client import IQMClient

    with IQMEmulator("garnet", noise=False) as emulator:
        usage = httpx.get(emulator.url).json()["lines"]["server_api"]
        # iqm-client 36's constructor (mypy reads the 22.x line's names).
        client = IQMClient.from_url(  # type: ignore[attr-defined]
            usage["url"], quantum_computer=usage["device"]
        )
        architecture = client.get_dynamic_quantum_architecture()
    assert architecture.calibration_set_id == GARNET.default_calibration.calibration_set_id
