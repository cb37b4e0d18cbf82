"""Authentication modes through the real IQMClient: fixed token, emulated auth server with
users, tokens files; plus the token format and the issuer's rules."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from iqm_client_line import require_iqm_client_22

require_iqm_client_22()

from iqm.iqm_client import ClientAuthenticationError, IQMClient, Status  # noqa: E402
from iqm.iqm_client.authentication import TokenManager  # noqa: E402

from pytket.extensions.iqm.emulator import IQMEmulator  # noqa: E402
from pytket.extensions.iqm.emulator.config import EmulatorConfig  # noqa: E402
from pytket.extensions.iqm.emulator.http.tokens import (  # noqa: E402
    AuthenticationError,
    BearerAuth,
    InvalidGrantError,
    TokenIssuer,
    encode_payload,
)

ClientFactory = Callable[..., IQMClient]
SECRET = "s3cret-token"
USERS = {"alice": "wonderland", "o_O?>~/bob": "pa ss"}
TOKEN_PATH = "/realms/cortex/protocol/openid-connect/token"
LOGOUT_PATH = "/realms/cortex/protocol/openid-connect/logout"


@pytest.fixture(scope="module")
def token_emulator() -> Iterator[IQMEmulator]:
    with IQMEmulator("garnet", token=SECRET, noise=False, stage_delay=0) as emu:
        yield emu


@pytest.fixture(scope="module")
def users_emulator() -> Iterator[IQMEmulator]:
    with IQMEmulator("garnet", auth_users=USERS, noise=False, stage_delay=0) as emu:
        yield emu


def _login(emu: IQMEmulator, username: str, password: str) -> httpx.Response:
    form = {
        "client_id": "iqm_client",
        "grant_type": "password",
        "username": username,
        "password": password,
    }
    return httpx.post(emu.base_url + TOKEN_PATH, data=form)


def _run_one(client: IQMClient, native: SimpleNamespace) -> Status:
    return client.wait_for_results(
        client.submit_circuits([native.x_then_measure()], shots=2)
    ).status


# --- fixed token -------------------------------------------------------------------------------


def test_fixed_token_accepted(
    token_emulator: IQMEmulator, client_for: ClientFactory, native: SimpleNamespace
) -> None:
    client = client_for(token_emulator.url, token=SECRET)
    assert _run_one(client, native) == Status.READY
    assert client.get_static_quantum_architecture().qubits[0] == "QB1"


@pytest.mark.parametrize("token", [None, "wrong", SECRET + "x", SECRET[:-1]])
def test_fixed_token_refuses_other_or_missing_tokens(
    token_emulator: IQMEmulator,
    client_for: ClientFactory,
    native: SimpleNamespace,
    token: str | None,
) -> None:
    client = client_for(token_emulator.url, token=token)
    with pytest.raises(ClientAuthenticationError, match="Authentication failed"):
        client.get_dynamic_quantum_architecture()
    with pytest.raises(ClientAuthenticationError, match="Authentication failed"):
        client.submit_run_request(native.run_request(circuits=[native.x_then_measure()], shots=1))


def test_401_body_is_json_and_leaks_no_secret(token_emulator: IQMEmulator) -> None:
    answer = httpx.get(
        token_emulator.url + "/api/v1/quantum-architecture",
        headers={"Authorization": "Bearer not-the-" + SECRET},
    )
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json() == {"message": "Authentication failed: Invalid token."}
    assert SECRET not in answer.text
    missing = httpx.get(token_emulator.url + "/api/v1/quantum-architecture")
    assert missing.json() == {
        "message": "Authentication failed: Missing 'Authorization: Bearer <token>' header."
    }
    basic = httpx.get(
        token_emulator.url + "/api/v1/quantum-architecture", headers={"Authorization": "Basic eA=="}
    )
    assert basic.json() == {
        "message": "Authentication failed: The Authorization header must be 'Bearer <token>'."
    }


def test_open_pages_need_no_token(token_emulator: IQMEmulator) -> None:
    assert httpx.get(token_emulator.base_url + "/health").status_code == 200
    assert httpx.get(token_emulator.url + "/info/client-libraries").status_code == 200
    assert httpx.get(token_emulator.base_url + "/").json()["auth"] == "token"


def test_secrets_stay_out_of_reprs() -> None:
    config = EmulatorConfig(token=SECRET, auth_users=USERS)
    assert SECRET not in repr(config)
    assert "wonderland" not in repr(config)
    emulator = IQMEmulator("adonis", token=SECRET, auth_users=USERS)
    assert SECRET not in repr(emulator)
    assert "wonderland" not in repr(emulator)
    assert repr(BearerAuth(SECRET, None)) == "BearerAuth(mode='token')"


# --- emulated auth server ----------------------------------------------------------------------


def test_username_password_login_runs_jobs(
    users_emulator: IQMEmulator, client_for: ClientFactory, native: SimpleNamespace
) -> None:
    client = client_for(
        users_emulator.url,
        auth_server_url=users_emulator.auth_server_url,
        username="alice",
        password="wonderland",
    )
    assert _run_one(client, native) == Status.READY
    assert client.close_auth_session() is True


def test_wrong_password_is_refused(users_emulator: IQMEmulator, client_for: ClientFactory) -> None:
    # The constructor's version check already needs a token: it warns, it does not raise.
    with pytest.warns(UserWarning, match="Getting access token from auth server failed"):
        client = client_for(
            users_emulator.url,
            auth_server_url=users_emulator.auth_server_url,
            username="alice",
            password="rabbit",
        )
    with pytest.raises(
        ClientAuthenticationError, match="Getting access token from auth server failed"
    ):
        client.get_dynamic_quantum_architecture()
    answer = _login(users_emulator, "alice", "rabbit")
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid user credentials",
    }
    assert "rabbit" not in answer.text
    assert _login(users_emulator, "mallory", "wonderland").status_code == 401


def test_job_api_needs_an_issued_token(
    users_emulator: IQMEmulator, client_for: ClientFactory
) -> None:
    with pytest.raises(ClientAuthenticationError, match="Authentication failed"):
        client_for(users_emulator.url).get_dynamic_quantum_architecture()
    forged = "e30." + encode_payload({"exp": int(time.time()) + 600, "sub": "alice"}) + ".sig"
    with pytest.raises(ClientAuthenticationError, match="not issued by this server"):
        client_for(users_emulator.url, token=forged).get_dynamic_quantum_architecture()


def test_token_response_shape_and_jwt_payload(users_emulator: IQMEmulator) -> None:
    answer = _login(users_emulator, "o_O?>~/bob", "pa ss")
    assert answer.status_code == 200
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 300
    assert tokens["refresh_expires_in"] == 1800
    for name, lifetime in (("access_token", 300), ("refresh_token", 1800)):
        _header, payload, _signature = tokens[name].split(".")
        # iqm-client decodes with the standard alphabet, which drops '-' and '_'.
        assert not set(payload) & set("-_+/=")
        claims = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
        assert claims["sub"] == "o_O?>~/bob"
        assert isinstance(claims["exp"], int)
        assert claims["jti"]
        assert lifetime - 5 <= TokenManager.time_left_seconds(tokens[name]) <= lifetime


def test_refresh_grant_and_single_use_refresh_tokens(users_emulator: IQMEmulator) -> None:
    first = _login(users_emulator, "alice", "wonderland").json()
    form = {
        "client_id": "iqm_client",
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
    }
    refreshed = httpx.post(users_emulator.base_url + TOKEN_PATH, data=form)
    assert refreshed.status_code == 200
    new_access = refreshed.json()["access_token"]
    ok = httpx.get(
        users_emulator.url + "/api/v1/quantum-architecture",
        headers={"Authorization": f"Bearer {new_access}"},
    )
    assert ok.status_code == 200
    replay = httpx.post(users_emulator.base_url + TOKEN_PATH, data=form)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # An access token is not a refresh token.
    wrong_kind = httpx.post(
        users_emulator.base_url + TOKEN_PATH, data={**form, "refresh_token": new_access}
    )
    assert wrong_kind.status_code == 400


def test_token_endpoint_refuses_bad_forms(users_emulator: IQMEmulator) -> None:
    url = users_emulator.base_url + TOKEN_PATH
    bad_client = httpx.post(url, data={"client_id": "other", "grant_type": "password"})
    assert bad_client.status_code == 401
    assert bad_client.json()["error"] == "invalid_client"
    bad_grant = httpx.post(url, data={"client_id": "iqm_client", "grant_type": "implicit"})
    assert bad_grant.status_code == 400
    assert bad_grant.json()["error"] == "unsupported_grant_type"
    missing = httpx.post(url, data={"client_id": "iqm_client", "grant_type": "password"})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"


def test_logout_revokes_the_session(users_emulator: IQMEmulator) -> None:
    tokens = _login(users_emulator, "alice", "wonderland").json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    url = users_emulator.url + "/api/v1/quantum-architecture"
    assert httpx.get(url, headers=headers).status_code == 200
    logout = httpx.post(
        users_emulator.base_url + LOGOUT_PATH,
        data={"client_id": "iqm_client", "refresh_token": tokens["refresh_token"]},
    )
    assert logout.status_code == 204
    after = httpx.get(url, headers=headers)
    assert after.status_code == 401
    assert after.json() == {
        "message": "Authentication failed: The token's session has been logged out."
    }
    again = httpx.post(
        users_emulator.base_url + LOGOUT_PATH,
        data={"client_id": "iqm_client", "refresh_token": tokens["refresh_token"]},
    )
    assert again.status_code == 400


def test_client_logout_revokes_its_access_token(
    users_emulator: IQMEmulator, client_for: ClientFactory
) -> None:
    client = client_for(
        users_emulator.url,
        auth_server_url=users_emulator.auth_server_url,
        username="alice",
        password="wonderland",
    )
    client.get_dynamic_quantum_architecture()
    bearer = client._token_manager.get_bearer_token()
    assert bearer is not None
    assert client.close_auth_session() is True
    answer = httpx.get(
        users_emulator.url + "/quantum-architecture", headers={"Authorization": bearer}
    )
    assert answer.status_code == 401


def test_tokens_file_with_issued_token(
    users_emulator: IQMEmulator, client_for: ClientFactory, native: SimpleNamespace, tmp_path: Path
) -> None:
    tokens = _login(users_emulator, "alice", "wonderland").json()
    path = tmp_path / "tokens.json"
    path.write_text(
        json.dumps(
            {
                "pid": 1,
                "timestamp": "2026-01-01T00:00:00",
                "refresh_status": "SUCCESS",
                "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
                "auth_server_url": users_emulator.auth_server_url,
            }
        )
    )
    client = client_for(users_emulator.url, tokens_file=str(path))
    assert _run_one(client, native) == Status.READY
    with pytest.raises(
        ClientAuthenticationError, match="Can not close externally managed auth session"
    ):
        client.close_auth_session()


def test_auth_server_absent_in_open_mode(emulator: IQMEmulator, client_for: ClientFactory) -> None:
    answer = _login(emulator, "alice", "wonderland")
    assert answer.status_code == 404
    assert answer.json() == {
        "message": "This emulator has no auth server; start it with auth_users to enable one."
    }
    with pytest.warns(UserWarning, match="Getting access token from auth server failed"):
        client = client_for(
            emulator.url, auth_server_url=emulator.base_url, username="alice", password="wonderland"
        )
    with pytest.raises(
        ClientAuthenticationError, match="Getting access token from auth server failed"
    ):
        client.get_dynamic_quantum_architecture()


def test_token_and_users_together_accept_both(client_for: ClientFactory) -> None:
    with IQMEmulator("adonis", token=SECRET, auth_users=USERS) as emu:
        assert client_for(emu.url, token=SECRET).get_static_quantum_architecture().qubits
        login = client_for(
            emu.url, auth_server_url=emu.auth_server_url, username="alice", password="wonderland"
        )
        assert login.get_static_quantum_architecture().qubits
        with pytest.raises(ClientAuthenticationError):
            client_for(emu.url, token="nope").get_static_quantum_architecture()


# --- the issuer's rules ------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_access_token_expires() -> None:
    clock = Clock()
    issuer = TokenIssuer({"u": "p"}, access_lifetime=300, refresh_lifetime=1800, clock=clock)
    auth = BearerAuth(None, issuer)
    tokens = issuer.login("u", "p")
    auth.check(f"Bearer {tokens['access_token']}")
    clock.now += 299
    auth.check(f"Bearer {tokens['access_token']}")
    clock.now += 1
    with pytest.raises(AuthenticationError, match=r"The token has expired; log in again\."):
        auth.check(f"Bearer {tokens['access_token']}")
    clock.now += 1500
    with pytest.raises(InvalidGrantError, match="expired"):
        issuer.refresh(tokens["refresh_token"])


def test_refresh_token_is_not_an_access_token() -> None:
    issuer = TokenIssuer({"u": "p"})
    tokens = issuer.login("u", "p")
    with pytest.raises(AuthenticationError, match=r"The token is not an access token\."):
        BearerAuth(None, issuer).check(f"Bearer {tokens['refresh_token']}")


def test_tokens_of_another_server_are_refused() -> None:
    tokens = TokenIssuer({"u": "p"}).login("u", "p")
    with pytest.raises(AuthenticationError, match="not issued by this server"):
        TokenIssuer({"u": "p"}).decode(tokens["access_token"], "Bearer")


@pytest.mark.parametrize("subject", ["o", "oooooooo", "___", "?>~/", "Ω≈ç√", 'a\\b"c', "x" * 97])
def test_payload_encoding_is_base64_alphabet_neutral(subject: str) -> None:
    payload = encode_payload({"sub": subject, "exp": 2_000_000_000, "jti": "ffffffff-ffff"})
    assert not set(payload) & set("-_+/=")
    decoded = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    assert decoded == {"sub": subject, "exp": 2_000_000_000, "jti": "ffffffff-ffff"}
