"""Code written for the documented (seed-era) pytket-iqm API or for pytket-iqm 0.18 runs unchanged
against the emulator, on whichever iqm-client line is installed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from api_line import API_LINE
from pytket.circuit import Bit, Circuit, Node

from pytket.extensions.iqm import (
    IQMAuthenticationError,
    IQMBackend,
    IQMCredentialsError,
    IQMDeviceError,
    IQMJobFailedError,
    IQMTimeoutError,
)
from pytket.extensions.iqm.backends.connection.types import ApiLine
from pytket.extensions.iqm.emulator import IQMEmulator

TOKEN = "compat-test-token"

only_rest_v1 = pytest.mark.skipif(
    API_LINE is not ApiLine.REST_V1, reason="a case of the iqm-client 22.x line (REST v1)"
)
only_server_api = pytest.mark.skipif(
    API_LINE is not ApiLine.SERVER_API, reason="a case of the iqm-client 36.x line (IQM Server API)"
)


@pytest.fixture(scope="module")
def token_emulator() -> Iterator[IQMEmulator]:
    with IQMEmulator(device="adonis", noise=False, token=TOKEN) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("IQM_") and name != "IQM_CLIENT_SECONDS_BETWEEN_CALLS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "pytket" / "config.json"


def _runs_a_job(backend: IQMBackend) -> None:
    circuit = backend.get_compiled_circuit(Circuit(1, 1).X(0).measure_all())
    assert backend.run_circuit(circuit, n_shots=3).get_counts() == {(1,): 3}


# -- the documented import paths ------------------------------------------------------------------


def test_config_at_the_documented_path_is_the_one_implementation() -> None:
    from pytket.extensions.iqm import IQMConfig, set_iqm_config
    from pytket.extensions.iqm.backends import config

    assert config.IQMConfig is IQMConfig
    assert config.set_iqm_config is set_iqm_config


def test_018_exception_names_are_importable_where_018_had_them() -> None:
    from pytket.extensions.iqm.backends.iqm import (
        IqmAuthenticationError,
        IqmDeviceUnsupportedError,
    )

    assert IqmAuthenticationError is IQMAuthenticationError
    assert IqmDeviceUnsupportedError is IQMDeviceError


# -- 0.18's constructor and config ----------------------------------------------------------------


def test_018_keywords_device_api_token_server_url(token_emulator: IQMEmulator) -> None:
    _runs_a_job(IQMBackend(device="adonis", api_token=TOKEN, server_url=token_emulator.root_url))


def test_018_positional_device_and_api_token(token_emulator: IQMEmulator) -> None:
    _runs_a_job(IQMBackend("adonis", TOKEN, token_emulator.root_url))
    _runs_a_job(IQMBackend("adonis", TOKEN, server_url=token_emulator.root_url))


def test_018_config_file_api_token_is_the_token(
    token_emulator: IQMEmulator, clean_environment: Path
) -> None:
    # The file as pytket-iqm 0.18's set_iqm_config(api_token=...) wrote it.
    clean_environment.parent.mkdir(parents=True)
    clean_environment.write_text(json.dumps({"extensions": {"iqm": {"api_token": TOKEN}}}))
    _runs_a_job(IQMBackend(device="adonis", server_url=token_emulator.root_url))


def test_018_set_iqm_config_api_token(token_emulator: IQMEmulator) -> None:
    from pytket.extensions.iqm.backends.config import IQMConfig, set_iqm_config

    set_iqm_config(api_token=TOKEN)
    assert IQMConfig.from_default_config_file().api_token == TOKEN
    assert IQMConfig(api_token="x").token == "x"
    _runs_a_job(IQMBackend(device="adonis", server_url=token_emulator.root_url))


def test_token_and_api_token_differing_is_a_clear_error(token_emulator: IQMEmulator) -> None:
    message = (
        "token and api_token are the same credential (api_token is pytket-iqm 0.18's name for "
        "it), but two different values were given: pass one of them."
    )
    with pytest.raises(IQMCredentialsError) as raised:
        IQMBackend(token_emulator.root_url, device="adonis", token=TOKEN, api_token="another token")
    assert str(raised.value) == message
    from pytket.extensions.iqm import set_iqm_config

    with pytest.raises(IQMCredentialsError) as raised:
        set_iqm_config(token="a", api_token="b")
    assert str(raised.value) == message
    # The same value under both names is one credential.
    _runs_a_job(IQMBackend(token_emulator.root_url, device="adonis", token=TOKEN, api_token=TOKEN))


def test_url_and_server_url_together_is_a_clear_error(token_emulator: IQMEmulator) -> None:
    with pytest.raises(ValueError, match="both name the server") as raised:
        IQMBackend(token_emulator.root_url, device="adonis", server_url=token_emulator.root_url)
    assert str(raised.value) == (
        f"url={token_emulator.root_url!r} and server_url={token_emulator.root_url!r} both name "
        "the server (server_url is pytket-iqm 0.18's name for it): give one of them."
    )


def test_device_named_twice_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="names the device twice") as raised:
        IQMBackend("garnet", device="adonis")
    assert str(raised.value) == (
        "IQMBackend('garnet', device='adonis') names the device twice; give the server URL "
        "first (or server_url=...), and the device as device=."
    )


def test_no_url_and_no_device_says_what_to_give() -> None:
    with pytest.raises(ValueError, match="IQMBackend needs the device") as raised:
        IQMBackend()
    assert str(raised.value) == (
        "IQMBackend needs the device: IQMBackend(device='garnet', token=...) for IQM "
        "Resonance, IQMBackend(server_root, device='garnet') for another IQM server, or "
        "(iqm-client 22.x) IQMBackend(device_url)."
    )


# -- exceptions users already catch ---------------------------------------------------------------


def test_refused_token_is_also_iqm_clients_own_exception(token_emulator: IQMEmulator) -> None:
    from pytket.extensions.iqm.backends.iqm import IqmAuthenticationError

    if API_LINE is ApiLine.REST_V1:
        from iqm.iqm_client import ClientAuthenticationError as Theirs
    else:
        from iqm.iqm_client import AuthenticationError as Theirs
    for caught in (IQMAuthenticationError, Theirs, IqmAuthenticationError):
        with pytest.raises(caught) as raised:
            IQMBackend(token_emulator.root_url, device="adonis", token="not-the-token")
        assert type(raised.value).__name__ == "IQMAuthenticationError"
        assert "not-the-token" not in str(raised.value)


@only_rest_v1
def test_conflicting_credentials_are_also_client_configuration_error(
    token_emulator: IQMEmulator,
) -> None:
    from iqm.iqm_client import ClientConfigurationError

    with pytest.raises(ClientConfigurationError, match="Conflicting credentials"):
        IQMBackend(token_emulator.url, token="t", tokens_file="/nonexistent")


@only_server_api
def test_login_on_the_server_api_is_also_client_configuration_error(
    token_emulator: IQMEmulator,
) -> None:
    from iqm.station_control.client.authentication import (
        ClientConfigurationError,
    )

    with pytest.raises(ClientConfigurationError) as raised:
        IQMBackend(
            token_emulator.root_url,
            device="adonis",
            auth_server_url="http://127.0.0.1:1",
            username="u",
            password="p",
        )
    assert isinstance(raised.value, IQMCredentialsError)


def test_failed_job_is_also_circuit_execution_error(token_emulator: IQMEmulator) -> None:
    from iqm.iqm_client import CircuitExecutionError

    backend = IQMBackend(token_emulator.root_url, device="adonis", token=TOKEN)
    circuit = backend.get_compiled_circuit(Circuit(2, 2).H(0).CX(0, 1).measure_all())
    handle = backend.process_circuit(circuit, n_shots=10, max_circuit_duration_over_t2=1e-9)
    with pytest.raises(CircuitExecutionError) as raised:
        backend.get_result(handle, timeout=60)
    assert isinstance(raised.value, IQMJobFailedError)
    job_id = str(handle[0])
    assert f"Job {job_id} ended as 'failed'" in str(raised.value)


@only_rest_v1
def test_timeout_is_also_api_timeout_error() -> None:
    from iqm.iqm_client import APITimeoutError

    with IQMEmulator(device="adonis", noise=False, stage_delay=3.0) as slow:
        backend = IQMBackend(slow.url)
        circuit = backend.get_compiled_circuit(Circuit(1, 1).X(0).measure_all())
        handle = backend.process_circuit(circuit, n_shots=1)
        with pytest.raises(APITimeoutError) as raised:
            backend.get_result(handle, timeout=0.1)
        assert isinstance(raised.value, IQMTimeoutError)
        assert isinstance(raised.value, TimeoutError)
        backend.cancel(handle)


# -- first-use mistakes ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def open_garnet() -> Iterator[IQMEmulator]:
    with IQMEmulator(device="garnet", noise=False) as emulator:
        yield emulator


@only_rest_v1
def test_misspelt_device_url_lists_the_served_devices(open_garnet: IQMEmulator) -> None:
    root = open_garnet.root_url
    expected = (
        f"The server at {root} has no device 'garnett' (it serves 'garnet'): use "
        f"IQMBackend('{root}', device='garnet') or IQMBackend('{root}/garnet')."
    )
    for form in ({"url": f"{root}/garnett"}, {"url": root, "device": "garnett"}):
        with pytest.raises(IQMDeviceError) as raised:
            IQMBackend(**form)
        assert str(raised.value) == expected


@only_rest_v1
def test_server_root_without_device_shows_the_right_form(open_garnet: IQMEmulator) -> None:
    root = open_garnet.root_url
    with pytest.raises(IQMDeviceError) as raised:
        IQMBackend(root)
    assert str(raised.value) == (
        f"{root} is the server's root, not a device (it serves 'garnet'): name the device, "
        f"IQMBackend('{root}', device='garnet'), or give its URL, IQMBackend('{root}/garnet')."
    )


@only_server_api
def test_misspelt_device_on_the_server_api_lists_the_served_devices(
    open_garnet: IQMEmulator,
) -> None:
    root = open_garnet.root_url
    with pytest.raises(IQMDeviceError) as raised:
        IQMBackend(root, device="garnett")
    assert str(raised.value) == (
        f'Could not connect to {root}: Quantum computer "garnett" does not exist. Available '
        f"quantum computers are: garnet. Name one of them: IQMBackend('{root}', "
        "device='<name>')."
    )


# -- get_metadata as documented -------------------------------------------------------------------


def test_documented_metadata_example(open_garnet: IQMEmulator) -> None:
    backend = IQMBackend(open_garnet.root_url, device="garnet")
    circuit = Circuit(3, 3, name="ghz").H(0).CX(0, 1).CX(0, 2).measure_all()
    compiled = backend.get_compiled_circuit(circuit)
    # The seed-era documentation's example, as written there.
    n_shots = 100
    backend.run_circuit(compiled, n_shots=n_shots, timeout=30)
    handle = backend.process_circuits([compiled], n_shots=n_shots)[0]
    backend.get_result(handle)
    metadata = backend.get_metadata(handle)
    physical = [qm.physical_name for qm in metadata.request.qubit_mapping]
    # One entry per qubit of the compiled circuit, logical (pytket) name to device qubit.
    assert [qm.logical_name for qm in metadata.request.qubit_mapping] == [
        str(qubit) for qubit in compiled.qubits
    ]
    assert physical == [f"QB{qubit.index[0] + 1}" for qubit in compiled.qubits]
    assert isinstance(metadata.calibration_set_id, UUID)
    assert metadata.calibration_set_id == backend.calibration_set_id
    assert metadata.request.calibration_set_id == backend.calibration_set_id
    assert metadata.request.circuits[0].name == "ghz"
    assert metadata.request.shots == metadata.shots == n_shots
    assert metadata.circuits[0].name == "ghz"
    # The old dictionary's fields stay reachable as attributes.
    assert (metadata.job_id, metadata.circuit_index) == (handle[0], 0)
    assert metadata.api == backend.api


@only_rest_v1
def test_metadata_is_iqm_clients_own_on_the_22_line(open_garnet: IQMEmulator) -> None:
    from iqm.iqm_client import Metadata

    backend = IQMBackend(open_garnet.root_url, device="garnet")
    handle = backend.process_circuit(_one_bit(backend), n_shots=2)
    metadata = backend.get_metadata(handle, timeout=30)
    assert isinstance(metadata, Metadata)
    assert metadata.status == "ready"
    assert {"job_start", "job_end"} <= set(metadata.timestamps)
    with pytest.raises(AttributeError) as raised:
        _ = metadata.timeline
    assert str(raised.value) == (
        "Job metadata has 'timeline' only on the IQM Server API line (iqm-client 36.x); this "
        "backend's line records 'timestamps' (when each stage started and ended) instead."
    )


@only_server_api
def test_metadata_on_the_server_api_names_the_line_of_missing_attributes(
    open_garnet: IQMEmulator,
) -> None:
    backend = IQMBackend(open_garnet.root_url, device="garnet")
    handle = backend.process_circuit(_one_bit(backend), n_shots=2)
    metadata = backend.get_metadata(handle, timeout=30)
    assert metadata.status == "completed"
    assert [entry["status"] for entry in metadata.timeline][-1] == "completed"
    assert metadata.heralding_mode == "none"
    for name in ("timestamps", "cocos_version", "parameters", "circuits_batch"):
        with pytest.raises(AttributeError) as raised:
            getattr(metadata, name)
        assert str(raised.value) == (
            f"Job metadata has '{name}' only on the REST v1 line (iqm-client 22.x); this "
            "backend's line records 'timeline' (status changes with their times) instead."
        )


def test_get_metadata_waits_with_a_timeout_naming_the_job() -> None:
    with IQMEmulator(device="adonis", noise=False, stage_delay=3.0) as slow:
        backend = IQMBackend(slow.root_url, device="adonis")
        handle = backend.process_circuit(_one_bit(backend), n_shots=1)
        with pytest.raises(IQMTimeoutError, match=f"Job {handle[0]} was still '"):
            backend.get_metadata(handle, timeout=0.1)
        # Waiting long enough gives the finished job's metadata.
        assert backend.get_metadata(handle, timeout=60).shots == 1


def test_get_metadata_refuses_unknown_keywords(open_garnet: IQMEmulator) -> None:
    backend = IQMBackend(open_garnet.root_url, device="garnet")
    handle = backend.process_circuit(_one_bit(backend), n_shots=1)
    with pytest.raises(ValueError, match=r"Unknown keyword argument\(s\) wait_for; IQMBackend "):
        backend.get_metadata(handle, wait_for=3)


def test_metadata_of_a_failed_job(open_garnet: IQMEmulator) -> None:
    backend = IQMBackend(open_garnet.root_url, device="garnet")
    circuit = backend.get_compiled_circuit(Circuit(2, 2).H(0).CX(0, 1).measure_all())
    handle = backend.process_circuit(circuit, n_shots=10, max_circuit_duration_over_t2=1e-9)
    metadata = backend.get_metadata(handle, timeout=60)
    assert metadata.status == "failed"
    assert metadata.request.shots == 10


def _one_bit(backend: IQMBackend) -> Circuit:
    return backend.get_compiled_circuit(Circuit(1, 1).X(0).measure_all())


# -- the documented (seed-era) forms --------------------------------------------------------------


@only_rest_v1
def test_seed_era_positional_login_and_arch() -> None:
    from pytket.extensions.iqm.backends.config import set_iqm_config

    users = {"alice": "pw"}
    with IQMEmulator(device="garnet", noise=False, auth_users=users) as emulator:
        # IQMBackend(url, arch, auth_server_url, username, password), all positional; the
        # arch is the device's couplers but one that keeps it connected.
        full = IQMBackend(emulator.url, None, emulator.base_url, "alice", "pw")
        loci = [list(locus) for locus in full.device.cz_loci]
        arch = next(loci[:i] + loci[i + 1 :] for i in range(len(loci)) if _connected(loci, i))
        with IQMBackend(emulator.url, arch, emulator.base_url, "alice", "pw") as backend:
            assert len(backend.backend_info.architecture.coupling) == len(loci) - 1
            _runs_a_job(backend)
        full.close()
        # The same login stored with the seed-era set_iqm_config(auth_server_url, username,
        # password), positionally, and read back by IQMBackend(url).
        set_iqm_config(emulator.base_url, "alice", "pw")
        with IQMBackend(emulator.url) as backend:
            _runs_a_job(backend)


@only_rest_v1
def test_seed_era_arch_covering_part_of_the_device_restricts_to_its_qubits(
    token_emulator: IQMEmulator,
) -> None:
    # Adonis couples QB3 to QB1, QB2, QB4 and QB5; this arch leaves QB2 and QB5 uncoupled, and
    # the seed-era backend then only knows QB1, QB3 and QB4.
    arch = [["QB1", "QB3"], ["QB3", "QB4"]]
    with IQMBackend(token_emulator.url, arch, token=TOKEN) as backend:
        assert backend.device.qubits == ("QB1", "QB3", "QB4")
        architecture = backend.backend_info.architecture
        assert architecture is not None
        assert sorted(architecture.nodes) == [Node(0), Node(2), Node(3)]
        bell = Circuit(2, 2).H(0).CX(0, 1).measure_all()
        compiled = backend.get_compiled_circuit(bell)
        assert set(compiled.qubits) <= {Node(0), Node(2), Node(3)}
        counts = backend.run_circuit(compiled, n_shots=200).get_counts()
        assert set(counts) == {(0, 0), (1, 1)}
        assert sum(counts.values()) == 200
        # A circuit placed by hand on an uncoupled qubit is refused before anything is sent.
        on_qb2 = Circuit(0, 1)
        on_qb2.add_qubit(Node(1))
        on_qb2.Measure(Node(1), Bit(0))
        with pytest.raises(IQMDeviceError) as raised:
            backend.process_circuit(on_qb2, n_shots=10, valid_check=False)
        assert str(raised.value) == (
            "Circuit 0 acts on node[1], which device 'adonis' does not have (it has node[0], "
            "node[2], node[3]). Compile the circuit with backend.get_compiled_circuit first."
        )


def test_an_empty_arch_is_a_clear_error(token_emulator: IQMEmulator) -> None:
    with pytest.raises(IQMDeviceError) as raised:
        IQMBackend(token_emulator.root_url, arch=[], device="adonis", token=TOKEN)
    assert str(raised.value) == (
        "arch is empty, so it couples no qubit; give at least one pair of qubit names such as "
        "[['QB1', 'QB2']], or leave arch out to use the device's CZ loci"
    )


def _connected(loci: list[list[str]], dropped: int) -> bool:
    """Whether the couplers without ``loci[dropped]`` still connect every qubit."""
    kept = loci[:dropped] + loci[dropped + 1 :]
    qubits = {qubit for locus in loci for qubit in locus}
    reached, frontier = {loci[0][0]}, [loci[0][0]]
    while frontier:
        qubit = frontier.pop()
        for a, b in kept:
            for near, far in ((a, b), (b, a)):
                if near == qubit and far not in reached:
                    reached.add(far)
                    frontier.append(far)
    return reached == qubits
