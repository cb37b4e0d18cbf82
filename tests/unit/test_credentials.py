"""Credential precedence: one source wins; half-given logins and conflicting arguments fail."""

from __future__ import annotations

import pytest

from pytket.extensions.iqm.backends.connection.credentials import Credentials, resolve_credentials
from pytket.extensions.iqm.config import IQMConfig
from pytket.extensions.iqm.errors import IQMCredentialsError

LOGIN_ENV = {
    "IQM_AUTH_SERVER": "https://auth.example",
    "IQM_AUTH_USERNAME": "env-user",
    "IQM_AUTH_PASSWORD": "env-pass",
}


def resolve(
    environment: dict[str, str] | None = None, config: IQMConfig | None = None, **args: str
) -> Credentials:
    return resolve_credentials(environment=environment or {}, config=config or IQMConfig(), **args)


def test_nothing_given_means_no_authentication() -> None:
    credentials = resolve()
    assert credentials.mode == "none"
    assert credentials.client_arguments() == {}


def test_tokens_file_argument_wins_over_everything() -> None:
    credentials = resolve(
        {"IQM_TOKEN": "env-token", **LOGIN_ENV},
        IQMConfig(token="config-token"),
        tokens_file="/tmp/tokens.json",
    )
    assert credentials.client_arguments() == {"tokens_file": "/tmp/tokens.json"}


def test_tokens_file_environment_wins_over_token_argument() -> None:
    # pytket-iqm 0.18 handed both to iqm-client, which refused the mix.
    credentials = resolve({"IQM_TOKENS_FILE": "/tmp/env-tokens.json"}, token="arg-token")
    assert credentials.client_arguments() == {"tokens_file": "/tmp/env-tokens.json"}
    assert credentials.source == "IQM_TOKENS_FILE"


def test_token_argument_then_environment_then_config() -> None:
    config = IQMConfig(token="config-token")
    assert resolve({"IQM_TOKEN": "env"}, config, token="arg").token == "arg"
    assert resolve({"IQM_TOKEN": "env"}, config).token == "env"
    assert resolve({}, config).token == "config-token"


def test_token_wins_over_a_login() -> None:
    credentials = resolve(LOGIN_ENV, IQMConfig(token="config-token"))
    assert credentials.client_arguments() == {"token": "config-token"}


def test_login_fields_come_from_arguments_then_config_then_environment() -> None:
    config = IQMConfig(auth_server_url="https://config-auth.example", username="config-user")
    credentials = resolve(LOGIN_ENV, config, password="arg-pass")
    assert credentials.client_arguments() == {
        "auth_server_url": "https://config-auth.example",
        "username": "config-user",
        "password": "arg-pass",
    }
    assert credentials.source == "auth server login from IQMConfig, argument"


def test_login_entirely_from_environment() -> None:
    credentials = resolve(LOGIN_ENV)
    assert credentials.mode == "auth_server"
    assert credentials.username == "env-user"


def test_half_given_login_names_what_is_missing() -> None:
    with pytest.raises(IQMCredentialsError) as raised:
        resolve(auth_server_url="https://auth.example", username="alice")
    message = str(raised.value)
    assert message.startswith(
        "Incomplete auth server login: auth_server_url (from argument), username (from argument) "
        "given, but password missing."
    )


def test_username_alone_names_both_missing_fields() -> None:
    with pytest.raises(IQMCredentialsError, match="but auth_server_url and password missing"):
        resolve(username="alice")


def test_conflicting_arguments_are_refused() -> None:
    with pytest.raises(
        IQMCredentialsError,
        match=r"Conflicting credentials given as arguments: token and username/password\. "
        r"Give one kind only\.",
    ):
        resolve(token="t", username="u", password="p", auth_server_url="https://a")
    with pytest.raises(IQMCredentialsError, match="tokens_file and token"):
        resolve(token="t", tokens_file="/tmp/f")


def test_auth_server_url_must_be_http() -> None:
    with pytest.raises(IQMCredentialsError, match="auth_server_url must start with http"):
        resolve(auth_server_url="ftp://auth", username="u", password="p")


def test_secrets_are_not_in_repr() -> None:
    token_credentials = resolve(token="s3cr3t-token")
    login = resolve(auth_server_url="https://a", username="u", password="s3cr3t-pass")
    assert "s3cr3t" not in repr(token_credentials)
    assert "s3cr3t" not in repr(login)
