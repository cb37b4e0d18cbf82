"""The documented import path of :class:`IQMConfig` and :func:`set_iqm_config` (seed-era and
0.18 pytket-iqm); they are implemented in :mod:`pytket.extensions.iqm.config`."""

from pytket.extensions.iqm.config import IQMConfig, set_iqm_config

__all__ = ["IQMConfig", "set_iqm_config"]
