"""Every credential source against the emulator's token and auth-server modes, over HTTP."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from api_line import only_rest_v1, only_server_api
from pytket.circuit import Circuit

from pytket.extensions.iqm import (
    IQMAuthenticationError,
    IQMBackend,
    IQMCredentialsError,
    set_iqm_config,
)
from pytket.extensions.iqm.emulator import IQMEmulator

TOKEN = "emulator-test-token"
USERS = {"alice": "correct horse battery staple"}


@pytest.fixture(scope="module")
def token_emulator() -> Iterator[IQMEmulator]:
    with IQMEmulator(device="adonis", noise=False, token=TOKEN) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def login_emulator() -> Iterator[IQMEmulator]:
    with IQMEmulator(device="adonis", noise=False, auth_users=USERS) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("IQM_") and name != "IQM_CLIENT_SECONDS_BETWEEN_CALLS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _runs_a_job(backend: IQMBackend) -> None:
    circuit = backend.get_compiled_circuit(Circuit(1, 1).X(0).measure_all())
    assert backend.run_circuit(circuit, n_shots=3).get_counts() == {(1,): 3}


def _issued_tokens(emulator: IQMEmulator, username: str, password: str) -> dict[str, str]:
    response = requests.post(
        f"{emulator.base_url}/realms/cortex/protocol/openid-connect/token",
        data={
            "client_id": "iqm_client",
            "grant_type": "password",
            "username": username,
            "password": password,
        },
        timeout=10,
    )
    response.raise_for_status()
    tokens: dict[str, str] = response.json()
    return tokens


def test_token_argument(token_emulator: IQMEmulator) -> None:
    _runs_a_job(IQMBackend(token_emulator.root_url, device=token_emulator.devices[0], token=TOKEN))


def test_token_from_environment(
    token_emulator: IQMEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IQM_TOKEN", TOKEN)
    _runs_a_job(IQMBackend(token_emulator.root_url, device=token_emulator.devices[0]))


def test_token_from_stored_config(token_emulator: IQMEmulator) -> None:
    set_iqm_config(token=TOKEN)
    _runs_a_job(IQMBackend(token_emulator.root_url, device=token_emulator.devices[0]))


def test_wrong_token_is_a_401(token_emulator: IQMEmulator) -> None:
    with pytest.raises(IQMAuthenticationError) as raised:
        IQMBackend(token_emulator.root_url, device=token_emulator.devices[0], token="not-the-token")
    assert "not-the-token" not in str(raised.value)


def test_missing_token_is_a_401(token_emulator: IQMEmulator) -> None:
    with pytest.raises(IQMAuthenticationError):
        IQMBackend(token_emulator.root_url, device=token_emulator.devices[0])


@only_rest_v1
def test_login_with_username_and_password(login_emulator: IQMEmulator) -> None:
    with IQMBackend(
        login_emulator.root_url,
        device=login_emulator.devices[0],
        auth_server_url=login_emulator.base_url,
        username="alice",
        password=USERS["alice"],
    ) as backend:
        _runs_a_job(backend)


@only_rest_v1
def test_login_from_environment_variables(
    login_emulator: IQMEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IQM_AUTH_SERVER", login_emulator.base_url)
    monkeypatch.setenv("IQM_AUTH_USERNAME", "alice")
    monkeypatch.setenv("IQM_AUTH_PASSWORD", USERS["alice"])
    with IQMBackend(login_emulator.root_url, device=login_emulator.devices[0]) as backend:
        _runs_a_job(backend)


@only_rest_v1
def test_login_from_config_with_password_argument(login_emulator: IQMEmulator) -> None:
    set_iqm_config(auth_server_url=login_emulator.base_url, username="alice")
    with IQMBackend(
        login_emulator.root_url, device=login_emulator.devices[0], password=USERS["alice"]
    ) as backend:
        _runs_a_job(backend)


@only_rest_v1
def test_wrong_password(login_emulator: IQMEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    issuer = login_emulator.app.state.emulator.issuer
    logins: list[str] = []
    real_login = issuer.login

    def counted_login(username: str, password: str) -> dict[str, object]:
        logins.append(username)
        answer: dict[str, object] = real_login(username, password)
        return answer

    monkeypatch.setattr(issuer, "login", counted_login)
    with pytest.raises(IQMAuthenticationError) as raised:
        IQMBackend(
            login_emulator.root_url,
            device=login_emulator.devices[0],
            auth_server_url=login_emulator.base_url,
            username="alice",
            password="wrong password",
        )
    assert "wrong password" not in str(raised.value)
    assert logins == ["alice"]  # one login request per IQMBackend(...), not four


def test_half_given_login_fails_before_any_request(login_emulator: IQMEmulator) -> None:
    with pytest.raises(IQMCredentialsError, match="but password missing"):
        IQMBackend(
            login_emulator.root_url,
            device=login_emulator.devices[0],
            auth_server_url=login_emulator.base_url,
            username="alice",
        )


@only_rest_v1
def test_job_api_refuses_requests_without_the_issued_token(login_emulator: IQMEmulator) -> None:
    with pytest.raises(IQMAuthenticationError):
        IQMBackend(login_emulator.root_url, device=login_emulator.devices[0])


def _write_tokens_file(path: Path, tokens: dict[str, str], base_url: str) -> None:
    path.write_text(
        json.dumps(
            {
                "pid": 1,
                "timestamp": "2026-11-21T00:00:00",
                "refresh_status": "SUCCESS",
                "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
                "auth_server_url": base_url,
            }
        )
    )
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)


@only_rest_v1
def test_tokens_file_argument(login_emulator: IQMEmulator, tmp_path: Path) -> None:
    tokens_file = tmp_path / "tokens.json"
    _write_tokens_file(
        tokens_file,
        _issued_tokens(login_emulator, "alice", USERS["alice"]),
        login_emulator.base_url,
    )
    _runs_a_job(
        IQMBackend(
            login_emulator.root_url, device=login_emulator.devices[0], tokens_file=str(tokens_file)
        )
    )


@only_rest_v1
def test_tokens_file_environment_with_other_variables_set(
    login_emulator: IQMEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pytket-iqm 0.18: IQM_TOKENS_FILE always failed because two sources reached iqm-client.
    tokens_file = tmp_path / "tokens.json"
    _write_tokens_file(
        tokens_file,
        _issued_tokens(login_emulator, "alice", USERS["alice"]),
        login_emulator.base_url,
    )
    monkeypatch.setenv("IQM_TOKENS_FILE", str(tokens_file))
    monkeypatch.setenv("IQM_TOKEN", "a-stale-token")
    monkeypatch.setenv("IQM_AUTH_USERNAME", "alice")
    _runs_a_job(IQMBackend(login_emulator.root_url, device=login_emulator.devices[0]))
    # The variables are back in place after the client was built.
    assert os.environ["IQM_TOKEN"] == "a-stale-token"


@only_server_api
def test_the_iqm_server_api_refuses_a_login_before_any_request(
    token_emulator: IQMEmulator,
) -> None:
    requests_before = token_emulator.faults.requests.copy()
    with pytest.raises(IQMCredentialsError) as info:
        IQMBackend(
            token_emulator.root_url,
            device="garnet",
            auth_server_url=token_emulator.base_url,
            username="alice",
            password="secret-password",
        )
    message = str(info.value)
    assert message.startswith("Got an auth server login from argument (username and password)")
    assert "authenticates with tokens only: pass token=... or tokens_file=..." in message
    assert "secret-password" not in message
    assert token_emulator.faults.requests == requests_before  # nothing was sent
