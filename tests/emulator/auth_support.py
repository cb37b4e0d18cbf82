"""Password logins to a running emulator's auth server, over HTTP."""

from __future__ import annotations

import httpx

from pytket.extensions.iqm.emulator import IQMEmulator


def password_login(emulator: IQMEmulator, username: str, password: str) -> httpx.Response:
    """The auth server's answer to a password login (unchecked)."""
    return httpx.post(
        f"{emulator.base_url}/realms/cortex/protocol/openid-connect/token",
        data={
            "client_id": "iqm_client",
            "grant_type": "password",
            "username": username,
            "password": password,
        },
    )


def bearer_headers(emulator: IQMEmulator, username: str, password: str) -> dict[str, str]:
    """The ``Authorization`` header of a fresh access token for the user."""
    answer = password_login(emulator, username, password)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}
