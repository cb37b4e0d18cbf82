"""Security of the emulator: loopback by default, constant-time secret checks, and no secret
in any answer or log line, whatever goes wrong."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from iqm_client_line import require_iqm_client_22

require_iqm_client_22()

from pytket.extensions.iqm import IQMAuthenticationError, IQMBackend  # noqa: E402
from pytket.extensions.iqm.emulator import IQMEmulator, cli  # noqa: E402
from pytket.extensions.iqm.emulator.http import tokens as auth  # noqa: E402

TOKEN = "fixed-TOKEN-7f3a9c"
PASSWORD = "alice-PASSWORD-c41d"
SECRETS = (TOKEN, PASSWORD)


def test_binds_loopback_unless_told_otherwise() -> None:
    assert IQMEmulator().host == "127.0.0.1"
    assert cli.build_parser().parse_args([]).host == "127.0.0.1"


def test_secrets_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real: Callable[[Any, Any], bool] = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # auth.py calls hmac.compare_digest
    bearer = auth.BearerAuth(TOKEN, None)
    bearer.check(f"Bearer {TOKEN}")
    with pytest.raises(auth.AuthenticationError, match="Invalid token"):
        bearer.check("Bearer guess")
    assert compared == [(TOKEN.encode(), TOKEN.encode()), (TOKEN.encode(), b"guess")]
    issuer = auth.TokenIssuer({"alice": PASSWORD})
    compared.clear()
    with pytest.raises(auth.InvalidGrantError):
        issuer.login("alice", "guess")
    with pytest.raises(auth.InvalidGrantError):
        issuer.login("mallory", "guess")  # unknown users are compared too (no timing oracle)
    assert len(compared) == 2
    access = issuer.login("alice", PASSWORD)["access_token"]
    compared.clear()
    issuer.decode(access, auth.ACCESS)
    assert len(compared) == 1  # the signature


def test_no_secret_in_answers_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[httpx.Response] = []
    with IQMEmulator(
        "garnet", token=TOKEN, auth_users={"alice": PASSWORD}, max_body_bytes=4096
    ) as emulator:
        root, url = emulator.base_url, emulator.url
        good = {"Authorization": f"Bearer {TOKEN}"}
        token_url = f"{root}/realms/cortex/protocol/openid-connect/token"
        answers += [
            httpx.get(f"{url}/api/v1/quantum-architecture", headers={"Authorization": "Bearer x"}),
            httpx.get(f"{url}/api/v1/quantum-architecture", headers={"Authorization": TOKEN}),
            httpx.post(f"{url}/jobs", headers=good, content=b"{not json " + TOKEN.encode()),
            httpx.post(f"{url}/jobs", headers=good, json={"circuits": TOKEN, "shots": PASSWORD}),
            httpx.post(f"{url}/jobs", headers=good, content=b"x" * 5000),
            httpx.get(f"{url}/jobs/00000000-0000-0000-0000-000000000000", headers=good),
            httpx.post(
                token_url,
                data={"client_id": "iqm_client", "grant_type": "password", "username": "alice"}
                | {"password": PASSWORD + "x"},
            ),
            httpx.post(
                token_url,
                data={"client_id": "iqm_client", "grant_type": "refresh_token"}
                | {"refresh_token": PASSWORD},
            ),
        ]
        with pytest.raises(IQMAuthenticationError) as refused:
            IQMBackend(url, token=TOKEN + "-wrong")
    assert [a.status_code for a in answers] == [401, 401, 400, 422, 413, 404, 401, 400]
    for answer in answers:
        for secret in SECRETS:
            assert secret not in answer.text, answer.text
    for secret in SECRETS:
        assert secret not in str(refused.value)
        assert secret not in caplog.text
