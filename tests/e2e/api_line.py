"""Which API line the installed iqm-client speaks, for tests that exist on one line only."""

from __future__ import annotations

import pytest

from pytket.extensions.iqm.backends.connection.installed import installed_api_line
from pytket.extensions.iqm.backends.connection.types import ApiLine

API_LINE = installed_api_line()

only_rest_v1 = pytest.mark.skipif(
    API_LINE is not ApiLine.REST_V1,
    reason="username/password logins through an auth server exist on the iqm-client 22.x line only",
)
only_server_api = pytest.mark.skipif(
    API_LINE is not ApiLine.SERVER_API,
    reason="needs iqm-client 36.x (the IQM Server API line)",
)
