"""pytket-iqm's entry in pytket's extension config file (key ``iqm``).

The file is pytket's own (``~/.config/pytket/config.json``, or under ``$XDG_CONFIG_HOME``). Because
it may hold a password or a token, :func:`set_iqm_config` always leaves it readable and writable
by its owner only.

pytket-iqm 0.18 stored its token under the key ``api_token``; such a file is read as the token,
and ``api_token`` is accepted wherever ``token`` is (giving both, different, is an error).
The documented import path ``pytket.extensions.iqm.backends.config`` re-exports this module.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from pytket.config.pytket_config import PytketConfig, PytketExtConfig, get_config_file_path

from pytket.extensions.iqm.errors import IQMCredentialsError

_SECRET_FIELDS = frozenset({"password", "token"})

LEGACY_TOKEN_KEY = "api_token"  # noqa: S105 - a key name, not a secret
"""pytket-iqm 0.18's name for the token, in its config file and its arguments."""


@dataclass(init=False)
class IQMConfig(PytketExtConfig):
    """Stored defaults for :class:`~pytket.extensions.iqm.IQMBackend` credentials.

    Secrets (``password``, ``token``) never appear in ``repr`` or ``str``.

    :param auth_server_url: URL of the authentication server (username/password login).
    :param username: user name on the authentication server.
    :param password: password on the authentication server.
    :param token: a bearer token for the IQM server.
    :param api_token: pytket-iqm 0.18's name for ``token``.
    :raises IQMCredentialsError: ``token`` and ``api_token`` are both given and differ.
    """

    ext_dict_key: ClassVar[str] = "iqm"

    auth_server_url: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def __init__(
        self,
        auth_server_url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        *,
        api_token: str | None = None,
    ) -> None:
        self.auth_server_url = auth_server_url
        self.username = username
        self.password = password
        self.token = same_token(token, api_token)

    @property
    def api_token(self) -> str | None:
        """pytket-iqm 0.18's name for :attr:`token`."""
        return self.token

    @api_token.setter
    def api_token(self, value: str | None) -> None:
        self.token = value

    @classmethod
    def from_extension_dict(cls, ext_dict: dict[str, Any]) -> IQMConfig:
        """Build from the ``iqm`` entry of pytket's config file (unknown keys are ignored; 0.18's
        ``api_token`` is the token)."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in ext_dict.items() if key in known}
        if ext_dict.get(LEGACY_TOKEN_KEY) and not values.get("token"):
            values["token"] = ext_dict[LEGACY_TOKEN_KEY]
        return cls(**values)

    @classmethod
    def from_default_config_file(cls) -> IQMConfig:
        """Load the stored config; an absent or empty config file gives an empty config."""
        path = get_config_file_path()
        if not path.exists():
            return cls()
        return cls.from_pytketconfig(PytketConfig.read_file(path))

    def __repr__(self) -> str:
        shown = []
        for config_field in fields(self):
            value = getattr(self, config_field.name)
            hidden = config_field.name in _SECRET_FIELDS and value
            shown.append(f"{config_field.name}={'***' if hidden else repr(value)}")
        return f"IQMConfig({', '.join(shown)})"

    __str__ = __repr__

    def update_default_config_file(self) -> None:
        """Store this config in pytket's config file, owner-only permissions."""
        path = get_config_file_path()
        pytket_config = PytketConfig.read_file(path) if path.exists() else PytketConfig()
        self.update_pytket_config(pytket_config)
        _write_private_json(path, {"extensions": pytket_config.extensions})


def set_iqm_config(
    auth_server_url: str | None = None,
    username: str | None = None,
    password: str | None = None,
    token: str | None = None,
    *,
    api_token: str | None = None,
) -> None:
    """Store default credentials for IQM servers in pytket's config file.

    Only the fields given (not ``None``) are changed; the others keep their stored values. The file
    is written with owner-only permissions (``0600``), since it may hold a password or a token.

    :param auth_server_url: URL of the authentication server.
    :param username: user name on the authentication server.
    :param password: password on the authentication server.
    :param token: a bearer token for the IQM server.
    :param api_token: pytket-iqm 0.18's name for ``token``.
    :raises IQMCredentialsError: ``token`` and ``api_token`` are both given and differ.
    """
    token = same_token(token, api_token)
    config = IQMConfig.from_default_config_file()
    updates = {
        "auth_server_url": auth_server_url,
        "username": username,
        "password": password,
        "token": token,
    }
    for name, value in updates.items():
        if value is not None:
            setattr(config, name, value)
    config.update_default_config_file()


def same_token(token: str | None, api_token: str | None) -> str | None:
    """The token given as ``token`` or as 0.18's ``api_token`` (the same credential).

    :raises IQMCredentialsError: both are given and differ.
    """
    if token and api_token and token != api_token:
        raise IQMCredentialsError(
            "token and api_token are the same credential (api_token is pytket-iqm 0.18's name "
            "for it), but two different values were given: pass one of them."
        )
    return token or api_token


def _write_private_json(path: Path, content: dict[str, Any]) -> None:
    """Write JSON so that no other user can read it at any moment, even briefly.

    The directory is made owner-only too: pytket creates it (``0755``) on import, before any
    secret is written, and others could otherwise list it and watch the file change.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            json.dump(content, stream, indent=2)
        os.chmod(temporary, 0o600)  # O_CREAT's mode is masked by umask; make it exact
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
