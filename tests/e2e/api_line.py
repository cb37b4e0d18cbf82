"""Which API line the installed iqm-client speaks, for tests that exist on one line only."""

from __future__ import annotations

import pytest

from pytket.extensions.iqm.backends.client import ApiLine, installed_api_line

API_LINE = installed_api_line()

only_iqm_client_22 = pytest.mark.skipif(
    API_LINE is not ApiLine.IQM_CLIENT_22,
    reason="username/password logins through an auth server exist on the iqm-client 22.x line only",
)
only_iqm_server_api = pytest.mark.skipif(
    API_LINE is not ApiLine.IQM_SERVER_API,
    reason="needs iqm-client 36.x (the IQM Server API line)",
)
