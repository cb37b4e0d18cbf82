"""Bearer-token checks and an emulated Keycloak-style token issuer.

Three modes (see :class:`~pytket.extensions.iqm.emulator.config.EmulatorConfig`): open (no
check), a fixed token, and users with passwords who log in at the emulated auth server and get
JWT-shaped access and refresh tokens. Tokens are signed with HMAC-SHA256 under a key made fresh
for each server process, so tokens do not outlive the server. All secret comparisons are
constant-time, and no secret ever goes into a message, a log line or a ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pytket.extensions.iqm.emulator.jobs.store import SHARED_OWNER

ACCESS = "Bearer"
"""``typ`` claim of access tokens."""
REFRESH = "Refresh"
"""``typ`` claim of refresh tokens."""
CLIENT_ID = "iqm_client"
"""The only client id the emulated auth server accepts (hard-coded in iqm-client)."""

# Bytes whose standard base64 encoding can produce '+' or '/': a low nibble of 0xF in the
# second byte of a 3-byte group, or one of these as the third byte. Escaping them in the JSON
# text as \\u00XX makes the payload's standard and URL-safe base64 identical (iqm-client decodes
# with the standard alphabet, which silently drops '-' and '_').
_BASE64_RISKY = "/?O_o>~\x7f"


class AuthenticationError(Exception):
    """A request's credentials are missing, wrong, expired or revoked.

    The message says which, never what the secret was.
    """


class InvalidGrantError(Exception):
    """The auth server refuses a login or refresh; the message is the OAuth error description."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_payload(claims: Mapping[str, Any]) -> str:
    """The JWT payload segment of ``claims``, decodable by standard and URL-safe base64 alike.

    :param claims: JSON-serialisable claims.
    :return: unpadded base64 text without ``+``, ``/``, ``-`` or ``_``.
    """
    text = json.dumps(dict(claims), separators=(",", ":"), ensure_ascii=True)
    for char in _BASE64_RISKY:
        text = text.replace(char, f"\\u{ord(char):04x}")
    return _b64(text.encode("ascii"))


@dataclass(frozen=True)
class TokenClaims:
    """What the server learns from a valid token it issued."""

    subject: str
    session: str
    token_type: str
    expires: int
    token_id: str


class TokenIssuer:
    """Issues, checks, refreshes and revokes JWT-shaped tokens for a fixed set of users.

    :param users: username → password.
    :param access_lifetime: seconds an access token is valid.
    :param refresh_lifetime: seconds a refresh token is valid.
    :param clock: time source (seconds since the epoch); tests may replace it.
    """

    def __init__(
        self,
        users: Mapping[str, str],
        *,
        access_lifetime: int = 300,
        refresh_lifetime: int = 1800,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._users = {user: password.encode() for user, password in users.items()}
        self._key = secrets.token_bytes(32)
        self._access_lifetime = access_lifetime
        self._refresh_lifetime = refresh_lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._revoked_sessions: set[str] = set()
        self._used_refresh_ids: set[str] = set()

    def __repr__(self) -> str:
        return f"TokenIssuer(users={len(self._users)})"

    def _sign(self, signing_input: str) -> str:
        return _b64(hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest())

    def _make_token(self, subject: str, session: str, token_type: str, lifetime: int) -> str:
        now = int(self._clock())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = encode_payload(
            {
                "exp": now + lifetime,
                "iat": now,
                "jti": str(uuid.uuid4()),
                "sid": session,
                "sub": subject,
                "typ": token_type,
                "azp": CLIENT_ID,
            }
        )
        signing_input = f"{header}.{payload}"
        return f"{signing_input}.{self._sign(signing_input)}"

    def _token_pair(self, subject: str, session: str) -> dict[str, Any]:
        return {
            "access_token": self._make_token(subject, session, ACCESS, self._access_lifetime),
            "expires_in": self._access_lifetime,
            "refresh_token": self._make_token(subject, session, REFRESH, self._refresh_lifetime),
            "refresh_expires_in": self._refresh_lifetime,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": session,
            "scope": "openid profile email",
        }

    def decode(self, token: str, expected_type: str) -> TokenClaims:
        """Check a token's signature, type, expiry and session, and return its claims.

        :raises AuthenticationError: if the token is malformed, forged, of the other type,
            expired or revoked.
        """
        if not token.isascii():
            # Tokens are ASCII; a header's other bytes reach here decoded as Latin-1.
            raise AuthenticationError("The token has characters outside ASCII.")
        parts = token.split(".")
        if len(parts) != 3:
            raise AuthenticationError("The token is not a JWT (expected header.payload.signature).")
        signature = self._sign(f"{parts[0]}.{parts[1]}")
        if not hmac.compare_digest(signature.encode(), parts[2].encode("ascii", "replace")):
            raise AuthenticationError("The token was not issued by this server.")
        try:
            claims = json.loads(_unb64(parts[1]))
            subject = str(claims["sub"])
            session = str(claims["sid"])
            token_type = str(claims["typ"])
            expires = int(claims["exp"])
            token_id = str(claims["jti"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise AuthenticationError("The token's payload is malformed.") from None
        if token_type != expected_type:
            kind = "an access" if expected_type == ACCESS else "a refresh"
            raise AuthenticationError(f"The token is not {kind} token.")
        if expires <= self._clock():
            raise AuthenticationError("The token has expired; log in again.")
        with self._lock:
            if session in self._revoked_sessions:
                raise AuthenticationError("The token's session has been logged out.")
            if token_type == REFRESH and token_id in self._used_refresh_ids:
                raise AuthenticationError("The refresh token has already been used.")
        return TokenClaims(subject, session, token_type, expires, token_id)

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Password grant: a new session's token response.

        :raises InvalidGrantError: if the username or password is wrong.
        """
        # Compare against a dummy for unknown users too, so timing does not reveal who exists.
        expected = self._users.get(username, b"\x00" * 32)
        matches = hmac.compare_digest(expected, password.encode())
        if not matches or username not in self._users:
            raise InvalidGrantError("Invalid user credentials")
        return self._token_pair(username, str(uuid.uuid4()))

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Refresh grant: new tokens for the same session; the old refresh token is spent.

        :raises InvalidGrantError: if the refresh token is not valid.
        """
        try:
            claims = self.decode(refresh_token, REFRESH)
        except AuthenticationError as error:
            raise InvalidGrantError(f"Invalid refresh token: {error}") from None
        with self._lock:
            if claims.token_id in self._used_refresh_ids:
                raise InvalidGrantError("Invalid refresh token: it has already been used.")
            self._used_refresh_ids.add(claims.token_id)
        return self._token_pair(claims.subject, claims.session)

    def logout(self, refresh_token: str) -> None:
        """End the refresh token's session: its access and refresh tokens stop working.

        :raises InvalidGrantError: if the refresh token is not valid.
        """
        try:
            claims = self.decode(refresh_token, REFRESH)
        except AuthenticationError as error:
            raise InvalidGrantError(f"Invalid refresh token: {error}") from None
        with self._lock:
            self._revoked_sessions.add(claims.session)


class BearerAuth:
    """The job API's check of the ``Authorization`` header.

    :param token: the fixed token accepted, if any.
    :param issuer: the token issuer whose access tokens are accepted, if any.
        With neither, every request is accepted.
    """

    def __init__(self, token: str | None, issuer: TokenIssuer | None) -> None:
        self._token = token.encode() if token is not None else None
        self._issuer = issuer

    def __repr__(self) -> str:
        mode = "open" if not self.required else "token" if self._issuer is None else "users"
        return f"BearerAuth(mode={mode!r})"

    @property
    def required(self) -> bool:
        """Whether requests need a token at all."""
        return self._token is not None or self._issuer is not None

    def check(self, authorization: str | None) -> str:
        """Accept or refuse a request by its ``Authorization`` header value; returns who it
        is: the token's subject (a user of the auth server), or ``shared_owner`` when there are
        no users (open mode, or the fixed token): :data:`~.jobs.store.SHARED_OWNER`.

        :raises AuthenticationError: if a token is required and this one is not acceptable.
        """
        if not self.required:
            return SHARED_OWNER
        if not authorization:
            raise AuthenticationError("Missing 'Authorization: Bearer <token>' header.")
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise AuthenticationError("The Authorization header must be 'Bearer <token>'.")
        # Compared as bytes: the header's bytes, which the server decoded as Latin-1.
        presented = credential.encode("latin-1", "replace")
        if self._token is not None and hmac.compare_digest(self._token, presented):
            return SHARED_OWNER
        if self._issuer is not None:
            return self._issuer.decode(credential, ACCESS).subject
        raise AuthenticationError("Invalid token.")
