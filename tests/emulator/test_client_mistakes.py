"""A client's mistake is never answered with a 5xx: deeply nested bodies, non-ASCII bytes in a
bearer token, non-finite numbers and booleans where numbers belong are refused at submission
with 400/422 naming the problem, on both API lines; nothing is stored.

Raw HTTP (httpx); runs with either iqm-client line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pytket.extensions.iqm.emulator import IQMEmulator
from pytket.extensions.iqm.emulator.http.models import MAX_JSON_DEPTH

TOKEN = "mistakes-token"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
REST_V1 = "/garnet/jobs"
SERVER_API = "/api/v1/jobs/garnet/circuit"


@pytest.fixture(scope="module")
def emulator() -> Iterator[IQMEmulator]:
    with IQMEmulator("garnet", noise=False, token=TOKEN) as emu:
        yield emu


def _rest_v1_body(angle: str = "0.5", shots: str = "3") -> str:
    return (
        '{"circuits": [{"name": "x", "instructions": ['
        f'{{"name": "prx", "qubits": ["QB1"], "args": {{"angle_t": {angle}, "phase_t": 0.0}}}},'
        '{"name": "measure", "qubits": ["QB1"], "args": {"key": "m"}}]}], '
        f'"shots": {shots}}}'
    )


def _server_api_body(angle: str = "3.14", shots: str = "3") -> str:
    return (
        '{"circuits": [{"name": "x", "instructions": ['
        f'{{"name": "prx", "locus": ["QB1"], "args": {{"angle": {angle}, "phase": 0.0}}}},'
        '{"name": "measure", "locus": ["QB1"], "args": {"key": "m"}}]}], '
        f'"shots": {shots}}}'
    )


def _post(emulator: IQMEmulator, path: str, body: str, **headers: str) -> httpx.Response:
    return httpx.post(
        emulator.root_url + path, content=body.encode("utf-8"), headers=AUTH | headers
    )


def _jobs(emulator: IQMEmulator) -> int:
    return int(emulator.app.state.emulator.store.count())


def _nested(shape: str, depth: int) -> str:
    if shape == "list":
        return "[" * depth + "]" * depth
    if shape == "object":
        return '{"a":' * depth + "1" + "}" * depth
    # nested inside a valid-looking field
    return '{"circuits": ' + "[" * depth + "]" * depth + ', "shots": 1}'


@pytest.mark.parametrize("path", [REST_V1, SERVER_API])
@pytest.mark.parametrize("shape", ["list", "object", "field"])
def test_deeply_nested_json_is_a_400(emulator: IQMEmulator, path: str, shape: str) -> None:
    jobs = _jobs(emulator)
    answer = _post(emulator, path, _nested(shape, 100_000))
    assert answer.status_code in (400, 422), answer.text
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in answer.json()["message"]
    assert _jobs(emulator) == jobs


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (REST_V1, _rest_v1_body(angle="NaN"), "circuits.0.instructions.0.args.angle_t"),
        (REST_V1, _rest_v1_body(angle="Infinity"), "circuits.0.instructions.0.args.angle_t"),
        (REST_V1, _rest_v1_body(angle="-1e999"), "circuits.0.instructions.0.args.angle_t"),
        (SERVER_API, _server_api_body(angle="NaN"), "circuits.0.instructions.0.args.angle"),
        (SERVER_API, _server_api_body(angle="1e999"), "circuits.0.instructions.0.args.angle"),
        (SERVER_API, _server_api_body(angle="-Infinity"), "circuits.0.instructions.0.args.angle"),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_field(
    emulator: IQMEmulator, path: str, body: str, field: str
) -> None:
    jobs = _jobs(emulator)
    answer = _post(emulator, path, body)
    assert answer.status_code == 422, answer.text
    assert f"{field}: must be a finite number" in answer.json()["message"]
    assert _jobs(emulator) == jobs


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (REST_V1, _rest_v1_body(shots="true"), "shots: Input should be a valid integer"),
        (SERVER_API, _server_api_body(shots="true"), "shots: Input should be a valid integer"),
        (REST_V1, _rest_v1_body(angle="true"), 'The argument "angle_t" should be of one of'),
        (SERVER_API, _server_api_body(angle="true"), "argument 'angle' must be a float or int"),
    ],
)
def test_booleans_are_not_numbers(
    emulator: IQMEmulator, path: str, body: str, message: str
) -> None:
    jobs = _jobs(emulator)
    answer = _post(emulator, path, body)
    assert answer.status_code == 422, answer.text
    assert message in answer.json()["message"]
    assert _jobs(emulator) == jobs


def test_the_valid_bodies_are_accepted(emulator: IQMEmulator) -> None:
    assert _post(emulator, REST_V1, _rest_v1_body()).status_code == 201
    assert _post(emulator, SERVER_API, _server_api_body()).status_code == 201


@pytest.mark.parametrize("mode", ["token", "users"])
@pytest.mark.parametrize("path", ["/garnet/jobs/00000000-0000-0000-0000-000000000001/status",
                                  "/api/v1/jobs/00000000-0000-0000-0000-000000000001"])  # fmt: skip
def test_a_non_ascii_byte_in_a_bearer_token_is_a_401(mode: str, path: str) -> None:
    options: dict[str, Any] = (
        {"token": TOKEN} if mode == "token" else {"auth_users": {"alice": "pw"}}
    )
    with IQMEmulator("garnet", noise=False, **options) as emulator:
        for token in (b"abc\xff", b"a.b\xe9.c", "tökén".encode()):
            answer = httpx.get(
                emulator.root_url + path, headers=[(b"Authorization", b"Bearer " + token)]
            )
            assert answer.status_code == 401, answer.text


def test_a_result_over_the_limit_is_refused_naming_it() -> None:
    # 3 shots x 2 measured qubits = 6 bits, over a limit of 5; 2 shots = 4 bits fit.
    with IQMEmulator("garnet", noise=False, token=TOKEN, max_result_bits=5) as emulator:
        two = ('["QB1"], "args": {"key"', '["QB1", "QB2"], "args": {"key"')
        body_22 = _rest_v1_body(shots="3").replace(*two)
        body_36 = _server_api_body(shots="3").replace(*two)
        for path, body, status in ((REST_V1, body_22, 400), (SERVER_API, body_36, 422)):
            answer = _post(emulator, path, body)
            assert answer.status_code == status, answer.text
            message = answer.json()["message"]
            assert "would hold 6 bits (circuits x shots x measured qubits" in message
            assert "this server's limit of 5 (max_result_bits)" in message
            fits = body.replace('"shots": 3', '"shots": 2')
            assert _post(emulator, path, fits).status_code == 201
        assert _jobs(emulator) == 2
