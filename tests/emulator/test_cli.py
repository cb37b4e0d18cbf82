"""The ``pytket-iqm-emulator`` command line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from iqm_client_line import require_iqm_client_22

require_iqm_client_22()

from iqm.iqm_client import IQMClient, Status  # noqa: E402

from pytket.extensions.iqm.emulator import cli  # noqa: E402
from pytket.extensions.iqm.emulator.config import EmulatorConfig, is_loopback  # noqa: E402
from pytket.extensions.iqm.emulator.devices.catalogue import catalogue  # noqa: E402
from pytket.extensions.iqm.emulator.jobs.store import JobStore  # noqa: E402

ClientFactory = Callable[..., IQMClient]


def test_devices_lists_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["devices"]) == 0
    table, legend = capsys.readouterr().out.split("\n\n")
    lines = table.splitlines()
    header = "device name qubits resonators couplers F_prx F_cz readout err cals"
    assert lines[0].split() == header.split()
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == set(catalogue())
    for name, device in catalogue().items():
        assert rows[name][1] == device.display_name
        assert rows[name][2] == str(len(device.qubits))
        assert rows[name][3] == str(len(device.computational_resonators))
        assert 0.9 < float(rows[name][5]) <= 1.0  # median PRX fidelity
    assert legend.splitlines() == [
        "device       the name to serve (--device NAME) and the device's URL path segment",
        "name         IQM's name of the device",
        "qubits       qubits of the chip",
        "resonators   computational resonators (Star architecture: qubits meet through MOVE)",
        "couplers     pairs of components that can interact (CZ or MOVE)",
        "F_prx        median PRX (single-qubit gate) fidelity of the default calibration",
        "F_cz         median CZ (two-qubit gate) fidelity of the default calibration",
        "readout err  median readout error, (P(1|0) + P(0|1)) / 2, of the default calibration",
        "cals         calibration sets served; the newest is the default",
    ]


def test_devices_takes_no_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["devices", "garnet"]) == 2
    assert "takes no arguments" in capsys.readouterr().err


def test_options_become_config(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"alice": "pw"}))
    args = cli.build_parser().parse_args(
        [
            "--device", "garnet", "--device", "deneb", "--auth-users", str(users), "--no-noise",
            "--seed", "7", "--db", str(tmp_path / "j.sqlite"), "--max-shots", "50",
            "--max-circuits", "4", "--workers", "2", "--stage-delay", "0",
            "--max-duration-over-t2", "0", "--noise-model", "qiskit-fake",
        ]
    )  # fmt: skip
    config = cli.config_from_args(args)
    assert config == EmulatorConfig(
        devices=("garnet", "deneb"),
        auth_users={"alice": "pw"},
        noise=False,
        noise_model="qiskit-fake",
        seed=7,
        db=tmp_path / "j.sqlite",
        max_shots=50,
        max_circuits=4,
        workers=2,
        stage_delay=0.0,
        default_max_duration_over_t2=0.0,
    )
    defaults = cli.config_from_args(cli.build_parser().parse_args([]))
    assert defaults.devices == ("garnet",)
    assert defaults.noise is True
    assert defaults.noise_model == "physical"
    assert defaults.token is None
    assert defaults.default_max_duration_over_t2 == 1.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--device", "nowhere"], "nowhere"),
        (["--port", "70000"], "--port must be between 0 and 65535, got 70000"),
        (["--max-shots", "0"], "max_shots must be a positive integer"),
        (["--device-file", "/no/such/file.json"], "cannot read /no/such/file.json"),
    ],
)
def test_bad_options_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_unknown_noise_model_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--noise-model", "aer"]) == 2
    err = capsys.readouterr().err
    assert "argument --noise-model: invalid choice: 'aer'" in err
    assert "(choose from 'physical', 'qiskit-fake', 'pauli')" in err


def test_noise_model_help_says_what_qiskit_fake_is(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # argparse would wrap inside hyphenated words
    assert cli.main(["--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--noise-model {physical,qiskit-fake,pauli}" in help_text
    assert "qiskit-fake reproduces qiskit-iqm's fake backends exactly" in help_text
    assert "pauli twirls relaxation into Pauli noise, an approximation" in help_text


def test_help_shows_both_iqm_client_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    help_text = capsys.readouterr().out
    root = "http://127.0.0.1:<port>"
    for line in (
        f'  iqm-client 22.x (device URL):         IQMClient("{root}/<device>")',
        f'  iqm-client 33+ (IQM Server API):     IQMClient.from_url("{root}", '
        'quantum_computer="<device>")',
        f'  pytket-iqm (either iqm-client line): IQMBackend("{root}", device="<device>")',
    ):
        assert line in help_text.splitlines()
    assert "'pytket-iqm-emulator\ndevices' lists the device catalogue" in help_text


def test_token_and_auth_users_are_exclusive(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["--token", "t", "--auth-users", str(tmp_path / "u.json")]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_token_from_a_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parser = cli.build_parser()
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    monkeypatch.setenv(cli.TOKEN_ENVIRONMENT_VARIABLE, "from-env")
    config = cli.config_from_args(parser.parse_args(["--token-file", str(token_file)]))
    assert config.token == "from-file"
    assert cli.config_from_args(parser.parse_args([])).token == "from-env"
    assert cli.config_from_args(parser.parse_args(["--token", "t"])).token == "t"
    monkeypatch.delenv(cli.TOKEN_ENVIRONMENT_VARIABLE)
    assert cli.config_from_args(parser.parse_args([])).token is None


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "Cannot read --token-file"), ("\n\n", "is empty; write the token on its first line")],
)
def test_bad_token_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    assert cli.main(["--token-file", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_a_second_emulator_on_the_same_database_refuses_to_start(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "jobs.sqlite"
    first = JobStore(db)
    try:
        assert cli.main(["--db", str(db), "--port", "0", "--no-noise"]) == 1
    finally:
        first.close()
    err = capsys.readouterr().err
    assert f"Another emulator is using the job store {db}" in err
    assert "give this one a different --db" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Cannot read --auth-users file"),
        ("{oops", "is not valid JSON"),
        ('["alice"]', "must be a JSON object of non-empty usernames to non-empty passwords"),
        ('{"alice": ""}', "must be a JSON object of non-empty usernames to non-empty passwords"),
    ],
)
def test_bad_auth_users_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "users.json"
    if content is not None:
        path.write_text(content)
    assert cli.main(["--auth-users", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err


def test_warns_when_exposed_without_auth(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: list[tuple[str, int]] = []

    def fake_serve(
        config: EmulatorConfig, host: str, port: int, out: object, err: object, **options: object
    ) -> int:
        assert options == {"log_level": "info"}
        served.append((host, port))
        return 0

    monkeypatch.setattr(cli, "_serve", fake_serve)
    assert cli.main(["--host", "0.0.0.0", "--port", "9"]) == 0
    assert "warning: serving on 0.0.0.0 without authentication" in capsys.readouterr().err
    assert cli.main(["--host", "0.0.0.0", "--token", "t"]) == 0
    assert cli.main(["--host", "::1"]) == 0
    assert capsys.readouterr().err == ""
    assert served == [("0.0.0.0", 9), ("0.0.0.0", 8000), ("::1", 8000)]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("192.168.1.4", False), ("example.org", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serves_until_interrupted(client_for: ClientFactory, native: SimpleNamespace) -> None:
    # The child imports the package under test as this process does (no PYTHONPATH of its own).
    command = [sys.executable, "-m", "pytket.extensions.iqm.emulator", "--port", "0"]
    command += ["--no-noise", "--stage-delay", "0", "--device", "garnet", "--device", "adonis"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or "Press Ctrl+C" not in lines[-1]:
            line = process.stdout.readline()
            assert line, f"emulator exited early: {process.stderr.read() if process.stderr else ''}"
            lines.append(line)
        root = lines[0].split()[-1]
        assert lines[1].split() == ["garnet:", f"{root}/garnet"]
        assert lines[2].split() == ["adonis:", f"{root}/adonis"]
        assert [line.rstrip("\n") for line in lines[3:]] == [
            f'iqm-client 22.x (device URL):         IQMClient("{root}/garnet")',
            f'iqm-client 33+ (IQM Server API):     IQMClient.from_url("{root}", '
            'quantum_computer="garnet")',
            f'pytket-iqm (either iqm-client line): IQMBackend("{root}", device="garnet")',
            "Open a device URL for its endpoints.",
            "Press Ctrl+C to stop.",
        ]
        assert httpx.get(f"{root}/adonis").json()["device"] == "adonis"
        client = client_for(f"{root}/adonis")
        result = client.wait_for_results(client.submit_circuits([native.x_then_measure()], shots=3))
        assert result.status == Status.READY
        assert result.measurements == [{"m": [[1], [1], [1]]}]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
