"""The line-independent connection layer (connection/ types, interface, installed): API lines,
the installed iqm-client's line, run options, job states, quality metric values and the hidden
IQM_* environment."""

from __future__ import annotations

import importlib.metadata
import os
import re
from typing import Any

import pytest
from pytket.backends.status import StatusEnum

from pytket.extensions.iqm import IQMBackend, IQMBackendError, IQMClientVersionError
from pytket.extensions.iqm.backends.connection.connect import looks_like_device_name, server_address
from pytket.extensions.iqm.backends.connection.installed import installed_api_line
from pytket.extensions.iqm.backends.connection.interface import (
    hidden_iqm_environment,
    metric_values,
)
from pytket.extensions.iqm.backends.connection.types import (
    SUPPORTED_IQM_CLIENT,
    ApiLine,
    JobState,
    RunOptions,
)

SUPPORTED_HINT = (
    "pytket-iqm supports iqm-client >=36,<37 (the IQM Server API of IQM Resonance, Python "
    "3.11+; what pip install pytket-iqm gets there) and >=22.3,<23 (IQM's REST API of "
    'on-premises servers; pip install pytket-iqm "iqm-client>=22.3,<23"). See "Which IQM API" '
    "in the pytket-iqm docs."
)

# --- API lines ------------------------------------------------------------------------------------


def test_api_lines_values_and_descriptions() -> None:
    assert [(line.value, line.description) for line in ApiLine] == [
        ("iqm-client-22", "the IQM REST API of iqm-client 22.x"),
        ("iqm-server-api", "the IQM Server API of iqm-client 36.x"),
    ]
    assert SUPPORTED_IQM_CLIENT == {
        ApiLine.REST_V1: ">=22.3,<23",
        ApiLine.SERVER_API: ">=36,<37",
    }


def _fake_version(monkeypatch: pytest.MonkeyPatch, installed: str | None) -> list[str]:
    """Make ``importlib.metadata.version`` report ``installed`` (``None``: not installed);
    returns the list of distributions asked about."""
    asked: list[str] = []

    def version(name: str) -> str:
        asked.append(name)
        if installed is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return installed

    monkeypatch.setattr(importlib.metadata, "version", version)
    return asked


@pytest.mark.parametrize(
    ("installed", "line"),
    [
        ("22.16.0", ApiLine.REST_V1),
        ("22.3", ApiLine.REST_V1),
        ("22.99.1.post1", ApiLine.REST_V1),
        ("36.0.0", ApiLine.SERVER_API),
        ("36.4.2", ApiLine.SERVER_API),
    ],
)
def test_installed_api_line_of_supported_versions(
    monkeypatch: pytest.MonkeyPatch, installed: str, line: ApiLine
) -> None:
    asked = _fake_version(monkeypatch, installed)
    assert installed_api_line() is line
    assert asked == ["iqm-client"]


@pytest.mark.parametrize(
    ("installed", "message"),
    [
        ("29.1.0", f"iqm-client 29.1.0 is installed. {SUPPORTED_HINT}"),
        ("22.2.9", f"iqm-client 22.2.9 is installed. {SUPPORTED_HINT}"),
        ("23.0.0", f"iqm-client 23.0.0 is installed. {SUPPORTED_HINT}"),
        ("35.9", f"iqm-client 35.9 is installed. {SUPPORTED_HINT}"),
        ("37.0.0", f"iqm-client 37.0.0 is installed. {SUPPORTED_HINT}"),
        (
            "not-a-version",
            f"iqm-client 'not-a-version' has an unreadable version. {SUPPORTED_HINT}",
        ),
        (None, f"iqm-client is not installed. {SUPPORTED_HINT}"),
    ],
    ids=["29", "22.2", "23", "35", "37", "unreadable", "missing"],
)
def test_installed_api_line_refuses_other_versions(
    monkeypatch: pytest.MonkeyPatch, installed: str | None, message: str
) -> None:
    _fake_version(monkeypatch, installed)
    with pytest.raises(IQMClientVersionError) as info:
        installed_api_line()
    assert str(info.value) == message
    # Catchable as pytket-iqm's error and as the import problem it is.
    assert isinstance(info.value, IQMBackendError)
    assert isinstance(info.value, ImportError)


def test_installed_api_line_matches_the_real_install() -> None:
    major = int(importlib.metadata.version("iqm-client").split(".")[0])
    expected = {22: ApiLine.REST_V1, 36: ApiLine.SERVER_API}[major]
    assert installed_api_line() is expected


def test_backend_refuses_an_unsupported_iqm_client_before_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("IQM_TOKEN", "IQM_TOKENS_FILE", "IQM_AUTH_SERVER", "IQM_AUTH_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    _fake_version(monkeypatch, "29.1.0")
    # Port 9 (discard) has no IQM server: the version check must come first.
    with pytest.raises(IQMClientVersionError) as info:
        IQMBackend("http://127.0.0.1:9/garnet")
    assert str(info.value) == f"iqm-client 29.1.0 is installed. {SUPPORTED_HINT}"


# --- run options ----------------------------------------------------------------------------------


def test_run_options_defaults_and_valid_combinations() -> None:
    assert RunOptions() == RunOptions(
        max_circuit_duration_over_t2=None,
        heralding_mode="none",
        move_validation_mode="strict",
        move_gate_frame_tracking_mode="full",
    )
    for validation in ("strict", "allow_prx"):
        RunOptions(move_validation_mode=validation, move_gate_frame_tracking_mode="full")
    for tracking in ("no_detuning_correction", "none"):
        for validation in ("strict", "allow_prx", "none"):
            RunOptions(move_validation_mode=validation, move_gate_frame_tracking_mode=tracking)
    assert RunOptions(heralding_mode="zeros").heralding_mode == "zeros"
    assert RunOptions(max_circuit_duration_over_t2=0.0).max_circuit_duration_over_t2 == 0.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"heralding_mode": "ones"},
            "heralding_mode must be one of 'none', 'zeros', not 'ones'.",
        ),
        (
            {"heralding_mode": "ZEROS"},
            "heralding_mode must be one of 'none', 'zeros', not 'ZEROS'.",
        ),
        (
            {"move_validation_mode": "lenient"},
            "move_validation_mode must be one of 'strict', 'allow_prx', 'none', not 'lenient'.",
        ),
        (
            {"move_gate_frame_tracking_mode": "partial"},
            "move_gate_frame_tracking_mode must be one of 'full', 'no_detuning_correction', "
            "'none', not 'partial'.",
        ),
        (
            {"max_circuit_duration_over_t2": -1.0},
            "max_circuit_duration_over_t2 must be 0 (off) or positive, not -1.0.",
        ),
        (
            {"max_circuit_duration_over_t2": float("nan")},
            "max_circuit_duration_over_t2 must be 0 (off) or positive, not nan.",
        ),
        (
            {"move_validation_mode": "none"},
            "move_gate_frame_tracking_mode 'full' needs move_validation_mode 'strict' or "
            "'allow_prx', not 'none'; with that validation mode also pass "
            "move_gate_frame_tracking_mode='no_detuning_correction' or 'none'.",
        ),
    ],
    ids=["heralding", "heralding-case", "validation", "tracking", "negative", "nan", "combo"],
)
def test_run_options_refuse_unknown_values(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        RunOptions(**options)
    assert str(info.value) == message


# --- job states and metrics -----------------------------------------------------------------------


@pytest.mark.parametrize("status", list(StatusEnum))
def test_job_state_is_terminal_only_when_completed_failed_or_cancelled(
    status: StatusEnum,
) -> None:
    state = JobState(status=status, server_status="whatever", message=None)
    terminal = {StatusEnum.COMPLETED, StatusEnum.ERROR, StatusEnum.CANCELLED}
    assert state.terminal is (status in terminal)


def test_metric_values_unwraps_entries_and_keeps_plain_values() -> None:
    assert metric_values(
        {
            "metrics.rb.prx.drag_gaussian.QB1.fidelity": {"value": "0.999", "unit": ""},
            "metrics.irb.cz.tgss.QB1__QB2.fidelity": 0.99,
            "characterization.model.QB1.t1_time": {"value": None},
            "metrics.ssro.measure.constant.QB1.error_0_to_1": {"uncertainty": 0.1},
            "some.other.metric": "1",
        }
    ) == {
        "metrics.rb.prx.drag_gaussian.QB1.fidelity": "0.999",
        "metrics.irb.cz.tgss.QB1__QB2.fidelity": 0.99,
        "characterization.model.QB1.t1_time": None,
        "metrics.ssro.measure.constant.QB1.error_0_to_1": None,
        "some.other.metric": "1",
    }
    assert metric_values({}) == {}


# --- IQM_* environment ----------------------------------------------------------------------------

HIDDEN = (
    "IQM_TOKEN",
    "IQM_TOKENS_FILE",
    "IQM_AUTH_SERVER",
    "IQM_AUTH_USERNAME",
    "IQM_AUTH_PASSWORD",
    "IQM_SERVER_URL",
    "IQM_QUANTUM_COMPUTER",
)


def test_iqm_environment_hidden_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    for index, name in enumerate(HIDDEN):
        monkeypatch.setenv(name, f"value-{index}")
    monkeypatch.setenv("IQM_SOMETHING_ELSE", "kept")
    with hidden_iqm_environment():
        assert [name for name in HIDDEN if name in os.environ] == []
        assert os.environ["IQM_SOMETHING_ELSE"] == "kept"
    assert {name: os.environ[name] for name in HIDDEN} == {
        name: f"value-{index}" for index, name in enumerate(HIDDEN)
    }


def test_iqm_environment_restored_after_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IQM_TOKEN", "secret")
    monkeypatch.delenv("IQM_SERVER_URL", raising=False)
    seen: list[str | None] = []

    def fail_inside() -> None:
        with hidden_iqm_environment():
            seen.append(os.environ.get("IQM_TOKEN"))
            raise RuntimeError("inside")

    with pytest.raises(RuntimeError, match="inside"):
        fail_inside()
    assert seen == [None]
    assert os.environ["IQM_TOKEN"] == "secret"
    assert "IQM_SERVER_URL" not in os.environ


@pytest.mark.parametrize(
    ("line", "address"),
    [
        (ApiLine.REST_V1, ("https://cocos.resonance.meetiqm.com", "garnet")),
        (ApiLine.SERVER_API, ("https://resonance.iqm.tech", "garnet")),
    ],
)
def test_without_a_url_the_device_is_on_iqm_resonance_as_each_line_addresses_it(
    line: ApiLine, address: tuple[str, str]
) -> None:
    assert server_address(None, None, "garnet", line) == address
    assert server_address(None, "https://my.server", "garnet", line) == (
        "https://my.server",
        "garnet",
    )
    assert server_address("https://a", None, None, line) == ("https://a", None)


@pytest.mark.parametrize(
    ("text", "is_name"),
    [
        ("garnet", True),
        ("garnet:timeslot", True),
        ("Deneb-2", True),
        ("https://host/garnet", False),
        ("127.0.0.1:8000", False),
        ("host:8000/garnet", False),
        ("localhost:8000", False),
        ("", False),
    ],
)
def test_a_bare_device_name_is_told_from_a_url(text: str, is_name: bool) -> None:
    assert looks_like_device_name(text) is is_name
