"""Choosing exactly one source of credentials for an IQM server.

Precedence, highest first:

1. a tokens file: the ``tokens_file`` argument, else ``IQM_TOKENS_FILE``;
2. a token: the ``token`` argument, else ``IQM_TOKEN``, else the stored :class:`IQMConfig` token;
3. an auth server login: each of URL, username and password from the argument, else the stored
   :class:`IQMConfig`, else ``IQM_AUTH_SERVER`` / ``IQM_AUTH_USERNAME`` / ``IQM_AUTH_PASSWORD``;
4. no authentication.

iqm-client refuses credentials that come from two sources (arguments and environment). Because
this module has already chosen one, the client is always handed that one explicitly, with the
``IQM_*`` variables hidden while it is built (see :mod:`.interface`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pytket.extensions.iqm.config import IQMConfig
from pytket.extensions.iqm.errors import IQMCredentialsError

AUTH_ENVIRONMENT_VARIABLES = (
    "IQM_TOKEN",
    "IQM_TOKENS_FILE",
    "IQM_AUTH_SERVER",
    "IQM_AUTH_USERNAME",
    "IQM_AUTH_PASSWORD",
)


@dataclass(frozen=True)
class Credentials:
    """One complete set of credentials, and where it came from. Secrets are kept out of ``repr``."""

    mode: str
    """``"tokens_file"``, ``"token"``, ``"auth_server"`` or ``"none"``."""
    source: str
    """Where the credentials were found, for messages (never the secret itself)."""
    token: str | None = field(default=None, repr=False)
    tokens_file: str | None = None
    auth_server_url: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def client_arguments(self) -> dict[str, str]:
        """Keyword arguments for ``IQMClient`` carrying exactly these credentials."""
        candidates = {
            "token": self.token,
            "tokens_file": self.tokens_file,
            "auth_server_url": self.auth_server_url,
            "username": self.username,
            "password": self.password,
        }
        return {name: value for name, value in candidates.items() if value}


def resolve_credentials(
    *,
    token: str | None = None,
    tokens_file: str | None = None,
    auth_server_url: str | None = None,
    username: str | None = None,
    password: str | None = None,
    environment: Mapping[str, str],
    config: IQMConfig,
) -> Credentials:
    """Pick the one set of credentials to use, following the module's precedence.

    :param environment: the process environment (``os.environ``), passed in for testability.
    :param config: the stored :class:`IQMConfig`.
    :raises IQMCredentialsError: arguments name two different kinds of credentials, or an auth
        server login is half-given (the message names what is missing).
    """
    # An auth server URL alone is harmless: it is used only with a login.
    _check_arguments_agree(token, tokens_file, username, password)

    if tokens_file:
        return Credentials("tokens_file", "the tokens_file argument", tokens_file=tokens_file)
    if environment.get("IQM_TOKENS_FILE"):
        return Credentials(
            "tokens_file", "IQM_TOKENS_FILE", tokens_file=environment["IQM_TOKENS_FILE"]
        )
    if token:
        return Credentials("token", "the token argument", token=token)
    if environment.get("IQM_TOKEN"):
        return Credentials("token", "IQM_TOKEN", token=environment["IQM_TOKEN"])
    if config.token:
        return Credentials("token", "the stored IQMConfig", token=config.token)

    login = {
        "auth_server_url": _first_given(
            ("argument", auth_server_url),
            ("IQMConfig", config.auth_server_url),
            ("IQM_AUTH_SERVER", environment.get("IQM_AUTH_SERVER")),
        ),
        "username": _first_given(
            ("argument", username),
            ("IQMConfig", config.username),
            ("IQM_AUTH_USERNAME", environment.get("IQM_AUTH_USERNAME")),
        ),
        "password": _first_given(
            ("argument", password),
            ("IQMConfig", config.password),
            ("IQM_AUTH_PASSWORD", environment.get("IQM_AUTH_PASSWORD")),
        ),
    }
    given = {name: found for name, found in login.items() if found is not None}
    if not given:
        return Credentials("none", "no credentials given")
    missing = [name for name in login if name not in given]
    if missing:
        have = ", ".join(f"{name} (from {source})" for name, (source, _) in given.items())
        raise IQMCredentialsError(
            f"Incomplete auth server login: {have} given, but {' and '.join(missing)} missing. "
            "Give auth_server_url, username and password together (as arguments, with "
            "set_iqm_config, or as IQM_AUTH_SERVER, IQM_AUTH_USERNAME and IQM_AUTH_PASSWORD), "
            "or use a token instead."
        )
    sources = sorted({source for source, _ in given.values()})
    server_url = given["auth_server_url"][1]
    if not server_url.startswith(("http://", "https://")):
        raise IQMCredentialsError(
            f"auth_server_url must start with http:// or https://, got {server_url!r}."
        )
    return Credentials(
        "auth_server",
        "auth server login from " + ", ".join(sources),
        auth_server_url=server_url,
        username=given["username"][1],
        password=given["password"][1],
    )


def _first_given(*candidates: tuple[str, str | None]) -> tuple[str, str] | None:
    for source, value in candidates:
        if value:
            return source, value
    return None


def _check_arguments_agree(
    token: str | None,
    tokens_file: str | None,
    username: str | None,
    password: str | None,
) -> None:
    kinds = []
    if tokens_file:
        kinds.append("tokens_file")
    if token:
        kinds.append("token")
    if username or password:
        kinds.append("username/password")
    if len(kinds) > 1:
        raise IQMCredentialsError(
            f"Conflicting credentials given as arguments: {' and '.join(kinds)}. "
            "Give one kind only."
        )
