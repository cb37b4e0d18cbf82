"""Shared pytest configuration."""

from __future__ import annotations

import os

# iqm-client reads its poll interval at import time; the emulator answers in milliseconds, so
# tests poll fast. Set before anything imports iqm.iqm_client.
os.environ.setdefault("IQM_CLIENT_SECONDS_BETWEEN_CALLS", "0.02")
