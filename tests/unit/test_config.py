"""IQMConfig in pytket's config file: partial updates, owner-only files, no secrets in repr."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from pytket.extensions.iqm import IQMConfig, set_iqm_config


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path / "pytket" / "config.json"


def test_missing_file_gives_empty_config(config_home: Path) -> None:
    assert IQMConfig.from_default_config_file() == IQMConfig()
    assert not config_home.exists()


def test_set_updates_only_given_fields(config_home: Path) -> None:
    set_iqm_config(auth_server_url="https://auth.example", username="alice", password="pw1")
    set_iqm_config(password="pw2")
    assert IQMConfig.from_default_config_file() == IQMConfig(
        auth_server_url="https://auth.example", username="alice", password="pw2"
    )


def test_file_is_owner_only_and_keeps_other_extensions(config_home: Path) -> None:
    # pytket creates its directory 0755 on import, before any secret is written.
    config_home.parent.mkdir(mode=0o755, parents=True)
    config_home.parent.chmod(0o755)
    config_home.write_text(json.dumps({"extensions": {"quantinuum": {"username": "q"}}}))
    config_home.chmod(0o644)
    set_iqm_config(token="tok")
    assert stat.S_IMODE(config_home.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_home.parent.stat().st_mode) == 0o700
    stored = json.loads(config_home.read_text())
    assert stored["extensions"]["quantinuum"] == {"username": "q"}
    assert stored["extensions"]["iqm"]["token"] == "tok"


def test_new_config_directory_is_owner_only(config_home: Path) -> None:
    set_iqm_config(username="bob")
    assert stat.S_IMODE(config_home.parent.stat().st_mode) == 0o700


def test_repr_hides_secrets() -> None:
    config = IQMConfig(auth_server_url="https://a", username="u", password="s3cr3t", token="t0k3n")
    text = repr(config)
    assert "s3cr3t" not in text
    assert "t0k3n" not in text
    assert "username='u'" in text
    assert "password=***" in text
    assert "s3cr3t" not in str(config)


def test_018_api_token_key_is_read_as_the_token(config_home: Path) -> None:
    config_home.parent.mkdir(parents=True)
    config_home.write_text(json.dumps({"extensions": {"iqm": {"api_token": "old"}}}))
    assert IQMConfig.from_default_config_file().token == "old"
    set_iqm_config(api_token="new")
    assert IQMConfig.from_default_config_file() == IQMConfig(token="new")
    assert IQMConfig.from_default_config_file().api_token == "new"
    assert "new" not in repr(IQMConfig(api_token="new"))
