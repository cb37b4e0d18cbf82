"""The public offline device API (``pytket.extensions.iqm.devices``): the same ``BackendInfo`` as
``IQMBackend`` builds over HTTP from the emulator, without a server."""

from __future__ import annotations

import pytest
from api_line import API_LINE

from pytket.extensions.iqm import IQMBackend
from pytket.extensions.iqm.backends.connection.types import ApiLine
from pytket.extensions.iqm.devices import backend_info, device_names
from pytket.extensions.iqm.emulator import IQMEmulator


def test_the_catalogue_names() -> None:
    assert device_names() == ["adonis", "apollo", "deneb", "emerald", "garnet"]


@pytest.mark.parametrize("name", ["garnet", "deneb"])
def test_offline_info_is_what_the_backend_builds_over_http(name: str) -> None:
    with IQMEmulator(name, noise=False) as emulator:
        if API_LINE is ApiLine.REST_V1:
            backend = IQMBackend(emulator.url)
        else:
            backend = IQMBackend(emulator.root_url, device=name)
        assert backend_info(name).to_dict() == backend.backend_info.to_dict()


def test_an_unknown_device_names_the_catalogue() -> None:
    with pytest.raises(ValueError, match="Unknown device 'garnett'; known devices: adonis, "):
        backend_info("garnett")
