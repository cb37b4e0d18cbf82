"""The OpenAPI links of the emulator's schema: each line's job submission leads to every job
route of that line, with the job id from the submission's answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pytket.extensions.iqm.emulator import IQMEmulator
from pytket.extensions.iqm.emulator.config import EmulatorConfig
from pytket.extensions.iqm.emulator.http.app import create_app
from pytket.extensions.iqm.emulator.http.openapi_links import add_job_links

SCHEMA = create_app(EmulatorConfig(devices=("garnet",))).openapi()
OPERATIONS = {
    operation["operationId"]: (method.upper(), path)
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
}

REST_V1_LINKS = {
    "get_job": ("GET", "/{device}/jobs/{job_id}"),
    "get_job_status": ("GET", "/{device}/jobs/{job_id}/status"),
    "get_job_counts": ("GET", "/{device}/jobs/{job_id}/counts"),
    "post_job_abort": ("POST", "/{device}/jobs/{job_id}/abort"),
}
SERVER_API_LINKS = {
    "get_job": ("GET", "/api/v1/jobs/{job_id}"),
    "delete_job": ("DELETE", "/api/v1/jobs/{job_id}"),
    "get_job_artifacts_measurements": ("GET", "/api/v1/jobs/{job_id}/artifacts/measurements"),
    "get_job_artifacts_measurement_counts": (
        "GET",
        "/api/v1/jobs/{job_id}/artifacts/measurement_counts",
    ),
    "get_job_payload": ("GET", "/api/v1/jobs/{job_id}/payload"),
    "post_job_cancel": ("POST", "/api/v1/jobs/{job_id}/cancel"),
}


def _links(path: str) -> dict[str, Any]:
    responses = SCHEMA["paths"][path]["post"]["responses"]
    # Only the answer that creates a job carries links.
    assert [code for code in responses if "links" in responses[code]] == ["201"]
    links: dict[str, Any] = responses["201"]["links"]
    return links


def test_rest_v1_submission_links_to_every_job_route() -> None:
    links = _links("/{device}/jobs")
    assert {name: OPERATIONS[link["operationId"]] for name, link in links.items()} == (
        REST_V1_LINKS
    )
    for link in links.values():
        assert link["parameters"] == {
            "device": "$request.path.device",
            "job_id": "$response.body#/id",
        }


def test_server_api_submission_links_to_every_job_route() -> None:
    links = _links("/api/v1/jobs/{qc}/circuit")
    assert {name: OPERATIONS[link["operationId"]] for name, link in links.items()} == (
        SERVER_API_LINKS
    )
    for link in links.values():
        assert link["parameters"] == {"job_id": "$response.body#/id"}


def test_every_job_id_route_is_linked() -> None:
    """No route that takes a job id is left out (a new one is linked by construction)."""
    with_job_id = {
        (method.upper(), path)
        for path, item in SCHEMA["paths"].items()
        for method in item
        if "{job_id}" in path
    }
    linked = set(REST_V1_LINKS.values()) | set(SERVER_API_LINKS.values())
    assert with_job_id == linked


def test_a_job_route_without_a_value_for_a_parameter_is_refused() -> None:
    schema = {
        "paths": {
            "/api/v1/jobs/{qc}/circuit": {"post": {"responses": {"201": {}}}},
            "/api/v1/jobs/{job_id}/on/{board}": {"get": {"operationId": "on_board"}},
            "/{device}/jobs": {"post": {"responses": {"201": {}}}},
        }
    }
    with pytest.raises(ValueError, match=r"GET /api/v1/jobs/\{job_id\}/on/\{board\}: .*\{board\}"):
        add_job_links(schema)


def test_served_schema_carries_the_links(emulator: IQMEmulator) -> None:
    served = httpx.get(emulator.base_url + "/openapi.json").json()
    for path in ("/{device}/jobs", "/api/v1/jobs/{qc}/circuit"):
        answer = served["paths"][path]["post"]["responses"]["201"]
        assert answer["links"] == SCHEMA["paths"][path]["post"]["responses"]["201"]["links"]
