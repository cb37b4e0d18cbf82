"""What the fuzz modules share: the fuzzed emulator's configuration, a token of its auth
server, valid jobs of both API lines, and the check every answer must pass."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from auth_support import password_login

from pytket.extensions.iqm.emulator import IQMEmulator

USERS = {"fuzzer": "fuzz-password"}
CONFIG: dict[str, Any] = {
    "devices": ("garnet",),
    "auth_users": USERS,
    "noise": False,
    "seed": 1,
    "max_shots": 200,
    "max_circuits": 3,
    "max_active_qubits": 6,
    "stage_delay": 0.0,
    "max_body_bytes": 64 * 1024,
}
"""Small limits, so that the jobs fuzzed requests create finish fast."""

REST_V1_JOB: dict[str, Any] = {
    "circuits": [
        {
            "name": "x",
            "instructions": [
                {"name": "prx", "qubits": ["QB1"], "args": {"angle_t": 0.5, "phase_t": 0}},
                {"name": "measure", "qubits": ["QB1"], "args": {"key": "m"}},
            ],
        }
    ],
    "shots": 3,
}
"""A valid ``POST /{device}/jobs`` body (X on QB1, measured)."""

SERVER_API_JOB: dict[str, Any] = {
    "circuits": [
        {
            "name": "x",
            "instructions": [
                {"name": "prx", "locus": ["QB1"], "args": {"angle": 3.14159, "phase": 0}},
                {"name": "measure", "locus": ["QB1"], "args": {"key": "m"}},
            ],
        }
    ],
    "shots": 3,
}
"""A valid ``POST /api/v1/jobs/{qc}/circuit`` body (X on QB1, measured)."""

NOT_EMULATED = re.compile(r"^GET /api/v1/quantum-computers/[^/]+/artifacts/settings$")
"""Pulse-level settings are documented as not emulated: 501 is their answer, not a failure."""


def fuzz_emulator(**changes: Any) -> IQMEmulator:
    """An emulator (not started) with :data:`CONFIG` and ``changes``."""
    config = {k: v for k, v in CONFIG.items() if k != "devices"} | changes
    return IQMEmulator("garnet", **config)


def access_token(server: IQMEmulator) -> str:
    """A fresh access token of ``server``'s auth server for the user of :data:`USERS`."""
    ((username, password),) = USERS.items()
    answer = password_login(server, username, password)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def check_answer(response: Any, where: str, seen: Counter[str]) -> None:
    """Fail unless ``response`` is below 500 (or the documented 501 of ``NOT_EMULATED``) and,
    if a 4xx, a JSON object with a non-empty message; counts it in ``seen`` by status class."""
    status = response.status_code
    if status == 501 and NOT_EMULATED.match(where):
        seen["501 not emulated"] += 1
        return
    seen[f"{status // 100}xx"] += 1
    assert status < 500, f"{where} answered {status}: {response.text[:500]}"
    if 400 <= status < 500:
        try:
            body = response.json()
        except ValueError:
            pytest.fail(f"{where} answered {status} with a non-JSON body: {response.text[:200]}")
        assert isinstance(body, dict), f"{where} answered {status} with {body!r}"
        message = body.get("message", body.get("error_description"))
        assert isinstance(message, str), f"{where} answered {status} without a message: {body}"
        assert message, f"{where} answered {status} with an empty message"
